"""A clock the test moves by hand."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

START = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


class FakeClock:
    """Stands still until told to move; ``now()`` is timezone-aware UTC."""

    def __init__(self, start: datetime = START) -> None:
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, **delta: float) -> datetime:
        """Move forward, e.g. ``advance(minutes=31)``; returns the new time."""
        with self._lock:
            self._now += timedelta(**delta)
            return self._now

    def set(self, moment: datetime) -> None:
        with self._lock:
            self._now = moment
