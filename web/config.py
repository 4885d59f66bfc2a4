"""The console's plain settings (``app`` fills them in from its settings)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ConsoleConfig:
    """``secret`` signs session cookies and CSRF tokens (the login links are signed by the
    desk with the same secret); ``https_only`` marks the cookie Secure (behind TLS);
    ``session_hours`` is how long a sign-in lasts; ``refresh_seconds`` how often the queue
    refreshes itself."""

    secret: str
    https_only: bool = False
    session_hours: float = 12.0
    refresh_seconds: float = 5.0
