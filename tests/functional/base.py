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

"""The filter in front of real Nova, with Nova itself as the oracle.

Callers are real: each request carries a token from the sandbox's Keystone,
validated by Nova's own authtoken, whose roles are assignments on the
caller's project (:mod:`nova_hoststatus.tools.keystone`).

Every test process shares one sandbox (Nova loads once per process).  Its
filtered pipeline has Nova's own ``host_status`` stripped behind the
filter, so a ``host_status`` read through it is the filter's; the same
request sent with ``nova=True`` goes to Nova's pipeline without the filter
and gives Nova's own answer, and with ``keep_nova=True`` to the filter in
front of Nova whose own value it keeps, as deployed.  Each test works in
projects and on hosts of its own and removes them afterwards, and leaves
the policy file empty.
"""

import uuid

import testtools

from nova_hoststatus.tools import sandbox
from tests.functional import probe

ADMIN_OR_OWNER = {'os_compute_api:servers:show:host_status':
                  'rule:admin_or_owner'}


def shared_sandbox():
    """The process's sandbox, as every functional test has it.

    Nova's own ``host_status`` is stripped behind the filter, and the probe
    behind both records what reaches Nova (:mod:`tests.functional.probe`).
    """
    return sandbox.shared(strip_nova=True, probes=probe.FILTERS)


def unique(prefix):
    return '%s-%s' % (prefix, uuid.uuid4().hex[:12])


class TestCase(testtools.TestCase):
    """Gives each test its own projects, hosts and servers."""

    def setUp(self):
        super().setUp()
        self.sandbox = shared_sandbox()
        # Ids as Nova knows them: Keystone's, of projects made for the test.
        self.project = self.sandbox.project_id(unique('project'))
        self.user = unique('user')
        self.admin_project = self.sandbox.project_id(unique('admin-project'))
        self.addCleanup(self.sandbox.set_policy, {})

    def set_policy(self, rules):
        self.sandbox.set_policy(rules)

    def host(self, state='up'):
        """A compute host in ``state``; see NovaSandbox.create_host."""
        name = unique('compute')
        self.sandbox.create_host(name, state)
        self.addCleanup(self.sandbox.delete_host, name)
        return name

    def server(self, host, project=None, user=None):
        server_id = self.sandbox.create_server(
            project or self.project, user or self.user, host)
        self.addCleanup(self.sandbox.delete_server, server_id)
        return server_id

    def service_id(self, host):
        return self.sandbox.get_service(host).uuid

    def admin(self, method, path, version=None, body=None, nova=False,
              project=None, keep_nova=False):
        return self.sandbox.request(
            method, path, project or self.admin_project, user_id='admin',
            roles=sandbox.ADMIN_ROLES, version=version, body=body, nova=nova,
            keep_nova=keep_nova)

    def owner(self, method, path, version=None, body=None, nova=False,
              roles=sandbox.MEMBER_ROLES, project=None, keep_nova=False):
        return self.sandbox.request(
            method, path, project or self.project, user_id=self.user,
            roles=roles, version=version, body=body, nova=nova,
            keep_nova=keep_nova)

    def detail_path(self, project=None):
        """Admin's listing of one project's servers."""
        return '/servers/detail?all_tenants=1&project_id=%s' % (
            project or self.project)

    @staticmethod
    def statuses(result):
        """{server id: host_status or None} of a show or detail result."""
        doc = result.json
        servers = doc['servers'] if 'servers' in doc else [doc['server']]
        return {s['id']: s.get('host_status') for s in servers}

    def assertStatus(self, expected, result):
        self.assertEqual(expected, result.status, result.body)
