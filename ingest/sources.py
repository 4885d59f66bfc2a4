"""Where a document comes from: source tables beside the files, and what a source line says.

A directory may hold ``MANIFEST.tsv`` or ``SOURCES.tsv`` (tab-separated, a header row with at
least ``file`` and ``source``); a file named there gets its source from the table. Law files
carry the same kind of reference in a ``来源:`` line, e.g.
``GitHub LawRefBook/Laws @ 2f4c…1 : 经济法/产品质量法(2018-12-29).md``.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from ingest.dates import to_iso

log = logging.getLogger(__name__)

TABLE_NAMES = ("MANIFEST.tsv", "SOURCES.tsv")
_GITHUB = re.compile(
    r"GitHub\s+(?P<repo>[\w.-]+/[\w.-]+)\s*@\s*(?P<commit>[0-9a-f]{7,40})\s*:\s*(?P<path>[^（(]+?"
    r"(?:\([^)]*\)[^（(]*?)*\.\w+)"
)
_VERSION_DATE = re.compile(r"\((\d{4}-\d{2}-\d{2})\)")
_URL = re.compile(r"https?://[^\s<>\"'，。；）)]+")
_CATEGORY_KINDS = {"行政法规": "regulation", "部门规章": "rule", "地方性法规": "regulation"}


@dataclass(frozen=True, slots=True)
class SourceEntry:
    """One row of a source table."""

    file: str
    title: str | None
    source: str


def read_source_table(text: str) -> dict[str, SourceEntry]:
    """Rows of a tab-separated source table keyed by file name (rows without a source skipped)."""
    rows: dict[str, SourceEntry] = {}
    for row in csv.DictReader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE):
        name = (row.get("file") or "").strip()
        source = (row.get("source") or "").strip()
        if name and source:
            rows[name] = SourceEntry(name, (row.get("title") or "").strip() or None, source)
    return rows


def source_entry(directory: Path, file_name: str) -> SourceEntry | None:
    """The row for ``file_name`` in a source table in ``directory``, if there is one."""
    for table in TABLE_NAMES:
        path = directory / table
        if not path.is_file():
            continue
        try:
            rows = read_source_table(path.read_text(encoding="utf-8-sig"))
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            log.warning("source table unreadable path=%s error=%s", path.name, exc)
            continue
        if file_name in rows:
            return rows[file_name]
    return None


def source_url(source: str) -> str | None:
    """A link for a source reference: the first URL in it, or the GitHub page of a
    ``GitHub owner/repo @ commit : path`` reference."""
    if url := _URL.search(source):
        return url.group()
    github = _GITHUB.search(source)
    if not github:
        return None
    path = quote(github.group("path").strip(), safe="/()")
    return f"https://github.com/{github.group('repo')}/blob/{github.group('commit')}/{path}"


def version_date(source: str) -> str | None:
    """The version date a source reference names, as in ``产品质量法(2018-12-29).md``."""
    found = _VERSION_DATE.findall(source)
    return to_iso(found[-1]) if found else None


def category_kind(source: str) -> str | None:
    """The document kind a source's category folder implies (``行政法规/…`` → regulation)."""
    for folder, kind in _CATEGORY_KINDS.items():
        if f"{folder}/" in source:
            return kind
    return None
