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

"""The filter's own share of real Nova requests, measured inside each one.

Nova's own time for a listing varies a lot from one request to the next
(every read also writes the servers back to its database), so timing a
pipeline with the filter against one without mostly measures that noise.
Here the filter is timed from inside the pipeline instead: the time spent in
the filter minus the time spent in Nova behind it, for the same request, as
a share of the whole request. The filter's reading of Nova's records for
the servers of the response (:mod:`nova_hoststatus.records`) happens
inside the filter and counts as the filter's time.

The owner of N servers on 10 hosts lists ``GET /servers/detail`` at 2.16:
with ``rule:admin_or_owner`` (the filter computes every host_status, Nova's
own value removed behind it) and with the default policy (the filter only
decides that the owner sees nothing).

    python benchmarks/nova_overhead.py [--servers 100] [--rounds 20]

Needs the ``nova`` extra (``tox -e bench`` has it).
"""

import argparse
import statistics
import time

from nova_hoststatus import middleware
from nova_hoststatus.tools import sandbox

OWNER_RULE = {'os_compute_api:servers:show:host_status': 'rule:admin_or_owner'}


class Stopwatch(object):
    """A WSGI wrapper that adds up the time spent in the app it wraps."""

    def __init__(self, app):
        self.app = app
        self.spent = 0.0

    def __call__(self, environ, start_response):
        start = time.perf_counter()
        try:
            return list(self.app(environ, start_response))
        finally:
            self.spent += time.perf_counter() - start


def find_filter(urlmap):
    """``(parent, attribute, filter)``: the filter in the /v2.1 pipeline."""
    [parent] = [app for (_, prefix), app in urlmap.applications
                if prefix == '/v2.1/+']
    while True:
        name = next(n for n in ('application', '_app', 'app')
                    if hasattr(parent, n))
        child = getattr(parent, name)
        if isinstance(child, middleware.HostStatusFilter):
            return parent, name, child
        parent = child


def instrument(urlmap):
    """Stopwatches around the filter and around what is behind it."""
    parent, name, child = find_filter(urlmap)
    around = Stopwatch(child)
    setattr(parent, name, around)
    behind = child.application = Stopwatch(child.application)
    return around, behind


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--servers', type=int, default=100)
    parser.add_argument('--rounds', type=int, default=20)
    args = parser.parse_args()

    box = sandbox.shared(strip_nova=True, identity=sandbox.HEADERS)
    hosts = ['compute-%02d' % n for n in range(10)]
    for host in hosts:
        box.create_host(host)
    for n in range(args.servers):
        box.create_server('tenant', 'owner', hosts[n % len(hosts)])
    around, behind = instrument(box.app)

    print('%d servers on %d hosts, %d rounds, medians:'
          % (args.servers, len(hosts), args.rounds))
    print('  %-22s %10s %10s %8s' % ('owner policy', 'request ms',
                                     'filter ms', 'share'))
    for label, rules in (('rule:admin_or_owner', OWNER_RULE),
                         ('default (admin only)', {})):
        box.set_policy(rules)
        whole, own = [], []
        for number in range(args.rounds + 1):
            around.spent = behind.spent = 0.0
            start = time.perf_counter()
            result = box.request('GET', '/servers/detail', 'tenant',
                                 user_id='owner', version='2.16')
            elapsed = time.perf_counter() - start
            assert result.status == 200, result
            shown = {s.get('host_status') for s in result.json['servers']}
            assert shown == ({'UP'} if rules else {None}), shown
            if number:  # the first one after a policy change reloads it
                whole.append(elapsed)
                own.append(around.spent - behind.spent)
        whole_ms = statistics.median(whole) * 1e3
        own_ms = statistics.median(own) * 1e3
        print('  %-22s %10.1f %10.2f %7.1f%%' % (
            label, whole_ms, own_ms, 100 * own_ms / whole_ms))


if __name__ == '__main__':
    main()
