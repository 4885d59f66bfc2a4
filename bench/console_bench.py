"""The web console's queue page with many open tickets: how long it takes to render.

    .venv/bin/python -m bench.console_bench [--tickets 1000] [--runs 60] [--out FILE]

The desk service on a SQLite file in a temporary directory (the desk tests' knowledge base:
nothing here depends on retrieval) gets ``--tickets`` open tickets from as many askers; an
expert signs in with a login link and the console (``web.app.build_console``, behind the same
middleware as in ``qadesk serve``) renders ``/console/queue`` ``--runs`` times, the whole page
and the partial the page polls for. Time is measured per request through the ASGI app (session
check, the desk's query, the template), not the network. Target: p95 under 200 ms.
"""

from __future__ import annotations

import argparse
import re
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient

from bench.common import emit, machine, ms_percentiles, peak_rss_mb
from core.people import Channel, UserRef
from desk.console_access import ConsoleLinks
from desk.service import Desk
from escalation.store import EscalationStore
from tests.fakes.knowledge import FakeIngest, FakeKnowledge
from web.app import ConsoleConfig, build_console

SECRET = "bench-console-secret-0123456789abcdef"
EXPERT = UserRef(Channel.TELEGRAM, "2001", "2001", "王工")
QUESTION = "我们厂的情况比较特殊，这批货的检验报告该找谁出具？请专家看看（{i}号）"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        store = EscalationStore.open(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")
        store.seed_roles(experts=[EXPERT.key])
        kb = FakeKnowledge()
        links = ConsoleLinks(SECRET, "http://testserver/console", timedelta(minutes=10))
        desk = Desk(kb, store, FakeIngest(kb), console_links=links)
        started = time.perf_counter()
        for i in range(args.tickets):
            asker = UserRef(Channel.TELEGRAM if i % 3 else Channel.WECHAT, f"a{i}", f"a{i}", "老板")
            desk.escalate(asker, desk.ask(asker, QUESTION.format(i=i)).interaction_id)
        fill_s = time.perf_counter() - started
        open_tickets = len(desk.queue(EXPERT))
        app = Starlette(routes=[Mount("/console", app=build_console(desk, ConsoleConfig(SECRET)))])
        with TestClient(app) as client:
            page = client.get(desk.console_link(EXPERT).removeprefix("http://testserver"))
            token = re.search(r'name="token" value="([^"]+)"', page.text)
            assert token, page.text
            client.post("/console/login", data={"token": token.group(1)})
            full, partial, size = [], [], 0
            for _ in range(args.runs):
                t0 = time.perf_counter()
                response = client.get("/console/queue")
                full.append(time.perf_counter() - t0)
                assert response.status_code == 200 and f"共 {open_tickets} 个工单" in response.text
                size = len(response.content)
                t0 = time.perf_counter()
                response = client.get(
                    "/console/queue", headers={"HX-Request": "true", "HX-Target": "queue-rows"}
                )
                partial.append(time.perf_counter() - t0)
                assert response.status_code == 200
        store.close()
    result = {
        "bench": "console",
        "open_tickets": open_tickets,
        "runs": args.runs,
        **ms_percentiles(full, "page_"),
        **ms_percentiles(partial, "refresh_"),
        "page_kb": round(size / 1024),
        "fill_s": round(fill_s, 1),
        "target_p95_ms": 200,
        "peak_rss_mb": peak_rss_mb(),
        **machine(),
    }
    rows = [
        ("open tickets", open_tickets),
        (
            "queue page p50 / p95 / max",
            f"{result['page_p50_ms']} / {result['page_p95_ms']} / {result['page_max_ms']} ms",
        ),
        (
            "refresh partial p50 / p95",
            f"{result['refresh_p50_ms']} / {result['refresh_p95_ms']} ms",
        ),
        ("page size", f"{result['page_kb']} KB"),
        ("target p95", "200 ms"),
    ]
    emit(result, rows, args.out)
    return 0 if (result["page_p95_ms"] or 0) < 200 else 1


if __name__ == "__main__":
    raise SystemExit(main())
