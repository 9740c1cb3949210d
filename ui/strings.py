"""Every label the chat shows, in Ukrainian (default) and English (setting ``ui.language``)."""

from __future__ import annotations

UK: dict[str, str] = {
    "title": "Літопис — запитання до статей",
    "intro": "Відповіді спираються лише на проіндексовані статті; натисніть [n], щоб побачити цитований фрагмент у статті.",
    "tab_chat": "Чат",
    "tab_library": "Статті та індекс",
    "question": "Запитання",
    "placeholder": "Наприклад: Хто може очолити російську делегацію?",
    "ask": "Запитати",
    "stop": "Зупинити",
    "new_chat": "Нова розмова",
    "filters": "Фільтри пошуку",
    "date_from": "Дата від (РРРР-ММ-ДД)",
    "date_to": "Дата до (РРРР-ММ-ДД)",
    "paths": "Лише ці статті, теки, рубрики або теги",
    "paths_info": (
        "Тека — усі статті в ній (назва з «/» в кінці); файл .jsonl/.csv — усі його статті; "
        "🗂 рубрика і 🏷 тег (section:…, tag:…) звужують вибір далі; можна вписати свою."
    ),
    "sources": "Джерела",
    "viewer": "Стаття",
    "you": "Ви",
    "assistant": "Літопис",
    "empty_chat": "Поставте запитання про статті — відповідь з'явиться тут.",
    "empty_sources": "Тут з'являться фрагменти статей, на які спирається відповідь.",
    "empty_viewer": "Натисніть позначку [n] у відповіді або картку джерела, щоб відкрити статтю.",
    "thinking": "Шукаю у статтях і обмірковую відповідь…",
    "writing": "Пишу чернетку; її перевірять за джерелами, перш ніж показати як відповідь…",
    "seconds": "с",
    "stopped": "Зупинено на ваше прохання.",
    "copy": "Копіювати відповідь",
    "copied": "Скопійовано",
    "refs": "Джерела:",
    "empty_answer": "(порожня відповідь)",
    "unsupported": "⚠ Не підтверджено цитованими фрагментами: «{sentence}»",
    "missing": " (у джерелах немає: {words})",
    "low_evidence": "Жоден знайдений фрагмент не вирізняється серед інших, тож модель не питали. Знайдене — в панелі джерел.",
    "withheld_question_numbers": "Чернетку моделі відхилено: цитовані фрагменти не згадують {words}. Чернетка: «{draft}»",
    "withheld_unsupported": "Чернетку моделі відхилено: цитовані фрагменти не містять {words}. Чернетка: «{draft}»",
    "withheld_echo": "Чернетку моделі відхилено: вона лише повторює слова запитання. Чернетка: «{draft}»",
    "withheld_wrong_type": "Чернетку моделі відхилено: запитання питає {words}, а чернетка цього не називає. Чернетка: «{draft}»",
    "withheld_uncited": "Чернетку моделі відхилено: вона не посилається на жоден фрагмент. Чернетка: «{draft}»",
    "wanted_amount": "кількість чи суму",
    "wanted_time": "час чи дату",
    "wanted_count": "кількість (а не суму грошей)",
    "wanted_name": "ім'я",
    "wanted_day": "число (день)",
    "wanted_place": "назву місця",
    "answered_in": "{seconds:.1f} с",
    "error": "Помилка: {error}",
    "failed": "Помилка під час відповіді; подробиці в журналі сервера.",
    "enter_question": "Введіть запитання.",
    "rewritten": "Уточнене запитання для пошуку: ",
    "cited": "Цитовані фрагменти",
    "others": "Інші знайдені фрагменти",
    "score": "оцінка {score:.2f}",
    "supported": "✓ підтверджує відповідь",
    "not_supported": "⚠ не підтверджує відповідь",
    "attributed": "процитовано після перевірки",
    "not_cited": "не цитовано",
    "grounding": "Підтверджено джерелами: {share:.0%} тверджень відповіді",
    "no_date": "без дати",
    "open_original": "Відкрити оригінал статті в новій вкладці",
    "filter_none": "Пошук у всіх статтях.",
    "filter_active": "Активний фільтр: {parts}",
    "filter_from": "від {date}",
    "filter_to": "до {date}",
    "filter_in": "лише: {paths}",
    "bad_date_from": "«Дата від»: «{value}» — не дата у формі РРРР-ММ-ДД (наприклад, 2024-11-14).",
    "bad_date_to": "«Дата до»: «{value}» — не дата у формі РРРР-ММ-ДД (наприклад, 2024-11-14).",
    "bad_range": "Порожній проміжок дат: {value}.",
    "no_passages": "За цим фільтром не знайдено жодного фрагмента.",
    "article_gone": "Цієї статті вже немає в індексі (її змінили або вилучили).",
    "folder": "тека",
    # the "Articles and index" tab (ui/library.py)
    "lib_intro": (
        "Додайте статті: UTF-8 `.txt` або `.md` (перший рядок — заголовок, за бажанням "
        "`date РРРР-ММ-ДД заголовок`), збережені вебсторінки `.html` або вивантаження з CMS "
        "`.jsonl`/`.csv` (стаття на рядок). Файли перевіряються, зберігаються в теці статей "
        "(`{folder}`/uploads) і одразу індексуються; чат відповідає далі з попереднього індексу, "
        "доки новий не готовий."
    ),
    "lib_files": "Статті",
    "lib_add": "Додати й проіндексувати",
    "lib_full": "Перебудувати повністю (усі вектори заново)",
    "lib_reindex": "Оновити індекс",
    "lib_index": "Індекс",
    "lib_refresh": "Оновити відомості",
    "lib_pick_files": "Оберіть файли статей (.txt, .md, .html, .jsonl або .csv).",
    "lib_saved_index_later": "{error}. Файли збережено; оновіть індекс пізніше.",
    "lib_reading": "Читання теки статей",
    "lib_stage_chunking": "Розбиття на фрагменти",
    "lib_stage_embedding": "Обчислення векторів",
    "lib_no_index": "Індексу ще немає: додайте статті або оновіть індекс.",
    "lib_articles": "Статей",
    "lib_chunks": "Фрагментів",
    "lib_embedder": "Модель векторів",
    "lib_embedder_value": "{embedder} ({dim}-вимірна)",
    "lib_built": "Остання побудова",
    "lib_built_value": "{built_at} (UTC), покоління {generation}",
    "lib_corpus": "Тека статей",
    "lib_error": "Помилка: {error}",
    "lib_saved": "Збережено у теку статей: {n}",
    "lib_unchanged": "Вже є в теці (той самий вміст): {names}",
    "lib_rejected": "Відхилено: {n}",
    "lib_full_reason": "Повна перебудова: {reason}",
    "lib_counts": (
        "Додано {added}, оновлено {updated}, вилучено {removed}, без змін {unchanged}, пропущено {skipped}; "
        "обчислено векторів: {embedded} — за {seconds:.1f} с"
    ),
    "lib_skipped": "пропущено, ",
}

