"""What a text says about its own period of validity and the texts it replaces.

``本通知有效期至2025年12月31日`` / ``本办法有效期为3年`` (the text's own, not a certificate's) (counted from the day it takes effect) give the last day
it applies; ``《…》同时废止`` / ``原《…》废止`` name the documents it replaces. A status table
beside the files (``STATUS.tsv``: ``file`` and any of the columns in ``STATUS_COLUMNS``) gives
what a text does not say; ``qadesk setup`` fills the library's documents from it.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta
from pathlib import Path

from core.numerals import chinese_to_int
from ingest.dates import DATE_PATTERN, to_iso

STATUS_TABLE = "STATUS.tsv"
STATUS_COLUMNS = (
    "effective_from",
    "effective_until",
    "repealed_on",
    "superseded_by",
    "supersedes",
    "checked_on",
    "note",
)
_SELF = r"本(?:通知|意见|办法|规定|细则|方案|公告|决定|规则)[^。；]{0,30}?"
_UNTIL = re.compile(rf"{_SELF}有效期(?:至|到|截至)\s*({DATE_PATTERN})")
_YEARS = re.compile(rf"{_SELF}有效期(?:为|是)?\s*([0-9一二三四五六七八九十两]{{1,3}})\s*年")
_REPLACES = re.compile(r"《([^《》]{4,80})》(?:（[^）]{0,40}）)?同时(?:废止|停止执行|失效)")


def effective_until(text: str, effective: str | None) -> str | None:
    """The last day ``text`` applies, when it says so (a period needs the day it starts)."""
    if match := _UNTIL.search(text):
        return to_iso(match.group(1))
    match = _YEARS.search(text)
    if match and effective:
        years = chinese_to_int(match.group(1))
        try:
            start = date.fromisoformat(effective)
        except ValueError:
            return None
        if years is None:
            return None
        end = date(
            start.year + years, start.month, min(start.day, 28) if start.month == 2 else start.day
        )
        return (end - timedelta(days=1)).isoformat()
    return None


def replaced_titles(text: str) -> tuple[str, ...]:
    """《titles》 the text repeals (``…起施行，《X》同时废止``), in order, as references."""
    return tuple(dict.fromkeys(f"《{m.group(1)}》" for m in _REPLACES.finditer(text)))


def read_status_table(path: Path) -> dict[str, dict[str, str]]:
    """Rows of a status table keyed by file name: column → value (empty cells left out;
    ``superseded_by``/``supersedes`` may hold several references separated by ``|``)."""
    rows: dict[str, dict[str, str]] = {}
    text = path.read_text(encoding="utf-8-sig")
    for row in csv.DictReader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE):
        name = (row.get("file") or "").strip()
        values = {k: (row.get(k) or "").strip() for k in STATUS_COLUMNS}
        if name:
            rows[name] = {k: v for k, v in values.items() if v}
    return rows
