"""Question -> retrieval -> prompt -> streamed LLM answer -> answer with citations."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace

from litopys.core.config import LLMSettings
from litopys.rag.citations import (
    Citation,
    attribute_citations,
    is_refusal,
    resolve_citations,
    strip_invalid_markers,
)
from litopys.rag.followup import Turn, needs_history, rewrite_question
from litopys.rag.grounding import ClaimCheck, check_answer, unmet_question_numbers
from litopys.rag.llm import ChatModel, Sampling
from litopys.rag.prompt import build_prompt, refusal_for
from litopys.rag.retrieval import Passage, RetrievalFilter, Retriever

log = logging.getLogger(__name__)

_ANSWER_LABEL = re.compile(r"^(?:відповідь|answer)\s*:\s*", re.IGNORECASE)


@dataclass
class Answer:
    """A finished answer: text with ``[n]`` markers, the citations they resolve to, and the evidence."""

    question: str
    text: str
    citations: list[Citation]
    passages: list[Passage]
    refused: bool
    invalid_citations: list[int] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    # Share of the answer's claims backed by the passages they cite; None for refusals.
    grounding: float | None = None
    claims: list[ClaimCheck] = field(default_factory=list)
    # The standalone question used for retrieval when ``question`` was a follow-up.
    rewritten_question: str | None = None
    # The model's draft when it was replaced by a refusal, and the question's numbers its
    # cited passages lack (shown to the user, so the refusal is explained).
    withheld: str | None = None
    withheld_missing: tuple[str, ...] = ()
    # Refused before generation: no retrieved passage stood out (see Retriever.evidence).
    low_evidence: bool = False

    @property
    def unsupported_claims(self) -> list[ClaimCheck]:
        return [c for c in self.claims if not c.supported]

    def as_dict(self) -> dict[str, object]:
        keys = ("n", "article_id", "title", "date", "text", "start", "end", "attributed", "supported")

        def public(d: dict[str, object]) -> dict[str, object]:
            return {k: d[k] for k in keys if k in d}

        return {
            "question": self.question,
            "rewritten_question": self.rewritten_question,
            "answer": self.text,
            "refused": self.refused,
            "citations": [public(c.as_dict()) for c in self.citations],
            "invalid_citations": self.invalid_citations,
            "withheld": self.withheld,
            "withheld_missing": list(self.withheld_missing),
            "low_evidence": self.low_evidence,
            "grounding": {
                "score": None if self.grounding is None else round(self.grounding, 3),
                "flagged": bool(self.unsupported_claims),
                "claims": [c.as_dict() for c in self.claims],
            },
            "passages": [
                {"n": n, **{k: v for k, v in p.as_dict().items() if k != "chunk_id"}}
                for n, p in enumerate(self.passages, 1)
            ],
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
        }


@dataclass(frozen=True)
class Delta:
    """A piece of streamed answer text."""

    text: str


class Answerer:
    """Answers questions from the index with the configured LLM. Thread-safe (one generation at a time)."""

    def __init__(self, retriever: Retriever, llm: ChatModel, settings: LLMSettings) -> None:
        self.retriever = retriever
        self.llm = llm
        self.settings = settings
        self._llm_lock = threading.Lock()

    def count_tokens(self, text: str) -> int:
        return self.llm.count_tokens(text)

    @property
    def sampling(self) -> Sampling:
        s = self.settings
        return Sampling(max_tokens=s.max_tokens, temperature=s.temperature, seed=s.seed)

    def standalone(self, question: str, history: Sequence[Turn]) -> str | None:
        """The follow-up ``question`` rewritten to stand alone, or None when it already does."""
        if not needs_history(question, history):
            return None
        with self._llm_lock:
            rewritten = rewrite_question(self.llm, question, history, seed=self.settings.seed)
        log.info("follow-up %r rewritten as %r", question, rewritten)
        return rewritten

    def prompt_for(self, query: str, passages: list[Passage]):
        """The chat prompt for ``query`` over ``passages``, trimmed to the context window."""
        budget = self.settings.n_ctx - self.settings.max_tokens - 64
        return build_prompt(query, passages, count_tokens=self.count_tokens, max_prompt_tokens=budget)

    def stream(
        self, question: str, history: Sequence[Turn] = (), stop: threading.Event | None = None,
        filters: RetrievalFilter | None = None,
    ) -> Iterator[Delta | Answer]:
        """Yield ``Delta`` pieces as the model writes, then the final ``Answer``.

        ``history`` holds the earlier turns of a conversation; a follow-up that
        depends on them is rewritten into a standalone question before retrieval.
        ``filters`` restricts retrieval to a date range and/or some articles or folders.
        """
        question = question.strip()
        if not question:
            raise ValueError("the question is empty")
        t0 = time.perf_counter()
        rewritten = self.standalone(question, history)
        query = rewritten or question
        t_rewritten = time.perf_counter()
        evidence = self.retriever.evidence(query, filters)
        passages = evidence.passages
        t_retrieved = time.perf_counter()
        if not evidence.stands_out:
            # Nothing stands out from the candidates: the articles most likely do not answer,
            # and the small model would answer anyway from whatever it is shown.
            answer = Answer(question, refusal_for(query), [], passages, True, low_evidence=True)
            answer.rewritten_question = rewritten
            # No generation: it starts, gives its first token and ends when retrieval does.
            answer.timings = _timings(t0, t_rewritten, t_retrieved, t_retrieved, t_retrieved, t_retrieved, answer, 0)
            yield Delta(answer.text)
            yield answer
            return
        prompt = self.prompt_for(query, passages)
        pieces: list[str] = []
        t_first = None
        with self._llm_lock:
            t_start = time.perf_counter()
            # The "answer" slot keeps the evaluated system prompt across follow-up rewrites.
            for piece in self.llm.stream(prompt.messages, self.sampling, slot="answer"):
                if t_first is None:
                    t_first = time.perf_counter()
                pieces.append(piece)
                yield Delta(piece)
                if stop is not None and stop.is_set():
                    break
        t_done = time.perf_counter()
        # Grounding treats only the user's own words as given, not the model's rewrite.
        answer = finish_answer(question, "".join(pieces), prompt.passages)
        answer.rewritten_question = rewritten
        # llama.cpp streams one token per piece.
        answer.timings = _timings(t0, t_rewritten, t_retrieved, t_start, t_first or t_done, t_done, answer, len(pieces))
        yield answer

    def ask(self, question: str, history: Sequence[Turn] = ()) -> Answer:
        """Answer ``question`` without streaming."""
        return final_answer(self.stream(question, history))


def final_answer(events: Iterable[Delta | Answer], on_delta: Callable[[str], None] | None = None) -> Answer:
    """The Answer that ends an ``Answerer.stream``; the text of each Delta before it goes to ``on_delta``."""
    final: Answer | None = None
    for event in events:  # to the end, so the stream finishes its own work
        if isinstance(event, Answer):
            final = event
        elif on_delta is not None:
            on_delta(event.text)
    if final is None:
        raise RuntimeError("the answer stream ended without an Answer")
    return final


def _timings(t0: float, t_rewritten: float, t_retrieved: float, t_start: float, t_first: float, t_done: float,
             answer: Answer, tokens: int) -> dict[str, float]:
    """Seconds of each stage of one answer, from the perf_counter readings taken along the way."""
    return {
        "rewrite_s": t_rewritten - t0,
        "retrieval_s": t_retrieved - t_rewritten,
        "first_token_s": t_first - t_start,
        "first_token_from_question_s": t_first - t0,
        "generation_s": t_done - t_start,
        "total_s": t_done - t0,
        "completion_chars": float(len(answer.text)),
        "completion_tokens": float(tokens),
    }


def finish_answer(question: str, raw: str, passages: list[Passage]) -> Answer:
    """Turn raw model text into an Answer: resolve markers, drop invalid ones, attribute if none."""
    # Some models echo the label of the few-shot format; it is not part of the answer.
    text = _ANSWER_LABEL.sub("", raw.strip())
    citations, invalid = resolve_citations(text, passages)
    text = strip_invalid_markers(text, invalid)
    refused = is_refusal(text) and not citations
    if not refused and passages and text:
        text, citations = attribute_citations(text, citations, passages)
    if invalid:
        log.info("dropped citation markers that point to no passage: %s", invalid)
    answer = Answer(question, text, citations, passages, refused, invalid)
    if not refused and citations:
        evidence = [f"{c.passage.title} {c.passage.date or ''} {c.passage.text}" for c in citations]
        unmet = unmet_question_numbers(question, evidence)
        if unmet:
            # The cited passages do not even mention what the question is about.
            log.info("answer withheld: cited passages lack the question's numbers %s", unmet)
            answer = Answer(question, refusal_for(question), [], passages, True, invalid)
            answer.withheld = text
            answer.withheld_missing = unmet
            return answer
    if not refused and text:
        grounding = check_answer(text, {c.n: c.passage.text for c in citations}, question)
        answer.grounding = grounding.score
        answer.claims = list(grounding.claims)
        answer.citations = [replace(c, supported=c.n in grounding.supported_citations) for c in citations]
    return answer
