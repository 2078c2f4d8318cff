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

"""Policy parity: who sees host_status, the filter against Nova's own code.

Generated policy files (JSON and YAML) and ``[oslo_policy]
enforce_new_defaults`` settings are each written once with a ``nova.conf``
naming them.  For every caller and server Nova decides in its own server
view, run by :mod:`nova_hoststatus.tools.nova_oracle` in a child process
that reads the same two files, and two decisions of the filter's are
compared with it:

* inside nova-api: the filter's decision on the same Nova context
  (``policy.rule_check`` asks Nova's enforcer), made in the same child.
  It must equal Nova's in every case, whatever the file overrides;
* outside nova-api: the package's own enforcer (``Enforcer.credentials``,
  ``decide``, ``server_target``), here, on an oslo.context
  ``RequestContext`` of the caller.  Importing ``nova.context`` here would
  load eventlet before the shared sandbox loads Nova, which Nova refuses.
  Its defaults for both host_status rules are the package's
  ``rule:admin_api`` where Nova's are ``rule:context_is_admin``, so every
  case is also put to Nova with the package's defaults written into the
  file, and this decision must match that answer exactly.  A case where
  the two Nova answers differ is counted as the documented class, and
  must come from a file that leaves a host_status rule at its default and
  overrides ``admin_api`` or ``context_is_admin``.

``NOVA_HOSTSTATUS_PARITY_SCALE`` (default 1) multiplies the number of
generated examples.
"""

import collections
import itertools
import json
import os
import sys

import fixtures
import hypothesis
from hypothesis import strategies as st
from nova import policy as nova_policy  # noqa: F401
from oslo_config import cfg
from oslo_context import context as oslo_context
import testtools
import yaml

from nova_hoststatus import policies
from nova_hoststatus import policy
from nova_hoststatus.tools import nova_oracle
from tests.functional import base

SCALE = int(os.environ.get('NOVA_HOSTSTATUS_PARITY_SCALE', '1'))

SHOW = 'os_compute_api:servers:show'
SERVICES_LIST = 'os_compute_api:os-services:list'
BASE_RULES = ('context_is_admin', 'admin_api')

# [project_id, user_id] of the servers every caller looks at.
SERVERS = [['project-a', 'user-a'], ['project-a', 'user-b'],
           ['project-b', 'user-a'], ['project-c', 'user-c']]
PROJECTS = ('project-a', 'project-b', 'project-c')
USERS = ('user-a', 'user-b', 'user-c')
ROLES = ('admin', 'member', 'reader', 'manager', 'service', 'custom')

# [user_id, project_id, roles]: callers put to every generated file.
PERSONAS = [
    ['user-a', 'project-a', ['member', 'reader']],
    ['user-b', 'project-a', ['reader']],
    ['user-c', 'project-c', ['admin', 'member', 'reader']],
    ['user-a', 'project-b', ['member']],
]

# Rules a generated file may override.  Each names only rules after it, and
# so does Nova's default of each, so that no file makes a cycle.
ORDER = (
    policies.SHOW_HOST_STATUS,
    policies.SHOW_UNKNOWN_ONLY,
    SHOW,
    SERVICES_LIST,
    'os_compute_api:os-services',
    'project_reader_or_admin',
    'project_member_or_admin',
    'project_manager_or_admin',
    'service_or_admin',
    'admin_or_owner',
    'project_reader_api',
    'project_member_api',
    'project_manager_api',
    'service_api',
    'admin_api',
    'context_is_admin',
    'default',
)
# More names a host_status rule may use: another rule of Nova's, and one
# that nobody defines (oslo.policy resolves it to ``default``, if given).
HOST_STATUS_EXTRA = ('os_compute_api:servers:detail', 'no_such_rule')

ROLE_CHECKS = tuple('role:' + role for role in ROLES)
OTHER_CHECKS = ('@', '!', 'is_admin:True', 'is_admin:False',
                'project_id:%(project_id)s', 'user_id:%(user_id)s')

FILTER_DEFAULTS = {rule.name: rule.check_str
                   for rule in policy.registered_defaults()
                   if rule.name in policies.HOST_STATUS_RULES}


def check_strings(names):
    """Check strings over the checks above and ``rule:`` names."""
    atoms = st.sampled_from(ROLE_CHECKS) | st.sampled_from(OTHER_CHECKS)
    if names:
        atoms |= st.sampled_from(tuple('rule:' + n for n in names))
    return st.recursive(atoms, lambda inner: st.one_of(
        inner.map('not {}'.format),
        st.tuples(inner, st.sampled_from(('and', 'or')), inner).map(
            '({0[0]} {0[1]} {0[2]})'.format)), max_leaves=4)


