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

"""The microversion a request asks for and the one Nova answered with."""

import testtools

from nova_hoststatus import microversion


class RequestedVersionTest(testtools.TestCase):

    def test_no_header_is_2_1(self):
        self.assertEqual((2, 1), microversion.requested({}))

    def test_openstack_api_version(self):
        self.assertEqual((2, 16), microversion.requested(
            {'OpenStack-API-Version': 'compute 2.16'}))

    def test_last_compute_entry_wins_and_name_is_case_insensitive(self):
        self.assertEqual((2, 75), microversion.requested(
            {'OpenStack-API-Version':
             'compute 2.16, volume 3.5, COMPUTE 2.75'}))

    def test_other_services_only_fall_back_to_legacy_header(self):
        self.assertEqual((2, 11), microversion.requested(
            {'OpenStack-API-Version': 'volume 3.5',
             'X-OpenStack-Nova-API-Version': '2.11'}))

    def test_new_header_wins_over_legacy(self):
        self.assertEqual((2, 53), microversion.requested(
            {'OpenStack-API-Version': 'compute 2.53',
             'X-OpenStack-Nova-API-Version': '2.11'}))

    def test_latest_is_above_every_version(self):
        latest = microversion.requested(
            {'OpenStack-API-Version': 'compute latest'})
        self.assertEqual(microversion.LATEST, latest)
        self.assertGreater(latest, (2, 999))

    def test_versions_compare_numerically(self):
        self.assertLess(microversion.parse('2.9'), microversion.parse('2.16'))

    def test_malformed_versions_are_left_to_nova(self):
        for text in ('2', '2.x', '02.1', '2.01', 'two', '2.1.1', ''):
            self.assertIsNone(microversion.requested(
                {'OpenStack-API-Version': 'compute %s' % text}), text)


class AnsweredVersionTest(testtools.TestCase):

    def test_answer_header(self):
        self.assertEqual((2, 104), microversion.answered(
            {'OpenStack-API-Version': 'compute 2.104'}))

    def test_no_header_names_no_version(self):
        self.assertIsNone(microversion.answered({}))

    def test_headers_nova_puts_on_responses(self):
        self.assertEqual(
            [('OpenStack-API-Version', 'compute 2.53'),
             ('X-OpenStack-Nova-API-Version', '2.53'),
             ('Vary', 'OpenStack-API-Version'),
             ('Vary', 'X-OpenStack-Nova-API-Version')],
            microversion.header_pairs((2, 53)))
