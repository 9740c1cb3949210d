"""Prompt tokens per question under a passage budget, and whether the gold answer survives it, without the LLM.

question set + its corpus's index -> retrieval as in the chat (``Retriever.evidence``)
-> the answer prompt as ``Answerer.prompt_for`` builds it, for each budget -> tokens of
the user message (the part of the prompt no cache covers), counted by the answering
model's own tokenizer (its GGUF vocabulary alone, ``vocab_only``), and whether a gold
answer string (or all its lemmas) is still in the passages the model would read.

Run: ``python -m litopys.bench.prompt_budget --suite eval/suite.toml`` (from the repo root;
each run's corpus must be indexed, e.g. by ``litopys eval --suite``).
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from litopys.core.config import LLMSettings, PromptSettings, Settings, load_settings
from litopys.core.measure import percentile
from litopys.index.lemmatize import QUERY_STOPWORDS, lemmas
from litopys.rag.evaluation import Question, load_questions
from litopys.rag.llm import ChatModel, Messages, Sampling
from litopys.rag.retrieval import Retriever

if TYPE_CHECKING:
    from litopys.rag.answer import Answerer


class TokenizerOnly:
    """A ChatModel that counts tokens with the model's vocabulary and cannot generate."""

    def __init__(self, vocab) -> None:
        self.vocab = vocab

    def count_tokens(self, text: str) -> int:
        return len(self.vocab.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def stream(self, messages: Messages, sampling: Sampling, slot: str | None = None) -> Iterator[str]:
        raise RuntimeError("the prompt-budget measurement loads no model weights")

    def prime(self, slot: str, prefix: Messages) -> None:
        """Nothing to prime."""

    def yes_probability(self, messages: Messages, slot: str | None = None) -> float | None:
        raise RuntimeError("the prompt-budget measurement loads no model weights")


@dataclass(frozen=True)
class PromptRow:
    """One question under one budget: the user message's tokens, passages kept/cut, gold survival."""

    question: str
    budget: int
    asked_llm: bool  # False: refused before generation (no passage stood out), no prompt
    user_tokens: int
    passages: int
    cut: int
    answer_in_prompt: bool  # a gold answer string, case-insensitive
    answer_lemmas_in_prompt: bool  # that, or all content lemmas of a gold answer string in one passage
    gold_in_prompt: bool  # a passage of the gold article


def measure(
    retriever: Retriever, count: ChatModel, llm: LLMSettings, questions: Sequence[Question], budgets: Sequence[int]
) -> list[PromptRow]:
    """One row per question and budget (retrieval runs once per question)."""
    from litopys.rag.answer import Answerer

    answerers = {b: Answerer(retriever, count, llm, PromptSettings(passage_tokens=b)) for b in budgets}
    rows = []
    for q in questions:
        evidence = retriever.evidence(q.question)
        for budget, answerer in answerers.items():
            if not evidence.stands_out:
                rows.append(PromptRow(q.question, budget, False, 0, 0, 0, False, False, False))
                continue
            prompt = answerer.prompt_for(q.question, evidence.passages)
            user = prompt.messages[-1]["content"]
            shown = [p.text for p in prompt.passages]
            whole = {p.chunk_id: p.text for p in evidence.passages}
            cut = sum(1 for p in prompt.passages if whole[p.chunk_id] != p.text)
            rows.append(
                PromptRow(
                    q.question,
                    budget,
                    True,
                    count.count_tokens(user),
                    len(prompt.passages),
                    cut,
                    any(a.lower() in t.lower() for a in q.answer_any for t in shown),
                    any(a.lower() in t.lower() for a in q.answer_any for t in shown) or _lemmas_in(q.answer_any, shown),
                    bool(q.article and any(_same(p.article_id, q.article) for p in prompt.passages)),
                )
            )
    return rows


def _same(article_id: str, gold: str) -> bool:
    return article_id == gold or article_id.endswith("/" + gold)


def _lemmas_in(answers: Sequence[str], texts: Sequence[str]) -> bool:
    """Whether all content lemmas of some answer occur in one of ``texts``."""
    for text in texts:
        have = set(lemmas(text))
        for a in answers:
            want = {lem for lem in lemmas(a) if lem not in QUERY_STOPWORDS}
            if want and want <= have:
                return True
    return False


def summary(rows: Sequence[PromptRow]) -> dict[str, float]:
    """Median and p90 of the user message's tokens over the questions that reach the LLM, and survival counts."""
    asked = [r for r in rows if r.asked_llm]
    tokens = [r.user_tokens for r in asked]
    return {
        "questions": len(rows),
        "asked_llm": len(asked),
        "user_tokens_median": statistics.median(tokens) if tokens else float("nan"),
        "user_tokens_p90": percentile(tokens, 90),
        "user_tokens_max": max(tokens, default=0),
        "passages_mean": statistics.mean(r.passages for r in asked) if asked else float("nan"),
        "cut_passages": sum(r.cut for r in asked),
        "answer_in_prompt": sum(r.answer_in_prompt for r in asked),
        "answer_lemmas_in_prompt": sum(r.answer_lemmas_in_prompt for r in asked),
        "gold_in_prompt": sum(r.gold_in_prompt for r in asked),
    }


def run_suite(settings: Settings, suite: Path, budgets: Sequence[int], only: tuple[str, ...] = ()) -> dict:
    """``summary`` per suite run and budget; each run's corpus is read from its eval index."""
    from litopys.evalsuite import index_dir_for, load_suite
    from litopys.index.embedder import load_embedder
    from litopys.index.reader import IndexReader
    from litopys.rag.gguf import load_tokenizer

    count = TokenizerOnly(load_tokenizer(settings.llm, settings.cache_dir))
    embedder = load_embedder(settings.embedder)
    out: dict[str, dict[str, dict[str, float]]] = {}
    every: list[PromptRow] = []
    for run in load_suite(suite, only):
        index_dir = index_dir_for(settings, run.corpus)
        reader = IndexReader(index_dir, embedder.spec, embedder.dim, settings.retrieval.hnsw_threshold)
        try:
            retriever = Retriever(reader, embedder, settings.retrieval)
            rows = measure(retriever, count, settings.llm, load_questions(run.questions), budgets)
        finally:
            reader.close()
        out[run.name] = {str(b): summary([r for r in rows if r.budget == b]) for b in budgets}
        every += rows
    out["all runs"] = {str(b): summary([r for r in every if r.budget == b]) for b in budgets}
    return out


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--suite", type=Path, default=Path("eval/suite.toml"))
    parser.add_argument("--only", action="append", default=[], help="a run name of the suite (repeatable)")
    parser.add_argument("--budgets", default="0,300,400,500", help="passage budgets in tokens; 0 = no budget")
    args = parser.parse_args(argv)
    budgets = [int(b) for b in args.budgets.split(",")]
    print(json.dumps(run_suite(load_settings(), args.suite, budgets, tuple(args.only)), indent=1))


if __name__ == "__main__":
    main()


def user_tokens(answerer: Answerer, questions: Sequence[str]) -> tuple[list[int], list[int]]:
    """Tokens of the user message per question that reaches the LLM: without a passage budget,
    and with ``answerer``'s own (its retriever and tokenizer; nothing is generated)."""
    budget = answerer.prompt.passage_tokens
    asked = [Question(q, None, ()) for q in questions]
    rows = [r for r in measure(answerer.retriever, answerer.llm, answerer.settings, asked, [0, budget]) if r.asked_llm]
    return [r.user_tokens for r in rows if r.budget == 0], [r.user_tokens for r in rows if r.budget == budget]
