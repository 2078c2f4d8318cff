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

An inspector takes a host out of service through the filter (a force-down
in either form, or a disable) and the VM owner polls its servers; the
drill reports how long the owner took to see the change, and, with the
notification chain beside Nova (RabbitMQ, Ceilometer, Aodh and a notifier
agent; :mod:`nova_hoststatus.tools.owner`), how long until the consumer of
the owner's event alarm was called: Doctor's own figure.  In this process,
or, with ``--workers N`` and without the chain, on every worker of Nova's
API under uWSGI.
"""

import collections
import json
import math
import os
import re
import statistics
import threading
import time

from nova_hoststatus.cmd import common
from nova_hoststatus.notifier import changes
from nova_hoststatus.tools import launchers
from nova_hoststatus.tools import owner as owner_tools
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
                    'this process or, with --workers N, under uWSGI, and '
                    'beside it the notification chain (RabbitMQ, '
                    "Ceilometer, Aodh) and a notifier agent; take hosts "
                    'out of service as a Doctor inspector would (force-'
                    'downs at 2.11 and 2.53, a disable at 2.53) and time '
                    'how long the VM owner takes to see the change by '
                    'polling its servers, and until the consumer of its '
                    'Aodh event alarm is called (Doctor\'s own figure). '
                    'Exit status 0 (PASS) when every time by polling is '
                    'within --budget and the median time to the consumer '
                    'within --consumer-budget (with --workers: every '
                    'worker agreed; no chain), 1 (FAIL) when not. Needs '
                    'the nova, identity and telemetry extras and RabbitMQ '
                    '(tools/install-packages.sh), or --no-chain.')
    p.add_argument('--hosts', type=common.positive_int, default=10,
                   help='compute hosts (default %(default)s)')
    p.add_argument('--servers', type=common.positive_int, default=100,
                   help="servers of the owner's tenant, spread over the "
                        'hosts, at least one per host (default '
                        '%(default)s)')
    p.add_argument('--rounds', type=common.positive_int, default=3,
                   help='rounds, each a change of a host and its undoing, '
                        'in turn a force-down at 2.11, a force-down at '
                        '2.53 and a disable at 2.53 (MAINTENANCE); with '
                        '--workers force-downs only, alternating the forms '
                        '(default %(default)s)')
    p.add_argument('--budget', type=common.seconds(WAIT), default=1.0,
                   metavar='SECONDS',
                   help='time allowed until the owner, polling, sees each '
                        'change: seconds (1.5), or with a unit (1.5s, '
                        '1500ms); at most %s, as long as the drill waits '
                        '(default 1s; the output gives times in ms, each '
                        'budget beside the option that sets it, e.g. '
                        '"1000 ms (--budget 1s)")' % common.as_seconds(WAIT))
    p.add_argument('--consumer-budget', type=common.seconds(WAIT),
                   default=1.0, metavar='SECONDS',
                   help="time allowed for the median, over the rounds, "
                        "of the time from the inspector's call to the last "
                        "call of the owner's consumer for the host's "
                        'servers: seconds, or with a unit, as --budget; at '
                        'most %s (default 1s)' % common.as_seconds(WAIT))
    p.add_argument('--no-chain', action='store_true',
                   help='run no notification chain: time the owner\'s '
                        'polling only (needs neither RabbitMQ nor the '
                        'telemetry extra)')
    p.add_argument('--rows', type=common.non_negative_int, default=20,
                   help='rows of each table to print, 0 for all (default '
                        '%(default)s)')
    p.add_argument('--workers', type=common.positive_int, default=1,
                   help='API worker processes (default 1: Nova in this '
                        'process); 2 or more run Nova\'s API under uWSGI '
                        '(the workers extra), each reading Nova\'s '
                        'databases, without the chain')
    p.add_argument('--identity', choices=sandbox.IDENTITIES,
                   default=sandbox.KEYSTONE,
                   help='keystone (default): real Keystone in another '
                        'process and Nova\'s authtoken; the inspector '
                        'logs in with an application credential, the owner '
                        'holds a token of its own; headers: no Keystone, '
                        'headers stand for the callers\' tokens (and no '
                        'chain: Aodh needs Keystone; add --no-chain)')
    p.set_defaults(func=run, check_options=check_options)


def check_options(args):
    """What the options say together that no single one can; None if fine.

    Every round forces down a host and waits for the owner to see DOWN on
    its servers: a host without servers would pass without showing
    anything.  Aodh's API, in the chain, needs Keystone.
    """
    if args.servers < args.hosts:
        return ('argument --servers: must be at least --hosts (%d), so that '
                'every host carries a server, got %d'
                % (args.hosts, args.servers))
    if (args.identity != sandbox.KEYSTONE and not args.no_chain and
            args.workers == 1):
        return common.chain_needs_keystone(args.identity)
    return None


# The failed listings printed, at most.
FAILURES_SHOWN = 5

Failure = collections.namedtuple('Failure', 'at status reason')
"""One owner listing that failed: when (seconds since the owner started),
the HTTP status (None when the request raised), and why, in a line."""


def reason(result):
    """Why a listing failed, in a line: the error's message (every line
    of it), else the first line of the body; a status of 0 is a connection
    the worker refused or closed.
    """
    if not result.status:
        return 'no answer: the connection was refused or closed'
    body = result.body
    if isinstance(body, bytes):
        body = body.decode('utf-8', 'replace')
    try:
        doc = json.loads(body)
    except ValueError:
        doc = None
    message = None
    if isinstance(doc, dict) and isinstance(doc.get('message'), str):
        # A middleware's error (auth_token's): code and message.
        message = doc.get('code', result.status), doc['message']
    elif isinstance(doc, dict) and len(doc) == 1:
        # Nova's: {"itemNotFound": {"code": 404, "message": ...}}.
        [(kind, fault)] = doc.items()
        if isinstance(fault, dict) and isinstance(fault.get('message'), str):
            message = kind, fault['message']
    if message:
        lines = re.sub(r'<[^>]*>', '\n', message[1]).splitlines()
        text = '%s: %s' % (message[0], ' '.join(
            line.strip() for line in lines if line.strip()))
    else:
        lines = [line.strip() for line in (body or '').splitlines()
                 if line.strip()]
        text = lines[0] if lines else '(empty body)'
    return text if len(text) <= 200 else text[:197] + '...'


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
        # Each listing that failed, a :class:`Failure`.
        self.errors = []
        self.halt = threading.Event()
        self.new_sample = threading.Condition()
        self.started = time.monotonic()

    def run(self):
        self.started = time.monotonic()
        while not self.halt.is_set():
            start = time.monotonic()
            try:
                result = self.box.request('GET', '/servers/detail', TENANT,
                                          user_id=OWNER, version='2.16')
            except Exception as exc:
                # A timeout or a broken answer: the owner polls on.
                self.errors.append(Failure(start - self.started, None,
                                           '%s: %s' % (type(exc).__name__,
                                                       exc)))
                time.sleep(0.1)
                continue
            if result.status != 200:
                self.errors.append(Failure(start - self.started,
                                           result.status, reason(result)))
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


def _call(box, request, form, token=None):
    """The inspector's call: ``request`` is ``(path, body)``."""
    path, body = request
    result = box.request('PUT', path, common.ADMIN_PROJECT, user_id=INSPECTOR,
                         roles=sandbox.ADMIN_ROLES, version=form, body=body,
                         token=token)
    if result.status != 200:
        raise RuntimeError('the inspector\'s call failed: %r' % result)


