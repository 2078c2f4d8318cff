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

"""The checks of what the filter caches: its timing, and what is shared.

``timing``: the filter counts a host down when Nova does, and its copy of
the services is fresh enough for a host that reports in to stay UP.
``shared state``: what ``[cache]`` shares between API workers, that the
memcached servers answer, and what the filters of the deployment share.
"""

import collections

from nova_hoststatus import status
from nova_hoststatus import store
from nova_hoststatus.tools.checks import result

TIMING = 'timing'
SHARED_STATE = 'shared state'

PYMEMCACHE = 'dogpile.cache.pymemcache'
# Backends that keep what they hold in each process: no sharing.
PER_PROCESS_BACKENDS = frozenset(['dogpile.cache.memory',
                                  'dogpile.cache.memory_pickle',
                                  'oslo_cache.dict'])
MEMCACHE_BACKENDS = frozenset(['oslo_cache.memcache_pool',
                               'dogpile.cache.memcached',
                               'dogpile.cache.bmemcached',
                               'dogpile.cache.pylibmc', PYMEMCACHE])
# python-memcached, which skips a dead server for memcache_dead_retry.
DEAD_RETRY_BACKENDS = frozenset(['oslo_cache.memcache_pool',
                                 'dogpile.cache.memcached'])
MAX_DEAD_RETRY = 60


def check_timing(down_time, nova_down_time, cache_time, report_interval):
    """The filter counts a host down when Nova does, and its copy of the
    services is fresh enough for a host that reports in to stay UP.

    A copy up to ``service_cache_time`` old adds to the age of the last
    heartbeat, which is up to ``report_interval`` old already.
    """
    found = result.Findings(TIMING)
    found.note('service_down_time: filter %s s, Nova %s s; '
               'service_cache_time %s s; report_interval %s s'
               % (down_time, nova_down_time, cache_time, report_interval))
    if down_time != nova_down_time:
        found.problem(
            result.Code.WARNING,
            'the filter counts a host %s after %s s, Nova after %s s'
            % (status.UNKNOWN, down_time, nova_down_time),
            "unset service_down_time in the filter section and "
            "[host_status]: the filter then follows Nova's")
    if cache_time == 0:
        found.problem(result.Code.WARNING,
                      'service_cache_time = 0: every server view costs an '
                      'internal GET /os-services',
                      'set service_cache_time = 3 (the default)')
    elif cache_time + report_interval >= down_time:
        found.problem(
            result.Code.WARNING,
            'service_cache_time + report_interval (%s s) reaches '
            'service_down_time: hosts that report in may show %s'
            % (cache_time + report_interval, status.UNKNOWN),
            'keep service_cache_time below %s s'
            % (down_time - report_interval))
    return found.result()


def check_shared_state(enabled, backend, servers, dead_retry, probe, load,
                       sharing=None):
    """What ``[cache]`` shares between API workers, and that it answers.

    ``load()`` builds the configured backend in this Python: ``(True,
    None)`` or ``(False, why)``; a backend whose client library is missing
    leaves every worker on its own state. ``probe(server)`` asks one
    memcached for its version: ``(True, version)`` or ``(False, why)``.
    ``sharing()``, once the servers answer, reads what the filters share:
    a :class:`Sharing`.
    """
    found = result.Findings(SHARED_STATE)
    if not enabled or backend == store.NULL_BACKEND:
        found.note('[cache] is not enabled: each API worker keeps its own '
                   'state, and a change through one shows on the others '
                   'within service_cache_time')
        return found.result()
    found.note('[cache] backend = %s' % backend)
    if backend in PER_PROCESS_BACKENDS:
        found.problem(result.Code.WARNING,
                      '%s keeps its state in each process: API workers do '
                      'not share it' % backend,
                      'set [cache] backend = oslo_cache.memcache_pool and '
                      'memcache_servers')
    loaded, why = load()
    if not loaded:
        found.problem(result.Code.FAILURE,
                      'the %s backend cannot be loaded in this Python: %s; '
                      'the filter falls back to per-worker state'
                      % (backend, why),
                      "install the backend's client library into "
                      "nova-api's Python (python-memcached for "
                      'oslo_cache.memcache_pool, pymemcache for %s)'
                      % PYMEMCACHE)
        return found.result()
    if backend not in MEMCACHE_BACKENDS:
        return found.result()
    for server in servers:
        answered, text = probe(server)
        if answered:
            found.note('memcached %s answers (version %s)' % (server, text))
        else:
            found.problem(result.Code.FAILURE,
                          'memcached %s does not answer: %s' % (server, text),
                          'start memcached at %s, or correct [cache] '
                          'memcache_servers' % server)
    if backend == PYMEMCACHE:
        found.problem(result.Code.WARNING,
                      'with %s Nova answers 500 to server listings while '
                      'memcached is down' % backend,
                      'set [cache] backend = oslo_cache.memcache_pool')
    if sharing is not None and found.code != result.Code.FAILURE:
        _note_sharing(found, sharing())
    if backend in DEAD_RETRY_BACKENDS and dead_retry > MAX_DEAD_RETRY:
        found.problem(
            result.Code.WARNING,
            'memcache_dead_retry = %s: after a memcached outage the '
            'workers share state again only that many seconds later'
            % dead_retry,
            'set [cache] memcache_dead_retry = 5 to 30')
    return found.result()


Sharing = collections.namedtuple(
    'Sharing', 'namespace derived protected listing error')
"""What the filters of one deployment share: the key namespace (and
whether it was derived from Nova's database connection), whether values
are signed, and the shared listing's meta item (hosts, chunks, largest
item in bytes), None when there is none yet; ``error`` when the cache
could not be read."""


def _note_sharing(found, sharing):
    found.note('key namespace %s (%s)' % (
        sharing.namespace,
        'derived from Nova\'s [api_database] connection' if sharing.derived
        else '[host_status] cache_namespace'))
    found.note('values %s' % (
        'signed (memcache_security_strategy = MAC)' if sharing.protected
        else 'not signed: whoever can write to the memcached can make '
             'hosts look down or up; set [host_status] '
             'memcache_security_strategy = MAC and memcache_secret_key'))
    if sharing.error:
        found.problem(result.Code.FAILURE,
                      'the shared state cannot be read: %s' % sharing.error,
                      'check [cache] and [host_status] memcache_* settings')
    elif sharing.listing is None:
        found.note('no shared listing yet: the first server view that '
                   'needs one writes it')
    else:
        listing = sharing.listing
        found.note('shared listing: %d compute services in %d items, the '
                   'largest %d bytes (memcached takes up to 1048576)' % (
                       listing['hosts'], listing['chunks'],
                       listing['largest']))
