# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.

"""The command line: options checked before Nova starts, and serve's HTTP.

None of this needs Nova: a bad option must be refused at once, not after
Nova's start, and the wrappers ``serve`` puts around Nova are plain WSGI.
"""

import contextlib
import io
import json
import os
import socket
import subprocess
import sys
import tempfile

import fixtures
import testtools
import webob

from nova_hoststatus import cmd
from nova_hoststatus.cmd import drill
from nova_hoststatus.cmd import serve
from nova_hoststatus.tools import sandbox
from tests.unit import base


class CommandLineTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        # Whatever passes the options must not start anything.
        self.ran = []
        for module in (drill, serve):
            self.useFixture(fixtures.MonkeyPatch(
                module.__name__ + '.run', self.ran.append))

    def main(self, *argv):
        return base.run_command(*argv)

    def assertRefused(self, option, *argv):
        status, _, err = self.main(*argv)
        self.assertEqual(2, status, err)
        self.assertIn('error: argument %s: ' % option, err)
        self.assertEqual([], self.ran)
        return err

    def test_drill_defaults_pass(self):
        self.assertIsNone(self.main('drill')[0])
        [args] = self.ran
        self.assertEqual((10, 100, 3, 1.0, 20, 1),
                         (args.hosts, args.servers, args.rounds, args.budget,
                          args.rows, args.workers))

    def test_drill_bad_numbers(self):
        for option, value in (('--hosts', '0'), ('--hosts', '-3'),
                              ('--hosts', 'ten'), ('--servers', '0'),
                              ('--rounds', '0'), ('--workers', '0'),
                              ('--rows', '-1'), ('--budget', '0'),
                              ('--budget', '-0.5'), ('--budget', 'nan'),
                              ('--budget', 'inf'), ('--budget', 'soon'),
                              ('--budget', '1e9'), ('--budget', '10.5'),
                              ('--budget', '10001ms'), ('--budget', 's'),
                              ('--budget', '1 m'),
                              ('--consumer-budget', '0ms')):
            err = self.assertRefused(option, 'drill', option, value)
            self.assertIn(repr(value), err)

    def test_drill_edges_pass(self):
        status, _, err = self.main('drill', '--hosts', '1', '--servers', '1',
                                   '--rounds', '1', '--rows', '0',
                                   '--budget', '0.001')
        self.assertIsNone(status, err)

    def test_budget_up_to_the_wait_passes(self):
        self.assertIn('at most 10s: seconds (1.5), or with a unit (1.5s, '
                      '1500ms)', self.assertRefused(
                          '--budget', 'drill', '--budget', '1e9'))
        self.assertIsNone(self.main('drill', '--budget', '10')[0])

    def test_budgets_in_seconds_or_with_a_unit(self):
        # A plain number is seconds, as it always was.
        for text, value in (('1.5', 1.5), ('1.5s', 1.5), ('1500ms', 1.5),
                            ('250 ms', 0.25), ('2S', 2.0)):
            self.ran.clear()
            self.assertIsNone(self.main('drill', '--budget', text,
                                        '--consumer-budget', text)[0])
            [args] = self.ran
            self.assertAlmostEqual(value, args.budget)
            self.assertAlmostEqual(value, args.consumer_budget)

    def test_budgets_are_printed_as_the_option_sets_them(self):
        self.assertEqual('1000 ms (--budget 1s)', drill.budget(1.0,
                                                               '--budget'))
        self.assertEqual('1500 ms (--consumer-budget 1.5s)',
                         drill.budget(1.5, '--consumer-budget'))
        out = ' '.join(self.main('drill', '--help')[1].split())
        self.assertIn('seconds (1.5), or with a unit (1.5s, 1500ms)', out)
        self.assertIn('"1000 ms (--budget 1s)"', out)

    def test_every_command_is_described_with_its_defaults(self):
        for command in ('check', 'drill', 'serve'):
            status, out, _ = self.main(command, '--help')
            self.assertEqual(0, status)
            description = out.split('\n\n')[1]
            self.assertGreater(len(description), 80, command)
        out = self.main('drill', '--help')[1]
        for default in ('(default 10)', '(default 100)', '(default 3)',
                        '(default 1s;', '(default 1s)', '(default 20)',
                        '(default 1:'):
            self.assertIn(default, ' '.join(out.split()))
        self.assertIn('(default 8774)', self.main('serve', '--help')[1])

    def test_drill_needs_a_server_on_every_host(self):
        err = self.assertRefused('--servers', 'drill', '--hosts', '5',
                                 '--servers', '4')
        self.assertIn('at least --hosts (5)', err)
        self.assertIsNone(self.main('drill', '--hosts', '5',
                                    '--servers', '5')[0])

    def test_serve_bad_ports(self):
        for value in ('0', '-1', '65536', '99999', 'http'):
            self.assertRefused('--port', 'serve', '--port', value)

    def test_serve_busy_port(self):
        with socket.socket() as busy:
            busy.bind(('127.0.0.1', 0))
            busy.listen()
            port = busy.getsockname()[1]
            err = self.assertRefused('--port', 'serve', '--port', str(port))
        self.assertIn('127.0.0.1:%d is in use' % port, err)

    def test_serve_free_port(self):
        with socket.socket() as probe:
            probe.bind(('127.0.0.1', 0))
            port = probe.getsockname()[1]
        self.assertIsNone(self.main('serve', '--port', str(port))[0])
        [args] = self.ran
        self.assertEqual(port, args.port)

    def test_serve_config_dir_that_cannot_be_made(self):
        with tempfile.NamedTemporaryFile() as a_file:
            err = self.assertRefused('--config-dir', 'serve', '--config-dir',
                                     a_file.name)
        self.assertIn(a_file.name, err)

    def test_serve_config_dir_is_made(self):
        parent = self.useFixture(fixtures.TempDir()).path
        wanted = os.path.join(parent, 'sandbox-etc')
        with socket.socket() as probe:
            probe.bind(('127.0.0.1', 0))
            port = probe.getsockname()[1]
        self.assertIsNone(self.main('serve', '--port', str(port),
                                    '--config-dir', wanted)[0])
        self.assertTrue(os.path.isdir(wanted))

    def test_serve_background_log_that_cannot_be_written(self):
        with socket.socket() as probe:
            probe.bind(('127.0.0.1', 0))
            port = probe.getsockname()[1]
        with tempfile.NamedTemporaryFile() as a_file:
            log = os.path.join(a_file.name, 'serve.log')
            err = self.assertRefused('--background', 'serve', '--port',
                                     str(port), '--background', log)
        self.assertIn(log, err)

    def test_serve_help_says_how_to_wait_and_stop(self):
        out = ' '.join(self.main('serve', '--help')[1].split())
        self.assertIn('--background LOG', out)
        self.assertIn('return once the API answers', out)
        self.assertIn('It prints no token', out)

    def test_version(self):
        status, out, _ = self.main('--version')
        self.assertEqual(0, status)
        self.assertRegex(out, r'^nova-hoststatus \d+\.\d+')

    def test_importing_the_commands_leaves_nova_alone(self):
        code = ('import sys; import nova_hoststatus.cmd; '
                "print(sorted(m for m in sys.modules if m == 'nova' "
                "or m.startswith('nova.')))")
        out = subprocess.run([sys.executable, '-c', code], check=True,
                             capture_output=True, text=True).stdout
        self.assertEqual('[]', out.strip())


