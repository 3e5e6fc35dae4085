"""Exporting the reference MiniLM to ONNX at index build time, for the lean query path.

Needs torch (the build loads sentence-transformers anyway); never imported on the query path.
The export is cached by the checksum of the weights, the torch version and `EXPORT_VERSION`
under ~/.cache/newsbot/onnx, so a rebuild copies a verified file instead of re-exporting.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bot.embedding import SentenceTransformerEmbedder
from bot.onnx_embedding import ENCODER_FILE, TOKENIZER_FILE, OnnxEmbedder, sha256_file

EXPORT_VERSION = 1  # bump whenever the export below changes what it writes
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
    embedder: SentenceTransformerEmbedder, scratch: Path
) -> QueryEncoderFiles:
    """ONNX model and tokenizer for `embedder`'s weights: cached if verified, else exported now.

    Files that must be written are written to `scratch`. Raises `ExportError`.
    """
    started = time.perf_counter()
    model = scratch / ENCODER_FILE
    tokenizer = scratch / TOKENIZER_FILE
    try:
        import torch

        _check_pipeline(embedder)
        key = _cache_key(embedder, torch.__version__)
        _save_tokenizer(embedder, tokenizer)
        model_sha256 = _copy_from_cache(key, model)
        from_cache = model_sha256 is not None
        if model_sha256 is None:
            _export(embedder, model)
            _check_parity(embedder, model, tokenizer)
            model_sha256 = sha256_file(model)
            _store_in_cache(key, model, model_sha256)
    except ExportError:
        raise
    except Exception as exc:  # the exporter raises many kinds; any of them means no encoder
        raise ExportError(f"ONNX export failed ({type(exc).__name__}: {exc})") from None
    manifest = {
        "runtime": "onnxruntime",
        "model": {"file": ENCODER_FILE, "sha256": model_sha256},
        "tokenizer": {"file": TOKENIZER_FILE, "sha256": sha256_file(tokenizer)},
        "max_seq_length": int(embedder.model.max_seq_length),
        "pooling": "mean",
        "exporter": f"torch {torch.__version__} torchscript opset {OPSET} v{EXPORT_VERSION}",
        "cache_key": key,
        "from_cache": from_cache,
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


def _cache_key(embedder: SentenceTransformerEmbedder, torch_version: str) -> str:
    digest = hashlib.sha256(f"{EXPORT_VERSION}|{OPSET}|{torch_version}".encode())
    for path in sorted(p for p in embedder.model_path.rglob("*") if p.is_file()):
        digest.update(f"{path.relative_to(embedder.model_path)}|{sha256_file(path)}".encode())
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


def _copy_from_cache(key: str, target: Path) -> str | None:
    """Copy the cached export for `key` to `target`; its SHA-256 if the copy is intact, else None."""
    try:
        recorded = json.loads((cache_dir() / f"{key}.json").read_text(encoding="utf-8"))["sha256"]
        shutil.copyfile(cache_dir() / f"{key}.onnx", target)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return recorded if sha256_file(target) == recorded else None


def _store_in_cache(key: str, model: Path, sha256: str) -> None:
    """Best effort: an unwritable cache only means the next build exports again."""
    directory = cache_dir()
    partial = directory / f".{key}.{os.getpid()}.tmp"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(model, partial)
        os.replace(partial, directory / f"{key}.onnx")
        partial.write_text(json.dumps({"sha256": sha256}), encoding="utf-8")
        os.replace(partial, directory / f"{key}.json")
    except OSError:
        with contextlib.suppress(OSError):
            partial.unlink()
