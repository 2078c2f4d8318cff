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

"""The notification chain the notifier feeds, real and on loopback.

nova-hoststatus's notifier sends ``hoststatus.server.update`` on Nova's
notification transport; Ceilometer's notification agent turns it into an
event (with ``etc/ceilometer/event_definitions.yaml``) and publishes it to
Aodh's listener (``etc/ceilometer/event_pipeline.yaml``), which fires the
event alarms of the event's project; Aodh's notifier posts them to each
alarm's ``alarm_actions`` URL, an OPNFV Doctor consumer.  This module runs
every party of that chain as the real program, each in a session of its
own with its data under a given folder, for the chain's functional tests:

* :class:`RabbitMQ`: the Debian package's server (and its own ``epmd``);
* :class:`Ceilometer`: ``ceilometer-agent-notification``, events only;
* :class:`Aodh`: ``aodh-api`` behind keystonemiddleware against a real
  Keystone (:class:`~nova_hoststatus.tools.keystone.Keystone`),
  ``aodh-listener`` and ``aodh-notifier``, on sqlite;
* :class:`Consumer`: a Doctor-style consumer that records each post;
* :class:`Chain`: the first three together.

Every party declares its queues durable (``[oslo_messaging_rabbit]
amqp_durable_queues``): RabbitMQ refuses to declare a queue again with
another durability (PRECONDITION_FAILED), and durable queues keep
persistent messages over a broker restart.  The filter never imports this
module.
"""

import http.client
import http.server
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

from nova_hoststatus.notifier import changes
from nova_hoststatus.tools import keystone as keystone_tools
from nova_hoststatus.tools import launchers

RABBITMQ_DIR = '/usr/lib/rabbitmq/bin'
RABBITMQ_MISSING = ("RabbitMQ is not installed (%s/rabbitmq-server is "
                    "missing); on Debian or Ubuntu: apt-get install -y "
                    "rabbitmq-server (or tools/install-packages.sh, which "
                    "installs what bindep.txt lists)" % RABBITMQ_DIR)
TELEMETRY_MISSING = ("%s is not installed in this environment; from the "
                     "source tree: pip install '.[nova,identity,telemetry]'")
# Nova's control_exchange: where Nova's notifications, and the notifier's,
# go; Ceilometer listens to it.
NOVA_EXCHANGE = 'nova'
NOTIFICATION_TOPIC = 'notifications'
# The queues whose consumers make the chain ready: Ceilometer's on Nova's
# notifications, Aodh's listener's on Ceilometer's events and Aodh's
# notifier's on the listener's alarms.
READY_QUEUES = ('notifications.info', 'alarm.all.sample',
                'alarming.sample')
# etc/ceilometer: in the source tree, or where pip installed it
# (setup.cfg's data_files).
ETC_PLACES = (
    os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))), 'etc', 'ceilometer'),
    os.path.join(sys.prefix, 'share', 'nova-hoststatus', 'ceilometer'),
)

# Shared by every oslo.messaging party of the chain.  A broker restart
# drops every connection: each party retries every second (rather than
# backing off to 30 s) so that the chain is whole again soon after.
_MESSAGING = """\
[oslo_messaging_rabbit]
amqp_durable_queues = true
rabbit_retry_interval = 1
rabbit_retry_backoff = 0
rabbit_interval_max = 1
"""


def _etc(name):
    """The project's Ceilometer file ``name``, wherever it was installed."""
    for folder in ETC_PLACES:
        path = os.path.join(folder, name)
        if os.path.exists(path):
            return path
    raise launchers.Missing('%s of etc/ceilometer is in none of %s: install '
                            'the project from its source tree'
                            % (name, ', '.join(ETC_PLACES)))


def _progress(progress):
    return progress or (lambda msg: None)


def _binary(name):
    """A console script of this Python environment (Ceilometer's, Aodh's).
    """
    path = os.path.join(os.path.dirname(sys.executable), name)
    if not os.access(path, os.X_OK):
        raise launchers.Missing(TELEMETRY_MISSING % name)
    return path


