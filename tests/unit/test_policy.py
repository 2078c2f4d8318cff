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

"""Who may see host_status: the decision per server, and the enforcer."""

import os

import fixtures
from oslo_config import cfg
from oslo_context import context as oslo_context
from oslo_policy import opts as policy_opts
from oslo_policy import policy as oslo_policy
import testtools

from nova_hoststatus import policies
from nova_hoststatus import policy

OWNER_SERVER = {'tenant_id': 'owner-project', 'user_id': 'owner-user'}


def context(project_id, roles, user_id='someone'):
    return oslo_context.RequestContext(project_id=project_id, roles=roles,
                                       user_id=user_id)


class DecisionTest(testtools.TestCase):
    """The pure decision, against a table of rule answers."""

    def check_from(self, answers):
        return lambda rule, target: answers[rule]

    def test_full_rule_wins(self):
        check = self.check_from({policies.SHOW_HOST_STATUS: True,
                                 policies.SHOW_UNKNOWN_ONLY: False})
        self.assertIs(policy.Visibility.ALL, policy.decide(check, {}))

    def test_unknown_only_when_full_rule_denies(self):
        check = self.check_from({policies.SHOW_HOST_STATUS: False,
                                 policies.SHOW_UNKNOWN_ONLY: True})
        self.assertIs(policy.Visibility.UNKNOWN_ONLY,
                      policy.decide(check, {}))

    def test_unknown_only_is_not_asked_when_full_rule_passes(self):
        asked = []

        def check(rule, target):
            asked.append(rule)
            return True
        policy.decide(check, {})
        self.assertEqual([policies.SHOW_HOST_STATUS], asked)

    def test_both_deny(self):
        check = self.check_from({policies.SHOW_HOST_STATUS: False,
                                 policies.SHOW_UNKNOWN_ONLY: False})
        self.assertIs(policy.Visibility.NONE, policy.decide(check, {}))

    def test_shown_values(self):
        for value in ('UP', 'UNKNOWN', 'DOWN', 'MAINTENANCE', ''):
            self.assertEqual(value, policy.shown(policy.Visibility.ALL,
                                                 value))
            self.assertIsNone(policy.shown(policy.Visibility.NONE, value))
        self.assertEqual('UNKNOWN', policy.shown(
            policy.Visibility.UNKNOWN_ONLY, 'UNKNOWN'))
        for value in ('UP', 'DOWN', 'MAINTENANCE', ''):
            self.assertIsNone(policy.shown(policy.Visibility.UNKNOWN_ONLY,
                                           value))

    def test_a_nova_context_is_answered_by_novas_enforcer(self):
        """Inside nova-api the context is Nova's: its ``can`` answers, as
        in Nova's own views, and the package's enforcer is not asked.
        """
        asked = []

        class NovaContext(object):
            def can(self, rule, target=None, fatal=True):
                asked.append((rule, target, fatal))
                return rule == policies.SHOW_UNKNOWN_ONLY

        check = policy.rule_check(NovaContext(), enforcer=None)
        self.assertIs(policy.Visibility.UNKNOWN_ONLY,
                      policy.decide(check, {'project_id': 'p'}))
        self.assertEqual(
            [(policies.SHOW_HOST_STATUS, {'project_id': 'p'}, False),
             (policies.SHOW_UNKNOWN_ONLY, {'project_id': 'p'}, False)],
            asked)

    def test_target_is_the_servers_own_project_only(self):
        # As Nova builds it for the host_status rules: no user_id, so a
        # rule like user_id:%(user_id)s never matches.
        self.assertEqual({'project_id': 'owner-project'},
                         policy.server_target(OWNER_SERVER))


