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

"""``nova-hoststatus check`` on deployments written by each test: how it
reads them, its exit status and output, whose decisions it reports (Nova's
own where Nova is importable: a stand-in here, as the unit tests run
without Nova), and its probe of a running API (a stand-in on a loopback
port)."""

import io
import json
import os
import shutil
import sys
import threading
import types
from unittest import mock
from wsgiref import simple_server

import fixtures
from oslo_policy import policy as oslo_policy
import testtools

from nova_hoststatus import cmd
from nova_hoststatus.cmd import check
from nova_hoststatus import policies
from nova_hoststatus.tools import clouds
from nova_hoststatus.tools import nova_oracle

API_PASTE = os.path.join(os.path.dirname(__file__), '..', '..', 'etc',
                         'api-paste.ini')
USE = 'use = egg:nova-hoststatus#hoststatus'
NOVA_CONF = """\
[DEFAULT]
service_down_time = 60
an_option_nothing_here_knows = 1

[wsgi]
api_paste_config = api-paste.ini

[oslo_policy]
policy_file = policy.json

[a_group_nothing_here_knows]
x = y
"""


# What a stand-in Nova registers: Nova 34's base rules the checks reach,
# and its defaults of the two host_status rules.
NOVA_RULES = {
    'context_is_admin': 'role:admin',
    'admin_or_owner': 'is_admin:True or project_id:%(project_id)s',
    'admin_api': 'is_admin:True',
    policies.SHOW_HOST_STATUS: 'rule:context_is_admin',
    policies.SHOW_UNKNOWN_ONLY: 'rule:context_is_admin',
}


def paste_text():
    with open(API_PASTE) as f:
        return f.read()


class FakeOracle(object):
    """Nova's decisions as :mod:`.nova_oracle` gives them, with Nova's
    defaults: all for an administrator, none for anyone else; or
    ``error``.  Every batch asked is kept.
    """

    def __init__(self):
        self.batches = []
        self.error = None

    def ask(self, config_args, callers, servers, policy_file=None):
        self.batches.append((config_args, callers, servers, policy_file))
        if self.error:
            raise nova_oracle.OracleError(self.error)
        return {'results': [
            {'is_admin': 'admin' in roles,
             'seen': ['all' if 'admin' in roles else 'none'] * len(servers)}
            for _, _, roles in callers]}


class FakeNova(fixtures.Fixture):
    """Nova importable, as in nova-api's environment: ``nova.policies``
    registers :data:`NOVA_RULES`, and :attr:`oracle` answers for Nova.
    """

    def _setUp(self):
        nova_policies = types.ModuleType('nova.policies')
        nova_policies.list_rules = lambda: [
            oslo_policy.RuleDefault(name, check_str)
            for name, check_str in NOVA_RULES.items()]
        nova = types.ModuleType('nova')
        nova.policies = nova_policies
        modules = mock.patch.dict(sys.modules, {
            'nova': nova, 'nova.policies': nova_policies})
        modules.start()
        self.addCleanup(modules.stop)
        self.oracle = FakeOracle()
        self.useFixture(fixtures.MockPatch(
            'nova_hoststatus.tools.nova_oracle.shared',
            return_value=self.oracle))


class QuietHandler(simple_server.WSGIRequestHandler):
    def log_message(self, fmt, *args):
        """Keep the test output clean."""


class CommandTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path
        self.write('nova.conf', NOVA_CONF)
        shutil.copy(API_PASTE, os.path.join(self.dir, 'api-paste.ini'))
        self.write('policy.json', '{}')
        self.nova_conf = os.path.join(self.dir, 'nova.conf')

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'w') as f:
            f.write(text)
        return path

    def edit(self, name, old, new):
        path = os.path.join(self.dir, name)
        with open(path) as f:
            text = f.read()
        self.assertIn(old, text)
        self.write(name, text.replace(old, new))

    def run_check(self, *argv):
        """(exit status, stdout, stderr) of ``check`` run here."""
        out = self.useFixture(fixtures.MonkeyPatch('sys.stdout',
                                                   io.StringIO())).new_value
        err = self.useFixture(fixtures.MonkeyPatch('sys.stderr',
                                                   io.StringIO())).new_value
        code = cmd.main(['check'] + list(argv))
        return code, out.getvalue(), err.getvalue()

    def rows(self, *argv, status=None):
        """The JSON rows by check name, after checking the exit status."""
        code, out, err = self.run_check('--format', 'json', *argv)
        if status is not None:
            self.assertEqual(status, code, out + err)
        return {row['check']: row for row in json.loads(out)}


