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

"""``nova-hoststatus check``: is the filter deployed so that it works?

The deployment is read as nova-api reads it: the configuration files
(``--config-file``, ``--config-dir``; ``/etc/nova/nova.conf`` by default),
then the paste file ``[wsgi] api_paste_config`` names (a relative name is
looked for next to the configuration files, then in Nova's usual
directories) and the policy file of ``[oslo_policy] policy_file``, each of
which an option may replace.  Options nova.conf sets that nothing here
knows are ignored, as oslo.config ignores them; the configuration is read
into a ConfigOpts of its own, never the process's global one.  The checks
themselves are in :mod:`nova_hoststatus.tools.checks`; Nova's own decisions
come from :mod:`nova_hoststatus.tools.nova_oracle`, in a child process,
where Nova is importable.  With ``--endpoint`` a server is also shown
through the running API at 2.15 and 2.16; with ``--cloud`` (clouds.yaml,
:mod:`nova_hoststatus.tools.clouds`) the callers of the "who sees
host_status" matrix are real ones, with the roles Keystone gives them, and
the server is read through the API as each of them.

Exit status: 0 when no check fails (warnings allowed), 1 when one does, 2
when the deployment cannot be read or a cloud cannot be logged in.

oslo.upgradecheck gives the rows their codes and results and the table its
layout (``nova-status upgrade check``'s), but its ``UpgradeCommands`` does
not run the checks: it takes its options from oslo.config's command line on
the global configuration, where this command reads nova.conf into a private
one beside its own options; it exits 1 on a warning, where a deployment
with warnings passes here and 2 is kept for one that cannot be read; and
its rows and JSON have no place for the fix.
"""

import argparse
import collections
import configparser
import contextlib
import importlib
import json
import logging
import os
import socket
import sys
import tempfile
import textwrap
import urllib.error
import urllib.request
import warnings

from oslo_cache import core as cache
from oslo_config import cfg
from oslo_context import context as oslo_context
from oslo_policy import opts as policy_opts

from nova_hoststatus import conf
from nova_hoststatus import directory
from nova_hoststatus import microversion
from nova_hoststatus import policies
from nova_hoststatus import policy
from nova_hoststatus import store
from nova_hoststatus.tools import checks
from nova_hoststatus.tools import clouds
from nova_hoststatus.tools import nova_oracle

DEFAULT_CONFIG = '/etc/nova/nova.conf'
TITLE = 'nova-hoststatus check'
WIDTH = 78
HTTP_TIMEOUT = 10
MEMCACHED_PORT = 11211
MEMCACHED_TIMEOUT = 1.0
# The microversions a server is shown at: the last without host_status,
# the first with it.
LIVE_VERSIONS = ('2.15', '2.16')
# The servers the token lists that a server with a host is looked for in.
LISTED = 100


class Unreadable(Exception):
    """The deployment cannot be read."""


class _Unparsable(Exception):
    """A policy file does not parse: the policy row's Failure."""


