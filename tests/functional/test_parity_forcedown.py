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

"""Force-down bodies: the filter decides as Nova's own code does.

Every body goes through the filter and through Nova's parsing and schema
stage (see forcedown_oracle); both must pass it on, or both must answer 400
with the same message. Bodies come from hand-written edge cases, spread
over the microversions of their form, and from hypothesis, which draws the
microversion with the body. ``NOVA_HOSTSTATUS_PARITY_SCALE`` multiplies
the number of generated bodies. Each test prints what it compared.

Two classes of body are answered differently on purpose, each pinned by a
test of its own: bodies that are not UTF-8, and JSON nested too deeply for
Python to parse. Nova 34 answers both with a 500; the filter answers 400
"Malformed request body".
"""

import itertools
import json
import string

import hypothesis
from hypothesis import strategies as st
import testtools
from testtools import content

from tests.functional import forcedown_oracle as oracle

FORMS = (oracle.ACTION_FORM, oracle.UUID_FORM)
MALFORMED = oracle.Answer(400, 'Malformed request body', None)

# Content types Nova reads the body as JSON for.
JSON_TYPES = (oracle.JSON, 'application/json; charset=UTF-8',
              'application/vnd.openstack.compute+json', 'text/plain', '',
              None)

# The boolean spellings Nova documents for forced_down, and near misses.
BOOLEANS = [True, False,
            'True', 'TRUE', 'true', '1', 'ON', 'On', 'on',
            'YES', 'Yes', 'yes',
            'False', 'FALSE', 'false', '0', 'OFF', 'Off', 'off',
            'NO', 'No', 'no']
NEAR_BOOLEANS = ['tRUE', 'TRue', 'oN', 'oFF', 'yES', 'nO', 'yeS', 'ofF',
                 ' true', 'true ', 'true\n', '\ttrue', 'true\x00', '"true"',
                 'y', 'n', 'Y', 'N', 't', 'f', 'T', 'F', 'yep', 'nope',
                 'enabled', 'disabled', 'up', 'down', '', ' ',
                 '01', '00', '+1', '-0', '1.0', '0.0', '2', '10',
                 '\uff11', '\uff54\uff52\uff55\uff45', 'tru\u0435',
                 2, 1, 0, -1, 1.0, 0.0, -0.0, 0.5, None, [], {}, [True],
                 {'forced_down': True}]
NAMES = ['compute-1', 'nova-compute', 'fault monitor', 'a', 'Z', '0', '-',
         '.', '_', '..', 'compute_1.example.org', 'COMPUTE-01',
         'a' * 254, 'a' * 255, 'a' * 256, 'a' * 1000,
         'b' * 254 + ' ', 'c' * 255 + '\n', 'compute\n', '\n',
         'compute 1', ' compute', 'compute/1', 'compute:1', 'compute@1',
         'compute*', 'comp\tute', 'comp\x00ute', 'compute%s', '%(host)s',
         '%', '\\', '"', "'", '{}', '[]', 'null',
         'h\u00f4te', '\u8ba1\u7b97', '\U0001f4a5', '\U0001f4a5' * 255,
         '\U0001f4a5' * 256, '\u00e9' * 255, '\u00e9' * 256,
         '\u200b', '\ufeff', '\u212a', '\uff11', '\ud800', 'x\udfff']
OTHER_VALUES = [None, 0, 1, -1, 2, 1.5, 10 ** 20, -(10 ** 30),
                float('inf'), float('-inf'), float('nan'), [], [1],
                ['compute-1'], [[]], {}, {'host': 'compute-1'},
                {'a': {'b': None}}, [None, True, 'on']]
EDGE_VALUES = BOOLEANS + NEAR_BOOLEANS + NAMES + OTHER_VALUES + [
    'enabled', 'disabled', 'Enabled', 'DISABLED', 'enable', 'disable']

FIELDS = ('host', 'binary', 'forced_down', 'disabled_reason', 'status')
EXTRA_KEYS = ['Host', 'HOST', 'forced-down', 'forcedDown', 'force_down',
              'forced_down ', ' host', '', 'service', 'id', 'zone',
              'state', 'h\u00f4st', 'host\x00', '\U0001f4a5', '\ud800']
TYPICAL_BODIES = {
    oracle.ACTION_FORM: {'host': 'compute-1', 'binary': 'nova-compute',
                         'forced_down': True,
                         'disabled_reason': 'fault monitor'},
    oracle.UUID_FORM: {'status': 'disabled', 'forced_down': True,
                       'disabled_reason': 'fault monitor'},
}
EVERY_FIELD = dict(TYPICAL_BODIES[oracle.ACTION_FORM], status='disabled')

MISSING = object()
PAIR_VALUES = [MISSING, True, 'Off', 'yes', 'maybe', '', 'a' * 255,
               'a' * 256, 'compute 1', 'enabled', '\u00e9', 1, 2.5, None, [],
               {'a': 1}]

