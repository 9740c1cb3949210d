"""The rules that withhold a draft answer: echoes, wrong answer types, invented figures and names."""

from __future__ import annotations

import pytest

from litopys.rag.answer import finish_answer
from litopys.rag.prompt import REFUSAL_EN, REFUSAL_UK, refusal_for
from litopys.rag.retrieval import Passage
from litopys.rag.withhold import (
    ECHO,
    OFF_TOPIC,
    UNSUPPORTED,
    WRONG_TYPE,
    is_echo,
    names_absent,
    question_names,
    wrong_type,
)

PASSAGE = (
    "Проєкт «Чиста річка» презентували на міському форумі 12 березня. Його вартість — 3,5 млн грн, "
    "а замовником стала ТОВ «Деміург», яку очолює Ігор Савчук."
)


def _passages() -> list[Passage]:
    return [Passage(1, "0001.txt", "Чиста річка", "2021-03-12", PASSAGE, 0, len(PASSAGE), 1.0)]


def test_an_answer_that_only_restates_the_question_is_an_echo():
    assert is_echo("На якому заході презентували проєкт?", "Проєкт презентували на заході [1].")
    assert is_echo("Хто є директором ТОВ «Деміург»?", "ТОВ «Деміург» [1].")
    assert is_echo("Хто був чоловіком Емми?", "Емми був чоловіком [1].")
    # A legal form or "компанія" before the question's own firm adds no firm (roles-ner-uk drafts).
    assert is_echo("Яка фірма виграла тендер «Укртрансгазу»?", "ПАТ «Укртрансгаз» [1].")
    assert is_echo(
        "Яка фірма ремонтує вагони Харківського метрополітену?", "Компанія «Харківського метрополітену» [2]."
    )
    assert not is_echo("Яка фірма виграла тендер «Укртрансгазу»?", "ТОВ «Укргеоекологія» [1].")
    assert is_echo(
        "Turing machines are commonly employed to define what?", "Turing machines are employed to define what [1]."
    )
    # Any new word or figure is content, one-letter names included.
    assert not is_echo("Який клас складності охоплює ефективні алгоритми?", "Клас складності P [1].")
    assert not is_echo("На якому заході презентували проєкт?", "На міському форумі [1].")
    assert not is_echo("Хто є директором ТОВ «Деміург»?", "Ігор Савчук [1].")
    assert not is_echo("Скільки коштує проєкт?", "3,5 млн [1].")
    # "Так" answers a yes/no question.
    assert not is_echo("Чи презентували проєкт?", "Так, проєкт презентували [1].")


