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


def not_checked(check, why, fix):
    """The row of a check that could not run, and why."""
    return Result(check, Code.WARNING, 'Not checked: %s' % why, fix)


def table(rows):
    """Rows of cells as lines of aligned columns."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ['  '.join(cell.ljust(width)
                      for cell, width in zip(row, widths)).rstrip()
            for row in rows]
