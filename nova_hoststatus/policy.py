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

"""Who may see host_status: the decision per server, and who answers it.

Inside nova-api the caller's context is Nova's, and Nova's own enforcer
answers (Nova's registered defaults, the operator's policy file): the
filter's decision is Nova's by construction. Elsewhere the package's own
enforcer answers, over the same file (oslo.policy reloads it when its
mtime changes) with the package's defaults.
"""

import enum

from oslo_policy import policy as oslo_policy

from nova_hoststatus import policies
from nova_hoststatus import status


class Visibility(enum.Enum):
    ALL = 'all'
    UNKNOWN_ONLY = 'unknown-only'
    NONE = 'none'


def server_target(server):
    """The policy target of one server: its own project, as Nova builds it.

    Nova passes no ``user_id`` for the host_status rules, so a rule such as
    ``user_id:%(user_id)s`` never matches there and must not match here.
    """
    return {'project_id': server.get('tenant_id')}


def decide(check, target):
    """What a caller may see of a server's host_status.

    ``check(rule, target)`` answers one rule for the caller; the
    unknown-only rule is consulted only when the full rule denies, as in
    Nova.
    """
    if check(policies.SHOW_HOST_STATUS, target):
        return Visibility.ALL
    if check(policies.SHOW_UNKNOWN_ONLY, target):
        return Visibility.UNKNOWN_ONLY
    return Visibility.NONE


def rule_check(context, enforcer):
    """``check(rule, target)`` for the caller of ``context``.

    A Nova context answers through Nova's own enforcer (``context.can``,
    as Nova's server views ask it); any other through ``enforcer``.
    """
    can = getattr(context, 'can', None)
    if can is not None:
        return lambda rule, target: bool(can(rule, target=target,
                                             fatal=False))
    credentials = enforcer.credentials(context)
    return lambda rule, target: enforcer.check(rule, target, credentials)


def shown(visibility, value):
    """The value to put in a response, or None to leave the key out."""
    if visibility is Visibility.ALL:
        return value
    if visibility is Visibility.UNKNOWN_ONLY and value == status.UNKNOWN:
        return value
    return None


def _nova_rules():
    """Every default Nova registers, when Nova is installed here.

    With them an operator's host_status rule may name any rule Nova defines
    in code (``rule:project_reader_or_admin``, ``rule:os_compute_api:
    servers:show``) and mean what it means to Nova; an undefined name would
    deny without a word.
    """
    try:
        from nova import policies as nova_policies
    except ImportError:
        return []
    return nova_policies.list_rules()


def registered_defaults():
    """The defaults the enforcer knows: Nova's, then the project's own.

    Nova's base rules win over the project's copies of them (they carry
    Nova's deprecation aliases); the two host_status rules keep the
    project's default, ``rule:admin_api``.
    """
    own = {rule.name: rule for rule in policies.list_rules()}
    rules = {rule.name: rule for rule in _nova_rules()}
    for name, rule in own.items():
        if name in policies.HOST_STATUS_RULES or name not in rules:
            rules[name] = rule
    return list(rules.values())


class Enforcer(object):
    """oslo.policy over the project's defaults and the operator's file,
    for callers whose context is not Nova's, and for ``check``.
    """

    def __init__(self, conf, policy_file=None, defaults=None):
        """``defaults``: the rules to register, else
        :func:`registered_defaults`.
        """
        self._enforcer = oslo_policy.Enforcer(conf, policy_file=policy_file)
        # Nova's own enforcer already warns about its deprecated rules and
        # changed defaults; the filter repeating them in every worker would
        # only double the noise in nova-api's log.
        self._enforcer.suppress_deprecation_warnings = True
        self._enforcer.suppress_default_change_warnings = True
        self._enforcer.register_defaults(
            registered_defaults() if defaults is None else defaults)

    def rules(self):
        """The rules in force, ``{name: check string}``: the file's over
        the defaults, as oslo.policy parsed them.

        Raises ValueError (or another error of the parser) when the policy
        file does not parse.
        """
        self._enforcer.load_rules()
        return {name: str(check)
                for name, check in self._enforcer.rules.items()}

    def file_rules(self):
        """The rules the policy file sets, as written there."""
        self._enforcer.load_rules()
        return {name: rule.check_str
                for name, rule in self._enforcer.file_rules.items()}

    @property
    def policy_path(self):
        """The policy file read, or None when there is none."""
        self._enforcer.load_rules()
        return self._enforcer.policy_path

    def check(self, rule, target, credentials):
        try:
            return self._enforcer.enforce(rule, target, credentials)
        except oslo_policy.InvalidScope:
            return False

    def credentials(self, context):
        """A context's policy values, with ``is_admin`` decided as Nova does.

        Nova sets ``is_admin`` from the ``context_is_admin`` rule when it
        builds a request context, before anything is known of it
        (``is_admin`` None); the same rule decides it here, from the same
        file, the same way.
        """
        credentials = dict(context.to_policy_values())
        credentials['is_admin'] = None
        own = {'project_id': context.project_id, 'user_id': context.user_id}
        credentials['is_admin'] = self.check(
            policies.CONTEXT_IS_ADMIN, own, credentials)
        return credentials
