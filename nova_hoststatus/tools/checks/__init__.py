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

"""The checks of ``nova-hoststatus check``, one module per subject.

Every way the filter goes wrong in production is a deployment mistake that
fails quietly: the filter in the wrong place of the pipeline
(:mod:`.pipeline`), a rule naming a rule that does not exist
(:mod:`.policy`), a setting that no longer does anything (:mod:`.state`),
a running API that does not show what the policy says (:mod:`.live`),
a Nova that sends the notification agent nothing (:mod:`.notifications`).
Each check takes what the deployment's files say, already read (the text
of ``api-paste.ini``, rule dicts, decisions, setting names), and returns a
:class:`.result.Result`.  Reading the files and asking Nova is
:mod:`nova_hoststatus.cmd.check`'s job.
"""

from nova_hoststatus.tools.checks import live
from nova_hoststatus.tools.checks import notifications
from nova_hoststatus.tools.checks import pipeline
from nova_hoststatus.tools.checks import policy
from nova_hoststatus.tools.checks import result
from nova_hoststatus.tools.checks import state

# The names the command and the tests use, as ``checks.NAME``.

Code = result.Code
Result = result.Result
not_checked = result.not_checked
table = result.table

PIPELINE = pipeline.PIPELINE
FILTER_FACTORY = pipeline.FILTER_FACTORY
FILTER_USE = pipeline.FILTER_USE
V21 = pipeline.V21
LEGACY_V2 = pipeline.LEGACY_V2
PasteConfig = pipeline.PasteConfig
entry_point = pipeline.entry_point
check_pipeline = pipeline.check_pipeline

POLICY = policy.POLICY
WHO_SEES = policy.WHO_SEES
SERVER_PROJECT = policy.SERVER_PROJECT
OTHER_PROJECT = policy.OTHER_PROJECT
SERVER_USER = policy.SERVER_USER
Caller = policy.Caller
references = policy.references
cycles = policy.cycles
check_policy = policy.check_policy
usual_callers = policy.usual_callers
role_callers = policy.role_callers
visibility = policy.visibility
check_who_sees = policy.check_who_sees

HOST_STATE = state.HOST_STATE
check_host_state = state.check_host_state

NOTIFICATIONS = notifications.NOTIFICATIONS
Messaging = notifications.Messaging
Agent = notifications.Agent
check_notifications = notifications.check_notifications

LIVE = live.LIVE
Answer = live.Answer
Shown = live.Shown
shown = live.shown
check_live = live.check_live
