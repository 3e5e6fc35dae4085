"""Settings: one typed object, read from defaults, an optional TOML file and env vars."""

from __future__ import annotations

import dataclasses
import math
import os
import re
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from bot.errors import ConfigError

ENV_PREFIX = "NEWSBOT_"
SECRETS = frozenset({"milvus_token"})  # settings never written to an index manifest
STORES = ("faiss", "milvus")
CONFIG_FILE_NAME = "newsbot.toml"


def project_root() -> Path:
    """The checkout this package runs from, or the current directory when installed elsewhere."""
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "pyproject.toml").is_file() and (checkout / "corpus").is_dir():
        return checkout
    return Path.cwd()


@dataclass(frozen=True)
class Settings:
    """Everything that shapes an index or an answer. Saved next to the index as JSON."""

    corpus_dir: Path = field(default_factory=lambda: project_root() / "corpus")
    index_dir: Path = field(default_factory=lambda: project_root() / "index")
    # Chunking: a chunk is a window of whole sentences inside one paragraph.
    chunk_sentences: int = 3
    chunk_overlap: int = 1
    chunk_max_chars: int = 900
    # Retrieval and answering.
    retriever: str = "hybrid"
    top_k: int = 3
    candidates: int = 20
    # The answer's calibrated confidence. scripts/calibrate_reader.py allows up to 0.18; 0.16
    # keeps false abstentions on the crowded news dev set at 5 of 85 (7 at 0.18).
    min_confidence: float = 0.16
    max_question_chars: int = 500
    embed_batch_size: int = 32
    # Dense search is exact (FAISS flat) below this many chunks, HNSW from here on (0: always
    # exact); chosen from scripts/bench_scale.py, see docs/benchmarks.md.
    hnsw_min_chunks: int = 100_000
    # Telegram front end: questions one user may ask per minute (0: no limit), and the chat
    # ids it answers in (empty: every chat); env NEWSBOT_ALLOWED_CHATS is comma-separated.
    user_questions_per_minute: int = 10
    allowed_chats: tuple[int, ...] = ()
    # Telegram /start: the example questions to suggest (each is still asked at start-up and
    # left out unless answered confidently); empty: found in the corpus. Env: "|"-separated.
    start_examples: tuple[str, ...] = ()
    # Telegram: a conversation (follow-ups read with the question before them) ends after this
    # many minutes without a question; 0: every question is asked on its own.
    conversation_minutes: int = 30
    # Corpus files that are symbolic links to files outside the corpus directory are skipped
    # with a warning unless this is true (linked directories are never followed).
    follow_symlinks: bool = False
    # Web pages and feeds: seconds to wait for a server, and how often `newsbot telegram` runs
    # `feeds update` (e.g. "30m", "2h"; empty: never).
    fetch_timeout: float = 20.0
    feeds_refresh: str = ""
    # Where the index lives: "faiss" (files under index_dir) or "milvus" (see docs/scaling.md).
    store: str = "faiss"
    # Milvus: a path is Milvus Lite embedded (one process); http://host:port is a server.
    # Empty: index_dir/milvus.db.
    milvus_uri: str = ""
    milvus_token: str = ""  # "user:password" or an API key; never saved with the index
    milvus_collection: str = "newsbot"  # the alias that serves; builds are collections under it

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (paths as strings)."""
        return {
            f.name: _jsonable(getattr(self, f.name)) for f in fields(self) if f.name not in SECRETS
        }

    def replace(self, **changes: Any) -> Settings:
        """A copy with the non-None `changes` applied."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})

    @property
    def milvus_address(self) -> str:
        """`milvus_uri`, or the embedded Milvus Lite file under `index_dir` when it is empty."""
        return self.milvus_uri or str(self.index_dir / "milvus.db")

    @property
    def milvus_shown(self) -> str:
        """`milvus_address` as messages show it: a password in it masked."""
        return without_password(self.milvus_address)

    @property
    def chunking(self) -> dict[str, int]:
        """The settings that decide the chunks; an index built with others must be rebuilt."""
        return {
            "chunk_sentences": self.chunk_sentences,
            "chunk_overlap": self.chunk_overlap,
            "chunk_max_chars": self.chunk_max_chars,
        }


_PASSWORD_IN_URI = re.compile(r"(\w+://[^/\s:@]*:)[^/\s@]*@")


