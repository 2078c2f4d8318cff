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
themselves are in :mod:`nova_hoststatus.tools.checks`.  Inside nova-api the
filter decides who sees host_status with Nova's own enforcer, so where
Nova is importable the rules checked are Nova's and the decisions Nova's
own, from :mod:`nova_hoststatus.tools.nova_oracle` in a child process;
elsewhere the package's own enforcer decides, as the filter does outside
nova-api.  With ``--endpoint`` a server is also shown through the running
API at 2.15 and 2.16; with ``--cloud`` (clouds.yaml,
:mod:`nova_hoststatus.tools.clouds`) the callers of the "who sees
host_status" matrix are real ones, with the roles Keystone gives them, and
the server is read through the API as each of them.  With ``--notifier``,
or when the configuration files set ``[host_status_notifier] connection``
(the notification agent's), what the agent needs of Nova's notifications is
checked too.

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
import json
import logging
import os
import sys
import textwrap
import urllib.error
import urllib.request

from oslo_config import cfg
from oslo_policy import opts as policy_opts

from nova_hoststatus import conf
from nova_hoststatus import microversion
from nova_hoststatus.notifier import opts as notifier_opts
from nova_hoststatus import policies
from nova_hoststatus import policy
from nova_hoststatus.tools import checks
from nova_hoststatus.tools import clouds
from nova_hoststatus.tools import nova_oracle

DEFAULT_CONFIG = '/etc/nova/nova.conf'
TITLE = 'nova-hoststatus check'
WIDTH = 78
HTTP_TIMEOUT = 10
# The microversions a server is shown at: the last without host_status,
# the first with it.
LIVE_VERSIONS = ('2.15', '2.16')
# The servers the token lists that a server with a host is looked for in.
LISTED = 100
# The rules a decision on host_status reaches from.
DECISION_ROOTS = sorted(policies.HOST_STATUS_RULES) + [
    policies.CONTEXT_IS_ADMIN]
CYCLE = 'rules the decisions need refer to each other without end'
# Loggers that warn of what the rows report: oslo.policy of the policy
# file, and of deprecated settings oslo.config (nova.conf's) and the
# package (the paste section's).
REPORTED_BY_ROWS = ('oslo_policy', 'oslo_config', conf.__name__)


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
                    'host_status (Nova\'s own decision where Nova is '
                    'importable, as in nova-api), where host state comes '
                    'from and which deprecated settings are still set; '
                    'with --notifier, what the notification agent needs '
                    'of Nova\'s notifications. '
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
    p.add_argument('--notifier', action='store_true',
                   help='also check what the notification agent '
                        '(nova-hoststatus notifier) needs of Nova\'s '
                        'notifications; on when the configuration files '
                        'set [host_status_notifier] connection')
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
    with _quiet_reported_logs():
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
    with _quiet_reported_logs():
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
        results = deployment.check(args.roles, real, args.notifier)
        results.append(live or checks.not_checked(
            checks.LIVE, 'no --endpoint or --cloud was given, so what the '
            'running API shows was not looked at; the rows above judge the '
            'files only',
            'give --endpoint URL --token TOKEN (the compute API, e.g. '
            'http://controller:8774/v2.1), or --cloud NAME of clouds.yaml'))
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
def _quiet_reported_logs():
    """Loggers that would tell what the rows report: once is enough."""
    loggers = [logging.getLogger(name) for name in REPORTED_BY_ROWS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


# Nova's and oslo.messaging's options that say whether Nova's versioned
# notifications reach the broker, as they define them (the check does not
# need oslo.messaging: the telemetry extra brings it, for the agent).
_NOTIFICATION_OPTS = {
    'notifications': [
        cfg.StrOpt('notification_format', default='unversioned',
                   deprecated_group='DEFAULT'),
    ],
    'oslo_messaging_notifications': [
        cfg.MultiStrOpt('driver', default=[]),
        cfg.StrOpt('transport_url', secret=True),
    ],
    'oslo_messaging_rabbit': [
        cfg.BoolOpt('amqp_durable_queues', default=False),
        cfg.BoolOpt('rabbit_quorum_queue', default=False),
    ],
    None: [  # [DEFAULT]
        cfg.StrOpt('transport_url', secret=True),
    ],
}


def _register(config):
    """The options of nova.conf that the checks read."""
    config.register_opt(cfg.StrOpt('api_paste_config',
                                   default='api-paste.ini',
                                   deprecated_group='DEFAULT'),
                        group='wsgi')
    for group, opts in policy_opts.list_opts():
        config.register_opts(opts, group=group)
    for group, opts in _NOTIFICATION_OPTS.items():
        config.register_opts(opts, group=group)
    notifier_opts.register(config)


def messaging(config):
    """What ``config`` (nova.conf, read) says of Nova's notifications: a
    :class:`.notifications.Messaging`.
    """
    notifications = config.oslo_messaging_notifications
    if notifications.transport_url:
        transport = '[oslo_messaging_notifications] transport_url'
    elif config.transport_url:
        transport = '[DEFAULT] transport_url'
    else:
        transport = None
    rabbit = config.oslo_messaging_rabbit
    return checks.Messaging(
        config.notifications.notification_format, notifications.driver,
        transport, rabbit.amqp_durable_queues or rabbit.rabbit_quorum_queue)


def agent(config):
    """Whether the agent's own options are set: a
    :class:`.notifications.Agent`.
    """
    return checks.Agent(bool(config.host_status_notifier.connection),
                        bool(config.coordination.backend_url))


def _config_args(args):
    config_args = []
    for path in args.config_file:
        config_args += ['--config-file', os.path.abspath(path)]
    for path in args.config_dir:
        config_args += ['--config-dir', os.path.abspath(path)]
    return config_args or ['--config-file', DEFAULT_CONFIG]


def _config_dirs(config_args):
    """The directories of the configuration files: those of --config-file,
    and each --config-dir.
    """
    dirs = []
    for option, path in zip(config_args[::2], config_args[1::2]):
        directory = (os.path.dirname(path) if option == '--config-file'
                     else path)
        if directory not in dirs:
            dirs.append(directory)
    return dirs


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


def _nova_enforcer(config):
    """Nova's policy as nova-api's own enforcer holds it: the defaults
    Nova registers, under Nova's policy file; None where Nova is not
    importable, and the package's enforcer then stands in.
    """
    try:
        from nova import policies as nova_policies
    except ImportError:
        return None
    return policy.Enforcer(config, defaults=nova_policies.list_rules())


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
        # The paste file given with --api-paste-config.
        self.paste_override = False
        self.config_dirs = _config_dirs(config_args)
        # The package's own enforcer: the filter's where the caller's
        # context is not Nova's, outside nova-api.
        self.filter_enforcer = policy.Enforcer(config, settings.policy_file)
        # Nova's, which decides inside nova-api.
        self.nova_enforcer = _nova_enforcer(config)
        self.nova_known = self.nova_enforcer is not None

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
            # nova.conf's own values first: one it cannot hold shows here.
            settings = conf.Settings({conf.CONFIG_OBJECT: config})
        except ValueError as exc:
            raise Unreadable(exc)
        try:
            settings = conf.Settings(dict(
                local_conf, **{conf.CONFIG_OBJECT: config}))
        except ValueError:
            # The pipeline row reports it; the rest goes on with nova.conf.
            pass
        deployment = cls(config, config_args, paste_path, paste, settings,
                         policy_override)
        deployment.paste_override = bool(args.api_paste_config)
        return deployment

    def check(self, roles, real=None, notifier=False):
        """Every check of the files, in order; ``real`` (a
        :class:`RealCallers`), when given, has the matrix of who sees
        host_status made of real callers; the notifications row with
        ``notifier``, or when the files set the agent's store.
        """
        results = [checks.check_pipeline(
            self.paste, self.paste_path,
            () if self.paste_override else self.config_dirs,
            self.config.wsgi.api_paste_config)]
        results += self._policy(roles, real)
        results.append(checks.check_host_state(self.settings.deprecated))
        if notifier or self.config.host_status_notifier.connection:
            results.append(self.check_notifications())
        return results

    def check_notifications(self):
        """The notifications row: Nova's settings, the agent's, and what
        a member of a server's project sees (the agent tells an owner
        that much): Nova's own decision where Nova is importable.
        """
        member_sees = None
        if not self._undecidable():
            [member] = [caller for caller in checks.usual_callers()
                        if caller.label == 'member']
            try:
                [member_sees] = self._decisions(
                    [member], checks.SERVER_PROJECT, checks.SERVER_USER)
            except nova_oracle.OracleError:
                pass  # the who-sees row says why
        return checks.check_notifications(messaging(self.config),
                                          agent(self.config), member_sees)

    def _policy(self, roles, real):
        """The rows of the policy and of who sees host_status."""
        try:
            rules, file_rules = self._deciding_rules()
        except _Unparsable as exc:
            return [
                checks.Result(checks.POLICY, checks.Code.FAILURE, str(exc),
                              'correct the policy file: JSON or YAML, one '
                              '"name": "check string" per rule'),
                checks.not_checked(checks.WHO_SEES,
                                   'the policy file does not parse',
                                   'fix the policy row')]
        # A policy file given with --policy-file, or by the filter's own
        # (deprecated) policy_file, is not [oslo_policy] policy_file's.
        named = not (self.policy_override or (
            not self.nova_known and self.settings.policy_file))
        rows = [checks.check_policy(
            rules, file_rules, self._found(self.settings.policy_file),
            self._found(None), self.nova_known,
            self.config.oslo_policy.policy_default_rule,
            self.config_dirs if named else (),
            self.config.oslo_policy.policy_file)]
        if checks.cycles(rules, DECISION_ROOTS):
            rows.append(checks.not_checked(checks.WHO_SEES, CYCLE,
                                           'break the cycle'))
        else:
            rows.append(self._who_sees(roles, real))
        return rows

    def _deciding_rules(self):
        """The rules in force where the decision is made, and those its
        policy file sets: Nova's own enforcer's where Nova is importable,
        else the package's; raises _Unparsable.
        """
        if self.nova_known:
            enforcer, policy_file = self.nova_enforcer, None
        else:
            enforcer, policy_file = (self.filter_enforcer,
                                     self.settings.policy_file)
        try:
            return enforcer.rules(), enforcer.file_rules()
        except (ValueError, AttributeError, TypeError, OSError) as exc:
            raise _Unparsable('the policy file %s does not parse: %s'
                              % (self._policy_name(policy_file), exc))

    def _policy_name(self, policy_file):
        """The path of ``policy_file``, else of Nova's, as oslo.policy
        finds it.
        """
        return self._found(policy_file) or (
            policy_file or self.config.oslo_policy.policy_file)

    def _found(self, policy_file):
        """The path of ``policy_file``, else of Nova's, as oslo.policy
        finds it; None when there is no such file.
        """
        return self.config.find_file(
            policy_file or self.config.oslo_policy.policy_file)

    def _who_sees(self, roles, real):
        """The row of who sees host_status: the usual callers of a server,
        or the real ones of ``real`` and its server.
        """
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
        try:
            decisions = self._decisions(callers, project, user)
        except nova_oracle.OracleError as exc:
            return checks.not_checked(
                checks.WHO_SEES,
                "Nova's own decision could not be had: %s" % _last_line(exc),
                "run the check in nova-api's environment")
        return checks.check_who_sees(callers, decisions, self.nova_known,
                                     shown, real and real.server)

    def _decisions(self, callers, project, user):
        """What each of ``callers`` sees of a server of ``project`` and
        ``user``: Nova's own decision where Nova is importable (as the
        filter asks Nova's enforcer in nova-api), with Nova's defaults and
        the deployment's policy file; else the package's enforcer's, as
        the filter decides outside nova-api.  Raises OracleError when
        Nova's cannot be had.
        """
        if not self.nova_known:
            return checks.visibility(self.filter_enforcer, callers, project)
        answer = nova_oracle.shared().ask(
            self.config_args,
            [[caller.user_id, caller.project_id, list(caller.roles)]
             for caller in callers],
            [[project, user]], self.policy_override)
        return [result['seen'][0] for result in answer['results']]

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
        named = '%s%s, read through %s' % (
            server, ' (%s)' % read.body['name'] if read and
            read.body.get('name') else '', endpoint)
        return checks.check_live(answers, expected, described,
                                 named), read

    def _expected(self, args, headers, answer, caller=None):
        """The decision for the token's caller, if its roles are known:
        from ``caller`` (what Keystone said of a --cloud login), Keystone
        at --auth-url, or the headers; --token-roles and --token-project
        win.  Nova's own decision where Nova is importable, as in
        nova-api; else the package's enforcer's.
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
        server_project = policy.server_target(answer.body)['project_id']
        described = 'roles %s, project %s (the server\'s: %s)' % (
            ','.join(roles), project or 'not given', server_project)
        undecidable = self._undecidable()
        if undecidable:
            return None, '%s; not judged: %s' % (described, undecidable)
        holder = checks.Caller('token', named.get('x-user-id'), project,
                               tuple(roles))
        try:
            [seen] = self._decisions([holder], server_project,
                                     answer.body.get('user_id'))
        except nova_oracle.OracleError as exc:
            why = "Nova's own decision could not be had: %s" % _last_line(exc)
            return None, '%s; not judged: %s' % (described, why)
        return seen, described

    def _undecidable(self):
        """Why the policy gives no decision, or None when it does."""
        try:
            rules, _ = self._deciding_rules()
        except _Unparsable:
            return 'the policy file does not parse'
        if checks.cycles(rules, DECISION_ROOTS):
            return CYCLE
        return None


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


def _last_line(error):
    """The last line of an error's text: a traceback's exception."""
    return str(error).strip().splitlines()[-1]


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
