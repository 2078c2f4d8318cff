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

"""How the filter's cost grows with API workers and threads, in one run.

Nova's API runs under uWSGI over one sandbox's databases (real Nova, the
header stand-in for identity), with no ``[cache]``: every worker reads
Nova's records itself.  For each configuration of W worker processes of T
threads each, the same uWSGI processes serve three pipelines:

``nova``
    Nova alone.
``kept``
    the filter in front of Nova, keeping Nova's own value (as deployed).
``computed``
    the filter computing every value from Nova's records for the servers
    of the response (Nova's own value stripped behind it).

W x T clients, each bound to one worker's port (``--map-socket``), list
the owner's servers (``GET /servers/detail`` at 2.16, owner rule, every
server shows ``host_status``) without pause; the pipelines take turns in
short slices, so that drift on a shared machine falls on all three alike.
For each configuration and pipeline: requests, throughput, median and
90th percentile latency, and the CPU time the workers spent per request
(from ``/proc``: what a request costs the API, whatever else the machine
runs); the filter's share (``kept`` and ``computed`` minus ``nova``, in
CPU per request and in median latency); and, against the first
configuration of the same run, the ratios that say how the cost grows.
After the load, a host is forced down and back through worker 1 and the
very next listing of every worker is read: stale listings must be 0 in
every configuration.

    tox -e bench   # or: python benchmarks/workers.py [--configs 1x1,2x1]
                   #     [--seconds 6] [--servers 20]

Needs the ``nova`` and ``workers`` extras (uWSGI builds from source: it
needs a C compiler).
"""

import argparse
import http.client
import json
import os
import statistics
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..'))

from nova_hoststatus.tools import launchers  # noqa: E402
from nova_hoststatus.tools import sandbox  # noqa: E402

OWNER_RULE = {'os_compute_api:servers:show:host_status': 'rule:admin_or_owner'}
OWNER = ('bench-project', 'bench-owner')
# URL prefixes of the pipelines, added to Nova's URL map in the benchmark's
# own copy of the paste file.
PIPELINES = (('nova', '/nova/v2.1', 'openstack_compute_api_v21_nova'),
             ('kept', '/kept/v2.1', 'openstack_compute_api_v21_kept'),
             ('computed', '/v2.1', None))
NAMES = [name for name, _, _ in PIPELINES]
HOSTS = 4
# Turns each pipeline takes per configuration.
SLICES = 6
TICK = os.sysconf('SC_CLK_TCK')


def parse_configs(text):
    """``'1x1,2x1'`` -> ``[(1, 1), (2, 1)]`` (workers x threads)."""
    configs = []
    for item in text.split(','):
        workers, _, threads = item.strip().partition('x')
        configs.append((int(workers), int(threads or 1)))
    if any(w < 1 or t < 1 for w, t in configs):
        raise argparse.ArgumentTypeError('workers and threads are >= 1')
    return configs


def get(port, path, headers, timeout=60):
    """One GET to the worker on ``port``: (status, decoded JSON or None)."""
    conn = http.client.HTTPConnection('127.0.0.1', port, timeout=timeout)
    try:
        conn.request('GET', path, headers=headers)
        resp = conn.getresponse()
        body = resp.read()
        return resp.status, (json.loads(body) if resp.status == 200
                             else None)
    finally:
        conn.close()


class Cloud(object):
    """Hosts and the owner's servers in the sandbox."""

    def __init__(self, box, servers):
        self.box = box
        self.hosts = ['bench-compute-%d' % n for n in range(HOSTS)]
        self.services = {host: box.create_host(host) for host in self.hosts}
        self.host_of = {}
        for number in range(servers):
            host = self.hosts[number % HOSTS]
            self.host_of[box.create_server(OWNER[0], OWNER[1], host)] = host
        self.headers = box.headers(OWNER[0], OWNER[1], version='2.16')

    def expected(self, down=None):
        return {server: 'DOWN' if host == down else 'UP'
                for server, host in self.host_of.items()}

    def listing(self, port, prefix='/v2.1'):
        status, doc = get(port, prefix + '/servers/detail', self.headers)
        if status != 200:
            return None
        return {s['id']: s.get('host_status') for s in doc['servers']}

    def force(self, port, host, forced):
        path, body = sandbox.force_down_request(
            '2.53', host, self.services[host], forced)
        result = launchers.call(port, 'PUT', path, self.box.headers(
            'admin', 'admin', sandbox.ADMIN_ROLES, '2.53'), body)
        if result.status != 200:
            raise RuntimeError('force-down answered %r' % result)


