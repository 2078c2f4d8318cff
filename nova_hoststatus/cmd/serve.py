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

"""``nova-hoststatus serve``: the sandbox on a loopback port, to try by hand.

A fleet with a host in every state, the owner rule set, Keystone with an
openrc for the VM owner and one for the admin, ready-made commands for
curl, novaclient and the openstack CLI, and one line on stdout for each
request served.  Beside it, unless ``--no-chain``, the notification chain
(RabbitMQ, Ceilometer, Aodh) and a notifier agent, with a Doctor consumer
for the owner's event alarms, each of its calls logged.
"""

import errno
import json
import os
import signal
import socket
import sys
import threading
import time

import yaml

from nova_hoststatus.cmd import common
from nova_hoststatus.notifier import changes
from nova_hoststatus.tools import keystone
from nova_hoststatus.tools import owner
from nova_hoststatus.tools import sandbox
from nova_hoststatus.tools import telemetry

NO_CHAIN = 'or serve without the chain: nova-hoststatus serve --no-chain'
# Where the consumer's calls are logged, in the config dir: one JSON
# document a line.
CONSUMER_LOG = 'consumer-calls.log'
# serve's process id while it runs, in the config dir.
PID_FILE = 'serve.pid'


def register(commands):
    """Add ``serve`` and its options to the command line."""
    p = commands.add_parser(
        'serve', help='serve the filtered API on 127.0.0.1 until Ctrl-C',
        description='Start real Nova in this process with the filter in '
                    'front of it and serve its compute API on 127.0.0.1, '
                    'with a host in every state and a server on each, for '
                    'curl, novaclient and the openstack CLI; one line per '
                    'request. Beside it, the notification chain (RabbitMQ, '
                    "Ceilometer, Aodh) and a notifier agent, and a consumer "
                    "for the owner's event alarms, one line per call. Runs "
                    'until Ctrl-C or SIGTERM, which stop it at any time, '
                    'starting included, with what it started and its '
                    'temporary files; --background returns once it is '
                    'ready or has failed. It prints no token: its commands '
                    'log in with the openrc or clouds.yaml files it writes '
                    'in the config dir. Needs the nova and identity '
                    'extras, and for the chain the telemetry extra and '
                    'RabbitMQ (tools/install-packages.sh), or --no-chain.')
    p.add_argument('--port', type=common.port, default=8774,
                   help='port on 127.0.0.1 (default %(default)s); it must '
                        'be free')
    p.add_argument('--config-dir', metavar='DIR',
                   help="also write the sandbox's nova.conf, api-paste.ini "
                        'and policy.json to DIR (made if missing, left '
                        'after stop), for check --config-dir DIR (default: '
                        "only the sandbox's own temporary config dir, "
                        'removed at stop)')
    p.add_argument('--identity', choices=sandbox.IDENTITIES,
                   default=sandbox.KEYSTONE,
                   help='keystone (default): real Keystone on another '
                        'loopback port and Nova\'s authtoken, with an '
                        'openrc for the owner and the admin; headers: no '
                        'Keystone, the X-User-Id, X-Project-Id and X-Roles '
                        'headers (or the tokens owner and admin) stand for '
                        'a token')
    p.add_argument('--no-chain', action='store_true',
                   help='run no notification chain and no notifier: the '
                        'API alone (needs neither RabbitMQ nor the '
                        'telemetry extra)')
    p.add_argument('--background', metavar='LOG',
                   help='run in the background, its output in the file '
                        'LOG, and return once the API answers (exit '
                        'status 0; the ready line and the process to stop '
                        'are printed, and its id is in serve.pid of the '
                        'config dir) or once serve has failed or stopped '
                        'while starting (exit status 1 or 2, with the '
                        'reason); a script needs no loop waiting on a log, '
                        'and waits no longer than serve lives')
    p.add_argument('--keep-nova-host-status', action='store_true',
                   help="leave Nova's own host_status in responses, as in "
                        'a real deployment (by default the filter computes '
                        'every value shown)')
    p.set_defaults(func=run, check_options=check_options)