def _force_down(box, host, service_id, forced, form, token=None):
    _call(box, sandbox.force_down_request(form, host, service_id, forced),
          form, token)


# What a round does: the inspector's change, at which microversion, and
# what the owner sees until it is undone.
CHANGES = (
    ('force-down', '2.11', 'DOWN'),
    ('force-down', '2.53', 'DOWN'),
    ('disable', '2.53', 'MAINTENANCE'),
)
# The owner's event alarm, and where its consumer is called.
ALARM = 'vnf-owner-hosts'
NO_CHAIN = ('or run the drill without the chain, polling only: '
            'nova-hoststatus drill --no-chain')


def _progress(msg):
    print('  ' + msg, flush=True)


def run(args):
    """The Doctor scenario: each change of a host, every VM owner told."""
    if args.workers > 1:
        return drill_workers(args)
    telling = None
    if not args.no_chain:
        # Before Nova's 15 s start: say at once what is missing.
        owner_tools.check_installed(NO_CHAIN)
        telling = owner_tools.Telling(progress=_progress)
    # SIGTERM stops the drill as Ctrl-C does, the chain's processes too.
    common.stop_on_sigterm()
    with common.start_sandbox(
            strip_nova=True, identity=args.identity,
            notifications=telling.transport_url if telling else None) as box:
        try:
            return _drill(box, telling, args)
        finally:
            if telling is not None:
                # The agent reads the sandbox's Nova: stop it first.
                print('Stopping the notifier and the chain ...', flush=True)
                telling.stop()


