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

"""``nova-hoststatus notifier`` end to end: what a server's owner is told.

Real agent processes (:class:`telemetry.NotifierAgent`) read the sandbox's
Nova (its databases, and a policy file of their own) and consume Nova's
versioned ``service.update`` from the chain's RabbitMQ; what they send goes
through Ceilometer and Aodh to the Doctor consumer of the owners' event
alarms, made with each owner's own Keystone token.  Hosts change the way
an operator changes them: force-down, unset and disable through the compute
API (2.11 and 2.53), and heartbeats that stop or come back behind Nova's
back (only the agents' scans find those).

Every assertion is about what an owner receives: one post per server of
its own on the host, per change, with the old and new host_status, the
server and the ``hostId`` the owner reads in the API, and no host name;
nothing for another project's alarm, nothing under Nova's default policy,
nothing twice with two agents, nothing lost over a broker restart or when
one agent dies.  The measured delays (from the API call, or the write
behind Nova's back, to the consumer's post) go to stderr and the tests'
details.
"""

import json
import os
import shutil
import sys
import tempfile
import threading
import time
import uuid

import testtools
from testtools import content

from nova_hoststatus.notifier import changes
from nova_hoststatus.notifier import store as store_module
from nova_hoststatus.tools import sandbox as sandbox_module
from nova_hoststatus.tools import telemetry
from tests.telemetry import base

# Lets a member of the server's project see host_status (Nova's default is
# admins only).
OWNER_RULES = {'os_compute_api:servers:show:host_status':
               'rule:admin_or_owner'}
SCAN_INTERVAL = 1.0
CLAIM_TIMEOUT = 10.0
# tooz's file driver forgets a member that has not beaten for this long.
MEMBER_TIMEOUT = 3
# The queue every agent shares on Nova's versioned notifications.
QUEUE = 'nova-hoststatus'
# Their tooz group ([host_status_notifier] coordination_group).
GROUP = 'nova-hoststatus-notifier'
# From a change to the owner's post, on a loaded 2-core test machine (the
# figures are printed; Doctor's budget, 1 s, is the chain's test's).
DELIVERY_TIMEOUT = 30
# How long a post that should not come (a duplicate, another project's,
# one the policy forbids) is waited for.
SILENCE = 3
# Until an agent has seen a new host (the first look records, not tells).
RECORD_TIMEOUT = 30
# An agent killed: its hosts are scanned by the other once tooz forgets
# it (scan_interval + MEMBER_TIMEOUT + sending, about 5 s); a generous
# bound for a loaded machine.
TAKEOVER_BOUND = 30
RESTART_TIMEOUT = 120
# A heartbeat this old is stale for the sandbox's Nova (service_down_time
# 3600 s): UNKNOWN.
STALE = 2 * sandbox_module.SERVICE_DOWN_TIME


def unique(prefix):
    return '%s-%s' % (prefix, uuid.uuid4().hex[:12])


def log(message):
    print('notifier: %s' % message, file=sys.stderr, flush=True)


class Owner(object):
    """A project and one of its members, with an event alarm of theirs."""

    def __init__(self, sandbox, label):
        self.sandbox = sandbox
        self.project = sandbox.project_id(unique(label + '-project'))
        self.user = sandbox.user_id(unique(label + '-user'))

    def token(self):
        return self.sandbox.token(self.project, self.user, ['member'])


