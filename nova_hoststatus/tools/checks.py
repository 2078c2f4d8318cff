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

"""The checks of ``nova-hoststatus check``, one function each.

Every way the filter goes wrong in production is a deployment mistake that
fails quietly: the filter in the wrong place of the pipeline, a rule naming
a rule that does not exist, an internal lookup that policy denies, a
memcached that does not answer.  Each check takes what the deployment's
files say, already read (the text of ``api-paste.ini``, rule dicts,
numbers, and the callables that answer a policy rule or probe a memcached),
and returns a :class:`Result`: oslo.upgradecheck's code and details, with
the check's name and a one-line fix for each problem it found.  Reading the
files and asking Nova is :mod:`nova_hoststatus.cmd.check`'s job.
"""

import collections
import configparser
import importlib.metadata
import re

from oslo_config import cfg
from oslo_context import context as oslo_context
from oslo_upgradecheck import upgradecheck

from nova_hoststatus import conf
from nova_hoststatus import policies
from nova_hoststatus import policy
from nova_hoststatus import services
from nova_hoststatus import status
from nova_hoststatus import store

Code = upgradecheck.Code

PIPELINE = 'pipeline'
POLICY = 'policy'
WHO_SEES = 'who sees host_status'
LOOKUP = 'internal lookup'
TIMING = 'timing'
SHARED_STATE = 'shared state'
LIVE = 'live API'

FILTER_FACTORY = 'nova_hoststatus.middleware:filter_factory'
FILTER_USE = 'egg:nova-hoststatus#hoststatus'
# The filters that put the caller's context into the request: Nova's
# keystonecontext, and the noauth2 of Nova releases that still have it.
CONTEXT_FACTORIES = frozenset([
    'nova.api.auth:NovaKeystoneContext.factory',
    'nova.api.openstack.auth:NoAuthMiddleware.factory',
])
API_FACTORY = 'nova.api.openstack.compute:APIRouterV21.factory'
# The app nova-api loads from api-paste.ini, and the URLs that matter in it.
URLMAP = 'osapi_compute'
V21 = '/v2.1'
LEGACY_V2 = '/v2'

SERVICES_LIST = 'os_compute_api:os-services:list'
# Nova's defaults, for both host_status rules and for SERVICES_LIST.
NOVA_ADMIN = 'rule:context_is_admin'

PYMEMCACHE = 'dogpile.cache.pymemcache'
# Backends that keep what they hold in each process: no sharing.
PER_PROCESS_BACKENDS = frozenset(['dogpile.cache.memory',
                                  'dogpile.cache.memory_pickle',
                                  'oslo_cache.dict'])
MEMCACHE_BACKENDS = frozenset(['oslo_cache.memcache_pool',
                               'dogpile.cache.memcached',
                               'dogpile.cache.bmemcached',
                               'dogpile.cache.pylibmc', PYMEMCACHE])
# python-memcached, which skips a dead server for memcache_dead_retry.
DEAD_RETRY_BACKENDS = frozenset(['oslo_cache.memcache_pool',
                                 'dogpile.cache.memcached'])
MAX_DEAD_RETRY = 60


class Result(upgradecheck.Result):
    """oslo.upgradecheck's result, with the check's name and the fix."""

    def __init__(self, check, code, details, fix=None):
        super().__init__(code, details)
        self.check = check
        self.fix = fix

    @property
    def result(self):
        """``Success``, ``Warning`` or ``Failure``."""
        return str(upgradecheck.UPGRADE_CHECK_MSG_MAP[self.code])

    def as_dict(self):
        return {'check': self.check, 'result': self.result,
                'details': self.details, 'fix': self.fix}


class _Findings(object):
    """What one check found: detail lines, and the fix of each problem."""

    def __init__(self, check):
        self.check = check
        self.code = Code.SUCCESS
        self.lines = []
        self.fixes = []

    def note(self, line):
        self.lines.append(line)

    def problem(self, code, line, fix):
        self.code = max(self.code, code)
        self.lines.append('%s: %s' % (
            upgradecheck.UPGRADE_CHECK_MSG_MAP[code], line))
        if fix not in self.fixes:
            self.fixes.append(fix)

    def result(self):
        return Result(self.check, self.code, '\n'.join(self.lines),
                      '\n'.join(self.fixes) or None)