def register(commands):
    """Add ``check`` and its options to the command line."""
    p = commands.add_parser(
        'check', help='check a deployment of the filter',
        description='Check that the filter is deployed so that it works: '
                    'its place in the pipeline, the policy rules, who sees '
                    'host_status, its internal lookup, timing and [cache]. '
                    'Exit status 0 when no check fails, 1 when one does, '
                    '2 when the deployment cannot be read or a --cloud '
                    'cannot be logged in.')
    p.add_argument('--config-file', action='append', default=[],
                   metavar='PATH',
                   help="a configuration file of nova-api (repeatable; "
                        "default %s)" % DEFAULT_CONFIG)
    p.add_argument('--config-dir', action='append', default=[],
                   metavar='DIR',
                   help='a directory of *.conf files of nova-api '
                        '(repeatable)')
    p.add_argument('--api-paste-config', metavar='PATH',
                   help='the paste file, instead of the one '
                        '[wsgi] api_paste_config names')
    p.add_argument('--policy-file', metavar='PATH',
                   help='the policy file, instead of the one '
                        '[oslo_policy] policy_file names')
    p.add_argument('--role', action='append', default=[], dest='roles',
                   metavar='ROLE',
                   help="also show a caller with only this role in the "
                        "server's project (repeatable)")
    p.add_argument('--format', choices=('table', 'json'), default='table',
                   help='a table (default), or a JSON list of '
                        '{check, result, details, fix}')
    live = p.add_argument_group(
        'the running API', 'Show a server at 2.15 and 2.16 through the API.')
    live.add_argument('--endpoint', metavar='URL',
                      help='the compute API, e.g. '
                           'http://controller:8774/v2.1 (default with '
                           "--cloud: the first cloud's catalog's)")
    live.add_argument('--cloud', action='append', default=[],
                      dest='clouds', metavar='NAME',
                      help='log in as this cloud of clouds.yaml '
                           '(repeatable; OS_CLIENT_CONFIG_FILE names another '
                           'file; needs openstacksdk): the "who sees '
                           'host_status" matrix becomes these callers, with '
                           'the roles Keystone gives them, and what the API '
                           'shows each; the first one\'s token is --token '
                           'unless that is given')
    live.add_argument('--token', help='sent as X-Auth-Token')
    live.add_argument('--server', metavar='ID',
                      help='the server to show (default: the first the '
                           'token lists that has a host)')
    live.add_argument('--header', action='append', default=[],
                      type=_header, metavar='NAME:VALUE',
                      help='another request header (repeatable)')
    live.add_argument('--token-roles', metavar='ROLES',
                      help="the token's roles, comma-separated, so that "
                           'whether host_status should show is judged '
                           '(default: from an X-Roles header)')
    live.add_argument('--token-project', metavar='ID',
                      help="the token's project (default: from an "
                           'X-Project-Id header)')
    live.add_argument('--auth-url', metavar='URL',
                      help="Keystone's identity v3 endpoint, e.g. "
                           'http://controller:5000/v3: the token is '
                           'validated there (a token may read itself), and '
                           'its roles, those its assignments imply '
                           'included, and its project are the ones judged '
                           '(unless --token-roles or --token-project say '
                           'otherwise)')
    p.set_defaults(func=run, check_options=check_options)


def check_options(args):
    """An option of the running API without --endpoint (or --cloud, which
    finds it) would be ignored without a word: refuse it; None if fine.
    """
    if args.endpoint or args.clouds:
        if args.auth_url and not args.token:
            return ('argument --auth-url: needs --token, the token to '
                    'validate')
        return None
    for option in ('token', 'server', 'header', 'token_roles',
                   'token_project', 'auth_url'):
        if getattr(args, option):
            return ('argument --%s: needs --endpoint, the compute API to '
                    'ask, or --cloud' % option.replace('_', '-'))
    return None


def _header(text):
    name, colon, value = text.partition(':')
    if not colon or not name.strip():
        raise argparse.ArgumentTypeError('expected NAME:VALUE, got %r'
                                         % text)
    return name.strip(), value.strip()


def run(args):
    """Check the deployment; print the rows; the exit status."""
    try:
        deployment = Deployment.read(args)
    except Unreadable as exc:
        return _cannot(args, 'cannot read the deployment: %s' % exc)
    try:
        logins = [clouds.login(cloud) for cloud in args.clouds]
    except clouds.LoginError as exc:
        return _cannot(args, str(exc))
    endpoint = args.endpoint or (logins and logins[0].compute_url)
    if logins and not endpoint:
        return _cannot(args, 'the catalog of cloud %r has no compute '
                             'endpoint: give --endpoint' % args.clouds[0])
    with _quiet_policy_log():
        live, real = None, None
        if endpoint:
            live, read = deployment.check_live(args, endpoint, logins)
            if logins and read:
                # The live row read the server as the first cloud, unless
                # --token or --header made another caller of it.
                first = [] if args.token or args.header else [
                    checks.shown(read)]
                real = RealCallers(logins, read.body, first + [
                    _shown_as(endpoint, read.body['id'], login.token)
                    for login in logins[len(first):]])
        results = deployment.check(args.roles, real)
        if live:
            results.append(live)
    if args.format == 'json':
        print(json.dumps([result.as_dict() for result in results],
                         indent=2))
    else:
        print(render(results))
    return 1 if any(result.code == checks.Code.FAILURE
                    for result in results) else 0


