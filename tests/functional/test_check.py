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

"""``nova-hoststatus check`` on the sandbox's real deployment files.

The sandbox writes a nova.conf, api-paste.ini and policy.json that run
Nova's API with the filter (``config_dir``, as for uWSGI); ``check`` must
pass them, with Nova's own decisions, which are the filter's in nova-api,
and must fail each broken copy with the row that names the mistake.
``--endpoint`` reads a server through the sandbox's API on a loopback
port.
"""

import io
import json
import os

import fixtures

from nova_hoststatus import cmd
from nova_hoststatus.cmd import serve
from nova_hoststatus import policies
from nova_hoststatus.tools import keystone
from nova_hoststatus.tools import sandbox
from tests.functional import base

FILTER_AT = 'keystonecontext hoststatus'
USE = 'use = egg:nova-hoststatus#hoststatus'


class CheckTestCase(base.TestCase):
    """Runs ``check`` on copies of the sandbox's deployment files."""

    def deployment(self, rules=None):
        """A copy of the sandbox's deployment files; its nova.conf."""
        path = self.useFixture(fixtures.TempDir()).path
        self.sandbox.config_dir(path, rules)
        return os.path.join(path, 'nova.conf')

    def edit(self, config_file, name, old, new):
        path = os.path.join(os.path.dirname(config_file), name)
        with open(path) as f:
            text = f.read()
        self.assertIn(old, text)
        with open(path, 'w') as f:
            f.write(text.replace(old, new))

    def check(self, config_file, *argv, status):
        """The rows of ``check``, by name, after its exit status."""
        out = self.useFixture(fixtures.MonkeyPatch(
            'sys.stdout', io.StringIO())).new_value
        err = self.useFixture(fixtures.MonkeyPatch(
            'sys.stderr', io.StringIO())).new_value
        code = cmd.main(['check', '--config-file', config_file,
                         '--format', 'json'] + list(argv))
        self.assertEqual(status, code, out.getvalue() + err.getvalue())
        return {row['check']: row for row in json.loads(out.getvalue())}

    def assertRow(self, result, row, *texts):
        self.assertEqual(result, row['result'], row)
        for text in texts:
            self.assertIn(text, '%s\n%s' % (row['details'], row['fix']))