def not_checked(check, why, fix):
    """The row of a check that could not run, and why."""
    return Result(check, Code.WARNING, 'Not checked: %s' % why, fix)


def table(rows):
    """Rows of cells as lines of aligned columns."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ['  '.join(cell.ljust(width)
                      for cell, width in zip(row, widths)).rstrip()
            for row in rows]


# 1. pipeline

def entry_point(dist, group, name):
    """``module:attr`` of an installed entry point, or None."""
    try:
        points = importlib.metadata.distribution(dist).entry_points
    except importlib.metadata.PackageNotFoundError:
        return None
    for point in points:
        if point.group == group and point.name == name:
            return point.value
    return None


def _meant_ours(factory):
    """Whether a factory that is not the filter's was meant to be."""
    if factory.startswith('egg:'):
        dist = factory[len('egg:'):].partition('#')[0].strip().lower()
        return re.sub(r'[-_.]+', '-', dist) == 'nova-hoststatus'
    return factory.startswith(FILTER_FACTORY.split(':')[0] + ':')


def _normal_path(path):
    return path.rstrip('+').rstrip('/') or '/'


class PasteConfig(object):
    """``api-paste.ini`` as PasteDeploy reads it, as far as the checks need.

    A name in a pipeline or a ``use`` is resolved to the factory it loads
    (``module:attr``), so that filters are told apart by what they are, not
    by what an operator named them.  ``resolve(dist, group, name)`` answers
    ``egg:`` references; by default from the installed entry points.

    Raises configparser.Error when the text does not parse.
    """

    def __init__(self, text, resolve=entry_point):
        # PasteDeploy's own parser: '=' or ':' between key and value, keys
        # case-sensitive (they are URL paths in a urlmap), no inline
        # comments, a duplicate key an error.
        self._parser = configparser.ConfigParser(interpolation=None)
        self._parser.optionxform = str
        self._parser.read_string(text)
        self._resolve = resolve

    def _items(self, kind, name):
        section = '%s:%s' % (kind, name)
        if not self._parser.has_section(section):
            return None
        defaults = self._parser.defaults()
        return {key: value for key, value in self._parser.items(section)
                if key not in defaults}

    def filters(self):
        """The names of every filter section."""
        return [section.split(':', 1)[1].strip()
                for section in self._parser.sections()
                if section.startswith('filter:')]

    def local_conf(self, name):
        """The settings PasteDeploy hands the factory of ``filter:name``."""
        items = self._items('filter', name) or {}
        local = {}
        for key, value in items.items():
            if key.startswith('get '):
                local[key[4:].strip()] = self._parser.defaults().get(
                    value.strip(), '')
            elif key not in ('use', 'paste.filter_factory') and \
                    not key.startswith('set '):
                local[key] = value
        return local

    def _factory(self, kind, name, seen=()):
        """What ``kind:name`` loads: ``module:attr``, the unresolved
        ``use`` value, or None when there is no such section."""
        items = self._items(kind, name)
        if items is None or name in seen:
            return None
        group = 'paste.%s_factory' % kind
        if items.get(group):
            return items[group].strip()
        use = items.get('use', '').strip()
        if use.startswith('call:'):
            return use[len('call:'):].strip()
        if use.startswith('egg:'):
            dist, _, point = use[len('egg:'):].partition('#')
            return self._resolve(dist.strip(), group,
                                 point.strip() or 'main') or use
        if use and ':' not in use:
            return self._factory(kind, use, seen + (name,))
        return use or None

    def filter_factory(self, name):
        return self._factory('filter', name)

    def app_factory(self, name):
        return self._factory('app', name)

    def ours(self):
        """The filter sections that load this project's filter."""
        return [name for name in self.filters()
                if self.filter_factory(name) == FILTER_FACTORY]

    def urlmap(self):
        """``[(path, name)]`` of the urlmap nova-api loads, or None."""
        items = self._items('composite', URLMAP)
        if items is None:
            return None
        return [(_normal_path(path), value.strip())
                for path, value in items.items() if path.startswith('/')]

    def pipelines(self, name):
        """``[(where, [element, ...])]``: the pipelines ``name`` builds.

        A composite of Nova's ``pipeline_factory`` holds one pipeline per
        auth strategy (``keystone``; ``noauth2`` in older releases); an app
        mapped without a pipeline is a pipeline of one.
        """
        items = self._items('composite', name)
        if items is not None:
            if 'pipeline_factory' not in items.get('use', ''):
                return []
            return [('[composite:%s] %s' % (name, key), value.split())
                    for key, value in items.items() if key != 'use']
        items = self._items('pipeline', name)
        if items is not None:
            return [('[pipeline:%s] pipeline' % name,
                     items.get('pipeline', '').split())]
        return [('[app:%s]' % name, [name])]

    def api_pipelines(self, path):
        """The pipelines that end in Nova's compute API under ``path``.

        Pipelines that end in another app (the version documents Nova
        maps at the same URLs) carry no server views.
        """
        found = []
        for mapped, name in self.urlmap() or ():
            if mapped != path:
                continue
            for where, elements in self.pipelines(name):
                if elements and self.app_factory(elements[-1]) == API_FACTORY:
                    found.append((where, elements))
        return found

    def in_use(self):
        """The filter section the ``/v2.1`` API runs, else the first one."""
        ours = self.ours()
        for _, elements in self.api_pipelines(V21):
            for element in elements[:-1]:
                if element in ours:
                    return element
        return ours[0] if ours else None


