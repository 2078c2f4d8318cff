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

"""Shared state over real memcached daemons, through oslo.cache's pool.

Filters (each one API worker) over the small compute API of the unit
tests, which answers at once, so that only the cache's behaviour is
measured: two clouds on one memcached, a memcached killed while two are
configured, and Nova's services listing failing for ten seconds.

Locally the tests are skipped, with the reason, when memcached is
missing; in CI (``CI=true``) that is a failure.
"""

import os
import socket
import threading
import time

import fixtures
from oslo_cache import core as cache
from oslo_config import cfg
from oslo_context import context as oslo_context
import testtools
import webob

from nova_hoststatus import middleware
from nova_hoststatus.tools import launchers
from tests.unit import fakes

OWNER_RULE = '{"os_compute_api:servers:show:host_status": ' \
             '"rule:admin_or_owner"}'
CACHE_TIME = 1.0
SOCKET_TIMEOUT = 0.5
# How late a change may show on another worker while a memcached dies:
# the refresh interval, one cache timeout, and room for a busy machine.
STALE_LIMIT = CACHE_TIME + SOCKET_TIMEOUT + 1.5
FORCE_DOWN = '/os-services/force-down'


class SharedCacheTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.tmp = self.useFixture(fixtures.TempDir()).path
        self.policy_file = os.path.join(self.tmp, 'policy.json')
        with open(self.policy_file, 'w') as f:
            f.write(OWNER_RULE)

    def memcached(self):
        try:
            daemon = launchers.Memcached()
        except launchers.Missing as exc:
            if os.environ.get('CI') == 'true':
                raise AssertionError('CI must run the shared cache tests: '
                                     '%s' % exc)
            self.skipTest(str(exc))
        daemon.start()
        self.addCleanup(lambda: daemon.running and daemon.stop())
        return daemon

    def worker(self, nova, servers, database='sqlite:///cloud-a', **paste):
        """One API worker's filter, configured as nova-api configures it.
        """
        conf = cfg.ConfigOpts()
        conf([], project='nova')
        conf.register_opt(cfg.StrOpt('connection', secret=True),
                          group='api_database')
        conf.set_override('connection', database, 'api_database')
        cache.configure(conf)
        conf.set_override('enabled', True, 'cache')
        conf.set_override('backend', 'oslo_cache.memcache_pool', 'cache')
        conf.set_override('memcache_servers', servers, 'cache')
        conf.set_override('memcache_dead_retry', 1, 'cache')
        try:
            conf.set_override('socket_timeout', SOCKET_TIMEOUT, 'cache')
        except cfg.NoSuchOptError:
            # oslo.cache before 4.0 (2025.1 and 2025.2 test with 3.x).
            conf.set_override('memcache_socket_timeout', SOCKET_TIMEOUT,
                              'cache')
        paste.setdefault('service_cache_time', str(CACHE_TIME))
        factory = middleware.filter_factory(
            {}, oslo_config_config=conf, policy_file=self.policy_file,
            **paste)
        return factory(nova)

    @staticmethod
    def request(app, path, method='GET', body=None, version='2.16',
                project='owner', roles=('member',)):
        req = webob.Request.blank(path, method=method)
        req.headers['OpenStack-API-Version'] = 'compute %s' % version
        if body is not None:
            req.json_body = body
            req.content_type = 'application/json'
        req.environ['nova.context'] = oslo_context.RequestContext(
            user_id='user', project_id=project, roles=list(roles))
        return req.get_response(app)

    def status(self, app):
        resp = self.request(app, '/servers/vm')
        self.assertEqual(200, resp.status_int, resp.text)
        return resp.json['server'].get('host_status')

    def force_down(self, app, host, down=True):
        resp = self.request(app, FORCE_DOWN, 'PUT', version='2.11',
                            body={'host': host, 'binary': 'nova-compute',
                                  'forced_down': down},
                            project='admin', roles=('admin',))
        self.assertEqual(200, resp.status_int, resp.text)

    @staticmethod
    def nova():
        nova = fakes.FakeNova()
        nova.add_service(fakes.Service('compute-1'))
        nova.add_server(fakes.server('vm', 'owner', 'compute-1'))
        return nova


