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

import copy

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
        self.assertEqual(3.0, settings.service_cache_time)
        self.assertEqual(60, settings.service_down_time)

    def test_service_down_time_follows_the_services_own_option(self):
        self.conf.register_opt(cfg.IntOpt('service_down_time', default=60))
        self.conf.set_override('service_down_time', 120)
        self.assertEqual(120, self.settings().service_down_time)

    def test_config_file_options(self):
        settings = self.settings()
        self.conf.set_override('service_down_time', 30, group='host_status')
        self.conf.set_override('policy_file', '/etc/nova/policy.yaml',
                               group='host_status')
        self.assertEqual(30, settings.service_down_time)
        self.assertEqual('/etc/nova/policy.yaml', settings.policy_file)

    def test_paste_value_wins_and_is_typed_by_the_option(self):
        settings = self.settings(service_down_time='45',
                                 service_cache_time='0.5')
        self.conf.set_override('service_down_time', 30, group='host_status')
        self.assertEqual(45, settings.service_down_time)
        self.assertEqual(0.5, settings.service_cache_time)

    def test_paste_values_are_not_written_into_the_config(self):
        self.settings(service_down_time='45', policy_file='/tmp/p.json')
        self.assertIsNone(self.conf.host_status.service_down_time)
        self.assertIsNone(self.conf.host_status.policy_file)

    def test_unknown_paste_setting_is_named(self):
        error = self.assertRaises(ValueError, self.settings,
                                  service_downtime='45')
        self.assertIn('service_downtime', str(error))
        self.assertIn('service_down_time', str(error))

    def test_bad_paste_value_is_named(self):
        error = self.assertRaises(ValueError, self.settings,
                                  service_down_time='soon')
        self.assertIn('service_down_time', str(error))
        error = self.assertRaises(ValueError, self.settings,
                                  service_down_time='0')
        self.assertIn('service_down_time', str(error))

    def test_list_opts_for_the_generator(self):
        [(group, opts)] = conf.list_opts()
        self.assertEqual('host_status', group)
        self.assertEqual(['policy_file', 'service_down_time',
                          'service_cache_time', 'stale_if_error',
                          'lease_time', 'cache_namespace',
                          'memcache_security_strategy',
                          'memcache_secret_key'], [o.name for o in opts])
        self.assertIsNot(conf.OPTS[0], opts[0])
        self.assertEqual(copy.deepcopy(conf.OPTS), opts)
