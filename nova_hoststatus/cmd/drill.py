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

"""``nova-hoststatus drill``: the OPNFV Doctor fault scenario, measured.

An inspector forces a host down through the filter and the VM owner polls
its servers; the drill reports how long the owner took to see DOWN, in this
process or, with ``--workers N``, on every worker of Nova's API under uWSGI.
"""

import os
import threading
import time

from nova_hoststatus.cmd import common
from nova_hoststatus.tools import launchers
from nova_hoststatus.tools import sandbox

TENANT = 'vnf-tenant'
OWNER = 'vnf-owner'
INSPECTOR = 'doctor-inspector'
# Seconds the owner is given to see a change: a longer budget could never
# be missed.
WAIT = 10.0


def register(commands):
    """Add ``drill`` and its options to the command line."""
    p = commands.add_parser(
        'drill', help='measure how fast a VM owner learns its host is down',
        description='Start real Nova with the filter in front of it, in '
                    "this process or, with --workers N, under uWSGI; force "
                    'hosts down as a Doctor inspector would, and time how '
                    'long the VM owner, polling its servers, takes to see '
                    'DOWN. Exit status 0 (PASS) when every time to DOWN is '
                    'within --budget (and with --workers every worker '
                    'agreed), 1 (FAIL) when not. Needs the nova extra.')
    p.add_argument('--hosts', type=common.positive_int, default=10,
                   help='compute hosts (default %(default)s)')
    p.add_argument('--servers', type=common.positive_int, default=100,
                   help="servers of the owner's tenant, spread over the "
                        'hosts, at least one per host (default '
                        '%(default)s)')
    p.add_argument('--rounds', type=common.positive_int, default=3,
                   help='force-downs, alternating the 2.11 and 2.53 forms '
                        '(default %(default)s)')
    p.add_argument('--budget', type=common.seconds(WAIT), default=1.0,
                   help='seconds allowed until the owner sees DOWN, at most '
                        '%g, as long as the drill waits (default '
                        '%%(default)s)' % WAIT)
    p.add_argument('--rows', type=common.non_negative_int, default=20,
                   help='rows of each table to print, 0 for all (default '
                        '%(default)s)')
    p.add_argument('--workers', type=common.positive_int, default=1,
                   help='API worker processes (default 1: Nova in this '
                        'process); 2 or more run Nova\'s API under uWSGI '
                        '(the workers extra), every worker reading Nova\'s '
                        'own databases')
    p.add_argument('--identity', choices=sandbox.IDENTITIES,
                   default=sandbox.KEYSTONE,
                   help='keystone (default): real Keystone in another '
                        'process and Nova\'s authtoken; the inspector '
                        'logs in with an application credential, the owner '
                        'holds a token of its own; headers: no Keystone, '
                        'headers stand for the callers\' tokens')
    p.set_defaults(func=run, check_options=check_options)


def check_options(args):
    """What the options say together that no single one can; None if fine.

    Every round forces down a host and waits for the owner to see DOWN on
    its servers: a host without servers would pass without showing
    anything.
    """
    if args.servers < args.hosts:
        return ('argument --servers: must be at least --hosts (%d), so that '
                'every host carries a server, got %d'
                % (args.hosts, args.servers))
    return None


def _view(servers):
    """Rows for a table: servers not UP first, then by name."""
    rows = [{'name': s['name'], 'status': s['status'],
             'host_status': s.get('host_status', '(absent)'),
             'host': s.get('OS-EXT-SRV-ATTR:host', '')} for s in servers]
    return sorted(rows, key=lambda r: (r['host_status'] == 'UP', r['name']))


class _Owner(threading.Thread):
    """The VM owner: polls its server listing as fast as it can.

    ``api`` is the sandbox, or a :class:`_Worker` for one uWSGI worker.
    """

    def __init__(self, api, name='vnf-owner'):
        super().__init__(name=name, daemon=True)
        self.box = api
        self.samples = []
        self.errors = []
        self.halt = threading.Event()
        self.new_sample = threading.Condition()

    def run(self):
        while not self.halt.is_set():
            start = time.monotonic()
            result = self.box.request('GET', '/servers/detail', TENANT,
                                      user_id=OWNER, version='2.16')
            if result.status != 200:
                self.errors.append(result)
                time.sleep(0.1)
                continue
            with self.new_sample:
                self.samples.append((start, time.monotonic(),
                                     result.json['servers']))
                self.new_sample.notify_all()

    def wait_for(self, since, check, timeout=WAIT):
        """The first sample answered after ``since`` that passes ``check``.

        Returns ``(answered_at, servers)``, or None after ``timeout``.
        """
        deadline = time.monotonic() + timeout
        seen = 0
        with self.new_sample:
            while True:
                for _, end, servers in self.samples[seen:]:
                    if end > since and check(servers):
                        return end, servers
                seen = len(self.samples)
                left = deadline - time.monotonic()
                if left <= 0 or not self.is_alive():
                    return None
                self.new_sample.wait(left)


