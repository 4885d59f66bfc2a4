"""The 文档库's 效力 page: a document's status today, and the form where an admin sets what it
is derived from (effective from / until, repealed on, superseded by / supersedes, source URL,
checked on, note) through ``Desk.set_document``, the desk call of ``qadesk docs set``: the same
checks, a refused value named in Chinese with nothing changed, and the FAQ entries the change
flagged for review listed afterwards."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

import prompts
from core.documents import SourceDocument
from desk.document_fields import InvalidDocumentField
from web.auth import console_desk, require_admin
from web.templating import render

STATUS_FORM = {  # form field → document field (its label: prompts admin.status_fields)
    "effective_from": "date_effective",
    "effective_until": "date_until",
    "repealed_on": "date_repealed",
    "superseded_by": "superseded_by",
    "supersedes": "supersedes",
    "source_url": "source_url",
    "checked_on": "checked_on",
    "note": "status_note",
}


def label(field: str) -> str:
    """A document field as the form names it (施行日期, …)."""
    try:
        return prompts.text(f"admin.status_fields.{field}")
    except prompts.MissingText:
        return field


def status_values(document: SourceDocument) -> dict[str, str]:
    """The form's fields as the document has them (a link field one reference a line)."""
    values: dict[str, str] = {}
    for name, field in STATUS_FORM.items():
        value = getattr(document, field)
        values[name] = "\n".join(value) if isinstance(value, tuple) else (value or "")
    return values


def field_error(refused: InvalidDocumentField) -> str:
    """What an admin reads when a value is refused (nothing has been changed)."""
    named = label(refused.field)
    try:
        text = prompts.text(f"admin.errors.doc_{refused.reason}", field=named, value=refused.value)
    except prompts.MissingText:
        text = prompts.text("admin.errors.doc_other", field=named, value=refused.value)
    return text + prompts.text("admin.errors.doc_unchanged")


async def status_page(
    request: Request,
    message: str = "",
    error: str = "",
    flagged: list[str] | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    user = await run_in_threadpool(require_admin, request)
    doc_id = str(request.path_params["doc_id"])
    document, status, citing = await run_in_threadpool(
        console_desk(request).document_status, user.user, doc_id
    )
    context = {
        "document": document,
        "kind": _kind(document),
        "status": status,
        "citing": citing,
        "flagged": [f for f in citing if f.entry.faq_id in set(flagged or ())],
        "values": values or status_values(document),
        "fields": {name: (field, label(field)) for name, field in STATUS_FORM.items()},
        "message": message,
        "error": error,
        "nav": "library",
    }
    return render(request, "admin/status.html", context, status_code=400 if error else 200)


async def set_status(request: Request) -> Response:
    """POST the form: every field as the admin wants it (an empty field clears it)."""
    user = await run_in_threadpool(require_admin, request)
    doc_id = str(request.path_params["doc_id"])
    form = await request.form()
    typed = {name: str(form.get(name) or "").strip() for name in STATUS_FORM}
    values: dict[str, str | list[str] | None] = {}
    for name, field in STATUS_FORM.items():
        if field in ("superseded_by", "supersedes"):
            values[field] = [r.strip() for r in typed[name].splitlines() if r.strip()]
        else:
            values[field] = typed[name]
    try:
        document, flagged = await run_in_threadpool(
            console_desk(request).set_document, user.user, doc_id, values
        )
    except InvalidDocumentField as refused:
        return await status_page(request, error=field_error(refused), values=typed)
    done = prompts.text("admin.done.status_set", title=document.title)
    if flagged:
        done += prompts.text("admin.done.status_flagged", count=len(flagged))
    return await status_page(request, message=done, flagged=flagged)


def _kind(document: SourceDocument) -> str:
    try:
        return prompts.text(f"answer.kind_{document.kind.value}")
    except prompts.MissingText:
        return document.kind.value


def routes(mounted_at: str) -> list[BaseRoute]:
    path = mounted_at + "/library/{doc_id}/status"
    return [Route(path, status_page, methods=["GET"]), Route(path, set_status, methods=["POST"])]
