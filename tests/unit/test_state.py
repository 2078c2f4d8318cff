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

"""Views, patches and hostIds: the pure part of the service state."""

import json

import testtools

from nova_hoststatus import services
from nova_hoststatus import state
from nova_hoststatus import store
from tests.unit import test_directory

record = test_directory.record


def view(hosts=('c1', 'c2'), epoch='e1', seq0=5, fetched_at=100.0):
    return state.View({h: record(h) for h in hosts}, (2, 104), fetched_at,
                      'token', epoch, seq0)


def down(host, seq, epoch='e1', received_at=0.0):
    return state.Patch(record(host, forced_down=True), seq, epoch,
                       received_at)


class PatchTest(testtools.TestCase):

    def test_within_an_epoch_the_counter_orders(self):
        self.assertTrue(down('c1', 6).applies_to(view(seq0=5)))
        self.assertFalse(down('c1', 5).applies_to(view(seq0=5)))

    def test_across_epochs_this_process_clock_orders(self):
        listed_at_100 = view(epoch='e2', fetched_at=100.0)
        self.assertTrue(down('c1', 1, received_at=100.0)
                        .applies_to(listed_at_100))
        self.assertFalse(down('c1', 99, received_at=99.0)
                         .applies_to(listed_at_100))

    def test_round_trip(self):
        patch = down('c1', 7)
        self.assertEqual(patch, state.Patch.from_json(patch.to_json()))
        gone = state.Patch(None, 8, 'e1')
        self.assertEqual(gone, state.Patch.from_json(gone.to_json()))


class ViewTest(testtools.TestCase):

    def test_newer_patches_win_older_ones_change_nothing(self):
        base = view()
        patched = base.with_patches({'c1': down('c1', 6)})
        self.assertTrue(patched.service('c1')[1].forced_down)
        self.assertFalse(base.service('c1')[1].forced_down)
        self.assertIs(patched, patched.with_patches({'c1': down('c1', 6)}))
        up = state.Patch(record('c1'), 5, 'e1')
        self.assertIs(patched, patched.with_patches({'c1': up}))

    def test_a_listing_keeps_only_the_changes_it_may_miss(self):
        patched = view(seq0=5).with_patches({'c1': down('c1', 6),
                                             'c2': down('c2', 9)})
        newer = patched.successor(view(seq0=8), state.HostIds())
        self.assertEqual(['c2'], list(newer.patches))

    def test_a_patch_without_record_makes_the_host_unknown(self):
        patched = view().with_patches({'c1': state.Patch(None, 6, 'e1')})
        self.assertEqual((False, None), patched.service('c1'))
        self.assertEqual({}, patched.hosts_of({'c1', ('p', services.host_id(
            'p', 'c1'))}, state.HostIds()))

    def test_hosts_of_servers_as_admins_and_owners_see_them(self):
        owner_key = ('p', services.host_id('p', 'c2'))
        self.assertEqual(
            {'c1': 'c1', owner_key: 'c2'},
            view().hosts_of({'c1', owner_key, 'elsewhere',
                             ('p', 'no-such-id')}, state.HostIds()))
        self.assertIsNone(state.View.host_key({'hostId': '',
                                               'tenant_id': 'p'}))

    def test_misses_carry_over_while_they_still_miss(self):
        old = view()
        old.missing.update({'c3', 'c4'})
        newer = old.successor(view(hosts=('c1', 'c2', 'c3'), seq0=9),
                              state.HostIds())
        self.assertEqual({'c4'}, newer.missing)


class ChunksTest(testtools.TestCase):

    def test_chunks_hold_every_record_under_the_item_size(self):
        records = [record(('h%05d-' % i).ljust(255, 'x')) for i in range(6000)]
        chunks = [b''.join(part) for part in state.listing_chunks(records)]
        self.assertGreater(len(chunks), 1)
        self.assertTrue(all(len(chunk) <= store.MAX_ITEM - state.CHUNK_MARGIN
                            for chunk in chunks))
        read = [services.ComputeService.from_list(values)
                for chunk in chunks for values in json.loads(chunk)]
        self.assertEqual(records, read)
