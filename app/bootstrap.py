"""The one composition root: every concrete object is built here from settings.

Tests call the same functions with fakes (an embedder, notifiers). Nothing is built at import.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, cast

from pydantic import SecretStr

import prompts
from app.settings import Settings
from core.people import Channel, UserRef
from core.ports import ChannelMemory, Embedder, Notifier
from knowledge.answering import KnowledgeBase, open_knowledge_base
from knowledge.models import AnswerModel, load_model

if TYPE_CHECKING:  # imported where built, so the CLI's cheap commands stay cheap
    from starlette.applications import Starlette

    from bot.channel import ChannelRuntime
    from desk.console_access import ConsoleLinks
    from desk.service import Desk
    from escalation.dispatcher import Dispatcher
    from escalation.store import EscalationStore
    from ingest.pipeline import IngestPipeline
    from knowledge.llm_composer import ChatModel, LlmComposer
    from knowledge.store import KnowledgeStore

log = logging.getLogger(__name__)


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for noisy in (
        "httpx",
        "httpcore",
        "chromadb",
        "telegram",
        "urllib3",
        "jieba",
        "sentence_transformers",
        "transformers",
        "apscheduler",
        "uvicorn.access",
    ):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def offline_environment() -> None:
    """The desk never fetches a model from a hub at run time."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


def build_embedder(settings: Settings, *, bulk: bool = False) -> Embedder:
    """The configured embedder. ``bulk`` (setup, ingest, reindex: a process that embeds the
    library and serves nobody) gives torch every core; a serving process keeps one thread per
    request (see ``knowledge.embedder``)."""
    from knowledge.embedder import load_embedder

    offline_environment()
    return load_embedder(
        settings.embedding_model,
        settings.models_dir,
        device=settings.embedding_device,
        query_prompt=settings.embedding_query_prompt,
        document_prompt=settings.embedding_document_prompt,
        num_threads=(os.cpu_count() or 1) if bulk else 1,
    )


def answer_model(settings: Settings) -> AnswerModel | None:
    """The fitted answering model the settings name, with their threshold; None: the shipped."""
    if settings.answer_model is None and settings.answer_threshold is None:
        return None
    model = load_model(settings.answer_model)
    if settings.answer_threshold is not None:
        model = dataclasses.replace(model, threshold=settings.answer_threshold)
    return model


def build_knowledge(
    settings: Settings,
    embedder: Embedder | None = None,
    *,
    reindex: bool = False,
    bulk: bool = False,
) -> KnowledgeBase:
    return open_knowledge_base(
        embedder or build_embedder(settings, bulk=bulk),
        settings.index_dir,
        chroma_host=settings.chroma_host,
        chroma_port=settings.chroma_port,
        model=answer_model(settings),
        reindex_on_mismatch=reindex,
    )


def build_store(settings: Settings, *, recover: bool = True) -> KnowledgeStore:
    """The library's document store alone (no answering), e.g. to check it as it is."""
    from knowledge.store import open_store

    return open_store(
        build_embedder(settings),
        settings.index_dir,
        chroma_host=settings.chroma_host,
        chroma_port=settings.chroma_port,
        recover=recover,
    )


def build_pipeline(settings: Settings, store: KnowledgeStore | KnowledgeBase) -> IngestPipeline:
    from ingest.pipeline import IngestPipeline

    return IngestPipeline(store, **ingest_budget(settings))


def ingest_budget(settings: Settings) -> dict[str, int]:
    """What one document may cost, as the pipeline's and the preview's keyword arguments."""
    return {
        "max_bytes": int(settings.max_file_mb * 1024 * 1024),
        "max_chars": settings.max_document_chars,
        "max_chunks": settings.max_document_chunks,
    }


CONSOLE_ADMIN = UserRef(Channel.CONSOLE, "admin", display_name="console")


