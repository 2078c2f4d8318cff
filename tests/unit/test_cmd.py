"""The command line: options checked before Nova starts.

None of this needs Nova: a bad option must be refused at once, not after
Nova's start.
"""

import contextlib
import io
import socket
import subprocess
import sys

import fixtures
import testtools

from nova_hoststatus import cmd
from nova_hoststatus.cmd import drill
from nova_hoststatus.cmd import serve


class CommandLineTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        # Whatever passes the options must not start anything.
        self.ran = []
        for module in (drill, serve):
            self.useFixture(fixtures.MonkeyPatch(
                module.__name__ + '.run', self.ran.append))

    def main(self, *argv):
        """Exit status, stdout and stderr of ``nova-hoststatus argv``."""
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                status = cmd.main(list(argv))
            except SystemExit as exc:
                status = exc.code
        return status, out.getvalue(), err.getvalue()

    def assertRefused(self, option, *argv):
        status, _, err = self.main(*argv)
        self.assertEqual(2, status, err)
        self.assertIn('error: argument %s: ' % option, err)
        self.assertEqual([], self.ran)
        return err

    def test_drill_defaults_pass(self):
        self.assertEqual(None, self.main('drill')[0])
        [args] = self.ran
        self.assertEqual((10, 100, 3, 1.0, 20, 1),
                         (args.hosts, args.servers, args.rounds, args.budget,
                          args.rows, args.workers))

    def test_drill_bad_numbers(self):
        for option, value in (('--hosts', '0'), ('--hosts', '-3'),
                              ('--hosts', 'ten'), ('--servers', '0'),
                              ('--rounds', '0'), ('--workers', '0'),
                              ('--rows', '-1'), ('--budget', '0'),
                              ('--budget', '-0.5'), ('--budget', 'nan'),
                              ('--budget', 'inf'), ('--budget', 'soon')):
            err = self.assertRefused(option, 'drill', option, value)
            self.assertIn(repr(value), err)

    def test_drill_edges_pass(self):
        status, _, err = self.main('drill', '--hosts', '1', '--servers', '1',
                                   '--rounds', '1', '--rows', '0',
                                   '--budget', '0.001')
        self.assertIsNone(status, err)

    def test_drill_needs_a_server_on_every_host(self):
        err = self.assertRefused('--servers', 'drill', '--hosts', '5',
                                 '--servers', '4')
        self.assertIn('at least --hosts (5)', err)
        self.assertIsNone(self.main('drill', '--hosts', '5',
                                    '--servers', '5')[0])

    def test_no_memcached_needs_workers(self):
        self.assertRefused('--no-memcached', 'drill', '--no-memcached')
        self.assertIsNone(self.main('drill', '--workers', '2',
                                    '--no-memcached')[0])

    def test_serve_bad_ports(self):
        for value in ('0', '-1', '65536', '99999', 'http'):
            self.assertRefused('--port', 'serve', '--port', value)

    def test_serve_busy_port(self):
        with socket.socket() as busy:
            busy.bind(('127.0.0.1', 0))
            busy.listen()
            port = busy.getsockname()[1]
            err = self.assertRefused('--port', 'serve', '--port', str(port))
        self.assertIn('127.0.0.1:%d is in use' % port, err)

    def test_serve_free_port(self):
        with socket.socket() as probe:
            probe.bind(('127.0.0.1', 0))
            port = probe.getsockname()[1]
        self.assertIsNone(self.main('serve', '--port', str(port))[0])
        [args] = self.ran
        self.assertEqual(port, args.port)

    def test_version(self):
        status, out, _ = self.main('--version')
        self.assertEqual(0, status)
        self.assertRegex(out, r'^nova-hoststatus \d+\.\d+')

    def test_importing_the_commands_leaves_nova_alone(self):
        code = ('import sys; import nova_hoststatus.cmd; '
                "print(sorted(m for m in sys.modules if m == 'nova' "
                "or m.startswith('nova.')))")
        out = subprocess.run([sys.executable, '-c', code], check=True,
                             capture_output=True, text=True).stdout
        self.assertEqual('[]', out.strip())
