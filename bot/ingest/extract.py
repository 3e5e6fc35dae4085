"""HTML to article: the main text (trafilatura) and its title, outlet, author, date and URL.

The text is extracted twice per page: favouring precision (no comments), and with
trafilatura's balanced defaults (no comments). The precise text is kept unless it holds less
than half of the balanced one, which means precision cut into the article itself. On the
article-extraction benchmark this scores F1 .967 against .953 for trafilatura's defaults
(scripts/bench_extraction.py, docs/ingest.md).
"""

from __future__ import annotations

import codecs
import logging
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from bot.ingest.fronts import is_front_page

# Their own notes ("discarding data: URL") are not for the user or the bot's log; and without
# a handler Python would print what remains on stderr.
for _name in ("trafilatura", "htmldate", "courlan"):
    logging.getLogger(_name).setLevel(logging.ERROR)
    logging.getLogger(_name).addHandler(logging.NullHandler())

# The precise text is replaced by the balanced one when it is shorter than this share of it.
PRECISE_MIN_SHARE = 0.5
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.I)
_SPACES = re.compile(r"[ \t\u00a0\u200b]+")
MIN_ARTICLE_CHARS = 80  # less extracted text than this is a page with no article
PROSE_MIN_WORDS = 8  # a shorter paragraph is a link, a heading or a label, not a sentence
_FULL_WIDTH_STOP = re.compile("[\u3002\uff01\uff1f]")  # ideographic full stop, full-width ! and ?
FRONT_PAGE = "a front page of headlines, not one article"
_NOTICE_NAMES = {
    "cookie-consent": "a cookie-consent notice",
    "subscription": "a paywall (subscribe to read on)",
    "page-not-found": "a 'page not found' page",
}
_NOTICE_CUES = {
    kind: re.compile(pattern, re.I)
    for kind, pattern in {
        "cookie-consent": r"\buses? cookies\b|\bcookie (?:policy|settings|preferences)\b"
        r"|\b(?:accept|reject) all\b|\bmanage (?:your )?(?:cookies|consent|privacy)"
        r"|\bour (?:\d+ )?(?:partners|vendors)\b|\bpersonali[sz]ed (?:ads|advertising)\b"
        r"|\bbefore you continue\b",
        "subscription": r"\bsubscribe (?:to|now to) (?:continue|keep|read)|\balready a subscriber"
        r"|\b(?:unlimited|full|digital) access\b|\bcancel any ?time\b|\bfree trial\b"
        r"|\bto continue reading\b|\b(?:available|exclusive) (?:only )?(?:to|for) subscribers"
        r"|\bbecome a (?:member|subscriber)\b",
        "page-not-found": r"\bpage (?:you are|you're|you were) looking for\b|\bpage not found\b"
        r"|\b(?:could not|couldn't|can't|cannot) (?:be )?find (?:that|this|the) page\b"
        r"|\b(?:may|might) have been (?:moved|removed|deleted)\b|\berror 404\b|\b404 error\b"
        r"|\bnever existed\b",
    }.items()
}


@dataclass(frozen=True)
class Article:
    """An article as extracted from one page. Unknown fields are empty strings."""

    text: str  # paragraphs separated by blank lines
    title: str = ""
    source: str = ""  # the outlet (site name), else the host name
    author: str = ""
    published: str = ""  # ISO date, YYYY-MM-DD
    url: str = ""  # the canonical URL if on the site fetched from, else the URL fetched
    not_article: str = ""  # why the page is no article (a cookie wall, a section front), if so


def decode_html(raw: bytes, declared: str | None = None) -> str:
    """The page's text: a byte-order mark wins, then the charset the server declared, then a
    `<meta charset>`, then UTF-8, then Windows-1252 (what browsers read ISO-8859-1 as)."""
    for bom, name in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16")):
        if raw.startswith(bom):
            return raw.decode(name, errors="replace")
    candidates = [declared] if declared else []
    if match := _META_CHARSET.search(raw[:4096]):
        candidates.append(match.group(1).decode("ascii"))
    for name in candidates:
        try:
            codec = codecs.lookup(name).name
        except LookupError:
            continue
        if codec in ("latin-1", "iso8859-1", "ascii"):
            codec = "cp1252"
        try:
            return raw.decode(codec)
        except UnicodeDecodeError:
            continue
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def extract_article(html: str, url: str = "") -> Article:
    """The article in `html` (fetched from `url`, if known); its text is empty when the page
    has no article text."""
    import trafilatura

    if not html.strip():
        return Article("")
    # Each extraction parses the page afresh: trafilatura prunes the tree it is given.
    precise = trafilatura.bare_extraction(
        html,
        url=url or None,
        favor_precision=True,
        include_comments=False,
        with_metadata=True,
    )
    balanced = trafilatura.extract(html, url=url or None, include_comments=False) or ""
    tree = trafilatura.load_html(html)
    if tree is None:
        return Article("")
    text = (precise.text if precise is not None else "") or ""
    if len(text) < PRECISE_MIN_SHARE * len(balanced):
        text = balanced
    meta = precise if precise is not None else trafilatura.extract_metadata(tree, default_url=url)
    canonical = _attribute(meta, "url")
    if url and not same_site(canonical, url):
        canonical = url  # a page speaks for the URLs of its own site only
    title = one_line(_attribute(meta, "title"))
    body = without_headline(paragraphs(text), title)
    not_article = not_an_article(body, title)
    prose = [p for p in body.split("\n\n") if _is_prose(p)]
    if not not_article and is_front_page(tree, prose, _host(canonical)):
        not_article = FRONT_PAGE
    return Article(
        text=without_notices(body),
        not_article=not_article,
        title=title,
        source=one_line(_attribute(meta, "sitename")) or _host(canonical),
        author=one_line(_attribute(meta, "author")),
        published=publication_date(tree, canonical),
        url=canonical,
    )


