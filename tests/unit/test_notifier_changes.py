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

"""What an owner is told of a change of its server's host
(:mod:`nova_hoststatus.notifier.changes`): pure, no Nova.

A member of a project is told each side of a change exactly as it reads
it through the API, and nothing when what it reads does not change.
"""

import datetime
import itertools
import json

import testtools

from nova_hoststatus.notifier import changes
from nova_hoststatus import policies
from nova_hoststatus import policy
from nova_hoststatus import status
from tests.unit import base
from tests.unit import fakes

VALUES = (status.UP, status.DOWN, status.MAINTENANCE, status.UNKNOWN,
          status.NONE)
PAIRS = list(itertools.product(VALUES, VALUES))


def readable(visibility, value):
    """What a member reads, written out on its own: every value, only
    UNKNOWN, or nothing (None: the key is absent).
    """
    if visibility is policy.Visibility.ALL:
        return value
    if visibility is policy.Visibility.UNKNOWN_ONLY:
        return value if value == status.UNKNOWN else None
    return None


class VisibleChangeTest(testtools.TestCase):

    def test_every_visibility_and_pair(self):
        self.assertEqual(25, len(PAIRS))
        for visibility in policy.Visibility:
            for old, new in PAIRS:
                seen = (readable(visibility, old), readable(visibility, new))
                expected = None if seen[0] == seen[1] else seen
                self.assertEqual(
                    expected, changes.visible_change(visibility, old, new),
                    '%s: %r -> %r' % (visibility, old, new))

    def test_each_side_is_what_policy_shows(self):
        for visibility in policy.Visibility:
            for old, new in PAIRS:
                seen = changes.visible_change(visibility, old, new)
                if seen is not None:
                    self.assertEqual(
                        (policy.shown(visibility, old),
                         policy.shown(visibility, new)), seen)

    def test_all_tells_every_change_and_no_repeat(self):
        told = [(old, new) for old, new in PAIRS if changes.visible_change(
            policy.Visibility.ALL, old, new)]
        self.assertEqual([(old, new) for old, new in PAIRS if old != new],
                         told)

    def test_unknown_only_tells_only_to_and_from_unknown(self):
        vis = policy.Visibility.UNKNOWN_ONLY
        self.assertEqual((None, 'UNKNOWN'),
                         changes.visible_change(vis, 'UP', 'UNKNOWN'))
        self.assertEqual(('UNKNOWN', None),
                         changes.visible_change(vis, 'UNKNOWN', 'DOWN'))
        self.assertEqual(('UNKNOWN', None),
                         changes.visible_change(vis, 'UNKNOWN', ''))
        for old, new in [('UP', 'DOWN'), ('DOWN', 'MAINTENANCE'),
                         ('MAINTENANCE', 'UP'), ('', 'UP'), ('UP', ''),
                         ('UNKNOWN', 'UNKNOWN')]:
            self.assertIsNone(changes.visible_change(vis, old, new))

    def test_none_tells_nothing(self):
        for old, new in PAIRS:
            self.assertIsNone(changes.visible_change(
                policy.Visibility.NONE, old, new))


class ThroughTheApiTest(base.FilterTestCase):
    """The sides of a change are what the filter answers a member of the
    server's project, under the same policy.
    """

    POLICIES = {
        policy.Visibility.ALL: {
            policies.SHOW_HOST_STATUS: 'project_id:%(project_id)s'},
        policy.Visibility.UNKNOWN_ONLY: {
            policies.SHOW_HOST_STATUS: '!',
            policies.SHOW_UNKNOWN_ONLY: 'project_id:%(project_id)s'},
        policy.Visibility.NONE: {
            policies.SHOW_HOST_STATUS: '!',
            policies.SHOW_UNKNOWN_ONLY: '!'},
    }

    def setUp(self):
        super().setUp()
        project = base.OWNER['project_id']
        for host, service in [
                ('up-host', fakes.Service('up-host')),
                ('down-host', fakes.Service('down-host', forced_down=True)),
                ('maint-host', fakes.Service('maint-host', disabled=True)),
                ('lost-host', fakes.Service('lost-host',
                                            heartbeat_age=3600))]:
            self.nova.add_service(service)
            self.nova.add_server(fakes.server(host, project, host))
        self.nova.add_server(fakes.server('no-host', project, None))
        self.on = {status.UP: 'up-host', status.DOWN: 'down-host',
                   status.MAINTENANCE: 'maint-host',
                   status.UNKNOWN: 'lost-host', status.NONE: 'no-host'}

    def test_a_member_is_told_what_it_reads(self):
        for visibility, rules in self.POLICIES.items():
            self.write_policy(rules)
            self.app = self.make_filter()
            read = self.host_status_of('/servers/detail',
                                       caller=base.OWNER)
            self.assertEqual(
                {readable(visibility, value) for value in VALUES},
                {read[self.on[value]] for value in VALUES})
            for old, new in PAIRS:
                sides = (read[self.on[old]], read[self.on[new]])
                self.assertEqual(
                    None if sides[0] == sides[1] else sides,
                    changes.visible_change(visibility, old, new),
                    '%s: %r -> %r' % (visibility, old, new))


class Server(object):
    def __init__(self, uuid, project_id, user_id):
        self.uuid = uuid
        self.project_id = project_id
        self.user_id = user_id


class PayloadTest(testtools.TestCase):

    FIELDS = {'server_id', 'project_id', 'user_id', 'host_id',
              'old_host_status', 'host_status', 'changed_at'}

    def test_the_contract(self):
        server = Server('vm-1', 'project-a', 'user-a')
        host_id = fakes.host_id('project-a', 'compute-7')
        moment = datetime.datetime(2026, 3, 4, 5, 6, 7, 890123)
        body = changes.payload(server, host_id, ('UP', 'DOWN'), moment)
        self.assertEqual({
            'server_id': 'vm-1',
            'project_id': 'project-a',
            'user_id': 'user-a',
            'host_id': host_id,
            'old_host_status': 'UP',
            'host_status': 'DOWN',
            'changed_at': '2026-03-04T05:06:07.890123Z',
        }, body)
        self.assertEqual(self.FIELDS, set(body))

    def test_no_host_name(self):
        server = Server('vm-1', 'project-a', 'user-a')
        body = changes.payload(server,
                               fakes.host_id('project-a', 'compute-7'),
                               (None, 'UNKNOWN'),
                               datetime.datetime(2026, 1, 1))
        text = json.dumps(body)
        self.assertNotIn('compute-7', text)
        self.assertNotIn('host', {key for key in body})
        self.assertIsNone(body['old_host_status'])
        self.assertEqual('UNKNOWN', body['host_status'])

    def test_changed_at_is_iso_8601_utc(self):
        server = Server('vm-1', 'project-a', 'user-a')
        body = changes.payload(server, 'x', ('UP', 'DOWN'),
                               datetime.datetime(2026, 1, 2, 3, 4, 5))
        self.assertEqual('2026-01-02T03:04:05.000000Z', body['changed_at'])
        parsed = datetime.datetime.fromisoformat(
            body['changed_at'].replace('Z', '+00:00'))
        self.assertEqual(datetime.timezone.utc, parsed.tzinfo)

    def test_constants(self):
        self.assertEqual('hoststatus.server.update', changes.EVENT_TYPE)
        self.assertEqual('nova-hoststatus', changes.PUBLISHER_ID)