def test_an_amount_or_a_time_must_be_given_when_asked():
    assert wrong_type("Скільки коштує проєкт?", "ТОВ «Деміург» [1].") == "amount"
    assert wrong_type("Коли презентували проєкт?", "На міському форумі [1].") == "time"
    assert wrong_type("В якому році заснували фірму?", "ТОВ «Деміург» [1].") == "time"
    assert wrong_type("How many people came?", "The city council [1].") == "amount"
    # Figures, number words and words of time all count.
    assert wrong_type("Скільки коштує проєкт?", "3,5 млн грн [1].") is None
    assert wrong_type("Скільки разів переносили форум?", "Двічі [1].") is None
    assert wrong_type("Скільки учасників прийшло?", "Кілька сотень [1].") is None
    odarchenko = "Скільки років нардепу, якого ВАКС засудив до восьми років?"
    assert wrong_type(odarchenko, "Суддя призначив нардепу вісім років позбавлення волі [3].") == "amount"
    assert wrong_type("Скільки років нардепу?", "Сорок вісім років [3].") is None
    assert wrong_type("Скільки учасників прийшло?", "П'ятеро депутатів і двоє експертів [1].") is None
    assert wrong_type("Коли презентували проєкт?", "У березні [1].") is None
    assert wrong_type("Коли презентували проєкт?", "Наприкінці лютого [1].") is None
    assert wrong_type("Коли презентували проєкт?", "Після завершення форуму [1].") is None
    # A year is not an amount; a sum of money is not a count of things; a name needs a name.
    assert wrong_type("Скільки років засновниці фірми?", "2013 роки [1].") == "amount"
    assert wrong_type("На яку суму фірма отримала допомогу?", "2014-2015 роки [1].") == "amount"
    assert wrong_type("Скільки років тривала будова?", "З 2014 по 2018 рік [1].") is None
    assert wrong_type("На скільки кілометрів обмежено маршрут?", "2000 кілометрів [1].") is None
    assert wrong_type("Скільки медалей здобули на Олімпіаді 2012 року?", "Шість медалей [1].") is None
    assert wrong_type("Скільки парт закупило управління?", "3,82 млн грн [1].") == "count"
    assert wrong_type("Скільки коштували парти?", "3,82 млн грн [1].") is None
    # English "how much" asks for a sum as often as for a quantity (eval/news_kinds.jsonl, a right answer).
    assert wrong_type("How much Amazon stock had Bezos sold?", "$2,7 млрд [1].") is None
    assert wrong_type("Скільки заплатило управління за парти?", "3,82 млн грн [1].") is None
    assert wrong_type("Як звати голову комісії міськради?", "Голова комісії міськради [1].") == "name"
    assert wrong_type("Як звати голову комісії міськради?", "Петро Коваленко [1].") is None
    assert wrong_type("Як звати голову комісії?", "Головою комісії є Коваленко [1].") is None
    # A date is not an amount; a day needs a day; a month must be the asked one.
    assert wrong_type("Скільки коштував ремонт залів суду?", "27 листопада відкрили зали [1].") == "amount"
    assert wrong_type("Якого числа фірма підписала договір?", "2026 року [1].") == "day"
    assert wrong_type("Якого числа фірма підписала договір?", "12 листопада 2024 року [1].") is None
    assert wrong_type("Якої дати підписали договір?", "14.11.2024 [1].") is None
    assert wrong_type("Якого числа в грудні зустрінуться міністри?", "12 листопада [2].") == "time"
    assert wrong_type("Коли в грудні зустрінуться міністри?", "12 грудня [2].") is None
    # A sum or a share places nothing in time (a near miss over the news corpus).
    repkon = "Вказано, що компанія Repkon збудує відповідний завод у штаті Кентуккі за $425 млн [1]."
    assert wrong_type("Коли компанія Repkon почне будувати завод тротилу?", repkon) == "time"
    assert wrong_type("Коли фірма отримала підряд?", "За 2,4 млн грн, 15% авансом [1].") == "time"
    assert wrong_type("Коли фірма отримала підряд?", "У 2021 році, за 2,4 млн грн [1].") is None
    assert wrong_type("Коли фірма отримала підряд?", "Через 3 місяці після тендеру [1].") is None
    # A person's name for "як звати", a place's name for "у якому місті".
    assert wrong_type("Як звати суддю у справі Ле Пен?", "Суд у Парижі [1].") == "name"
    assert wrong_type("Як звати суддю у справі Ле Пен?", "Бенедикт де Пертюї [1].") is None
    assert wrong_type("Як звати суддю у справі?", "Коваленко [1].") is None
    assert wrong_type("У якому місті США зіграє збірна?", "У штатах [1].") == "place"
    assert wrong_type("У якому місті США зіграє збірна?", "У Орландо [1].") is None
    # The type comes from the question's first words: this one asks for a firm first.
    assert wrong_type("Яка фірма отримала підряд і за яку суму?", "ТОВ «Деміург» [1].") is None
    assert wrong_type("А на скільки зросли видатки?", "На освіту [1].") == "amount"
    # "коли" inside a question is not asking for a time; other questions are not typed.
    assert wrong_type("Що сказав мер, коли відкривав форум?", "Що проєкт важливий [1].") is None
    assert wrong_type("Хто замовник проєкту?", "ТОВ «Деміург» [1].") is None


