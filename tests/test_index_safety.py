"""Adding articles is safe: builds killed at any moment, two writers at once, readers that never restart.

Real `python -m litopys.cli` subprocesses with the bundled embedder on a small real corpus
(the seed plus four ner-uk articles). Deterministic kills use the builder's test-only
fault injection (LITOPYS_FAULT_AT=<point> makes the build SIGKILL itself there).
"""

from __future__ import annotations

import json
import shutil
import signal
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from litopys.core.config import Settings, load_settings
from litopys.core.errors import IndexBusyError
from litopys.index.builder import DB_NAME, LOCK_NAME, build_index
from litopys.index.reader import IndexReader, verify_index
from litopys.index.store import Store
from litopys.rag.retrieval import Retriever

pytestmark = pytest.mark.slow

NER_FILES = ["0386.txt", "0368.txt", "0187.txt", "0552.txt"]
# An article the corpus changes remove, and a question only it answers.
REMOVED_ID = "ner/0552.txt"
REMOVED_QUESTION = "Хто керує ПП «Ашлар», пов'язаним з керівником Миколаївської місцевої прокуратури?"
# A new article with a made-up fact no other article mentions.
NEW_ID = "new/zhyrafy.txt"
NEW_TEXT = (
    "date 2025-03-01 У Полтаві відкрили музей синіх жирафів\n"
    "Музей синіх жирафів у Полтаві відкрив меценат Остап Вербицький. "
    "У колекції музею сорок сім порцелянових жирафів, розписаних кобальтом.\n"
)
NEW_QUESTION = "Хто відкрив музей синіх жирафів у Полтаві?"
FAULT_POINTS = ["embedding", "vectors-written", "committed"]


# --- helpers -----------------------------------------------------------------------------


def corpus_ids(corpus: Path) -> set[str]:
    return {p.relative_to(corpus).as_posix() for p in corpus.rglob("*") if p.suffix in (".txt", ".md")}


@dataclass(frozen=True)
class Published:
    """What a reader sees: the committed generation and the articles in it."""

    generation: int
    article_ids: frozenset[str]
    chunks: int


def published(index_dir: Path) -> Published:
    store = Store(index_dir / DB_NAME, readonly=True)
    try:
        gen = int(store.get_meta()["generation"])
        ids = frozenset(r[0] for r in store.conn.execute("SELECT id FROM articles"))
        return Published(gen, ids, store.counts()["chunks"])
    finally:
        store.close()


def vector_files(index_dir: Path) -> set[str]:
    return {p.name for p in index_dir.glob("vectors.*")}


def assert_consistent(index_dir: Path, corpus: Path, report: dict | None = None) -> Published:
    """The published generation is whole and matches the corpus; no leftovers of killed builds."""
    assert verify_index(index_dir) == []
    assert not [p.name for p in index_dir.iterdir() if p.name.endswith(".tmp")]
    now = published(index_dir)
    assert now.article_ids == corpus_ids(corpus)
    # Only the published generation and the one before it (kept for readers mid-switch).
    allowed = {f"vectors.{now.generation}.faiss", f"vectors.{now.generation - 1}.faiss"}
    assert f"vectors.{now.generation}.faiss" in vector_files(index_dir)
    assert vector_files(index_dir) <= allowed
    if report is not None:
        assert report["articles_total"] == len(now.article_ids) == len(corpus_ids(corpus))
        assert report["chunks_total"] == now.chunks
    return now


@dataclass
class Workspace:
    corpus: Path
    index_dir: Path
    env: dict[str, str]
    seed_id: str  # the seed article, and a question only it answers
    seed_question: str

    def settings(self) -> Settings:
        return load_settings(corpus_dir=self.corpus, index_dir=self.index_dir, cache_dir=self.env["LITOPYS_CACHE_DIR"])

    def change_corpus(self) -> None:
        """One added, one changed and one removed article."""
        (self.corpus / NEW_ID).parent.mkdir(exist_ok=True)
        (self.corpus / NEW_ID).write_text(NEW_TEXT, encoding="utf-8")
        copy = self.corpus / self.seed_id
        copy.write_text(copy.read_text(encoding="utf-8") + "\nДодатковий абзац про переговори.\n", encoding="utf-8")
        (self.corpus / REMOVED_ID).unlink()


def open_retriever(ws: Workspace, embedder) -> Retriever:
    settings = ws.settings()
    return Retriever(IndexReader(settings.index_dir, embedder.spec, embedder.dim), embedder, settings.retrieval)


