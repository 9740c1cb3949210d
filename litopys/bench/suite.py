"""`litopys bench`: how long users wait, measured against the raw components and LlamaIndex in the same run.

Sections: indexing overhead, retrieval latency at ~10k and ~100k chunks (flat vs
HNSW, recall), answering (our ask vs a bare llama.cpp call, prompt-prefix
cache, a new process's first token, a fresh `litopys serve`'s first answer vs
its later ones through its HTTP API), user-felt waiting on a question set vs a
naive pipeline, peak RSS of the serving process, and LlamaIndex as a peer.
Machines are noisy: every figure is paired with a reference measured in the
same run, and ratios carry the targets. Scratch indexes live under
``<cache_dir>/bench`` and are reused while the corpus and settings are unchanged.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from statistics import median
from typing import TYPE_CHECKING

from litopys.bench.report import BenchReport, Figure

if TYPE_CHECKING:  # imported where used: they load the LLM bindings
    from litopys.bench.answering import AskRun, CacheRun, ColdRun, Timed
from litopys.core.config import Settings
from litopys.core.measure import percentile
from litopys.index.corpus import load_corpus
from litopys.index.embedder import Embedder, SentenceEmbedder

log = logging.getLogger(__name__)

TILE_COPIES = 10


@dataclass(frozen=True)
class BenchPlan:
    """How much of each section to run (``--quick`` takes subsets)."""

    quick: bool
    index_texts: int | None  # None: the whole corpus
    ask_questions: int | None
    bare_questions: int
    cache_questions: int
    cold_questions: int
    naive_questions: int
    query_repeats: int
    serve_questions: int  # asked of a fresh `litopys serve`: Q1..Qn, then Q1 again

    @classmethod
    def make(cls, quick: bool) -> BenchPlan:
        if quick:  # sized for under 10 minutes on 2 busy cores, with the scratch indexes cached
            return cls(True, 60, 4, 2, 1, 1, 4, 4, 3)
        return cls(False, None, None, 6, 4, 3, 5, 4, 5)


def _questions(path: Path | None, corpus: Path, settings: Settings) -> tuple[list[str], str]:
    if path is not None:
        from litopys.rag.evaluation import load_questions

        return [q.question for q in load_questions(path)], f"questions from {path.name}"
    articles, _ = load_corpus(corpus, settings.max_file_bytes)
    return [a.title for a in articles[:20]], "article titles as questions (no --questions given)"


def _subset_corpus(corpus: Path, n: int | None, target: Path) -> Path:
    files = sorted(p for p in corpus.rglob("*") if p.is_file() and p.suffix in (".txt", ".md"))
    if n is not None:
        files = files[:n]
    for f in files:
        dest = target / f.relative_to(corpus)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(f, dest)
    return target


def run_bench(
    settings: Settings,
    corpus: Path,
    questions_path: Path | None,
    quick: bool,
    say: Callable[[str], None] = lambda s: None,
) -> BenchReport:
    """Run every section and return the report."""
    from litopys.index.embedder import load_embedder

    plan = BenchPlan.make(quick)
    report = BenchReport(quick)
    bench_dir = Path(settings.cache_dir) / "bench"
    bench_dir.mkdir(parents=True, exist_ok=True)
    questions, source = _questions(questions_path, corpus, settings)
    report.notes.append(f"corpus {corpus}; {source} ({len(questions)})")
    report.notes.append(f"load average at start {_load()} on {os.cpu_count()} cores (absolute times scale with it)")

    def section(name: str):
        say(f"bench: {name} ...")
        return _Timer(report, name)

    embedder = load_embedder(settings.embedder)
    with tempfile.TemporaryDirectory(prefix="litopys-bench-") as tmp:
        tmp_dir = Path(tmp)
        subset = _subset_corpus(corpus, plan.index_texts, tmp_dir / "corpus")
        with section("indexing"):
            built = _indexing(report, settings, embedder, subset, tmp_dir / "index", plan)
        with section("llamaindex"):
            _llamaindex(report, settings, embedder, subset, tmp_dir, questions, built)
    with section("retrieval"):
        full_index = _full_index(settings, embedder, corpus, bench_dir)
        _retrieval(report, settings, embedder, full_index, bench_dir, questions * plan.query_repeats)
    run = settings.model_copy(update={"index_dir": full_index, "corpus_dir": corpus})
    with section("memory"):
        _memory(report, run, questions[0])
    with section("answering"):
        _answering(report, run, embedder, corpus, questions, plan)
    report.notes.append(f"load average at end {_load()}")
    return report


def _load() -> str:
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


class _Timer:
    def __init__(self, report: BenchReport, name: str) -> None:
        self.report, self.name = report, name

    def __enter__(self) -> None:
        self.t = time.perf_counter()

    def __exit__(self, *exc) -> None:
        self.report.seconds[self.name] = time.perf_counter() - self.t


def _indexing(
    report: BenchReport, settings: Settings, embedder: SentenceEmbedder, subset: Path, index_dir: Path, plan: BenchPlan
):
    from litopys.bench.indexing import indexing_overhead

    run = indexing_overhead(settings, embedder, subset, index_dir)
    note = (
        f"{run.articles} texts, {run.chunks} chunks"
        + (" (subset: first texts of the corpus)" if plan.quick else "")
        + "; fastest of 2 alternating runs each, lemma cache emptied before each build"
    )
    report.add(
        Figure(
            "index.overhead_ratio",
            "indexing: full pipeline (parse, chunk, lemmatize, embed, write)",
            run.pipeline_s,
            "s",
            run.raw_encode_s,
            "raw SentenceTransformer.encode",
            "<= 1.10",
            note,
        ),
        Figure("index.chunks_per_s", "indexing throughput", run.chunks / run.pipeline_s, "chunks/s"),
    )
    return run


def _llamaindex(
    report: BenchReport, settings: Settings, embedder: SentenceEmbedder, subset: Path, tmp: Path, questions, built
) -> None:
    from litopys.bench import llamaindex_peer
    from litopys.bench.indexing import retrieval_latency

    why = llamaindex_peer.available()
    if why:
        report.notes.append(f"LlamaIndex section skipped: {why}")
        return
    c = settings.chunking
    run = llamaindex_peer.llamaindex_run(
        embedder, subset, tmp / "llamaindex", questions, c.target_tokens, c.overlap_tokens, settings.retrieval.top_k
    )
    ours = retrieval_latency(settings, embedder, tmp / "index", questions)
    ours_p50 = percentile(ours.total_ms, 50)
    report.add(
        Figure(
            "llamaindex.build_ratio",
            "LlamaIndex build (read, split, embed, persist FAISS)",
            run.build_s,
            "s",
            built.pipeline_s,
            "ours (incl. lemmatized BM25)",
            ">= 2",
            f"{run.nodes} LlamaIndex nodes vs our {built.chunks} chunks; same embedder; ratio = LlamaIndex/ours",
        ),
        Figure(
            "llamaindex.query_ratio",
            "LlamaIndex hybrid query p50 (BM25Retriever + vector, QueryFusionRetriever)",
            percentile(run.query_ms, 50),
            "ms",
            ours_p50,
            "ours p50 (hybrid BM25 + dense + fusion)",
            ">= 2",
            "ratio = LlamaIndex/ours; the LLM step is the same llama.cpp call and is not compared",
        ),
        Figure(
            "llamaindex.dense_query_ratio",
            "LlamaIndex dense-only query p50 (vector top-k, less work than ours)",
            percentile(run.dense_query_ms, 50),
            "ms",
            ours_p50,
            "ours p50 (hybrid)",
            "",
            f"query embedding alone p50 {percentile(ours.embed_ms, 50):.1f} ms: the floor both share",
        ),
    )


def _full_index(settings: Settings, embedder: Embedder, corpus: Path, bench_dir: Path) -> Path:
    from litopys.index.builder import build_index

    index_dir = bench_dir / "index-full"
    report = build_index(settings.model_copy(update={"corpus_dir": corpus, "index_dir": index_dir}), embedder)
    log.info("bench index: %d chunks (%d texts embedded now)", report.chunks_total, report.added + report.updated)
    return index_dir


def _retrieval(
    report: BenchReport, settings: Settings, embedder, index_dir: Path, bench_dir: Path, queries: list[str]
) -> None:
    from litopys.bench.indexing import retrieval_latency, tiled_index

    small = retrieval_latency(settings, embedder, index_dir, queries)
    t = time.perf_counter()
    big_dir = tiled_index(index_dir, bench_dir / f"index-x{TILE_COPIES}", TILE_COPIES)
    tile_s = time.perf_counter() - t
    big = retrieval_latency(settings, embedder, big_dir, queries)
    n = len(queries)
    threshold = settings.retrieval.hnsw_threshold
    for run, size in ((small, "10k"), (big, "100k")):
        report.add(
            Figure(
                f"retrieval.p95_ms_{size}",
                f"query p95 at {run.chunks:,} chunks, {run.index_type}",
                percentile(run.total_ms, 95),
                "ms",
                target="<= 50" if size == "100k" else "",
                note=f"p50 {percentile(run.total_ms, 50):.1f} ms over {n} queries (embed + BM25 + FAISS + "
                f"fusion + fetch); query embedding alone p95 {percentile(run.embed_ms, 95):.1f} ms",
            ),
            Figure(
                f"retrieval.search_p95_ms_{size}",
                f"the same without the query embedding, p95 at {size}",
                percentile(run.search_ms, 95),
                "ms",
                note=f"BM25 p95 {percentile(run.bm25_ms, 95):.1f} ms, FAISS p95 {percentile(run.dense_ms, 95):.2f} ms",
            ),
        )
    report.add(
        Figure(
            "retrieval.faiss_p95_ms_100k",
            f"FAISS search p95 at {big.chunks:,} ({big.index_type})",
            percentile(big.dense_ms, 95),
            "ms",
            percentile(big.exact_dense_ms, 95),
            "exact flat search",
            "",
            f"HNSW from {threshold:,} chunks (retrieval.hnsw_threshold); graph built+cached in {big.open_s:.0f} s "
            f"on first open; tiled index ({TILE_COPIES} copies, reused embeddings) ready in {tile_s:.0f} s",
        ),
    )
    if big.recall_at_10 is not None:
        report.add(
            Figure(
                "retrieval.recall_at_10_100k", "HNSW recall@10 vs exact flat", big.recall_at_10, "", target=">= 0.98"
            )
        )


def _memory(report: BenchReport, settings: Settings, question: str) -> None:
    """Peak RSS of a process holding what `serve` holds: both models, the index, the Gradio app."""
    from litopys.rag.gguf import resolve_gguf

    # A fresh process: this one's peak already holds the indexing and LlamaIndex sections.
    payload = settings.model_dump_json(exclude={"llm": {"api_key"}})
    proc = subprocess.run(
        [sys.executable, "-m", "litopys.cli", "bench-probe-rss", "--settings-stdin", question],
        input=payload,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    if proc.returncode != 0:
        report.notes.append(f"memory probe failed: {proc.stderr.strip()[-300:]}")
        return
    rss_mb = json.loads(proc.stdout.strip().splitlines()[-1])["max_rss_mb"]
    in_process = settings.llm.backend == "llama_cpp"
    gguf_mb = resolve_gguf(settings.llm.model, settings.cache_dir).stat().st_size / 2**20 if in_process else None
    report.add(
        Figure(
            "memory.serve_peak_rss_mb",
            "peak RSS: serve's models + index + chat app, one answer",
            rss_mb,
            "MB",
            gguf_mb,
            "LLM file size" if in_process else "",
            "",
            "same process content as `litopys serve` (Gradio app built, not bound to a port)",
        )
    )


def serve_peak_rss_mb(settings: Settings, question: str) -> float:
    """Peak RSS (MB) of this process after loading what `serve` holds and answering ``question``.

    Both models, the index and the Gradio app (built, not bound to a port): run it in a fresh
    process, as `litopys bench-probe-rss` does, or the figure includes whatever ran before.
    """
    import resource

    from litopys.runtime import open_assistant
    from litopys.ui.app import build_app

    assistant = open_assistant(settings)
    build_app(assistant)
    assistant.answerer.ask(question)
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _answering(
    report: BenchReport, settings: Settings, embedder, corpus: Path, questions: list[str], plan: BenchPlan
) -> None:
    from litopys.bench.answering import NaiveBM25, ask_vs_bare, cold_vs_warm, naive_answer, prefix_cache_gain
    from litopys.rag.llm import LlamaCppChat
    from litopys.runtime import open_assistant

    assistant = open_assistant(settings, embedder)
    answerer = assistant.answerer
    if not isinstance(answerer.llm, LlamaCppChat):
        report.notes.append("answering sections need llm.backend = 'llama_cpp' (the bare reference runs in-process)")
        return
    asked = questions[: plan.ask_questions]
    subset = " (subset)" if plan.quick else ""
    if answerer.llm.prefixes is None:
        report.notes.append("cold-process figures need llm.save_prefix_cache = true (and keep_prefix_cache)")
    else:
        _cold_figures(report, cold_vs_warm(answerer, settings, asked[: plan.cold_questions]), subset)
    runs = ask_vs_bare(answerer, asked, plan.bare_questions)
    _ask_figures(report, runs, subset)
    _budget_figure(report, answerer, corpus, asked, subset)
    # Earlier questions than the last one asked: the answer snapshot holds another question's prompt.
    cache = prefix_cache_gain(answerer, asked[: min(plan.cache_questions, len(asked) - 1)] or asked[:1])
    _cache_figure(report, cache, subset)
    articles, _ = load_corpus(corpus, settings.max_file_bytes)
    bm25 = NaiveBM25(articles)
    naive_qs = asked[: plan.naive_questions]
    naive = [naive_answer(answerer.llm, bm25, q) for q in naive_qs]
    _waiting_figures(report, runs, naive, subset)
    assistant.close()
    # Questions that reached the model here (not refused before generation): a refusal times no LLM.
    generated = [r.question for r in runs if r.ours.tokens > 0] or asked
    _serve_figures(report, settings, generated[: plan.serve_questions], subset)


def _serve_figures(report: BenchReport, settings: Settings, questions: list[str], subset: str) -> None:
    """A fresh `litopys serve`: its first answer vs its later ones, through the chat's HTTP API."""
    from litopys.bench.serve_first import serve_figures, serve_first_vs_later
    from litopys.core.errors import LitopysError

    try:
        report.add(*serve_figures(serve_first_vs_later(settings, questions), subset))
    # The other sections' figures stand: say why these are missing (a server error, the API client's
    # HTTP errors) rather than lose the whole report at its end. The server is stopped either way.
    except LitopysError as exc:
        report.notes.append(f"serve first-answer figures missing: {exc}")
    except Exception as exc:
        log.exception("serve section failed")
        report.notes.append(f"serve first-answer figures missing: {type(exc).__name__}: {exc}")


