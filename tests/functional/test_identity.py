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

"""The filter behind the pipeline operators run: Keystone's tokens,
validated by Nova's own authtoken, with roles from real assignments.
"""

import configparser
import os

from nova_hoststatus.tools import keystone
from nova_hoststatus.tools import sandbox
from tests.functional import base

SHOW = 'os_compute_api:servers:show:host_status'


class TestPipeline(base.TestCase):

    def test_authtoken_and_keystonecontext_before_the_filter(self):
        parser = configparser.RawConfigParser()
        parser.read(os.path.join(self.sandbox.path, 'api-paste.ini'))
        names = parser.get('composite:openstack_compute_api_v21',
                           'keystone').split()
        at = names.index('authtoken')
        self.assertEqual(['authtoken', 'keystonecontext', 'hoststatus'],
                         names[at:at + 3])
        conf = configparser.RawConfigParser()
        conf.read(os.path.join(self.sandbox.path, 'nova.conf'))
        self.assertEqual(self.sandbox.keystone.auth_url,
                         conf.get('keystone_authtoken', 'auth_url'))

    def test_a_token_keystone_never_issued_is_refused(self):
        result = self.sandbox.request(
            'GET', '/servers/detail', self.project,
            headers={'X-Auth-Token': 'not-a-token'})
        self.assertStatus(401, result)
        self.assertIn(self.sandbox.keystone.auth_url,
                      result.headers.get('WWW-Authenticate', ''))

    def test_headers_alone_no_longer_stand_for_a_token(self):
        """The stand-in's headers, without a token, reach nobody."""
        server = self.server(self.host())
        result = self.sandbox.request(
            'GET', '/servers/%s' % server, self.project, version='2.16',
            headers={'X-Auth-Token': 'sandbox', 'X-User-Id': self.user,
                     'X-Project-Id': self.project, 'X-Roles': 'admin'})
        self.assertStatus(401, result)


class TestRolesFromAssignments(base.TestCase):
    """Who sees host_status, by the roles Keystone puts in the token."""

    def setUp(self):
        super().setUp()
        self.keystone = self.sandbox.keystone
        self.server_id = self.server(self.host('forced_down'))

    def sees(self, roles):
        result = self.owner('GET', '/servers/%s' % self.server_id, '2.16',
                            roles=roles)
        self.assertStatus(200, result)
        return result.json['server'].get('host_status')

    def test_member_implies_reader(self):
        self.assertEqual(
            {'member', 'reader'}, self.keystone.effective(['member']))
        self.assertEqual({'admin', 'manager', 'member', 'reader'},
                         self.keystone.effective(['admin']))
        self.set_policy({SHOW: 'role:reader'})
        # Only member is assigned: reader comes from Keystone's rule.
        self.assertEqual('DOWN', self.sees('member'))

    def test_reader_alone_is_not_a_member(self):
        self.set_policy({SHOW: 'role:member'})
        self.assertIsNone(self.sees('reader'))
        self.assertEqual('DOWN', self.sees('member'))

    def test_owner_rule_covers_a_reader_of_the_project(self):
        self.set_policy(base.ADMIN_OR_OWNER)
        self.assertEqual('DOWN', self.sees('reader'))

    def test_a_member_of_another_project_does_not_see(self):
        self.set_policy(base.ADMIN_OR_OWNER)
        other = self.server(self.host('forced_down'),
                            project=self.sandbox.project_id(
                                keystone.OTHER[1]))
        result = self.sandbox.request(
            'GET', '/servers/detail', keystone.OTHER[1],
            keystone.OTHER[0], version='2.16')
        self.assertStatus(200, result)
        self.assertEqual({other: 'DOWN'}, self.statuses(result))
        result = self.sandbox.request(
            'GET', '/servers/%s' % self.server_id, keystone.OTHER[1],
            keystone.OTHER[0], version='2.16')
        self.assertStatus(404, result)

    def test_the_bootstrapped_users(self):
        self.set_policy(base.ADMIN_OR_OWNER)
        tenant = self.sandbox.project_id(keystone.OWNER[1])
        server = self.server(self.host('disabled'), project=tenant,
                             user=keystone.OWNER[0])
        for user in (keystone.OWNER[0], keystone.READER[0]):
            token = self.keystone.token(user, keystone.OWNER[1])
            result = self.sandbox.request(
                'GET', '/servers/%s' % server, tenant, version='2.16',
                token=token)
            self.assertStatus(200, result)
            self.assertEqual('MAINTENANCE',
                             result.json['server']['host_status'], user)
        result = self.sandbox.request(
            'PUT', '/os-services/force-down', tenant, version='2.11',
            token=self.keystone.token(*keystone.OWNER),
            body={'host': 'h', 'binary': 'nova-compute',
                  'forced_down': True})
        self.assertStatus(403, result)


class TestInspector(base.TestCase):

    def test_application_credential_forces_a_host_down(self):
        from nova_hoststatus.cmd import drill
        host = self.host()
        server = self.server(host)
        self.set_policy(base.ADMIN_OR_OWNER)
        token = drill.inspector_token(self.sandbox)
        path, body = sandbox.force_down_request('2.11', host, None, True)
        result = self.sandbox.request('PUT', path, self.admin_project,
                                      version='2.11', body=body, token=token)
        self.assertStatus(200, result)
        self.assertEqual({server: 'DOWN'}, self.statuses(
            self.owner('GET', '/servers/%s' % server, '2.16')))
