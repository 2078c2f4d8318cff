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

"""The agent's options, read from Nova's configuration files.

The agent reads ``nova.conf`` for everything Nova's own code needs (the
databases, ``service_down_time``, the notification transport, the policy
file) and these for itself.
"""

import copy

from oslo_config import cfg

GROUP = 'host_status_notifier'

OPTS = [
    cfg.StrOpt(
        'connection', secret=True,
        help='SQLAlchemy URL of the database where the agents keep the '
             'last host_status they told of each host (one small table, '
             'created on start). Every agent of a deployment uses the same '
             'one: its compare-and-set is what tells each change once. '
             'Never Nova\'s own databases. Required.'),
    cfg.FloatOpt(
        'scan_interval', default=2.0, min=0.5,
        help='Seconds between two scans of Nova\'s compute services. A '
             'scan notices what Nova sends no notification for (a '
             'heartbeat that stops or comes back, a change written into '
             'the database) and any change whose notification was missed: '
             'such a change is told at most this long after Nova\'s API '
             'shows it, plus the time to send it.'),
    cfg.FloatOpt(
        'claim_timeout', default=30.0, min=1.0,
        help='Seconds after which a change whose agent claimed it but did '
             'not finish telling it (it died, or lost its database) is '
             'told again by the next agent that looks.'),
    cfg.StrOpt(
        'queue', default='nova-hoststatus',
        help='Name of the queue the agents share on Nova\'s versioned '
             'notification topics: each of Nova\'s notifications goes to '
             'one agent.'),
    cfg.ListOpt(
        'topics', default=['notifications'],
        help='Topics the agent sends its notifications on, in Nova\'s '
             'exchange on Nova\'s notification transport: Ceilometer\'s '
             '[notification] notification_topics listens there by '
             'default.'),
    cfg.StrOpt(
        'coordination_group', default='nova-hoststatus-notifier',
        help='tooz group in which the agents share the scans of hosts '
             '([coordination] backend_url); without a backend each agent '
             'scans every host, and each change is still told once.'),
]

COORDINATION_GROUP = 'coordination'
COORDINATION_OPTS = [
    cfg.StrOpt(
        'backend_url', secret=True,
        help='tooz backend URL through which the agents share the scans '
             '(as Aodh and Ceilometer use it: redis://, memcached://, '
             'zookeeper://, etcd3+http://; file:// for agents on one '
             'machine). An agent that stops is taken over once the '
             'backend expires its membership.'),
]


def register(conf):
    conf.register_opts(OPTS, group=GROUP)
    conf.register_opts(COORDINATION_OPTS, group=COORDINATION_GROUP)


def list_opts():
    """The options, for ``oslo-config-generator``."""
    return [(GROUP, copy.deepcopy(OPTS)),
            (COORDINATION_GROUP, copy.deepcopy(COORDINATION_OPTS))]
