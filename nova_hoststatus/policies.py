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

"""Policy defaults: the two host_status rules and the base rules they name.

The base rules are registered here too: an operator's override such as
``rule:admin_or_owner`` must resolve even when the policy file does not
define it, because an undefined rule denies without a word.
"""

from oslo_policy import policy

SHOW_HOST_STATUS = 'os_compute_api:servers:show:host_status'
SHOW_UNKNOWN_ONLY = 'os_compute_api:servers:show:host_status:unknown-only'
CONTEXT_IS_ADMIN = 'context_is_admin'

_OPERATIONS = [
    {'method': 'GET', 'path': '/servers/{server_id}'},
    {'method': 'GET', 'path': '/servers/detail'},
    {'method': 'PUT', 'path': '/servers/{server_id}'},
    {'method': 'POST', 'path': '/servers/{server_id}/action (rebuild)'},
]

_BASE_RULES = [
    policy.RuleDefault(
        name=CONTEXT_IS_ADMIN,
        check_str='role:admin',
        description='Decides who is an administrator; the result is the '
                    '``is_admin`` credential the other rules test.'),
    policy.RuleDefault(
        name='admin_api',
        check_str='is_admin:True',
        description='Administrators only.'),
    policy.RuleDefault(
        name='admin_or_owner',
        check_str='is_admin:True or project_id:%(project_id)s',
        description='Administrators, and the project that owns the server. '
                    'Set the host_status rule to this for the NFV use case, '
                    'where a VM owner must see at once that its host failed.'),
]

_HOST_STATUS_RULES = [
    policy.DocumentedRuleDefault(
        name=SHOW_HOST_STATUS,
        check_str='rule:admin_api',
        description='Show ``host_status`` on a server, whatever its value '
                    '(UP, UNKNOWN, DOWN, MAINTENANCE or empty). The target '
                    'is the server\'s own project (``project_id`` only, as '
                    'in Nova), so ``rule:admin_or_owner`` shows each project '
                    'the state of the hosts of its own servers. Applies from '
                    'microversion 2.16 on GET and from 2.75 on PUT and '
                    'rebuild. Nova\'s own default is '
                    '``rule:context_is_admin``; the two agree unless '
                    '``admin_api`` or ``context_is_admin`` is overridden.',
        operations=_OPERATIONS,
        scope_types=['project']),
    policy.DocumentedRuleDefault(
        name=SHOW_UNKNOWN_ONLY,
        check_str='rule:admin_api',
        description='Show ``host_status`` only when it is UNKNOWN. Checked '
                    'only for callers that ``%s`` denies.' % SHOW_HOST_STATUS,
        operations=_OPERATIONS,
        scope_types=['project']),
]


HOST_STATUS_RULES = frozenset(rule.name for rule in _HOST_STATUS_RULES)


def list_rules():
    """Every default, for the enforcer and ``oslopolicy-sample-generator``."""
    return _BASE_RULES + _HOST_STATUS_RULES
