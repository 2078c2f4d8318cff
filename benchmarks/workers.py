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

"""One truth across API workers: staleness, flip-backs, and what it costs.

1. The shared check, per request: the filter over a stand-in compute API
   (warm state, ``GET /servers/detail`` of 10 servers as an admin), with
   per-process state and with ``[cache]`` on a real memcached, timed in one
   run; the difference is what reading the generation adds to a request.
2. Nova's API under uWSGI with two workers, a port each: a host is forced
   down and back through worker 1 while both workers are listed in turn, as
   a load balancer would; for each worker, the stale window (how long after
   the call returned a listing could still start and show the old value)
   and the flip-backs (answers that went back to the old value), with
   memcached, with memcached stopped once the workers are up, and without
   a cache.

    tox -e bench   # or: python benchmarks/workers.py [--rounds 5]

Needs the ``nova`` and ``workers`` extras and memcached
(``apt-get install -y memcached``).
"""

import argparse
import json
import os
import sys
import tempfile
import time
import timeit

from oslo_cache import core as cache
from oslo_config import cfg
from oslo_context import context as oslo_context
import webob

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..'))

from nova_hoststatus import middleware  # noqa: E402
from nova_hoststatus.tools import launchers  # noqa: E402
from nova_hoststatus.tools import sandbox  # noqa: E402
from tests.unit import fakes  # noqa: E402

OWNER_RULE = {'os_compute_api:servers:show:host_status': 'rule:admin_or_owner'}
HOLD = 1.0


# 1. The shared check, per request

def _filter(nova, policy_path, cache_servers=None):
    conf = cfg.ConfigOpts()
    conf([])
    if cache_servers:
        cache.configure(conf)
        conf.set_override('enabled', True, 'cache')
        conf.set_override('backend', 'oslo_cache.memcache_pool', 'cache')
        conf.set_override('memcache_servers', [cache_servers], 'cache')
    factory = middleware.filter_factory(
        {}, oslo_config_config=conf, policy_file=policy_path,
        service_cache_time='3600')
    return factory(nova)


def _per_request(app):
    def call():
        req = webob.Request.blank('/servers/detail')
        req.headers['OpenStack-API-Version'] = 'compute 2.16'
        req.environ['nova.context'] = oslo_context.RequestContext(
            user_id='u', project_id='tenant', roles=['admin'])
        resp = req.get_response(app)
        assert resp.status_int == 200, resp.status
        assert all(s['host_status'] == 'UP' for s in resp.json['servers'])
    call()  # warm
    return min(timeit.repeat(call, number=200, repeat=5)) / 200


def shared_check_cost(memcached):
    nova = fakes.FakeNova()
    for i in range(10):
        nova.add_service(fakes.Service('compute-%d' % i))
        nova.add_server(fakes.server('vm-%d' % i, 'tenant',
                                     'compute-%d' % i))
    with tempfile.TemporaryDirectory() as tmp:
        policy_path = os.path.join(tmp, 'policy.json')
        with open(policy_path, 'w') as f:
            json.dump({}, f)
        local = _per_request(_filter(nova, policy_path))
        shared = _per_request(_filter(nova, policy_path, memcached.servers))
    print('1. The shared check, per request (GET /servers/detail, 10 '
          'servers, warm, best of 5x200):')
    print('   per-process state  %7.3f ms' % (local * 1e3))
    print('   [cache] memcached  %7.3f ms' % (shared * 1e3))
    print('   added              %7.3f ms per request (x%.2f); internal '
          'service listings: %d' % ((shared - local) * 1e3, shared / local,
                                    nova.count('GET', '/os-services')))
    return shared - local


# 2. Stale window and flip-backs across uWSGI workers

