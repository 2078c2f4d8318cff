"""Host status and force-down validation for the Nova compute API."""
