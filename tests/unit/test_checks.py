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

"""Every check of ``nova-hoststatus check``, passing and failing, on small
inputs: paste files as strings, rules as dicts."""

import io
import json
import os

import fixtures
from oslo_config import cfg
import testtools

from nova_hoststatus import cmd
from nova_hoststatus.cmd import check as check_cmd
from nova_hoststatus import conf
from nova_hoststatus import policies
from nova_hoststatus import policy
from nova_hoststatus.tools import checks

Code = checks.Code

# Nova 34's paste file, cut to what the checks read, with the filter in
# place: the {v21} and {legacy} pipelines and the {filter} section are
# filled in by each test.
PASTE = """\
[composite:osapi_compute]
use = call:nova.api.openstack.urlmap:urlmap_factory
/: oscomputeversions
/v2: oscomputeversion_legacy_v2
/v2.1: oscomputeversion_v2
/v2/+: openstack_compute_api_v21_legacy_v2_compatible
/v2.1/+: openstack_compute_api_v21

[composite:openstack_compute_api_v21]
use = call:nova.api.auth:pipeline_factory_v21
keystone = {v21}

[composite:openstack_compute_api_v21_legacy_v2_compatible]
use = call:nova.api.auth:pipeline_factory_v21
keystone = {legacy}

[filter:cors]
paste.filter_factory = oslo_middleware.cors:filter_factory

[filter:faultwrap]
paste.filter_factory = nova.api.openstack:FaultWrapper.factory

[filter:legacy_v2_compatible]
paste.filter_factory = nova.api.openstack:LegacyV2CompatibleWrapper.factory

[app:osapi_compute_app_v21]
paste.app_factory = nova.api.openstack.compute:APIRouterV21.factory

[pipeline:oscomputeversions]
pipeline = cors faultwrap oscomputeversionapp

[pipeline:oscomputeversion_v2]
pipeline = cors faultwrap oscomputeversionapp_v2

[pipeline:oscomputeversion_legacy_v2]
pipeline = cors faultwrap legacy_v2_compatible oscomputeversionapp_v2

[app:oscomputeversionapp]
paste.app_factory = nova.api.openstack.compute.versions:Versions.factory

[app:oscomputeversionapp_v2]
paste.app_factory = nova.api.openstack.compute.versions:VersionsV2.factory

[filter:keystonecontext]
paste.filter_factory = nova.api.auth:NovaKeystoneContext.factory

[filter:authtoken]
paste.filter_factory = keystonemiddleware.auth_token:filter_factory

{filter}
"""
V21 = 'cors faultwrap authtoken keystonecontext hoststatus ' \
      'osapi_compute_app_v21'
LEGACY = 'cors faultwrap authtoken keystonecontext legacy_v2_compatible ' \
         'osapi_compute_app_v21'
FILTER = '[filter:hoststatus]\nuse = egg:nova-hoststatus#hoststatus\n'
WHERE = '[composite:openstack_compute_api_v21] keystone'


def resolve(dist, group, name):
    """The project's entry point, as pbr installs it."""
    if (dist, group, name) == ('nova-hoststatus', 'paste.filter_factory',
                               'hoststatus'):
        return checks.FILTER_FACTORY
    return None


def paste(v21=V21, legacy=LEGACY, filter_section=FILTER, extra=''):
    return checks.PasteConfig(
        PASTE.format(v21=v21, legacy=legacy, filter=filter_section) + extra,
        resolve)


class TestCase(testtools.TestCase):

    def assertResult(self, code, result, *expected):
        """``result`` has ``code`` and each text in its details or fix."""
        text = '%s\n%s' % (result.details, result.fix)
        self.assertEqual(code, result.code, text)
        for part in expected:
            self.assertIn(part, text)
        if code == Code.SUCCESS:
            self.assertIsNone(result.fix)
        else:
            self.assertTrue(result.fix)


class ResultTest(TestCase):

    def test_as_dict_names_the_result(self):
        result = checks.Result('x', Code.WARNING, 'details', 'fix')
        self.assertEqual({'check': 'x', 'result': 'Warning',
                          'details': 'details', 'fix': 'fix'},
                         result.as_dict())

    def test_table_aligns_columns(self):
        self.assertEqual(['a    bb', 'ccc  d'],
                         checks.table([['a', 'bb'], ['ccc', 'd']]))