def _spawn(cmd, log, env=None, cwd=None):
    """``cmd`` in a session of its own, its output appended to ``log``."""
    with open(log, 'ab') as out:
        return subprocess.Popen(cmd, env=env, cwd=cwd,
                                stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT,
                                start_new_session=True)


def _terminate(proc, timeout=30):
    """Every process here is started in a session of its own: its group
    holds only what it started (Erlang's helpers, cotyledon's workers).
    """
    launchers.stop(proc, timeout, whole_group=True)


def _tail(path, size=3000):
    try:
        with open(path, errors='replace') as f:
            return f.read()[-size:]
    except OSError:
        return ''


def _since(path, offset):
    """What was appended to ``path`` after its first ``offset`` bytes."""
    try:
        with open(path, 'rb') as f:
            f.seek(offset)
            return f.read().decode(errors='replace')
    except OSError:
        return ''


def _write(path, text):
    with open(path, 'w') as f:
        f.write(text)
    return path


class RabbitMQ(object):
    """RabbitMQ on 127.0.0.1, a node of its own with its data in ``path``.

    ``url`` is its oslo.messaging transport URL.  :meth:`restart` keeps
    the port, the node name and the data: durable queues and persistent
    messages survive it.
    """

    def __init__(self, path, progress=None):
        self.path = os.path.abspath(path)
        self.progress = _progress(progress)
        self.port = launchers.free_port()
        self.dist_port = launchers.free_port()
        self.epmd_port = launchers.free_port()
        self.node = 'hoststatus-%d@localhost' % self.port
        self.url = 'rabbit://guest:guest@127.0.0.1:%d/' % self.port
        self.log = os.path.join(self.path, 'rabbitmq-server.log')
        self.startup_seconds = None
        self._epmd = None
        self._proc = None

    def _env(self):
        env = dict(os.environ)
        env.update({
            'HOME': self.path,
            'RABBITMQ_NODENAME': self.node,
            'RABBITMQ_NODE_IP_ADDRESS': '127.0.0.1',
            'RABBITMQ_NODE_PORT': str(self.port),
            'RABBITMQ_DIST_PORT': str(self.dist_port),
            'RABBITMQ_MNESIA_BASE': os.path.join(self.path, 'mnesia'),
            'RABBITMQ_LOG_BASE': os.path.join(self.path, 'log'),
            'RABBITMQ_CONFIG_FILE': os.path.join(self.path, 'rabbitmq.conf'),
            'RABBITMQ_ENABLED_PLUGINS_FILE': os.path.join(self.path,
                                                          'enabled_plugins'),
            'RABBITMQ_PID_FILE': os.path.join(self.path, 'rabbitmq.pid'),
            'ERL_EPMD_PORT': str(self.epmd_port),
            'ERL_EPMD_ADDRESS': '127.0.0.1',
            'RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS':
                '-kernel inet_dist_use_interface {127,0,0,1}',
        })
        return env

    def start(self, timeout=90):
        """Start epmd and the node; return once AMQP accepts connections.
        """
        server = os.path.join(RABBITMQ_DIR, 'rabbitmq-server')
        if not os.access(server, os.X_OK):
            raise launchers.Missing(RABBITMQ_MISSING)
        epmd = shutil.which('epmd') or os.path.join(RABBITMQ_DIR, 'epmd')
        started = time.monotonic()
        for folder in ('mnesia', 'log'):
            os.makedirs(os.path.join(self.path, folder), exist_ok=True)
        _write(os.path.join(self.path, 'enabled_plugins'), '[].\n')
        # A sandbox's disk may be nearly full: RabbitMQ's default free
        # disk limit (50 MB) would block every publisher.
        _write(os.path.join(self.path, 'rabbitmq.conf'),
               'disk_free_limit.absolute = 1MB\n'
               'log.console = false\n')
        env = self._env()
        try:
            # epmd of our own, in the foreground: the one RabbitMQ would
            # start itself outlives it.
            self.progress('starting epmd on port %d' % self.epmd_port)
            self._epmd = _spawn([epmd, '-port', str(self.epmd_port),
                                 '-address', '127.0.0.1'], self.log, env=env)
            launchers._wait_for_port(self.epmd_port, self._epmd, 30, 'epmd')
            self.progress('starting RabbitMQ on %s' % self.url)
            self._proc = _spawn([server], self.log, env=env, cwd=self.path)
            self._wait_for_amqp(timeout)
        except Exception:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - started
        self.progress('RabbitMQ ready in %.1f s' % self.startup_seconds)

    def _wait_for_amqp(self, timeout):
        """Until the node answers the AMQP protocol header."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError('RabbitMQ exited with %s: %s' % (
                    self._proc.returncode, _tail(self.log)))
            try:
                with socket.create_connection(('127.0.0.1', self.port),
                                              1) as sock:
                    sock.settimeout(5)
                    sock.sendall(b'AMQP\x00\x00\x09\x01')
                    if sock.recv(8)[:1] == b'\x01':     # connection.start
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError('RabbitMQ did not accept AMQP connections on '
                           'port %d within %d s: %s'
                           % (self.port, timeout, _tail(self.log)))

    def stop(self):
        """Stop the node (SIGTERM: it shuts down cleanly) and its epmd."""
        _terminate(self._proc)
        self._proc = None
        _terminate(self._epmd)
        self._epmd = None

    def restart(self, timeout=90):
        """Stop and start again, on the same port, node and data."""
        self.stop()
        self.start(timeout)

    def ctl(self, *args, timeout=60):
        """``rabbitmqctl`` against this node; its standard output."""
        proc = subprocess.run(
            [os.path.join(RABBITMQ_DIR, 'rabbitmqctl'), '-n', self.node,
             '-q'] + list(args), env=self._env(), capture_output=True,
            text=True, timeout=timeout)
        if proc.returncode:
            raise RuntimeError('rabbitmqctl %s failed: %s'
                               % (' '.join(args), proc.stderr[-2000:]))
        return proc.stdout

    def queues(self):
        """{queue name: (messages, consumers)} of the default vhost."""
        out = {}
        for line in self.ctl('list_queues', '--no-table-headers', 'name',
                             'messages', 'consumers').splitlines():
            fields = line.split()
            if len(fields) == 3 and fields[1].isdigit():
                out[fields[0]] = (int(fields[1]), int(fields[2]))
        return out

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()


_CEILOMETER_CONF = """\
[DEFAULT]
transport_url = {transport_url}
log_file = {path}/ceilometer-agent-notification.log
use_stderr = false
event_pipeline_cfg_file = {path}/event_pipeline.yaml

