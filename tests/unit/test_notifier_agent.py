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

"""The agent (:mod:`nova_hoststatus.notifier.agent`) over a fake of Nova's
answers, the real store on a sqlite file and a list for the transport.
"""

import collections
import hashlib
import json
import os
import time

import fixtures
from oslo_config import cfg
import oslo_messaging
import testtools

from nova_hoststatus.notifier import agent
from nova_hoststatus.notifier import opts
from nova_hoststatus.notifier import store
from nova_hoststatus import policy

TIMEOUT = 30.0
ALL = policy.Visibility.ALL
UNKNOWN_ONLY = policy.Visibility.UNKNOWN_ONLY
NONE = policy.Visibility.NONE

Server = collections.namedtuple('Server', 'uuid project_id user_id')


class FakeHosts(object):
    """Nova's answers (:class:`~.hosts.NovaHosts`), set by the test."""

    def __init__(self):
        self.states = {}
        self.on = collections.defaultdict(list)
        self.projects = {}
        self.fail = None
        self.asked = collections.Counter()

    def statuses(self):
        self.asked['statuses'] += 1
        if self.fail is not None:
            raise self.fail
        return dict(self.states)

    def status(self, host):
        self.asked['status'] += 1
        if self.fail is not None:
            raise self.fail
        return self.states.get(host)

    def servers(self, host):
        return list(self.on[host])

    def visibility(self, project_id):
        self.asked['visibility'] += 1
        return self.projects.get(project_id, ALL)

    @staticmethod
    def host_id(host, project_id):
        return hashlib.sha224((project_id + host).encode()).hexdigest()


class Sent(list):
    """The transport: every payload sent, or the error to raise."""

    fail = None

    def __call__(self, payload):
        if self.fail is not None:
            raise self.fail
        self.append(payload)


class Partitioner(object):
    def __init__(self, mine):
        self.mine = set(mine)

    def belongs_to_self(self, host):
        return host in self.mine


class AgentTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        tmp = self.useFixture(fixtures.TempDir()).path
        self.url = 'sqlite:///' + os.path.join(tmp, 'told.db')
        self.hosts = FakeHosts()
        self.sent = Sent()
        self.store = store.Store(self.url)
        self.addCleanup(self.store.close)
        self.agent = self.make_agent()
        self.logger = self.useFixture(fixtures.FakeLogger(
            name=agent.__name__))

    def make_agent(self, send=None, partitioner=None, hosts=None):
        return agent.Agent(hosts or self.hosts, self.store,
                           send or self.sent, TIMEOUT, partitioner)

    def put(self, host, *servers):
        for server_id, project_id in servers:
            self.hosts.on[host].append(
                Server(server_id, project_id, 'user-' + project_id))


