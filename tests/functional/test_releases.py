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

"""What differs between the supported Nova releases, pinned per release.

The filter and the sandbox ask Nova for these facts rather than know them;
this table is where a new release's differences are written down (and the
README's "Supported Nova releases" with it).  A release missing from it
fails here first.
"""

import importlib.metadata

from tests.functional import test_force_down

# Nova's major version: (newest microversion, how Nova words the refusal of
# a force-down host name that is both too long and of refused characters).
RELEASES = {
    31: ('2.100', 'is too long'),
    32: ('2.100', 'does not match'),
    33: ('2.103', 'does not match'),
    34: ('2.104', 'does not match'),
}


def release():
    return int(importlib.metadata.version('nova').split('.')[0])


class TestReleaseFacts(test_force_down.ForceDownCase):

    def setUp(self):
        super().setUp()
        self.assertIn(release(), RELEASES, 'an unsupported Nova release')
        self.max_version, self.host_message = RELEASES[release()]

    def test_newest_microversion(self):
        result = self.admin('GET', '/', nova=True)
        self.assertStatus(200, result)
        [v21] = [v for v in result.json['versions'] if v['id'] == 'v2.1']
        self.assertEqual(self.max_version, v21['version'])
        # ``latest`` reaches it through the filter, host_status included.
        result = self.admin('GET', '/servers/%s' % self.server_id, 'latest')
        self.assertStatus(200, result)
        self.assertEqual('compute ' + self.max_version,
                         result.headers['OpenStack-API-Version'])
        self.assertEqual('UP', result.json['server']['host_status'])

    def test_host_both_too_long_and_refused(self):
        body = {'host': '!' * 256, 'binary': 'nova-compute',
                'forced_down': True}
        self.assertRejected(test_force_down.FORCE_DOWN, '2.11', body)
        message = self.send(test_force_down.FORCE_DOWN, '2.11',
                            body).json['badRequest']['message']
        self.assertIn(self.host_message, message)
