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

"""The store of what was told (:mod:`nova_hoststatus.notifier.store`), on
sqlite files: two Store objects on one file stand for two agents.
"""

import datetime
import multiprocessing
import os
import threading

import fixtures
import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.dialects import postgresql
import testtools

from nova_hoststatus.notifier import changes
from nova_hoststatus.notifier import store

TIMEOUT = 30.0
START = 1767225600.0  # 2026-01-01T00:00:00Z


class Clock(object):
    """An injected clock, moved by the test."""

    def __init__(self, now=START):
        self.now = now

    def __call__(self):
        return self.now


class StoreTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        tmp = self.useFixture(fixtures.TempDir()).path
        self.url = 'sqlite:///' + os.path.join(tmp, 'told.db')
        self.clock = Clock()
        self.store = self.agent()

    def agent(self, clock=None):
        """Another Store on the same file: another agent."""
        agent = store.Store(self.url, clock=clock or self.clock)
        self.addCleanup(agent.close)
        return agent


class StoreTest(StoreTestCase):

    def test_first_sight_is_recorded_and_not_told(self):
        self.assertIsNone(self.store.claim('h1', lambda: 'UP', TIMEOUT))
        self.assertEqual({'h1': ('UP', True)}, self.store.told())
        self.assertIsNone(self.store.claim('h1', lambda: 'UP', TIMEOUT))
        self.assertIsNone(self.agent().claim('h1', lambda: 'UP', TIMEOUT))

    def test_a_change_is_claimed_once(self):
        self.store.claim('h1', lambda: 'UP', TIMEOUT)
        self.clock.now += 5
        change = self.store.claim('h1', lambda: 'DOWN', TIMEOUT)
        self.assertEqual(
            changes.Change('h1', 'UP', 'DOWN', 1,
                           datetime.datetime(2026, 1, 1, 0, 0, 5)),
            change)
        self.assertEqual({'h1': ('DOWN', False)}, self.store.told())
        # Another agent sees the same change: already owned.
        self.assertIsNone(self.agent().claim('h1', lambda: 'DOWN', TIMEOUT))
        self.assertIsNone(self.store.claim('h1', lambda: 'DOWN', TIMEOUT))

    def test_delivered_then_the_same_status_tells_nothing(self):
        self.store.claim('h1', lambda: 'UP', TIMEOUT)
        change = self.store.claim('h1', lambda: 'DOWN', TIMEOUT)
        self.store.delivered(change)
        self.assertEqual({'h1': ('DOWN', True)}, self.store.told())
        self.clock.now += 10 * TIMEOUT
        self.assertIsNone(self.store.claim('h1', lambda: 'DOWN', TIMEOUT))
        self.assertIsNone(self.agent().claim('h1', lambda: 'DOWN', TIMEOUT))
        # And the way back is a change of its own.
        back = self.agent().claim('h1', lambda: 'UP', TIMEOUT)
        self.assertEqual(('DOWN', 'UP', 2), (back.old, back.new,
                                             back.generation))

    def test_an_undelivered_claim_is_taken_over_after_claim_timeout(self):
        self.store.claim('h1', lambda: 'UP', TIMEOUT)
        # Its sender dies.
        change = self.store.claim('h1', lambda: 'DOWN', TIMEOUT)
        other = self.agent()
        self.clock.now += TIMEOUT - 1
        self.assertIsNone(other.claim('h1', lambda: 'DOWN', TIMEOUT))
        self.clock.now += 1
        taken = other.claim('h1', lambda: 'DOWN', TIMEOUT)
        # The same change: same sides, generation and moment.
        self.assertEqual(change, taken)
        # Taken over once, and the new claim is fresh again.
        self.assertIsNone(self.store.claim('h1', lambda: 'DOWN', TIMEOUT))
        self.assertIsNone(self.agent().claim('h1', lambda: 'DOWN', TIMEOUT))
        other.delivered(taken)
        self.clock.now += 10 * TIMEOUT
        self.assertIsNone(self.store.claim('h1', lambda: 'DOWN', TIMEOUT))

    def test_release_makes_it_claimable_at_once(self):
        self.store.claim('h1', lambda: 'UP', TIMEOUT)
        change = self.store.claim('h1', lambda: 'DOWN', TIMEOUT)
        self.store.release(change)
        self.assertEqual({'h1': ('DOWN', False)}, self.store.told())
        again = self.agent().claim('h1', lambda: 'DOWN', TIMEOUT)
        self.assertEqual(change, again)
        self.assertIsNone(self.store.claim('h1', lambda: 'DOWN', TIMEOUT))

    def test_release_after_delivered_changes_nothing(self):
        self.store.claim('h1', lambda: 'UP', TIMEOUT)
        change = self.store.claim('h1', lambda: 'DOWN', TIMEOUT)
        self.store.delivered(change)
        self.store.release(change)
        self.assertEqual({'h1': ('DOWN', True)}, self.store.told())
        self.assertIsNone(self.agent().claim('h1', lambda: 'DOWN', TIMEOUT))

    def test_a_change_while_the_previous_is_undelivered(self):
        self.store.claim('h1', lambda: 'UP', TIMEOUT)
        first = self.store.claim('h1', lambda: 'DOWN', TIMEOUT)
        self.clock.now += 3
        second = self.agent().claim('h1', lambda: 'UNKNOWN', TIMEOUT)
        self.assertEqual(
            changes.Change('h1', 'DOWN', 'UNKNOWN', 2,
                           datetime.datetime(2026, 1, 1, 0, 0, 3)),
            second)
        # The first sender finishes late: the newer change stays owed.
        self.store.delivered(first)
        self.assertEqual({'h1': ('UNKNOWN', False)}, self.store.told())
        self.clock.now += TIMEOUT
        self.assertEqual(second,
                         self.store.claim('h1', lambda: 'UNKNOWN', TIMEOUT))
        self.store.delivered(second)
        self.assertEqual({'h1': ('UNKNOWN', True)}, self.store.told())

    def test_release_of_an_old_generation_leaves_the_newer_claim(self):
        self.store.claim('h1', lambda: 'UP', TIMEOUT)
        first = self.store.claim('h1', lambda: 'DOWN', TIMEOUT)
        second = self.agent().claim('h1', lambda: 'UP', TIMEOUT)
        self.assertEqual(('DOWN', 'UP', 2),
                         (second.old, second.new, second.generation))
        self.store.release(first)
        self.assertIsNone(self.store.claim('h1', lambda: 'UP', TIMEOUT))

    def test_reads_of_a_host_are_ordered_by_its_lock(self):
        # Agent 1 reads DOWN and is slow to claim; agent 2's read of the
        # same host waits for it, so it reads the newer UP and tells
        # DOWN -> UP after it, never an UP that the owner would then see
        # overtaken by the older DOWN.
        self.store.claim('h1', lambda: 'UP', TIMEOUT)
        other = self.agent()
        order = []
        reading = threading.Event()
        go_on = threading.Event()

        def slow_read():
            order.append('agent 1 reads DOWN')
            reading.set()
            go_on.wait(10)
            return 'DOWN'

        def newer_read():
            order.append('agent 2 reads UP')
            return 'UP'

        first = threading.Thread(target=lambda: order.append(
            self.store.claim('h1', slow_read, TIMEOUT)))
        first.start()
        self.assertTrue(reading.wait(10))
        second = threading.Thread(target=lambda: order.append(
            other.claim('h1', newer_read, TIMEOUT)))
        second.start()
        second.join(0.5)
        order.append('agent 1 goes on')
        go_on.set()
        first.join(10)
        second.join(10)
        self.assertEqual(['agent 1 reads DOWN', 'agent 1 goes on'],
                         order[:2])
        self.assertEqual(('UP', 'DOWN'), (order[2].old, order[2].new))
        self.assertEqual('agent 2 reads UP', order[3])
        self.assertEqual(('DOWN', 'UP'), (order[4].old, order[4].new))

    def test_hosts_are_apart(self):
        for host in ('h1', 'h2'):
            self.store.claim(host, lambda: 'UP', TIMEOUT)
        change = self.store.claim('h1', lambda: 'DOWN', TIMEOUT)
        self.store.delivered(change)
        self.assertEqual({'h1': ('DOWN', True), 'h2': ('UP', True)},
                         self.store.told())
        self.assertEqual(1, self.store.claim('h2', lambda: 'DOWN',
                                             TIMEOUT).generation)

    def test_the_table_outlives_its_agents(self):
        self.store.claim('h1', lambda: 'UP', TIMEOUT)
        change = self.store.claim('h1', lambda: 'DOWN', TIMEOUT)
        self.store.close()
        later = self.agent()
        self.assertEqual({'h1': ('DOWN', False)}, later.told())
        self.clock.now += TIMEOUT
        self.assertEqual(change, later.claim('h1', lambda: 'DOWN', TIMEOUT))


