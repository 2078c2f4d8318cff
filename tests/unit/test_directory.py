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

"""The service directory: cost, shared state and faults, on fake clocks."""

import logging
import threading
import time

import fixtures
import testtools

from nova_hoststatus import directory
from nova_hoststatus import services
from nova_hoststatus import store
from tests.unit import fakes

INTERVAL = 3.0
STALE_IF_ERROR = 30.0
LEASE = 30.0
TIMING = directory.Timing(service_cache_time=INTERVAL,
                          service_down_time=60, stale_if_error=STALE_IF_ERROR,
                          lease_time=LEASE)


def record(host, **fields):
    values = dict(disabled=False, forced_down=False, reported_up=True,
                  updated_at=None, service_id='id-' + host)
    values.update(fields)
    return services.ComputeService(host=host, **values)


def on(host):
    """A server as an administrator sees it: its host named."""
    return {services.HOST_ATTRIBUTE: host, 'hostId': 'x'}


def owned(project, host):
    """A server as its owner sees it: only the hostId."""
    return {'tenant_id': project, 'hostId': services.host_id(project, host)}


class Clock(object):
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


class Nova(object):
    """The compute services; counts the listings and can fail or be slow.
    """

    def __init__(self, clock, hosts=('c1', 'c2')):
        self.clock = clock
        self.services = {h: record(h) for h in hosts}
        self.calls = 0
        self.fail = False
        self.seconds = 0.01
        self.during = None

    def __call__(self):
        self.calls += 1
        if self.fail:
            raise services.LookupFailed('Nova said 500')
        if self.during is not None:
            self.during()
        self.clock.now += self.seconds
        return services.Listing(tuple(self.services.values()), (2, 104),
                                self.seconds)

    def force_down(self, host, down=True):
        """Nova's own change; answers the whole record, as at 2.53."""
        self.services[host] = record(host, forced_down=down,
                                     reported_up=not down)
        return self.services[host]


class Worker(object):
    """One API worker: a directory over the shared cache, if any."""

    def __init__(self, nova, clock, shared=None, timing=TIMING):
        self.nova = nova
        self.clock = clock
        self.naps = []
        self.on_sleep = None
        self.spawned = []
        self.directory = directory.ServiceDirectory(
            shared, timing, clock=clock, sleep=self.sleep,
            spawn=lambda target, *args: self.spawned.append(
                (target, args)))

    def sleep(self, seconds):
        self.naps.append(seconds)
        self.clock.now += seconds
        if self.on_sleep is not None:
            self.on_sleep()

    def run_background(self):
        spawned, self.spawned = self.spawned, []
        for target, args in spawned:
            target(*args)

    def status(self, *servers):
        found = self.directory.services_for(list(servers), self.nova)
        if found is None:
            return None
        return [('DOWN' if s.forced_down else 'UP') if s else ''
                for s in found]

    def force_down(self, host, down=True):
        self.directory.changed(host, self.nova.force_down(host, down))


class Faulty(fakes.MemoryClient):
    """An in-process memcached that can refuse every call, and counts."""

    def __init__(self, clock):
        super().__init__(clock)
        self.down = False
        self.reads = []

    def _check(self):
        if self.down:
            raise ConnectionRefusedError(111, 'Connection refused')

    def get_many(self, keys):
        self._check()
        self.reads.append(len(keys))
        return super().get_many(keys)

    def set_many(self, mapping, ttl):
        self._check()
        return super().set_many(mapping, ttl)

    def add(self, key, value, ttl):
        self._check()
        return super().add(key, value, ttl)

    def incr(self, key):
        self._check()
        return super().incr(key)

    def delete(self, key):
        self._check()
        super().delete(key)


