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

"""The sandbox's identity, without Keystone: how callers become users with
role assignments, the pipeline with and without authtoken, the openrc, and
the caller check reads from a token.
"""

import os
import subprocess
import sys
from unittest import mock

import fixtures
import testtools

from nova_hoststatus.cmd import check
from nova_hoststatus.cmd import serve
from nova_hoststatus.tools import keystone
from nova_hoststatus.tools import sandbox

# Keystone's own rules, as bootstrap leaves them.
IMPLIES = {'admin': {'manager'}, 'manager': {'member'},
           'member': {'reader'}}

UPSTREAM = """\
[composite:osapi_compute]
use = call:nova.api.openstack.urlmap:urlmap_factory
/v2.1/+: openstack_compute_api_v21
/v2/+: openstack_compute_api_v21_legacy_v2_compatible

[composite:openstack_compute_api_v21]
use = call:nova.api.auth:pipeline_factory_v21
keystone = cors faultwrap authtoken keystonecontext osapi_compute_app_v21

[composite:openstack_compute_api_v21_legacy_v2_compatible]
use = call:nova.api.auth:pipeline_factory_v21
keystone = authtoken keystonecontext legacy_v2_compatible
    osapi_compute_app_v21
"""


class FakeKeystone(keystone.Keystone):
    """The bookkeeping of :class:`keystone.Keystone`, its API recorded."""

    def __init__(self):
        super().__init__(path='/nonexistent')
        self.implies = IMPLIES
        self.calls = []

    def admin_call(self, method, path, body=None):
        self.calls.append((method, path))
        if method == 'POST':
            kind = path.rsplit('/', 1)[-1][:-1]
            return {kind: {'id': '%s-%d' % (kind, len(self.calls))}}
        return {}

    def password_token(self, user, project):
        return 'token-of-%s-on-%s' % (user, project), {}


class RolesTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.keystone = FakeKeystone()

    def assigned(self):
        return sorted(path for method, path in self.keystone.calls
                      if method == 'PUT')

    def test_implied_roles(self):
        self.assertEqual({'member', 'reader'},
                         self.keystone.effective(['member']))
        self.assertEqual({'admin', 'manager', 'member', 'reader'},
                         self.keystone.effective(['admin']))
        self.assertEqual({'custom', 'reader'},
                         self.keystone.effective(['custom', 'reader']))

    def test_fewest_roles_are_assigned(self):
        name, _, _ = self.keystone.login('u', 'p', ['member', 'reader'])
        self.assertEqual('u', name)
        [put] = self.assigned()
        self.assertTrue(put.endswith('/roles/%s' % self.keystone.roles[
            'member']), put)

    def test_same_roles_same_user_and_token(self):
        first = self.keystone.caller('u', 'p', ['member', 'reader'])
        again = self.keystone.caller('u', 'p', ['member'])
        self.assertEqual(first, again)
        self.assertEqual(1, len(self.assigned()))

    def test_other_roles_get_a_user_of_their_own(self):
        """Assignments add up: a user asked with fewer roles on the same
        project would keep the others, so another user holds them.
        """
        self.keystone.login('u', 'p', ['admin'])
        name, _, _ = self.keystone.login('u', 'p', ['reader'])
        self.assertEqual('u~reader', name)
        self.assertEqual('u', self.keystone.login('u', 'p', ['admin'])[0])
        self.assertEqual('u', self.keystone.login('u', 'q', ['reader'])[0])

    def test_custom_roles_are_made(self):
        self.keystone.login('u', 'p', ['doctor', 'member'])
        self.assertIn('doctor', self.keystone.roles)
        self.assertEqual(2, len(self.assigned()))


class ParentWatchTest(testtools.TestCase):

    def test_keystone_ends_when_its_parent_is_gone(self):
        """A process whose parent is not the one it was started for (as
        when a test runner is killed outright) ends within a second or two.
        """
        proc = subprocess.run(
            [sys.executable, '-c', 'from nova_hoststatus.tools import '
             'keystone; keystone._exit_with(-1)'], timeout=30)
        self.assertEqual(0, proc.returncode)


class AuthtokenOptionsTest(testtools.TestCase):

    def test_service_user_against_the_sandbox_keystone(self):
        box = keystone.Keystone(path='/nonexistent')
        options = keystone.authtoken_options(box)
        self.assertEqual(box.auth_url, options['auth_url'])
        self.assertEqual(box.auth_url, options['www_authenticate_uri'])
        self.assertEqual(('password', 'nova', 'service'),
                         (options['auth_type'], options['username'],
                          options['project_name']))
        self.assertNotIn('memcached_servers', options)


class PipelineTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        path = self.useFixture(fixtures.TempDir()).path
        self.upstream = os.path.join(path, 'api-paste.ini')
        with open(self.upstream, 'w') as f:
            f.write(UPSTREAM)

    def pipelines(self, **kwargs):
        parser = sandbox.paste_config(self.upstream, **kwargs)
        return (parser.get('composite:openstack_compute_api_v21',
                           'keystone'),
                parser.get('composite:openstack_compute_api_v21_nova',
                           'keystone'))

    def test_as_shipped_with_keystone(self):
        ours, nova = self.pipelines(authtoken=True)
        self.assertIn('authtoken keystonecontext hoststatus '
                      'osapi_compute_app_v21', ours)
        self.assertIn('authtoken keystonecontext osapi_compute_app_v21',
                      nova)

    def test_header_stand_in_has_no_authtoken(self):
        ours, nova = self.pipelines()
        self.assertNotIn('authtoken', ours + nova)
        self.assertIn('keystonecontext hoststatus', ours)

    def test_kept_pipeline_never_strips_nova(self):
        parser = sandbox.paste_config(
            self.upstream, strip_nova=True,
            probes=[('probe', 'tests.functional.probe:filter_factory')])
        self.assertIn('keystonecontext hoststatus strip_nova_host_status '
                      'probe osapi_compute_app_v21',
                      parser.get('composite:openstack_compute_api_v21',
                                 'keystone'))
        self.assertIn('keystonecontext hoststatus probe '
                      'osapi_compute_app_v21',
                      parser.get('composite:openstack_compute_api_v21_kept',
                                 'keystone'))
        self.assertEqual('openstack_compute_api_v21_kept',
                         parser.get('composite:' + sandbox.KEPT_APP,
                                    '/v2.1/+'))
        self.assertEqual('openstack_compute_api_v21_nova',
                         parser.get('composite:' + sandbox.NOVA_APP,
                                    '/v2.1/+'))

    def test_unknown_identity_refused(self):
        self.assertRaises(ValueError, sandbox.NovaSandbox,
                          identity='noauth')

    def test_headers_of_a_given_token(self):
        box = sandbox.NovaSandbox(identity=sandbox.HEADERS)
        self.assertEqual(
            {'X-Auth-Token': 'abc', 'Accept': 'application/json',
             'OpenStack-API-Version': 'compute 2.16'},
            box.headers('p', version='2.16', token='abc'))
        self.assertEqual('p', box.headers('p')['X-Project-Id'])
        self.assertEqual('p', box.project_id('p'))


class OpenrcTest(testtools.TestCase):

    def test_openrc(self):
        text = serve.openrc('http://127.0.0.1:5000/v3', 'vnf-owner',
                            'vnf-tenant')
        env = dict(line[len('export '):].split('=', 1)
                   for line in text.splitlines())
        self.assertEqual({
            'OS_AUTH_URL': 'http://127.0.0.1:5000/v3',
            'OS_IDENTITY_API_VERSION': '3',
            'OS_USERNAME': 'vnf-owner',
            'OS_PASSWORD': keystone.PASSWORD,
            'OS_PROJECT_NAME': 'vnf-tenant',
            'OS_USER_DOMAIN_NAME': 'Default',
            'OS_PROJECT_DOMAIN_NAME': 'Default',
            'OS_REGION_NAME': 'RegionOne',
            'OS_COMPUTE_API_VERSION': '2.16'}, env)
        for name in ('OS_TOKEN', 'OS_ENDPOINT', 'OS_AUTH_TYPE',
                     'OS_IDENTITY_ENDPOINT_OVERRIDE'):
            self.assertNotIn(name, env)


class TokenCallerTest(testtools.TestCase):

    def test_roles_and_project_from_keystone(self):
        doc = {'token': {'roles': [{'name': 'member'}, {'name': 'reader'}],
                         'project': {'id': 'p1'}, 'user': {'id': 'u1'}}}
        with mock.patch.object(check, '_get', autospec=True,
                               return_value=(200, None, doc)) as get:
            caller = check.token_caller('http://k/v3/', 'tok')
        self.assertEqual({'x-roles': 'member,reader', 'x-project-id': 'p1',
                          'x-user-id': 'u1'}, caller)
        url, headers = get.call_args[0]
        self.assertEqual('http://k/v3/auth/tokens', url)
        self.assertEqual('tok', headers['X-Subject-Token'])
        self.assertEqual('tok', headers['X-Auth-Token'])

    def test_refused_token_is_no_caller(self):
        with mock.patch.object(check, '_get', autospec=True,
                               return_value=(404, None, 'no')):
            self.assertEqual({}, check.token_caller('http://k/v3', 'tok'))
