"""The `newsbot` command line: parses input, calls the core API, formats output.

Heavy modules (numpy, FAISS, the embedding model) are imported inside the commands that
need them, so `newsbot --help` and `newsbot index status` start instantly.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bot.config import Settings, load_settings
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
TopKOption = Annotated[
    int | None, typer.Option("--top-k", min=1, max=20, help="Citations to show [3].")
]
RetrieverOption = Annotated[
    str | None,
    typer.Option("--retriever", help="dense, bm25 or hybrid [hybrid]."),
]


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Turn a NewsbotError into one line on stderr and exit status 1; Ctrl-C into 130."""
    try:
        yield
    except NewsbotError as error:
        typer.echo(f"newsbot: error: {error}", err=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        raise typer.Exit(130) from None


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
        typer.echo(f"newsbot: warning: {warning}", err=True)
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
        if question == "-":
            questions = [line.strip() for line in sys.stdin if line.strip()]
        else:
            from bot.engine import validate_question

            questions = [validate_question(question, settings.max_question_chars)]
        bot = open_bot(settings)
        failures = 0
        for text in questions:
            try:
                answer = bot.ask(text, top_k=top_k)
            except QuestionError as error:  # one bad line must not stop a batch
                failures += 1
                typer.echo(f"newsbot: error: {error}", err=True)
                if json_output:
                    typer.echo(
                        json.dumps({"question": text, "error": str(error)}, ensure_ascii=False)
                    )
                continue
            if json_output:
                typer.echo(json.dumps(answer.to_json(), ensure_ascii=False))
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
        bot = open_bot(settings_from(corpus, index, retriever))
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
                last = bot.ask(line, top_k=top_k)
            except NewsbotError as error:
                typer.echo(f"newsbot: {error}", err=True)
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
        typer.echo(json.dumps(report.to_json(), ensure_ascii=False))
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
) -> None:
    """(Re)build the index from the corpus; the old index serves until the new one is complete."""
    with user_errors():
        settings = settings_from(corpus, index)
        if if_needed:
            from bot.indexing import index_status

            status = index_status(settings)
            if status.up_to_date(settings):
                typer.echo(f"Index is up to date ({status.manifest['counts']['chunks']} chunks).")
                return
        from bot.indexing import build_index

        report = build_index(settings, progress=_stderr_progress())
        for warning in report.warnings:
            typer.echo(f"newsbot: warning: {warning}", err=True)
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
                f"corpus changed since: {', '.join(status.changed_files)}; run `newsbot index build`"
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
        console.print(answer.answer, style="bold", markup=False, highlight=False)
    console.print(f"(confidence {answer.confidence:.2f})", style="dim")
    for citation in answer.citations:
        console.print()
        console.print(
            f"[{citation.rank}] {citation.title}, paragraph {citation.paragraph} "
            f"({Path(citation.path).name}, chars {citation.start}-{citation.end})",
            style="cyan",
            markup=False,
            highlight=False,
        )
        console.print(
            _highlighted(citation.text, citation.highlight, plain=not console.is_terminal)
        )


def print_sources(answer: Answer) -> None:
    """Every cited passage in full, with where else it appears."""
    console = _console()
    for citation in answer.citations:
        console.print(
            f"[{citation.rank}] {citation.title}", style="cyan", markup=False, highlight=False
        )
        console.print(
            f"    {citation.path}, paragraph {citation.paragraph}, chars {citation.start}-{citation.end}",
            markup=False,
            highlight=False,
        )
        for other in citation.also_in:
            console.print(
                f"    also in {other['title']} ({other['doc_id']}), paragraph {other['paragraph']}",
                markup=False,
                highlight=False,
            )
        console.print(
            _highlighted(citation.text, citation.highlight, plain=not console.is_terminal)
        )
        console.print()


def _highlighted(text: str, span: tuple[int, int] | None, plain: bool):
    from rich.text import Text

    if span is None:
        return Text(text)
    start, end = span
    if plain:
        return Text(f"{text[:start]}**{text[start:end]}**{text[end:]}")
    rendered = Text(text)
    rendered.stylize("bold yellow", start, end)
    return rendered


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
