"""A "which articles mention X?" question -> the articles retrieval finds for X, best first, without the LLM.

Data flow: ``rag.kinds.list_topic`` gives X -> ``Retriever.evidence`` over X alone, unpruned,
with room for ``retrieval.list_articles`` articles -> the passages grouped by article, in
the order of each article's best passage -> ``ListedArticle``s (the best passage opens the
viewer, as a source card does) and ``list_text``, the plain list that ``ask`` prints and
the chat keeps as the turn's text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from litopys.rag.prompt import in_english
from litopys.rag.retrieval import Passage, RetrievalFilter, Retriever

LIST_HEAD_UK = "Статті про «{topic}», найдоречніші спершу:"
LIST_HEAD_EN = "Articles on “{topic}”, best first:"
NO_LIST_UK = "Не знайшов статей про «{topic}»."
NO_LIST_EN = "No article found on “{topic}”."


@dataclass(frozen=True)
class ListedArticle:
    """One article of a list answer, with its passages that matched X (best first)."""

    article_id: str
    title: str
    date: str | None
    url: str | None
    passages: tuple[Passage, ...]

    @property
    def best(self) -> Passage:
        return self.passages[0]

    @property
    def score(self) -> float:
        return self.best.score

    def as_dict(self) -> dict[str, object]:
        return {
            "article_id": self.article_id,
            "title": self.title,
            "date": self.date,
            "url": self.url,
            "score": self.score,
            "passages": len(self.passages),
            "start": self.best.start,
            "end": self.best.end,
        }


# A capitalized Ukrainian word of four letters or more: most likely a name.
_NAME = re.compile(r"\b[А-ЩЬЮЯҐЄІЇ][а-щьюяґєії'ʼ’-]{3,}")
_CASE_ENDINGS = ("ові", "еві", "ом", "ем", "ою", "им", "а", "у", "ю", "я", "і")


def search_text(topic: str) -> str:
    """``topic``, and each name in it once more without its case ending.

    The lemmatizer reads the case form of a surname it does not know as some other word
    ("Умєрова" -> "умєрів"), while most articles name him "Умєров": the bare form finds those.
    """
    bare = []
    for m in _NAME.finditer(topic):
        word = m.group(0)
        end = next((e for e in _CASE_ENDINGS if word.endswith(e) and len(word) - len(e) >= 4), None)
        if end:
            bare.append(word[: -len(end)])
    return " ".join([topic, *bare])


def _mentions(passages: list[Passage]) -> bool:
    """Whether an article's passages share a word with X (a BM25 score above zero)."""
    return any((p.lexical_score or 0.0) > 0.0 for p in passages)


def find_articles(
    retriever: Retriever, topic: str, filters: RetrievalFilter | None = None, limit: int | None = None
) -> list[ListedArticle]:
    """The articles about ``topic``, best first, at most ``limit`` (``retrieval.list_articles``).

    An article must share a word with the topic when any article does: "where is X mentioned"
    asks for mentions, not for whatever is nearest in meaning. When none does (a topic in
    another language than the articles), the dense signal's articles are listed only if the
    best of them stands out from the candidates.
    """
    limit = limit or retriever.settings.list_articles
    top_k = limit * retriever.settings.per_article_cap
    evidence = retriever.evidence(search_text(topic), filters, top_k=top_k, prune=False)
    groups: dict[str, list[Passage]] = {}
    for p in evidence.passages:
        groups.setdefault(p.article_id, []).append(p)
    if any(_mentions(ps) for ps in groups.values()):
        groups = {aid: ps for aid, ps in groups.items() if _mentions(ps)}
    elif not evidence.stands_out:
        groups = {}
    return [
        ListedArticle(aid, ps[0].title, ps[0].date, ps[0].url, tuple(ps)) for aid, ps in list(groups.items())[:limit]
    ]


def list_text(question: str, topic: str, articles: list[ListedArticle]) -> str:
    """The list as plain text in the question's language: a head line, then "n. title (date)" lines."""
    english = in_english(question)
    if not articles:
        return (NO_LIST_EN if english else NO_LIST_UK).format(topic=topic)
    lines = [(LIST_HEAD_EN if english else LIST_HEAD_UK).format(topic=topic)]
    for n, a in enumerate(articles, 1):
        lines.append(f"{n}. {a.title}" + (f" ({a.date})" if a.date else ""))
    return "\n".join(lines)
