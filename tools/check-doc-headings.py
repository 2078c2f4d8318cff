#!/usr/bin/env python3
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

"""Find section headings that docutils does not read as headings.

Usage::

    python3 tools/check-doc-headings.py [PATH ...]

Each PATH is an .rst file or a folder searched for them (default:
doc/source and README.rst).  Exit status 0 when every heading is one, 1
with a ``file:line: message`` for each that is not.

A title and its underline glued to the paragraph before them (no blank
line between) are, to docutils, two more lines of that paragraph: the
page shows the title and a row of ``=`` as text, and neither docutils
nor ``sphinx-build -W`` says a word, since a paragraph may hold any
text.  An overline glued to the line before it is worse: that line
becomes the title, with the overline as its underline.  This check
reads the source as lines, as docutils does for adornments:

* an adornment is a line of one punctuation character repeated (any
  7-bit non-alphanumeric, as docutils allows), starting in column 0, at
  least 4 long or as long as the title it adorns (docutils reads a
  shorter one as text);
* a title line (in column 0, not itself an adornment) followed by an
  underline must follow a blank line, the start of the file, or the
  underline of another title (a title right under a title is read as
  one);
* an overline (an adornment with a title under it and the same
  adornment under that) must follow a blank line or the start of the
  file.

Indented lines (literal blocks, directive bodies, sample output) are
never headings and are not looked at.
"""

import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_PATHS = ('doc/source', 'README.rst')
# A run of one 7-bit non-alphanumeric character: docutils' adornments.
ADORNMENT = re.compile(r'^([!-/:-@\[-`{-~])\1*[ \t]*$')


def _adornment(line):
    """The character of an adornment line, or None."""
    match = ADORNMENT.match(line)
    return match.group(1) if match else None


def _adorns(adornment, title):
    """Whether docutils takes ``adornment`` as the adornment of ``title``:
    at least as long, or at least 4 characters (shorter than the title it
    warns; shorter than 4 and than the title it reads as text).
    """
    length = len(adornment.rstrip())
    return length >= 4 or length >= len(title.rstrip())


def _is_title(line):
    """A line that can be a section title: text in column 0."""
    return (bool(line.strip()) and not line[0].isspace() and
            _adornment(line) is None)


def _heading_at(lines, at):
    """How many lines the heading starting at ``lines[at]`` takes: 3 for
    an overline, a title and an underline, 2 for a title and an
    underline, 0 for no heading.
    """
    line = lines[at]
    mark = _adornment(line)
    if mark is not None:
        if (at + 2 < len(lines) and _is_title(lines[at + 1]) and
                _adornment(lines[at + 2]) == mark and
                _adorns(line, lines[at + 1]) and
                _adorns(lines[at + 2], lines[at + 1])):
            return 3
        return 0
    if (_is_title(line) and at + 1 < len(lines) and
            _adornment(lines[at + 1]) is not None and
            _adorns(lines[at + 1], line)):
        return 2
    return 0


def check_lines(lines):
    """``(line number, message)`` for each heading in ``lines`` (text
    without line ends) that docutils would not read as one.

    The lines are read from the top, as docutils reads them: a heading
    is fine after a blank line, at the start, or right under another
    heading (which docutils reads as one); after any other line it is
    glued to that line.
    """
    problems = []
    # What the line above was: 'blank' (or the start), 'heading', 'text'.
    above = 'blank'
    at = 0
    while at < len(lines):
        line = lines[at]
        if not line.strip():
            above = 'blank'
            at += 1
            continue
        if line[0].isspace():
            above = 'text'
            at += 1
            continue
        # A line of text right above an overlined heading: docutils takes
        # that line for the title and the overline for its underline.
        if (_is_title(line) and at + 1 < len(lines) and
                _heading_at(lines, at + 1) == 3):
            problems.append((at + 2, (
                'the overline of heading %r follows line %d without a '
                'blank line: docutils reads line %d as the title instead; '
                'put a blank line before the overline'
                % (lines[at + 2].strip(), at + 1, at + 1))))
            above = 'heading'
            at += 4
            continue
        size = _heading_at(lines, at)
        if size == 0:
            above = 'text'
            at += 1
            continue
        title = at + 1 if size == 3 else at
        if above == 'text':
            problems.append((title + 1, (
                'heading %r follows line %d without a blank line: docutils '
                'reads it and its underline as text of the paragraph '
                'above; put a blank line before it'
                % (lines[title].strip(), at))))
        above = 'heading'
        at += size
    return problems


def rst_files(paths):
    """The .rst files of ``paths`` (files, or folders searched), sorted."""
    found = []
    for path in paths:
        if os.path.isdir(path):
            for folder, _, names in os.walk(path):
                found.extend(os.path.join(folder, name) for name in names
                             if name.endswith('.rst'))
        else:
            found.append(path)
    return sorted(found)


def check_file(path):
    """``file:line: message`` lines for each problem in ``path``."""
    with open(path, encoding='utf-8') as f:
        lines = f.read().splitlines()
    return ['%s:%d: %s' % (path, number, message)
            for number, message in check_lines(lines)]


def main(argv=None):
    paths = (sys.argv[1:] if argv is None else argv) or [
        os.path.join(ROOT, path) for path in DEFAULT_PATHS]
    problems = []
    files = rst_files(paths)
    for path in files:
        problems.extend(check_file(path))
    for problem in problems:
        print(problem)
    if problems:
        print('%d heading(s) that docutils reads as text, in %d file(s) '
              'checked' % (len(problems), len(files)), file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
