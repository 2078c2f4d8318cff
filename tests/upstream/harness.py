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

"""Loads Nova's own tests with a variant's paste pipeline in place.

Each variant is a package whose ``load_tests`` comes from here, so the
same Nova tests run in every variant (stestr ``--test-path`` picks one)
and everything below is set up in each test process before any test runs:

* Nova's test fixture (``ConfFixture``) sets ``[wsgi] api_paste_config``
  as a default pointing inside the source tree, a file an installed Nova
  does not have.  oslo.config takes a value from the environment over a
  default, so ``OS_WSGI__API_PASTE_CONFIG`` names the variant's file for
  every ``OSAPIFixture`` without touching Nova's code or fixtures' logic.
* Nova's host_status tests change policy rules in memory
  (``RealPolicyFixture.set_rules``).  Inside Nova's pipeline the filter
  decides with Nova's own enforcer (the caller's ``context.can``) and reads
  Nova's records with Nova's own code on every request, so it follows those
  rules, and Nova's clock, by construction: nothing to set up for them.
"""

import atexit
import importlib
import os
import re
import shutil
import tempfile
import unittest

from tests.upstream import pipeline

PASTE_ENV = 'OS_WSGI__API_PASTE_CONFIG'

SELECTION = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                         'selected-tests.txt')

# The Nova test modules the selection in selected-tests.txt is drawn from.
MODULES = (
    'nova.tests.functional.test_policy',
    'nova.tests.functional.test_servers',
    'nova.tests.functional.api_sample_tests.test_servers',
    'nova.tests.functional.api_sample_tests.test_services',
    'nova.tests.functional.regressions.test_bug_1548980',
    'nova.tests.functional.regressions.test_bug_1702454',
    'nova.tests.functional.regressions.test_bug_1764556',
    'nova.tests.functional.wsgi.test_services',
)

_installed = []


def use_paste_file(variant):
    """Point Nova's test fixture at the paste file of ``variant``."""
    if variant == 'stock':
        path = pipeline.nova_paste_file()
    else:
        directory = tempfile.mkdtemp(prefix='nova-tests-paste-')
        atexit.register(shutil.rmtree, directory, True)
        path = pipeline.write(variant,
                              os.path.join(directory, 'api-paste.ini'))
    os.environ[PASTE_ENV] = path
    return path


def install(variant):
    """Set up this test process for ``variant``, once."""
    if _installed:
        if _installed[0] != variant:
            raise RuntimeError('variant %s already set up, not %s'
                               % (_installed[0], variant))
        return
    # Nova's tests apply Nova's eventlet monkey patching when imported; it
    # must come before the filter's imports (and Nova's test fixtures), as
    # it does in Nova's own runs.  Nova 31, 33 and 34 patch in
    # nova/tests/functional/__init__.py, Nova 32 only in nova/test.py
    # (which every test module imports, but only after the harness has
    # run): importing both patches first on every release.  Patched late,
    # oslo.db keeps its transaction state in a native thread-local that
    # Nova's green threads share, and a scheduler starting up fails with
    # "Can't upgrade a READER transaction to a WRITER mid-transaction".
    importlib.import_module('nova.tests.functional')
    importlib.import_module('nova.test')
    use_paste_file(variant)
    _installed.append(variant)


_MICROVERSION = re.compile(r'^microversion (\d+\.\d+)$')


def selected_lines():
    """(regular expression, microversion or None) per selected line.

    The microversion is that of a trailing ``# microversion X.Y``.
    """
    selected = []
    with open(SELECTION) as lines:
        for line in lines:
            pattern, _, comment = line.partition('#')
            if pattern.strip():
                found = _MICROVERSION.match(comment.strip())
                selected.append((pattern.strip(),
                                 found.group(1) if found else None))
    return selected


def selection():
    """The regular expressions of selected-tests.txt (comments dropped)."""
    return [pattern for pattern, _ in selected_lines()]


def _newer_than_nova(microversion):
    """Whether the installed Nova's API stops before ``microversion``."""
    from nova.api.openstack import api_version_request

    return (api_version_request.APIVersionRequest(microversion) >
            api_version_request.max_api_version())


def _tests(suite):
    for test in suite:
        if isinstance(test, unittest.TestSuite):
            yield from _tests(test)
        else:
            yield test


def _check_selection(tests):
    """Fail the listing if a selected pattern matches no test any more.

    A Nova upgrade that renames a test must not shrink the selection
    without a word.  Only a line marked with a microversion newer than
    the installed Nova's newest may match nothing: on an older release
    that class does not exist yet.  A marked line that matches tests must
    name classes of that very microversion.
    """
    ids = [test.id() for test in tests]
    stale = [pattern for pattern, microversion in selected_lines()
             if not any(re.search(pattern, test_id) for test_id in ids)
             and not (microversion and _newer_than_nova(microversion))]
    if stale:
        raise LookupError('selected-tests.txt names tests that do not '
                          'exist: %s' % ', '.join(stale))
    wrong = sorted({
        '%s (%s, not %s)' % (pattern, getattr(test, 'microversion', None),
                             microversion)
        for pattern, microversion in selected_lines() if microversion
        for test in tests if re.search(pattern, test.id())
        and getattr(test, 'microversion', None) != microversion})
    if wrong:
        raise LookupError('selected-tests.txt marks lines with the wrong '
                          'microversion: %s' % ', '.join(wrong))


def load_tests_for(variant):
    """A ``load_tests`` hook that runs Nova's tests in ``variant``."""
    def load_tests(loader, tests, pattern):
        install(variant)
        found = [test for name in MODULES
                 for test in _tests(loader.loadTestsFromName(name))]
        _check_selection(found)
        return unittest.TestSuite(found)
    return load_tests