class HostChangedTest(AgentTestCase):

    def setUp(self):
        super().setUp()
        self.hosts.states = {'c1': 'UP', 'c2': 'UP'}
        self.put('c1', ('vm-1', 'p1'), ('vm-2', 'p1'), ('vm-3', 'p2'))
        self.put('c2', ('vm-4', 'p1'))
        self.agent.host_changed('c1')  # first sight: nothing to tell

    def test_first_sight_tells_nothing(self):
        self.assertEqual([], self.sent)
        self.assertEqual({'c1': ('UP', True)}, self.store.told())

    def test_each_server_told_once_with_its_payload(self):
        self.hosts.states['c1'] = 'DOWN'
        self.agent.host_changed('c1')
        self.assertEqual(['vm-1', 'vm-2', 'vm-3'],
                         [p['server_id'] for p in self.sent])
        first = self.sent[0]
        self.assertEqual({
            'server_id': 'vm-1', 'project_id': 'p1', 'user_id': 'user-p1',
            'host_id': FakeHosts.host_id('c1', 'p1'),
            'old_host_status': 'UP', 'host_status': 'DOWN',
            'changed_at': first['changed_at']}, first)
        self.assertEqual(FakeHosts.host_id('c1', 'p2'),
                         self.sent[2]['host_id'])
        self.assertRegex(first['changed_at'],
                         r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$')
        self.assertEqual(1, len({p['changed_at'] for p in self.sent}))
        self.assertNotIn('c1', json.dumps(list(self.sent)))
        # Nova saves the service again, nothing changed: nothing more.
        self.agent.host_changed('c1')
        self.assertEqual(3, len(self.sent))
        self.assertEqual({'c1': ('DOWN', True)}, self.store.told())

    def test_visibility_asked_once_per_project(self):
        self.hosts.states['c1'] = 'DOWN'
        self.agent.host_changed('c1')
        self.assertEqual(2, self.hosts.asked['visibility'])

    def test_another_agent_does_not_tell_it_again(self):
        self.hosts.states['c1'] = 'DOWN'
        self.agent.host_changed('c1')
        other_sent = Sent()
        self.make_agent(send=other_sent).host_changed('c1')
        self.assertEqual(0, self.make_agent(send=other_sent).scan())
        self.assertEqual([], other_sent)
        self.assertEqual(3, len(self.sent))

    def test_a_host_without_a_compute_service(self):
        self.agent.host_changed('gone')
        self.assertEqual([], self.sent)
        self.assertNotIn('gone', self.store.told())

    def test_a_host_without_servers(self):
        self.agent.host_changed('c2')
        self.hosts.on['c2'] = []
        self.hosts.states['c2'] = 'MAINTENANCE'
        self.agent.host_changed('c2')
        self.assertEqual([], self.sent)
        self.assertEqual(('MAINTENANCE', True), self.store.told()['c2'])

    def test_project_with_no_visibility_gets_nothing(self):
        self.hosts.projects['p1'] = NONE
        self.hosts.states['c1'] = 'UNKNOWN'
        self.agent.host_changed('c1')
        self.assertEqual([('vm-3', 'UP', 'UNKNOWN')],
                         [(p['server_id'], p['old_host_status'],
                           p['host_status']) for p in self.sent])

    def test_unknown_only_is_told_only_to_and_from_unknown(self):
        self.hosts.projects['p1'] = UNKNOWN_ONLY
        told = []
        for value in ('DOWN', 'UNKNOWN', 'MAINTENANCE', 'UP', 'UNKNOWN',
                      'UP'):
            self.hosts.states['c1'] = value
            self.agent.host_changed('c1')
            told.append([(p['server_id'], p['old_host_status'],
                          p['host_status']) for p in self.sent
                         if p['project_id'] == 'p1'])
            del self.sent[:]
        self.assertEqual([
            [],
            [('vm-1', None, 'UNKNOWN'), ('vm-2', None, 'UNKNOWN')],
            [('vm-1', 'UNKNOWN', None), ('vm-2', 'UNKNOWN', None)],
            [],
            [('vm-1', None, 'UNKNOWN'), ('vm-2', None, 'UNKNOWN')],
            [('vm-1', 'UNKNOWN', None), ('vm-2', 'UNKNOWN', None)],
        ], told)

    def test_a_failed_send_releases_the_claim(self):
        self.hosts.states['c1'] = 'DOWN'
        self.sent.fail = RuntimeError('transport gone')
        self.assertRaises(RuntimeError, self.agent.host_changed, 'c1')
        self.assertEqual(('DOWN', False), self.store.told()['c1'])
        self.sent.fail = None
        # At once, not after claim_timeout.
        self.agent.host_changed('c1')
        self.assertEqual(3, len(self.sent))
        self.assertEqual(('UP', 'DOWN'), (self.sent[0]['old_host_status'],
                                          self.sent[0]['host_status']))
        self.assertEqual(('DOWN', True), self.store.told()['c1'])

    def test_a_failed_read_of_nova_raises(self):
        self.hosts.fail = RuntimeError('cell database gone')
        self.assertRaises(RuntimeError, self.agent.host_changed, 'c1')


class ScanTest(AgentTestCase):

    def setUp(self):
        super().setUp()
        self.hosts.states = {'c1': 'UP', 'c2': 'UP', 'c3': 'DOWN'}
        self.put('c1', ('vm-1', 'p1'))
        self.put('c2', ('vm-2', 'p2'))
        self.put('c3', ('vm-3', 'p1'))

    def told(self):
        return sorted((p['server_id'], p['old_host_status'],
                       p['host_status']) for p in self.sent)

    def test_first_scan_records_every_host_and_tells_nothing(self):
        self.assertEqual(0, self.agent.scan())
        self.assertEqual([], self.sent)
        self.assertEqual({'c1': ('UP', True), 'c2': ('UP', True),
                          'c3': ('DOWN', True)}, self.store.told())

    def test_scan_tells_the_changes(self):
        self.agent.scan()
        self.hosts.states.update(c1='UNKNOWN', c3='UP')
        self.assertEqual(2, self.agent.scan())
        self.assertEqual([('vm-1', 'UP', 'UNKNOWN'), ('vm-3', 'DOWN', 'UP')],
                         self.told())
        self.assertEqual(0, self.agent.scan())
        self.assertEqual(2, len(self.sent))

    def test_scan_skips_hosts_of_other_agents(self):
        mine = self.make_agent(partitioner=Partitioner({'c1', 'c3'}))
        theirs = self.make_agent(partitioner=Partitioner({'c2'}))
        mine.scan()
        self.assertNotIn('c2', self.store.told())
        theirs.scan()
        self.hosts.states.update(c1='DOWN', c2='DOWN', c3='UP')
        self.assertEqual(2, mine.scan())
        self.assertEqual([('vm-1', 'UP', 'DOWN'), ('vm-3', 'DOWN', 'UP')],
                         self.told())
        self.assertEqual(1, theirs.scan())
        self.assertEqual(3, len(self.sent))

    def test_a_failed_send_is_told_again_by_the_next_scan(self):
        self.agent.scan()
        self.hosts.states['c1'] = 'DOWN'
        self.sent.fail = RuntimeError('transport gone')
        self.assertEqual(0, self.agent.scan())
        self.assertIn('Could not tell the change of a host',
                      self.logger.output)
        self.assertEqual(('DOWN', False), self.store.told()['c1'])
        self.sent.fail = None
        self.assertEqual(1, self.agent.scan())
        self.assertEqual([('vm-1', 'UP', 'DOWN')], self.told())
        self.assertEqual(0, self.agent.scan())

    def test_one_failed_host_does_not_stop_the_others(self):
        self.agent.scan()
        self.hosts.states.update(c1='DOWN', c2='DOWN')
        calls = []

        def send(payload):
            calls.append(payload['server_id'])
            if payload['server_id'] == 'vm-1':
                raise RuntimeError('refused')
            self.sent.append(payload)

        self.assertEqual(1, self.make_agent(send=send).scan())
        self.assertEqual(['vm-1', 'vm-2'], calls)
        self.assertEqual([('vm-2', 'UP', 'DOWN')], self.told())

    def test_a_change_owned_by_a_live_agent_is_left_to_it(self):
        self.agent.scan()
        self.hosts.states['c1'] = 'DOWN'
        # Another agent claimed it and is still sending.
        self.assertIsNotNone(self.store.claim('c1', lambda: 'DOWN', TIMEOUT))
        self.assertEqual(0, self.agent.scan())
        self.assertEqual([], self.sent)

    def test_a_failed_read_of_nova_raises_from_scan(self):
        self.hosts.fail = RuntimeError('cell database gone')
        self.assertRaises(RuntimeError, self.agent.scan)


class Notification(object):
    """Nova's versioned ``service.update`` payload."""

    @staticmethod
    def of(host, binary='nova-compute', **data):
        data.update(host=host, binary=binary)
        return {'nova_object.name': 'ServiceStatusPayload',
                'nova_object.namespace': 'nova',
                'nova_object.version': '1.1',
                'nova_object.data': data}


class ServiceUpdatesTest(AgentTestCase):

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.MonkeyPatch(
            'nova_hoststatus.notifier.agent.REQUEUE_PAUSE', 0))
        self.hosts.states = {'c1': 'UP'}
        self.put('c1', ('vm-1', 'p1'))
        self.endpoint = agent.ServiceUpdates(self.agent)
        self.agent.scan()

    def info(self, payload):
        return self.endpoint.info({}, 'nova-compute:c1', 'service.update',
                                  payload, {'message_id': 'm1'})

    def test_filter_rule(self):
        rule = agent.ServiceUpdates.filter_rule
        self.assertTrue(rule.match({}, 'nova-compute:c1', 'service.update',
                                   {}, {}))
        self.assertFalse(rule.match({}, 'nova-compute:c1',
                                    'service.update.start', {}, {}))
        self.assertFalse(rule.match({}, 'nova-compute:c1',
                                    'instance.update', {}, {}))

    def test_a_change_is_told_and_handled(self):
        self.hosts.states['c1'] = 'DOWN'
        self.assertEqual(oslo_messaging.NotificationResult.HANDLED,
                         self.info(Notification.of('c1', forced_down=True)))
        self.assertEqual([('vm-1', 'UP', 'DOWN')],
                         [(p['server_id'], p['old_host_status'],
                           p['host_status']) for p in self.sent])

    def test_nothing_changed_is_handled(self):
        self.assertEqual(oslo_messaging.NotificationResult.HANDLED,
                         self.info(Notification.of('c1')))
        self.assertEqual([], self.sent)

    def test_other_binaries_are_ignored(self):
        self.hosts.states['c1'] = 'DOWN'
        read_before = self.hosts.asked['status']
        for payload in (Notification.of('c1', binary='nova-scheduler'),
                        Notification.of('c1', binary='nova-conductor'),
                        Notification.of(None), Notification.of(''), {}):
            self.assertEqual(oslo_messaging.NotificationResult.HANDLED,
                             self.info(payload))
        self.assertEqual(read_before, self.hosts.asked['status'])
        self.assertEqual([], self.sent)

    def test_a_failure_requeues(self):
        self.hosts.states['c1'] = 'DOWN'
        self.sent.fail = RuntimeError('transport gone')
        self.assertEqual(oslo_messaging.NotificationResult.REQUEUE,
                         self.info(Notification.of('c1')))
        self.assertIn('goes back to the queue', self.logger.output)
        # The message comes back: the change is told then.
        self.sent.fail = None
        self.assertEqual(oslo_messaging.NotificationResult.HANDLED,
                         self.info(Notification.of('c1')))
        self.assertEqual(1, len(self.sent))

    def test_a_failed_read_of_nova_requeues(self):
        self.hosts.fail = RuntimeError('cell database gone')
        self.assertEqual(oslo_messaging.NotificationResult.REQUEUE,
                         self.info(Notification.of('c1')))

    def test_the_pause_before_requeue(self):
        pauses = []
        self.useFixture(fixtures.MonkeyPatch(
            'nova_hoststatus.notifier.agent.REQUEUE_PAUSE', 0.25))
        self.useFixture(fixtures.MonkeyPatch(
            'nova_hoststatus.notifier.agent.time.sleep', pauses.append))
        self.hosts.fail = RuntimeError('cell database gone')
        self.info(Notification.of('c1'))
        self.assertEqual([0.25], pauses)


