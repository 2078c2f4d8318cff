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

"""Compute service records, and the calls that get them from Nova.

The filter asks Nova's own API, through the app behind it, with an
elevated copy of the caller's context:

* ``GET /os-services?binary=nova-compute`` lists every compute service.
  Nova loads every service for it, also with ``&host=H`` (it filters in
  Python), so one host costs as much as all: the directory fetches the
  whole list, rarely, and keeps it.
* Nova's answer to a service change names the service it changed: the
  whole record from 2.53, host and changed fields before.
* Nova's newest microversion: Nova's own constant where Nova is
  importable (inside nova-api it always is), else its version document.
"""

import copy
import dataclasses
import datetime
import hashlib
import json
import time

import webob

from nova_hoststatus import microversion

HOST_ATTRIBUTE = 'OS-EXT-SRV-ATTR:host'
BINARY = 'nova-compute'


class LookupFailed(Exception):
    """Nova did not answer a lookup the filter made."""


@dataclasses.dataclass(frozen=True)
class ComputeService:
    """The facts of one nova-compute record that host_status depends on.

    ``reported_up`` is Nova's ``state`` when the record was read; None
    when a change answer did not say, and the heartbeat alone decides.
    """
    host: str
    disabled: bool
    forced_down: bool
    reported_up: bool | None
    updated_at: datetime.datetime | None
    service_id: str | int | None = None

    @classmethod
    def from_api(cls, record):
        return cls(host=record['host'],
                   disabled=record.get('status') == 'disabled',
                   forced_down=bool(record.get('forced_down')),
                   reported_up=record.get('state') == 'up',
                   updated_at=parse_time(record.get('updated_at')),
                   service_id=record.get('id'))

    def changed(self, answer):
        """This record after a change that Nova answered in part (< 2.53).

        Nova's ``state`` after the change is not in the answer: the
        heartbeat decides until the record is read again.
        """
        values = {'reported_up': None}
        if 'forced_down' in answer:
            values['forced_down'] = bool(answer['forced_down'])
        if 'status' in answer:
            values['disabled'] = answer['status'] == 'disabled'
        return dataclasses.replace(self, **values)

    def to_list(self):
        """A compact JSON-able form, for the shared cache."""
        return [self.host, self.disabled, self.forced_down, self.reported_up,
                self.updated_at.isoformat() if self.updated_at else None,
                self.service_id]

    @classmethod
    def from_list(cls, values):
        host, disabled, forced_down, reported_up, updated_at, sid = values
        return cls(host=host, disabled=disabled, forced_down=forced_down,
                   reported_up=reported_up,
                   updated_at=parse_time(updated_at), service_id=sid)


def parse_time(text):
    if not text:
        return None
    return datetime.datetime.fromisoformat(text.rstrip('Z')).replace(
        tzinfo=None)


def host_id(project_id, host):
    """Nova's ``hostId``: opaque per project, so it can be mapped back."""
    return hashlib.sha224((project_id + host).encode('utf-8')).hexdigest()


@dataclasses.dataclass(frozen=True)
class Listing:
    """Every compute service as Nova listed it, and what that cost."""
    services: tuple
    api_version: tuple | None
    seconds: float


def elevated(context):
    """An administrator's copy of the caller's context, for the lookup.

    Nova's own context elevates itself; any other gets the ``admin`` role
    and ``is_admin`` added, as Nova's ``elevated()`` adds them.
    """
    if hasattr(context, 'elevated'):
        return context.elevated()
    admin = copy.copy(context)
    admin.is_admin = True
    admin.roles = list(context.roles)
    if 'admin' not in admin.roles:
        admin.roles.append('admin')
    return admin


def _internal_request(path, environ, context, version):
    return webob.Request.blank(
        path,
        environ={'SCRIPT_NAME': environ.get('SCRIPT_NAME', ''),
                 'HTTP_HOST': environ.get('HTTP_HOST', 'localhost'),
                 'nova.context': elevated(context)},
        headers={'Accept': 'application/json',
                 microversion.HEADER: 'compute %s' % version})


def list_all(application, environ, context, clock=time.monotonic):
    """Every compute service, through ``application`` (one internal call).

    Asked in the newest microversion, so that each record's ``id`` is the
    UUID the 2.53 force-down names and the answer tells Nova's maximum.
    """
    request = _internal_request('/os-services?binary=' + BINARY,
                                environ, context, 'latest')
    started = clock()
    try:
        response = request.get_response(application)
    except Exception as exc:
        raise LookupFailed('internal GET /os-services raised %r' % exc)
    if response.status_int != 200:
        raise LookupFailed('internal GET /os-services answered %s'
                           % response.status)
    try:
        records = json.loads(response.body)['services']
        found = tuple(ComputeService.from_api(record) for record in records
                      if record.get('binary') == BINARY)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise LookupFailed('unreadable os-services answer: %r' % exc)
    return Listing(found, microversion.answered(response.headers),
                   clock() - started)


def newest_version(application, environ):
    """Nova's newest compute microversion, without listing anything.

    Nova's own constant where Nova is importable; else its version
    document, asked once through ``application``; None when neither says.
    """
    try:
        from nova.api.openstack import api_version_request
        return microversion.parse(api_version_request._MAX_API_VERSION)
    except (ImportError, AttributeError):
        pass
    request = webob.Request.blank(
        '/', environ={'SCRIPT_NAME': environ.get('SCRIPT_NAME', ''),
                      'HTTP_HOST': environ.get('HTTP_HOST', 'localhost')},
        headers={'Accept': 'application/json'})
    try:
        response = request.get_response(application)
        return microversion.parse(response.json['version']['version'])
    except Exception:
        return None


def change_answer(body):
    """The compute service a successful change answer names, or None.

    ``(host, record)``: ``record`` is the whole :class:`ComputeService`
    from 2.53 on, else the dict of changed fields Nova sent.
    """
    try:
        service = json.loads(body)['service']
        host = service['host']
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(host, str) or service.get('binary', BINARY) != BINARY:
        return None
    if 'state' in service and 'id' in service:
        try:
            return host, ComputeService.from_api(service)
        except (ValueError, TypeError, AttributeError):
            return None
    return host, service
