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

"""Run the selected Nova tests in one or more variants.

Usage: ``python -m tests.upstream [VARIANT ...] [-- STESTR-RUN-ARGS]``
(default: ``filter filter-only-values``; ``stock`` is the reference run
on Nova's own pipeline).  Each variant keeps its own stestr repository,
so its results can be read back with ``stestr --repo-url DIR last``.
Every variant runs even when an earlier one fails; the exit code is
non-zero if any failed.
"""

import os
import subprocess
import sys

from tests.upstream import harness

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))

# variant: (package whose load_tests sets the variant up, stestr repository
# suffix).  The repositories are PREFIX-SUFFIX, the prefix from
# NOVA_TESTS_REPO_PREFIX (tox sets .stestr-{envname}): .stestr-nova-tests-*
# for Nova 34, .stestr-nova-tests-nova31-* for a release check on Nova 31.
VARIANTS = {
    'stock': ('stock', 'stock'),
    'filter': ('filter', 'filter'),
    'filter-only-values': ('filter_only_values', 'values'),
}
DEFAULT = ('filter', 'filter-only-values')
PREFIX = os.environ.get('NOVA_TESTS_REPO_PREFIX') or '.stestr-nova-tests'


def run(variant, extra):
    package, suffix = VARIANTS[variant]
    repo = os.path.join(TOP, '%s-%s' % (PREFIX, suffix))
    os.makedirs(repo, exist_ok=True)
    command = ['stestr', '--test-path', os.path.join(HERE, package),
               '--top-dir', TOP, '--repo-url', repo, 'run',
               '--include-list', harness.SELECTION] + extra
    print('=== Nova tests, variant %s (results: stestr --repo-url %s '
          'last)' % (variant, os.path.relpath(repo, TOP)), flush=True)
    return subprocess.call(command, cwd=TOP)


def main(argv):
    if '--' in argv:
        split = argv.index('--')
        variants, extra = argv[:split], argv[split + 1:]
    else:
        variants, extra = argv, []
    variants = variants or list(DEFAULT)
    unknown = [name for name in variants if name not in VARIANTS]
    if unknown:
        sys.exit('unknown variant(s): %s; choose from %s'
                 % (', '.join(unknown), ', '.join(VARIANTS)))
    failed = [variant for variant in variants if run(variant, extra)]
    if failed:
        print('=== Nova tests failed in: %s' % ', '.join(failed))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