class TwoCloudsTest(SharedCacheTestCase):

    def test_two_clouds_on_one_memcached_do_not_mix(self):
        servers = [self.memcached().servers]
        nova_a, nova_b = self.nova(), self.nova()
        cloud_a = self.worker(nova_a, servers, 'mysql://a.example/nova_api')
        cloud_b = self.worker(nova_b, servers, 'mysql://b.example/nova_api')
        self.assertEqual('UP', self.status(cloud_a))
        self.assertEqual('UP', self.status(cloud_b))
        self.force_down(cloud_a, 'compute-1')
        self.assertEqual('DOWN', self.status(cloud_a))
        self.assertEqual('UP', self.status(cloud_b))
        # Each cloud listed its own services.
        self.assertEqual(1, nova_a.count('GET', '/os-services'))
        self.assertEqual(1, nova_b.count('GET', '/os-services'))

    def test_workers_of_one_cloud_share(self):
        servers = [self.memcached().servers]
        nova = self.nova()
        worker_1 = self.worker(nova, servers)
        worker_2 = self.worker(nova, servers)
        self.assertEqual('UP', self.status(worker_1))
        self.assertEqual('UP', self.status(worker_2))
        self.force_down(worker_1, 'compute-1')
        self.assertEqual('DOWN', self.status(worker_2))
        self.assertEqual(1, nova.count('GET', '/os-services'))


class MemcachedKilledTest(SharedCacheTestCase):

    def test_one_of_two_memcached_killed_mid_run(self):
        """Staleness stays within service_cache_time; nothing fails."""
        first, second = self.memcached(), self.memcached()
        servers = [first.servers, second.servers]
        nova = self.nova()
        writer = self.worker(nova, servers)
        reader = self.worker(nova, servers)
        self.assertEqual('UP', self.status(reader))
        down = False
        worst = 0.0
        deadline = time.monotonic() + 6
        killed = False
        while time.monotonic() < deadline:
            if not killed and time.monotonic() > deadline - 4:
                first.stop()
                killed = True
            down = not down
            self.force_down(writer, 'compute-1', down)
            changed = time.monotonic()
            expected = 'DOWN' if down else 'UP'
            while self.status(reader) != expected:
                self.assertLess(time.monotonic() - changed, STALE_LIMIT,
                                'the reader kept the old value')
                time.sleep(0.05)
            worst = max(worst, time.monotonic() - changed)
            self.assertEqual(expected, self.status(writer))
            time.sleep(0.2)
        self.assertTrue(killed)
        self.assertLessEqual(worst, STALE_LIMIT)


class MemcachedBackTest(SharedCacheTestCase):

    def test_shared_again_within_the_cache_time(self):
        """After an outage, a change through one worker shows on the next
        read of the other once service_cache_time has passed.
        """
        daemon = self.memcached()
        nova = self.nova()
        writer = self.worker(nova, [daemon.servers])
        reader = self.worker(nova, [daemon.servers])
        self.assertEqual('UP', self.status(reader))
        daemon.stop()
        self.force_down(writer, 'compute-1')
        self.assertEqual('DOWN', self.status(writer))
        self.status(reader)
        daemon.start()
        time.sleep(CACHE_TIME + 0.5)
        for down, expected in ((False, 'UP'), (True, 'DOWN'),
                               (False, 'UP')):
            self.force_down(writer, 'compute-1', down)
            self.assertEqual(expected, self.status(reader))


class SignedValuesTest(SharedCacheTestCase):

    def test_values_written_without_the_secret_are_ignored(self):
        """Whoever can write to the memcached cannot make a host DOWN."""
        servers = [self.memcached().servers]
        nova = self.nova()
        signed = dict(cache_namespace='cloud', memcache_secret_key='s3cret',
                      memcache_security_strategy='MAC')
        writer = self.worker(nova, servers, **signed)
        reader = self.worker(nova, servers, **signed)
        self.assertEqual('UP', self.status(reader))
        # Another party, on the same keys, without the secret.
        forger = self.worker(self.nova(), servers, cache_namespace='cloud')
        self.status(forger)
        self.force_down(forger, 'compute-1')
        self.assertEqual('UP', self.status(reader))
        self.force_down(writer, 'compute-1')
        self.assertEqual('DOWN', self.status(reader))


