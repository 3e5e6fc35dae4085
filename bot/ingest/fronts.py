"""Front pages: a page made of several headline links, each with a summary under it (a home
page of teasers), is a list of stories, not one article, however much prose its summaries add
up to."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from lxml.etree import _Element

MIN_STORIES = 4  # summaries of this many linked stories, at least, make a front page
MIN_SHARE = 0.6  # when they are this share of the page's prose, at least
HEADLINE_WORDS = (3, 25)  # a headline link's words; a shorter link is a menu entry
SUMMARY_WORDS = (8, 80)  # a summary's words: one to three sentences, or a short paragraph
_SUMMARY_CHARS = 1_000  # text read after a headline, at most, looking for its summary
_LEVELS = 2  # blocks climbed from a headline to find the summary beside it
_SKIPPED_LINKS = ("#", "javascript:", "mailto:", "tel:")


def is_front_page(tree: _Element, prose: list[str], host: str) -> bool:
    """Whether the article's prose paragraphs `prose` are mostly summaries of MIN_STORIES or
    more stories that the page (`tree`, from `host`) links to under their headlines."""
    summaries = teasers(tree, host)
    if len(summaries) < MIN_STORIES:
        return False
    linked: set[str] = set()
    teaser_chars = 0
    for paragraph in prose:
        plain = " ".join(paragraph.split())
        # A summary may be split in paragraphs, or glued to its headline by the extraction.
        found = next((p for p, s in summaries.items() if s in plain or plain in s), None)
        if found is not None:
            linked.add(found)
            teaser_chars += len(paragraph)
    total = sum(len(p) for p in prose)
    return len(linked) >= MIN_STORIES and teaser_chars >= MIN_SHARE * total


def teasers(tree: _Element, host: str) -> dict[str, str]:
    """Link path -> summary, for each headline link on the page to another page of its site
    (relative, or on `host`; with no host known, relative ones only) that stands on its own
    line, in a heading or not, and is followed in its block by a summary of SUMMARY_WORDS."""
    found: dict[str, str] = {}
    for link in tree.iter("a"):
        target = _own_page(link.get("href") or "", host)
        words = len(_text(link).split())
        if not target or not HEADLINE_WORDS[0] <= words <= HEADLINE_WORDS[1]:
            continue
        if summary := _summary(_headline(link)):
            found.setdefault(target, summary)
    return found


def _own_page(href: str, host: str) -> str:
    """The path of a link to a page of the site itself, '' for any other link."""
    href = href.strip()
    if not href or href.startswith(_SKIPPED_LINKS):
        return ""
    try:
        parts = urlsplit(href)
    except ValueError:  # a malformed address
        return ""
    if parts.scheme not in ("", "http", "https"):
        return ""
    if parts.netloc and (not host or (parts.hostname or "").removeprefix("www.") != host):
        return ""
    return parts.path or "/"


def _headline(link: _Element) -> _Element:
    """The block that is the headline: the link, or the heading (or blocks) holding only it."""
    head = link
    while (parent := head.getparent()) is not None and _holds_only(parent, head):
        head = parent
    return head


def _summary(head: _Element) -> str:
    """The text that follows headline `head` in the block holding it (climbing _LEVELS blocks
    while there is none), if it reads as a summary; '' if not, or if the headline runs on
    inside a sentence (an inline link is no headline)."""
    for _ in range(_LEVELS):
        container = head.getparent()
        if container is None or not _on_its_own_line(container, head):
            return ""
        after = _text_after(head)
        if after:
            words = len(after.split())
            return after if SUMMARY_WORDS[0] <= words <= SUMMARY_WORDS[1] else ""
        head = container
    return ""


def _on_its_own_line(container: _Element, head: _Element) -> bool:
    """No running text just before or just after `head` in `container`."""
    if (head.tail or "").strip():
        return False
    before = head.getprevious()
    text_before = container.text if before is None else before.tail
    return not (text_before or "").strip()


def _text_after(head: _Element) -> str:
    """The text of the blocks after `head` in its container, up to _SUMMARY_CHARS and a bit."""
    parts: list[str] = []
    size = 0
    sibling = head.getnext()
    while sibling is not None and size <= _SUMMARY_CHARS:
        if isinstance(sibling.tag, str):  # not a comment
            for piece in sibling.itertext():
                parts.append(piece)
                size += len(piece)
                if size > _SUMMARY_CHARS:
                    break
        parts.append(sibling.tail or "")
        sibling = sibling.getnext()
    return " ".join(" ".join(parts).split())


def _holds_only(parent: _Element, child: _Element) -> bool:
    """Whether `parent` holds `child` and nothing else (no other element, no text)."""
    return len(parent) == 1 and not (parent.text or "").strip() and not (child.tail or "").strip()


def _text(element: _Element) -> str:
    return " ".join("".join(element.itertext()).split())
