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

"""The state of compute services as a worker holds it: pure data, no I/O.

A :class:`View` is every compute service as one listing found them, plus
the :class:`Patch` of each change made through a filter since; it answers
which host a server runs on and what that host's record is. The
directory (:mod:`directory`) fetches, shares and swaps views; nothing here
waits, locks or calls anything.
"""

import dataclasses
import json

from nova_hoststatus import services
from nova_hoststatus import store

# Room left in each chunk for the signature and the list's brackets.
CHUNK_MARGIN = 1024


@dataclasses.dataclass(frozen=True)
class Patch:
    """A change made through a filter: the host's record after it.

    ``service`` None: Nova must be asked again (the service was deleted,
    or changed in a way the answer did not tell). ``seq`` orders patches
    against listings within one ``epoch`` of the shared counter; across
    epochs (no cache, or one that lost its counter) this process's
    monotonic clock does: ``received_at`` against the view's
    ``fetched_at``.
    """
    service: services.ComputeService | None
    seq: int
    epoch: str | None
    received_at: float = dataclasses.field(compare=False, default=0.0)

    def applies_to(self, view):
        """Whether this change may be missing from ``view``'s listing."""
        if self.epoch is not None and self.epoch == view.epoch:
            return self.seq > view.seq0
        return self.received_at >= view.fetched_at

    def same_or_older(self, other):
        return other.epoch == self.epoch and self.seq <= other.seq

    def to_json(self):
        return json.dumps({
            'seq': self.seq, 'epoch': self.epoch,
            'service': self.service.to_list() if self.service else None,
        }).encode('utf-8')

    @classmethod
    def from_json(cls, payload):
        doc = json.loads(payload)
        service = doc['service']
        return cls(services.ComputeService.from_list(service)
                   if service else None, int(doc['seq']), doc['epoch'])


class HostIds(object):
    """``hostId`` mapped back to hosts: ``(project, hostId)`` -> host.

    A ``hostId`` is a hash of project and host, so a project's ids are
    found by hashing every known host name with it: one scan per project
    that shows an id not seen before, resolving every id of the request.
    Only the pairs are kept (a pair stays true as long as its host
    exists), at most :data:`MAX_PAIRS` of them, so memory follows the
    servers looked at, not projects times hosts.
    """

    MAX_PAIRS = 100000

    def __init__(self):
        self._pairs = {}

    def resolve(self, keys, view):
        """``{key: host}`` for the ``(project, hostId)`` keys ``view`` knows.
        """
        found = {}
        wanted = {}
        for key in keys:
            host = self._pairs.get(key)
            if host is not None and view.service(host)[0]:
                found[key] = host
            else:
                wanted.setdefault(key[0], set()).add(key[1])
        for project_id, ids in wanted.items():
            for host in view.host_names():
                server_host_id = services.host_id(project_id, host)
                if server_host_id in ids:
                    found[project_id, server_host_id] = host
        if len(self._pairs) + len(found) > self.MAX_PAIRS:
            self._pairs.clear()
        self._pairs.update(found)
        return found


class View(object):
    """Every compute service at one listing, with the patches since.

    Immutable but for the set of server hosts known to have no record,
    which any thread may add to.
    """

    def __init__(self, by_host, api_version, fetched_at, token, epoch,
                 seq0, patches=None, missing=None, listed_at=None):
        self.by_host = by_host
        self.api_version = api_version
        self.fetched_at = fetched_at
        # When this process began the listing; None for one adopted from
        # another worker, whose start it cannot know.
        self.listed_at = listed_at
        self.token = token
        self.epoch = epoch
        self.seq0 = seq0
        self.patches = patches or {}
        self.missing = missing if missing is not None else set()

    def with_patches(self, patches):
        """A view with ``patches`` over this one; self if none is newer."""
        merged = dict(self.patches)
        changed = False
        for host, patch in patches.items():
            known = merged.get(host)
            if known is not None and patch.same_or_older(known):
                continue
            if patch.applies_to(self):
                merged[host] = patch
                changed = True
        if not changed:
            return self
        return View(self.by_host, self.api_version, self.fetched_at,
                    self.token, self.epoch, self.seq0, merged, self.missing,
                    self.listed_at)

    def successor(self, newer, host_ids):
        """``newer`` with this view's patches and misses that still hold."""
        patches = {host: patch for host, patch in self.patches.items()
                   if patch.applies_to(newer)}
        view = View(newer.by_host, newer.api_version, newer.fetched_at,
                    newer.token, newer.epoch, newer.seq0, patches,
                    listed_at=newer.listed_at)
        known = view.hosts_of(self.missing, host_ids)
        view.missing.update(key for key in self.missing if key not in known)
        return view

    def service(self, host):
        """``(known, service)``: the record of ``host`` as this view has it.

        A host whose patch has no record is not known: its service was
        deleted or changed in a way the answer did not tell, and only
        Nova's next listing says what it is now.
        """
        patch = self.patches.get(host)
        service = patch.service if patch is not None else \
            self.by_host.get(host)
        return service is not None, service

    @staticmethod
    def host_key(server):
        """What names a server's host: the host, or project and hostId.

        None when the server has no host.
        """
        if services.HOST_ATTRIBUTE in server:
            return server[services.HOST_ATTRIBUTE] or None
        if not server.get('hostId'):
            return None
        return str(server.get('tenant_id')), server['hostId']

    def hosts_of(self, keys, host_ids):
        """``{key: host}`` for the :meth:`host_key` keys this view knows.
        """
        found = {key: key for key in keys
                 if isinstance(key, str) and self.service(key)[0]}
        ids = [key for key in keys if isinstance(key, tuple)]
        if ids:
            found.update(host_ids.resolve(ids, self))
        return found

    def host_names(self):
        """Every host with a record here."""
        yield from (host for host in self.by_host
                    if host not in self.patches)
        yield from (host for host, patch in self.patches.items()
                    if patch.service is not None)


def listing_chunks(records):
    """JSON lists of records, each under the cache's item size."""
    limit = store.MAX_ITEM - CHUNK_MARGIN
    part, size = [b'['], 1
    for service in records:
        text = json.dumps(service.to_list()).encode('utf-8')
        if size + len(text) + 2 > limit and len(part) > 1:
            part.append(b']')
            yield part
            part, size = [b'['], 1
        part.append(text if len(part) == 1 else b',' + text)
        size += len(text) + 1
    part.append(b']')
    yield part
