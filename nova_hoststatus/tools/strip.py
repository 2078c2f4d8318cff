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

"""A paste filter that removes Nova's own ``host_status`` from responses.

Nova 31 and later put ``host_status`` in server responses themselves, for
the callers Nova's policy allows; the host_status filter keeps Nova's value
where there is one.  Put behind the filter, this one removes Nova's value
before the filter sees the response, so that every ``host_status`` a
caller reads is the filter's own computation: the sandbox's ``drill`` and
``serve`` (unless ``--keep-nova-host-status``), the functional tests and
the ``filter-only-values`` variant of Nova's own tests use it that way,
and compare with the value Nova computes in a pipeline without either.
Never for production: there Nova's value is the one to keep.
"""

import json

import webob.dec

# How paste files name it: "paste.filter_factory = FACTORY".
FACTORY = __name__ + ':filter_factory'


def filter_factory(global_conf, **local_conf):
    """Paste factory of the filter that removes Nova's ``host_status``."""
    def _filter(app):
        @webob.dec.wsgify
        def strip(req):
            resp = req.get_response(app)
            if resp.content_type != 'application/json' or not resp.body:
                return resp
            doc = json.loads(resp.body)
            if not isinstance(doc, dict):
                return resp
            servers = doc.get('servers')
            if not isinstance(servers, list):
                servers = [doc.get('server')]
            found = False
            for server in servers:
                if isinstance(server, dict) and 'host_status' in server:
                    del server['host_status']
                    found = True
            if found:
                resp.body = json.dumps(doc).encode()
            return resp
        return strip
    return _filter