def test_each_rule_withholds_the_draft_behind_the_refusal():
    cases = [
        ("На якому заході презентували проєкт?", "Проєкт презентували на заході [1].", ECHO, ()),
        ("Коли ТОВ «Деміург» завершить проєкт?", "Ігор Савчук [1].", WRONG_TYPE, ("time",)),
        ("Скільки працівників у ТОВ «Деміург»?", "У ТОВ «Деміург» працює 240 людей [1].", UNSUPPORTED, ("240",)),
        ("Хто заступник Савчука?", "Заступником Савчука є Олена Бойко [1].", UNSUPPORTED, ("олена", "бойко")),
    ]
    for question, draft, reason, missing in cases:
        answer = finish_answer(question, draft, _passages())
        assert answer.refused and answer.text == REFUSAL_UK and not answer.citations, question
        assert answer.withheld is not None and answer.withheld.draft == draft
        assert answer.withheld.reason == reason and set(answer.withheld.missing) == set(missing), question
        assert [c.passage.article_id for c in answer.withheld.citations] == ["0001.txt"]
        assert answer.grounding is None and not answer.claims


def test_a_real_answer_passes_every_rule():
    for question, draft in [
        ("На якому заході презентували проєкт?", "На міському форумі [1]."),
        ("Скільки коштує проєкт «Чиста річка»?", "3,5 млн грн [1]."),
        ("Коли презентували проєкт?", "12 березня [1]."),
        ("Хто очолює замовника проєкту?", "Ігор Савчук [1]."),
    ]:
        answer = finish_answer(question, draft, _passages())
        assert not answer.refused and answer.withheld is None and answer.text == draft, question


def test_an_english_question_is_refused_in_english():
    answer = finish_answer("How much did the project cost?", "The project [1].", _passages())
    assert answer.refused and answer.text == REFUSAL_EN and answer.withheld is not None
    # A Ukrainian question is refused in Ukrainian, however many Latin names it holds.
    sky = "Яка компанія була створена внаслідок злиття Sky Television і British Satellite Broadcasting?"
    assert refusal_for(sky) == REFUSAL_UK and refusal_for("Which articles mention Стармер?") == REFUSAL_EN
    assert refusal_for("NATO?") == REFUSAL_EN  # names only: all its letters decide


def test_a_fact_cited_to_the_wrong_passage_is_re_cited_not_withheld():
    seed = (
        "Російську делегацію на переговорах у Майамі може очолити Кирило Дмитрієв, глава РФПІ. "
        "Американську сторону ймовірно представлятимуть Стів Віткофф і Джаред Кушнер."
    )
    other = "Переговори у Майамі відбудуться наступного тижня, повідомили журналісти."
    passages = [
        Passage(1, "other.txt", "Переговори", None, other, 0, len(other), 2.0),
        Passage(2, "seed.txt", "Делегації", None, seed, 0, len(seed), 1.0),
    ]
    draft = "Делегацію може очолити Кирило Дмитрієв [1]. З боку США будуть Стів Віткофф і Джаред Кушнер [2]."
    answer = finish_answer("А хто з боку США?", draft, passages)
    assert not answer.refused and answer.withheld is None
    assert (
        answer.text == "Делегацію може очолити Кирило Дмитрієв [2]. З боку США будуть Стів Віткофф і Джаред Кушнер [2]."
    )
    assert [(c.n, c.attributed) for c in answer.citations] == [(2, False)]
    assert not answer.unsupported_claims
    # A name that no passage holds is still withheld.
    invented = finish_answer("Хто очолить делегацію?", "Делегацію очолить Сергій Лавров [1].", passages)
    assert invented.refused and invented.withheld is not None and invented.withheld.reason == "unsupported"


