"""The service directory: which compute service runs each server's host.

One internal ``GET /os-services?binary=nova-compute`` through the app behind
the filter lists every compute service; the result is kept for a short time
so that a listing of any size, and any number of requests, cost at most one
such call per refresh. A server's host comes from ``OS-EXT-SRV-ATTR:host``
when Nova shows it, else from ``hostId``, which Nova derives from the
server's project and host and which is mapped back over the known hosts.
"""

import copy
import dataclasses
import datetime
import hashlib
import json
import logging
import threading
import time

import webob

from nova_hoststatus import microversion

LOG = logging.getLogger(__name__)

HOST_ATTRIBUTE = 'OS-EXT-SRV-ATTR:host'


class LookupFailed(Exception):
    """The list of compute services could not be had from Nova."""


@dataclasses.dataclass(frozen=True)
class ComputeService:
    """The facts of one nova-compute record that host_status depends on."""
    host: str
    disabled: bool
    forced_down: bool
    reported_up: bool
    updated_at: datetime.datetime | None

    @classmethod
    def from_api(cls, record):
        updated_at = record.get('updated_at')
        if updated_at:
            updated_at = datetime.datetime.fromisoformat(
                updated_at.rstrip('Z')).replace(tzinfo=None)
        return cls(host=record['host'],
                   disabled=record.get('status') == 'disabled',
                   forced_down=bool(record.get('forced_down')),
                   reported_up=record.get('state') == 'up',
                   updated_at=updated_at or None)


def host_id(project_id, host):
    """Nova's ``hostId``: opaque per project, so it can be mapped back."""
    return hashlib.sha224((project_id + host).encode('utf-8')).hexdigest()


class Snapshot(object):
    """Every compute service as listed at one moment."""

    def __init__(self, services, fetched_at, api_version):
        self.services = {service.host: service for service in services}
        self.fetched_at = fetched_at
        self.api_version = api_version
        # Hosts of servers that this listing was fetched for and does not
        # name: they have no nova-compute record, and asking again until the
        # next refresh would not change that.
        self.missing = set()
        self._host_ids = {}

    def _host_for_id(self, project_id, server_host_id):
        hosts = self._host_ids.get(project_id)
        if hosts is None:
            hosts = {host_id(project_id, host): host
                     for host in self.services}
            self._host_ids[project_id] = hosts
        return hosts.get(server_host_id)

    @staticmethod
    def host_key(server):
        """What names a server's host: the host itself, or project and hostId.
        """
        if HOST_ATTRIBUTE in server:
            return server[HOST_ATTRIBUTE]
        return str(server.get('tenant_id')), server.get('hostId')

    def resolve(self, server):
        """``(found, service)`` for a server's host.

        ``found`` is False when the server has a host that no record of this
        snapshot names; ``service`` is None when there is no record.
        """
        if HOST_ATTRIBUTE in server:
            host = server[HOST_ATTRIBUTE]
        elif server.get('hostId'):
            host = self._host_for_id(str(server.get('tenant_id')),
                                     server['hostId'])
            if host is None:
                return False, None
        else:
            host = None
        if not host:
            return True, None
        service = self.services.get(host)
        return service is not None, service


class ServiceDirectory(object):
    """Fetches, keeps and drops the snapshot of compute services.

    Where the snapshot is kept is the store's business (:mod:`store`): in
    this process, or shared by every worker. When a refresh is due and the
    store says that another worker is fetching, this one waits for that
    worker's snapshot, so that N workers do not make N calls.
    """

    # Seconds between two looks at the store while another worker fetches,
    # and the longest wait for it before fetching here all the same.
    POLL = 0.01
    WAIT = 5.0

    def __init__(self, store, max_age, clock=time.time, sleep=time.sleep):
        self._store = store
        self._max_age = max_age
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()

    def _age(self, snapshot):
        return self._clock() - snapshot.fetched_at

    def _refresh(self, loader, seen):
        """Fetch anew, unless another caller did since ``seen`` was read."""
        with self._lock:
            deadline = self._clock() + self.WAIT
            while True:
                current = self._store.get(newer_than=seen)
                if current is not None and (
                        seen is None or current.fetched_at > seen.fetched_at):
                    return current
                claim = self._store.claim()
                if claim.mine or self._clock() >= deadline:
                    break
                self._sleep(self.POLL)
            try:
                snapshot = loader()
            except LookupFailed as exc:
                LOG.warning('Compute services unavailable, host_status will '
                            'read UNKNOWN: %s', exc)
                return None
            else:
                self._store.set(snapshot, claim)
                return snapshot
            finally:
                self._store.release(claim)

    def current(self, loader):
        """A snapshot no older than the maximum age, or None on failure."""
        snapshot = self._store.get()
        if snapshot is not None and self._age(snapshot) < self._max_age:
            return snapshot
        return self._refresh(loader, snapshot)

    def services_for(self, servers, loader):
        """The service of each server's host (None: no record), in order.

        A host that the snapshot does not name may be new: unless the
        snapshot was fetched for this very request, the services are fetched
        once more, and what is still missing then has no record.
        Answers None when the services cannot be listed.
        """
        started = self._clock()
        snapshot = self.current(loader)
        if snapshot is None:
            return None
        found = [snapshot.resolve(server) for server in servers]
        unknown = {snapshot.host_key(server)
                   for server, (known, _) in zip(servers, found) if not known}
        if unknown - snapshot.missing and snapshot.fetched_at < started:
            snapshot = self._refresh(loader, snapshot) or snapshot
            found = [snapshot.resolve(server) for server in servers]
        if snapshot.fetched_at >= started:
            snapshot.missing.update(
                snapshot.host_key(server)
                for server, (known, _) in zip(servers, found) if not known)
        return [service for _, service in found]

    def invalidate(self):
        """A service changed: the next read, on any worker, fetches."""
        with self._lock:
            self._store.invalidate()


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


def internal_loader(application, environ, context, clock=time.time):
    """A loader that lists compute services through ``application``.

    The request runs as an elevated copy of the caller's context, in the
    newest microversion, so that Nova's answer also tells its maximum.
    """
    def load():
        request = webob.Request.blank(
            '/os-services?binary=nova-compute',
            environ={'SCRIPT_NAME': environ.get('SCRIPT_NAME', ''),
                     'HTTP_HOST': environ.get('HTTP_HOST', 'localhost'),
                     'nova.context': elevated(context)},
            headers={'Accept': 'application/json',
                     microversion.HEADER: 'compute latest'})
        try:
            response = request.get_response(application)
        except Exception as exc:
            raise LookupFailed('internal GET /os-services raised %r' % exc)
        if response.status_int != 200:
            raise LookupFailed('internal GET /os-services answered %s'
                               % response.status)
        try:
            records = json.loads(response.body)['services']
            services = [ComputeService.from_api(record)
                        for record in records
                        if record.get('binary') == 'nova-compute']
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise LookupFailed('unreadable os-services answer: %r' % exc)
        return Snapshot(services, clock(),
                        microversion.answered(response.headers))
    return load
