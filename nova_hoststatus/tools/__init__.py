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

"""What runs beside the filter, never inside nova-api.

The modules at the top of :mod:`nova_hoststatus` are the filter that
nova-api loads from its paste file.  This subpackage holds everything
else: the checks of ``nova-hoststatus check``, real Nova in-process (the
sandbox) and the filter that strips Nova's own host_status behind ours,
Nova's own policy decision in a child process (the oracle), and the
launcher of Nova's API under uWSGI.  The filter never imports it
(``tests/unit/test_layout.py`` holds it to that); the commands of
:mod:`nova_hoststatus.cmd`, the tests and the benchmarks do.
"""
