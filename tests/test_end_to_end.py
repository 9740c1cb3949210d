"""The real pipeline on a small real corpus with the bundled offline models."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from litopys.core.config import load_settings

pytestmark = pytest.mark.slow

# Gold articles of a few dev questions plus distractors from the same outlets.
NER_FILES = ["0386.txt", "0368.txt", "0187.txt", "0552.txt", "0076.txt", "0001.txt", "0300.txt", "0500.txt"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, ner_uk, seed):
    root = tmp_path_factory.mktemp("corpus")
    seed.copy_to(root)
    (root / "ner").mkdir()
    for name in NER_FILES:
        shutil.copy(ner_uk / name, root / "ner" / name)
    return root


@pytest.fixture(scope="module")
def env(tmp_path_factory, corpus, model_cache, cli_env):
    return cli_env(corpus, tmp_path_factory.mktemp("index"), model_cache)


@pytest.fixture(scope="module")
def first_build(env, run_cli):
    return json.loads(run_cli(env, "index", "--json").stdout)


def test_index_reports_counts(first_build):
    assert first_build["added"] == 1 + len(NER_FILES)
    assert first_build["updated"] == first_build["removed"] == first_build["skipped"] == 0
    assert first_build["chunks_total"] > first_build["articles_total"]
    assert set(first_build) >= {"added", "updated", "removed", "unchanged", "skipped", "seconds"}


def test_ask_json_answers_the_seed_question_with_a_citation(env, first_build, run_cli, seed):
    out = json.loads(run_cli(env, "ask", seed.question, "--json").stdout)
    assert "Дмитрієв" in out["answer"]
    assert any(c["article_id"] == seed.article_id and "Дмитрієв" in c["text"] for c in out["citations"])
    assert out["passages"][0]["article_id"] == seed.article_id
    assert {"n", "article_id", "title", "date", "text", "score"} <= set(out["passages"][0])
    assert out["citations"][0]["date"] == "2025-12-17"
    assert out["timings"]["total_s"] > 0


def test_follow_up_question_is_rewritten_with_the_conversation(env, first_build, run_cli, seed):
    proc = run_cli(env, "chat", "--json", stdin=f"{seed.question}\nА хто з боку США?\n")
    first, second = (json.loads(line) for line in proc.stdout.splitlines())
    assert first["rewritten_question"] is None
    # The follow-up alone names no topic; the rewrite carries the conversation's.
    rewritten = second["rewritten_question"]
    assert "США" in rewritten and ("Майамі" in rewritten or "делегац" in rewritten), rewritten
    assert second["passages"][0]["article_id"] == seed.article_id
    assert any("Віткофф" in p["text"] for p in second["passages"][:2])
    assert second["grounding"]["claims"], second


def test_off_corpus_question_is_refused(env, first_build, run_cli):
    out = json.loads(run_cli(env, "ask", "Хто виграв чемпіонат світу з футболу 2018 року?", "--json").stdout)
    assert "немає відповіді" in out["answer"].lower()
    assert out["citations"] == []


def test_incremental_update_add_change_remove(env, corpus, first_build, run_cli, seed):
    (corpus / "new.txt").write_text(
        "date 2024-11-14 Нова стаття\nУ Харкові відкрили новий міст через річку Лопань.", encoding="utf-8"
    )
    copy = corpus / seed.article_id
    copy.write_text(copy.read_text(encoding="utf-8") + "\nДодатковий абзац.", encoding="utf-8")
    (corpus / "ner" / NER_FILES[-1]).unlink()
    report = json.loads(run_cli(env, "index", "--json").stdout)
    assert (report["added"], report["updated"], report["removed"]) == (1, 1, 1)
    assert report["unchanged"] == len(NER_FILES) - 1
    again = json.loads(run_cli(env, "index", "--json").stdout)
    assert (again["added"], again["updated"], again["removed"], again["chunks_embedded"]) == (0, 0, 0, 0)


def test_bad_file_is_skipped_with_reason_and_warning_exit(env, corpus, first_build, run_cli):
    bad = corpus / "broken.txt"
    bad.write_bytes("Заголовок\nтекст".encode("cp1251"))
    try:
        proc = run_cli(env, "index", "--json", check=False)
        assert proc.returncode == 5, proc.stderr
        report = json.loads(proc.stdout)
        assert report["skipped"] == 1
        assert "UTF-8" in report["issues"][0]["reason"]
    finally:
        bad.unlink()


def test_other_embedder_refuses_to_mix(env, first_build):
    from litopys.core.errors import IndexStateError
    from litopys.index.reader import IndexReader

    settings = load_settings(index_dir=env["LITOPYS_INDEX_DIR"])
    with pytest.raises(IndexStateError, match="run `litopys index`"):
        IndexReader(settings.index_dir, "bundled:minilm", 384)


def test_cli_errors_are_actionable(env, tmp_path, run_cli):
    proc = run_cli({**env, "LITOPYS_INDEX_DIR": str(tmp_path / "none")}, "ask", "Питання?", check=False)
    assert proc.returncode != 0
    assert "litopys index" in proc.stderr
    proc = run_cli({**env, "LITOPYS_CORPUS_DIR": str(tmp_path / "missing")}, "index", check=False)
    assert proc.returncode == 2 and "corpus folder not found" in proc.stderr


def test_changed_chunking_or_embedder_forces_a_full_rebuild_saying_why(env, first_build, tmp_path, run_cli):
    index_copy = tmp_path / "index"
    shutil.copytree(env["LITOPYS_INDEX_DIR"], index_copy)
    own = {**env, "LITOPYS_INDEX_DIR": str(index_copy)}
    report = json.loads(run_cli({**own, "LITOPYS_CHUNKING__TARGET_TOKENS": "80"}, "index", "--json").stdout)
    assert report["full_rebuild_reason"].startswith("chunking changed")
    assert report["chunks_embedded"] == report["chunks_total"] > first_build["chunks_total"]
    report = json.loads(run_cli({**own, "LITOPYS_EMBEDDER__MODEL": "bundled:minilm"}, "index", "--json").stdout)
    assert report["full_rebuild_reason"].startswith("embedder changed (bundled:use-m3 -> bundled:minilm)")
    # An unchanged second run is incremental again.
    again = json.loads(run_cli({**own, "LITOPYS_EMBEDDER__MODEL": "bundled:minilm"}, "index", "--json").stdout)
    assert again["full_rebuild_reason"] is None and again["chunks_embedded"] == 0


def test_title_task_compares_signals(env, corpus, run_cli):
    out = json.loads(run_cli(env, "eval", "--titles", "--corpus", str(corpus), "--json").stdout)
    assert out["queries"] == len(list(corpus.rglob("*.txt")))
    for signal in ("bm25", "dense", "hybrid"):
        assert set(out[signal]) == {"recall_at_1", "recall_at_5", "recall_at_10", "mrr"}
    # On a handful of distinct articles every signal finds most of them from the title alone.
    assert out["bm25"]["recall_at_5"] >= 0.8 and out["hybrid"]["mrr"] >= 0.8
    assert out["hybrid_settings"]["dense_weight"] == 0.3


def test_eval_over_another_corpus_leaves_the_users_index_alone(env, first_build, corpus, tmp_path, run_cli):
    """Before, `eval --corpus OTHER` rebuilt the configured index from OTHER: the user's articles were gone."""
    other = tmp_path / "other"
    other.mkdir()
    for name in NER_FILES[:3]:
        shutil.copy(corpus / "ner" / name, other / name)
    index = Path(env["LITOPYS_INDEX_DIR"])
    before = {p.name: p.stat().st_mtime_ns for p in index.iterdir()}
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({"question": "Хто?", "article": NER_FILES[0], "answer_any": []}), encoding="utf-8")
    args = ("eval", "--questions", str(questions), "--corpus", str(other), "--retrieval-only", "--json")
    assert json.loads(run_cli(env, *args).stdout)["retrieval"]["questions"] == 1
    assert {p.name: p.stat().st_mtime_ns for p in index.iterdir()} == before
    again = json.loads(run_cli(env, "index", "--json").stdout)
    assert again["articles_total"] == first_build["articles_total"] and again["added"] == again["removed"] == 0
    # An --index-dir given on the command line is where the eval indexes.
    chosen = tmp_path / "chosen"
    run_cli(env, "--index-dir", str(chosen), *args)
    assert (chosen / "litopys.sqlite3").is_file()


