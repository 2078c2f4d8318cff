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

"""Shared set-up: the filter over the fake compute API, with its own config;
the command line run in this process."""

import contextlib
import io
import json
import os

import fixtures
from oslo_config import cfg
from oslo_context import context as oslo_context
import testtools
import webob

from nova_hoststatus import cmd
from nova_hoststatus import conf
from nova_hoststatus import middleware
from tests.unit import fakes

ADMIN = {'project_id': 'admin-project', 'user_id': 'admin-user',
         'roles': ['admin', 'member']}
OWNER = {'project_id': 'owner-project', 'user_id': 'owner-user',
         'roles': ['member']}
STRANGER = {'project_id': 'other-project', 'user_id': 'other-user',
            'roles': ['member']}


def run_command(*argv):
    """Exit status, stdout and stderr of ``nova-hoststatus argv``."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = cmd.main(list(argv))
        except SystemExit as exc:
            status = exc.code
    return status, out.getvalue(), err.getvalue()


class FilterTestCase(testtools.TestCase):
    """Builds the filter over a fresh fake Nova for every test."""

    paste_settings = {}

    def setUp(self):
        super().setUp()
        self.tmp = self.useFixture(fixtures.TempDir()).path
        self.policy_path = os.path.join(self.tmp, 'policy.json')
        self.write_policy({})
        self.conf = cfg.ConfigOpts()
        self.conf([], project='nova-hoststatus-tests')
        self.nova = fakes.FakeNova()
        self.app = self.make_filter(**self.paste_settings)

    def make_filter(self, **settings):
        """The filter over the fake, reading Nova's records from it
        (:meth:`fakes.FakeNova.lookup`).
        """
        settings.setdefault('policy_file', self.policy_path)
        settings[conf.CONFIG_OBJECT] = self.conf
        return middleware.HostStatusFilter(
            self.nova, conf.Settings(settings), lookup=self.nova.lookup)

    def write_policy(self, rules):
        with open(self.policy_path, 'w') as f:
            json.dump(rules, f)
        # oslo.policy notices a change by mtime; make it a distinct one.
        stat = os.stat(self.policy_path)
        os.utime(self.policy_path, (stat.st_atime, stat.st_mtime + 1))

    def request(self, path, caller=ADMIN, version='2.16', method='GET',
                body=None, headers=None, app=None):
        req = webob.Request.blank(path, method=method)
        if version is not None:
            req.headers['OpenStack-API-Version'] = 'compute %s' % version
        if body is not None:
            req.body = body if isinstance(body, bytes) else \
                json.dumps(body).encode('utf-8')
            req.content_type = 'application/json'
        req.headers.update(headers or {})
        req.environ['nova.context'] = oslo_context.RequestContext(
            user_id=caller['user_id'], project_id=caller['project_id'],
            roles=caller['roles'])
        return req.get_response(app or self.app)

    def host_status_of(self, path, caller=ADMIN, version='2.16'):
        """host_status by server id; a missing key maps to ``None``."""
        resp = self.request(path, caller=caller, version=version)
        self.assertEqual(200, resp.status_int, resp.text)
        body = resp.json
        servers = body['servers'] if 'servers' in body else [body['server']]
        return {s['id']: s.get('host_status', None) for s in servers}
