"""The `newsbot` command line: parses input, calls the core API, formats output.

Heavy modules (numpy, FAISS, the embedding model) are imported inside the commands that
need them, so `newsbot --help` and `newsbot index status` start instantly.
"""

from __future__ import annotations

import contextlib
import errno
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bot.config import Settings, check_top_k, load_settings
from bot.errors import ConfigError, NewsbotError, QuestionError

if TYPE_CHECKING:
    from bot.answering import Answer
    from bot.engine import Newsbot

app = typer.Typer(
    help="Ask questions about the news articles in corpus/; every answer cites its passages.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
index_app = typer.Typer(help="Build and inspect the index.", no_args_is_help=True)
app.add_typer(index_app, name="index")

CorpusOption = Annotated[
    Path | None,
    typer.Option("--corpus", help="Corpus directory [env NEWSBOT_CORPUS; default: corpus/]."),
]
IndexOption = Annotated[
    Path | None,
    typer.Option("--index", help="Index directory [env NEWSBOT_INDEX; default: index/]."),
]
TopKOption = Annotated[int | None, typer.Option("--top-k", help="Citations to show, 1-20 [3].")]
RetrieverOption = Annotated[
    str | None,
    typer.Option("--retriever", help="dense, bm25 or hybrid [hybrid]."),
]


# C0 and C1 control characters (and DEL), except newline and tab: corpus text, file names and
# questions must never drive the terminal (clear the screen, set its title, move the cursor).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_C1 = re.compile(r"[\x7f-\x9f]")
ANSWER_SHOWN_CHARS = 500  # an answer sentence longer than this is cut, with an ellipsis
PASSAGE_SHOWN_CHARS = 1200  # so is a cited passage in `ask` (in full in /sources and JSON)


def safe(text: str) -> str:
    """`text` for a terminal: control characters shown as visible escapes such as `\\x1b`."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def json_line(data: object) -> str:
    """One JSON line; C1 controls escaped too (`json` escapes only C0), so no byte drives a
    terminal the output is shown on."""
    return _C1.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(data, ensure_ascii=False))


def echo_error(message: str) -> None:
    """`newsbot: error: ...` on stderr, one line."""
    typer.echo(f"newsbot: error: {safe(' '.join(str(message).split()))}", err=True)


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Turn a NewsbotError (or a full disk) into one line on stderr and exit status 1; Ctrl-C
    into 130."""
    try:
        yield
    except NewsbotError as error:
        echo_error(str(error))
        raise typer.Exit(1) from None
    except OSError as error:
        if error.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        where = f" on {error.filename}" if error.filename else ""
        echo_error(f"no space left{where}; free some disk space and try again")
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        raise typer.Exit(130) from None


def undecodable(text: str) -> QuestionError | None:
    """An error for text carrying bytes that were not UTF-8 (as surrogate escapes), else None."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        return QuestionError(
            f"the question is not valid UTF-8 (character {error.start + 1}); ask it in UTF-8 text"
        )
    return None


def _lenient_stdin() -> None:
    """Read stdin with undecodable bytes kept as surrogate escapes, so one bad line is an
    error in place rather than the end of the batch or the chat."""
    with contextlib.suppress(AttributeError, ValueError, OSError):
        sys.stdin.reconfigure(errors="surrogateescape")


def settings_from(
    corpus: Path | None, index: Path | None, retriever: str | None = None
) -> Settings:
    """Settings with the command line's options applied over file and environment."""
    return load_settings(corpus_dir=corpus, index_dir=index, retriever=retriever)


def open_bot(settings: Settings) -> Newsbot:
    """Load the index (building it when there is none yet) and warn if the corpus changed."""
    from bot.engine import Newsbot

    bot = Newsbot.open(settings, build_if_missing=True, progress=_stderr_progress())
    if warning := bot.staleness_warning():
        typer.echo(f"newsbot: warning: {safe(warning)}", err=True)
    return bot


@app.command()
def ask(
    question: Annotated[
        str, typer.Argument(help='The question, or "-" to read one per line from stdin.')
    ],
    json_output: Annotated[
        bool, typer.Option("--json", help="Print JSON (one object per question).")
    ] = False,
    top_k: TopKOption = None,
    retriever: RetrieverOption = None,
    corpus: CorpusOption = None,
    index: IndexOption = None,
) -> None:
    """Answer a question with cited passages."""
    with user_errors():
        settings = settings_from(corpus, index, retriever)
        check_top_k(top_k)
        if question == "-":
            _lenient_stdin()
            questions = [line.strip() for line in sys.stdin if line.strip()]
        else:
            from bot.engine import validate_question

            if problem := undecodable(question):
                raise problem
            questions = [validate_question(question, settings.max_question_chars)]
        bot = open_bot(settings)
        failures = 0
        for text in questions:
            try:
                if problem := undecodable(text):
                    raise problem
                answer = bot.ask(text, top_k=top_k)
            except QuestionError as error:  # one bad line must not stop a batch
                failures += 1
                echo_error(str(error))
                if json_output:
                    shown = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
                    typer.echo(json_line({"question": shown, "error": str(error)}))
                continue
            if json_output:
                typer.echo(json_line(answer.to_json()))
            else:
                print_answer(answer)
        if failures:
            raise typer.Exit(1)


@app.command()
def chat(
    top_k: TopKOption = None,
    retriever: RetrieverOption = None,
    corpus: CorpusOption = None,
    index: IndexOption = None,
) -> None:
    """Ask questions interactively (/sources, /help, /quit or Ctrl-D)."""
    with user_errors():
        check_top_k(top_k)
        bot = open_bot(settings_from(corpus, index, retriever))
    _lenient_stdin()
    interactive = sys.stdin.isatty()
    if interactive:
        _enable_history()
        typer.echo(
            f"newsbot: {bot.manifest['counts']['documents']} document(s). /help for commands."
        )
    last: Answer | None = None
    while True:
        try:
            line = input("? " if interactive else "").strip()
        except (EOFError, KeyboardInterrupt):
            typer.echo()
            return
        if not line:
            continue
        if line in ("/quit", "/exit"):
            return
        if line == "/help":
            typer.echo(
                "Type a question. /sources shows the full passages of the last answer. /quit exits."
            )
        elif line == "/sources":
            if last is None:
                typer.echo("No answer yet.")
            else:
                print_sources(last)
        else:
            try:
                if problem := undecodable(line):
                    raise problem
                last = bot.ask(line, top_k=top_k)
            except NewsbotError as error:
                typer.echo(f"newsbot: {safe(str(error))}", err=True)
                continue
            print_answer(last)


@app.command("eval")
def eval_command(
    qa_file: Annotated[
        Path,
        typer.Argument(
            help='JSON Lines: {"question", "answers": [...]} or {"question", "answerable": false}.'
        ),
    ],
    json_output: Annotated[bool, typer.Option("--json", help="Print the metrics as JSON.")] = False,
    retriever: RetrieverOption = None,
    corpus: CorpusOption = None,
    index: IndexOption = None,
) -> None:
    """Measure answer quality on a QA file: passage recall, answers, abstentions, latency."""
    with user_errors():
        from bot import evaluation

        settings = settings_from(corpus, index, retriever)
        items = evaluation.load_qa(qa_file)
        bot = open_bot(settings)
        results = evaluation.run(
            items, lambda question: bot.ask(question, top_k=evaluation.CITATIONS_EVALUATED)
        )
        report = evaluation.report(results)
    if json_output:
        typer.echo(json_line(report.to_json()))
    else:
        typer.echo(evaluation.format_report(report, settings.retriever))


@app.command()
def telegram(
    token_file: Annotated[
        Path | None,
        typer.Option(
            "--token-file", help="Read the bot token from this file [env TELEGRAM_BOT_TOKEN]."
        ),
    ] = None,
    api_base_url: Annotated[
        str | None,
        typer.Option(
            "--api-base-url",
            help="Another Bot API server, e.g. http://127.0.0.1:8081/bot [Telegram's].",
        ),
    ] = None,
    corpus: CorpusOption = None,
    index: IndexOption = None,
) -> None:
    """Answer questions on Telegram (long polling) until Ctrl-C or SIGTERM."""
    import os

    with user_errors():
        token = os.environ.get("TELEGRAM_BOT_TOKEN", "")
        if token_file is not None:
            try:
                token = token_file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as error:
                raise ConfigError(f"cannot read the token file {token_file}: {error}") from None
        settings = settings_from(corpus, index)
        from bot.telegram.app import run_bot

        run_bot(token, settings, base_url=api_base_url)


@index_app.command("build")
def index_build(
    corpus: CorpusOption = None,
    index: IndexOption = None,
    if_needed: Annotated[
        bool,
        typer.Option("--if-needed", help="Only build if the index is missing, stale or outdated."),
    ] = False,
    full: Annotated[
        bool,
        typer.Option("--full", help="Rebuild every document instead of reusing unchanged ones."),
    ] = False,
) -> None:
    """(Re)build the index from the corpus; the old index serves until the new one is complete."""
    with user_errors():
        settings = settings_from(corpus, index)
        if if_needed:
            from bot.errors import IndexUnusableError
            from bot.indexing import index_status

            try:
                status = index_status(settings)
            except IndexUnusableError:  # damaged or from an older newsbot: rebuild it
                status = None
            if status is not None and status.up_to_date(settings):
                typer.echo(f"Index is up to date ({status.manifest['counts']['chunks']} chunks).")
                return
        from bot.indexing import build_index

        report = build_index(settings, progress=_stderr_progress(), full=full)
        for warning in report.warnings:
            typer.echo(f"newsbot: warning: {safe(warning)}", err=True)
        if report.full:
            typer.echo(f"Full build: {report.reason}.", err=True)
        else:
            typer.echo(
                f"Incremental build: {report.reused_documents} document(s) reused, "
                f"{report.embedded_documents} new or changed, {report.removed_documents} removed.",
                err=True,
            )
        typer.echo(
            f"Indexed {report.documents} document(s): {report.chunks} chunks, "
            f"{report.sentences} sentences in {report.seconds:.1f} s -> {settings.index_dir}"
        )


@index_app.command("status")
def index_status_command(corpus: CorpusOption = None, index: IndexOption = None) -> None:
    """Say what is indexed and whether the corpus changed since."""
    with user_errors():
        from bot.indexing import index_status

        status = index_status(settings_from(corpus, index))
        if not status.exists:
            typer.echo(f"No index at {status.index_dir}; run `newsbot index build`.")
            raise typer.Exit(1)
        manifest = status.manifest
        counts = manifest["counts"]
        typer.echo(f"index:     {status.index_dir} (build {manifest['build']})")
        typer.echo(f"corpus:    {manifest['corpus_dir']}")
        typer.echo(f"documents: {counts['documents']}")
        typer.echo(f"chunks:    {counts['chunks']} ({counts['sentences']} sentences)")
        typer.echo(f"model:     {manifest['model']} (dimension {manifest['dimension']})")
        typer.echo(f"built at:  {manifest['built_at']}")
        if status.has_query_encoder:
            typer.echo("questions: encoded with ONNX Runtime (no torch on the query path)")
        else:
            typer.echo("questions: encoded with sentence-transformers; rebuild for a fast start")
        if status.stale:
            typer.echo(
                f"corpus changed since: {safe(', '.join(status.changed_files))}; "
                "run `newsbot index build`"
            )
        else:
            typer.echo("corpus unchanged since the build")


def print_answer(answer: Answer) -> None:
    """The answer sentence, then numbered citations with the answer highlighted."""
    console = _console()
    if answer.abstained:
        console.print("The corpus does not say.", style="bold")
        if answer.citations:
            console.print("Closest I found:")
    else:
        console.print(
            safe(_clip(answer.answer, ANSWER_SHOWN_CHARS)),
            style="bold",
            markup=False,
            highlight=False,
        )
    console.print(f"(confidence {answer.confidence:.2f})", style="dim")
    for citation in answer.citations:
        console.print()
        console.print(
            safe(
                f"[{citation.rank}] {citation.title}, paragraph {citation.paragraph} "
                f"({Path(citation.path).name}, chars {citation.start}-{citation.end})"
            ),
            style="cyan",
            markup=False,
            highlight=False,
        )
        text, span = _window(citation.text, citation.highlight, PASSAGE_SHOWN_CHARS)
        console.print(_highlighted(text, span, plain=not console.is_terminal))


def print_sources(answer: Answer) -> None:
    """Every cited passage in full, with where else it appears."""
    console = _console()
    for citation in answer.citations:
        console.print(
            safe(f"[{citation.rank}] {citation.title}"), style="cyan", markup=False, highlight=False
        )
        console.print(
            safe(
                f"    {citation.path}, paragraph {citation.paragraph}, "
                f"chars {citation.start}-{citation.end}"
            ),
            markup=False,
            highlight=False,
        )
        for other in citation.also_in:
            console.print(
                safe(
                    f"    also in {other['title']} ({other['doc_id']}), "
                    f"paragraph {other['paragraph']}"
                ),
                markup=False,
                highlight=False,
            )
        console.print(
            _highlighted(citation.text, citation.highlight, plain=not console.is_terminal)
        )
        console.print()


def _highlighted(text: str, span: tuple[int, int] | None, plain: bool):
    """`text` made safe for a terminal, with `span` in bold (or between `**` when piped)."""
    from rich.text import Text

    if span is None:
        return Text(safe(text))
    before, inside, after = (
        safe(part) for part in (text[: span[0]], text[slice(*span)], text[span[1] :])
    )
    if plain:
        return Text(f"{before}**{inside}**{after}")
    rendered = Text(before + inside + after)
    rendered.stylize("bold yellow", len(before), len(before) + len(inside))
    return rendered


def _clip(text: str, limit: int) -> str:
    """`text`, or its first `limit` characters cut at a space, with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", limit // 2, limit)
    return text[: cut if cut > 0 else limit].rstrip() + " …"


def _window(
    text: str, span: tuple[int, int] | None, limit: int
) -> tuple[str, tuple[int, int] | None]:
    """At most about `limit` characters of `text` from the highlight on, with ellipses; the
    highlight clipped to what is shown."""
    if len(text) <= limit:
        return text, span
    start = max(0, span[0] - limit // 5) if span else 0
    shown = text[start : start + limit]
    prefix = "… " if start > 0 else ""
    suffix = " …" if start + limit < len(text) else ""
    local = None
    if span is not None:
        local = (span[0] - start + len(prefix), min(span[1] - start, len(shown)) + len(prefix))
    return prefix + shown + suffix, local


def _console():
    from rich.console import Console

    return Console(soft_wrap=True)


def _stderr_progress():
    """A progress callback drawing a bar on stderr (plain lines when stderr is not a terminal)."""
    from rich.console import Console
    from rich.progress import Progress

    console = Console(stderr=True)
    if not console.is_terminal:
        return lambda stage, done, total: None
    progress = Progress(console=console, transient=True)
    tasks: dict[str, int] = {}

    def update(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            progress.start()
            tasks[stage] = progress.add_task(stage, total=total)
        progress.update(tasks[stage], completed=done)
        if all(progress.tasks[t].finished for t in tasks.values()):
            progress.stop()

    return update


def _enable_history() -> None:
    with contextlib.suppress(ImportError, OSError):
        import atexit
        import readline

        history = Path.home() / ".cache" / "newsbot" / "history"
        history.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            readline.read_history_file(history)
        atexit.register(readline.write_history_file, history)


def main() -> None:
    """Console-script entry point."""
    app()
