"""Self-checks of the shortcuts that touch no private name (see
:mod:`flask._accel`): they re-implement a public path with public means,
so there is no shape to check at run time. ``make fuzz`` and the tests
(tests/accel/test_plain.py, tests/test_routing.py) hold their answers to
Pallets Flask's and Werkzeug's; the gate still switches them off outside
the verified Werkzeug versions and with ``FLASK_NO_SHORTCUTS``.
"""

from __future__ import annotations


def check_nothing() -> str | None:
    """Nothing to probe: always usable within the verified versions."""
    return None
