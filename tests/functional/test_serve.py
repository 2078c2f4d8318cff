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
import socket
import subprocess
import sys
import time
import urllib.parse

import fixtures
import testtools

from tests.functional import base


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


class TestServeCommand(testtools.TestCase):

    def test_busy_port_refused_before_nova_starts(self):
        with socket.socket() as busy:
            busy.bind(('127.0.0.1', 0))
            busy.listen()
            port = busy.getsockname()[1]
            started = time.monotonic()
            proc = subprocess.run(
                [os.path.join(os.path.dirname(sys.executable),
                              'nova-hoststatus'), 'serve', '--port',
                 str(port)], capture_output=True, text=True, timeout=60)
        self.assertEqual(2, proc.returncode, proc.stderr)
        self.assertIn('argument --port: 127.0.0.1:%d is in use' % port,
                      proc.stderr)
        self.assertNotIn('Starting Nova', proc.stdout)
        self.assertLess(time.monotonic() - started, 10)

    def test_ready_line_and_the_check_it_prints(self):
        """The check command serve prints runs, as printed, on its files
        and through its API.
        """
        with socket.socket() as probe:
            probe.bind(('127.0.0.1', 0))
            port = probe.getsockname()[1]
        config_dir = self.useFixture(fixtures.TempDir()).path
        bindir = os.path.dirname(sys.executable)
        # The API alone: this environment has neither the telemetry extra
        # nor RabbitMQ (tests/telemetry/test_drill.py serves with them).
        proc = subprocess.Popen(
            [os.path.join(bindir, 'nova-hoststatus'), 'serve', '--port',
             str(port), '--config-dir', config_dir, '--no-chain'],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(proc.wait, 60)
        self.addCleanup(proc.terminate)
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if line.startswith('Ready: '):
                break
        self.assertIn('http://127.0.0.1:%d/v2.1' % port, lines[-1],
                      ''.join(lines))
        self.assertIn('config dir %s ' % config_dir, lines[-1])
        for name in ('nova.conf', 'api-paste.ini', 'policy.json',
                     'owner-openrc', 'admin-openrc', 'clouds.yaml'):
            self.assertTrue(os.path.exists(os.path.join(config_dir, name)))
        [command] = [line.split() for line in lines
                     if line.startswith('  nova-hoststatus check ')]
        check = subprocess.run(
            [os.path.join(bindir, command[0])] + command[1:] +
            ['--format', 'json'], capture_output=True, text=True,
            timeout=120)
        self.assertEqual(0, check.returncode, check.stdout + check.stderr)
        rows = {row['check']: row for row in json.loads(check.stdout)}
        self.assertEqual('Success', rows['live API']['result'],
                         rows['live API'])
        # The check with real callers from serve's clouds.yaml, as printed.
        [with_clouds] = [line.split() for line in lines
                         if line.startswith('  OS_CLIENT_CONFIG_FILE=')]
        variable, _, path = with_clouds[0].partition('=')
        check = subprocess.run(
            [os.path.join(bindir, with_clouds[1])] + with_clouds[2:] +
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
        env = {k: v for k, v in os.environ.items()
               if not k.startswith('OS_')}
        with open(os.path.join(config_dir, 'owner-openrc')) as f:
            for line in f:
                name, _, value = line.strip()[len('export '):].partition('=')
                env[name] = value
        cli = subprocess.run(
            [os.path.join(bindir, 'openstack'), 'server', 'list', '--long',
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
        proc.terminate()
        self.assertEqual(0, proc.wait(60))
