"""Telegram HTML: escaped corpus text, tags Telegram parses, messages within its limits."""

from __future__ import annotations

import dataclasses
import html
import re

import pytest

from bot.answering import Answer, Citation
from bot.telegram.format import (
    ABSTENTION,
    MAX_MESSAGE_CHARS,
    NOTHING_CLOSE,
    callback_data,
    excerpt,
    render_answer,
    render_inline,
    render_sources,
    split_html,
    utf16_length,
)
from tests.fake_bot_api import ApiError, parse_html

HOSTILE_TITLE = '<script>alert("x")</script> & <b>Co'
HOSTILE_TEXT = (
    'Prices rose 5% <i>overnight</b> & "AT&T" said <a href="javascript:x">so</a>. It &amp; ends.'
)


def citation(rank: int = 1, text: str = HOSTILE_TEXT, **changes) -> Citation:
    fields = {
        "rank": rank,
        "doc_id": f"doc{rank}",
        "title": HOSTILE_TITLE,
        "source": "<Wire> & Co",
        "url": "javascript:alert(1)",
        "path": f"/corpus/doc{rank}.txt",
        "paragraph": 2,
        "start": 10,
        "end": 10 + len(text),
        "text": text,
        "score": 0.5,
        "highlight": (0, text.index(".") + 1),
    }
    fields.update(changes)
    return Citation(**fields)


def answer(citations: list[Citation], sentence: str | None = "Prices rose <5%> & more.") -> Answer:
    return Answer("q?", sentence, sentence is None, 0.9 if sentence else 0.1, citations)


def shown(messages: list[str]) -> str:
    """What Telegram would display, or ApiError if it could not parse a message."""
    return "\n".join(parse_html(m) for m in messages)


def test_hostile_corpus_text_is_shown_literally_never_as_markup() -> None:
    messages = render_answer(answer([citation(1), citation(2)])) + render_sources(
        answer([citation(1)])
    )
    text = shown(messages)
    assert HOSTILE_TITLE in text
    assert "<Wire> & Co" in text
    assert "Prices rose <5%> & more." in text
    assert '<i>overnight</b> & "AT&T" said' in text
    assert "It &amp; ends." in text  # corpus text that looks like an entity stays as written
    assert "<a " not in "".join(messages)  # only http(s) addresses become links


def test_only_web_addresses_become_links_and_quotes_in_them_are_escaped() -> None:
    linked = citation(url='https://example.org/a?b=1&c="2"')
    message = render_answer(answer([linked]))[0]
    assert '<a href="https://example.org/a?b=1&amp;c=&quot;2&quot;">' in message
    parse_html(message)


def test_answer_layout_bold_answer_then_numbered_citations() -> None:
    message = render_answer(answer([citation(1), citation(2, text="Another passage here.")]))[0]
    assert message.startswith("<b>Prices rose &lt;5%&gt; &amp; more.</b>")
    text = parse_html(message)
    assert "[1] " + HOSTILE_TITLE in text and "paragraph 2" in text
    assert text.index("[1]") < text.index("[2]")
    assert "confidence 0.90" in text


def test_the_short_answer_is_underlined_inside_the_bold_answer() -> None:
    sentence = "Prices rose <5%> & more."
    marked = dataclasses.replace(answer([citation(1)], sentence), answer_span=(13, 15))  # "5%"
    message = render_answer(marked)[0]
    assert message.startswith("<b>Prices rose &lt;<u>5%</u>&gt; &amp; more.</b>")
    assert "Prices rose <5%> & more." in parse_html(message)


def test_abstention_says_so_and_offers_the_closest_passages() -> None:
    text = shown(render_answer(answer([citation(1)], sentence=None)))
    assert text.startswith(ABSTENTION)
    assert "closest passages" in text and "[1]" in text
    assert shown(render_answer(answer([], sentence=None))) == NOTHING_CLOSE


def test_sources_show_full_passages_with_the_answer_sentence_in_bold() -> None:
    long_text = "First sentence here. " * 30 + "The answer sentence. " + "Tail words. " * 30
    start = long_text.index("The answer")
    cited = citation(
        text=long_text,
        highlight=(start, start + len("The answer sentence.")),
        also_in=[{"doc_id": "copy", "title": "A <copy>", "paragraph": 4}],
    )
    messages = render_sources(answer([cited]))
    text = shown(messages)
    assert long_text.strip() in text
    assert "<b>The answer sentence.</b>" in "".join(messages)
    assert "also in A <copy>, paragraph 4" in text
    # The short version only shows an excerpt around the answer sentence.
    short = parse_html(render_answer(answer([cited]))[0])
    assert "The answer sentence." in short and long_text.strip() not in short


