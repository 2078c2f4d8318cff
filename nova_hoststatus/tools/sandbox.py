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

"""Real Nova's compute API in this process, with the filter in its pipeline.

The sandbox is what the functional tests, the ``drill`` and ``serve``
commands run against: upstream Nova (the ``nova`` extra), its real WSGI
entry point and its real ``nova-manage``, on sqlite, without a message bus
or Keystone.  Only what a compute API needs from the outside is stood in
for: a loopback Neutron that has no ports and Glance that has one image,
records for compute services and servers written straight into Nova's
databases, as nova-compute and the conductor would have written them.

Identity is real by default: Keystone from PyPI (the ``identity`` extra) in
a child process (:mod:`nova_hoststatus.tools.keystone`), and Nova's
pipeline as shipped, ``authtoken`` (keystonemiddleware) and
``keystonecontext``, with the filter after them.  Every call is made with a
token that Keystone issued to a user whose roles are real assignments.
``identity='headers'`` is the fast stand-in, for benchmarks and the few
tests that say why they need it: ``authtoken`` leaves the pipeline and the
``X-User-Id``, ``X-Project-Id`` and ``X-Roles`` headers stand for a
validated token.

Nova configures itself from process-wide state (``oslo.config``'s global
``CONF``, its database engines, its WSGI application), so one process holds
at most one sandbox; ``shared()`` hands the same one to every caller.
"""

import atexit
import configparser
import contextlib
import datetime
import http.server
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from wsgiref import simple_server

import webob

from nova_hoststatus.tools import keystone as keystone_tools
from nova_hoststatus.tools import strip

FILTER_NAME = 'hoststatus'
STRIP_NAME = 'strip_nova_host_status'
NOVA_APP = 'osapi_compute_nova'
# The filter in front of Nova whose own host_status is kept: what an
# operator deploys, beside a sandbox whose main pipeline strips Nova's.
KEPT_APP = 'osapi_compute_kept'
SERVICE_DOWN_TIME = 3600
ADMIN_ROLES = 'admin,member,reader'
MEMBER_ROLES = 'member,reader'
# Who vouches for the caller: real Keystone and its tokens, or the headers
# that stand for a validated token.
KEYSTONE = 'keystone'
HEADERS = 'headers'
IDENTITIES = (KEYSTONE, HEADERS)

NOVA_MISSING = ("Nova is not installed in this environment; install the "
                "nova extra from the source tree: pip install '.[nova]'")

_NOVA_CONF = """\
[DEFAULT]
host = sandbox-api
transport_url = fake://
# No nova-compute sends heartbeats here: a host is up for this long after
# the heartbeat the sandbox records for it; a host whose recorded
# heartbeat is older (compute-stale in serve) shows UNKNOWN.
service_down_time = {service_down_time}
# No nova-compute listens behind the fake transport: a call to one (Nova
# enabling or disabling a host that is up tells its compute) gives up
# after this long, and the API answers, instead of after 60 s.
rpc_response_timeout = 1
long_rpc_timeout = 1
state_path = {path}
log_file = {path}/nova-api.log
use_stderr = false
debug = false

[api]
auth_strategy = keystone

[wsgi]
api_paste_config = {path}/api-paste.ini

[database]
connection = sqlite:///{databases}/nova.sqlite

[api_database]
connection = sqlite:///{databases}/nova_api.sqlite

[oslo_policy]
policy_file = {path}/policy.json

[oslo_concurrency]
lock_path = {databases}/lock

{notifications}
[neutron]
endpoint_override = {stand_in}

[glance]
endpoint_override = {stand_in}
"""


# Without a notification transport Nova sends nothing.
_NO_NOTIFICATIONS = """\
[oslo_messaging_notifications]
driver = noop
"""
# Nova's versioned notifications on a real broker, as the notification
# agent reads them; durable queues, as every party of the broker has them.
_NOTIFICATIONS = """\
[oslo_messaging_notifications]
driver = messagingv2
transport_url = {url}

[oslo_messaging_rabbit]
amqp_durable_queues = true

[notifications]
notification_format = versioned
"""


def native_threads():
    """Have Nova's API run on native threads, in this process and its
    children (nova-manage, uWSGI workers).

    Every supported release honours this switch; without it, releases
    whose API modules apply eventlet's monkey patching when imported would
    patch the test runner's and the sandbox's own threads, which then hang.
    Call it before anything imports Nova's API.
    """
    os.environ['OS_NOVA_DISABLE_EVENTLET_PATCHING'] = 'true'


class NovaMissing(RuntimeError):
    """Raised when the ``nova`` extra is not installed."""


class Result(object):
    """What a request returned: status code, headers and decoded JSON."""

    def __init__(self, response):
        self.status = response.status_int
        self.headers = response.headers
        self.body = response.body
        self.json = None
        if response.content_type == 'application/json' and self.body:
            self.json = json.loads(self.body)

    def __repr__(self):
        return '<Result %s %s>' % (self.status, self.body[:300])


