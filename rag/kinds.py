"""Question -> its kind: which answer path it takes before retrieval.

Data flow: the (standalone) question -> ``question_kind`` -> ``Answerer.stream`` picks the
path. ``factoid`` (the default) goes to the LLM over the best passages; ``list`` ("Які
статті пишуть про X?", "where is X mentioned") is answered straight from retrieval by
litopys.rag.listing, searching for X alone (``list_topic``); ``overview`` ("Що відомо про
X?", "Як розвивалася ситуація з X?", "What happened with X?") is answered by
litopys.rag.overview as a dated timeline from several articles (``overview_topic``).

The patterns ask for words that only a question about the articles themselves uses: a
plural "статті"/"articles" with a verb of writing or mentioning, or "де згадується". A
question about an article of a law ("За якою статтею…", "Які статті бюджету…") or about
a place ("Де відбулася зустріч?") stays a factoid. An overview asks what is known about
a subject as a whole ("Що відомо про…", "what do we know about…") or how it developed ("Як
розвивалася ситуація з…"); "Що відомо про кількість загиблих?" asks one fact, so a topic
that starts with a word for one quantity, cause, date or place stays a factoid, and so
does "Що сталося з X?" (one event: the dated questions ask it), unlike "What happened with X?".
A question for the latest on a subject ("Які останні новини про X?", "Що нового про X?", "What's
the latest on X?") is an overview too, of the newest reports (``latest_topic``): it asks what was
reported, not for one fact; "Які останні дані про кількість загиблих?" stays a factoid.
``timeline_subject`` gives the subject of either overview, and whether it asks for the latest.
"""

from __future__ import annotations

import re

from litopys.rag.when import without_dates

FACTOID = "factoid"
LIST = "list"
OVERVIEW = "overview"
KINDS = (FACTOID, LIST, OVERVIEW)

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


_UK_SITUATION = r"(?:ситуаці\w*|події|справа|справи|історія|історії|конфлікт\w*|скандал\w*|розслідуванн\w*)"
_UK_DEVELOPED = (
    r"(?:розвивал\w*|розвивається|розвиваються|розгортал\w*|розгортається|розгортаються|змінювал\w*"
    r"|змінюється|змінюються|складал\w*|розвинул\w*)"
)
_ABOUT = r"(?:з|із|зі|навколо|довкола|щодо|у|в|про)"
_OVERVIEW_PATTERNS = [
    # "Що відомо про X?", "Що нам відомо про X?", "Що вже відомо щодо X?", "Що відомо на сьогодні про X?"
    r"^(?:а\s+)?що\s+(?:(?:нам|вже|наразі|зараз|загалом|взагалі|сьогодні|ще|ж)\s+)*відомо\s+"
    r"(?:(?:на\s+сьогодні|на\s+цей\s+час|наразі|зараз|загалом)\s+)?(?:про|щодо|стосовно)\s+(?P<topic>.+)",
    # "Як розвивалася ситуація з X?", "Як розгорталися події навколо X?", "Як розвивалася справа X?"
    rf"^(?:а\s+)?як\s+{_UK_DEVELOPED}\s+{_UK_SITUATION}\s+(?:{_ABOUT}\s+)?(?P<topic>.+)",
    # "Як X розвивалася?" is rare; "Розкажи / Опиши хронологію X", "Хронологія подій навколо X"
    r"^(?:(?:розкажи|розкажіть|опиши|опишіть|дай|дайте|покажи|покажіть|склади|складіть)\s+)?(?:мені\s+)?"
    rf"(?:хронологі\w*|таймлайн\w*)\s+(?:подій\s+)?(?:{_ABOUT}\s+)?(?P<topic>.+)",
    # "Що писали про X?", "Що повідомляли про X?", "Що пишуть у новинах про X?" (with the dates of
    # "Що 14 листопада писали про X?" taken out first: they are the filter, see ``overview_topic``)
    r"^(?:а\s+)?що\s+(?:(?:саме|ще|взагалі|загалом|ЗМІ|медіа|журналісти)\s+)*"
    r"(?:писали|пишуть|написали|повідомляли|повідомили|повідомляють|повідомлялося|писалося|розповідали"
    r"|розповіли|розповідають)\s+(?:(?:ЗМІ|медіа|(?:у|в)\s+(?:новинах|статтях|медіа))\s+)?"
    r"(?:про|щодо|стосовно)\s+(?P<topic>.+)",
    # "Які новини про X?", "Які ще новини є щодо X?" ("Які останні новини…" asks for the latest:
    # ``latest_topic``)
    r"^(?:а\s+)?(?:які|what)\s+(?:ще\s+|нові\s+)?(?:новини|news)\s+(?:(?:є|були|з'явилися|з’явилися|is\s+there)\s+)?"
    r"(?:про|щодо|стосовно|about|on)\s+(?P<topic>.+?)(?:\s+(?:з'явилися|з’явилися|були|є|надійшли))?\s*[?.!]*$",
    # "What happened with X?", "What has happened with X?"
    r"^(?:so\s+)?what\s+(?:has\s+|had\s+)?happened\s+(?:with|around|regarding)\s+(?P<topic>.+)",
    # "What is known about X?", "What do we know about X?", "What's known so far about X?"
    r"^(?:so\s+)?what(?:\s+is|'s|\s+do\s+we|\s+does\s+anyone|\s+did\s+we)\s+(?:(?:already|so\s+far|now)\s+)?"
    r"(?:known|know)\s+(?:so\s+far\s+)?(?:about|of|regarding)\s+(?P<topic>.+)",
    # "What was reported about X?", "What did the news say about X?"
    r"^(?:so\s+)?what\s+(?:was|were|has\s+been|had\s+been)\s+(?:reported|written|said|published)\s+"
    r"(?:about|on|regarding|concerning)\s+(?P<topic>.+)",
    r"^(?:so\s+)?what\s+(?:did|do|does)\s+(?:the\s+)?(?:news|articles|media|press|papers|reports)\s+"
    r"(?:say|report|write)\s+(?:about|on|regarding)\s+(?P<topic>.+)",
    # "How did the situation with X develop?", "How has the X story unfolded?"
    r"^how\s+(?:did|has|have|had)\s+(?P<topic>(?:the\s+)?(?:situation|story|case|events?|conflict|scandal|affair)"
    r"\b.+?)\s+(?:develop|developed|unfold|unfolded|evolve|evolved|progress|progressed)\b",
    # "Give me a timeline of X", "Timeline of X", "An overview of X"
    r"^(?:(?:give|show)\s+(?:me\s+)?)?(?:a\s+|an\s+|the\s+)?(?:timeline|overview|chronology)\s+(?:of|for|on)\s+"
    r"(?:the\s+events?\s+(?:around|with|of)\s+)?(?P<topic>.+)",
]
_OVERVIEW_COMPILED = [re.compile(p, re.IGNORECASE) for p in _OVERVIEW_PATTERNS]
# A topic that asks for one quantity, cause, date or place: a factoid ("Що відомо про кількість загиблих?").
_ONE_FACT = re.compile(
    r"^(?:кількість|кількості|число|суму|суми|розмір|причину|причини|дату|час|місце|вартість|долю|ім'я|імена"
    r"|the\s+(?:number|amount|cause|date|time|place|cost|name)\b|how\s+many\b)",
    re.IGNORECASE,
)


