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

"""``serve`` as a user meets it: its port check."""

import os
import socket
import subprocess
import sys
import time

import testtools


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
