"""The shared store: two workers over one in-memory dogpile region."""

import datetime
import logging

from dogpile.cache import api as dogpile_api
from dogpile.cache import proxy
from dogpile.cache import region as dogpile_region
import fixtures
from oslo_config import cfg
import testtools

from nova_hoststatus import services
from nova_hoststatus import store
from tests.unit import test_services

MAX_AGE = 3.0


class Outage(proxy.ProxyBackend):
    """Stands between the region and its backend; can make it fail.

    ``mode`` None passes every call on; ``'error'`` raises, as
    pymemcache does for a dead server; ``'forgetful'`` keeps nothing and
    finds nothing, as python-memcached does for a server it marked dead.
    ``calls`` counts what reached the cache.
    """

    mode = None

    def __init__(self):
        super().__init__()
        self.calls = 0

    def _call(self, method, *args):
        self.calls += 1
        if self.mode == 'error':
            raise ConnectionRefusedError(111, 'Connection refused')
        if self.mode is None:
            return getattr(self.proxied, method)(*args)
        return dogpile_api.NO_VALUE

    def get(self, key):
        return self._call('get', key)

    def set(self, key, value):
        self._call('set', key, value)

    def delete(self, key):
        self._call('delete', key)


class Nova(test_services.CountingLoader):
    """The loader, with a host that can be forced down."""

    def __init__(self, clock):
        super().__init__(clock)
        self.down = set()

    def __call__(self):
        self.calls += 1
        if self.fail:
            raise services.LookupFailed('Nova said 500')
        return services.Snapshot(
            [test_services.service(h, forced_down=h in self.down)
             for h in self.hosts], self.clock(), (2, 104))


class Worker(object):
    """One API worker: its own store and directory over the shared region.
    """

    def __init__(self, region, clock, nova):
        self.nova = nova
        self.store = store.SharedStore(region, MAX_AGE, clock=clock)
        self.directory = services.ServiceDirectory(
            self.store, MAX_AGE, clock=clock, sleep=self.sleep)
        self.clock = clock
        self.naps = 0
        self.on_sleep = None

    def sleep(self, seconds):
        self.naps += 1
        self.clock.now += seconds
        if self.on_sleep is not None:
            self.on_sleep()

    def forced_down(self, host='compute-1'):
        [found] = self.directory.services_for(
            [{services.HOST_ATTRIBUTE: host, 'hostId': 'x'}], self.nova)
        return found.forced_down

    def force_down(self, host='compute-1'):
        """As the filter does: Nova changes, then the directory hears."""
        self.nova.down.add(host)
        self.directory.invalidate()


class SharedStoreTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.clock = test_services.FakeClock()
        self.nova = Nova(self.clock)
        self.region = dogpile_region.make_region().configure(
            'dogpile.cache.memory', wrap=[Outage])
        self.outage = self.region.backend
        self.log = self.useFixture(fixtures.FakeLogger(
            name=store.__name__, level=logging.INFO))
        self.a = Worker(self.region, self.clock, self.nova)
        self.b = Worker(self.region, self.clock, self.nova)

    def warnings(self):
        return [line for line in self.log.output.splitlines()
                if 'Shared cache unavailable' in line]

    def recoveries(self):
        return [line for line in self.log.output.splitlines()
                if line.startswith('Shared cache answers again')]

    def test_one_fetch_serves_both_workers(self):
        self.assertFalse(self.a.forced_down())
        self.assertFalse(self.b.forced_down())
        for _ in range(5):
            self.a.forced_down()
            self.b.forced_down()
        self.assertEqual(1, self.nova.calls)

    def test_change_through_one_is_seen_by_the_other_on_its_next_read(self):
        self.a.forced_down()
        self.b.forced_down()
        self.a.force_down()
        self.assertTrue(self.b.forced_down())
        self.assertTrue(self.a.forced_down())
        self.assertEqual(2, self.nova.calls)

    def test_refresh_after_max_age_is_one_fetch_for_both(self):
        self.a.forced_down()
        self.b.forced_down()
        self.clock.now += MAX_AGE
        self.nova.down.add('compute-1')  # behind the API's back
        self.assertTrue(self.b.forced_down())
        self.assertTrue(self.a.forced_down())
        self.assertEqual(2, self.nova.calls)

    def test_waits_for_the_worker_that_fetches(self):
        self.a.forced_down()
        self.a.force_down()
        claim = self.a.store.claim()
        self.assertTrue(claim.mine)

        def a_publishes():
            self.a.store.set(self.nova(), claim)
            self.a.store.release(claim)
        self.b.on_sleep = a_publishes
        self.assertTrue(self.b.forced_down())
        self.assertEqual(1, self.b.naps)
        self.assertEqual(2, self.nova.calls)  # a's first and a's refresh

    def test_fetches_itself_when_the_fetching_worker_never_answers(self):
        self.a.forced_down()
        self.a.force_down()
        self.assertTrue(self.a.store.claim().mine)  # and a is never heard of
        self.assertTrue(self.b.forced_down())
        self.assertGreater(self.b.naps, 1)
        self.assertLessEqual(self.b.naps * services.ServiceDirectory.POLL,
                             store.LEASE_TIME + 0.1)
        self.assertEqual(2, self.nova.calls)

    def test_lease_is_given_back(self):
        self.a.forced_down()
        self.clock.now += MAX_AGE
        self.a.forced_down()
        self.assertIs(dogpile_api.NO_VALUE,
                      self.region.get(store.LEASE, ignore_expiration=True))

    def test_cache_restart_costs_one_fetch_and_no_warning(self):
        self.a.forced_down()
        self.b.forced_down()
        self.outage.proxied._cache.clear()  # memcached restarted
        self.assertFalse(self.a.forced_down())
        self.assertFalse(self.b.forced_down())
        self.assertEqual(2, self.nova.calls)
        self.assertEqual([], self.warnings())

    def _outage_then_recovery(self, mode):
        self.a.forced_down()
        self.b.forced_down()
        self.outage.mode = mode
        # During the outage: no error, per-process state within max_age.
        self.a.force_down()
        self.assertTrue(self.a.forced_down())
        for _ in range(10):
            self.b.forced_down()
        self.clock.now += MAX_AGE
        self.assertTrue(self.b.forced_down())
        for _ in range(10):
            self.a.forced_down()
            self.b.forced_down()
        self.assertEqual(2, len(self.warnings()), self.log.output)
        calls = self.nova.calls
        # Back: each worker tries again by itself and logs it once.
        self.outage.mode = None
        self.nova.down.clear()
        self.clock.now += store.RETRY_INTERVAL
        self.assertFalse(self.a.forced_down())
        self.assertFalse(self.b.forced_down())
        self.assertEqual(2, len(self.recoveries()), self.log.output)
        self.assertLessEqual(self.nova.calls - calls, 2)
        # And shared again: a change through one shows on the other.
        calls = self.nova.calls
        self.b.force_down()
        self.assertTrue(self.a.forced_down())
        self.assertTrue(self.b.forced_down())
        self.assertEqual(calls + 1, self.nova.calls)
        self.assertEqual(2, len(self.warnings()))

    def test_cache_errors_fall_back_log_once_and_recover(self):
        self._outage_then_recovery('error')

    def test_cache_that_keeps_nothing_is_an_outage(self):
        self._outage_then_recovery('forgetful')

    def test_outage_is_tried_again_every_retry_interval(self):
        self.a.forced_down()
        self.outage.mode = 'error'
        self.a.force_down()
        calls = self.outage.calls
        for _ in range(20):
            self.clock.now += 0.2
            self.a.forced_down()
        self.assertEqual(calls, self.outage.calls)
        self.clock.now += store.RETRY_INTERVAL
        self.a.forced_down()
        self.assertEqual(calls + 1, self.outage.calls)
        self.assertEqual(1, len(self.warnings()))

    def test_new_host_found_by_one_worker_is_shared(self):
        self.a.forced_down()
        self.b.forced_down()
        self.clock.now += 0.5
        self.nova.hosts.append('compute-3')
        self.assertFalse(self.a.forced_down('compute-3'))
        self.assertFalse(self.b.forced_down('compute-3'))
        self.assertEqual(2, self.nova.calls)

    def test_missing_hosts_are_remembered_per_worker(self):
        gone = [{services.HOST_ATTRIBUTE: 'gone', 'hostId': 'x'}]
        for worker in (self.a, self.b, self.a, self.b):
            self.clock.now += 0.1
            self.assertEqual([None], worker.directory.services_for(
                gone, self.nova))
        # Each worker asks once after the snapshot it was given.
        self.assertEqual(2, self.nova.calls)


