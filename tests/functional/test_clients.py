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

"""Real OpenStack clients over HTTP, against the filter in front of Nova.

They log in to the sandbox's Keystone with a password, find the compute
API in its catalog, and send the token Keystone issued, which Nova's own
authtoken validates.
"""

import json
import os
import subprocess
import sys
import time

import fixtures
from keystoneauth1 import session as ks_session
from novaclient import client as nova_client
from novaclient import exceptions as nova_exceptions
import openstack.connection

from nova_hoststatus.cmd import serve
from nova_hoststatus.tools import keystone
from nova_hoststatus.tools import sandbox
from tests.functional import base


class ClientCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.url = self.sandbox.serve()
        self.set_policy(base.ADMIN_OR_OWNER)
        self.host_name = self.host('up')
        self.server_id = self.server(self.host_name)

    def session(self, roles=sandbox.MEMBER_ROLES, admin=False):
        """A keystoneauth session that logs in with a password."""
        project = self.admin_project if admin else self.project
        user = 'admin' if admin else self.user
        return ks_session.Session(auth=self.sandbox.password_auth(
            project, user, sandbox.ADMIN_ROLES if admin else roles))


class TestNovaClient(ClientCase):

    def client(self, version, admin=False):
        return nova_client.Client(version, session=self.session(admin=admin))

    def test_owner_reads_host_status(self):
        owner = self.client('2.16')
        self.assertEqual('UP', owner.servers.get(self.server_id).host_status)
        [listed] = owner.servers.list(detailed=True)
        self.assertEqual('UP', listed.host_status)

    def test_force_down_2_11(self):
        admin = self.client('2.11', admin=True)
        owner = self.client('2.16')
        service = admin.services.force_down(self.host_name, 'nova-compute',
                                            True)
        self.assertTrue(service.forced_down)
        self.assertEqual('DOWN',
                         owner.servers.get(self.server_id).host_status)
        admin.services.force_down(self.host_name, 'nova-compute', False)
        self.assertEqual('UP', owner.servers.get(self.server_id).host_status)

    def test_force_down_2_53(self):
        admin = self.client('2.53', admin=True)
        owner = self.client('2.16')
        [service] = admin.services.list(host=self.host_name,
                                        binary='nova-compute')
        result = admin.services.force_down(service.id, True)
        self.assertTrue(result.forced_down)
        self.assertEqual('DOWN',
                         owner.servers.get(self.server_id).host_status)
        admin.services.force_down(service.id, False)
        self.assertEqual('UP', owner.servers.get(self.server_id).host_status)

    def test_bad_force_down(self):
        admin = self.client('2.53', admin=True)
        [service] = admin.services.list(host=self.host_name,
                                        binary='nova-compute')
        # novaclient sends what it is given; the filter refuses it.
        exc = self.assertRaises(nova_exceptions.BadRequest,
                                admin.services.force_down, service.id,
                                'maybe')
        self.assertIn('forced_down', str(exc))
        self.assertFalse(self.sandbox.get_service(self.host_name).forced_down)


class TestOpenStackSDK(ClientCase):

    def connection(self, admin=False):
        return openstack.connection.Connection(
            session=self.session(admin=admin), compute_api_version='2.16')

    def test_owner_reads_host_status(self):
        conn = self.connection()
        server = conn.compute.get_server(self.server_id)
        self.assertEqual('UP', server.host_status)
        self.sandbox.set_host_state(self.host_name, 'disabled')
        # Changed behind the API: the cache bounds how long it takes.
        self.assertEqual('MAINTENANCE', self._eventually(
            lambda: conn.compute.get_server(self.server_id).host_status,
            'MAINTENANCE'))
        listed = list(conn.compute.servers(details=True))
        self.assertEqual(['MAINTENANCE'], [s.host_status for s in listed])

    def test_force_down_then_owner_sees_down(self):
        admin = self.connection(admin=True)
        owner = self.connection()
        [service] = list(admin.compute.services(host=self.host_name))
        admin.compute.update_service_forced_down(service, forced=True)
        self.assertEqual(
            'DOWN', owner.compute.get_server(self.server_id).host_status)
        admin.compute.update_service_forced_down(service, forced=False)
        self.assertEqual(
            'UP', owner.compute.get_server(self.server_id).host_status)

    def _eventually(self, read, value, budget=5.0):
        deadline = time.monotonic() + budget
        seen = read()
        while seen != value and time.monotonic() < deadline:
            time.sleep(0.2)
            seen = read()
        return seen


class TestOpenStackCLI(ClientCase):
    """The README's recipe for the openstack CLI: serve's openrc, a
    password, and no other variable.
    """

    def openstack(self, openrc, *argv, json_out=True):
        """Run the openstack CLI of this environment with ``openrc``'s
        variables and no other OS_* one.
        """
        env = {k: v for k, v in os.environ.items()
               if not k.startswith('OS_')}
        for line in openrc.strip().splitlines():
            name, _, value = line[len('export '):].partition('=')
            env[name] = value
        proc = subprocess.run(
            [os.path.join(os.path.dirname(sys.executable), 'openstack')] +
            list(argv) + (['-f', 'json'] if json_out else []),
            env=env, capture_output=True, text=True, timeout=120)
        self.assertEqual(0, proc.returncode, proc.stderr)
        return json.loads(proc.stdout) if json_out else proc.stdout

    def openrc(self, user, project):
        return serve.openrc(self.sandbox.keystone.auth_url, user, project)

    def owner_openrc(self):
        return self.openrc(*self.sandbox.login(self.project, self.user))

    def test_server_list_long_as_the_owner(self):
        [row] = self.openstack(self.owner_openrc(), 'server', 'list',
                               '--long')
        self.assertEqual((self.server_id, 'UP', 'sandbox-image'),
                         (row['ID'], row['Host Status'], row['Image Name']))

    def test_the_clouds_yaml_of_serve_logs_in(self):
        path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                            'clouds.yaml')
        with open(path, 'w') as f:
            f.write(serve.clouds_yaml(self.sandbox.keystone.auth_url))
        shown = self.openstack(
            'export OS_CLIENT_CONFIG_FILE=%s' % path, '--os-cloud', 'admin',
            '--os-compute-api-version', '2.16', 'server', 'show',
            self.server_id, '-c', 'host_status')
        self.assertEqual({'host_status': 'UP'}, shown)

    def test_admin_lists_a_project_by_name_and_forces_a_host_down(self):
        admin = self.openrc(*keystone.ADMIN)
        _, project_name = self.sandbox.login(self.project, self.user)
        [row] = self.openstack(admin, 'server', 'list', '--long',
                               '--project', project_name)
        self.assertEqual((self.server_id, 'UP'),
                         (row['ID'], row['Host Status']))
        self.openstack(admin, '--os-compute-api-version', '2.11', 'compute',
                       'service', 'set', '--down', self.host_name,
                       'nova-compute', json_out=False)
        self.assertTrue(self.sandbox.get_service(self.host_name).forced_down)
        [row] = self.openstack(self.owner_openrc(), 'server', 'list',
                               '--long')
        self.assertEqual('DOWN', row['Host Status'])