class PasteConfigTest(TestCase):

    def test_filter_found_by_what_it_loads(self):
        config = paste(
            v21=V21.replace('hoststatus', 'anything'),
            filter_section='[filter:anything]\npaste.filter_factory = '
                           'nova_hoststatus.middleware:filter_factory\n')
        self.assertEqual(['anything'], config.ours())
        self.assertEqual('anything', config.in_use())

    def test_call_and_section_references_resolve(self):
        config = paste(filter_section=(
            '[filter:hoststatus]\nuse = other\n\n[filter:other]\n'
            'use = call:nova_hoststatus.middleware:filter_factory\n'))
        self.assertEqual(['hoststatus', 'other'], config.ours())

    def test_version_documents_are_not_api_pipelines(self):
        [(where, elements)] = paste().api_pipelines(checks.V21)
        self.assertEqual(WHERE, where)
        self.assertEqual('osapi_compute_app_v21', elements[-1])

    def test_local_conf_as_paste_deploy_hands_it_over(self):
        config = checks.PasteConfig(
            '[DEFAULT]\ndebug = true\nwhere = /etc/nova/p.yaml\n\n'
            '[filter:hoststatus]\nuse = egg:nova-hoststatus#hoststatus\n'
            'service_cache_time = 1\nset verbose = true\n'
            'get policy_file = where\n', resolve)
        self.assertEqual({'service_cache_time': '1',
                          'policy_file': '/etc/nova/p.yaml'},
                         config.local_conf('hoststatus'))

    def test_installed_entry_point_resolves_to_the_filter(self):
        self.assertEqual(checks.FILTER_FACTORY, checks.entry_point(
            'nova-hoststatus', 'paste.filter_factory', 'hoststatus'))
        self.assertIsNone(checks.entry_point(
            'nova-hoststatus', 'paste.filter_factory', 'main'))
        self.assertIsNone(checks.entry_point(
            'no-such-distribution', 'paste.filter_factory', 'main'))


class PipelineTest(TestCase):

    def test_nova_pipeline_with_the_filter_passes(self):
        self.assertResult(
            Code.SUCCESS, checks.check_pipeline(paste()),
            WHERE + ': ... keystonecontext hoststatus osapi_compute_app_v21',
            'without the filter, as it should be', 'settings: none')

    def test_paste_file_is_named(self):
        self.assertResult(
            Code.SUCCESS,
            checks.check_pipeline(paste(), '/etc/nova/api-paste.ini'),
            'paste file: /etc/nova/api-paste.ini')

    def test_other_filters_may_follow_it(self):
        self.assertResult(Code.SUCCESS, checks.check_pipeline(paste(
            v21=V21.replace('hoststatus', 'hoststatus faultwrap'))))

    def test_filter_before_keystonecontext_fails(self):
        result = checks.check_pipeline(paste(v21=V21.replace(
            'keystonecontext hoststatus', 'hoststatus keystonecontext')))
        self.assertResult(Code.FAILURE, result,
                          'hoststatus comes before keystonecontext',
                          'move hoststatus right after keystonecontext in '
                          + WHERE)

    def test_filter_missing_from_v21_fails(self):
        result = checks.check_pipeline(paste(
            v21=V21.replace(' hoststatus', '')))
        self.assertResult(Code.FAILURE, result,
                          WHERE + ': the filter is missing',
                          'add hoststatus right after keystonecontext')

    def test_every_auth_strategy_of_the_composite_counts(self):
        extra = ('\n[filter:noauth2]\npaste.filter_factory = '
                 'nova.api.openstack.auth:NoAuthMiddleware.factory\n')
        config = checks.PasteConfig(
            PASTE.format(v21=V21 + '\nnoauth2 = cors noauth2 '
                                   'osapi_compute_app_v21',
                         legacy=LEGACY, filter=FILTER) + extra, resolve)
        self.assertResult(Code.FAILURE, checks.check_pipeline(config),
                          '[composite:openstack_compute_api_v21] noauth2: '
                          'the filter is missing',
                          'add hoststatus right after noauth2')

    def test_no_filter_section_fails(self):
        result = checks.check_pipeline(paste(
            v21=V21.replace(' hoststatus', ''), filter_section=''))
        self.assertResult(Code.FAILURE, result,
                          'no filter section loads',
                          'add [filter:hoststatus] with "use = '
                          'egg:nova-hoststatus#hoststatus"')

    def test_section_that_does_not_resolve_fails(self):
        result = checks.check_pipeline(paste(
            filter_section='[filter:hoststatus]\n'
                           'use = egg:nova-hoststatus#host_status\n'))
        self.assertResult(
            Code.FAILURE, result,
            '[filter:hoststatus] names nova-hoststatus but loads '
            'egg:nova-hoststatus#host_status',
            'set "use = egg:nova-hoststatus#hoststatus" in '
            '[filter:hoststatus]')

    def test_filter_in_legacy_v2_warns(self):
        result = checks.check_pipeline(paste(legacy=LEGACY.replace(
            'keystonecontext', 'keystonecontext hoststatus')))
        self.assertResult(Code.WARNING, result, '(legacy /v2) has the filter',
                          'remove hoststatus from [composite:openstack_'
                          'compute_api_v21_legacy_v2_compatible] keystone')

    def test_invalid_paste_setting_fails(self):
        result = checks.check_pipeline(paste(
            filter_section=FILTER + 'service_down_time = soon\n'))
        self.assertResult(Code.FAILURE, result,
                          'service_down_time', "'soon'",
                          'correct or remove that setting in '
                          '[filter:hoststatus]')

    def test_every_bad_paste_setting_is_named(self):
        # The filter stops at the first; the check names each.
        result = checks.check_pipeline(paste(
            filter_section=FILTER + 'service_down_time = soon\n'
            'service_cache_time = later\nservice_down_tme = 30\n'))
        self.assertResult(Code.FAILURE, result,
                          "service_down_time = 'soon'",
                          "service_cache_time = 'later'",
                          'service_down_tme',
                          'correct or remove those settings in '
                          '[filter:hoststatus]')
        self.assertEqual(3, result.details.count(
            'Failure: [filter:hoststatus]'))

    def test_paste_file_outside_the_configuration_warns(self):
        result = checks.check_pipeline(
            paste(), '/srv/original/api-paste.ini', ['/srv/copy'],
            '/srv/original/api-paste.ini')
        self.assertResult(
            Code.WARNING, result,
            'paste file: /srv/original/api-paste.ini',
            'Warning: the paste file read is /srv/original/api-paste.ini, '
            'outside the directory of the configuration files (/srv/copy; '
            '[wsgi] api_paste_config = /srv/original/api-paste.ini)',
            "the copy's own paste file was not checked",
            'give it with --api-paste-config')

    def test_paste_file_found_elsewhere_by_name_warns(self):
        result = checks.check_pipeline(
            paste(), '/etc/nova/api-paste.ini', ['/srv/copy'],
            'api-paste.ini')
        self.assertResult(
            Code.WARNING, result,
            '[wsgi] api_paste_config = api-paste.ini, not found there')

    def test_paste_file_beside_or_below_the_configuration_passes(self):
        for path in ('/srv/copy/api-paste.ini', '/srv/copy/d/paste.ini',
                     '/srv/other/api-paste.ini'):
            self.assertResult(Code.SUCCESS, checks.check_pipeline(
                paste(), path, ['/srv/copy', '/srv/other']))

    def test_unknown_paste_setting_fails(self):
        result = checks.check_pipeline(paste(
            filter_section=FILTER + 'service_down_tme = 30\n'))
        self.assertResult(Code.FAILURE, result, 'service_down_tme')

    def test_valid_paste_settings_are_shown(self):
        result = checks.check_pipeline(paste(
            filter_section=FILTER + 'service_cache_time = 1.5\n'))
        self.assertResult(Code.SUCCESS, result,
                          'settings: service_cache_time = 1.5')

    def test_filter_twice_warns(self):
        result = checks.check_pipeline(paste(
            v21=V21.replace('hoststatus', 'hoststatus hoststatus')))
        self.assertResult(Code.WARNING, result, 'in it 2 times')

    def test_pipeline_without_context_filter_fails(self):
        result = checks.check_pipeline(paste(
            v21=V21.replace('keystonecontext ', '')))
        self.assertResult(Code.FAILURE, result, 'no context filter')

    def test_element_without_section_fails(self):
        result = checks.check_pipeline(paste(
            v21=V21.replace('cors', 'corz')))
        self.assertResult(Code.FAILURE, result,
                          'names corz, which has no [filter:corz]')

    def test_no_urlmap_fails(self):
        result = checks.check_pipeline(checks.PasteConfig(FILTER, resolve))
        self.assertResult(Code.FAILURE, result,
                          'no [composite:osapi_compute]')

    def test_no_v21_api_fails(self):
        result = checks.check_pipeline(checks.PasteConfig(
            PASTE.format(v21=V21, legacy=LEGACY, filter=FILTER).replace(
                '/v2.1/+: openstack_compute_api_v21\n', ''), resolve))
        self.assertResult(Code.FAILURE, result,
                          'no pipeline ending in the compute API')

    def test_pipeline_section_at_v21(self):
        text = PASTE.format(v21=V21, legacy=LEGACY, filter=FILTER).replace(
            '/v2.1/+: openstack_compute_api_v21',
            '/v2.1/+: api_v21') + '\n[pipeline:api_v21]\npipeline = %s\n' % (
                V21.replace(' hoststatus', ''))
        result = checks.check_pipeline(checks.PasteConfig(text, resolve))
        self.assertResult(Code.FAILURE, result,
                          '[pipeline:api_v21] pipeline: the filter is '
                          'missing')


