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

"""How the filter's cost grows with the number of compute hosts, in one run.

A large cloud has 10,000 compute hosts or more, and Nova's own listing of
its services then takes seconds: the filter must not pay for the cloud on
each request. One sandbox (real Nova, in-process, Nova's own host_status
removed behind the filter so that every value is the filter's) grows in
steps by bulk-inserting idle compute services; at each size it measures:

1. Nova's own ``GET /os-services?binary=nova-compute`` (the filter's
   internal lookup, when it makes one).
2. A 2.53 force-down through the filter, with its state of services older
   than ``service_cache_time`` (expired) and right after a listing (fresh),
   and the same call to Nova alone.
3. The owner's first ``GET /servers/detail`` after a force-down of one of
   its hosts (fresh; and expired, where it also pays whatever refresh
   is due), and the same listing repeated (steady).
4. The filter's share of a steady 20-server and 1,000-server listing: the
   request through the filter minus the same request to Nova alone, and
   the time spent in the filter itself, internal calls included (measured
   inside the pipeline, without Nova's and the stripper's time).
5. The filter's internal calls per 100 listings by 10 owners in turn.

Every figure is the median of its tries; ratios within one run are what
compare between machines. At the end, the acceptance targets at 10,000
hosts (or the largest size measured) are checked; the exit status is 0
whatever they say.

    python benchmarks/scale.py [--hosts 100,1000,10000,20000] [--tries 3]
                               [--quick] [--json FILE]

Needs the ``nova`` extra (``tox -e bench``).
"""

import argparse
import json
import statistics
import sys
import time

from oslo_config import cfg

from nova_hoststatus.tools import sandbox
# The other benchmarks sit beside this one (run as a script: on sys.path).
import nova_overhead

OWNER_RULE = {'os_compute_api:servers:show:host_status': 'rule:admin_or_owner'}
VERSION = '2.53'
ADMIN = ('admin', 'admin', sandbox.ADMIN_ROLES)
OWNER = ('vnf-project', 'vnf-user', sandbox.MEMBER_ROLES)
BIG_OWNER = ('big-project', 'big-user', sandbox.MEMBER_ROLES)
POLLERS = [('poll-project-%02d' % n, 'poll-user-%02d' % n,
            sandbox.MEMBER_ROLES) for n in range(10)]
REAL_HOSTS = 4
OWNER_SERVERS = 20
BIG_SERVERS = 1000
POLL_SERVERS = 2
POLLS = 100
# Marks the requests the benchmark sends, so that those the filter makes
# on its own can be told apart behind it.
MARK = 'X-Benchmark-Call'
MARK_ENVIRON = 'HTTP_X_BENCHMARK_CALL'
SERVICES_PATH = '/os-services?binary=nova-compute'
DETAIL = '/servers/detail'
BIG_DETAIL = '/servers/detail?limit=%d' % BIG_SERVERS

# Acceptance targets.
FORCE_DOWN_EXTRA_PCT = 5.0
FORCE_DOWN_EXTRA_MS = 10.0
FIRST_OVER_STEADY = 1.2
# Pairs of listings (the first after a force-down, and the next) per size.
PAIRS = 9
SHARE_GROWTH = 1.2


def bulk_name(number):
    return 'bulk-%06d.compute.example.org' % number


class Behind(nova_overhead.Stopwatch):
    """What passes from the filter to Nova.

    Adds up the time of the benchmark's own requests (Nova's share) and
    records the calls the filter makes on its own (unmarked), whose time
    is the filter's.
    """

    def __init__(self, app):
        super(Behind, self).__init__(app)
        self.internal = []

    def __call__(self, environ, start_response):
        if MARK_ENVIRON not in environ:
            self.internal.append('%s %s?%s' % (
                environ.get('REQUEST_METHOD'), environ.get('PATH_INFO'),
                environ.get('QUERY_STRING', '')))
            return list(self.app(environ, start_response))
        return super(Behind, self).__call__(environ, start_response)


class Timing(object):
    """One request: its result, time, the filter's own time, its calls."""

    def __init__(self, result, seconds, own, internal):
        self.result = result
        self.ms = seconds * 1e3
        self.own_ms = own * 1e3
        self.internal = internal


