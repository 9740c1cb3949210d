"""Question -> its kind: which answer path it takes before retrieval.

Data flow: the (standalone) question -> ``question_kind`` -> ``Answerer.stream`` picks the
path. ``factoid`` (the default) goes to the LLM over the best passages; ``list`` ("Які
статті пишуть про X?", "where is X mentioned") is answered straight from retrieval by
litopys.rag.listing, searching for X alone (``list_topic``).

The patterns ask for words that only a question about the articles themselves uses: a
plural "статті"/"articles" with a verb of writing or mentioning, or "де згадується". A
question about an article of a law ("За якою статтею…", "Які статті бюджету…") or about
a place ("Де відбулася зустріч?") stays a factoid.
"""

from __future__ import annotations

import re

FACTOID = "factoid"
LIST = "list"
KINDS = (FACTOID, LIST)

_UK_NOUNS = r"(?:статті|матеріали|публікації|новини|тексти|повідомлення|замітки)"
_UK_IN_NOUNS = r"(?:статтях|матеріалах|публікаціях|новинах|текстах|повідомленнях|замітках)"
_UK_VERBS = (
    r"(?:пишуть|писали|пише|написано|розповідають|розповідали|повідомляють|повідомляли|згадують|згадували"
    r"|згадує\w*|згадувал\w*|згадано|стосуються|стосувалися|присвячені|йдеться|йшлося|ішлося|говориться"
    r"|говорять|кажуть|розповідається|висвітлюють|висвітлювали)"
)
_EN_NOUNS = r"(?:articles|stories|news\s+(?:items|stories|pieces)|reports|pieces|texts|news)"
_EN_VERBS = (
    r"(?:mention|mentioned|mentions|talk\s+about|talked\s+about|cover|covered|discuss|discussed|write\s+about"
    r"|wrote\s+about|report\s+on|reported\s+on|deal\s+with|dealt\s+with|refer\s+to|referred\s+to"
    r"|(?:are|were)\s+(?:about|on)|say\s+anything\s+about)"
)
_SHOW = r"(?:знайди|знайдіть|покажи|покажіть|перелічи|перелічіть|назви|назвіть|дай|дайте|find|show|list|give)"
_ALL = r"(?:(?:всі|усі|мені|me|all|the|any)\s+)*"

_PATTERNS = [
    # "Які статті пишуть про X?", "Котрі матеріали згадують X?", "Які статті є про X?"
    rf"^(?:а\s+)?(?:які|котрі)\s+(?:саме\s+)?{_UK_NOUNS}\s+(?:(?:вже|ще|є|були)\s+)?{_UK_VERBS}\s+(?:про\s+)?(?P<topic>.+)",
    # "Які статті про X?"
    r"^(?:а\s+)?(?:які|котрі)\s+(?:статті|матеріали|публікації)\s+(?:(?:вже|ще|є)\s+)*(?:про|щодо)\s+(?P<topic>.+)",
    # "У яких статтях згадується X?", "В яких новинах пишуть про X?"
    rf"^(?:а\s+)?(?:у|в)\s+(?:яких|котрих)\s+{_UK_IN_NOUNS}\s+(?:(?:вже|ще)\s+)?{_UK_VERBS}\s+(?:про\s+)?(?P<topic>.+)",
    # "Де згадується X?", "Де пишуть про X?", "Де ще йдеться про X?"
    r"^(?:а\s+)?де\s+(?:(?:саме|ще|в\s+статтях|у\s+статтях)\s+)?(?:згадує\w*|згадувал\w*|згадано|йдеться|йшлося|ішлося"
    r"|пишуть|писали|написано|говориться|розповідається|є\s+згадк\w*)\s+(?:про\s+)?(?P<topic>.+)",
    # "Знайди статті про X", "Покажи всі статті, де згадується X"
    rf"^{_SHOW}\s+{_ALL}(?:статті|матеріали|публікації|новини|articles|stories|reports|news)\s*,?\s+"
    r"(?:(?:про|щодо|де|в\s+яких|у\s+яких|які|що|about|on|that|which|mentioning|where)\s+)+"
    rf"(?:{_UK_VERBS}\s+|{_EN_VERBS}\s+)?(?:про\s+)?(?P<topic>.+)",
    # "Статті про X", "Articles about X"
    r"^(?:статті|матеріали|публікації|articles|stories)\s+(?:про|щодо|about|on|mentioning)\s+(?P<topic>.+)",
    # "Which articles mention X?", "What stories covered X?", "Which news items are about X?"
    rf"^(?:so\s+)?(?:which|what)\s+{_EN_NOUNS}\s+(?:(?:have|has|had|do|did)\s+)?{_EN_VERBS}\s+(?P<topic>.+)",
    # "In which articles is X mentioned?", "In what stories was X discussed?"
    r"^in\s+(?:which|what)\s+(?:articles|stories|reports|news)\s+(?:is|are|was|were|has|have|had|does|did)"
    r"\s+(?:been\s+)?(?P<topic>.+?)\s+(?:been\s+)?(?:mentioned|discussed|covered|written\s+about|reported"
    r"|talked\s+about|come\s+up|came\s+up)\b",
    # "Where is X mentioned?" (not "discussed" or "reported": where a talk or a blast happened is a fact)
    r"^where\s+(?:is|are|was|were|has|have|had|does|did)\s+(?:been\s+)?(?P<topic>.+?)\s+(?:been\s+)?"
    r"(?:mentioned|written\s+about|come\s+up|came\s+up)\b",
    # "Where do the articles mention X?", "Where does the news talk about X?"
    rf"^where\s+(?:do|does|did)\s+(?:the\s+)?(?:articles?|news|stories|reports)\s+{_EN_VERBS}\s+(?P<topic>.+)",
    # "Which articles is X mentioned in?"
    r"^(?:which|what)\s+(?:articles|stories|reports)\s+(?:is|are|was|were)\s+(?P<topic>.+?)\s+"
    r"(?:mentioned|discussed|covered)\s+in",
]
_COMPILED = [re.compile(p, re.IGNORECASE) for p in _PATTERNS]
_EDGES = " \t\n?!.,;:«»\"“”„'()"


def list_topic(question: str) -> str | None:
    """What a "which articles mention X?" question asks about (X), or None for any other question."""
    text = " ".join(question.split())
    for pattern in _COMPILED:
        m = pattern.match(text)
        if m:
            topic = m.group("topic").strip(_EDGES)
            return topic or None
    return None


def question_kind(question: str) -> str:
    """The kind of ``question``: ``list`` or ``factoid`` (see the module docstring)."""
    return LIST if list_topic(question) else FACTOID