DEFAULTS = {
    policies.SHOW_HOST_STATUS: 'rule:admin_api',
    policies.SHOW_UNKNOWN_ONLY: 'rule:admin_api',
    'admin_api': 'is_admin:True',
    'context_is_admin': 'role:admin',
    'admin_or_owner': '(is_admin:True or project_id:%(project_id)s)',
}


# Nova's defaults for the two host_status rules, as Nova 34 registers them.
NOVA_DEFAULTS = dict(DEFAULTS, **{
    policies.SHOW_HOST_STATUS: 'rule:context_is_admin',
    policies.SHOW_UNKNOWN_ONLY: 'rule:context_is_admin',
})


def check_policy(file_rules, rules=None, nova_known=True, **kwargs):
    defaults = NOVA_DEFAULTS if nova_known else DEFAULTS
    rules = dict(defaults, **(rules or file_rules))
    kwargs.setdefault('filter_file', '/etc/nova/policy.yaml')
    kwargs.setdefault('nova_file', '/etc/nova/policy.yaml')
    return checks.check_policy(rules, file_rules, nova_known=nova_known,
                               **kwargs)


class PolicyTest(TestCase):

    def test_policy_file_outside_the_configuration_warns(self):
        result = check_policy({}, config_dirs=['/srv/copy'],
                              named='/etc/nova/policy.yaml')
        self.assertResult(
            Code.WARNING, result,
            'Warning: the policy file read is /etc/nova/policy.yaml, '
            'outside the directory of the configuration files (/srv/copy; '
            '[oslo_policy] policy_file = /etc/nova/policy.yaml)',
            'give it with --policy-file')
        self.assertResult(Code.SUCCESS, check_policy(
            {}, config_dirs=['/etc/nova'], named='policy.yaml'))

    def test_references_as_the_parser_splits(self):
        self.assertEqual(['a', 'b'], checks.references(
            '(rule:a or (not rule:b)) and role:rule and rule:a'))

    def test_defaults_pass_and_are_shown(self):
        self.assertResult(
            Code.SUCCESS, check_policy({}),
            'policy file: /etc/nova/policy.yaml',
            "defaults: Nova's own, as Nova's enforcer holds them in "
            "nova-api",
            '%s = rule:context_is_admin (default)'
            % policies.SHOW_HOST_STATUS,
            '  context_is_admin = role:admin (default)',
            'comes from:\ncontext_is_admin: as above')

    def test_without_nova_the_packages_defaults_are_shown(self):
        self.assertResult(
            Code.SUCCESS, check_policy({}, nova_known=False),
            "defaults: the package's, as the filter holds them outside "
            "nova-api (Nova is not importable here",
            '%s = rule:admin_api (default)' % policies.SHOW_HOST_STATUS,
            '  admin_api = is_admin:True (default)',
            'comes from:\ncontext_is_admin = role:admin (default)')

    def test_override_shown_with_what_it_reaches(self):
        result = check_policy(
            {policies.SHOW_HOST_STATUS: 'rule:admin_or_owner'})
        self.assertResult(
            Code.SUCCESS, result,
            '%s = rule:admin_or_owner (policy file)'
            % policies.SHOW_HOST_STATUS,
            '  admin_or_owner = (is_admin:True or '
            'project_id:%(project_id)s) (default)')

    def test_undefined_rule_fails(self):
        result = check_policy(
            {policies.SHOW_HOST_STATUS: 'rule:no_such_rule'})
        self.assertResult(
            Code.FAILURE, result,
            '%s names rule:no_such_rule, which is not defined: it denies '
            'without a word' % policies.SHOW_HOST_STATUS,
            'define no_such_rule in the policy file, or correct the name '
            'in %s' % policies.SHOW_HOST_STATUS)

    def test_undefined_rule_names_the_fallback(self):
        result = check_policy(
            {policies.SHOW_UNKNOWN_ONLY: 'rule:no_such_rule',
             'default': 'role:admin'})
        self.assertResult(Code.FAILURE, result,
                          'so oslo.policy uses rule default (role:admin)')

    def test_undefined_rule_without_nova_only_warns(self):
        result = check_policy(
            {policies.SHOW_HOST_STATUS: 'rule:project_reader_or_admin'},
            nova_known=False)
        self.assertResult(Code.WARNING, result,
                          "it may be one of Nova's rules",
                          "run the check in nova-api's environment")

    def test_cycle_fails(self):
        rules = {policies.SHOW_HOST_STATUS: 'rule:a',
                 'a': 'rule:b or role:x', 'b': '(rule:a)'}
        self.assertResult(Code.FAILURE, check_policy(rules),
                          'without end: a -> b -> a',
                          'break the cycle a -> b -> a')
        self.assertEqual([['a', 'b', 'a']], checks.cycles(
            dict(DEFAULTS, **rules), [policies.SHOW_HOST_STATUS]))

    def test_self_reference_is_a_cycle(self):
        self.assertResult(Code.FAILURE, check_policy(
            {'context_is_admin': 'rule:context_is_admin or role:admin'}),
            'context_is_admin -> context_is_admin')
        self.assertResult(Code.FAILURE, check_policy(
            {'admin_api': 'rule:admin_api or role:admin'},
            nova_known=False), 'admin_api -> admin_api')

    def test_no_cycles(self):
        self.assertEqual([], checks.cycles(DEFAULTS, [
            policies.SHOW_HOST_STATUS, policies.SHOW_UNKNOWN_ONLY]))

    def test_rule_that_does_not_parse_fails(self):
        result = check_policy(
            {policies.SHOW_HOST_STATUS: 'rule:admin_api or'},
            rules={policies.SHOW_HOST_STATUS: '!'})
        self.assertResult(Code.FAILURE, result, 'does not parse',
                          'correct the check string of %s'
                          % policies.SHOW_HOST_STATUS)

    def test_deny_all_on_purpose_parses(self):
        self.assertResult(Code.SUCCESS, check_policy(
            {policies.SHOW_UNKNOWN_ONLY: '!'}))

    def test_no_policy_file_means_the_defaults(self):
        self.assertResult(Code.SUCCESS, check_policy(
            {}, filter_file=None, nova_file=None),
            'policy file: none: the defaults apply')

    def test_filter_reading_another_file_warns(self):
        result = check_policy({}, filter_file='/etc/nova/hoststatus.yaml')
        self.assertResult(Code.WARNING, result,
                          "the filter's policy_file (/etc/nova/hoststatus."
                          "yaml) is read only outside nova-api, where the "
                          "caller's context is not Nova's; in nova-api "
                          "Nova's policy file (/etc/nova/policy.yaml) "
                          "decides")
        self.assertEqual(
            'unset policy_file in the filter section and [host_status]',
            result.fix)
        # The rules shown are Nova's file's, which decide in nova-api.
        self.assertIn('policy file: /etc/nova/policy.yaml', result.details)

    def test_without_nova_the_filters_own_file_is_shown(self):
        result = check_policy({}, nova_known=False,
                              filter_file='/etc/nova/hoststatus.yaml')
        self.assertResult(Code.WARNING, result,
                          'policy file: /etc/nova/hoststatus.yaml',
                          'is read only outside nova-api')