def test_excerpt_is_short_cut_at_spaces_and_keeps_the_answer_sentence() -> None:
    text = " ".join(f"word{i}" for i in range(200))
    start = text.index("word120")
    html_excerpt = excerpt(text, (start, start + len("word120 word121")), limit=100)
    visible = parse_html(html_excerpt)
    assert "<b>word120 word121</b>" in html_excerpt
    assert visible.startswith("…") and visible.endswith("…")
    assert len(visible) <= 102
    words = visible.strip("…").split()
    assert all(re.fullmatch(r"word\d+", w) for w in words)  # no word cut in half


def test_long_text_splits_at_paragraphs_each_message_within_the_limit() -> None:
    paragraphs = [
        f"<b>Paragraph {i}</b> " + "Some words &amp; more words. " * 40 for i in range(12)
    ]
    messages = split_html("\n\n".join(paragraphs))
    assert len(messages) > 1
    for message in messages:
        assert utf16_length(message) <= MAX_MESSAGE_CHARS
        parse_html(message)
        assert message.rstrip().endswith("more words.")  # whole paragraphs only
    assert shown(messages).split() == shown(["\n\n".join(paragraphs)]).split()


def test_one_huge_paragraph_splits_at_sentences_and_reopens_open_tags() -> None:
    sentences = [f"Sentence {i} says AT&amp;T &lt;grew&gt; fast." for i in range(400)]
    text = "<blockquote><b>" + " ".join(sentences) + "</b></blockquote>"
    messages = split_html(text)
    assert len(messages) > 1
    for message in messages:
        assert utf16_length(message) <= MAX_MESSAGE_CHARS
        assert message.startswith("<blockquote><b>") and message.endswith("</b></blockquote>")
        assert parse_html(message).endswith("fast.")
    assert " ".join(parse_html(m) for m in messages) == html.unescape(" ".join(sentences))


def test_no_cut_inside_an_entity_and_emoji_count_as_two_units() -> None:
    text = "&amp;" * 3000 + "🙂" * 3000
    messages = split_html(text)
    for message in messages:
        assert utf16_length(message) <= MAX_MESSAGE_CHARS
        parse_html(message)
    assert "".join(parse_html(m) for m in messages) == "&" * 3000 + "🙂" * 3000


def test_split_rejects_text_that_is_not_html() -> None:
    with pytest.raises(ValueError):
        split_html("a < b")


def test_a_huge_answer_is_cut_and_its_sources_render_to_several_valid_messages() -> None:
    sentence = "An answer & a half " * 400 + "ends here."
    cited = [citation(i, text="Passage & <more> " * 200 + "done.") for i in range(1, 4)]
    [message] = render_answer(answer(cited, sentence=sentence))  # cut, with an ellipsis
    assert "ends here" not in message and "…" in message
    messages = render_sources(answer(cited, sentence=sentence))
    assert len(messages) >= 2
    for message in messages:
        assert utf16_length(message) <= MAX_MESSAGE_CHARS
        parse_html(message)
    assert shown(messages).count("[") >= 3


def test_inline_result_is_one_valid_message_with_one_citation() -> None:
    message = render_inline(answer([citation(1), citation(2)]), citation(2))
    text = parse_html(message)
    assert "[2]" in text and "[1]" not in text
    assert utf16_length(message) <= MAX_MESSAGE_CHARS


def test_callback_data_fits_in_64_bytes() -> None:
    assert callback_data("sources", "x" * 12) == "sources:" + "x" * 12
    with pytest.raises(ValueError):
        callback_data("sources", "é" * 30)


def test_fake_server_rejects_what_telegram_rejects() -> None:
    """The checks the end-to-end tests rely on do fail on bad HTML."""
    for bad in ("<b>open", "a < b", "<script>x</script>", "&nbsp;", "<b><i>x</b></i>"):
        with pytest.raises(ApiError):
            parse_html(bad)
