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

"""The ``host state`` check: where host_status comes from, and the
settings of the filter's former cache that a deployment still sets.

The filter reads each host's state from Nova's own records, by Nova's own
code, on every request that needs it, and keeps nothing between requests;
the settings that tuned its cache are accepted for one release and
ignored.
"""

from nova_hoststatus.tools.checks import result

HOST_STATE = 'host state'

# Why a deprecated setting does nothing any more.
_NO_CACHE = 'it tuned the cache the filter no longer keeps'
_WHY_IGNORED = {
    'service_down_time': "Nova's servicegroup API decides when a host is "
                         "down, with Nova's [DEFAULT] service_down_time",
}


def check_host_state(deprecated):
    """Where host state comes from; a Warning for each of ``deprecated``,
    the names of the deprecated settings the deployment still sets (in
    the filter's paste section or ``[host_status]``).
    """
    found = result.Findings(HOST_STATE)
    found.note("read from Nova's own records on each request, by Nova's "
               "own code: the filter keeps no cache, so [cache] in "
               "nova.conf is Nova's own business")
    for name in deprecated:
        found.problem(result.Code.WARNING,
                      '%s is still set: %s' % (
                          name, _WHY_IGNORED.get(name, _NO_CACHE)),
                      'remove %s; it is ignored and will be removed in the '
                      'next release' % name)
    return found.result()
