"""Property-based tests (hypothesis) for the parts that take untrusted text: front matter and
headlines, sentence offsets, Telegram HTML rendering and splitting, question validation, and
the follow-up rules of a chat."""

from __future__ import annotations

import html
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.answering import Answer
from bot.cli import safe, undecodable
from bot.conversation import Conversation, Turn
from bot.engine import validate_question
from bot.errors import CorpusError, QuestionError
from bot.indexing.corpus import load_document
from bot.indexing.segment import paragraphs, sentences
from bot.telegram.format import MAX_MESSAGE_CHARS, split_html, utf16_length
from tests.fake_bot_api import parse_html

BOUNDED = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Text as hostile articles have it: any Unicode, newlines of every kind, markup, controls.
WILD = st.lists(
    st.one_of(
        st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=20),
        st.sampled_from(["\n", "\r\n", "\r", "---", ":", ".", " ", "<b>", "&", "\x1b[2J", "\n\n"]),
    ),
    max_size=40,
).map("".join)


@BOUNDED
@given(
    front=st.lists(
        st.tuples(st.sampled_from(["title", "source", "url", "published", "x"]), WILD),
        max_size=5,
    ),
    body=WILD,
    bom=st.booleans(),
)
def test_any_article_loads_with_offsets_into_its_text_mode_read(
    front: list[tuple[str, str]], body: str, bom: bool
) -> None:
    header = "---\n" + "".join(f"{k}: {v}\n" for k, v in front) + "---\n" if front else ""
    raw = (("\ufeff" if bom else "") + header + body).encode("utf-8")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "a.md"
        path.write_bytes(raw)
        try:
            document = load_document(Path(folder), path)
        except CorpusError:
            return  # named, one line: acceptable for any input
        with open(path, encoding="utf-8") as fh:
            assert document.text == fh.read()
    assert 0 <= document.body_start <= len(document.text)
    assert "\n" not in document.title.strip("\n") or not document.title


@BOUNDED
@given(text=WILD)
def test_sentences_are_ordered_in_bounds_and_inside_their_paragraphs(text: str) -> None:
    previous_end = 0
    for start, end in paragraphs(text):
        assert previous_end <= start < end <= len(text)
        previous_end = end
        inner = previous_start = start
        for s, e in sentences(text, (start, end)):
            assert start <= s < e <= end and s >= inner and s >= previous_start
            assert text[s:e].strip()
            inner = previous_start = e


def _visible(messages: list[str]) -> str:
    return " ".join(" ".join(parse_html(m).split()) for m in messages)


@BOUNDED
@given(
    pieces=st.lists(
        st.tuples(st.sampled_from(["", "b", "i", "blockquote", "code"]), WILD),
        min_size=1,
        max_size=40,
    ),
    limit=st.sampled_from([MAX_MESSAGE_CHARS, 300, 120]),
)
def test_split_html_keeps_tags_balanced_within_the_limit_and_loses_nothing(
    pieces: list[tuple[str, str]], limit: int
) -> None:
    text = "".join(
        f"<{tag}>{html.escape(part)}</{tag}>" if tag else html.escape(part) for tag, part in pieces
    )
    try:
        messages = split_html(text, limit)
    except ValueError:
        pytest.skip("a single token longer than the limit")  # only with absurd limits
    for message in messages:
        assert utf16_length(message) <= limit
        parse_html(message)  # balanced, known tags, known entities
    assert _visible(messages).replace(" ", "") == " ".join(parse_html(text).split()).replace(
        " ", ""
    )


@BOUNDED
@given(question=st.text(max_size=700), limit=st.integers(min_value=1, max_value=600))
def test_question_validation_accepts_or_refuses_in_one_line(question: str, limit: int) -> None:
    try:
        cleaned = validate_question(question, limit)
    except QuestionError as error:
        assert "\n" not in str(error)
        return
    assert cleaned and cleaned == cleaned.strip() and len(cleaned) <= limit
    assert "  " not in cleaned


@BOUNDED
@given(raw=st.binary(max_size=200))
def test_undecodable_questions_are_caught_and_terminal_output_is_inert(raw: bytes) -> None:
    text = raw.decode("utf-8", "surrogateescape")
    problem = undecodable(text)
    try:
        raw.decode("utf-8")
        assert problem is None
    except UnicodeDecodeError:
        assert isinstance(problem, QuestionError)
    shown = safe(raw.decode("latin-1"))
    assert not any((ord(c) < 32 and c not in "\n\t") or 0x7F <= ord(c) <= 0x9F for c in shown)


# Chat turns as people type them: words that point back, names, question words, and any text.
CHAT_WORDS = st.sampled_from(
    [
        "he", "she", "it", "they", "his", "her", "its", "the company", "and", "what about",
        "who", "what", "which", "when", "where", "why", "how many", "did", "is", "?", "'s",
        "Trump", "trump", "Jacinda Ardern", "the WHO", "US", "germany", "Which states",
        "tell me more", "the", "said", "sue", "-",
    ]
)  # fmt: skip
CHAT_TEXT = st.lists(st.one_of(CHAT_WORDS, st.text(max_size=8)), max_size=8).map(" ".join)


@BOUNDED
@given(st.lists(st.tuples(CHAT_TEXT, st.one_of(st.none(), CHAT_TEXT)), min_size=1, max_size=5))
def test_no_chat_breaks_the_follow_up_rules(turns: list[tuple[str, str | None]]) -> None:
    # Whatever was typed and answered before, the next question resolves, and the turn kept
    # for it survives the Telegram store's JSON round trip.
    conversation = Conversation()
    for typed, answer in turns:
        resolution = conversation.resolve(typed)
        assert all(reading.looked_up is not None for reading in resolution.readings)
        conversation.remember(resolution, Answer(typed, answer, answer is None, 0.5, []))
        assert Turn.from_json(conversation.last.to_json()) == conversation.last
