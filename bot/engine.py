"""The one core API the front ends use: open an index, ask questions, follow rebuilds."""

from __future__ import annotations

import logging
import threading
import unicodedata
from dataclasses import replace
from pathlib import Path
from typing import Any

from bot import stores
from bot.answering import Answer, answer_question
from bot.answering.more import MORE_POOL, asks_for_more, continuation, continuation_missing
from bot.answering.outlets import named_outlet
from bot.answering.overview import (
    OVERVIEW_CANDIDATES,
    asked_overview,
    newest_story,
    search_filter_for,
)
from bot.answering.reader import Reader, packaged_reader
from bot.citations import checked_citations, why_unreadable
from bot.config import Settings
from bot.conversation import (
    Conversation,
    ConversationAnswer,
    Preference,
    Resolution,
    Turn,
    answers_about,
    in_conversation,
    prefer_previous,
)
from bot.embedding import MODEL_NAME, Embedder
from bot.errors import IndexMissingError, IndexUnusableError, QuestionError
from bot.filters import SearchFilter
from bot.indexing import Progress, store
from bot.indexing.corpus import require_corpus_dir
from bot.indexing.store import DocumentRecord, IndexData
from bot.language import question_language
from bot.lexical import terms
from bot.query import Query
from bot.retrieval import Retriever
from bot.spelling import read_as_in
from bot.stores.base import Store

logger = logging.getLogger(__name__)
_fallbacks_reported: set[Path] = set()  # builds whose missing ONNX encoder was already reported


def plain_question(question: str) -> str:
    """The question NFKC-normalised (fullwidth letters read as plain ones, ligatures and the like
    as their letters), without invisible format characters (a soft hyphen or zero-width space
    pasted from a web page: "Hua\u00adwei" is Huawei; a byte-order mark) and with its spaces
    collapsed."""
    normalised = unicodedata.normalize("NFKC", question)
    visible = "".join(c for c in normalised if unicodedata.category(c) != "Cf")
    return " ".join(visible.split())


def validate_question(question: str, max_chars: int) -> str:
    """The question as `plain_question` reads it; `QuestionError` if it is empty, too long, not
    in English or has no word to look up."""
    cleaned = plain_question(question)
    if not cleaned:
        raise QuestionError(
            'the question is empty; ask something, e.g. newsbot ask "Who is Ryan Ding?"'
        )
    if len(cleaned) > max_chars:
        raise QuestionError(
            f"the question is {len(cleaned)} characters long; the limit is {max_chars} "
            "(setting max_question_chars, env NEWSBOT_MAX_QUESTION_CHARS)"
        )
    if not any("a" <= c <= "z" for c in cleaned.lower()) and any(c.isalpha() for c in cleaned):
        # "Кто такой Райан Дин?": the articles, the models and the checks are English ones, so
        # whatever such a question matched would be chance.
        raise QuestionError("newsbot reads questions in English; this one has no English word")
    if language := question_language(cleaned):
        # "Qui est le président ?": asked in French, it would get a confident wrong answer.
        raise QuestionError(f"newsbot reads questions in English; this one reads as {language}")
    if not terms(cleaned):  # "?", "🙂", "Who is he?": nothing to look for, so no answer either
        raise QuestionError(
            "the question has nothing to look up (only punctuation or words like "
            "'who' and 'is'); say what it is about"
        )
    return cleaned


def default_query_embedder(data: IndexData | None = None) -> Embedder:
    """The ONNX encoder stored with the index when it is intact, else sentence-transformers.

    Both give the same vectors; ONNX starts in a fraction of a second because it needs no torch.
    A fallback is logged once per build, saying why.
    """
    if data is not None:
        from bot.onnx_embedding import QueryEncoderError, load_query_encoder

        try:
            return load_query_encoder(data.location, data.manifest)
        except QueryEncoderError as problem:
            if data.location not in _fallbacks_reported:
                _fallbacks_reported.add(data.location)
                logger.warning(
                    "newsbot: warning: %s; encoding questions with sentence-transformers "
                    "instead (same answers, slower start); %s to restore it",
                    problem,
                    store.REBUILD_HINT,
                )
    from bot.embedding import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder()