def notice_kind(paragraph: str) -> str:
    """What site notice `paragraph` is ('cookie-consent', 'subscription', 'page-not-found'),
    '' if none: two of a kind's cues, or one in a paragraph of at most 30 words."""
    counts = {kind: len(cues.findall(paragraph)) for kind, cues in _NOTICE_CUES.items()}
    kind, found = max(counts.items(), key=lambda pair: pair[1])
    if found >= 2 or (found == 1 and len(paragraph.split()) <= 30):
        return kind
    return ""


def without_notices(text: str) -> str:
    """`text` without paragraphs that are site notices (cookie consent, subscribe to read on,
    page not found) rather than the article's."""
    return "\n\n".join(p for p in text.split("\n\n") if not notice_kind(p))


def not_an_article(text: str, title: str = "") -> str:
    """Why a page with this extracted text (and title) is not an article, '' if it is one: a
    notice (cookie consent, a paywall, page not found) with less than MIN_ARTICLE_CHARS of
    sentences besides, or nothing but short lines (links, headlines: a section front)."""
    blocks = [p for p in text.split("\n\n") if p.strip()]
    notices = [notice_kind(p) for p in blocks]
    if (kind := notice_kind(title)) == "page-not-found":
        notices.append(kind)
    prose = sum(len(p) for p, n in zip(blocks, notices, strict=False) if not n and _is_prose(p))
    if prose >= MIN_ARTICLE_CHARS:
        return ""
    kinds = [n for n in notices if n]
    notice_chars = sum(len(p) for p, n in zip(blocks, notices, strict=False) if n)
    if kinds and 2 * notice_chars >= sum(len(p) for p in blocks):
        return f"{_NOTICE_NAMES[max(set(kinds), key=kinds.count)]}, not an article"
    if sum(len(p) for p in blocks) >= MIN_ARTICLE_CHARS:
        return "only short lines (links or headlines: a section front?), not an article"
    return "no article text found on the page"


def _is_prose(paragraph: str) -> bool:
    """A paragraph of sentences rather than a link, a heading or a label (a language written
    without spaces ends its sentences with a full-width mark)."""
    return len(paragraph.split()) >= PROSE_MIN_WORDS or bool(_FULL_WIDTH_STOP.search(paragraph))


def publication_date(tree: object, url: str = "") -> str:
    """The date the page was first published, as YYYY-MM-DD, or ''. htmldate reads JSON-LD,
    `article:published_time`, `og:` and other meta tags, `<time>` and the URL; its extensive
    search (dates anywhere in the text) is left off, as it takes "© 2024" for 2024-01-01."""
    from htmldate import find_date

    try:
        found = find_date(tree, original_date=True, extensive_search=False, url=url or None)
    except Exception:  # htmldate gives up on odd trees by raising; an unknown date is fine
        return ""
    return _iso_day(found or "")


def paragraphs(text: str) -> str:
    """trafilatura's lines as paragraphs separated by blank lines, spaces collapsed."""
    lines = (_SPACES.sub(" ", line).strip() for line in text.splitlines())
    return "\n\n".join(line for line in lines if line)


def without_headline(text: str, title: str) -> str:
    """`text` without a first paragraph that repeats the title (it is in the front matter)."""
    first, _, rest = text.partition("\n\n")
    if title and first.strip().casefold() == title.casefold():
        return rest
    return text


def one_line(text: str | None) -> str:
    """`text` on one line, spaces collapsed."""
    return " ".join((text or "").split())


def same_site(url: str, other: str) -> bool:
    """Whether two URLs are on the same host (a leading "www." aside)."""
    return bool(_host(url)) and _host(url) == _host(other)


def _attribute(meta: object, name: str) -> str:
    value = getattr(meta, name, None) if meta is not None else None
    return value if isinstance(value, str) else ""


def _iso_day(value: str) -> str:
    return value[:10] if re.fullmatch(r"\d{4}-\d{2}-\d{2}.*", value or "") else ""


def _host(url: str) -> str:
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:  # a malformed address (an unclosed IPv6 bracket)
        return ""
    return host.removeprefix("www.")