IMAGE_ID = '155d900f-4e14-4e4c-a73d-069cbf4541e6'
_IMAGE = {
    'id': IMAGE_ID, 'name': 'sandbox-image', 'status': 'active',
    'visibility': 'public', 'container_format': 'bare',
    'disk_format': 'raw', 'min_ram': 0, 'min_disk': 0, 'size': 1048576,
    'owner': 'sandbox', 'protected': False, 'tags': [],
    'created_at': '2026-01-01T00:00:00Z',
    'updated_at': '2026-01-01T00:00:00Z',
}
_IMAGE_SCHEMA = {
    'name': 'image',
    'properties': dict(
        {key: {'type': 'string'} for key in _IMAGE},
        min_ram={'type': 'integer'}, min_disk={'type': 'integer'},
        size={'type': 'integer'}, protected={'type': 'boolean'},
        tags={'type': 'array', 'items': {'type': 'string'}}),
    'additionalProperties': {'type': 'string'},
}


class _StandInHandler(http.server.BaseHTTPRequestHandler):
    """Neutron with nothing in it, and Glance with one public image.

    Nova's server views ask Neutron for ports and security groups on every
    show and detail; an empty answer is what a server without network
    interfaces gets from a real Neutron.  A rebuild asks Glance for the
    image it names.
    """

    def do_GET(self):
        path = self.path.split('?', 1)[0].rstrip('/')
        if path in ('', '/v2'):
            # Glance's version document, for clients that find the image
            # API through Keystone's catalog.
            base = 'http://%s:%d' % self.server.server_address[:2]
            self._reply(200, {'versions': [{
                'id': 'v2.16', 'status': 'CURRENT',
                'links': [{'rel': 'self', 'href': base + '/v2/'}]}]})
        elif path.endswith('/v2/images'):
            self._reply(200, {'images': [_IMAGE],
                              'schema': '/v2/schemas/images'})
        elif path.endswith('/schemas/image'):
            self._reply(200, _IMAGE_SCHEMA)
        elif path.endswith('/images/' + IMAGE_ID):
            self._reply(200, _IMAGE)
        elif '/images/' in path:
            self._reply(404, {'message': 'image not found'})
        else:
            resource = path.rsplit('/', 1)[-1].replace('-', '_')
            self._reply(200, {resource.removesuffix('.json'): []})

    def _reply(self, code, doc):
        body = json.dumps(doc).encode()
        self.send_response(code)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        """Keep the test output clean."""


class _QuietHandler(simple_server.WSGIRequestHandler):
    def log_message(self, fmt, *args):
        """Keep the console for the command's own output."""


# What a request carries once Keystone's auth_token middleware has
# validated its token, and what the served sandbox asks for instead.
CALLER_HEADERS = ('X-Auth-Token', 'X-User-Id', 'X-Project-Id', 'X-Roles')

# Below these, Nova serves its version documents to anyone.
_NEEDS_CALLER = re.compile(r'^/v2(\.1)?/.')


def _environ_key(header):
    return 'HTTP_' + header.upper().replace('-', '_')


def _keystone_stand_in(app, tokens):
    """Stand in for Keystone's auth_token middleware when serving over HTTP.

    A known token sent alone stands for its caller (``tokens`` maps it to
    the other headers), for clients that can send a token but no other
    header, such as the ``openstack`` CLI.  A request to the API that still
    lacks a caller header gets a JSON 401 that names it: Nova alone would
    answer an HTML 401 with no hint, or a 403 that blames its policy.
    """
    def app_with_callers(environ, start_response):
        caller = tokens.get(environ.get('HTTP_X_AUTH_TOKEN'))
        if caller and 'HTTP_X_PROJECT_ID' not in environ:
            for name, value in caller.items():
                environ[_environ_key(name)] = value
        missing = [name for name in CALLER_HEADERS
                   if _environ_key(name) not in environ]
        if missing and _NEEDS_CALLER.match(environ.get('PATH_INFO', '')):
            return _unauthorized(missing, tokens)(environ, start_response)
        return app(environ, start_response)
    return app_with_callers


def _unauthorized(missing, tokens):
    message = ('Missing %s. The sandbox stands in for Keystone: send '
               'X-Auth-Token (any value), X-User-Id, X-Project-Id and '
               'X-Roles' % ', '.join(missing))
    if tokens:
        message += ', or the token %s alone' % ' or '.join(
            repr(token) for token in sorted(tokens))
    return webob.Response(
        status=401, json_body={'unauthorized': {'code': 401,
                                                'message': message + '.'}})