# Raw bodies, all of them UTF-8.
RAW_BODIES = [
    None, b'', b' ', b'\n', b'\x00', b'{', b'}', b'{}', b'[]', b'""',
    b'"force-down"', b'null', b'true', b'0', b'-0', b'1e999', b'NaN',
    b'Infinity', b'-Infinity', b'{"host": ', b'{"host": "compute-1",}',
    b"{'host': 'compute-1'}", b'{"host": "compute-1"} x', b'{}{}',
    b'{"forced_down": tru}', b'{"forced_down": True}',
    b'{"forced_down": NaN}', b'{"forced_down": Infinity}',
    b'{"forced_down": 1e999}', b'{"forced_down": -0}',
    b'{"forced_down": 1' + b'0' * 5000 + b'}', b'1' * 5000,
    b'{"host": "a\x00b"}', b'{"host": "a\nb"}', b'{"host": "\\u0000"}',
    b'{"host": "\\ud800"}', b'{"status": "dis\\u0061bled"}',
    b'{"host": "a", "host": "b"}',
    b'{"forced_down": true, "forced_down": "maybe"}',
    b'\xef\xbb\xbf{"forced_down": true}',
    b'  {"forced_down" :\t"on" }  ', b'{"forced_down": "on"}\n\n',
    '{"status": "disabled"}'.encode('utf-16-le'),
    b'{"host": ' + b'[' * 50 + b']' * 50 + b'}',
    b'{"forced_down": {"forced_down": {"forced_down": true}}}',
]

# Byte sequences that are never UTF-8.
NOT_UTF8 = [b'\xff', b'\xfe', b'\x80', b'\xc0\xaf', b'\xe2\x82',
            b'\xed\xa0\x80', b'\xf4\x90\x80\x80', b'\xf8\x88\x80\x80\x80']
# A character and an encoding that writes it in bytes that are not UTF-8.
OTHER_ENCODINGS = [('\u00e9', 'latin-1'), ('\u00ff', 'latin-1'),
                   ('\u20ac', 'cp1252'), ('\u00e9', 'utf-16-be'),
                   ('\U0001f4a5', 'utf-16'), ('\u00e9', 'utf-32')]


def examples(count):
    """Settings for ``count`` generated bodies, times the scale."""
    return hypothesis.settings(
        max_examples=count * oracle.SCALE, deadline=None, derandomize=True,
        database=None, print_blob=False,
        suppress_health_check=list(hypothesis.HealthCheck))


def dumps(body, ensure_ascii=True, separators=None):
    """``body`` as JSON in UTF-8, as a client sends it."""
    try:
        return json.dumps(body, ensure_ascii=ensure_ascii,
                          separators=separators).encode('utf-8')
    except UnicodeEncodeError:  # a lone surrogate; only escaped is UTF-8
        return dumps(body, True, separators)


def edge_bodies(form):
    """Hand-written bodies around every rule of ``form``'s schema."""
    typical = TYPICAL_BODIES[form]
    for field in FIELDS:
        for value in EDGE_VALUES:
            yield dict(typical, **{field: value})
    for char in map(chr, range(128)):
        yield dict(typical, host='compute' + char)
        yield dict(typical, host=char)
    for size in range(len(EVERY_FIELD) + 1):
        for chosen in itertools.combinations(EVERY_FIELD, size):
            yield {key: EVERY_FIELD[key] for key in chosen}
    for key in EXTRA_KEYS:
        yield dict(typical, **{key: 'x'})
        yield {key: True}
    yield dict(typical, **dict.fromkeys(EXTRA_KEYS[:3], None))
    yield from EDGE_VALUES
    # Two fields changed at once: which fault Nova reports first.
    for first, second in itertools.combinations(FIELDS + ('force_down',), 2):
        for one, other in itertools.product(PAIR_VALUES, repeat=2):
            body = dict(typical, **{first: one, second: other})
            yield {k: v for k, v in body.items() if v is not MISSING}


# Hypothesis strategies. Most values come from the pools above, which is
# cheap; drawn text and nested values add what nobody thought of.

HOST_CHARS = string.ascii_letters + string.digits + '-._'
ODD_CHARS = ' /:@!#$%^&*()+=[]{}|\\;\'",<>?`~\t\n\r\x00\x7f' + (
    '\u00e9\u00fc\u8ba1\U0001f4a5\u200b\ufeff\u212a\uff11')
_boundary_names = st.builds(
    lambda head, count, tail: head * count + tail,
    st.sampled_from(HOST_CHARS + ODD_CHARS),
    st.sampled_from([0, 1, 2, 254, 255, 256]),
    st.sampled_from(['', '', 'x', ' ', '\n', '\u00e9']))
