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

"""Compute API microversions: what a request asks for, what Nova answered.

Nova takes the last ``compute`` entry of ``OpenStack-API-Version`` (service
name case-insensitive), else the legacy ``X-OpenStack-Nova-API-Version``,
else 2.1. Malformed and unsupported versions are Nova's to reject, so the
parsers here answer ``None`` for them and the filter stays out of the way.
"""

import re

import webob

HEADER = 'OpenStack-API-Version'
LEGACY_HEADER = 'X-OpenStack-Nova-API-Version'
DEFAULT = (2, 1)
# Above any real version: stands for ``latest`` until Nova says what it is.
LATEST = (2, 10**6)

_VERSION = re.compile(r'^([1-9]\d*)\.([1-9]\d*|0)$')


def parse(text):
    """``X.Y`` or ``latest`` as a comparable tuple; None if malformed."""
    text = text.strip()
    if text.lower() == 'latest':
        return LATEST
    match = _VERSION.match(text)
    if match is None:
        return None
    return int(match.group(1)), int(match.group(2))


def _compute_entry(value):
    """The version text of the last ``compute`` entry in a header value."""
    found = None
    for entry in value.split(','):
        service, _, version = entry.strip().partition(' ')
        if service.lower() == 'compute':
            found = version
    return found


def requested(headers):
    """The version a request asks for, or None when Nova would reject it."""
    value = headers.get(HEADER)
    text = _compute_entry(value) if value else None
    if text is None:
        text = headers.get(LEGACY_HEADER)
    if text is None:
        return DEFAULT
    return parse(text)


def answered(headers):
    """The version Nova used for a response, or None when it names none."""
    value = headers.get(HEADER)
    text = _compute_entry(value) if value else None
    return parse(text) if text else None


def to_text(version):
    return '%d.%d' % version


def header_pairs(version):
    """The version headers Nova puts on its own responses."""
    text = to_text(version)
    return [(HEADER, 'compute ' + text), (LEGACY_HEADER, text),
            ('Vary', HEADER), ('Vary', LEGACY_HEADER)]


def newest(application, environ):
    """Nova's newest compute microversion.

    Nova's own constant where Nova is importable (inside nova-api it
    always is); else its version document, asked through ``application``;
    None when neither says.
    """
    try:
        from nova.api.openstack import api_version_request
        return parse(api_version_request._MAX_API_VERSION)
    except (ImportError, AttributeError):
        pass
    request = webob.Request.blank(
        '/', environ={'SCRIPT_NAME': environ.get('SCRIPT_NAME', ''),
                      'HTTP_HOST': environ.get('HTTP_HOST', 'localhost')},
        headers={'Accept': 'application/json'})
    try:
        response = request.get_response(application)
        return parse(response.json['version']['version'])
    except Exception:
        return None