def _on(host_of, host, value):
    """A check: every server on ``host`` shows ``value``, the others UP."""
    def check(servers):
        return all(s.get('host_status') == (value if host_of[s['id']] == host
                                            else 'UP') for s in servers)
    return check


def _inspector(box):
    token = inspector_token(box)
    if token is not None:
        print('The inspector authenticates with an application credential '
              "of Keystone's admin (%s); the owner is Keystone's %s, member "
              'of %s.' % (box.keystone.inspector['name'], OWNER, TENANT))
    return token


def inspector_token(box):
    """The inspector's token: with Keystone, from the admin's application
    credential (as a fault monitor authenticates); None with the header
    stand-in, where the headers of an admin stand for it.
    """
    keystone = getattr(box, 'keystone', None)
    if keystone is None:
        return None
    return keystone.application_credential_token(keystone.inspector)


def _force_down(box, host, service_id, forced, form, token=None):
    path, body = sandbox.force_down_request(form, host, service_id, forced)
    result = box.request('PUT', path, common.ADMIN_PROJECT, user_id=INSPECTOR,
                         roles=sandbox.ADMIN_ROLES, version=form, body=body,
                         token=token)
    if result.status != 200:
        raise RuntimeError('force-down failed: %r' % result)


def run(args):
    """The Doctor scenario: one force-down, every VM on the host told."""
    if args.workers > 1:
        return drill_workers(args)
    with common.start_sandbox(strip_nova=True,
                              identity=args.identity) as box:
        box.set_policy(common.OWNER_RULE)
        hosts, services, host_of = _fleet(box, args)
        args.inspector_token = _inspector(box)
        print('Policy: %s' % common.OWNER_RULE)
        print("Nova's own host_status is removed behind the filter: every "
              'value below is computed by the filter.\n')

        owner = _Owner(box)
        owner.start()
        figures = []
        try:
            for number in range(args.rounds):
                host = hosts[number % len(hosts)]
                form = ('2.11', '2.53')[number % 2]
                figures.append(_round(box, owner, host_of, host,
                                      services[host], form, number + 1,
                                      args))
        finally:
            owner.halt.set()
            owner.join()
        return _summary(figures, owner, args.budget)


def _fleet(box, args):
    """Hosts, their service ids, and the host of each owner's server."""
    hosts = ['compute-%02d' % n for n in range(1, args.hosts + 1)]
    print('Creating %d compute hosts and %d servers of tenant %s ...'
          % (len(hosts), args.servers, TENANT), flush=True)
    services = {host: box.create_host(host) for host in hosts}
    host_of = {}
    for n in range(args.servers):
        host = hosts[n % len(hosts)]
        host_of[box.create_server(TENANT, OWNER, host,
                                  name='vnf-%03d' % (n + 1))] = host
    return hosts, services, host_of


def _round(box, owner, host_of, host, service_id, form, number, args):
    on_host = sum(1 for h in host_of.values() if h == host)
    if owner.wait_for(time.monotonic(), _on(host_of, host, 'UP')) is None:
        raise RuntimeError('the owner never saw every server UP')
    sent = time.monotonic()
    _force_down(box, host, service_id, True, form, args.inspector_token)
    answered = time.monotonic()
    seen = owner.wait_for(sent, _on(host_of, host, 'DOWN'))
    if seen is None:
        raise RuntimeError('the owner never saw %s DOWN' % host)
    to_down = seen[0] - sent
    print('Round %d: inspector forced %s down (%s form, %d servers): '
          'call %.0f ms, owner saw DOWN on all of them after %.0f ms'
          % (number, host, form, on_host, (answered - sent) * 1000,
             to_down * 1000), flush=True)
    if number == 1:
        print("\nThe owner's view (%s, GET /servers/detail, 2.16):" % OWNER)
        common.table(_view(seen[1]), ('name', 'status', 'host_status'),
                     args.rows)
        admin = box.request('GET', '/servers/detail?all_tenants=1',
                            common.ADMIN_PROJECT, user_id=INSPECTOR,
                            roles=sandbox.ADMIN_ROLES, version='2.16',
                            token=args.inspector_token)
        print("\nThe admin's view (all tenants):")
        common.table(_view(admin.json['servers']),
                     ('name', 'status', 'host', 'host_status'), args.rows)
        print()
    sent = time.monotonic()
    _force_down(box, host, service_id, False, form, args.inspector_token)
    seen = owner.wait_for(sent, _on(host_of, host, 'UP'))
    if seen is None:
        raise RuntimeError('the owner never saw %s UP again' % host)
    to_up = seen[0] - sent
    print('         un-forced %s: owner saw UP again after %.0f ms'
          % (host, to_up * 1000), flush=True)
    return to_down, to_up


