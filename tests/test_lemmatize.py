"""Ukrainian lemmas for BM25."""

import pytest

from litopys.index.lemmatize import lemmas, mostly_latin, query_lemmas, words


def test_inflected_forms_share_a_lemma():
    assert lemmas("делегацію делегації делегація") == ["делегація"] * 3
    assert lemmas("російську делегацію") == ["російський", "делегація"]


def test_words_keep_apostrophes_hyphens_and_numbers():
    assert words("Об’єкт «Біо-Оріяни» — 21 га, 5,5 млн") == ["об’єкт", "біо-оріяни", "21", "га", "5", "5", "млн"]


def test_query_lemmas_drop_question_and_function_words():
    got = query_lemmas("Хто може очолити російську делегацію на переговорах у Майамі?")
    assert "хто" not in got and "на" not in got and "у" not in got
    assert {"очолити", "делегація", "переговори", "майамі"} <= set(got)


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
