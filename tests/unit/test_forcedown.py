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

"""Force-down bodies as Nova's schemas judge them, and Nova's faults."""

import json
import sys
import types as types_module

import fixtures
import testtools

from nova_hoststatus import forcedown

TRUE_STRINGS = ['True', 'TRUE', 'true', '1', 'ON', 'On', 'on',
                'YES', 'Yes', 'yes']
FALSE_STRINGS = ['False', 'FALSE', 'false', '0', 'OFF', 'Off', 'off',
                 'NO', 'No', 'no']


def raw(body):
    return json.dumps(body).encode('utf-8')


def action(**fields):
    body = {'host': 'compute-1', 'binary': 'nova-compute',
            'forced_down': True}
    body.update(fields)
    return {k: v for k, v in body.items() if v is not None}


class BodyParsingTest(testtools.TestCase):
    """What Nova refuses before it looks at any field."""

    def assertRejected(self, message, body, validate):
        error = self.assertRaises(forcedown.InvalidBody, validate, body)
        self.assertEqual(message, str(error))

    def test_malformed_json(self):
        for validate in (forcedown.validate_action_form,
                         forcedown.validate_uuid_form):
            self.assertRejected('Malformed request body', b'{"host": ',
                                validate)

    def test_not_utf8(self):
        self.assertRejected('Malformed request body', b'{"host": "\xff"}',
                            forcedown.validate_action_form)

    def test_nested_too_deep_to_parse(self):
        # Python's json gives up with a RecursionError, which Nova 34
        # answers with a 500.
        depth = 100000
        for raw in (b'[' * depth + b']' * depth,
                    b'{"forced_down": ' + b'{"a":' * depth + b'1' +
                    b'}' * depth + b'}'):
            for validate in (forcedown.validate_action_form,
                             forcedown.validate_uuid_form):
                self.assertRejected('Malformed request body', raw, validate)

    def test_empty_body(self):
        for validate in (forcedown.validate_action_form,
                         forcedown.validate_uuid_form):
            self.assertRejected("None is not of type 'object'", None,
                                validate)

    def test_json_that_is_not_an_object(self):
        self.assertRejected("[] is not of type 'object'", b'[]',
                            forcedown.validate_action_form)
        self.assertRejected("'down' is not of type 'object'", b'"down"',
                            forcedown.validate_uuid_form)


class ActionFormTest(testtools.TestCase):
    """PUT /os-services/force-down, microversions 2.11 to 2.52."""

    def assertRejected(self, message, body):
        error = self.assertRaises(forcedown.InvalidBody,
                                  forcedown.validate_action_form, raw(body))
        self.assertEqual(message, str(error))

    def test_valid_bodies(self):
        for value in [True, False] + TRUE_STRINGS + FALSE_STRINGS:
            body = action(forced_down=value)
            self.assertEqual(body,
                             forcedown.validate_action_form(raw(body)))

    def test_disabled_reason_is_a_known_field(self):
        body = action(disabled_reason='fault monitor')
        self.assertEqual(body, forcedown.validate_action_form(raw(body)))

    def test_missing_forced_down_is_left_to_nova(self):
        # Nova's schema passes such a body; Nova checks its policy before it
        # answers "Missing forced_down field", so a caller without
        # os-services:update must get Nova's 403, not a 400 from here.
        body = action(forced_down=None)
        self.assertEqual(body, forcedown.validate_action_form(raw(body)))

    def test_missing_host(self):
        self.assertRejected("'host' is a required property",
                            action(host=None))

    def test_missing_binary(self):
        self.assertRejected("'binary' is a required property",
                            action(binary=None))

    def test_extra_field(self):
        self.assertRejected(
            "Additional properties are not allowed ('foo' was unexpected)",
            action(foo='bar'))

    def test_forced_down_not_a_boolean_string(self):
        self.assertRejected(
            "Invalid input for field/attribute forced_down. Value: maybe. "
            "'maybe' is not one of [True, 'True', 'TRUE', 'true', '1', 'ON', "
            "'On', 'on', 'YES', 'Yes', 'yes', False, 'False', 'FALSE', "
            "'false', '0', 'OFF', 'Off', 'off', 'NO', 'No', 'no']",
            action(forced_down='maybe'))

    def test_forced_down_of_wrong_type(self):
        self.assertRejected(
            "Invalid input for field/attribute forced_down. Value: 1. "
            "1 is not of type 'boolean', 'string'", action(forced_down=1))
        self.assertRejected(
            "Invalid input for field/attribute forced_down. Value: None. "
            "None is not of type 'boolean', 'string'",
            {'host': 'compute-1', 'binary': 'nova-compute',
             'forced_down': None})

    def test_host_with_bad_characters(self):
        self.assertRejected(
            "Invalid input for field/attribute host. Value: compute 1. "
            "'compute 1' does not match '^[a-zA-Z0-9-._]*$'",
            action(host='compute 1'))

    def test_host_of_wrong_type(self):
        self.assertRejected(
            "Invalid input for field/attribute host. Value: 7. "
            "7 is not of type 'string'", action(host=7))

    def test_empty_and_over_long_strings(self):
        self.assertRejected(
            "Invalid input for field/attribute host. Value: . "
            "'' should be non-empty", action(host=''))
        long_binary = 'b' * 256
        error = self.assertRaises(
            forcedown.InvalidBody, forcedown.validate_action_form,
            raw(action(binary=long_binary)))
        self.assertIn('Invalid input for field/attribute binary.', str(error))
        self.assertIn('is too long', str(error))
        body = action(binary='b' * 255, host='h' * 255)
        self.assertEqual(body, forcedown.validate_action_form(raw(body)))


