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
from dataclasses import asdict, dataclass
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
    answers: tuple[str, ...] = ()  # the gold answer strings
    shown: tuple[str, ...] = ()  # the passages' texts as the model reads them, in rank order
    ranks: tuple[int, ...] = ()  # each shown passage's rank among the retrieved ones (1: the best)
    scores: tuple[float, ...] = ()  # each shown passage's fused retrieval score


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
            rank = {p.chunk_id: n for n, p in enumerate(evidence.passages, 1)}
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
                    tuple(q.answer_any),
                    tuple(shown),
                    tuple(rank[p.chunk_id] for p in prompt.passages),
                    tuple(round(p.score, 3) for p in prompt.passages),
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


def dropped(rows: Sequence[PromptRow], budget: int) -> list[str]:
    """The questions whose gold answer string is in the prompt with no budget (0) but not at ``budget``."""
    kept_whole = {r.question for r in rows if r.budget == 0 and r.answer_in_prompt}
    return [r.question for r in rows if r.budget == budget and r.question in kept_whole and not r.answer_in_prompt]


def run_suite(
    settings: Settings, suite: Path, budgets: Sequence[int], only: tuple[str, ...] = (), dump: Path | None = None
) -> dict:
    """``summary`` per suite run and budget; each run's corpus is read from its eval index.

    With ``dump``, every row (the passages shown included) is written there as JSON lines, to study
    what a budget takes out (``dropped`` names the questions whose gold string it loses).
    """
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
        if dump is not None:
            with dump.open("a", encoding="utf-8") as f:
                for r in rows:
                    f.write(json.dumps({"run": run.name, **asdict(r)}, ensure_ascii=False) + "\n")
    out["all runs"] = {str(b): summary([r for r in every if r.budget == b]) for b in budgets}
    return out


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--suite", type=Path, default=Path("eval/suite.toml"))
    parser.add_argument("--only", action="append", default=[], help="a run name of the suite (repeatable)")
    parser.add_argument("--budgets", default="0,300,400,500", help="passage budgets in tokens; 0 = no budget")
    parser.add_argument("--dump", type=Path, help="write every row, with the passages shown, here (JSON lines)")
    args = parser.parse_args(argv)
    budgets = [int(b) for b in args.budgets.split(",")]
    if args.dump:
        args.dump.write_text("")
    print(json.dumps(run_suite(load_settings(), args.suite, budgets, tuple(args.only), args.dump), indent=1))


if __name__ == "__main__":
    main()


def user_tokens(answerer: Answerer, questions: Sequence[str]) -> tuple[list[int], list[int]]:
    """Tokens of the user message per question that reaches the LLM: without a passage budget,
    and with ``answerer``'s own (its retriever and tokenizer; nothing is generated)."""
    budget = answerer.prompt.passage_tokens
    asked = [Question(q, None, ()) for q in questions]
    rows = [r for r in measure(answerer.retriever, answerer.llm, answerer.settings, asked, [0, budget]) if r.asked_llm]
    return [r.user_tokens for r in rows if r.budget == 0], [r.user_tokens for r in rows if r.budget == budget]