def _drill(box, telling, args):
    box.set_policy(common.OWNER_RULE)
    if telling is not None:
        common.start_chain(telling, box)
    hosts, services, host_of = _fleet(box, args)
    args.inspector_token = _inspector(box)
    if telling is not None:
        common.start_agent(telling, box)
        token = box.token(TENANT, OWNER, sandbox.MEMBER_ROLES)
        alarm_id, url = telling.create_alarm(token, ALARM)
        print('The owner made an Aodh event alarm with its own token (%s): '
              'each %s of its project posts to its consumer %s.'
              % (alarm_id, changes.EVENT_TYPE, url))
    else:
        print('Without the chain (--no-chain): the owner polls only; no '
              'notification is sent or timed.')
    print('Policy: %s' % common.OWNER_RULE)
    print("Nova's own host_status is removed behind the filter: every "
          'value below is computed by the filter.\n')

    poller = _Owner(box)
    poller.start()
    rounds = []
    try:
        for number in range(args.rounds):
            host = hosts[number % len(hosts)]
            rounds.append(_round(box, poller, telling, host_of, host,
                                 services[host],
                                 CHANGES[number % len(CHANGES)],
                                 number + 1, args))
    finally:
        poller.halt.set()
        poller.join()
    return _summary(rounds, poller, telling, host_of, args)


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


def change_request(kind, form, host, service_id, forward):
    """``(path, body)`` of the inspector's change, or of its undoing.

    A force-down in either form; a disable (the host goes into
    maintenance) at 2.53, by the service's UUID.
    """
    if kind == 'force-down':
        return sandbox.force_down_request(form, host, service_id, forward)
    if forward:
        return '/os-services/%s' % service_id, {
            'status': 'disabled', 'disabled_reason': 'Doctor: maintenance'}
    return '/os-services/%s' % service_id, {'status': 'enabled'}


def _describe(kind, host, forward):
    if kind == 'force-down':
        return ('forced %s down' % host) if forward else 'un-forced'
    return ('disabled %s' % host) if forward else 'enabled again'


def _measure(box, poller, telling, host_of, host, request, form, value,
             token):
    """Make the change; how long the call took, the owner's polling took
    to see ``value`` on every server of ``host``, and its consumer took
    to be called for each (first and last call), from the call.
    """
    servers = [server for server, at in host_of.items() if at == host]
    sent = time.monotonic()
    _call(box, request, form, token)
    answered = time.monotonic()
    seen = poller.wait_for(sent, _on(host_of, host, value))
    if seen is None:
        raise RuntimeError('the owner never saw %s %s' % (host, value))
    figures = {'value': value, 'servers': len(servers),
               'call': answered - sent, 'poll': seen[0] - sent,
               'listing': seen[1]}
    if telling is not None:
        told = telling.wait_told(ALARM, sent, servers, value, WAIT)
        arrived = sorted(call['monotonic'] - sent for call in told.values())
        figures.update(told=len(told),
                       first=arrived[0] if arrived else None,
                       last=arrived[-1] if len(told) == len(servers)
                       else None)
    return figures


