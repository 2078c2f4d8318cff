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

"""Make constraints/ again from OpenStack's upper constraints.

Usage::

    python3 tools/trim-constraints.py UPSTREAM-DIR [SERIES ...]
        [--workdir DIR] [--recreate]

UPSTREAM-DIR holds OpenStack's files, named as in the requirements
repository's branches: ``upper-constraints-SERIES.txt`` (2025.1, 2025.2,
2026.1, master-2026-08, ...).  For each series that tox.ini names
(``novaNN: -c{[constraints]dir}/upper-constraints-SERIES.txt``; all of
them unless SERIES are given), this installs the functional-novaNN and
nova-tests-novaNN environments, and those of MORE_ENVS for the series
(telemetry for master-2026-08), with the full upstream file (tox
--notest, NOVA_HOSTSTATUS_CONSTRAINTS_DIR=UPSTREAM-DIR), reads what
they hold (pip freeze), and writes constraints/upper-constraints-SERIES.txt:
the upstream lines of the packages installed, verbatim (markers kept),
leaving out lines whose marker holds on no Python the project supports,
with the versions in OVERRIDES changed (and named in the file's header).

The environments go to a temporary tox work directory unless --workdir
names one (``--workdir .tox`` reuses the project's own; --recreate makes
them afresh there).  Needs tox and packaging (tox requires it).
"""

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile

from packaging import markers
from packaging import utils

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(TOP, 'constraints')
# python_requires = >=3.10: a line whose marker holds on none of these is
# of no use to the project.
PYTHONS = ('3.10', '3.11', '3.12', '3.13', '3.14')
# The environments each constraints file is for; {factor} is novaNN.
ENVS = ('functional-{factor}', 'nova-tests-{factor}')
# Environments of tox.ini that take one series' constraints without a
# novaNN factor: their packages are kept in that series' file too.
MORE_ENVS = {
    'master-2026-08': ('telemetry',),
}
# Versions the project changes in an upstream file, by series: where a
# snapshot of master is older than the release tested on it, the oldest
# versions that release accepts.
OVERRIDES = {
    # Nova 34.0.0 requires keystoneauth1>=5.16.0 and
    # oslo.versionedobjects>=3.12.0; master as of August 2026 has 5.15.0
    # and 3.11.0.
    'master-2026-08': {
        'keystoneauth1': '5.16.0',
        'oslo-versionedobjects': '3.12.0',
    },
}
FACTOR_LINE = re.compile(
    r'^\s*(nova\d+):\s*-c\s*\{\[constraints\]dir\}/'
    r'upper-constraints-(\S+)\.txt\s*$', re.M)


def series_in_tox_ini():
    """{series: factor}, from the constraints lines of tox.ini."""
    with open(os.path.join(TOP, 'tox.ini')) as f:
        found = FACTOR_LINE.findall(f.read())
    return {series: factor for factor, series in found}


def parse(path):
    """[(normalised name, version, marker or None, line)] of a file."""
    entries = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith('#'):
                continue
            requirement, _, marker = line.partition(';')
            name, _, version = requirement.partition('===')
            entries.append((utils.canonicalize_name(name.strip()),
                            version.strip(), marker.strip() or None, line))
    return entries


def useful(marker):
    if marker is None:
        return True
    parsed = markers.Marker(marker)
    return any(parsed.evaluate({'python_version': version,
                                'python_full_version': version + '.0'})
               for version in PYTHONS)


def installed(workdir, env):
    python = os.path.join(workdir, env, 'bin', 'python')
    frozen = subprocess.run(
        [python, '-m', 'pip', 'freeze', '--all'], check=True,
        capture_output=True, text=True).stdout
    versions = {}
    for line in frozen.splitlines():
        if '==' in line:
            name, _, version = line.partition('==')
            versions[utils.canonicalize_name(name)] = version.strip()
        elif ' @ ' in line:
            name = line.split(' @ ', 1)[0]
            versions[utils.canonicalize_name(name)] = None
    return versions