def median(values):
    return statistics.median(values) if values else None


class Cloud(object):
    """The sandbox, its instrumented filter, and the records measured."""

    def __init__(self, box, log):
        self.box = box
        self.log = log
        parent, name, hs_filter = nova_overhead.find_filter(box.app)
        self.around = nova_overhead.Stopwatch(hs_filter)
        setattr(parent, name, self.around)
        self.behind = hs_filter.application = Behind(hs_filter.application)
        self.cache_time = cfg.CONF.host_status.service_cache_time
        hosts = ['node-%04d.compute.example.org' % n
                 for n in range(REAL_HOSTS)]
        self.service = {host: box.create_host(host) for host in hosts}
        self.victim = hosts[0]
        self.owner_servers = {
            box.create_server(OWNER[0], OWNER[1], hosts[n % REAL_HOSTS]):
            hosts[n % REAL_HOSTS] for n in range(OWNER_SERVERS)}
        for n in range(len(POLLERS) * POLL_SERVERS):
            project, user, _ = POLLERS[n % len(POLLERS)]
            box.create_server(project, user, hosts[n % REAL_HOSTS])
        start = time.perf_counter()
        for n in range(BIG_SERVERS):
            box.create_server(BIG_OWNER[0], BIG_OWNER[1],
                              hosts[n % REAL_HOSTS])
        self.log('created %d servers in %.0f s' % (
            BIG_SERVERS, time.perf_counter() - start))
        self.size = REAL_HOSTS

    def grow(self, size):
        """Add idle compute services up to ``size`` hosts in all."""
        start = time.perf_counter()
        self.box.create_hosts_bulk(
            [bulk_name(n) for n in range(self.size - REAL_HOSTS,
                                         size - REAL_HOSTS)])
        self.log('%d hosts (%d added in %.1f s)' % (
            size, size - self.size, time.perf_counter() - start))
        self.size = size

    def call(self, method, path, caller, body=None, nova=False):
        project, user, roles = caller
        self.around.spent = self.behind.spent = 0.0
        made = len(self.behind.internal)
        start = time.perf_counter()
        result = self.box.request(
            method, path, project, user_id=user, roles=roles,
            version=VERSION, body=body, nova=nova, headers={MARK: '1'})
        seconds = time.perf_counter() - start
        if not 200 <= result.status < 300:
            raise RuntimeError('%s %s: %r' % (method, path, result))
        return Timing(result, seconds, self.around.spent - self.behind.spent,
                      len(self.behind.internal) - made)

    def owner_listing(self, expected_down=None):
        """The owner's 20-server listing, its host_status checked."""
        timing = self.call('GET', DETAIL, OWNER)
        shown = {server['id']: server.get('host_status')
                 for server in timing.result.json['servers']}
        wanted = {server: 'DOWN' if host == expected_down else 'UP'
                  for server, host in self.owner_servers.items()}
        if shown != wanted:
            raise RuntimeError('unexpected host_status: %s' % shown)
        return timing

    def force(self, forced, nova=False):
        return self.call('PUT', '/os-services/%s' % self.service[self.victim],
                         ADMIN, {'forced_down': forced}, nova=nova)

    def measure(self, tries):
        """Every figure at the current size, as one row of the table."""
        row = {'hosts': self.size}
        row['nova_services_ms'] = median([
            self.call('GET', SERVICES_PATH, ADMIN, nova=True).ms
            for _ in range(tries)])
        row.update(self.force_down(tries))
        row.update(self.shares(tries))
        row.update(self.poll())
        return row

    def force_down(self, tries):
        """Force-down on Nova alone, then through the filter, expired and
        fresh, each followed by the owner's first listing.

        After the fresh one the same listing is made once more: the first
        and the second of each pair compare at one moment of the run.
        """
        nova, expired, fresh, calls = [], [], [], []
        first, second, first_own, first_expired = [], [], [], []
        for _ in range(tries):
            nova.append(self.force(True, nova=True).ms)
            self.force(False, nova=True)
        for _ in range(max(tries, PAIRS)):
            self.owner_listing()
            time.sleep(self.cache_time + 0.5)
            expired.append(self.force(True).ms)
            first_expired.append(self.owner_listing(self.victim).ms)
            self.force(False)
            self.owner_listing()
            timing = self.force(True)
            fresh.append(timing.ms)
            calls.append(timing.internal)
            listing = self.owner_listing(self.victim)
            first.append(listing.ms)
            first_own.append(listing.own_ms)
            second.append(self.owner_listing(self.victim).ms)
            self.force(False)
        return {'force_down_nova_ms': median(nova),
                'force_down_expired_ms': median(expired),
                'force_down_fresh_ms': median(fresh),
                'force_down_fresh_calls': max(calls),
                'first_listing_ms': median(first),
                'first_listing_own_ms': median(first_own),
                'second_listing_ms': median(second),
                'first_after_expired_ms': median(first_expired)}

    def shares(self, tries):
        """Steady listings: the same one repeated through the filter, then
        to Nova alone (in turn, a 1,000-server listing to Nova alone would
        let the filter's state expire between two through the filter).
        """
        row = {}
        for label, caller, path, rounds in (
                ('20', OWNER, DETAIL, 3 * tries),
                ('1000', BIG_OWNER, BIG_DETAIL, tries)):
            self.call('GET', path, caller)
            ours = [self.call('GET', path, caller) for _ in range(rounds)]
            nova = [self.call('GET', path, caller, nova=True)
                    for _ in range(rounds)]
            count = len(ours[0].result.json['servers'])
            if count != int(label):
                raise RuntimeError('listed %d servers, not %s'
                                   % (count, label))
            ours_ms = median([t.ms for t in ours])
            nova_ms = median([t.ms for t in nova])
            row.update({
                'steady_%s_ms' % label: ours_ms,
                'nova_%s_ms' % label: nova_ms,
                'share_%s_ms' % label: ours_ms - nova_ms,
                'own_%s_ms' % label: median([t.own_ms for t in ours]),
                'steady_%s_calls' % label: sum(t.internal for t in ours)})
        return row

    def poll(self):
        """10 owners list their servers in turn: the filter's calls."""
        timings = [self.call('GET', DETAIL, POLLERS[n % len(POLLERS)])
                   for n in range(POLLS)]
        return {'poll_calls_per_100': sum(t.internal for t in timings)
                * 100 // POLLS,
                'poll_ms': median([t.ms for t in timings])}