class NotifierTestCase(testtools.TestCase):
    """Agents of their own per class, on the process's chain and Nova."""

    rules = OWNER_RULES
    agent_count = 1
    coordination = False

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = base.environment()
        cls.sandbox, cls.chain = env.sandbox, env.chain
        cls.path = tempfile.mkdtemp(prefix='nova-hoststatus-notifier-test-')
        cls.agents, cls.hosts, cls.servers = [], [], []
        cls.consumer = telemetry.Consumer()
        cls.consumer.start()
        cls.store = None
        try:
            cls.config_dir = cls.sandbox.config_dir(
                os.path.join(cls.path, 'nova'), cls.rules)
            cls.store_url = 'sqlite:///%s' % os.path.join(cls.path,
                                                          'store.sqlite')
            cls.coordination_url = None
            if cls.coordination:
                cls.coordination_url = 'file://%s?timeout=%d' % (
                    os.path.join(cls.path, 'tooz'), MEMBER_TIMEOUT)
            # The table, before the agents: the test reads it too.
            cls.store = store_module.Store(cls.store_url)
            cls.admin_project = cls.sandbox.project_id(unique('admin'))
            cls.admin_user = cls.sandbox.user_id(unique('admin-user'))
            cls.agents = [cls.new_agent(number)
                          for number in range(cls.agent_count)]
            started = time.monotonic()
            cls.start_agents(cls.agents)
            log('%s: %d agent(s) started in %.1f s'
                % (cls.__name__, len(cls.agents),
                   time.monotonic() - started))
        except Exception:
            cls._clean()
            raise

    @classmethod
    def new_agent(cls, number):
        return telemetry.NotifierAgent(
            os.path.join(cls.path, 'agent-%d' % number), cls.config_dir,
            cls.store_url, coordination_url=cls.coordination_url,
            scan_interval=SCAN_INTERVAL, claim_timeout=CLAIM_TIMEOUT)

    @staticmethod
    def start_agents(agents):
        """Start ``agents`` at once; return once each listens."""
        errors = []

        def start(agent):
            try:
                agent.start()
            except Exception as exc:
                errors.append(exc)

        threads = [threading.Thread(target=start, args=(agent,))
                   for agent in agents]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]

    @classmethod
    def _clean(cls):
        for agent in cls.agents:
            agent.stop()
        cls.consumer.stop()
        if cls.store is not None:
            cls.store.close()
        shutil.rmtree(cls.path, ignore_errors=True)

    @classmethod
    def tearDownClass(cls):
        for agent in cls.agents:
            agent.stop()
        for server in cls.servers:
            cls.sandbox.delete_server(server)
        for host in cls.hosts:
            cls.sandbox.delete_host(host)
        cls._clean()
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        self.figures = []
        self.addCleanup(self._details)

    def _details(self):
        if self.figures:
            self.addDetail('figures', content.text_content(
                '\n'.join(self.figures)))
        logs = [agent.log for agent in self.agents]
        self.addDetail('agent logs', content.text_content(
            ' '.join(logs)))

    def figure(self, message):
        self.figures.append(message)
        log('%s: %s' % (self.id().rsplit('.', 1)[-1], message))

    # Nova

    @classmethod
    def host(cls):
        """A new compute host, up: (name, service UUID)."""
        host = unique('compute')
        service = cls.sandbox.create_host(host)
        cls.hosts.append(host)
        return host, service

    @classmethod
    def server(cls, owner, host):
        """A server of ``owner``'s on ``host``: (UUID, the hostId its owner
        reads in the compute API).
        """
        server = cls.sandbox.create_server(owner.project, owner.user, host)
        cls.servers.append(server)
        result = cls.sandbox.request(
            'GET', '/servers/%s' % server, owner.project, owner.user,
            token=owner.token())
        if result.status != 200 or not result.json['server'].get('hostId'):
            raise AssertionError('the owner reads no hostId: %s' % result)
        return server, result.json['server']['hostId']

    def admin(self, method, path, body, version):
        """An admin's call to the compute API; the monotonic time it was
        made.
        """
        made = time.monotonic()
        result = self.sandbox.request(
            method, path, self.admin_project, self.admin_user,
            roles=sandbox_module.ADMIN_ROLES, version=version, body=body)
        self.assertEqual(200, result.status, result)
        return made

    def force_down(self, host, service, forced, form='2.53'):
        path, body = sandbox_module.force_down_request(form, host, service,
                                                       forced)
        return self.admin('PUT', path, body, form)

    def disable(self, service, disabled):
        body = ({'status': 'disabled', 'disabled_reason': 'maintenance'}
                if disabled else {'status': 'enabled'})
        return self.admin('PUT', '/os-services/%s' % service, body, '2.53')

    def heartbeat(self, host, age):
        """Behind Nova's back: no service.update, only a scan finds it."""
        made = time.monotonic()
        self.sandbox.set_heartbeat(host, age)
        return made

    # The agents' store

    def wait_told(self, hosts, status, timeout=RECORD_TIMEOUT):
        """Until the agents have ``status`` of each of ``hosts`` as told
        (a new host: recorded; from then on its changes are told).
        """
        deadline = time.monotonic() + timeout
        while True:
            told = self.store.told()
            missing = [host for host in hosts
                       if told.get(host) != (status, True)]
            if not missing:
                return
            if time.monotonic() > deadline:
                self.fail('the agents did not tell %s of %s within %d s '
                          '(store: %s); agent logs: %s'
                          % (status, missing, timeout,
                             {host: told.get(host) for host in missing},
                             [agent.log for agent in self.agents]))
            time.sleep(0.2)

    # The owner's side

    def alarm(self, owner):
        """An event alarm of ``owner``'s on every hoststatus.server.update
        of its project, made with its own token: its name.
        """
        name = unique('alarm')
        self.chain.aodh.create_event_alarm(owner.token(), name,
                                           self.consumer.url(name))
        return name

    def wait_posts(self, name, count, timeout=DELIVERY_TIMEOUT):
        calls = self.consumer.wait_for(count, timeout, name=name)
        if len(calls) < count:
            self.fail('%d of %d posts to the consumer of alarm %s within '
                      '%d s; chain logs under %s, agent logs %s'
                      % (len(calls), count, name, timeout, self.chain.path,
                         [agent.log for agent in self.agents]))
        return calls

    def assertTold(self, calls, owner, servers, old, new, hosts):
        """``calls`` are one post per server of ``servers`` ({UUID:
        hostId}), of ``owner``'s, telling ``old`` -> ``new``, with no name
        of ``hosts`` anywhere.
        """
        seen = []
        for call in calls:
            body = call['body']
            self.assertEqual('alarm', body['current'])
            event = body['reason_data']['event']
            self.assertEqual(changes.EVENT_TYPE, event['event_type'])
            traits = telemetry.traits(body)
            seen.append(traits['server_id'])
            self.assertIn(traits['server_id'], servers)
            self.assertEqual(servers[traits['server_id']], traits['host_id'])
            self.assertEqual(old, traits['old_host_status'])
            self.assertEqual(new, traits['host_status'])
            self.assertEqual(owner.project, traits['project_id'])
            self.assertEqual(owner.project, traits['tenant_id'])
            self.assertEqual(owner.user, traits['user_id'])
            self.assertIn('changed_at', traits)
            text = json.dumps(body)
            for host in hosts:
                self.assertNotIn(host, text)
        self.assertEqual(sorted(servers), sorted(seen))