_names = st.one_of(st.sampled_from(NAMES), _boundary_names,
                   st.text(HOST_CHARS + ODD_CHARS, max_size=12),
                   st.text(max_size=8))
_scalars = st.one_of(st.none(), st.booleans(), st.integers(),
                     st.floats(), st.text(max_size=8))
_json = st.one_of(
    st.sampled_from(EDGE_VALUES), _scalars,
    st.recursive(_scalars, lambda kids: st.one_of(
        st.lists(kids, max_size=3),
        st.dictionaries(st.text(max_size=6), kids, max_size=3)),
        max_leaves=4))
_valid = {
    'host': st.text(HOST_CHARS, min_size=1, max_size=20),
    'binary': st.text(min_size=1, max_size=30),
    'disabled_reason': st.text(min_size=1, max_size=30),
    'forced_down': st.sampled_from(BOOLEANS),
    'status': st.sampled_from(['enabled', 'disabled']),
}
_anything = st.one_of(_names, _json, st.sampled_from(NEAR_BOOLEANS))


@st.composite
def bodies(draw, form):
    """A body mostly shaped like ``form``'s, sometimes anything at all.

    The form's own fields are there and valid most of the time, the other
    form's fields and unknown keys now and then, so that passes and every
    kind of rejection all come up often.
    """
    if draw(st.integers(0, 19)) == 0:
        return draw(_json)
    own = TYPICAL_BODIES[form]
    body = {}
    for field in FIELDS:
        present = 92 if field in ('host', 'binary') else 70
        if draw(st.integers(0, 99)) >= (present if field in own else 8):
            continue
        if draw(st.integers(0, 9)) < 8:
            body[field] = draw(_valid[field])
        else:
            body[field] = draw(_anything)
    if draw(st.integers(0, 9)) == 0:
        body.update(draw(st.dictionaries(
            st.sampled_from(EXTRA_KEYS) | st.text(max_size=6), _json,
            min_size=1, max_size=2)))
    return body


@st.composite
def encoded(draw, form):
    """A body of ``form`` as UTF-8 JSON, in one of the ways clients write
    it.
    """
    separators = draw(st.sampled_from([None, (',', ':'), (' , ', ' : ')]))
    return dumps(draw(bodies(form)), draw(st.booleans()), separators)


@st.composite
def utf8_bytes(draw):
    """UTF-8 bytes that are JSON, nearly JSON, or not JSON at all."""
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return draw(st.text(st.characters(blacklist_categories=('Cs',)),
                            max_size=30)).encode('utf-8')
    text = draw(encoded(draw(st.sampled_from(FORMS)))).decode('utf-8')
    if kind == 1:
        return text.encode('utf-8')
    at = draw(st.integers(0, len(text)))
    if kind == 2:
        return text[:at].encode('utf-8')
    char = draw(st.characters(blacklist_categories=('Cs',)) |
                st.sampled_from('{}[]",:\\ 0tfn'))
    return (text[:at] + char + text[at + 1:]).encode('utf-8')


@st.composite
def not_utf8(draw):
    """Bytes that are not UTF-8: JSON with a bad sequence put in, or JSON
    in another encoding with a character that makes it differ.
    """
    raw = dumps(draw(bodies(draw(st.sampled_from(FORMS)))))
    if draw(st.booleans()):
        at = draw(st.integers(0, len(raw)))
        return raw[:at] + draw(st.sampled_from(NOT_UTF8)) + raw[at:]
    char, encoding = draw(st.sampled_from(OTHER_ENCODINGS))
    return (raw.decode('ascii') + char).encode(encoding)


class ParityCase(testtools.TestCase):
    """Puts each body to the filter and to Nova's own code."""

    def setUp(self):
        super().setUp()
        self.nova = oracle.nova()
        self.filter = self.useFixture(
            oracle.FilterOverStub(self.nova.max_version))
        self.form_versions = [(form, version) for form in FORMS
                              for version in oracle.versions(form)]

    def answers(self, form, version, raw, content_type=oracle.JSON):
        """The filter's answer and Nova's."""
        return (self.filter.answer(form, version, raw, content_type),
                self.nova.answer(form, version, raw, content_type))

    def assertSameAnswers(self, tally, cases):
        """Both answer each (form, version, raw, content_type) alike."""
        for case, nova in zip(cases, self.nova.answers(cases)):
            form, version, raw, content_type = case
            ours = self.filter.answer(*case)
            self.assertEqual(nova, ours, '%s at %s (%s): %.300r' % (
                form.name, version, content_type, raw))
            tally.add(version, raw, nova)

    def report(self, tally, minimum):
        """Show what was compared and make sure it was enough."""
        line = tally.summary()
        print(line)
        self.addDetail('parity', content.text_content(line))
        self.assertGreaterEqual(tally.total, minimum, line)


