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

"""The shared cache: what every API worker of one deployment can read.

Without ``[cache]`` (or with a backend that keeps values per process) each
worker keeps its own state and :func:`from_conf` answers None. With a
memcached backend the filter talks to the backend's own memcached client,
not through the dogpile region: it needs what the region does not offer,
an atomic ``add`` for the refresh lease, ``incr`` for the change counter,
and memcached's own expiry (TTL), so that ages are never wall-clock times
compared across controllers.

Every key carries a namespace, one per deployment, so that two clouds can
share a memcached; keys are hashed, so any host name makes a valid key.
With ``memcache_security_strategy = MAC`` every value is signed with
``memcache_secret_key`` (HMAC-SHA256 over key and value); a value whose
signature does not match is dropped and logged, so whoever can write to
the memcached cannot make a host look down or up. No value is larger than
:data:`MAX_ITEM`; the directory splits larger ones.
"""

import hashlib
import hmac
import logging

from oslo_config import cfg

LOG = logging.getLogger(__name__)

PREFIX = 'nova_hoststatus:v2'
# memcached refuses items over 1 MiB by default; stay well below.
MAX_ITEM = 512 * 1024
NULL_BACKEND = 'dogpile.cache.null'
MAC = 'MAC'
STRATEGIES = ('None', MAC)


class CacheUnavailable(Exception):
    """The shared cache failed, or does not keep what is written to it."""


class InsecureValue(Exception):
    """A value whose signature does not match: not written by the filter.
    """


