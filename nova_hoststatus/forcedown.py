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

"""Force-down request bodies: Nova's schemas, Nova's messages, Nova's fault.

A monitor that sends a bad force-down gets the 400 Nova would give, without
the request reaching Nova. Only what Nova rejects for every caller before
its policy check is rejected here: the body's parsing and the JSON schema.
Later checks, such as "Missing forced_down field" (which Nova answers only
to callers that ``os_compute_api:os-services:update`` lets through, and 403
to the others), stay Nova's. The schemas state the field rules of the
compute API's ``os-services`` update (2.11-2.52 action form and 2.53+ UUID
form); errors are worded as Nova words them, so clients see no difference.
"""

import json
import sys

import jsonschema

_BOOLEAN = {
    'type': ['boolean', 'string'],
    'enum': [True, 'True', 'TRUE', 'true', '1', 'ON', 'On', 'on',
             'YES', 'Yes', 'yes',
             False, 'False', 'FALSE', 'false', '0', 'OFF', 'Off', 'off',
             'NO', 'No', 'no'],
}
_NAME = {'type': 'string', 'minLength': 1, 'maxLength': 255}
_HOST = {'type': 'string', 'pattern': '^[a-zA-Z0-9-._]*$',
         'minLength': 1, 'maxLength': 255}

# Where Nova's field types are loaded, the schemas take them from there.
NOVA_TYPES = 'nova.api.validation.parameter_types'


def _action_form(host, boolean):
    """PUT /os-services/force-down, microversions 2.11 to 2.52."""
    return {
        'type': 'object',
        'properties': {
            'host': host,
            'binary': _NAME,
            'disabled_reason': _NAME,
            'forced_down': boolean,
        },
        'required': ['host', 'binary'],
        'additionalProperties': False,
    }


def _uuid_form(boolean):
    """PUT /os-services/{service_uuid}, microversion 2.53 and later."""
    return {
        'type': 'object',
        'properties': {
            'status': {'type': 'string', 'enum': ['enabled', 'disabled']},
            'disabled_reason': _NAME,
            'forced_down': boolean,
        },
        'additionalProperties': False,
    }


_validators = {}


def _validator(form):
    """The validator of ``form`` ('action' or 'uuid') for this process.

    Of the errors of a value that breaks several rules Nova reports the
    first in its schema's order, which differs between releases (a host
    name too long and with a character Nova refuses: "is too long" from
    Nova 31, "does not match" from Nova 32 on).  So where Nova's API runs in
    this process, as in nova-api, the field types are Nova's own; the
    filter never imports them, as importing Nova's API outside nova-api
    has side effects of its own.
    """
    nova = sys.modules.get(NOVA_TYPES)
    key = (form, nova is not None)
    if key not in _validators:
        host = getattr(nova, 'fqdn', _HOST)
        boolean = getattr(nova, 'boolean', _BOOLEAN)
        schema = (_action_form(host, boolean) if form == 'action'
                  else _uuid_form(boolean))
        _validators[key] = jsonschema.Draft202012Validator(schema)
    return _validators[key]


class InvalidBody(ValueError):
    """A request body Nova would answer with 400; the text is Nova's."""


def parse(raw):
    """Decode a JSON body the way Nova does; ``None`` stands for no body.

    Nova 34 answers 500 to a body that is not UTF-8 and to one nested
    deeper than Python's recursion limit; both are the client's error, so
    they get Nova's 400 for a body it cannot read.
    """
    if raw is None:
        return None
    try:
        return json.loads(raw.decode('utf-8'))
    except (ValueError, RecursionError):  # ValueError: decoding and JSON
        raise InvalidBody('Malformed request body')


def _check(form, body):
    error = next(_validator(form).iter_errors(body), None)
    if error is None:
        return
    if error.path:
        raise InvalidBody(
            'Invalid input for field/attribute %s. Value: %s. %s'
            % (error.path[-1], error.instance, error.message))
    raise InvalidBody(error.message)


def validate_action_form(raw):
    """Validate a 2.11-2.52 ``force-down`` body; raise InvalidBody if bad."""
    body = parse(raw)
    _check('action', body)
    return body


def validate_uuid_form(raw):
    """Validate a 2.53+ service update body; raise InvalidBody if bad."""
    body = parse(raw)
    _check('uuid', body)
    return body


def bad_request(message):
    """Nova's fault body for a 400, as bytes."""
    fault = {'badRequest': {'code': 400, 'message': message}}
    return json.dumps(fault).encode('utf-8')
