"""What eval/news_kinds.jsonl measures without the LLM, in a few minutes instead of hours.

For every question: the path its words pick (rag.kinds), the date filter retrieval reads
(``Retriever.question_dates``, against ``dates``); for ``list`` questions the whole answer
(no LLM: recall@10); for the LLM kinds what the prompt would carry: for ``overview`` the
share of the expected ``articles`` among its passages (the most the citations can reach),
its passages and articles, and its own tokens (the user turn past the cached prefix, by
the model's tokenizer); for ``dated`` / ``latest`` whether the gold article is among the
prompt's passages, and whether a passage of it there (with its title) holds one of the set's
answer strings (``gold_fact_in_prompt``: the most a correct and cited answer can reach;
``gold_fact_in_text``: in a passage's own text, not only in its title).
Prints one JSON line per question, then ``SUMMARY`` and the per-kind means.

Usage (from the repo root, the corpus indexed, settings from LITOPYS_* as for `litopys eval`):
    LITOPYS_CORPUS_DIR=../shared/corpus/news/articles LITOPYS_INDEX_DIR=<its index> \
    LITOPYS_RETRIEVAL__RELATIVE_DATES_FROM=newest_article python eval/kinds_without_llm.py
"""

from __future__ import annotations

import json
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path

from litopys.core.config import load_settings
from litopys.index.backend import open_index
from litopys.index.embedder import load_embedder
from litopys.rag.answer import Answerer, final_answer
from litopys.rag.evaluation import (
    Question,
    cited_recall,
    has_fact,
    kind_paths,
    list_recall,
    load_questions,
    same_article,
)
from litopys.rag.gguf import load_tokenizer
from litopys.rag.kinds import LIST, OVERVIEW, question_kind, timeline_subject
from litopys.rag.overview import overview_passages
from litopys.rag.prompt import answer_prefix, build_overview_prompt, overview_prefix
from litopys.rag.retrieval import Passage, Retriever

QUESTIONS = Path(__file__).resolve().parent / "news_kinds.jsonl"


class NoLLM:
    """Counts tokens with the model's vocabulary; any call to generate is a bug here."""

    def __init__(self, tokenizer) -> None:
        self.tokenizer = tokenizer

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def stream(self, *args, **kwargs):
        raise RuntimeError("no LLM in this measurement")

    def prime(self, *args) -> None:
        pass


def main() -> None:
    settings = load_settings()
    embedder = load_embedder(settings.embedder)
    retriever = Retriever(open_index(settings, embedder.spec, embedder.dim), embedder, settings.retrieval)
    llm = NoLLM(load_tokenizer(settings.llm, settings.cache_dir))
    count = llm.count_tokens
    answerer = Answerer(retriever, llm, settings.llm, settings.prompt)  # type: ignore[arg-type]

    def own_tokens(messages: list[dict[str, str]], prefix: list[dict[str, str]]) -> int:
        return count("\n".join(m["content"] for m in messages)) - count("\n".join(m["content"] for m in prefix[:-1]))

    rows = []
    for q in load_questions(Path(sys.argv[1]) if len(sys.argv) > 1 else QUESTIONS):
        path = question_kind(q.question)
        dates = retriever.question_dates(q.question)
        read = list(dates.range.iso) if dates and dates.applied else None
        narrowed = dates.narrow(None) if dates else None
        row: dict[str, object] = {"kind": q.kind, "question": q.question, "path": path, "dates_read": read}
        row["dates_exact"] = read == list(q.dates) if q.dates else None
        if path == LIST:
            answer = final_answer(answerer.stream(q.question))
            row["list_recall"] = list_recall([a.article_id for a in answer.articles], q.articles)
        elif path == OVERVIEW:
            topic, latest = timeline_subject(q.question) or (q.question, False)
            if dates:
                topic = dates.searched(topic)
            _, passages = overview_passages(
                retriever, topic, narrowed, settings.prompt, count, latest=latest, dated=bool(dates and dates.applied)
            )
            prompt = build_overview_prompt(q.question, passages)
            row["prompt_recall"] = cited_recall([p.article_id for p in passages], q.articles)
            row["passages"] = len(passages)
            row["articles_in_prompt"] = len({p.article_id for p in passages})
            row["own_tokens"] = own_tokens(prompt.messages, overview_prefix())
            row["gold_fact_in_prompt"] = gold_fact(q, passages)
            row["gold_fact_in_text"] = gold_fact(q, passages, with_titles=False)
        else:
            evidence = retriever.evidence(dates.searched(q.question) if dates else q.question, narrowed)
            prompt = answerer.prompt_for(q.question, evidence.passages)
            gold = q.article
            row["gold_in_prompt"] = any(p.article_id.endswith(gold) for p in prompt.passages) if gold else None
            row["own_tokens"] = own_tokens(prompt.messages, answer_prefix())
            row["gold_fact_in_prompt"] = gold_fact(q, prompt.passages)
            row["gold_fact_in_text"] = gold_fact(q, prompt.passages, with_titles=False)
        rows.append(row)
        print(json.dumps(row, ensure_ascii=False), flush=True)
    print("SUMMARY", json.dumps(summary(rows), ensure_ascii=False))


def gold_fact(q: Question, passages: Sequence[Passage], with_titles: bool = True) -> bool | None:
    """Whether a passage of the gold article holds one of the answer strings, in its text or (with
    ``with_titles``) in the title the prompt shows with it (None: no gold article or answer string)."""
    if not (q.article and q.answer_any):
        return None
    return any(
        has_fact(q, f"{p.title}\n{p.text}" if with_titles else p.text)
        for p in passages
        if same_article(p.article_id, q.article)
    )


def summary(rows: list[dict]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for kind in ("list", "dated", "latest", "overview"):
        mine = [r for r in rows if r["kind"] == kind]
        if not mine:
            continue
        paths = kind_paths(kind)
        m = {"questions": float(len(mine)), "took_its_path_rate": sum(r["path"] in paths for r in mine) / len(mine)}
        exact = [r["dates_exact"] for r in mine if r["dates_exact"] is not None]
        if exact:
            m["dates_exact_rate"] = sum(exact) / len(exact)
        for key in ("list_recall", "prompt_recall", "passages", "articles_in_prompt", "own_tokens"):
            values = [r[key] for r in mine if r.get(key) is not None]
            if values:
                m[f"{key}_mean"] = sum(values) / len(values)
                m[f"{key}_median"] = statistics.median(values)
        for key in ("gold_in_prompt", "gold_fact_in_prompt", "gold_fact_in_text"):
            have = [r[key] for r in mine if r.get(key) is not None]
            if have:
                m[f"{key}_rate"] = sum(have) / len(have)
        out[kind] = m
    return out


if __name__ == "__main__":
    main()