# Report

def _ms(value):
    return '-' if value is None else '%.1f' % value


ROWS = [
    ('Nova GET /os-services ms', 'nova_services_ms', _ms),
    ('force-down, Nova alone ms', 'force_down_nova_ms', _ms),
    ('force-down, expired ms', 'force_down_expired_ms', _ms),
    ('force-down, fresh ms', 'force_down_fresh_ms', _ms),
    ('  its internal calls', 'force_down_fresh_calls', str),
    ('owner 1st listing after ms', 'first_listing_ms', _ms),
    ('  filter own (inside) ms', 'first_listing_own_ms', _ms),
    ('  the next one ms', 'second_listing_ms', _ms),
    ('  after an expired one ms', 'first_after_expired_ms', _ms),
    ('owner steady listing ms', 'steady_20_ms', _ms),
    ('  Nova alone ms', 'nova_20_ms', _ms),
    ('  filter share (minus) ms', 'share_20_ms', _ms),
    ('  filter own (inside) ms', 'own_20_ms', _ms),
    ('  internal calls', 'steady_20_calls', str),
    ('1,000-server listing ms', 'steady_1000_ms', _ms),
    ('  Nova alone ms', 'nova_1000_ms', _ms),
    ('  filter share (minus) ms', 'share_1000_ms', _ms),
    ('  filter own (inside) ms', 'own_1000_ms', _ms),
    ('  internal calls', 'steady_1000_calls', str),
    ('10 owners: calls/100 req', 'poll_calls_per_100', str),
    ('10 owners: listing ms', 'poll_ms', _ms),
]