def _cannot(args, message):
    """Report that the check cannot be made; exit status 2."""
    if args.format == 'json':
        # A script parsing stdout gets JSON whatever happened.
        print(json.dumps({'error': message}, indent=2))
    print('%s: %s' % (TITLE, message), file=sys.stderr)
    return 2


RealCallers = collections.namedtuple('RealCallers', 'logins server shown')
"""The callers of --cloud (:class:`.clouds.Login`), the server the live
check read (its record at 2.16), and what the API showed each of them
(:class:`.live.Shown`)."""


def _shown_as(endpoint, server_id, token):
    """What ``GET /servers/ID`` at 2.16 shows the caller of ``token``."""
    code, answered, body = _get(
        '%s/servers/%s' % (endpoint.rstrip('/'), server_id),
        {'Accept': 'application/json', 'X-Auth-Token': token,
         'OpenStack-API-Version': 'compute 2.16'})
    if code == 200:
        body = body.get('server', {})
    return checks.shown(checks.Answer('2.16', code, answered, body))


@contextlib.contextmanager
def _quiet_policy_log():
    """oslo.policy logs what the policy row reports; once is enough."""
    logger = logging.getLogger('oslo_policy')
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


@contextlib.contextmanager
def _quiet_eventlet_import():
    """oslo.cache's memcached backends import eventlet, which warns on
    import that it is deprecated, in 9 lines: nothing a deployment can act
    on here.  Only that warning, from oslo.cache's import, is left out.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings('ignore', message=r'\s*Eventlet is deprecated',
                                module=r'oslo_cache\.')
        yield


def _register(config):
    """The options of nova.conf that the checks read."""
    config.register_opt(cfg.StrOpt('api_paste_config',
                                   default='api-paste.ini',
                                   deprecated_group='DEFAULT'),
                        group='wsgi')
    config.register_opts([
        cfg.IntOpt('service_down_time', default=conf.NOVA_SERVICE_DOWN_TIME),
        cfg.IntOpt('report_interval', default=10),
    ])
    for group, opts in policy_opts.list_opts() + conf.list_opts():
        config.register_opts(opts, group=group)
    # What the cache namespace is derived from, as in nova-api.
    for group in ('api_database', 'database'):
        config.register_opt(cfg.StrOpt('connection', secret=True),
                            group=group)
    cache.configure(config)


def _config_args(args):
    config_args = []
    for path in args.config_file:
        config_args += ['--config-file', os.path.abspath(path)]
    for path in args.config_dir:
        config_args += ['--config-dir', os.path.abspath(path)]
    return config_args or ['--config-file', DEFAULT_CONFIG]


def _paste_path(config, override):
    """The paste file nova-api loads, as Nova's loader finds it."""
    if override:
        return os.path.abspath(override)
    name = config.wsgi.api_paste_config
    if os.path.isabs(name):
        return name
    path = config.find_file(name)
    if path is None:
        raise Unreadable('[wsgi] api_paste_config = %s: no such file next '
                         'to the configuration files or in ~/.nova, ~, '
                         '/etc/nova, /etc' % name)
    return path


