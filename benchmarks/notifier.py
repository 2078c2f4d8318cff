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

"""Whether the notification agent tells every change once under a storm.

The requirement: under 10 force-downs a second for a minute, with 50
servers per host, no change is lost, none is told twice, and the agent's
memory stays flat.

Real RabbitMQ on loopback, real Nova in this process (the sandbox, on
sqlite, the header stand-in for identity) sending its versioned
``service.update`` to RabbitMQ, and ``--agents`` real ``nova-hoststatus
notifier`` processes on the same databases, sharing one store (sqlite)
and one tooz ``file://`` backend, under a policy that lets a project's
members see host_status (``admin_or_owner``). Every host carries
``--servers-per-host`` servers of several projects.

After ``--warmup`` seconds of the same load (counted, but not in the
memory figures: an agent's first minute fills its caches and connection
pools), at ``--rate`` changes a second for ``--seconds``, the hosts are forced
down and back up in rotation through Nova's own ``Service.save`` (which
sends ``service.update``), so each host changes every ``hosts / rate``
seconds; each change is recorded (host, old and new host_status, the time
just before the save: the figures include the save itself). A listener
of its own (a pool on Nova's exchange, topic ``notifications``) records
every ``hoststatus.server.update`` the agents send. After the load it
waits until every expected notification came, plus a quiet spell for
late repeats, or for at most ``--drain`` seconds.

Each notification is matched to the latest change of its server's host
with the same old and new host_status made before the notification's
``changed_at`` (the agent's claim). Reported:

- changes made and the rate achieved, notifications expected (each
  change times the servers on its host), received, lost (expected, never
  received), repeated (the same server and change received more than
  once) and unexpected (matching no change); the changes the agents told
  (distinct claims) and, of those, the stale ones: a host_status the host
  no longer had when the agent claimed it (its owners are told a state
  Nova does not show; the next look tells the real one);
- latency from the change to its notifications: median, 95th percentile
  and maximum over every notification, and over changes to the last of
  their notifications (the whole host told);
- each agent's resident memory (``VmRSS``, sampled every second): mean
  of the load's first and last 10 s, their ratio, the maximum, the slope
  of a least-squares line over the load and the mean of each 10 s (does
  it level off?); its CPU time over load and drain, and the changes it
  told (its log).

The exit status is 1 if anything was lost, repeated or unexpected. The
machine is shared: RabbitMQ, the sandbox, the agents and this listener
all run on it, so latencies are an upper bound; counts are exact.

    .tox/telemetry/bin/python benchmarks/notifier.py [--rate 10]
        [--seconds 60] [--servers-per-host 50] [--hosts 40] [--agents 2]

Needs RabbitMQ (``bindep.txt``) and the ``nova`` and ``telemetry`` extras
(``tox -e telemetry --notest`` makes such an environment, or
``tox -e bench-notifier``).
"""

import argparse
import bisect
import collections
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..'))

from nova_hoststatus.notifier import changes  # noqa: E402
from nova_hoststatus.tools import sandbox  # noqa: E402
from nova_hoststatus.tools import telemetry  # noqa: E402

OWNER_RULE = {'os_compute_api:servers:show:host_status': 'rule:admin_or_owner'}
PROJECTS = 5
POOL = 'nova-hoststatus-bench'
TICK = os.sysconf('SC_CLK_TCK')
# Seconds of the load whose memory is compared: its first and its last.
WINDOW = 10.0
# After every expected notification came, how long to wait for repeats:
# several scans of every agent.
QUIET = 5.0
LISTENER_CONF = """\
[oslo_messaging_rabbit]
amqp_durable_queues = true
"""

Change = collections.namedtuple('Change', 'host old new at')


BEGAN = time.monotonic()


def log(message):
    print('[%6.1f s] %s' % (time.monotonic() - BEGAN, message), flush=True)


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def stamp(text):
    """``changed_at`` of a payload, as seconds since the epoch."""
    from oslo_utils import timeutils
    return timeutils.parse_isotime(text).timestamp()


