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

"""The agent: Nova's notifications and scans in, one notification per
server out, each change told once.

A change of a host is looked at from two sides: Nova's ``service.update``
(force-down, unset, disable, enable, from any API or ``nova-manage``),
from a queue every agent shares, so each of Nova's messages reaches one
agent and is acknowledged only after the change is told; and a scan of
Nova's compute services every ``scan_interval``, for what Nova sends
nothing about (heartbeats), shared between agents by a tooz partitioner.
Either way the host's status is read afresh from Nova and claimed in the
store; only the claim's winner tells it.
"""

import logging
import socket
import threading
import time
import uuid

import oslo_messaging

from nova_hoststatus.notifier import changes

LOG = logging.getLogger(__name__)
COMPUTE = 'nova-compute'
# After a failure, the wait before a message goes back to the queue, so
# that a lost database does not become a busy loop.
REQUEUE_PAUSE = 1.0


class Agent(object):
    """Tells the changes of hosts' host_status to their servers' owners.

    :param hosts: Nova's answers (:class:`~.hosts.NovaHosts`).
    :param store: the told states (:class:`~.store.Store`).
    :param send: ``send(payload)`` sends one notification.
    :param claim_timeout: see the option of the same name.
    :param partitioner: a tooz partitioner, or None to scan every host.
    """

    def __init__(self, hosts, store, send, claim_timeout,
                 partitioner=None):
        self._hosts = hosts
        self._store = store
        self._send = send
        self._claim_timeout = claim_timeout
        self._partitioner = partitioner

    def host_changed(self, host):
        """Nova says ``host``'s service was saved: tell what changed."""
        self._look(host)

    def scan(self):
        """Tell every change of the hosts this agent scans.

        Returns the number of changes told. Hosts whose state differs from
        the one last told are read again, one by one, under their lock:
        telling the others may take seconds, in which the first reading
        grows old.
        """
        told = self._store.told()
        count = 0
        for host, observed in sorted(self._hosts.statuses().items()):
            if told.get(host) == (observed, True) or not self._mine(host):
                continue
            try:
                count += self._look(host)
            except Exception:
                LOG.exception('Could not tell the change of a host; the '
                              'next scan tries again.')
        return count

    def _mine(self, host):
        if self._partitioner is None:
            return True
        return self._partitioner.belongs_to_self(host)

    def _look(self, host):
        change = self._store.claim(
            host, lambda: self._hosts.status(host), self._claim_timeout)
        if change is None:
            return 0
        try:
            self._tell(change)
        except Exception:
            self._store.release(change)
            raise
        self._store.delivered(change)
        return 1

    def _tell(self, change):
        servers = self._hosts.servers(change.host)
        visibility = {}
        sent = 0
        for server in servers:
            project = server.project_id
            if project not in visibility:
                visibility[project] = self._hosts.visibility(project)
            seen = changes.visible_change(visibility[project], change.old,
                                          change.new)
            if seen is None:
                continue
            self._send(changes.payload(
                server, self._hosts.host_id(change.host, project), seen,
                change.changed_at))
            sent += 1
        LOG.info('host_status %s -> %s on a host with %d server(s): %d '
                 'notification(s) sent.', change.old, change.new,
                 len(servers), sent)


class ServiceUpdates(object):
    """Endpoint for Nova's versioned ``service.update``."""

    filter_rule = oslo_messaging.NotificationFilter(
        event_type=r'^service\.update$')

    def __init__(self, agent):
        self._agent = agent

    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        data = payload.get('nova_object.data', {})
        if data.get('binary') != COMPUTE or not data.get('host'):
            return oslo_messaging.NotificationResult.HANDLED
        try:
            self._agent.host_changed(data['host'])
        except Exception:
            LOG.exception('Could not tell a change of a host; Nova\'s '
                          'notification goes back to the queue.')
            time.sleep(REQUEUE_PAUSE)
            return oslo_messaging.NotificationResult.REQUEUE
        return oslo_messaging.NotificationResult.HANDLED


class Service(object):
    """The running agent: Nova's queue, the scans, and their stop."""

    def __init__(self, conf, agent, transport, coordinator=None,
                 partitioner=None):
        self._agent = agent
        self._coordinator = coordinator
        self._partitioner = partitioner
        options = conf.host_status_notifier
        targets = [oslo_messaging.Target(topic=topic,
                                         exchange=conf.control_exchange)
                   for topic in
                   conf.notifications.versioned_notifications_topics]
        self._listener = oslo_messaging.get_notification_listener(
            transport, targets, [ServiceUpdates(agent)],
            executor='threading', pool=options.queue, allow_requeue=True)
        self._interval = options.scan_interval
        self._stopping = threading.Event()
        self._scanner = threading.Thread(target=self._scan_forever,
                                         name='host-scan', daemon=True)

    def start(self):
        # One scan first: hosts seen now are recorded, not told.
        self._scan_once()
        self._listener.start()
        self._scanner.start()

    def _scan_once(self):
        if self._coordinator is not None:
            try:
                self._coordinator.run_watchers()
            except Exception:
                # The partition last known still splits the hosts; the
                # store keeps each change told once whoever scans it.
                LOG.exception('The coordination backend failed; this scan '
                              'keeps the partition last known.')
        try:
            self._agent.scan()
        except Exception:
            LOG.exception('Scan of Nova\'s compute services failed; the '
                          'next one tries again.')

    def _scan_forever(self):
        while not self._stopping.wait(self._interval):
            self._scan_once()

    def stop(self):
        """Stop taking messages, finish the ones taken, leave the group."""
        self._stopping.set()
        self._listener.stop()
        self._listener.wait()
        self._scanner.join()
        if self._coordinator is not None:
            if self._partitioner is not None:
                self._coordinator.leave_partitioned_group(self._partitioner)
            self._coordinator.stop()


def sender(transport, topics):
    """``send(payload)``: one ``hoststatus.server.update`` on ``topics``
    of ``transport``, in its configured exchange (Nova's, where Ceilometer
    listens); the publisher names no host.
    """
    notifier = oslo_messaging.Notifier(
        transport, publisher_id=changes.PUBLISHER_ID, driver='messagingv2',
        topics=topics)

    def send(payload):
        notifier.info({}, changes.EVENT_TYPE, payload)
    return send


def member_id():
    """This agent's name in the tooz group: unique per process."""
    return ('%s-%s' % (socket.gethostname(), uuid.uuid4().hex[:8])).encode()
