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

"""Requests that are not the filter's business get Nova's exact answer."""

from nova_hoststatus.tools import sandbox
from tests.functional import base

# Headers that differ between any two responses.
_PER_RESPONSE = {'x-openstack-request-id', 'x-compute-request-id',
                 'date', 'content-length'}


def _comparable(doc):
    """A response body without the servers' ``updated`` stamps.

    Every read of a server saves it again in the sandbox (its network info
    cache is refreshed), so two reads a second apart differ in ``updated``
    whoever sends them.
    """
    if isinstance(doc, dict):
        servers = doc.get('servers', [doc.get('server')])
        for server in servers if isinstance(servers, list) else []:
            if isinstance(server, dict):
                server.pop('updated', None)
    return doc


class TestPassThrough(base.TestCase):

    def setUp(self):
        super().setUp()
        self.host_name = self.host('disabled')
        self.server_id = self.server(self.host_name)
        self.server(None)

    def assertIdentical(self, method, path, version=None, caller=None,
                        headers=None, body=None):
        """Send the same request with and without the filter; compare."""
        if caller is None:
            args = dict(project_id=self.admin_project, user_id='admin',
                        roles=sandbox.ADMIN_ROLES)
        else:
            args = dict(project_id=self.project, user_id=self.user)
        args.update(version=version, body=body, headers=headers)
        ours = self.sandbox.request(method, path, **args)
        nova = self.sandbox.request(method, path, nova=True, **args)
        what = '%s %s at %s' % (method, path, version)
        self.assertEqual(nova.status, ours.status, what)
        self.assertEqual(_comparable(nova.json), _comparable(ours.json),
                         what)
        if nova.json is None:
            self.assertEqual(nova.body, ours.body, what)
        self.assertEqual(
            {k.lower(): v for k, v in nova.headers.items()
             if k.lower() not in _PER_RESPONSE},
            {k.lower(): v for k, v in ours.headers.items()
             if k.lower() not in _PER_RESPONSE}, what)
        return ours

    def test_server_index(self):
        for version in (None, '2.16', '2.75', 'latest'):
            result = self.assertIdentical(
                'GET', '/servers?all_tenants=1&project_id=%s' % self.project,
                version)
            self.assertEqual(2, len(result.json['servers']))
            self.assertIdentical('GET', '/servers', version, 'owner')

    def test_services(self):
        for version in (None, '2.11', '2.53', 'latest'):
            result = self.assertIdentical('GET', '/os-services', version)
            self.assertIn(self.host_name,
                          [s['host'] for s in result.json['services']])
            self.assertIdentical(
                'GET', '/os-services?binary=nova-compute&host=%s'
                % self.host_name, version)

    def test_not_found(self):
        missing = '/servers/8d3c2a54-5a52-4d0d-9a8e-1d9c4c1e0b55'
        for version in (None, '2.16', '2.75'):
            self.assertEqual(404, self.assertIdentical(
                'GET', missing, version).status)
            self.assertEqual(404, self.assertIdentical(
                'PUT', missing, version,
                body={'server': {'name': 'x'}}).status)
        self.assertEqual(404, self.assertIdentical(
            'GET', '/no-such-resource', '2.16').status)

    def test_unsupported_version(self):
        for path in ('/servers/%s' % self.server_id, '/servers/detail',
                     '/os-services'):
            self.assertEqual(406, self.assertIdentical(
                'GET', path, '2.999').status)

    def test_malformed_version(self):
        for text in ('2.x', '2', 'two', '2.16.1', '02.16'):
            self.assertEqual(400, self.assertIdentical(
                'GET', '/servers/%s' % self.server_id, text).status)

    def test_owner_without_host_status(self):
        # Default policy: the owner's views are Nova's, byte for byte.
        for version in ('2.16', 'latest'):
            self.assertIdentical('GET', '/servers/%s' % self.server_id,
                                 version, 'owner')
            self.assertIdentical('GET', '/servers/detail', version,
                                 'owner')

    def test_other_endpoints(self):
        for path in ('/flavors', '/limits', '/os-hypervisors',
                     '/servers/%s/os-instance-actions' % self.server_id):
            self.assertIdentical('GET', path, '2.53')

    def test_versions_documents(self):
        for path in ('/', '/v2.1', '/v2.1/'):
            ours = self.sandbox.request('GET', path, self.project)
            nova = self.sandbox.request('GET', path, self.project, nova=True)
            self.assertEqual(nova.status, ours.status, path)
            self.assertEqual(nova.json, ours.json, path)

    def test_legacy_v2(self):
        path = '/v2/servers/%s' % self.server_id
        result = self.assertIdentical('GET', path, '2.16')
        self.assertNotIn('host_status', result.json['server'])