def test_eval_json_reports_the_stable_fields(env, corpus, tmp_path, run_cli, seed):
    questions = tmp_path / "q.jsonl"
    rows = [
        {"question": seed.question, "article": seed.article_id, "answer_any": ["Дмитрієв"]},
        {
            "question": "У якому селі ПП «Ашлар» будує базу відпочинку?",
            "article": "0552.txt",
            "answer_any": ["Коблеве"],
        },
        {"question": "Скільки населення має Австралія?", "article": None, "answer_any": []},
    ]
    questions.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    small = {**env, "LITOPYS_LLM__MODEL": "bundled:qwen2.5-coder-0.5b", "LITOPYS_LLM__MAX_TOKENS": "48"}
    only = json.loads(
        run_cli(
            small, "eval", "--questions", str(questions), "--corpus", str(corpus), "--retrieval-only", "--json"
        ).stdout
    )
    assert only["retrieval"]["recall_at_5"] == 1.0 and only["retrieval"]["questions"] == 2
    assert "answers" not in only
    out = json.loads(run_cli(small, "eval", "--questions", str(questions), "--corpus", str(corpus), "--json").stdout)
    for section, key in [
        ("retrieval", "recall_at_5"),
        ("answers", "correct_rate"),
        ("citations", "precision"),
        ("refusals", "unanswerable_refused_rate"),
        ("refusals", "answerable_refused_rate"),
        ("timing", "median_s"),
        ("timing", "completion_tokens_total"),
    ]:
        assert isinstance(out[section][key], float), (section, key)
    assert len(out["rows"]) == 3 and out["timing"]["median_s"] > 0
    assert {"correct", "refused", "citations", "grounding", "flagged", "seconds"} <= set(out["rows"][0])