class EnforcerTestCase(TestCase):
    """The filter's own Enforcer, on a policy file of each test's."""

    def enforcer(self, rules):
        tmp = self.useFixture(fixtures.TempDir()).path
        path = os.path.join(tmp, 'policy.json')
        with open(path, 'w') as f:
            json.dump(rules, f)
        config = cfg.ConfigOpts()
        config([], default_config_files=[])
        return policy.Enforcer(config, path)


CALLERS = checks.usual_callers(['operator'])


class VisibilityTest(EnforcerTestCase):

    def test_default_shows_administrators_alone(self):
        self.assertEqual(['all', 'none', 'none', 'none', 'none'],
                         checks.visibility(self.enforcer({}), CALLERS))

    def test_owner_rule_shows_the_servers_project(self):
        enforcer = self.enforcer(
            {policies.SHOW_HOST_STATUS: 'rule:admin_or_owner'})
        self.assertEqual(['all', 'all', 'all', 'none', 'all'],
                         checks.visibility(enforcer, CALLERS))

    def test_unknown_only_and_roles(self):
        enforcer = self.enforcer(
            {policies.SHOW_UNKNOWN_ONLY: 'role:operator or role:reader'})
        self.assertEqual(['all', 'unknown-only', 'unknown-only',
                          'unknown-only', 'unknown-only'],
                         checks.visibility(enforcer, CALLERS))

    def test_callers(self):
        self.assertEqual(
            ['administrator', 'member', 'reader', 'member, other project',
             'role operator'], [caller.label for caller in CALLERS])
        self.assertEqual(('operator',), CALLERS[-1].roles)
        self.assertEqual(checks.OTHER_PROJECT, CALLERS[3].project_id)