class ColumnTypeTest(testtools.TestCase):
    """The times of a claim are compared for equality and subtracted: on
    every database they keep the precision of ``time.time()``.
    """

    def ddl(self, dialect):
        return str(sa.schema.CreateTable(store.HOSTS).compile(
            dialect=dialect))

    def test_claimed_at_is_a_double_on_mysql(self):
        ddl = self.ddl(mysql.dialect())
        self.assertIn('claimed_at DOUBLE NOT NULL', ddl)

    def test_claimed_at_is_a_double_on_postgresql(self):
        ddl = self.ddl(postgresql.dialect())
        self.assertIn('claimed_at DOUBLE PRECISION NOT NULL', ddl)

    def test_changed_at_keeps_microseconds_on_mysql(self):
        self.assertIn('changed_at DATETIME(6) NOT NULL',
                      self.ddl(mysql.dialect()))

    def test_claimed_at_keeps_sub_second_precision_on_sqlite(self):
        tmp = self.useFixture(fixtures.TempDir()).path
        clock = Clock(START + 0.123456)
        agent = store.Store('sqlite:///' + os.path.join(tmp, 'told.db'),
                            clock=clock)
        self.addCleanup(agent.close)
        agent.claim('h1', lambda: 'UP', TIMEOUT)
        change = agent.claim('h1', lambda: 'DOWN', TIMEOUT)
        clock.now += TIMEOUT
        self.assertEqual(change, agent.claim('h1', lambda: 'DOWN', TIMEOUT))
        self.assertEqual(123456, change.changed_at.microsecond)


