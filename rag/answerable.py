"""Question + a draft's cited passages -> the model's probability that they answer the question.

Runs after the lexical checks of rag/withhold.py have let a draft through. A near miss (a
question about a person or firm the articles name, asking for a fact they do not hold) gets a
draft that copies a nearby fact of the right type from a real sentence, so every name and
figure in it is supported and the lexical checks pass it. This check asks the answering model
a narrower question in a short prompt of its own: do the draft's evidence sentences (those of
its cited passages that share the most words and figures with the draft) answer the question?
The score is the probability the model puts on "yes" over "no" as its first token: one forward
pass over about a hundred tokens, no text generated.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from litopys.index.chunking import sentence_spans
from litopys.rag.citations import MARKER, content_lemmas, numbers
from litopys.rag.llm import ChatModel, Messages

NOT_ANSWERED = "not_answered"  # the withholding reason
SLOT = "answerable"
EVIDENCE_SENTENCES = 2
SYSTEM = "Ти перевіряєш, чи фрагмент новинної статті відповідає на запитання. Відповідай одним словом: yes або no."


# An open question ("Що повідомляли про…", "Про що домовилися…", "What did … say") has no one fact
# for the fragment to hold: the model says "no" to drafts that report on the subject (p 0.17-0.20
# for two that held the expected answer, eval/news_kinds.jsonl), so such questions are not checked.
_OPEN_QUESTION = re.compile(
    r"^\W*(?:(?:а|і|й|то|and|so)\s+)?(?:про\s+що|що|what\s+(?:happened|is\s+known|did|was\s+said))\b", re.IGNORECASE
)

# (question, draft, texts of the passages it cites) -> P(yes), or None when it cannot be told.
Answerable = Callable[[str, str, list[str]], float | None]


def evidence_sentences(draft: str, cited_texts: Sequence[str], keep: int = EVIDENCE_SENTENCES) -> str:
    """The ``keep`` sentences of the cited texts sharing the most content words and figures with ``draft``."""
    wanted = content_lemmas(MARKER.sub(" ", draft)) | numbers(draft)
    scored: list[tuple[int, int, str]] = []
    for text in cited_texts:
        for start, end in sentence_spans(text):
            sentence = text[start:end].strip()
            overlap = len((content_lemmas(sentence) | numbers(sentence)) & wanted)
            if overlap:
                scored.append((-overlap, len(scored), sentence))
    best = sorted(scored)[:keep]
    # In text order: two sentences of one passage read as the passage does.
    return " ".join(sentence for _, _, sentence in sorted(best, key=lambda s: s[1]))


def check_messages(question: str, evidence: str) -> Messages:
    """The check's prompt: the evidence as delimited data, then the yes/no question."""
    user = (
        f"Фрагмент:\n<<<\n{evidence}\n>>>\n\nЗапитання: {question.strip()}\n\n"
        "Чи містить фрагмент відповідь на це запитання? yes або no"
    )
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def answerable_prefix() -> Messages:
    """The check prompt's fixed part (its system message), for ``ChatModel.prime``."""
    return [check_messages("", "")[0], {"role": "user", "content": ""}]


def answerable_probability(llm: ChatModel, question: str, draft: str, cited_texts: Sequence[str]) -> float | None:
    """P(yes) that the draft's evidence answers ``question``; None when the backend gives no probabilities
    or the question is an open one (what was reported, what is known), which this check cannot judge."""
    if is_open_question(question):
        return None
    evidence = evidence_sentences(draft, cited_texts)
    if not evidence:
        return None  # nothing of the draft is in what it cites: the lexical checks have judged it
    return llm.yes_probability(check_messages(question, evidence), slot=SLOT)


def is_open_question(question: str) -> bool:
    """Whether ``question`` asks what was reported or known ("Що…", "Про що…") rather than for one fact."""
    return bool(_OPEN_QUESTION.search(question))