def found(retriever: Retriever, question: str, top_k: int = 3) -> list[str]:
    return [p.article_id for p in retriever.search(question, top_k=top_k)]


def lexical_articles(retriever: Retriever, question: str, limit: int = 3) -> list[str]:
    chunks = retriever.reader.store.get_chunks([cid for cid, _ in retriever.lexical(question, limit)])
    return [c.article_id for c in chunks.values()]


def dense_articles(retriever: Retriever, question: str, limit: int = 5) -> list[str]:
    chunks = retriever.reader.store.get_chunks([cid for cid, _ in retriever.dense(question, limit)])
    return [c.article_id for c in chunks.values()]


def assert_answers_old_generation(retriever: Retriever, ws: Workspace) -> None:
    """The index from before the corpus change: the removed article is there, the new one is not."""
    assert found(retriever, ws.seed_question)[0] == ws.seed_id
    assert REMOVED_ID in found(retriever, REMOVED_QUESTION)
    assert NEW_ID not in found(retriever, NEW_QUESTION)


def assert_answers_new_generation(retriever: Retriever, ws: Workspace) -> None:
    assert found(retriever, ws.seed_question)[0] == ws.seed_id
    assert REMOVED_ID not in found(retriever, REMOVED_QUESTION, top_k=10)
    assert found(retriever, NEW_QUESTION)[0] == NEW_ID


# --- fixtures ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def base(tmp_path_factory, ner_uk, model_cache, cli_env, run_cli, seed) -> Path:
    """A corpus and its index, built once by the CLI; each test works on a copy."""
    root = tmp_path_factory.mktemp("base")
    (root / "corpus" / "ner").mkdir(parents=True)
    seed.copy_to(root / "corpus")
    for name in NER_FILES:
        shutil.copy(ner_uk / name, root / "corpus" / "ner" / name)
    env = cli_env(root / "corpus", root / "index", model_cache)
    report = json.loads(run_cli(env, "index", "--json").stdout)
    assert report["added"] == 1 + len(NER_FILES)
    assert_consistent(root / "index", root / "corpus", report)
    return root


@pytest.fixture
def ws(base, tmp_path, model_cache, cli_env, seed) -> Workspace:
    shutil.copytree(base / "corpus", tmp_path / "corpus")
    shutil.copytree(base / "index", tmp_path / "index")  # no process has it open: a clean copy
    env = cli_env(tmp_path / "corpus", tmp_path / "index", model_cache)
    return Workspace(tmp_path / "corpus", tmp_path / "index", env, seed.article_id, seed.question)


@pytest.fixture(scope="module")
def embedder(model_cache):
    from litopys.index.embedder import load_embedder

    return load_embedder(load_settings(cache_dir=model_cache).embedder)


# --- 1. crash safety ---------------------------------------------------------------------


@pytest.mark.parametrize("point", FAULT_POINTS)
def test_build_killed_at_a_fault_point_leaves_a_usable_index(ws, embedder, point, run_cli, seed):
    before = assert_consistent(ws.index_dir, ws.corpus)
    live = open_retriever(ws, embedder)  # a reader that stays open across the crash
    assert_answers_old_generation(live, ws)
    ws.change_corpus()

    proc = run_cli({**ws.env, "LITOPYS_FAULT_AT": point}, "index", "--json", check=False)
    assert proc.returncode == -signal.SIGKILL, f"exit {proc.returncode}\n{proc.stderr[-2000:]}"
    assert proc.stdout == ""

    # (i) what readers see after the crash is a whole generation that answers.
    assert verify_index(ws.index_dir) == []
    after = published(ws.index_dir)
    next_file = f"vectors.{before.generation + 1}.faiss"
    if point == "committed":
        # The new generation was published; the old vector file was not yet cleaned up.
        assert after.generation == before.generation + 1
        assert after.article_ids == corpus_ids(ws.corpus)
        assert f"vectors.{before.generation}.faiss" in vector_files(ws.index_dir)
        check = assert_answers_new_generation
    else:
        assert after == before
        # "vectors-written" died with the next generation's file complete on disk but unnamed.
        assert (next_file in vector_files(ws.index_dir)) == (point == "vectors-written")
        check = assert_answers_old_generation
    check(live, ws)
    fresh = open_retriever(ws, embedder)
    check(fresh, ws)
    fresh.reader.close()

    if point == "vectors-written":
        # One real `ask --json` (small LLM, short answer) against the index a killed build left.
        ask_env = {
            **ws.env,
            "LITOPYS_LLM__MODEL": "bundled:qwen2.5-coder-0.5b",
            "LITOPYS_LLM__MAX_TOKENS": "48",
            "LITOPYS_RETRIEVAL__TOP_K": "2",
        }
        t = time.monotonic()
        out = json.loads(run_cli(ask_env, "ask", seed.question, "--json").stdout)
        print(f"ask --json took {time.monotonic() - t:.1f} s: {out['timings']}")
        assert out["passages"][0]["article_id"] == seed.article_id
        assert out["answer"].strip()
        # A kill inside faiss.write_index would also leave a partial temp file behind.
        (ws.index_dir / f"{next_file}.tmp").write_bytes(b"partial vector file")

    # (ii) the next run completes and leaves a consistent index that matches the corpus.
    proc = run_cli(ws.env, "index", "--json")
    report = json.loads(proc.stdout)
    if point == "committed":
        assert (report["added"], report["updated"], report["removed"], report["chunks_embedded"]) == (0, 0, 0, 0)
    else:
        assert (report["added"], report["updated"], report["removed"]) == (1, 1, 1)
    assert report["full_rebuild_reason"] is None  # the crash did not cost a full re-embedding
    final = assert_consistent(ws.index_dir, ws.corpus, report)
    # A run with nothing left to do publishes nothing new.
    assert final.generation == after.generation if point == "committed" else final.generation > after.generation
    assert_answers_new_generation(live, ws)  # the reader open since before the crash follows
    live.reader.close()