class SerializationTest(testtools.TestCase):

    def test_round_trip(self):
        snapshot = services.Snapshot(
            [test_services.service('c1', disabled=True, forced_down=True,
                                   reported_up=False,
                                   updated_at=datetime.datetime(2026, 1, 2,
                                                                3, 4, 5, 6)),
             test_services.service('c2')], 1234.5, (2, 104))
        generation, copy = store.load(store.dump(snapshot, 'g1'))
        self.assertEqual('g1', generation)
        self.assertEqual(snapshot.services, copy.services)
        self.assertEqual(1234.5, copy.fetched_at)
        self.assertEqual((2, 104), copy.api_version)

    def test_unknown_version(self):
        snapshot = services.Snapshot([], 1.0, None)
        self.assertIsNone(store.load(store.dump(snapshot, 'g'))[1]
                          .api_version)


class FromConfTest(testtools.TestCase):

    def conf(self, **cache):
        conf = cfg.ConfigOpts()
        conf([])
        store.cache.configure(conf)
        for name, value in cache.items():
            conf.set_override(name, value, 'cache')
        return conf

    def test_per_process_without_a_cache(self):
        self.assertIsInstance(store.from_conf(self.conf(), MAX_AGE),
                              store.MemoryStore)

    def test_per_process_with_no_backend(self):
        self.assertIsInstance(
            store.from_conf(self.conf(enabled=True), MAX_AGE),
            store.MemoryStore)

    def test_shared_with_a_backend(self):
        conf = self.conf(enabled=True, backend='dogpile.cache.memory')
        self.assertIsInstance(store.from_conf(conf, MAX_AGE),
                              store.SharedStore)

    def test_a_backend_that_cannot_be_loaded_keeps_state_per_process(self):
        # As with oslo_cache.memcache_pool where python-memcached is not
        # installed: the filter must load, and nova-api keep serving.
        self.useFixture(fixtures.MockPatch(
            'nova_hoststatus.store.cache.configure_cache_region',
            side_effect=ImportError("No module named 'memcache'")))
        logged = self.useFixture(fixtures.FakeLogger())
        conf = self.conf(enabled=True, backend='oslo_cache.memcache_pool')
        self.assertIsInstance(store.from_conf(conf, MAX_AGE),
                              store.MemoryStore)
        self.assertIn('oslo_cache.memcache_pool cannot be loaded',
                      logged.output)

    def test_registers_the_cache_options_itself(self):
        conf = cfg.ConfigOpts()
        conf([])
        self.assertIsInstance(store.from_conf(conf, MAX_AGE),
                              store.MemoryStore)
        self.assertFalse(conf.cache.enabled)

    def test_leaves_the_services_configuration_alone(self):
        conf = self.conf(enabled=True, backend='dogpile.cache.memory')
        store.from_conf(conf, MAX_AGE)
        store.from_conf(conf, MAX_AGE)
        self.assertEqual('dogpile.cache.memory', conf.cache.backend)
        self.assertEqual([], conf.cache.backend_argument)
