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

"""Real callers for ``check``: logged in from clouds.yaml.

A cloud of clouds.yaml (where the openstack CLI looks for it, or the file
``OS_CLIENT_CONFIG_FILE`` names) is logged in as the openstack CLI logs it
in, by openstacksdk's configuration loader and keystoneauth, so a password,
an application credential or any other auth type works.  What Keystone
answers says who the caller is: its user, its project and its roles, with
the roles its assignments imply, as ``auth_token`` passes them to Nova.
"""

import collections

Login = collections.namedtuple(
    'Login', 'cloud token user_id project_id roles compute_url')
"""One logged-in caller: the cloud's name in clouds.yaml, the token, who
Keystone says it is (user id, project id or None for a token not scoped to
a project, role names), and the compute endpoint of its catalog (None
when the catalog has none)."""

SDK_MISSING = ('--cloud needs openstacksdk, which reads clouds.yaml: '
               'pip install openstacksdk (the clients extra has it)')


class LoginError(Exception):
    """A cloud could not be logged in."""


def login(cloud):
    """Log in as ``cloud``; a :class:`Login`, or raises LoginError."""
    try:
        from keystoneauth1 import exceptions as ksa_exceptions
        from openstack import config as sdk_config
        from openstack import exceptions as sdk_exceptions
    except ImportError:
        raise LoginError(SDK_MISSING)
    try:
        region = sdk_config.OpenStackConfig().get_one(cloud=cloud)
        session = region.get_session()
        access = session.auth.get_access(session)
        try:
            compute_url = session.get_endpoint(
                service_type='compute', interface=region.get_interface(),
                region_name=region.get_region_name('compute'))
        except ksa_exceptions.EndpointNotFound:
            compute_url = None
    except (sdk_exceptions.SDKException,
            ksa_exceptions.ClientException) as exc:
        raise LoginError('cannot log in as cloud %r: %s'
                         % (cloud, str(exc) or type(exc).__name__))
    return Login(cloud, access.auth_token, access.user_id,
                 access.project_id, tuple(sorted(access.role_names)),
                 compute_url)