class Deployment(object):
    """What the files of one nova-api say, read once."""

    def __init__(self, config, config_args, paste_path, paste, settings,
                 policy_override):
        self.config = config
        self.config_args = config_args
        self.paste_path = paste_path
        self.paste = paste
        self.settings = settings
        self.policy_override = policy_override
        self.filter_enforcer = policy.Enforcer(config, settings.policy_file)
        # Without a policy_file of its own the filter reads Nova's file:
        # one enforcer serves both.
        self.nova_enforcer = (policy.Enforcer(config) if settings.policy_file
                              else self.filter_enforcer)
        self.nova_known = any(rule.name == checks.SERVICES_LIST
                              for rule in policy.registered_defaults())

    @classmethod
    def read(cls, args):
        """Read the deployment ``args`` name; raises Unreadable."""
        config = cfg.ConfigOpts()
        _register(config)
        config_args = _config_args(args)
        try:
            config(config_args, project='nova', default_config_files=[])
        except cfg.Error as exc:
            raise Unreadable(exc)
        policy_override = None
        if args.policy_file:
            policy_override = os.path.abspath(args.policy_file)
            config.set_override('policy_file', policy_override,
                                group='oslo_policy')
        paste_path = _paste_path(config, args.api_paste_config)
        try:
            with open(paste_path) as f:
                paste = checks.PasteConfig(f.read())
        except OSError as exc:
            raise Unreadable(exc)
        except configparser.Error as exc:
            raise Unreadable('%s does not parse: %s' % (paste_path, exc))
        section = paste.in_use()
        local_conf = paste.local_conf(section) if section else {}
        try:
            settings = conf.Settings(dict(
                local_conf, **{conf.CONFIG_OBJECT: config}))
        except ValueError:
            # The pipeline row reports it; the rest goes on with nova.conf.
            settings = conf.Settings({conf.CONFIG_OBJECT: config})
        deployment = cls(config, config_args, paste_path, paste, settings,
                         policy_override)
        try:
            deployment.timing = deployment._timing()
            dict(config.cache.items())
        except ValueError as exc:
            raise Unreadable(exc)
        return deployment

    def _timing(self):
        """The timing settings, read here so that a value nova.conf cannot
        hold shows before any check runs.
        """
        return {
            'service_down_time': self.settings.service_down_time,
            'service_cache_time': self.settings.service_cache_time,
            'nova_service_down_time': self.config.service_down_time,
            'report_interval': self.config.report_interval,
        }

    def check(self, roles, real=None):
        """Every check of the files, in order; ``real`` (a
        :class:`RealCallers`), when given, has the matrix of who sees
        host_status made of real callers.
        """
        results = [checks.check_pipeline(self.paste, self.paste_path)]
        results += self._policy(roles, real)
        values = self.timing
        results.append(checks.check_timing(
            values['service_down_time'], values['nova_service_down_time'],
            values['service_cache_time'], values['report_interval']))
        cache_conf = self.config.cache
        with _quiet_eventlet_import():
            results.append(checks.check_shared_state(
                cache_conf.enabled, cache_conf.backend,
                _memcache_servers(cache_conf), cache_conf.memcache_dead_retry,
                probe_memcached, self.load_cache_backend, self.sharing))
        return results

    def sharing(self):
        """What this deployment's filters share, read as a filter reads it.
        """
        namespace = self.settings.cache_namespace
        derived = not namespace
        try:
            shared = store.from_conf(self.config, namespace,
                                     self.settings.cache_secret)
            if shared is None:
                return checks.Sharing(namespace, derived, False, None,
                                      'the backend is not a memcached one')
            meta = shared.get(directory.META)
            listing = json.loads(meta) if meta is not None else None
        except (ValueError, store.CacheUnavailable) as exc:
            return checks.Sharing(namespace or store.default_namespace(
                self.config), derived, False, None, str(exc))
        return checks.Sharing(shared.namespace, derived, shared.protected,
                              listing, None)

    def load_cache_backend(self):
        """``(True, None)`` when ``[cache]``'s backend builds here, as the
        filter builds it in nova-api, else ``(False, why)``.
        """
        # dogpile reports a missing client library only as a plugin it
        # cannot find: name the library first where it is known.
        library = CACHE_CLIENT_LIBRARIES.get(self.config.cache.backend)
        try:
            if library:
                importlib.import_module(library)
            cache.configure_cache_region(self.config, cache.create_region())
        except Exception as exc:
            return False, str(exc) or type(exc).__name__
        return True, None

    def _policy(self, roles, real):
        """The rows of the policy, of who sees host_status and of the
        internal lookup.
        """
        try:
            rules, file_rules = self._rules(self.filter_enforcer,
                                            self.settings.policy_file)
            nova_rules, nova_file_rules = self._rules(self.nova_enforcer,
                                                      None)
        except _Unparsable as exc:
            why = 'the policy file does not parse'
            return [checks.Result(
                checks.POLICY, checks.Code.FAILURE, str(exc),
                'correct the policy file: JSON or YAML, one '
                '"name": "check string" per rule')] + [
                checks.not_checked(name, why, 'fix the policy row')
                for name in (checks.WHO_SEES, checks.LOOKUP)]
        return [checks.check_policy(
            rules, file_rules, self.filter_enforcer.policy_path,
            self.nova_enforcer.policy_path, self.nova_known,
            self.config.oslo_policy.policy_default_rule)] + self._callers(
                roles, rules, nova_rules, nova_file_rules, real)

    def _rules(self, enforcer, policy_file):
        """The rules in force, and those of the file ``enforcer`` reads."""
        try:
            return enforcer.rules(), enforcer.file_rules()
        except (ValueError, AttributeError, TypeError, OSError) as exc:
            raise _Unparsable('the policy file %s does not parse: %s'
                              % (self._policy_name(policy_file), exc))

    def _policy_name(self, policy_file):
        """The path of ``policy_file``, else of Nova's, as oslo.policy
        finds it.
        """
        name = policy_file or self.config.oslo_policy.policy_file
        return self.config.find_file(name) or name

    def _callers(self, roles, rules, nova_rules, nova_file_rules, real):
        """The rows of who sees host_status and of the internal lookup,
        for the usual callers of a server, or for the real ones of
        ``real`` and its server.
        """
        roots = list(policies.HOST_STATUS_RULES) + [
            policies.CONTEXT_IS_ADMIN]
        if (checks.cycles(rules, roots) or
                checks.cycles(nova_rules, roots + [checks.SERVICES_LIST])):
            why = 'rules the decisions need refer to each other without end'
            return [checks.not_checked(name, why, 'break the cycle')
                    for name in (checks.WHO_SEES, checks.LOOKUP)]
        if real:
            project = real.server.get('tenant_id')
            user = real.server.get('user_id')
            callers = [checks.Caller(login.cloud, login.user_id,
                                     login.project_id, login.roles)
                       for login in real.logins]
            callers += checks.role_callers(roles, project)
            shown = real.shown + [None] * len(roles)
        else:
            project, user = checks.SERVER_PROJECT, checks.SERVER_USER
            callers = checks.usual_callers(roles)
            shown = None
        ours = checks.visibility(self.filter_enforcer, callers, project)
        nova, nova_own, error = None, None, None
        if self.nova_known:
            try:
                nova, nova_own = self._nova_decisions(
                    callers, nova_file_rules, project, user)
            except nova_oracle.OracleError as exc:
                error = str(exc).strip().splitlines()[-1]
        same_file = (self.filter_enforcer.policy_path ==
                     self.nova_enforcer.policy_path)
        return [
            checks.check_who_sees(callers, ours, nova, nova_own, same_file,
                                  error, shown),
            checks.check_lookup(self.nova_enforcer.check, callers, ours,
                                nova_rules.get(checks.SERVICES_LIST),
                                self.nova_known),
        ]

    def _nova_decisions(self, callers, nova_file_rules, project, user):
        """Nova's decision for each caller, on a server of ``project`` and
        ``user``: with the filter's defaults for the host_status rules, and
        with its own.
        """
        asked = [[caller.user_id, caller.project_id, list(caller.roles)]
                 for caller in callers]
        servers = [[project, user]]
        oracle = nova_oracle.shared()

        def ask(policy_file):
            answer = oracle.ask(self.config_args, asked, servers,
                                policy_file)
            return [result['seen'][0] for result in answer['results']]

        own = ask(self.policy_override)
        defaults = {rule.name: rule.check_str
                    for rule in policies.list_rules()
                    if rule.name in policies.HOST_STATUS_RULES}
        with_ours = dict(defaults, **nova_file_rules)
        if with_ours == nova_file_rules:
            return own, own
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, 'policy.json')
            with open(path, 'w') as f:
                json.dump(with_ours, f)
            return ask(path), own

    def check_live(self, args, endpoint, logins=()):
        """Show a server through the running API at 2.15 and 2.16, with
        --token, else as the first of ``logins``: the row, and the
        :class:`.live.Answer` at 2.16 (None when the server could not be
        read).
        """
        headers = {'Accept': 'application/json'}
        caller = None
        if args.token:
            headers['X-Auth-Token'] = args.token
        elif logins:
            headers['X-Auth-Token'] = logins[0].token
            caller = {'x-roles': ','.join(logins[0].roles),
                      'x-project-id': logins[0].project_id,
                      'x-user-id': logins[0].user_id}
        headers.update(args.header)
        endpoint = endpoint.rstrip('/')
        server = args.server
        if server is None:
            # A server without a host has no host_status to show: take
            # the first with a hostId, which every caller sees.
            code, _, body = _get('%s/servers/detail?limit=%d'
                                 % (endpoint, LISTED), headers)
            if code != 200:
                return checks.Result(checks.LIVE, checks.Code.FAILURE,
                                     'GET /servers/detail: %s' % body,
                                     'check --endpoint and --token'), None
            listed = body.get('servers') or []
            hosted = [s['id'] for s in listed if s.get('hostId')]
            if not listed:
                return checks.not_checked(checks.LIVE,
                                          'the token lists no server',
                                          'name one with --server'), None
            if not hosted:
                return checks.not_checked(
                    checks.LIVE, 'no server the token lists has a host '
                    '(%d looked at, %d at most), and a server without one '
                    'shows no host_status' % (len(listed), LISTED),
                    'name a server that runs on a host with --server'), None
            server = hosted[0]
        answers = []
        for version in LIVE_VERSIONS:
            code, answered, body = _get(
                '%s/servers/%s' % (endpoint, server),
                dict(headers, **{'OpenStack-API-Version':
                                 'compute %s' % version}))
            if code == 200:
                body = body.get('server', {})
            answers.append(checks.Answer(version, code, answered, body))
        expected, described = self._expected(args, headers, answers[-1],
                                             caller)
        read = answers[-1] if answers[-1].status == 200 else None
        return checks.check_live(answers, expected, described), read

    def _expected(self, args, headers, answer, caller=None):
        """The filter's decision for the token's caller, if it is known:
        from ``caller`` (what Keystone said of a --cloud login), Keystone
        at --auth-url, or the headers; --token-roles and --token-project
        win.
        """
        named = {name.lower(): value for name, value in headers.items()}
        if caller:
            named.update(caller)
        elif args.auth_url:
            named.update(token_caller(args.auth_url, args.token))
        roles = args.token_roles or named.get('x-roles')
        if not roles or answer.status != 200:
            return None, None
        project = args.token_project or named.get('x-project-id')
        roles = [role.strip() for role in roles.split(',') if role.strip()]
        context = oslo_context.RequestContext(
            user_id=named.get('x-user-id'), project_id=project, roles=roles,
            overwrite=False)
        target = policy.server_target(answer.body)
        seen = policy.decide(self.filter_enforcer.check,
                             self.filter_enforcer.credentials(context),
                             target)
        return seen.value, 'roles %s, project %s (the server\'s: %s)' % (
            ','.join(roles), project or 'not given', target['project_id'])