class WhoSeesTest(TestCase):

    DECIDED = ['all', 'none', 'none', 'none', 'none']

    def test_nova_decides_where_importable(self):
        result = checks.check_who_sees(CALLERS, self.DECIDED, True)
        self.assertResult(Code.SUCCESS, result,
                          "decision: Nova's own enforcer's, with Nova's "
                          "defaults and this policy file, as the filter "
                          "asks it in nova-api")
        lines = result.details.splitlines()
        self.assertEqual(
            'caller                 roles                decision', lines[0])
        self.assertEqual(
            'administrator          admin,member,reader  all', lines[1])
        self.assertNotIn('not importable', result.details)
        # No server is read: the matrix says which server it judges.
        self.assertIn('server: none read; the decisions are for a server '
                      'of the project the administrator, member and reader '
                      'are in', result.details)

    def test_without_nova_the_packages_enforcer_decides(self):
        result = checks.check_who_sees(CALLERS, self.DECIDED, False)
        self.assertResult(Code.SUCCESS, result,
                          "decision: the package's own enforcer's, as the "
                          "filter decides outside nova-api (Nova is not "
                          "importable here; in nova-api Nova's own enforcer "
                          "decides, with Nova's defaults)")
        self.assertEqual(['caller', 'roles', 'decision'],
                         result.details.splitlines()[0].split())

    def test_the_decision_is_not_compared_with_the_packages_defaults(self):
        # A policy that widens admin_api: the package's default
        # (rule:admin_api) would show members all, Nova's
        # (rule:context_is_admin) shows them none; Nova's decision is the
        # row's, with nothing to warn about.
        result = checks.check_who_sees(CALLERS, self.DECIDED, True)
        self.assertIsNone(result.fix)
        self.assertNotIn('Nova default', result.details)
        self.assertNotIn('filter', result.details.splitlines()[0])

    def test_administrators_seeing_less_than_all_warns(self):
        result = checks.check_who_sees(CALLERS, ['none'] * 5, True)
        self.assertResult(Code.WARNING, result,
                          'administrators see none of host_status')
        result = checks.check_who_sees(CALLERS, ['unknown-only'] * 5, False)
        self.assertResult(Code.WARNING, result,
                          'administrators see unknown-only of host_status')


