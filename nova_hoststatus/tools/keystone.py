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

"""Real Keystone on a loopback port, for the sandbox, serve and the drill.

Keystone from PyPI (the ``identity`` extra, of the same series as the Nova
under test) runs its real WSGI application in a child process: Keystone
and Nova both keep their settings in oslo.config's global ``CONF``, so they
cannot share one.  It keeps its data in sqlite and issues fernet tokens; the
real ``keystone-manage`` creates its database, its keys and the bootstrap
admin (with Keystone's own roles: admin implies manager implies member
implies reader).  On top of that, through Keystone's API as any operator
would, come the identities the sandbox's callers use:

========================  ==================  ===========================
user                      project             roles assigned
========================  ==================  ===========================
``admin``                 ``admin``           admin (bootstrap)
``nova`` (auth_token)     ``service``         service
``vnf-owner``             ``vnf-tenant``      member (reader is implied)
``vnf-reader``            ``vnf-tenant``      reader
``other-user``            ``other-project``   member
========================  ==================  ===========================

and an application credential of the admin's, for a fault monitor.  Every
user's password is :data:`PASSWORD`.  More projects and users are made on
demand (:meth:`Keystone.caller`), each with the roles it is given as real
assignments, so that the roles Nova sees come from Keystone.
"""

import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

PASSWORD = 'sandbox-password'
REGION = 'RegionOne'
DOMAIN = 'Default'
ADMIN = ('admin', 'admin')
SERVICE = ('nova', 'service')
OWNER = ('vnf-owner', 'vnf-tenant')
READER = ('vnf-reader', 'vnf-tenant')
OTHER = ('other-user', 'other-project')
# Who is who in the bootstrap: (user, project, roles to assign).
IDENTITIES = (
    SERVICE + (('service',),),
    OWNER + (('member',),),
    READER + (('reader',),),
    OTHER + (('member',),),
)
INSPECTOR_CREDENTIAL = 'doctor-inspector'

KEYSTONE_MISSING = ("Keystone is not installed in this environment; from the "
                    "source tree: pip install '.[nova,identity]'")

_KEYSTONE_CONF = """\
[DEFAULT]
log_file = {path}/keystone.log
use_stderr = false
debug = false

[database]
connection = sqlite:///{path}/keystone.sqlite

[token]
provider = fernet
expiration = 86400

[fernet_tokens]
key_repository = {path}/fernet-keys

[fernet_receipts]
key_repository = {path}/fernet-receipts

[credential]
key_repository = {path}/credential-keys

[identity]
# The fewest bcrypt rounds Keystone allows: a sandbox issues many tokens.
password_hash_rounds = 4

[cache]
# In Keystone's own process: validations and role lookups are kept.
enabled = true
backend = dogpile.cache.memory
"""


class KeystoneMissing(RuntimeError):
    """Raised when the ``identity`` extra is not installed."""


class KeystoneError(RuntimeError):
    """Keystone answered a request with an error."""


def _free_port():
    import socket
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


