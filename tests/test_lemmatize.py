"""Ukrainian lemmas for BM25."""

import pytest

from litopys.index.lemmatize import lemmas, mostly_latin, query_lemmas, region_variant, search_lemmas, words


def test_inflected_forms_share_a_lemma():
    assert lemmas("делегацію делегації делегація") == ["делегація"] * 3
    assert lemmas("російську делегацію") == ["російський", "делегація"]


def test_words_keep_apostrophes_hyphens_and_numbers():
    assert words("Об’єкт «Біо-Оріяни» — 21 га, 5,5 млн") == ["об’єкт", "біо-оріяни", "21", "га", "5", "5", "млн"]


def test_query_lemmas_drop_question_and_function_words():
    got = query_lemmas("Хто може очолити російську делегацію на переговорах у Майамі?")
    assert "хто" not in got and "на" not in got and "у" not in got
    assert {"очолити", "делегація", "переговори", "майамі"} <= set(got)


def test_a_search_for_a_region_also_finds_its_oblast():
    # "на Полтавщині" and "у Полтавській області" share no lemma; a report may use either.
    assert {"полтавщина", "полтавський"} <= set(search_lemmas("Скільки сіл Полтавщини знеструмлено?"))
    assert "полтавський" not in query_lemmas("Скільки сіл Полтавщини знеструмлено?")  # other uses keep the words
    # An adjective is mostly the city's ("житомирська команда"): it is not widened to the region.
    assert "житомирщина" not in search_lemmas("Хто тренує житомирську футзальну команду?")
    assert region_variant("житомирський") == "житомирщина"  # (the name check takes either)
    assert region_variant("прикарпаття") == "івано-франківський" and region_variant("делегація") is None
    assert search_lemmas("делегація у Майамі") == query_lemmas("делегація у Майамі")


def test_a_letter_without_a_unicode_name_does_not_stop_lemmatizing():
    # Tangut ideographs are letters without a name in unicodedata, where pymorphy3 looks.
    assert lemmas("делегацію 𗀀 x𗀁y") == ["делегація", "𗀀", "x𗀁y"]


@pytest.mark.parametrize(
    ("text", "latin"),
    [
        ("What happened with Tesla?", True),
        ("Що сталося з Tesla?", False),
        ("Which articles mention Стармер?", True),
        ("Хто такий Marco Rubio, держсекретар?", False),
        ("", False),
        ("2024-11-14", False),
    ],
)
def test_mostly_latin_counts_the_letters_of_each_script(text, latin):
    assert mostly_latin(text) is latin
