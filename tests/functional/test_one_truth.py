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

"""One truth: what the filter shows is what Nova shows, however it gets it.

Real Nova from the shared sandbox answers each request through three
pipelines: the filter computing every value itself from Nova's records
(Nova's own ``host_status`` stripped behind it, the suite's default), the
filter in front of Nova whose value it keeps (``keep_nova=True``, as
deployed), and Nova alone (``nova=True``).  Pinned here:

* an unknown-only caller sees no ``host_status`` key on a server whose
  host is UP, and sees ``UNKNOWN``, through both filtered pipelines;
* while Nova's records cannot be read, a server without a host still gets
  ``""``, the others keep what Nova gave them (no key where it was
  stripped), the answer is a 200, and one warning is logged; the same
  when the API database answers and a cell does not;
* a policy file that widens ``admin_api`` leaves the host_status rules at
  Nova's defaults: the filter's decision is Nova's, for a member and an
  admin, on show and detail.
"""

import logging
import sys

import fixtures
from oslo_db import exception as db_exc

from nova_hoststatus import records
from tests.functional import base

UNKNOWN_ONLY = {'os_compute_api:servers:show:host_status:unknown-only':
                'rule:admin_or_owner'}
WIDE_ADMIN_API = {'admin_api': 'role:member'}
ABSENT = '(no key)'
# The pipelines a request can take, by what the filter does there.
COMPUTED = {}
KEPT = {'keep_nova': True}
NOVA = {'nova': True}
FILTERED = (('computed', COMPUTED), ('kept', KEPT))


def shown(result):
    """{server id: host_status, or ABSENT where the key is missing}."""
    doc = result.json
    servers = doc['servers'] if 'servers' in doc else [doc['server']]
    return {server['id']: server.get('host_status', ABSENT)
            for server in servers}


class TestUnknownOnly(base.TestCase):
    """``unknown-only`` widened to the owner, the full rule at its default.
    """

    def setUp(self):
        super().setUp()
        self.up = self.server(self.host('up'))
        self.unknown = self.server(self.host('stale'))
        self.set_policy(UNKNOWN_ONLY)

    def views(self, pipeline):
        """The owner's detail listing and shows through ``pipeline``."""
        detail = self.owner('GET', '/servers/detail', '2.16', **pipeline)
        self.assertStatus(200, detail)
        views = {'detail': shown(detail)}
        for server_id in (self.up, self.unknown):
            result = self.owner('GET', '/servers/%s' % server_id, '2.16',
                                **pipeline)
            self.assertStatus(200, result)
            views.setdefault('show', {}).update(shown(result))
        return views

    def test_up_host_has_no_key_and_unknown_is_shown(self):
        expected = {self.up: ABSENT, self.unknown: 'UNKNOWN'}
        nova = self.views(NOVA)
        self.assertEqual({'detail': expected, 'show': expected}, nova)
        for name, pipeline in FILTERED:
            self.assertEqual(nova, self.views(pipeline), name)

    def test_up_host_has_no_key_at_2_75_either(self):
        # The update response carries host_status from 2.75, under the
        # same rules.
        for name, pipeline in FILTERED + (('nova', NOVA),):
            result = self.owner('PUT', '/servers/%s' % self.up, '2.75',
                                body={'server': {'name': 'renamed'}},
                                **pipeline)
            self.assertStatus(200, result)
            self.assertNotIn('host_status', result.json['server'], name)


