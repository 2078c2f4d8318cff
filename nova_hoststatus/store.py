"""Where the snapshot of compute services is kept: per process or shared.

Without a cache (``[cache] enabled = false``, or no backend) each API
worker keeps its own snapshot: :class:`MemoryStore`.

With one, :class:`SharedStore` shares what every filter knows through an
oslo.cache region built from the ``[cache]`` section of the service's own
configuration (memcached in production), under three keys:

* the *generation*: a random token, replaced after every successful service
  change made through any filter. It is read once per request, and when
  nothing changed that read is all a request pays for the cache.
* the *snapshot*: the last list of compute services, as JSON, with its fetch
  time and the generation that was current when its fetch began. A snapshot
  labelled with the current generation was fetched after the last change
  through any filter, so it shows that change.
* the *lease*: taken by the worker that fetches, so that when a refresh is
  due one worker asks Nova and the others wait for its snapshot instead of
  asking too.

Each process keeps a local copy of the snapshot it last used and uses it
while the generation is unchanged and the copy is younger than
``service_cache_time``; otherwise it takes the shared snapshot if that one
belongs to the current generation, or else the directory fetches anew.
Which hosts a snapshot does not name is remembered per process, on the
local copy.

A cache that fails (an error, or a generation that cannot be written and
read back, which is how a client that skips a dead server shows it) does
not fail a request: the store falls back to its local copy, which the
directory keeps no longer than ``service_cache_time``, logs one warning,
and tries the cache again every ``RETRY_INTERVAL`` seconds. The first
success is logged once and writes a new generation, since a change may have
been missed meanwhile.
"""

import collections
import datetime
import json
import logging
import time
import uuid

from dogpile.cache import api as dogpile_api
from oslo_cache import core as cache

from nova_hoststatus import services

LOG = logging.getLogger(__name__)

_PREFIX = 'nova_hoststatus:v1:'
GENERATION = _PREFIX + 'generation'
SNAPSHOT = _PREFIX + 'snapshot'
LEASE = _PREFIX + 'lease'
# Seconds between two tries of a cache that failed.
RETRY_INTERVAL = 5.0
# Seconds the worker that fetches holds the lease; the others wait at most
# this long before they fetch themselves.
LEASE_TIME = 5.0
NULL_BACKEND = 'dogpile.cache.null'

Claim = collections.namedtuple('Claim', 'generation mine')
"""A refresh about to be made: the generation it is for, and whether this
process fetches (``mine``) or waits for the one that does."""


class CacheUnavailable(Exception):
    """The shared cache failed, or does not keep what is written to it."""


def from_conf(conf, max_age):
    """The store the ``[cache]`` section of ``conf`` asks for.

    oslo.cache's options are registered on ``conf`` if they are not yet
    (registering the same options again changes nothing); the region is
    the filter's own, so nothing of the service's own caching is touched.
    """
    cache.configure(conf)
    if not conf.cache.enabled or conf.cache.backend == NULL_BACKEND:
        return MemoryStore()
    try:
        region = cache.configure_cache_region(conf, cache.create_region())
    except Exception:
        # A backend whose client library is missing must not take the
        # whole API down with the filter: each worker keeps its own state.
        LOG.exception('The [cache] backend %s cannot be loaded; compute '
                      'service state stays per API worker',
                      conf.cache.backend)
        return MemoryStore()
    LOG.info('Compute service state is shared through the %s cache',
             conf.cache.backend)
    return SharedStore(region, max_age)


class MemoryStore(object):
    """Keeps the snapshot in this process: one API worker's view."""

    def __init__(self):
        self._snapshot = None

    def get(self, newer_than=None):
        return self._snapshot

    def claim(self):
        return Claim(None, True)

    def set(self, snapshot, claim):
        self._snapshot = snapshot

    def release(self, claim):
        pass

    def invalidate(self):
        self._snapshot = None


def dump(snapshot, generation):
    """The JSON text of a snapshot, labelled with its generation."""
    return json.dumps({
        'generation': generation,
        'fetched_at': snapshot.fetched_at,
        'api_version': snapshot.api_version,
        'services': [
            [s.host, s.disabled, s.forced_down, s.reported_up,
             s.updated_at.isoformat() if s.updated_at else None]
            for s in snapshot.services.values()],
    })


def load(text):
    """``(generation, snapshot)`` from :func:`dump`'s text."""
    doc = json.loads(text)
    records = []
    for host, disabled, forced_down, reported_up, updated_at in \
            doc['services']:
        records.append(services.ComputeService(
            host=host, disabled=disabled, forced_down=forced_down,
            reported_up=reported_up,
            updated_at=(datetime.datetime.fromisoformat(updated_at)
                        if updated_at else None)))
    version = doc['api_version']
    return doc['generation'], services.Snapshot(
        records, doc['fetched_at'], tuple(version) if version else None)