class ServeReadyTest(testtools.TestCase):

    def test_ready_line_says_where_and_how_to_stop(self):
        line = serve.ready_line('http://127.0.0.1:8774/v2.1', '/tmp/sb')
        self.assertTrue(line.startswith('Ready: '))
        self.assertIn('http://127.0.0.1:8774/v2.1', line)
        self.assertIn('config dir /tmp/sb (nova.conf, api-paste.ini, '
                      'policy.json', line)
        self.assertIn('Ctrl-C or SIGTERM stops', line)
        self.assertNotIn('\n', line)


class WorkersVerdictTest(testtools.TestCase):
    """PASS and FAIL after ``drill --workers`` mean what they mean in one
    process, the budget included.
    """

    def verdict(self, worst, stale=0, flips=0, errors=0):
        return drill._workers_verdict(worst, 1.0, stale, flips, errors)

    def test_within_budget_and_agreed_passes(self):
        lines, status = self.verdict(0.4)
        self.assertEqual(0, status)
        self.assertIn('400 ms, within the budget of 1000 ms (--budget 1s)',
                      lines[0])
        self.assertTrue(lines[-1].startswith('PASS: within the budget'))

    def test_over_budget_fails_though_the_workers_agreed(self):
        lines, status = self.verdict(1.6)
        self.assertEqual(1, status)
        self.assertIn('1600 ms, over the budget of 1000 ms', lines[0])
        self.assertIn('Workers agreed', lines[1])
        self.assertEqual('FAIL: over the budget (--budget to change it).',
                         lines[-1])
        self.assertNotIn('PASS', '\n'.join(lines))

    def test_slow_listings_are_named_as_the_cause(self):
        lines, status = drill._workers_verdict(2.5, 1.0, 0, 0, 0, 1.4)
        self.assertEqual(1, status)
        self.assertIn('One listing takes 1400 ms here (mean, on the slowest '
                      'worker), and time to DOWN runs up to two: a budget '
                      'under 2800 ms can hardly be met on this machine',
                      lines[-2])
        self.assertIn('--budget 4s judges', lines[-2])
        # Listings well within the budget: the time is the filter's.
        lines, _ = drill._workers_verdict(1.6, 1.0, 0, 0, 0, 0.3)
        self.assertNotIn('One listing', '\n'.join(lines))

    def test_disagreement_fails(self):
        lines, status = self.verdict(0.4, stale=3, flips=1)
        self.assertEqual(1, status)
        self.assertIn('3 stale listings, 1 flip-backs', lines[1])
        self.assertEqual('FAIL: the workers disagreed.', lines[-1])

    def test_failed_listings_fail(self):
        lines, status = self.verdict(0.4, errors=2)
        self.assertEqual(1, status)
        self.assertEqual('FAIL: 2 owner listings failed (listed above, the '
                         'first 5 at most).', lines[-1])

    def test_failed_listings_and_more_fail_with_each_reason(self):
        lines, status = self.verdict(1.6, stale=1, errors=2)
        self.assertEqual(1, status)
        self.assertEqual('FAIL: 2 owner listings failed (listed above, the '
                         'first 5 at most); over the budget (--budget to '
                         'change it); the workers disagreed.', lines[-1])