def check_options(args):
    """Find a busy port, an unusable config dir or a chain without
    Keystone now, not after Nova's 15 s start; None if all are fine.
    """
    if (getattr(args, 'identity', sandbox.KEYSTONE) != sandbox.KEYSTONE and
            not getattr(args, 'no_chain', True)):
        return common.chain_needs_keystone(args.identity)
    problem = port_problem(args.port)
    if problem:
        return 'argument --port: %s' % problem
    if args.config_dir:
        try:
            os.makedirs(args.config_dir, exist_ok=True)
        except OSError as exc:
            return 'argument --config-dir: %s: %s' % (
                args.config_dir, exc.strerror or exc)
    if getattr(args, 'background', None):
        try:
            with open(args.background, 'a'):
                pass
        except OSError as exc:
            return 'argument --background: %s: %s' % (
                args.background, exc.strerror or exc)
    return None


def port_problem(port):
    """Why 127.0.0.1:``port`` cannot be served on, or None.

    Binds as the server will (address reuse on), so a port left in
    TIME_WAIT by an earlier run counts as free, as it is to the server.
    """
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(('127.0.0.1', port))
        except OSError as exc:
            return _port_error(port, exc)
    return None


def _port_error(port, exc):
    if exc.errno == errno.EADDRINUSE:
        return ('127.0.0.1:%d is in use; choose a free port with --port'
                % port)
    return '127.0.0.1:%d cannot be used: %s' % (port, exc.strerror or exc)


DEMO_HOSTS = (
    ('compute-up', 'up'),
    ('compute-stale', 'stale'),
    ('compute-maintenance', 'disabled'),
    ('compute-down', 'forced_down'),
    ('compute-down-maintenance', 'forced_down_disabled'),
)
# The VM owner: Keystone's (bootstrapped by the sandbox), or with the
# header stand-in a project and user of these names.
DEMO_USER, DEMO_PROJECT = keystone.OWNER


def run(args):
    """The sandbox on a loopback port, with a fleet in every state."""
    if getattr(args, 'background', None):
        return _background(args)
    return _run(args, None)


def _run(args, report):
    """Serve until stopped; ``report`` (a pipe's write end, or None) is
    told the ready line, or why serve ended before it.
    """
    outcome = _Outcome(report)
    stopping = _stop_on_signals()
    strip_nova = not args.keep_nova_host_status
    identity = getattr(args, 'identity', sandbox.KEYSTONE)
    telling = None
    try:
        if not getattr(args, 'no_chain', True):
            # Before Nova's 15 s start: say at once what is missing.
            owner.check_installed(NO_CHAIN)
            telling = owner.Telling(progress=lambda msg: print(
                '  ' + msg, flush=True))
        with common.start_sandbox(
                strip_nova=strip_nova, identity=identity,
                notifications=telling.transport_url if telling
                else None) as box:
            try:
                code = _serve(box, telling, args, outcome)
            finally:
                stopping.ignore()
                if telling is not None:
                    # The agent reads the sandbox's Nova: stop it first.
                    print('Stopping the notifier and the chain.', flush=True)
                    telling.stop()
                    telling = None
        return code
    except KeyboardInterrupt:
        stopping.ignore()
        if outcome.ready:
            return 0
        print('\nStopped while starting (%s).' % stopping.by, flush=True)
        outcome.failed('stopped while starting (%s)' % stopping.by)
        return 1
    except Exception as exc:
        stopping.ignore()
        outcome.failed(str(exc) or exc.__class__.__name__)
        raise
    finally:
        stopping.ignore()
        if telling is not None:
            telling.stop()
        outcome.failed('serve ended before it was ready')


class _Stopping(object):
    """Ctrl-C and SIGTERM stop serve, once: a second signal while it stops
    Keystone, the chain and their temporary files is ignored, so that
    nothing is left behind half removed.
    """

    by = None

    def handle(self, signum, frame):
        self.ignore()
        self.by = signal.Signals(signum).name
        raise KeyboardInterrupt()

    def ignore(self):
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, signal.SIG_IGN)


def _stop_on_signals():
    stopping = _Stopping()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, stopping.handle)
    return stopping