class LookupFailingTest(SharedCacheTestCase):

    def test_ten_seconds_of_failed_listings(self):
        """No UNKNOWN within stale_if_error; a handful of internal calls.
        """
        servers = [self.memcached().servers]
        nova = self.nova()
        workers_ = [self.worker(nova, servers, stale_if_error='30')
                    for _ in range(2)]
        for app in workers_:
            self.assertEqual('UP', self.status(app))
        nova.fail_services = True
        seen = set()
        requests = 0
        stop = time.monotonic() + 10
        while time.monotonic() < stop:
            for app in workers_:
                seen.add(self.status(app))
                requests += 1
            time.sleep(0.05)
        nova.fail_services = False
        self.assertEqual({'UP'}, seen)
        calls = nova.count('GET', '/os-services')
        # Per worker: one listing, then tries at 1, 3 and 7 s of back-off
        # after its first failure, whatever the number of requests.
        self.assertGreater(requests, 100)
        self.assertLessEqual(calls, 1 + 2 * 5, calls)


class LargeCloudTest(SharedCacheTestCase):
    """What a cloud of thousands of hosts asks of the shared cache."""

    def cloud(self, hosts):
        nova = self.nova()
        for number in range(hosts):
            nova.add_service(fakes.Service(
                'compute-%05d.rack-%03d.region-one.example.org'
                % (number, number % 300)))
        return nova

    def test_a_listing_over_a_mebibyte_is_shared(self):
        """12,000 hosts with FQDN names: one worker lists for all."""
        servers = [self.memcached().servers]
        nova = self.cloud(12000)
        workers_ = [self.worker(nova, servers) for _ in range(3)]
        for app in workers_:
            self.assertEqual('UP', self.status(app))
        self.assertEqual(1, nova.count('GET', '/os-services'))

    def test_a_listing_longer_than_five_seconds_is_made_once(self):
        """Workers that find a listing under way wait for it, however long
        it takes, rather than list too.
        """
        servers = [self.memcached().servers]
        nova = self.nova()
        slow_nova, started = slow_listing(nova)
        first, second = (self.worker(slow_nova, servers) for _ in range(2))
        seen = []
        thread = threading.Thread(target=lambda: seen.append(
            self.status(first)))
        thread.start()
        self.assertTrue(started.wait(10))
        seen.append(self.status(second))
        thread.join()
        self.assertEqual(['UP', 'UP'], seen)
        self.assertEqual(1, nova.count('GET', '/os-services'))

    def test_a_waiting_worker_reads_little(self):
        """While another lists for six seconds, a worker that waits reads
        one small item, with back-off: a handful of reads, not hundreds.
        """
        daemon = self.memcached()
        nova = self.nova()
        slow_nova, started = slow_listing(nova)
        first, second = (self.worker(slow_nova, [daemon.servers])
                         for _ in range(2))
        thread = threading.Thread(target=self.status, args=(first,))
        thread.start()
        self.assertTrue(started.wait(10))
        before = memcached_gets(daemon.servers)
        self.assertEqual('UP', self.status(second))
        reads = memcached_gets(daemon.servers) - before
        thread.join()
        self.assertLess(reads, 40)


def slow_listing(nova, seconds=6):
    """``nova`` whose services listing takes ``seconds``: longer than the
    five seconds the lease once lasted; and an event set when one starts.
    """
    started = threading.Event()

    def slow_nova(environ, start_response):
        if environ['PATH_INFO'] == '/os-services' and \
                environ['REQUEST_METHOD'] == 'GET':
            started.set()
            time.sleep(seconds)
        return nova(environ, start_response)
    return slow_nova, started


def memcached_gets(server):
    """How many keys memcached was asked for so far (its cmd_get)."""
    host, port = server.rsplit(':', 1)
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(b'stats\r\n')
        reply = b''
        while not reply.endswith(b'END\r\n'):
            reply += sock.recv(65536)
    for line in reply.decode('ascii').splitlines():
        if line.startswith('STAT cmd_get '):
            return int(line.split()[2])
    raise AssertionError('memcached gave no cmd_get: %r' % reply)