class Counter(object):
    """Every ``hoststatus.server.update`` on Nova's exchange, with the
    time it arrived, through a pool of its own.
    """

    filter_rule = None

    def __init__(self, path, url):
        from oslo_config import cfg
        import oslo_messaging
        config = os.path.join(path, 'listener.conf')
        with open(config, 'w') as f:
            f.write(LISTENER_CONF)
        conf = cfg.ConfigOpts()
        conf(['--config-file', config], project='nova-hoststatus-bench')
        self.transport = oslo_messaging.get_notification_transport(
            conf, url=url)
        self.received = []
        self._cond = threading.Condition()
        self.listener = oslo_messaging.get_notification_listener(
            self.transport,
            [oslo_messaging.Target(topic=telemetry.NOTIFICATION_TOPIC,
                                   exchange=telemetry.NOVA_EXCHANGE)],
            [self], executor='threading', pool=POOL)

    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        arrived = time.time()
        if event_type == changes.EVENT_TYPE:
            with self._cond:
                self.received.append((arrived, payload))
                self._cond.notify_all()

    def count(self):
        with self._cond:
            return len(self.received)

    def drain(self, expected, timeout):
        """Until ``expected`` came and ``QUIET`` seconds passed without
        another one, or ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            while time.monotonic() < deadline:
                if len(self.received) < expected:
                    self._cond.wait(deadline - time.monotonic())
                    continue
                seen = len(self.received)
                self._cond.wait(min(QUIET, deadline - time.monotonic()))
                if len(self.received) == seen:
                    break

    def start(self):
        self.listener.start()

    def stop(self):
        self.listener.stop()
        self.listener.wait()
        self.transport.cleanup()


class Sampler(object):
    """VmRSS of the agents every second, and their CPU time."""

    def __init__(self, pids):
        self.pids = list(pids)
        self.samples = {pid: [] for pid in self.pids}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def rss(pid):
        """Resident memory of ``pid``, in MiB."""
        with open('/proc/%d/status' % pid) as f:
            for line in f:
                if line.startswith('VmRSS:'):
                    return int(line.split()[1]) / 1024.0
        raise RuntimeError('no VmRSS for %d' % pid)

    @staticmethod
    def cpu(pid):
        """User and system CPU seconds ``pid`` used so far."""
        with open('/proc/%d/stat' % pid) as f:
            fields = f.read().rsplit(')', 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK

    def _run(self):
        while not self._stop.is_set():
            now = time.time()
            for pid in self.pids:
                self.samples[pid].append((now, self.rss(pid)))
            self._stop.wait(1.0)

    def start(self):
        self._thread.start()

    def stop(self):
        self._stop.set()
        self._thread.join()

    def memory(self, pid, began, ended):
        """Figures of ``pid``'s memory over the load ``began``-``ended``.
        """
        load = [(t, rss) for t, rss in self.samples[pid]
                if began <= t <= ended]
        window = min(WINDOW, (ended - began) / 2)
        first = statistics.mean(rss for t, rss in load
                                if t < began + window)
        last = statistics.mean(rss for t, rss in load
                               if t >= ended - window)
        slope = statistics.linear_regression(
            [t - began for t, _ in load], [rss for _, rss in load]).slope
        windows = collections.defaultdict(list)
        for t, rss in load:
            windows[int((t - began) // WINDOW)].append(rss)
        return {'first': first, 'last': last, 'ratio': last / first,
                'max': max(rss for _, rss in self.samples[pid]),
                'slope': slope * 60,
                'windows': [statistics.mean(windows[n])
                            for n in sorted(windows)]}


class Cloud(object):
    """Hosts with servers of several projects in the sandbox, and the
    changes made to them.
    """

    def __init__(self, box, hosts, servers_per_host):
        self.box = box
        self.hosts = ['bench-notifier-%d' % n for n in range(hosts)]
        self.host_of = {}
        self.servers = collections.Counter()
        projects = [box.project_id('bench-project-%d' % n)
                    for n in range(PROJECTS)]
        for host in self.hosts:
            box.create_host(host)
            for number in range(servers_per_host):
                project = projects[number % PROJECTS]
                server = box.create_server(project, project + '-user', host)
                self.host_of[server] = host
                self.servers[host] += 1
        self.down = dict.fromkeys(self.hosts, False)
        self.changes = []

    def storm(self, rate, seconds):
        """Force down or back up one host after another, ``rate`` a
        second, for ``seconds``; returns the seconds it took.
        """
        count = int(rate * seconds)
        began = time.monotonic()
        for number in range(count):
            pause = began + number / rate - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            host = self.hosts[number % len(self.hosts)]
            forced = not self.down[host]
            at = time.time()
            self.box.update_service(host, forced_down=forced)
            self.down[host] = forced
            self.changes.append(Change(host, 'DOWN' if not forced else 'UP',
                                       'DOWN' if forced else 'UP', at))
        return time.monotonic() - began


def tally(cloud, received):
    """Match each notification to its change; the counts and latencies."""
    by_host = collections.defaultdict(list)
    for number, change in enumerate(cloud.changes):
        by_host[change.host, change.old, change.new].append(
            (change.at, number))
    states = collections.defaultdict(list)
    for change in cloud.changes:
        states[change.host].append((change.at, change.new))
    told = collections.defaultdict(list)
    unexpected = 0
    claims = set()
    for arrived, payload in received:
        host = cloud.host_of.get(payload['server_id'])
        claims.add((host, payload['changed_at'], payload['host_status']))
        made = by_host.get((host, payload['old_host_status'],
                            payload['host_status']), [])
        # The latest such change of the host before the agent's claim.
        at = bisect.bisect_right(made, (stamp(payload['changed_at']),
                                        len(cloud.changes)))
        if not at:
            unexpected += 1
            continue
        told[made[at - 1][1], payload['server_id']].append(arrived)
    # A claim of a state the host was not in when the agent claimed it:
    # its owners are told a host_status Nova no longer shows.
    stale = 0
    for host, changed_at, new in claims:
        before = bisect.bisect_right(states[host], (stamp(changed_at), ''))
        now = states[host][before - 1][1] if before else 'UP'
        stale += now != new
    expected = sum(cloud.servers[change.host] for change in cloud.changes)
    latencies = []
    whole = collections.defaultdict(float)
    for (number, server), arrivals in told.items():
        took = min(arrivals) - cloud.changes[number].at
        latencies.append(took)
        whole[number] = max(whole[number], took)
    return {
        'changes': len(cloud.changes),
        'expected': expected,
        'received': len(received),
        'lost': expected - len(told),
        'repeated': sum(len(arrivals) - 1 for arrivals in told.values()),
        'unexpected': unexpected,
        'claims': len(claims),
        'stale': stale,
        'latencies': latencies,
        'whole': list(whole.values()),
    }


def told_by(agent):
    """Changes an agent told, from its log."""
    try:
        with open(agent.log) as f:
            return sum('notification(s) sent' in line for line in f)
    except OSError:
        return 0


def print_report(args, figures, storm_seconds, tail_seconds, agents,
                 memory, cpu):
    measured = int(args.rate * args.seconds)
    print('\n%d hosts x %d servers, %d agent(s); %d changes measured in '
          '%.1f s (%.2f/s, asked %g/s) after %d of warm-up; last '
          'notification %.1f s after the last change'
          % (args.hosts, args.servers_per_host, args.agents, measured,
             storm_seconds, measured / storm_seconds, args.rate,
             figures['changes'] - measured, tail_seconds))
    print('\n%-8s %8s %8s %8s %8s %10s %7s %6s' % (
        'changes', 'expected', 'received', 'lost', 'repeated',
        'unexpected', 'told', 'stale'))
    print('%-8d %8d %8d %8d %8d %10d %7d %6d' % (
        figures['changes'], figures['expected'], figures['received'],
        figures['lost'], figures['repeated'], figures['unexpected'],
        figures['claims'], figures['stale']))
    print('\nlatency, change to notification (s): %8s %8s %8s' % (
        'median', 'p95', 'max'))
    for label, values in (('each notification', figures['latencies']),
                          ('last of a change', figures['whole'])):
        if values:
            print('  %-35s %8.3f %8.3f %8.3f' % (
                label, statistics.median(values), percentile(values, 0.95),
                max(values)))
    print('\nagent  told  RSS MiB: first %2ds  last %2ds  ratio     max  '
          'MiB/min   CPU s  CPU ms/change' % (WINDOW, WINDOW))
    for number, agent in enumerate(agents, 1):
        mem = memory[agent.pid]
        told = told_by(agent)
        print('%5d %5d %17.1f %9.1f %6.3f %7.1f %8.2f %7.1f %14.1f' % (
            number, told, mem['first'], mem['last'], mem['ratio'],
            mem['max'], mem['slope'], cpu[agent.pid],
            1000.0 * cpu[agent.pid] / told if told else 0.0))
    print('\nRSS MiB, mean of each %d s of the load:' % WINDOW)
    for number, agent in enumerate(agents, 1):
        print('%5d  %s' % (number, ' '.join(
            '%.1f' % rss for rss in memory[agent.pid]['windows'])))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--rate', type=float, default=10.0,
                        help='changes a second (default %(default)s)')
    parser.add_argument('--seconds', type=float, default=60.0,
                        help='seconds of load (default %(default)s)')
    parser.add_argument('--servers-per-host', type=int, default=50,
                        help='servers on each host (default %(default)s)')
    parser.add_argument('--hosts', type=int, default=40,
                        help='hosts changed in rotation: each changes every '
                             'hosts/rate seconds (default %(default)s)')
    parser.add_argument('--agents', type=int, default=2,
                        help='notifier processes sharing the store and a '
                             'tooz backend (default %(default)s)')
    parser.add_argument('--scan-interval', type=float, default=1.0,
                        help='the agents\' scan_interval (default '
                             '%(default)s)')
    parser.add_argument('--warmup', type=float, default=60.0,
                        help='seconds of the same load before the measured '
                             'one: their changes are counted too, but the '
                             'memory is compared over the measured load '
                             'only, once the agents\' caches and pools '
                             'are warm (default %(default)s)')
    parser.add_argument('--json', metavar='FILE',
                        help='also write every change and every '
                             'notification received to FILE')
    parser.add_argument('--keep', action='store_true',
                        help='keep the working folder (the agents\' logs, '
                             'the store) and print where it is')
    parser.add_argument('--drain', type=float, default=120.0,
                        help='seconds to wait for the last notifications '
                             'after the load (default %(default)s)')
    args = parser.parse_args()
    if args.rate <= 0 or args.seconds <= 0 or min(
            args.hosts, args.servers_per_host, args.agents) < 1:
        parser.error('rate, seconds, hosts, servers and agents must be '
                     'positive')

    path = tempfile.mkdtemp(prefix='nova-hoststatus-bench-notifier-')
    rabbit = telemetry.RabbitMQ(os.path.join(path, 'rabbitmq'))
    box = sandbox.NovaSandbox(identity=sandbox.HEADERS,
                              notifications=rabbit.url)
    agents = []
    counter = None
    try:
        rabbit.start()
        log('RabbitMQ ready in %.1f s' % rabbit.startup_seconds)
        box.start()
        cloud = Cloud(box, args.hosts, args.servers_per_host)
        log('sandbox: %d hosts, %d servers' % (len(cloud.hosts),
                                               len(cloud.host_of)))
        counter = Counter(path, rabbit.url)
        counter.start()
        nova_config = box.config_dir(os.path.join(path, 'nova'), OWNER_RULE)
        store = 'sqlite:///%s' % os.path.join(path, 'store.sqlite')
        coordination = 'file://%s' % os.path.join(path, 'tooz')
        for number in range(args.agents):
            agent = telemetry.NotifierAgent(
                os.path.join(path, 'agent-%d' % number), nova_config, store,
                coordination_url=coordination,
                scan_interval=args.scan_interval)
            agent.start()
            agents.append(agent)
        log('%d agent(s) listening' % len(agents))
        sampler = Sampler(agent.pid for agent in agents)
        cpu_before = {agent.pid: sampler.cpu(agent.pid) for agent in agents}
        sampler.start()
        # A couple of scans first: each agent has seen every host.
        time.sleep(2 * args.scan_interval + 1)
        if args.warmup > 0:
            warm = cloud.storm(args.rate, args.warmup)
            log('warm-up: %d changes in %.1f s' % (len(cloud.changes), warm))
        began = time.time()
        storm_seconds = cloud.storm(args.rate, args.seconds)
        ended = time.time()
        expected = sum(cloud.servers[change.host]
                       for change in cloud.changes)
        log('%d changes made in %.1f s; %d of %d notifications so far'
            % (len(cloud.changes), storm_seconds, counter.count(),
               expected))
        counter.drain(expected, args.drain)
        sampler.stop()
        cpu = {agent.pid: sampler.cpu(agent.pid) - cpu_before[agent.pid]
               for agent in agents}
        memory = {agent.pid: sampler.memory(agent.pid, began, ended)
                  for agent in agents}
        received = list(counter.received)
        if args.json:
            with open(args.json, 'w') as f:
                json.dump({'changes': [c._asdict() for c in cloud.changes],
                           'host_of': cloud.host_of,
                           'received': received}, f)
        figures = tally(cloud, received)
        last = max((arrived for arrived, _ in received), default=ended)
        print_report(args, figures, storm_seconds, last - ended, agents,
                     memory, cpu)
    finally:
        for agent in agents:
            agent.stop()
        if counter is not None:
            counter.stop()
        box.stop()
        rabbit.stop()
        if args.keep:
            log('working folder kept: %s' % path)
        else:
            shutil.rmtree(path, ignore_errors=True)
    failed = (figures['lost'] or figures['repeated'] or
              figures['unexpected'] or figures['stale'])
    print('\n' + ('FAILED: changes lost, repeated or unexpected' if failed
                  else 'every change told once'))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
