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

"""The agent's options (:mod:`nova_hoststatus.notifier.opts`) and what
``nova-hoststatus notifier`` does before Nova is needed.

Nova is not installed where these run: the command is driven with
``_nova`` replaced by a configuration of the agent's options alone, and
with Nova's module made unimportable.
"""

import signal
import sys
import types
from unittest import mock

import fixtures
from oslo_config import cfg
import testtools

from nova_hoststatus.notifier import opts
from nova_hoststatus.tools import sandbox
from tests.unit import base


class ListOptsTest(testtools.TestCase):

    def test_groups_and_names(self):
        listed = dict(opts.list_opts())
        self.assertEqual(['host_status_notifier', 'coordination'],
                         [group for group, _ in opts.list_opts()])
        self.assertEqual(
            ['connection', 'scan_interval', 'claim_timeout', 'queue',
             'topics', 'coordination_group'],
            [opt.name for opt in listed['host_status_notifier']])
        self.assertEqual(['backend_url'],
                         [opt.name for opt in listed['coordination']])

    def test_secrets(self):
        listed = dict(opts.list_opts())
        secret = {opt.name for group in listed.values() for opt in group
                  if opt.secret}
        self.assertEqual({'connection', 'backend_url'}, secret)

    def test_listed_are_copies(self):
        [(_, listed), _] = opts.list_opts()
        self.assertIsNot(opts.OPTS[0], listed[0])
        listed[0].default = 'changed'
        self.assertIsNone(opts.OPTS[0].default)

    def test_defaults_and_bounds(self):
        conf = cfg.ConfigOpts()
        opts.register(conf)
        conf([], project='nova-hoststatus-tests')
        options = conf.host_status_notifier
        self.assertIsNone(options.connection)
        self.assertEqual(2.0, options.scan_interval)
        self.assertEqual(30.0, options.claim_timeout)
        self.assertEqual('nova-hoststatus', options.queue)
        self.assertEqual(['notifications'], options.topics)
        self.assertEqual('nova-hoststatus-notifier',
                         options.coordination_group)
        self.assertIsNone(conf.coordination.backend_url)
        self.assertRaises(ValueError, conf.set_override, 'scan_interval',
                          0.1, group='host_status_notifier')
        self.assertRaises(ValueError, conf.set_override, 'claim_timeout',
                          0.5, group='host_status_notifier')


class NotifierCommandTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        # run() sets the handlers of both signals; give the runner back
        # its own.
        for number in (signal.SIGTERM, signal.SIGINT):
            self.addCleanup(signal.signal, number, signal.getsignal(number))
        self.useFixture(fixtures.EnvironmentVariable(
            'OS_NOVA_DISABLE_EVENTLET_PATCHING'))

    def main(self, *argv):
        return base.run_command(*argv)

    def without_nova_code(self, conf):
        """``_nova`` answers ``conf``; the module of Nova's answers is a
        stand-in, never called before the check.
        """
        self.useFixture(fixtures.MonkeyPatch(
            'nova_hoststatus.cmd.notifier._nova', lambda args: conf))
        patcher = mock.patch.dict(sys.modules, {
            'nova_hoststatus.notifier.hosts': types.ModuleType(
                'nova_hoststatus.notifier.hosts')})
        patcher.start()
        self.addCleanup(patcher.stop)

    def conf(self, **settings):
        conf = cfg.ConfigOpts()
        opts.register(conf)
        conf([], project='nova-hoststatus-tests')
        for name, value in settings.items():
            conf.set_override(name, value, group='host_status_notifier')
        return conf

    def test_without_a_connection_it_exits_2_naming_the_option(self):
        self.without_nova_code(self.conf())
        status, out, err = self.main('notifier')
        self.assertEqual(2, status)
        self.assertIn('[host_status_notifier] connection is not set', err)
        self.assertNotIn('listening', out)

    def test_without_nova_it_exits_2_saying_so(self):
        with mock.patch.dict(sys.modules, {'nova': None}):
            status, out, err = self.main(
                'notifier', '--config-file', '/nonexistent/nova.conf')
        self.assertEqual(2, status)
        self.assertIn(sandbox.NOVA_MISSING, err)
        self.assertEqual('', out)

    def test_options(self):
        ran = []
        self.useFixture(fixtures.MonkeyPatch(
            'nova_hoststatus.cmd.notifier.run', ran.append))
        self.main('notifier', '--config-file', 'a.conf', '--config-file',
                  'b.conf', '--config-dir', 'conf.d')
        [args] = ran
        self.assertEqual((['a.conf', 'b.conf'], ['conf.d']),
                         (args.config_file, args.config_dir))
        self.main('notifier')
        self.assertEqual(([], []), (ran[1].config_file, ran[1].config_dir))
        status, _, err = self.main('notifier', '--workers', '2')
        self.assertEqual(2, status)
        self.assertIn('unrecognized arguments: --workers 2', err)
