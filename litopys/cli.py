"""The `litopys` command: index a corpus, ask from the shell, serve the chat."""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import textwrap
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from litopys.core.config import Settings, load_settings
from litopys.core.errors import LitopysError
from litopys.ui.strings import strings, withheld_note

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Litopys: ask questions about your news articles and get answers that cite the passages.",
)
err = Console(stderr=True, soft_wrap=True)

EXIT_WARNINGS = 5  # index completed, but some files (or lines, or feeds) were skipped


def _settings(ctx: typer.Context) -> Settings:
    return ctx.obj["settings"]


@app.callback()
def main(
    ctx: typer.Context,
    config: Path | None = typer.Option(
        None, "--config", help="TOML settings file (default: ./litopys.toml if present)."
    ),
    index_dir: Path | None = typer.Option(None, "--index-dir", help="Where the index lives (LITOPYS_INDEX_DIR)."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log debug details to stderr."),
) -> None:
    """Global options; settings come from defaults, litopys.toml and LITOPYS_* variables."""
    overrides = {"index_dir": index_dir} if index_dir else {}
    try:
        settings = load_settings(config, **overrides)
    except LitopysError as exc:
        _fail(exc)
    logging.basicConfig(
        level=logging.DEBUG if verbose else getattr(logging, settings.log_level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for noisy in (
        "httpx",
        "httpcore",
        "urllib3",
        "sentence_transformers",
        "filelock",
        "pymorphy3",
        "faiss",
        "watchfiles",
    ):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    ctx.obj = {"settings": settings, "index_dir_given": index_dir is not None}


def _fail(exc: LitopysError) -> None:
    print(f"error: {exc}", file=sys.stderr)
    raise typer.Exit(exc.exit_code)


def _progress(enabled: bool) -> Progress:
    """A rich progress display on stderr (stdout stays for results, e.g. --json)."""
    return Progress(
        TextColumn("{task.description:<10}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        disable=not enabled,
        transient=False,
    )


def _progress_bar(enabled: bool):
    """A rich progress bar on stderr and a callback(stage, done, total) that drives it."""
    progress = _progress(enabled)
    tasks: dict[str, TaskID] = {}

    def update(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = progress.add_task(stage, total=total)
        progress.update(tasks[stage], completed=done, total=total)

    return progress, update


def _run_index(settings: Settings, corpus: Path | None, rebuild: bool, show_progress: bool):
    from litopys.index.backend import check_reachable
    from litopys.index.builder import ensure_not_busy
    from litopys.index.embedder import load_embedder
    from litopys.runtime import index_corpus

    ensure_not_busy(Path(settings.index_dir))  # fail in a second, not after loading the embedder
    check_reachable(settings)
    embedder = load_embedder(settings.embedder)
    progress, update = _progress_bar(show_progress)
    with progress:
        report = index_corpus(settings, embedder, corpus_dir=corpus, force_rebuild=rebuild, progress=update)
    return embedder, report


@app.command()
def index(
    ctx: typer.Context,
    corpus: Path | None = typer.Option(None, "--corpus", help="Folder of article files (default: setting corpus_dir)."),
    rebuild: bool = typer.Option(False, "--rebuild", help="Re-embed everything (repairs a damaged index)."),
    as_json: bool = typer.Option(False, "--json", help="Print the counts as one JSON object."),
    backend: str | None = typer.Option(
        None, "--backend", help="Index into this backend: local or milvus (default: setting index.backend)."
    ),
    feeds: bool = typer.Option(False, "--feeds", help="First save the new items of the [[feeds]] in the settings."),
    watch: bool = typer.Option(
        False, "--watch", help="Then keep the index current as files change (and feeds are due) until Ctrl-C."
    ),
) -> None:
    """Index new and changed articles, drop removed ones, and report the counts."""
    settings = _settings(ctx)
    if backend not in (None, "local", "milvus"):
        print(f"error: --backend takes local or milvus, not {backend!r}", file=sys.stderr)
        raise typer.Exit(2)
    if backend:
        settings.index = settings.index.model_copy(update={"backend": backend})
    if corpus:
        settings.corpus_dir = corpus
    feed_results = _poll_feeds(settings) if feeds else None
    try:
        embedder, report = _run_index(settings, None, rebuild, show_progress=not as_json)
    except LitopysError as exc:
        _fail(exc)
    if as_json:
        out = report.as_dict()
        if feed_results is not None:
            out["feeds"] = [r.as_dict() for r in feed_results]
        print(json.dumps(out, ensure_ascii=False), flush=True)
    else:
        if report.full_rebuild_reason:
            err.print(f"full rebuild: {report.full_rebuild_reason}")
        for issue in report.issues:
            err.print(f"  {'skipped' if issue.skipped else 'warning'}: {issue.path}: {issue.reason}", highlight=False)
        print(
            f"added {report.added}, updated {report.updated}, removed {report.removed}, "
            f"unchanged {report.unchanged}, skipped {report.skipped} "
            f"({report.articles_total} articles, {report.chunks_total} chunks in the index) "
            f"in {report.seconds:.1f} s",
            flush=True,
        )
    if watch:
        _watch(settings, embedder, initial_sync=False)
    elif report.skipped or any(r.error for r in feed_results or []):
        raise typer.Exit(EXIT_WARNINGS)


def _poll_feeds(settings: Settings):
    """Save the feeds' new items into the corpus (each feed's outcome is logged)."""
    from litopys.index.feeds import poll_feeds

    if not settings.feeds:
        err.print('no feeds in the settings: add [[feeds]] url = "..." to litopys.toml')
        return []
    if not Path(settings.corpus_dir).is_dir():
        return []  # the index run says the folder is missing; feeds must not create it
    return poll_feeds(settings)


def _watch_plan(settings: Settings, initial_sync: bool):
    from litopys.index.feeds import FeedPoller
    from litopys.index.watch import WatchPlan

    poller = FeedPoller(settings) if settings.feeds else None
    return WatchPlan(settings.watch.settle_s, initial_sync=initial_sync, poll_feeds=poller)


def _watch(settings: Settings, embedder, initial_sync: bool) -> None:
    """Keep the index current until Ctrl-C (`index --watch`); each sync is logged."""
    import threading

    from litopys.index.watch import watch_corpus

    err.print(f"watching {settings.corpus_dir} (Ctrl-C stops)")
    watch_corpus(settings, embedder, threading.Event(), _watch_plan(settings, initial_sync))


def _answer_one(assistant, question: str, history, as_json: bool, read_dates: bool = True):
    """Stream one answer to stdout (text mode) and return the final Answer."""
    from litopys.rag.answer import final_answer

    def echo(text: str) -> None:
        print(text, end="", flush=True)

    stream = assistant.answerer.stream(question, history, read_dates=read_dates)
    answer = final_answer(stream, None if as_json else echo)
    if as_json:
        print(json.dumps(answer.as_dict(), ensure_ascii=False), flush=True)
    else:
        _print_sources(answer)
    return answer


def _print_sources(answer) -> None:
    print()
    if answer.rewritten_question:
        print(f"(searched for: {answer.rewritten_question})")
    if answer.dates:
        print(f"\n({_dates_note(answer.dates)})")
    if answer.low_evidence:
        print("\n(no retrieved passage stands out from the others, so the model was not asked)")
    if answer.withheld:
        w = answer.withheld
        print(f"\nWITHHELD. {withheld_note(w.reason, w.missing, w.draft, strings('en'))}\n{answer.text}")
    if any(c.attributed for c in answer.citations) or answer.invalid_citations:
        print(f"\n(with checked citations) {answer.text}")
    for claim in answer.unsupported_claims:
        missing = f" (missing: {', '.join(claim.missing)})" if claim.missing else ""
        print(f"\nWARNING: not supported by the cited passages: {claim.sentence}{missing}")
    for n, a in enumerate(answer.articles, 1):  # a list answer ("which articles mention X?")
        print(f"\n[{n}] {a.article_id}" + (f"  {a.url}" if a.url else ""))
        print(textwrap.indent(textwrap.fill(a.best.text, 100), "    "))
    if answer.citations:
        print("\nSources:")
    for c in answer.citations:
        p = c.passage
        date = f", {p.date}" if p.date else ""
        note = " (attributed after generation)" if c.attributed else ""
        print(f"[{c.n}] {p.title}{date} — {p.article_id}{note}")
        if p.url:
            print(f"    {p.url}")
        print(textwrap.indent(textwrap.fill(p.text, 100), "    "))


def _dates_note(dates) -> str:
    """One line on the dates read from the question and whether they filtered the search."""
    from litopys.ui.render import dates_note

    return dates_note(dates, strings("en"))


@app.command()
def migrate(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print the counts as one JSON object."),
) -> None:
    """Copy the local index (index_dir) into the Milvus index of [index] uri/collection, without re-embedding.

    Resumable: run it again after an interruption and it goes on where it stopped.
    """
    from litopys.index.milvus_migrate import migrate_to_milvus

    settings = _settings(ctx)
    progress, update = _progress_bar(not as_json)
    try:
        with progress:
            report = migrate_to_milvus(settings, update)
    except LitopysError as exc:
        _fail(exc)
    if as_json:
        print(json.dumps(report.as_dict(), ensure_ascii=False))
    else:
        resumed = f" (resumed after {report.resumed_from} articles)" if report.resumed_from else ""
        print(
            f"copied {report.articles} articles, {report.chunks} chunks to {settings.index.uri} "
            f"as generation {report.generation}{resumed} in {report.seconds:.1f} s"
        )


@app.command()
def ask(
    ctx: typer.Context,
    question: str = typer.Argument(..., help="The question, in any language."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object: answer, citations, passages, timings."),
    dates: bool = typer.Option(
        True, "--dates/--no-dates", help="Search only articles dated as the question says ('14 листопада', 'вчора')."
    ),
) -> None:
    """Answer one question from the indexed articles, citing passages."""
    from litopys.runtime import open_assistant

    settings = _settings(ctx)
    try:
        assistant = open_assistant(settings)
        _answer_one(assistant, question, (), as_json, read_dates=dates)
    except LitopysError as exc:
        _fail(exc)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise typer.Exit(2) from None


@app.command()
def chat(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object per answer (one line each)."),
) -> None:
    """A conversation in the terminal: one question per line; follow-ups keep the context. Empty line or Ctrl-D ends it."""
    from litopys.rag.followup import Turn
    from litopys.runtime import open_assistant

    settings = _settings(ctx)
    try:
        assistant = open_assistant(settings)
    except LitopysError as exc:
        _fail(exc)
    history: list[Turn] = []
    interactive = sys.stdin.isatty()
    while True:
        if interactive:
            print("\n> ", end="", flush=True)
        line = sys.stdin.readline()
        if not line.strip():
            break
        try:
            answer = _answer_one(assistant, line.strip(), history, as_json)
        except LitopysError as exc:
            print(f"error: {exc}", file=sys.stderr)
            continue
        history.append(Turn(line.strip(), answer.text))


@app.command("eval")
def evaluate(
    ctx: typer.Context,
    questions: Path | None = typer.Option(None, "--questions", help="JSON-lines file: question, article, answer_any."),
    corpus: Path | None = typer.Option(None, "--corpus", help="Corpus to index (reused if unchanged)."),
    suite: Path | None = typer.Option(
        None,
        "--suite",
        help="TOML file of runs (name, questions, corpus, kind): every set in one table, e.g. eval/suite.toml.",
    ),
    only: list[str] = typer.Option([], "--only", help="With --suite: only the runs with this name (repeatable)."),
    report: list[Path] = typer.Option(
        [],
        "--report",
        help="Merge saved `eval --suite --json` outputs (repeatable) into one table and a threshold curve; no LLM.",
    ),
    bars: str = typer.Option(
        "1.5,1.75,2.0,2.5,3.0", "--bars", help="With --report: min_answer_score values for the threshold curve."
    ),
    as_json: bool = typer.Option(
        False, "--json", help="Print one JSON object with the metrics (progress stays on stderr)."
    ),
    limit: int | None = typer.Option(None, "--limit", help="Only the first N questions (or articles with --titles)."),
    retrieval_only: bool = typer.Option(False, "--retrieval-only", help="Skip the LLM: retrieval metrics only."),
    gold_only: bool = typer.Option(
        False, "--gold-only", help="Search only each question's gold article: the model's ceiling."
    ),
    titles: bool = typer.Option(
        False, "--titles", help="Title-to-article task over --corpus: BM25 vs dense vs hybrid (no questions needed)."
    ),
    rows: Path | None = typer.Option(
        None,
        "--rows",
        help="Append each scored row to this JSON-lines file as it comes, so a cut-short run keeps them.",
    ),
) -> None:
    """Measure retrieval, answer correctness, citations, refusals and time on a question set (or a suite of them)."""
    settings = _settings(ctx)
    if corpus:
        if corpus.resolve() != Path(settings.corpus_dir).resolve() and not ctx.obj.get("index_dir_given"):
            from litopys.evalsuite import index_dir_for

            # Another corpus than the index's own gets a scratch index under the cache, as each
            # --suite run does: the configured index is never rebuilt from the eval's articles
            # (an --index-dir given on this command line is the user's choice).
            settings.index_dir = index_dir_for(settings, corpus)
        settings.corpus_dir = corpus
    if retrieval_only and not questions:
        # Silently asking the LLM anyway would take hours where minutes were meant.
        print(
            "error: --retrieval-only works with --questions FILE (with --corpus DIR for another corpus)",
            file=sys.stderr,
        )
        raise typer.Exit(2)
    try:
        if report:
            _eval_report(report, bars, as_json)
        elif titles:
            _title_task(settings, limit, as_json)
        elif suite:
            _eval_suite(settings, suite, tuple(only), limit, gold_only, as_json, rows)
        elif questions:
            _eval_questions(settings, questions, limit, retrieval_only, gold_only, as_json, rows)
        else:
            print("error: give --questions FILE, --suite FILE or --titles", file=sys.stderr)
            raise typer.Exit(2)
    except LitopysError as exc:
        _fail(exc)


def _eval_questions(
    settings: Settings,
    questions: Path,
    limit: int | None,
    retrieval_only: bool,
    gold_only: bool,
    as_json: bool,
    rows_file: Path | None = None,
) -> None:
    from litopys.rag.evaluation import answer_metrics, load_questions, retrieval_metrics

    qs = load_questions(questions, limit)
    embedder, _ = _run_index(settings, None, False, show_progress=not as_json)
    result: dict[str, object] = {"questions": len(qs), "settings": _eval_settings(settings)}
    if retrieval_only:
        from litopys.index.backend import open_index
        from litopys.rag.retrieval import Retriever

        reader = open_index(settings, embedder.spec, embedder.dim)
        result["retrieval"] = retrieval_metrics(Retriever(reader, embedder, settings.retrieval), qs)
    else:
        from litopys.runtime import open_assistant

        assistant = open_assistant(settings, embedder)
        result["retrieval"] = retrieval_metrics(assistant.retriever, qs)
        with _eval_progress(len(qs), verbose=not as_json, rows_file=rows_file) as show:
            metrics, rows = answer_metrics(assistant.answerer, qs, show, gold_only=gold_only)
        result.update(metrics)
        result["rows"] = rows
    if as_json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        printable = {k: v for k, v in result.items() if k not in ("rows", "settings")}
        print(json.dumps(printable, ensure_ascii=False, indent=2))


def _eval_suite(
    settings: Settings,
    suite: Path,
    only: tuple[str, ...],
    limit: int | None,
    gold_only: bool,
    as_json: bool,
    rows_file: Path | None = None,
) -> None:
    from litopys.evalsuite import load_suite, run_suite, summary_table
    from litopys.rag.evaluation import load_questions

    runs = load_suite(suite, only)
    questions = {run.name: load_questions(run.questions, limit) for run in runs}
    with _eval_progress(sum(map(len, questions.values())), verbose=not as_json, rows_file=rows_file) as show:
        result = run_suite(
            settings, runs, questions, gold_only=gold_only, on_result=lambda run, row: show(row, run.name)
        )
    result["settings"] = _eval_settings(settings)
    result["gold_only"] = gold_only
    if as_json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print(summary_table(result))


def _eval_report(paths: list[Path], bars: str, as_json: bool) -> None:
    from litopys.evalsuite import curve_table, merge_reports, summary_table, threshold_curve

    reports = []
    for path in paths:
        try:
            reports.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            raise LitopysError(f"cannot read eval report {path}: {exc}") from exc
    try:
        points = [float(b) for b in bars.split(",") if b.strip()]
    except ValueError as exc:
        raise LitopysError(f"--bars takes numbers separated by commas, not {bars!r}") from exc
    merged = merge_reports(reports)
    curve = threshold_curve(merged["runs"], points)
    if as_json:
        print(json.dumps({**merged, "curve": curve}, ensure_ascii=False))
    else:
        print(summary_table(merged) + "\n\n" + curve_table(curve))


@contextlib.contextmanager
def _eval_progress(total: int, verbose: bool, rows_file: Path | None = None):
    """A progress bar on stderr (question k/N, running share correct or rightly refused) and its callback.

    With `rows_file`, each row is also appended there (one JSON object per line, with its run's name)
    and flushed at once, so an interrupted run keeps what it scored.
    """
    progress = _progress(True)
    task = progress.add_task("eval", total=total)
    good = done = 0
    sink = rows_file.open("a", encoding="utf-8") if rows_file else None

    def show(row: dict, run: str = "") -> None:
        nonlocal good, done
        done += 1
        if sink:
            sink.write(json.dumps({"run": run, **row}, ensure_ascii=False) + "\n")
            sink.flush()
        good += bool(row["correct"] if row["gold"] is not None else row["refused"])
        if verbose:
            mark = "OK " if row["correct"] else ("REF" if row["refused"] else "-- ")
            progress.console.print(
                f"{mark} {row['seconds']:5.1f}s {run + ' ' if run else ''}{row['question'][:70]} -> {row['answer'][:120]}",
                highlight=False,
            )
        progress.update(task, advance=1, description=f"eval {run} right so far {good}/{done}".replace("  ", " "))

    try:
        with progress:
            yield show
    finally:
        if sink:
            sink.close()


def _title_task(settings: Settings, limit: int | None, as_json: bool) -> None:
    from litopys.index.embedder import load_embedder
    from litopys.rag.title_task import title_task

    try:
        result = title_task(settings, load_embedder(settings.embedder), Path(settings.corpus_dir), limit)
    except LitopysError as exc:
        _fail(exc)
    result["settings"] = _eval_settings(settings)
    print(json.dumps(result, ensure_ascii=False, indent=None if as_json else 2))


def _eval_settings(settings: Settings) -> dict[str, object]:
    return {
        "embedder": settings.embedder.model,
        "llm": settings.llm.model,
        "chunking": settings.chunking.model_dump(),
        "retrieval": settings.retrieval.model_dump(),
    }


@app.command()
def bench(
    ctx: typer.Context,
    quick: bool = typer.Option(False, "--quick", help="Subsets of each section (under 10 minutes on 2 cores)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of the table."),
    corpus: Path | None = typer.Option(None, "--corpus", help="Corpus to measure on (default: setting corpus_dir)."),
    questions: Path | None = typer.Option(
        None, "--questions", help="JSON-lines question file (default: article titles as questions)."
    ),
) -> None:
    """Measure indexing, retrieval, answering, waiting time, memory and LlamaIndex; every figure with a same-run reference."""
    from rich.console import Console as RichConsole

    from litopys.bench.suite import run_bench

    settings = _settings(ctx)
    corpus = Path(corpus or settings.corpus_dir)
    if not corpus.is_dir():
        print(f"error: corpus folder not found: {corpus}", file=sys.stderr)
        raise typer.Exit(2)
    try:
        # Libraries print to stdout (LlamaIndex does); stdout carries only the report.
        with contextlib.redirect_stdout(sys.stderr):
            report = run_bench(settings, corpus, questions, quick, say=lambda s: err.print(s, highlight=False))
    except LitopysError as exc:
        _fail(exc)
    if as_json:
        print(json.dumps(report.as_dict(), ensure_ascii=False))
        return
    out = RichConsole(width=160)
    out.print(report.table())
    for note in report.notes:
        out.print(f"note: {note}", highlight=False)
    out.print("section seconds: " + ", ".join(f"{k} {v:.0f}" for k, v in report.seconds.items()), highlight=False)


@app.command("bench-probe-rss")
def bench_probe_rss(
    ctx: typer.Context,
    question: str = typer.Argument(..., help="The question answered once before reading the peak."),
    settings_stdin: bool = typer.Option(
        False,
        "--settings-stdin",
        help="Read the settings as one JSON object on stdin (how `litopys bench` passes its run's) over the usual ones.",
    ),
) -> None:
    """Print {"max_rss_mb": ...}: peak memory of this process holding what `serve` holds, after one answer."""
    from litopys.bench.suite import serve_peak_rss_mb

    try:
        settings = load_settings(None, **json.loads(sys.stdin.read())) if settings_stdin else _settings(ctx)
        rss_mb = serve_peak_rss_mb(settings, question)
    except LitopysError as exc:
        _fail(exc)
    print(json.dumps({"max_rss_mb": rss_mb}))


@app.command("bench-index-steps")
def bench_index_steps(
    ctx: typer.Context,
    corpus: Path = typer.Option(..., "--corpus", help="Folder of article files (a scratch copy is indexed)."),
    formats: int = typer.Option(
        200, "--formats", help="Then ingest this many of its articles as .txt, .html and .jsonl (0: skip)."
    ),
) -> None:
    """Time index builds on a copy of a corpus: full build, add 1, change 1, remove 1, no change; then print JSON.

    With --formats N, the same N articles are then indexed as text files, web pages and a JSONL
    export: articles/s of extraction alone and of a full build, for each format.
    """
    from litopys.bench.index_steps import index_steps

    if not corpus.is_dir():
        print(f"error: corpus folder not found: {corpus}", file=sys.stderr)
        raise typer.Exit(2)
    try:
        results = index_steps(_settings(ctx), corpus, say=lambda line: print(line, flush=True))
        if formats:
            results["formats"] = _format_throughput(_settings(ctx), corpus, formats)
    except LitopysError as exc:
        _fail(exc)
    print(json.dumps(results, ensure_ascii=False))


@app.command("bench-index-backends")
def bench_index_backends(
    ctx: typer.Context,
    corpus: Path = typer.Option(..., "--corpus", help="Folder of article files (indexed into index_dir and Milvus)."),
    questions: Path = typer.Option(..., "--questions", help="JSON-lines question file (question, article)."),
    tile: int = typer.Option(1, "--tile", min=1, help="Also measure at N times the size (copies, no embedding)."),
    rounds: int = typer.Option(1, "--rounds", min=1, help="Times each question is asked for the latency figures."),
    milvus_build: bool = typer.Option(
        True, "--milvus-build/--no-milvus-build", help="Also build Milvus from the corpus (embeds again)."
    ),
    keep: bool = typer.Option(
        False, "--keep", help="Reuse the local index and a Milvus copy of it from an earlier run (no build times)."
    ),
) -> None:
    """Local vs Milvus ([index] uri/collection) in one run: build time, query p50/p95, recall of the gold article."""
    from litopys.bench.index_backends import index_backends

    if not corpus.is_dir():
        print(f"error: corpus folder not found: {corpus}", file=sys.stderr)
        raise typer.Exit(2)
    try:
        results = index_backends(
            _settings(ctx),
            corpus,
            questions,
            say=lambda line: err.print(line, highlight=False),
            tile=tile,
            rounds=rounds,
            milvus_build=milvus_build,
            keep=keep,
        )
    except LitopysError as exc:
        _fail(exc)
    print(json.dumps(results, ensure_ascii=False))


def _format_throughput(settings: Settings, corpus: Path, limit: int) -> dict[str, dict]:
    from litopys.bench.formats import format_line, format_throughput
    from litopys.index.embedder import load_embedder

    results = format_throughput(settings, load_embedder(settings.embedder), corpus, limit)
    for name, figures in results.items():
        print(format_line(name, figures), flush=True)
    return results


@app.command("bench-load")
def bench_load(
    ctx: typer.Context,
    questions: Path = typer.Option(
        ..., "--questions", help="JSON-lines question file (question, article, answer_any)."
    ),
    url: str | None = typer.Option(
        None,
        "--url",
        help="A running server on loopback (default: start `litopys serve --no-index` over the configured index).",
    ),
    server_pid: int | None = typer.Option(None, "--server-pid", help="With --url: the server's pid, for its RSS."),
    llm: str | None = typer.Option(None, "--llm", help="LLM for the started server (default: the settings' model)."),
    max_tokens: int | None = typer.Option(None, "--max-tokens", help="Answer length cap for the started server."),
    users: int = typer.Option(16, "--users", help="Concurrent simulated users."),
    duration: float = typer.Option(300, "--duration", help="Seconds during which users ask new questions."),
    drain: float = typer.Option(1200, "--drain", help="Seconds answers in flight may take after --duration."),
    max_requests: int | None = typer.Option(None, "--max-requests", help="Stop asking after this many in all."),
    startup_timeout: float = typer.Option(600, "--startup-timeout", help="Seconds to wait for the server to come up."),
    as_json: bool = typer.Option(False, "--json", help="Print only one JSON object: the summary and every request."),
) -> None:
    """Load test: simulated users ask through the chat's public API; exit 1 if any answer failed or was cut short."""
    from litopys.bench.load import LoadPlan, ServerToStart, print_report, run_load
    from litopys.rag.evaluation import load_questions
    from litopys.ui.server import login_pair

    settings = _settings(ctx)
    try:
        plan = LoadPlan([q.question for q in load_questions(questions)], users, duration, drain, max_requests)
        if not plan.questions:
            raise LitopysError(f"no questions in {questions}")
        start = None if url else ServerToStart(Path(settings.index_dir), llm, max_tokens)
        # The login the started server will ask for (it is always on loopback).
        auth = login_pair(settings.server.model_copy(update={"host": "127.0.0.1"}))
        run = run_load(
            plan,
            url=url,
            server_pid=server_pid,
            start=start,
            auth=auth,
            startup_timeout_s=startup_timeout,
            say=(lambda s: None) if as_json else (lambda s: print(s, flush=True)),
        )
    except LitopysError as exc:
        _fail(exc)
    if as_json:
        print(json.dumps(run.as_json(), ensure_ascii=False))
    else:
        print_report(run.summary, run.requests)
    if not run.ok:
        raise typer.Exit(1)


@app.command()
def serve(
    ctx: typer.Context,
    host: str | None = typer.Option(None, "--host", help="Interface to bind (default 127.0.0.1)."),
    port: int | None = typer.Option(None, "--port", help="Port (default 7860)."),
    corpus: Path | None = typer.Option(None, "--corpus", help="Folder of article files to index before serving."),
    skip_index: bool = typer.Option(False, "--no-index", help="Serve the existing index without updating it first."),
    allow_anonymous: bool = typer.Option(
        False,
        "--allow-anonymous",
        help="Allow a non-loopback --host without a login (LITOPYS_SERVER__AUTH_USER/_PASSWORD).",
    ),
    watch: bool = typer.Option(
        False, "--watch", help="Keep the index current as the corpus folder changes and feeds are due (watch.enabled)."
    ),
) -> None:
    """Index the corpus if needed, then serve the web chat."""
    from litopys.runtime import open_assistant
    from litopys.ui.server import launch, login_pair

    settings = _settings(ctx)
    if host:
        settings.server.host = host
    if port:
        settings.server.port = port
    if corpus:
        settings.corpus_dir = corpus
    if allow_anonymous:
        settings.server.allow_anonymous = True
    try:
        login_pair(settings.server)  # refuse unsafe settings before minutes of indexing and loading
        embedder = None
        if not skip_index:
            embedder, report = _run_index(settings, None, False, show_progress=True)
            err.print(
                f"index: added {report.added}, updated {report.updated}, removed {report.removed}, "
                f"unchanged {report.unchanged}, skipped {report.skipped}"
            )
        if watch:
            settings.watch.enabled = True
        assistant = open_assistant(settings, embedder)
        if settings.watch.enabled:
            from litopys.index.watch import start_watching

            # With --no-index the first sync runs here, in the background, while the chat already answers.
            start_watching(settings, assistant.embedder, _watch_plan(settings, initial_sync=skip_index))
        launch(assistant)
    except LitopysError as exc:
        _fail(exc)


if __name__ == "__main__":  # pragma: no cover
    app()