class _Outcome(object):
    """How serve's start ended, told once to the process that waits for
    it (``--background``): the ready line, or ``FAILED: <reason>``.
    """

    def __init__(self, fd):
        self.fd = fd
        self.ready = False

    def succeeded(self, line):
        self.ready = True
        self._tell(line)

    def failed(self, reason):
        self._tell('FAILED: %s' % reason)

    def _tell(self, text):
        if self.fd is None:
            return
        fd, self.fd = self.fd, None
        try:
            os.write(fd, (text + '\n').encode())
        except OSError:
            pass
        os.close(fd)


def _read_all(fd, chunks):
    while True:
        chunk = os.read(fd, 4096)
        if not chunk:
            return
        chunks.append(chunk)


def _background(args):
    """Start serve in a process of its own, its output in the file
    ``args.background``, and wait for it to be ready or to fail.
    """
    read, write = os.pipe()
    log = os.open(args.background, os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
                  0o644)
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        # Its own session: a closed terminal or its Ctrl-C is not serve's.
        os.setsid()
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.close(log)
        return _run(args, write)
    os.close(write)
    os.close(log)
    _stop_on_signals()
    told = []
    try:
        _read_all(read, told)
    except KeyboardInterrupt:
        # Stopped while waiting: serve stops too, and says so.
        os.kill(pid, signal.SIGTERM)
        _read_all(read, told)
    os.close(read)
    told = b''.join(told).decode(errors='replace').strip()
    if told.startswith('Ready: '):
        print(told)
        print('serve runs in the background as process %d (in %s of the '
              'config dir while it runs), its output (the commands to try, '
              'one line per request) in %s; stop it with: kill %d'
              % (pid, PID_FILE, args.background, pid), flush=True)
        return 0
    reason = told[len('FAILED: '):] if told.startswith('FAILED: ') else (
        'serve ended before it was ready')
    # It has stopped what it started: wait for it, and for its status.
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    print('nova-hoststatus serve: error: %s (exit status %d); its output '
          'is in %s' % (reason, code, args.background), file=sys.stderr)
    return code if code > 0 else 1


def _serve(box, telling, args, outcome):
    box.set_policy(common.OWNER_RULE)
    config_dir = box.path
    if args.config_dir:
        config_dir = box.config_dir(os.path.abspath(args.config_dir),
                                    common.OWNER_RULE)
    pid_file = os.path.join(config_dir, PID_FILE)
    with open(pid_file, 'w') as f:
        f.write('%d\n' % os.getpid())
    try:
        return _serve_from(box, telling, args, outcome, config_dir)
    finally:
        try:
            os.remove(pid_file)
        except OSError:
            pass


def _serve_from(box, telling, args, outcome, config_dir):
    if telling is not None:
        common.start_chain(telling, box)
    servers = []
    project = box.project_id(DEMO_PROJECT)
    for host, state in DEMO_HOSTS:
        box.create_host(host, state)
        servers.append((box.create_server(
            project, DEMO_USER, host, name='vm-on-' + host), host))
    servers.append((box.create_server(
        project, DEMO_USER, None, name='vm-unscheduled'), None))
    consumer_log = None
    if telling is not None:
        common.start_agent(telling, box)
        consumer_log = os.path.join(config_dir, CONSUMER_LOG)
        telling.consumer.on_call = _consumer_logger(consumer_log)
    owner_headers = box.headers(project, DEMO_USER)
    tokens = {}
    if box.keystone is None:
        admin = box.headers(common.ADMIN_PROJECT, 'admin',
                            sandbox.ADMIN_ROLES)
        tokens = {'owner': _caller(owner_headers), 'admin': _caller(admin)}
    try:
        url = box.serve(args.port, tokens, log=_log)
    except OSError as exc:
        # Taken while Nova was starting.
        problem = _port_error(args.port, exc)
        print('nova-hoststatus serve: error: %s' % problem, file=sys.stderr)
        outcome.failed(problem)
        return 2
    beat = threading.Thread(target=_heartbeats, args=(box,),
                            name='heartbeats', daemon=True)
    beat.start()
    if box.keystone is None:
        _examples(url, servers, owner_headers, config_dir)
    else:
        _keystone_examples(box, url, servers, config_dir)
        if telling is not None:
            _alarm_examples(box, telling, config_dir, consumer_log)
    print('\nOne line per request follows (method, path, status, time, '
          'caller)%s.\n' % (", and one per call of the owner's consumer"
                            if telling is not None else ''))
    line = ready_line(url, config_dir)
    print(line, flush=True)
    outcome.succeeded(line)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        print('\nStopping.', flush=True)
    return 0


