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

"""The Ceilometer files the chain reads, in the source tree and installed.
"""

import configparser
import os

import fixtures
import testtools

from nova_hoststatus.tools import launchers
from nova_hoststatus.tools import telemetry

TOP = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


class EtcFilesTest(testtools.TestCase):

    def test_found_in_the_source_tree(self):
        for name in ('event_definitions.yaml', 'event_pipeline.yaml'):
            path = telemetry._etc(name)
            self.assertTrue(os.path.isfile(path), path)

    def test_found_where_pip_installs_them(self):
        # setup.cfg installs etc/ceilometer under share/nova-hoststatus.
        parser = configparser.ConfigParser()
        parser.read(os.path.join(TOP, 'setup.cfg'))
        data_files = parser['files']['data_files']
        self.assertIn('share/nova-hoststatus/ceilometer = etc/ceilometer/*',
                      data_files)
        installed = self.useFixture(fixtures.TempDir()).path
        with open(os.path.join(installed, 'event_pipeline.yaml'), 'w'):
            pass
        self.useFixture(fixtures.MonkeyPatch(
            'nova_hoststatus.tools.telemetry.ETC_PLACES',
            ('/nonexistent', installed)))
        self.assertEqual(os.path.join(installed, 'event_pipeline.yaml'),
                         telemetry._etc('event_pipeline.yaml'))

    def test_missing_names_the_file(self):
        self.useFixture(fixtures.MonkeyPatch(
            'nova_hoststatus.tools.telemetry.ETC_PLACES', ('/nonexistent',)))
        error = self.assertRaises(launchers.Missing, telemetry._etc,
                                  'event_definitions.yaml')
        self.assertIn('event_definitions.yaml', str(error))
        self.assertIn('/nonexistent', str(error))
