"""文档库: the documents, uploads with a preview and a confirmation, replacing and removing."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

import prompts
from core.errors import IngestError, InvalidTransition
from desk.library_admin import PreviewOutdated
from web.admin.common import (
    admin_user,
    render_page,
)
from web.auth import console_desk
from web.handlers import call


async def library_page(request: Request, message: str = "", status_code: int = 200) -> Response:
    user = await admin_user(request)
    entries = await call(console_desk(request).library, user.user)
    context = {"entries": entries, "nav": "library", "message": message, "replacing": None}
    return render_page(request, "admin/library.html", context, status_code=status_code)


async def replace_page(request: Request) -> Response:
    user = await admin_user(request)
    doc_id = str(request.path_params["doc_id"])
    document, citing = await call(console_desk(request).removal, user.user, doc_id)
    context = {"document": document, "citing": citing, "nav": "library", "replacing": document}
    return render_page(request, "admin/replace.html", context)


class _Upload:
    """The uploaded file saved under a temporary name (removed when the request is done)."""

    def __init__(self, upload: UploadFile) -> None:
        self.name = Path(upload.filename or "").name
        self._dir = tempfile.TemporaryDirectory(prefix="qadesk-upload-")
        self.path = Path(self._dir.name) / "upload"
        self._upload = upload

    async def __aenter__(self) -> _Upload:
        await self._upload.seek(0)
        with self.path.open("wb") as out:
            await run_in_threadpool(shutil.copyfileobj, self._upload.file, out, 1 << 20)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._dir.cleanup()


async def _uploaded(request: Request) -> tuple[UploadFile | None, str | None, str]:
    form = await request.form()
    upload = form.get("file")
    replacing = str(form.get("replacing") or "") or None
    previewed = str(form.get("content_hash") or "")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None, replacing, previewed
    return upload, replacing, previewed


async def preview_upload(request: Request) -> Response:
    """POST the chosen file: what the desk will learn from it, and the confirm button."""
    user = await admin_user(request)
    upload, replacing, _ = await _uploaded(request)
    if upload is None:
        return _part(request, error=prompts.text("admin.errors.no_file"))
    async with _Upload(upload) as saved:
        try:
            preview = await call(
                console_desk(request).preview_upload, user.user, saved.path, saved.name, replacing
            )
        except IngestError as refused:
            reason = str(refused.context.get("reason", ""))
            error = prompts.error_text(refused.code, reason)
            return _part(request, error=error, file_name=saved.name)
        except InvalidTransition:
            return _part(request, error=prompts.text("admin.errors.no_ingest"))
    return _part(request, preview=preview, file_name=saved.name)


async def confirm_upload(request: Request) -> Response:
    """POST the same file again with the hash its preview showed: store it."""
    user = await admin_user(request)
    upload, replacing, previewed = await _uploaded(request)
    if upload is None:
        return _part(request, error=prompts.text("admin.errors.no_file"))
    desk = console_desk(request)
    async with _Upload(upload) as saved:
        try:
            outcome = await call(
                desk.confirm_upload, user.user, saved.path, saved.name, previewed, replacing
            )
        except PreviewOutdated:
            return _part(request, error=prompts.text("admin.errors.preview_outdated"))
    if outcome.error_code is not None or outcome.document is None:
        code = outcome.error_code or "ingest"
        error = prompts.error_text(code, outcome.error_reason)
        return _part(request, error=error, file_name=saved.name)
    values = {"title": outcome.document.title, "chunks": outcome.chunks}
    if outcome.unchanged:
        done = prompts.text("admin.done.unchanged", **values)
    elif outcome.replaced is not None or replacing:
        done = prompts.text("admin.done.replaced", **values)
    else:
        done = prompts.text("admin.done.uploaded", **values)
    entries = await call(desk.library, user.user)
    return _part(request, done=done, entries=entries)


def _part(request: Request, **context: Any) -> Response:
    return render_page(request, "admin/upload_result.html", context)


async def remove_page(request: Request) -> Response:
    """The document and the FAQ entries that cite it, before it is removed."""
    user = await admin_user(request)
    doc_id = str(request.path_params["doc_id"])
    document, citing = await call(console_desk(request).removal, user.user, doc_id)
    context = {"document": document, "citing": citing, "nav": "library"}
    return render_page(request, "admin/remove.html", context)


async def remove(request: Request) -> Response:
    user = await admin_user(request)
    doc_id = str(request.path_params["doc_id"])
    removed = await call(console_desk(request).remove_from_library, user.user, doc_id)
    return await library_page(request, prompts.text("admin.done.removed", title=removed.title))