class TestEdgeCases(ParityCase):
    """Hand-written bodies, spread over the microversions of their form;
    the raw ones at every microversion.
    """

    def _run(self, form):
        tally = oracle.Tally('edge cases, %s' % form.name)
        versions = itertools.cycle(oracle.versions(form))
        cases = [(form, next(versions), dumps(body), oracle.JSON)
                 for body in edge_bodies(form)]
        cases.extend((form, version, raw, oracle.JSON)
                     for raw in RAW_BODIES
                     for version in oracle.versions(form))
        self.assertSameAnswers(tally, cases)
        self.report(tally, 5000)
        self.assertGreater(tally.by_status[oracle.PASSED], 200)

    def test_action_form(self):
        self._run(oracle.ACTION_FORM)

    def test_uuid_form(self):
        self._run(oracle.UUID_FORM)

    def test_missing_forced_down_passes(self):
        # Nova answers "Missing forced_down field" only after its policy
        # check, so its schema stage, and the filter, let the body through.
        raw = dumps({'host': 'compute-1', 'binary': 'nova-compute'})
        for version in oracle.versions(oracle.ACTION_FORM):
            self.assertEqual(
                (oracle.Answer(oracle.PASSED, None, None),) * 2,
                self.answers(oracle.ACTION_FORM, version, raw))


class TestGenerated(ParityCase):
    """Bodies from hypothesis, each at a microversion drawn with it.

    Hypothesis repeats many bodies; each is compared once, so fewer are
    compared than generated.
    """

    def _run(self, form, count):
        tally = oracle.Tally('generated, %s' % form.name)

        @examples(count)
        @hypothesis.given(version=st.sampled_from(oracle.versions(form)),
                          raw=encoded(form))
        def compare(version, raw):
            if raw not in tally.bodies:
                self.assertSameAnswers(
                    tally, [(form, version, raw, oracle.JSON)])

        compare()
        self.report(tally, count * oracle.SCALE // 4)
        self.assertGreater(tally.by_status[oracle.PASSED], tally.total // 5)
        self.assertGreater(tally.by_status[400], tally.total // 5)

    def test_action_form(self):
        self._run(oracle.ACTION_FORM, 800)

    def test_uuid_form(self):
        self._run(oracle.UUID_FORM, 800)

    def test_raw_bytes(self):
        tally = oracle.Tally('generated raw UTF-8 bytes, both forms')
        count = 700

        @examples(count)
        @hypothesis.given(form_version=st.sampled_from(self.form_versions),
                          raw=utf8_bytes(),
                          content_type=st.sampled_from(JSON_TYPES))
        def compare(form_version, raw, content_type):
            if raw not in tally.bodies:
                form, version = form_version
                self.assertSameAnswers(
                    tally, [(form, version, raw, content_type)])

        compare()
        self.report(tally, count * oracle.SCALE // 4)


class TestDocumentedDifferences(ParityCase):
    """Bodies Nova 34 answers with a 500 and the filter with a 400."""

    def assertDocumented(self, tally, cause, form, version, raw):
        ours, nova = self.answers(form, version, raw)
        self.assertEqual((500, cause), (nova.status, nova.cause), raw)
        self.assertEqual(MALFORMED, ours, raw)
        tally.add(version, raw, nova)

    def test_not_utf8(self):
        # Nova decodes the body for a debug line before it parses it, and
        # the UnicodeDecodeError becomes a 500.
        tally = oracle.Tally('not UTF-8 (Nova 500, filter 400)')
        count = 100

        @examples(count)
        @hypothesis.given(form_version=st.sampled_from(self.form_versions),
                          raw=not_utf8())
        def compare(form_version, raw):
            if raw not in tally.bodies:
                self.assertDocumented(tally, 'UnicodeDecodeError',
                                      *form_version, raw)

        compare()
        for (form, version), raw in itertools.product(self.form_versions,
                                                      NOT_UTF8):
            self.assertDocumented(tally, 'UnicodeDecodeError', form,
                                  version, raw)
        self.report(tally, count * oracle.SCALE // 4)

    def test_nested_too_deep(self):
        # Python's json gives up on nesting deeper than the interpreter's
        # recursion limit with a RecursionError, which Nova does not catch.
        # Such bodies pass Nova's 112 KiB request size limit.
        tally = oracle.Tally('nested too deep (Nova 500, filter 400)')
        depth = 15000
        for raw in (b'[' * depth + b']' * depth,
                    b'{"host": ' + b'[' * depth + b']' * depth + b'}',
                    b'{"forced_down": ' + b'{"a":' * depth +
                    b'1' + b'}' * depth + b'}'):
            self.assertLess(len(raw), 112 * 1024)
            for form, version in self.form_versions:
                self.assertDocumented(tally, 'RecursionError', form,
                                      version, raw)
        self.report(tally, 21)