class CheckTest(CheckTestCase):

    def test_sandbox_deployment_passes(self):
        rows = self.check(self.deployment(), status=0)
        self.assertEqual(['pipeline', 'policy', 'who sees host_status',
                          'host state', 'live API'], list(rows))
        # Without --endpoint or --cloud the running API is not looked at,
        # and its row says so; every row of the files passes.
        self.assertRow('Warning', rows.pop('live API'),
                       'Not checked: no --endpoint or --cloud was given',
                       '--cloud NAME')
        for row in rows.values():
            self.assertRow('Success', row)
        self.assertRow('Success', rows['pipeline'],
                       'keystonecontext hoststatus strip_nova_host_status '
                       'osapi_compute_app_v21')
        self.assertRow('Success', rows['policy'],
                       "defaults: Nova's own",
                       'os_compute_api:servers:show:host_status = '
                       'rule:context_is_admin (default)')
        who = rows['who sees host_status']['details'].splitlines()
        self.assertEqual(['caller', 'roles', 'decision'], who[0].split())
        self.assertEqual('all', who[1].split()[-1])
        self.assertRow('Success', rows['who sees host_status'],
                       "decision: Nova's own enforcer's")
        self.assertRow('Success', rows['host state'],
                       "read from Nova's own records on each request")

    def matrix(self, rows):
        """The decision for each usual caller, by label."""
        lines = rows['who sees host_status']['details'].splitlines()
        return {line.split('  ')[0]: line.split()[-1]
                for line in lines[1:] if '  ' in line}

    def test_owner_rule_is_novas_decision(self):
        rows = self.check(self.deployment(base.ADMIN_OR_OWNER), '--role',
                          'manager', status=0)
        self.assertEqual({'administrator': 'all', 'member': 'all',
                          'reader': 'all', 'member, other project': 'none',
                          'role manager': 'all'}, self.matrix(rows))

    def test_widened_admin_api_is_decided_as_nova_decides(self):
        """The package's default of the host_status rules, rule:admin_api,
        would show a member all under this policy; Nova's own,
        rule:context_is_admin, shows it none, and Nova's decides.
        """
        rows = self.check(self.deployment({'admin_api': 'role:member'}),
                          status=0)
        self.assertEqual({'administrator': 'all', 'member': 'none',
                          'reader': 'none', 'member, other project': 'none'},
                         self.matrix(rows))
        self.assertRow('Success', rows['who sees host_status'])

    def test_filter_before_keystonecontext_fails(self):
        config_file = self.deployment()
        self.edit(config_file, 'api-paste.ini', FILTER_AT,
                  'hoststatus keystonecontext')
        rows = self.check(config_file, status=1)
        self.assertRow('Failure', rows['pipeline'],
                       'hoststatus comes before keystonecontext',
                       'move hoststatus right after keystonecontext')

    def test_filter_missing_from_v21_fails(self):
        config_file = self.deployment()
        self.edit(config_file, 'api-paste.ini', FILTER_AT, 'keystonecontext')
        rows = self.check(config_file, status=1)
        self.assertRow('Failure', rows['pipeline'],
                       '[composite:openstack_compute_api_v21] keystone: the '
                       'filter is missing')

    def test_undefined_rule_fails(self):
        rows = self.check(self.deployment(
            {policies.SHOW_HOST_STATUS: 'rule:no_such_rule'}), status=1)
        self.assertRow('Failure', rows['policy'],
                       'names rule:no_such_rule, which is not defined',
                       'define no_such_rule in the policy file')

    def test_cycle_fails(self):
        rows = self.check(self.deployment(
            {policies.SHOW_HOST_STATUS: 'rule:a', 'a': 'rule:b',
             'b': 'rule:a'}), status=1)
        self.assertRow('Failure', rows['policy'],
                       'without end: a -> b -> a')

    def test_filters_own_policy_file_is_read_only_outside_nova_api(self):
        config_file = self.deployment()
        other = os.path.join(os.path.dirname(config_file), 'other.json')
        with open(other, 'w') as f:
            json.dump(base.ADMIN_OR_OWNER, f)
        self.edit(config_file, 'api-paste.ini', USE,
                  USE + '\npolicy_file = %s' % other)
        rows = self.check(config_file, status=0)
        self.assertRow('Warning', rows['policy'],
                       "the filter's policy_file (%s) is read only outside "
                       'nova-api' % other,
                       "in nova-api Nova's policy file (%s) decides"
                       % os.path.join(os.path.dirname(config_file),
                                      'policy.json'),
                       'unset policy_file in the filter section and '
                       '[host_status]')
        self.assertEqual('none', self.matrix(rows)['member'])

    def test_deprecated_settings_still_set_warn(self):
        config_file = self.deployment()
        self.edit(config_file, 'api-paste.ini', USE,
                  USE + '\nservice_cache_time = 3')
        with open(config_file, 'a') as f:
            f.write('\n[host_status]\nservice_down_time = 60\n')
        rows = self.check(config_file, status=0)
        self.assertRow('Warning', rows['host state'],
                       'service_cache_time is still set',
                       'service_down_time is still set',
                       'remove service_cache_time; it is ignored and will '
                       'be removed in the next release',
                       'remove service_down_time; it is ignored')

    def test_missing_config_file_cannot_be_read(self):
        err = self.useFixture(fixtures.MonkeyPatch(
            'sys.stderr', io.StringIO())).new_value
        self.assertEqual(2, cmd.main(['check', '--config-file',
                                      '/nonexistent/nova.conf']))
        self.assertIn('/nonexistent/nova.conf', err.getvalue())

    def test_running_api_shows_host_status_from_216(self):
        server = self.server(self.host())
        url = self.sandbox.serve()
        token = self.sandbox.token(self.admin_project, 'admin',
                                   sandbox.ADMIN_ROLES)
        rows = self.check(
            self.deployment(), '--endpoint', url, '--token', token,
            '--server', server, '--token-roles', sandbox.ADMIN_ROLES,
            '--token-project', self.sandbox.project_id(self.admin_project),
            status=0)
        self.assertRow('Success', rows['live API'],
                       'at 2.15 (Nova answered 2.15): absent',
                       "at 2.16 (Nova answered 2.16): host_status = 'UP'",
                       'the policy shows this caller: all')

    def test_running_api_judged_by_the_roles_keystone_gives(self):
        """With --auth-url, the roles judged are the token's own: reader
        from the member role it implies.
        """
        rules = {'os_compute_api:servers:show:host_status': 'role:reader'}
        self.set_policy(rules)
        server = self.server(self.host('forced_down'))
        url = self.sandbox.serve()
        rows = self.check(
            self.deployment(rules), '--endpoint', url, '--server', server,
            '--auth-url', self.sandbox.keystone.auth_url, '--token',
            self.sandbox.token(self.project, self.user, 'member'), status=0)
        self.assertRow('Success', rows['live API'],
                       ', project %s' % self.project,
                       "at 2.16 (Nova answered 2.16): host_status = 'DOWN'",
                       'the policy shows this caller: all')
        caller = rows['live API']['details'].split('caller: roles ')[1]
        self.assertEqual({'member', 'reader'},
                         set(caller.split(',', 2)[:2]))

    def test_running_api_hides_it_from_a_member(self):
        self.server(self.host())
        url = self.sandbox.serve()
        rows = self.check(
            self.deployment(), '--endpoint', url, '--token',
            self.sandbox.token(self.project, self.user, 'member'),
            '--token-roles', 'member,reader', '--token-project',
            self.sandbox.project_id(self.project), status=0)
        self.assertRow('Success', rows['live API'],
                       'at 2.16 (Nova answered 2.16): absent',
                       'the policy shows this caller: none')