def test_the_checks_after_generation_are_timed_and_summarised():
    from litopys.rag.evaluation import Question, score_answer, summarize

    answer = finish_answer("Скільки коштує проєкт?", "3,5 млн грн [1].", _passages())
    assert answer.timings["checks_s"] > 0.0
    withheld = finish_answer("Коли презентували проєкт?", "На міському форумі [1].", _passages())
    question = Question("Скільки коштує проєкт?", "0001.txt", ("3,5 млн",))
    rows = [score_answer(question, answer, 2.0), score_answer(question, withheld, 4.0)]
    gated = score_answer(question, finish_answer("Скільки коштує проєкт?", REFUSAL_UK, []), 0.1)
    timing = summarize([*rows, gated])["timing"]
    # Answered means the model wrote a draft (shown or withheld), not a refusal before the LLM.
    assert timing["median_answered_s"] == 3.0
    assert timing["median_checks_s"] > 0.0
    assert timing["median_answered_without_checks_s"] == pytest.approx(3.0 - timing["median_checks_s"])


def test_a_name_in_the_cited_passages_title_supports_the_draft():
    # A text whose first line names the director becomes the title of every chunk; the model reads it there.
    title = "Автором сценарію виступив Сергій Бібік, режисер – Станіслав Цехмістренко."
    text = "Присутній на прем’єрі фільму «Межа очікування» побратим Хом’яків звернув увагу на проблему."
    passage = Passage(1, "0342.txt", title, None, text, 0, len(text), 1.0)
    answer = finish_answer("Хто режисер фільму «Межа очікування»?", "Станіслав Цехмістренко [1].", [passage])
    assert not answer.refused and answer.withheld is None, answer.withheld


NHL = "Результати матчів за 13 листопада. Піттсбург - Детройт - 2:3. Бостон - Торонто - 4:1."


def test_a_draft_from_an_article_naming_none_of_the_questions_names_is_off_topic():
    passage = Passage(1, "nhl.txt", "Хокей", "2024-11-13", NHL, 0, len(NHL), 1.0)
    question = "Яка команда перемогла в матчі Анахайм – Вегас 13 листопада?"
    answer = finish_answer(question, "Детройт [1].", [passage])
    assert answer.refused and answer.withheld is not None
    assert answer.withheld.reason == OFF_TOPIC and answer.withheld.missing == ("Анахайм", "Вегас")
    # The whole article decides: a name in another chunk of the cited article keeps the answer.
    whole = f"Хокей\n{NHL} Анахайм - Вегас - 1:5."
    seen: list[list[str]] = []

    def article_texts(ids: list[str]) -> list[str]:
        seen.append(ids)
        return [whole]

    kept = finish_answer(question, "Детройт [1].", [passage], article_texts=article_texts)
    assert kept.withheld is None and not kept.refused and seen == [["nhl.txt"]]
    gone = finish_answer(question, "Детройт [1].", [passage], article_texts=lambda ids: [f"Хокей\n{NHL}"])
    assert gone.withheld is not None and gone.withheld.reason == OFF_TOPIC


def test_names_are_found_in_any_case_form_and_a_question_without_names_is_not_judged():
    assert question_names("Хто був герцогом під час битви при Гастінгсі?") == ["Гастінгсі"]
    assert question_names("Яка фірма виграла тендер «Укртрансгазу» в Харкові?") == ["Укртрансгазу", "Харкові"]
    assert question_names("Хто очолює замовника проєкту?") == []
    # An acronym is no name to look for: articles spell "США" out as "американська сторона".
    assert question_names("А хто з боку США в Майамі?") == ["Майамі"]
    assert names_absent("Хто був герцогом під час битви при Гастінгсі?", ["Битва при Гастінгсі 1066 року"]) == ()
    assert names_absent("Яка фірма виграла тендер «Укртрансгазу»?", ["ПАТ «Укртрансгаз» уклало угоду"]) == ()
    # One of the names is enough: the region may be spelt otherwise in the article.
    assert names_absent("Хто переміг у закупівлі «Альфи» в Івано-Франківській області?", ["ТОВ «Альфа»"]) == ()
    assert names_absent("Хто був братом Маргарет?", [PASSAGE]) == ("Маргарет",)
    assert names_absent("Хто очолює замовника проєкту?", ["Інша стаття"]) == ()
    assert names_absent("What was the name of the count of Apulia?", ["The Cape Monthly was a magazine."]) == (
        "Apulia",
    )