def _consumer_logger(path):
    """Log each call of the consumer: a line on stdout, and its JSON in
    ``path``.
    """
    lock = threading.Lock()

    def log(call):
        body = call['body']
        try:
            told = telemetry.traits(body)
            what = 'server %s: %s -> %s' % (
                told.get('server_id'), told.get('old_host_status'),
                told.get('host_status'))
        except (KeyError, TypeError, IndexError):
            what = 'a call that is not an event alarm\'s'
        with lock:
            print('consumer /%s called: %s' % (call['name'], what),
                  flush=True)
            with open(path, 'a') as f:
                f.write(json.dumps({'name': call['name'],
                                    'time': call['time'],
                                    'body': body}) + '\n')
    return log


def _log(line):
    print(line, flush=True)


def _caller(headers):
    return {k: v for k, v in headers.items()
            if k in ('X-User-Id', 'X-Project-Id', 'X-Roles')}


def _heartbeats(box):
    """Keep the live demo hosts up, as their nova-compute would."""
    while True:
        time.sleep(60)
        for host, state in DEMO_HOSTS:
            if state != 'stale':
                box.set_heartbeat(host, 0)


def ready_line(url, config_dir):
    """The line that says the API answers, where its files are, and how to
    stop it.
    """
    return ('Ready: the filtered compute API at %s; config dir %s '
            '(nova.conf, api-paste.ini, policy.json: check --config-dir '
            'reads it); Ctrl-C or SIGTERM stops.' % (url, config_dir))


# The callers clouds.yaml names: the owner, the reader and the admin of
# the VM owner's project, and a member of another project.  The owner and
# the admin also get an openrc.
CLOUDS = (
    ('owner', keystone.OWNER),
    ('reader', keystone.READER),
    ('other', keystone.OTHER),
    ('admin', keystone.ADMIN),
)
OPENRCS = ('owner', 'admin')


def cloud(keystone_url, user, project):
    """How ``user`` on ``project`` of the sandbox's Keystone logs in, as a
    cloud of clouds.yaml.
    """
    return {
        'auth': {'auth_url': keystone_url, 'username': user,
                 'password': keystone.PASSWORD, 'project_name': project,
                 'user_domain_name': keystone.DOMAIN,
                 'project_domain_name': keystone.DOMAIN},
        'identity_api_version': 3,
        'region_name': keystone.REGION,
    }


def openrc(keystone_url, user, project):
    """The same as :func:`cloud`, as an openrc: each setting in the
    ``OS_`` variable the clients read it from, and the microversion that
    shows host_status.
    """
    settings = cloud(keystone_url, user, project)
    settings = dict(settings.pop('auth'), **settings,
                    compute_api_version='2.16')
    return ''.join('export OS_%s=%s\n' % (name.upper(), value)
                   for name, value in settings.items())


def write_openrcs(box, config_dir):
    """``owner-openrc`` and ``admin-openrc`` in ``config_dir``; their
    paths.
    """
    paths = []
    for name, (user, project) in CLOUDS:
        if name in OPENRCS:
            path = os.path.join(config_dir, '%s-openrc' % name)
            with open(path, 'w') as f:
                f.write(openrc(box.keystone.auth_url, user, project))
            paths.append(path)
    return paths


def clouds_yaml(keystone_url):
    """A clouds.yaml with a cloud for each of :data:`CLOUDS`."""
    return yaml.safe_dump({'clouds': {
        name: cloud(keystone_url, user, project)
        for name, (user, project) in CLOUDS}}, default_flow_style=False)


def write_clouds_yaml(box, config_dir):
    """``clouds.yaml`` in ``config_dir``; its path."""
    path = os.path.join(config_dir, 'clouds.yaml')
    with open(path, 'w') as f:
        f.write(clouds_yaml(box.keystone.auth_url))
    return path


