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

"""Nova's own functional and API-sample tests, with the filter in place.

Nova 34 ships its test suite in the wheel.  The tests selected in
``selected-tests.txt`` drive host_status and os-services through Nova's
real WSGI stack, built by Nova's own test fixture from a paste file; here
that file is Nova's own with the filter inserted where an operator puts
it (see :mod:`pipeline`), and the tests are loaded through the variant
packages (see :mod:`harness`):

* ``stock``: Nova's file as shipped, to show the selection passes on Nova.
* ``filter``: the filter alone.
* ``filter_only_values``: Nova's own host_status removed behind the
  filter, so every host_status the tests read is the filter's.

``python -m tests.upstream`` (``tox -e nova-tests``) runs the variants.
"""
