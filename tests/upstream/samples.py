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

"""Nova's documented API samples, where Nova's API-sample tests read them.

Each API-sample test checks a response against a template (the wheel ships
those under ``nova/tests``) and then checks the template against the
documented sample in ``doc/api_samples`` of Nova's source tree, which the
wheel leaves out.  This puts that folder where the tests look for it, next
to the installed ``nova`` package as in the source tree, taken from the
source distribution of the very release installed (``pip download``).
Run once per environment; a later run with the same release does nothing.
"""

import importlib.metadata
import importlib.util
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile

_STAMP = '.nova-release'


def samples_dir():
    """``doc/api_samples`` beside the installed nova package."""
    spec = importlib.util.find_spec('nova')
    package = list(spec.submodule_search_locations)[0]
    return os.path.join(os.path.dirname(package), 'doc', 'api_samples')


def _read(path):
    try:
        with open(path) as stamp:
            return stamp.read().strip()
    except OSError:
        return None


def _extract(archive, prefix, destination):
    """Extract the regular files under ``prefix`` into ``destination``."""
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            if not member.isfile() or not member.name.startswith(prefix):
                continue
            relative = os.path.normpath(member.name[len(prefix):])
            if relative.startswith('..') or os.path.isabs(relative):
                raise ValueError('unsafe path in %s: %s'
                                 % (archive, member.name))
            target = os.path.join(destination, relative)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with tar.extractfile(member) as source, \
                    open(target, 'wb') as copy:
                shutil.copyfileobj(source, copy)


def install():
    """Install the samples of the installed Nova release; return the path."""
    target = samples_dir()
    release = importlib.metadata.version('nova')
    if _read(os.path.join(target, _STAMP)) == release:
        return target
    with tempfile.TemporaryDirectory() as work:
        subprocess.check_call(
            [sys.executable, '-m', 'pip', 'download', '--quiet',
             '--no-deps', '--no-binary', ':all:', '--no-build-isolation',
             '--dest', work, 'nova==%s' % release])
        archive = os.path.join(work, 'nova-%s.tar.gz' % release)
        staged = os.path.join(work, 'api_samples')
        _extract(archive, 'nova-%s/doc/api_samples/' % release, staged)
        with open(os.path.join(staged, _STAMP), 'w') as stamp:
            stamp.write(release + '\n')
        shutil.rmtree(target, ignore_errors=True)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.move(staged, target)
    return target


if __name__ == '__main__':
    print('Nova API samples in %s' % install())
