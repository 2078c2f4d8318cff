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

"""The policy checks: the rules resolve, and who sees host_status.

``policy``: both host_status rules resolve, through rules that are
defined, without a cycle.  ``who sees host_status``: the decision for a
matrix of usual callers, or for real callers with what the running API
showed each.  Inside nova-api the filter's decision is Nova's own
enforcer's (Nova's registered defaults, Nova's policy file), so where Nova
is importable the rules and decisions checked are Nova's; elsewhere the
package's own enforcer's, as the filter decides outside nova-api.
"""

import collections

from oslo_context import context as oslo_context

from nova_hoststatus import policies
from nova_hoststatus import policy
from nova_hoststatus.tools.checks import live
from nova_hoststatus.tools.checks import result

POLICY = 'policy'
WHO_SEES = 'who sees host_status'


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
                 default_rule='default', config_dirs=(), named=None):
    """Both host_status rules resolve, through defined rules, without end.

    ``rules`` are the rules in force where the decision is made (the
    file's over the registered defaults, ``{name: check string}`` as
    oslo.policy parsed them), ``file_rules`` those the policy file sets,
    as written.  Where Nova is importable (``nova_known``) they are Nova's
    own enforcer's, which decides in nova-api: Nova's defaults, Nova's
    file ``nova_file``; elsewhere the package's enforcer's: its defaults,
    the filter's file ``filter_file`` (its ``policy_file``, else Nova's).
    A file is None where there is none (then the defaults apply).  An
    undefined rule denies without a word (or falls back to
    ``default_rule``, when that is defined); a cycle makes every check
    that reaches it fail.  Without Nova, Nova's own rules are unknown
    here, so an undefined name is only a Warning.

    A policy file outside ``config_dirs``, the directories of the
    configuration files, as ``[oslo_policy] policy_file`` names it
    (``named``), is a Warning: a copy of a deployment may be checking its
    original's policy file.
    """
    found = result.Findings(POLICY)
    in_force = nova_file if nova_known else filter_file
    found.note('policy file: %s' % (in_force or 'none: the defaults apply'))
    if result.outside(in_force, config_dirs):
        result.read_outside(found, 'policy file', in_force, config_dirs,
                            '[oslo_policy] policy_file', named or in_force,
                            '--policy-file', 'policy.yaml')
    if nova_known:
        found.note("defaults: Nova's own, as Nova's enforcer holds them in "
                   "nova-api")
    else:
        found.note("defaults: the package's, as the filter holds them "
                   "outside nova-api (Nova is not importable here; in "
                   "nova-api Nova's enforcer decides, with Nova's)")
    if filter_file != nova_file:
        found.problem(
            result.Code.WARNING,
            "the filter's policy_file (%s) is read only outside nova-api, "
            "where the caller's context is not Nova's; in nova-api Nova's "
            "policy file (%s) decides" % (filter_file or 'not found',
                                          nova_file or 'not found'),
            'unset policy_file in the filter section and [host_status]')
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
            if not path:
                found.note('%s: as above' % name)
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


# who sees host_status

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
    """What the package's ``enforcer`` lets each caller of a server of
    ``project`` see: ``all``, ``unknown-only`` or ``none``, decided as the
    filter decides for a caller whose context is not Nova's.
    """
    target = policy.server_target({'tenant_id': project})
    return [policy.decide(policy.rule_check(_context(caller), enforcer),
                          target).value
            for caller in callers]


def _server_named(server):
    """The server the matrix read, in words."""
    if not server:
        return 'the server'
    named = 'server %s' % server.get('id')
    if server.get('name'):
        named += ' (%s)' % server['name']
    if server.get('tenant_id'):
        named += ' of project %s' % server['tenant_id']
    return named


def check_who_sees(callers, decisions, nova_decided, shown=None,
                   server=None):
    """The decision for each caller, beside what the running API showed
    each.

    ``decisions`` are Nova's own where Nova is importable
    (``nova_decided``): inside nova-api the filter decides with Nova's
    enforcer, so Nova's decision is the filter's.  Elsewhere they are the
    package's own enforcer's, as the filter decides outside nova-api.

    ``shown`` holds, for each caller, the :class:`.live.Shown` answer of
    the running API to it at 2.16 (None for a caller it was not asked
    as): its host_status must be what the decision shows.  A server Nova
    keeps from a caller (403, 404) shows it nothing, whatever the
    decision.  ``server`` is the record of the server read (its ``id``,
    ``name`` and ``tenant_id`` name it).
    """
    found = result.Findings(WHO_SEES)
    header = ['caller', 'roles', 'decision']
    columns = [decisions]
    if shown is not None:
        header.append('API')
        columns.append([live.cell(answer) for answer in shown])
    rows = [header]
    for at, caller in enumerate(callers):
        rows.append([caller.label, ','.join(caller.roles)] +
                    [column[at] for column in columns])
    for line in result.table(rows):
        found.note(line)
    if nova_decided:
        found.note("decision: Nova's own enforcer's, with Nova's defaults "
                   "and this policy file, as the filter asks it in "
                   "nova-api")
    else:
        found.note("decision: the package's own enforcer's, as the filter "
                   "decides outside nova-api (Nova is not importable here; "
                   "in nova-api Nova's own enforcer decides, with Nova's "
                   "defaults)")
    if shown is not None:
        found.note('API: what the running API showed the caller at 2.16, '
                   'reading %s' % _server_named(server))
        for note in live.cell_notes(shown):
            found.note(note)
    else:
        found.note('server: none read; the decisions are for a server of '
                   'the project the administrator, member and reader are '
                   'in (--cloud reads a real one through the API, as each '
                   'caller)')
    for caller, decision, answer in zip(callers, decisions, shown or ()):
        if answer is None or answer.status in live.KEPT_FROM_CALLER:
            continue
        if answer.status != 200:
            found.problem(result.Code.FAILURE,
                          '%s: GET at 2.16: %s' % (caller.label, answer.value),
                          'check that the API answers, and the cloud %s'
                          % caller.label)
        elif not live.agrees(decision, answer.value):
            found.problem(
                result.Code.FAILURE,
                '%s: the API shows %s, where the policy says %s'
                % (caller.label, live.cell(answer), decision),
                'check the pipeline row, and that nova-api was restarted '
                'with this configuration')
    for caller, decision in zip(callers, decisions):
        if (ADMIN_ROLE in caller.roles
                and decision != policy.Visibility.ALL.value):
            found.problem(result.Code.WARNING,
                          'administrators see %s of host_status (%s)'
                          % (decision, caller.label),
                          'check %s in the policy file'
                          % policies.SHOW_HOST_STATUS)
            break
    return found.result()
