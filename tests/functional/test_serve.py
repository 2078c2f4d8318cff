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

"""``serve`` as a user meets it: its port check, its answer to no token,
its ready line, its openrc files and the check it prints.
"""

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse

import fixtures
import testtools

from tests.functional import base
from tests import processes


class TestServedCaller(base.TestCase):

    def get(self, path, headers=None):
        url = urllib.parse.urlsplit(self.sandbox.serve())
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        try:
            conn.request('GET', path, headers=headers or {})
            resp = conn.getresponse()
            self.last_headers = resp.headers
            return resp.status, resp.getheader('Content-Type'), resp.read()
        finally:
            conn.close()

    def test_no_token_gets_401_naming_keystone(self):
        """Nova's own authtoken answers, and names where to log in."""
        status, _, body = self.get('/v2.1/servers/detail', {
            'X-User-Id': self.user, 'X-Project-Id': self.project,
            'X-Roles': 'admin'})
        self.assertEqual(401, status, body)
        self.assertEqual(
            'Keystone uri="%s"' % self.sandbox.keystone.auth_url,
            self.last_headers['WWW-Authenticate'])

    def test_a_caller_reaches_nova(self):
        self.server(self.host())
        status, _, body = self.get('/v2.1/servers', dict(
            self.sandbox.headers(self.project, self.user)))
        self.assertEqual(200, status, body)
        self.assertEqual(1, len(json.loads(body)['servers']))

    def test_version_document_needs_no_caller(self):
        status, _, body = self.get('/v2.1')
        self.assertEqual(200, status, body)
        self.assertEqual('v2.1', json.loads(body)['version']['id'])


BINDIR = os.path.dirname(sys.executable)
# A fernet token of the sandbox's Keystone, as printed.
TOKEN = re.compile(r'gAAAAA[\w-]{40,}')


def _free_port():
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]


def _openrc(config_dir, name):
    env = {}
    with open(os.path.join(config_dir, '%s-openrc' % name)) as f:
        for line in f:
            key, _, value = line.strip()[len('export '):].partition('=')
            env[key] = value
    return env


def _token(config_dir, name):
    """A token of the user of ``name``-openrc, from Keystone."""
    env = _openrc(config_dir, name)
    auth = {'auth': {'identity': {'methods': ['password'], 'password': {
        'user': {'name': env['OS_USERNAME'], 'password': env['OS_PASSWORD'],
                 'domain': {'name': env['OS_USER_DOMAIN_NAME']}}}},
        'scope': {'project': {'name': env['OS_PROJECT_NAME'], 'domain': {
            'name': env['OS_PROJECT_DOMAIN_NAME']}}}}}
    url = urllib.parse.urlsplit(env['OS_AUTH_URL'])
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    try:
        conn.request('POST', url.path + '/auth/tokens', json.dumps(auth),
                     {'Content-Type': 'application/json'})
        resp = conn.getresponse()
        resp.read()
        return resp.getheader('X-Subject-Token')
    finally:
        conn.close()


def _call(port, method, path, token, version, body=None):
    """``(status, document, seconds)`` of a call to serve's API."""
    conn = http.client.HTTPConnection('127.0.0.1', port, timeout=60)
    started = time.monotonic()
    try:
        headers = {'X-Auth-Token': token,
                   'OpenStack-API-Version': 'compute %s' % version}
        if body is not None:
            body = json.dumps(body)
            headers['Content-Type'] = 'application/json'
        conn.request(method, '/v2.1' + path, body, headers)
        resp = conn.getresponse()
        raw = resp.read()
        return (resp.status, json.loads(raw) if raw else None,
                time.monotonic() - started)
    finally:
        conn.close()


