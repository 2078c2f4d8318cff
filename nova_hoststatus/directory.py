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

"""The service directory: the compute service of each server's host.

What a request pays follows its response, not the cloud:

* A *view* holds every compute service as one listing found them, plus
  *patches*: changes made through any filter since, each from Nova's own
  answer. A view is immutable; a process swaps its view as one value, so
  threaded workers never see half of one.
* A request resolves its servers' hosts in the view (``hostId`` is mapped
  back over the known host names, and remembered per pair),
  reads the patches of those hosts only (one shared-cache read), and
  computes the values. Nothing grows with the number of hosts.
* The listing is fetched again once the view is older than the refresh
  interval: ``service_cache_time``, stretched for large clouds so that
  refreshing takes at most :data:`REFRESH_SHARE` of one worker's time,
  and never past half of ``service_down_time`` (cached heartbeats must
  not age into UNKNOWN). Where a listing is slow (over
  :data:`BACKGROUND_AFTER`), it runs in the background and requests keep
  the view they have meanwhile; only a process without a usable view, or
  a request naming a host the view does not know, then waits for one.
* With a shared cache, one worker of the deployment fetches under an
  atomic lease and publishes the listing in chunks under a small *meta*
  item whose cache TTL is the refresh interval; the others adopt it.
  Patches carry a number from a shared counter; a listing remembers the
  counter from before its fetch, so a patch made during a fetch is kept
  over the listing that may predate it.
* Faults: a failed listing leaves the view in use for ``stale_if_error``
  seconds past its refresh interval, then every value is UNKNOWN; lookups
  are retried with exponential back-off. A failing cache is skipped, and
  tried again every ``service_cache_time``: the process then works on its
  own, as without a cache. No lock is held while waiting for anything.
"""

import dataclasses
import itertools
import json
import logging
import threading
import time
import uuid

from nova_hoststatus import services
from nova_hoststatus import state
from nova_hoststatus import store

LOG = logging.getLogger(__name__)

# The share of one worker's time the background listing may take.
REFRESH_SHARE = 0.1
# A listing that took longer than this (seconds) is refreshed in the
# background; a quicker one is waited for, so that small clouds read
# fresh state on every request after the interval.
BACKGROUND_AFTER = 0.2
# Back-off after failed lookups: first delay, longest delay (seconds).
BACKOFF_FIRST = 1.0
BACKOFF_MAX = 30.0
# Polling for another worker's listing: first and longest pause.
POLL_FIRST = 0.05
POLL_MAX = 1.0

# Patches whose first reading this process remembers, before it forgets
# those older than their time in the cache.
MAX_SEEN = 10000

META = 'meta'
LEASE = 'lease'
EPOCH = 'epoch'


@dataclasses.dataclass(frozen=True)
class Timing:
    """The directory's times, in seconds."""
    service_cache_time: float
    service_down_time: float
    stale_if_error: float
    lease_time: float


def start_thread(target, *args):
    threading.Thread(target=target, args=args, daemon=True,
                     name='nova-hoststatus-refresh').start()