def without_password(text: str) -> str:
    """`text` with the password of any URI in it ("http://user:secret@host") masked."""
    return _PASSWORD_IN_URI.sub(r"\1***@", text)


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Defaults, then the TOML file (`NEWSBOT_CONFIG` or ./newsbot.toml), then env vars, then overrides."""
    values: dict[str, Any] = {}
    path = config_file or _config_path_from_env()
    if path is not None:
        values.update(_read_toml(path))
    values.update(_read_env())
    values.update({k: v for k, v in overrides.items() if v is not None})
    return _coerce(values)


def _config_path_from_env() -> Path | None:
    if env_path := os.environ.get(ENV_PREFIX + "CONFIG"):
        return Path(env_path)
    local = Path.cwd() / CONFIG_FILE_NAME
    return local if local.is_file() else None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        # A byte-order mark (Notepad's UTF-8 default) is not TOML, but is no reason to refuse.
        data = tomllib.loads(path.read_bytes().decode("utf-8-sig"))
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except IsADirectoryError:
        raise ConfigError(
            f"config file {path} is a directory; point NEWSBOT_CONFIG at a file"
        ) from None
    except OSError as exc:
        reason = (exc.strerror or type(exc).__name__).lower()
        raise ConfigError(f"cannot read config file {path} ({reason})") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"config file {path} is not UTF-8 text (byte {exc.start + 1}); save it as UTF-8"
        ) from None
    except RecursionError:
        raise ConfigError(f"config file {path} is nested too deeply to be settings") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    # Accept both a flat file and one with a [newsbot] table.
    table = data.get("newsbot", data)
    if not isinstance(table, dict):
        raise ConfigError(
            f"config file {path}: 'newsbot' must be a table ([newsbot] followed by settings), "
            f"not a {type(table).__name__}"
        )
    return dict(table)


def _read_env() -> dict[str, str]:
    names = {f.name for f in fields(Settings)}
    found = {}
    for name in names:
        value = os.environ.get(ENV_PREFIX + name.upper())
        if value:
            found[name] = value
    # The short names the README documents.
    for short, name in (("CORPUS", "corpus_dir"), ("INDEX", "index_dir")):
        if value := os.environ.get(ENV_PREFIX + short):
            found[name] = value
    return found


def _coerce(values: dict[str, Any]) -> Settings:
    kinds = {f.name: f for f in fields(Settings)}
    defaults = Settings()
    typed: dict[str, Any] = {}
    for name, raw in values.items():
        if name not in kinds:
            raise ConfigError(f"unknown setting {name!r}; known: {', '.join(sorted(kinds))}")
        default = getattr(defaults, name)
        try:
            if isinstance(default, bool):
                typed[name] = _bool(raw)
            elif isinstance(default, Path):
                if not isinstance(raw, str | Path) or not str(raw).strip():
                    raise ValueError(raw)  # "" would be the current directory
                typed[name] = Path(raw).expanduser().resolve()
            elif name in TEXT_LISTS:
                typed[name] = _text_tuple(raw)
            elif isinstance(default, tuple):
                typed[name] = _int_tuple(raw)
            elif isinstance(default, int | float) and isinstance(raw, bool | float):
                if isinstance(raw, bool) or isinstance(default, int):
                    raise ValueError(raw)  # TOML true or 2.5 for an integer setting
                typed[name] = raw
            else:
                typed[name] = type(default)(raw)
        except (TypeError, ValueError, OverflowError):
            kind = (
                'a list of questions ("|"-separated in the environment)'
                if name in TEXT_LISTS
                else "a comma-separated list of integers"
                if isinstance(default, tuple)
                else "a path"
                if isinstance(default, Path)
                else f"of type {type(default).__name__}"
            )
            raise ConfigError(f"setting {name!r} must be {kind}, got {raw!r}") from None
    settings = dataclasses.replace(defaults, **typed)
    _validate(settings)
    return settings


MAX_TOP_K = 20
# Integer settings and their (inclusive) ranges; None means no upper bound.
INT_RANGES: dict[str, tuple[int, int | None]] = {
    "chunk_sentences": (1, 50),
    "chunk_overlap": (0, 49),
    "chunk_max_chars": (50, 100_000),
    "top_k": (1, MAX_TOP_K),
    "candidates": (1, 1000),
    "max_question_chars": (1, 100_000),
    "embed_batch_size": (1, 4096),
    "hnsw_min_chunks": (0, None),
    "user_questions_per_minute": (0, 100_000),
    "conversation_minutes": (0, 525_600),
}


def check_top_k(top_k: int | None) -> int | None:
    """`--top-k` as given, or `ConfigError` outside 1 to 20."""
    if top_k is not None and not 1 <= top_k <= MAX_TOP_K:
        raise ConfigError(f"--top-k must be between 1 and {MAX_TOP_K}, got {top_k}")
    return top_k


def _validate(settings: Settings) -> None:
    """Every setting within its range, or one `ConfigError` line saying which and why."""
    for name, (low, high) in INT_RANGES.items():
        value = getattr(settings, name)
        if value < low or (high is not None and value > high):
            bound = f"between {low} and {high}" if high is not None else f"at least {low}"
            raise ConfigError(f"setting {name!r} must be {bound}, got {value}")
    if not (math.isfinite(settings.min_confidence) and 0.0 <= settings.min_confidence <= 1.0):
        raise ConfigError(
            f"setting 'min_confidence' must be a number between 0 and 1, got {settings.min_confidence}"
        )
    for name in ("corpus_dir", "index_dir"):
        path = getattr(settings, name)
        if path.exists() and not path.is_dir():
            raise ConfigError(f"setting {name!r} must be a directory, but {path} is a file")
    if settings.retriever not in ("dense", "bm25", "hybrid"):
        raise ConfigError(f"retriever must be dense, bm25 or hybrid, not {settings.retriever!r}")
    if settings.chunk_sentences < 1 or not 0 <= settings.chunk_overlap < settings.chunk_sentences:
        raise ConfigError("need chunk_sentences >= 1 and 0 <= chunk_overlap < chunk_sentences")
    if settings.top_k < 1 or settings.candidates < settings.top_k:
        raise ConfigError("need top_k >= 1 and candidates >= top_k")
    if not (math.isfinite(settings.fetch_timeout) and 0 < settings.fetch_timeout <= 600):
        raise ConfigError(
            f"setting 'fetch_timeout' must be between 0 and 600 seconds, got {settings.fetch_timeout}"
        )
    if settings.feeds_refresh:
        duration_seconds(settings.feeds_refresh, "setting 'feeds_refresh'")
    if settings.store not in STORES:
        raise ConfigError(f"store must be faiss or milvus, not {settings.store!r}")
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,150}", settings.milvus_collection):
        raise ConfigError(
            "setting 'milvus_collection' must be letters, digits and underscores, "
            f"starting with a letter, got {settings.milvus_collection!r}"
        )
    if settings.user_questions_per_minute < 0:
        raise ConfigError("user_questions_per_minute must be >= 0 (0 means no limit)")


_DURATION = re.compile(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")
MIN_REFRESH_SECONDS = 60
MAX_REFRESH_SECONDS = 7 * 24 * 3600


def duration_seconds(text: str, what: str = "the interval") -> int:
    """Seconds in "30m", "2h", "1h30m" or "90s"; `ConfigError` for anything else or under a
    minute (feeds are not polled more often than that)."""
    match = _DURATION.fullmatch(text.strip().lower())
    if not text.strip() or not match or not any(match.groups()):
        raise ConfigError(f'{what} must be a duration such as "30m", "2h" or "1h30m", got {text!r}')
    hours, minutes, seconds = (int(group or 0) for group in match.groups())
    total = hours * 3600 + minutes * 60 + seconds
    if total < MIN_REFRESH_SECONDS:
        raise ConfigError(f"{what} must be at least a minute, got {text!r}")
    if total > MAX_REFRESH_SECONDS:
        raise ConfigError(f"{what} must be at most a week, got {text!r}")
    return total


def _bool(raw: Any) -> bool:
    """A boolean from TOML, or from env text such as 1/0, true/false, yes/no, on/off."""
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(raw)


TEXT_LISTS = {"start_examples"}  # settings that are lists of text rather than of integers


def _text_tuple(raw: Any) -> tuple[str, ...]:
    """A list of non-empty strings from a "|"-separated string (env) or a list (TOML)."""
    items = raw.split("|") if isinstance(raw, str) else raw
    if not isinstance(items, list | tuple) or not all(isinstance(item, str) for item in items):
        raise ValueError(raw)
    return tuple(" ".join(item.split()) for item in items if item.strip())


def _int_tuple(raw: Any) -> tuple[int, ...]:
    """A list of ints from a comma-separated string (env) or a list (TOML)."""
    items = raw.split(",") if isinstance(raw, str) else raw
    return tuple(int(str(item).strip()) for item in items if str(item).strip())


def _jsonable(value: Any) -> Any:
    return str(value) if isinstance(value, Path) else value
