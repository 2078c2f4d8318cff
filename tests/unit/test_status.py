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

"""The host_status table: one value from one service record."""

import datetime

import testtools

from nova_hoststatus import services
from nova_hoststatus import status

NOW = datetime.datetime(2026, 11, 26, 12, 0, 0)
DOWN_TIME = 60


def service(age=0, disabled=False, forced_down=False, reported_up=True,
            updated_at='age'):
    if updated_at == 'age':
        updated_at = NOW - datetime.timedelta(seconds=age)
    return services.ComputeService(
        host='compute-1', disabled=disabled, forced_down=forced_down,
        reported_up=reported_up, updated_at=updated_at)


class StatusTableTest(testtools.TestCase):
    """Every row of the table, first match wins, in Nova's order."""

    def assertStatus(self, expected, record):
        self.assertEqual(expected,
                         status.host_status(record, NOW, DOWN_TIME))

    def test_no_host_or_no_service_record_is_empty(self):
        self.assertStatus('', None)

    def test_forced_down_is_down(self):
        self.assertStatus('DOWN', service(forced_down=True))

    def test_forced_down_wins_over_disabled(self):
        self.assertStatus('DOWN', service(forced_down=True, disabled=True))

    def test_forced_down_wins_over_stale_heartbeat(self):
        self.assertStatus('DOWN', service(forced_down=True, age=3600,
                                          reported_up=False))

    def test_disabled_is_maintenance(self):
        self.assertStatus('MAINTENANCE', service(disabled=True))

    def test_disabled_wins_over_stale_heartbeat(self):
        self.assertStatus('MAINTENANCE', service(disabled=True, age=3600,
                                                 reported_up=False))

    def test_recent_heartbeat_is_up(self):
        self.assertStatus('UP', service(age=5))

    def test_heartbeat_exactly_service_down_time_old_is_up(self):
        self.assertStatus('UP', service(age=DOWN_TIME))

    def test_heartbeat_just_older_than_service_down_time_is_unknown(self):
        self.assertStatus('UNKNOWN', service(age=DOWN_TIME + 0.001))

    def test_heartbeat_slightly_in_future_is_up(self):
        self.assertStatus('UP', service(age=-10))

    def test_nova_said_down_is_unknown_even_with_recent_update(self):
        # Enabling a stale service refreshes updated_at, not its heartbeat.
        self.assertStatus('UNKNOWN', service(age=1, reported_up=False))

    def test_up_without_updated_at_trusts_nova(self):
        self.assertStatus('UP', service(updated_at=None))

    def test_cached_up_turns_unknown_when_heartbeat_ages(self):
        record = service(age=0)
        later = NOW + datetime.timedelta(seconds=DOWN_TIME + 1)
        self.assertEqual('UP', status.host_status(record, NOW, DOWN_TIME))
        self.assertEqual('UNKNOWN',
                         status.host_status(record, later, DOWN_TIME))
