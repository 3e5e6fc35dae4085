"""Exporting the reference MiniLM to ONNX at index build time, for the lean query path.

Exporting needs torch; never imported on the query path. The export (model and tokenizer) is
cached by the checksum of the weights, the torch and transformers versions and
`EXPORT_VERSION` under ~/.cache/newsbot/onnx, so a rebuild copies verified files instead, and
then needs neither torch nor sentence-transformers: the build embeds with the same encoder.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import json
import os
import shutil
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bot.embedding import SentenceTransformerEmbedder, packaged_model_path
from bot.onnx_embedding import ENCODER_FILE, TOKENIZER_FILE, OnnxEmbedder, sha256_file

EXPORT_VERSION = 2  # bump whenever the export below changes what it writes
OPSET = 17
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
# Checked right after a fresh export: the file ships only if it reproduces the reference.
_PROBES = ["Who is Ryan Ding?", "Ünïcödé, 5G & £2bn — ça va?", "word " * 400, ""]
_MIN_COSINE = 0.9999


class ExportError(Exception):
    """The model could not be exported faithfully; the index is built without an ONNX encoder."""


@dataclass(frozen=True)
class QueryEncoderFiles:
    """What a build stores for the lean query path."""

    manifest: dict[str, Any]  # the index manifest's `query_encoder` entry
    files: dict[str, Path]  # name inside the build -> file to copy there


def cache_dir() -> Path:
    """Where exported encoders are kept between builds ($XDG_CACHE_HOME or ~/.cache)."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "newsbot" / "onnx"


def prepare_query_encoder(
    embedder: SentenceTransformerEmbedder | None, scratch: Path
) -> QueryEncoderFiles:
    """ONNX model and tokenizer for the packaged MiniLM (or `embedder`'s weights): copied from
    the cache if verified, else exported now.

    A cached export needs no torch and no sentence-transformers; a fresh one loads `embedder`
    (the reference model when None). Files are written to `scratch`. Raises `ExportError`.
    """
    started = time.perf_counter()
    model = scratch / ENCODER_FILE
    tokenizer = scratch / TOKENIZER_FILE
    try:
        model_path = embedder.model_path if embedder is not None else packaged_model_path()
        torch_version = importlib.metadata.version("torch")
        key = _cache_key(model_path, torch_version)
        cached = _copy_from_cache(key, model, tokenizer)
        if cached is None:
            if embedder is None:
                embedder = SentenceTransformerEmbedder(model_path)
            _check_pipeline(embedder)
            _save_tokenizer(embedder, tokenizer)
            _export(embedder, model)
            _check_parity(embedder, model, tokenizer)
            cached = {
                "sha256": sha256_file(model),
                "tokenizer_sha256": sha256_file(tokenizer),
                "max_seq_length": int(embedder.model.max_seq_length),
                "dimension": int(embedder.dimension),
            }
            _store_in_cache(key, model, tokenizer, cached)
    except ExportError:
        raise
    except Exception as exc:  # the exporter raises many kinds; any of them means no encoder
        raise ExportError(f"ONNX export failed ({type(exc).__name__}: {exc})") from None
    manifest = {
        "runtime": "onnxruntime",
        "model": {"file": ENCODER_FILE, "sha256": cached["sha256"]},
        "tokenizer": {"file": TOKENIZER_FILE, "sha256": cached["tokenizer_sha256"]},
        "max_seq_length": cached["max_seq_length"],
        "dimension": cached["dimension"],
        "pooling": "mean",
        "exporter": f"torch {torch_version} torchscript opset {OPSET} v{EXPORT_VERSION}",
        "cache_key": key,
        "from_cache": cached.get("from_cache", False),
        "seconds": round(time.perf_counter() - started, 3),
    }
    return QueryEncoderFiles(manifest, {ENCODER_FILE: model, TOKENIZER_FILE: tokenizer})


def _check_pipeline(embedder: SentenceTransformerEmbedder) -> None:
    """Only Transformer -> mean Pooling -> Normalize is reproduced by `OnnxEmbedder`."""
    modules = list(embedder.model)
    kinds = [type(module).__name__ for module in modules]
    if kinds != ["Transformer", "Pooling", "Normalize"]:
        raise ExportError(f"cannot export a {' -> '.join(kinds)} pipeline")
    pooling = modules[1].get_config_dict()
    # sentence-transformers >= 6 says "pooling_mode"; older versions one flag per mode.
    other_modes = ("cls_token", "max_tokens", "mean_sqrt_len_tokens")
    mean = pooling.get("pooling_mode") == "mean" or (
        pooling.get("pooling_mode_mean_tokens") is True
        and not any(pooling.get(f"pooling_mode_{mode}") for mode in other_modes)
    )
    if not mean:
        raise ExportError(f"cannot export pooling {pooling}")
    if getattr(modules[0], "do_lower_case", False):
        raise ExportError("cannot export a model that lower-cases outside its tokenizer")