class LogErrorsTest(testtools.TestCase):

    def test_the_first_error_lines_of_the_log(self):
        path = os.path.join(self.useFixture(fixtures.TempDir()).path, 'log')
        with open(path, 'w') as f:
            f.write('started\n2026 1 ERROR keystonemiddleware.auth_token '
                    'x\nfine\n' + '2026 2 ERROR y\n' * 9)
        lines = drill.log_errors(path)
        self.assertEqual(5, len(lines))
        self.assertEqual('2026 1 ERROR keystonemiddleware.auth_token x',
                         lines[0])
        self.assertEqual([], drill.log_errors(path + '.none'))


class FailedListingsTest(testtools.TestCase):
    """Each failed listing of the owner is kept with its status and why,
    and the first few are printed.
    """

    class Answer(object):
        def __init__(self, status, body):
            self.status, self.body = status, body

    def test_novas_message_is_the_reason(self):
        self.assertEqual(
            'computeFault: Unexpected API Error. Please report this',
            drill.reason(self.Answer(
                500, json.dumps({'computeFault': {
                    'code': 500, 'message': 'Unexpected API Error.\n'
                    'Please report this'}}).encode())))

    def test_a_middlewares_message_is_the_reason(self):
        self.assertEqual(
            '503 Service Unavailable: The server is currently unavailable. '
            'Please try again at a later time. The Keystone service is '
            'temporarily unavailable.',
            drill.reason(self.Answer(503, json.dumps({
                'message': 'The server is currently unavailable. Please try '
                           'again at a later time.<br /><br />\nThe '
                           'Keystone service is temporarily unavailable.',
                'code': '503 Service Unavailable',
                'title': 'Service Unavailable'}).encode())))

    def test_the_first_line_of_another_body_is_the_reason(self):
        self.assertEqual('502 Bad Gateway', drill.reason(self.Answer(
            502, b'\n502 Bad Gateway\nmore')))
        self.assertEqual('(empty body)', drill.reason(self.Answer(503, b'')))

    def test_no_answer_is_said(self):
        self.assertEqual('no answer: the connection was refused or closed',
                         drill.reason(self.Answer(0, b'')))

    def test_the_first_failures_are_printed_with_their_worker(self):
        owners = [drill._Owner(None), drill._Owner(None)]
        owners[0].errors = [drill.Failure(2.0, 500, 'boom')] * 6
        owners[1].errors = [drill.Failure(1.5, None,
                                          'TimeoutError: timed out')]
        lines = drill.failures(owners)
        self.assertEqual('Failed owner listings (7; the first 5):', lines[0])
        self.assertEqual('  owner via worker 2, 1.5 s in: no status, '
                         'TimeoutError: timed out', lines[1])
        self.assertEqual('  owner via worker 1, 2.0 s in: HTTP 500, boom',
                         lines[2])
        self.assertEqual(6, len(lines))

    def test_one_owner_names_no_worker(self):
        owner = drill._Owner(None)
        owner.errors = [drill.Failure(0.3, 404, 'itemNotFound: gone')]
        self.assertEqual(['Failed owner listings (1; all):',
                          '  owner, 0.3 s in: HTTP 404, itemNotFound: gone'],
                         drill.failures([owner]))
        self.assertEqual([], drill.failures([drill._Owner(None)]))

    def test_a_request_that_raises_is_kept_and_polling_goes_on(self):
        calls = []

        class Box(object):
            def request(box, *args, **kwargs):
                calls.append(args)
                if len(calls) == 1:
                    raise TimeoutError('timed out')
                owner.halt.set()
                return self.Answer(500, b'oops')

        owner = drill._Owner(Box())
        self.useFixture(fixtures.MockPatch('time.sleep'))
        owner.run()
        self.assertEqual([None, 500], [f.status for f in owner.errors])
        self.assertEqual('TimeoutError: timed out', owner.errors[0].reason)
        self.assertEqual('oops', owner.errors[1].reason)