def test_eval_explains_a_bad_question_file(env, tmp_path, run_cli):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "Хто?", "article": null}\nnot json\n', encoding="utf-8")
    proc = run_cli(env, "eval", "--questions", str(bad), "--retrieval-only", check=False)
    assert proc.returncode == 1 and "bad.jsonl:2" in proc.stderr


def test_eval_suite_reports_every_run_and_the_pooled_figures(env, corpus, tmp_path, run_cli, seed):
    answerable = tmp_path / "answerable.jsonl"
    answerable.write_text(
        json.dumps(
            {"question": seed.question, "article": seed.article_id, "answer_any": ["Дмитрієв"]}, ensure_ascii=False
        )
        + "\n",
        encoding="utf-8",
    )
    near = tmp_path / "near.jsonl"
    near.write_text(
        json.dumps(
            {"question": "Скільки років Кирилу Дмитрієву?", "article": None, "answer_any": []}, ensure_ascii=False
        )
        + "\n",
        encoding="utf-8",
    )
    suite = tmp_path / "suite.toml"
    suite.write_text(
        f'[[run]]\nname = "seed"\nquestions = "{answerable}"\ncorpus = "{corpus}"\n'
        f'[[run]]\nname = "near"\nquestions = "{near}"\ncorpus = "{corpus}"\nkind = "near_miss"\n',
        encoding="utf-8",
    )
    small = {**env, "LITOPYS_LLM__MODEL": "bundled:qwen2.5-coder-0.5b", "LITOPYS_LLM__MAX_TOKENS": "48"}
    kept = tmp_path / "rows.jsonl"
    proc = run_cli(small, "eval", "--suite", str(suite), "--json", "--rows", str(kept))
    out = json.loads(proc.stdout)
    assert set(out["runs"]) == {"seed", "near"}
    streamed = [json.loads(line) for line in kept.read_text(encoding="utf-8").splitlines()]
    assert [(r["run"], r["question"]) for r in streamed] == [
        (name, row["question"]) for name in ("seed", "near") for row in out["runs"][name]["rows"]
    ]
    assert out["runs"]["near"]["kind"] == "near_miss" and len(out["runs"]["seed"]["rows"]) == 1
    assert out["aggregate"]["answerable"] == 1 and out["aggregate"]["unanswerable"] == 1
    assert "russian_letters" in out["runs"]["seed"]["rows"][0]
    assert "2/2" in proc.stderr  # the progress bar counts the questions of every run on stderr
    table = run_cli(small, "eval", "--suite", str(suite), "--only", "near").stdout
    assert "| near | near_miss | 1 |" in table and "| seed |" not in table