def _cache_key(model_path: Path, torch_version: str) -> str:
    """The weights' checksums, the torch and transformers versions, and the export's own."""
    digest = hashlib.sha256(f"{EXPORT_VERSION}|{OPSET}|{torch_version}".encode())
    with contextlib.suppress(importlib.metadata.PackageNotFoundError):
        digest.update(importlib.metadata.version("transformers").encode())
    for path in sorted(p for p in model_path.rglob("*") if p.is_file()):
        digest.update(f"{path.relative_to(model_path)}|{sha256_file(path)}".encode())
    return digest.hexdigest()[:32]


def _save_tokenizer(embedder: SentenceTransformerEmbedder, target: Path) -> None:
    """The tokenizer sentence-transformers uses, set to truncate and pad as it does."""
    from tokenizers import Tokenizer

    hf_tokenizer = embedder.model.tokenizer
    tokenizer = Tokenizer.from_str(hf_tokenizer.backend_tokenizer.to_str())
    tokenizer.enable_truncation(int(embedder.model.max_seq_length))
    tokenizer.enable_padding(
        pad_id=int(hf_tokenizer.pad_token_id), pad_token=str(hf_tokenizer.pad_token)
    )
    tokenizer.save(str(target))


def _export(embedder: SentenceTransformerEmbedder, target: Path) -> None:
    import torch

    transformer = embedder.model[0].auto_model.eval()

    class LastHiddenState(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.transformer(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    # Trace with a padded row, so the attention mask is part of the graph.
    ids = torch.tensor([[101, 2040, 2003, 102], [101, 102, 0, 0]])
    mask = (ids != 0).long()
    dynamic = {name: {0: "batch", 1: "tokens"} for name in (*_INPUTS, "last_hidden_state")}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            LastHiddenState(),
            (ids, mask, torch.zeros_like(ids)),
            str(target),
            dynamo=False,  # the TorchScript exporter needs no extra packages and takes ~2 s
            input_names=list(_INPUTS),
            output_names=["last_hidden_state"],
            dynamic_axes=dynamic,
            opset_version=OPSET,
        )


def _check_parity(embedder: SentenceTransformerEmbedder, model: Path, tokenizer: Path) -> None:
    onnx = OnnxEmbedder(model, tokenizer, embedder.dimension).encode(_PROBES)
    reference = embedder.encode(_PROBES)
    worst = float(np.min(np.sum(onnx * reference, axis=1)))
    if worst < _MIN_COSINE:
        raise ExportError(
            f"the exported model disagrees with sentence-transformers (cosine {worst:.5f})"
        )


def _copy_from_cache(key: str, model: Path, tokenizer: Path) -> dict[str, Any] | None:
    """Copy the cached export for `key`; its record if both copies are intact, else None."""
    try:
        record = json.loads((cache_dir() / f"{key}.json").read_text(encoding="utf-8"))
        shutil.copyfile(cache_dir() / f"{key}.onnx", model)
        shutil.copyfile(cache_dir() / f"{key}.tokenizer.json", tokenizer)
        intact = (
            sha256_file(model) == record["sha256"]
            and sha256_file(tokenizer) == record["tokenizer_sha256"]
        )
        record["max_seq_length"] = int(record["max_seq_length"])
        record["dimension"] = int(record["dimension"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return {**record, "from_cache": True} if intact else None


def _store_in_cache(key: str, model: Path, tokenizer: Path, record: dict[str, Any]) -> None:
    """Best effort: an unwritable cache only means the next build exports again."""
    directory = cache_dir()
    partial = directory / f".{key}.{os.getpid()}.tmp"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for source, name in ((model, f"{key}.onnx"), (tokenizer, f"{key}.tokenizer.json")):
            shutil.copyfile(source, partial)
            os.replace(partial, directory / name)
        partial.write_text(json.dumps(record), encoding="utf-8")
        os.replace(partial, directory / f"{key}.json")  # last: the entry is complete
    except OSError:
        with contextlib.suppress(OSError):
            partial.unlink()