class SharedStore(object):
    """Shares the snapshot through a dogpile region; see the module doc."""

    def __init__(self, region, max_age, clock=time.time):
        self._region = region
        self._max_age = max_age
        self._clock = clock
        self._local = None
        self._local_generation = None
        self._failed_at = None
        self._retry_at = 0.0
        self._lease = None

    # The cache, every error turned into CacheUnavailable

    def _read(self, key):
        try:
            return self._region.get(key, ignore_expiration=True)
        except Exception as exc:
            raise CacheUnavailable('reading %s: %r' % (key, exc))

    def _write(self, key, value):
        try:
            self._region.set(key, value)
        except Exception as exc:
            raise CacheUnavailable('writing %s: %r' % (key, exc))

    def _new_generation(self):
        """Write a fresh generation and read it back; answer what is read.

        Another worker may write one at the same moment: whichever is read
        back is current. None read back means the cache keeps nothing.
        """
        self._write(GENERATION, uuid.uuid4().hex)
        generation = self._read(GENERATION)
        if not isinstance(generation, str):
            raise CacheUnavailable('a value written is not read back')
        return generation

    def _generation(self):
        generation = self._read(GENERATION)
        if isinstance(generation, str):
            return generation
        # First use, or the cache was restarted and lost every key.
        return self._new_generation()

    def _shared(self, generation):
        """The shared snapshot if it belongs to ``generation``, else None."""
        text = self._read(SNAPSHOT)
        if text is dogpile_api.NO_VALUE:
            return None
        try:
            labelled, snapshot = load(text)
        except (ValueError, KeyError, TypeError) as exc:
            LOG.debug('Ignoring an unreadable shared snapshot: %r', exc)
            return None
        if labelled != generation:
            return None
        local = self._local
        if (local is not None and self._local_generation == generation
                and local.fetched_at >= snapshot.fetched_at):
            return local
        self._local, self._local_generation = snapshot, generation
        return snapshot

    # Outages

    def _available(self):
        """Whether to use the cache now; after an outage, try it again."""
        if self._failed_at is None:
            return True
        if self._clock() < self._retry_at:
            return False
        try:
            self._new_generation()
        except CacheUnavailable as exc:
            LOG.debug('Shared cache still unavailable: %s', exc)
            self._retry_at = self._clock() + RETRY_INTERVAL
            return False
        LOG.info('Shared cache answers again after %.0f s; compute service '
                 'state is shared again', self._clock() - self._failed_at)
        self._failed_at = None
        return True

    def _fail(self, exc):
        if self._failed_at is None:
            self._failed_at = self._clock()
            LOG.warning(
                'Shared cache unavailable (%s). Until it answers again, '
                'this worker uses its own list of compute services, at '
                'most %s s old; it tries the cache every %.0f s.',
                exc, self._max_age, RETRY_INTERVAL)
        self._retry_at = self._clock() + RETRY_INTERVAL
        self._local_generation = None

    # The store

    def get(self, newer_than=None):
        """The newest snapshot known for the current generation, or None.

        The local copy is taken without a look at the shared one while it
        is young enough, unless the caller already has it and asks for a
        newer one. During an outage: the local copy, whatever its
        generation.
        """
        if not self._available():
            return self._local
        try:
            generation = self._generation()
            local = self._local
            if (local is not None and self._local_generation == generation
                    and self._clock() - local.fetched_at < self._max_age
                    and local is not newer_than):
                return local
            shared = self._shared(generation)
            if shared is not None:
                return shared
            return local if self._local_generation == generation else None
        except CacheUnavailable as exc:
            self._fail(exc)
            return self._local

    def claim(self):
        """Take the lease for a refresh, unless another worker holds it."""
        if not self._available():
            return Claim(None, True)
        try:
            generation = self._generation()
            now = self._clock()
            lease = self._read(LEASE)
            if (isinstance(lease, dict) and lease.get('until', 0) > now
                    and lease.get('generation') == generation):
                return Claim(generation, False)
            self._lease = uuid.uuid4().hex
            self._write(LEASE, {'token': self._lease,
                                'generation': generation,
                                'until': now + LEASE_TIME})
            lease = self._read(LEASE)
        except CacheUnavailable as exc:
            self._fail(exc)
            return Claim(None, True)
        return Claim(generation, isinstance(lease, dict)
                     and lease.get('token') == self._lease)

    def set(self, snapshot, claim):
        """Keep a snapshot fetched for ``claim`` here, and share it."""
        self._local, self._local_generation = snapshot, claim.generation
        if claim.generation is None or self._failed_at is not None:
            return
        try:
            self._write(SNAPSHOT, dump(snapshot, claim.generation))
        except CacheUnavailable as exc:
            self._fail(exc)

    def release(self, claim):
        """Give the lease back, so that the next refresh may be taken."""
        if not claim.mine or claim.generation is None or \
                self._failed_at is not None:
            return
        try:
            lease = self._read(LEASE)
            if isinstance(lease, dict) and lease.get('token') == self._lease:
                self._region.delete(LEASE)
        except Exception as exc:
            self._fail(exc)

    def invalidate(self):
        """A service changed: every filter re-reads on its next request."""
        self._local, self._local_generation = None, None
        if not self._available():
            return
        try:
            self._new_generation()
        except CacheUnavailable as exc:
            self._fail(exc)
