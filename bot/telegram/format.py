"""Telegram HTML for answers: escaped corpus text, balanced tags, messages within Telegram's limits."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from pathlib import Path

from bot.answering import Answer, Citation
from bot.answering.answer import NO_PASSAGE

MAX_MESSAGE_CHARS = 4096  # Telegram's limit on one message's text
MAX_CALLBACK_DATA_BYTES = 64  # Telegram's limit on an inline button's callback data
SHORT_PASSAGE_CHARS = 280
ANSWER_SHOWN_CHARS = 600  # a longer answer sentence is cut (Sources and JSON keep it whole)
SOURCE_PASSAGE_CHARS = 1500  # a longer passage is cut around the answer under Sources
MAX_LINK_CHARS = 1000  # longer article addresses are not linked (one could fill a message)
ABSTENTION = "The corpus does not say."
NOTHING_CLOSE = "The corpus does not say, and nothing in it comes close."

# One HTML token: a tag, a character entity, or a single character of text.
_TOKEN = re.compile(r"<[^>]*>|&#?\w+;|[^<&]", re.DOTALL)
_TAG_NAME = re.compile(r"</?\s*([a-zA-Z][\w-]*)")
_SENTENCE_END = frozenset(".!?…")
_CLOSING_PUNCTUATION = frozenset("\"'”’»)]")
# Break priorities, best first: paragraph, line, sentence, word, anywhere between tokens;
# last, between a tag and its content.
_PARAGRAPH, _LINE, _SENTENCE, _WORD, _ANYWHERE, _NEVER = 4, 3, 2, 1, 0, -1


def render_answer(answer: Answer) -> list[str]:
    """The reply to a question: what a follow-up was looked up as (italic), the answer in bold
    (or an abstention), then numbered citations (title, paragraph) with short passages; split into messages."""

    def blocks(link: bool) -> list[str]:
        return [looked_up_line(answer) + _headline(answer)] + [
            f"{citation_heading(c, link)}\n<blockquote>{excerpt(c.text, c.highlight)}</blockquote>"
            for c in answer.citations
        ]

    return _split_safely(blocks)


def render_sources(answer: Answer) -> list[str]:
    """The full passages of an answer, the answer sentence in bold, with where else each appears."""

    def blocks(link: bool) -> list[str]:
        found = [_headline(answer)]
        for citation in answer.citations:
            lines = [
                citation_heading(citation, link),
                f"<i>{html.escape(_location(citation))}</i>",
            ]
            lines += [
                f"<i>also in {html.escape(other['title'])}, paragraph {other['paragraph']}</i>"
                for other in citation.also_in
            ]
            passage = excerpt(citation.text, citation.highlight, SOURCE_PASSAGE_CHARS)
            lines.append(f"<blockquote>{passage}</blockquote>")
            found.append("\n".join(lines))
        return found

    return _split_safely(blocks)


def render_inline(answer: Answer, citation: Citation) -> str:
    """One inline-mode result: the answer and a single citation, in one message."""

    def blocks(link: bool) -> list[str]:
        return [
            f"{_headline(answer, closest=False)}\n\n{citation_heading(citation, link)}\n"
            f"<blockquote>{excerpt(citation.text, citation.highlight)}</blockquote>"
        ]

    return _split_safely(blocks)[0]


def _split_safely(blocks: Callable[[bool], list[str]]) -> list[str]:
    """Split the rendered blocks into messages; should anything in a citation defeat the
    splitter, render again without links, then as escaped plain text: a citation can never
    break a reply."""
    for link in (True, False):
        try:
            return split_html("\n\n".join(blocks(link)))
        except ValueError:
            continue
    plain = html.escape(re.sub(r"<[^>]*>", "", "\n\n".join(blocks(False))), quote=False)
    return split_html(plain)


def citation_heading(citation: Citation, link: bool = True) -> str:
    """`[1] Title (Outlet, 2019-02-18), paragraph 3`, the outlet and date when known, the title
    linked to the article when it has a web address (not when the address is absurdly long)."""
    title = f"<b>{html.escape(citation.title)}</b>"
    if (
        link
        and citation.url.startswith(("https://", "http://"))
        and len(citation.url) <= MAX_LINK_CHARS
    ):
        title = f'<a href="{html.escape(citation.url, quote=True)}">{title}</a>'
    known = ", ".join(part for part in (citation.source, citation.published) if part)
    source = f" ({html.escape(known)})" if known else ""
    return f"[{citation.rank}] {title}{source}, paragraph {citation.paragraph}"


def excerpt(text: str, span: tuple[int, int] | None, limit: int = SHORT_PASSAGE_CHARS) -> str:
    """At most about `limit` characters of `text` around `span`, cut at spaces, as HTML."""
    if len(text) <= limit:
        return highlighted(text, span)
    if span is None or span[1] - span[0] >= limit:
        start = span[0] if span else 0
    else:
        # Keep a little of what leads up to the answer sentence, more of what follows.
        start = max(0, min(span[0] - (limit - (span[1] - span[0])) // 3, len(text) - limit))
    end = min(len(text), start + limit)
    if start > 0:
        start = _word_start(text, start)
    if end < len(text):
        end = _word_end(text, start, end)
    local = None
    if span is not None and span[0] < end and span[1] > start:
        local = (max(span[0], start) - start, min(span[1], end) - start)
    body = highlighted(text[start:end].rstrip(), local)
    return ("…" if start > 0 else "") + body + ("…" if end < len(text) else "")


def highlighted(text: str, span: tuple[int, int] | None) -> str:
    """`text` escaped, with `span` (the answer sentence) in bold."""
    if span is None:
        return html.escape(text)
    start, end = span
    return (
        html.escape(text[:start])
        + f"<b>{html.escape(text[start:end])}</b>"
        + html.escape(text[end:])
    )


def callback_data(prefix: str, key: str) -> str:
    """Button data `prefix:key`; ValueError if over Telegram's 64 bytes."""
    data = f"{prefix}:{key}"
    if len(data.encode("utf-8")) > MAX_CALLBACK_DATA_BYTES:
        raise ValueError(f"callback data {data!r} is over {MAX_CALLBACK_DATA_BYTES} bytes")
    return data