def _ask_figures(report: BenchReport, runs: list[AskRun], subset: str) -> None:
    """Our ask vs the bare llama.cpp call on the identical prompt: first token and decode rate."""
    with_bare = [r for r in runs if r.bare]
    bare = [r.bare for r in with_bare if r.bare]
    report.add(
        Figure(
            "answer.ttft_ratio",
            "time to first token, our ask (from the question: retrieval + prompt + LLM)",
            median(r.ours.ttft_s for r in with_bare),
            "s",
            median(b.ttft_s for b in bare),
            "bare Llama.create_chat_completion, identical prompt",
            "<= 1.05",
            f"median of {len(with_bare)} questions{subset}, both from the same KV state; from the LLM call "
            f"alone {median(r.ours_generation.ttft_s for r in with_bare):.2f} s",
        ),
        Figure(
            "answer.decode_ratio",
            "decode rate, our ask",
            median(r.ours_generation.decode_tps for r in with_bare),
            "tok/s",
            median(b.decode_tps for b in bare),
            "bare call",
            ">= 0.95",
        ),
    )


def _budget_figure(report: BenchReport, answerer, corpus: Path, questions: list[str], subset: str) -> None:
    """Tokens of the user message (passages and question, the part no cache covers), with and without the budget."""
    from litopys.bench.prompt_budget import user_tokens

    before, after = user_tokens(answerer, questions)
    if not after:
        report.notes.append("passage budget figure: every question was refused before generation")
        return
    report.add(
        Figure(
            "wait.user_tokens_p90",
            f"user message tokens per answer, p90, passage budget {answerer.prompt.passage_tokens}",
            percentile(after, 90),
            "tok",
            percentile(before, 90),
            "no passage budget (prompt.passage_tokens = 0), same questions",
            "",
            f"corpus {corpus.name}; median {median(after):.0f} vs {median(before):.0f} over {len(after)} questions"
            f"{subset} that reach the LLM; the model's tokenizer; target p90 <= 500 on news",
        )
    )