class Newsbot:
    """Answers questions from the serving index; picks up a rebuilt index on the next question."""

    def __init__(
        self, settings: Settings, embedder: Embedder | None = None, reader: Reader | None = None
    ) -> None:
        self.settings = settings
        self._embedder = embedder
        self._reader = reader
        self._lock = threading.Lock()
        self._rejected: Path | None = None  # a newer build that could not be loaded
        self._store: Store = self._load()

    @classmethod
    def open(
        cls,
        settings: Settings,
        *,
        build_if_missing: bool = False,
        progress: Progress | None = None,
        embedder: Embedder | None = None,
        reader: Reader | None = None,
    ) -> Newsbot:
        """Load the index, building it first if there is none and `build_if_missing`. The
        corpus must be there: every citation is checked against its article's file."""
        require_corpus_dir(settings.corpus_dir)
        try:
            stores.serving_location(settings)
        except IndexMissingError:
            # A shared Milvus index is built on purpose (`newsbot index build`), never by a
            # replica that happens to find it missing.
            if not build_if_missing or settings.store == "milvus":
                raise
            stores.build_index(settings, progress=progress)
        return cls(settings, embedder, reader)

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = default_query_embedder(self._store)  # type: ignore[arg-type]
        return self._embedder

    @property
    def reader(self) -> Reader:
        """The answer reader shipped with the package (`ReaderError` if it is damaged)."""
        if self._reader is None:
            self._reader = packaged_reader()
        return self._reader

    @property
    def manifest(self) -> dict[str, Any]:
        return self._store.manifest

    @property
    def documents(self) -> list[DocumentRecord]:
        """The documents of the serving index, with their text as it was indexed."""
        return self._store.documents

    def changed_files(self) -> list[str]:
        """Corpus files added, removed or edited since the serving index was built."""
        return self._store.changed_files(self.settings.corpus_dir)

    def staleness_warning(self) -> str | None:
        """One line for the user if the corpus changed since the index was built."""
        changed = self.changed_files()
        unreadable = {
            doc: reason
            for doc in changed
            if (reason := why_unreadable(str(self.settings.corpus_dir / doc)))
        }
        others = [doc for doc in changed if doc not in unreadable]
        parts = []
        if unreadable:
            named = ", ".join(f"{doc}: {reason}" for doc, reason in list(unreadable.items())[:3])
            parts.append(
                f"cannot read {len(unreadable)} corpus file(s) ({named}); answers from them "
                "are withheld until they can be read"
            )
        if others:
            parts.append(
                f"{len(others)} corpus file(s) changed since the index was built "
                f"({', '.join(others[:3])}); {store.REBUILD_HINT}"
            )
        return "; ".join(parts) or None

    def ask(
        self,
        question: str,
        *,
        top_k: int | None = None,
        retriever: str | None = None,
        search_filter: SearchFilter | None = None,
        prefer: Preference | None = None,
    ) -> Answer:
        """Answer one question from one consistent index, from the documents that pass
        `search_filter` (all of them without one); `prefer`: a document and passage to rank a
        little higher (the previous answer's, for a follow-up)."""
        question = validate_question(question, self.settings.max_question_chars)
        if asks_for_more(question):  # "tell me more" with no conversation to go on with
            return continuation_missing(question)
        self.reload_if_rebuilt()
        current = self._store  # one snapshot for the whole question
        asked = question
        outlet = named_outlet(question, current.sources())
        if (
            outlet is not None
            and terms(outlet.rest)
            and not (search_filter and search_filter.source)
        ):
            asked = outlet.rest  # answered from its articles, which seldom name it
            search_filter = replace(search_filter or SearchFilter(), source=outlet.source)
        looked_up = read_as_in(asked, current.term_counts)
        overview = asked_overview(looked_up)
        if overview is not None:  # looked up by its topic: "tell me about" matches nothing
            looked_up = overview.topic or looked_up
            search_filter = search_filter_for(overview, search_filter, current.newest_day)
        query = Query.analyse(question, self.embedder.encode([looked_up])[0], looked_up)
        mode = retriever or self.settings.retriever
        candidates = max(self.settings.candidates, top_k or 0)
        fetched = max(candidates, OVERVIEW_CANDIDATES) if overview else candidates

        def answer_from(narrowed: SearchFilter | None, overview_only: bool = False) -> Answer:
            return answer_question(
                prefer_previous(
                    current.retriever_for(query, mode, fetched, narrowed, leads=bool(overview)),
                    prefer,
                ),
                self.reader,
                query,
                mode=mode,
                top_k=top_k or self.settings.top_k,
                candidates=candidates,
                min_confidence=self.settings.min_confidence,
                overview=overview,
                overview_only=overview_only,
            )

        answer = answer_from(search_filter)
        if overview is not None and overview.latest and overview.topic:
            answer = newest_story(
                answer,
                lambda day: answer_from((search_filter or SearchFilter()).within(day, None), True),
                top_k or self.settings.top_k,
            )
        return checked_citations(answer)

    def ask_in(
        self,
        conversation: Conversation,
        question: str,
        *,
        top_k: int | None = None,
        retriever: str | None = None,
        search_filter: SearchFilter | None = None,
    ) -> ConversationAnswer:
        """Answer `question` as the next turn of `conversation` (a follow-up is looked up as
        the standalone question it stands for, see bot/conversation/), and remember it."""
        typed = plain_question(question)
        if len(typed) > self.settings.max_question_chars:
            validate_question(typed, self.settings.max_question_chars)  # says why
        resolution = conversation.resolve(typed)
        if resolution.kind == "more":
            more = self._more(conversation.last, typed, top_k, retriever, search_filter)
            if not more.abstained:  # "no more" leaves the story where it was
                conversation.remember(resolution, more)
            return in_conversation(more, typed, resolution)

        def answer_reading(reading: Resolution) -> Answer:
            return self.ask(
                reading.looked_up,
                top_k=top_k,
                retriever=retriever,
                search_filter=search_filter,
                prefer=reading.prefer,
            )

        first, *others = resolution.readings
        answer = answer_reading(first)
        chosen = first
        for other in others:  # tried only while nothing is answered
            if answers_about(answer, chosen.about):
                break
            found = answer_reading(other)
            if answers_about(found, other.about) or not answer.abstained:
                # found; or the earlier reading answered about something else than it asked
                # ("and Brexit?"), and this one is the better reply even when it abstains
                chosen, answer = other, found
        resolution = chosen if chosen is not first else resolution
        conversation.remember(resolution, answer)
        return in_conversation(answer, typed, resolution)

    def _more(
        self,
        last: Turn | None,
        typed: str,
        top_k: int | None,
        retriever: str | None,
        search_filter: SearchFilter | None,
    ) -> Answer:
        """The sentences after the previous answer (`last`) in its article."""
        if last is None or last.doc_id is None or last.end is None:
            return continuation_missing(typed)
        self.reload_if_rebuilt()
        query = Query.analyse(last.question, self.embedder.encode([last.question])[0])
        # The previous question's passages, its answer's neighbourhood first: all a Milvus
        # store fetches of the article (a FAISS index holds all of it anyway).
        searcher = prefer_previous(
            self._store.retriever_for(
                query, retriever or self.settings.retriever, MORE_POOL, search_filter
            ),
            Preference(last.doc_id, last.paragraph),
        )
        return continuation(
            searcher, typed, last.doc_id, last.end, last.confidence, top_k or self.settings.top_k
        )

    def reload_if_rebuilt(self) -> bool:
        """Swap in a newer build if `newsbot index build` published one; True if it did."""
        try:
            serving = stores.serving_location(self.settings)
        except IndexUnusableError:
            return False  # keep answering from what is loaded
        if serving in (self._store.location, self._rejected):
            return False
        with self._lock:
            if serving in (self._store.location, self._rejected):
                return False
            try:
                self._store = self._load()
            except IndexUnusableError as problem:
                # Keep answering from the build that is loaded and known good; say so once.
                self._rejected = serving
                logger.error(
                    "newsbot: error: the new index build %s cannot be used: %s; "
                    "still answering from build %s",
                    serving.name,
                    problem,
                    self._store.location.name,
                )
                return False
        return True

    @property
    def _retriever(self) -> Retriever:
        """The FAISS store's retriever (tests and scripts that search it directly)."""
        return self._store.retriever  # type: ignore[attr-defined]

    def searcher(self, query: Query, mode: str, k: int) -> Any:
        """What answering reads for one question, from either store (see bot/stores/base.py)."""
        return self._store.retriever_for(query, mode, k)

    def _load(self) -> Store:
        found = stores.open_store(self.settings)
        self._check_model(found.manifest)
        return found

    def _check_model(self, manifest: dict[str, Any]) -> None:
        expected = self._embedder.name if self._embedder is not None else MODEL_NAME
        if manifest.get("model") != expected:
            raise IndexUnusableError(
                f"index at {self.settings.index_dir} was built with model {manifest.get('model')!r}, "
                f"but questions are encoded with {expected!r}; {store.REBUILD_HINT}"
            )
