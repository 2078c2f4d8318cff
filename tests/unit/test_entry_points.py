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

"""The package as the OpenStack tools find it: by entry point."""

from importlib import metadata

import testtools

from nova_hoststatus import middleware
from nova_hoststatus import policies


def load(group, name):
    [entry_point] = [ep for ep in metadata.entry_points(group=group)
                     if ep.name == name]
    return entry_point.load()


class EntryPointTest(testtools.TestCase):

    def test_paste_filter_factory(self):
        self.assertIs(middleware.filter_factory,
                      load('paste.filter_factory', 'hoststatus'))

    def test_policy_generator_namespace(self):
        names = [rule.name for rule in
                 load('oslo.policy.policies', 'nova_hoststatus')()]
        self.assertIn(policies.SHOW_HOST_STATUS, names)
        self.assertIn(policies.SHOW_UNKNOWN_ONLY, names)

    def test_config_generator_namespace(self):
        [(group, opts)] = load('oslo.config.opts', 'nova_hoststatus')()
        self.assertEqual('host_status', group)
        self.assertIn('service_down_time', [opt.name for opt in opts])
