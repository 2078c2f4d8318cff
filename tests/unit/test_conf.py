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

"""The filter's settings: paste values over ``[host_status]`` options."""

import fixtures
from oslo_config import cfg
import testtools

from nova_hoststatus import conf


class SettingsTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.conf = cfg.ConfigOpts()
        self.conf([])

    def settings(self, **paste):
        return conf.Settings(dict(paste, oslo_config_config=self.conf))

    def test_defaults(self):
        settings = self.settings()
        self.assertIsNone(settings.policy_file)
        self.assertEqual([], settings.deprecated)

    def test_config_file_option(self):
        settings = self.settings()
        self.conf.set_override('policy_file', '/etc/nova/policy.yaml',
                               group='host_status')
        self.assertEqual('/etc/nova/policy.yaml', settings.policy_file)

    def test_paste_value_wins(self):
        settings = self.settings(policy_file='/tmp/p.json')
        self.conf.set_override('policy_file', '/etc/nova/policy.yaml',
                               group='host_status')
        self.assertEqual('/tmp/p.json', settings.policy_file)

    def test_paste_values_are_not_written_into_the_config(self):
        self.settings(service_cache_time='45', policy_file='/tmp/p.json')
        self.assertIsNone(self.conf.host_status.service_cache_time)
        self.assertIsNone(self.conf.host_status.policy_file)

    def test_deprecated_settings_are_accepted_and_named(self):
        path = self.useFixture(fixtures.TempDir()).path + '/nova.conf'
        with open(path, 'w') as f:
            f.write('[host_status]\nlease_time = 30\n')
        self.conf(['--config-file', path])
        log = self.useFixture(fixtures.FakeLogger())
        settings = self.settings(service_down_time='45',
                                 service_cache_time='0.5')
        self.assertEqual(['service_down_time', 'service_cache_time',
                          'lease_time'], settings.deprecated)
        # One warning each: the paste values' here, the file's from
        # oslo.config.
        self.assertEqual(3, log.output.count('deprecated for removal'))
        self.assertIn('"lease_time" from group "host_status"', log.output)

    def test_unknown_paste_setting_is_named(self):
        error = self.assertRaises(ValueError, self.settings,
                                  policy_fille='/tmp/p.json')
        self.assertIn('policy_fille', str(error))
        self.assertIn('policy_file', str(error))

    def test_bad_paste_value_is_named(self):
        error = self.assertRaises(ValueError, self.settings,
                                  service_down_time='soon')
        self.assertIn('service_down_time', str(error))

    def test_list_opts_for_the_generator(self):
        [(group, opts)] = conf.list_opts()
        self.assertEqual('host_status', group)
        self.assertEqual(['policy_file', 'service_down_time',
                          'service_cache_time', 'stale_if_error',
                          'lease_time', 'cache_namespace',
                          'memcache_security_strategy',
                          'memcache_secret_key'], [o.name for o in opts])
        self.assertEqual([False] + [True] * 7,
                         [o.deprecated_for_removal for o in opts])
        self.assertIsNot(conf.OPTS[0], opts[0])
