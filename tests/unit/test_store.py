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

"""The shared cache: namespaces, signatures, sizes and clients' verbs."""

from unittest import mock

from oslo_config import cfg
import testtools

from nova_hoststatus import store
from tests.unit import fakes


class SharedCacheTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.client = fakes.MemoryClient()

    def test_namespaces_keep_clouds_apart(self):
        a = store.SharedCache(self.client, 'cloud-a')
        b = store.SharedCache(self.client, 'cloud-b')
        a.set_many({'meta': b'a'}, 10)
        self.assertEqual(b'a', a.get('meta'))
        self.assertIsNone(b.get('meta'))

    def test_keys_are_hashed_whatever_the_host_name(self):
        shared = store.SharedCache(self.client, 'c')
        name = 'patch:' + 'x' * 255
        shared.set_many({name: b'v'}, 10)
        [key] = self.client._items
        self.assertEqual(40, len(key))
        self.assertEqual(b'v', shared.get(name))

    def test_signed_values_round_trip_and_forgeries_are_dropped(self):
        signed = store.SharedCache(self.client, 'c', 'secret')
        self.assertTrue(signed.protected)
        signed.set_many({'meta': b'{"token": "t"}'}, 10)
        self.assertEqual(b'{"token": "t"}', signed.get('meta'))
        # Whoever writes without the secret, or with another one.
        for forger in (store.SharedCache(self.client, 'c'),
                       store.SharedCache(self.client, 'c', 'guess')):
            forger.set_many({'meta': b'{"token": "forged"}'}, 10)
            self.assertIsNone(signed.get('meta'))
        # A value signed for one key does not pass for another.
        signed.set_many({'patch:a': b'down'}, 10)
        key_a = signed._key('patch:a')
        self.client.set_many({signed._key('patch:b'):
                              self.client.get_many([key_a])[key_a]}, 10)
        self.assertIsNone(signed.get('patch:b'))

    def test_an_item_over_the_limit_is_refused(self):
        shared = store.SharedCache(self.client, 'c')
        self.assertRaises(ValueError, shared.set_many,
                          {'big': b'x' * (store.MAX_ITEM + 1)}, 10)

    def test_ttls_are_whole_seconds_never_zero(self):
        self.assertEqual(1, store.ttl_seconds(0.2))
        self.assertEqual(3, store.ttl_seconds(3.0))
        self.assertEqual(4, store.ttl_seconds(3.1))

    def test_add_is_atomic_and_a_forgetful_cache_is_told(self):
        shared = store.SharedCache(self.client, 'c')
        self.assertTrue(shared.add('lease', b'me', 5))
        self.assertFalse(shared.add('lease', b'you', 5))
        forgetful = mock.Mock(add=mock.Mock(return_value=False),
                              get_many=mock.Mock(return_value={}))
        self.assertRaises(store.CacheUnavailable,
                          store.SharedCache(forgetful, 'c').add,
                          'lease', b'me', 5)

    def test_counter_starts_at_zero(self):
        shared = store.SharedCache(self.client, 'c')
        self.assertEqual(0, shared.read_counter('n'))
        self.assertIsNone(shared.incr('n'))
        shared.create_counter('n')
        shared.create_counter('n')
        self.assertEqual(1, shared.incr('n'))
        self.assertEqual(2, shared.incr('n'))
        self.assertEqual(2, shared.read_counter('n'))

    def test_client_errors_become_cache_unavailable(self):
        broken = mock.Mock(get_many=mock.Mock(
            side_effect=ConnectionRefusedError(111, 'refused')))
        self.assertRaises(store.CacheUnavailable,
                          store.SharedCache(broken, 'c').get, 'meta')


class ClientVerbsTest(testtools.TestCase):

    def test_python_memcached(self):
        client = mock.Mock()
        verbs = store.MemcacheClient(client)
        verbs.set_many({'k': b'v'}, 3)
        verbs.add('k', b'v', 3)
        verbs.get_many(['k'])
        verbs.incr('k')
        client.set_multi.assert_called_once_with({'k': b'v'}, time=3)
        client.add.assert_called_once_with('k', b'v', time=3)
        client.get_multi.assert_called_once_with(['k'])
        client.incr.assert_called_once_with('k')

    def test_pymemcache(self):
        calls = mock.Mock()

        class HashClient(object):
            """Records calls, under the module name pymemcache's has."""
            def __getattr__(self, name):
                return getattr(calls, name)
        HashClient.__module__ = 'pymemcache.client.hash'
        client = calls
        verbs = store.MemcacheClient(HashClient())
        verbs.set_many({'k': b'v'}, 3)
        verbs.add('k', b'v', 3)
        verbs.get_many(['k'])
        verbs.incr('k')
        client.set_many.assert_called_once_with({'k': b'v'}, expire=3,
                                                noreply=False)
        client.add.assert_called_once_with('k', b'v', expire=3,
                                           noreply=False)
        client.get_many.assert_called_once_with(['k'])
        client.incr.assert_called_once_with('k', 1, noreply=False)


class FromConfTest(testtools.TestCase):

    def conf(self, **cache):
        conf = cfg.ConfigOpts()
        conf([])
        from oslo_cache import core
        core.configure(conf)
        for name, value in cache.items():
            conf.set_override(name, value, 'cache')
        return conf

    def test_no_cache_is_per_process(self):
        self.assertIsNone(store.from_conf(self.conf()))
        self.assertIsNone(store.from_conf(self.conf(
            enabled=True, backend=store.NULL_BACKEND)))

    def test_a_backend_without_memcached_verbs_is_per_process(self):
        self.assertIsNone(store.from_conf(self.conf(
            enabled=True, backend='dogpile.cache.memory')))

    def test_memcache_pool(self):
        shared = store.from_conf(self.conf(
            enabled=True, backend='oslo_cache.memcache_pool',
            memcache_servers=['127.0.0.1:1']), 'cloud', 'secret')
        self.assertEqual('cloud', shared.namespace)
        self.assertTrue(shared.protected)

    def test_namespace_from_novas_database(self):
        conf = self.conf()
        self.assertEqual('default', store.default_namespace(conf))
        conf.register_opt(cfg.StrOpt('connection'), group='api_database')
        conf.set_override('connection', 'mysql://u:pw@a/nova_api',
                          'api_database')
        first = store.default_namespace(conf)
        conf.set_override('connection', 'mysql://u:pw@b/nova_api',
                          'api_database')
        self.assertNotEqual(first, store.default_namespace(conf))
        self.assertNotIn('pw', first)
