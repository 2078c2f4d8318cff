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

"""What the commands share: option types, the sandbox, its callers, tables.
"""

import argparse
import importlib.metadata
import math
import signal

from nova_hoststatus.tools import keystone
from nova_hoststatus.tools import sandbox

OWNER_RULE = {'os_compute_api:servers:show:host_status': 'rule:admin_or_owner'}
ADMIN_PROJECT = 'admin'


def positive_int(text):
    """An argparse type: a whole number of at least 1."""
    return _bounded_int(text, 1, None, 'a whole number of at least 1')


def non_negative_int(text):
    """An argparse type: a whole number of at least 0."""
    return _bounded_int(text, 0, None, 'a whole number of at least 0')


def port(text):
    """An argparse type: a TCP port number a server can listen on."""
    return _bounded_int(text, 1, 65535, 'a port number from 1 to 65535')


def seconds(most):
    """An argparse type: a finite time above 0, at most ``most`` seconds,
    in seconds: a number of seconds (``1.5``), or one with its unit
    (``1.5s``, ``1500ms``).
    """
    def parse(text):
        number, scale = text.strip().lower(), 1.0
        if number.endswith('ms'):
            number, scale = number[:-2], 0.001
        elif number.endswith('s'):
            number = number[:-1]
        try:
            value = float(number) * scale
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and 0 < value <= most):
            raise argparse.ArgumentTypeError(
                'must be a time above 0 and at most %gs: seconds (1.5), '
                'or with a unit (1.5s, 1500ms), got %r' % (most, text))
        return value
    return parse


def as_seconds(value):
    """A time in seconds as :func:`seconds` reads it back: ``1.5s``."""
    return '%gs' % value


def _bounded_int(text, low, high, what):
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or value < low or (high is not None and value > high):
        raise argparse.ArgumentTypeError('must be %s, got %r' % (what, text))
    return value


def start_sandbox(strip_nova, identity=sandbox.KEYSTONE,
                  notifications=None):
    """A sandbox that starts, with progress lines, when entered; its Nova
    sends its notifications to the transport URL ``notifications``, if
    given.
    """
    if identity == sandbox.KEYSTONE:
        print('Starting Nova %s in this process and Keystone %s in another '
              '(about 15 s) ...' % (nova_version(), keystone_version()),
              flush=True)
    else:
        print('Starting Nova %s in this process (about 15 s) ...'
              % nova_version(), flush=True)
    return sandbox.NovaSandbox(
        strip_nova=strip_nova, identity=identity,
        notifications=notifications,
        progress=lambda msg: print('  ' + msg, flush=True))


def stop_on_sigterm():
    """Have SIGTERM stop the command as Ctrl-C does, so that what it
    started in other processes (Keystone, the chain, the notifier) is
    stopped too.
    """
    signal.signal(signal.SIGTERM, _interrupt)


def _interrupt(signum, frame):
    raise KeyboardInterrupt()


def chain_needs_keystone(identity):
    """The option error of the chain without Keystone."""
    return ('argument --identity: %s has no Keystone, and Aodh\'s API in the '
            'notification chain needs one: use keystone, or add --no-chain'
            % identity)


def start_chain(telling, box):
    """Start the chain of ``telling`` (an
    :class:`~nova_hoststatus.tools.owner.Telling`) behind ``box``'s
    Keystone, with progress lines.
    """
    print("Starting the notification chain: RabbitMQ, Ceilometer's "
          "notification agent, Aodh's API, listener and notifier (about "
          '20 s) ...', flush=True)
    telling.start_chain(box)


def start_agent(telling, box):
    """Start the notifier agent of ``telling`` on ``box``'s Nova, with
    progress lines.
    """
    print('Starting the notification agent (nova-hoststatus notifier, '
          'scanning every 1 s) ...', flush=True)
    telling.start_agent(box, OWNER_RULE)
    print('  notifier listening on Nova\'s notifications in %.1f s'
          % telling.agent_seconds, flush=True)


def keystone_version():
    try:
        return importlib.metadata.version('keystone')
    except importlib.metadata.PackageNotFoundError:
        raise keystone.KeystoneMissing(keystone.KEYSTONE_MISSING)


def nova_version():
    try:
        return importlib.metadata.version('nova')
    except importlib.metadata.PackageNotFoundError:
        raise sandbox.NovaMissing(sandbox.NOVA_MISSING)


def table(rows, columns, limit):
    """Print ``rows`` (dicts) as a table, at most ``limit`` of them."""
    shown = rows if not limit else rows[:limit]
    widths = [max([len(c)] + [len(str(r.get(c, ''))) for r in shown])
              for c in columns]
    print('  '.join('%-*s' % (w, c)
                    for w, c in zip(widths, columns)).rstrip())
    print('  '.join('-' * w for w in widths))
    for row in shown:
        print('  '.join('%-*s' % (w, row.get(c, ''))
                        for w, c in zip(widths, columns)).rstrip())
    if len(rows) > len(shown):
        print('... %d more rows (--rows 0 shows all)'
              % (len(rows) - len(shown)))