def _summary(figures, owner, budget):
    downs = [down for down, _ in figures]
    polls = [end - start for start, end, _ in owner.samples]
    print('\nTime to DOWN for the owner: worst %.0f ms, best %.0f ms over '
          '%d rounds (budget %.0f ms)' % (max(downs) * 1000,
                                          min(downs) * 1000, len(downs),
                                          budget * 1000))
    print('One owner listing (%d servers) took %.0f ms on average over %d '
          'polls' % (len(owner.samples[-1][2]),
                     sum(polls) / len(polls) * 1000, len(polls)))
    print('(A listing already in flight when the host went down still '
          'shows UP, so time to DOWN runs up to two listings.)')
    if owner.errors:
        print('FAIL: %d owner listings failed, the first: %r'
              % (len(owner.errors), owner.errors[0]))
        return 1
    if max(downs) < budget:
        print('PASS: every owner knew within the budget.')
        return 0
    print('FAIL: over the budget.')
    return 1


# The drill across the worker processes of Nova's API

# Seconds every owner goes on polling after it saw a change, to catch an
# answer that goes back to the old value.
HOLD = 1.0


class _Worker(object):
    """One uWSGI worker, asked the way the sandbox is asked."""

    def __init__(self, box, port):
        self.box = box
        self.port = port

    def request(self, method, path, project_id, user_id='user',
                roles=sandbox.MEMBER_ROLES, version=None, body=None,
                token=None):
        return launchers.call(self.port, method, path, self.box.headers(
            project_id, user_id, roles, version, token), body)


def drill_workers(args):
    """The Doctor scenario over N API workers: one is told, all must know.
    """
    uwsgi_binary = launchers.uwsgi_binary()
    with common.start_sandbox(strip_nova=True,
                              identity=args.identity) as box:
        hosts, services, host_of = _fleet(box, args)
        args.inspector_token = _inspector(box)
        config = box.config_dir(os.path.join(box.path, 'uwsgi'),
                                common.OWNER_RULE)
        uwsgi = launchers.Uwsgi(config, args.workers, uwsgi_binary)
        try:
            print("Starting Nova's API under uWSGI, %d workers on ports %s "
                  '...' % (args.workers, ', '.join(map(str, uwsgi.ports))),
                  flush=True)
            uwsgi.start()
            return _drill_workers(box, uwsgi, hosts, services, host_of,
                                  args)
        finally:
            uwsgi.stop()


def _drill_workers(box, uwsgi, hosts, services, host_of, args):
    apis = [_Worker(box, port) for port in uwsgi.ports]
    owners = [_Owner(api, 'owner-via-worker-%d' % number)
              for number, api in enumerate(apis, 1)]
    print('Policy: %s' % common.OWNER_RULE)
    print('The inspector forces a host down through worker 1; the owner '
          'polls GET /servers/detail (2.16) through every worker. Nova\'s '
          'own host_status is removed behind the filter.\n', flush=True)
    for owner in owners:
        owner.start()
    rounds = []
    try:
        for number in range(args.rounds):
            host = hosts[number % len(hosts)]
            form = ('2.11', '2.53')[number % 2]
            rounds.append(_workers_round(apis[0], owners, host_of, host,
                                         services[host], form, number + 1,
                                         args.inspector_token))
    finally:
        for owner in owners:
            owner.halt.set()
        for owner in owners:
            owner.join()
    return _workers_summary(rounds, owners, args)


def _went_back(answers):
    """Old answers after the first new one, in a sequence of booleans."""
    first = answers.index(True) if True in answers else len(answers)
    return answers[first:].count(False)


def _watch(inspector, owners, check, change):
    """Make ``change`` and see it arrive through every worker.

    Returns the call's duration, and for each owner: seconds until it saw
    the change, its listings started after the call returned that did not
    show it yet (stale), and its answers that went back to the old value
    after showing the new (flip-backs); and the flip-backs of all owners'
    answers taken in turn, as through a load balancer.
    """
    sent = time.monotonic()
    change(inspector)
    answered = time.monotonic()
    seen = [owner.wait_for(sent, check) for owner in owners]
    for number, found in enumerate(seen, 1):
        if found is None:
            raise RuntimeError('the owner never saw the change through '
                               'worker %d' % number)
    time.sleep(HOLD)
    until = time.monotonic()
    figures, merged = [], []
    for owner, (at, _) in zip(owners, seen):
        answers = [(end, check(servers))
                   for start, end, servers in list(owner.samples)
                   if start >= answered and end <= until]
        merged.extend(answers)
        flags = [new for _, new in answers]
        stale = (flags.index(True) if True in flags else len(flags))
        figures.append((at - sent, stale, _went_back(flags)))
    merged.sort()
    return answered - sent, figures, _went_back([new for _, new in merged])