class CostTest(testtools.TestCase):
    """A request pays for its own hosts; a change lists nothing."""

    def setUp(self):
        super().setUp()
        self.clock = Clock()
        self.nova = Nova(self.clock, ['c%d' % i for i in range(1000)])
        self.worker = Worker(self.nova, self.clock)

    def test_force_down_patches_the_host_and_lists_nothing(self):
        self.assertEqual(['UP'], self.worker.status(on('c7')))
        self.worker.force_down('c7')
        self.assertEqual(['DOWN', 'UP'],
                         self.worker.status(on('c7'), on('c8')))
        self.assertEqual(1, self.nova.calls)

    def test_a_change_answered_in_part_patches_the_known_record(self):
        self.worker.status(on('c7'))
        self.nova.force_down('c7')
        self.worker.directory.changed('c7', {'host': 'c7',
                                             'forced_down': True})
        self.assertEqual(['DOWN'], self.worker.status(on('c7')))
        self.assertEqual(1, self.nova.calls)

    def test_a_deleted_service_is_read_again(self):
        self.worker.status(on('c7'))
        self.worker.directory.deleted('id-c7')
        del self.nova.services['c7']
        self.clock.now += 0.1
        self.assertEqual([''], self.worker.status(on('c7')))
        self.assertEqual([''], self.worker.status(on('c7')))
        self.assertEqual(2, self.nova.calls)

    def test_a_service_back_behind_the_api_after_a_delete_shows(self):
        """A compute service restarted on the host makes a new record."""
        self.worker.status(on('c7'))
        self.worker.directory.deleted('id-c7')
        self.clock.now += 0.1
        self.assertEqual(['UP'], self.worker.status(on('c7')))

    def test_a_partial_change_to_an_unknown_record_is_read_again(self):
        self.worker.status(on('c7'))
        self.worker.directory.changed('new-host', {'host': 'new-host',
                                                   'forced_down': True})
        self.nova.services['new-host'] = record('new-host', forced_down=True)
        self.clock.now += 0.1
        self.assertEqual(['DOWN'], self.worker.status(on('new-host')))

    def hashes(self):
        counted = []
        real = services.host_id
        self.useFixture(fixtures.MonkeyPatch(
            'nova_hoststatus.services.host_id',
            lambda project, host: counted.append(1) or real(project, host)))
        return counted

    def test_owner_hostids_are_mapped_with_one_scan_then_remembered(self):
        servers = [owned('p', 'c%d' % i) for i in range(20)]
        hashed = self.hashes()
        self.assertEqual(['UP'] * 20, self.worker.status(*servers))
        self.assertEqual(1000, len(hashed))
        self.assertEqual(['UP'] * 20, self.worker.status(*servers))
        self.assertEqual(1000, len(hashed))
        self.assertEqual(1, self.nova.calls)

    def test_hostid_pairs_outlive_a_new_listing_and_stay_bounded(self):
        server = owned('p', 'c1')
        others = [owned('p%d' % project, 'c1') for project in range(40)]
        hashed = self.hashes()
        self.worker.status(server)
        self.clock.now += INTERVAL
        self.worker.status(server)
        self.assertEqual(2, self.nova.calls)
        self.assertEqual(1000, len(hashed))
        self.useFixture(fixtures.MonkeyPatch(
            'nova_hoststatus.state.HostIds.MAX_PAIRS', 30))
        for other in others:
            self.assertEqual(['UP'], self.worker.status(other))
        self.assertLessEqual(len(self.worker.directory._host_ids._pairs), 30)

    def test_an_unknown_host_is_listed_for_once(self):
        self.worker.status(on('c1'))
        self.clock.now += 1
        self.assertEqual([''], self.worker.status(on('gone')))
        self.assertEqual([''], self.worker.status(on('gone')))
        self.assertEqual(2, self.nova.calls)


class RefreshTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.clock = Clock()
        self.nova = Nova(self.clock)
        self.worker = Worker(self.nova, self.clock)

    def test_interval_grows_with_a_slow_listing_within_bounds(self):
        self.nova.seconds = 2.0
        self.worker.status(on('c1'))
        self.assertEqual(20.0, self.worker.directory.refresh_interval())
        self.nova.seconds = 20
        self.clock.now += 21
        self.worker.status(on('c1'))
        self.worker.run_background()
        # Never past half of service_down_time.
        self.assertEqual(30.0, self.worker.directory.refresh_interval())

    def test_no_cache_time_lists_on_every_request(self):
        worker = Worker(self.nova, self.clock, timing=directory.Timing(
            service_cache_time=0, service_down_time=60, stale_if_error=30,
            lease_time=30))
        self.nova.seconds = 3.3
        worker.status(on('c1'))
        worker.status(on('c1'))
        self.assertEqual(2, self.nova.calls)
        self.assertEqual([], worker.spawned)

    def test_slow_listing_refreshes_in_the_background(self):
        self.nova.seconds = 3.3
        self.worker.status(on('c1'))
        self.clock.now += 34
        self.nova.services['c1'] = record('c1', forced_down=True)
        self.assertEqual(['UP'], self.worker.status(on('c1')))
        self.assertEqual(1, len(self.worker.spawned))
        self.worker.run_background()
        self.assertEqual(['DOWN'], self.worker.status(on('c1')))

    def test_quick_listing_is_waited_for(self):
        self.worker.status(on('c1'))
        self.clock.now += INTERVAL
        self.nova.services['c1'] = record('c1', forced_down=True)
        self.assertEqual(['DOWN'], self.worker.status(on('c1')))
        self.assertEqual([], self.worker.spawned)


