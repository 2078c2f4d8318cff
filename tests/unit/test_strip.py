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

"""The filter that removes Nova's own host_status behind ours."""

import json

import testtools
import webob
import webob.dec

from nova_hoststatus.tools import strip


def nova(doc, content_type='application/json'):
    """A stand-in for Nova that answers every request with ``doc``."""
    @webob.dec.wsgify
    def app(req):
        return webob.Response(body=json.dumps(doc).encode(),
                              content_type=content_type)
    return app


class StripTest(testtools.TestCase):

    def get(self, doc, **kwargs):
        app = strip.filter_factory({})(nova(doc, **kwargs))
        return webob.Request.blank('/servers/detail').get_response(app)

    def test_removes_host_status_from_a_listing(self):
        resp = self.get({'servers': [{'id': 'a', 'host_status': 'UP'},
                                     {'id': 'b'}]})
        self.assertEqual({'servers': [{'id': 'a'}, {'id': 'b'}]}, resp.json)

    def test_removes_host_status_from_one_server(self):
        resp = self.get({'server': {'id': 'a', 'host_status': 'DOWN'}})
        self.assertEqual({'server': {'id': 'a'}}, resp.json)

    def test_leaves_other_documents_alone(self):
        doc = {'services': [{'host_status': 'not a server'}]}
        self.assertEqual(doc, self.get(doc).json)
        self.assertEqual(['x'], self.get(['x']).json)

    def test_leaves_other_content_types_alone(self):
        resp = self.get({'server': {'host_status': 'UP'}},
                        content_type='text/plain')
        self.assertIn(b'host_status', resp.body)

    def test_factory_is_named_for_paste(self):
        module, _, name = strip.FACTORY.partition(':')
        self.assertEqual(strip.__name__, module)
        self.assertIs(strip.filter_factory, getattr(strip, name))
