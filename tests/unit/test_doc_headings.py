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

"""tools/check-doc-headings.py: headings glued to the paragraph above,
which docutils and ``sphinx-build -W`` read as text without a warning.
"""

import importlib.util
import io
import os

import fixtures
import testtools

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, 'tools', 'check-doc-headings.py')


def _load():
    spec = importlib.util.spec_from_file_location('check_doc_headings',
                                                  SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


headings = _load()

FINE = """\
===========
Performance
===========

What the filter costs.

Across workers
==============

A table of figures::

    W x T   Nova alone
    -----   ----------
    1x1     116.1
    =====
    Not a heading
    =============

A title
=======
A title right under it
----------------------

Text, and a transition below.

----

``rst`` with a short line of dots
...
and a row of two dashes below a long line
--
"""

# Finding 7 of issue 20: the heading of performance.rst's last section,
# glued to the last line of the paragraph above.
GLUED = """\
Performance
===========

request right, no flip-back, no error.
Behind real Keystone
====================

The sandbox.
"""

GLUED_OVERLINE = """\
Performance
===========

One line of text.
=======
Section
=======
"""


class CheckLinesTest(testtools.TestCase):

    def test_fine_headings_pass(self):
        self.assertEqual([], headings.check_lines(FINE.splitlines()))

    def test_a_heading_glued_to_a_paragraph_is_found(self):
        problems = headings.check_lines(GLUED.splitlines())
        self.assertEqual([5], [line for line, _ in problems])
        self.assertIn("heading 'Behind real Keystone' follows line 4",
                      problems[0][1])

    def test_an_overline_glued_to_a_line_is_found(self):
        problems = headings.check_lines(GLUED_OVERLINE.splitlines())
        self.assertEqual([5], [line for line, _ in problems])
        self.assertIn("overline of heading 'Section' follows line 4",
                      problems[0][1])

    def test_a_short_underline_below_a_long_line_is_text(self):
        # Shorter than 4 and than the line: docutils reads it as text.
        self.assertEqual([], headings.check_lines(
            ['Some text', 'A long line of text', '---']))

    def test_a_short_underline_of_a_short_title_counts(self):
        lines = ['Some text', 'Abc', '---']
        self.assertEqual([2], [line for line, _ in
                               headings.check_lines(lines)])


class MainTest(testtools.TestCase):

    def _write(self, folder, name, text):
        path = os.path.join(folder, name)
        with open(path, 'w') as f:
            f.write(text)
        return path

    def test_file_and_line_reported_and_status_1(self):
        folder = self.useFixture(fixtures.TempDir()).path
        self._write(folder, 'fine.rst', FINE)
        broken = self._write(folder, 'broken.rst', GLUED)
        self._write(folder, 'notes.txt', GLUED)
        out = self.useFixture(fixtures.MonkeyPatch('sys.stdout',
                                                   io.StringIO())).new_value
        self.useFixture(fixtures.MonkeyPatch('sys.stderr', io.StringIO()))
        self.assertEqual(1, headings.main([folder]))
        self.assertEqual(['%s:5' % broken],
                         [':'.join(line.split(':')[:2])
                          for line in out.getvalue().splitlines()])

    def test_fine_files_status_0(self):
        folder = self.useFixture(fixtures.TempDir()).path
        self._write(folder, 'fine.rst', FINE)
        out = self.useFixture(fixtures.MonkeyPatch('sys.stdout',
                                                   io.StringIO())).new_value
        self.assertEqual(0, headings.main([folder]))
        self.assertEqual('', out.getvalue())

    def test_the_documentation_passes(self):
        out = self.useFixture(fixtures.MonkeyPatch('sys.stdout',
                                                   io.StringIO())).new_value
        self.assertEqual(0, headings.main([]), out.getvalue())