def _settings_error(local_conf):
    """Why paste settings are invalid, or None."""
    try:
        conf.Settings(dict(local_conf,
                           **{conf.CONFIG_OBJECT: cfg.ConfigOpts()}))
    except ValueError as exc:
        return str(exc)
    return None


def _tail(elements, start):
    shown = elements[start:]
    return ' '.join((['...'] if start > 0 else []) + shown)


def check_pipeline(paste, path=None):
    """The filter sits where it sees the caller, in every ``/v2.1`` API.

    After the context filter (``keystonecontext``), so that it reads the
    caller Nova authenticated and hands its internal lookup Nova's context;
    before the application, so that it sees Nova's responses.  Not in the
    legacy ``/v2`` API, which Nova answers at 2.1, with no version header:
    there the filter adds no host_status and may answer a bad force-down
    body that Nova would not even route (a Warning, not a Failure: no
    response a caller relies on changes).
    """
    found = _Findings(PIPELINE)
    if path:
        found.note('paste file: %s' % path)
    ours = paste.ours()
    name = paste.in_use() or 'hoststatus'
    for section in paste.filters():
        factory = paste.filter_factory(section) or ''
        if section not in ours and _meant_ours(factory):
            found.problem(
                Code.FAILURE,
                '[filter:%s] names nova-hoststatus but loads %s, not its '
                'filter' % (section, factory),
                'set "use = %s" in [filter:%s]' % (FILTER_USE, section))
    if not ours:
        found.problem(
            Code.FAILURE, 'no filter section loads %s' % FILTER_FACTORY,
            'add [filter:hoststatus] with "use = %s"' % FILTER_USE)

    if paste.urlmap() is None:
        found.problem(Code.FAILURE,
                      'no [composite:%s]: nova-api loads its API from it'
                      % URLMAP,
                      "restore Nova's [composite:%s]" % URLMAP)
        return found.result()
    v21 = paste.api_pipelines(V21)
    if not v21:
        found.problem(Code.FAILURE,
                      'no pipeline ending in the compute API is mapped at '
                      '%s in [composite:%s]' % (V21, URLMAP),
                      "restore Nova's %s pipeline" % V21)
    for where, elements in v21:
        _place(found, paste, ours, name, where, elements)
    for where, elements in paste.api_pipelines(LEGACY_V2):
        if any(element in ours for element in elements):
            found.problem(
                Code.WARNING,
                '%s (legacy %s) has the filter: Nova answers %s at 2.1, '
                'where it adds nothing' % (where, LEGACY_V2, LEGACY_V2),
                'remove %s from %s' % (name, where))
        else:
            found.note('%s (legacy %s): without the filter, as it should be'
                       % (where, LEGACY_V2))

    for section in ours:
        settings = paste.local_conf(section)
        error = _settings_error(settings)
        if error:
            found.problem(Code.FAILURE, '[filter:%s]: %s' % (section, error),
                          'correct or remove that setting in [filter:%s]'
                          % section)
        else:
            found.note('[filter:%s] loads %s; its settings: %s' % (
                section, FILTER_FACTORY,
                ', '.join('%s = %s' % item for item in sorted(
                    settings.items())) or 'none'))
    return found.result()


