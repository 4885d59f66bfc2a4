"""Handlers for admins in their private chat: add a document by sending it, /docs, /remove.

A document is size-checked from what Telegram announces before anything is downloaded, then
fetched through getFile into a temporary directory and handed to the desk, which reads it
and says what it learned (or why not).
"""

from __future__ import annotations

import asyncio
import logging
import re
import tempfile
from pathlib import Path, PurePath

from telegram import Bot, Document, File, Update
from telegram.error import BadRequest, NetworkError
from telegram.ext import ContextTypes

import prompts
from bot.telegram.render import document_list, escape, html_text, ingest_result
from bot.telegram.sending import send_html, typing
from bot.telegram.services import BotServices, user_ref
from core.documents import READABLE_SUFFIXES
from core.errors import QadeskError
from core.people import Role, UserRef
from desk.api import IngestOutcome

log = logging.getLogger(__name__)
Context = ContextTypes.DEFAULT_TYPE

# What the desk reads; anything else is refused before it is downloaded.
INGESTIBLE = tuple(sorted(READABLE_SUFFIXES))
_UNSAFE = re.compile(r"[^\w.\-（）()【】《》\u4e00-\u9fff]+")


def safe_file_name(name: str | None, fallback: str) -> str:
    """A file name without directories or odd characters, keeping the suffix."""
    base = PurePath((name or "").replace("\\", "/")).name.strip(". ")
    cleaned = _UNSAFE.sub("_", base)[-120:]
    return cleaned or fallback


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}"


class AdminHandlers:
    def __init__(self, services: BotServices) -> None:
        self.s = services

    async def _is_admin(self, who: UserRef) -> bool:
        return await self.s.state(self.s.desk.role_of, who) == Role.ADMIN

    async def document(self, update: Update, context: Context) -> None:
        message, user = update.effective_message, update.effective_user
        if message is None or user is None or message.document is None:
            return
        admin = user_ref(user)
        if not await self._is_admin(admin):
            log.info("document_from_non_admin user=%s", admin.key)
            await send_html(
                context.bot, message.chat_id, [html_text("telegram.unsupported.document_not_admin")]
            )
            return
        doc = message.document
        name = safe_file_name(doc.file_name, f"{doc.file_unique_id}.bin")
        refusal = self._precheck(doc, name)
        if refusal:
            await send_html(context.bot, message.chat_id, [refusal], reply_to=message.message_id)
            return
        await send_html(
            context.bot, message.chat_id, [html_text("telegram.admin.received", file_name=name)]
        )
        async with typing(context.bot, message.chat_id, self.s.tuning.typing_every_s):
            text = await self._ingest(context.bot, admin, doc, name)
        await send_html(context.bot, message.chat_id, [text], reply_to=message.message_id)

    def _precheck(self, doc: Document, name: str) -> str | None:
        """Why the file is refused before download, or None."""
        if not name.lower().endswith(INGESTIBLE):
            reason = prompts.error_text("unsupported_format")
            return html_text("telegram.admin.refused", file_name=name, reason=reason)
        if doc.file_size is not None and doc.file_size > self.s.max_file_bytes:
            return html_text(
                "telegram.admin.too_large",
                size_mb=_mb(doc.file_size),
                limit_mb=_mb(self.s.max_file_bytes),
            )
        return None

    async def _ingest(self, bot: Bot, admin: UserRef, doc: Document, name: str) -> str:
        tg_file = await bot.get_file(doc.file_id)
        if tg_file.file_size is not None and tg_file.file_size > self.s.max_file_bytes:
            return html_text(
                "telegram.admin.too_large",
                size_mb=_mb(tg_file.file_size),
                limit_mb=_mb(self.s.max_file_bytes),
            )
        with tempfile.TemporaryDirectory(prefix="qadesk-tg-") as folder:
            path = Path(folder) / name
            if not await self._download(tg_file, path):
                return html_text("telegram.admin.download_failed")
            if path.stat().st_size > self.s.max_file_bytes:
                return html_text(
                    "telegram.admin.too_large",
                    size_mb=_mb(path.stat().st_size),
                    limit_mb=_mb(self.s.max_file_bytes),
                )
            try:
                outcome = await self.s.call(self.s.desk.add_document, admin, path, name)
            except QadeskError as exc:
                reason = str(exc.context.get("reason", ""))
                outcome = IngestOutcome(
                    name, error=exc.detail, error_code=exc.code, error_reason=reason
                )
        log.info(
            "document_ingested admin=%s file=%s ok=%s code=%s sections=%s",
            admin.key,
            name,
            outcome.document is not None and not outcome.error_code,
            outcome.error_code,
            outcome.sections,
        )
        return ingest_result(outcome)

    async def _download(self, tg_file: File, path: Path, attempts: int = 3) -> bool:
        wait = self.s.tuning.network_backoff_s
        for attempt in range(attempts):
            try:
                await tg_file.download_to_drive(custom_path=path)
                return True
            except BadRequest as exc:
                log.warning("download_refused file=%s error=%s", path.name, exc)
                return False
            except NetworkError as exc:
                log.info("download_retry file=%s attempt=%s error=%s", path.name, attempt + 1, exc)
                if attempt + 1 < attempts:
                    await asyncio.sleep(wait)
                    wait *= 2
        return False

    async def docs(self, update: Update, context: Context) -> None:
        message, user = update.effective_message, update.effective_user
        if message is None or user is None:
            return
        if not await self._is_admin(user_ref(user)):
            await send_html(context.bot, message.chat_id, [html_text("telegram.admin.only_admins")])
            return
        documents = await self.s.call(self.s.desk.documents, user_ref(user))
        if not documents:
            await send_html(context.bot, message.chat_id, [html_text("telegram.admin.docs_empty")])
            return
        await send_html(context.bot, message.chat_id, document_list(documents))

    async def remove(self, update: Update, context: Context) -> None:
        message, user = update.effective_message, update.effective_user
        if message is None or user is None:
            return
        args = context.args or []
        if len(args) != 1:
            await send_html(
                context.bot, message.chat_id, [html_text("telegram.admin.remove_usage")]
            )
            return
        try:
            removed = await self.s.call(self.s.desk.remove_document, user_ref(user), args[0])
        except QadeskError as exc:
            await send_html(context.bot, message.chat_id, [escape(prompts.error_text(exc.code))])
            return
        await send_html(
            context.bot, message.chat_id, [html_text("telegram.admin.removed", title=removed.title)]
        )
