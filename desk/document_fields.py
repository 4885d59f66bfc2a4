"""An admin sets what ingestion could not know about a document: when it takes effect, until
when, whether it was repealed, which document replaces it (``qadesk docs set``).

Values are checked before anything is written (``InvalidDocumentField`` names the field and the
value); a reference to another document is a doc id or file name of the library (stored as its
file name, which outlives a new version) or, for a document the library does not hold, its
文号/标准号 or 《title》. A change to a document's status fields flags the expert FAQ entries
resting on it for review, as replacing the document does.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol, runtime_checkable

from core.document_status import parse_date
from core.documents import DocumentKind, SourceDocument
from core.errors import DocumentNotFound, InvalidTransition

log = logging.getLogger(__name__)

CLEAR = "-"
"""The value that clears a field."""

FLAG_STATUS = "status"
DATE_FIELDS = ("date_issued", "date_effective", "date_until", "date_repealed", "checked_on")
LINK_FIELDS = ("superseded_by", "supersedes")
TEXT_FIELDS = ("doc_number", "issuer", "source_url", "status_note")
STATUS_FIELDS = ("date_effective", "date_until", "date_repealed", *LINK_FIELDS, "status_note")
"""Fields whose change can change what the document's status is."""

_DOC_ID = re.compile(r"^[0-9a-f]{16}$")
_EXTERNAL = re.compile(
    r"《.+》|[〔\[［]\d{4}[〕\]］]|第\s*\d+\s*号|^(?:GB|GB/T|GBZ|JJF|JJG|[A-Z]{2})\s*[\d/]"
)


class InvalidDocumentField(ValueError):
    """A value an admin gave that the document cannot take (the message says which and why;
    ``field``, ``value`` and ``reason`` let a screen say it in its own words)."""

    def __init__(self, message: str, *, field: str = "", value: str = "", reason: str = "") -> None:
        super().__init__(message)
        self.field = field
        self.value = value
        self.reason = reason


@runtime_checkable
class EditableLibrary(Protocol):
    def get(self, doc_id: str) -> SourceDocument | None: ...

    def documents(self) -> list[SourceDocument]: ...

    def set_document(self, doc_id: str, changes: Mapping[str, object]) -> SourceDocument: ...


def check_changes(
    values: Mapping[str, str | Sequence[str] | None], library: Sequence[SourceDocument]
) -> dict[str, object]:
    """``values`` (field → an admin's text, or a list of references for a link field; ``-``
    clears) as the typed values to store; ``InvalidDocumentField`` on the first bad one."""
    changes: dict[str, object] = {}
    for name, value in values.items():
        if value is None:
            continue
        if name in LINK_FIELDS:
            refs = [value] if isinstance(value, str) else list(value)
            changes[name] = tuple(_reference(name, r, library) for r in refs if r != CLEAR)
            continue
        if not isinstance(value, str):
            raise InvalidDocumentField(f"{name}: one value expected", field=name, reason="one")
        value = value.strip()
        if value in (CLEAR, ""):
            if name == "kind":
                raise InvalidDocumentField("kind cannot be cleared", field=name, reason="clear")
            changes[name] = None
        elif name in DATE_FIELDS:
            try:
                changes[name] = parse_date(value)
            except ValueError as exc:
                raise InvalidDocumentField(
                    f"{name}: {exc}", field=name, value=value, reason="date"
                ) from None
        elif name == "kind":
            try:
                changes[name] = DocumentKind(value)
            except ValueError:
                kinds = ", ".join(k.value for k in DocumentKind)
                raise InvalidDocumentField(
                    f"kind: {value!r} is not one of {kinds}", field=name, value=value, reason="kind"
                ) from None
        elif name in TEXT_FIELDS:
            if name == "source_url" and not re.match(r"^https?://\S+$", value):
                raise InvalidDocumentField(
                    f"source_url: {value!r} is not an http(s) address",
                    field=name,
                    value=value,
                    reason="url",
                )
            changes[name] = value
        else:
            raise InvalidDocumentField(
                f"{name}: not a field an admin sets", field=name, reason="unknown"
            )
    _check_order(changes)
    return changes


def _check_order(changes: Mapping[str, object]) -> None:
    effective, until = changes.get("date_effective"), changes.get("date_until")
    if isinstance(effective, str) and isinstance(until, str) and until < effective:
        raise InvalidDocumentField(
            f"date_until {until} is before date_effective {effective}: a document cannot "
            "cease to apply before it takes effect",
            field="date_until",
            value=until,
            reason="order",
        )


def _reference(field: str, ref: str, library: Sequence[SourceDocument]) -> str:
    ref = ref.strip()
    for doc in library:
        if ref in (doc.doc_id, doc.file_name):
            return doc.file_name
    if _DOC_ID.match(ref):
        raise InvalidDocumentField(
            f"{field}: no document with id {ref!r} in the library (see `qadesk docs list`)",
            field=field,
            value=ref,
            reason="reference",
        )
    if _EXTERNAL.search(ref):
        return ref  # a document the library does not hold, named by its number or title
    raise InvalidDocumentField(
        f"{field}: {ref!r} is neither a document of the library (id or file name) nor a "
        "文号/标准号 or 《title》 of one outside it",
        field=field,
        value=ref,
        reason="reference",
    )


class DocumentEditor:
    """Checks and writes an admin's changes; ``flag(file_name, reason)`` flags the FAQ entries
    relying on a document (their ids)."""

    def __init__(self, knowledge: object, flag: Callable[[str, str], list[str]]) -> None:
        if not isinstance(knowledge, EditableLibrary):
            raise InvalidTransition("this library's documents cannot be edited")
        self._knowledge = knowledge
        self._flag = flag

    def set_fields(
        self, doc_id: str, values: Mapping[str, str | Sequence[str] | None]
    ) -> tuple[SourceDocument, list[str]]:
        """The document as changed, and the FAQ entries flagged because its status changed."""
        old = self._knowledge.get(doc_id)
        if old is None:
            raise DocumentNotFound(
                f"no document with id {doc_id!r} (see `qadesk docs list`)", doc_id=doc_id
            )
        changes = check_changes(values, self._knowledge.documents())
        for name in LINK_FIELDS:
            if old.file_name in changes.get(name, ()):  # type: ignore[operator]
                raise InvalidDocumentField(
                    f"{name}: a document cannot refer to itself", field=name, reason="self"
                )
        if not changes:
            return old, []
        new = self._knowledge.set_document(doc_id, changes)
        moved = [n for n in STATUS_FIELDS if getattr(old, n) != getattr(new, n)]
        flagged = self._flag(new.file_name, FLAG_STATUS) if moved else []
        log.info(
            "document fields changed doc=%s fields=%s flagged=%d",
            doc_id,
            ",".join(sorted(changes)),
            len(flagged),
        )
        return new, flagged