def _place(found, paste, ours, name, where, elements):
    """Judge the filter's place in one ``/v2.1`` API pipeline."""
    factories = [paste.filter_factory(element) for element in elements[:-1]]
    for element, factory in zip(elements, factories):
        if factory is None:
            found.problem(Code.FAILURE,
                          '%s names %s, which has no [filter:%s]'
                          % (where, element, element),
                          'define [filter:%s] or remove it from %s'
                          % (element, where))
    at = [i for i, element in enumerate(elements[:-1]) if element in ours]
    contexts = [i for i, factory in enumerate(factories)
                if factory in CONTEXT_FACTORIES]
    context = elements[contexts[0]] if contexts else 'keystonecontext'
    if not at:
        found.problem(Code.FAILURE, '%s: the filter is missing' % where,
                      'add %s right after %s in %s' % (name, context, where))
        return
    if not contexts:
        found.problem(Code.FAILURE,
                      "%s: no context filter (keystonecontext) puts the "
                      "caller's context before the filter" % where,
                      'put keystonecontext before %s in %s' % (name, where))
    elif at[0] < contexts[0]:
        found.problem(
            Code.FAILURE,
            "%s: %s comes before %s, so it never sees Nova's context of "
            "the caller: %s" % (where, elements[at[0]], context,
                                _tail(elements, at[0])),
            'move %s right after %s in %s' % (elements[at[0]], context,
                                              where))
    else:
        found.note('%s: %s' % (where, _tail(elements, contexts[0])))
    if len(at) > 1:
        found.problem(Code.WARNING, '%s: the filter is in it %d times'
                      % (where, len(at)),
                      'keep one %s in %s' % (name, where))


# 2. policy

def _tokens(check_str):
    """The checks of a check string, as oslo.policy's parser splits it."""
    return [token.lstrip('(').rstrip(')') for token in check_str.split()]


def references(check_str):
    """The names a check string refers to with ``rule:NAME``, in order."""
    names = []
    for token in _tokens(check_str):
        if token.startswith('rule:') and token[5:] not in names:
            names.append(token[5:])
    return names


def cycles(rules, roots):
    """The cycles of ``rule:`` references reachable from ``roots``, each
    as the list of names around it.

    oslo.policy evaluates a cycle until Python's recursion limit, so no
    rule that reaches one can be put to the enforcer.
    """
    found = []
    done = set()

    def walk(name, path):
        if name in path:
            found.append(path[path.index(name):] + [name])
        elif name in rules and name not in done:
            for reference in references(rules[name]):
                walk(reference, path + [name])
            done.add(name)

    for root in roots:
        walk(root, [])
    return found


