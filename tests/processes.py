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

"""What a test asks of the machine's processes after a command stopped."""

import os


def naming(path):
    """Pids of the live processes whose command line names ``path``."""
    found = []
    for pid in os.listdir('/proc'):
        if not pid.isdigit():
            continue
        try:
            with open('/proc/%s/cmdline' % pid, 'rb') as f:
                if path.encode() in f.read() and not zombie(pid):
                    found.append(int(pid))
        except OSError:
            pass
    return found


def zombie(pid):
    """Whether ``pid`` has exited (or is gone) and only waits for its
    parent to collect it.
    """
    try:
        with open('/proc/%s/stat' % pid) as f:
            return f.read().rpartition(')')[2].split()[0] == 'Z'
    except OSError:
        return True