class RealCallersWhoSeesTest(TestCase):
    """The matrix of real callers, beside what the API showed each."""

    CALLERS = [checks.Caller('owner', 'u1', 'p', ('member', 'reader')),
               checks.Caller('other', 'u2', 'q', ('member', 'reader')),
               checks.Caller('role operator', 'u3', 'p', ('operator',))]

    def who_sees(self, decisions, shown):
        return checks.check_who_sees(self.CALLERS, decisions, True,
                                     shown=shown)

    def test_api_agreeing_with_the_decisions_passes(self):
        result = self.who_sees(
            ['all', 'none', 'none'],
            [checks.Shown(200, 'UP'), checks.Shown(404, 'not found'), None])
        self.assertResult(Code.SUCCESS, result,
                          'API: what the running API showed the caller')
        lines = result.details.splitlines()
        self.assertEqual(['caller', 'roles', 'decision', 'API'],
                         lines[0].split())
        self.assertEqual(['owner', 'member,reader', 'all', "'UP'"],
                         lines[1].split())
        self.assertEqual(['404', 'from', 'Nova'], lines[2].split()[-3:])
        # A caller of --role was not asked through the API.
        self.assertEqual('-', lines[3].split()[-1])
        # What those cells mean, in words.
        self.assertIn('404 from Nova: the request went through the filter '
                      'to Nova unchanged, and Nova answered 404 Not Found',
                      result.details)
        self.assertIn('-: not asked through the API', result.details)

    def test_the_server_read_is_named(self):
        result = checks.check_who_sees(
            self.CALLERS[:1], ['all'], True, [checks.Shown(200, 'UP')],
            {'id': 'vm-1', 'name': 'web', 'tenant_id': 'p'})
        self.assertIn('API: what the running API showed the caller at '
                      '2.16, reading server vm-1 (web) of project p',
                      result.details)
        self.assertNotIn('-: not asked', result.details)

    def test_api_showing_what_the_policy_hides_fails(self):
        result = self.who_sees(['none', 'none', 'none'],
                               [checks.Shown(200, 'DOWN'), None, None])
        self.assertResult(Code.FAILURE, result,
                          "owner: the API shows 'DOWN', where the policy "
                          'says none', 'restarted with this configuration')

    def test_api_hiding_what_the_policy_shows_fails(self):
        result = self.who_sees(['all', 'none', 'none'],
                               [checks.Shown(200, None), None, None])
        self.assertResult(Code.FAILURE, result,
                          'owner: the API shows absent, where the policy '
                          'says all')

    def test_unknown_only_shows_unknown_or_nothing(self):
        for value, code in (('UNKNOWN', Code.SUCCESS), (None, Code.SUCCESS),
                            ('UP', Code.FAILURE)):
            self.assertResult(code, self.who_sees(
                ['unknown-only'] * 3, [checks.Shown(200, value), None, None]))

    def test_an_api_error_fails(self):
        result = self.who_sees(['all', 'none', 'none'],
                               [checks.Shown(500, '500 boom'), None, None])
        self.assertResult(Code.FAILURE, result,
                          'owner: GET at 2.16: 500 boom')
        self.assertIn('error (500)', result.details)


class HostStateTest(TestCase):

    def test_no_deprecated_setting_passes(self):
        result = checks.check_host_state([])
        self.assertResult(Code.SUCCESS, result,
                          "read from Nova's own records on each request",
                          'the filter keeps no cache, so [cache] in '
                          "nova.conf is Nova's own business")
        self.assertEqual(1, len(result.details.splitlines()))

    def test_each_deprecated_setting_warns_by_name(self):
        result = checks.check_host_state(['service_cache_time',
                                          'memcache_secret_key'])
        self.assertResult(
            Code.WARNING, result,
            'Warning: service_cache_time is still set: it tuned the cache '
            'the filter no longer keeps',
            'Warning: memcache_secret_key is still set')
        self.assertEqual(
            ['remove service_cache_time; it is ignored and will be removed '
             'in the next release',
             'remove memcache_secret_key; it is ignored and will be removed '
             'in the next release'], result.fix.splitlines())

    def test_service_down_time_is_novas(self):
        result = checks.check_host_state(['service_down_time'])
        self.assertResult(Code.WARNING, result,
                          "Nova's servicegroup API decides when a host is "
                          "down, with Nova's [DEFAULT] service_down_time",
                          'remove service_down_time')

    def test_every_deprecated_option_has_a_reason(self):
        result = checks.check_host_state(
            [opt.dest for opt in conf.DEPRECATED_OPTS])
        self.assertEqual(len(conf.DEPRECATED_OPTS),
                         len(result.fix.splitlines()))


# What the notification agent needs of Nova, all there.
MESSAGING = checks.Messaging('versioned', ['messagingv2'],
                             '[DEFAULT] transport_url', True)