def check_policy(rules, file_rules, filter_file, nova_file, nova_known,
                 default_rule='default'):
    """Both host_status rules resolve, through defined rules, without end.

    ``rules`` are the rules in force for the filter (the file's over the
    registered defaults, ``{name: check string}`` as oslo.policy parsed
    them), ``file_rules`` those its policy file sets, as written; the two
    files are the filter's and Nova's, or None where there is none (then
    the defaults apply).  An undefined rule denies without a word (or
    falls back to ``default_rule``, when that is defined); a cycle makes
    every check that reaches it fail.  Without Nova (``nova_known``
    false) Nova's own rules are unknown here, so an undefined name is only
    a Warning.
    """
    found = _Findings(POLICY)
    if filter_file == nova_file:
        found.note('policy file: %s' % (
            filter_file or 'none: the defaults apply'))
    else:
        found.problem(Code.WARNING,
                      'the filter reads %s, Nova %s: they may disagree '
                      'about the rules' % (filter_file or 'no policy file',
                                           nova_file or 'no policy file'),
                      'unset policy_file in the filter section and '
                      '[host_status], so that the filter reads Nova\'s')
    shown = set()

    def walk(name, path):
        indent = '  ' * len(path)
        if name in path:
            cycle = path[path.index(name):] + [name]
            found.problem(
                Code.FAILURE,
                'rules refer to each other without end: %s'
                % ' -> '.join(cycle),
                'break the cycle %s: let one of them name none of the '
                'others' % ' -> '.join(cycle))
            return
        if name not in rules:
            found.note('%s%s: not defined' % (indent, name))
            _undefined(found, name, path[-1] if path else None, rules,
                       default_rule, nova_known)
            return
        if name in shown:
            return
        shown.add(name)
        source = 'policy file' if name in file_rules else 'default'
        found.note('%s%s = %s (%s)' % (indent, name, rules[name], source))
        if name in file_rules and '!' in _tokens(rules[name]) and \
                '!' not in _tokens(file_rules[name]):
            found.problem(
                Code.FAILURE,
                '%s does not parse: %r; oslo.policy reads it as %s'
                % (name, file_rules[name], rules[name]),
                'correct the check string of %s' % name)
        for reference in references(rules[name]):
            walk(reference, path + [name])

    for root in (policies.SHOW_HOST_STATUS, policies.SHOW_UNKNOWN_ONLY):
        walk(root, [])
    found.note('is_admin, in the credentials the rules test, comes from:')
    walk(policies.CONTEXT_IS_ADMIN, [])
    return found.result()


def _undefined(found, name, user, rules, default_rule, nova_known):
    """Report rule ``name``, which ``user`` names, as undefined."""
    named = '%s names rule:%s' % (user, name) if user else name
    fallback = ''
    if default_rule in rules:
        fallback = (', so oslo.policy uses rule %s (%s) instead'
                    % (default_rule, rules[default_rule]))
    if nova_known:
        found.problem(
            Code.FAILURE,
            '%s, which is not defined%s' % (
                named, fallback or ': it denies without a word'),
            'define %s in the policy file, or correct the name in %s'
            % (name, user or 'the policy file'))
    else:
        found.problem(
            Code.WARNING,
            '%s, which is not defined here; Nova is not importable, so '
            'it may be one of Nova\'s rules' % named,
            "run the check in nova-api's environment, where Nova is")


# 3. who sees host_status

Caller = collections.namedtuple('Caller', 'label user_id project_id roles')

SERVER_PROJECT = 'server-project'
OTHER_PROJECT = 'other-project'
SERVER_USER = 'server-user'


def usual_callers(roles=()):
    """Administrator, member and reader of the server's project, a member
    of another project, and one caller for each role in ``roles``, in the
    server's project."""
    callers = [
        Caller('administrator', 'check-admin', SERVER_PROJECT,
               ('admin', 'member', 'reader')),
        Caller('member', 'check-member', SERVER_PROJECT,
               ('member', 'reader')),
        Caller('reader', 'check-reader', SERVER_PROJECT, ('reader',)),
        Caller('member, other project', 'check-other', OTHER_PROJECT,
               ('member', 'reader')),
    ]
    for role in roles:
        callers.append(Caller('role %s' % role, 'check-role-' + role,
                              SERVER_PROJECT, (role,)))
    return callers


def _context(caller):
    return oslo_context.RequestContext(
        user_id=caller.user_id, project_id=caller.project_id,
        roles=list(caller.roles), overwrite=False)


def visibility(enforcer, callers):
    """What the filter shows each caller of a server of SERVER_PROJECT:
    ``all``, ``unknown-only`` or ``none``, decided as for a request."""
    target = policy.server_target({'tenant_id': SERVER_PROJECT})
    return [policy.decide(enforcer.check,
                          enforcer.credentials(_context(caller)),
                          target).value
            for caller in callers]