class TestRecordsUnreadable(base.TestCase):
    """Nova's records fail to read for the filter's lookup only."""

    def setUp(self):
        super().setUp()
        self.hostless = self.server(None)
        self.up = self.server(self.host('up'))
        self.down = self.server(self.host('forced_down'))
        self.lookups = []
        self.log = self.useFixture(fixtures.FakeLogger(
            name='nova_hoststatus', level=logging.WARNING,
            format='%(levelname)s %(name)s %(message)s'))

    def unreadable(self):
        """Nova's instance mappings raise a database error when the filter
        reads them, and only then: Nova's own views read them too.
        """
        from nova import objects
        real = objects.InstanceMappingList.get_by_instance_uuids

        # A classmethod of Nova's: MonkeyPatch installs the replacement as
        # one too, and puts Nova's own back afterwards.
        def get_by_instance_uuids(cls, context, uuids, *args, **kwargs):
            caller = sys._getframe(1).f_globals.get('__name__')
            if caller == records.__name__:
                self.lookups.append(sorted(uuids))
                raise db_exc.DBConnectionError(
                    Exception('the API database does not answer'))
            return real(context, uuids, *args, **kwargs)
        return fixtures.MonkeyPatch(
            'nova.objects.InstanceMappingList.get_by_instance_uuids',
            get_by_instance_uuids)

    def warnings(self):
        return [line for line in self.log.output.splitlines()
                if line.startswith('WARNING')]

    def cell_fails(self):
        """The cell's instance query raises a database error when the
        filter asks it, and only then: Nova's own listing asks it too.
        """
        from nova import objects
        real = objects.InstanceList.get_by_filters

        def get_by_filters(cls, context, filters, *args, **kwargs):
            caller = sys._getframe(1).f_globals.get('__name__')
            if caller == records.__name__:
                self.lookups.append(sorted(filters['uuid']))
                raise db_exc.DBConnectionError(
                    Exception('the cell database does not answer'))
            return real(context, filters, *args, **kwargs)
        return fixtures.MonkeyPatch(
            'nova.objects.InstanceList.get_by_filters', get_by_filters)

    def test_hostless_server_gets_empty_string_the_others_no_key(self):
        nova = shown(self.admin('GET', self.detail_path(), '2.16',
                                nova=True))
        self.assertEqual({self.hostless: '', self.up: 'UP',
                          self.down: 'DOWN'}, nova)
        with self.unreadable():
            result = self.admin('GET', self.detail_path(), '2.16')
        self.assertStatus(200, result)
        self.assertEqual({self.hostless: '', self.up: ABSENT,
                          self.down: ABSENT}, shown(result))
        self.assertEqual([sorted([self.up, self.down])], self.lookups)
        [warning] = self.warnings()
        self.assertIn("Nova's records could not be read", warning)
        self.assertIn('DBConnectionError', warning)
        self.assertIn('2 server(s) keep what Nova gave them', warning)

    def test_a_failing_cell_leaves_its_servers_as_nova_gave_them(self):
        with self.cell_fails():
            result = self.admin('GET', self.detail_path(), '2.16')
        self.assertStatus(200, result)
        self.assertEqual({self.hostless: '', self.up: ABSENT,
                          self.down: ABSENT}, shown(result))
        self.assertEqual([sorted([self.up, self.down])], self.lookups)
        [warning] = self.warnings()
        self.assertIn('did not answer', warning)

    def test_hostless_show_needs_no_records(self):
        with self.unreadable():
            result = self.admin('GET', '/servers/%s' % self.hostless, '2.16')
        self.assertStatus(200, result)
        self.assertEqual({self.hostless: ''}, shown(result))
        self.assertEqual([], self.lookups)
        self.assertEqual([], self.warnings())

    def test_show_keeps_no_key(self):
        with self.unreadable():
            result = self.admin('GET', '/servers/%s' % self.up, '2.16')
        self.assertStatus(200, result)
        self.assertEqual({self.up: ABSENT}, shown(result))
        self.assertEqual([[self.up]], self.lookups)
        self.assertEqual(1, len(self.warnings()))

    def test_filter_keeping_nova_values_reads_nothing(self):
        nova = shown(self.admin('GET', self.detail_path(), '2.16',
                                nova=True))
        with self.unreadable():
            result = self.admin('GET', self.detail_path(), '2.16',
                                keep_nova=True)
        self.assertStatus(200, result)
        self.assertEqual(nova, shown(result))
        self.assertEqual([], self.lookups)
        self.assertEqual([], self.warnings())

    def test_records_readable_again_at_once(self):
        with self.unreadable():
            self.admin('GET', self.detail_path(), '2.16')
        result = self.admin('GET', self.detail_path(), '2.16')
        self.assertEqual({self.hostless: '', self.up: 'UP',
                          self.down: 'DOWN'}, shown(result))
        self.assertEqual(1, len(self.warnings()))


class TestAdminApiWidened(base.TestCase):
    """``admin_api`` widened to members, the host_status rules at their
    defaults: the filter decides as Nova does, with Nova's defaults.
    """

    def setUp(self):
        super().setUp()
        self.up = self.server(self.host('up'))
        self.down = self.server(self.host('forced_down'))
        self.set_policy(WIDE_ADMIN_API)

    def answers(self, call, detail_path):
        """{pipeline: {'detail': ..., 'show': ...}} for one caller."""
        answers = {}
        for name, pipeline in FILTERED + (('nova', NOVA),):
            detail = call('GET', detail_path, '2.16', **pipeline)
            self.assertStatus(200, detail)
            views = {'detail': shown(detail), 'show': {}}
            for server_id in (self.up, self.down):
                result = call('GET', '/servers/%s' % server_id, '2.16',
                              **pipeline)
                self.assertStatus(200, result)
                views['show'].update(shown(result))
            answers[name] = views
        return answers

    def assertNovasDecision(self, answers, expected):
        nova = answers.pop('nova')
        self.assertEqual({'detail': expected, 'show': expected}, nova)
        for name, views in answers.items():
            self.assertEqual(nova, views, name)

    def test_member(self):
        # Nova's default for the host_status rules is not admin_api.
        self.assertNovasDecision(
            self.answers(self.owner, '/servers/detail'),
            {self.up: ABSENT, self.down: ABSENT})

    def test_admin(self):
        self.assertNovasDecision(
            self.answers(self.admin, self.detail_path()),
            {self.up: 'UP', self.down: 'DOWN'})