def ttl_seconds(seconds):
    """memcached expiry in whole seconds; None (and only None) is never.

    memcached reads 0 as never, so a short time rounds up to 1 s.
    """
    if seconds is None:
        return 0
    return max(1, int(-(-seconds // 1)))


class _Signer(object):
    """Signs and checks values, or passes them as they are."""

    def __init__(self, secret):
        self._key = (hashlib.sha256(secret.encode('utf-8')).digest()
                     if secret else None)

    @property
    def protected(self):
        return self._key is not None

    def _mac(self, key, payload):
        return hmac.new(self._key, key.encode('utf-8') + b'\0' + payload,
                        hashlib.sha256).hexdigest().encode('ascii')

    def seal(self, key, payload):
        if self._key is None:
            return payload
        return self._mac(key, payload) + b':' + payload

    def open(self, key, value):
        if self._key is None:
            return value
        mac, sep, payload = value.partition(b':')
        if not sep or not hmac.compare_digest(mac, self._mac(key, payload)):
            raise InsecureValue(key)
        return payload


class SharedCache(object):
    """Namespaced, optionally signed bytes over a memcached-like client.

    ``client`` offers the memcached verbs; see :class:`MemcacheClient`.
    Every failure of the client becomes :exc:`CacheUnavailable`.
    """

    def __init__(self, client, namespace, secret=None):
        self._client = client
        self.namespace = namespace
        self._signer = _Signer(secret)
        self.largest_item = 0
        self._warned_insecure = False

    @property
    def protected(self):
        return self._signer.protected

    def _key(self, name):
        text = '%s:%s:%s' % (PREFIX, self.namespace, name)
        return hashlib.sha1(text.encode('utf-8')).hexdigest()

    def _call(self, what, *args):
        try:
            return getattr(self._client, what)(*args)
        except Exception as exc:
            raise CacheUnavailable('%s: %r' % (what, exc))

    def get_many(self, names):
        """``{name: bytes}`` for the names the cache holds (signed right).
        """
        keys = {self._key(name): name for name in names}
        found = self._call('get_many', list(keys))
        values = {}
        for key, value in found.items():
            name = keys[key]
            if isinstance(value, str):
                value = value.encode('utf-8')
            try:
                values[name] = self._signer.open(name, value)
            except InsecureValue:
                if not self._warned_insecure:
                    LOG.warning('Ignoring a cached value whose signature '
                                'does not match (%s): something other than '
                                'this deployment\'s filters writes to the '
                                'cache, or memcache_secret_key differs '
                                'between them', name)
                    self._warned_insecure = True
        return values

    def get(self, name):
        return self.get_many([name]).get(name)

    def _sealed(self, name, payload):
        value = self._signer.seal(name, payload)
        if len(value) > MAX_ITEM:
            raise ValueError('cache item %s is %d bytes, over %d'
                             % (name, len(value), MAX_ITEM))
        self.largest_item = max(self.largest_item, len(value))
        return value

    def set_many(self, values, ttl):
        """Store ``{name: bytes}`` for ``ttl`` seconds (None: no expiry),
        all or fail.
        """
        mapping = {self._key(name): self._sealed(name, payload)
                   for name, payload in values.items()}
        failed = self._call('set_many', mapping, ttl_seconds(ttl))
        if failed:
            raise CacheUnavailable('%d of %d values not stored'
                                   % (len(failed), len(mapping)))

    def add(self, name, payload, ttl):
        """Store unless present, for ``ttl`` seconds (None: no expiry).

        True when this call stored it.

        A client that skips a dead server answers False too; a value that
        is not there to read then tells that the cache keeps nothing.
        """
        key = self._key(name)
        if self._call('add', key, self._sealed(name, payload),
                      ttl_seconds(ttl)):
            return True
        if key not in self._call('get_many', [key]):
            raise CacheUnavailable('a value written is not kept')
        return False

    def create_counter(self, name):
        """A counter at 0, with no expiry, unless it exists."""
        self._call('add', self._key(name), b'0', 0)

    def incr(self, name):
        """Add one to a counter: the new value, None if it is not there."""
        value = self._call('incr', self._key(name))
        return None if value is None else int(value)

    def read_counter(self, name):
        value = self._call('get_many', [self._key(name)]).get(self._key(name))
        try:
            return int(value) if value is not None else 0
        except ValueError:
            return 0

    def delete(self, name):
        self._call('delete', self._key(name))


class MemcacheClient(object):
    """The memcached verbs over python-memcached or pymemcache clients.

    oslo.cache's ``memcache_pool`` and dogpile's ``memcached`` backends
    hand out python-memcached clients; dogpile's ``pymemcache`` backend a
    pymemcache one. Both spell the verbs differently.
    """

    def __init__(self, client):
        self._client = client
        self._pymemcache = type(client).__module__.startswith('pymemcache')

    def get_many(self, keys):
        if self._pymemcache:
            return self._client.get_many(keys)
        return self._client.get_multi(keys)

    def set_many(self, mapping, ttl):
        if self._pymemcache:
            return self._client.set_many(mapping, expire=ttl, noreply=False)
        return self._client.set_multi(mapping, time=ttl)

    def add(self, key, value, ttl):
        if self._pymemcache:
            return self._client.add(key, value, expire=ttl, noreply=False)
        return self._client.add(key, value, time=ttl)

    def incr(self, key):
        if self._pymemcache:
            return self._client.incr(key, 1, noreply=False)
        return self._client.incr(key)

    def delete(self, key):
        self._client.delete(key)


def default_namespace(conf):
    """A namespace that differs between two clouds: from Nova's databases.

    Nova's ``[api_database] connection`` (else ``[database] connection``)
    names the cloud; only a hash of it is used, so no password reaches
    the cache or the logs.
    """
    for group in ('api_database', 'database'):
        try:
            connection = conf[group].connection
        except (cfg.NoSuchOptError, cfg.NoSuchGroupError):
            continue
        if connection:
            return hashlib.sha256(
                connection.encode('utf-8')).hexdigest()[:16]
    return 'default'


def from_conf(conf, namespace=None, secret=None):
    """The shared cache ``[cache]`` of ``conf`` asks for, or None.

    None means per-process state: no cache, the null backend, a backend
    that keeps its values in each process, one without memcached's verbs,
    or one that cannot be loaded (its client library missing). The region
    is the filter's own, so the service's own caching is untouched.
    """
    from oslo_cache import core as cache
    cache.configure(conf)
    if not conf.cache.enabled or conf.cache.backend == NULL_BACKEND:
        return None
    try:
        region = cache.configure_cache_region(conf, cache.create_region())
        client = region.backend.client
    except AttributeError:
        LOG.warning('The [cache] backend %s is not a memcached one; compute '
                    'service state stays per API worker', conf.cache.backend)
        return None
    except Exception:
        # A backend whose client library is missing must not take the
        # whole API down with the filter: each worker keeps its own state.
        LOG.exception('The [cache] backend %s cannot be loaded; compute '
                      'service state stays per API worker',
                      conf.cache.backend)
        return None
    namespace = namespace or default_namespace(conf)
    shared = SharedCache(MemcacheClient(client), namespace, secret)
    LOG.info('Compute service state is shared through the %s cache, '
             'namespace %s, values %s', conf.cache.backend, namespace,
             'signed' if shared.protected else 'not signed')
    return shared
