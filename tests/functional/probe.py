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

"""What reached Nova past the host_status filter, for the tests to read.

The functional tests' sandbox puts this paste filter behind the host_status
filter (and behind the filter that strips Nova's own value), in the
pipeline of the test process only.  It records each request it passes on
to Nova in :data:`REACHED_NOVA`, so that a test can tell that a request
the filter refused never reached Nova.
"""

import collections

import webob

# The paste filters the sandbox of the functional tests puts behind ours,
# as (section name, factory) pairs.
FILTERS = (('reached_nova_probe', __name__ + ':filter_factory'),)

REACHED_NOVA = collections.deque(maxlen=1000)
"""(method, path) of each request that reached Nova past the filter."""


def filter_factory(global_conf, **local_conf):
    """Paste factory of the filter that records into REACHED_NOVA."""
    def _filter(app):
        def probe(environ, start_response):
            req = webob.Request(environ)
            REACHED_NOVA.append((req.method, req.path_info))
            return app(environ, start_response)
        return probe
    return _filter