class ThreadsTest(StoreTestCase):

    THREADS = 8
    ROUNDS = 20

    def race(self, stores):
        """Every thread claims each change at once; the winners per round.
        """
        sequence = ['DOWN', 'UP'] * (self.ROUNDS // 2)
        barrier = threading.Barrier(len(stores))
        won = [[] for _ in sequence]
        errors = []

        def claim(agent):
            try:
                for number, observed in enumerate(sequence):
                    barrier.wait(timeout=60)
                    change = agent.claim('h1', lambda: observed, TIMEOUT)
                    if change is not None:
                        won[number].append(change)
                        agent.delivered(change)
                    barrier.wait(timeout=60)
            except Exception as exc:
                errors.append(exc)
                barrier.abort()

        threads = [threading.Thread(target=claim, args=(agent,))
                   for agent in stores]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        self.assertEqual([], errors)
        return sequence, won

    def check(self, stores):
        self.store.claim('h1', lambda: 'UP', TIMEOUT)
        sequence, won = self.race(stores)
        self.assertEqual([1] * len(sequence), [len(w) for w in won])
        self.assertEqual(list(range(1, len(sequence) + 1)),
                         [w[0].generation for w in won])
        self.assertEqual(sequence, [w[0].new for w in won])
        self.assertEqual({'h1': (sequence[-1], True)}, self.store.told())

    def test_one_winner_per_change_one_store_per_thread(self):
        self.check([self.agent() for _ in range(self.THREADS)])

    def test_one_winner_per_change_one_store_shared(self):
        self.check([self.store] * self.THREADS)

    def test_first_sight_by_many_at_once(self):
        stores = [self.agent() for _ in range(self.THREADS)]
        barrier = threading.Barrier(len(stores))
        answers = []

        def claim(agent):
            barrier.wait(timeout=60)
            answers.append(agent.claim('h2', lambda: 'UP', TIMEOUT))

        threads = [threading.Thread(target=claim, args=(agent,))
                   for agent in stores]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        self.assertEqual([None] * self.THREADS, answers)
        self.assertEqual({'h2': ('UP', True)}, self.store.told())


def _claim_in_a_process(url, hosts, sequence, barrier, results):
    """One agent of its own process: claims every change of every host
    with the other process, and reports what it won.
    """
    agent = store.Store(url)
    won = []
    try:
        for number, observed in enumerate(sequence):
            barrier.wait(timeout=60)
            for host in hosts:
                change = agent.claim(host, lambda: observed, TIMEOUT)
                if change is not None:
                    won.append((host, number, change.generation))
                    agent.delivered(change)
            barrier.wait(timeout=60)
    finally:
        agent.close()
        results.put((os.getpid(), won))


class ProcessesTest(StoreTestCase):

    PROCESSES = 2
    STEPS = 30
    HOSTS = ('h1', 'h2', 'h3')

    def test_one_winner_per_change_across_processes(self):
        for host in self.HOSTS:
            self.store.claim(host, lambda: 'UP', TIMEOUT)
        sequence = ['DOWN', 'UP'] * (self.STEPS // 2)
        context = multiprocessing.get_context('spawn')
        barrier = context.Barrier(self.PROCESSES)
        results = context.Queue()
        processes = [context.Process(
            target=_claim_in_a_process,
            args=(self.url, self.HOSTS, sequence, barrier, results))
            for _ in range(self.PROCESSES)]
        for process in processes:
            process.start()
        reports = [results.get(timeout=300) for _ in processes]
        for process in processes:
            process.join(60)
            self.assertEqual(0, process.exitcode)
        won = [claim for _, claims in reports for claim in claims]
        expected = [(host, number, number + 1) for host in self.HOSTS
                    for number in range(len(sequence))]
        # Each change once, with its generation: none twice, none lost.
        self.assertEqual(sorted(expected), sorted(won))
        self.assertEqual({host: ('UP', True) for host in self.HOSTS},
                         self.store.told())
