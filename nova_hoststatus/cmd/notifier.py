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

"""``nova-hoststatus notifier``: the notification agent, as a service.

Run one beside nova-api on each controller, with Nova's configuration
files: it reads Nova's databases and policy with Nova's own code, listens
on Nova's notification transport and sends its own notifications there.
"""

import inspect
import os
import signal
import sys
import threading

NOVA_CONFIG = '/etc/nova/nova.conf'


def register(commands):
    parser = commands.add_parser(
        'notifier',
        help='tell servers\' owners when their host\'s host_status changes '
             '(a service; needs the nova and telemetry extras)',
        description='Listen to Nova\'s service.update notifications and '
                    'scan Nova\'s compute services; for each change of a '
                    'host\'s host_status, send one notification per server '
                    'on the host to its project, as far as the deployed '
                    'policy lets its members see host_status. Runs until '
                    'SIGTERM or SIGINT.')
    parser.add_argument(
        '--config-file', action='append', default=[], metavar='PATH',
        help='a configuration file: Nova\'s (databases, notification '
             'transport, policy) and [host_status_notifier]; repeatable '
             '(default: %s)' % NOVA_CONFIG)
    parser.add_argument(
        '--config-dir', action='append', default=[], metavar='DIR',
        help='a directory of further *.conf files; repeatable')
    parser.set_defaults(func=run)


def run(args):
    stop = threading.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *unused: stop.set())
    service = _service(args)
    if service is None:
        return 2
    service.start()
    print('nova-hoststatus notifier: listening', flush=True)
    stop.wait()
    service.stop()
    print('nova-hoststatus notifier: stopped', flush=True)
    return 0


def _nova(args):
    """Nova's configuration and code, loaded as Nova's services load them.
    """
    # Native threads: the listener and the scan are threads of their own.
    os.environ.setdefault('OS_NOVA_DISABLE_EVENTLET_PATCHING', 'true')
    try:
        from nova import monkey_patch
    except ImportError:
        from nova_hoststatus.tools import sandbox
        raise sandbox.NovaMissing(sandbox.NOVA_MISSING)
    patch = getattr(monkey_patch, 'patch', None)  # Nova 32 and later
    if patch is not None:
        if 'backend' in inspect.signature(patch).parameters:
            # Nova 33 and later also start oslo.service's threads here.
            patch(backend='threading')
        else:
            patch()
    from nova import config
    from nova import objects
    from oslo_log import log

    from nova_hoststatus.notifier import opts

    objects.register_all()
    conf = config.CONF
    opts.register(conf)
    argv = ['nova-hoststatus-notifier']
    for path in args.config_file or [NOVA_CONFIG]:
        argv += ['--config-file', path]
    for path in args.config_dir:
        argv += ['--config-dir', path]
    config.parse_args(argv)
    log.setup(conf, 'nova-hoststatus-notifier')
    return conf


def _service(args):
    conf = _nova(args)
    import oslo_messaging

    from nova_hoststatus.notifier import agent
    from nova_hoststatus.notifier import hosts
    from nova_hoststatus.notifier import store

    options = conf.host_status_notifier
    if not options.connection:
        print('nova-hoststatus notifier: [host_status_notifier] connection '
              'is not set: name a database (an SQLAlchemy URL) that every '
              'agent shares, not one of Nova\'s', file=sys.stderr)
        return None
    transport = oslo_messaging.get_notification_transport(conf)
    coordinator = partitioner = None
    if conf.coordination.backend_url:
        from tooz import coordination
        coordinator = coordination.get_coordinator(
            conf.coordination.backend_url, agent.member_id())
        coordinator.start(start_heart=True)
        partitioner = coordinator.join_partitioned_group(
            options.coordination_group)
    worker = agent.Agent(hosts.NovaHosts(), store.Store(options.connection),
                         agent.sender(transport, options.topics),
                         options.claim_timeout, partitioner)
    return agent.Service(conf, worker, transport, coordinator, partitioner)