def check_who_sees(callers, ours, nova=None, nova_own=None,
                   same_file=True, nova_error=None):
    """The filter's decision for each caller, beside Nova's.

    ``nova`` is Nova's decision with the filter's defaults for the two
    host_status rules written into Nova's policy, ``nova_own`` with
    Nova's own defaults (``rule:context_is_admin``); both None when Nova
    is not importable.  The filter must decide as ``nova`` does: any
    difference is a Failure.  Where only ``nova_own`` differs, the
    policy overrides ``admin_api`` or ``context_is_admin`` and leaves a
    host_status rule at its default, the one documented difference: a
    Warning.
    """
    found = _Findings(WHO_SEES)
    header = ['caller', 'roles', 'filter']
    columns = [ours]
    if nova is not None:
        header.append('Nova')
        columns.append(nova)
    documented = nova_own is not None and nova_own != nova
    if documented:
        header.append('Nova default')
        columns.append(nova_own)
    rows = [header]
    for at, caller in enumerate(callers):
        rows.append([caller.label, ','.join(caller.roles)] +
                    [column[at] for column in columns])
    for line in table(rows):
        found.note(line)
    if nova is None:
        if nova_error:
            found.problem(Code.WARNING,
                          "Nova's own decision could not be had: %s"
                          % nova_error,
                          "run the check in nova-api's environment")
        else:
            found.note("Nova is not importable here: the filter's "
                       "decisions alone")
    for caller, mine, novas in zip(callers, ours, nova or ours):
        if mine != novas:
            found.problem(
                Code.FAILURE,
                '%s: the filter shows %s, Nova %s'
                % (caller.label, mine, novas),
                'let the filter read Nova\'s policy file (unset '
                'policy_file in the filter section and [host_status])'
                if not same_file else
                'report this to nova-hoststatus with the policy file: the '
                'filter must decide as Nova does')
    if documented:
        found.problem(
            Code.WARNING,
            "with Nova's own default for the host_status rules (%s, the "
            "filter's is rule:admin_api) Nova would decide otherwise: the "
            "policy overrides admin_api or context_is_admin"
            % NOVA_ADMIN,
            'set both host_status rules in the policy file, so the filter '
            'and Nova agree')
    if callers and ours[0] != policy.Visibility.ALL.value:
        found.problem(Code.WARNING,
                      'administrators see %s of host_status' % ours[0],
                      'check %s in the policy file'
                      % policies.SHOW_HOST_STATUS)
    return found.result()


# 4. internal lookup

def check_lookup(check, callers, seen, services_rule, nova_known):
    """The filter's internal ``GET /os-services`` passes Nova's policy.

    It runs as an elevated copy of the caller's context (``admin`` role
    added, ``is_admin`` set), for each caller that may see host_status;
    ``check(rule, target, credentials)`` answers with Nova's policy, and
    Nova checks the rule with an empty target.  A denial makes every
    value that caller sees UNKNOWN.
    """
    if not nova_known:
        return not_checked(
            LOOKUP, "Nova is not importable here, so Nova's default of %s "
            "is unknown" % SERVICES_LIST,
            "run the check in nova-api's environment, where Nova is")
    found = _Findings(LOOKUP)
    found.note('%s = %s' % (SERVICES_LIST, services_rule))
    seers = [caller for caller, value in zip(callers, seen)
             if value != policy.Visibility.NONE.value]
    if not seers:
        found.note('no caller above sees host_status: the filter looks '
                   'nothing up')
    for caller in seers:
        context = services.elevated(_context(caller))
        credentials = dict(context.to_policy_values(),
                           is_admin=context.is_admin)
        if check(SERVICES_LIST, {}, credentials):
            found.note('%s, elevated (roles %s, is_admin): allowed' % (
                caller.label, ','.join(context.roles)))
        else:
            found.problem(
                Code.FAILURE,
                '%s, elevated (roles %s, is_admin): denied, so this '
                'caller sees %s on every server' % (
                    caller.label, ','.join(context.roles), status.UNKNOWN),
                'let administrators list services: "%s": "%s" (Nova\'s '
                'default)' % (SERVICES_LIST, NOVA_ADMIN))
    return found.result()


