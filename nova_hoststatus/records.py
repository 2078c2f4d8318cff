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

"""host_status from Nova's own records, computed by Nova's own code.

Only for the servers of one response: their instance mappings (the API
database), then per cell one query for those instances joined with their
hosts' compute services, and Nova's ``get_instances_host_statuses`` over
them, whose servicegroup API decides heartbeats exactly as Nova's views do
(``service_down_time``, the db or memcache driver). Cells are asked the
way Nova asks them, with its timeout; a cell that fails or does not answer
gives no values. Nothing is kept between requests: every API worker on
every controller reads the same databases, so a change shows on the very
next request everywhere, whoever made it.

Nova is imported on first use: in nova-api it is loaded already, and
elsewhere (the unit tests) the filter never calls this.
"""


import logging

LOG = logging.getLogger(__name__)


class NovaRecords(object):
    """Reads host_status for a response's servers through Nova's code."""

    def __init__(self):
        self._compute_api = None

    def _api(self):
        # Nova's views build the same object; it opens no connection.
        if self._compute_api is None:
            from nova.compute import api as compute
            self._compute_api = compute.API()
        return self._compute_api

    def __call__(self, context, server_ids):
        """``{server id: host_status}`` for ``server_ids``.

        ``context`` is the caller's Nova context; the records are read
        with an administrator's copy of it, as Nova's own views read the
        services of a caller's instances. A server whose cell failed or
        did not answer is left out, with one warning.
        """
        from nova import context as nova_context
        from nova import objects

        admin = context.elevated(read_deleted='yes')
        mappings = objects.InstanceMappingList.get_by_instance_uuids(
            admin, list(server_ids))
        cells = {}
        wanted = {}
        for mapping in mappings:
            cell = mapping.cell_mapping
            if cell is None:
                continue  # not scheduled yet: no host, Nova says ""
            cells[cell.uuid] = cell
            wanted.setdefault(cell.uuid, []).append(mapping.instance_uuid)

        def read(cell_context):
            return objects.InstanceList.get_by_filters(
                cell_context, {'uuid': wanted[cell_context.cell_uuid]},
                expected_attrs=['services'])

        found = nova_context.scatter_gather_cells(
            admin, list(cells.values()), nova_context.CELL_TIMEOUT, read)
        instances = []
        failed = []
        for cell_uuid, result in found.items():
            if nova_context.is_cell_failure_sentinel(result):
                failed.append(cell_uuid)
            else:
                instances.extend(result)
        if failed:
            LOG.warning('host_status: cell(s) %s did not answer; their '
                        'servers keep what Nova gave them',
                        ', '.join(sorted(failed)))
        return self._api().get_instances_host_statuses(instances)