class ReadTest(CommandTestCase):

    def test_good_deployment_passes(self):
        rows = self.rows('--config-file', self.nova_conf, status=0)
        self.assertEqual(['pipeline', 'policy', 'who sees host_status',
                          'host state', 'live API'], list(rows))
        self.assertEqual('Success', rows['pipeline']['result'])
        self.assertNotIn('outside the directory', rows['pipeline']['details'])
        self.assertNotIn('outside the directory', rows['policy']['details'])
        # Without --endpoint or --cloud, the running API is not looked at,
        # and the row says so, and how to look.
        self.assertEqual('Warning', rows['live API']['result'])
        self.assertIn('Not checked: no --endpoint or --cloud was given',
                      rows['live API']['details'])
        self.assertIn('--endpoint URL --token TOKEN', rows['live API']['fix'])
        self.assertIn('--cloud NAME', rows['live API']['fix'])
        self.assertIn('paste file: %s' % os.path.join(self.dir,
                                                      'api-paste.ini'),
                      rows['pipeline']['details'])
        self.assertIn('policy file: %s' % os.path.join(self.dir,
                                                       'policy.json'),
                      rows['policy']['details'])
        for row in rows.values():
            self.assertEqual({'check', 'result', 'details', 'fix'},
                             set(row))

    def test_config_dir(self):
        os.makedirs(os.path.join(self.dir, 'conf.d'))
        os.rename(self.nova_conf, os.path.join(self.dir, 'conf.d',
                                               'nova.conf'))
        self.write('conf.d/api-paste.ini', paste_text())
        rows = self.rows('--config-dir', os.path.join(self.dir, 'conf.d'),
                         status=0)
        self.assertIn('keystonecontext hoststatus',
                      rows['pipeline']['details'])

    def test_copy_naming_the_originals_files_warns(self):
        # A copy of the deployment whose nova.conf names the original's
        # paste and policy files by their absolute paths.
        original = self.dir
        copy = os.path.join(self.dir, 'copy')
        os.makedirs(copy)
        with open(self.nova_conf) as f:
            text = f.read()
        paste = os.path.join(original, 'api-paste.ini')
        policy_file = os.path.join(original, 'policy.json')
        with open(os.path.join(copy, 'nova.conf'), 'w') as f:
            f.write(text.replace('api_paste_config = api-paste.ini',
                                 'api_paste_config = ' + paste).replace(
                'policy_file = policy.json', 'policy_file = ' + policy_file))
        shutil.copy(paste, copy)
        shutil.copy(policy_file, copy)
        rows = self.rows('--config-dir', copy, status=0)
        self.assertEqual('Warning', rows['pipeline']['result'])
        self.assertIn('Warning: the paste file read is %s, outside the '
                      'directory of the configuration files (%s; [wsgi] '
                      'api_paste_config = %s)' % (paste, copy, paste),
                      rows['pipeline']['details'])
        self.assertIn('--api-paste-config', rows['pipeline']['fix'])
        self.assertEqual('Warning', rows['policy']['result'])
        self.assertIn('Warning: the policy file read is %s, outside the '
                      'directory of the configuration files (%s; '
                      '[oslo_policy] policy_file = %s)'
                      % (policy_file, copy, policy_file),
                      rows['policy']['details'])
        self.assertIn('--policy-file', rows['policy']['fix'])

    def test_files_next_to_the_configuration_do_not_warn(self):
        # Below the directory of nova.conf is next to it.
        os.makedirs(os.path.join(self.dir, 'paste'))
        os.rename(os.path.join(self.dir, 'api-paste.ini'),
                  os.path.join(self.dir, 'paste', 'api-paste.ini'))
        self.edit('nova.conf', 'api_paste_config = api-paste.ini',
                  'api_paste_config = %s/paste/api-paste.ini' % self.dir)
        rows = self.rows('--config-file', self.nova_conf, status=0)
        self.assertEqual('Success', rows['pipeline']['result'])
        self.assertNotIn('outside the directory', rows['pipeline']['details'])

    def test_every_bad_paste_setting_is_named(self):
        self.edit('api-paste.ini', USE, USE + '\nservice_down_time = soon'
                  '\nservice_cache_time = later\nservice_cache_tme = 3')
        rows = self.rows('--config-file', self.nova_conf, status=1)
        details = rows['pipeline']['details']
        for named in ("service_down_time = 'soon'",
                      "service_cache_time = 'later'", 'service_cache_tme'):
            self.assertIn(named, details)
        self.assertEqual(3, details.count('Failure: [filter:hoststatus]'))
        self.assertIn('correct or remove those settings',
                      rows['pipeline']['fix'])

    def test_missing_config_file_cannot_be_read(self):
        code, out, err = self.run_check('--config-file',
                                        os.path.join(self.dir, 'nope.conf'))
        self.assertEqual(2, code)
        self.assertEqual('', out)
        self.assertIn('cannot read the deployment', err)
        self.assertIn('nope.conf', err)

    def test_unreadable_deployment_in_json_is_an_error_object(self):
        code, out, err = self.run_check('--format', 'json', '--config-file',
                                        os.path.join(self.dir, 'nope.conf'))
        self.assertEqual(2, code)
        error = json.loads(out)['error']
        self.assertTrue(error.startswith('cannot read the deployment: '))
        self.assertIn('nope.conf', error)

    def test_live_options_need_an_endpoint(self):
        for argv in (['--token', 'tok'], ['--server', 'vm-1'],
                     ['--header', 'X-Roles:admin'],
                     ['--token-roles', 'admin'], ['--token-project', 'p'],
                     ['--auth-url', 'http://k/v3']):
            option = argv[0]
            err = self.useFixture(fixtures.MonkeyPatch(
                'sys.stderr', io.StringIO())).new_value
            exc = self.assertRaises(SystemExit, cmd.main, [
                'check', '--config-file', self.nova_conf] + argv)
            self.assertEqual(2, exc.code)
            self.assertIn('error: argument %s: needs --endpoint' % option,
                          err.getvalue())

    def test_cloud_without_openstacksdk_says_what_to_install(self):
        self.useFixture(fixtures.MonkeyPatch('sys.modules', dict(
            sys.modules, openstack=None)))
        code, out, err = self.run_check('--format', 'json', '--config-file',
                                        self.nova_conf, '--cloud', 'owner')
        self.assertEqual(2, code)
        self.assertEqual(clouds.SDK_MISSING, json.loads(out)['error'])
        self.assertIn('pip install openstacksdk', err)

    def test_auth_url_needs_a_token(self):
        err = self.useFixture(fixtures.MonkeyPatch(
            'sys.stderr', io.StringIO())).new_value
        exc = self.assertRaises(SystemExit, cmd.main, [
            'check', '--config-file', self.nova_conf, '--endpoint',
            'http://n/v2.1', '--auth-url', 'http://k/v3'])
        self.assertEqual(2, exc.code)
        self.assertIn('error: argument --auth-url: needs --token',
                      err.getvalue())

    def test_missing_paste_file_cannot_be_read(self):
        os.remove(os.path.join(self.dir, 'api-paste.ini'))
        code, out, err = self.run_check('--config-file', self.nova_conf)
        self.assertEqual(2, code)
        self.assertIn('[wsgi] api_paste_config = api-paste.ini: no such '
                      'file', err)

    def test_paste_file_that_does_not_parse_cannot_be_read(self):
        self.write('api-paste.ini', '[filter:x\nuse = y\n')
        code, out, err = self.run_check('--config-file', self.nova_conf)
        self.assertEqual(2, code)
        self.assertIn('does not parse', err)

    def test_value_nova_conf_cannot_hold_cannot_be_read(self):
        self.write('nova.conf', NOVA_CONF + '\n[host_status]\n'
                   'service_cache_time = soon\n')
        code, out, err = self.run_check('--config-file', self.nova_conf)
        self.assertEqual(2, code)
        self.assertIn('service_cache_time', err)

    def test_paste_and_policy_files_may_be_named(self):
        other = self.write('other/paste.ini', paste_text().replace(
            'keystonecontext hoststatus', 'hoststatus keystonecontext'))
        policy_file = self.write('other/policy.yaml',
                                 '"os_compute_api:servers:show:host_status":'
                                 ' "rule:nothing_here"\n')
        rows = self.rows('--config-file', self.nova_conf,
                         '--api-paste-config', other,
                         '--policy-file', policy_file, status=1)
        self.assertEqual('Failure', rows['pipeline']['result'])
        self.assertIn('comes before keystonecontext',
                      rows['pipeline']['details'])
        self.assertIn(policy_file, rows['policy']['details'])
        self.assertIn('rule:nothing_here', rows['policy']['details'])
        # Files named on the command line are the ones meant.
        self.assertNotIn('outside the directory', rows['pipeline']['details'])
        self.assertNotIn('outside the directory', rows['policy']['details'])

    def test_policy_file_that_does_not_parse_fails(self):
        self.write('policy.json', '{"a": ')
        rows = self.rows('--config-file', self.nova_conf, status=1)
        self.assertEqual('Failure', rows['policy']['result'])
        self.assertIn('does not parse', rows['policy']['details'])
        self.assertEqual('Warning', rows['who sees host_status']['result'])
        self.assertIn('Not checked: the policy file does not parse',
                      rows['who sees host_status']['details'])

    def test_cycle_is_not_put_to_the_enforcer(self):
        self.write('policy.json', json.dumps({
            'os_compute_api:servers:show:host_status': 'rule:a',
            'a': 'rule:b', 'b': 'rule:a'}))
        rows = self.rows('--config-file', self.nova_conf, status=1)
        self.assertIn('a -> b -> a', rows['policy']['details'])
        self.assertIn('Not checked',
                      rows['who sees host_status']['details'])

    def test_paste_settings_of_the_filter_apply(self):
        other = self.write('other.json', json.dumps(
            {'os_compute_api:servers:show:host_status': 'role:reader'}))
        self.edit('api-paste.ini', USE, USE + '\npolicy_file = ' + other)
        rows = self.rows('--config-file', self.nova_conf, status=0)
        self.assertIn('policy file: ' + other, rows['policy']['details'])
        self.assertIn("the filter's policy_file (%s) is read only outside "
                      'nova-api' % other, rows['policy']['details'])
        self.assertEqual(['reader', 'reader', 'all'], rows[
            'who sees host_status']['details'].splitlines()[3].split())

    def test_host_state_comes_from_novas_records(self):
        rows = self.rows('--config-file', self.nova_conf, status=0)
        self.assertEqual('Success', rows['host state']['result'])
        self.assertIn("read from Nova's own records on each request",
                      rows['host state']['details'])

    def test_deprecated_settings_still_set_warn_by_name(self):
        self.edit('api-paste.ini', USE, USE + '\nservice_cache_time = 3')
        self.write('nova.conf', NOVA_CONF + '\n[host_status]\n'
                   'memcache_security_strategy = MAC\n')
        code, out, err = self.run_check('--format', 'json', '--config-file',
                                        self.nova_conf)
        self.assertEqual(0, code, out + err)
        row = {row['check']: row for row in json.loads(out)}['host state']
        self.assertEqual('Warning', row['result'])
        self.assertIn('service_cache_time is still set', row['details'])
        self.assertIn('memcache_security_strategy is still set',
                      row['details'])
        self.assertEqual(
            ['remove service_cache_time; it is ignored and will be removed '
             'in the next release',
             'remove memcache_security_strategy; it is ignored and will be '
             'removed in the next release'], row['fix'].splitlines())
        # The row says it; the deprecation warnings of the settings'
        # readers are not repeated on stderr.
        self.assertEqual('', err)

    def test_cache_of_nova_conf_is_novas_business(self):
        self.write('nova.conf', NOVA_CONF + '\n[cache]\nenabled = true\n'
                   'backend = oslo_cache.memcache_pool\n'
                   'memcache_servers = 127.0.0.1:1\n')
        rows = self.rows('--config-file', self.nova_conf, status=0)
        self.assertEqual('Success', rows['host state']['result'])
        self.assertIn("[cache] in nova.conf is Nova's own business",
                      rows['host state']['details'])

    def test_roles_join_the_matrix(self):
        rows = self.rows('--config-file', self.nova_conf, '--role', 'ops',
                         status=0)
        self.assertIn('role ops', rows['who sees host_status']['details'])

    def test_table(self):
        code, out, err = self.run_check('--config-file', self.nova_conf)
        self.assertEqual(0, code, err)
        lines = out.splitlines()
        self.assertEqual('| nova-hoststatus check', lines[1][:23])
        self.assertEqual(1, len({len(line) for line in lines}))
        self.assertIn('| Check: pipeline', out)
        self.assertIn('| Result: Success', out)

    def test_bad_header_is_refused_by_argparse(self):
        err = self.useFixture(fixtures.MonkeyPatch('sys.stderr',
                                                   io.StringIO())).new_value
        exc = self.assertRaises(SystemExit, cmd.main,
                                ['check', '--header', 'no-colon'])
        self.assertEqual(2, exc.code)
        self.assertIn('--header', err.getvalue())


