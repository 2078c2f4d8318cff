"""The selection with the filter alone in Nova's /v2.1 pipeline."""

from tests.upstream import harness

load_tests = harness.load_tests_for('filter')
