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

"""The host_status table: one server's value from its host's service record.

Pure decisions, no I/O. The order of the checks is Nova's: a forced-down
service is DOWN even when it is also disabled, and a disabled service is
MAINTENANCE even when its heartbeat is stale.
"""

import datetime

UP = 'UP'
DOWN = 'DOWN'
MAINTENANCE = 'MAINTENANCE'
UNKNOWN = 'UNKNOWN'
NONE = ''


def heartbeat_is_recent(last_heartbeat, now, service_down_time):
    """True when a heartbeat is at most ``service_down_time`` seconds old.

    Nova compares the absolute difference, so a heartbeat slightly in the
    future (clock skew between hosts) still counts as recent.
    """
    elapsed = abs((now - last_heartbeat).total_seconds())
    return elapsed <= service_down_time


def host_status(service, now, service_down_time):
    """The host_status of a server whose host runs ``service``.

    ``service`` is a :class:`nova_hoststatus.services.ComputeService` or None
    when the server has no host or its host has no nova-compute record.
    """
    if service is None:
        return NONE
    if service.forced_down:
        return DOWN
    if service.disabled:
        return MAINTENANCE
    if service_is_up(service, now, service_down_time):
        return UP
    return UNKNOWN


def service_is_up(service, now, service_down_time):
    """Nova said the service was up, and its heartbeat has not aged since.

    Nova's ``state`` is exact when the record is fetched; ``updated_at``
    (never older than the last heartbeat) lets a cached record turn down on
    time without waiting for the next fetch. Without Nova's ``state`` (a
    change answered before 2.53), the heartbeat alone decides.
    """
    if service.reported_up is False:
        return False
    if service.updated_at is None:
        return service.reported_up is True
    return heartbeat_is_recent(service.updated_at, now, service_down_time)


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
