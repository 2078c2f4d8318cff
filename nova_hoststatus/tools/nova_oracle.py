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

"""Nova's own host_status policy decision, asked in a child process.

``nova-hoststatus check`` puts its matrix of callers to it, and the policy
parity suite every case it generates.  The child imports Nova, loads
``nova.conf.CONF`` from the configuration of each batch (the arguments
nova-api would get, ``--config-file`` and ``--config-dir``) with a fresh
policy enforcer, on the batch's policy file if it names one and otherwise
on the one ``[oslo_policy]`` names, and lets Nova's server view decide,
exactly as a ``GET /servers/{id}`` does: a ``nova.context.RequestContext``
(which decides ``is_admin`` through ``nova.policy`` when it is built) and an
``nova.objects.Instance`` go to ``ViewBuilder._get_host_status_unknown_only``.

Nova keeps its policy state in process-wide globals (``CONF``,
``nova.policy._ENFORCER``) that a Nova loaded in the asking process (the
functional sandbox) uses too; changing them would leak into everything that
runs after.  The child owns its own copies, so the asking process is never
touched; it also keeps ``nova.context``, which loads eventlet, out of that
process, where Nova refuses to load after eventlet.  One child serves every
batch of a process (importing Nova costs seconds, a batch milliseconds) and
ends with it.

Protocol: one JSON object per line each way.  A batch names Nova's
configuration arguments, optionally a policy file, callers
``[user_id, project_id, roles]`` and servers ``[project_id, user_id]``; the
answer gives, per caller, Nova's ``is_admin`` and per server ``all``,
``unknown-only`` or ``none`` (``seen``), and beside it the filter's own
decision as it makes it inside nova-api, on the same Nova context
(``filter_seen``).
"""

import atexit
import json
import subprocess
import sys
import tempfile
import traceback

from nova_hoststatus import policy

# What the view's answer means, in the filter's Visibility values.
_SEEN = {False: policy.Visibility.ALL.value,
         True: policy.Visibility.UNKNOWN_ONLY.value,
         None: policy.Visibility.NONE.value}


class OracleError(RuntimeError):
    """Nova's side failed; the message carries its traceback."""


class NovaOracle(object):
    """A child process that answers batches with Nova's own view code."""

    def __init__(self):
        self._log = tempfile.TemporaryFile(mode='w+')
        self._proc = subprocess.Popen(
            [sys.executable, '-m', __name__],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log,
            text=True)

    def ask(self, config_args, callers, servers, policy_file=None):
        """Nova's answer for every caller and server under one config.

        ``config_args`` are nova-api's (``['--config-file', path]``);
        ``policy_file`` replaces the one its ``[oslo_policy]`` names.
        """
        batch = {'config_args': config_args, 'policy_file': policy_file,
                 'callers': callers, 'servers': servers}
        try:
            self._proc.stdin.write(json.dumps(batch) + '\n')
            self._proc.stdin.flush()
            line = self._proc.stdout.readline()
        except OSError:
            line = ''
        if not line:
            raise OracleError('the Nova oracle process ended: %s'
                              % self._stderr_tail())
        answer = json.loads(line)
        if 'error' in answer:
            raise OracleError(answer['error'])
        return answer

    def close(self):
        if self._proc.poll() is None:
            self._proc.stdin.close()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc.stdout.close()
        self._log.close()

    def _stderr_tail(self):
        self._log.seek(0)
        return self._log.read()[-3000:]


_SHARED = None


def shared():
    """The process's oracle, started on first use, ended at exit."""
    global _SHARED
    if _SHARED is None:
        _SHARED = NovaOracle()
        atexit.register(_SHARED.close)
    return _SHARED


def _serve(requests, replies):
    """The child: answer batches until the parent closes its end."""
    from nova_hoststatus.tools import sandbox
    sandbox.native_threads()

    from nova.api.openstack.compute.views import servers as views
    import nova.conf
    from nova import context as nova_context
    from nova import objects
    from nova import policy as nova_policy

    conf = nova.conf.CONF
    objects.register_all()
    for line in requests:
        batch = json.loads(line)
        try:
            conf(batch['config_args'], project='nova',
                 default_config_files=[])
            nova_policy.reset()
            nova_policy.init(policy_file=batch['policy_file'])
            instances = [objects.Instance(project_id=project, user_id=user)
                         for project, user in batch['servers']]
            results = []
            for user_id, project_id, roles in batch['callers']:
                context = nova_context.RequestContext(
                    user_id=user_id, project_id=project_id, roles=roles,
                    overwrite=False)
                seen = [_SEEN[views.ViewBuilder._get_host_status_unknown_only(
                    context, instance)] for instance in instances]
                check = policy.rule_check(context, enforcer=None)
                filter_seen = [policy.decide(check, policy.server_target(
                    {'tenant_id': instance.project_id})).value
                    for instance in instances]
                results.append({'is_admin': context.is_admin, 'seen': seen,
                                'filter_seen': filter_seen})
            reply = {'results': results}
        except Exception:
            reply = {'error': traceback.format_exc()}
        replies.write(json.dumps(reply) + '\n')
        replies.flush()


if __name__ == '__main__':
    # Anything a library prints goes to stderr, never into the replies.
    _replies, sys.stdout = sys.stdout, sys.stderr
    _serve(sys.stdin, _replies)