def rule_files(required=()):
    """Policy files overriding any of ORDER; ``required`` always."""
    strategies = {}
    for at, name in enumerate(ORDER):
        names = ORDER[at + 1:]
        if name in policies.HOST_STATUS_RULES:
            names += HOST_STATUS_EXTRA
        strategies[name] = check_strings(names)
    return st.fixed_dictionaries(
        {name: strategies.pop(name) for name in required},
        optional=strategies)


CALLERS = st.lists(
    st.tuples(st.sampled_from(USERS), st.sampled_from(PROJECTS),
              st.sets(st.sampled_from(ROLES)).map(sorted)).map(list),
    min_size=2, max_size=12).map(lambda drawn: PERSONAS + drawn)
FORMATS = st.sampled_from(('json', 'yaml'))


def parity_settings(examples):
    # No shrinking: a failure is reported with its first case, within the
    # time budget, and the message carries the whole policy file.
    return hypothesis.settings(
        max_examples=examples * SCALE, deadline=None, derandomize=True,
        database=None, phases=(hypothesis.Phase.explicit,
                               hypothesis.Phase.generate),
        suppress_health_check=[hypothesis.HealthCheck.too_slow])


def policy_text(rules, fmt):
    if fmt == 'yaml':
        return yaml.safe_dump(rules, default_flow_style=False)
    return json.dumps(rules, indent=4)


def in_documented_class(rules):
    """A file where the two defaults of the host_status rules may differ."""
    return bool(not policies.HOST_STATUS_RULES <= set(rules)
                and set(BASE_RULES) & set(rules))


Row = collections.namedtuple('Row', 'caller server nova ours in_nova')


class Tally(object):
    """What one test compared."""

    def __init__(self):
        self.compared = 0
        self.agreed = 0
        self.documented = 0
        self.in_nova_agreed = 0

    def add(self, nova, ours, documented, in_nova=None):
        self.compared += 1
        self.agreed += nova == ours
        self.documented += documented
        self.in_nova_agreed += nova == (ours if in_nova is None else in_nova)

    def summary(self, name):
        return ('%s: %d cases compared; inside nova-api %d agree with '
                'Nova; outside it %d agree, %d in the documented class'
                % (name, self.compared, self.in_nova_agreed, self.agreed,
                   self.documented))