class UUIDFormTest(testtools.TestCase):
    """PUT /os-services/{service_uuid}, microversion 2.53 and later."""

    def assertRejected(self, message, body):
        error = self.assertRaises(forcedown.InvalidBody,
                                  forcedown.validate_uuid_form, raw(body))
        self.assertEqual(message, str(error))

    def test_valid_bodies(self):
        for body in ({'forced_down': True}, {'forced_down': 'no'},
                     {'status': 'disabled', 'disabled_reason': 'doctor'},
                     {'status': 'enabled', 'forced_down': False}):
            self.assertEqual(body, forcedown.validate_uuid_form(raw(body)))

    def test_action_form_fields_are_unexpected(self):
        self.assertRejected(
            "Additional properties are not allowed ('binary', 'host' were "
            "unexpected)", action())

    def test_bad_status(self):
        self.assertRejected(
            "Invalid input for field/attribute status. Value: down. "
            "'down' is not one of ['enabled', 'disabled']",
            {'status': 'down'})

    def test_bad_forced_down(self):
        self.assertRejected(
            "Invalid input for field/attribute forced_down. Value: []. "
            "[] is not of type 'boolean', 'string'", {'forced_down': []})

    def test_over_long_reason(self):
        error = self.assertRaises(
            forcedown.InvalidBody, forcedown.validate_uuid_form,
            raw({'status': 'disabled', 'disabled_reason': 'r' * 256}))
        self.assertIn('disabled_reason', str(error))


class NovaFieldTypesTest(testtools.TestCase):
    """Where Nova's API is loaded, its field types decide the message."""

    BODY = raw(action(host='!' * 256))

    def message(self):
        error = self.assertRaises(forcedown.InvalidBody,
                                  forcedown.validate_action_form, self.BODY)
        return str(error)

    def test_own_types_without_nova(self):
        self.useFixture(fixtures.MonkeyPatch(
            'sys.modules', dict(sys.modules, **{forcedown.NOVA_TYPES: None})))
        self.assertIn("does not match", self.message())

    def test_novas_keyword_order(self):
        # A release whose host type checks the length before the pattern.
        types = types_module.SimpleNamespace(
            fqdn={'type': 'string', 'minLength': 1, 'maxLength': 255,
                  'pattern': '^[a-zA-Z0-9-._]*$'},
            boolean={'type': 'boolean'})
        self.useFixture(fixtures.MonkeyPatch(
            'sys.modules', dict(sys.modules, **{forcedown.NOVA_TYPES: types})))
        self.useFixture(fixtures.MonkeyPatch(
            'nova_hoststatus.forcedown._validators', {}))
        self.assertIn("is too long", self.message())


class FaultTest(testtools.TestCase):

    def test_fault_body_is_novas(self):
        self.assertEqual(
            {'badRequest': {'code': 400, 'message': 'Malformed request body'}},
            json.loads(forcedown.bad_request('Malformed request body')))