def test_full_rebuild_killed_at_a_random_moment_leaves_a_usable_index(ws, embedder, run_cli, spawn, wait_for, rng):
    before = assert_consistent(ws.index_dir, ws.corpus)
    live = open_retriever(ws, embedder)
    delay = rng.uniform(0.0, 2.5)
    log = ws.index_dir.parent / "rebuild.stderr"
    for attempt in range(5):  # noqa: B007 (reported after the loop)
        proc = spawn(ws.env, log, "index", "--rebuild")
        # Logged once the build holds the lock and starts chunking and embedding everything.
        wait_for(lambda: "full rebuild: requested" in log.read_text(), "the rebuild to start", proc)
        time.sleep(delay)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.communicate(timeout=60)
            break
        proc.communicate(timeout=60)
        print(f"rebuild finished within {delay:.2f} s; trying a shorter delay")
        delay /= 3
    else:
        pytest.fail("the rebuild always finished before the kill")
    assert proc.returncode == -signal.SIGKILL
    after = published(ws.index_dir)
    print(
        f"killed {delay:.2f} s into the rebuild (attempt {attempt + 1}); generation {before.generation} -> {after.generation}"
    )

    # (i) the old generation (or, had the kill come after the commit, the new one) answers.
    assert verify_index(ws.index_dir) == []
    assert after.generation >= before.generation
    assert after.article_ids == before.article_ids
    assert_answers_old_generation(live, ws)  # the corpus did not change, only the embeddings
    fresh = open_retriever(ws, embedder)
    assert_answers_old_generation(fresh, ws)
    fresh.reader.close()

    # (ii) the next plain run completes: nothing changed in the corpus, so nothing to embed.
    report = json.loads(run_cli(ws.env, "index", "--json").stdout)
    assert (report["added"], report["updated"], report["removed"]) == (0, 0, 0)
    assert report["unchanged"] == len(corpus_ids(ws.corpus))
    assert_consistent(ws.index_dir, ws.corpus, report)
    assert_answers_old_generation(live, ws)
    live.reader.close()


# --- 2. one writer -----------------------------------------------------------------------