class NotificationsTest(TestCase):

    def check(self, agent=None, member_sees=None, **changes):
        return checks.check_notifications(MESSAGING._replace(**changes),
                                          agent, member_sees)

    def test_versioned_on_a_durable_broker_passes(self):
        for fmt in ('versioned', 'both'):
            result = self.check(notification_format=fmt)
            self.assertResult(
                Code.SUCCESS, result,
                '[notifications] notification_format = %s: Nova sends its '
                'versioned service.update' % fmt,
                '[oslo_messaging_notifications] driver = messagingv2',
                'notification transport: [DEFAULT] transport_url',
                'queues are durable')
            self.assertEqual(checks.NOTIFICATIONS, result.check)

    def test_unversioned_warns_and_names_the_setting(self):
        result = self.check(notification_format='unversioned')
        self.assertResult(
            Code.WARNING, result,
            'Warning: [notifications] notification_format = unversioned: '
            'Nova sends no versioned service.update',
            'only from its scans, up to [host_status_notifier] '
            'scan_interval later',
            'set [notifications] notification_format = versioned')

    def test_driver_unset_or_noop_warns(self):
        for drivers in ([], ['noop'], ['log'], ['noop', 'log']):
            result = self.check(drivers=drivers)
            self.assertResult(
                Code.WARNING, result, '[oslo_messaging_notifications] driver',
                'set [oslo_messaging_notifications] driver = messagingv2')
        self.assertIn('driver is not set',
                      self.check(drivers=[]).details)
        self.assertIn('driver = noop: none of them sends to the broker '
                      '(messaging or messagingv2 do)',
                      self.check(drivers=['noop']).details)

    def test_either_messaging_driver_sends(self):
        for drivers in (['messaging'], ['messagingv2'], ['log', 'messaging']):
            self.assertResult(Code.SUCCESS, self.check(drivers=drivers))

    def test_notification_transport_named_never_shown(self):
        result = self.check(
            transport='[oslo_messaging_notifications] transport_url')
        self.assertResult(Code.SUCCESS, result, 'notification transport: '
                          '[oslo_messaging_notifications] transport_url')
        self.assertResult(Code.WARNING, self.check(transport=None),
                          'no transport_url', 'set [DEFAULT] transport_url')

    def test_queues_not_durable_warn(self):
        result = self.check(durable=False)
        self.assertResult(
            Code.WARNING, result,
            'Warning: [oslo_messaging_rabbit] amqp_durable_queues is false: '
            'a broker restart loses the messages waiting in the queues',
            'amqp_durable_queues = true for every party of the broker: Nova, '
            'the agent, Ceilometer and Aodh', 'PRECONDITION_FAILED')

    def test_every_problem_has_its_fix(self):
        result = self.check(notification_format='unversioned', drivers=[],
                            transport=None, durable=False,
                            agent=checks.Agent(False, False),
                            member_sees='none')
        self.assertEqual(Code.WARNING, result.code)
        self.assertEqual(6, len(result.fix.splitlines()))

    def test_agent_options(self):
        self.assertResult(
            Code.WARNING, self.check(agent=checks.Agent(False, True)),
            '[host_status_notifier] connection is not set: the agent does '
            'not start', 'give that file to check with --config-file',
            '[coordination] backend_url is set: the agents share the scans')
        self.assertResult(
            Code.SUCCESS, self.check(agent=checks.Agent(True, False)),
            '[coordination] backend_url is not set: every agent scans every '
            'host (each change is still told once)')

    def test_owners_told_nothing_under_an_admin_only_rule(self):
        result = self.check(member_sees='none')
        self.assertResult(
            Code.WARNING, result,
            "a member of a server's project sees no host_status under this "
            "policy (as under Nova's default rule, administrators alone), so "
            'the agent tells owners nothing',
            'os_compute_api:servers:show:host_status:unknown-only')

    def test_owners_told_what_members_see(self):
        for decision in ('all', 'unknown-only'):
            self.assertResult(
                Code.SUCCESS, self.check(member_sees=decision),
                "a member of a server's project sees: %s; the agent tells "
                'owners as much' % decision)


class NotificationSettingsTest(TestCase):
    """What the command reads of nova.conf for the notifications row."""

    def read(self, text):
        path = self.useFixture(fixtures.TempDir()).join('nova.conf')
        with open(path, 'w') as f:
            f.write(text)
        config = cfg.ConfigOpts()
        check_cmd._register(config)
        config(['--config-file', path], project='nova',
               default_config_files=[])
        return check_cmd.messaging(config), check_cmd.agent(config)

    def test_novas_defaults(self):
        messaging, agent = self.read('')
        self.assertEqual(checks.Messaging('unversioned', [], None, False),
                         messaging)
        self.assertEqual(checks.Agent(False, False), agent)

    def test_settings_as_nova_and_oslo_messaging_read_them(self):
        messaging, agent = self.read(
            '[DEFAULT]\ntransport_url = rabbit://nova:secret@ctl1//\n'
            '[notifications]\nnotification_format = both\n'
            '[oslo_messaging_notifications]\ndriver = log\n'
            'driver = messagingv2\n'
            '[oslo_messaging_rabbit]\namqp_durable_queues = true\n'
            '[host_status_notifier]\nconnection = mysql+pymysql://h/told\n'
            '[coordination]\nbackend_url = redis://ctl1:6379\n')
        self.assertEqual(checks.Messaging('both', ['log', 'messagingv2'],
                                          '[DEFAULT] transport_url', True),
                         messaging)
        self.assertEqual(checks.Agent(True, True), agent)

    def test_notification_transport_and_quorum_queues(self):
        messaging, _ = self.read(
            '[oslo_messaging_notifications]\n'
            'transport_url = rabbit://n:s@notify//\n'
            '[oslo_messaging_rabbit]\nrabbit_quorum_queue = true\n')
        self.assertEqual('[oslo_messaging_notifications] transport_url',
                         messaging.transport)
        self.assertTrue(messaging.durable)

    def test_deprecated_default_group_of_the_format(self):
        # oslo.config logs the deprecation; the row need not repeat it.
        self.useFixture(fixtures.FakeLogger('oslo_config'))
        messaging, _ = self.read('[DEFAULT]\nnotification_format = '
                                 'versioned\n')
        self.assertEqual('versioned', messaging.notification_format)


