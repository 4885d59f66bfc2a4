"""uvicorn's access log without query strings.

A WeChat callback URL carries its signature, timestamp, nonce and the sender's openid in the
query string, and uvicorn's access log prints the whole URL at INFO. :func:`strip_query_strings`
puts a filter on the ``uvicorn.access`` logger that keeps the method, the path and the status
and drops everything after ``?``. A filter on the logger survives uvicorn's own logging set-up
(``dictConfig`` replaces handlers, not filters), so installing it once when the app is built is
enough, however uvicorn is started.
"""

from __future__ import annotations

import logging
import re

ACCESS_LOGGER = "uvicorn.access"
_QUERY = re.compile(r'\?[^\s"]*')


class PathOnly(logging.Filter):
    """Rewrites access-log records so that no argument carries a query string."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            # uvicorn's AccessFormatter unpacks these five arguments: keep their number
            record.args = tuple(_path_only(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.msg, str):
            record.msg = _path_only(record.msg)
        return True


def _path_only(text: str) -> str:
    """``text`` with every ``?query`` removed, up to the next space or quote."""
    return _QUERY.sub("", text)


def strip_query_strings() -> None:
    """Install :class:`PathOnly` on uvicorn's access logger (once)."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, PathOnly) for f in logger.filters):
        logger.addFilter(PathOnly())