# 5. timing and shared state

def check_timing(down_time, nova_down_time, cache_time, report_interval):
    """The filter counts a host down when Nova does, and its copy of the
    services is fresh enough for a host that reports in to stay UP.

    A copy up to ``service_cache_time`` old adds to the age of the last
    heartbeat, which is up to ``report_interval`` old already.
    """
    found = _Findings(TIMING)
    found.note('service_down_time: filter %s s, Nova %s s; '
               'service_cache_time %s s; report_interval %s s'
               % (down_time, nova_down_time, cache_time, report_interval))
    if down_time != nova_down_time:
        found.problem(
            Code.WARNING,
            'the filter counts a host %s after %s s, Nova after %s s'
            % (status.UNKNOWN, down_time, nova_down_time),
            "unset service_down_time in the filter section and "
            "[host_status]: the filter then follows Nova's")
    if cache_time == 0:
        found.problem(Code.WARNING,
                      'service_cache_time = 0: every server view costs an '
                      'internal GET /os-services',
                      'set service_cache_time = 3 (the default)')
    elif cache_time + report_interval >= down_time:
        found.problem(
            Code.WARNING,
            'service_cache_time + report_interval (%s s) reaches '
            'service_down_time: hosts that report in may show %s'
            % (cache_time + report_interval, status.UNKNOWN),
            'keep service_cache_time below %s s'
            % (down_time - report_interval))
    return found.result()


def check_shared_state(enabled, backend, servers, dead_retry, probe, load,
                       sharing=None):
    """What ``[cache]`` shares between API workers, and that it answers.

    ``load()`` builds the configured backend in this Python: ``(True,
    None)`` or ``(False, why)``; a backend whose client library is missing
    leaves every worker on its own state. ``probe(server)`` asks one
    memcached for its version: ``(True, version)`` or ``(False, why)``.
    ``sharing()``, once the servers answer, reads what the filters share:
    a :class:`Sharing`.
    """
    found = _Findings(SHARED_STATE)
    if not enabled or backend == store.NULL_BACKEND:
        found.note('[cache] is not enabled: each API worker keeps its own '
                   'state, and a change through one shows on the others '
                   'within service_cache_time')
        return found.result()
    found.note('[cache] backend = %s' % backend)
    if backend in PER_PROCESS_BACKENDS:
        found.problem(Code.WARNING,
                      '%s keeps its state in each process: API workers do '
                      'not share it' % backend,
                      'set [cache] backend = oslo_cache.memcache_pool and '
                      'memcache_servers')
    loaded, why = load()
    if not loaded:
        found.problem(Code.FAILURE,
                      'the %s backend cannot be loaded in this Python: %s; '
                      'the filter falls back to per-worker state'
                      % (backend, why),
                      "install the backend's client library into "
                      "nova-api's Python (python-memcached for "
                      'oslo_cache.memcache_pool, pymemcache for %s)'
                      % PYMEMCACHE)
        return found.result()
    if backend not in MEMCACHE_BACKENDS:
        return found.result()
    for server in servers:
        answered, text = probe(server)
        if answered:
            found.note('memcached %s answers (version %s)' % (server, text))
        else:
            found.problem(Code.FAILURE,
                          'memcached %s does not answer: %s' % (server, text),
                          'start memcached at %s, or correct [cache] '
                          'memcache_servers' % server)
    if backend == PYMEMCACHE:
        found.problem(Code.WARNING,
                      'with %s Nova answers 500 to server listings while '
                      'memcached is down' % backend,
                      'set [cache] backend = oslo_cache.memcache_pool')
    if sharing is not None and found.code != Code.FAILURE:
        _note_sharing(found, sharing())
    if backend in DEAD_RETRY_BACKENDS and dead_retry > MAX_DEAD_RETRY:
        found.problem(
            Code.WARNING,
            'memcache_dead_retry = %s: after a memcached outage the '
            'workers share state again only that many seconds later'
            % dead_retry,
            'set [cache] memcache_dead_retry = 5 to 30')
    return found.result()


