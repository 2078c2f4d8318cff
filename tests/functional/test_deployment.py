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

"""The shipped etc/api-paste.ini, loaded by PasteDeploy as nova-api does."""

import os

from paste import deploy

from nova_hoststatus import middleware
from nova_hoststatus import records
from tests.functional import base

API_PASTE = os.path.join(os.path.dirname(__file__), '..', '..', 'etc',
                         'api-paste.ini')


def pipeline(app):
    """The chain of WSGI objects from ``app`` down to the application."""
    chain = []
    while app is not None:
        chain.append(app)
        app = next((getattr(app, name) for name in
                    ('application', '_app', 'app') if hasattr(app, name)),
                   None)
    return chain


class TestShippedPasteConfig(base.TestCase):

    def setUp(self):
        super().setUp()
        urlmap = deploy.loadapp('config:%s' % os.path.abspath(API_PASTE),
                                name='osapi_compute')
        self.pipelines = {prefix: pipeline(app)
                          for (_, prefix), app in urlmap.applications}

    def test_filter_sits_after_keystonecontext_in_v2_1(self):
        names = [type(app).__name__ for app in self.pipelines['/v2.1/+']]
        self.assertEqual(['NovaKeystoneContext', 'HostStatusFilter',
                          'APIRouterV21'], names[-3:])

    def test_legacy_v2_has_no_filter(self):
        for prefix in ('/v2/+', '/v2', '/v2.1', ''):
            self.assertNotIn(
                'HostStatusFilter',
                [type(app).__name__ for app in self.pipelines[prefix]])

    def test_filter_follows_novas_configuration(self):
        """With no setting of its own, the filter reads Nova's records and,
        where a context is not Nova's, Nova's own policy file.
        """
        [ours] = [app for app in self.pipelines['/v2.1/+']
                  if isinstance(app, middleware.HostStatusFilter)]
        self.assertIsInstance(ours._lookup, records.NovaRecords)
        self.assertEqual(self.sandbox.policy_file,
                         ours._enforcer.policy_path)
