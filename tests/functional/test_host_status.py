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

"""host_status on server views, compared with Nova's own."""

import time

from nova_hoststatus.tools import sandbox
from tests.functional import base

# Host state made in the DB -> the host_status Nova gives it.
TABLE = {
    'up': 'UP',
    'stale': 'UNKNOWN',
    'disabled': 'MAINTENANCE',
    'forced_down': 'DOWN',
    'forced_down_disabled': 'DOWN',
    None: '',
}


class TestStatusTable(base.TestCase):
    """Every row of the status table, for an admin, as Nova has it."""

    def setUp(self):
        super().setUp()
        self.expected = {}
        for state, value in TABLE.items():
            host = self.host(state) if state else None
            self.expected[self.server(host)] = value

    def test_show(self):
        for server_id, value in self.expected.items():
            path = '/servers/%s' % server_id
            ours = self.admin('GET', path, '2.16')
            nova = self.admin('GET', path, '2.16', nova=True)
            self.assertStatus(200, ours)
            self.assertEqual(value, ours.json['server'].get('host_status'))
            self.assertEqual(nova.json['server']['host_status'],
                             ours.json['server']['host_status'])

    def test_detail(self):
        ours = self.admin('GET', self.detail_path(), '2.16')
        nova = self.admin('GET', self.detail_path(), '2.16', nova=True)
        self.assertStatus(200, ours)
        self.assertEqual(self.expected, self.statuses(ours))
        self.assertEqual(self.statuses(nova), self.statuses(ours))

    def test_latest(self):
        ours = self.admin('GET', self.detail_path(), 'latest')
        self.assertEqual(self.expected, self.statuses(ours))

    def test_legacy_version_header(self):
        result = self.sandbox.request(
            'GET', self.detail_path(), self.admin_project,
            roles=sandbox.ADMIN_ROLES,
            headers={'X-OpenStack-Nova-API-Version': '2.16'})
        self.assertEqual(self.expected, self.statuses(result))

    def test_not_before_2_16(self):
        for version in (None, '2.1', '2.15'):
            ours = self.admin('GET', self.detail_path(), version)
            self.assertStatus(200, ours)
            self.assertEqual(dict.fromkeys(self.expected),
                             self.statuses(ours))
            for server_id in self.expected:
                ours = self.admin('GET', '/servers/%s' % server_id, version)
                self.assertNotIn('host_status', ours.json['server'])

    def test_never_on_index(self):
        for version in ('2.16', 'latest'):
            ours = self.admin(
                'GET', '/servers?all_tenants=1&project_id=%s' % self.project,
                version)
            nova = self.admin(
                'GET', '/servers?all_tenants=1&project_id=%s' % self.project,
                version, nova=True)
            self.assertEqual(nova.json, ours.json)
            for server in ours.json['servers']:
                self.assertNotIn('host_status', server)


