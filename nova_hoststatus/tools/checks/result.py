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

"""What every check returns, and how it collects what it finds.

A check returns a :class:`Result`: oslo.upgradecheck's code and details,
with the check's name and a one-line fix for each problem it found.  A
check builds it with :class:`Findings`, one detail line at a time.
"""

import os

from oslo_upgradecheck import upgradecheck

Code = upgradecheck.Code


class Result(upgradecheck.Result):
    """oslo.upgradecheck's result, with the check's name and the fix."""

    def __init__(self, check, code, details, fix=None):
        super().__init__(code, details)
        self.check = check
        self.fix = fix

    @property
    def result(self):
        """``Success``, ``Warning`` or ``Failure``."""
        return str(upgradecheck.UPGRADE_CHECK_MSG_MAP[self.code])

    def as_dict(self):
        return {'check': self.check, 'result': self.result,
                'details': self.details, 'fix': self.fix}


class Findings(object):
    """What one check found: detail lines, and the fix of each problem."""

    def __init__(self, check):
        self.check = check
        self.code = Code.SUCCESS
        self.lines = []
        self.fixes = []

    def note(self, line):
        self.lines.append(line)

    def problem(self, code, line, fix):
        self.code = max(self.code, code)
        self.lines.append('%s: %s' % (
            upgradecheck.UPGRADE_CHECK_MSG_MAP[code], line))
        if fix not in self.fixes:
            self.fixes.append(fix)

    def result(self):
        return Result(self.check, self.code, '\n'.join(self.lines),
                      '\n'.join(self.fixes) or None)


def outside(path, config_dirs):
    """Whether the file ``path`` is in none of ``config_dirs`` (the
    directories of the configuration files), nor below one; False when
    there is no file or no directory to compare with.
    """
    if not path or not config_dirs:
        return False
    real = os.path.realpath(path)
    for directory in config_dirs:
        directory = os.path.realpath(directory)
        if os.path.commonpath([real, directory]) == directory:
            return False
    return True


def read_outside(found, what, path, config_dirs, setting, value, option,
                 example):
    """Warn that ``what`` (a file) was read from ``path``, outside
    ``config_dirs``: a copy of a deployment whose ``setting`` names the
    original's file by its absolute path (``value``) checks the
    original's, without a word.
    """
    where = ', '.join(config_dirs)
    how = '%s = %s' % (setting, value)
    if not os.path.isabs(value):
        how += ', not found there'
    found.problem(
        Code.WARNING,
        'the %s read is %s, outside the directory of the configuration '
        'files (%s; %s): if that directory is a copy of a deployment, the '
        'copy\'s own %s was not checked' % (what, path, where, how, what),
        'to check another %s, give it with %s, or set %s to its name next '
        'to the configuration files (%s = %s)'
        % (what, option, setting, setting, example))


def not_checked(check, why, fix):
    """The row of a check that could not run, and why."""
    return Result(check, Code.WARNING, 'Not checked: %s' % why, fix)


def table(rows):
    """Rows of cells as lines of aligned columns."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ['  '.join(cell.ljust(width)
                      for cell, width in zip(row, widths)).rstrip()
            for row in rows]