def token_caller(auth_url, token):
    """The caller of ``token`` as Keystone validates it: the X-Roles,
    X-Project-Id and X-User-Id that auth_token would set; empty when
    Keystone does not answer.
    """
    code, _, body = _get(auth_url.rstrip('/') + '/auth/tokens', {
        'X-Auth-Token': token, 'X-Subject-Token': token,
        'Accept': 'application/json'})
    if code != 200 or not isinstance(body, dict):
        return {}
    token_doc = body.get('token', {})
    return {'x-roles': ','.join(role['name']
                                for role in token_doc.get('roles', [])),
            'x-project-id': token_doc.get('project', {}).get('id'),
            'x-user-id': token_doc.get('user', {}).get('id')}


def _memcache_servers(cache_conf):
    """The memcached servers ``[cache]`` names; a ``url`` backend argument
    wins, as in oslo.cache.
    """
    for argument in cache_conf.backend_argument:
        name, _, value = argument.partition(':')
        if name == 'url':
            return [server.strip() for server in value.split(',')]
    return cache_conf.memcache_servers


def _memcached_address(server):
    """(family, address) of a python-memcached server string."""
    if server.startswith('unix:'):
        return socket.AF_UNIX, server[len('unix:'):]
    for prefix in ('inet6:', 'inet:'):
        if server.startswith(prefix):
            server = server[len(prefix):]
    if server.startswith('['):
        host, _, port = server[1:].partition(']')
        port = port.lstrip(':')
    elif server.count(':') == 1:
        host, _, port = server.partition(':')
    else:
        host, port = server, ''
    return socket.AF_INET, (host, int(port or MEMCACHED_PORT))