class ServiceDirectory(object):
    """Keeps the view of compute services; see the module doc."""

    def __init__(self, shared, timing, clock=time.monotonic,
                 sleep=time.sleep, spawn=start_thread):
        self._shared = shared
        self._timing = timing
        self._clock = clock
        self._sleep = sleep
        self._spawn = spawn
        self._view = None
        self._swap_lock = threading.Lock()
        self._inflight = None
        self._listing_seconds = 0.0
        self._failures = 0
        self._retry_at = 0.0
        self._cache_retry_at = None
        self._local_seq = itertools.count(1)
        self._host_ids = state.HostIds()
        self._seen = {}

    # Timing

    def refresh_interval(self):
        """How long a view serves before it is fetched again.

        ``service_cache_time = 0`` asks for a listing on every request,
        and gets it whatever a listing costs.
        """
        timing = self._timing
        if not timing.service_cache_time:
            return 0.0
        interval = max(timing.service_cache_time,
                       self._listing_seconds / REFRESH_SHARE)
        return max(timing.service_cache_time,
                   min(interval, timing.service_down_time / 2.0))

    def _patch_ttl(self):
        """How long a patch stays shared: until every worker's listing is
        newer, failed listings included.
        """
        return (2 * self.refresh_interval() + self._timing.stale_if_error +
                self._lease_time())

    def _lease_time(self):
        return max(self._timing.lease_time, 2 * self._listing_seconds)

    # The shared cache, skipped while it fails

    def _cache(self):
        if self._shared is None:
            return None
        if self._cache_retry_at is not None:
            if self._clock() < self._cache_retry_at:
                return None
            LOG.info('Trying the shared cache again')
            self._cache_retry_at = None
        return self._shared

    def _cache_failed(self, exc):
        if self._cache_retry_at is None:
            LOG.warning('Shared cache unavailable (%s). This worker keeps '
                        'its own compute service state and tries the cache '
                        'again every %s s.', exc,
                        self._timing.service_cache_time)
        self._cache_retry_at = (self._clock() +
                                self._timing.service_cache_time)

    def _epoch(self, cache):
        """The current epoch of the shared change counter."""
        epoch = cache.get(EPOCH)
        if epoch is None:
            return self._new_epoch(cache)
        return epoch.decode('ascii')

    def _new_epoch(self, cache):
        """Start an epoch, its counter first: at first use, and when the
        current one's counter was lost (a memcached restarted, or a dead
        server's keys moved to another) or cannot be read (not signed
        with the secret). Numbers from a counter started again must not
        compare with the old ones. Two workers that start one at once
        leave two epochs; changes of either still order by each worker's
        clock.
        """
        epoch = uuid.uuid4().hex
        cache.create_counter('changes:' + epoch)
        cache.set_many({EPOCH: epoch.encode('ascii')}, None)
        current = cache.get(EPOCH)
        if current is None:
            raise store.CacheUnavailable('the counter epoch is not kept')
        return current.decode('ascii')

    def _next_seq(self, cache):
        """``(epoch, number)`` for a change, from the shared counter."""
        epoch = self._epoch(cache)
        seq = cache.incr('changes:' + epoch)
        if seq is None:
            epoch = self._new_epoch(cache)
            seq = cache.incr('changes:' + epoch)
        if seq is None:
            raise store.CacheUnavailable('the change counter is not kept')
        return epoch, seq

    # Installing views

    def _install(self, view):
        """Make ``view`` current, keeping the patches it does not cover."""
        with self._swap_lock:
            current = self._view
            if current is not None and current.token == view.token:
                return current
            if current is not None:
                view = current.successor(view, self._host_ids)
            self._view = view
            return view

    def _patch(self, patches):
        with self._swap_lock:
            if self._view is None:
                return None
            self._view = self._view.with_patches(patches)
            return self._view

    # Fetching and adopting listings

    def _adopt(self, cache, seen):
        """The shared listing if it is not ``seen``'s; None otherwise."""
        meta = cache.get(META)
        if meta is None:
            return None
        try:
            meta = json.loads(meta)
            if seen is not None and meta['token'] == seen.token:
                return None
            names = ['chunk:%s:%d' % (meta['token'], i)
                     for i in range(meta['chunks'])]
            chunks = cache.get_many(names)
            if len(chunks) != len(names):
                return None
            by_host = {}
            for name in names:
                for values in json.loads(chunks[name]):
                    service = services.ComputeService.from_list(values)
                    by_host[service.host] = service
            version = meta['version']
            view = state.View(by_host, tuple(version) if version else None,
                              self._clock(), meta['token'], meta['epoch'],
                              meta['seq0'])
        except (ValueError, KeyError, TypeError) as exc:
            LOG.warning('Ignoring an unreadable shared listing: %r', exc)
            return None
        return self._install(view)

    def _publish(self, cache, view, listing):
        """Share a listing: chunks under memcached's item size, then meta.
        """
        chunks = [b''.join(part)
                  for part in state.listing_chunks(listing.services)]
        names = ['chunk:%s:%d' % (view.token, i) for i in range(len(chunks))]
        interval = self.refresh_interval()
        cache.set_many(dict(zip(names, chunks)),
                       interval + self._timing.stale_if_error +
                       self._lease_time())
        cache.set_many({META: json.dumps({
            'token': view.token, 'epoch': view.epoch, 'seq0': view.seq0,
            'chunks': len(chunks), 'hosts': len(listing.services),
            'largest': max(map(len, chunks), default=0),
            'version': view.api_version}).encode()}, interval)

    def _fetch(self, fetch, cache):
        """List every compute service, publish it, and make it current."""
        if self._clock() < self._retry_at:
            return None
        epoch = seq0 = None
        if cache is not None:
            epoch = self._epoch(cache)
            seq0 = cache.read_counter('changes:' + epoch)
        started = self._clock()
        try:
            listing = fetch()
        except services.LookupFailed as exc:
            self._failures += 1
            delay = min(BACKOFF_MAX,
                        BACKOFF_FIRST * 2 ** (self._failures - 1))
            self._retry_at = self._clock() + delay
            LOG.warning('Compute services unavailable (%s); the last list '
                        'serves for up to %s s past its refresh, then '
                        'host_status reads UNKNOWN; next try in %.0f s',
                        exc, self._timing.stale_if_error, delay)
            return None
        if self._failures:
            LOG.info('Compute services listed again after %d failures',
                     self._failures)
        self._failures = 0
        self._listing_seconds = listing.seconds
        view = state.View({s.host: s for s in listing.services},
                          listing.api_version, started, uuid.uuid4().hex,
                          epoch, seq0, listed_at=started)
        if cache is not None:
            try:
                self._publish(cache, view, listing)
            except store.CacheUnavailable as exc:
                self._cache_failed(exc)
        return self._install(view)

    def _refresh(self, fetch, seen, wait, own=False):
        """A view newer than ``seen``: adopted, fetched, or waited for.

        Without ``wait``, gives up when another worker holds the lease;
        ``own`` lists here, whatever another worker has or does.
        """
        cache = self._cache()
        try:
            if cache is not None and own:
                return self._fetch(fetch, cache)
            if cache is not None:
                adopted = self._adopt(cache, seen)
                if adopted is not None:
                    return adopted
                lease = self._lease_value()
                if not cache.add(LEASE, lease, self._lease_time()):
                    return self._wait(cache, seen, fetch) if wait else None
                return self._fetch_leased(fetch, cache, lease)
        except store.CacheUnavailable as exc:
            self._cache_failed(exc)
        return self._fetch(fetch, None)

    def _lease_value(self):
        """A lease of this worker's, with how long it expects to list."""
        return json.dumps({'token': uuid.uuid4().hex,
                           'seconds': self._listing_seconds}).encode()

    def _overdue_after(self, cache):
        """How long to wait for the lease's holder before taking over:
        three times the listing it expects, at least POLL_MAX; the whole
        lease time when it cannot tell (a first listing).
        """
        try:
            expected = float(json.loads(cache.get(LEASE))['seconds'])
        except (TypeError, ValueError, KeyError):
            expected = 0.0
        if not expected:
            return self._lease_time()
        return min(self._lease_time(), max(POLL_MAX, 3 * expected))

    def _wait(self, cache, seen, fetch):
        """Poll the small meta item until another worker's listing shows.

        A holder that is overdue (gone, or its cache write lost) has its
        lease taken over, so that the next refresh does not wait for it.
        """
        deadline = self._clock() + self._overdue_after(cache)
        pause = POLL_FIRST
        lease = self._lease_value()
        while self._clock() < deadline:
            self._sleep(pause)
            pause = min(POLL_MAX, pause * 2)
            adopted = self._adopt(cache, seen)
            if adopted is not None:
                return adopted
            if cache.add(LEASE, lease, self._lease_time()):
                # The holder gave up or went away: list here.
                return self._fetch_leased(fetch, cache, lease)
        LOG.warning('No compute service list from the worker holding the '
                    'lease; this worker takes the lease over and lists')
        cache.set_many({LEASE: lease}, self._lease_time())
        return self._fetch_leased(fetch, cache, lease)

    def _fetch_leased(self, fetch, cache, lease):
        try:
            return self._fetch(fetch, cache)
        finally:
            if cache.get(LEASE) == lease:
                cache.delete(LEASE)

    def _single_flight(self, fetch, seen, wait, own=False):
        """One refresh at a time in this process; others wait or go on."""
        with self._swap_lock:
            inflight = self._inflight
            mine = inflight is None
            if mine:
                inflight = self._inflight = threading.Event()
        if not mine:
            if wait:
                inflight.wait(self._lease_time())
            return self._view
        try:
            return self._refresh(fetch, seen, wait, own)
        finally:
            with self._swap_lock:
                self._inflight = None
            inflight.set()

    def _usable(self, fetch):
        """A view fit to answer from now, or None (values are UNKNOWN)."""
        view = self._view
        if view is not None:
            age = self._clock() - view.fetched_at
            interval = self.refresh_interval()
            if age < interval:
                return view
            if (interval and self._listing_seconds > BACKGROUND_AFTER and
                    age < interval + self._timing.stale_if_error):
                if self._inflight is None:
                    self._spawn(self._single_flight, fetch, view, False)
                return view
        view = self._single_flight(fetch, view, True) or self._view
        if view is None or (self._clock() - view.fetched_at >=
                            self.refresh_interval() +
                            self._timing.stale_if_error):
            return None
        return view

    def _read_patches(self, view, hosts):
        cache = self._cache()
        if cache is None or not hosts:
            return view
        try:
            found = cache.get_many(['patch:' + host for host in hosts])
        except store.CacheUnavailable as exc:
            self._cache_failed(exc)
            return view
        patches = {}
        for name, payload in found.items():
            try:
                patch = state.Patch.from_json(payload)
            except (ValueError, KeyError, TypeError):
                LOG.debug('Ignoring an unreadable patch %s', name)
                continue
            host = name[len('patch:'):]
            patches[host] = dataclasses.replace(
                patch, received_at=self._first_seen(host, patch))
        return (self._patch(patches) or view) if patches else view

    def _first_seen(self, host, patch):
        """When this process first read a patch, however often it reads it
        again: across epochs, that time orders it against listings.
        """
        identity = (host, patch.epoch, patch.seq)
        now = self._clock()
        seen = self._seen.setdefault(identity, now)
        if len(self._seen) > MAX_SEEN:
            horizon = now - 2 * self._patch_ttl()
            self._seen = {key: when for key, when in self._seen.items()
                          if when > horizon}
        return seen

    # What the filter asks

    def services_for(self, servers, fetch):
        """The service of each server's host (None: no record), in order.

        ``fetch()`` lists every compute service (a :class:`Listing`).
        Answers None when no view can be had: every value is then UNKNOWN.
        """
        started = self._clock()
        view = self._usable(fetch)
        if view is None:
            return None
        keys = [state.View.host_key(server) for server in servers]
        wanted = {key for key in keys if key is not None}
        hosts = view.hosts_of(wanted, self._host_ids)
        if wanted - hosts.keys() - view.missing and (
                view.listed_at is None or view.listed_at < started):
            # A host this view does not know may be new: list once more.
            view = self._listed_since(fetch, started) or view
            hosts = view.hosts_of(wanted, self._host_ids)
        view.missing.update(wanted - hosts.keys())
        view = self._read_patches(view, sorted(set(hosts.values())))
        return [view.service(hosts[key])[1] if key in hosts else None
                for key in keys]

    def _listed_since(self, fetch, started):
        """A view from a listing this process began after ``started``.

        A listing adopted from another worker, or one this process had
        already begun, may predate a host created since.
        """
        for _ in range(2):
            view = self._single_flight(fetch, self._view, True, own=True)
            if view is not None and view.listed_at is not None and \
                    view.listed_at >= started:
                return view
        return None

    def changed(self, host, answer):
        """Nova changed ``host``'s service: patch it, here and shared.

        ``answer`` is the whole record (2.53+) or the changed fields.
        """
        view = self._view
        if isinstance(answer, services.ComputeService):
            service = answer
        else:
            # Without a record to apply the change to, the host is read
            # again from Nova's next listing.
            base = view.service(host)[1] if view else None
            service = base.changed(answer) if base else None
        self._record(host, service)

    def deleted(self, service_id):
        """Nova deleted the service with this id: its host is read again
        (a service may come back on it at once, behind the API's back).
        """
        view = self._view
        if view is None:
            return
        for host, service in list(view.by_host.items()) + [
                (h, p.service) for h, p in view.patches.items()]:
            if service is not None and str(service.service_id) == \
                    str(service_id):
                self._record(host, None)
                return

    def _record(self, host, service):
        cache = self._cache()
        patch = None
        if cache is not None:
            try:
                epoch, seq = self._next_seq(cache)
                patch = state.Patch(service, seq, epoch)
                cache.set_many({'patch:' + host: patch.to_json()},
                               self._patch_ttl())
            except store.CacheUnavailable as exc:
                self._cache_failed(exc)
                patch = None
        if patch is None:
            patch = state.Patch(service, next(self._local_seq), None)
        self._patch({host: dataclasses.replace(patch,
                                               received_at=self._clock())})
