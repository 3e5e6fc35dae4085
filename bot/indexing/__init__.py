"""From corpus files to a published index: reading, splitting, chunking, embedding, storing.

`build.py` runs the pipeline; `corpus.py` reads documents, `segment.py` finds paragraphs and
sentences by exact offsets, `chunking.py` groups sentences into passages, and `store.py`
writes and loads builds atomically.
"""

from bot.indexing.build import (
    BuildReport,
    IndexStatus,
    Progress,
    build_index,
    corpus_changes,
    index_status,
)

__all__ = [
    "BuildReport",
    "IndexStatus",
    "Progress",
    "build_index",
    "corpus_changes",
    "index_status",
]
