"""The selection with Nova's own host_status removed behind the filter."""

from tests.upstream import harness

load_tests = harness.load_tests_for('filter-only-values')