[notification]
# Events only: no meter pipeline (it would want Gnocchi).
pipelines = event
workers = 1
# This list replaces Ceilometer's default (nova, glance, neutron, ...):
# Nova's exchange is the one the notifier sends on.
notification_control_exchanges = {exchange}

[event]
# Ceilometer's own definitions followed by nova-hoststatus's, as an
# operator would concatenate them.
definitions_cfg_file = {path}/event_definitions.yaml

{messaging}
"""


class Ceilometer(object):
    """Ceilometer's notification agent (events only) on ``transport_url``,
    with the event definitions and pipeline of ``etc/ceilometer``.
    """

    def __init__(self, path, transport_url, progress=None):
        self.path = os.path.abspath(path)
        self.transport_url = transport_url
        self.progress = _progress(progress)
        self.log = os.path.join(self.path, 'ceilometer-agent-notification.log')
        self.config_file = os.path.join(self.path, 'ceilometer.conf')
        self._proc = None

    def configure(self):
        os.makedirs(self.path, exist_ok=True)
        import ceilometer
        own = os.path.join(os.path.dirname(ceilometer.__file__), 'pipeline',
                           'data', 'event_definitions.yaml')
        with open(own) as f:
            theirs = f.read()
        with open(_etc('event_definitions.yaml')) as f:
            ours = f.read()
        _write(os.path.join(self.path, 'event_definitions.yaml'),
               theirs.rstrip('\n') + '\n' + ours)
        shutil.copy(_etc('event_pipeline.yaml'),
                    os.path.join(self.path, 'event_pipeline.yaml'))
        _write(self.config_file, _CEILOMETER_CONF.format(
            path=self.path, transport_url=self.transport_url,
            exchange=NOVA_EXCHANGE, messaging=_MESSAGING))

    def start(self):
        """Start the agent (it connects to RabbitMQ on its own, retrying
        until the broker answers).
        """
        binary = _binary('ceilometer-agent-notification')
        if not os.path.exists(self.config_file):
            self.configure()
        self.progress('starting ceilometer-agent-notification')
        self._proc = _spawn([binary, '--config-file', self.config_file],
                            os.path.join(self.path, 'ceilometer.out'),
                            cwd=self.path)

    def check(self):
        if self._proc is None or self._proc.poll() is not None:
            raise RuntimeError('ceilometer-agent-notification is not '
                               'running: %s' % _tail(self.log))

    def stop(self):
        _terminate(self._proc)
        self._proc = None


_AODH_CONF = """\
[DEFAULT]
transport_url = {transport_url}
use_stderr = false
# Aodh's listener keeps each project's event alarms for this long (60 s
# by default): a new alarm would not fire for a minute.
event_alarm_cache_ttl = 0

