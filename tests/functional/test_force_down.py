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

"""Force-down through the filter: valid ones reach Nova and show at once,
invalid ones get Nova's own 400 without reaching it."""

from tests.functional import base
from tests.functional import probe

FORCE_DOWN = '/os-services/force-down'


class ForceDownCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.set_policy(base.ADMIN_OR_OWNER)
        self.host_name = self.host('up')
        self.server_id = self.server(self.host_name)
        self.service = self.service_id(self.host_name)

    def owner_sees(self):
        """What the VM's owner reads on its server, through the filter."""
        result = self.owner('GET', '/servers/%s' % self.server_id, '2.16')
        self.assertStatus(200, result)
        return result.json['server'].get('host_status')

    def record(self):
        service = self.sandbox.get_service(self.host_name)
        return (service.forced_down, service.disabled,
                service.disabled_reason, service.updated_at)

    def send(self, path, version, body, nova=False):
        """PUT ``body`` (an object, or raw bytes) as an admin."""
        probe.REACHED_NOVA.clear()
        return self.admin('PUT', path, version, body=body, nova=nova)

    def assertSameAsNova(self, path, version, body):
        """The filter answers ``body`` as Nova does, and Nova changes
        nothing either way.  Returns the filter's answer and whether the
        request passed the filter.
        """
        what = '%s at %s: %r' % (path, version, body)
        before = self.record()
        ours = self.send(path, version, body)
        passed = ('PUT', path) in probe.REACHED_NOVA
        self.assertEqual(before, self.record(), 'changed by ' + what)
        nova = self.send(path, version, body, nova=True)
        self.assertEqual(before, self.record(), 'Nova changed it: ' + what)
        self.assertEqual(nova.status, ours.status, what)
        self.assertEqual(nova.json, ours.json, what)
        for header in ('OpenStack-API-Version', 'Content-Type'):
            self.assertEqual(nova.headers.get(header),
                             ours.headers.get(header), what)
        return ours, passed

    def assertRejected(self, path, version, body):
        """400 in Nova's fault format and words, Nova never called."""
        ours, passed = self.assertSameAsNova(path, version, body)
        self.assertStatus(400, ours)
        self.assertEqual({'badRequest'}, set(ours.json))
        self.assertEqual(400, ours.json['badRequest']['code'])
        self.assertEqual('application/json',
                         ours.headers['Content-Type'].split(';')[0])
        self.assertIn(version, ours.headers['OpenStack-API-Version'])
        self.assertFalse(passed, 'the filter let %r through' % (body,))