class StaleIfErrorTest(testtools.TestCase):
    """Defect 2: a failed lookup neither blanks the state nor storms."""

    def setUp(self):
        super().setUp()
        self.clock = Clock()
        self.nova = Nova(self.clock)
        self.worker = Worker(self.nova, self.clock)
        self.log = self.useFixture(fixtures.FakeLogger(
            name=directory.__name__, level=logging.INFO))

    def test_last_good_state_serves_then_unknown(self):
        self.worker.status(on('c1'))
        self.nova.fail = True
        self.clock.now += INTERVAL
        self.assertEqual(['UP'], self.worker.status(on('c1')))
        self.clock.now += STALE_IF_ERROR - 1
        self.assertEqual(['UP'], self.worker.status(on('c1')))
        self.clock.now += 1
        self.assertIsNone(self.worker.status(on('c1')))
        self.assertIn('Compute services unavailable', self.log.output)

    def test_requests_during_an_outage_do_not_storm(self):
        self.worker.status(on('c1'))
        self.nova.fail = True
        self.clock.now += INTERVAL
        for _ in range(100):  # 10 s of requests, every 0.1 s
            self.worker.status(on('c1'))
            self.clock.now += 0.1
        # Back-off: tried at 0, 1, 3 and 7 s; 100 requests, 5 listings.
        self.assertEqual(5, self.nova.calls)
        self.nova.fail = False
        self.clock.now += 8
        self.assertEqual(['UP'], self.worker.status(on('c1')))
        self.assertIn('listed again after 4 failures', self.log.output)


