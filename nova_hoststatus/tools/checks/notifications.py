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

"""The ``notifications`` check: what the notification agent needs of Nova.

``nova-hoststatus notifier`` learns of force-down, unset, disable and
enable from Nova's versioned ``service.update``, which Nova sends only
with ``[notifications] notification_format`` = ``versioned`` or ``both``
(Nova's default, ``unversioned``, sends none) and a notification driver
that puts it on the broker (``[oslo_messaging_notifications] driver`` =
``messagingv2`` or ``messaging``; unset or ``noop``, nothing leaves Nova).
Without them the agent still tells every change, from its scans, up to
``[host_status_notifier] scan_interval`` later, and nothing else is
lost.  Every party of the broker declares its queues with the same
durability (``[oslo_messaging_rabbit] amqp_durable_queues``), and only
durable queues keep Nova's messages, and the agent's, over a broker
restart.  An owner is told only what a member of the server's project may
see under the deployed policy: under Nova's default rule (administrators
alone) owners are told nothing.
"""

import collections

from nova_hoststatus.tools.checks import result

NOTIFICATIONS = 'notifications'

VERSIONED_FORMATS = ('versioned', 'both')
# The drivers that send to the notification transport.
MESSAGING_DRIVERS = ('messaging', 'messagingv2')

Messaging = collections.namedtuple(
    'Messaging', 'notification_format drivers transport durable')
"""What nova.conf says of Nova's notifications: ``[notifications]
notification_format``, ``[oslo_messaging_notifications] driver`` (a
list), where the notification transport is set (the option's name, or
None when neither is set) and whether queues are durable
(``[oslo_messaging_rabbit] amqp_durable_queues`` or
``rabbit_quorum_queue``)."""

Agent = collections.namedtuple('Agent', 'connection coordination')
"""Whether the agent's own options are set: ``[host_status_notifier]
connection`` and ``[coordination] backend_url``."""

_FORMAT_FIX = ('set [notifications] notification_format = versioned (or '
               'both, if something else reads the unversioned ones) in '
               "the nova.conf of every Nova service that changes a "
               "compute service (nova-api, nova-compute, nova-conductor), "
               'and restart them')
_DRIVER_FIX = ('set [oslo_messaging_notifications] driver = messagingv2 '
               '(and transport_url, if notifications go to another broker '
               'than RPC) in the same nova.conf files, and restart those '
               'services')
_DURABLE_FIX = ('set [oslo_messaging_rabbit] amqp_durable_queues = true '
                'for every party of the broker: Nova, the agent, '
                'Ceilometer and Aodh (a queue that exists with the other '
                'durability must be deleted first: RabbitMQ refuses to '
                'declare it again, PRECONDITION_FAILED)')
_CONNECTION_FIX = ('set [host_status_notifier] connection, the database '
                   'every agent shares, in the agent\'s configuration file '
                   '(and give that file to check with --config-file)')
_POLICY_FIX = ('if owners are to be told, let members of a project see '
               'host_status: os_compute_api:servers:show:host_status (every '
               'value) or os_compute_api:servers:show:host_status:'
               'unknown-only (UNKNOWN alone); see the policy row')


def check_notifications(messaging, agent=None, member_sees=None):
    """What the agent needs of Nova's configuration.

    :param messaging: a :class:`Messaging`, read from nova.conf.
    :param agent: an :class:`Agent`, or None when the agent's options were
        not read.
    :param member_sees: the decision for a member of a server's project
        (``all``, ``unknown-only`` or ``none``), or None when unknown: the
        agent tells an owner what such a member may see.
    """
    found = result.Findings(NOTIFICATIONS)
    fmt = messaging.notification_format
    if fmt in VERSIONED_FORMATS:
        found.note('[notifications] notification_format = %s: Nova sends '
                   'its versioned service.update' % fmt)
    else:
        found.problem(
            result.Code.WARNING,
            '[notifications] notification_format = %s: Nova sends no '
            'versioned service.update, so the agent learns of force-down, '
            'unset, disable and enable only from its scans, up to '
            '[host_status_notifier] scan_interval later' % fmt,
            _FORMAT_FIX)
    drivers = list(messaging.drivers)
    sending = [name for name in drivers if name in MESSAGING_DRIVERS]
    if sending:
        found.note('[oslo_messaging_notifications] driver = %s'
                   % ', '.join(drivers))
    elif not drivers:
        found.problem(
            result.Code.WARNING,
            '[oslo_messaging_notifications] driver is not set: Nova sends '
            'no notification to the broker', _DRIVER_FIX)
    else:
        found.problem(
            result.Code.WARNING,
            '[oslo_messaging_notifications] driver = %s: none of them '
            'sends to the broker (%s do)' % (', '.join(drivers),
                                             ' or '.join(MESSAGING_DRIVERS)),
            _DRIVER_FIX)
    if messaging.transport:
        found.note('notification transport: %s' % messaging.transport)
    else:
        found.problem(
            result.Code.WARNING,
            'no transport_url ([oslo_messaging_notifications] or '
            '[DEFAULT]): oslo.messaging would use a broker on localhost',
            'set [DEFAULT] transport_url (or [oslo_messaging_notifications] '
            'transport_url) to the broker Nova, the agent and Ceilometer '
            'share')
    if messaging.durable:
        found.note('queues are durable: Nova\'s messages and the agent\'s '
                   'outlive a broker restart; Ceilometer and Aodh must '
                   'declare theirs durable too')
    else:
        found.problem(
            result.Code.WARNING,
            '[oslo_messaging_rabbit] amqp_durable_queues is false: a broker '
            'restart loses the messages waiting in the queues', _DURABLE_FIX)
    if agent is not None:
        if not agent.connection:
            found.problem(
                result.Code.WARNING,
                '[host_status_notifier] connection is not set: the agent '
                'does not start', _CONNECTION_FIX)
        if agent.coordination:
            found.note('[coordination] backend_url is set: the agents share '
                       'the scans of hosts')
        else:
            found.note('[coordination] backend_url is not set: every agent '
                       'scans every host (each change is still told once)')
    if member_sees is not None:
        if member_sees == 'none':
            found.problem(
                result.Code.WARNING,
                'a member of a server\'s project sees no host_status under '
                'this policy (as under Nova\'s default rule, administrators '
                'alone), so the agent tells owners nothing', _POLICY_FIX)
        else:
            found.note('a member of a server\'s project sees: %s; the agent '
                       'tells owners as much' % member_sees)
    return found.result()