class PolicyParityTest(testtools.TestCase):
    """The filter's visibility of host_status equals Nova's, case by case."""

    def setUp(self):
        super().setUp()
        self.oracle = nova_oracle.shared()
        self.tmp = self.useFixture(fixtures.TempDir()).path
        # oslo.policy warns of every deprecated rule a file overrides and
        # logs every undefined rule a file names: kept out of the output.
        self.useFixture(fixtures.WarningsFilter([
            {'action': 'ignore', 'category': UserWarning,
             'module': 'oslo_policy'}]))
        self.useFixture(fixtures.FakeLogger(name='oslo_policy'))
        self.files = itertools.count()
        self.tally = Tally()
        self.addCleanup(self.report)

    def report(self):
        summary = self.tally.summary(self.id().rsplit('.', 1)[-1])
        sys.stdout.write(summary + '\n')
        sys.stdout.flush()

    def write_config(self, rules, fmt, enforce_new_defaults):
        """A policy file and the nova.conf naming it; both paths."""
        number = next(self.files)
        policy_file = os.path.join(self.tmp, 'policy-%d.%s' % (number, fmt))
        with open(policy_file, 'w') as f:
            f.write(policy_text(rules, fmt))
        config_file = os.path.join(self.tmp, 'nova-%d.conf' % number)
        with open(config_file, 'w') as f:
            f.write('[oslo_policy]\npolicy_file = %s\n'
                    'enforce_new_defaults = %s\n'
                    % (policy_file, enforce_new_defaults))
        return config_file, policy_file

    def compare(self, rules, fmt, enforce_new_defaults, callers):
        """Every caller on every server, filter against Nova; the rows."""
        config_file, policy_file = self.write_config(
            rules, fmt, enforce_new_defaults)
        nova = self.oracle.ask(['--config-file', config_file], callers,
                               SERVERS)['results']
        with_ours = dict(FILTER_DEFAULTS, **rules)
        expected = nova
        if with_ours != rules:
            expected = self.oracle.ask(
                ['--config-file', self.write_config(
                    with_ours, fmt, enforce_new_defaults)[0]],
                callers, SERVERS)['results']
        conf = cfg.ConfigOpts()
        conf(['--config-file', config_file], default_config_files=[])
        enforcer = policy.Enforcer(conf, policy_file)

        rows = []
        for caller, answer, wanted in zip(callers, nova, expected):
            user_id, project_id, roles = caller
            context = oslo_context.RequestContext(
                user_id=user_id, project_id=project_id, roles=roles,
                overwrite=False)
            credentials = enforcer.credentials(context)
            check = policy.rule_check(context, enforcer)
            for server, seen, want, in_nova in zip(
                    SERVERS, answer['seen'], wanted['seen'],
                    answer['filter_seen']):
                target = policy.server_target(
                    {'tenant_id': server[0], 'user_id': server[1]})
                ours = policy.decide(check, target).value
                documented = seen != want
                self.tally.add(seen, ours, documented, in_nova)
                if (ours != want or in_nova != seen
                        or credentials['is_admin'] != answer['is_admin']
                        or documented and not in_documented_class(rules)):
                    self.fail(
                        'Nova and the filter disagree\n'
                        'policy file (%s):\n%s\n'
                        '[oslo_policy] enforce_new_defaults = %s\n'
                        'caller user_id=%s project_id=%s roles=%s, server '
                        'project_id=%s user_id=%s\n'
                        'Nova: %s, is_admin %s; the filter in nova-api: %s; '
                        'Nova with the package\'s defaults in the file: %s; '
                        'the package\'s enforcer: %s, is_admin %s'
                        % (fmt, policy_text(rules, fmt),
                           enforce_new_defaults, user_id, project_id, roles,
                           server[0], server[1], seen, answer['is_admin'],
                           in_nova, want, ours, credentials['is_admin']))
                rows.append(Row(caller, server, seen, ours, in_nova))
        return rows

    @parity_settings(60)
    @hypothesis.given(rules=rule_files(), fmt=FORMATS, callers=CALLERS)
    def test_generated_files_new_defaults(self, rules, fmt, callers):
        self.compare(rules, fmt, True, callers)

    @parity_settings(60)
    @hypothesis.given(rules=rule_files(), fmt=FORMATS, callers=CALLERS)
    def test_generated_files_old_defaults(self, rules, fmt, callers):
        self.compare(rules, fmt, False, callers)

    @parity_settings(40)
    @hypothesis.given(rules=rule_files(required=policies.HOST_STATUS_RULES),
                      fmt=FORMATS, enforce_new_defaults=st.booleans(),
                      callers=CALLERS)
    def test_host_status_rules_written_out(self, rules, fmt,
                                           enforce_new_defaults, callers):
        # Both rules in the file: no default is used, nothing may differ.
        self.compare(rules, fmt, enforce_new_defaults, callers)
        self.assertEqual(self.tally.agreed, self.tally.compared)

    def test_widened_admin_api(self):
        """In nova-api the filter follows Nova where a file widens
        ``admin_api``; the package's own ``rule:admin_api`` differs from
        Nova's default only outside it.
        """
        everywhere = len(SERVERS)
        operator = ['user-c', 'project-c', ['operator']]
        admin = ['user-c', 'project-c', ['admin']]
        rows = self.compare({'admin_api': 'role:operator'}, 'yaml', True,
                            [operator, admin])
        self.assertEqual(
            [(operator, 'none', 'all', 'none')] * everywhere
            + [(admin, 'all', 'none', 'all')] * everywhere,
            [(row.caller, row.nova, row.ours, row.in_nova) for row in rows])

        # An admin of project-b only, by the project in context_is_admin:
        # is_admin for the filter, an admin of no other project for Nova.
        project_admin = ['user-b', 'project-b', ['admin']]
        rows = self.compare(
            {'context_is_admin': 'role:admin and project_id:%(project_id)s'},
            'json', True, [project_admin])
        self.assertEqual(
            [('all' if row.server[0] == 'project-b' else 'none', 'all')
             for row in rows],
            [(row.nova, row.ours) for row in rows])
        self.assertEqual([row.nova for row in rows],
                         [row.in_nova for row in rows])
        documented = self.tally.documented
        self.assertEqual(2 * everywhere + everywhere - 1, documented)

        # With Nova's default written into the file, the two agree.
        nova_default = {name: 'rule:context_is_admin'
                        for name in policies.HOST_STATUS_RULES}
        self.compare(dict(nova_default, admin_api='role:operator'), 'yaml',
                     True, [operator, admin])
        self.compare(dict(nova_default, context_is_admin='role:admin and '
                          'project_id:%(project_id)s'), 'json', True,
                     [project_admin])
        self.assertEqual(documented, self.tally.documented)
        self.assertEqual(self.tally.compared - documented, self.tally.agreed)
        self.assertEqual(self.tally.compared, self.tally.in_nova_agreed)

    def test_user_id_rule_never_shows_host_status(self):
        """Nova's target has no user_id: such a rule matches nobody."""
        callers = [[user, project, roles]
                   for user in USERS[:2] for project in PROJECTS[:2]
                   for roles in (['member', 'reader'], ['admin'], [])]
        for check_str in ('user_id:%(user_id)s',
                          'user_id:%(user_id)s or !',
                          'user_id:%(user_id)s and project_id:%(project_id)s',
                          'role:member and user_id:%(user_id)s'):
            for full, unknown_only in ((check_str, check_str),
                                       (check_str, '!'), ('!', check_str)):
                for enforce_new_defaults in (True, False):
                    rows = self.compare(
                        {policies.SHOW_HOST_STATUS: full,
                         policies.SHOW_UNKNOWN_ONLY: unknown_only},
                        'json', enforce_new_defaults, callers)
                    self.assertEqual({'none'}, {row.nova for row in rows})

    def test_rules_naming_nova_rules_resolve_as_in_nova(self):
        """A host_status rule may name any rule Nova defines in code."""
        callers = PERSONAS + [['user-d', 'project-d', ['service']],
                              ['user-b', 'project-a', ['manager']]]
        for check_str in ('rule:' + SHOW, 'rule:' + SERVICES_LIST,
                          'rule:%s and role:member' % SHOW,
                          'rule:project_reader_or_admin',
                          'rule:os_compute_api:servers:detail'):
            # By the full rule, or by the unknown-only rule alone.
            for rules, allowed in (({policies.SHOW_HOST_STATUS: check_str},
                                    'all'),
                                   ({policies.SHOW_HOST_STATUS: '!',
                                     policies.SHOW_UNKNOWN_ONLY: check_str},
                                    'unknown-only')):
                for enforce_new_defaults in (True, False):
                    rows = self.compare(rules, 'yaml', enforce_new_defaults,
                                        callers)
                    # Someone gets in by the rule Nova defines.
                    self.assertIn(allowed, {row.nova for row in rows})