def config_dir(box, workers, threads):
    """A config dir for uWSGI whose URL map serves the three pipelines."""
    path = box.config_dir(
        tempfile.mkdtemp(prefix='bench-%dx%d-' % (workers, threads),
                         dir=box.path), OWNER_RULE)
    paste = os.path.join(path, 'api-paste.ini')
    with open(paste) as f:
        text = f.read()
    with open(os.path.join(path, 'nova.conf')) as f:
        if '[cache]' in f.read():
            raise RuntimeError('the workers must share no [cache]')
    extra = ''.join('%s/+ = %s\n' % (prefix, composite)
                    for _, prefix, composite in PIPELINES if composite)
    marker = '[composite:osapi_compute]\n'
    at = text.index(marker) + len(marker)
    with open(paste, 'w') as f:
        f.write(text[:at] + extra + text[at:])
    return path


def cpu_seconds(pids):
    """User and system CPU time the processes ``pids`` used so far."""
    total = 0
    for pid in pids:
        with open('/proc/%d/stat' % pid) as f:
            fields = f.read().rsplit(')', 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / TICK


def load(cloud, ports, threads, prefix, seconds):
    """Every client lists for ``seconds``; returns latencies and errors."""
    stop = time.monotonic() + seconds
    latencies = []
    errors = []
    expected = cloud.expected()

    def client(port):
        path = prefix + '/servers/detail'
        while time.monotonic() < stop:
            began = time.perf_counter()
            try:
                status, doc = get(port, path, cloud.headers)
            except (OSError, http.client.HTTPException) as exc:
                errors.append(repr(exc))
                continue
            took = time.perf_counter() - began
            if status != 200 or {s['id']: s.get('host_status')
                                 for s in doc['servers']} != expected:
                errors.append(status)
                continue
            latencies.append(took)

    clients = [threading.Thread(target=client, args=(port,), daemon=True)
               for port in ports for _ in range(threads)]
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join()
    return latencies, errors


def next_requests(cloud, ports):
    """Stale listings: the very next listing of every worker after a
    force-down and after its undoing, through worker 1, that still shows
    the old value; and the listings that failed.
    """
    stale = errors = 0
    host = cloud.hosts[0]
    for forced in (True, False):
        cloud.force(ports[0], host, forced)
        expected = cloud.expected(host if forced else None)
        for port in ports:
            answer = cloud.listing(port)
            if answer is None:
                errors += 1
            elif answer != expected:
                stale += 1
    return stale, errors


def measure(box, cloud, workers, threads, seconds, log):
    """One configuration: every pipeline under load, then the next reads.
    """
    with launchers.Uwsgi(config_dir(box, workers, threads), workers,
                         threads=threads) as uwsgi:
        for port in uwsgi.ports:
            for name, prefix, _ in PIPELINES:
                for _ in range(3):
                    if cloud.listing(port, prefix) != cloud.expected():
                        raise RuntimeError('worker on %d does not answer '
                                           'through %s' % (port, name))
        pids = uwsgi.worker_pids()
        if len(pids) != workers:
            raise RuntimeError('uWSGI runs %d workers, not %d'
                               % (len(pids), workers))
        found = {name: ([], [], [0.0]) for name in NAMES}
        for _ in range(SLICES):
            for name, prefix, _ in PIPELINES:
                used = cpu_seconds(pids)
                latencies, errors = load(cloud, uwsgi.ports, threads, prefix,
                                         seconds / SLICES)
                found[name][2][0] += cpu_seconds(pids) - used
                found[name][0].extend(latencies)
                found[name][1].extend(errors)
        stale, failed = next_requests(cloud, uwsgi.ports)
    row = {'config': '%dx%d' % (workers, threads),
           'clients': workers * threads, 'stale': stale,
           'next_errors': failed}
    for name, (latencies, errors, [cpu]) in found.items():
        if len(latencies) < 2:
            raise RuntimeError('%s: too few listings succeeded (%s)'
                               % (name, errors[:3]))
        row[name] = {
            'requests': len(latencies), 'errors': len(errors),
            'rps': len(latencies) / seconds,
            'median_ms': statistics.median(latencies) * 1e3,
            'p90_ms': statistics.quantiles(latencies, n=10)[-1] * 1e3,
            'cpu_ms': cpu / (len(latencies) + len(errors)) * 1e3,
        }
    for name in ('kept', 'computed'):
        row['added_' + name] = (row[name]['median_ms']
                                - row['nova']['median_ms'])
        row['cpu_added_' + name] = (row[name]['cpu_ms']
                                    - row['nova']['cpu_ms'])
    log('measured %s: %s' % (row['config'], ', '.join(
        '%s %.1f ms (cpu %.1f ms)' % (name, row[name]['median_ms'],
                                      row[name]['cpu_ms'])
        for name in NAMES)))
    return row


def print_tables(rows, servers, seconds):
    print('\nGET /servers/detail, %d servers, each with host_status; %g s '
          'of load per pipeline per configuration (W workers x T threads, '
          'W x T clients):\n' % (servers, seconds))
    print('%-7s %-9s %8s %6s %7s %9s %7s %8s %8s %8s' % (
        'config', 'pipeline', 'requests', 'errors', 'req/s', 'median ms',
        'p90 ms', 'cpu ms', '+cpu ms', '+med ms'))
    for row in rows:
        for name in NAMES:
            figures = row[name]
            added = ('%8.1f %8.1f' % (row['cpu_added_' + name],
                                      row['added_' + name])
                     if name != 'nova' else '%8s %8s' % ('-', '-'))
            print('%-7s %-9s %8d %6d %7.1f %9.1f %7.1f %8.1f %s' % (
                row['config'] if name == 'nova' else '', name,
                figures['requests'], figures['errors'], figures['rps'],
                figures['median_ms'], figures['p90_ms'], figures['cpu_ms'],
                added))
    base = rows[0]
    print('\nRatios against %s, this run:\n' % base['config'])
    print('%-7s %7s %9s %9s %9s %9s %9s %9s %9s %5s' % (
        'config', 'clients', 'cpu nova', 'cpu comp', '+cpu comp',
        '+cpu kept', 'med nova', 'med comp', 'req/s cmp', 'stale'))

    def ratio(row, *keys):
        value, of = row, base
        for key in keys:
            value, of = value[key], of[key]
        return '%.2fx' % (value / of) if of > 0 else '-'
    for row in rows:
        print('%-7s %7d %9s %9s %9s %9s %9s %9s %9s %5d' % (
            row['config'], row['clients'],
            ratio(row, 'nova', 'cpu_ms'), ratio(row, 'computed', 'cpu_ms'),
            ratio(row, 'cpu_added_computed'), ratio(row, 'cpu_added_kept'),
            ratio(row, 'nova', 'median_ms'),
            ratio(row, 'computed', 'median_ms'),
            ratio(row, 'computed', 'rps'), row['stale']))
    print('\ncpu ms: CPU time of the workers per request; +cpu ms, +med '
          'ms: the pipeline minus Nova alone, same configuration (kept: '
          'the filter deciding and keeping Nova\'s value; computed: the '
          'filter also reading Nova\'s records, besides Nova computing the '
          'value it strips); stale: the very next listing of a worker, '
          'after a force-down or its undoing through worker 1, that showed '
          'the old value.')


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--configs', type=parse_configs,
                        default=parse_configs('1x1,2x1,4x1,1x2,1x4,2x2'),
                        help='workers x threads, comma-separated (default '
                             '1x1,2x1,4x1,1x2,1x4,2x2)')
    parser.add_argument('--seconds', type=float, default=6.0,
                        help='seconds of load per pipeline and '
                             'configuration (default 6)')
    parser.add_argument('--servers', type=int, default=20,
                        help="the owner's servers (default 20)")
    parser.add_argument('--json', metavar='FILE',
                        help='also write the figures to FILE')
    args = parser.parse_args()
    try:
        launchers.uwsgi_binary()
    except launchers.Missing as exc:
        print('Skipped: %s' % exc)
        return 0
    began = time.monotonic()

    def log(message):
        print('[%5.0f s] %s' % (time.monotonic() - began, message),
              flush=True)

    box = sandbox.shared(strip_nova=True, identity=sandbox.HEADERS)
    cloud = Cloud(box, args.servers)
    rows = [measure(box, cloud, workers, threads, args.seconds, log)
            for workers, threads in args.configs]
    print_tables(rows, args.servers, args.seconds)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(rows, f, indent=2)
    failed = [row['config'] for row in rows
              if row['stale'] or row['next_errors']]
    if failed:
        print('FAIL: stale or failed next listings in %s'
              % ', '.join(failed))
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