class Keystone(object):
    """Keystone in a child process on 127.0.0.1, bootstrapped.

    ``url`` is Keystone's root, ``auth_url`` its identity v3 endpoint.
    """

    def __init__(self, path=None, progress=None):
        self._own_path = path is None
        self.path = path
        self.progress = progress or (lambda msg: None)
        self.proc = None
        self.port = _free_port()
        self.url = 'http://127.0.0.1:%d' % self.port
        self.auth_url = self.url + '/v3'
        self.startup_seconds = None
        self._admin_token = None
        self._lock = threading.RLock()
        self.projects = {}      # name -> id
        self.users = {}         # name -> id
        self.roles = {}         # name -> id
        self._tokens = {}       # (user name, project name) -> token
        self._assigned = set()  # (user name, project name, role)
        self.inspector = None   # {'id': ..., 'secret': ...}
        self.implies = {}       # role name -> names it implies directly
        self._holds = {}        # (user, project) -> effective roles

    # Life cycle

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        started = time.monotonic()
        manage = os.path.join(os.path.dirname(sys.executable),
                              'keystone-manage')
        if not os.path.exists(manage):
            raise KeystoneMissing(KEYSTONE_MISSING)
        if self.path is None:
            self.path = tempfile.mkdtemp(prefix='nova-hoststatus-keystone-')
        try:
            self._start(manage)
        except Exception:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - started

    def _start(self, manage):
        self.config_file = os.path.join(self.path, 'keystone.conf')
        with open(self.config_file, 'w') as f:
            f.write(_KEYSTONE_CONF.format(path=self.path))
        user, group = _user_and_group()
        self.progress('creating Keystone with keystone-manage')
        steps = [
            ['db_sync'],
            ['fernet_setup', '--keystone-user', user,
             '--keystone-group', group],
            ['credential_setup', '--keystone-user', user,
             '--keystone-group', group],
            ['bootstrap', '--bootstrap-password', PASSWORD,
             '--bootstrap-admin-url', self.auth_url,
             '--bootstrap-public-url', self.auth_url,
             '--bootstrap-internal-url', self.auth_url,
             '--bootstrap-region-id', REGION],
        ]
        # The keys need no database: made while the schema is.
        keys = [self._manage(manage, step) for step in steps[1:3]]
        self._wait_manage(self._manage(manage, steps[0]))
        for proc in keys:
            self._wait_manage(proc)
        self._wait_manage(self._manage(manage, steps[3]))
        self.progress('starting Keystone on %s' % self.url)
        log = open(os.path.join(self.path, 'keystone-server.log'), 'w')
        self.proc = subprocess.Popen(
            [sys.executable, '-m', 'nova_hoststatus.tools.keystone',
             self.config_file, str(self.port), str(os.getpid())],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        self._wait()
        self._bootstrap()

    def _manage(self, manage, step):
        proc = subprocess.Popen(
            [manage, '--config-file', self.config_file] + step,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        proc.step = step[0]
        return proc

    @staticmethod
    def _wait_manage(proc):
        _, err = proc.communicate()
        if proc.returncode != 0:
            raise RuntimeError('keystone-manage %s failed (%d): %s' % (
                proc.step, proc.returncode, err[-2000:]))

    def _wait(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError('Keystone exited with %s: %s' % (
                    self.proc.returncode, self.server_log()[-2000:]))
            try:
                status, _, _ = self._call('GET', '/v3')
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError('Keystone did not answer within %d s' % timeout)

    def server_log(self):
        try:
            with open(os.path.join(self.path, 'keystone-server.log')) as f:
                return f.read()
        except OSError:
            return ''

    def stop(self):
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(15)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
            self.proc = None
        if self._own_path and self.path is not None:
            shutil.rmtree(self.path, ignore_errors=True)
            self.path = None

    # The bootstrap

    def _bootstrap(self):
        self.progress('adding projects, users and roles to Keystone')
        self._admin_token = self.password_token(*ADMIN)[0]
        for role in self._list('roles'):
            self.roles[role['name']] = role['id']
        for project in self._list('projects'):
            self.projects[project['name']] = project['id']
        for user in self._list('users'):
            self.users[user['name']] = user['id']
        self._assigned.add(ADMIN + ('admin',))
        for rule in self.admin_call('GET', '/v3/role_inferences')[
                'role_inferences']:
            self.implies[rule['prior_role']['name']] = {
                implied['name'] for implied in rule['implies']}
        for user, project, roles in IDENTITIES:
            self.ensure(user, project, roles)
        self.inspector = self.application_credential(
            ADMIN[0], INSPECTOR_CREDENTIAL)

    def _list(self, collection):
        return self.admin_call('GET', '/v3/' + collection)[collection]

    def ensure(self, user, project, roles):
        """Make sure ``user`` has each of ``roles`` on ``project``, creating
        any of the three that is missing; returns (user id, project id).
        """
        with self._lock:
            project_id = self.project(project)
            user_id = self.user(user, project)
            for role in roles:
                if (user, project, role) in self._assigned:
                    continue
                self.admin_call('PUT', '/v3/projects/%s/users/%s/roles/%s' % (
                    project_id, user_id, self.role(role)))
                self._assigned.add((user, project, role))
                self._tokens.pop((user, project), None)
            return user_id, project_id

    def project(self, name):
        """The id of the project ``name``, made if missing."""
        with self._lock:
            if name not in self.projects:
                doc = self.admin_call('POST', '/v3/projects', {'project': {
                    'name': name, 'domain_id': 'default'}})
                self.projects[name] = doc['project']['id']
            return self.projects[name]

    def user(self, name, default_project=None):
        """The id of the user ``name``, made with :data:`PASSWORD` if
        missing.
        """
        with self._lock:
            if name not in self.users:
                body = {'name': name, 'domain_id': 'default',
                        'password': PASSWORD}
                if default_project:
                    body['default_project_id'] = self.project(
                        default_project)
                doc = self.admin_call('POST', '/v3/users', {'user': body})
                self.users[name] = doc['user']['id']
            return self.users[name]

    def role(self, name):
        """The id of the role ``name``, made (implying nothing) if missing.
        """
        with self._lock:
            if name not in self.roles:
                doc = self.admin_call('POST', '/v3/roles',
                                      {'role': {'name': name}})
                self.roles[name] = doc['role']['id']
            return self.roles[name]

    def application_credential(self, user, name):
        """A new application credential of ``user`` (who must hold a
        token of ours): ``{'id', 'secret', 'name'}``.
        """
        token = self.token(user, self._default_project(user))
        doc = self._json(*self._call(
            'POST', '/v3/users/%s/application_credentials' % self.users[user],
            {'application_credential': {'name': name}}, token=token))
        cred = doc['application_credential']
        return {'id': cred['id'], 'secret': cred['secret'],
                'name': cred['name']}

    def _default_project(self, user):
        for who, project, _ in IDENTITIES + (ADMIN + ((),),):
            if who == user:
                return project
        raise KeyError(user)

    # Tokens

    def password_token(self, user, project):
        """A project-scoped token of ``user`` by password: (token, body)."""
        body = {'auth': {
            'identity': {'methods': ['password'], 'password': {'user': {
                'name': user, 'domain': {'name': DOMAIN},
                'password': PASSWORD}}},
            'scope': {'project': {'name': project,
                                  'domain': {'name': DOMAIN}}}}}
        status, headers, raw = self._call('POST', '/v3/auth/tokens', body)
        doc = self._json(status, headers, raw)
        return headers['X-Subject-Token'], doc

    def token(self, user, project):
        """A project-scoped token of ``user``, issued once and kept."""
        with self._lock:
            key = (user, project)
            if key not in self._tokens:
                self._tokens[key] = self.password_token(user, project)[0]
            return self._tokens[key]

    def effective(self, roles):
        """``roles`` and every role they imply, as Keystone computes them."""
        out = set()
        todo = list(roles)
        while todo:
            role = todo.pop()
            if role not in out:
                out.add(role)
                todo.extend(self.implies.get(role, ()))
        return frozenset(out)

    def caller(self, user, project, roles):
        """A token on ``project`` whose roles are ``roles`` and those they
        imply, from real assignments of the fewest roles that give them:
        (token, user id, project id).  See :meth:`login`.
        """
        name, user_id, project_id = self.login(user, project, roles)
        return self.token(name, project), user_id, project_id

    def login(self, user, project, roles):
        """The Keystone user that holds ``roles`` (and those they imply),
        from real assignments of the fewest roles that give them, on
        ``project``: (user name, user id, project id).  Its password is
        :data:`PASSWORD`.

        Users and projects are made on demand.  ``user`` is the Keystone
        user of that name if it holds no other roles on ``project``;
        otherwise a user of its own, named ``USER~ROLES``, holds them.
        """
        wanted = self.effective(roles)
        fewest = sorted(role for role in wanted
                        if not any(role in self.effective(self.implies.get(
                            other, ())) for other in wanted - {role}))
        with self._lock:
            name = user
            held = self._holds.get((user, project))
            if held is None and any(
                    who == user and where == project
                    for who, where, _ in self._assigned):
                held = self.effective(
                    r for who, where, r in self._assigned
                    if who == user and where == project)
                self._holds[(user, project)] = held
            if held is not None and held != wanted:
                name = '%s~%s' % (user, '+'.join(fewest))
            self._holds.setdefault((name, project), wanted)
            user_id, project_id = self.ensure(name, project, fewest)
            return name, user_id, project_id

    def application_credential_token(self, credential):
        """A token for ``credential`` (as :meth:`application_credential`
        returns it), by keystoneauth's application credential plugin, as a
        fault monitor authenticates.
        """
        from keystoneauth1.identity import v3
        from keystoneauth1 import session
        auth = v3.ApplicationCredential(
            auth_url=self.auth_url,
            application_credential_id=credential['id'],
            application_credential_secret=credential['secret'])
        return session.Session(auth=auth).get_token()

    def admin_call(self, method, path, body=None):
        return self._json(*self._call(method, path, body,
                                      token=self._admin_token))

    # The catalog

    def add_endpoint(self, service_type, name, url):
        """Register ``url`` as the public, internal and admin endpoint of a
        new service ``name`` of ``service_type`` in the catalog.
        """
        service = self.admin_call('POST', '/v3/services', {'service': {
            'type': service_type, 'name': name}})['service']
        for interface in ('public', 'internal', 'admin'):
            self.admin_call('POST', '/v3/endpoints', {'endpoint': {
                'service_id': service['id'], 'interface': interface,
                'region_id': REGION, 'url': url}})
        return service['id']

    # HTTP

    def _call(self, method, path, body=None, token=None):
        url = urllib.parse.urlsplit(self.url)
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
        headers = {'Accept': 'application/json'}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers['Content-Type'] = 'application/json'
        if token is not None:
            headers['X-Auth-Token'] = token
        try:
            conn.request(method, path, body=data, headers=headers)
            resp = conn.getresponse()
            return resp.status, resp.headers, resp.read()
        finally:
            conn.close()

    @staticmethod
    def _json(status, headers, raw):
        if status >= 400:
            raise KeystoneError('Keystone answered %d: %s' % (
                status, raw[:500].decode('utf-8', 'replace')))
        return json.loads(raw) if raw else {}


def _user_and_group():
    import grp
    import pwd
    return (pwd.getpwuid(os.getuid()).pw_name,
            grp.getgrgid(os.getgid()).gr_name)


def authtoken_options(keystone):
    """The ``[keystone_authtoken]`` section of nova.conf that points Nova's
    auth_token middleware at ``keystone``, as DevStack writes it.
    """
    return {
        'www_authenticate_uri': keystone.auth_url,
        'auth_url': keystone.auth_url,
        'auth_type': 'password',
        'username': SERVICE[0],
        'password': PASSWORD,
        'project_name': SERVICE[1],
        'user_domain_name': DOMAIN,
        'project_domain_name': DOMAIN,
        'region_name': REGION,
        'service_token_roles_required': 'true',
    }


def _serve(config_file, port, parent=None):
    """Keystone's WSGI application on 127.0.0.1:``port``, with a thread per
    request, until terminated or until the process ``parent`` is gone (a
    test runner killed outright leaves no Keystone behind).
    """
    import signal
    import socketserver
    from wsgiref import simple_server

    os.environ['OS_KEYSTONE_CONFIG_FILES'] = config_file
    sys.argv = [sys.argv[0]]
    from keystone.server import wsgi
    app = wsgi.initialize_public_application()

    class Server(socketserver.ThreadingMixIn, simple_server.WSGIServer):
        daemon_threads = True

    class Quiet(simple_server.WSGIRequestHandler):
        def log_message(self, fmt, *args):
            """Keystone logs to its own file."""

    server = simple_server.make_server('127.0.0.1', port, app,
                                       server_class=Server,
                                       handler_class=Quiet)
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    if parent is not None:
        threading.Thread(target=_exit_with, args=(parent,), daemon=True,
                         name='parent-watch').start()
    server.serve_forever()


def _exit_with(parent):
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(0)


if __name__ == '__main__':
    _serve(sys.argv[1], int(sys.argv[2]),
           int(sys.argv[3]) if len(sys.argv) > 3 else None)