_LATEST_PATTERNS = [
    # "Які останні новини про X?", "Які є останні новини щодо X?", "Які останні новини від Укренерго?"
    r"^(?:а\s+)?(?:які|котрі)\s+(?:(?:є|ще)\s+)?(?:найсвіжіші|останні|свіжі)\s+(?:новини|повідомлення|події)\s+"
    r"(?:(?:є|були)\s+)?(?:про|щодо|стосовно|навколо|довкола|від|з|із|зі|у|в)\s+(?P<topic>.+)",
    # "Що нового про X?", "Що нового щодо X?", "Що новенького у X?"
    r"^(?:а\s+)?що\s+(?:ж\s+)?(?:нового|новенького)\s+(?:відомо\s+)?(?:про|щодо|стосовно|навколо|від|з|із|зі|у|в)\s+"
    r"(?P<topic>.+)",
    # "What is the latest on X?", "What's the latest news about X?", "Latest news on X"
    r"^(?:(?:so\s+)?what(?:'s|\s+is|\s+are)\s+)?(?:the\s+)?(?:latest|most\s+recent|newest)\s+(?:news\s+|reports\s+)?"
    r"(?:on|about|regarding|from|with|in)\s+(?P<topic>.+)",
    # "What's new about X?", "What is new with X?"
    r"^(?:so\s+)?what(?:'s|\s+is)\s+new\s+(?:about|with|on|regarding|in)\s+(?P<topic>.+)",
]
_LATEST_COMPILED = [re.compile(p, re.IGNORECASE) for p in _LATEST_PATTERNS]


def latest_topic(question: str) -> str | None:
    """What a "what is the latest on X?" question asks about (X), or None for any other question."""
    return _subject(" ".join(question.split()), _LATEST_COMPILED)


def overview_topic(question: str) -> str | None:
    """What a "what is known about X?" / "how did X develop?" question asks about (X), or None.

    A date between the question words ("Що 14 листопада писали про X?") is read without it: the
    date is retrieval's filter (rag.retrieval), not part of what is asked.
    """
    text = " ".join(question.split())
    topic = _subject(text, _OVERVIEW_COMPILED)
    if topic is None:
        undated = without_dates(text)
        topic = _subject(undated, _OVERVIEW_COMPILED) if undated != text else None
    return topic


def timeline_subject(question: str) -> tuple[str, bool] | None:
    """The subject of a question answered as a timeline, and whether it asks for the latest news
    ("the latest on X" is an overview of the newest reports); None for any other question."""
    topic = overview_topic(question)
    if topic is not None:
        return topic, False
    topic = latest_topic(question)
    return None if topic is None else (topic, True)


def _subject(text: str, patterns: list[re.Pattern[str]]) -> str | None:
    """The topic of the first of ``patterns`` that matches ``text``; None if none does, or if the
    topic asks for one fact (``_ONE_FACT``)."""
    for pattern in patterns:
        m = pattern.match(text)
        if m:
            topic = m.group("topic").strip(_EDGES)
            return None if not topic or _ONE_FACT.match(topic) else topic
    return None


def question_kind(question: str) -> str:
    """The kind of ``question``: ``list``, ``overview`` or ``factoid`` (see the module docstring)."""
    if list_topic(question):
        return LIST
    return OVERVIEW if timeline_subject(question) else FACTOID