class TestServeCommand(testtools.TestCase):

    def serve(self, *options, until='Ready: '):
        """``serve --no-chain`` on a free port, with a TMPDIR of its own,
        read up to the first line that starts with ``until``;
        ``(proc, port, lines, tmpdir)``.
        """
        port = _free_port()
        tmpdir = self.useFixture(fixtures.TempDir()).path
        # The API alone: this environment has neither the telemetry extra
        # nor RabbitMQ (tests/telemetry/test_drill.py serves with them).
        proc = subprocess.Popen(
            [os.path.join(BINDIR, 'nova-hoststatus'), 'serve', '--port',
             str(port), '--no-chain'] + list(options),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env=dict(os.environ, TMPDIR=tmpdir), start_new_session=True)
        self.addCleanup(self.kill, proc)
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if line.startswith(until):
                break
        self.assertTrue(lines and lines[-1].startswith(until),
                        ''.join(lines))
        return proc, port, lines, tmpdir

    @staticmethod
    def kill(proc):
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        proc.stdout.close()

    def assertStopsCleanly(self, proc, signum, lines, tmpdir, status):
        """Stopped by ``signum`` (SIGINT as a terminal's Ctrl-C sends it,
        to the whole foreground group), serve exits with ``status``,
        without a traceback, leaving no temporary file and no process.
        """
        if signum == signal.SIGINT:
            os.killpg(proc.pid, signum)
        else:
            proc.send_signal(signum)
        rest, _ = proc.communicate(timeout=120)
        output = ''.join(lines) + rest
        self.assertEqual(status, proc.returncode, output)
        self.assertNotIn('Traceback', output)
        self.assertEqual([], os.listdir(tmpdir), output)
        self.assertEqual([], processes.naming(tmpdir))
        return rest

    def test_busy_port_refused_before_nova_starts(self):
        with socket.socket() as busy:
            busy.bind(('127.0.0.1', 0))
            busy.listen()
            port = busy.getsockname()[1]
            started = time.monotonic()
            proc = subprocess.run(
                [os.path.join(BINDIR, 'nova-hoststatus'), 'serve', '--port',
                 str(port)], capture_output=True, text=True, timeout=60)
        self.assertEqual(2, proc.returncode, proc.stderr)
        self.assertIn('argument --port: 127.0.0.1:%d is in use' % port,
                      proc.stderr)
        self.assertNotIn('Starting Nova', proc.stdout)
        self.assertLess(time.monotonic() - started, 10)

    def test_ready_line_and_the_check_it_prints(self):
        """The check command serve prints runs, as printed, on its files
        and through its API; serve prints no token.
        """
        config_dir = self.useFixture(fixtures.TempDir()).path
        proc, port, lines, tmpdir = self.serve('--config-dir', config_dir)
        self.assertIn('http://127.0.0.1:%d/v2.1' % port, lines[-1],
                      ''.join(lines))
        self.assertIn('config dir %s ' % config_dir, lines[-1])
        self.assertIsNone(TOKEN.search(''.join(lines)), ''.join(lines))
        for name in ('nova.conf', 'api-paste.ini', 'policy.json',
                     'owner-openrc', 'admin-openrc', 'clouds.yaml',
                     'serve.pid'):
            self.assertTrue(os.path.exists(os.path.join(config_dir, name)))
        with open(os.path.join(config_dir, 'serve.pid')) as f:
            self.assertEqual(proc.pid, int(f.read()))
        with open(os.path.join(config_dir, 'nova.conf')) as f:
            self.assertIn('# No nova-compute sends heartbeats here',
                          f.read())
        # The check as the owner, as printed: after sourcing the owner's
        # openrc, with a token the command gets.
        [command] = [line.strip() for line in lines
                     if line.startswith('  nova-hoststatus check ')]
        env = {k: v for k, v in os.environ.items()
               if not k.startswith('OS_')}
        env['PATH'] = BINDIR + os.pathsep + env.get('PATH', '')
        check = subprocess.run(
            ['bash', '-c', '. %s/owner-openrc && %s --format json'
             % (config_dir, command)], env=env, capture_output=True,
            text=True, timeout=120)
        self.assertEqual(0, check.returncode, check.stdout + check.stderr)
        rows = {row['check']: row for row in json.loads(check.stdout)}
        self.assertEqual('Success', rows['live API']['result'],
                         rows['live API'])
        # The check with real callers from serve's clouds.yaml, as printed.
        [with_clouds] = [line.split() for line in lines
                         if line.startswith('  OS_CLIENT_CONFIG_FILE=')]
        variable, _, path = with_clouds[0].partition('=')
        check = subprocess.run(
            [os.path.join(BINDIR, with_clouds[1])] + with_clouds[2:] +
            ['--format', 'json'], env=dict(os.environ, **{variable: path}),
            capture_output=True, text=True, timeout=120)
        self.assertEqual(0, check.returncode, check.stdout + check.stderr)
        rows = {row['check']: row for row in json.loads(check.stdout)}
        matrix = rows['who sees host_status']['details'].splitlines()
        self.assertEqual(['caller', 'roles', 'decision', 'API'],
                         matrix[0].split())
        self.assertEqual(['owner', 'reader', 'other', 'admin'],
                         [line.split()[0] for line in matrix[1:5]])
        # The openstack CLI with the owner's openrc alone: a password.
        env = dict(env, **_openrc(config_dir, 'owner'))
        cli = subprocess.run(
            [os.path.join(BINDIR, 'openstack'), 'server', 'list', '--long',
             '-f', 'json'], env=env, capture_output=True, text=True,
            timeout=120)
        self.assertEqual(0, cli.returncode, cli.stderr)
        self.assertEqual(
            {'vm-on-compute-up': 'UP', 'vm-on-compute-stale': 'UNKNOWN',
             'vm-on-compute-maintenance': 'MAINTENANCE',
             'vm-on-compute-down': 'DOWN',
             'vm-on-compute-down-maintenance': 'DOWN',
             'vm-unscheduled': ''},
            {row['Name']: row['Host Status']
             for row in json.loads(cli.stdout)})
        # SIGTERM, as a service manager stops it.
        self.assertStopsCleanly(proc, signal.SIGTERM, lines, tmpdir, 0)
        self.assertFalse(os.path.exists(os.path.join(config_dir,
                                                     'serve.pid')))

    def test_disable_and_enable_at_2_53_answer_within_5_s(self):
        """The admin disables and enables compute-up by its service id
        (2.53): each answer within 5 s, though no nova-compute is there to
        tell; the owner sees MAINTENANCE, then UP.  Ctrl-C then stops
        serve cleanly.
        """
        config_dir = self.useFixture(fixtures.TempDir()).path
        proc, port, lines, tmpdir = self.serve('--config-dir', config_dir)
        admin = _token(config_dir, 'admin')
        owner = _token(config_dir, 'owner')
        status, doc, _ = _call(
            port, 'GET', '/os-services?binary=nova-compute&host=compute-up',
            admin, '2.53')
        self.assertEqual(200, status, doc)
        [service] = doc['services']
        status, doc, _ = _call(port, 'GET', '/servers?name=vm-on-compute-up',
                               owner, '2.16')
        self.assertEqual(200, status, doc)
        [server] = doc['servers']
        for change, seen in (({'status': 'disabled',
                               'disabled_reason': 'maintenance'},
                              'MAINTENANCE'),
                             ({'status': 'enabled'}, 'UP')):
            status, doc, seconds = _call(
                port, 'PUT', '/os-services/%s' % service['id'], admin,
                '2.53', change)
            self.assertEqual(200, status, doc)
            self.assertEqual(change['status'], doc['service']['status'])
            self.assertLess(seconds, 5, change)
            status, doc, _ = _call(port, 'GET', '/servers/%s' % server['id'],
                                   owner, '2.16')
            self.assertEqual(200, status, doc)
            self.assertEqual(seen, doc['server']['host_status'], change)
        self.assertStopsCleanly(proc, signal.SIGINT, lines, tmpdir, 0)

    def test_ctrl_c_while_nova_manage_runs(self):
        proc, _, lines, tmpdir = self.serve(
            until='  creating Nova databases')
        # nova-manage and keystone-manage are running.
        time.sleep(1)
        rest = self.assertStopsCleanly(proc, signal.SIGINT, lines, tmpdir, 1)
        self.assertIn('Stopped while starting (SIGINT).', rest)

    def test_sigterm_while_nova_loads(self):
        proc, _, lines, tmpdir = self.serve(
            until='  loading the Nova compute API')
        rest = self.assertStopsCleanly(proc, signal.SIGTERM, lines, tmpdir,
                                       1)
        self.assertIn('Stopped while starting (SIGTERM).', rest)

    def background(self, port, log, tmpdir, *options):
        return subprocess.run(
            [os.path.join(BINDIR, 'nova-hoststatus'), 'serve', '--port',
             str(port), '--no-chain', '--background', log] + list(options),
            capture_output=True, text=True, timeout=300,
            env=dict(os.environ, TMPDIR=tmpdir))

    def test_background_returns_when_ready(self):
        """``--background`` returns once the API answers, with the process
        to stop; stopped by the pid in serve.pid, it leaves nothing.
        """
        config_dir = self.useFixture(fixtures.TempDir()).path
        tmpdir = self.useFixture(fixtures.TempDir()).path
        log = os.path.join(self.useFixture(fixtures.TempDir()).path,
                           'serve.log')
        port = _free_port()
        proc = self.background(port, log, tmpdir, '--config-dir',
                               config_dir)
        self.assertEqual(0, proc.returncode, proc.stderr)
        ready, how = proc.stdout.splitlines()
        with open(os.path.join(config_dir, 'serve.pid')) as f:
            pid = int(f.read())
        self.addCleanup(self.kill_pid, pid)
        self.assertTrue(ready.startswith('Ready: '), proc.stdout)
        self.assertIn('stop it with: kill %d' % pid, how)
        self.assertIn(log, how)
        status, doc, _ = _call(port, 'GET', '/servers', _token(
            config_dir, 'owner'), '2.16')
        self.assertEqual(200, status, doc)
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 120
        while not processes.zombie(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        self.assertTrue(processes.zombie(pid))
        with open(log) as f:
            output = f.read()
        self.assertIn(ready, output)
        self.assertNotIn('Traceback', output)
        self.assertEqual([], os.listdir(tmpdir), output)
        self.assertEqual([], processes.naming(tmpdir))

    @staticmethod
    def kill_pid(pid):
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def test_background_says_why_serve_failed(self):
        """The port taken while Nova starts: ``--background`` returns with
        serve's reason and exit status, and serve leaves nothing.
        """
        tmpdir = self.useFixture(fixtures.TempDir()).path
        log = os.path.join(self.useFixture(fixtures.TempDir()).path,
                           'serve.log')
        port = _free_port()
        with socket.socket() as taker:
            taker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            # Taken right after serve's own check, before Nova is up.
            proc = subprocess.Popen(
                [os.path.join(BINDIR, 'nova-hoststatus'), 'serve', '--port',
                 str(port), '--no-chain', '--background', log],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                env=dict(os.environ, TMPDIR=tmpdir))
            deadline = time.monotonic() + 60
            while not os.path.exists(log) and time.monotonic() < deadline:
                time.sleep(0.05)
            taker.bind(('127.0.0.1', port))
            taker.listen()
            out, err = proc.communicate(timeout=300)
        self.assertEqual(2, proc.returncode, out + err)
        self.assertEqual('', out)
        self.assertIn('nova-hoststatus serve: error: 127.0.0.1:%d is in use'
                      % port, err)
        self.assertIn('its output is in %s' % log, err)
        with open(log) as f:
            self.assertNotIn('Traceback', f.read())
        self.assertEqual([], os.listdir(tmpdir))
        self.assertEqual([], processes.naming(tmpdir))