class RealCallersTest(CheckTestCase):
    """``--cloud``: the matrix of who sees host_status made of callers
    logged in from clouds.yaml, with the roles Keystone gives them, each
    asked through the running API.
    """

    def setUp(self):
        super().setUp()
        path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                            'clouds.yaml')
        with open(path, 'w') as f:
            f.write(serve.clouds_yaml(self.sandbox.keystone.auth_url))
        self.useFixture(fixtures.EnvironmentVariable(
            'OS_CLIENT_CONFIG_FILE', path))
        owner, project = keystone.OWNER
        self.owner_server = self.server(
            self.host('forced_down'), self.sandbox.project_id(project),
            owner)
        self.sandbox.serve()

    def real_check(self, rules, *argv, status):
        self.set_policy(rules)
        rows = self.check(self.deployment(rules), '--server',
                          self.owner_server, *argv, status=status)
        matrix = rows['who sees host_status']['details'].splitlines()
        return rows, {line.split()[0]: line.split()[1:]
                      for line in matrix[1:] if line.split()}

    def test_each_caller_as_keystone_says_and_as_the_api_shows(self):
        rows, matrix = self.real_check(
            base.ADMIN_OR_OWNER, '--cloud', 'owner', '--cloud', 'reader',
            '--cloud', 'other', '--cloud', 'admin', status=0)
        for row in rows.values():
            self.assertRow('Success', row)
        header = rows['who sees host_status']['details'].splitlines()[0]
        self.assertEqual(['caller', 'roles', 'decision', 'API'],
                         header.split())
        # Roles from the assignments, those they imply included: the
        # owner holds member, and reader through it.
        self.assertIn('member', matrix['owner'][0].split(','))
        self.assertIn('reader', matrix['owner'][0].split(','))
        self.assertEqual('reader', matrix['reader'][0])
        self.assertIn('admin', matrix['admin'][0].split(','))
        self.assertEqual(['all', "'DOWN'"], matrix['owner'][1:])
        self.assertEqual(['all', "'DOWN'"], matrix['reader'][1:])
        self.assertEqual(['all', "'DOWN'"], matrix['admin'][1:])
        # Nova keeps another project's server from its member, and the
        # matrix says so in words, naming the server it read.
        self.assertEqual(['none', '404', 'from', 'Nova'],
                         matrix['other'][1:])
        self.assertRow('Success', rows['who sees host_status'],
                       '404 from Nova: the request went through the filter '
                       'to Nova unchanged, and Nova answered 404 Not Found',
                       'reading server %s' % self.owner_server)
        # The live row is read as the first cloud, with its own roles.
        self.assertRow('Success', rows['live API'],
                       "at 2.16 (Nova answered 2.16): host_status = 'DOWN'",
                       'the policy shows this caller: all')

    def test_a_caller_the_policy_hides_it_from_sees_it_absent(self):
        rules = {'os_compute_api:servers:show:host_status': 'role:member'}
        rows, matrix = self.real_check(rules, '--cloud', 'reader',
                                       '--cloud', 'owner', status=0)
        self.assertEqual(['reader', 'none', 'absent'], matrix['reader'])
        self.assertEqual(['all', "'DOWN'"], matrix['owner'][1:])

    def test_an_api_that_shows_what_the_files_deny_fails(self):
        """The API runs with the owner rule, the files checked say
        administrators only: what the owner was shown betrays it.
        """
        self.set_policy(base.ADMIN_OR_OWNER)
        rows = self.check(self.deployment(), '--server', self.owner_server,
                          '--cloud', 'owner', '--cloud', 'admin', status=1)
        self.assertRow('Failure', rows['who sees host_status'],
                       "owner: the API shows 'DOWN', where the policy says "
                       "none", 'restarted with this configuration')

    def test_a_cloud_that_cannot_log_in_is_named(self):
        err = self.useFixture(fixtures.MonkeyPatch(
            'sys.stderr', io.StringIO())).new_value
        self.assertEqual(2, cmd.main([
            'check', '--config-file', self.deployment(), '--cloud',
            'no-such-cloud']))
        self.assertIn("cannot log in as cloud 'no-such-cloud'",
                      err.getvalue())
