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

"""The notification agent: tells a server's owner that its host changed.

``nova-hoststatus notifier`` runs beside nova-api, never inside it. It
listens to Nova's own versioned ``service.update`` notifications and scans
Nova's service records for heartbeats that stop or come back; for a change
of a host's host_status it sends one notification per server on the host,
to the servers' projects as far as the deployed policy lets their members
see host_status. Ceilometer turns them into events; Aodh fires the owners'
event alarms.

- :mod:`.changes`: pure: what a member of a project may learn of a change,
  and the notification it gets;
- :mod:`.store`: the last host_status told, shared by every agent, and the
  compare-and-set that makes each change told once;
- :mod:`.hosts`: Nova's own records and code: host_status per host, the
  servers on a host, Nova's policy enforcer;
- :mod:`.agent`: the listener, the scan and the sender;
- :mod:`.opts`: the agent's options.
"""