EN: dict[str, str] = {
    "title": "Litopys — ask the articles",
    "intro": "Answers rely only on the indexed articles; click [n] to see the cited passage in its article.",
    "tab_chat": "Chat",
    "tab_library": "Articles and index",
    "question": "Question",
    "placeholder": "E.g.: Who may lead the Russian delegation?",
    "ask": "Ask",
    "stop": "Stop",
    "new_chat": "New chat",
    "filters": "Search filters",
    "date_from": "Date from (YYYY-MM-DD)",
    "date_to": "Date to (YYYY-MM-DD)",
    "paths": "Only these articles, folders, sections or tags",
    "paths_info": (
        "A folder means every article in it (name ending in “/”), a .jsonl/.csv file all its articles; "
        "a 🗂 section or 🏷 tag (section:…, tag:…) narrows the choice further; you may type your own."
    ),
    "sources": "Sources",
    "viewer": "Article",
    "you": "You",
    "assistant": "Litopys",
    "empty_chat": "Ask a question about the articles — the answer appears here.",
    "empty_sources": "The article passages the answer relies on appear here.",
    "empty_viewer": "Click a marker [n] in the answer or a source card to open the article.",
    "thinking": "Searching the articles and thinking…",
    "writing": "Writing a draft; it is checked against the sources before it is shown as the answer…",
    "seconds": "s",
    "stopped": "Stopped at your request.",
    "copy": "Copy answer",
    "copied": "Copied",
    "refs": "Sources:",
    "empty_answer": "(empty answer)",
    "unsupported": "⚠ Not backed by the cited passages: “{sentence}”",
    "missing": " (the sources lack: {words})",
    "low_evidence": "No passage found stands out from the others, so the model was not asked. What was found is in the sources panel.",
    "withheld_question_numbers": "The model's draft was withheld: the passages it cited never mention {words}. Draft: “{draft}”",
    "withheld_unsupported": "The model's draft was withheld: the passages it cited do not contain {words}. Draft: “{draft}”",
    "withheld_echo": "The model's draft was withheld: it only repeats the question's words. Draft: “{draft}”",
    "withheld_wrong_type": "The model's draft was withheld: the question asks for {words}, and the draft gives none. Draft: “{draft}”",
    "withheld_uncited": "The model's draft was withheld: it cites no passage. Draft: “{draft}”",
    "wanted_amount": "an amount",
    "wanted_time": "a time or date",
    "wanted_count": "a count (not a sum of money)",
    "wanted_name": "a name",
    "wanted_day": "a day",
    "wanted_place": "a place",
    "answered_in": "{seconds:.1f} s",
    "error": "Error: {error}",
    "failed": "Answering failed; the server log has the details.",
    "enter_question": "Type a question.",
    "rewritten": "Standalone question used for search: ",
    "cited": "Cited passages",
    "others": "Other retrieved passages",
    "score": "score {score:.2f}",
    "supported": "✓ supports the answer",
    "not_supported": "⚠ does not support the answer",
    "attributed": "cited after checking",
    "not_cited": "not cited",
    "grounding": "Backed by the sources: {share:.0%} of the answer's claims",
    "no_date": "no date",
    "open_original": "Open the original article in a new tab",
    "filter_none": "Searching all articles.",
    "filter_active": "Active filter: {parts}",
    "filter_from": "from {date}",
    "filter_to": "to {date}",
    "filter_in": "only: {paths}",
    "bad_date_from": "“Date from”: “{value}” is not a date in the form YYYY-MM-DD (e.g. 2024-11-14).",
    "bad_date_to": "“Date to”: “{value}” is not a date in the form YYYY-MM-DD (e.g. 2024-11-14).",
    "bad_range": "Empty date range: {value}.",
    "no_passages": "No passage matches this filter.",
    "article_gone": "This article is no longer in the index (it was changed or removed).",
    "folder": "folder",
    "lib_intro": (
        "Add articles: UTF-8 `.txt` or `.md` (the first line is the title, optionally "
        "`date YYYY-MM-DD title`), saved web pages `.html`, or CMS exports `.jsonl`/`.csv` "
        "(an article a line). Files are checked, saved into the articles folder "
        "(`{folder}`/uploads) and indexed at once; the chat keeps answering from the previous index "
        "until the new one is ready."
    ),
    "lib_files": "Articles",
    "lib_add": "Add and index",
    "lib_full": "Rebuild fully (all vectors again)",
    "lib_reindex": "Update the index",
    "lib_index": "Index",
    "lib_refresh": "Refresh",
    "lib_pick_files": "Choose article files (.txt, .md, .html, .jsonl or .csv).",
    "lib_saved_index_later": "{error}. The files are saved; update the index later.",
    "lib_reading": "Reading the articles folder",
    "lib_stage_chunking": "Cutting into passages",
    "lib_stage_embedding": "Computing vectors",
    "lib_no_index": "No index yet: add articles or update the index.",
    "lib_articles": "Articles",
    "lib_chunks": "Passages",
    "lib_embedder": "Vector model",
    "lib_embedder_value": "{embedder} ({dim} dimensions)",
    "lib_built": "Last build",
    "lib_built_value": "{built_at} (UTC), generation {generation}",
    "lib_corpus": "Articles folder",
    "lib_error": "Error: {error}",
    "lib_saved": "Saved into the articles folder: {n}",
    "lib_unchanged": "Already in the folder (same content): {names}",
    "lib_rejected": "Rejected: {n}",
    "lib_full_reason": "Full rebuild: {reason}",
    "lib_counts": (
        "Added {added}, updated {updated}, removed {removed}, unchanged {unchanged}, skipped {skipped}; "
        "vectors computed: {embedded} — in {seconds:.1f} s"
    ),
    "lib_skipped": "skipped, ",
}

LANGUAGES = {"uk": UK, "en": EN}


def strings(language: str) -> dict[str, str]:
    """The labels for ``language`` ("uk" or "en")."""
    return LANGUAGES[language]


def withheld_note(reason: str, missing: tuple[str, ...], draft: str, s: dict[str, str]) -> str:
    """Why the model's draft was withheld, with the draft, in the language of ``s``."""
    words = ", ".join(s.get(f"wanted_{m}", m) for m in missing)
    return s[f"withheld_{reason}"].format(words=words, draft=draft)