def _keystone_examples(box, url, servers, config_dir):
    first = servers[0][0]
    owner_rc, admin_rc = write_openrcs(box, config_dir)
    clouds_file = write_clouds_yaml(box, config_dir)
    print('\nNova compute API with the host_status filter: %s' % url)
    print('Keystone (identity v3): %s' % box.keystone.auth_url)
    print('Policy: %s\n' % common.OWNER_RULE)
    print('Servers of project %s (user %s):' % (DEMO_PROJECT, DEMO_USER))
    for server_id, host in servers:
        print('  %s  on %s' % (server_id, host or '(no host)'))
    print('\nThe VM owner (member, and reader by the implied role), %s:'
          % owner_rc)
    print(''.join('  ' + line for line in open(owner_rc).readlines()))
    print('The admin: %s; also the users %s (reader only, on %s) and %s '
          '(member of %s); every password is %s.' % (
              admin_rc, keystone.READER[0], keystone.READER[1],
              keystone.OTHER[0], keystone.OTHER[1], keystone.PASSWORD))
    print('\nopenstack CLI (the clients extra):')
    print('  source %s' % owner_rc)
    print("  openstack server list --long -c Name -c Status "
          "-c 'Image Name' -c 'Host Status'")
    print('  openstack server show vm-on-compute-down -c name -c host_status')
    print('  source %s' % admin_rc)
    print('  openstack server list --long --project %s -c Name '
          '-c \'Host Status\''
          % DEMO_PROJECT)
    print('  openstack --os-compute-api-version 2.11 compute service set '
          '--down compute-up nova-compute')
    print('\npython-novaclient with a password, as the owner (after '
          'source %s):' % owner_rc)
    print('  python -c "import os; from keystoneauth1 import session; '
          'from keystoneauth1.identity import v3; '
          'from novaclient import client; '
          "a = v3.Password(auth_url=os.environ['OS_AUTH_URL'], "
          "username=os.environ['OS_USERNAME'], "
          "password=os.environ['OS_PASSWORD'], "
          "project_name=os.environ['OS_PROJECT_NAME'], "
          "user_domain_name='Default', project_domain_name='Default'); "
          "print(client.Client('2.16', session=session.Session(auth=a))"
          ".servers.get('%s').host_status)\"" % first)
    print('\ncurl, as the owner:')
    print('  TOKEN=$(openstack token issue -f value -c id)')
    print("  curl -s -H \"X-Auth-Token: $TOKEN\" "
          "-H 'OpenStack-API-Version: compute 2.16' %s/servers/detail" % url)
    # No token is printed (this output is often kept in a file): the
    # command gets one.
    print('\nThe deployment check, on these files and through this API, '
          'as the owner (after source %s):' % owner_rc)
    print('  nova-hoststatus check --config-dir %s --endpoint %s '
          '--auth-url %s --token "$(openstack token issue -f value -c id)"'
          % (config_dir, url, box.keystone.auth_url))
    print('\nThe same, with the owner, the reader, a member of another '
          'project and the admin logged in from %s (openstacksdk, in the '
          'clients extra), each asked through this API:' % clouds_file)
    print('  OS_CLIENT_CONFIG_FILE=%s nova-hoststatus check --config-dir %s '
          '%s' % (clouds_file, config_dir, ' '.join(
              '--cloud %s' % name for name, _ in CLOUDS)))


def owner_token_command(keystone_url):
    """A shell command that sets TOKEN to a token of the VM owner, with
    curl alone.
    """
    auth = {'auth': {
        'identity': {'methods': ['password'], 'password': {'user': {
            'name': DEMO_USER, 'domain': {'name': keystone.DOMAIN},
            'password': keystone.PASSWORD}}},
        'scope': {'project': {'name': DEMO_PROJECT,
                              'domain': {'name': keystone.DOMAIN}}}}}
    return ("TOKEN=$(curl -si -H 'Content-Type: application/json' -d '%s' "
            "%s/auth/tokens | awk 'tolower($1) == \"x-subject-token:\" "
            "{print $2}' | tr -d '\\r')"
            % (json.dumps(auth), keystone_url.rstrip('/')))