# The module each memcached backend of [cache] imports its client from.
CACHE_CLIENT_LIBRARIES = {
    'oslo_cache.memcache_pool': 'memcache',
    'dogpile.cache.memcached': 'memcache',
    'dogpile.cache.pymemcache': 'pymemcache',
    'dogpile.cache.bmemcached': 'bmemcached',
}


def probe_memcached(server, timeout=MEMCACHED_TIMEOUT):
    """``(True, version)`` when memcached at ``server`` answers its
    ``version`` command within ``timeout`` seconds, else ``(False, why)``.
    """
    try:
        family, address = _memcached_address(server)
        if family == socket.AF_UNIX:
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.settimeout(timeout)
            sock.connect(address)
        else:
            sock = socket.create_connection(address, timeout)
        with sock:
            sock.settimeout(timeout)
            sock.sendall(b'version\r\n')
            reply = b''
            while not reply.endswith(b'\r\n'):
                chunk = sock.recv(256)
                if not chunk:
                    break
                reply += chunk
    except (OSError, ValueError) as exc:
        return False, str(exc) or type(exc).__name__
    if reply.startswith(b'VERSION '):
        return True, reply[len(b'VERSION '):].strip().decode('ascii',
                                                             'replace')
    return False, 'it answered %r' % reply[:60]


