"""`newsbot add`, `newsbot feeds ...` and filtered questions, as a user runs them, against a
news site served on 127.0.0.1 (tests/site_server.py)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.config import Settings, load_settings
from bot.indexing import store
from tests.hostile import PROGRESS_LINE, newsbot
from tests.ingest.test_extract import BOILERPLATE
from tests.site_server import LONG_LINK, NewsSite, newsbot_on_site

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args))


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def one_error_line(result, fragment: str) -> None:
    assert result.exit_code == 1, result.output
    lines = [line for line in result.stderr.splitlines() if not PROGRESS_LINE.fullmatch(line)]
    assert len(lines) == 1 and lines[0].startswith("newsbot: error:"), result.stderr
    assert fragment in lines[0]
    assert "Traceback" not in result.output


@pytest.fixture(scope="module")
def news(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[NewsSite, Settings, list]]:
    """The site, and a corpus filled by following its two feeds (one `feeds update`)."""
    root = tmp_path_factory.mktemp("news")
    (root / "corpus").mkdir()
    with NewsSite() as site, pytest.MonkeyPatch.context() as env:
        newsbot_on_site(env, root)
        env.setenv("NEWSBOT_FETCH_TIMEOUT", "1")  # the slow page never answers, so it times out
        for feed in ("/feeds/rss.xml", "/feeds/atom.xml"):
            added = run("feeds", "add", site.url(feed))
            assert added.exit_code == 0, added.output
        result = run("feeds", "update", "--json")
        assert result.exit_code == 0, result.output
        settings = load_settings(corpus_dir=root / "corpus", index_dir=root / "index")
        yield site, settings, json_lines(result.stdout)


def by_input(outcomes: list[dict], site: NewsSite, path: str) -> dict:
    [found] = [o for o in outcomes if o["input"] == site.url(path)]
    return found


def test_every_item_lands_with_its_title_date_and_outlet(news) -> None:
    site, settings, outcomes = news
    expected = {
        "/news/tidal-plant": ("Tidal plant opens in Port Ellery", "Harbour Gazette", "2024-03-05"),
        "/news/budget": ("Council sets harbour budget", "Harbour Gazette", "2024-03-10"),
        "/valley/library-reopens": (
            "Carden library reopens after flood repairs",
            "Valley Courier",
            "2023-11-20",
        ),
        "/riverside/cafe-award": ("Café owner wins €50,000 award", "Riverside Post", "2024-01-15"),
    }
    for path, (title, source, published) in expected.items():
        outcome = by_input(outcomes, site, path)
        assert outcome["status"] == "added", outcome
        assert (outcome["title"], outcome["source"], outcome["published"]) == (
            title,
            source,
            published,
        )
        stored = (settings.corpus_dir / outcome["path"]).read_text(encoding="utf-8")
        assert stored.startswith(f"---\ntitle: {title}\nsource: {source}\n")
        assert f"published: {published}\n" in stored
        assert f"url: {outcome['url']}\n" in stored
        for words in (*BOILERPLATE, "Most read", "Advertisement", "Log in", "Share this"):
            assert words not in stored, (path, words)
    assert set(json.loads(json.dumps(outcomes[0]))) == {
        "input",
        "status",
        "path",
        "title",
        "source",
        "published",
        "url",
        "message",
    }


def test_bad_items_are_named_and_skipped_and_the_rest_answers(news) -> None:
    site, settings, outcomes = news
    assert by_input(outcomes, site, "/news/gone")["status"] == "failed"
    assert by_input(outcomes, site, "/news/gone")["message"] == "HTTP 404 Not Found"
    pdf = by_input(outcomes, site, "/files/tides.pdf")
    assert (pdf["status"], pdf["message"]) == ("skipped", "not an HTML page (application/pdf)")
    gallery = by_input(outcomes, site, "/news/gallery")
    assert (gallery["status"], gallery["message"]) == (
        "skipped",
        "no article text found on the page",
    )
    assert len(list(settings.corpus_dir.rglob("*.md"))) == 4
    answer = json.loads(run("ask", "--json", "Who is the head librarian in Carden?").stdout)
    assert "Olufemi Hart" in answer["answer"]


def test_citations_carry_outlet_date_and_url(news) -> None:
    site, _, _ = news
    result = run("ask", "--json", "How many turbines does the tidal plant have?")
    answer = json.loads(result.stdout)
    assert "twelve underwater turbines" in answer["answer"]
    first = answer["citations"][0]
    assert (first["source"], first["published"]) == ("Harbour Gazette", "2024-03-05")
    assert first["url"] == site.url("/news/tidal-plant")
    plain = run("ask", "How many turbines does the tidal plant have?").stdout
    assert f"Harbour Gazette, 2024-03-05, {site.url('/news/tidal-plant')}" in plain


CLEAN = {
    "tidal.txt": (
        "Tidal plant opens in Port Ellery",
        [
            "The Port Ellery tidal plant began feeding electricity into the regional grid on "
            "Tuesday, after six years of construction beneath the harbour mouth.",
            "The plant's twelve underwater turbines can produce up to 48 megawatts at peak flow, "
            "enough to power roughly 30,000 homes, according to the operator, Ellery Marine Power.",
            "Chief engineer Tomasz Reyes said the turbines turn in both directions, so the plant "
            "generates power on the incoming and the outgoing tide.",
            "Fishing crews had opposed the project for years. The council agreed in 2021 to keep "
            "a navigation channel open on the eastern side of the harbour.",
            "The project cost 310 million pounds, of which the national energy fund paid a third.",
        ],
    ),
    "library.txt": (
        "Carden library reopens after flood repairs",
        [
            "Carden public library reopened its doors on Monday, eighteen months after "
            "floodwater from the River Tamsin ruined its ground floor.",
            "Head librarian Olufemi Hart said about 9,000 books had to be thrown away, and that "
            "residents donated more than 4,000 replacements.",
            "The repaired building has its computers and its children's section on the first "
            "floor, above the level the water reached in 2022.",
            "The library is open every day except Sunday, from nine in the morning until seven "
            "in the evening.",
        ],
    ),
}
SAME_ANSWERS = [
    "Who is the chief engineer of the tidal plant?",
    "How many homes can the tidal plant power?",
    "Who opposed the tidal project?",
    "How many books were thrown away at Carden library?",
    "Which river flooded the library?",
]


def test_answers_over_ingested_pages_match_answers_over_clean_text(
    news, tmp_path, embedder
) -> None:
    from bot.engine import Newsbot
    from bot.indexing import build_index

    _, settings, _ = news
    clean = load_settings(corpus_dir=tmp_path / "clean", index_dir=tmp_path / "index")
    (tmp_path / "clean").mkdir()
    for name, (title, paragraphs) in CLEAN.items():
        (tmp_path / "clean" / name).write_text(
            title + "\n\n" + "\n\n".join(paragraphs) + "\n", encoding="utf-8"
        )
    build_index(clean, embedder=embedder)
    ingested_bot = Newsbot(settings, embedder=embedder)
    clean_bot = Newsbot(clean, embedder=embedder)
    for question in SAME_ANSWERS:
        ingested, expected = ingested_bot.ask(question), clean_bot.ask(question)
        assert not expected.abstained, question
        assert (ingested.answer, ingested.abstained) == (expected.answer, False), question


@pytest.mark.parametrize(
    ("options", "holds"),
    [
        (["--source", "valley COURIER"], lambda c: c["source"] == "Valley Courier"),
        (["--since", "2024-01-01"], lambda c: c["published"] >= "2024-01-01"),
        (["--until", "2023-12-31"], lambda c: c["published"] <= "2023-12-31"),
        (
            ["--since", "2024-03-01", "--until", "2024-03-31", "--source", "Harbour Gazette"],
            lambda c: c["source"] == "Harbour Gazette" and "2024-03" in c["published"],
        ),
    ],
)
def test_filters_hold_on_every_citation(news, options, holds) -> None:
    result = run("ask", "--json", "--top-k", "5", *options, "How much money was spent?")
    assert result.exit_code == 0, result.output
    citations = json.loads(result.stdout)["citations"]
    assert citations and all(holds(c) for c in citations), citations


def test_a_filtered_question_gets_its_answer_within_the_filter(news) -> None:
    question = "When is the library open?"
    inside = json.loads(run("ask", "--json", "--source", "Valley Courier", question).stdout)
    assert "open every day except Sunday" in inside["citations"][0]["text"]
    outside = json.loads(run("ask", "--json", "--since", "2024-01-01", question).stdout)
    assert all(c["source"] != "Valley Courier" for c in outside["citations"])
    nothing = run("ask", "--source", "The Daily Nowhere", question)
    assert nothing.exit_code == 0
    assert "no article matches the filter: source The Daily Nowhere" in nothing.stdout


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        (["--since", "2024-02-30"], "since must be a date as YYYY-MM-DD"),
        (["--until", "last week"], "until must be a date as YYYY-MM-DD"),
        (["--since", "2024-03-01", "--until", "2024-01-01"], "is before since"),
    ],
)
def test_bad_dates_get_one_line(news, options, fragment) -> None:
    one_error_line(run("ask", *options, "Who is Olufemi Hart?"), fragment)


def test_a_second_update_is_a_no_op_and_a_changed_page_replaces_its_old_version(news) -> None:
    site, settings, _ = news
    files = {p: p.read_bytes() for p in settings.corpus_dir.rglob("*.md")}
    build = store.current_build(settings.index_dir)
    seen = len(site.headers)
    again = run("feeds", "update")
    assert again.exit_code == 0, again.output
    assert again.stdout.strip() == "Nothing new."
    assert store.current_build(settings.index_dir) == build
    assert {p: p.read_bytes() for p in settings.corpus_dir.rglob("*.md")} == files
    # Politely: every request said who it was, and asked only for what changed.
    for request in site.headers[seen:]:
        assert request["user-agent"].startswith("newsbot/")
        assert "if-none-match" in request, request["path"]

    site.budget_version = 2
    changed = run("feeds", "update", "--json")
    assert changed.exit_code == 0, changed.output
    [outcome] = json_lines(changed.stdout)
    assert (outcome["input"], outcome["status"]) == (site.url("/news/budget"), "updated")
    budget = [p for p in settings.corpus_dir.rglob("*.md") if "budget" in p.name]
    assert len(budget) == 1
    text = budget[0].read_text(encoding="utf-8")
    assert "2.4 million pounds" in text and "2.1 million" not in text
    answer = json.loads(run("ask", "--json", "How big is the harbour maintenance budget?").stdout)
    assert "2.4 million pounds" in answer["answer"]
    assert all("2.1 million" not in c["text"] for c in answer["citations"])


def test_add_says_what_became_of_each_source(news, tmp_path: Path) -> None:
    site, settings, _ = news
    saved = tmp_path / "saved-page.txt"  # a page saved from a browser under the wrong name
    saved.write_bytes(
        (Path(__file__).parent.parent / "data" / "site" / "gallery.html").read_bytes()
    )
    html_in_txt = tmp_path / "notes.txt"
    html_in_txt.write_text(
        "<html><head><title>Harbour notes</title></head><body><nav>Home</nav><article>"
        "<p>The harbour master, Ingrid Solberg, said the new pontoon will open in May and will "
        "have berths for forty visiting yachts.</p></article><footer>Footer</footer></body></html>",
        encoding="utf-8",
    )
    result = run(
        "add",
        "--json",
        site.url("/news/tidal-plant"),
        site.url("/news/gone"),
        site.url("/slow"),
        site.url("/huge"),
        site.url("/files/tides.pdf"),
        str(html_in_txt),
        str(tmp_path / "missing.html"),
        str(saved),
    )
    assert result.exit_code == 1  # some sources could not be added
    assert "Traceback" not in result.output
    outcomes = json_lines(result.stdout)
    statuses = [(o["status"], o["message"]) for o in outcomes]
    assert statuses[0] == ("unchanged", "")  # the same URL is one document
    assert statuses[1] == ("failed", "HTTP 404 Not Found")
    assert statuses[2] == ("failed", "timed out after 1 s")
    assert statuses[3][0] == "failed" and "larger than 5 MB" in statuses[3][1]
    assert statuses[4] == ("skipped", "not an HTML page (application/pdf)")
    assert statuses[5][0] == "added" and outcomes[5]["title"] == "Harbour notes"
    assert statuses[6] == ("failed", "no such file")
    assert statuses[7] == ("skipped", "no article text found on the page")
    stored = (settings.corpus_dir / outcomes[5]["path"]).read_text(encoding="utf-8")
    assert "Ingrid Solberg" in stored and "<" not in stored and "Footer" not in stored
    answer = json.loads(run("ask", "--json", "Who is the harbour master?").stdout)
    assert "Ingrid Solberg" in answer["answer"]
    # Plain output: one line per source.
    plain = run("add", site.url("/news/tidal-plant"), str(tmp_path / "missing.html"))
    assert plain.stdout.splitlines() == [
        f"unchanged: {site.url('/news/tidal-plant')} -> {outcomes[0]['path']} "
        '"Tidal plant opens in Port Ellery" (Harbour Gazette, 2024-03-05)',
        f"failed: {tmp_path / 'missing.html'}: no such file",
    ]
    # A directory, or an empty name, is named as what it is (not "only .html ... are read").
    odd = run("add", str(tmp_path), "")
    assert odd.exit_code == 1
    assert odd.stdout.splitlines() == [
        f"failed: {tmp_path}: a directory, not a file; name the files in it, "
        f"e.g. {tmp_path}/*.html",
        "failed: : an empty name; give a file or an http(s) URL",
    ]


def test_a_page_not_in_english_is_skipped_by_add_and_by_feeds(tmp_path: Path) -> None:
    french = "an article in French, not English (newsbot reads English only)"
    with NewsSite() as site, pytest.MonkeyPatch.context() as env:
        newsbot_on_site(env, tmp_path)
        (tmp_path / "corpus").mkdir()
        added = run("add", "--json", site.url("/fr/ferry-fares"))
        assert added.exit_code == 1
        [outcome] = json_lines(added.stdout)
        assert (outcome["status"], outcome["path"], outcome["message"]) == ("skipped", "", french)
        plain = run("add", site.url("/fr/ferry-fares"))
        assert plain.stdout.splitlines() == [f"skipped: {site.url('/fr/ferry-fares')}: {french}"]
        assert run("feeds", "add", site.url("/feeds/ferry-en-fr.xml")).exit_code == 0
        updated = run("feeds", "update", "--json")
        assert updated.exit_code == 0, updated.output
        found = {o["input"]: (o["status"], o["message"]) for o in json_lines(updated.stdout)}
    assert found == {
        site.url("/news/ferry-fares"): ("added", ""),
        site.url("/fr/ferry-fares"): ("skipped", french),
    }
    [stored] = list((tmp_path / "corpus").rglob("*.md"))
    assert "Ferry fares between Port Ellery" in stored.read_text(encoding="utf-8")


def test_a_feed_that_is_not_a_feed_is_refused_in_one_line(news) -> None:
    site, _, _ = news
    one_error_line(run("feeds", "add", site.url("/feeds/broken.xml")), "not an RSS or Atom feed")
    one_error_line(
        run("feeds", "add", site.url("/feeds/cut-short.xml")),
        f"cannot follow {site.url('/feeds/cut-short.xml')}: not a valid RSS or Atom feed",
    )
    one_error_line(
        run("feeds", "add", "http://[::1/x"), "cannot follow http://[::1/x: not a valid URL"
    )
    one_error_line(run("feeds", "add", site.url("/slow")), "timed out after 1 s")
    one_error_line(run("feeds", "remove", site.url("/feeds/broken.xml")), "not following")
    listed = run("feeds", "list", "--json")
    assert [f["url"] for f in json_lines(listed.stdout)] == [
        site.url("/feeds/rss.xml"),
        site.url("/feeds/atom.xml"),
    ]


def test_chat_filter_sets_shows_and_clears(news) -> None:
    lines = [
        "/filter source valley courier",
        "When is the library open?",
        "/filter",
        "/filter since 2024-02-31",
        "/filter off",
    ]
    result = runner.invoke(app, ["chat"], input="\n".join(lines) + "\n")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.count("Answering only from valley courier articles.") == 2
    assert "Valley Courier, 2023-11-20" in out
    assert "Harbour Gazette" not in out
    assert "No filter: answering from every article." in out
    assert "newsbot: error: since must be a date as YYYY-MM-DD" in result.stderr


def test_index_status_names_the_files_it_skips_and_why(news) -> None:
    _, settings, _ = news
    corpus = settings.corpus_dir
    strays = {
        "saved.txt": "<!DOCTYPE html><html><body><p>Raw tags must not be answers.</p></body></html>",
        "page.html": "<html><body><p>A saved page.</p></body></html>",
        "photo.png": "\x89PNG",
        "empty.md": "---\ntitle: Nothing yet\n---\n",
    }
    for name, content in strays.items():
        (corpus / name).write_text(content, encoding="utf-8")
    try:
        built = run("index", "build")
        assert built.exit_code == 0, built.output
        assert (
            f"skipped saved.txt: it holds HTML; store its article with `newsbot add {corpus / 'saved.txt'}`"
            in built.stderr
        )
        status = run("index", "status")
        assert status.exit_code == 0, status.output
        assert "corpus unchanged since the build" in status.stdout
        for expected in (
            "skipped page.html: a web page; store its article with `newsbot add",
            "skipped saved.txt: it holds HTML;",
            "skipped photo.png: only .txt, .md files are read",
            "skipped empty.md: it is empty (no text to index)",
        ):
            assert expected in status.stdout, status.stdout
        answer = json.loads(run("ask", "--json", "What must not be answers?").stdout)
        assert all("<" not in c["text"] for c in answer["citations"])
    finally:
        for name in strays:
            (corpus / name).unlink()


def shown(source: str) -> str:
    """How a source far too long to be a URL or path is named in the output."""
    return f"{source[:80]}... ({len(source):,} characters)"


def test_bad_urls_and_files_fail_alone_in_one_line_and_the_rest_is_indexed(news, tmp_path) -> None:
    site, settings, outcomes = news
    pipe = tmp_path / "pipe.txt"
    os.mkfifo(pipe)  # reading it would wait for a writer forever
    bridge = tmp_path / "bridge.txt"
    bridge.write_text(
        "Skerry bridge closes for repairs\n\nThe bridge to Skerry Island will close for six "
        "weeks from May while engineers replace its steel cables, the council said.\n",
        encoding="utf-8",
    )
    tidal = by_input(outcomes, site, "/news/tidal-plant")["path"]
    long_url = site.url("/" + "a" * 100_000)
    result = run(
        "add",
        "http://[::1/x",
        site.url("/\x01x"),
        long_url,
        str(pipe),
        site.url("/files/scrambled"),
        str(settings.corpus_dir / tidal),  # an article already in the corpus
        str(bridge),
    )
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = result.stdout.splitlines()
    assert lines[:5] == [
        "failed: http://[::1/x: not a valid URL",
        f"failed: {site.url('/')}\\x01x: not a valid URL",
        f"failed: {shown(long_url)}: URL too long",
        f"skipped: {pipe}: not a regular file",
        f"skipped: {site.url('/files/scrambled')}: binary data, not text (served as text/html)",
    ]
    assert lines[5].startswith(f"unchanged: {settings.corpus_dir / tidal} -> {tidal} ")
    assert lines[5].endswith(f"; the same text is stored as {tidal}")
    assert lines[6].startswith(f"added: {bridge} -> files/skerry-bridge-closes-for-repairs-")
    assert len(lines) == 7
    answer = json.loads(run("ask", "--json", "How long will the Skerry bridge close?").stdout)
    assert "six weeks" in answer["answer"]


def test_a_server_dripping_its_headers_fails_in_one_line_and_the_index_keeps_serving(
    news,
) -> None:
    site, settings, _ = news
    serving = store.current_build(settings.index_dir)
    # The server would drip for as long as the site is up; fetch_timeout is 1 s here, and the
    # subprocess's timeout only keeps a fetch without an overall deadline from hanging the test.
    result = newsbot(["add", site.url("/slow-headers")], settings, timeout=120)
    assert result.returncode == 1
    assert result.stdout.decode().splitlines() == [
        f"failed: {site.url('/slow-headers')}: timed out after 1 s"
    ]
    assert not [line for line in result.stderr.decode().splitlines() if line.strip()]
    assert store.current_build(settings.index_dir) == serving
    answer = json.loads(run("ask", "--json", "How many turbines does the tidal plant have?").stdout)
    assert "turbines" in answer["answer"]


def test_an_item_with_an_overlong_link_fails_alone_and_the_rest_is_indexed(news) -> None:
    site, _, _ = news
    assert run("feeds", "add", site.url("/feeds/long-link.xml")).exit_code == 0
    result = run("feeds", "update")
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    assert sorted(result.stdout.splitlines()) == [
        f"added: {site.url('/news/ferry-fares')} -> web/127-0-0-1/ferry-fares-"
        + result.stdout.split("ferry-fares-")[1].split()[0]
        + ' "Ferry fares rise in Port Ellery" (Harbour Gazette)',
        f"failed: {shown(f'http://{site.host}{LONG_LINK}')}: URL too long",
    ]
    answer = json.loads(run("ask", "--json", "How much will ferry fares rise?").stdout)
    assert "eleven percent" in answer["answer"]


def test_a_corpus_that_cannot_be_written_fails_each_source_in_one_line(news, tmp_path) -> None:
    site, _, _ = news
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "web").write_text("in the way\n", encoding="utf-8")  # no folder can be made here
    (corpus / "files").write_text("in the way\n", encoding="utf-8")
    saved = tmp_path / "notes.html"
    saved.write_text(
        "<html><body><article><p>The harbour master, Ingrid Solberg, said the new pontoon "
        "will open in May with berths for forty visiting yachts.</p></article></body></html>",
        encoding="utf-8",
    )
    where = ("--corpus", str(corpus), "--index", str(tmp_path / "index"))
    result = run("add", "--json", *where, site.url("/news/tidal-plant"), str(saved))
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    web, local = json_lines(result.stdout)
    assert web["status"] == local["status"] == "failed"
    assert web["message"].startswith("cannot write web/127-0-0-1/tidal-plant-")
    assert local["message"].startswith("cannot write files/")
    assert sorted(p.name for p in corpus.iterdir()) == ["files", "web"]
    plain = run("add", *where, str(saved))
    assert plain.stdout.splitlines() == [f"failed: {saved}: {local['message']}"]
    assert local["message"].endswith(".md in the corpus: file exists")