def alarm_command(aodh_url, name, consumer_url):
    """A shell command that makes an event alarm of the VM owner's project
    (with ``$TOKEN``) posting to ``consumer_url``.
    """
    return ("curl -s -X POST -H \"X-Auth-Token: $TOKEN\" "
            "-H 'Content-Type: application/json' -d '%s' %s/v2/alarms"
            % (json.dumps(owner.event_alarm(name, consumer_url)),
               aodh_url.rstrip('/')))


def _alarm_examples(box, telling, config_dir, consumer_log):
    name = 'my-servers'
    consumer = telling.consumer.url(name)
    print('\nThe VM owner told of its hosts\' changes: a notifier agent '
          '(nova-hoststatus notifier, log %s) sends %s through RabbitMQ, '
          "Ceilometer and Aodh (%s) to the alarm_actions URL of the "
          "owner's event alarms. A Doctor consumer answers on %s (any "
          'last part of the path names the alarm); each call is a line '
          'below and a JSON line in %s. The owner makes an alarm with its '
          'own token:' % (telling.agent.log, changes.EVENT_TYPE,
                          telling.aodh_url, telling.consumer.url(''),
                          consumer_log))
    print('  ' + owner_token_command(box.keystone.auth_url))
    print('  ' + alarm_command(telling.aodh_url, name, consumer))
    print('or, with python-aodhclient, after source %s:'
          % os.path.join(config_dir, 'owner-openrc'))
    print('  openstack alarm create --name %s -t event --event-type %s '
          '--alarm-action %s --repeat-actions True'
          % (name, changes.EVENT_TYPE, consumer))
    print('Then force compute-up down as the admin (above): the consumer '
          'is called for vm-on-compute-up. Logs of the chain: %s'
          % telling.chain.path)


def _examples(url, servers, owner, config_dir):
    first = servers[0][0]
    print('\nNova compute API with the host_status filter: %s' % url)
    print('Policy: %s\n' % common.OWNER_RULE)
    print('Servers of project %s (user %s):' % (DEMO_PROJECT, DEMO_USER))
    for server_id, host in servers:
        print('  %s  on %s' % (server_id, host or '(no host)'))
    owner = dict(_caller(owner), **{'X-Auth-Token': 'owner'})
    heads = ' '.join("-H '%s: %s'" % item for item in owner.items())
    print('\ncurl, as the owner:')
    print("  curl -s %s -H 'OpenStack-API-Version: compute 2.16' "
          '%s/servers/detail' % (heads, url))
    print('\ncurl, as the admin, forcing a host down:')
    print("  curl -s -X PUT -H 'X-Auth-Token: admin' "
          "-H 'Content-Type: application/json' "
          "-H 'OpenStack-API-Version: compute 2.11' -d '{\"host\": "
          "\"compute-up\", \"binary\": \"nova-compute\", \"forced_down\": "
          "true}' %s/os-services/force-down" % url)
    print("  (the tokens 'owner' and 'admin' stand for these callers, so "
          'the other X-* headers may be left out)')
    print('\npython-novaclient, as the owner:')
    print('  python -c "from keystoneauth1 import session, token_endpoint; '
          'from novaclient import client; '
          "s = session.Session(auth=token_endpoint.Token('%s', 'owner')); "
          "print(client.Client('2.16', session=s).servers.get('%s')"
          '.host_status)"' % (url, first))
    print("\nopenstack CLI (the clients extra). 'server list' insists on "
          'an identity v3 client even though it sends Keystone nothing; '
          'these name one:')
    print('  export OS_AUTH_TYPE=admin_token OS_ENDPOINT=%s '
          'OS_IDENTITY_API_VERSION=3 OS_IDENTITY_ENDPOINT_OVERRIDE=%s '
          'OS_COMPUTE_API_VERSION=2.16' % (url, url))
    print("  OS_TOKEN=owner openstack server list --long "
          "-c Name -c Status -c 'Host Status'")
    print('  OS_TOKEN=owner openstack server show vm-on-compute-down '
          '-c name -c host_status')
    print('  OS_TOKEN=admin openstack --os-compute-api-version 2.11 '
          'compute service set --down compute-up nova-compute')
    print('\nThe deployment check, on these files and through this API, '
          'as the owner:')
    print('  nova-hoststatus check --config-dir %s --endpoint %s '
          '--token owner --token-roles member,reader --token-project %s'
          % (config_dir, url, DEMO_PROJECT))