def utf16_length(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def split_html(text: str, limit: int = MAX_MESSAGE_CHARS) -> list[str]:
    """Split Telegram HTML into messages of at most `limit` UTF-16 units, preferring paragraph,
    then line, sentence and word boundaries; never inside a tag or an entity. Tags open at a
    cut are closed at the end of one message and reopened at the start of the next."""
    tokens = _TOKEN.findall(text)
    if "".join(tokens) != text:
        raise ValueError("not Telegram HTML: a stray '<' or '&'")
    stack: list[tuple[str, str]] = []
    for token in tokens:
        if token[0] == "<":
            _track(stack, token)
    if stack:
        raise ValueError(f"unclosed tag {stack[-1][1]!r}")
    if utf16_length(text) <= limit:
        return [text.strip()] if _visible(text) else []
    costs = [utf16_length(token) for token in tokens]
    parts: list[str] = []
    open_tags: list[tuple[str, str]] = []  # (name, opening tag) at the current position
    position = 0
    while True:
        position = _skip_space(tokens, position)
        if position == len(tokens):
            return parts
        reopen = "".join(tag for _, tag in open_tags)
        end, stack = _longest_fit(tokens, costs, position, open_tags, limit - utf16_length(reopen))
        body = "".join(tokens[position : _trim_space(tokens, position, end)])
        part = reopen + body + "".join(f"</{name}>" for name, _ in reversed(stack))
        if _visible(part):
            parts.append(part)
        position, open_tags = end, stack


def _longest_fit(
    tokens: list[str],
    costs: list[int],
    position: int,
    open_tags: list[tuple[str, str]],
    room: int,
) -> tuple[int, list[tuple[str, str]]]:
    """Where to end the message that starts at `position`, and the tags open there."""
    stack = list(open_tags)
    closing = _closing_cost(stack)
    used = 0
    last_text = previous_text = significant = ""
    # For each kind of boundary, the last one that fits: (end, open tags, units used).
    best: dict[int, tuple[int, list[tuple[str, str]], int]] = {}
    end = position
    while end < len(tokens):
        token = tokens[end]
        used += costs[end]
        if token[0] == "<":
            _track(stack, token)
            closing = _closing_cost(stack)
        else:
            previous_text, last_text = last_text, token
            if not token.isspace() and token not in _CLOSING_PUNCTUATION:
                significant = token
        if used + closing > room:
            break
        end += 1
        if end == len(tokens):
            return end, stack
        priority = _break_priority(token, tokens[end], last_text, previous_text, significant)
        best[priority] = (end, list(stack), used)
    if not best:
        raise ValueError(f"cannot fit a piece of this text in {room} characters")
    for priority in sorted(best, reverse=True):  # the best boundary filling half a message
        cut, cut_stack, filled = best[priority]
        if filled >= room // 2:
            return cut, cut_stack
    cut, cut_stack, _ = best[max(best)]
    return cut, cut_stack


def looked_up_line(answer: Answer) -> str:
    """An italic "→ looked up: ..." line when a follow-up was looked up as another question."""
    looked_up = getattr(answer, "looked_up", None)
    return f"<i>→ looked up: {html.escape(looked_up)}</i>\n" if looked_up else ""


def _headline(answer: Answer, closest: bool = True) -> str:
    unknown = html.escape(" or ".join(answer.unknown_names))
    if not answer.abstained and answer.answer is not None:
        shown = answer.answer
        if len(shown) > ANSWER_SHOWN_CHARS:
            cut = shown.rfind(" ", ANSWER_SHOWN_CHARS // 2, ANSWER_SHOWN_CHARS)
            shown = shown[: cut if cut > 0 else ANSWER_SHOWN_CHARS].rstrip() + " …"
        caveats = ([f"the articles never mention {unknown}"] if unknown else []) + [
            html.escape(c) for c in answer.caveats
        ]
        caveat = "".join(f"; {c}" for c in caveats)
        span = answer.answer_span
        if span is not None and span[1] <= len(shown):
            start, end = span  # the short answer (the number or time asked for), underlined
            marked = (
                f"{html.escape(shown[:start])}<u>{html.escape(shown[start:end])}</u>"
                f"{html.escape(shown[end:])}"
            )
        else:
            marked = html.escape(shown)
        return f"<b>{marked}</b>\n<i>confidence {answer.confidence:.2f}{caveat}</i>"
    if not answer.citations:
        why = uncited_abstention_reason(answer)
        return (
            f"<b>{ABSTENTION}</b>\n<i>{html.escape(why)}</i>" if why else f"<b>{NOTHING_CLOSE}</b>"
        )
    reason = f"\n<i>It never mentions {unknown}.</i>" if unknown else ""
    if not unknown and answer.abstain_reason and "; " in answer.abstain_reason:
        # Not confident because of a consistency check: say which.
        reason = f"\n<i>{html.escape(answer.abstain_reason.split('; ', 1)[1].capitalize())}.</i>"
    closest_line = "\nThe closest passages I found:" if closest else ""
    return f"<b>{ABSTENTION}</b>{reason}{closest_line}"


def uncited_abstention_reason(answer: Answer) -> str | None:
    """Why an abstention with nothing to cite has no answer, as a sentence ("The article says
    no more after that."); None when the corpus simply holds nothing close."""
    reason = answer.abstain_reason
    if not reason or reason == NO_PASSAGE:
        return None
    return f"{reason[0].upper()}{reason[1:]}."


def _location(citation: Citation) -> str:
    return f"{Path(citation.path).name}, characters {citation.start}–{citation.end}"


def _word_start(text: str, start: int) -> int:
    space = text.find(" ", start)
    return space + 1 if 0 <= space < start + 40 else start


def _word_end(text: str, start: int, end: int) -> int:
    space = text.rfind(" ", start, end)
    return space if space > start + (end - start) // 2 else end


def _track(stack: list[tuple[str, str]], token: str) -> None:
    match = _TAG_NAME.match(token)
    if match is None:
        raise ValueError(f"not a tag: {token!r}")
    name = match.group(1).lower()
    if token.startswith("</"):
        for i in range(len(stack) - 1, -1, -1):
            if stack[i][0] == name:
                del stack[i]
                return
        raise ValueError(f"unbalanced closing tag {token!r}")
    if not token.endswith("/>"):
        stack.append((name, token))


def _is_opening_tag(token: str) -> bool:
    return token.startswith("<") and not token.startswith("</")


def _closing_cost(stack: list[tuple[str, str]]) -> int:
    return sum(len(name) + 3 for name, _ in stack)


def _break_priority(
    before: str, after: str, last_text: str, previous_text: str, significant: str
) -> int:
    """How good a cut between the tokens `before` and `after` is, given the text before it."""
    if _is_opening_tag(before) or after.startswith("</"):
        return _NEVER  # a cut there would leave an empty pair of tags
    if not last_text.isspace():
        return _ANYWHERE
    if last_text == "\n":
        return _PARAGRAPH if previous_text == "\n" else _LINE
    return _SENTENCE if significant in _SENTENCE_END else _WORD


def _skip_space(tokens: list[str], position: int) -> int:
    while position < len(tokens) and tokens[position].isspace():
        position += 1
    return position


def _trim_space(tokens: list[str], start: int, end: int) -> int:
    while end > start and tokens[end - 1].isspace():
        end -= 1
    return end


def _visible(part: str) -> bool:
    return bool(re.sub(r"<[^>]*>", "", part).strip())
