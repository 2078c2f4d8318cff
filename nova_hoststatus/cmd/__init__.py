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

"""``nova-hoststatus``: the filter in front of real Nova, on this machine.

``drill`` runs the OPNFV Doctor fault scenario and measures how long a VM
owner takes to learn that its host is down, in this process or, with
``--workers N``, across the worker processes of Nova's API under uWSGI;
``serve`` puts the same sandbox on a loopback port for curl, novaclient and
the openstack CLI.  Both need the ``nova`` extra; ``--workers`` also needs
the ``workers`` extra.  ``check``
reads a deployment (nova.conf, api-paste.ini, the policy file) and tells
whether the filter works there; it needs no extra, and where Nova is
installed its decisions are Nova's own, as the filter's are in nova-api.
"""

import argparse
import sys

from pbr import version

from nova_hoststatus.cmd import check
from nova_hoststatus.cmd import drill
from nova_hoststatus.cmd import notifier
from nova_hoststatus.cmd import serve
from nova_hoststatus.tools import keystone
from nova_hoststatus.tools import launchers
from nova_hoststatus.tools import sandbox


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog='nova-hoststatus',
        description='Check a deployment of the host_status filter, or run '
                    'it in front of real Nova on this machine (drill and '
                    'serve need the nova extra).')
    parser.add_argument(
        '--version', action='version', version='%(prog)s ' +
        version.VersionInfo('nova-hoststatus').release_string())
    commands = parser.add_subparsers(dest='command', required=True)
    check.register(commands)
    drill.register(commands)
    notifier.register(commands)
    serve.register(commands)
    args = parser.parse_args(argv)
    check_options = getattr(args, 'check_options', None)
    problem = check_options(args) if check_options else None
    if problem:
        # Exits 2, with the command's usage, like any other option error.
        commands.choices[args.command].error(problem)
    try:
        return args.func(args)
    except (sandbox.NovaMissing, keystone.KeystoneMissing,
            launchers.Missing) as exc:
        print(exc, file=sys.stderr)
        return 2


if __name__ == '__main__':
    sys.exit(main())
