"""Which questions ask for a list of articles ("Які статті пишуть про X?"), and what X is."""

from __future__ import annotations

import pytest

from litopys.rag.kinds import FACTOID, LIST, list_topic, question_kind

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
    "Що пишуть про переговори в Майамі?",
    "Хто згадував про переговори з Росією?",
    "Які новини з Харкова?",
    "Які останні новини про переговори в Майамі?",
    "Що відомо про справу Агротехбуду?",
    "Скільки людей згадується у списку?",
    "Where is the Khmelnytskyi nuclear plant?",
    "Where was the explosion reported?",
    "Where were the sanctions discussed?",
    "Which country mentioned sanctions first?",
    "What did the articles say about the talks?",
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