class TestPolicy(base.TestCase):
    """Who sees host_status, with the rules in Nova's own policy file."""

    def setUp(self):
        super().setUp()
        self.up = self.server(self.host('up'))
        self.down = self.server(self.host('forced_down'))
        self.unknown = self.server(self.host('stale'))
        self.mine = {self.up: 'UP', self.down: 'DOWN',
                     self.unknown: 'UNKNOWN'}

    def owner_views(self, roles=sandbox.MEMBER_ROLES, nova=False):
        """The owner's detail listing and shows, as {id: host_status}."""
        seen = self.statuses(self.owner('GET', '/servers/detail', '2.16',
                                        roles=roles, nova=nova))
        shown = {}
        for server_id in self.mine:
            shown.update(self.statuses(self.owner(
                'GET', '/servers/%s' % server_id, '2.16', roles=roles,
                nova=nova)))
        return seen, shown

    def test_default_hides_from_owner(self):
        hidden = dict.fromkeys(self.mine)
        self.assertEqual((hidden, hidden), self.owner_views())
        self.assertEqual((hidden, hidden), self.owner_views(nova=True))

    def test_admin_or_owner_shows_owner(self):
        self.set_policy(base.ADMIN_OR_OWNER)
        self.assertEqual((self.mine, self.mine), self.owner_views())
        self.assertEqual(self.owner_views(nova=True), self.owner_views())

    def test_admin_or_owner_not_other_projects(self):
        self.set_policy(base.ADMIN_OR_OWNER)
        other = base.unique('other-project')
        for server_id in self.mine:
            ours = self.owner('GET', '/servers/%s' % server_id, '2.16',
                              project=other)
            nova = self.owner('GET', '/servers/%s' % server_id, '2.16',
                              project=other, nova=True)
            self.assertStatus(404, ours)
            self.assertEqual(nova.json, ours.json)
        ours = self.owner('GET', '/servers/detail', '2.16', project=other)
        self.assertEqual([], ours.json['servers'])

    def test_rule_is_checked_per_server(self):
        # Only the server's own project, not admins: an admin listing two
        # projects sees every host_status on its own project's servers and,
        # through the default unknown-only rule, UNKNOWN on the others.
        self.set_policy({'os_compute_api:servers:show:host_status':
                         'project_id:%(project_id)s'})
        own = self.server(self.host('up'), project=self.admin_project)
        listing = self.statuses(self.admin('GET', '/servers/detail?'
                                           'all_tenants=1', '2.16'))
        self.assertEqual('UP', listing[own])
        only_unknown = {self.up: None, self.down: None,
                        self.unknown: 'UNKNOWN'}
        self.assertEqual(only_unknown,
                         {key: listing[key] for key in only_unknown})
        for server_id, value in only_unknown.items():
            ours = self.admin('GET', '/servers/%s' % server_id, '2.16')
            nova = self.admin('GET', '/servers/%s' % server_id, '2.16',
                              nova=True)
            self.assertEqual(value, ours.json['server'].get('host_status'))
            self.assertEqual(nova.json['server'].get('host_status'),
                             ours.json['server'].get('host_status'))

    def test_custom_role(self):
        self.set_policy({'os_compute_api:servers:show:host_status':
                         'role:doctor'})
        doctor = 'doctor,member,reader'
        self.assertEqual((self.mine, self.mine),
                         self.owner_views(roles=doctor))
        self.assertEqual(self.owner_views(roles=doctor, nova=True),
                         self.owner_views(roles=doctor))
        hidden = dict.fromkeys(self.mine)
        self.assertEqual((hidden, hidden), self.owner_views())

    def test_unknown_only(self):
        self.set_policy({
            'os_compute_api:servers:show:host_status:unknown-only':
            'rule:admin_or_owner'})
        only_unknown = {self.up: None, self.down: None,
                        self.unknown: 'UNKNOWN'}
        self.assertEqual((only_unknown, only_unknown), self.owner_views())
        self.assertEqual(self.owner_views(nova=True), self.owner_views())
        # The full rule still shows admins everything.
        admin = self.statuses(self.admin('GET', self.detail_path(), '2.16'))
        self.assertEqual(self.mine, admin)

    def test_policy_change_takes_effect(self):
        hidden = dict.fromkeys(self.mine)
        self.assertEqual((hidden, hidden), self.owner_views())
        self.set_policy(base.ADMIN_OR_OWNER)
        self.assertEqual((self.mine, self.mine), self.owner_views())
        self.set_policy({})
        self.assertEqual((hidden, hidden), self.owner_views())


