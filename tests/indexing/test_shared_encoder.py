"""The ONNX encoder is stored once in `blobs/` and hard-linked into each build (issue 20): one
damaged in place is noticed by the next build, which stores a fresh verified copy instead of
linking the damaged one again."""

from __future__ import annotations

from bot.indexing import build_index, store
from bot.onnx_embedding import ENCODER_FILE, load_query_encoder


def test_a_damaged_shared_encoder_is_restored_by_a_full_build(make_corpus, embedder) -> None:
    settings = make_corpus({"kenya.txt": "Tea\n\nFarmers in Kenya harvested a record crop.\n"})
    build_index(settings, embedder=embedder)
    encoder = store.current_build(settings.index_dir) / ENCODER_FILE
    [blob] = (settings.index_dir / store.BLOBS).glob("*.onnx")
    assert encoder.stat().st_ino == blob.stat().st_ino  # one file, linked
    with encoder.open("r+b") as fh:  # damaged in place: the blob and every link to it
        fh.seek(encoder.stat().st_size // 2)
        byte = fh.read(1)
        fh.seek(-1, 1)
        fh.write(bytes([byte[0] ^ 0x01]))
    build_index(settings, embedder=embedder, full=True)
    build = store.current_build(settings.index_dir)
    load_query_encoder(build, store.read_manifest(settings.index_dir))  # intact again
