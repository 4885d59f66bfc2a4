"""The expert screens of the console: the queue, a ticket (draft, clauses, notes, reply
editor, delivery), FAQ review and the signed-in person's page — one module each, sharing
``web.expert.common``.

Each handler checks the session, makes one or two desk calls (which check the role again) and
renders a page or, for htmx, a part of one.
"""

from __future__ import annotations

from starlette.routing import Route

from web.expert.account import account, set_password
from web.expert.faq import faq_edit, faq_keep, faq_review, faq_withdraw
from web.expert.queue import claim, queue, reassign, release
from web.expert.ticket import (
    add_note,
    answer,
    delivery,
    insert,
    preview,
    publish,
    search,
    ticket_page,
)


def routes() -> list[Route]:
    return [
        Route("/account", account, methods=["GET"]),
        Route("/account/password", set_password, methods=["POST"]),
        Route("/queue", queue, methods=["GET"]),
        Route("/tickets/{ticket_id:int}", ticket_page, methods=["GET"]),
        Route("/tickets/{ticket_id:int}/delivery", delivery, methods=["GET"]),
        Route("/tickets/{ticket_id:int}/search", search, methods=["GET"]),
        Route("/tickets/{ticket_id:int}/claim", claim, methods=["POST"]),
        Route("/tickets/{ticket_id:int}/release", release, methods=["POST"]),
        Route("/tickets/{ticket_id:int}/reassign", reassign, methods=["POST"]),
        Route("/tickets/{ticket_id:int}/answer", answer, methods=["POST"]),
        Route("/tickets/{ticket_id:int}/preview", preview, methods=["POST"]),
        Route("/tickets/{ticket_id:int}/insert", insert, methods=["POST"]),
        Route("/tickets/{ticket_id:int}/publish", publish, methods=["POST"]),
        Route("/tickets/{ticket_id:int}/notes", add_note, methods=["POST"]),
        Route("/faq", faq_review, methods=["GET"]),
        Route("/faq/{faq_id}/keep", faq_keep, methods=["POST"]),
        Route("/faq/{faq_id}/withdraw", faq_withdraw, methods=["POST"]),
        Route("/faq/{faq_id}/edit", faq_edit, methods=["POST"]),
    ]
