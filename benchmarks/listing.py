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

"""What the filter adds to a server listing, as ratios taken in one run.

For listings of 10, 100 and 1,000 servers over 10 hosts, times
``GET /servers/detail`` straight to a compute API stand-in and through the
filter (as a permitted admin and as a denied owner), the stand-in's
records answering for Nova's, and counts the filter's look-ups in them
(one per response it supplies values for). Ratios, not seconds, are the
figures to compare between machines.

    tox -e bench            # or: python benchmarks/listing.py
"""

import json
import os
import sys
import tempfile
import timeit

from oslo_config import cfg
from oslo_context import context as oslo_context
import webob

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..'))

from nova_hoststatus import conf as hs_conf  # noqa: E402
from nova_hoststatus import middleware  # noqa: E402
from tests.unit import fakes  # noqa: E402

HOSTS = 10
REPEAT = 5


def build(servers, policy_path):
    nova = fakes.FakeNova()
    for i in range(HOSTS):
        nova.add_service(fakes.Service('compute-%d' % i))
    for i in range(servers):
        nova.add_server(fakes.server('vm-%d' % i, 'tenant',
                                     'compute-%d' % (i % HOSTS)))
    conf = cfg.ConfigOpts()
    conf([])
    settings = hs_conf.Settings({hs_conf.CONFIG_OBJECT: conf,
                                 'policy_file': policy_path})
    # The stand-in's records stand for Nova's, which the filter reads in
    # nova-api.
    return nova, middleware.HostStatusFilter(nova, settings,
                                             lookup=nova.lookup)


def timed(app, roles):
    def call():
        req = webob.Request.blank('/servers/detail')
        req.headers['OpenStack-API-Version'] = 'compute 2.16'
        req.environ['nova.context'] = oslo_context.RequestContext(
            user_id='u', project_id='tenant', roles=roles)
        resp = req.get_response(app)
        assert resp.status_int == 200, resp.status
    call()  # load the policy
    return min(timeit.repeat(call, number=20, repeat=REPEAT)) / 20


def main():
    with tempfile.TemporaryDirectory() as tmp:
        policy_path = os.path.join(tmp, 'policy.json')
        with open(policy_path, 'w') as f:
            json.dump({}, f)
        print('%8s %10s %10s %8s %10s %9s %8s' % (
            'servers', 'api ms', 'admin ms', 'admin x', 'denied ms',
            'denied x', 'lookups'))
        for servers in (10, 100, 1000):
            nova, app = build(servers, policy_path)
            direct = timed(nova, ['admin'])
            admin = timed(app, ['admin'])
            denied = timed(app, ['member'])
            print('%8d %10.3f %10.3f %8.2f %10.3f %9.2f %8d' % (
                servers, direct * 1e3, admin * 1e3, admin / direct,
                denied * 1e3, denied / direct,
                len(nova.lookups)))


if __name__ == '__main__':
    main()