class NovaDecidesTest(CommandTestCase):
    """Where Nova is importable the decisions are Nova's own, as the
    filter's are in nova-api: Nova's defaults, Nova's policy file.
    """

    def setUp(self):
        super().setUp()
        self.oracle = self.useFixture(FakeNova()).oracle

    def matrix(self, rows):
        return {line.split('  ')[0]: line.split()[-1] for line in
                rows['who sees host_status']['details'].splitlines()[1:5]}

    def test_the_matrix_is_novas_decision(self):
        # admin_api widened: the package's default of the host_status
        # rules (rule:admin_api) would show a member all; Nova's
        # (rule:context_is_admin) shows it none, and Nova's is the row's.
        self.write('policy.json', json.dumps({'admin_api': 'role:member'}))
        rows = self.rows('--config-file', self.nova_conf, status=0)
        self.assertEqual({'administrator': 'all', 'member': 'none',
                          'reader': 'none', 'member, other project': 'none'},
                         self.matrix(rows))
        self.assertEqual('Success', rows['who sees host_status']['result'])
        self.assertIn("decision: Nova's own enforcer's",
                      rows['who sees host_status']['details'])
        [(config_args, callers, servers, policy_file)] = self.oracle.batches
        self.assertEqual(['--config-file', self.nova_conf], config_args)
        self.assertIsNone(policy_file)
        self.assertEqual([[check.checks.SERVER_PROJECT,
                           check.checks.SERVER_USER]], servers)
        self.assertEqual(['check-member', check.checks.SERVER_PROJECT,
                          ['member', 'reader']], callers[1])

    def test_the_policy_row_shows_novas_defaults(self):
        rows = self.rows('--config-file', self.nova_conf, status=0)
        details = rows['policy']['details']
        self.assertIn("defaults: Nova's own", details)
        self.assertIn('os_compute_api:servers:show:host_status = '
                      'rule:context_is_admin (default)', details)
        self.assertNotIn('admin_api', details)

    def test_policy_file_option_goes_to_nova(self):
        path = self.write('other/policy.yaml',
                          '"os_compute_api:servers:show:host_status": '
                          '"rule:admin_or_owner"\n')
        rows = self.rows('--config-file', self.nova_conf, '--policy-file',
                         path, status=0)
        self.assertEqual(path, self.oracle.batches[0][3])
        self.assertIn('policy file: ' + path, rows['policy']['details'])

    def test_the_filters_own_policy_file_does_not_decide(self):
        other = self.write('other.json', json.dumps(
            {'os_compute_api:servers:show:host_status': '@'}))
        self.edit('api-paste.ini', USE, USE + '\npolicy_file = ' + other)
        rows = self.rows('--config-file', self.nova_conf, status=0)
        self.assertEqual('Warning', rows['policy']['result'])
        self.assertIn("the filter's policy_file (%s) is read only outside "
                      "nova-api, where the caller's context is not Nova's; "
                      "in nova-api Nova's policy file (%s) decides" % (
                          other, os.path.join(self.dir, 'policy.json')),
                      rows['policy']['details'])
        self.assertEqual('unset policy_file in the filter section and '
                         '[host_status]', rows['policy']['fix'])
        self.assertEqual('none', self.matrix(rows)['member'])

    def test_nova_that_cannot_answer_is_said(self):
        self.oracle.error = ('Traceback (most recent call last):\n  ...\n'
                             "ImportError: cannot import name 'x'")
        rows = self.rows('--config-file', self.nova_conf, status=0)
        self.assertEqual('Warning', rows['who sees host_status']['result'])
        self.assertEqual("Not checked: Nova's own decision could not be "
                         "had: ImportError: cannot import name 'x'",
                         rows['who sees host_status']['details'])

    def test_a_cycle_is_not_put_to_nova(self):
        self.write('policy.json', json.dumps({
            'context_is_admin': 'rule:a', 'a': 'rule:context_is_admin'}))
        rows = self.rows('--config-file', self.nova_conf, status=1)
        self.assertIn('Not checked', rows['who sees host_status']['details'])
        self.assertEqual([], self.oracle.batches)


