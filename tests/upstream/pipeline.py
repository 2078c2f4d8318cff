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

"""Nova's own api-paste.ini, with the filter put where an operator puts it.

The file is derived from the copy that the installed Nova ships, so the
rest of the pipeline is exactly what Nova's tests expect; only the
``/v2.1`` pipeline changes, and only by the filters named for a variant.
"""

import importlib.metadata
import re

FILTER = 'hoststatus'
STRIP = 'strip_nova_host_status'

# Each variant names the filters that go right after keystonecontext (the
# filter reads the caller's context from it), in order, before the app.
VARIANTS = {
    # Nova's file as shipped: the reference the selection must pass on.
    'stock': (),
    # The filter alone. Nova still computes host_status; the filter keeps
    # Nova's value where the policy lets the caller see it, removes it
    # where it does not, and reads Nova's records for a value Nova left out.
    'filter': (FILTER,),
    # Nova's own host_status removed behind the filter: every value the
    # tests read is the filter's, read from Nova's records on each request.
    'filter-only-values': (FILTER, STRIP),
}

_SECTIONS = {
    FILTER: '[filter:%s]\nuse = egg:nova-hoststatus#hoststatus\n' % FILTER,
    STRIP: ('[filter:%s]\n'
            'paste.filter_factory = '
            'nova_hoststatus.tools.strip:filter_factory\n' % STRIP),
}

# The /v2.1 composite; the legacy /v2 one never shows host_status and is
# left as it is, as the README tells operators to.
_V21_SECTION = '[composite:openstack_compute_api_v21]'
_AFTER = re.compile(r'(?<= )keystonecontext(?= )')


def nova_paste_file():
    """The api-paste.ini that the installed Nova distribution ships."""
    dist = importlib.metadata.distribution('nova')
    for name in dist.files or ():
        if str(name).endswith('etc/nova/api-paste.ini'):
            return str(dist.locate_file(name).resolve())
    raise LookupError('the installed nova ships no etc/nova/api-paste.ini')


def render(text, filters):
    """``text`` with ``filters`` after keystonecontext in the /v2.1 pipeline.

    Fails loudly unless there is exactly one place to put the filters, so
    that a change in Nova's file cannot silently leave the filter out.
    """
    if not filters:
        return text
    lines = text.splitlines(keepends=True)
    section = None
    changed = 0
    for number, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith('['):
            section = stripped
        elif (section == _V21_SECTION
              and stripped.partition('=')[0].strip() == 'keystone'):
            new, count = _AFTER.subn(
                'keystonecontext ' + ' '.join(filters), line)
            lines[number] = new
            changed += count
    if changed != 1:
        raise ValueError('expected one keystonecontext in the keystone '
                         'pipeline of %s, found %d' % (_V21_SECTION, changed))
    sections = ''.join('\n' + _SECTIONS[name] for name in filters)
    return ''.join(lines).rstrip('\n') + '\n' + sections


def write(variant, path):
    """Write the paste file of ``variant`` to ``path``; return the path."""
    with open(nova_paste_file()) as source:
        text = render(source.read(), VARIANTS[variant])
    with open(path, 'w') as target:
        target.write(text)
    return path