@dataclass
class Container:
    """Everything one process of the desk uses, built once from settings."""

    settings: Settings
    knowledge: KnowledgeBase
    pipeline: IngestPipeline
    store: EscalationStore
    desk: Desk
    memory: ChannelMemory  # what the channels keep across workers, handed straight to them
    console_admin: UserRef = CONSOLE_ADMIN
    composer: LlmComposer | None = None  # the optional LLM composer, closed with the rest

    def dispatcher(self, notifiers: dict[str, Notifier], **options: Any) -> Dispatcher:
        from escalation.dispatcher import Dispatcher

        return Dispatcher(self.store, notifiers, **options)

    def close(self) -> None:
        if self.composer is not None:
            self.composer.close()
        self.store.close()


def expert_destinations(settings: Settings) -> list[UserRef]:
    """Shared places every new ticket is announced: the Telegram group, the WeCom robot."""
    places = []
    if settings.telegram_token and settings.telegram_expert_chat_id is not None:
        chat = str(settings.telegram_expert_chat_id)
        name = prompts.text("telegram.expert.group_name")
        places.append(UserRef(Channel.TELEGRAM, chat, chat_id=chat, display_name=name))
    if settings.wechat_token and settings.wecom_robot_url:
        from bot.wechat.notifier import WECOM_ROBOT

        places.append(WECOM_ROBOT)
    return places


def build(
    settings: Settings,
    *,
    embedder: Embedder | None = None,
    knowledge: KnowledgeBase | None = None,
    reindex: bool = False,
    bulk: bool = False,
    chat_model: ChatModel | None = None,
) -> Container:
    """The whole desk: knowledge base, ingestion, escalation store (migrated), the service.
    ``chat_model`` (a LangChain chat model) replaces the configured LLM endpoint."""

    from desk.service import Desk
    from desk.spool import QuestionSpool
    from escalation.channel_memory import StoreChannelMemory
    from escalation.store import EscalationStore

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    kb = knowledge or build_knowledge(settings, embedder, reindex=reindex, bulk=bulk)
    composer = build_composer(settings, chat_model)
    pipeline = build_pipeline(settings, kb)
    store = EscalationStore.open(
        settings.sqlalchemy_url, busy_timeout_s=settings.database_busy_timeout_s
    )
    store.seed_roles(
        admins=[*settings.admins, CONSOLE_ADMIN.key],
        experts=[*settings.experts, CONSOLE_ADMIN.key],
    )
    desk = Desk(
        kb,
        store,
        pipeline,
        expert_destinations=expert_destinations(settings),
        max_question_chars=settings.max_question_chars,
        reannounce_after=timedelta(minutes=settings.reannounce_after_minutes),
        follow_up_within=timedelta(minutes=settings.follow_up_minutes),
        spool=QuestionSpool(settings.spool_dir),
        composer=composer,
        compose_for=composed_channels(settings),
        console_links=console_links(settings),
    )
    memory = StoreChannelMemory(store)
    return Container(settings, kb, pipeline, store, desk, memory, composer=composer)


@contextmanager
def command_desk(settings: Settings) -> Iterator[Desk]:
    """The desk for one command-line command (``qadesk tickets …``, ``faq``, ``experts``,
    ``stats``), closed when the command ends; its knowledge base opens only if the command
    needs it (see ``app.lazy_knowledge``)."""
    from app.lazy_knowledge import LazyKnowledge

    knowledge = LazyKnowledge(lambda: build_knowledge(settings))
    container = build(settings, knowledge=cast(KnowledgeBase, knowledge))
    try:
        yield container.desk
    finally:
        container.close()


def console_links(settings: Settings) -> ConsoleLinks | None:
    """How the desk signs console login links; None when the console is off (the settings
    do not load with the console on and no secret, or a short one)."""
    if not settings.console_enabled:
        return None
    from desk.console_access import ConsoleLinks

    secret = _secret(settings.console_secret) or ""
    base = settings.console_base_url or f"http://{settings.host}:{settings.port}/console"
    return ConsoleLinks(secret, base, timedelta(minutes=settings.console_link_minutes))


