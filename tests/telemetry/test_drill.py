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

"""``drill`` and ``serve`` with the notification chain, as a user runs them.

Each runs in a process of its own, with its own Nova, Keystone and chain
(RabbitMQ, Ceilometer, Aodh) and its own notifier agent, beside whatever
this test process runs.
"""

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request

import fixtures
import testtools
from testtools import content

from nova_hoststatus.tools import launchers
from tests import processes

BINDIR = os.path.dirname(sys.executable)
# Nova, Keystone and the chain start in about 45 s on 2 cores.
START_TIMEOUT = 300
DRILL_TIMEOUT = 600
CALL_TIMEOUT = 30


class TestDrillWithTheChain(testtools.TestCase):

    def test_consumer_figures_beside_time_to_down(self):
        proc = subprocess.run(
            [os.path.join(BINDIR, 'nova-hoststatus'), 'drill', '--hosts',
             '2', '--servers', '4', '--rounds', '3'],
            capture_output=True, text=True, timeout=DRILL_TIMEOUT)
        out = proc.stdout
        self.addDetail('drill', content.text_content(
            out + proc.stderr))
        self.assertEqual(0, proc.returncode, out[-3000:] + proc.stderr)
        self.assertIn('chain ready in', out)
        self.assertIn('notifier listening', out)
        self.assertIn('The owner made an Aodh event alarm with its own '
                      'token', out)
        # Each round: both forms of force-down and a disable, each told
        # to the consumer for both servers of the host, and undone.
        for change in ('forced compute-01 down (2.11 form, 2 servers)',
                       'forced compute-02 down (2.53 form, 2 servers)',
                       'disabled compute-01 (2.53 form, 2 servers)'):
            self.assertIn(change, out)
        self.assertEqual(6, len(re.findall(
            r'owner polling saw (DOWN|MAINTENANCE|UP) after \d+ ms; '
            r'consumer called for all 2 after \d+ ms \(first\) to \d+ ms '
            r'\(last\)', out)), out)
        self.assertIn('MAINTENANCE after', out)
        [median] = re.findall(
            r"Owner's consumer called, from the inspector's call to the "
            r"last call .* median (\d+) ms", out)
        self.assertLessEqual(int(median), 1000)
        self.assertIn('Budget 1000 ms (--consumer-budget 1s): it applies '
                      'to that median', out)
        self.assertIn("The owner's consumer was called 12 times for 12 "
                      "changes", out)
        self.assertIn('PASS: every owner knew within the budget by '
                      'polling, and its consumer was called', out)


class TestServeWithTheChain(testtools.TestCase):

    def start_serve(self, config_dir):
        port = launchers.free_port()
        proc = subprocess.Popen(
            [os.path.join(BINDIR, 'nova-hoststatus'), 'serve', '--port',
             str(port), '--config-dir', config_dir],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True)
        self.addCleanup(self.stop, proc)
        lines = []
        deadline = time.monotonic() + START_TIMEOUT
        for line in proc.stdout:
            lines.append(line)
            if line.startswith('Ready: ') or time.monotonic() > deadline:
                break
        self.addDetail('serve', content.text_content(
            ''.join(lines)))
        self.assertTrue(lines and lines[-1].startswith('Ready: '),
                        ''.join(lines[-40:]))
        return proc, port, lines

    @staticmethod
    def stop(proc):
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(120)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    def test_owner_alarm_as_printed_and_a_clean_stop(self):
        config_dir = self.useFixture(fixtures.TempDir()).path
        proc, port, lines = self.start_serve(config_dir)
        text = ''.join(lines)
        # The owner's alarm, with the commands serve printed.
        commands = [line.strip() for line in lines
                    if line.startswith('  TOKEN=$(curl ') or
                    line.startswith('  curl -s -X POST ')]
        self.assertEqual(2, len(commands), text)
        made = subprocess.run(['bash', '-c', '\n'.join(commands)],
                              capture_output=True, text=True, timeout=60)
        self.assertEqual(0, made.returncode, made.stderr)
        self.assertEqual('event', json.loads(made.stdout)['type'],
                         made.stdout)
        [chain] = re.findall(r'Logs of the chain: (\S+)', text)
        log = os.path.join(config_dir, 'consumer-calls.log')
        self.assertIn(log, text)
        # The admin forces compute-up down.
        self.admin_force_down(config_dir, port, 'compute-up')
        deadline = time.monotonic() + CALL_TIMEOUT
        while not os.path.exists(log) and time.monotonic() < deadline:
            time.sleep(0.2)
        self.assertTrue(os.path.exists(log), 'no call of the consumer')
        with open(log) as f:
            call = json.loads(f.readline())
        self.assertEqual('my-servers', call['name'])
        traits = {t[0]: t[2] for t in
                  call['body']['reason_data']['event']['traits']}
        self.assertEqual(('UP', 'DOWN'), (traits['old_host_status'],
                                          traits['host_status']))
        # SIGTERM: nothing of the chain or the notifier is left.
        self.stop(proc)
        self.assertEqual(0, proc.returncode)
        self.assertFalse(os.path.exists(chain))
        self.assertEqual([], processes.naming(os.path.dirname(chain)))

    def admin_force_down(self, config_dir, port, host):
        env = {}
        with open(os.path.join(config_dir, 'admin-openrc')) as f:
            for line in f:
                name, _, value = line.strip()[len('export '):].partition(
                    '=')
                env[name] = value
        auth = {'auth': {'identity': {'methods': ['password'], 'password': {
            'user': {'name': env['OS_USERNAME'], 'password':
                     env['OS_PASSWORD'], 'domain': {'name': 'Default'}}}},
            'scope': {'project': {'name': env['OS_PROJECT_NAME'],
                                  'domain': {'name': 'Default'}}}}}
        response = urllib.request.urlopen(urllib.request.Request(
            env['OS_AUTH_URL'] + '/auth/tokens',
            data=json.dumps(auth).encode(),
            headers={'Content-Type': 'application/json'}), timeout=30)
        token = response.headers['X-Subject-Token']
        response = urllib.request.urlopen(urllib.request.Request(
            'http://127.0.0.1:%d/v2.1/os-services/force-down' % port,
            method='PUT', data=json.dumps({
                'host': host, 'binary': 'nova-compute',
                'forced_down': True}).encode(),
            headers={'X-Auth-Token': token,
                     'Content-Type': 'application/json',
                     'OpenStack-API-Version': 'compute 2.11'}), timeout=30)
        self.assertEqual(200, response.status)