class Fleet(object):
    """Hosts and an owner's servers in the sandbox, listed per worker."""

    def __init__(self, box):
        self.box = box
        self.hosts = ['bench-%d' % n for n in range(3)]
        self.services = {host: box.create_host(host) for host in self.hosts}
        self.host_of = {box.create_server('tenant', 'owner', host): host
                        for host in self.hosts for _ in range(2)}

    def listing(self, port):
        result = launchers.call(port, 'GET', '/servers/detail',
                                self.box.headers('tenant', 'owner',
                                                 version='2.16'))
        if result.status != 200:
            return None
        return {s['id']: s.get('host_status')
                for s in result.json['servers']}

    def expected(self, down):
        return {server: 'DOWN' if host == down else 'UP'
                for server, host in self.host_of.items()}

    def force(self, port, host, forced, form):
        path, body = sandbox.force_down_request(
            form, host, self.services[host], forced)
        result = launchers.call(port, 'PUT', path, self.box.headers(
            'admin', 'admin', sandbox.ADMIN_ROLES, form), body)
        assert result.status == 200, result


def _went_back(flags):
    first = flags.index(True) if True in flags else len(flags)
    return flags[first:].count(False)


def _change(fleet, ports, host, forced, form, figures):
    """One change through worker 1, both workers listed in turn."""
    fleet.force(ports[0], host, forced, form)
    answered = time.monotonic()
    expected = fleet.expected(host if forced else None)
    samples = {port: [] for port in ports}
    merged = []
    seen_all = None
    while time.monotonic() - answered < 15:
        for port in ports:
            began = time.monotonic() - answered
            answer = fleet.listing(port)
            if answer is None:
                figures['errors'] += 1
                continue
            samples[port].append((began, answer == expected))
            merged.append(answer == expected)
        if seen_all is None and all(
                any(new for _, new in samples[port]) for port in ports):
            seen_all = time.monotonic()
        if seen_all is not None and time.monotonic() - seen_all > HOLD:
            break
    for port in ports:
        flags = [new for _, new in samples[port]]
        old = [began for began, new in samples[port] if not new]
        figures[port]['stale'].append(max(old) if old else 0.0)
        figures[port]['flips'] += _went_back(flags)
    figures['merged flips'] += _went_back(merged)


def stale_windows(box, fleet, rounds, memcached, label, outage=False):
    """With ``outage``, memcached is stopped once both workers listed."""
    path = tempfile.mkdtemp(prefix='bench-', dir=box.path)
    config = box.config_dir(path, OWNER_RULE,
                            memcached.servers if memcached else None)
    with launchers.Uwsgi(config, 2) as uwsgi:
        ports = uwsgi.ports
        figures = {port: {'stale': [], 'flips': 0} for port in ports}
        figures.update(errors=0, **{'merged flips': 0})
        for port in ports:
            assert fleet.listing(port) == fleet.expected(None)
        if outage:
            memcached.stop()
        for number in range(rounds):
            host = fleet.hosts[number % len(fleet.hosts)]
            form = ('2.11', '2.53')[number % 2]
            _change(fleet, ports, host, True, form, figures)
            _change(fleet, ports, host, False, form, figures)
        if outage:
            memcached.start()
    for number, port in enumerate(ports, 1):
        stale = figures[port]['stale']
        print('   %-14s worker %d  stale window worst %5.0f ms, mean %5.0f '
              'ms; flip-backs %d' % (
                  label, number, max(stale) * 1e3,
                  sum(stale) / len(stale) * 1e3, figures[port]['flips']))
    print('   %-14s in turn    flip-backs %d, errors %d' % (
        label, figures['merged flips'], figures['errors']))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--rounds', type=int, default=5)
    args = parser.parse_args()
    try:
        memcached = launchers.Memcached()
        launchers.uwsgi_binary()
    except launchers.Missing as exc:
        print('Skipped: %s' % exc)
        return 0
    # Nova first: it must set up its threading before oslo.cache's
    # memcache_pool backend is imported, as in nova-api.
    box = sandbox.shared(strip_nova=True, identity=sandbox.HEADERS)
    fleet = Fleet(box)
    with memcached:
        added = shared_check_cost(memcached)
        print('\n2. A force-down and back through worker 1 of 2 (uWSGI), '
              '%d rounds, both workers listed in turn (6 servers):'
              % args.rounds)
        stale_windows(box, fleet, args.rounds, memcached, 'memcached')
        stale_windows(box, fleet, args.rounds, memcached, 'memcached down',
                      outage=True)
        stale_windows(box, fleet, args.rounds, None, 'per process')
    if added > 1e-3:
        print('FAIL: the shared check adds more than 1 ms per request')
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