class MemberIdTest(testtools.TestCase):

    def test_unique_per_process_and_bytes(self):
        first, second = agent.member_id(), agent.member_id()
        self.assertIsInstance(first, bytes)
        self.assertNotEqual(first, second)


class FakeCoordinator(object):
    def __init__(self):
        self.calls = []
        self.fail = None

    def run_watchers(self):
        self.calls.append('run_watchers')
        if self.fail is not None:
            raise self.fail

    def leave_partitioned_group(self, partitioner):
        self.calls.append('leave')

    def stop(self):
        self.calls.append('stop')


class ServiceTest(AgentTestCase):
    """The running agent on oslo.messaging's in-memory transport."""

    def setUp(self):
        super().setUp()
        self.hosts.states = {'c1': 'UP'}
        self.put('c1', ('vm-1', 'p1'))
        self.conf = cfg.ConfigOpts()
        self.conf.register_opts(
            [cfg.ListOpt('versioned_notifications_topics',
                         default=['versioned_notifications'])],
            group='notifications')
        opts.register(self.conf)
        self.conf([], project='nova-hoststatus-tests')
        # Never a scan of its own during a test: only the one of start().
        self.conf.set_override('scan_interval', 3600,
                               group='host_status_notifier')
        self.transport = oslo_messaging.get_notification_transport(
            self.conf, url='fake:/')
        self.addCleanup(self.transport.cleanup)

    def service(self, **kwargs):
        return agent.Service(self.conf, self.agent, self.transport,
                             **kwargs)

    def test_start_records_the_hosts_and_stop_stops(self):
        service = self.service()
        service.start()
        self.assertEqual({'c1': ('UP', True)}, self.store.told())
        service.stop()
        self.assertEqual([], self.sent)

    def test_a_failed_scan_is_logged_not_raised(self):
        self.hosts.fail = RuntimeError('cell database gone')
        service = self.service()
        service._scan_once()
        self.assertIn('Scan of Nova\'s compute services failed',
                      self.logger.output)
        self.hosts.fail = None
        self.hosts.states['c1'] = 'DOWN'
        service._scan_once()
        self.assertEqual({'c1': ('DOWN', True)}, self.store.told())

    def test_a_failed_store_is_logged_not_raised(self):
        service = self.service()
        self.useFixture(fixtures.MonkeyPatch(
            'nova_hoststatus.notifier.store.Store.told',
            lambda self: 1 / 0))
        service._scan_once()
        self.assertIn('ZeroDivisionError', self.logger.output)

    def test_nova_s_service_update_through_the_transport(self):
        service = self.service()
        service.start()
        self.addCleanup(service.stop)
        self.hosts.states['c1'] = 'DOWN'
        nova = oslo_messaging.Notifier(
            self.transport, publisher_id='nova-compute:c1',
            driver='messagingv2', topics=['versioned_notifications'])
        nova.info({}, 'service.update', Notification.of('c1'))
        for _ in range(500):
            if self.sent:
                break
            time.sleep(0.01)
        self.assertEqual([('vm-1', 'UP', 'DOWN')],
                         [(p['server_id'], p['old_host_status'],
                           p['host_status']) for p in self.sent])

    def test_scans_run_the_coordinator_watchers(self):
        coordinator = FakeCoordinator()
        partitioner = Partitioner({'c1'})
        service = self.service(coordinator=coordinator,
                               partitioner=partitioner)
        service.start()
        service._scan_once()
        service.stop()
        self.assertEqual(['run_watchers', 'run_watchers', 'leave', 'stop'],
                         coordinator.calls)

    def test_a_failed_coordinator_does_not_stop_the_scans(self):
        coordinator = FakeCoordinator()
        coordinator.fail = RuntimeError('tooz backend gone')
        service = self.service(coordinator=coordinator,
                               partitioner=Partitioner({'c1'}))
        service._scan_once()
        self.assertIn('tooz backend gone', self.logger.output)
        # The scan still ran on the partition known: each change is still
        # told once through the store.
        self.assertEqual({'c1': ('UP', True)}, self.store.told())

    def test_the_scanner_thread_survives_a_failed_coordinator(self):
        coordinator = FakeCoordinator()
        self.conf.set_override('scan_interval', 0.5,
                               group='host_status_notifier')
        service = self.service(coordinator=coordinator,
                               partitioner=Partitioner({'c1'}))
        service.start()
        self.addCleanup(service.stop)
        coordinator.fail = RuntimeError('tooz backend gone')
        self.hosts.states['c1'] = 'DOWN'
        for _ in range(500):
            if self.sent:
                break
            time.sleep(0.01)
        coordinator.fail = None
        self.assertEqual([('vm-1', 'UP', 'DOWN')],
                         [(p['server_id'], p['old_host_status'],
                           p['host_status']) for p in self.sent])
        self.assertTrue(service._scanner.is_alive())
