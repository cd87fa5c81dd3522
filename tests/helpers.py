"""Small helpers shared by the test modules (imported as ``from helpers import ...``)."""
from __future__ import annotations

import time


def wait_until(predicate, timeout: float = 30, what: str = "condition") -> None:
    """Poll ``predicate`` until it is true (exceptions count as not yet), or fail saying what was awaited."""
    end = time.time() + timeout
    while time.time() < end:
        try:
            if predicate():
                return
        except Exception:
            pass
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")
