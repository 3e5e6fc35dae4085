"""What a build is in Milvus: its collections, their fields, and how terms are spelled there.

A build named B (`<milvus_collection>__<fingerprint>`) is three collections:

- `B`: one row per passage (chunk): its dense vector, its text and offsets, its document's
  title, outlet, date and path, the sentences the reader needs (those of the passage and the
  one on each side), and its BM25 terms, which Milvus turns into a sparse vector itself;
- `B_docs`: one row per document (its SHA-256: what incremental builds compare), written
  after all of the document's passages (so a row here means the document is complete), plus
  the build's manifest;
- `B_terms`: every BM25 term with its document frequency over passages (what answering's
  IDF weights and its "the corpus never mentions X" check need), written when it is published.

The alias `<milvus_collection>` names the build that serves; publishing moves it atomically.
"""

from __future__ import annotations

import hashlib
from typing import Any

MANIFEST_ROW = "\x01manifest"  # the key of the manifest's row in B_docs (no path starts so)
DOCS = "_docs"
TERMS = "_terms"
MAX_TEXT_BYTES = 65535  # Milvus's VARCHAR limit
# bm25s's parameters (Lucene's BM25): Milvus's BM25 scores are then bm25s's times (k1 + 1).
BM25_K1 = 1.5
BM25_B = 0.75
_DUMMY_DIM = 2  # Milvus wants a vector field in every collection; these tables have none


def encode_term(term: str) -> str:
    """A stemmed term as one token of Milvus's standard tokenizer (which splits on anything
    but letters and digits): a-z, 0-9 and w stay, any other character becomes x plus its code
    point in 6 hex digits. One-to-one, and a prefix of a term encodes to a prefix."""
    return "".join(
        c if ("a" <= c <= "w" or c in "yz" or "0" <= c <= "9") else f"x{ord(c):06x}" for c in term
    )


def decode_term(token: str) -> str:
    out, i = [], 0
    while i < len(token):
        if token[i] == "x":
            out.append(chr(int(token[i + 1 : i + 7], 16)))
            i += 7
        else:
            out.append(token[i])
            i += 1
    return "".join(out)


def doc_key(doc_id: str) -> str:
    return hashlib.blake2b(doc_id.encode("utf-8"), digest_size=10).hexdigest()


def shard_of(doc_id: str, shards: int) -> int:
    """Which of `shards` workers embeds a document (0-based): stable, whatever else changes."""
    digest = hashlib.blake2b(doc_id.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % shards


def chunk_schema(dimension: int) -> Any:
    from pymilvus import DataType, Function, FunctionType, MilvusClient

    schema = MilvusClient.create_schema(auto_id=False)
    schema.add_field("pk", DataType.VARCHAR, is_primary=True, max_length=64)
    schema.add_field("doc_id", DataType.VARCHAR, max_length=4096)
    schema.add_field("seq", DataType.INT64)  # the passage's number in its document
    schema.add_field("paragraph", DataType.INT64)
    schema.add_field("start", DataType.INT64)
    schema.add_field("end", DataType.INT64)
    schema.add_field("text", DataType.VARCHAR, max_length=MAX_TEXT_BYTES)
    schema.add_field(
        "terms",
        DataType.VARCHAR,
        max_length=MAX_TEXT_BYTES,
        enable_analyzer=True,
        enable_match=True,
        analyzer_params={"tokenizer": "standard"},
    )
    schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dimension)
    schema.add_field("published", DataType.VARCHAR, max_length=64)
    schema.add_field("source", DataType.VARCHAR, max_length=1024)
    schema.add_field("doc", DataType.JSON)  # title, url, path, sha256
    schema.add_field("sentences", DataType.JSON)  # see build._chunk_rows
    schema.add_function(
        Function(
            name="bm25",
            function_type=FunctionType.BM25,
            input_field_names=["terms"],
            output_field_names=["sparse"],
        )
    )
    return schema


def chunk_index_params(client: Any) -> Any:
    params = client.prepare_index_params()
    # Exact inner product, as the FAISS store below hnsw_min_chunks; a cluster would use HNSW.
    params.add_index("vector", index_type="FLAT", metric_type="IP")
    params.add_index(
        "sparse",
        index_type="SPARSE_INVERTED_INDEX",
        metric_type="BM25",
        params={"bm25_k1": BM25_K1, "bm25_b": BM25_B},
    )
    return params


def table_schema(key_length: int, fields: dict[str, str]) -> Any:
    """A small keyed table (`fields`: name -> "int" | "text" | "json")."""
    from pymilvus import DataType, MilvusClient

    schema = MilvusClient.create_schema(auto_id=False)
    schema.add_field("pk", DataType.VARCHAR, is_primary=True, max_length=key_length)
    for name, kind in fields.items():
        if kind == "int":
            schema.add_field(name, DataType.INT64)
        elif kind == "text":
            schema.add_field(name, DataType.VARCHAR, max_length=4096)
        else:
            schema.add_field(name, DataType.JSON)
    schema.add_field("v", DataType.FLOAT_VECTOR, dim=_DUMMY_DIM)
    return schema


def table_index_params(client: Any) -> Any:
    params = client.prepare_index_params()
    params.add_index("v", index_type="FLAT", metric_type="L2")
    return params


DUMMY_VECTOR = [0.0] * _DUMMY_DIM
DOC_FIELDS = {"sha256": "text", "chunks": "int", "sentences": "int", "meta": "json"}
TERM_FIELDS = {"df": "int"}
