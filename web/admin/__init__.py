"""The admin screens of the console: 文档库 (upload with a preview, confirm, replace, remove),
提问记录 (filters, a ticket from a row), 统计 (SVG charts, CSV), 人员 and 审计日志 — one module
each, sharing ``web.admin.common``.

Each handler checks the session (admins only, else 403), makes one or two desk calls (which
check the role again) and renders a page or, for htmx, a part of one.
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from web import document_status
from web.admin.common import MOUNTED_AT
from web.admin.library import (
    confirm_upload,
    library_page,
    preview_upload,
    remove,
    remove_page,
    replace_page,
)
from web.admin.people import audit, people_page, revoke, set_role
from web.admin.questions import open_ticket, questions_page
from web.admin.statistics import stats_csv, stats_page


def routes() -> list[BaseRoute]:
    return [
        Route(MOUNTED_AT + "/library", library_page, methods=["GET"]),
        Route(MOUNTED_AT + "/library/preview", preview_upload, methods=["POST"]),
        Route(MOUNTED_AT + "/library/confirm", confirm_upload, methods=["POST"]),
        Route(MOUNTED_AT + "/library/{doc_id}/replace", replace_page, methods=["GET"]),
        Route(MOUNTED_AT + "/library/{doc_id}/remove", remove_page, methods=["GET"]),
        Route(MOUNTED_AT + "/library/{doc_id}/remove", remove, methods=["POST"]),
        Route(MOUNTED_AT + "/questions", questions_page, methods=["GET"]),
        Route(MOUNTED_AT + "/questions/{interaction_id:int}/ticket", open_ticket, methods=["POST"]),
        Route(MOUNTED_AT + "/stats", stats_page, methods=["GET"]),
        Route(MOUNTED_AT + "/stats.csv", stats_csv, methods=["GET"]),
        Route(MOUNTED_AT + "/people", people_page, methods=["GET"]),
        Route(MOUNTED_AT + "/people", set_role, methods=["POST"]),
        Route(MOUNTED_AT + "/people/revoke", revoke, methods=["POST"]),
        Route(MOUNTED_AT + "/audit", audit, methods=["GET"]),
        *document_status.routes(MOUNTED_AT),
    ]
