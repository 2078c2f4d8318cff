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

"""Two answers to one force-down body: the filter's and Nova's own code's.

Nova's answer comes from its real request handling for the os-services
``update`` method: Nova's ``FaultWrapper`` around a ``wsgi.Resource`` over
``ServiceController``, which reads and parses the body and runs the
``@validation.schema`` decorator Nova registered for the microversion. The
caller's context refuses the policy check, so the run stops exactly where
Nova's schema stage ends: a 403 from that check means the body passed.

That code runs in a child process (``python -m`` this module), which
starts Nova as its WSGI entry point does, on native threads. The test
process is left alone: Nova's entry point refuses to load there once
eventlet is imported, which Nova's API modules do when imported first, and
no global Nova state (configuration, policy, logging) of its sandbox is
touched. One child serves a test process; a line of JSON carries a batch of
requests, a line back their answers.

The filter's answer comes from the real filter object, built with its own
configuration object, over a stub Nova that only records being reached.
"""

import atexit
import base64
import collections
import json
import logging
import os
import subprocess
import sys
import tempfile
import uuid

import fixtures
from oslo_config import cfg
from oslo_context import context as oslo_context
import webob
import webob.dec

from nova_hoststatus import middleware
from nova_hoststatus.tools import sandbox
from tests.functional import base

SCALE = int(os.environ.get('NOVA_HOSTSTATUS_PARITY_SCALE') or 1)
JSON = 'application/json'
LATEST = 'latest'

Form = collections.namedtuple('Form', 'name path service_id versions')
ACTION_FORM = Form('action form', '/os-services/force-down', 'force-down',
                   ('2.11', '2.30', '2.52'))
# Nova's maximum microversion comes from the child; see versions().
_SERVICE_ID = str(uuid.UUID(int=0x5e7f1ce))
UUID_FORM = Form('UUID form', '/os-services/' + _SERVICE_ID, _SERVICE_ID,
                 ('2.53', '2.69'))

# The answer to one body. ``status`` is PASSED (on to Nova's later stages),
# RAISED (an exception escaped the filter) or the HTTP status of the fault;
# ``message`` is the fault's text; ``cause`` names the exception behind a
# 500.
Answer = collections.namedtuple('Answer', 'status message cause')
PASSED = 'passed'
RAISED = 'raised'

_TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))


def request(path, version, raw, content_type=JSON):
    """The PUT a client sends; ``raw`` None sends no body at all."""
    req = webob.Request.blank(path, method='PUT')
    req.headers['OpenStack-API-Version'] = 'compute %s' % version
    if raw is not None:
        req.body = raw
    if content_type is not None:
        req.headers['Content-Type'] = content_type
    return req


def _fault(resp, cause=None):
    """An Answer from a fault response in Nova's format."""
    try:
        (fault,) = resp.json.values()
        message = fault['message']
    except (ValueError, AttributeError, KeyError):
        message = resp.text
    return Answer(resp.status_int, message, cause)


class OracleError(RuntimeError):
    """The child running Nova failed; the message carries its stderr."""


class NovaStages(object):
    """Nova's answers, from the child process that runs Nova's code."""

    def __init__(self):
        self._stderr = tempfile.TemporaryFile(mode='w+')
        self._proc = subprocess.Popen(
            [sys.executable, '-m', __name__], cwd=_TOP,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=self._stderr, text=True)
        self.max_version = self._read()['max_version']

    def _read(self):
        line = self._proc.stdout.readline()
        if not line:
            self._stderr.seek(0)
            raise OracleError('the Nova child ended: %s'
                              % self._stderr.read()[-3000:])
        return json.loads(line)

    def answers(self, cases):
        """Nova's answer to each (form, version, raw, content_type)."""
        batch = [[form.path, form.service_id, version,
                  None if raw is None else base64.b64encode(raw).decode(),
                  content_type]
                 for form, version, raw, content_type in cases]
        try:
            self._proc.stdin.write(json.dumps(batch) + '\n')
            self._proc.stdin.flush()
        except OSError:
            pass  # the child is gone; reading says why
        return [Answer(*answer) for answer in self._read()]

    def answer(self, form, version, raw, content_type=JSON):
        return self.answers([(form, version, raw, content_type)])[0]

    def close(self):
        self._proc.stdin.close()
        self._proc.wait()
        self._stderr.close()


_shared = []


def nova():
    """The NovaStages of this test process, started on first use."""
    if not _shared:
        _shared.append(NovaStages())
        atexit.register(_shared[0].close)
    return _shared[0]


def versions(form):
    """The microversions ``form`` is compared at; the UUID form's go up to
    Nova's maximum, by number and as ``latest``.
    """
    if form is UUID_FORM:
        return form.versions + (nova().max_version, LATEST)
    return form.versions


