"""The console serves its own copy of htmx, the one VENDORED.md names (never a CDN)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import web

STATIC = Path(web.__file__).parent / "static"
TEMPLATES = Path(web.__file__).parent / "templates"
HTMX_VERSION = "2.0.11"
HTMX_SHA256 = "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717"


def test_htmx_is_the_vendored_release():
    data = (STATIC / "htmx.min.js").read_bytes()
    assert hashlib.sha256(data).hexdigest() == HTMX_SHA256
    assert f'version:"{HTMX_VERSION}"' in data.decode()
    record = (STATIC / "VENDORED.md").read_text(encoding="utf-8")
    assert HTMX_VERSION in record and HTMX_SHA256 in record


def test_no_template_loads_anything_from_another_site():
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", text), template.name
