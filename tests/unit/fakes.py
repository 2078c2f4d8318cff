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

"""A small compute API for the unit tests: servers and os-services.

It answers the way Nova does on the parts the filter reads (version
negotiation and headers, server views with ``hostId``, service changes)
and keeps count of the calls it gets. Its views carry no host_status
unless a test puts one in a record, or sets ``nova_values`` for Nova's
own value on every view; :meth:`FakeNova.lookup` stands for Nova's
records, which the filter reads in nova-api.
"""

import datetime
import hashlib
import json
import uuid

import webob
import webob.dec

from nova_hoststatus import microversion

MAX_VERSION = (2, 104)


def iso(moment):
    return moment.strftime('%Y-%m-%dT%H:%M:%S.%f')


class Service(object):
    def __init__(self, host, heartbeat_age=0, disabled=False,
                 forced_down=False, down_time=60):
        self.id = str(uuid.uuid4())
        self.host = host
        self.disabled = disabled
        self.forced_down = forced_down
        self.down_time = down_time
        self.heartbeat = (datetime.datetime.utcnow()
                          - datetime.timedelta(seconds=heartbeat_age))

    def is_up(self):
        return ((datetime.datetime.utcnow() - self.heartbeat).total_seconds()
                <= self.down_time)

    def host_status(self):
        if self.forced_down:
            return 'DOWN'
        if self.disabled:
            return 'MAINTENANCE'
        return 'UP' if self.is_up() else 'UNKNOWN'

    def record(self):
        up = not self.forced_down and self.is_up()
        return {'id': self.id, 'binary': 'nova-compute', 'host': self.host,
                'zone': 'nova', 'disabled_reason': None,
                'status': 'disabled' if self.disabled else 'enabled',
                'state': 'up' if up else 'down',
                'forced_down': self.forced_down,
                'updated_at': iso(self.heartbeat)}


def host_id(project_id, host):
    """Nova's ``hostId``: opaque per project, empty without a host."""
    if not host:
        return ''
    return hashlib.sha224((project_id + host).encode('utf-8')).hexdigest()


def server(server_id, project_id, host, user_id='owner-user'):
    return {'id': server_id, 'name': 'vm-%s' % server_id,
            'tenant_id': project_id, 'user_id': user_id, 'status': 'ACTIVE',
            'hostId': host_id(project_id, host), '_host': host}


class FakeNova(object):
    def __init__(self, nova_values=False):
        self.services = {}
        self.servers = {}
        self.calls = []
        self.lookups = []
        self.fail_lookups = False
        self.nova_values = nova_values

    def add_service(self, service):
        self.services[service.host] = service
        return service

    def add_server(self, record):
        self.servers[record['id']] = record
        return record

    def count(self, method, path):
        return sum(1 for call in self.calls if call[:2] == (method, path))

    def host_status(self, host):
        service = self.services.get(host)
        return service.host_status() if service else ''

    def lookup(self, context, server_ids):
        """``{server id: host_status}``, as the filter reads Nova's records."""
        self.lookups.append(list(server_ids))
        if self.fail_lookups:
            raise RuntimeError('cell database gone')
        return {server_id: self.host_status(self.servers[server_id]['_host'])
                for server_id in server_ids if server_id in self.servers}

    def _view(self, record, context):
        view = {k: v for k, v in record.items() if k != '_host'}
        cut_down = 'hostId' not in record  # a server in a down cell
        if not cut_down and context is not None and 'admin' in context.roles:
            view['OS-EXT-SRV-ATTR:host'] = record['_host']
        if not cut_down and self.nova_values:
            view['host_status'] = self.host_status(record['_host'])
        return view

    def _reply(self, version, status=200, body=None):
        resp = webob.Response(status=status, charset='UTF-8',
                              content_type='application/json')
        if body is not None:
            resp.body = json.dumps(body).encode('utf-8')
        for name, value in microversion.header_pairs(version):
            resp.headers.add(name, value)
        return resp

    @webob.dec.wsgify
    def __call__(self, req):
        self.calls.append((req.method, req.path_info, req.body))
        version = microversion.requested(req.headers)
        if version is None:
            return webob.Response(status=400, body=b'bad version')
        if version == microversion.LATEST:
            version = MAX_VERSION
        if version > MAX_VERSION:
            return webob.Response(status=406, body=b'version not supported')
        context = req.environ.get('nova.context')
        if req.path_info in ('', '/'):
            return self._reply(version, body={'version': {
                'id': 'v2.1', 'status': 'CURRENT', 'min_version': '2.1',
                'version': microversion.to_text(MAX_VERSION)}})
        parts = req.path_info.strip('/').split('/')
        if parts[0] not in ('servers', 'os-services', 'flavors'):
            parts = parts[1:]  # a project id in front of the path
        if parts == ['servers', 'detail']:
            return self._reply(version, body={'servers': [
                self._view(s, context) for s in self.servers.values()]})
        if parts[0] == 'servers' and len(parts) >= 2:
            record = self.servers.get(parts[1])
            if record is None:
                return self._reply(version, 404, {'itemNotFound': {
                    'code': 404, 'message': 'Instance could not be found.'}})
            status = 202 if req.method == 'POST' else 200
            return self._reply(version, status,
                               {'server': self._view(record, context)})
        if parts[0] == 'os-services' and req.method == 'DELETE':
            for host, service in list(self.services.items()):
                if service.id == parts[1]:
                    del self.services[host]
                    return webob.Response(status=204)
            return self._reply(version, 404, {'itemNotFound': {}})
        if parts[0] == 'os-services' and req.method == 'PUT':
            if req.content_type != 'application/json':
                return self._reply(version, 415, {'badMediaType': {}})
            body = json.loads(req.body)
            if version < (2, 53):
                service = self.services[body['host']]
            else:
                service = next(s for s in self.services.values()
                               if s.id == parts[1])
            if 'forced_down' in body:
                service.forced_down = body['forced_down'] in (True, 'true')
            if 'status' in body:
                service.disabled = body['status'] == 'disabled'
            return self._reply(version, body={'service': service.record()})
        return webob.Response(body=b'plain text', content_type='text/plain')
