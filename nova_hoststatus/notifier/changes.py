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

"""What an owner is told of a change of its server's host: pure, no I/O.

A project learns through a notification nothing its members could not
read through the API under the deployed policy: each side of the change
is what :func:`nova_hoststatus.policy.shown` would put in a server
response for a member, and a change a member could not see is not told.
"""

import collections

from nova_hoststatus import policy

EVENT_TYPE = 'hoststatus.server.update'
# Constant: a name of the sending controller would be a host name the
# owner could read in its alarm's event.
PUBLISHER_ID = 'nova-hoststatus'

# One change of one host's host_status, as the agent claimed it.
Change = collections.namedtuple(
    'Change', 'host old new generation changed_at')


def visible_change(visibility, old, new):
    """``(old, new)`` as a member sees them, or None when it sees no change.

    A side the member may not see is None (the key absent from its server
    responses).
    """
    seen = (policy.shown(visibility, old), policy.shown(visibility, new))
    if seen[0] == seen[1]:
        return None
    return seen


def payload(server, host_id, seen, changed_at):
    """The notification for one server: no host name, only the ``hostId``
    its owner already reads in the server's own response.

    ``server`` has ``uuid``, ``project_id`` and ``user_id``; ``changed_at``
    is a UTC datetime.
    """
    old, new = seen
    return {
        'server_id': server.uuid,
        'project_id': server.project_id,
        'user_id': server.user_id,
        'host_id': host_id,
        'old_host_status': old,
        'host_status': new,
        'changed_at': changed_at.strftime('%Y-%m-%dT%H:%M:%S.%fZ'),
    }