def print_table(rows):
    print('%-28s' % 'hosts' + ''.join('%12d' % row['hosts'] for row in rows))
    for label, key, text in ROWS:
        print('%-28s' % label + ''.join('%12s' % text(row[key])
                                        for row in rows))


def _verdict(ok):
    return 'PASS' if ok else 'over'


def acceptance(rows):
    """The three targets at 10,000 hosts, or the largest size measured."""
    at = next((row for row in rows if row['hosts'] == 10000), rows[-1])
    base = rows[0]
    lines = ['Acceptance at %d hosts (medians):' % at['hosts']]
    nova = at['force_down_nova_ms']
    for case in ('expired', 'fresh'):
        extra = at['force_down_%s_ms' % case] - nova
        pct = 100.0 * extra / nova
        ok = extra <= FORCE_DOWN_EXTRA_MS or pct <= FORCE_DOWN_EXTRA_PCT
        lines.append(
            '(a) force-down %-7s %8.1f ms vs Nova alone %.1f ms: +%.1f ms '
            '(+%.0f%%); target <= %.0f%% or %.0f ms: %s' % (
                case, at['force_down_%s_ms' % case], nova, extra, pct,
                FORCE_DOWN_EXTRA_PCT, FORCE_DOWN_EXTRA_MS, _verdict(ok)))
    for what, key in (('steady', 'steady_20_ms'),
                      ('the next one', 'second_listing_ms')):
        ratio = at['first_listing_ms'] / at[key]
        lines.append(
            '(b) owner first listing after a force-down %.1f ms / %s %.1f '
            'ms = %.2fx; target <= %.1fx: %s' % (
                at['first_listing_ms'], what, at[key], ratio,
                FIRST_OVER_STEADY, _verdict(ratio <= FIRST_OVER_STEADY)))
    for how, key in (('minus Nova alone', 'share_20_ms'),
                     ('inside the pipeline', 'own_20_ms')):
        now, then = at[key], base[key]
        if then > 0:
            ratio = now / then
            verdict = '%.2fx; target <= %.1fx: %s' % (
                ratio, SHARE_GROWTH, _verdict(ratio <= SHARE_GROWTH))
        else:
            verdict = 'no ratio: the share at %d hosts is not positive' % (
                base['hosts'])
        lines.append(
            '(c) filter share of a steady 20-server listing (%s) %.1f ms at '
            '%d hosts vs %.1f ms at %d: %s' % (
                how, now, at['hosts'], then, base['hosts'], verdict))
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--hosts', default='100,1000,10000,20000',
                        help='cloud sizes, in compute hosts, growing')
    parser.add_argument('--tries', type=int, default=3)
    parser.add_argument('--quick', action='store_true',
                        help='a smoke run: 100 and 1,000 hosts, 2 tries')
    parser.add_argument('--json', metavar='FILE',
                        help='also write the figures to FILE')
    args = parser.parse_args()
    sizes = [int(size) for size in args.hosts.split(',')]
    tries = args.tries
    if args.quick:
        sizes, tries = [100, 1000], min(tries, 2)
    if sizes != sorted(sizes) or sizes[0] < REAL_HOSTS:
        parser.error('--hosts must grow, from at least %d' % REAL_HOSTS)

    def log(message):
        print('[%6.0f s] %s' % (time.monotonic() - began, message),
              flush=True)

    began = time.monotonic()
    box = sandbox.shared(strip_nova=True, identity=sandbox.HEADERS)
    box.set_policy(OWNER_RULE)
    cloud = Cloud(box, log)
    log('service_cache_time %.1f s; medians of %d tries (steady 20-server '
        'listings: %d)' % (cloud.cache_time, tries, 3 * tries))
    rows = []
    for size in sizes:
        cloud.grow(size)
        rows.append(cloud.measure(tries))
        log('measured at %d hosts' % size)
        # A long run that is cut short still shows what it measured.
        print_table(rows)
        sys.stdout.flush()
    print()
    lines = acceptance(rows)
    print('\n'.join(lines))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump({'tries': tries, 'cache_time': cloud.cache_time,
                       'rows': rows, 'acceptance': lines}, f, indent=2)
    return 0


if __name__ == '__main__':
    sys.exit(main())
