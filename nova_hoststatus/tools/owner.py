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

"""How the VM owner is told, beside a sandbox: for ``drill`` and ``serve``.

:class:`Telling` runs what tells a VM owner that the host_status of its
servers' host changed: the notification chain of
:mod:`nova_hoststatus.tools.telemetry` (RabbitMQ, Ceilometer's
notification agent, Aodh behind the sandbox's Keystone), one
``nova-hoststatus notifier`` on the sandbox's Nova, and an OPNFV Doctor
consumer in this process, to which the owner's event alarms post.  The
sandbox's Nova must send its notifications to :attr:`Telling.transport_url`
(``NovaSandbox(notifications=...)``), which is known before anything
starts.
"""

import os
import shutil
import sys
import tempfile
import time

from nova_hoststatus.notifier import changes
from nova_hoststatus.tools import launchers
from nova_hoststatus.tools import telemetry

# The console scripts of the telemetry extra the chain runs.
TELEMETRY_PROGRAMS = ('ceilometer-agent-notification', 'aodh-api',
                      'aodh-listener', 'aodh-notifier', 'aodh-dbsync')
INSTALL = ("install them from the source tree: tools/install-packages.sh "
           "(RabbitMQ, with apt-get) and pip install "
           "'.[nova,identity,telemetry]'")


def missing(no_chain_hint):
    """Why the chain cannot run here (RabbitMQ or the telemetry extra is
    missing), with what to install and ``no_chain_hint``; None if it can.
    """
    problems = []
    server = os.path.join(telemetry.RABBITMQ_DIR, 'rabbitmq-server')
    if not os.access(server, os.X_OK):
        problems.append('RabbitMQ (%s)' % server)
    bindir = os.path.dirname(os.path.abspath(sys.executable))
    absent = [name for name in TELEMETRY_PROGRAMS
              if not os.access(os.path.join(bindir, name), os.X_OK)]
    if absent:
        problems.append("the telemetry extra (%s not in %s)"
                        % (', '.join(absent), bindir))
    if not problems:
        return None
    return ('The notification chain that tells the VM owner needs %s: %s; '
            '%s' % (' and '.join(problems), INSTALL, no_chain_hint))


def check_installed(no_chain_hint):
    """Raise :class:`~nova_hoststatus.tools.launchers.Missing` when the
    chain cannot run here; call it before Nova's 15 s start.
    """
    problem = missing(no_chain_hint)
    if problem:
        raise launchers.Missing(problem)


def event_alarm(name, url, event_type=changes.EVENT_TYPE):
    """The body of ``POST /v2/alarms`` that makes an event alarm of the
    caller's project posting each of its ``event_type`` events to ``url``.
    """
    return {'name': name, 'type': 'event',
            'event_rule': {'event_type': event_type, 'query': []},
            'alarm_actions': [url], 'repeat_actions': True}


class Telling(object):
    """The chain, a notifier agent and a Doctor consumer, beside a sandbox.

    :param path: a folder for their data and logs (a new temporary one if
        None, removed at :meth:`stop` unless :attr:`keep` is set; a folder
        given is kept).
    :param progress: called with a line for each step.
    :param on_call: called with each call of the consumer
        (:class:`~nova_hoststatus.tools.telemetry.Consumer`).
    """

    def __init__(self, path=None, progress=None, on_call=None):
        self._own_path = path is None
        self.path = os.path.abspath(
            path or tempfile.mkdtemp(prefix='nova-hoststatus-chain-'))
        self.progress = progress or (lambda msg: None)
        self.chain = telemetry.Chain(os.path.join(self.path, 'chain'),
                                     progress=self.progress)
        self.transport_url = self.chain.transport_url
        self.consumer = telemetry.Consumer(on_call=on_call)
        self.agent = None
        self.chain_seconds = None
        self.agent_seconds = None
        self._started = False
        # Keep the folder at stop, for its logs.
        self.keep = False

    @property
    def aodh_url(self):
        return self.chain.aodh.url

    def start_chain(self, box):
        """RabbitMQ, Ceilometer and Aodh (behind ``box``'s Keystone), and
        the consumer.  Start it before anything makes Nova send a
        notification: Nova waits for its broker.
        """
        if box.keystone is None:
            raise RuntimeError("the chain needs the sandbox's Keystone, "
                               "for Aodh's API")
        self._started = True
        started = time.monotonic()
        self.chain.start(box.keystone)
        self.chain_seconds = time.monotonic() - started
        self.consumer.start()

    def start_agent(self, box, rules):
        """One ``nova-hoststatus notifier`` on ``box``'s Nova, under the
        policy ``rules`` (those ``box``'s API has); its first scan records
        the hosts there are, so start it once they are made.
        """
        config = box.config_dir(os.path.join(self.path, 'nova-etc'), rules)
        folder = os.path.join(self.path, 'notifier')
        os.makedirs(folder, exist_ok=True)
        self.agent = telemetry.NotifierAgent(
            folder, config,
            'sqlite:///%s' % os.path.join(folder, 'store.sqlite'),
            scan_interval=1.0)
        started = time.monotonic()
        self.agent.start()
        self.agent_seconds = time.monotonic() - started

    def create_alarm(self, token, name):
        """An event alarm of the token's project, made with that token,
        posting every ``hoststatus.server.update`` of the project to the
        consumer at ``name``; ``(alarm id, consumer URL)``.
        """
        url = self.consumer.url(name)
        return self.chain.aodh.create_event_alarm(token, name, url), url

    def wait_told(self, name, since, servers, status, timeout):
        """The first call to ``name`` since ``since`` (time.monotonic())
        for each of ``servers`` (ids) telling ``status``; a dict, with
        what arrived within ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        servers = set(servers)
        while True:
            calls = self.consumer.calls(name)
            told = {}
            for call in calls:
                if call['monotonic'] < since:
                    continue
                traits = telemetry.traits(call['body'])
                if (traits.get('host_status') == status and
                        traits.get('server_id') in servers):
                    told.setdefault(traits['server_id'], call)
            left = deadline - time.monotonic()
            if len(told) == len(servers) or left <= 0:
                return told
            self.consumer.wait_for(len(calls) + 1, left, name)

    def stop(self):
        """The agent, then the chain and the consumer; the folder too if
        it was a temporary one of its own.
        """
        if self.agent is not None:
            self.agent.stop()
            self.agent = None
        if self._started:
            self.chain.stop()
            self.consumer.stop()
            self._started = False
        if self._own_path and not self.keep:
            shutil.rmtree(self.path, ignore_errors=True)
