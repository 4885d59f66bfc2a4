"""The one error tree of qadesk.

Every error the desk raises on purpose derives from :class:`QadeskError`. Each carries a
stable ``code`` (used to look up the Chinese user text in ``prompts/``, and shown to admins)
and an English ``detail`` for logs and admin output. User-facing text is never built here:
channels translate an error to Chinese at the edge with ``prompts.messages.error_text``.

    QadeskError
    ├── ConfigurationError          settings are missing or unsafe; the desk refuses to start
    ├── IngestError                 a file could not become a document (names the file)
    │   ├── UnsupportedFormat       unknown file type
    │   ├── FileTooLarge            over the configured size limit
    │   ├── UnreadableFile          corrupt, binary, encrypted, zip bomb, undecodable
    │   └── EmptyDocument           nothing left after cleaning (e.g. scanned PDF)
    ├── KnowledgeError              the library or its indexes
    │   ├── ModelMismatch           the index was built with another embedding model
    │   └── DocumentNotFound
    ├── EscalationError             tickets, experts, the outbox
    │   ├── TicketNotFound
    │   ├── FaqNotFound             no expert FAQ entry with that id
    │   ├── PersonNotFound          no expert or admin with that account
    │   ├── NotPermitted            the caller lacks the role (expert/admin) or is not the asker
    │   ├── AlreadyClaimed          someone else holds the ticket (``holder`` says who)
    │   ├── InvalidTransition       e.g. answering a closed ticket
    │   └── StoreUnavailable        the database could not be reached, even after retries
    ├── DeliveryError               a notifier did not deliver; retry later (``retry_after``)
    │   ├── PermanentDeliveryError  never retry (user blocked the bot, window closed for good)
    │   └── UncertainDelivery       the platform may have delivered it: never send it again
    └── InvalidQuestion             empty, too long or not text
"""

from __future__ import annotations


class QadeskError(Exception):
    """Base of every error qadesk raises on purpose."""

    code = "error"

    def __init__(self, detail: str = "", **context: object) -> None:
        self.detail = detail or self.__class__.__name__
        self.context = context
        super().__init__(self.detail)


class ConfigurationError(QadeskError):
    code = "configuration"


class IngestError(QadeskError):
    code = "ingest"

    def __init__(self, file: str, detail: str, **context: object) -> None:
        self.file = file
        super().__init__(f"{file}: {detail}", **context)


class UnsupportedFormat(IngestError):
    code = "unsupported_format"


class FileTooLarge(IngestError):
    code = "file_too_large"


class UnreadableFile(IngestError):
    code = "unreadable_file"


class EmptyDocument(IngestError):
    code = "empty_document"


class KnowledgeError(QadeskError):
    code = "knowledge"


class ModelMismatch(KnowledgeError):
    code = "model_mismatch"


class DocumentNotFound(KnowledgeError):
    code = "document_not_found"


class EscalationError(QadeskError):
    code = "escalation"


class TicketNotFound(EscalationError):
    code = "ticket_not_found"


class FaqNotFound(EscalationError):
    code = "faq_not_found"


class PersonNotFound(EscalationError):
    code = "person_not_found"


class NotPermitted(EscalationError):
    code = "not_permitted"


class AlreadyClaimed(EscalationError):
    code = "already_claimed"

    def __init__(self, detail: str = "", holder: str | None = None, **context: object) -> None:
        self.holder = holder
        super().__init__(detail, **context)


class InvalidTransition(EscalationError):
    code = "invalid_transition"


class StoreUnavailable(EscalationError):
    """The database did not answer (connection lost, server down, SQLite locked) after the
    store's retries; nothing of the unit of work was written."""

    code = "store_unavailable"


class DeliveryError(QadeskError):
    """Nothing (or only ``progress``: the parts of a long text that went out, as the channel
    names them) reached the recipient; the outbox tries again, not before ``retry_after``
    seconds when the platform said how long to wait (Telegram's 429)."""

    code = "delivery"

    def __init__(
        self,
        detail: str = "",
        retry_after: float | None = None,
        progress: str = "",
        **context: object,
    ) -> None:
        self.retry_after = retry_after
        self.progress = progress
        super().__init__(detail, **context)


class PermanentDeliveryError(DeliveryError):
    code = "delivery_permanent"


class UncertainDelivery(DeliveryError):
    """The request reached the platform but its answer did not reach us (a read timeout, a
    connection dropped mid-response): the message may be at the recipient already."""

    code = "delivery_uncertain"


class InvalidQuestion(QadeskError):
    code = "invalid_question"


class LoginRefused(QadeskError):
    """A console sign-in was refused; ``reason`` is one of ``invalid``, ``expired``, ``used``,
    ``not_staff``, ``rate_limited``, ``wrong_password``, ``disabled``."""

    code = "login_refused"

    def __init__(self, reason: str, detail: str = "", **context: object) -> None:
        self.reason = reason
        super().__init__(detail or f"login refused: {reason}", **context)
