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

"""Nova's answers, read with Nova's own code on Nova's own records.

A host's host_status is what Nova's ``get_instance_host_status`` says for
a server on it (forced down, disabled, the servicegroup API's heartbeat
verdict with Nova's ``service_down_time``); who may see it is what Nova's
own enforcer says for a member of the server's project, under the policy
file nova-api reads. Needs Nova's configuration parsed and its objects
registered (:mod:`nova_hoststatus.cmd.notifier` does both).
"""

import logging

from nova.compute import api as compute
from nova import context as nova_context
from nova import exception
from nova import objects
from nova import utils

from nova_hoststatus import policy

LOG = logging.getLogger(__name__)
COMPUTE = 'nova-compute'
# Roles a member of a project has (Keystone's member implies reader).
MEMBER_ROLES = ('member', 'reader')


class NovaHosts(object):
    """Host statuses, servers and policy decisions from Nova."""

    def __init__(self):
        self._admin = nova_context.get_admin_context()
        self._compute_api = compute.API()

    def statuses(self):
        """``{host: host_status}`` of every compute service, every cell.

        A cell that fails or does not answer is left out, with a warning:
        its hosts are looked at again on the next scan.
        """
        cells = [cell for cell in
                 objects.CellMappingList.get_all(self._admin)
                 if not cell.is_cell0()]
        found = nova_context.scatter_gather_cells(
            self._admin, cells, nova_context.CELL_TIMEOUT,
            lambda cctxt: objects.ServiceList.get_by_binary(
                cctxt, COMPUTE, include_disabled=True))
        statuses = {}
        for cell_uuid, services in found.items():
            if nova_context.is_cell_failure_sentinel(services):
                LOG.warning('Cell %s did not answer; its hosts wait for the '
                            'next scan.', cell_uuid)
                continue
            for service in services:
                statuses[service.host] = self._status(service)
        return statuses

    def status(self, host):
        """One host's host_status, or None when it has no compute service.
        """
        cell = self._cell(host)
        if cell is None:
            return None
        with nova_context.target_cell(self._admin, cell) as cctxt:
            try:
                service = objects.Service.get_by_compute_host(cctxt, host)
            except exception.ComputeHostNotFound:
                return None
        return self._status(service)

    def servers(self, host):
        """The servers on ``host`` (``uuid``, ``project_id``, ``user_id``).
        """
        cell = self._cell(host)
        if cell is None:
            return []
        with nova_context.target_cell(self._admin, cell) as cctxt:
            return list(objects.InstanceList.get_by_host(cctxt, host))

    def visibility(self, project_id):
        """What a member of ``project_id`` may see of its servers'
        host_status, by Nova's enforcer and the deployed policy.
        """
        member = nova_context.RequestContext(
            user_id='nova-hoststatus-member', project_id=project_id,
            roles=list(MEMBER_ROLES), overwrite=False)
        return policy.decide(policy.rule_check(member, None),
                             {'project_id': project_id})

    @staticmethod
    def host_id(host, project_id):
        """The ``hostId`` a member of ``project_id`` reads for ``host``."""
        return utils.generate_hostid(host, project_id)

    def _status(self, service):
        # Nova's own function, on a server of this host.
        server = objects.Instance(
            host=service.host, services=objects.ServiceList(
                objects=[service]))
        return self._compute_api.get_instance_host_status(server)

    def _cell(self, host):
        try:
            return objects.HostMapping.get_by_host(
                self._admin, host).cell_mapping
        except exception.HostMappingNotFound:
            return None