class TestUpdateAndRebuild(base.TestCase):
    """PUT /servers/{id} and rebuild carry host_status from 2.75."""

    def setUp(self):
        super().setUp()
        self.host_name = self.host('disabled')

    def update(self, version, nova=False):
        server_id = self.server(self.host_name)
        return self.admin('PUT', '/servers/%s' % server_id, version,
                          body={'server': {'name': 'renamed'}}, nova=nova)

    def rebuild(self, version, nova=False):
        server_id = self.server(self.host_name)
        return self.admin('POST', '/servers/%s/action' % server_id, version,
                          body={'rebuild': {'imageRef': sandbox.IMAGE_ID}},
                          nova=nova)

    def test_update(self):
        ours = self.update('2.75')
        nova = self.update('2.75', nova=True)
        self.assertStatus(200, ours)
        self.assertEqual('MAINTENANCE', ours.json['server']['host_status'])
        self.assertEqual(nova.json['server']['host_status'],
                         ours.json['server']['host_status'])
        self.assertEqual('renamed', ours.json['server']['name'])

    def test_update_before_2_75(self):
        ours = self.update('2.74')
        self.assertStatus(200, ours)
        self.assertNotIn('host_status', ours.json['server'])

    def test_rebuild(self):
        ours = self.rebuild('2.75')
        nova = self.rebuild('2.75', nova=True)
        self.assertStatus(202, ours)
        self.assertEqual('MAINTENANCE', ours.json['server']['host_status'])
        self.assertEqual(nova.json['server']['host_status'],
                         ours.json['server']['host_status'])

    def test_rebuild_before_2_75(self):
        ours = self.rebuild('2.74')
        self.assertStatus(202, ours)
        self.assertNotIn('host_status', ours.json['server'])

    def test_update_owner_default_policy(self):
        server_id = self.server(self.host_name)
        ours = self.owner('PUT', '/servers/%s' % server_id, '2.75',
                          body={'server': {'name': 'renamed'}})
        self.assertStatus(200, ours)
        self.assertNotIn('host_status', ours.json['server'])


class TestChangesBehindTheAPI(base.TestCase):
    """A change written straight into Nova's DB shows within 5 seconds."""

    def wait_for(self, server_id, value, budget=5.0):
        path = '/servers/%s' % server_id
        start = time.monotonic()
        while True:
            seen = self.admin('GET', path, '2.16').json['server']
            elapsed = time.monotonic() - start
            if seen.get('host_status') == value:
                return elapsed
            if elapsed > budget:
                self.fail('host_status %r after %.1f s, expected %r' % (
                    seen.get('host_status'), elapsed, value))
            time.sleep(0.1)

    def test_forced_down_in_db(self):
        host = self.host('up')
        server_id = self.server(host)
        self.wait_for(server_id, 'UP', budget=0)
        self.sandbox.set_host_state(host, 'forced_down')
        self.wait_for(server_id, 'DOWN')
        self.sandbox.set_host_state(host, 'disabled')
        self.wait_for(server_id, 'MAINTENANCE')

    def test_heartbeat_stops(self):
        host = self.host('up')
        server_id = self.server(host)
        self.wait_for(server_id, 'UP', budget=0)
        self.sandbox.set_heartbeat(host, 2 * sandbox.SERVICE_DOWN_TIME)
        self.wait_for(server_id, 'UNKNOWN')
        self.sandbox.set_heartbeat(host, 0)
        self.wait_for(server_id, 'UP')

    def test_new_host(self):
        server_id = self.server(self.host('up'))
        self.wait_for(server_id, 'UP', budget=0)
        late = self.server(self.host('disabled'))
        self.wait_for(late, 'MAINTENANCE', budget=0)

    def test_follows_novas_service_down_time(self):
        # The filter has no settings of its own in the sandbox: a heartbeat
        # far older than the 60 s default is still within Nova's
        # service_down_time, and the filter agrees with Nova on it.
        host = self.host('up')
        self.sandbox.set_heartbeat(host, sandbox.SERVICE_DOWN_TIME // 2)
        server_id = self.server(host)
        path = '/servers/%s' % server_id
        ours = self.admin('GET', path, '2.16')
        nova = self.admin('GET', path, '2.16', nova=True)
        self.assertEqual('UP', ours.json['server']['host_status'])
        self.assertEqual(nova.json['server']['host_status'],
                         ours.json['server']['host_status'])