class SharedTest(testtools.TestCase):
    """Several workers of one deployment over one memcached."""

    def setUp(self):
        super().setUp()
        self.clock = Clock()
        self.nova = Nova(self.clock)
        self.memcached = Faulty(self.clock)
        self.a = self.worker()
        self.b = self.worker()

    def worker(self, namespace='cloud', secret=None, nova=None):
        return Worker(nova or self.nova, self.clock,
                      store.SharedCache(self.memcached, namespace, secret))

    def test_one_listing_for_every_worker(self):
        self.a.status(on('c1'))
        self.b.status(on('c1'))
        self.assertEqual(1, self.nova.calls)

    def test_a_change_through_one_shows_on_the_others_next_read(self):
        self.a.status(on('c1'))
        self.b.status(on('c1'))
        self.a.force_down('c1')
        self.assertEqual(['DOWN'], self.b.status(on('c1')))
        self.assertEqual(1, self.nova.calls)

    def test_a_host_newer_than_an_adopted_listing_is_listed_for(self):
        """Another worker's listing may predate a host created since: a
        worker that adopted it lists once more for that host.
        """
        self.a.status(on('c1'))
        self.nova.services['new'] = record('new')
        self.clock.now += 0.1
        self.assertEqual(['UP'], self.b.status(on('new')))
        self.assertEqual(2, self.nova.calls)

    def test_no_lock_is_held_while_waiting_for_another_worker(self):
        """Defect 1: a change never waits for a refresh in progress."""
        self.memcached.add(self.a.directory._shared._key(directory.LEASE),
                           b'other', 60)
        finished = []

        def change_meanwhile():
            if not finished:
                thread = threading.Thread(
                    target=lambda: finished.append(
                        self.b.force_down('c1') or True))
                thread.start()
                thread.join(2)
                self.assertEqual([True], finished)
        self.b.on_sleep = change_meanwhile
        self.b.status(on('c1'))
        self.assertEqual([True], finished)

    def test_waiting_reads_the_small_meta_item_with_back_off(self):
        """Defect 5: no re-reading of the whole state every 10 ms."""
        self.memcached.add(self.a.directory._shared._key(directory.LEASE),
                           b'other', 5)
        self.memcached.reads.clear()
        self.b.status(on('c1'))
        self.assertEqual(directory.POLL_FIRST, self.b.naps[0])
        self.assertEqual(directory.POLL_MAX, max(self.b.naps))
        self.assertLessEqual(len(self.b.naps), 10)
        self.assertTrue(all(n == 1 for n in self.memcached.reads[:-3]))

    def test_the_lease_is_atomic_and_outlasts_a_slow_listing(self):
        """Defect 6: one worker lists, for as long as a listing takes."""
        self.nova.seconds = 20

        def b_tries_meanwhile():
            self.nova.during = None
            self.assertIsNone(self.b.directory._refresh(self.nova, None,
                                                        wait=False))
        self.nova.during = b_tries_meanwhile
        self.a.status(on('c1'))
        self.assertEqual(1, self.nova.calls)
        self.assertEqual(40, self.a.directory._lease_time())

    def test_a_change_during_a_listing_is_kept_over_it(self):
        """Defect 7: a listing begun before a change cannot hide it."""
        self.a.status(on('c1'))
        self.clock.now += INTERVAL
        self.nova.during = lambda: (setattr(self.nova, 'during', None),
                                    self.b.force_down('c1'))
        # The listing is the state before the change.
        self.nova.force_down = lambda host, down=True: record(
            host, forced_down=down, reported_up=not down)
        self.assertEqual(['DOWN'], self.a.status(on('c1')))
        self.assertEqual(['DOWN'], self.b.status(on('c1')))

    def test_two_clouds_on_one_memcached_do_not_mix(self):
        """Defect 3: keys carry a namespace per deployment."""
        other_nova = Nova(self.clock)
        other = self.worker('other-cloud', nova=other_nova)
        self.a.status(on('c1'))
        other.status(on('c1'))
        self.a.force_down('c1')
        self.assertEqual(['UP'], other.status(on('c1')))
        self.assertEqual(1, other_nova.calls)

    def test_no_item_over_a_mebibyte_at_fifty_thousand_hosts(self):
        """Defect 4: the listing is stored in chunks."""
        hosts = ['compute-%05d.rack-%03d.region-one.example.org' % (i, i % 300)
                 for i in range(50000)]
        nova = Nova(self.clock, hosts)
        worker = self.worker(nova=nova)
        worker.status(on(hosts[-1]))
        shared = worker.directory._shared
        self.assertLess(shared.largest_item, 1024 * 1024)
        self.assertLessEqual(shared.largest_item, store.MAX_ITEM)
        self.assertEqual(['UP'], self.worker(nova=nova).status(on(hosts[0])))
        self.assertEqual(1, nova.calls)

    def test_longest_host_names_fit_too(self):
        hosts = [('h%05d-' % i).ljust(255, 'x') for i in range(5000)]
        nova = Nova(self.clock, hosts)
        worker = self.worker(nova=nova, secret='s3cret')
        worker.status(on(hosts[0]))
        self.assertLessEqual(worker.directory._shared.largest_item,
                             store.MAX_ITEM)
        self.assertEqual(['UP'], self.worker(nova=nova, secret='s3cret')
                         .status(on(hosts[-1])))
        self.assertEqual(1, nova.calls)

    def test_forged_values_are_ignored_when_signed(self):
        """Defect 9: whoever writes to the memcached cannot fake a DOWN."""
        a = self.worker(secret='s3cret')
        b = self.worker(secret='s3cret')
        a.status(on('c1'))
        log = self.useFixture(fixtures.FakeLogger(name=store.__name__))
        forger = self.worker(secret='guess')
        forger.force_down('c1')
        self.assertEqual(['UP'], b.status(on('c1')))
        self.assertIn('signature does not match', log.output)
        a.force_down('c1')
        self.assertEqual(['DOWN'], b.status(on('c1')))

    def test_ages_are_monotonic_and_cache_ttls(self):
        """Defect 8: no wall-clock time is read or compared."""
        self.useFixture(fixtures.MonkeyPatch(
            'time.time', lambda: self.fail('wall clock read')))
        self.a.status(on('c1'))
        self.clock.now += INTERVAL
        self.b.status(on('c1'))
        self.assertEqual(2, self.nova.calls)

    def test_a_cache_that_lost_its_counter_keeps_later_changes(self):
        """Defect 8: a memcached that restarts, or a key that moves to
        another server, loses the counter: changes still win.
        """
        self.a.status(on('c1'))
        self.b.status(on('c1'))
        self.memcached.flush()
        self.clock.now += 0.5
        self.a.force_down('c1')
        self.assertEqual(['DOWN'], self.b.status(on('c1')))

    def test_the_counter_epoch_does_not_expire(self):
        self.a.force_down('c1')
        epoch = self.a.directory._epoch(self.a.directory._shared)
        self.clock.now += 3600
        self.assertEqual(epoch,
                         self.b.directory._epoch(self.b.directory._shared))

    def test_an_old_patch_of_a_lost_epoch_does_not_outlive_a_listing(self):
        """Read again and again, a patch is as old as its first reading."""
        self.a.status(on('c1'))
        self.b.status(on('c1'))
        self.a.force_down('c1')
        self.assertEqual(['DOWN'], self.b.status(on('c1')))
        # The counter is lost; Nova's service comes back up behind the
        # API's back; the next listing is in a new epoch.
        self.memcached.delete(self.a.directory._shared._key(directory.EPOCH))
        self.nova.services['c1'] = record('c1')
        self.clock.now += INTERVAL
        self.assertEqual(['UP'], self.b.status(on('c1')))
        self.assertEqual(['UP'], self.b.status(on('c1')))

    def test_a_counter_that_started_again_does_not_reorder_changes(self):
        """A dead server's keys move to another: the counter starts again
        there, and the changes after it still win.
        """
        self.a.status(on('c1'))
        self.b.status(on('c1'))
        for down in (True, False, True, False):
            self.a.force_down('c1', down)
        self.assertEqual(['UP'], self.b.status(on('c1')))
        shared = self.a.directory._shared
        epoch = self.a.directory._epoch(shared)
        self.memcached.delete(shared._key('changes:' + epoch))
        self.clock.now += 0.5
        self.a.force_down('c1')
        self.assertEqual(['DOWN'], self.b.status(on('c1')))
        self.assertNotEqual(epoch, self.a.directory._epoch(shared))

    def test_recovery_within_the_cache_time(self):
        """Defect 10: after the cache returns, every worker reads it again
        within service_cache_time.
        """
        self.a.status(on('c1'))
        self.b.status(on('c1'))
        self.memcached.down = True
        self.clock.now += INTERVAL
        self.assertEqual(['UP'], self.b.status(on('c1')))
        self.assertEqual(['UP'], self.a.status(on('c1')))
        self.memcached.down = False
        self.clock.now += INTERVAL
        self.a.force_down('c1')
        self.assertEqual(['DOWN'], self.b.status(on('c1')))

    def test_cache_outage_never_fails_a_request(self):
        self.memcached.down = True
        self.assertEqual(['UP'], self.a.status(on('c1')))
        self.a.force_down('c1')
        self.assertEqual(['DOWN'], self.a.status(on('c1')))


