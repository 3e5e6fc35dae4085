"""Split the crowded-corpus questions into a dev set and a held-out test set.

    .venv/bin/python scripts/split_crowded.py [--seed 16] [--pool FILE]

The pool is every question of tests/data/crowded_dev.jsonl and tests/data/crowded_test.jsonl
together (or of `--pool`, one JSON object a line), so running the script again after adding
questions to either file re-splits the whole set the same way for the same pool and seed.

The split is about half and half, balanced by kind and by article: the questions are taken in
a seeded random order, grouped by the article holding their answer (unanswerable questions
form one group), and each goes to the split that has fewer questions of its kind so far, then
fewer of its article, then fewer in all; a seeded coin breaks a full tie. Tune only on dev.
"""

from __future__ import annotations

import argparse
import json
import random
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEV = REPO / "tests/data/crowded_dev.jsonl"
TEST = REPO / "tests/data/crowded_test.jsonl"


def read_pool(paths: list[Path]) -> list[dict]:
    """Every question of `paths`, in file order, without duplicates."""
    seen: set[str] = set()
    pool = []
    for path in paths:
        if not path.exists():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                entry = json.loads(line)
                if entry["question"] not in seen:
                    seen.add(entry["question"])
                    pool.append(entry)
    return pool


def split(pool: list[dict], seed: int) -> tuple[list[dict], list[dict]]:
    """(dev, test): about half each, balanced by kind and by article."""
    rng = random.Random(seed)
    entries = sorted(pool, key=lambda e: e["question"])
    rng.shuffle(entries)
    groups: dict[str, list[dict]] = {}
    for entry in entries:
        groups.setdefault(entry.get("doc", ""), []).append(entry)
    order = sorted(groups)
    rng.shuffle(order)
    sides: tuple[list[dict], list[dict]] = ([], [])
    kinds = (Counter(), Counter())
    docs = (Counter(), Counter())
    for doc in order:
        for entry in groups[doc]:
            kind = entry.get("kind", "")

            def load(i: int, kind: str = kind, doc: str = doc) -> tuple[int, int, int]:
                return kinds[i][kind], docs[i][doc], len(sides[i])

            i = 0 if load(0) < load(1) else 1 if load(1) < load(0) else rng.randrange(2)
            sides[i].append(entry)
            kinds[i][kind] += 1
            docs[i][doc] += 1
    return sides


def write(path: Path, entries: list[dict]) -> None:
    lines = [json.dumps(e, ensure_ascii=False) for e in entries]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--pool", type=Path, help="read the questions from this file instead")
    args = parser.parse_args()
    pool = read_pool([args.pool] if args.pool else [DEV, TEST])
    dev, test = split(pool, args.seed)
    write(DEV, dev)
    write(TEST, test)
    for name, entries in (("dev", dev), ("test", test)):
        kinds = Counter(e.get("kind", "") for e in entries)
        print(
            f"{name}: {len(entries)} questions; "
            + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
        )


if __name__ == "__main__":
    main()