def _cold_figures(report: BenchReport, runs: list[ColdRun], subset: str) -> None:
    """A new process's first token, its prefixes loaded from the prefix cache or evaluated, vs a warm process."""
    if not runs:
        report.notes.append("cold-process figures: every question was refused before generation")
        return
    warm = median(r.warm_s for r in runs)
    common = f"median of {len(runs)} questions{subset}; `litopys ask --json` timings.first_token_s (from the LLM call)"
    report.add(
        Figure(
            "answer.cold_ttft_ratio",
            "first token of `litopys ask` in a new process, saved prefix loaded",
            median(r.loaded_s for r in runs),
            "s",
            warm,
            "warm process (prefixes in memory), same question",
            "<= 1.2",
            f"{common}; whole process {median(r.loaded_wall_s for r in runs):.1f} s (models loaded too)",
        ),
        Figure(
            "answer.cold_ttft_evaluated_ratio",
            "... the prefix evaluated instead (llm.save_prefix_cache = false)",
            median(r.evaluated_s for r in runs),
            "s",
            warm,
            "warm process",
            "",
            f"{common}; whole process {median(r.evaluated_wall_s for r in runs):.1f} s",
        ),
    )


def _cache_figure(report: BenchReport, cache: list[CacheRun], subset: str) -> None:
    """First token after a follow-up rewrite, with and without the restored prompt snapshot."""
    report.add(
        Figure(
            "answer.prefix_cache_ttft_gain",
            "TTFT after a follow-up rewrite, system prompt snapshot restored",
            median(c.restored_s for c in cache),
            "s",
            median(c.evicted_s for c in cache),
            "re-evaluated (llama.cpp's own prefix reuse only)",
            "<= 0.5",
            f"median of {len(cache)} questions{subset}; ratio < 1 is the gain",
        )
    )


