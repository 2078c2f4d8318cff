"""What the filter costs in front of real Nova, as ratios taken in one run.

The owner of N servers on 10 hosts lists ``GET /servers/detail`` (2.16) with
the policy at ``rule:admin_or_owner``, three ways, interleaved so that the
machine's noise falls on all of them alike:

* plain: Nova alone with the default policy (no host_status at all), the
  cost of the listing itself;
* nova: Nova alone computing its own host_status;
* filter: Nova behind the filter, Nova's own value removed behind it, so the
  filter computes every host_status.

    python benchmarks/nova_overhead.py [--servers 100] [--rounds 20]

Needs the ``nova`` extra (``tox -e bench`` has it).
"""

import argparse
import statistics
import time

from nova_hoststatus import sandbox

OWNER_RULE = {'os_compute_api:servers:show:host_status': 'rule:admin_or_owner'}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--servers', type=int, default=100)
    parser.add_argument('--rounds', type=int, default=20)
    args = parser.parse_args()

    box = sandbox.shared(strip_nova=True)
    hosts = ['compute-%02d' % n for n in range(10)]
    for host in hosts:
        box.create_host(host)
    for n in range(args.servers):
        box.create_server('tenant', 'owner', hosts[n % len(hosts)])

    def listing(nova):
        start = time.perf_counter()
        result = box.request('GET', '/servers/detail', 'tenant',
                             user_id='owner', version='2.16', nova=nova)
        assert result.status == 200, result
        return time.perf_counter() - start, result.json['servers']

    timings = {'plain': [], 'nova': [], 'filter': []}
    for _ in range(args.rounds):
        # A policy change makes the next check reload every rule: a call
        # after each change, untimed, takes that cost out of the figures.
        box.set_policy({})
        listing(nova=True)
        timings['plain'].append(listing(nova=True)[0])
        box.set_policy(OWNER_RULE)
        listing(nova=True)
        listing(nova=False)
        elapsed, servers = listing(nova=True)
        timings['nova'].append(elapsed)
        elapsed, ours = listing(nova=False)
        timings['filter'].append(elapsed)
        assert ([s['host_status'] for s in ours]
                == [s['host_status'] for s in servers])

    median = {k: statistics.median(v) for k, v in timings.items()}
    print('%d servers, %d rounds, median of each:' % (args.servers,
                                                      args.rounds))
    for name in ('plain', 'nova', 'filter'):
        print('  %-7s %8.1f ms  (x%.2f of plain)' % (
            name, median[name] * 1e3, median[name] / median['plain']))
    print('filter / nova: x%.2f; filter adds %.1f ms to the plain listing'
          % (median['filter'] / median['nova'],
             (median['filter'] - median['plain']) * 1e3))


if __name__ == '__main__':
    main()