def _workers_round(inspector, owners, host_of, host, service_id, form,
                   number, token=None):
    on_host = sum(1 for h in host_of.values() if h == host)
    for owner in owners:
        if owner.wait_for(time.monotonic(), _on(host_of, host, 'UP')) is None:
            raise RuntimeError('the owner never saw every server UP')
    result = {}
    for forced, value in ((True, 'DOWN'), (False, 'UP')):
        call, figures, flips = _watch(
            inspector, owners, _on(host_of, host, value),
            lambda api: _force_down(api, host, service_id, forced, form,
                                    token))
        result[value] = figures, flips
        if forced:
            print('Round %d: %s forced down through worker 1 (%s form, %d '
                  'servers): call %.0f ms'
                  % (number, host, form, on_host, call * 1000))
        else:
            print('         un-forced through worker 1: call %.0f ms'
                  % (call * 1000))
        for worker, (after, stale, back) in enumerate(figures, 1):
            print('           owner via worker %d: %-4s after %5.0f ms, '
                  'stale listings %d, flip-backs %d'
                  % (worker, value, after * 1000, stale, back))
        print('           owner via every worker in turn: flip-backs %d'
              % flips, flush=True)
    return result


def _workers_summary(rounds, owners, args):
    print('\nOver %d rounds (%d servers, %d hosts), the owner\'s listings:'
          % (len(rounds), args.servers, args.hosts))
    rows = []
    worst = 0.0
    for number, owner in enumerate(owners, 1):
        down = [r['DOWN'][0][number - 1] for r in rounds]
        up = [r['UP'][0][number - 1] for r in rounds]
        polls = [end - start for start, end, _ in owner.samples]
        rows.append({
            'worker': str(number),
            'role': 'took the changes' if number == 1 else 'other',
            'worst to DOWN': '%.0f ms' % (max(f[0] for f in down) * 1000),
            'worst to UP': '%.0f ms' % (max(f[0] for f in up) * 1000),
            'stale listings': str(sum(f[1] for f in down + up)),
            'flip-backs': str(sum(f[2] for f in down + up)),
            'errors': str(len(owner.errors)),
            'mean listing': '%.0f ms' % (sum(polls) / len(polls) * 1000),
        })
        worst = max(worst, max(f[0] for f in down))
    common.table(rows, list(rows[0]), 0)
    merged = sum(r[value][1] for r in rounds for value in ('DOWN', 'UP'))
    print('Through every worker in turn, as behind a load balancer: %d '
          'flip-backs' % merged)
    print('(stale: listings started after the call returned that still '
          'showed the old value; time to DOWN runs up to two listings)')
    stale = sum(int(row['stale listings']) for row in rows)
    flips = sum(int(row['flip-backs']) for row in rows) + merged
    errors = sum(len(owner.errors) for owner in owners)
    lines, status = _workers_verdict(worst, args.budget, stale, flips,
                                     errors)
    for line in lines:
        print(line)
    return status


def _workers_verdict(worst, budget, stale, flips, errors):
    """The closing lines and the exit status.

    PASS means what it means in one process, within the budget, and here
    also that every worker agreed.
    """
    over = worst >= budget
    lines = ['Time to DOWN, worst over every worker: %.0f ms, %s the budget '
             'of %.0f ms' % (worst * 1000, 'over' if over else 'within',
                             budget * 1000)]
    if stale or flips:
        lines.append('Workers disagreed: %d stale listings, %d flip-backs.'
                     % (stale, flips))
    else:
        lines.append('Workers agreed: on every worker the first listing '
                     'started after each change returned showed it, and no '
                     'answer went back.')
    if errors:
        lines.append('FAIL: %d owner listings failed (see the errors '
                     'column).' % errors)
        return lines, 1
    problems = []
    if over:
        problems.append('over the budget (--budget to change it)')
    if stale or flips:
        problems.append('the workers disagreed')
    if problems:
        lines.append('FAIL: %s.' % '; '.join(problems))
        return lines, 1
    lines.append('PASS: within the budget on every worker, and every worker '
                 'agreed.')
    return lines, 0