class EnforcerTest(testtools.TestCase):
    """Real oslo.policy over a real policy file."""

    def setUp(self):
        super().setUp()
        self.tmp = self.useFixture(fixtures.TempDir()).path
        self.conf = cfg.ConfigOpts()
        self.conf([])

    def enforcer(self, content, name='policy.json'):
        path = os.path.join(self.tmp, name)
        self.write(path, content)
        return policy.Enforcer(self.conf, path), path

    def write(self, path, content):
        with open(path, 'w') as f:
            f.write(content)
        mtime = os.stat(path).st_mtime + 1
        os.utime(path, (mtime, mtime))

    def visibility(self, enforcer, caller, server=OWNER_SERVER):
        return policy.decide(policy.rule_check(caller, enforcer),
                             policy.server_target(server))

    def test_default_is_admin_only(self):
        enforcer, _ = self.enforcer('{}')
        self.assertIs(policy.Visibility.ALL, self.visibility(
            enforcer, context('admin-project', ['admin'])))
        self.assertIs(policy.Visibility.NONE, self.visibility(
            enforcer, context('owner-project', ['member'])))

    def test_is_admin_comes_from_context_is_admin(self):
        enforcer, _ = self.enforcer('{"context_is_admin": "role:operator"}')
        credentials = enforcer.credentials(context('p', ['operator']))
        self.assertTrue(credentials['is_admin'])
        self.assertFalse(enforcer.credentials(
            context('p', ['admin']))['is_admin'])

    def test_admin_or_owner_override(self):
        enforcer, _ = self.enforcer(
            '{"%s": "rule:admin_or_owner"}' % policies.SHOW_HOST_STATUS)
        self.assertIs(policy.Visibility.ALL, self.visibility(
            enforcer, context('owner-project', ['member'])))
        self.assertIs(policy.Visibility.NONE, self.visibility(
            enforcer, context('other-project', ['member'])))
        self.assertIs(policy.Visibility.ALL, self.visibility(
            enforcer, context('admin-project', ['admin'])))

    def test_custom_role_rule_in_yaml(self):
        enforcer, _ = self.enforcer(
            '"%s": "role:doctor"\n' % policies.SHOW_HOST_STATUS,
            name='policy.yaml')
        self.assertIs(policy.Visibility.ALL, self.visibility(
            enforcer, context('other-project', ['doctor'])))
        self.assertIs(policy.Visibility.NONE, self.visibility(
            enforcer, context('owner-project', ['member'])))

    def test_unknown_only_rule(self):
        enforcer, _ = self.enforcer(
            '{"%s": "@"}' % policies.SHOW_UNKNOWN_ONLY)
        self.assertIs(policy.Visibility.UNKNOWN_ONLY, self.visibility(
            enforcer, context('owner-project', ['member'])))

    def test_file_change_is_picked_up(self):
        enforcer, path = self.enforcer('{}')
        owner = context('owner-project', ['member'])
        self.assertIs(policy.Visibility.NONE, self.visibility(enforcer, owner))
        self.write(path, '{"%s": "rule:admin_or_owner"}'
                   % policies.SHOW_HOST_STATUS)
        self.assertIs(policy.Visibility.ALL, self.visibility(enforcer, owner))
        self.write(path, '{}')
        self.assertIs(policy.Visibility.NONE, self.visibility(enforcer, owner))

    def test_services_policy_file_is_the_default(self):
        path = os.path.join(self.tmp, 'nova-policy.json')
        self.write(path, '{"%s": "@"}' % policies.SHOW_HOST_STATUS)
        policy_opts.set_defaults(self.conf, policy_file=path)
        enforcer = policy.Enforcer(self.conf)
        self.assertIs(policy.Visibility.ALL, self.visibility(
            enforcer, context('other-project', ['member'])))


class RuleDefaultsTest(testtools.TestCase):

    def test_rules_for_the_generator(self):
        rules = {rule.name: rule for rule in policies.list_rules()}
        self.assertEqual('role:admin', rules['context_is_admin'].check_str)
        self.assertEqual('is_admin:True', rules['admin_api'].check_str)
        self.assertEqual('is_admin:True or project_id:%(project_id)s',
                         rules['admin_or_owner'].check_str)
        for name in (policies.SHOW_HOST_STATUS, policies.SHOW_UNKNOWN_ONLY):
            self.assertEqual('rule:admin_api', rules[name].check_str)
            self.assertTrue(rules[name].description)
            self.assertIn({'method': 'GET', 'path': '/servers/detail'},
                          rules[name].operations)

    def test_nova_rules_are_registered_and_host_status_keeps_its_default(self):
        nova_rules = [
            oslo_policy.RuleDefault('context_is_admin', 'role:admin'),
            oslo_policy.RuleDefault('admin_api', 'role:nova-admin'),
            oslo_policy.RuleDefault('os_compute_api:servers:show',
                                    'role:reader'),
            oslo_policy.RuleDefault(policies.SHOW_HOST_STATUS,
                                    'rule:context_is_admin'),
        ]
        self.useFixture(fixtures.MockPatch(
            'nova_hoststatus.policy._nova_rules', return_value=nova_rules))
        rules = {rule.name: rule.check_str
                 for rule in policy.registered_defaults()}
        # Nova's own definitions of the rules both know win ...
        self.assertEqual('role:nova-admin', rules['admin_api'])
        self.assertEqual('role:reader', rules['os_compute_api:servers:show'])
        # ... except the two host_status rules, which keep the project's.
        self.assertEqual('rule:admin_api', rules[policies.SHOW_HOST_STATUS])
        self.assertEqual('rule:admin_api', rules[policies.SHOW_UNKNOWN_ONLY])
        # The project's base rules fill in what Nova does not define.
        self.assertEqual('is_admin:True or project_id:%(project_id)s',
                         rules['admin_or_owner'])
