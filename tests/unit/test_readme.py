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

"""The README a new user reads first: short, and its two commands are the
ones CI runs."""

import os

import testtools

TOP = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
MOST_LINES = 150


def _read(name):
    with open(os.path.join(TOP, name)) as f:
        return f.read()


def _commands(readme):
    """The literal block of the README's first ``::`` paragraph."""
    lines = readme.splitlines()
    start = next(n for n, line in enumerate(lines) if line.endswith('::'))
    block = []
    for line in lines[start + 1:]:
        if line.strip() and not line.startswith('    '):
            break
        if line.strip():
            block.append(line.strip())
    return block


class ReadmeTest(testtools.TestCase):

    def test_short(self):
        lines = _read('README.rst').splitlines()
        self.assertLessEqual(len(lines), MOST_LINES)

    def test_two_commands_first(self):
        commands = _commands(_read('README.rst'))
        self.assertEqual(2, len(commands), commands)
        self.assertIn('nova-hoststatus drill', commands[0])
        self.assertTrue(commands[1].endswith('tox'), commands[1])

    def test_ci_runs_the_test_command_word_for_word(self):
        test_command = _commands(_read('README.rst'))[1]
        ci = [line.strip() for line in _read('.ci/run').splitlines()]
        self.assertIn(test_command, ci)

    def test_no_pip_outside_a_virtual_environment(self):
        # PEP 668: the system's Python refuses it.
        for command in _commands(_read('README.rst')):
            self.assertNotIn('python3 -m pip', command)
            self.assertNotIn('--break-system-packages', command)
            self.assertIn('python3 -m venv', command)
