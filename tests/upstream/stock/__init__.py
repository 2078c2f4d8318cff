"""The selection on Nova's paste file as shipped: the reference run."""

from tests.upstream import harness

load_tests = harness.load_tests_for('stock')