def _get(url, headers):
    """(status, answered microversion, JSON body or error text)."""
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as resp:
            code, resp_headers, raw = resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, None, '%s %s' % (exc.code, exc.read()[:200].decode(
            'utf-8', 'replace'))
    except (urllib.error.URLError, OSError) as exc:
        return None, None, 'no answer: %s' % getattr(exc, 'reason', exc)
    answered = microversion.answered(resp_headers)
    try:
        body = json.loads(raw)
    except ValueError:
        return code, None, 'not JSON: %r' % raw[:200]
    return code, answered and microversion.to_text(answered), body


def render(results):
    """The rows as a table, laid out as ``nova-status upgrade check``'s."""
    cells = [[TITLE]]
    for result in results:
        lines = ['Check: %s' % result.check, 'Result: %s' % result.result]
        lines += _block('Details', result.details)
        if result.fix:
            lines += _block('Fix', result.fix)
        cells.append(lines)
    width = max(len(line) for cell in cells for line in cell)
    rule = '+-%s-+' % ('-' * width)
    out = [rule]
    for cell in cells:
        out += ['| %s |' % line.ljust(width) for line in cell]
        out.append(rule)
    return '\n'.join(out)


def _block(label, text):
    """``label: text``, long lines wrapped; a table's rows (cells two
    spaces apart) are kept whole, and widen the table instead.
    """
    lines = []
    for line in (text or 'None').splitlines():
        if '  ' in line.strip():
            lines.append(line)
            continue
        lines += textwrap.wrap(line, WIDTH - 6, subsequent_indent='    ',
                               break_on_hyphens=False,
                               break_long_words=False) or ['']
    if len(lines) == 1 and len(label) + 2 + len(lines[0]) <= WIDTH - 4:
        return ['%s: %s' % (label, lines[0])]
    return ['%s:' % label] + ['  ' + line for line in lines]
