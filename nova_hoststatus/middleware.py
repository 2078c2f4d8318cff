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

"""The paste filter: sends each request to the job it belongs to.

* Server views (show, detail; update and rebuild from 2.75) get
  ``host_status`` for the servers the caller may see it on.
* Force-down requests are validated before Nova sees them.
* Any other request goes to Nova untouched and unbuffered.

The decisions live in :mod:`policy` and :mod:`forcedown`; the values the
filter supplies itself come from Nova's own records (:mod:`records`).
"""

import json
import logging
import re

from oslo_context import context as oslo_context
import webob
import webob.dec

from nova_hoststatus import conf
from nova_hoststatus import forcedown
from nova_hoststatus import microversion
from nova_hoststatus import policy
from nova_hoststatus import records
from nova_hoststatus import status

LOG = logging.getLogger(__name__)

# Nova accepts an optional project id in front of every path.
_PREFIX = r'^(?:/[^/]+)?'
_SERVER = re.compile(_PREFIX + r'/servers/[^/]+$')
_SERVER_ACTION = re.compile(_PREFIX + r'/servers/[^/]+/action$')
_SERVICE = re.compile(_PREFIX + r'/os-services/[^/]+$')
_FORCE_DOWN = re.compile(_PREFIX + r'/os-services/force-down$')

SHOW_SINCE = (2, 16)
UPDATE_SINCE = (2, 75)
FORCE_DOWN_SINCE = (2, 11)
UUID_FORM_SINCE = (2, 53)

# What Nova reads as a JSON body; any other content type is Nova's to refuse.
_JSON_TYPES = ('', 'text/plain', 'application/json',
               'application/vnd.openstack.compute+json')


def _is_rebuild(req):
    try:
        return 'rebuild' in json.loads(req.body)
    except (ValueError, TypeError):
        return False


def _loggable(text):
    """``text`` for one log line: what is not printable (line breaks,
    control characters, lone surrogates, all of which a JSON body may
    carry) escaped, so that a body can neither break a log handler's
    encoding nor forge a line of its own.
    """
    return ''.join(char if char.isprintable()
                   else char.encode('unicode_escape').decode('ascii')
                   for char in text)


def _bad_request(message, version):
    """The 400 fault Nova answers a bad body with, headers included."""
    resp = webob.Response(status=400, content_type='application/json',
                          body=forcedown.bad_request(message))
    resp.charset = 'UTF-8'
    for name, value in microversion.header_pairs(version):
        resp.headers.add(name, value)
    return resp


def _cut_down(server):
    """Whether Nova sent a cut-down record (a server in a down cell, 2.69+).

    Such records carry no ``hostId``; they are passed on exactly as Nova
    sent them, without a ``host_status`` of the filter's.
    """
    return 'hostId' not in server


def _caller_context(environ):
    """The context Nova's keystonecontext filter built, or one from headers."""
    context = environ.get('nova.context')
    if context is None:
        context = oslo_context.RequestContext.from_environ(environ)
    return context


