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

"""The policy checks: the rules resolve, who sees host_status, the lookup.

``policy``: both host_status rules resolve, through rules that are
defined, without a cycle.  ``who sees host_status``: the filter's decision
for a matrix of usual callers, or for real callers with what the running
API showed each, beside Nova's own.  ``internal lookup``:
the filter's elevated ``GET /os-services`` passes Nova's policy for every
caller that may see host_status.
"""

import collections

from oslo_context import context as oslo_context

from nova_hoststatus import policies
from nova_hoststatus import policy
from nova_hoststatus import services
from nova_hoststatus import status
from nova_hoststatus.tools.checks import live
from nova_hoststatus.tools.checks import result

POLICY = 'policy'
WHO_SEES = 'who sees host_status'
LOOKUP = 'internal lookup'

SERVICES_LIST = 'os_compute_api:os-services:list'
# Nova's defaults, for both host_status rules and for SERVICES_LIST.
NOVA_ADMIN = 'rule:context_is_admin'


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
    found = result.Findings(POLICY)
    if filter_file == nova_file:
        found.note('policy file: %s' % (
            filter_file or 'none: the defaults apply'))
    else:
        found.problem(result.Code.WARNING,
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
                result.Code.FAILURE,
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
                result.Code.FAILURE,
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
            result.Code.FAILURE,
            '%s, which is not defined%s' % (
                named, fallback or ': it denies without a word'),
            'define %s in the policy file, or correct the name in %s'
            % (name, user or 'the policy file'))
    else:
        found.problem(
            result.Code.WARNING,
            '%s, which is not defined here; Nova is not importable, so '
            'it may be one of Nova\'s rules' % named,
            "run the check in nova-api's environment, where Nova is")


# 3. who sees host_status

Caller = collections.namedtuple('Caller', 'label user_id project_id roles')

# The role of Nova's context_is_admin, as Keystone's bootstrap names it.
ADMIN_ROLE = 'admin'
SERVER_PROJECT = 'server-project'
OTHER_PROJECT = 'other-project'
SERVER_USER = 'server-user'


def usual_callers(roles=()):
    """Administrator, member and reader of the server's project, a member
    of another project, and one caller for each role in ``roles``, in the
    server's project.
    """
    return [
        Caller('administrator', 'check-admin', SERVER_PROJECT,
               ('admin', 'member', 'reader')),
        Caller('member', 'check-member', SERVER_PROJECT,
               ('member', 'reader')),
        Caller('reader', 'check-reader', SERVER_PROJECT, ('reader',)),
        Caller('member, other project', 'check-other', OTHER_PROJECT,
               ('member', 'reader')),
    ] + role_callers(roles)


def role_callers(roles, project=SERVER_PROJECT):
    """A caller with only that role in ``project``, for each of ``roles``.
    """
    return [Caller('role %s' % role, 'check-role-' + role, project, (role,))
            for role in roles]


def _context(caller):
    return oslo_context.RequestContext(
        user_id=caller.user_id, project_id=caller.project_id,
        roles=list(caller.roles), overwrite=False)


def visibility(enforcer, callers, project=SERVER_PROJECT):
    """What the filter shows each caller of a server of ``project``:
    ``all``, ``unknown-only`` or ``none``, decided as for a request.
    """
    target = policy.server_target({'tenant_id': project})
    return [policy.decide(enforcer.check,
                          enforcer.credentials(_context(caller)),
                          target).value
            for caller in callers]