def _waiting_figures(report: BenchReport, runs: list[AskRun], naive: list[Timed], subset: str) -> None:
    """What a user waits for, ours vs the naive pipeline on the same questions."""
    ours_same = [r.ours for r in runs[: len(naive)]]
    ours = [r.ours for r in runs]
    report.add(
        Figure(
            "wait.prompt_tokens_median",
            "prompt tokens per answer, median",
            median(r.prompt_tokens for r in ours),
            "tok",
            median(n.prompt_tokens for n in naive),
            "naive pipeline",
            "",
            f"p90 {percentile([r.prompt_tokens for r in ours], 90):.0f}; not cached (last user turn) median "
            f"{median(r.new_prompt_tokens for r in ours):.0f}; target median <= 600",
        ),
        Figure(
            "wait.ttft_s_median",
            "time to first token, median",
            median(r.ttft_s for r in ours),
            "s",
            median(n.ttft_s for n in naive),
            "naive pipeline",
            "",
            f"p90 {percentile([r.ttft_s for r in ours], 90):.1f} s over {len(ours)} questions{subset}",
        ),
        Figure(
            "wait.total_s_median",
            "complete answer, median",
            median(r.total_s for r in ours),
            "s",
            note=f"p90 {percentile([r.total_s for r in ours], 90):.1f} s over {len(ours)} questions{subset}",
        ),
        Figure(
            "wait.total_ratio_vs_naive",
            "complete answer vs naive, same questions, median",
            median(r.total_s for r in ours_same),
            "s",
            median(n.total_s for n in naive),
            "naive pipeline",
            "< 0.40",
            f"{len(naive)} questions{subset}; naive (docs/quality.md): paragraph BM25 top 5, no few-shot, 160 tokens, "
            "whole prompt evaluated (no cached system prompt)",
        ),
    )