def test_a_region_named_the_other_way_is_the_same_name():
    poltava = ["Через негоду знеструмлені 43 населені пункти у Полтавській області."]
    assert names_absent("Скільки населених пунктів Полтавщини знеструмила негода?", poltava) == ()
    assert names_absent("Скільки сіл Хмельниччини знеструмила негода?", poltava) == ("Хмельниччини",)


def test_an_english_questions_latin_names_are_not_looked_for_in_cyrillic_texts():
    stanton = ["Британська акторка Імельда Стонтон отримала орден Британської імперії."]
    assert names_absent("Which actress received the Order of the British Empire?", stanton) == ()
    # Its Cyrillic names are, and a Ukrainian question's Latin names are too.
    assert names_absent("Which articles mention Стармер?", stanton) == ("Стармер",)
    assert names_absent("Скільки коштує пікап Cybertruck?", stanton) == ("Cybertruck",)
    sky = "Яка компанія була створена внаслідок злиття Sky Television і British Satellite Broadcasting?"
    assert names_absent(sky, stanton) == ("Sky", "Television", "British", "Satellite", "Broadcasting")


def test_retrieval_reads_the_cited_articles_whole(make_retriever, tiny_embedder):
    body = " ".join(f"Речення номер {i} про хокейний сезон." for i in range(200)) + " Анахайм переміг Вегас."
    with make_retriever({"nhl.txt": f"date 2024-11-13 Хокей\n{body}"}, tiny_embedder, with_seed=False) as retriever:
        texts = retriever.article_texts(["nhl.txt", "gone.txt"])
    assert len(texts) == 1 and texts[0].startswith("Хокей\n") and texts[0].endswith("Анахайм переміг Вегас.")


def test_a_who_question_wants_someone_named():
    # Near-miss and role drafts that name nobody (eval/near_miss_*.jsonl, eval/roles_news.jsonl).
    assert wrong_type("Хто власник танкера «Делфі»?", "Майже рік пробув в акваторії танкер «Делфі» [2].") == "who"
    assert wrong_type("Хто профінансував шаховий клуб?", "Він постає з екологічно чистого матеріалу [1].") == "who"
    assert wrong_type("Хто керував ДП «Клавдієвське лісове господарство»?", "Клавдієвський лісгосп [1].") == "who"
    # A name anywhere, a firm in quotes, a place after the first word, or a name first, is someone.
    assert wrong_type("Хто очолює замовника проєкту?", "Ігор Савчук [1].") is None
    assert wrong_type("Хто переміг у тендері?", "ТОВ «Укргеоекологія» [1].") is None
    assert wrong_type("Кого визнали переможцем?", "Збірну команду Києва [1].") is None
    assert wrong_type("Хто виграв чемпіонат?", "Шахтар [1].") is None
    assert wrong_type("Who won the cup?", "The Detroit team [1].") is None
    # Questions asking what someone is or did are answered by a description.
    assert wrong_type("Хто такий Кирило Дмитрієв?", "Керівник фонду прямих інвестицій [1].") is None
    assert wrong_type("Ким працював директор до призначення?", "Заступником директора [1].") is None
    answer = finish_answer(
        "Хто профінансував шаховий клуб?", "Він постає з екологічно чистого матеріалу [1].", _passages()
    )
    assert answer.refused and answer.withheld is not None
    assert answer.withheld.reason == WRONG_TYPE and answer.withheld.missing == ("who",)


def test_a_refusal_in_the_models_own_words_is_the_refusal_in_the_questions_language():
    english = finish_answer("Who chairs the commission?", "У статтях немає відповіді на це запитання.", _passages())
    assert (english.text, english.refused, english.citations) == (REFUSAL_EN, True, [])
    ukrainian = finish_answer("Хто очолив комісію?", "The chairman is not mentioned in the given text.", _passages())
    assert (ukrainian.text, ukrainian.refused) == (REFUSAL_UK, True)
    # A cited answer that says what the passages do not state is an answer, not a refusal.
    said = finish_answer("Чи назвали ціну?", "Ціну не назвали, а договір уклали [1].", _passages())
    assert not said.refused and said.text != REFUSAL_UK