class FilterOverStub(fixtures.Fixture):
    """The real filter over a stub Nova that answers the service listing.

    The listing names Nova's maximum microversion, as real Nova's does, so
    that the filter knows which versions Nova serves.
    """

    def __init__(self, max_version):
        super().__init__()
        self._max_version = max_version

    def _setUp(self):
        # As in nova-api, Nova's API is loaded in the filter's process: the
        # filter takes Nova's field types from it (forcedown._validator).
        base.shared_sandbox()
        tmp = self.useFixture(fixtures.TempDir()).path
        policy_file = os.path.join(tmp, 'policy.json')
        with open(policy_file, 'w') as f:
            f.write('{}')
        conf = cfg.ConfigOpts()
        conf([], project='nova-hoststatus-parity')
        self.reached = []
        factory = middleware.filter_factory(
            {}, oslo_config_config=conf, policy_file=policy_file,
            service_cache_time='3600')
        self._app = factory(self._stub_nova)
        self._context = oslo_context.RequestContext(
            user_id='monitor', project_id='admin-project', roles=['admin'])

    @webob.dec.wsgify
    def _stub_nova(self, req):
        if req.method == 'GET':
            resp = webob.Response(json_body={'services': []})
            resp.headers['OpenStack-API-Version'] = (
                'compute ' + self._max_version)
            return resp
        self.reached.append(req.path_info)
        return webob.Response(status=204)

    def answer(self, form, version, raw, content_type=JSON):
        req = request(form.path, version, raw, content_type)
        req.environ['nova.context'] = self._context
        before = len(self.reached)
        try:
            resp = req.get_response(self._app)
        except Exception as exc:
            return Answer(RAISED, repr(exc), type(exc).__name__)
        if len(self.reached) > before:
            return Answer(PASSED, None, None)
        return _fault(resp)


class Tally(object):
    """What one test compared, for its one-line summary."""

    def __init__(self, title):
        self.title = title
        self.by_version = collections.Counter()
        self.by_status = collections.Counter()
        self.bodies = set()

    def add(self, version, raw, answer):
        self.by_version[version] += 1
        self.by_status[answer.status] += 1
        self.bodies.add(raw)

    @property
    def total(self):
        return sum(self.by_version.values())

    def summary(self):
        versions = ', '.join('%s: %d' % item
                             for item in sorted(self.by_version.items()))
        statuses = ', '.join('%s %d' % item for item in
                             sorted(self.by_status.items(), key=str))
        return '%s: %d comparisons of %d distinct bodies (%s); Nova %s' % (
            self.title, self.total, len(self.bodies), versions, statuses)


# The child.

class _RefusingContext(object):
    """A caller that Nova's policy check refuses, noting that it got there.

    ``can`` raising PolicyNotAuthorized is what Nova's own RequestContext
    does for a caller without the rule; reaching it means every earlier
    stage, the schema included, let the body through.
    """

    def __init__(self, refusal):
        self._refusal = refusal
        self.asked = []

    def can(self, action, target=None, fatal=True):
        self.asked.append(action)
        raise self._refusal(action=action)


class _Causes(logging.Handler):
    """Names the exception of each error Nova's API code logs."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.names = []

    def emit(self, record):
        if record.exc_info:
            self.names.append(record.exc_info[0].__name__)


def _serve():
    """Answer batches from stdin with Nova's own code, until stdin ends."""
    # First, as in the sandbox: Nova's API runs on native threads.
    sandbox.native_threads()

    from nova.api import openstack
    from nova.api.openstack import api_version_request
    from nova.api.openstack.compute import services
    from nova.api.openstack import wsgi
    from nova import exception

    # Only ``update`` runs, and only up to its policy check, which comes
    # before any use of the controller's compute, servicegroup or placement
    # clients; built without them, the controller needs no configuration.
    controller = services.ServiceController.__new__(
        services.ServiceController)
    app = openstack.FaultWrapper(wsgi.Resource(controller))
    causes = _Causes()
    logging.getLogger('nova.api.openstack').addHandler(causes)

    def answer(path, service_id, version, raw, content_type):
        raw = None if raw is None else base64.b64decode(raw)
        req = request(path, version, raw, content_type)
        context = _RefusingContext(exception.PolicyNotAuthorized)
        req.environ['nova.context'] = context
        # What Nova's router puts there for PUT /os-services/{id}.
        req.environ['wsgiorg.routing_args'] = (
            (), {'action': 'update', 'id': service_id})
        del causes.names[:]
        resp = req.get_response(app)
        if resp.status_int == 403 and context.asked:
            return Answer(PASSED, None, None)
        cause = causes.names[-1] if resp.status_int == 500 else None
        return _fault(resp, cause)

    # The answers have stdout to themselves.
    out, sys.stdout = sys.stdout, sys.stderr
    print(json.dumps(
        {'max_version': api_version_request.max_api_version().get_string()}),
        file=out, flush=True)
    for line in sys.stdin:
        print(json.dumps([answer(*case) for case in json.loads(line)]),
              file=out, flush=True)


if __name__ == '__main__':
    _serve()
