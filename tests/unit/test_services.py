import datetime

import testtools

from nova_hoststatus import services
from nova_hoststatus import store


def service(host, **kwargs):
    values = dict(disabled=False, forced_down=False, reported_up=True,
                  updated_at=None)
    values.update(kwargs)
    return services.ComputeService(host=host, **values)


class FakeClock(object):
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


class CountingLoader(object):
    """Stands in for the internal call; each call may list other hosts."""

    def __init__(self, clock, hosts=('compute-1', 'compute-2')):
        self.clock = clock
        self.hosts = list(hosts)
        self.calls = 0
        self.fail = False

    def __call__(self):
        self.calls += 1
        if self.fail:
            raise services.LookupFailed('Nova said 500')
        return services.Snapshot([service(h) for h in self.hosts],
                                 self.clock(), (2, 104))


class ComputeServiceTest(testtools.TestCase):

    def test_from_an_os_services_record(self):
        record = {'id': 'a1b2', 'binary': 'nova-compute', 'host': 'c1',
                  'status': 'disabled', 'state': 'up', 'forced_down': False,
                  'updated_at': '2026-11-26T10:00:00.000000',
                  'zone': 'nova', 'disabled_reason': 'maintenance'}
        self.assertEqual(
            services.ComputeService(
                host='c1', disabled=True, forced_down=False,
                reported_up=True,
                updated_at=datetime.datetime(2026, 11, 26, 10, 0, 0)),
            services.ComputeService.from_api(record))

    def test_never_updated(self):
        record = {'host': 'c1', 'status': 'enabled', 'state': 'down',
                  'forced_down': True, 'updated_at': None}
        parsed = services.ComputeService.from_api(record)
        self.assertIsNone(parsed.updated_at)
        self.assertTrue(parsed.forced_down)
        self.assertFalse(parsed.reported_up)


class SnapshotTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.snapshot = services.Snapshot(
            [service('compute-1'), service('compute-2')], 0, (2, 104))

    def test_host_id_is_novas(self):
        # The value Nova 34's generate_hostid gives for this project and host.
        self.assertEqual(
            '99b9aa2c80e1bd59e0dc68c80705793b4c4083f0eaf6310a8fb5a422',
            services.host_id('tenant-a', 'compute-1'))

    def test_host_attribute_wins(self):
        found, record = self.snapshot.resolve(
            {services.HOST_ATTRIBUTE: 'compute-2', 'hostId': 'whatever'})
        self.assertTrue(found)
        self.assertEqual('compute-2', record.host)

    def test_host_id_is_mapped_back_with_the_servers_project(self):
        server = {'tenant_id': 'tenant-a',
                  'hostId': services.host_id('tenant-a', 'compute-1')}
        self.assertEqual((True, service('compute-1')),
                         self.snapshot.resolve(server))

    def test_host_id_of_another_project_does_not_match(self):
        server = {'tenant_id': 'tenant-b',
                  'hostId': services.host_id('tenant-a', 'compute-1')}
        self.assertEqual((False, None), self.snapshot.resolve(server))

    def test_no_host(self):
        self.assertEqual((True, None), self.snapshot.resolve(
            {'tenant_id': 'tenant-a', 'hostId': ''}))
        self.assertEqual((True, None), self.snapshot.resolve(
            {services.HOST_ATTRIBUTE: None, 'hostId': ''}))

    def test_host_without_a_compute_record(self):
        self.assertEqual((False, None), self.snapshot.resolve(
            {services.HOST_ATTRIBUTE: 'gone', 'hostId': 'x'}))


class DirectoryTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.clock = FakeClock()
        self.loader = CountingLoader(self.clock)
        self.directory = services.ServiceDirectory(
            store.MemoryStore(), max_age=3.0, clock=self.clock)

    def servers(self, *hosts):
        return [{'tenant_id': 't', 'hostId': services.host_id('t', h)}
                for h in hosts]

    def test_one_call_for_a_thousand_servers_and_repeated_requests(self):
        listing = self.servers(*(['compute-1', 'compute-2'] * 500))
        for _ in range(5):
            found = self.directory.services_for(listing, self.loader)
            self.assertEqual(['compute-1', 'compute-2'] * 500,
                             [record.host for record in found])
        self.assertEqual(1, self.loader.calls)

    def test_refetched_once_stale(self):
        self.directory.services_for(self.servers('compute-1'), self.loader)
        self.clock.now += 2.9
        self.directory.services_for(self.servers('compute-1'), self.loader)
        self.assertEqual(1, self.loader.calls)
        self.clock.now += 0.2
        self.directory.services_for(self.servers('compute-1'), self.loader)
        self.assertEqual(2, self.loader.calls)

    def test_invalidate_makes_the_next_read_fetch(self):
        self.directory.services_for(self.servers('compute-1'), self.loader)
        self.directory.invalidate()
        self.directory.services_for(self.servers('compute-1'), self.loader)
        self.assertEqual(2, self.loader.calls)

    def test_new_host_is_found_at_once_by_one_refetch(self):
        self.directory.services_for(self.servers('compute-1'), self.loader)
        self.clock.now += 0.1
        self.loader.hosts.append('compute-3')
        found = self.directory.services_for(
            self.servers('compute-1', 'compute-3'), self.loader)
        self.assertEqual(['compute-1', 'compute-3'],
                         [record.host for record in found])
        self.assertEqual(2, self.loader.calls)

    def test_unknown_host_after_refetch_has_no_record(self):
        self.directory.services_for(self.servers('compute-1'), self.loader)
        self.clock.now += 0.5
        found = self.directory.services_for(
            self.servers('compute-1', 'gone'), self.loader)
        self.assertEqual('compute-1', found[0].host)
        self.assertIsNone(found[1])
        self.assertEqual(2, self.loader.calls)

    def test_unknown_host_is_asked_for_once_per_refresh(self):
        for _ in range(10):
            self.assertEqual([None], self.directory.services_for(
                self.servers('gone'), self.loader))
        self.assertEqual(1, self.loader.calls)
        self.clock.now += 3.0
        self.directory.services_for(self.servers('gone'), self.loader)
        self.directory.services_for(self.servers('gone'), self.loader)
        self.assertEqual(2, self.loader.calls)

    def test_each_new_unknown_host_is_asked_for(self):
        self.directory.services_for(self.servers('gone'), self.loader)
        self.clock.now += 0.1
        self.loader.hosts.append('compute-4')
        found = self.directory.services_for(
            self.servers('gone', 'compute-4'), self.loader)
        self.assertEqual([None, 'compute-4'],
                         [r.host if r else None for r in found])
        self.assertEqual(2, self.loader.calls)

    def test_failure_answers_none_and_is_retried(self):
        self.loader.fail = True
        self.assertIsNone(self.directory.services_for(
            self.servers('compute-1'), self.loader))
        self.loader.fail = False
        self.assertEqual('compute-1', self.directory.services_for(
            self.servers('compute-1'), self.loader)[0].host)
        self.assertEqual(2, self.loader.calls)