def _ms(seconds):
    return '-' if seconds is None else '%.0f ms' % (seconds * 1000)


def budget(seconds, option):
    """A budget as the output gives it: in ms, as every time printed, and
    as ``option`` sets it: ``1000 ms (--budget 1s)``.
    """
    return '%s (%s %s)' % (_ms(seconds), option, common.as_seconds(seconds))


def _told(figures):
    """The consumer's figures of one change, as a phrase."""
    if 'told' not in figures:
        return ''
    if figures['told'] == 0:
        return ('; consumer not called within %.0f s' % WAIT)
    if figures['last'] is None:
        return ('; consumer called for only %d of %d servers within %.0f '
                's' % (figures['told'], figures['servers'], WAIT))
    return ('; consumer called for all %d after %s (first) to %s (last)'
            % (figures['told'], _ms(figures['first']),
               _ms(figures['last'])))


def _round(box, poller, telling, host_of, host, service_id, change, number,
           args):
    kind, form, value = change
    if poller.wait_for(time.monotonic(), _on(host_of, host, 'UP')) is None:
        raise RuntimeError('the owner never saw every server UP')
    result = []
    for forward, shows in ((True, value), (False, 'UP')):
        figures = _measure(
            box, poller, telling, host_of, host,
            change_request(kind, form, host, service_id, forward), form,
            shows, args.inspector_token)
        figures['change'] = _describe(kind, host, forward)
        figures['form'] = form
        result.append(figures)
        if forward:
            print('Round %d: inspector %s (%s form, %d servers): call %s'
                  % (number, figures['change'], form, figures['servers'],
                     _ms(figures['call'])))
        else:
            print('         %s: call %s' % (figures['change'],
                                            _ms(figures['call'])))
        print('           owner polling saw %s after %s%s'
              % (shows, _ms(figures['poll']), _told(figures)), flush=True)
        if forward and number == 1:
            _views(box, figures['listing'], args)
    return result


def _views(box, servers, args):
    print("\nThe owner's view (%s, GET /servers/detail, 2.16):" % OWNER)
    common.table(_view(servers), ('name', 'status', 'host_status'),
                 args.rows)
    admin = box.request('GET', '/servers/detail?all_tenants=1',
                        common.ADMIN_PROJECT, user_id=INSPECTOR,
                        roles=sandbox.ADMIN_ROLES, version='2.16',
                        token=args.inspector_token)
    print("\nThe admin's view (all tenants):")
    common.table(_view(admin.json['servers']),
                 ('name', 'status', 'host', 'host_status'), args.rows)
    print()


def _summary(rounds, poller, telling, host_of, args):
    rows = []
    for number, (change, undo) in enumerate(rounds, 1):
        for figures in (change, undo):
            row = {'round': str(number) if figures is change else '',
                   'change': '%s (%s)' % (figures['change'],
                                          figures['form']),
                   'servers': str(figures['servers']),
                   'call': _ms(figures['call']),
                   'polling saw': '%s after %s' % (figures['value'],
                                                   _ms(figures['poll']))}
            if telling is not None:
                row['consumer: first'] = _ms(figures['first'])
                row['last'] = _ms(figures['last'])
            rows.append(row)
    print('\nFrom the inspector\'s call, per round (%d servers on %d '
          'hosts):' % (args.servers, args.hosts))
    common.table(rows, list(rows[0]), 0)
    changes_made = [change for change, _ in rounds]
    polled = [figures['poll'] for figures in changes_made]
    listings = [end - start for start, end, _ in poller.samples]
    print('\nTime to DOWN or MAINTENANCE for the owner, polling (each '
          'round within the budget of %s): worst %s, best %s over %d '
          'rounds' % (budget(args.budget, '--budget'), _ms(max(polled)),
                      _ms(min(polled)), len(polled)))
    print('One owner listing (%d servers) took %.0f ms on average over %d '
          'polls' % (len(poller.samples[-1][2]),
                     sum(listings) / len(listings) * 1000, len(listings)))
    print('(A listing already in flight when the host changed still shows '
          'the old value, so the time by polling runs up to two listings.)')
    problems = []
    if poller.errors:
        for line in failures([poller]):
            print(line)
        problems.append('%d owner listings failed (each listed above)'
                        % len(poller.errors))
    if max(polled) >= args.budget:
        problems.append('polling over the budget (--budget to change it)')
    if telling is not None:
        problems += _consumer_summary(rounds, telling, args)
    else:
        print('Without the chain (--no-chain): the owner\'s consumer was '
              'not timed.')
    if problems:
        print('FAIL: %s.' % '; '.join(problems))
        return 1
    if telling is None:
        print('PASS: every owner knew within the budget, by polling.')
    else:
        print('PASS: every owner knew within the budget by polling, and '
              'its consumer was called within the budget (median).')
    return 0