class NotificationsRowTest(TestCase):
    """The command shows the row when asked, or when it reads the agent's
    file.
    """

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path
        paste_path = os.path.join(self.dir, 'api-paste.ini')
        with open(paste_path, 'w') as f:
            f.write(PASTE.format(v21=V21, legacy=LEGACY, filter=FILTER))
        self.nova_conf = os.path.join(self.dir, 'nova.conf')
        with open(self.nova_conf, 'w') as f:
            f.write('[wsgi]\napi_paste_config = %s\n[notifications]\n'
                    'notification_format = versioned\n' % paste_path)
        self.agent_conf = os.path.join(self.dir, 'hoststatus-notifier.conf')
        with open(self.agent_conf, 'w') as f:
            f.write('[host_status_notifier]\nconnection = sqlite://\n')

    def rows(self, *argv):
        out = self.useFixture(fixtures.MonkeyPatch(
            'sys.stdout', io.StringIO())).new_value
        self.useFixture(fixtures.MonkeyPatch('sys.stderr', io.StringIO()))
        cmd.main(['check', '--format', 'json'] + list(argv))
        return {row['check']: row for row in json.loads(out.getvalue())}

    def test_not_shown_by_default(self):
        self.assertNotIn(checks.NOTIFICATIONS,
                         self.rows('--config-file', self.nova_conf))

    def test_shown_with_the_option(self):
        row = self.rows('--config-file', self.nova_conf,
                        '--notifier')[checks.NOTIFICATIONS]
        self.assertEqual('Warning', row['result'])
        self.assertIn('notification_format = versioned: Nova sends',
                      row['details'])
        self.assertIn('[host_status_notifier] connection is not set',
                      row['details'])

    def test_shown_with_the_agents_file(self):
        rows = self.rows('--config-file', self.nova_conf, '--config-file',
                         self.agent_conf)
        # After the rows of the files, before the live API's.
        self.assertEqual([checks.NOTIFICATIONS, checks.LIVE],
                         list(rows)[-2:])
        details = rows[checks.NOTIFICATIONS]['details']
        self.assertNotIn('connection is not set', details)
        # The member of the usual callers sees nothing under the defaults.
        self.assertIn('the agent tells owners nothing', details)


def answer(version, value=None, status=200, answered=None):
    body = {'id': 's', 'tenant_id': 'p'}
    if value is not None:
        body['host_status'] = value
    return checks.Answer(version, status, answered or version, body)


class LiveTest(TestCase):

    def test_present_from_216_passes(self):
        result = checks.check_live([answer('2.15'), answer('2.16', 'UP')])
        self.assertResult(Code.SUCCESS, result, 'at 2.15 (Nova answered '
                          "2.15): absent", "host_status = 'UP'")

    def test_present_at_215_fails(self):
        result = checks.check_live([answer('2.15', 'UP'),
                                    answer('2.16', 'UP')])
        self.assertResult(Code.FAILURE, result, 'host_status at 2.15')

    def test_absent_without_expectation_warns(self):
        result = checks.check_live([answer('2.15'), answer('2.16')])
        self.assertResult(Code.WARNING, result, 'absent at 2.16',
                          '--token-roles')

    def test_absent_where_policy_shows_it_fails(self):
        result = checks.check_live([answer('2.15'), answer('2.16')], 'all',
                                   'roles admin')
        self.assertResult(Code.FAILURE, result, 'caller: roles admin',
                          'host_status is absent, where the policy says all',
                          'restarted')

    def test_present_where_policy_hides_it_fails(self):
        self.assertResult(Code.FAILURE, checks.check_live(
            [answer('2.15'), answer('2.16', 'UP')], 'none'),
            "host_status is 'UP', where the policy says none")

    def test_unknown_only(self):
        self.assertResult(Code.SUCCESS, checks.check_live(
            [answer('2.15'), answer('2.16', 'UNKNOWN')], 'unknown-only'))
        self.assertResult(Code.SUCCESS, checks.check_live(
            [answer('2.15'), answer('2.16')], 'unknown-only'))
        self.assertResult(Code.FAILURE, checks.check_live(
            [answer('2.15'), answer('2.16', 'DOWN')], 'unknown-only'))

    def test_hidden_as_policy_says_passes(self):
        self.assertResult(Code.SUCCESS, checks.check_live(
            [answer('2.15'), answer('2.16')], 'none'))

    def test_error_fails(self):
        result = checks.check_live([
            checks.Answer('2.15', 401, None, '401 Unauthorized'),
            answer('2.16')])
        self.assertResult(Code.FAILURE, result, 'GET at 2.15: 401',
                          'check --endpoint, --token and --server')

    def test_older_api_fails(self):
        result = checks.check_live([answer('2.15'),
                                    answer('2.16', answered='2.1')])
        self.assertResult(Code.FAILURE, result,
                          'asked for 2.16, Nova answered 2.1')