def test_second_writer_fails_fast_and_corrupts_nothing(ws, embedder, run_cli, spawn, wait_for):
    before = assert_consistent(ws.index_dir, ws.corpus)
    ws.change_corpus()
    lock = ws.index_dir / LOCK_NAME
    log = ws.index_dir.parent / "first.stderr"
    started = time.monotonic()
    first = spawn(ws.env, log, "index", "--json")
    reader = None
    try:
        wait_for(lambda: lock.exists() and f"pid {first.pid}" in lock.read_text(), "the first build to lock", first)
        first_startup = time.monotonic() - started  # interpreter + embedder + corpus before the lock
        first.send_signal(signal.SIGSTOP)  # hold it inside its build while the second one tries

        t = time.monotonic()
        second = run_cli(ws.env, "index", "--json", check=False)
        second_seconds = time.monotonic() - t
        assert second.returncode == IndexBusyError.exit_code == 6, second.stderr[-2000:]
        assert second.stdout == ""
        message = second.stderr.strip()
        assert message == (
            f"error: another build (pid {first.pid}) is updating the index at {ws.index_dir}; "
            "try again when it finishes"
        )
        assert "Traceback" not in message
        # Fails before loading the embedder, i.e. faster than the first build needed to get going.
        print(f"second writer failed in {second_seconds:.1f} s; the first needed {first_startup:.1f} s to lock")
        assert second_seconds < first_startup, (second_seconds, first_startup)

        # Readers are not blocked by the stalled writer and still see the previous generation.
        assert verify_index(ws.index_dir) == []
        assert published(ws.index_dir) == before
        reader = open_retriever(ws, embedder)
        assert_answers_old_generation(reader, ws)
    finally:
        first.send_signal(signal.SIGCONT)
    out, _ = first.communicate(timeout=300)
    assert first.returncode == 0, log.read_text()[-2000:]
    report = json.loads(out)
    assert (report["added"], report["updated"], report["removed"]) == (1, 1, 1)
    assert_consistent(ws.index_dir, ws.corpus, report)
    assert_answers_new_generation(reader, ws)
    reader.reader.close()


# --- 3. readers switch without restart ---------------------------------------------------


def test_open_retriever_sees_added_and_removed_articles_without_reopening(ws, embedder, seed):
    settings = ws.settings()
    retriever = open_retriever(ws, embedder)
    assert NEW_ID not in lexical_articles(retriever, NEW_QUESTION)
    assert found(retriever, seed.question)[0] == seed.article_id
    # Dense hits of the generation open now, to be looked up again after later builds.
    stale = retriever.dense(REMOVED_QUESTION, 50)
    stale_chunks = retriever.reader.store.get_chunks([cid for cid, _ in stale])

    # Add an article with a new fact: the same Retriever finds it through both signals.
    (ws.corpus / NEW_ID).parent.mkdir()
    (ws.corpus / NEW_ID).write_text(NEW_TEXT, encoding="utf-8")
    report = build_index(settings, embedder)
    assert (report.added, report.updated, report.removed) == (1, 0, 0)
    assert lexical_articles(retriever, NEW_QUESTION)[0] == NEW_ID
    assert NEW_ID in dense_articles(retriever, NEW_QUESTION)
    assert found(retriever, NEW_QUESTION)[0] == NEW_ID
    assert "Вербицький" in retriever.search(NEW_QUESTION, top_k=1)[0].text
    assert found(retriever, seed.question)[0] == seed.article_id
    assert REMOVED_ID in found(retriever, REMOVED_QUESTION)

    # Remove it again (incremental): it disappears from both signals.
    (ws.corpus / NEW_ID).unlink()
    report = build_index(settings, embedder)
    assert (report.added, report.updated, report.removed) == (0, 0, 1)
    assert NEW_ID not in lexical_articles(retriever, NEW_QUESTION, 50)
    assert NEW_ID not in dense_articles(retriever, NEW_QUESTION, 50)
    assert NEW_ID not in found(retriever, NEW_QUESTION, top_k=10)

    # Remove another one and lengthen the first article, through a full rebuild: the removed
    # article is gone too, the rest still answers.
    (ws.corpus / REMOVED_ID).unlink()
    copy = ws.corpus / seed.article_id
    extra = " ".join(f"Додатковий абзац {n} про переговори делегацій у Майамі." for n in range(40))
    copy.write_text(copy.read_text(encoding="utf-8") + "\n" + extra + "\n", encoding="utf-8")
    report = build_index(settings, embedder, force_rebuild=True)
    assert report.full_rebuild_reason and report.articles_total == len(NER_FILES)  # seed + 3 ner
    assert REMOVED_ID not in lexical_articles(retriever, REMOVED_QUESTION, 50)
    assert REMOVED_ID not in dense_articles(retriever, REMOVED_QUESTION, 50)
    assert REMOVED_ID not in found(retriever, REMOVED_QUESTION, top_k=10)
    assert found(retriever, seed.question)[0] == seed.article_id
    assert_consistent(ws.index_dir, ws.corpus)

    # A reader that searched an older generation's vectors just before a build published must
    # find, under those chunk ids, the same passage or none, never another one (ids not reused).
    now = retriever.reader.store.get_chunks(list(stale_chunks))
    for cid, chunk in now.items():
        assert (chunk.article_id, chunk.text) == (stale_chunks[cid].article_id, stale_chunks[cid].text), cid
    retriever.reader.close()