class HostStatusFilter(object):
    """host_status on server views, and force-down validation.

    ``lookup(context, server_ids)`` gives ``{server id: host_status}`` from
    Nova's records (:class:`records.NovaRecords` in nova-api).
    """

    def __init__(self, application, settings, lookup=None):
        self.application = application
        self._enforcer = policy.Enforcer(settings.conf, settings.policy_file)
        self._lookup = lookup or records.NovaRecords()
        self._newest = None

    @webob.dec.wsgify
    def __call__(self, req):
        version = microversion.requested(req.headers)
        if version is None:
            return self.application
        path = req.path_info
        if req.method == 'GET' and _SERVER.match(path):
            return self._server_view(req, version, SHOW_SINCE)
        if req.method == 'PUT' and _SERVER.match(path):
            return self._server_view(req, version, UPDATE_SINCE)
        if (req.method == 'POST' and _SERVER_ACTION.match(path)
                and version >= UPDATE_SINCE and _is_rebuild(req)):
            return self._server_view(req, version, UPDATE_SINCE)
        if req.method == 'PUT' and _SERVICE.match(path):
            return self._check_force_down(req, version) or self.application
        return self.application

    # host_status on server views

    def _server_view(self, req, version, since):
        if version < since:
            return self.application
        resp = req.get_response(self.application)
        answered = microversion.answered(resp.headers)
        if (resp.status_int not in (200, 202) or answered is None
                or answered < since
                or resp.content_type != 'application/json'):
            return resp
        try:
            body = json.loads(resp.body)
            servers = body['servers'] if 'servers' in body else [
                body['server']]
        except (ValueError, KeyError, TypeError):
            return resp
        if not all(isinstance(server, dict) for server in servers):
            return resp
        before = [server.get('host_status') for server in servers]
        try:
            self._set_host_status(req.environ, servers)
        except Exception:
            LOG.exception('host_status could not be decided; it is left out')
            for server in servers:
                server.pop('host_status', None)
        if before != [server.get('host_status') for server in servers]:
            resp.body = json.dumps(body).encode('utf-8')
        return resp

    def _set_host_status(self, environ, servers):
        """Keep, supply or remove ``host_status`` on each full record."""
        servers = [server for server in servers if not _cut_down(server)]
        if not servers:
            return
        context = _caller_context(environ)
        check = policy.rule_check(context, self._enforcer)
        decided = {}
        for server in servers:
            project = server.get('tenant_id')
            if project not in decided:
                decided[project] = policy.decide(
                    check, policy.server_target(server))
        seen = [decided[server.get('tenant_id')] for server in servers]
        values = self._values(context, [
            server for server, visibility in zip(servers, seen)
            if visibility is not policy.Visibility.NONE])
        for server, visibility in zip(servers, seen):
            value = policy.shown(visibility, values.get(server['id']))
            if value is None:
                server.pop('host_status', None)
            else:
                server['host_status'] = value

    def _values(self, context, servers):
        """``{server id: host_status}`` for ``servers``, where known.

        Nova's own value stands. A server without one gets ``""`` when it
        has no host (an empty ``hostId``), else Nova's records are read
        for it; a server they cannot answer for keeps what Nova gave.
        """
        values = {}
        missing = []
        for server in servers:
            if 'host_status' in server:
                values[server['id']] = server['host_status']
            elif server.get('hostId') == '':
                values[server['id']] = status.NONE
            else:
                missing.append(server['id'])
        if missing:
            try:
                found = self._lookup(context, missing)
            except Exception as exc:
                LOG.warning('host_status: Nova\'s records could not be read '
                            '(%s); %d server(s) keep what Nova gave them',
                            _loggable(repr(exc)), len(missing))
            else:
                values.update((server_id, found[server_id])
                              for server_id in missing
                              if server_id in found)
        return values

    # force-down

    def _check_force_down(self, req, version):
        """Nova's 400 for a bad force-down body, or None to pass it on."""
        if req.method != 'PUT' or version < FORCE_DOWN_SINCE:
            return None
        if req.headers.get('Content-Type') and \
                req.content_type not in _JSON_TYPES:
            return None
        if version >= UUID_FORM_SINCE:
            version = self._supported(req, version)
            if version is None:
                return None
            validate = forcedown.validate_uuid_form
        elif _FORCE_DOWN.match(req.path_info):
            validate = forcedown.validate_action_form
        else:
            return None
        raw = req.body if req.content_length else None
        try:
            validate(raw)
        except forcedown.InvalidBody as exc:
            LOG.info('Rejected %s %s: %s', req.method, req.path,
                     _loggable(str(exc)))
            return _bad_request(str(exc), version)
        return None

    def _supported(self, req, version):
        """``version`` as Nova will serve it; None if Nova will refuse it.

        Nova's maximum is learned once per process
        (:func:`microversion.newest`). Until it is known, a version is
        taken as supported, except ``latest``, which Nova alone can name.
        """
        if self._newest is None:
            self._newest = microversion.newest(self.application, req.environ)
        newest = self._newest
        if newest is None:
            return None if version == microversion.LATEST else version
        if version == microversion.LATEST:
            return newest
        return version if version <= newest else None


def filter_factory(global_conf, **local_conf):
    """Paste entry point: ``use = egg:nova-hoststatus#hoststatus``."""
    settings = conf.Settings(local_conf)

    def _filter(application):
        return HostStatusFilter(application, settings)
    return _filter