def _consumer_summary(rounds, telling, args):
    """Doctor's figure over the rounds, and what is wrong with it."""
    problems = []
    every = [figures for pair in rounds for figures in pair]
    if any(figures['last'] is None for figures in every):
        problems.append("the owner's consumer was not called for every "
                        'server of a changed host within %.0f s' % WAIT)
    last = [change['last'] for change, _ in rounds
            if change['last'] is not None]
    first = [change['first'] for change, _ in rounds
             if change['first'] is not None]
    back = [undo['last'] for _, undo in rounds if undo['last'] is not None]
    if last:
        median = statistics.median(last)
        print("Owner's consumer called, from the inspector's call to the "
              "last call for the host's servers (every server's owner "
              'told; Doctor\'s figure): median %s, worst %s, best %s over '
              '%d rounds; the first call: median %s'
              % (_ms(median), _ms(max(last)), _ms(min(last)), len(last),
                 _ms(statistics.median(first))))
        print('Budget %s: it applies to that median, over the rounds that '
              'took a host out of service (DOWN or MAINTENANCE).'
              % budget(args.consumer_budget, '--consumer-budget'))
        if median > args.consumer_budget:
            problems.append("the owner's consumer over the budget "
                            '(--consumer-budget to change it)')
    if back:
        print('Back to UP, the last call: median %s (not in the budget).'
              % _ms(statistics.median(back)))
    expected = sum(figures['servers'] for figures in every)
    calls = len(telling.consumer.calls(ALARM))
    print("The owner's consumer was called %d times for %d changes of a "
          'server\'s host_status.' % (calls, expected))
    if calls != expected:
        problems.append('%d calls to the owner\'s consumer for %d changes: '
                        'each change must be told exactly once'
                        % (calls, expected))
    if problems:
        telling.keep = True
        print("The chain's and the notifier's logs are kept in %s."
              % telling.path)
    return problems


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


def _warm_up(apis, timeout=30):
    """One owner listing through each worker before anything is timed.

    A worker's first request makes its first call to Keystone (auth_token
    fetches its own token and Keystone's signing data); on a loaded
    machine that call can fail with a 503 once. That is start-up, not the
    filter: it is waited out here, and said.
    """
    for number, api in enumerate(apis, 1):
        deadline = time.monotonic() + timeout
        failures = 0
        while True:
            result = api.request('GET', '/servers/detail', TENANT,
                                 user_id=OWNER, version='2.16')
            if result.status == 200:
                break
            failures += 1
            if time.monotonic() > deadline:
                raise RuntimeError('worker %d never answered the owner: %r'
                                   % (number, result))
            time.sleep(0.5)
        if failures:
            print('Worker %d answered the owner after %d failed first '
                  'call(s) (start-up), before the drill began.'
                  % (number, failures), flush=True)