class MissingProgramTest(testtools.TestCase):
    """What to install is said so that it works from a clone: the package
    is not on PyPI.
    """

    def test_without_uwsgi(self):
        self.useFixture(fixtures.MonkeyPatch('sys.executable',
                                             '/nonexistent/python'))
        self.useFixture(fixtures.MonkeyPatch('shutil.which',
                                             lambda name: None))
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            status = cmd.main(['drill', '--workers', '2'])
        self.assertEqual(2, status)
        self.assertIn("from the source tree: pip install '.[nova,workers]'",
                      err.getvalue())

    def test_without_nova(self):
        self.assertIn("from the source tree: pip install '.[nova]'",
                      sandbox.NOVA_MISSING)


def _echo_caller(environ, start_response):
    """An API that answers with the caller it was given."""
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [('%s %s' % (environ.get('HTTP_X_PROJECT_ID'),
                        environ.get('HTTP_X_USER_ID'))).encode()]


class KeystoneStandInTest(testtools.TestCase):

    TOKENS = {'owner': {'X-User-Id': 'demo-user', 'X-Project-Id': 'demo',
                        'X-Roles': 'member,reader'}}

    def call(self, path, headers=None, tokens=TOKENS):
        app = sandbox._keystone_stand_in(_echo_caller, tokens)
        return webob.Request.blank(path, headers=headers or {}).get_response(
            app)

    def test_no_caller_gets_json_401_naming_every_header(self):
        resp = self.call('/v2.1/servers/detail')
        self.assertEqual(401, resp.status_int)
        self.assertEqual('application/json', resp.content_type)
        fault = resp.json['unauthorized']
        self.assertEqual(401, fault['code'])
        self.assertIn('Missing X-Auth-Token, X-User-Id, X-Project-Id, '
                      'X-Roles.', fault['message'])
        self.assertIn("the token 'owner' alone", fault['message'])

    def test_names_only_what_is_missing(self):
        resp = self.call('/v2/servers', {'X-Auth-Token': 'x',
                                         'X-User-Id': 'u', 'X-Roles': ''})
        self.assertEqual(401, resp.status_int)
        self.assertIn('Missing X-Project-Id.',
                      resp.json['unauthorized']['message'])

    def test_without_tokens_none_is_offered(self):
        resp = self.call('/v2.1/servers', tokens={})
        self.assertNotIn('alone', resp.json['unauthorized']['message'])

    def test_every_header_passes(self):
        resp = self.call('/v2.1/servers', {
            'X-Auth-Token': 'anything', 'X-User-Id': 'u',
            'X-Project-Id': 'p', 'X-Roles': 'reader'})
        self.assertEqual((200, b'p u'), (resp.status_int, resp.body))

    def test_known_token_alone_stands_for_its_caller(self):
        resp = self.call('/v2.1/servers', {'X-Auth-Token': 'owner'})
        self.assertEqual((200, b'demo demo-user'),
                         (resp.status_int, resp.body))

    def test_headers_sent_win_over_the_token(self):
        resp = self.call('/v2.1/servers', {
            'X-Auth-Token': 'owner', 'X-User-Id': 'u', 'X-Project-Id': 'p',
            'X-Roles': 'admin'})
        self.assertEqual(b'p u', resp.body)

    def test_version_documents_need_no_caller(self):
        for path in ('/', '/v2', '/v2/', '/v2.1', '/v2.1/'):
            self.assertEqual(200, self.call(path).status_int, path)