class RenderTest(testtools.TestCase):

    def test_long_lines_wrap_and_single_lines_stay(self):
        result = check.checks.Result('x', check.checks.Code.FAILURE,
                                     'word ' * 30, 'short fix')
        text = check.render([result])
        self.assertIn('| Fix: short fix', text)
        self.assertIn('| Details:', text)
        self.assertTrue(all(len(line) <= check.WIDTH
                            for line in text.splitlines()))

    def test_table_rows_stay_whole(self):
        row = 'a' * 40 + '  ' + 'b' * 40
        text = check.render([check.checks.Result(
            'x', check.checks.Code.SUCCESS, 'caller  roles\n' + row)])
        self.assertIn('|   %s |' % row, text)


class LiveTest(CommandTestCase):
    """``--endpoint`` against a stand-in compute API on loopback."""

    def serve(self, host_status_from, listed=None):
        """Shows one server, with host_status from ``host_status_from``;
        lists ``listed``, by default an unscheduled server, newest, first.
        """
        seen = []
        if listed is None:
            listed = [{'id': 'vm-unscheduled', 'hostId': ''},
                      {'id': 'vm-1', 'hostId': 'a1b2'}]

        def app(environ, start_response):
            seen.append(environ)
            version = environ.get('HTTP_OPENSTACK_API_VERSION', '')
            server = {'id': 'vm-1', 'tenant_id': 'p1'}
            if environ['PATH_INFO'] == '/v2.1/servers/detail':
                body = {'servers': listed}
            else:
                if version.split()[-1] >= host_status_from:
                    server['host_status'] = 'UP'
                body = {'server': server}
            start_response('200 OK', [
                ('Content-Type', 'application/json'),
                ('OpenStack-API-Version', version or 'compute 2.1')])
            return [json.dumps(body).encode()]

        httpd = simple_server.make_server('127.0.0.1', 0, app,
                                          handler_class=QuietHandler)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        self.addCleanup(httpd.server_close)
        self.addCleanup(httpd.shutdown)
        return 'http://127.0.0.1:%d/v2.1' % httpd.server_address[1], seen

    def test_admin_sees_it_from_216(self):
        url, seen = self.serve('2.16')
        rows = self.rows('--config-file', self.nova_conf, '--endpoint', url,
                         '--token', 'tok', '--header', 'X-Roles: admin',
                         status=0)
        self.assertEqual('Success', rows['live API']['result'])
        self.assertIn('the policy shows this caller: all',
                      rows['live API']['details'])
        self.assertEqual('tok', seen[-1]['HTTP_X_AUTH_TOKEN'])
        self.assertEqual('/v2.1/servers/vm-1', seen[-1]['PATH_INFO'])

    def test_no_server_with_a_host_is_said(self):
        url, seen = self.serve('2.16', [{'id': 'vm-unscheduled',
                                         'hostId': ''}])
        rows = self.rows('--config-file', self.nova_conf, '--endpoint', url,
                         status=0)
        self.assertEqual('Warning', rows['live API']['result'])
        self.assertIn('no server the token lists has a host (1 looked at',
                      rows['live API']['details'])
        self.assertIn('--server', rows['live API']['fix'])
        self.assertEqual('limit=%d' % check.LISTED,
                         seen[-1]['QUERY_STRING'])

    def test_no_server_listed_is_said(self):
        url, _ = self.serve('2.16', [])
        rows = self.rows('--config-file', self.nova_conf, '--endpoint', url,
                         status=0)
        self.assertIn('the token lists no server',
                      rows['live API']['details'])

    def test_present_at_215_fails(self):
        url, _ = self.serve('2.15')
        rows = self.rows('--config-file', self.nova_conf, '--endpoint', url,
                         '--server', 'vm-1', status=1)
        self.assertIn('host_status at 2.15', rows['live API']['details'])

    def test_member_sees_nothing_by_default(self):
        url, _ = self.serve('9.99')
        rows = self.rows('--config-file', self.nova_conf, '--endpoint', url,
                         '--token-roles', 'member', '--token-project', 'p1',
                         status=0)
        self.assertIn('the policy shows this caller: none',
                      rows['live API']['details'])

    def test_no_answer_fails(self):
        rows = self.rows('--config-file', self.nova_conf, '--endpoint',
                         'http://127.0.0.1:9/v2.1', '--server', 'x',
                         status=1)
        self.assertIn('no answer', rows['live API']['details'])

    def test_novas_decision_judges_the_token(self):
        oracle = self.useFixture(FakeNova()).oracle
        # admin_api widened: a member would see host_status by the
        # package's defaults, and sees none of it by Nova's.
        self.write('policy.json', json.dumps({'admin_api': 'role:member'}))
        url, _ = self.serve('9.99')
        rows = self.rows('--config-file', self.nova_conf, '--endpoint', url,
                         '--token-roles', 'member', '--token-project', 'p1',
                         status=0)
        self.assertIn('the policy shows this caller: none',
                      rows['live API']['details'])
        config_args, callers, servers, _ = oracle.batches[0]
        self.assertEqual([[None, 'p1', ['member']]], callers)
        self.assertEqual([['p1', None]], servers)

    def test_nova_that_cannot_answer_leaves_the_token_unjudged(self):
        self.useFixture(FakeNova()).oracle.error = 'OSError: gone'
        url, _ = self.serve('2.16')
        rows = self.rows('--config-file', self.nova_conf, '--endpoint', url,
                         '--token-roles', 'admin', status=0)
        self.assertIn("not judged: Nova's own decision could not be had: "
                      'OSError: gone', rows['live API']['details'])
        self.assertNotIn('the policy shows', rows['live API']['details'])
