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
reads them, its exit status and output, and its probes of memcached and of
a running API (stand-ins on loopback ports)."""

import io
import json
import os
import shutil
import socket
import sys
import threading
import warnings
from wsgiref import simple_server

import fixtures
import testtools

from nova_hoststatus import cmd
from nova_hoststatus.cmd import check
from nova_hoststatus.tools import clouds

API_PASTE = os.path.join(os.path.dirname(__file__), '..', '..', 'etc',
                         'api-paste.ini')
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


def paste_text():
    with open(API_PASTE) as f:
        return f.read()


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
                          'internal lookup', 'timing', 'shared state'],
                         list(rows))
        self.assertEqual('Success', rows['pipeline']['result'])
        self.assertIn('paste file: %s' % os.path.join(self.dir,
                                                      'api-paste.ini'),
                      rows['pipeline']['details'])
        self.assertIn('policy file: %s' % os.path.join(self.dir,
                                                       'policy.json'),
                      rows['policy']['details'])
        for row in rows.values():
            self.assertEqual({'check', 'result', 'details', 'fix'},
                             set(row))

    def test_cache_backend_without_its_client_library_fails(self):
        # As on a nova-api whose Python lacks python-memcached.
        self.useFixture(fixtures.MockPatch(
            'nova_hoststatus.cmd.check.CACHE_CLIENT_LIBRARIES',
            {'oslo_cache.memcache_pool': 'memcache_not_installed'}))
        self.write('nova.conf', NOVA_CONF + '\n[cache]\nenabled = true\n'
                   'backend = oslo_cache.memcache_pool\n'
                   'memcache_servers = 127.0.0.1:1\n')
        rows = self.rows('--config-file', self.nova_conf, status=1)
        self.assertEqual('Failure', rows['shared state']['result'])
        self.assertIn('cannot be loaded in this Python',
                      rows['shared state']['details'])
        self.assertIn("No module named 'memcache_not_installed'",
                      rows['shared state']['details'])
        self.assertIn('python-memcached', rows['shared state']['fix'])

    def test_eventlet_deprecation_from_oslo_cache_is_left_out(self):
        # As oslo.cache's memcached backends import eventlet; another
        # warning, or the same from elsewhere, still shows.
        def configure(conf, region):
            for module in ('oslo_cache._bmemcache_pool', 'elsewhere'):
                warnings.warn_explicit(
                    '\nEventlet is deprecated. It is currently being ...',
                    UserWarning, module + '.py', 22, module=module)
            warnings.warn_explicit('another', UserWarning,
                                   'oslo_cache._bmemcache_pool.py', 23,
                                   module='oslo_cache._bmemcache_pool')
            raise ValueError('no backend here')

        self.useFixture(fixtures.MockPatch(
            'nova_hoststatus.cmd.check.CACHE_CLIENT_LIBRARIES', {}))
        self.useFixture(fixtures.MockPatch(
            'oslo_cache.core.configure_cache_region', configure))
        self.write('nova.conf', NOVA_CONF + '\n[cache]\nenabled = true\n'
                   'backend = oslo_cache.memcache_pool\n'
                   'memcache_servers = 127.0.0.1:1\n')
        with warnings.catch_warnings(record=True) as shown:
            warnings.simplefilter('always')
            self.rows('--config-file', self.nova_conf, status=1)
        self.assertEqual(
            {('elsewhere.py', 'Eventlet'),
             ('oslo_cache._bmemcache_pool.py', 'another')},
            {(w.filename, str(w.message).split()[0]) for w in shown})

    def test_config_dir(self):
        os.makedirs(os.path.join(self.dir, 'conf.d'))
        os.rename(self.nova_conf, os.path.join(self.dir, 'conf.d',
                                               'nova.conf'))
        self.write('conf.d/api-paste.ini', paste_text())
        rows = self.rows('--config-dir', os.path.join(self.dir, 'conf.d'),
                         status=0)
        self.assertIn('keystonecontext hoststatus',
                      rows['pipeline']['details'])

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
        self.edit('nova.conf', 'service_down_time = 60',
                  'service_down_time = soon')
        code, out, err = self.run_check('--config-file', self.nova_conf)
        self.assertEqual(2, code)
        self.assertIn('service_down_time', err)

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

    def test_policy_file_that_does_not_parse_fails(self):
        self.write('policy.json', '{"a": ')
        rows = self.rows('--config-file', self.nova_conf, status=1)
        self.assertEqual('Failure', rows['policy']['result'])
        self.assertIn('does not parse', rows['policy']['details'])
        self.assertEqual('Warning', rows['who sees host_status']['result'])
        self.assertIn('Not checked', rows['internal lookup']['details'])

    def test_cycle_is_not_put_to_the_enforcer(self):
        self.write('policy.json', json.dumps({
            'os_compute_api:servers:show:host_status': 'rule:a',
            'a': 'rule:b', 'b': 'rule:a'}))
        rows = self.rows('--config-file', self.nova_conf, status=1)
        self.assertIn('a -> b -> a', rows['policy']['details'])
        self.assertIn('Not checked',
                      rows['who sees host_status']['details'])

    def test_paste_settings_of_the_filter_apply(self):
        self.edit('api-paste.ini', '# service_down_time = 60',
                  'service_down_time = 30')
        rows = self.rows('--config-file', self.nova_conf, status=0)
        self.assertEqual('Warning', rows['timing']['result'])
        self.assertIn('filter 30 s, Nova 60 s', rows['timing']['details'])

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


class MemcachedTest(testtools.TestCase):

    def serve_once(self, reply):
        """A one-connection server on loopback answering ``reply``."""
        listener = socket.socket()
        listener.bind(('127.0.0.1', 0))
        listener.listen(1)
        self.addCleanup(listener.close)

        def answer():
            conn, _ = listener.accept()
            with conn:
                conn.recv(64)
                conn.sendall(reply)
        thread = threading.Thread(target=answer, daemon=True)
        thread.start()
        self.addCleanup(thread.join, 5)
        return '127.0.0.1:%d' % listener.getsockname()[1]

    def test_version_answer(self):
        server = self.serve_once(b'VERSION 1.6.21\r\n')
        self.assertEqual((True, '1.6.21'), check.probe_memcached(server))

    def test_other_answer(self):
        server = self.serve_once(b'ERROR\r\n')
        self.assertEqual((False, "it answered b'ERROR\\r\\n'"),
                         check.probe_memcached(server))

    def test_refused(self):
        listener = socket.socket()
        listener.bind(('127.0.0.1', 0))
        port = listener.getsockname()[1]
        listener.close()
        answered, why = check.probe_memcached('127.0.0.1:%d' % port)
        self.assertFalse(answered)
        self.assertIn('refused', why)

    def test_addresses(self):
        self.assertEqual((socket.AF_INET, ('10.0.0.1', 11211)),
                         check._memcached_address('10.0.0.1'))
        self.assertEqual((socket.AF_INET, ('::1', 11212)),
                         check._memcached_address('inet6:[::1]:11212'))
        self.assertEqual((socket.AF_INET, ('mc', 1)),
                         check._memcached_address('inet:mc:1'))
        self.assertEqual((socket.AF_UNIX, '/run/mc.sock'),
                         check._memcached_address('unix:/run/mc.sock'))


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
