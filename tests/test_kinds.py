"""Which questions ask for a list of articles ("Які статті пишуть про X?"), and what X is."""

from __future__ import annotations

import pytest

from litopys.rag.kinds import (
    FACTOID,
    LIST,
    OVERVIEW,
    latest_topic,
    list_topic,
    overview_topic,
    question_kind,
    timeline_subject,
)

LISTS = [
    ("Які статті пишуть про Хмельницьку АЕС?", "Хмельницьку АЕС"),
    ("які статті згадують Агротехбуд", "Агротехбуд"),
    ("Котрі матеріали розповідають про переговори в Майамі?", "переговори в Майамі"),
    ("Які статті є про обстріли Києва?", "обстріли Києва"),
    ("Які публікації стосуються енергетики?", "енергетики"),
    ("Які новини згадують Буданова?", "Буданова"),
    ("У яких статтях згадується Умєров?", "Умєров"),
    ("В яких новинах пишуть про «Укренерго»?", "Укренерго"),
    ("Де згадується Хмельниччина?", "Хмельниччина"),
    ("Де йдеться про мобілізацію?", "мобілізацію"),
    ("Де ще пишуть про тривогу на Хмельниччині?", "тривогу на Хмельниччині"),
    ("Знайди статті про Віткоффа", "Віткоффа"),
    ("Покажи всі статті, де згадується Зеленський", "Зеленський"),
    ("Статті про переговори в Майамі", "переговори в Майамі"),
    ("Which articles mention Zelensky?", "Zelensky"),
    ("What stories covered the talks in Miami?", "the talks in Miami"),
    ("Which news items are about the Khmelnytskyi plant?", "the Khmelnytskyi plant"),
    ("Where is Agrotekhbud mentioned?", "Agrotekhbud"),
    ("Where was the Miami meeting mentioned?", "the Miami meeting"),
    ("In which articles is Umerov mentioned?", "Umerov"),
    ("Where do the articles mention sanctions?", "sanctions"),
    ("Find all articles about the energy ministry", "the energy ministry"),
    ("Which articles is Ukrenergo mentioned in?", "Ukrenergo"),
]

# Factoid questions with the same words: an article of a law, a place, what was said, who wrote.
FACTOIDS = [
    "Яка стаття Конституції гарантує свободу слова?",
    "За якою статтею Кримінального кодексу відкрили провадження?",
    "Які статті бюджету скоротили?",
    "Під якою статтею розслідують справу Агротехбуду?",
    "Які матеріали використали для будівництва укриття?",
    "Які матеріали справи передали до суду?",
    "Які публікації в соцмережах видалили?",
    "Де відбулася зустріч делегацій?",
    "Де знаходиться Хмельницька АЕС?",
    "Хто згадував про переговори з Росією?",
    "Які новини з Харкова?",
    "Скільки людей згадується у списку?",
    "Where is the Khmelnytskyi nuclear plant?",
    "Where was the explosion reported?",
    "Where were the sanctions discussed?",
    "Which country mentioned sanctions first?",
    "Who wrote the article about the talks?",
    "Which article of the constitution protects free speech?",
    "What is mentioned about Umerov?",
]


@pytest.mark.parametrize(("question", "topic"), LISTS)
def test_list_questions_and_their_topic(question, topic):
    assert list_topic(question) == topic
    assert question_kind(question) == LIST


@pytest.mark.parametrize("question", FACTOIDS)
def test_factoid_questions_are_not_lists(question):
    assert list_topic(question) is None
    assert question_kind(question) == FACTOID


def test_a_question_with_no_topic_is_no_list():
    assert list_topic("Які статті пишуть про ?") is None
    assert list_topic("") is None


OVERVIEWS = [
    ("Що відомо про справу Агротехбуду?", "справу Агротехбуду"),
    ("що відомо про переговори в Майамі", "переговори в Майамі"),
    ("Що нам відомо про Умєрова?", "Умєрова"),
    ("Що вже відомо щодо обстрілів Києва?", "обстрілів Києва"),
    ("Що відомо на сьогодні про графіки відключень?", "графіки відключень"),
    ("А що відомо про Гегсета?", "Гегсета"),
    ("Як розвивалася ситуація з Курахове?", "Курахове"),
    ("Як розвивалася ситуація навколо Вовчанська?", "Вовчанська"),
    ("Як розгорталися події довкола Покровська?", "Покровська"),
    ("Як розвивалася справа Агротехбуду?", "Агротехбуду"),
    ("Як змінювалася ситуація з відключеннями світла?", "відключеннями світла"),
    ("Розкажи хронологію подій навколо Курахового", "Курахового"),
    ("Хронологія переговорів у Майамі", "переговорів у Майамі"),
    ("What happened with the Miami talks?", "the Miami talks"),
    ("What has happened with Agrotekhbud?", "Agrotekhbud"),
    ("what is known about Umerov", "Umerov"),
    ("What do we know about the blackout schedules?", "the blackout schedules"),
    ("What's known so far about Hegseth?", "Hegseth"),
    ("How did the situation with Kurakhove develop?", "the situation with Kurakhove"),
    ("Give me a timeline of the Miami talks", "the Miami talks"),
    # What was written about X: the reports on X (on a day, when the question names one: the
    # date is the filter, so it is no part of the topic)
    ("Що пишуть про переговори в Майамі?", "переговори в Майамі"),
    ("Що писали у листопаді 2024 року про графіки відключень у Києві?", "графіки відключень у Києві"),
    ("Що 14 листопада 2024 року писали про обвалення мосту?", "обвалення мосту"),
    ("Що повідомили 13-го листопада 2024 року про заборону виїзду?", "заборону виїзду"),
    ("Що писали за останні два дні про ціни на картоплю?", "ціни на картоплю"),
    ("А що ЗМІ повідомляли про справу Агротехбуду?", "справу Агротехбуду"),
    ("What did the articles say about the talks?", "the talks"),
    ("What was reported in November 2024 about the Tesla Cybertruck recall?", "the Tesla Cybertruck recall"),
    ("What was written about Umerov?", "Umerov"),
    ("Які новини про Умєрова?", "Умєрова"),
    ("Які ще новини є щодо обстрілів?", "обстрілів"),
    ("What news is there about the talks?", "the talks"),
]