[database]
connection = sqlite:///{path}/aodh.sqlite

[api]
auth_mode = keystone
paste_config = {path}/api-paste.ini

[keystone_authtoken]
{authtoken}

[service_credentials]
{credentials}
interface = public

[listener]
workers = 1

[notifier]
workers = 1

[evaluator]
workers = 1

{messaging}
"""


class AodhError(RuntimeError):
    """Aodh's API answered with an error."""


class Aodh(object):
    """Aodh's API (behind keystonemiddleware against ``keystone``),
    listener and notifier, on sqlite and ``transport_url``.
    """

    def __init__(self, path, transport_url, keystone, progress=None):
        self.path = os.path.abspath(path)
        self.transport_url = transport_url
        self.keystone = keystone
        self.progress = _progress(progress)
        self.port = launchers.free_port()
        self.url = 'http://127.0.0.1:%d' % self.port
        self.config_file = os.path.join(self.path, 'aodh.conf')
        self._procs = {}
        self._registered = False

    def configure(self):
        os.makedirs(self.path, exist_ok=True)
        options = keystone_tools.authtoken_options(self.keystone)
        authtoken = '\n'.join('%s = %s' % item for item in options.items())
        credentials = '\n'.join(
            '%s = %s' % (key, options[key]) for key in (
                'auth_url', 'auth_type', 'username', 'password',
                'project_name', 'user_domain_name', 'project_domain_name',
                'region_name'))
        # Aodh's own paste file, but for its authtoken filter: it reads
        # the configuration files of project "aodh" (/etc/aodh/aodh.conf),
        # unless the filter names one.
        import aodh.api
        with open(os.path.join(os.path.dirname(aodh.api.__file__),
                               'api-paste.ini')) as f:
            paste = f.read()
        filter_line = ('paste.filter_factory = '
                       'keystonemiddleware.auth_token:filter_factory\n')
        if filter_line not in paste:
            raise RuntimeError("Aodh's api-paste.ini has no authtoken filter")
        _write(os.path.join(self.path, 'api-paste.ini'), paste.replace(
            filter_line,
            filter_line + 'oslo_config_file = %s\n' % self.config_file))
        _write(self.config_file, _AODH_CONF.format(
            path=self.path, transport_url=self.transport_url,
            authtoken=authtoken, credentials=credentials,
            messaging=_MESSAGING))

    def dbsync(self):
        binary = _binary('aodh-dbsync')
        self.progress('creating Aodh database with aodh-dbsync')
        proc = subprocess.run([binary, '--config-file', self.config_file],
                              capture_output=True, text=True)
        if proc.returncode:
            raise RuntimeError('aodh-dbsync failed (%d): %s'
                               % (proc.returncode, proc.stderr[-3000:]))

    def start(self, timeout=90):
        """Database, then API, listener and notifier; return once the API
        answers (the listener and notifier connect to RabbitMQ on their
        own).
        """
        binaries = {name: _binary(name) for name in (
            'aodh-api', 'aodh-listener', 'aodh-notifier', 'aodh-dbsync')}
        if not os.path.exists(self.config_file):
            self.configure()
            self.dbsync()
        if not self._registered:
            self.keystone.add_endpoint('alarming', 'aodh', self.url)
            self._registered = True
        try:
            self.progress('starting aodh-api on %s' % self.url)
            self._procs['api'] = _spawn(
                [binaries['aodh-api'], '--host', '127.0.0.1', '--port',
                 str(self.port), '--', '--config-file', self.config_file,
                 '--log-file', self._log('api')], self._out('api'),
                cwd=self.path)
            for name in ('listener', 'notifier'):
                self.progress('starting aodh-%s' % name)
                self._procs[name] = _spawn(
                    [binaries['aodh-' + name], '--config-file',
                     self.config_file, '--log-file', self._log(name)],
                    self._out(name), cwd=self.path)
            self._wait_for_api(timeout)
        except Exception:
            self.stop()
            raise

    def _log(self, name):
        return os.path.join(self.path, 'aodh-%s.log' % name)

    def _out(self, name):
        return os.path.join(self.path, 'aodh-%s.out' % name)

    def _wait_for_api(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check()
            try:
                status, _ = self._call('GET', '/')
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError('aodh-api did not answer within %d s: %s'
                           % (timeout, _tail(self._out('api'))))

    def check(self):
        for name, proc in self._procs.items():
            if proc.poll() is not None:
                raise RuntimeError('aodh-%s exited with %s: %s' % (
                    name, proc.returncode,
                    _tail(self._log(name)) or _tail(self._out(name))))

    def stop(self):
        for name in list(self._procs):
            _terminate(self._procs.pop(name))

    def _call(self, method, path, body=None, token=None, timeout=30):
        headers = {'Accept': 'application/json'}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers['Content-Type'] = 'application/json'
        if token:
            headers['X-Auth-Token'] = token
        conn = http.client.HTTPConnection('127.0.0.1', self.port,
                                          timeout=timeout)
        try:
            conn.request(method, path, body=data, headers=headers)
            resp = conn.getresponse()
            raw = resp.read()
        finally:
            conn.close()
        try:
            doc = json.loads(raw) if raw else None
        except ValueError:
            doc = raw.decode(errors='replace')
        return resp.status, doc

    def create_event_alarm(self, token, name, url, query=(),
                           event_type=changes.EVENT_TYPE):
        """An event alarm of the token's project that posts each matching
        event to ``url``; its id.

        :param query: Aodh query items, e.g. ``{'field':
            'traits.server_id', 'op': 'eq', 'value': ..., 'type':
            'string'}`` (Aodh needs ``type``).
        """
        status, doc = self._call('POST', '/v2/alarms', {
            'name': name,
            'type': 'event',
            'event_rule': {'event_type': event_type, 'query': list(query)},
            'alarm_actions': [url],
            'repeat_actions': True,
        }, token=token)
        if status != 201:
            raise AodhError('creating alarm %s: Aodh answered %s: %s'
                            % (name, status, doc))
        return doc['alarm_id']

    def alarm(self, token, alarm_id):
        status, doc = self._call('GET', '/v2/alarms/' + alarm_id,
                                 token=token)
        if status != 200:
            raise AodhError('alarm %s: Aodh answered %s: %s'
                            % (alarm_id, status, doc))
        return doc

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()


class Consumer(object):
    """An OPNFV Doctor consumer: an HTTP server on 127.0.0.1 that records
    each POST.  Each alarm posts to a URL of its own, :meth:`url`.

    A call is a dict: ``name`` (the URL's last part), ``monotonic`` and
    ``time`` (``time.monotonic()`` and wall-clock time of its arrival)
    and ``body`` (the parsed JSON, else the text).  ``on_call``, if
    given, is called with each call as it arrives (to log it).
    """

    def __init__(self, on_call=None):
        self._calls = []
        self.on_call = on_call
        self._cond = threading.Condition()
        consumer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                arrived = time.monotonic(), time.time()
                raw = self.rfile.read(
                    int(self.headers.get('Content-Length') or 0))
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = raw.decode(errors='replace')
                self.send_response(200)
                self.send_header('Content-Length', '0')
                self.end_headers()
                consumer._record({'name': self.path.strip('/'),
                                  'monotonic': arrived[0],
                                  'time': arrived[1], 'body': body})

            def log_message(self, fmt, *args):
                """Quiet."""

        self._server = http.server.ThreadingHTTPServer(('127.0.0.1', 0),
                                                       Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = None

    def _record(self, call):
        with self._cond:
            self._calls.append(call)
            self._cond.notify_all()
        if self.on_call is not None:
            self.on_call(call)

    def start(self):
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        daemon=True)
        self._thread.start()

    def stop(self):
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()

    def url(self, name):
        return 'http://127.0.0.1:%d/%s' % (self.port, name)

    def calls(self, name=None):
        with self._cond:
            return [call for call in self._calls
                    if name is None or call['name'] == name]

    def wait_for(self, count, timeout, name=None):
        """The calls (to ``name``) once there are ``count``, or those that
        came within ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                calls = [call for call in self._calls
                         if name is None or call['name'] == name]
                left = deadline - time.monotonic()
                if len(calls) >= count or left <= 0:
                    return calls
                self._cond.wait(left)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()


def traits(body):
    """{name: value} of the event an Aodh event alarm posted."""
    event = body['reason_data']['event']
    return {trait[0]: trait[2] for trait in event.get('traits', [])}


class Publisher(object):
    """Sends ``hoststatus.server.update`` exactly as the notifier does:
    oslo.messaging's ``messagingv2`` driver, on Nova's exchange, topic
    ``notifications``, priority info, publisher ``nova-hoststatus``.
    """

    def __init__(self, path, transport_url):
        from oslo_config import cfg
        import oslo_messaging

        from nova_hoststatus.notifier import agent
        os.makedirs(path, exist_ok=True)
        config_file = _write(
            os.path.join(path, 'publisher.conf'),
            '[DEFAULT]\ncontrol_exchange = %s\n\n%s'
            % (NOVA_EXCHANGE, _MESSAGING))
        self.conf = cfg.ConfigOpts()
        self.conf(['--config-file', config_file], project='nova-hoststatus')
        self.transport = oslo_messaging.get_notification_transport(
            self.conf, url=transport_url)
        self.send = agent.sender(self.transport, [NOTIFICATION_TOPIC])

    def close(self):
        self.transport.cleanup()


class Chain(object):
    """RabbitMQ, Ceilometer's notification agent and Aodh, under ``path``.

    ``transport_url`` (RabbitMQ's) is known at once, before anything
    starts, so that Nova can be configured to send there; Aodh's API is
    put behind the Keystone given to :meth:`start`.
    """

    def __init__(self, path, progress=None):
        self.path = os.path.abspath(path)
        self.progress = _progress(progress)
        self.rabbitmq = RabbitMQ(os.path.join(self.path, 'rabbitmq'),
                                 progress=progress)
        self.transport_url = self.rabbitmq.url
        self.ceilometer = Ceilometer(os.path.join(self.path, 'ceilometer'),
                                     self.transport_url, progress=progress)
        self.aodh = None
        self.startup_seconds = None

    def start(self, keystone, timeout=120):
        """Start the three at once (Ceilometer and Aodh connect once the
        broker answers), Aodh's API behind ``keystone``; return once every
        queue of the chain has its consumer.
        """
        started = time.monotonic()
        self.aodh = Aodh(os.path.join(self.path, 'aodh'), self.transport_url,
                         keystone, progress=self.progress)
        os.makedirs(self.path, exist_ok=True)
        errors = []

        def run(target):
            try:
                target()
            except Exception as exc:
                errors.append(exc)

        try:
            threads = [threading.Thread(target=run, args=(target,))
                       for target in (self.rabbitmq.start, self.aodh.start)]
            for thread in threads:
                thread.start()
            self.ceilometer.start()
            for thread in threads:
                thread.join()
            if errors:
                raise errors[0]
            self.wait_until_ready(timeout)
        except Exception:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - started
        self.progress('chain ready in %.1f s' % self.startup_seconds)

    def wait_until_ready(self, timeout=120, queues=READY_QUEUES):
        """Until each of ``queues`` has a consumer (each party listens)."""
        deadline = time.monotonic() + timeout
        while True:
            self.ceilometer.check()
            self.aodh.check()
            have = self.rabbitmq.queues()
            missing = [name for name in queues
                       if have.get(name, (0, 0))[1] < 1]
            if not missing:
                return
            if time.monotonic() > deadline:
                raise RuntimeError('no consumer on %s after %d s (queues: %s)'
                                   % (', '.join(missing), timeout, have))
            time.sleep(0.5)

    def stop(self):
        self.ceilometer.stop()
        if self.aodh is not None:
            self.aodh.stop()
        self.rabbitmq.stop()


class NotifierAgent(object):
    """``nova-hoststatus notifier`` as a process of its own.

    It reads the ``nova.conf`` of ``nova_config_dir`` (a sandbox's
    :meth:`~nova_hoststatus.tools.sandbox.NovaSandbox.config_dir`, whose
    Nova sends its notifications to the chain's broker) and an
    ``agent.conf`` of its own under ``path``: the agents' shared store
    (``store_url``), their tooz backend (``coordination_url``, or none)
    and its scan interval.
    """

    def __init__(self, path, nova_config_dir, store_url,
                 coordination_url=None, scan_interval=1.0,
                 claim_timeout=10.0):
        self.path = os.path.abspath(path)
        self.nova_config = os.path.join(nova_config_dir, 'nova.conf')
        self.store_url = store_url
        self.coordination_url = coordination_url
        self.scan_interval = scan_interval
        self.claim_timeout = claim_timeout
        self.log = os.path.join(self.path, 'notifier.log')
        self.output = os.path.join(self.path, 'notifier.out')
        self._proc = None

    @property
    def pid(self):
        return self._proc.pid if self._proc is not None else None

    def configure(self):
        os.makedirs(self.path, exist_ok=True)
        text = ('[DEFAULT]\nlog_file = %s\n\n[host_status_notifier]\n'
                'connection = %s\nscan_interval = %s\nclaim_timeout = %s\n'
                % (self.log, self.store_url, self.scan_interval,
                   self.claim_timeout))
        if self.coordination_url:
            text += '\n[coordination]\nbackend_url = %s\n' % (
                self.coordination_url)
        return _write(os.path.join(self.path, 'agent.conf'),
                      text + '\n' + _MESSAGING)

    def start(self, timeout=90):
        """Start it; return once it listens on Nova's queue."""
        agent_conf = self.configure()
        binary = os.path.join(os.path.dirname(sys.executable),
                              'nova-hoststatus')
        # The output is appended to: an agent started again must say it
        # listens after this start, not before.
        try:
            offset = os.path.getsize(self.output)
        except OSError:
            offset = 0
        self._proc = _spawn([binary, 'notifier', '--config-file',
                             self.nova_config, '--config-file', agent_conf],
                            self.output)
        deadline = time.monotonic() + timeout
        while 'listening' not in _since(self.output, offset):
            if self._proc.poll() is not None:
                raise RuntimeError('the notifier exited with %s: %s'
                                   % (self._proc.returncode,
                                      _tail(self.output) or _tail(self.log)))
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError('the notifier did not listen within %d '
                                   's; see %s' % (timeout, self.log))
            time.sleep(0.2)

    def stop(self):
        """SIGTERM: it stops taking messages and finishes the ones taken.
        """
        _terminate(self._proc)
        self._proc = None

    def kill(self):
        """SIGKILL, as a controller that fails: nothing is finished."""
        if self._proc is not None:
            os.killpg(self._proc.pid, signal.SIGKILL)
            self._proc.wait()
            self._proc = None
