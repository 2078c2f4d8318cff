"""Nova's own functional and API-sample tests, with the filter in place.

Nova 34 ships its test suite in the wheel.  The tests selected in
``selected-tests.txt`` drive host_status and os-services through Nova's
real WSGI stack, built by Nova's own test fixture from a paste file; here
that file is Nova's own with the filter inserted where an operator puts
it (see :mod:`pipeline`), and the tests are loaded through the variant
packages (see :mod:`harness`):

* ``stock``: Nova's file as shipped, to show the selection passes on Nova.
* ``filter``: the filter alone.
* ``filter_only_values``: Nova's own host_status removed behind the
  filter, so every host_status the tests read is the filter's.

``python -m tests.upstream`` (``tox -e nova-tests``) runs the variants.
"""