# Not overviews: one fact asked ("what is known about the number…"), one event ("Що сталося з…"),
# a development of something that is no situation, a yes/no question, someone else's knowledge.
NOT_OVERVIEWS = [
    "Що відомо про кількість загиблих?",
    "Що відомо про причину пожежі?",
    "Що сталося з теплопостачанням у Шостці 13 листопада 2024?",
    "Що сталося вчора в Харкові?",
    "Що анонсувало Міноборони 14.11.2024?",
    "Що повідомили в поліції 14 листопада?",
    "Про що попередила водіїв поліція Києва 14 листопада 2024 року?",
    "Як розвивається економіка Китаю?",
    "Чи відомо про нові санкції?",
    "Що йому було відомо про схему?",
    "Хто відомий своєю позицією щодо Умєрова?",
    "Кому відомо про справу Агротехбуду?",
    "Що відомо?",
    "What happened in Kyiv on November 14?",
    "What happened to the convoy?",
    "What is mentioned about Umerov?",
    "What is known about the number of victims?",
    "Who knew about the scheme?",
    "How did Umerov answer the question?",
    "How many people were known to be hurt?",
]


@pytest.mark.parametrize(("question", "topic"), OVERVIEWS)
def test_overview_questions_and_their_topic(question, topic):
    assert overview_topic(question) == topic
    assert timeline_subject(question) == (topic, False)
    assert question_kind(question) == OVERVIEW


@pytest.mark.parametrize("question", NOT_OVERVIEWS + FACTOIDS)
def test_other_questions_are_not_overviews(question):
    assert overview_topic(question) is None
    assert timeline_subject(question) is None
    assert question_kind(question) != OVERVIEW


@pytest.mark.parametrize(("question", "_topic"), LISTS)
def test_a_list_question_stays_a_list(question, _topic):
    assert overview_topic(question) is None


LATEST = [
    ("Які останні новини про переговори в Майамі?", "переговори в Майамі"),
    ("Які останні новини від Укренерго?", "Укренерго"),
    ("А які є останні новини щодо Курахового?", "Курахового"),
    ("Які свіжі новини з фронту?", "фронту"),
    ("Що нового про Піта Хегсета?", "Піта Хегсета"),
    ("Що нового в законі про мобілізацію?", "законі про мобілізацію"),
    ("What is the latest on Marine Le Pen?", "Marine Le Pen"),
    ("What's the latest news about the talks in Miami?", "the talks in Miami"),
    ("What's new about the early elections in Germany?", "the early elections in Germany"),
    ("Latest news on Kurakhove", "Kurakhove"),
]
NOT_LATEST = [
    "Які останні дані про кількість загиблих?",  # one fact, from the newest reports: a factoid
    "Що нового?",  # no subject: a factoid over the newest passages
    "Які останні новини?",
    "What is the latest?",
    "Яка остання новина про кількість жертв?",
    "Що нового відкрили вчені про кількість видів?",
    "Які останні новини про кількість загиблих?",
    "What is the latest number of victims?",
    "Хто повідомив останні новини про Курахове?",
]


@pytest.mark.parametrize(("question", "topic"), LATEST)
def test_a_question_for_the_latest_on_a_subject_is_an_overview_of_it(question, topic):
    assert latest_topic(question) == topic
    assert overview_topic(question) is None and list_topic(question) is None
    assert timeline_subject(question) == (topic, True)
    assert question_kind(question) == OVERVIEW


@pytest.mark.parametrize("question", NOT_LATEST)
def test_a_question_for_one_recent_fact_or_with_no_subject_is_no_latest_overview(question):
    assert latest_topic(question) is None
    assert timeline_subject(question) is None
    assert question_kind(question) == FACTOID
