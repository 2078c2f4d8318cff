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

"""One truth across nova-api workers: uWSGI, two workers, nothing shared.

Nova's API runs under uWSGI with two worker processes, each on a port of
its own (``--map-socket``, so the test picks the worker of each request),
over the shared sandbox's databases, with the filter in front and Nova's
own ``host_status`` removed behind it.  There is no ``[cache]`` at all:
each worker reads Nova's records for the servers of each response.

While the owner lists its servers through every worker without pause, a
host is forced down and back, through the API (one worker takes the
call) and behind it (in the database, through Nova's objects).  Measured
and pinned for every change: the stale window (how long after the change
returned a listing could still start and show the old value) is 0 s, so
the very next request of every worker shows the change; no answer goes
back to the old value after any worker showed the new one (0 flip-backs);
no request fails (0 errors).  The figures are attached to each test's
result as ``figures``.

Locally the tests are skipped, with the reason, when uWSGI is missing; in
CI (``CI=true``) that is a failure.
"""

import os
import tempfile
import threading
import time

from testtools import content

from nova_hoststatus.tools import launchers
from nova_hoststatus.tools import sandbox
from tests.functional import base

WORKERS = 2
ROUNDS = 4
# Listings each worker answers after its first one that started after a
# change returned, to catch an answer that goes back to the old value.
HOLD = 3
# Seconds a change may take to reach every worker before the test gives up
# waiting: far beyond what is pinned (the very next request).
PATIENCE = 30.0


class _Poller(threading.Thread):
    """The owner, listing its servers through one worker without pause.

    Each sample is ``(start, end, {server id: host_status})``, with None
    for an answer that was not a 200 (an error, kept in ``failures``).
    """

    def __init__(self, port, headers):
        super().__init__(name='owner-via-%d' % port, daemon=True)
        self.port = port
        self.headers = headers
        self.samples = []
        self.failures = []
        self.halt = threading.Event()

    def run(self):
        while not self.halt.is_set():
            start = time.monotonic()
            try:
                result = launchers.call(self.port, 'GET', '/servers/detail',
                                        self.headers)
            except Exception as exc:
                result = launchers.Response(-1, repr(exc).encode())
            answer = None
            if result.status == 200:
                answer = {server['id']: server.get('host_status')
                          for server in result.json['servers']}
            else:
                self.failures.append((start, result))
            self.samples.append((start, time.monotonic(), answer))

    def after(self, moment):
        """The samples that started at ``moment`` or later."""
        return [sample for sample in list(self.samples)
                if sample[0] >= moment]


def figures(pollers, answered, new):
    """What the listings show of a change that returned at ``answered``.

    ``new`` is the answer every listing should give once the change is
    made.  Returns ``{'stale': seconds, 'flips': n, 'errors': n,
    'next': [bool per worker], 'listings': n}``: the stale window (the
    latest start, after ``answered``, of a listing that did not show the
    change; 0 when every one did); the flip-backs (listings on any worker
    that did not show the change though they started after a listing, on
    any worker, had ended showing it); the failed listings since
    ``answered``; whether each worker's very next listing showed it; and
    how many listings started after ``answered`` were measured.
    """
    samples = [(poller, sample) for poller in pollers
               for sample in poller.after(answered)]
    seen = [end for _, (_, end, answer) in samples if answer == new]
    first_seen = min(seen) if seen else None
    stale = [start - answered for _, (start, _, answer) in samples
             if answer is not None and answer != new]
    flips = sum(1 for _, (start, _, answer) in samples
                if answer is not None and answer != new
                and first_seen is not None and start > first_seen)
    errors = sum(1 for _, (_, _, answer) in samples if answer is None)
    following = []
    for poller in pollers:
        mine = poller.after(answered)
        following.append(bool(mine) and mine[0][2] == new)
    return {'stale': max(stale) if stale else 0.0, 'flips': flips,
            'errors': errors, 'next': following, 'listings': len(samples)}


