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

"""``serve`` as a user meets it: its port check, its answer to no caller,
its ready line and the check it prints.
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
            return resp.status, resp.getheader('Content-Type'), resp.read()
        finally:
            conn.close()

    def test_no_caller_gets_json_401_naming_the_headers(self):
        status, content_type, body = self.get('/v2.1/servers/detail', {
            'X-Auth-Token': 'anything', 'X-User-Id': self.user})
        self.assertEqual((401, 'application/json'), (status, content_type))
        fault = json.loads(body)['unauthorized']
        self.assertEqual(401, fault['code'])
        self.assertIn('Missing X-Project-Id, X-Roles.', fault['message'])

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
        proc = subprocess.Popen(
            [os.path.join(bindir, 'nova-hoststatus'), 'serve', '--port',
             str(port), '--config-dir', config_dir],
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
        for name in ('nova.conf', 'api-paste.ini', 'policy.json'):
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
        proc.terminate()
        self.assertEqual(0, proc.wait(60))