class TestOwnerIsTold(NotifierTestCase):
    """One agent; the owner's rule lets members see host_status."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            # A project whose server is on a host that never changes: its
            # alarm on the same event type never fires.
            cls.bystander = Owner(cls.sandbox, 'bystander')
            host, _ = cls.host()
            cls.server(cls.bystander, host)
            cls.bystander_host = host
        except Exception:
            cls.tearDownClass()
            raise

    def changes(self, steps):
        """Run ``steps`` ((label, change(host, service) -> monotonic time
        made, old, new)) on a new host with two servers of the owner's and
        one of another project's; each step tells each project of its own
        servers only, once.
        """
        owner = Owner(self.sandbox, 'owner')
        other = Owner(self.sandbox, 'other')
        host, service = self.host()
        mine = dict(self.server(owner, host) for _ in range(2))
        theirs = dict([self.server(other, host)])
        alarms = {'owner': self.alarm(owner), 'other': self.alarm(other),
                  'bystander': self.alarm(self.bystander)}
        self.wait_told([host, self.bystander_host], 'UP')
        hosts = [host, self.bystander_host]
        for number, (label, change, old, new) in enumerate(steps, 1):
            made = change(host, service)
            posts = self.wait_posts(alarms['owner'], 2 * number)
            self.assertTold(posts[-2:], owner, mine, old, new, hosts)
            posts = self.wait_posts(alarms['other'], number)
            self.assertTold(posts[-1:], other, theirs, old, new, hosts)
            self.figure('%s (%s -> %s): the owner\'s posts %.3f s after the '
                        'change' % (label, old, new, max(
                            call['monotonic'] for call in
                            self.consumer.calls(alarms['owner'])[-2:]) -
                            made))
        time.sleep(SILENCE)
        self.assertEqual(2 * len(steps),
                         len(self.consumer.calls(alarms['owner'])))
        self.assertEqual(len(steps),
                         len(self.consumer.calls(alarms['other'])))
        self.assertEqual([], self.consumer.calls(alarms['bystander']))

    def test_force_down_and_unset_at_2_11(self):
        self.changes([
            ('force-down 2.11', lambda host, service: self.force_down(
                host, service, True, '2.11'), 'UP', 'DOWN'),
            ('unset 2.11', lambda host, service: self.force_down(
                host, service, False, '2.11'), 'DOWN', 'UP'),
        ])

    def test_force_down_and_unset_at_2_53(self):
        self.changes([
            ('force-down 2.53', lambda host, service: self.force_down(
                host, service, True, '2.53'), 'UP', 'DOWN'),
            ('unset 2.53', lambda host, service: self.force_down(
                host, service, False, '2.53'), 'DOWN', 'UP'),
        ])

    def test_disable_and_enable_at_2_53(self):
        self.changes([
            ('disable 2.53', lambda host, service: self.disable(
                service, True), 'UP', 'MAINTENANCE'),
            ('enable 2.53', lambda host, service: self.disable(
                service, False), 'MAINTENANCE', 'UP'),
        ])

    def test_heartbeat_expiry_and_return(self):
        self.changes([
            ('heartbeat stale', lambda host, service: self.heartbeat(
                host, STALE), 'UP', 'UNKNOWN'),
            ('heartbeat fresh', lambda host, service: self.heartbeat(
                host, 0), 'UNKNOWN', 'UP'),
        ])


class TestNovaDefaultPolicy(NotifierTestCase):
    """One agent under Nova's default policy: admins only see host_status,
    so the owner is told nothing.
    """

    rules = {}

    def test_owner_told_nothing(self):
        owner = Owner(self.sandbox, 'owner')
        host, service = self.host()
        self.server(owner, host)
        name = self.alarm(owner)
        self.wait_told([host], 'UP')
        for status, change in (
                ('DOWN', lambda: self.force_down(host, service, True)),
                ('UP', lambda: self.force_down(host, service, False)),
                ('MAINTENANCE', lambda: self.disable(service, True)),
                ('UP', lambda: self.disable(service, False)),
                ('UNKNOWN', lambda: self.heartbeat(host, STALE))):
            change()
            # The agent has looked at the change, and told nobody.
            self.wait_told([host], status, timeout=DELIVERY_TIMEOUT)
        time.sleep(SILENCE)
        self.assertEqual([], self.consumer.calls(name))


class TestTwoAgents(NotifierTestCase):
    """Two agents on one store, sharing Nova's queue and, through tooz,
    the scans.
    """

    agent_count = 2
    coordination = True

    def owned_hosts(self, count):
        """``count`` new hosts, one server of a new owner's on each, and
        the owner's alarm: (owner, alarm, [(host, service, server,
        hostId)]).
        """
        owner = Owner(self.sandbox, 'owner')
        found = []
        for _ in range(count):
            host, service = self.host()
            server, host_id = self.server(owner, host)
            found.append((host, service, server, host_id))
        name = self.alarm(owner)
        self.wait_told([entry[0] for entry in found], 'UP')
        return owner, name, found

    def tell(self, owner, name, hosts, label, change, old, new, expected,
             timeout=DELIVERY_TIMEOUT):
        """Make ``change(host, service)`` on each of ``hosts``; the owner's
        alarm posts once per server; the latest delay, measured.
        """
        made = [change(host, service) for host, service, _, _ in hosts]
        posts = self.wait_posts(name, expected, timeout)
        names = [entry[0] for entry in hosts]
        self.assertTold(posts[-len(hosts):], owner,
                        {server: host_id for _, _, server, host_id in hosts},
                        old, new, names)
        delay = max(call['monotonic']
                    for call in posts[-len(hosts):]) - min(made)
        self.figure('%s on %d host(s) (%s -> %s): every post within %.3f s '
                    'of the first change' % (label, len(hosts), old, new,
                                             delay))
        return delay

    def assertOnce(self, name, expected):
        """No duplicate comes: each server's change posted once."""
        time.sleep(SILENCE)
        posts = self.consumer.calls(name)
        keys = [(telemetry.traits(call['body'])['server_id'],
                 telemetry.traits(call['body'])['old_host_status'],
                 telemetry.traits(call['body'])['host_status'])
                for call in posts]
        self.assertEqual(expected, len(posts), keys)
        self.assertEqual(len(keys), len(set(keys)), keys)

    def test_each_change_told_once(self):
        owner, name, hosts = self.owned_hosts(3)
        steps = [
            ('force-down 2.53', lambda host, service: self.force_down(
                host, service, True), 'UP', 'DOWN'),
            ('unset 2.11', lambda host, service: self.force_down(
                host, service, False, '2.11'), 'DOWN', 'UP'),
            ('heartbeat stale', lambda host, service: self.heartbeat(
                host, STALE), 'UP', 'UNKNOWN'),
            ('disable 2.53', lambda host, service: self.disable(
                service, True), 'UNKNOWN', 'MAINTENANCE'),
        ]
        for number, (label, change, old, new) in enumerate(steps, 1):
            self.tell(owner, name, hosts, label, change, old, new,
                      number * len(hosts))
        self.assertOnce(name, len(steps) * len(hosts))

    def test_broker_restart_loses_nothing(self):
        owner, name, hosts = self.owned_hosts(1)
        [(host, service, server, host_id)] = hosts
        # Nobody takes Nova's service.update: it waits in the agents'
        # durable queue over the restart.
        for agent in self.agents:
            agent.stop()
        made = self.force_down(host, service, True)
        queued = self.chain.rabbitmq.queues().get(QUEUE, (0, 0))
        self.assertGreaterEqual(queued[0], 1, queued)
        self.chain.rabbitmq.restart()
        after = self.chain.rabbitmq.queues().get(QUEUE, (0, 0))
        self.assertGreaterEqual(after[0], queued[0], after)
        self.figure('%d message(s) in %s before the broker restart, %d '
                    'after' % (queued[0], QUEUE, after[0]))
        started = time.monotonic()
        self.start_agents(self.agents)
        posts = self.wait_posts(name, 1, timeout=RESTART_TIMEOUT)
        self.assertTold(posts, owner, {server: host_id}, 'UP', 'DOWN',
                        [host])
        self.figure('over a broker restart: the owner\'s post %.1f s after '
                    'the agents started again (%.1f s after the change)'
                    % (posts[0]['monotonic'] - started,
                       posts[0]['monotonic'] - made))
        # Nova's message was taken and acknowledged.
        deadline = time.monotonic() + DELIVERY_TIMEOUT
        while self.chain.rabbitmq.queues().get(QUEUE, (0, 0))[0]:
            self.assertLess(time.monotonic(), deadline,
                            'Nova\'s service.update still waits in %s'
                            % QUEUE)
            time.sleep(0.5)
        # The chain is whole again, and tells the next change.
        self.chain.wait_until_ready()
        self.tell(owner, name, hosts, 'unset after the restart',
                  lambda host, service: self.force_down(host, service,
                                                        False),
                  'DOWN', 'UP', 2)
        self.assertOnce(name, 2)

    def members(self, count=None, timeout=RECORD_TIMEOUT):
        """The agents' tooz group, as tooz has it (once it has ``count``
        members, if given).
        """
        from tooz import coordination
        observer = coordination.get_coordinator(
            self.coordination_url, ('observer-%s' % uuid.uuid4()).encode())
        observer.start()
        try:
            deadline = time.monotonic() + timeout
            while True:
                members = set(observer.get_members(GROUP).get())
                if count is None or len(members) == count:
                    return members
                if time.monotonic() > deadline:
                    self.fail('tooz group %s has %d members, not %d, after '
                              '%d s' % (GROUP, len(members), count, timeout))
                time.sleep(0.2)
        finally:
            observer.stop()

    def test_killed_agent_taken_over(self):
        # Two hosts changed through the API (Nova's service.update, which
        # the survivor takes from the queue) and, by heartbeats, hosts of
        # either agent's to scan (tooz's partitioner: only scans find
        # those; the dead agent's are the survivor's once tooz forgets
        # the dead one).
        from tooz import hashring
        members = self.members(count=2)
        ring = hashring.HashRing(members)
        owner, name, by_api = self.owned_hosts(2)
        by_heartbeat, scanners = [], {member: [] for member in members}
        while (min(len(hosts) for hosts in scanners.values()) < 2 and
               len(by_heartbeat) < 16):
            host, service = self.host()
            server, host_id = self.server(owner, host)
            by_heartbeat.append((host, service, server, host_id))
            [member] = ring.get_nodes(host.encode())
            scanners[member].append(server)
        self.wait_told([entry[0] for entry in by_heartbeat], 'UP')
        hosts = by_api + by_heartbeat
        servers = {server: host_id for _, _, server, host_id in hosts}
        self.addCleanup(self._restart_agents)
        killed = time.monotonic()
        self.agents[0].kill()
        made = {}
        for host, service, server, _ in by_api:
            made[server] = self.force_down(host, service, True)
        for host, service, server, _ in by_heartbeat:
            made[server] = self.heartbeat(host, STALE)
        posts = self.wait_posts(name, len(hosts), timeout=TAKEOVER_BOUND)
        names = [entry[0] for entry in hosts]
        forced = {entry[2] for entry in by_api}
        delays = {}
        for call in posts:
            traits = telemetry.traits(call['body'])
            server = traits['server_id']
            new = 'DOWN' if server in forced else 'UNKNOWN'
            self.assertTold([call], owner, {server: servers[server]},
                            'UP', new, names)
            delays[server] = call['monotonic'] - made[server]
        self.assertEqual(sorted(servers), sorted(delays))
        [survivor] = self.members(count=1)
        [dead] = members - {survivor}

        def told(servers):
            return ', '.join('%.1f' % delays[server] for server in servers)

        self.figure('one agent of two killed: force-down through the API '
                    'told after %s s; stale heartbeats of the dead agent\'s '
                    'hosts after %s s, of the survivor\'s after %s s (from '
                    'the kill: %.1f s; bound %d s; scan_interval %.1f s, '
                    'tooz timeout %d s)'
                    % (told(forced), told(scanners[dead]),
                       told(scanners[survivor]),
                       max(call['monotonic'] for call in posts) - killed,
                       TAKEOVER_BOUND, SCAN_INTERVAL, MEMBER_TIMEOUT))
        self.assertTrue(scanners[dead])
        self.assertLess(max(delays.values()), TAKEOVER_BOUND)
        self.assertOnce(name, len(hosts))

    def _restart_agents(self):
        self.start_agents([agent for agent in self.agents
                           if agent.pid is None])