class TestWorkers(base.TestCase):
    """The owner's listings through every worker while hosts change."""

    _uwsgi = None

    @classmethod
    def tearDownClass(cls):
        if cls._uwsgi is not None:
            cls._uwsgi.stop()
            cls._uwsgi = None
        super().tearDownClass()

    def setUp(self):
        # Before the sandbox starts: a skip should not cost its start-up.
        try:
            binary = launchers.uwsgi_binary()
        except launchers.Missing as exc:
            if os.environ.get('CI') == 'true':
                raise AssertionError('CI must run the multi-worker test: %s'
                                     % exc)
            self.skipTest(str(exc))
        super().setUp()
        self.uwsgi = self._started(self.sandbox, binary)
        self.hosts = [self.host() for _ in range(2)]
        self.host_of = {self.server(host): host
                        for host in self.hosts for _ in range(2)}
        self.services = {host: self.service_id(host) for host in self.hosts}
        self.measured = []
        self.addDetail('figures', content.Content(
            content.UTF8_TEXT, lambda: [self.report().encode('utf-8')]))
        headers = self.sandbox.headers(self.project, self.user,
                                       version='2.16')
        self.admin_headers = self.sandbox.headers(
            self.admin_project, 'admin', sandbox.ADMIN_ROLES)
        for port in self.uwsgi.ports:
            self._introduce(port, headers)
            self._introduce(port, self.admin_headers)
        self.pollers = [_Poller(port, headers) for port in self.uwsgi.ports]
        for poller in self.pollers:
            poller.start()
        self.addCleanup(self._halt)

    @classmethod
    def _started(cls, box, binary):
        """uWSGI over the sandbox's databases, for every test of the class.

        Its configuration has the sandbox's pipeline (the filter, Nova's
        value stripped behind it), Nova's policy file with the owner rule,
        and no ``[cache]``.
        """
        if cls._uwsgi is None:
            config = box.config_dir(
                tempfile.mkdtemp(prefix='uwsgi-', dir=box.path),
                base.ADMIN_OR_OWNER)
            with open(os.path.join(config, 'nova.conf')) as f:
                if '[cache]' in f.read():
                    raise AssertionError('[cache] in %s/nova.conf' % config)
            with open(os.path.join(config, 'api-paste.ini')) as f:
                if sandbox.STRIP_NAME not in f.read():
                    raise AssertionError("Nova's host_status is not "
                                         'stripped behind the filter')
            uwsgi = launchers.Uwsgi(config, WORKERS, binary)
            uwsgi.start()
            cls._uwsgi = uwsgi
        return cls._uwsgi

    def _introduce(self, port, headers):
        """Have the worker on ``port`` validate the caller's token.

        The first request of a new token makes Nova's authtoken ask the
        sandbox's Keystone, which, on a busy machine, may answer 503
        "The Keystone service is temporarily unavailable"; authtoken then
        keeps the validation for minutes.  That is Keystone's start-up
        latency, not the filter's or Nova's: it is paid here, with a retry,
        before anything is measured, and any failure after it counts.
        """
        for _ in range(5):
            result = launchers.call(port, 'GET', '/servers/detail',
                                    headers)
            if result.status != 503:
                break
            time.sleep(1)
        self.assertEqual(200, result.status, result)

    def _halt(self):
        for poller in self.pollers:
            poller.halt.set()
        for poller in self.pollers:
            poller.join(60)

    def expected(self, down=None, value='DOWN'):
        return {server: value if host == down else 'UP'
                for server, host in self.host_of.items()}

    def report(self):
        lines = ['%-36s %8s %9s %6s %6s  %s' % (
            'change', 'listings', 'stale (s)', 'flips', 'errors',
            'next request')]
        for what, found in self.measured:
            lines.append('%-36s %8d %9.3f %6d %6d  %s' % (
                what, found['listings'], found['stale'], found['flips'],
                found['errors'],
                ' '.join('worker %d %s' % (number, 'new' if next_ else 'OLD')
                         for number, next_ in enumerate(found['next'], 1))))
        return '\n'.join(lines) + '\n'

    def watch(self, what, change, new):
        """Make ``change``, see it through every worker, and measure it."""
        for poller in self.pollers:
            self.assertTrue(poller.is_alive())
        change()
        answered = time.monotonic()
        deadline = answered + PATIENCE
        while time.monotonic() < deadline:
            if all(len([s for s in poller.after(answered) if s[2] == new])
                   >= HOLD for poller in self.pollers):
                break
            time.sleep(0.02)
        else:
            self.fail('%s: not seen through every worker within %d s: %s'
                      % (what, PATIENCE, self.report()))
        found = figures(self.pollers, answered, new)
        self.measured.append((what, found))
        return found

    def force(self, port, host, forced, form):
        path, body = sandbox.force_down_request(
            form, host, self.services[host], forced)
        headers = dict(self.admin_headers,
                       **{'OpenStack-API-Version': 'compute %s' % form})
        result = launchers.call(port, 'PUT', path, headers, body)
        self.assertEqual(200, result.status, result)

    def assertOneTruth(self):
        """Stale window 0 s, 0 flip-backs, 0 errors, every next request."""
        self.assertNotEqual([], self.measured)
        failed = [failure for poller in self.pollers
                  for failure in list(poller.failures)]
        self.assertEqual([], failed)
        for what, found in self.measured:
            found = dict(found)
            self.assertGreaterEqual(found.pop('listings'), HOLD * WORKERS)
            self.assertEqual(
                {'stale': 0.0, 'flips': 0, 'errors': 0,
                 'next': [True] * WORKERS}, found,
                '%s\n%s' % (what, self.report()))

    def test_a_force_down_through_one_worker_shows_on_every_worker(self):
        a, b = self.uwsgi.ports
        self.watch('before', lambda: None, self.expected())
        for number in range(ROUNDS):
            host = self.hosts[number % len(self.hosts)]
            form = ('2.11', '2.53')[number % 2]
            writer, other = (a, b) if number % 2 == 0 else (b, a)
            self.watch('round %d: down via worker %d (%s)' % (
                number + 1, self.uwsgi.ports.index(writer) + 1, form),
                lambda: self.force(writer, host, True, form),
                self.expected(host))
            self.watch('round %d: up via worker %d (%s)' % (
                number + 1, self.uwsgi.ports.index(other) + 1, form),
                lambda: self.force(other, host, False, form),
                self.expected())
        self.assertOneTruth()

    def test_a_change_behind_the_api_shows_on_every_worker(self):
        """Forced down and brought back in the database, through Nova's
        objects, as nova-manage or another controller would: the very next
        request of every worker reads DOWN, then UP.
        """
        self.watch('before', lambda: None, self.expected())
        for number in range(ROUNDS):
            host = self.hosts[number % len(self.hosts)]
            self.watch('round %d: down in the database' % (number + 1),
                       lambda: self.sandbox.update_service(
                           host, forced_down=True),
                       self.expected(host))
            self.watch('round %d: up in the database' % (number + 1),
                       lambda: self.sandbox.update_service(
                           host, forced_down=False),
                       self.expected())
        self.assertOneTruth()
