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
negotiation and headers, server views with ``hostId``, the services list),
keeps count of the calls it gets, and never computes host_status itself,
so every host_status the tests see is the filter's.
"""

import datetime
import json
import threading
import time
import uuid

import webob
import webob.dec

from nova_hoststatus import microversion
from nova_hoststatus import services

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

    def record(self):
        up = not self.forced_down and (
            (datetime.datetime.utcnow() - self.heartbeat).total_seconds()
            <= self.down_time)
        return {'id': self.id, 'binary': 'nova-compute', 'host': self.host,
                'zone': 'nova', 'disabled_reason': None,
                'status': 'disabled' if self.disabled else 'enabled',
                'state': 'up' if up else 'down',
                'forced_down': self.forced_down,
                'updated_at': iso(self.heartbeat)}


def server(server_id, project_id, host, user_id='owner-user'):
    return {'id': server_id, 'name': 'vm-%s' % server_id,
            'tenant_id': project_id, 'user_id': user_id, 'status': 'ACTIVE',
            'hostId': services.host_id(project_id, host) if host else '',
            '_host': host}


class FakeNova(object):
    def __init__(self):
        self.services = {}
        self.servers = {}
        self.calls = []
        self.fail_services = False

    def add_service(self, service):
        self.services[service.host] = service
        return service

    def add_server(self, record):
        self.servers[record['id']] = record
        return record

    def count(self, method, path):
        return sum(1 for call in self.calls if call[:2] == (method, path))

    def _view(self, record, context):
        view = {k: v for k, v in record.items() if k != '_host'}
        cut_down = 'hostId' not in record  # a server in a down cell
        if not cut_down and context is not None and 'admin' in context.roles:
            view[services.HOST_ATTRIBUTE] = record['_host']
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
        if parts[0] == 'os-services' and req.method == 'GET':
            if self.fail_services:
                return self._reply(version, 500, {'computeFault': {}})
            return self._reply(version, body={'services': [
                s.record() for s in self.services.values()]})
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


class MemoryClient(object):
    """memcached's verbs over a dict with TTLs on a monotonic clock.

    One process's stand-in for memcached: what unit tests share between
    two directories, with the same expiry and atomicity rules.
    """

    def __init__(self, clock=time.monotonic):
        self._clock = clock
        self._items = {}
        self._lock = threading.Lock()

    def _live(self, key):
        item = self._items.get(key)
        if item is not None and item[1] is not None and \
                item[1] <= self._clock():
            del self._items[key]
            return None
        return item

    def _expiry(self, ttl):
        return self._clock() + ttl if ttl else None

    def get_many(self, keys):
        with self._lock:
            return {key: self._live(key)[0] for key in keys
                    if self._live(key) is not None}

    def set_many(self, mapping, ttl):
        with self._lock:
            for key, value in mapping.items():
                self._items[key] = (value, self._expiry(ttl))
        return []

    def add(self, key, value, ttl):
        with self._lock:
            if self._live(key) is not None:
                return False
            self._items[key] = (value, self._expiry(ttl))
            return True

    def incr(self, key):
        with self._lock:
            item = self._live(key)
            if item is None:
                return None
            value = int(item[0]) + 1
            self._items[key] = (str(value).encode('ascii'), item[1])
            return value

    def delete(self, key):
        with self._lock:
            self._items.pop(key, None)

    def flush(self):
        """Lose every value, as a restarted memcached does."""
        with self._lock:
            self._items.clear()