def drill_workers(args):
    """The Doctor scenario over N API workers: one is told, all must know.
    """
    uwsgi_binary = launchers.uwsgi_binary()
    print('No notification chain with --workers: this drill times the '
          "owner's polling through every worker (without --workers it "
          "also times the owner's consumer).", flush=True)
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
    _warm_up(apis)
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
    return _workers_summary(rounds, owners, args, uwsgi.log)


def failures(owners, shown=FAILURES_SHOWN):
    """Lines telling the failed listings of ``owners``: the first few,
    in the order they failed, each with its status and why.
    """
    failed = sorted((failure.at, number, failure)
                    for number, owner in enumerate(owners, 1)
                    for failure in owner.errors)
    if not failed:
        return []
    lines = ['Failed owner listings (%d; %s):' % (
        len(failed), 'all' if len(failed) <= shown else 'the first %d'
        % shown)]
    for _, number, failure in failed[:shown]:
        via = (' via worker %d' % number) if len(owners) > 1 else ''
        lines.append('  owner%s, %.1f s in: %s, %s' % (
            via, failure.at,
            'HTTP %d' % failure.status if failure.status else 'no status',
            failure.reason))
    return lines


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


def log_errors(path, most=FAILURES_SHOWN):
    """The first ``most`` lines of the log at ``path`` that tell of an
    error (auth_token's, Nova's), each shortened to a line.
    """
    try:
        with open(path, errors='replace') as f:
            found = [line.strip() for line in f
                     if ' ERROR ' in line or 'Traceback' in line]
    except OSError:
        return []
    return [line if len(line) <= 200 else line[:197] + '...'
            for line in found[:most]]


def _workers_summary(rounds, owners, args, log=None):
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
    for line in failures(owners):
        print(line)
    logged = log_errors(log) if errors and log else []
    if logged:
        print("uWSGI's log (%s, removed with the sandbox) tells of errors:"
              % log)
        for line in logged:
            print('  ' + line)
    slowest = max(sum(end - start for start, end, _ in owner.samples) /
                  len(owner.samples) for owner in owners)
    lines, status = _workers_verdict(worst, args.budget, stale, flips,
                                     errors, slowest)
    for line in lines:
        print(line)
    return status


def _workers_verdict(worst, allowed, stale, flips, errors, listing=None):
    """The closing lines and the exit status.

    PASS means what it means in one process, within the budget, and here
    also that every worker agreed: each reads Nova's databases, so none
    may lag behind another.  ``listing`` is the mean time of one listing,
    on the slowest worker: time to DOWN runs up to two listings, so a
    budget under two listings can hardly be met on this machine.
    """
    over = worst >= allowed
    lines = ['Time to DOWN, worst over every worker: %s, %s the budget of '
             '%s' % (_ms(worst), 'over' if over else 'within',
                     budget(allowed, '--budget'))]
    if stale or flips:
        lines.append('Workers disagreed: %d stale listings, %d flip-backs.'
                     % (stale, flips))
    else:
        lines.append('Workers agreed: on every worker the first listing '
                     'started after each change returned showed it, and no '
                     'answer went back.')
    problems = []
    if errors:
        problems.append('%d owner listings failed (listed above, the first '
                        '%d at most)' % (errors, FAILURES_SHOWN))
    if over:
        problems.append('over the budget (--budget to change it)')
        if listing and 2 * listing >= allowed:
            lines.append(
                'One listing takes %s here (mean, on the slowest worker), '
                'and time to DOWN runs up to two: a budget under %s can '
                'hardly be met on this machine (busy or few cores); '
                '--budget %s judges the workers\' agreement alone.'
                % (_ms(listing), _ms(2 * listing), common.as_seconds(
                    min(WAIT, math.ceil(2 * listing + 0.5)))))
    if stale or flips:
        problems.append('the workers disagreed')
    if problems:
        lines.append('FAIL: %s.' % '; '.join(problems))
        return lines, 1
    lines.append('PASS: within the budget on every worker, and every worker '
                 'agreed.')
    return lines, 0
