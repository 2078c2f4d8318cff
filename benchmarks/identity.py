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

"""What real Keystone costs: the sandbox and the drill behind Keystone and
Nova's authtoken, against the same with the header stand-in.

1. Starting the sandbox (what every functional test process, the drill
   and ``serve`` do once): Nova's databases and API, and with Keystone its
   database, keys and identities, in a process of its own.
2. ``nova-hoststatus drill --no-chain --rounds 10`` (no notification
   chain: the owner polls), in a process of its own: its
   wall time, the inspector's force-down call and the owner's time to
   DOWN (the median and the slowest of its rounds), and one owner listing.

Each is taken with ``keystone`` and ``headers`` in turn (ABBA order, so
that a machine growing busier or quieter weighs on both alike); the
medians and their differences are printed.

    python benchmarks/identity.py [--pairs 3]

Needs the ``nova`` and ``identity`` extras.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import time

IDENTITIES = ('keystone', 'headers')
# The command of the environment this runs in.
COMMAND = os.path.join(os.path.dirname(sys.executable), 'nova-hoststatus')
ROUNDS = 10
LISTING = re.compile(r'One owner listing \(\d+ servers\) took (\d+) ms')
# A force-down round of the drill: its call, then when the owner's
# polling saw DOWN (the disable rounds are left out).
ROUND = re.compile(r'inspector forced \S+ down [^\n]*: call (\d+) ms\n'
                   r'\s+owner polling saw DOWN after (\d+) ms')


START = """
import sys, time
from nova_hoststatus.tools import sandbox
started = time.monotonic()
box = sandbox.NovaSandbox(identity=sys.argv[1])
box.start()
print(time.monotonic() - started)
box.stop()
"""


def sandbox_start(identity):
    """(seconds to start the sandbox,) in a process of its own."""
    proc = subprocess.run([sys.executable, '-c', START, identity],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit('sandbox start with %s failed:\n%s' % (identity,
                                                        proc.stderr[-2000:]))
    return (float(proc.stdout.split()[-1]),)


def drill(identity):
    """(wall seconds, force-down call ms (median, slowest), ms to DOWN
    (median, slowest), ms per listing) of one drill.
    """
    started = time.monotonic()
    proc = subprocess.run(
        [COMMAND, 'drill', '--no-chain', '--identity', identity,
         '--rounds', str(ROUNDS)],
        capture_output=True, text=True)
    wall = time.monotonic() - started
    if proc.returncode != 0:
        sys.exit('drill --identity %s failed (%d):\n%s%s' % (
            identity, proc.returncode, proc.stdout[-2000:],
            proc.stderr[-2000:]))
    calls, downs = zip(*[(float(call), float(down))
                         for call, down in ROUND.findall(proc.stdout)])
    return (wall, statistics.median(calls), max(calls),
            statistics.median(downs), max(downs),
            float(LISTING.search(proc.stdout).group(1)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--pairs', type=int, default=3,
                        help='runs of each (default %(default)s)')
    args = parser.parse_args()
    rows = []
    rows += _compare(sandbox_start, args.pairs, 'sandbox start',
                     [('sandbox start', 's')])
    rows += _compare(drill, args.pairs, 'drill',
                     [('drill, wall', 's'), ('force-down call', 'ms'),
                      ('slowest call', 'ms'), ('time to DOWN', 'ms'),
                      ('slowest to DOWN', 'ms'),
                      ('one owner listing', 'ms')])
    print('\nmedians of %d runs each:' % args.pairs)
    print('%-22s %11s %11s %11s' % ('', 'keystone', 'headers', 'added'))
    for label, unit, with_ks, without in rows:
        print('%-22s %8.1f %-2s %8.1f %-2s %+8.1f %s' % (
            label, with_ks, unit, without, unit, with_ks - without, unit))


def _compare(run, pairs, name, figures):
    """Run ``run`` with each identity, ABBA; a row of medians per figure.
    """
    runs = {identity: [] for identity in IDENTITIES}
    for pair in range(pairs):
        order = IDENTITIES if pair % 2 == 0 else IDENTITIES[::-1]
        for identity in order:
            runs[identity].append(run(identity))
            print('%s, pair %d, %-8s %s' % (
                name, pair + 1, identity, ', '.join(
                    '%.1f %s' % (value, unit) for value, (_, unit)
                    in zip(runs[identity][-1], figures))), flush=True)
    medians = {identity: [statistics.median(column)
                          for column in zip(*runs[identity])]
               for identity in IDENTITIES}
    return [(label, unit, medians['keystone'][at], medians['headers'][at])
            for at, (label, unit) in enumerate(figures)]


if __name__ == '__main__':
    main()
