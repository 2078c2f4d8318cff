"""Who may see host_status: the enforcer, and the decision per server.

The enforcer reads Nova's own policy file (oslo.policy reloads it when its
mtime changes), so one edit changes Nova and the filter together.
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
    """The policy target of one server: its own project and user."""
    return {'project_id': server.get('tenant_id'),
            'user_id': server.get('user_id')}


def decide(check, credentials, target):
    """What a caller may see of a server's host_status.

    ``check(rule, target, credentials)`` answers one rule; the unknown-only
    rule is consulted only when the full rule denies, as in Nova.
    """
    if check(policies.SHOW_HOST_STATUS, target, credentials):
        return Visibility.ALL
    if check(policies.SHOW_UNKNOWN_ONLY, target, credentials):
        return Visibility.UNKNOWN_ONLY
    return Visibility.NONE


def shown(visibility, value):
    """The value to put in a response, or None to leave the key out."""
    if visibility is Visibility.ALL:
        return value
    if visibility is Visibility.UNKNOWN_ONLY and value == status.UNKNOWN:
        return value
    return None


def _nova_base_rules():
    """Nova's own base rules, when the filter runs where Nova is installed.

    With them an operator's host_status rule may name any rule Nova defines
    in code (``rule:project_reader_or_admin``, say) and mean what it means
    to Nova.
    """
    try:
        from nova.policies import base
    except ImportError:
        return []
    return base.list_rules()


class Enforcer(object):
    """oslo.policy over the project's defaults and the operator's file."""

    def __init__(self, conf, policy_file=None):
        self._enforcer = oslo_policy.Enforcer(conf, policy_file=policy_file)
        rules = {rule.name: rule for rule in policies.list_rules()}
        rules.update((rule.name, rule) for rule in _nova_base_rules())
        self._enforcer.register_defaults(rules.values())

    def check(self, rule, target, credentials):
        try:
            return self._enforcer.enforce(rule, target, credentials)
        except oslo_policy.InvalidScope:
            return False

    def credentials(self, context):
        """A context's policy values, with ``is_admin`` decided as Nova does.

        Nova sets ``is_admin`` from the ``context_is_admin`` rule when it
        builds a request context; the same rule decides it here, from the
        same file.
        """
        credentials = dict(context.to_policy_values())
        own = {'project_id': context.project_id, 'user_id': context.user_id}
        credentials['is_admin'] = self.check(
            policies.CONTEXT_IS_ADMIN, own, credentials)
        return credentials