class RequestLogTest(testtools.TestCase):

    def test_one_line_per_request(self):
        lines = []
        app = sandbox._with_request_log(
            sandbox._keystone_stand_in(_echo_caller,
                                       KeystoneStandInTest.TOKENS),
            lines.append)
        for token in ('owner', None):
            req = webob.Request.blank('/v2.1/servers/detail?all_tenants=1')
            if token:
                req.headers['X-Auth-Token'] = token
            req.get_response(app)
        self.assertEqual(2, len(lines))
        self.assertRegex(lines[0], r'^GET /v2.1/servers/detail\?all_tenants=1'
                                   r' 200 \d+ ms project=demo user=demo-user$')
        self.assertRegex(lines[1], r'^GET /v2.1/servers/detail\?all_tenants=1'
                                   r' 401 \d+ ms project=- user=-$')


class ServeOutcomeTest(testtools.TestCase):
    """What ``serve --background`` is told: once, the ready line or why
    serve ended before it.
    """

    def told(self, *calls):
        read, write = os.pipe()
        outcome = serve._Outcome(write)
        for method, text in calls:
            getattr(outcome, method)(text)
        with os.fdopen(read) as f:
            return f.read(), outcome.ready

    def test_ready_is_told_once(self):
        self.assertEqual(('Ready: x\n', True), self.told(
            ('succeeded', 'Ready: x'), ('failed', 'later')))

    def test_failure_is_told_with_its_reason(self):
        self.assertEqual(('FAILED: the port\n', False), self.told(
            ('failed', 'the port'), ('failed', 'serve ended')))

    def test_no_one_waiting(self):
        outcome = serve._Outcome(None)
        outcome.succeeded('Ready: x')
        self.assertTrue(outcome.ready)