def override(source, series, directory):
    """Write source, with OVERRIDES[series] applied, into directory.

    Returns the lines changed, as comments for the header.
    """
    changes = OVERRIDES.get(series, {})
    changed = []
    with open(source) as f:
        lines = f.read().splitlines()
    for index, line in enumerate(lines):
        requirement, sep, marker = line.partition(';')
        name, found, version = requirement.partition('===')
        new = changes.get(utils.canonicalize_name(name.strip()))
        if found and new:
            lines[index] = '%s===%s%s%s' % (name, new, sep, marker)
            changed.append('# %s: %s here, %s upstream (tools/trim-'
                           'constraints.py, OVERRIDES).\n'
                           % (name.strip(), new, version.strip()))
    if len(changed) != len(changes):
        sys.exit('%s: not every package of OVERRIDES is in %s'
                 % (series, source))
    target = os.path.join(directory, os.path.basename(source))
    with open(target, 'w') as f:
        f.write(''.join(line + '\n' for line in lines))
    return changed


def trim(upstream_dir, series, factor, workdir, recreate):
    original = os.path.join(upstream_dir,
                            'upper-constraints-%s.txt' % series)
    patched_dir = tempfile.mkdtemp(prefix='upper-constraints-')
    try:
        changed = override(original, series, patched_dir)
        _trim(original, patched_dir, series, factor, workdir, recreate,
              changed)
    finally:
        shutil.rmtree(patched_dir, ignore_errors=True)


def _trim(original, patched_dir, series, factor, workdir, recreate,
          changed):
    source = os.path.join(patched_dir, os.path.basename(original))
    envs = ([env.format(factor=factor) for env in ENVS] +
            list(MORE_ENVS.get(series, ())))
    environ = dict(os.environ, NOVA_HOSTSTATUS_CONSTRAINTS_DIR=patched_dir)
    command = ['tox', '--workdir', workdir, '--notest',
               '-e', ','.join(envs)] + (['--recreate'] if recreate else [])
    print('=== %s: %s' % (series, ' '.join(command)), flush=True)
    subprocess.run(command, check=True, cwd=TOP, env=environ)

    have = {}
    for env in envs:
        have.update(installed(workdir, env))
    entries = parse(source)
    keep, pinned = [], set()
    for name, version, marker, line in entries:
        if name in have and useful(marker):
            keep.append(line)
            pinned.add(name)
            running = '%d.%d' % sys.version_info[:2]
            if (have[name] not in (None, version) and
                    markers.Marker(marker or 'python_version > "0"')
                    .evaluate({'python_version': running})):
                print('warning: %s %s installed, %s constrained'
                      % (name, have[name], version), file=sys.stderr)
    with open(original, 'rb') as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    target = os.path.join(OUT, os.path.basename(source))
    with open(target, 'w') as f:
        f.write('# OpenStack upper constraints of %s, only the packages that\n'
                '# %s install (%d of its %d pins).\n'
                '# Made by tools/trim-constraints.py from\n'
                '# upper-constraints-%s.txt, sha256 %s;\n'
                '# do not edit: make it again.\n'
                % (series, ' and '.join(envs), len(keep), len(entries),
                   series, digest))
        f.write(''.join(changed))
        f.write(''.join(line + '\n' for line in keep))
    unpinned = sorted(name for name in have if name not in pinned)
    print('=== %s: %d pins in %s; not in the upstream file: %s'
          % (series, len(keep), os.path.relpath(target, TOP),
             ', '.join(unpinned)), flush=True)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('upstream_dir')
    parser.add_argument('series', nargs='*')
    parser.add_argument('--workdir')
    parser.add_argument('--recreate', action='store_true')
    args = parser.parse_args(argv)
    upstream_dir = os.path.abspath(args.upstream_dir)
    known = series_in_tox_ini()
    unknown = [name for name in args.series if name not in known]
    if unknown:
        parser.error('not in tox.ini: %s (known: %s)'
                     % (', '.join(unknown), ', '.join(known)))
    os.makedirs(OUT, exist_ok=True)
    workdir = args.workdir and os.path.abspath(args.workdir)
    temporary = workdir is None
    if temporary:
        workdir = tempfile.mkdtemp(prefix='trim-constraints-')
    try:
        for series in args.series or list(known):
            trim(upstream_dir, series, known[series], workdir, args.recreate)
    finally:
        if temporary:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
