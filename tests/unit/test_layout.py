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

"""The layout of the source: what the filter loads, and every module's head.

nova-api loads the modules at the top of :mod:`nova_hoststatus`; the
tooling (:mod:`nova_hoststatus.tools`, the commands of
:mod:`nova_hoststatus.cmd`) and the notification agent
(:mod:`nova_hoststatus.notifier`) run elsewhere and must never be imported
by the filter.  A fresh Python builds the filter as PasteDeploy does and sends
it the requests of both its jobs, then reports which of the package's
modules it holds.

Every module, of the package, the tests and the benchmarks, starts with the
Apache 2.0 licence header and has a docstring; an empty ``__init__.py`` is
left empty.
"""

import ast
import json
import os
import subprocess
import sys

import testtools

import nova_hoststatus

# What runs beside nova-api, never in it: the tooling, the commands and
# the notification agent.
TOOLING = ('nova_hoststatus.tools', 'nova_hoststatus.cmd',
           'nova_hoststatus.notifier')
ROOT = os.path.dirname(os.path.dirname(nova_hoststatus.__file__))
SOURCES = ('nova_hoststatus', 'tests', 'benchmarks')
# What nova-api loads of the package, in lines, at most.
RUNTIME_LINES = 1200

# Run in a child: builds the filter from its paste entry point over the
# fake compute API, shows a server and forces a host down through it, and
# prints the nova_hoststatus modules loaded.  Its first argument, if any,
# names a module to import first (to prove the test sees one).
_LOAD_FILTER = '''
CACHE_CLIENTS = ('oslo_cache', 'dogpile', 'memcache', 'pymemcache',
                 'bmemcached')
import importlib
import json
import os
import sys
import tempfile
from importlib import metadata

if sys.argv[1:]:
    importlib.import_module(sys.argv[1])

from oslo_config import cfg
from oslo_context import context as oslo_context
import webob

from tests.unit import fakes

[point] = [ep for ep in metadata.entry_points(group='paste.filter_factory')
           if ep.name == 'hoststatus']
conf = cfg.ConfigOpts()
conf([], project='nova-hoststatus-tests')
nova = fakes.FakeNova(nova_values=True)
nova.add_service(fakes.Service('up-host'))
nova.add_server(fakes.server('vm', 'owner-project', 'up-host'))
with tempfile.TemporaryDirectory() as tmp:
    policy_file = os.path.join(tmp, 'policy.json')
    with open(policy_file, 'w') as f:
        f.write('{}')
    app = point.load()({}, oslo_config_config=conf,
                       policy_file=policy_file)(nova)
    answers = []
    for method, path, version, body in [
            ('GET', '/servers/detail', '2.16', None),
            ('PUT', '/os-services/force-down', '2.11',
             {'host': 'up-host', 'binary': 'nova-compute',
              'forced_down': 'maybe'}),
            ('PUT', '/os-services/force-down', '2.11',
             {'host': 'up-host', 'binary': 'nova-compute',
              'forced_down': True}),
            ('GET', '/servers/vm', '2.16', None)]:
        req = webob.Request.blank(path, method=method)
        req.headers['OpenStack-API-Version'] = 'compute ' + version
        if body is not None:
            req.body = json.dumps(body).encode()
            req.content_type = 'application/json'
        req.environ['nova.context'] = oslo_context.RequestContext(
            user_id='admin', project_id='admin', roles=['admin'])
        resp = req.get_response(app)
        answers.append([resp.status_int, resp.json])
import threading
print(json.dumps({
    'answers': answers,
    'threads': threading.active_count(),
    'cache_clients': sorted(name for name in sys.modules
                            if name.split('.')[0] in CACHE_CLIENTS),
    'modules': sorted(name for name in sys.modules
                      if name.split('.')[0] == 'nova_hoststatus')}))
'''


def load_filter(*first):
    """What a fresh Python that loads the filter answers and holds."""
    proc = subprocess.run([sys.executable, '-c', _LOAD_FILTER] + list(first),
                          cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    if proc.returncode:
        raise AssertionError(proc.stderr)
    return json.loads(proc.stdout)


def tooling(modules):
    return [name for name in modules
            if any(name == top or name.startswith(top + '.')
                   for top in TOOLING)]


class FilterImportsTest(testtools.TestCase):

    def test_loading_the_filter_imports_no_tooling(self):
        loaded = load_filter()
        # The filter did both its jobs, so whatever they import is loaded.
        detail, refused, forced, show = loaded['answers']
        self.assertEqual(
            [200, 'UP'], [detail[0], detail[1]['servers'][0]['host_status']])
        self.assertEqual(400, refused[0])
        self.assertEqual(200, forced[0])
        self.assertEqual('DOWN', show[1]['server']['host_status'])
        self.assertIn('nova_hoststatus.middleware', loaded['modules'])
        self.assertEqual([], tooling(loaded['modules']))
        # No copy of Nova's state: no cache client, no thread of its own.
        self.assertEqual([], loaded['cache_clients'])
        self.assertEqual(1, loaded['threads'])

    def test_what_nova_api_loads_stays_small(self):
        loaded = load_filter()['modules']
        lines = 0
        for name in loaded:
            path = os.path.join(ROOT, *name.split('.'))
            path = (os.path.join(path, '__init__.py') if os.path.isdir(path)
                    else path + '.py')
            with open(path, encoding='utf-8') as f:
                lines += len(f.readlines())
        self.assertGreater(lines, 500)
        self.assertLessEqual(lines, RUNTIME_LINES)

    def test_an_import_of_tooling_is_seen(self):
        loaded = load_filter('nova_hoststatus.tools.strip')
        self.assertEqual(['nova_hoststatus.tools',
                          'nova_hoststatus.tools.strip'],
                         tooling(loaded['modules']))


def modules():
    """``(path, text)`` of every Python module of SOURCES."""
    for source in SOURCES:
        for folder, dirs, files in os.walk(os.path.join(ROOT, source)):
            dirs[:] = sorted(d for d in dirs if d != '__pycache__')
            for name in sorted(files):
                if name.endswith('.py'):
                    path = os.path.join(folder, name)
                    with open(path, encoding='utf-8') as f:
                        yield os.path.relpath(path, ROOT), f.read()


class ModuleHeadTest(testtools.TestCase):

    def test_every_module_has_the_licence_header_and_a_docstring(self):
        with open(__file__, encoding='utf-8') as f:
            header = ''.join(f.readlines()[:11])
        self.assertIn('Apache License, Version 2.0', header)
        seen = 0
        for path, text in modules():
            seen += 1
            if not text.strip() and os.path.basename(path) == '__init__.py':
                continue
            self.assertTrue(text.startswith(header), '%s: no licence header'
                            % path)
            self.assertTrue(ast.get_docstring(ast.parse(text)),
                            '%s: no docstring' % path)
        self.assertGreater(seen, 40)
