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

"""Compute service records, and what Nova's answers say about them."""

import datetime

import testtools

from nova_hoststatus import services


def service(host, **kwargs):
    values = dict(disabled=False, forced_down=False, reported_up=True,
                  updated_at=None)
    values.update(kwargs)
    return services.ComputeService(host=host, **values)


class ComputeServiceTest(testtools.TestCase):

    def test_from_an_os_services_record(self):
        record = {'id': 'a1b2', 'binary': 'nova-compute', 'host': 'c1',
                  'status': 'disabled', 'state': 'up', 'forced_down': False,
                  'updated_at': '2026-11-26T10:00:00.000000',
                  'zone': 'nova', 'disabled_reason': 'maintenance'}
        self.assertEqual(
            services.ComputeService(
                host='c1', disabled=True, forced_down=False,
                reported_up=True,
                updated_at=datetime.datetime(2026, 11, 26, 10, 0, 0),
                service_id='a1b2'),
            services.ComputeService.from_api(record))

    def test_never_updated(self):
        record = {'host': 'c1', 'status': 'enabled', 'state': 'down',
                  'forced_down': True, 'updated_at': None}
        parsed = services.ComputeService.from_api(record)
        self.assertIsNone(parsed.updated_at)
        self.assertTrue(parsed.forced_down)
        self.assertFalse(parsed.reported_up)


class ChangeAnswerTest(testtools.TestCase):

    def test_whole_record_from_2_53(self):
        host, record = services.change_answer(
            b'{"service": {"id": "u-1", "binary": "nova-compute", '
            b'"host": "c1", "status": "enabled", "state": "down", '
            b'"forced_down": true, "updated_at": null}}')
        self.assertEqual('c1', host)
        self.assertEqual(services.ComputeService(
            host='c1', disabled=False, forced_down=True, reported_up=False,
            updated_at=None, service_id='u-1'), record)

    def test_changed_fields_before_2_53(self):
        host, fields = services.change_answer(
            b'{"service": {"binary": "nova-compute", "host": "c1", '
            b'"forced_down": false}}')
        base = service('c1', forced_down=True, reported_up=False,
                       updated_at=datetime.datetime(2026, 11, 26))
        after = base.changed(fields)
        self.assertFalse(after.forced_down)
        # Nova's state after the change is unknown: the heartbeat decides.
        self.assertIsNone(after.reported_up)
        self.assertEqual(base.updated_at, after.updated_at)

    def test_other_binaries_and_bodies_name_nothing(self):
        for body in (b'{"service": {"binary": "nova-scheduler", '
                     b'"host": "c1", "status": "disabled"}}',
                     b'not json', b'{"services": []}', b'[]'):
            self.assertIsNone(services.change_answer(body), body)


class NewestVersionTest(testtools.TestCase):

    def test_from_novas_version_document_without_a_listing(self):
        from tests.unit import fakes
        nova = fakes.FakeNova()
        self.assertEqual(fakes.MAX_VERSION,
                         services.newest_version(nova, {}))
        self.assertEqual([], [c for c in nova.calls
                              if c[1].startswith('/os-services')])
