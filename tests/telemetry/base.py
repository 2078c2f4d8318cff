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

"""The chain and Nova of this test process, started once for all tests.

RabbitMQ's address is known before anything starts, so the sandbox's Nova
sends its versioned notifications there; then RabbitMQ, Ceilometer and
Aodh start, Aodh's API behind the sandbox's Keystone.
"""

import atexit
import collections
import shutil
import tempfile
import threading

from nova_hoststatus.tools import sandbox
from nova_hoststatus.tools import telemetry

Environment = collections.namedtuple('Environment', 'chain sandbox path')

_LOCK = threading.Lock()
_ENVIRONMENT = []


def environment():
    """``Environment(chain, sandbox, path)``, started on first use and
    stopped at exit (the chain before the sandbox).
    """
    with _LOCK:
        if not _ENVIRONMENT:
            path = tempfile.mkdtemp(prefix='nova-hoststatus-chain-')
            chain = telemetry.Chain(path)
            try:
                nova = sandbox.shared(notifications=chain.transport_url)
                chain.start(nova.keystone)
            except Exception:
                chain.stop()
                shutil.rmtree(path, ignore_errors=True)
                raise

            def stop():
                chain.stop()
                shutil.rmtree(path, ignore_errors=True)
            atexit.register(stop)
            _ENVIRONMENT.append(Environment(chain, nova, path))
        return _ENVIRONMENT[0]