class TestForceDownV211(ForceDownCase):

    def body(self, forced_down=True, **extra):
        body = {'host': self.host_name, 'binary': 'nova-compute',
                'forced_down': forced_down}
        body.update(extra)
        return body

    def test_round_trip(self):
        self.assertEqual('UP', self.owner_sees())
        result = self.send(FORCE_DOWN, '2.11', self.body(True))
        self.assertStatus(200, result)
        self.assertEqual({'service': {'host': self.host_name,
                                      'binary': 'nova-compute',
                                      'forced_down': True}}, result.json)
        self.assertEqual('compute 2.11',
                         result.headers['OpenStack-API-Version'])
        self.assertEqual('DOWN', self.owner_sees())
        self.assertTrue(self.sandbox.get_service(self.host_name).forced_down)
        result = self.send(FORCE_DOWN, '2.11', self.body(False))
        self.assertStatus(200, result)
        self.assertEqual('UP', self.owner_sees())

    def test_string_booleans(self):
        self.owner_sees()
        self.assertStatus(200, self.send(FORCE_DOWN, '2.52',
                                         self.body('yes')))
        self.assertEqual('DOWN', self.owner_sees())
        self.assertStatus(200, self.send(FORCE_DOWN, '2.52',
                                         self.body('Off')))
        self.assertEqual('UP', self.owner_sees())

    def test_disabled_reason_is_allowed(self):
        result = self.send(FORCE_DOWN, '2.11',
                           self.body(True, disabled_reason='fault'))
        self.assertStatus(200, result)
        self.assertEqual('DOWN', self.owner_sees())

    def test_invalid_bodies(self):
        host = self.host_name
        for body in (
                self.body('maybe'),
                self.body(None),
                self.body(1),
                self.body([True]),
                self.body(True, foo='bar'),
                {'binary': 'nova-compute', 'forced_down': True},
                {'host': host, 'forced_down': True},
                self.body(True, host='bad host!'),
                self.body(True, host=''),
                self.body(True, host='h' * 256),
                self.body(True, binary=''),
                self.body(True, disabled_reason=''),
                b'{"host": ',
                b'[]',
                b'"force-down"',
                b'null',
        ):
            self.assertRejected(FORCE_DOWN, '2.11', body)

    def test_left_to_nova(self):
        # Valid bodies Nova refuses for reasons of its own, and requests the
        # filter has no opinion on: the answer is Nova's.
        for version, body in (
                ('2.11', self.body(True, host='no-such-host')),
                ('2.11', self.body(True, binary='nova-scheduler')),
                ('2.10', self.body(True)),
                ('2.53', self.body(True)),
                ('2.999', self.body('maybe')),
        ):
            self.assertSameAsNova(FORCE_DOWN, version, body)

    def test_missing_forced_down_is_answered_by_nova_after_its_policy(self):
        # Nova's schema passes a body without forced_down; Nova answers it
        # only after its os-services:update check: 400 to an admin, 403 to
        # anyone else. The filter must pass it on to get both right.
        body = {'host': self.host_name, 'binary': 'nova-compute'}
        ours, passed = self.assertSameAsNova(FORCE_DOWN, '2.11', body)
        self.assertTrue(passed)
        self.assertStatus(400, ours)
        self.assertEqual('Missing forced_down field',
                         ours.json['badRequest']['message'])
        before = self.record()
        result = self.owner('PUT', FORCE_DOWN, '2.11', body=body)
        nova = self.owner('PUT', FORCE_DOWN, '2.11', body=body, nova=True)
        self.assertStatus(403, nova)
        self.assertStatus(403, result)
        self.assertEqual(nova.json, result.json)
        self.assertEqual(before, self.record())

    def test_not_admin(self):
        before = self.record()
        result = self.owner('PUT', FORCE_DOWN, '2.11', body=self.body(True))
        nova = self.owner('PUT', FORCE_DOWN, '2.11', body=self.body(True),
                          nova=True)
        self.assertStatus(403, result)
        self.assertEqual(nova.json, result.json)
        self.assertEqual(before, self.record())
        self.assertEqual('UP', self.owner_sees())


class TestForceDownV253(ForceDownCase):

    def path(self):
        return '/os-services/%s' % self.service

    def test_round_trip(self):
        self.assertEqual('UP', self.owner_sees())
        result = self.send(self.path(), '2.53', {'forced_down': True})
        self.assertStatus(200, result)
        self.assertEqual(self.service, result.json['service']['id'])
        self.assertIs(True, result.json['service']['forced_down'])
        self.assertEqual('down', result.json['service']['state'])
        self.assertEqual('DOWN', self.owner_sees())
        result = self.send(self.path(), 'latest', {'forced_down': False})
        self.assertStatus(200, result)
        self.assertEqual('UP', self.owner_sees())

    def test_invalid_bodies(self):
        for body in (
                {'forced_down': 'maybe'},
                {'forced_down': None},
                {'forced_down': True, 'host': self.host_name},
                {'forced_down': True, 'binary': 'nova-compute'},
                {'status': 'paused'},
                {'status': True},
                {'disabled_reason': ''},
                {'disabled_reason': 'r' * 256},
                {'status': 'disabled', 'disabled_reason': 7},
                b'nope',
                b'[{"forced_down": true}]',
        ):
            self.assertRejected(self.path(), '2.53', body)

    def test_left_to_nova(self):
        missing = '/os-services/%s' % '7d0f6fb1-30e4-4c29-b3c1-a5c4a4a0e3f2'
        for path, version, body in (
                (self.path(), '2.53', {}),
                (self.path(), '2.53',
                 {'status': 'enabled', 'disabled_reason': 'why'}),
                (missing, '2.53', {'forced_down': True}),
                ('/os-services/not-a-uuid', '2.53', {'forced_down': True}),
                (self.path(), '2.999', {'forced_down': 'maybe'}),
                (self.path(), '2.52', {'forced_down': True}),
        ):
            self.assertSameAsNova(path, version, body)
