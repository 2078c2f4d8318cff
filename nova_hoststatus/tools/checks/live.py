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

"""The ``live API`` check: host_status through the running API.

A server is read at 2.15 and 2.16 through the endpoint an operator names;
the check judges what came back against what the policy shows the
token's caller.
"""

import collections

from nova_hoststatus import policy
from nova_hoststatus import status
from nova_hoststatus.tools.checks import result

LIVE = 'live API'


Answer = collections.namedtuple('Answer', 'version status answered body')
"""One GET of a server: the version asked for, the HTTP status (None when
there was no answer), the version Nova answered with, and the server
record, or the error."""

Shown = collections.namedtuple('Shown', 'status value')
"""What a GET of a server at 2.16 showed one caller: the HTTP status (None
when there was no answer), and the host_status (None when absent) or the
error."""

# The answers with which Nova keeps a server from a caller.
KEPT_FROM_CALLER = (403, 404)


def shown(answer):
    """The :class:`Shown` of an :class:`Answer`."""
    if answer.status == 200:
        return Shown(200, answer.body.get('host_status'))
    return Shown(answer.status, answer.body)


def cell(shown):
    """``shown`` in a word or two, for a table."""
    if shown is None:
        return '-'
    if shown.status == 200:
        return 'absent' if shown.value is None else repr(shown.value)
    if shown.status in KEPT_FROM_CALLER:
        return '%d from Nova' % shown.status
    return 'error (%s)' % (shown.status or 'no answer')


def cell_notes(shown):
    """What the cells of ``shown`` that are not a value mean, in words:
    one line for each kind of cell found.
    """
    notes = []
    statuses = sorted(set(answer.status for answer in shown
                          if answer is not None and
                          answer.status in KEPT_FROM_CALLER))
    for code in statuses:
        notes.append(
            '%d from Nova: the request went through the filter to Nova '
            'unchanged, and Nova answered %d %s: it does not show this '
            'caller the server at all (as for a server of another '
            'project), so there is no host_status to show, whatever the '
            'decision' % (code, code,
                          'Forbidden' if code == 403 else 'Not Found'))
    if any(answer is None for answer in shown):
        notes.append('-: not asked through the API (a caller of --role)')
    return notes


def agrees(expected, value):
    """Whether ``value``, the host_status a server showed at 2.16 (None
    when absent), is what decision ``expected`` shows: every value for
    ``all``, none for ``none``, and with ``unknown-only`` UNKNOWN or none
    (Nova leaves out every other value).
    """
    return {
        policy.Visibility.ALL.value: value is not None,
        policy.Visibility.UNKNOWN_ONLY.value: value in (None, status.UNKNOWN),
        policy.Visibility.NONE.value: value is None,
    }[expected]


def check_live(answers, expected=None, caller=None, server=None):
    """``host_status`` shows through the running API as the policy says.

    Never below 2.16; at 2.16 for the callers the policy shows it to.
    ``expected`` is the decision for the token's caller (``all``,
    ``unknown-only`` or ``none``: Nova's own where Nova is importable, as
    in nova-api), None when the caller's roles were not given: then only
    its presence can be reported.  ``server`` says which server was read,
    and where.
    """
    found = result.Findings(LIVE)
    if server:
        found.note('server: %s' % server)
    if caller:
        found.note('caller: %s' % caller)
    for answer in answers:
        if answer.status != 200:
            found.problem(result.Code.FAILURE,
                          'GET at %s: %s' % (answer.version, answer.body),
                          'check --endpoint, --token and --server')
            return found.result()
        value = answer.body.get('host_status')
        found.note('at %s (Nova answered %s): %s' % (
            answer.version, answer.answered,
            'absent' if value is None else 'host_status = %r' % value))
    low, high = answers
    if low.body.get('host_status') is not None:
        found.problem(result.Code.FAILURE,
                      'host_status at %s: it belongs to 2.16 and later'
                      % low.version,
                      'remove whatever adds host_status below 2.16 from '
                      'the /v2.1 pipeline')
    if high.answered != high.version:
        found.problem(result.Code.FAILURE,
                      'asked for %s, Nova answered %s' % (high.version,
                                                          high.answered),
                      'point --endpoint at a compute API of 2.16 or later')
        return found.result()
    value = high.body.get('host_status')
    if expected is None:
        if value is None:
            found.problem(
                result.Code.WARNING,
                'host_status absent at %s: right if the policy hides it '
                "from this token's caller" % high.version,
                "give the token's roles with --token-roles (and "
                '--token-project) to have it judged')
        return found.result()
    found.note('the policy shows this caller: %s' % expected)
    if not agrees(expected, value):
        found.problem(
            result.Code.FAILURE,
            'at %s host_status is %s, where the policy says %s'
            % (high.version, 'absent' if value is None else repr(value),
               expected),
            'check the pipeline row and that nova-api was restarted with '
            'this configuration')
    return found.result()
