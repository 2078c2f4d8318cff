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

"""One truth across nova-api workers: uWSGI, two workers, one memcached.

Nova's API runs under uWSGI with two worker processes, each on a port of
its own, over the shared sandbox's databases, with the filter in front and
Nova's own ``host_status`` removed behind it, and ``[cache]`` on a
memcached this test starts.  A force-down through one worker must show on
the very next listing through the other, and no answer may go back to the
old value; with memcached stopped, nothing fails and a change shows within
``service_cache_time``.

Locally the test is skipped, with the reason, when memcached or uWSGI is
missing; in CI (``CI=true``) that is a failure.
"""

import os
import time

import fixtures

from nova_hoststatus import conf
from nova_hoststatus.tools import launchers
from nova_hoststatus.tools import sandbox
from tests.functional import base

CACHE_TIME = next(opt.default for opt in conf.OPTS
                  if opt.name == 'service_cache_time')
ROUNDS = 6
# Room for the listings in flight when a change is made.
MARGIN = 2.0


class TestWorkers(base.TestCase):

    def setUp(self):
        # Before the sandbox starts: a skip should not cost its start-up.
        try:
            binary = launchers.uwsgi_binary()
            self.memcached = launchers.Memcached()
        except launchers.Missing as exc:
            if os.environ.get('CI') == 'true':
                raise AssertionError('CI must run the multi-worker test: %s'
                                     % exc)
            self.skipTest(str(exc))
        super().setUp()
        config = self.sandbox.config_dir(
            self.useFixture(fixtures.TempDir()).path, base.ADMIN_OR_OWNER,
            self.memcached.servers)
        self.uwsgi = launchers.Uwsgi(config, 2, binary)
        self.memcached.start()
        self.addCleanup(self.memcached.stop)
        self.uwsgi.start()
        self.addCleanup(self.uwsgi.stop)
        self.hosts = [self.host() for _ in range(3)]
        self.host_of = {self.server(host): host
                        for host in self.hosts for _ in range(2)}
        self.services = {host: self.service_id(host) for host in self.hosts}
        self.errors = []

    def listing(self, port):
        """{server id: host_status} of the owner's servers, via ``port``."""
        result = launchers.call(port, 'GET', '/servers/detail',
                                self.sandbox.headers(self.project, self.user,
                                                     version='2.16'))
        if result.status != 200:
            self.errors.append(result)
            return None
        return {s['id']: s.get('host_status')
                for s in result.json['servers']}

    def expected(self, down):
        return {server: 'DOWN' if host in down else 'UP'
                for server, host in self.host_of.items()}

    def force(self, port, host, forced, form):
        path, body = sandbox.force_down_request(
            form, host, self.services[host], forced)
        result = launchers.call(
            port, 'PUT', path,
            self.sandbox.headers(self.admin_project, 'admin',
                                 sandbox.ADMIN_ROLES, form), body)
        self.assertEqual(200, result.status, result)

    def test_a_change_through_one_worker_shows_at_once_on_the_other(self):
        a, b = self.uwsgi.ports
        self.assertEqual(self.expected(()), self.listing(a))
        self.assertEqual(self.expected(()), self.listing(b))
        for number in range(ROUNDS):
            host = self.hosts[number % len(self.hosts)]
            form = ('2.11', '2.53')[number % 2]
            writer, reader = (a, b) if number % 2 == 0 else (b, a)
            what = 'round %d (%s form)' % (number + 1, form)
            self.force(writer, host, True, form)
            down = self.expected({host})
            self.assertEqual(down, self.listing(reader), what)
            for port in (writer, reader, reader, writer):
                self.assertEqual(down, self.listing(port), what)
            self.force(reader, host, False, form)
            up = self.expected(())
            self.assertEqual(up, self.listing(writer), what)
            for port in (reader, writer, reader):
                self.assertEqual(up, self.listing(port), what)
        self.assertEqual([], self.errors)

    def watch(self, port, expected, limit):
        """Poll ``port`` until it answers ``expected``, and a little longer.

        Returns how long after the call it last answered the old value,
        from the start of that listing; fails if it never answers
        ``expected`` within ``limit`` seconds or goes back afterwards.
        """
        start = time.monotonic()
        samples = []
        while time.monotonic() - start < limit:
            began = time.monotonic() - start
            answer = self.listing(port)
            samples.append((round(began, 2), answer == expected))
            seen = [at for at, new in samples if new]
            if seen and not samples[-1][1]:
                self.fail('answer went back: %r' % samples)
            if seen and began > seen[0] + 0.5:
                break
        self.assertTrue(samples[-1][1], 'not seen: %r' % samples)
        old = [at for at, new in samples if not new]
        return max(old) if old else 0.0, samples

    def test_memcached_stopped_and_back(self):
        a, b = self.uwsgi.ports
        host = self.hosts[0]
        self.assertEqual(self.expected(()), self.listing(b))
        self.memcached.stop()
        # Down: per-process state, within service_cache_time, no error.
        for forced, expected in ((True, {host}), (False, ())):
            self.force(a, host, forced, '2.53')
            self.assertEqual(self.expected(expected), self.listing(a))
            stale, samples = self.watch(b, self.expected(expected),
                                        CACHE_TIME + MARGIN)
            self.assertLessEqual(stale, CACHE_TIME, samples)
        # Back, empty: shared again once each worker tried it again.
        self.memcached.start()
        time.sleep(CACHE_TIME + 1)
        for port in (a, b):
            self.listing(port)
        self.force(a, host, True, '2.11')
        self.assertEqual(self.expected({host}), self.listing(b))
        self.assertEqual([], self.errors)
