"""Question -> retrieval -> prompt -> streamed LLM answer -> answer with citations."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace

from litopys.core.config import ChecksSettings, LLMSettings, PromptSettings
from litopys.rag.answerable import NOT_ANSWERED, Answerable, answerable_prefix, answerable_probability
from litopys.rag.answerable import SLOT as ANSWERABLE_SLOT
from litopys.rag.budget import fit_passages
from litopys.rag.citations import (
    Citation,
    attribute_citations,
    is_refusal,
    resolve_citations,
    strip_invalid_markers,
)
from litopys.rag.context import with_context
from litopys.rag.followup import Turn, needs_history, rewrite_prefix, rewrite_question
from litopys.rag.grounding import ClaimCheck, check_answer, recite
from litopys.rag.grounding import warm_up as warm_up_checks
from litopys.rag.kinds import FACTOID, LIST, OVERVIEW, list_topic, timeline_subject
from litopys.rag.listing import ListedArticle, find_articles, list_text
from litopys.rag.llm import ChatModel, Sampling
from litopys.rag.overview import overview_passages, timeline
from litopys.rag.prompt import (
    answer_prefix,
    build_overview_prompt,
    build_prompt,
    no_articles_dated,
    overview_prefix,
    refusal_for,
)
from litopys.rag.retrieval import Passage, QuestionDates, RetrievalFilter, Retriever
from litopys.rag.spelling import passage_spelling, wants_ukrainian
from litopys.rag.when import warm_up as warm_up_dates
from litopys.rag.when import without_met_dates
from litopys.rag.withhold import UNCITED, UNSUPPORTED, ArticleTexts, Withheld, evidence_text, judge

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
    # The model's draft when a rule replaced it by the refusal (shown, so the refusal is explained).
    withheld: Withheld | None = None
    # Refused before generation: no retrieved passage stood out (see Retriever.evidence).
    low_evidence: bool = False
    # The dates read from the question (the filter retrieval used, unless ``not_applied``).
    dates: QuestionDates | None = None
    # Refused before generation: no article is dated in the range read from the question.
    no_articles_dated: bool = False
    # The question's kind (rag.kinds): a ``list`` answer is ``articles``, found without the LLM.
    kind: str = FACTOID
    articles: list[ListedArticle] = field(default_factory=list)
    # The model's P(yes) that the draft's evidence answers the question (rag/answerable.py), when asked.
    answerable_p: float | None = None
    # An ``overview`` answer's lines that the grounding check dropped (a number or name no cited passage holds).
    dropped_lines: list[str] = field(default_factory=list)

    @property
    def unsupported_claims(self) -> list[ClaimCheck]:
        return [c for c in self.claims if not c.supported]

    def as_dict(self) -> dict[str, object]:
        keys = ("n", "article_id", "title", "date", "url", "text", "start", "end", "attributed", "supported")

        def public(d: dict[str, object]) -> dict[str, object]:
            return {k: d[k] for k in keys if k in d}

        return {
            "question": self.question,
            "kind": self.kind,
            "rewritten_question": self.rewritten_question,
            "answer": self.text,
            "refused": self.refused,
            "citations": [public(c.as_dict()) for c in self.citations],
            "invalid_citations": self.invalid_citations,
            "withheld": self.withheld.draft if self.withheld else None,
            "withheld_reason": self.withheld.reason if self.withheld else None,
            "withheld_missing": list(self.withheld.missing) if self.withheld else [],
            "withheld_citations": [public(c.as_dict()) for c in self.withheld.citations] if self.withheld else [],
            "low_evidence": self.low_evidence,
            "date_filter": self.dates.as_dict() if self.dates else None,
            "no_articles_dated": self.no_articles_dated,
            "articles": [{"n": n, **a.as_dict()} for n, a in enumerate(self.articles, 1)],
            "dropped_lines": self.dropped_lines,
            "grounding": {
                "score": None if self.grounding is None else round(self.grounding, 3),
                "flagged": bool(self.unsupported_claims),
                "claims": [c.as_dict() for c in self.claims],
                "answerable_p": None if self.answerable_p is None else round(self.answerable_p, 3),
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

    def __init__(
        self,
        retriever: Retriever,
        llm: ChatModel,
        settings: LLMSettings,
        prompt: PromptSettings | None = None,
        checks: ChecksSettings | None = None,
    ) -> None:
        self.retriever = retriever
        self.llm = llm
        self.settings = settings
        self.prompt = prompt or PromptSettings()
        self.checks = checks or ChecksSettings()
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
        """The chat prompt for ``query`` over the best ``passages`` that fit the passage budget
        (counted by the model's own tokenizer), and within the context window; short passages
        come with the sentences before them (``rag.context``)."""
        p = self.prompt
        passages = with_context(
            passages, self.retriever.article_body, p.short_passage_chars, p.short_passage_context_chars
        )
        fitted = fit_passages(query, passages, p.passage_tokens, self.count_tokens)
        budget = self.settings.n_ctx - self.settings.max_tokens - 64
        return build_prompt(query, fitted, count_tokens=self.count_tokens, max_prompt_tokens=budget)

    def warm_up(self) -> None:
        """Have the fixed prefixes of the rewrite, answer, overview and check prompts evaluated now, and
        the retrieval path and the checks run once: none of it waits for the first question.

        Loaded from the prefix cache when an earlier process saved them (see ``LlamaCppChat.prime``).
        Each slot keeps its own prefix: priming the overview's after the answer's sets the answer's
        aside as a snapshot, which the first answer restores instead of evaluating it again.
        """
        with self._llm_lock:
            self.llm.prime("rewrite", rewrite_prefix())
            self.llm.prime("answer", answer_prefix())
            if self.checks.min_answerable_p > 0:  # the check follows every factoid answer
                self.llm.prime(ANSWERABLE_SLOT, answerable_prefix())
        warm_up_dates()  # dateparser loads its language data on first use (about half a second)
        if self.retriever is not None:  # (a model-only answerer in tests has no index)
            self.retriever.warm_up()
        warm_up_checks()
        # Apart and after: a question asked meanwhile waits only for the prefixes most questions use.
        with self._llm_lock:
            self.llm.prime("overview", overview_prefix())

    def stream(
        self,
        question: str,
        history: Sequence[Turn] = (),
        stop: threading.Event | None = None,
        filters: RetrievalFilter | None = None,
        read_dates: bool = True,
    ) -> Iterator[Delta | Answer]:
        """Yield ``Delta`` pieces as the model writes, then the final ``Answer``.

        ``history`` holds the earlier turns of a conversation; a follow-up that
        depends on them is rewritten into a standalone question before retrieval.
        ``filters`` restricts retrieval to a date range and/or some articles or folders;
        with ``read_dates``, dates in the question narrow it (``Retriever.question_dates``).
        """
        question = question.strip()
        if not question:
            raise ValueError("the question is empty")
        clock = Clock()
        rewritten = self.standalone(question, history)
        query = rewritten or question
        clock.rewritten = time.perf_counter()
        dates = self.retriever.question_dates(query, filters) if read_dates else None
        topic = list_topic(query)
        if topic is not None:
            yield from self._list(question, rewritten, topic, dates, filters, clock)
            return
        subject = timeline_subject(query)
        if subject is not None:
            topic, latest = subject
            yield from self._overview(question, rewritten, topic, dates, filters, clock, stop, latest)
            return
        evidence = self.retriever.evidence(
            dates.searched(query) if dates else query, dates.narrow(filters) if dates else filters
        )
        clock.retrieved = time.perf_counter()
        if not evidence.stands_out:
            # Nothing stands out from the candidates: the articles most likely do not answer,
            # and the small model would answer anyway from whatever it is shown. No passage at
            # all under the question's dates: say so, rather than answer from other dates.
            yield from _unasked(question, rewritten, evidence.passages, dates, clock)
            return
        prompt = self.prompt_for(query, evidence.passages)
        pieces: list[str] = []
        # The "answer" slot keeps the evaluated system prompt across follow-up rewrites.
        yield from self._generate(prompt.messages, self.sampling, "answer", answer_prefix(), clock, stop, pieces)
        # Grounding treats only the user's own words as given, not the model's rewrite.
        answer = finish_answer(
            question,
            "".join(pieces),
            prompt.passages,
            rewritten=rewritten,
            clock=clock,
            article_texts=self.retriever.article_texts,
            answerable=self._answerable if self.checks.min_answerable_p > 0 else None,
            min_answerable_p=self.checks.min_answerable_p,
        )
        yield replace(answer, dates=dates)

    def _answerable(self, question: str, draft: str, cited_texts: list[str]) -> float | None:
        """The answering model's P(yes) that the draft's evidence answers the question (rag/answerable.py)."""
        with self._llm_lock:
            return answerable_probability(self.llm, question, draft, cited_texts)

    def _list(
        self,
        question: str,
        rewritten: str | None,
        topic: str,
        dates: QuestionDates | None,
        filters: RetrievalFilter | None,
        clock: Clock,
    ) -> Iterator[Delta | Answer]:
        """Answer "which articles mention ``topic``?" with the list retrieval finds (no LLM)."""
        query = rewritten or question
        narrowed = dates.narrow(filters) if dates else filters
        if dates:
            topic = dates.searched(topic)
        articles = find_articles(self.retriever, topic, narrowed)
        clock.retrieved = time.perf_counter()
        clock.skip_generation()
        empty_range = bool(dates and dates.applied and not articles and not self.retriever.articles_in(narrowed))
        text = no_articles_dated(query, dates.range) if dates and empty_range else list_text(query, topic, articles)
        yield Delta(text)
        yield Answer(
            question,
            text,
            [],
            [a.best for a in articles],
            not articles,
            timings=clock.timings(len(text)),
            rewritten_question=rewritten,
            dates=dates,
            no_articles_dated=empty_range,
            kind=LIST,
            articles=articles,
        )

    def _overview(
        self,
        question: str,
        rewritten: str | None,
        topic: str,
        dates: QuestionDates | None,
        filters: RetrievalFilter | None,
        clock: Clock,
        stop: threading.Event | None,
        latest: bool = False,
    ) -> Iterator[Delta | Answer]:
        """Answer "what is known about ``topic``?" as a dated timeline from several articles (one LLM call);
        with ``latest`` ("the latest on ``topic``"), of the newest reports, newest first."""
        query = rewritten or question
        narrowed = dates.narrow(filters) if dates else filters
        if dates:
            topic = dates.searched(topic)
        evidence, passages = overview_passages(
            self.retriever,
            topic,
            narrowed,
            self.prompt,
            self.count_tokens,
            latest=latest,
            dated=bool(dates and dates.applied),
        )
        clock.retrieved = time.perf_counter()
        if not evidence.stands_out or not passages:
            yield from _unasked(question, rewritten, evidence.passages, dates, clock, OVERVIEW)
            return
        budget = self.settings.n_ctx - self.prompt.overview_max_tokens - 64
        prompt = build_overview_prompt(query, passages, count_tokens=self.count_tokens, max_prompt_tokens=budget)
        sampling = replace(self.sampling, max_tokens=self.prompt.overview_max_tokens)
        pieces: list[str] = []
        yield from self._generate(prompt.messages, sampling, "overview", overview_prefix(), clock, stop, pieces)
        yield finish_overview(
            question,
            "".join(pieces),
            prompt.passages,
            rewritten=rewritten,
            clock=clock,
            article_texts=self.retriever.article_texts,
            dates=dates,
            newest_first=latest,
            corroboration=self.prompt.overview_corroboration,
        )

    def _generate(
        self,
        messages: list[dict[str, str]],
        sampling: Sampling,
        slot: str,
        prefix: list[dict[str, str]],
        clock: Clock,
        stop: threading.Event | None,
        pieces: list[str],
    ) -> Iterator[Delta]:
        """Stream ``messages`` in ``slot`` (primed with its ``prefix``) into ``pieces``, a Delta each, timed on ``clock``."""
        with self._llm_lock:
            clock.generating = time.perf_counter()
            self.llm.prime(slot, prefix)
            for piece in self.llm.stream(messages, sampling, slot=slot):
                if clock.first_token is None:
                    clock.first_token = time.perf_counter()
                pieces.append(piece)
                yield Delta(piece)
                if stop is not None and stop.is_set():
                    break
        clock.done = time.perf_counter()
        clock.tokens = len(pieces)  # llama.cpp streams one token per piece

    def ask(self, question: str, history: Sequence[Turn] = ()) -> Answer:
        """Answer ``question`` without streaming."""
        return final_answer(self.stream(question, history))


def _unasked(
    question: str,
    rewritten: str | None,
    passages: list[Passage],
    dates: QuestionDates | None,
    clock: Clock,
    kind: str = FACTOID,
) -> Iterator[Delta | Answer]:
    """The refusal when the model is not asked: no passage under the question's dates, or none stands out."""
    clock.skip_generation()
    empty_range = bool(dates and dates.applied and not passages)
    query = rewritten or question
    refusal = no_articles_dated(query, dates.range) if dates and empty_range else refusal_for(query)
    yield Delta(refusal)
    yield Answer(
        question,
        refusal,
        [],
        passages,
        True,
        timings=clock.timings(len(refusal)),
        rewritten_question=rewritten,
        low_evidence=not empty_range,
        dates=dates,
        no_articles_dated=empty_range,
        kind=kind,
    )


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


@dataclass
class Clock:
    """perf_counter readings taken as one answer goes through its stages, and the tokens generated."""

    asked: float = field(default_factory=time.perf_counter)
    rewritten: float = 0.0
    retrieved: float = 0.0
    generating: float = 0.0
    first_token: float | None = None  # None until the model writes (or when it writes nothing)
    done: float = 0.0
    tokens: int = 0

    def skip_generation(self) -> None:
        """No generation: it starts, gives its first token and ends when retrieval does."""
        self.generating = self.first_token = self.done = self.retrieved

    def timings(self, completion_chars: int) -> dict[str, float]:
        """Seconds of each stage, and the size of the completion."""
        first = self.done if self.first_token is None else self.first_token
        return {
            "rewrite_s": self.rewritten - self.asked,
            "retrieval_s": self.retrieved - self.rewritten,
            "first_token_s": first - self.generating,
            "first_token_from_question_s": first - self.asked,
            "generation_s": self.done - self.generating,
            "total_s": self.done - self.asked,
            "completion_chars": float(completion_chars),
            "completion_tokens": float(self.tokens),
        }


def finish_answer(
    question: str,
    raw: str,
    passages: list[Passage],
    *,
    rewritten: str | None = None,
    clock: Clock | None = None,
    article_texts: ArticleTexts | None = None,
    answerable: Answerable | None = None,
    min_answerable_p: float = 0.0,
) -> Answer:
    """Turn raw model text into the Answer: cite, check grounding, withhold a draft that is not an answer.

    ``rewritten`` is the standalone question retrieval used for a follow-up; ``clock`` gives the timings;
    ``article_texts`` reads cited articles whole for the checks that need more than a passage;
    ``answerable`` scores a draft the lexical checks let through (withheld under ``min_answerable_p``).
    """
    checks_started = time.perf_counter()
    # Before citing: a misspelled word ("Националізація") matches no passage, so an answer
    # without markers could not be attributed to the passage that holds it.
    raw = _respelled(question, raw, passages)
    text, citations, invalid, refused = _cite(raw, passages)
    if refused:
        # The model's own wording ("… is not mentioned in the given text", or Ukrainian to an
        # English question) becomes the one refusal the chat knows, in the question's language.
        text = refusal_for(question)
    if not refused and citations:
        text, citations = _recite(text, citations, passages, question)
    withheld: Withheld | None = None
    answerable_p: float | None = None
    grounding: float | None = None
    claims: list[ClaimCheck] = []
    if not refused and text:
        # The model sees each passage's title and date as well as its text: all of it is evidence.
        checked = check_answer(text, {c.n: evidence_text(c.passage) for c in citations}, question)
        grounding, claims = checked.score, list(checked.claims)
        citations = [replace(c, supported=c.n in checked.supported_citations) for c in citations]
        verdict = judge(question, text, citations, claims, article_texts)
        if verdict is None and answerable is not None:
            # The check shows passages without their articles' dates: a date of the question that
            # the cited article's date meets ("в ніч на 14 листопада") is no fact for it to find.
            asked = without_met_dates(question, [c.passage.date for c in citations])
            answerable_p = answerable(asked, text, [c.passage.text for c in citations])
            if answerable_p is not None and answerable_p < min_answerable_p:
                verdict = NOT_ANSWERED, ()
        if verdict:
            log.info("answer withheld (%s %s): %r", verdict[0], verdict[1], text)
            withheld = Withheld(text, citations, *verdict)
            text, citations, refused, grounding, claims = refusal_for(question), [], True, None, []
    return Answer(
        question,
        text,
        citations,
        passages,
        refused,
        invalid,
        timings=_timings(clock, text, checks_started),
        grounding=grounding,
        claims=claims,
        rewritten_question=rewritten,
        withheld=withheld,
        answerable_p=answerable_p,
    )


def finish_overview(
    question: str,
    raw: str,
    passages: list[Passage],
    *,
    rewritten: str | None = None,
    clock: Clock | None = None,
    article_texts: ArticleTexts | None = None,
    dates: QuestionDates | None = None,
    newest_first: bool = False,
    corroboration: float = 0.0,
) -> Answer:
    """The model's timeline as the Answer: every line cited and checked (``rag.overview.timeline``,
    which also cites the other articles that back a line, with ``corroboration``), the lines that
    fail dropped, and the whole withheld when no line is left or a rule withholds it."""
    checks_started = time.perf_counter()
    raw = _respelled(question, raw, passages)
    found = timeline(question, raw, passages, newest_first, corroboration)
    text = found.text(question)
    citations = found.citations(passages)
    claims = [c for line in found.lines for c in line.claims]
    withheld: Withheld | None = None
    refused = found.refused or not found.lines
    if not found.lines:
        text = refusal_for(question)
        if not found.refused and raw.strip():
            reason = (UNSUPPORTED, found.missing) if found.missing else (UNCITED, ())
            withheld = Withheld(raw.strip(), [], *reason)
    else:
        verdict = judge(question, text, citations, claims, article_texts)
        if verdict:
            log.info("overview withheld (%s %s): %r", verdict[0], verdict[1], text)
            withheld = Withheld(text, citations, *verdict)
            text, citations, claims, refused = refusal_for(question), [], [], True
    grounding = sum(c.supported for c in claims) / len(claims) if claims else None
    return Answer(
        question,
        text,
        citations,
        passages,
        refused,
        timings=_timings(clock, text, checks_started),
        grounding=grounding,
        claims=claims,
        rewritten_question=rewritten,
        withheld=withheld,
        dates=dates,
        kind=OVERVIEW,
        dropped_lines=found.dropped,
    )


def _respelled(question: str, raw: str, passages: list[Passage]) -> str:
    """A Ukrainian question's answer with the words its passages spell correctly spelled as they do."""
    if not wants_ukrainian(question):
        return raw
    spelled = passage_spelling(raw, [evidence_text(p) for p in passages])
    if spelled != raw:
        log.info("answer respelled as the passages spell it: %r -> %r", raw, spelled)
    return spelled


def _timings(clock: Clock | None, text: str, checks_started: float) -> dict[str, float]:
    """The clock's timings plus what the checks after generation (cite, respell, re-cite, ground,
    judge) added to the answer's time."""
    timings = clock.timings(len(text)) if clock else {}
    timings["checks_s"] = time.perf_counter() - checks_started
    return timings


def _cite(raw: str, passages: list[Passage]) -> tuple[str, list[Citation], list[int], bool]:
    """The answer text with valid markers only, its citations, the invalid marker numbers, and whether it refuses."""
    # Some models echo the label of the few-shot format; it is not part of the answer.
    text = _ANSWER_LABEL.sub("", raw.strip())
    citations, invalid = resolve_citations(text, passages)
    text = strip_invalid_markers(text, invalid)
    if invalid:
        log.info("dropped citation markers that point to no passage: %s", invalid)
    refused = is_refusal(text) and not citations
    if not refused and passages and text:
        text, citations = attribute_citations(text, citations, passages)
    return text, citations, invalid, refused


def _recite(text: str, citations: list[Citation], passages: list[Passage], question: str) -> tuple[str, list[Citation]]:
    """Sentences cited to a passage that lacks their facts, re-cited to the passage that holds them."""
    recited = recite(text, [evidence_text(p) for p in passages], question)
    if recited == text:
        return text, citations
    log.info("citations moved to the passages that hold the facts: %r -> %r", text, recited)
    # A marker that was there keeps its citation (and flags); a new one was moved there after generation.
    before = {c.n: c for c in citations}
    resolved, _ = resolve_citations(recited, passages)
    return recited, [before.get(c.n) or replace(c, attributed=True) for c in resolved]