def build_console(settings: Settings, container: Container) -> Starlette | None:
    """The console's ASGI app for ``qadesk serve`` (None when the console is off)."""
    links = console_links(settings)
    if links is None:
        return None
    from web.app import ConsoleConfig, build_console

    config = ConsoleConfig(
        secret=links.secret,
        https_only=links.base_url.startswith("https://"),
        session_hours=settings.console_session_hours,
        refresh_seconds=settings.console_refresh_seconds,
    )
    return build_console(container.desk, config)


def composed_channels(settings: Settings) -> tuple[Channel, ...]:
    """Channels whose answer may wait for the LLM composer. Telegram shows "typing…" meanwhile
    and gets the extractive answer after ``QADESK_LLM_TIMEOUT_S``. WeChat only when the account
    can push customer-service messages: its channel then sends the one answer passively when it
    is ready within the 5-second window, else answers ``success`` and pushes it; without push
    credentials WeChat askers get the extractive answer in the passive reply. Either way the
    asker gets one answer."""
    channels = [Channel.TELEGRAM, Channel.CONSOLE]
    if settings.wechat_app_id and settings.wechat_app_secret:
        channels.append(Channel.WECHAT)
    return tuple(channels)


def build_composer(settings: Settings, chat_model: ChatModel | None = None) -> LlmComposer | None:
    """The optional LLM composer (``knowledge.llm_composer``): ``chat_model``, or ``ChatOpenAI``
    at ``QADESK_LLM_BASE_URL``; None without either (LangChain is then not even imported)."""
    if chat_model is None:
        if not settings.llm_base_url:
            return None
        from knowledge.llm_composer import build_chat_model

        chat_model = build_chat_model(
            settings.llm_base_url,
            settings.llm_model or "default",
            _secret(settings.llm_api_key),
            timeout_s=settings.llm_timeout_s,
            max_tokens=settings.llm_max_tokens,
        )
    from knowledge.llm_composer import LlmComposer

    log.info("llm composer enabled timeout_s=%s", settings.llm_timeout_s)
    return LlmComposer(chat_model, timeout_s=settings.llm_timeout_s)


def build_channels(settings: Settings, container: Container) -> list[ChannelRuntime]:
    """The channel runtimes the settings enable (each implements bot.channel.ChannelRuntime)."""
    channels: list[ChannelRuntime] = []
    if settings.telegram_token:
        from bot.telegram.runtime import build_telegram_channel

        channels.append(
            build_telegram_channel(
                container.desk,
                container.memory,
                token=settings.telegram_token.get_secret_value(),
                api_url=settings.telegram_api_url,
                file_url=settings.telegram_file_url,
                webhook_url=settings.telegram_webhook_url,
                webhook_secret=_secret(settings.telegram_webhook_secret),
                expert_chat_id=settings.telegram_expert_chat_id,
                max_file_bytes=int(settings.max_file_mb * 1024 * 1024),
            )
        )
    if settings.wechat_token:
        from bot.wechat.runtime import build_wechat_channel

        channels.append(
            build_wechat_channel(
                container.desk,
                container.memory,
                token=settings.wechat_token.get_secret_value(),
                aes_key=_secret(settings.wechat_aes_key),
                app_id=settings.wechat_app_id,
                app_secret=_secret(settings.wechat_app_secret),
                api_url=settings.wechat_api_url,
                wecom_robot_url=_secret(settings.wecom_robot_url),
            )
        )
    return channels


def notifiers(container: Container, channels: list[ChannelRuntime]) -> dict[str, Notifier]:
    """One notifier per channel name; console users are reached through the log."""
    from escalation.notifiers import LogNotifier

    found: dict[str, Notifier] = {Channel.CONSOLE.value: LogNotifier()}
    for channel in channels:
        found[channel.name] = channel.notifier
    return found


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None