def check_who_sees(callers, ours, nova=None, nova_own=None,
                   same_file=True, nova_error=None, shown=None):
    """The filter's decision for each caller, beside Nova's, and beside
    what the running API showed each.

    ``nova`` is Nova's decision with the filter's defaults for the two
    host_status rules written into Nova's policy, ``nova_own`` with
    Nova's own defaults (``rule:context_is_admin``); both None when Nova
    is not importable.  The filter must decide as ``nova`` does: any
    difference is a Failure.  Where only ``nova_own`` differs, the
    policy overrides ``admin_api`` or ``context_is_admin`` and leaves a
    host_status rule at its default, the one documented difference: a
    Warning.

    ``shown`` holds, for each caller, the :class:`.live.Shown` answer of
    the running API to it at 2.16 (None for a caller it was not asked
    as): its host_status must be what the filter's decision shows.  A
    server Nova keeps from a caller (403, 404) shows it nothing, whatever
    the decision.
    """
    found = result.Findings(WHO_SEES)
    header = ['caller', 'roles', 'filter']
    columns = [ours]
    if nova is not None:
        header.append('Nova')
        columns.append(nova)
    documented = nova_own is not None and nova_own != nova
    if documented:
        header.append('Nova default')
        columns.append(nova_own)
    if shown is not None:
        header.append('API')
        columns.append([live.cell(answer) for answer in shown])
    rows = [header]
    for at, caller in enumerate(callers):
        rows.append([caller.label, ','.join(caller.roles)] +
                    [column[at] for column in columns])
    for line in result.table(rows):
        found.note(line)
    if shown is not None:
        found.note('API: what the running API showed the caller at 2.16')
    if nova is None:
        if nova_error:
            found.problem(result.Code.WARNING,
                          "Nova's own decision could not be had: %s"
                          % nova_error,
                          "run the check in nova-api's environment")
        else:
            found.note("Nova is not importable here: the filter's "
                       "decisions alone")
    for caller, mine, novas in zip(callers, ours, nova or ours):
        if mine != novas:
            found.problem(
                result.Code.FAILURE,
                '%s: the filter shows %s, Nova %s'
                % (caller.label, mine, novas),
                'let the filter read Nova\'s policy file (unset '
                'policy_file in the filter section and [host_status])'
                if not same_file else
                'report this to nova-hoststatus with the policy file: the '
                'filter must decide as Nova does')
    for caller, mine, answer in zip(callers, ours, shown or ()):
        if answer is None or answer.status in live.KEPT_FROM_CALLER:
            continue
        if answer.status != 200:
            found.problem(result.Code.FAILURE,
                          '%s: GET at 2.16: %s' % (caller.label, answer.value),
                          'check that the API answers, and the cloud %s'
                          % caller.label)
        elif not live.agrees(mine, answer.value):
            found.problem(
                result.Code.FAILURE,
                '%s: the API shows %s, where the policy says %s'
                % (caller.label, live.cell(answer), mine),
                'check the pipeline row, and that nova-api was restarted '
                'with this configuration')
    if documented:
        found.problem(
            result.Code.WARNING,
            "with Nova's own default for the host_status rules (%s, the "
            "filter's is rule:admin_api) Nova would decide otherwise: the "
            "policy overrides admin_api or context_is_admin"
            % NOVA_ADMIN,
            'set both host_status rules in the policy file, so the filter '
            'and Nova agree')
    for caller, mine in zip(callers, ours):
        if ADMIN_ROLE in caller.roles and mine != policy.Visibility.ALL.value:
            found.problem(result.Code.WARNING,
                          'administrators see %s of host_status (%s)'
                          % (mine, caller.label),
                          'check %s in the policy file'
                          % policies.SHOW_HOST_STATUS)
            break
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
        return result.not_checked(
            LOOKUP, "Nova is not importable here, so Nova's default of %s "
            "is unknown" % SERVICES_LIST,
            "run the check in nova-api's environment, where Nova is")
    found = result.Findings(LOOKUP)
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
                result.Code.FAILURE,
                '%s, elevated (roles %s, is_admin): denied, so this '
                'caller sees %s on every server' % (
                    caller.label, ','.join(context.roles), status.UNKNOWN),
                'let administrators list services: "%s": "%s" (Nova\'s '
                'default)' % (SERVICES_LIST, NOVA_ADMIN))
    return found.result()