class RealTokenParityTest(base.TestCase):
    """A share of the cases above through the real pipeline: callers hold
    Keystone tokens whose roles are real assignments (with the roles they
    imply), Nova's authtoken validates them, and Nova's own pipeline, asked
    with the same token, is the oracle.

    In nova-api the filter decides with Nova's enforcer, so any file will
    do: a host_status rule may be left at its default, and nothing may
    differ.  A DOWN and an UNKNOWN server in each of two projects tell
    "all", "unknown-only" and "none" apart.
    """

    # (project: 'own' or 'other', roles assigned)
    CALLERS = (('own', 'member'), ('own', 'reader'), ('own', 'manager'),
               ('own', 'admin'), ('own', 'custom,reader'), ('own', 'service'),
               ('other', 'member'), ('other', 'admin'))

    def setUp(self):
        super().setUp()
        self.other = self.sandbox.project_id(base.unique('other-project'))
        self.servers = [
            self.server(self.host(state), project=project)
            for project in (self.project, self.other)
            for state in ('forced_down', 'stale')]
        self.tally = Tally()
        self.addCleanup(self.report)

    def report(self):
        sys.stdout.write(self.tally.summary(
            'real tokens ' + self.id().rsplit('.', 1)[-1]) + '\n')
        sys.stdout.flush()

    def seen(self, project, roles, server, nova):
        result = self.sandbox.request(
            'GET', '/servers/%s' % server, project, self.user, roles=roles,
            version='2.16', nova=nova)
        if result.status != 200:
            return result.status
        return result.status, result.json['server'].get('host_status')

    @parity_settings(12)
    @hypothesis.given(rules=rule_files())
    def test_generated_files(self, rules):
        self.set_policy(rules)
        for where, roles in self.CALLERS:
            project = self.project if where == 'own' else self.other
            for server in self.servers:
                nova = self.seen(project, roles, server, True)
                ours = self.seen(project, roles, server, False)
                self.tally.add(nova, ours, False)
                self.assertEqual(
                    nova, ours, 'policy file:\n%s\ncaller: %s of the %s '
                    'project; server %s' % (policy_text(rules, 'json'), roles,
                                            where, server))
        self.assertEqual(self.tally.agreed, self.tally.compared)