Sharing = collections.namedtuple(
    'Sharing', 'namespace derived protected listing error')
"""What the filters of one deployment share: the key namespace (and
whether it was derived from Nova's database connection), whether values
are signed, and the shared listing's meta item (hosts, chunks, largest
item in bytes), None when there is none yet; ``error`` when the cache
could not be read."""


def _note_sharing(found, sharing):
    found.note('key namespace %s (%s)' % (
        sharing.namespace,
        'derived from Nova\'s [api_database] connection' if sharing.derived
        else '[host_status] cache_namespace'))
    found.note('values %s' % (
        'signed (memcache_security_strategy = MAC)' if sharing.protected
        else 'not signed: whoever can write to the memcached can make '
             'hosts look down or up; set [host_status] '
             'memcache_security_strategy = MAC and memcache_secret_key'))
    if sharing.error:
        found.problem(Code.FAILURE, 'the shared state cannot be read: %s'
                      % sharing.error,
                      'check [cache] and [host_status] memcache_* settings')
    elif sharing.listing is None:
        found.note('no shared listing yet: the first server view that '
                   'needs one writes it')
    else:
        listing = sharing.listing
        found.note('shared listing: %d compute services in %d items, the '
                   'largest %d bytes (memcached takes up to 1048576)' % (
                       listing['hosts'], listing['chunks'],
                       listing['largest']))


# The running API

Answer = collections.namedtuple('Answer', 'version status answered body')
"""One GET of a server: the version asked for, the HTTP status (None when
there was no answer), the version Nova answered with, and the server
record, or the error."""


def check_live(answers, expected=None, caller=None):
    """``host_status`` shows through the running API as the policy says.

    Never below 2.16; at 2.16 for the callers the policy shows it to.
    ``expected`` is the filter's decision for the token's caller
    (``all``, ``unknown-only`` or ``none``), None when the caller's roles
    were not given: then only its presence can be reported.
    """
    found = _Findings(LIVE)
    if caller:
        found.note('caller: %s' % caller)
    for answer in answers:
        if answer.status != 200:
            found.problem(Code.FAILURE,
                          'GET at %s: %s' % (answer.version, answer.body),
                          'check --endpoint, --token and --server')
            return found.result()
        value = answer.body.get('host_status')
        found.note('at %s (Nova answered %s): %s' % (
            answer.version, answer.answered,
            'absent' if value is None else 'host_status = %r' % value))
    low, high = answers
    if low.body.get('host_status') is not None:
        found.problem(Code.FAILURE,
                      'host_status at %s: it belongs to 2.16 and later'
                      % low.version,
                      'remove whatever adds host_status below 2.16 from '
                      'the /v2.1 pipeline')
    if high.answered != high.version:
        found.problem(Code.FAILURE,
                      'asked for %s, Nova answered %s' % (high.version,
                                                          high.answered),
                      'point --endpoint at a compute API of 2.16 or later')
        return found.result()
    value = high.body.get('host_status')
    if expected is None:
        if value is None:
            found.problem(
                Code.WARNING,
                'host_status absent at %s: right if the policy hides it '
                "from this token's caller" % high.version,
                "give the token's roles with --token-roles (and "
                '--token-project) to have it judged')
        return found.result()
    found.note('the policy shows this caller: %s' % expected)
    wrong = {
        policy.Visibility.ALL.value: value is None,
        policy.Visibility.UNKNOWN_ONLY.value:
            value not in (None, status.UNKNOWN),
        policy.Visibility.NONE.value: value is not None,
    }[expected]
    if wrong:
        found.problem(
            Code.FAILURE,
            'at %s host_status is %s, where the policy says %s'
            % (high.version, 'absent' if value is None else repr(value),
               expected),
            'check the pipeline row and that nova-api was restarted with '
            'this configuration')
    return found.result()