def _with_request_log(app, log):
    """Report each request in one line: what, the answer, time, caller."""
    def app_with_log(environ, start_response):
        started = time.monotonic()
        # Read before Nova's URL map moves the prefix into SCRIPT_NAME.
        path = environ.get('SCRIPT_NAME', '') + environ.get('PATH_INFO', '')
        if environ.get('QUERY_STRING'):
            path += '?' + environ['QUERY_STRING']
        status = []

        def start_and_note(code, headers, exc_info=None):
            status[:] = [code.split(' ', 1)[0]]
            return start_response(code, headers, exc_info)

        body = app(environ, start_and_note)
        try:
            chunks = list(body)
        finally:
            if hasattr(body, 'close'):
                body.close()
        log('%s %s %s %.0f ms project=%s user=%s' % (
            environ.get('REQUEST_METHOD'), path, ''.join(status) or '-',
            (time.monotonic() - started) * 1000,
            environ.get('HTTP_X_PROJECT_ID', '-'),
            environ.get('HTTP_X_USER_ID', '-')))
        return chunks
    return app_with_log


def _upstream_paste_ini():
    """Find the api-paste.ini that the nova wheel installs."""
    try:
        dist = importlib.metadata.distribution('nova')
    except importlib.metadata.PackageNotFoundError:
        raise NovaMissing(NOVA_MISSING)
    for f in dist.files or ():
        if str(f).replace('\\', '/').endswith('etc/nova/api-paste.ini'):
            path = str(dist.locate_file(f))
            if os.path.exists(path):
                return path
    path = os.path.join(sys.prefix, 'etc', 'nova', 'api-paste.ini')
    if os.path.exists(path):
        return path
    raise NovaMissing('the nova distribution has no etc/nova/api-paste.ini')


# The filters that put Nova's context of the caller in the environment.
CONTEXT_FILTERS = ('keystonecontext', 'noauth2')


def _pipeline(names, remove=(), insert_after=None, insert=()):
    out = [n for n in names.split() if n not in remove]
    if insert_after is not None and insert:
        at = out.index(insert_after) + 1
        out[at:at] = list(insert)
    return ' '.join(out)


def paste_config(upstream, strip_nova=False, probes=(), authtoken=False):
    """Nova's api-paste.ini, rewritten for the sandbox.

    ``authtoken`` stays in the keystone pipelines when ``authtoken`` is
    true (real Keystone); otherwise it leaves them (the ``X-*`` headers
    stand for a validated token).  The host_status filter goes
    after the context filter in each v2.1 pipeline, optionally followed by the
    filter that strips Nova's own ``host_status`` and by ``probes``, paste
    filters given as ``(name, 'module:factory')`` pairs.  A second composite,
    ``osapi_compute_nova``, is Nova's v2.1 API without any: the oracle.  A
    third, ``osapi_compute_kept``, has the filter and ``probes`` but never
    the stripping filter: the filter keeping Nova's own value.
    """
    parser = configparser.RawConfigParser(delimiters=('=', ':'))
    parser.optionxform = str
    parser.read(upstream)

    v21 = 'composite:openstack_compute_api_v21'
    legacy = 'composite:openstack_compute_api_v21_legacy_v2_compatible'
    nova_v21 = v21 + '_nova'
    kept_v21 = v21 + '_kept'

    remove = () if authtoken else ('authtoken',)
    parser[legacy]['keystone'] = _pipeline(
        parser.get(legacy, 'keystone'), remove=remove)
    ours = [FILTER_NAME]
    if strip_nova:
        ours.append(STRIP_NAME)
    ours.extend(name for name, _ in probes)
    kept = [name for name in ours if name != STRIP_NAME]
    parser[nova_v21] = dict(parser[v21])
    parser[kept_v21] = dict(parser[v21])
    # Every pipeline of the v2.1 composite gets the filter right after its
    # context filter (Nova releases before 34 also ship a noauth2 one).
    for strategy, names in parser[v21].items():
        context = next((name for name in CONTEXT_FILTERS
                        if name in names.split()), None)
        if context is None:
            continue
        parser[nova_v21][strategy] = _pipeline(names, remove=remove)
        parser[kept_v21][strategy] = _pipeline(
            names, remove=remove, insert_after=context, insert=kept)
        parser[v21][strategy] = _pipeline(
            names, remove=remove, insert_after=context, insert=ours)

    urlmap = 'composite:osapi_compute'
    for app, composite in ((NOVA_APP, nova_v21), (KEPT_APP, kept_v21)):
        parser['composite:' + app] = dict(parser[urlmap])
        parser['composite:' + app]['/v2.1/+'] = composite[len('composite:'):]

    # As an operator deploys it: by entry point, and with no settings, so
    # that the filter follows Nova's own policy file and service_down_time.
    parser['filter:' + FILTER_NAME] = {
        'use': 'egg:nova-hoststatus#hoststatus'}
    parser['filter:' + STRIP_NAME] = {'paste.filter_factory': strip.FACTORY}
    for name, factory in probes:
        parser['filter:' + name] = {'paste.filter_factory': factory}
    return parser