class ThreadedTest(testtools.TestCase):
    """Defect 7: threaded workers read whole views, never half of one."""

    def test_eight_threads_with_changes_interleaved(self):
        nova = Nova(time.monotonic, ['c%d' % i for i in range(50)])
        nova.clock = Clock()
        memcached = fakes.MemoryClient()
        workers = [directory.ServiceDirectory(
            store.SharedCache(memcached, 'cloud'),
            directory.Timing(0.01, 60, 30, 5)) for _ in range(2)]
        wrong = []
        stop = time.monotonic() + 2

        def read(worker):
            while time.monotonic() < stop:
                found = worker.services_for([on('c1'), on('c2')], nova)
                # c2 is never changed; c1 is only ever UP or DOWN.
                if found is None or found[1].forced_down or \
                        found[0].host != 'c1':
                    wrong.append(found)

        def change():
            down = True
            while time.monotonic() < stop:
                writer = workers[int(down)]
                writer.changed('c1', nova.force_down('c1', down))
                # Read-your-write, on both workers, whatever the readers do.
                for worker in workers:
                    [found] = worker.services_for([on('c1')], nova)
                    if found.forced_down is not down:
                        wrong.append(('after change', down, found))
                down = not down
        # Eight threads of one worker read while the changes alternate
        # between the two workers.
        threads = [threading.Thread(target=read, args=(workers[0],))
                   for i in range(8)]
        threads.append(threading.Thread(target=read, args=(workers[1],)))
        threads.append(threading.Thread(target=change))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual([], wrong)
        nova.force_down('c1', True)
        workers[0].changed('c1', nova.services['c1'])
        for worker in workers:
            [found] = worker.services_for([on('c1')], nova)
            self.assertTrue(found.forced_down)