def force_down_request(form, host, service_id, forced):
    """``(path, body)`` of a force-down in ``form``, '2.11' or '2.53'.

    The 2.11 form names the host and binary; the 2.53 form names the
    service by its UUID.
    """
    if form == '2.11':
        return '/os-services/force-down', {
            'host': host, 'binary': 'nova-compute', 'forced_down': forced}
    return '/os-services/%s' % service_id, {'forced_down': forced}


class NovaSandbox(object):
    """Nova's compute API in this process, behind the host_status filter.

    :param strip_nova: put the filter that removes Nova's own
        ``host_status`` behind the host_status filter.
    :param service_down_time: Nova's ``[DEFAULT] service_down_time``, which
        the filter follows.
    :param probes: paste filters, ``(name, 'module:factory')`` pairs, to put
        behind those in the pipeline of this process (not in the
        :meth:`config_dir` of other processes): how tests observe what
        reaches Nova.
    :param identity: ``'keystone'`` (real Keystone and Nova's authtoken) or
        ``'headers'`` (the stand-in: no Keystone, no authtoken).
    :param notifications: a broker's transport URL for Nova's versioned
        notifications (``service.update``), or None for none.
    """

    _started = False

    def __init__(self, strip_nova=False, service_down_time=SERVICE_DOWN_TIME,
                 progress=None, probes=(), identity=KEYSTONE,
                 notifications=None):
        if identity not in IDENTITIES:
            raise ValueError('identity must be one of %s, got %r'
                             % (', '.join(IDENTITIES), identity))
        self.identity = identity
        self.notifications = notifications
        self.keystone = None
        self._compute_endpoint = None
        self.strip_nova = strip_nova
        self.probes = tuple(probes)
        self.service_down_time = service_down_time
        self.progress = progress or (lambda msg: None)
        self.path = None
        self.app = None
        self.nova_app = None
        self._kept_app = None
        self.url = None
        self._stand_in = None
        self._server = None
        self._tokens = {}
        self._flavor = None
        self._cell = None
        self._admin = None
        self._policy_stamp = 0
        self._keystone_start = None

    # Life cycle

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        """Create the databases and load Nova's API with the filter."""
        if NovaSandbox._started:
            raise RuntimeError('Nova can be loaded once per process; use '
                               'nova_hoststatus.tools.sandbox.shared()')
        try:
            import nova  # noqa: F401
        except ImportError:
            raise NovaMissing(NOVA_MISSING)
        NovaSandbox._started = True
        native_threads()
        self.path = tempfile.mkdtemp(prefix='nova-hoststatus-')
        try:
            self._start()
        except BaseException:
            # Ctrl-C or SIGTERM while starting too: nothing left behind.
            self.stop()
            raise

    def _start(self):
        os.mkdir(os.path.join(self.path, 'lock'))
        self._start_stand_in()
        keystone_start = None
        if self.identity == KEYSTONE:
            # Its own folder and process; started while nova-manage runs.
            os.mkdir(os.path.join(self.path, 'keystone'))
            self.keystone = keystone_tools.Keystone(
                os.path.join(self.path, 'keystone'), progress=self.progress)
            if not os.path.exists(os.path.join(
                    os.path.dirname(sys.executable), 'keystone-manage')):
                raise keystone_tools.KeystoneMissing(
                    keystone_tools.KEYSTONE_MISSING)
            failure = []

            def start_keystone():
                try:
                    self.keystone.start()
                except Exception as exc:
                    failure.append(exc)
            keystone_start = threading.Thread(target=start_keystone,
                                              name='keystone-start')
            keystone_start.failure = failure
            self._keystone_start = keystone_start
            keystone_start.start()
        self._write_config(self.path, probes=self.probes)
        self.set_policy({})

        try:
            self._create_databases()
        finally:
            if keystone_start is not None:
                keystone_start.join()
        if keystone_start is not None and keystone_start.failure:
            raise keystone_start.failure[0]
        self.progress('loading the Nova compute API')
        self.app = self._load_nova()
        from paste import deploy
        self.nova_app = deploy.loadapp(
            'config:%s/api-paste.ini' % self.path, name=NOVA_APP)
        self._prepare_records()

    def _create_databases(self):
        self.progress('creating Nova databases with nova-manage')
        self._manage('api_db', 'sync')
        self._manage('cell_v2', 'map_cell0', '--database_connection',
                     'sqlite:///%s/cell0.sqlite' % self.path)
        self._manage('db', 'sync')
        self._manage('cell_v2', 'create_cell', '--name', 'cell1',
                     '--database_connection',
                     'sqlite:///%s/nova.sqlite' % self.path,
                     '--transport-url', 'fake://')

    def _write_config(self, path, probes=()):
        """nova.conf and api-paste.ini in ``path``, on this sandbox's data.
        """
        text = _NOVA_CONF.format(
            path=path, databases=self.path, stand_in=self._stand_in_url,
            service_down_time=self.service_down_time,
            notifications=(_NOTIFICATIONS.format(url=self.notifications)
                           if self.notifications else _NO_NOTIFICATIONS))
        if self.keystone is not None:
            text += '\n[keystone_authtoken]\n' + ''.join(
                '%s = %s\n' % item for item in
                keystone_tools.authtoken_options(self.keystone).items())
        with open(os.path.join(path, 'nova.conf'), 'w') as f:
            f.write(text)
        parser = paste_config(_upstream_paste_ini(), self.strip_nova, probes,
                              authtoken=self.keystone is not None)
        with open(os.path.join(path, 'api-paste.ini'), 'w') as f:
            parser.write(f)

    def config_dir(self, path, rules=None):
        """A config dir for Nova's API in other processes, such as uWSGI's.

        Its ``nova.conf`` names this sandbox's databases and stand-ins, so
        the records made here are what those processes serve; its
        ``api-paste.ini`` is this sandbox's pipeline, filter included.  The
        policy file is its own, with ``rules``.  There is no ``[cache]``:
        every process reads Nova's records from the same databases.
        Returns ``path``, which becomes ``OS_NOVA_CONFIG_DIR``.
        """
        os.makedirs(path, exist_ok=True)
        self._write_config(path)
        with open(os.path.join(path, 'policy.json'), 'w') as f:
            json.dump(rules or {}, f)
        return path

    def stop(self):
        """Stop the servers and remove the temporary folder."""
        self.stop_serving()
        if self._stand_in is not None:
            self._stand_in.shutdown()
            self._stand_in.server_close()
            self._stand_in = None
        if self.keystone is not None:
            if self._keystone_start is not None:
                # Stopped while Keystone starts: let it finish (it stops
                # itself on a failure), then stop it.
                self._keystone_start.join()
                self._keystone_start = None
            self.keystone.stop()
        if self.path is not None:
            shutil.rmtree(self.path, ignore_errors=True)
            self.path = None

    def _start_stand_in(self):
        # Threads: API workers in other processes may ask it at once.
        self._stand_in = http.server.ThreadingHTTPServer(('127.0.0.1', 0),
                                                         _StandInHandler)
        self._stand_in_url = 'http://127.0.0.1:%d' % (
            self._stand_in.server_address[1])
        threading.Thread(target=self._stand_in.serve_forever,
                         name='openstack-stand-in', daemon=True).start()

    def _manage(self, *args):
        manage = os.path.join(os.path.dirname(sys.executable), 'nova-manage')
        if not os.path.exists(manage):
            raise NovaMissing(NOVA_MISSING)
        cmd = [manage, '--config-file',
               os.path.join(self.path, 'nova.conf')] + list(args)
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError('%s failed (%d): %s' % (
                ' '.join(args), proc.returncode, proc.stderr[-2000:]))

    def _load_nova(self):
        """Import Nova's WSGI entry point, as a WSGI server would.

        Nova parses ``sys.argv`` when it loads, so the test runner's
        arguments are hidden from it meanwhile; its logging setup sends
        uncaught exceptions to its log file, so the process's own hook is
        put back.
        """
        os.environ['OS_NOVA_CONFIG_DIR'] = self.path
        argv, excepthook = sys.argv, sys.excepthook
        sys.argv = [argv[0] if argv else 'nova-hoststatus']
        try:
            from nova.wsgi import osapi_compute
        finally:
            sys.argv, sys.excepthook = argv, excepthook
        return osapi_compute.application

    def _prepare_records(self):
        from nova import context
        from nova import objects
        self._admin = context.get_admin_context()
        self._cell = objects.CellMapping.get_by_uuid(
            self._admin, self._cell1_uuid())
        self._flavor = objects.Flavor(
            self._admin, name='sandbox.small', flavorid='sandbox.small',
            memory_mb=512, vcpus=1, root_gb=1, ephemeral_gb=0, swap=0,
            rxtx_factor=1.0, vcpu_weight=0, disabled=False, is_public=True,
            extra_specs={})
        self._flavor.create()

    def _cell1_uuid(self):
        from nova import objects
        for cell in objects.CellMappingList.get_all(self._admin):
            if cell.name == 'cell1':
                return cell.uuid
        raise RuntimeError('nova-manage created no cell1')

    # Policy

    @property
    def policy_file(self):
        return os.path.join(self.path, 'policy.json')

    def set_policy(self, rules):
        """Rewrite Nova's policy file, which Nova and the filter both read.

        Both reload a policy file when its mtime changes; each rewrite gets
        a later mtime so that two rewrites within the file system's clock
        resolution are not mistaken for one.
        """
        tmp = self.policy_file + '.tmp'
        with open(tmp, 'w') as f:
            json.dump(rules, f)
        self._policy_stamp = max(time.time(), self._policy_stamp + 1)
        os.utime(tmp, (self._policy_stamp, self._policy_stamp))
        os.replace(tmp, self.policy_file)

    # Records

    @contextlib.contextmanager
    def cell(self):
        """An admin context targeted at cell1, where services live."""
        from nova import context
        with context.target_cell(self._admin, self._cell) as cctxt:
            yield cctxt

    def create_host(self, host, state='up'):
        """Create a nova-compute service on ``host`` in the given state.

        ``state`` is one of ``up``, ``stale`` (heartbeat hours old: Nova
        reports UNKNOWN), ``disabled`` (MAINTENANCE), ``forced_down`` (DOWN)
        and ``forced_down_disabled`` (DOWN).  Returns the service's UUID.
        """
        from nova import objects
        with self.cell() as cctxt:
            service = objects.Service(cctxt, host=host, binary='nova-compute',
                                      topic='compute', report_count=1)
            service.create()
            node = objects.ComputeNode(
                cctxt, host=host, hypervisor_hostname=host,
                service_id=service.id, uuid=str(uuid.uuid4()),
                vcpus=8, memory_mb=16384, local_gb=100, vcpus_used=0,
                memory_mb_used=0, local_gb_used=0, hypervisor_type='fake',
                hypervisor_version=1, cpu_info='{}', running_vms=0,
                disk_available_least=100, cpu_allocation_ratio=16.0,
                ram_allocation_ratio=1.5, disk_allocation_ratio=1.0)
            node.create()
        objects.HostMapping(self._admin, host=host,
                            cell_mapping=self._cell).create()
        self.set_host_state(host, state)
        return service.uuid

    def create_hosts_bulk(self, hosts):
        """Create idle nova-compute services on ``hosts`` with one insert.

        A cloud of thousands of hosts in a second or two: each is up, with
        a fresh heartbeat, and has no compute node or host mapping (only a
        host that carries servers needs those; use :meth:`create_host`).
        Returns the number of services created.
        """
        from nova.db.main import api as db_api
        from nova.db.main import models
        from nova.objects import service as service_obj
        now = datetime.datetime.now(datetime.timezone.utc).replace(
            tzinfo=None)
        rows = [{'host': host, 'binary': 'nova-compute', 'topic': 'compute',
                 'uuid': str(uuid.uuid4()), 'report_count': 1,
                 'disabled': False, 'forced_down': False,
                 'version': service_obj.SERVICE_VERSION,
                 'created_at': now, 'updated_at': now, 'last_seen_up': now,
                 'deleted': 0} for host in hosts]
        if not rows:
            return 0
        with self.cell() as cctxt:
            with db_api.context_manager.writer.using(cctxt) as session:
                session.execute(models.Service.__table__.insert(), rows)
        return len(rows)

    def set_host_state(self, host, state):
        """Put ``host``'s service in ``state`` behind the API's back.

        Every state but ``stale`` comes with a fresh heartbeat, as from a
        nova-compute that is running.
        """
        if state == 'stale':
            self.set_heartbeat(host, 4 * 3600 + self.service_down_time)
            return
        flags = {'up': (False, False), 'disabled': (False, True),
                 'forced_down': (True, False),
                 'forced_down_disabled': (True, True)}
        if state not in flags:
            raise ValueError('unknown host state %r' % state)
        forced_down, disabled = flags[state]
        self.update_service(host, forced_down=forced_down, disabled=disabled,
                            disabled_reason='sandbox' if disabled else None)
        self.set_heartbeat(host, 0)

    def update_service(self, host, **fields):
        """Change the service record of ``host`` directly in the DB."""
        from nova import objects
        with self.cell() as cctxt:
            service = objects.Service.get_by_compute_host(cctxt, host)
            for key, value in fields.items():
                setattr(service, key, value)
            service.save()

    def get_service(self, host):
        """The service record of ``host`` as Nova has it now."""
        from nova import objects
        with self.cell() as cctxt:
            return objects.Service.get_by_compute_host(cctxt, host)

    def set_heartbeat(self, host, age):
        """Make ``host``'s last heartbeat ``age`` seconds old.

        Nova stamps ``updated_at`` on every save, so the age is written with
        SQL, as a compute that stopped reporting would leave it.
        """
        from nova.db.main import api as db_api
        from nova.db.main import models
        when = (datetime.datetime.now(datetime.timezone.utc).replace(
            tzinfo=None) - datetime.timedelta(seconds=age))
        with self.cell() as cctxt:
            with db_api.context_manager.writer.using(cctxt) as session:
                session.query(models.Service).filter_by(
                    host=host, binary='nova-compute').update(
                    {'created_at': when, 'updated_at': when,
                     'last_seen_up': when}, synchronize_session=False)

    def delete_host(self, host):
        """Remove ``host``'s service, compute node and host mapping."""
        from nova import exception
        from nova import objects
        with self.cell() as cctxt:
            for node in objects.ComputeNodeList.get_all_by_host(cctxt, host):
                node.destroy()
            objects.Service.get_by_compute_host(cctxt, host).destroy()
        with contextlib.suppress(exception.HostMappingNotFound):
            objects.HostMapping.get_by_host(self._admin, host).destroy()

    def create_server(self, project_id, user_id, host=None, name=None):
        """Create an active server owned by ``project_id``/``user_id``.

        ``host=None`` makes a server that was never scheduled.  Returns its
        UUID.
        """
        from nova.compute import power_state
        from nova.compute import vm_states
        from nova.network import model as network_model
        from nova import objects
        project_id = self.project_id(project_id)
        user_id = self.user_id(user_id)
        server_uuid = str(uuid.uuid4())
        with self.cell() as cctxt:
            node = None
            if host is not None:
                [node] = objects.ComputeNodeList.get_all_by_host(cctxt, host)
            inst = objects.Instance(
                cctxt, uuid=server_uuid, project_id=project_id,
                user_id=user_id, display_name=name or server_uuid[:8],
                hostname=name or server_uuid[:8], host=host,
                node=node.hypervisor_hostname if node else None,
                compute_id=node.id if node else None,
                vm_state=vm_states.ACTIVE if host else vm_states.BUILDING,
                power_state=(power_state.RUNNING if host
                             else power_state.NOSTATE),
                flavor=self._flavor, instance_type_id=self._flavor.id,
                memory_mb=self._flavor.memory_mb,
                vcpus=self._flavor.vcpus, root_gb=self._flavor.root_gb,
                ephemeral_gb=0, image_ref=IMAGE_ID, availability_zone='nova',
                launched_at=(datetime.datetime.now(datetime.timezone.utc)
                             if host else None),
                metadata={}, system_metadata={},
                info_cache=objects.InstanceInfoCache(
                    network_info=network_model.NetworkInfo()))
            inst.create()
        objects.RequestSpec.from_components(
            self._admin, server_uuid, objects.ImageMeta.from_dict(_IMAGE),
            self._flavor, None, None, {}, None, 'nova',
            project_id=project_id, user_id=user_id).create()
        objects.InstanceMapping(
            self._admin, instance_uuid=server_uuid, cell_mapping=self._cell,
            project_id=project_id, user_id=user_id,
            queued_for_delete=False).create()
        return server_uuid

    def delete_server(self, server_uuid):
        """Remove a server and its mapping from Nova's databases."""
        from nova import exception
        from nova import objects
        with self.cell() as cctxt:
            with contextlib.suppress(exception.InstanceNotFound):
                objects.Instance.get_by_uuid(cctxt, server_uuid).destroy()
        with contextlib.suppress(exception.InstanceMappingNotFound):
            objects.InstanceMapping.get_by_instance_uuid(
                self._admin, server_uuid).destroy()

    # Requests

    # Identities

    def project_id(self, name):
        """The id Nova knows the project ``name`` by: Keystone's id of a
        project of that name (made if missing), or with the header
        stand-in the name itself.  An id of Keystone's is its own answer.
        """
        if self.keystone is None:
            return name
        if name in self.keystone.projects.values():
            return name
        return self.keystone.project(name)

    def user_id(self, name):
        """As :meth:`project_id`, for a user."""
        if self.keystone is None:
            return name
        if name in self.keystone.users.values():
            return name
        return self.keystone.user(name)

    def _names(self, project_id, user_id):
        """Keystone's names of a project and a user given by id or name."""
        projects = {v: k for k, v in self.keystone.projects.items()}
        users = {v: k for k, v in self.keystone.users.items()}
        return (projects.get(project_id, project_id),
                users.get(user_id, user_id).split('~', 1)[0])

    def token(self, project_id, user_id='user', roles=MEMBER_ROLES):
        """A token from the sandbox's Keystone for this caller, whose roles
        (and those they imply) are real assignments on the project.
        """
        if self.keystone is None:
            raise RuntimeError('the header stand-in has no Keystone')
        if isinstance(roles, str):
            roles = [role for role in roles.split(',') if role]
        project, user = self._names(project_id, user_id)
        return self.keystone.caller(user, project, roles)[0]

    def login(self, project_id, user_id='user', roles=MEMBER_ROLES):
        """Keystone's names of the user that is this caller and of its
        project: (user name, project name); the password is
        :data:`nova_hoststatus.tools.keystone.PASSWORD`.
        """
        if self.keystone is None:
            raise RuntimeError('the header stand-in has no Keystone')
        if isinstance(roles, str):
            roles = [role for role in roles.split(',') if role]
        project, user = self._names(project_id, user_id)
        name = self.keystone.login(user, project, roles)[0]
        return name, project

    def password_auth(self, project_id, user_id='user', roles=MEMBER_ROLES):
        """keystoneauth's v3 password plugin for this caller (a user whose
        roles on the project are real assignments), as a client logs in.
        """
        if self.keystone is None:
            raise RuntimeError('the header stand-in has no Keystone')
        from keystoneauth1.identity import v3
        name, _ = self.login(project_id, user_id, roles)
        project_id = self.project_id(project_id)
        return v3.Password(
            auth_url=self.keystone.auth_url, username=name,
            password=keystone_tools.PASSWORD,
            user_domain_name=keystone_tools.DOMAIN, project_id=project_id)

    def headers(self, project_id, user_id='user', roles=MEMBER_ROLES,
                version=None, token=None):
        """The headers of a request of this caller: a token from Keystone,
        or with the header stand-in those that stand for one.  A ``token``
        given is sent as it is, for the caller it was issued to.
        """
        if token is not None:
            headers = {'X-Auth-Token': token, 'Accept': 'application/json'}
        elif self.keystone is not None:
            headers = {'X-Auth-Token': self.token(project_id, user_id,
                                                  roles),
                       'Accept': 'application/json'}
        else:
            headers = {'X-Auth-Token': 'sandbox', 'X-User-Id': user_id,
                       'X-Project-Id': project_id, 'X-Roles': roles,
                       'Accept': 'application/json'}
        if version is not None:
            headers['OpenStack-API-Version'] = 'compute %s' % version
        return headers

    def request(self, method, path, project_id, user_id='user',
                roles=MEMBER_ROLES, version=None, body=None, nova=False,
                headers=None, token=None, keep_nova=False):
        """Call the compute API in-process and return a :class:`Result`.

        ``path`` is below ``/v2.1`` unless it is ``/`` or starts with
        ``/v2``; ``nova`` sends the request to Nova's pipeline without the
        filter; ``keep_nova`` to the filter in front of Nova whose own
        ``host_status`` is kept (:meth:`kept_app`), whatever
        ``strip_nova`` says.
        """
        if path != '/' and not path.startswith('/v2'):
            path = '/v2.1' + path
        all_headers = self.headers(project_id, user_id, roles, version,
                                   token)
        all_headers.update(headers or {})
        req = webob.Request.blank(path, method=method, headers=all_headers)
        if body is not None:
            req.body = (body if isinstance(body, bytes)
                        else json.dumps(body).encode())
            req.content_type = 'application/json'
        app = self.app
        if nova:
            app = self.nova_app
        elif keep_nova:
            app = self.kept_app()
        return Result(req.get_response(app))

    def kept_app(self):
        """The filter in front of Nova, with Nova's own ``host_status``
        kept: the main pipeline without the stripping filter, loaded on
        first use.
        """
        if self._kept_app is None:
            from paste import deploy
            self._kept_app = deploy.loadapp(
                'config:%s/api-paste.ini' % self.path, name=KEPT_APP)
        return self._kept_app

    # Serving over HTTP

    def serve(self, port=0, tokens=None, log=None):
        """Serve the filtered API on 127.0.0.1:``port`` from a thread.

        With the header stand-in, ``tokens`` maps a token to the caller it
        stands for (a dict of ``X-User-Id``, ``X-Project-Id``, ``X-Roles``);
        every call adds its tokens to those already known.  With Keystone,
        the endpoint is added to Keystone's catalog as the ``compute``
        service when first served.  ``log``, given when the server
        starts, is called with one line per request.  Raises OSError when
        the port cannot be had.  Returns the endpoint URL
        (``http://127.0.0.1:PORT/v2.1``).
        """
        self._tokens.update(tokens or {})
        if self._server is None:
            app = self.app
            if self.keystone is None:
                app = _keystone_stand_in(app, self._tokens)
            if log is not None:
                app = _with_request_log(app, log)
            self._server = simple_server.make_server(
                '127.0.0.1', port, app, handler_class=_QuietHandler)
            threading.Thread(target=self._server.serve_forever,
                             name='nova-api', daemon=True).start()
            self.url = 'http://127.0.0.1:%d/v2.1' % (
                self._server.server_address[1])
            if self.keystone is not None and self._compute_endpoint is None:
                self._compute_endpoint = self.url
                self.keystone.add_endpoint('compute', 'nova', self.url)
                # Glance's stand-in, for the image names clients show.
                self.keystone.add_endpoint('image', 'glance',
                                           self._stand_in_url)
        return self.url

    def stop_serving(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
            self.url = None


_SHARED = None
_SHARED_ERROR = None
_SHARED_LOCK = threading.Lock()


def shared(**kwargs):
    """The process's sandbox, started on first use and removed at exit.

    Every caller in one process shares it, so every caller must ask for the
    same options.  A sandbox that failed to start is not tried again (Nova
    may be half loaded): every caller gets the first error.
    """
    global _SHARED, _SHARED_ERROR
    with _SHARED_LOCK:
        if _SHARED_ERROR is not None:
            raise _SHARED_ERROR
        if _SHARED is None:
            sandbox = NovaSandbox(**kwargs)
            try:
                sandbox.start()
            except Exception as exc:
                _SHARED_ERROR = exc
                raise
            atexit.register(sandbox.stop)
            _SHARED = sandbox
        return _SHARED
