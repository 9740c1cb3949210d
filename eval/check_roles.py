"""Self-check of the hand-written role question sets (standard library only).

Run from the repo root: `python eval/check_roles.py`. For every line of
eval/roles_ner_uk.jsonl and eval/roles_news.jsonl it asserts that the gold article
exists in its corpus, that every answer_any string and the distractor occur in it
(case-insensitive), that no answer_any string occurs inside the distractor, and that
no article has more than 2 questions; then prints the counts.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

SETS = {
    "eval/roles_ner_uk.jsonl": "../shared/corpus/ner-uk/articles",
    "eval/roles_news.jsonl": "../shared/corpus/news/articles",
}
KEYS = ["question", "article", "answer_any", "kind", "role", "distractor"]


def check(questions: Path, corpus: Path) -> list[dict]:
    rows = []
    for n, line in enumerate(questions.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        where = f"{questions}:{n}"
        assert list(row) == KEYS, f"{where}: keys {list(row)}"
        assert row["kind"] == "role", where
        gold = corpus / row["article"]
        assert gold.is_file(), f"{where}: no gold article {gold}"
        text = gold.read_text(encoding="utf-8").lower()
        answers = row["answer_any"]
        assert 1 <= len(answers) <= 3, f"{where}: {len(answers)} answer strings"
        distractor = row["distractor"].lower()
        for s in answers:
            assert s.lower() in text, f"{where}: answer {s!r} not in {row['article']}"
            assert s.lower() not in distractor, f"{where}: answer {s!r} inside distractor {row['distractor']!r}"
        assert distractor in text, f"{where}: distractor {row['distractor']!r} not in {row['article']}"
        rows.append(row)
    per_article = Counter(r["article"] for r in rows)
    over = [a for a, c in per_article.items() if c > 2]
    assert not over, f"{questions}: more than 2 questions on {over}"
    return rows


def main() -> int:
    for name, corpus in SETS.items():
        rows = check(Path(name), Path(corpus))
        articles = Counter(r["article"] for r in rows)
        print(
            f"{name}: {len(rows)} questions, {len(articles)} articles "
            f"({sum(1 for c in articles.values() if c == 2)} with 2 questions); all checks passed"
        )
        roles = Counter(r["role"] for r in rows)
        print("  roles: " + ", ".join(f"{k} {v}" for k, v in roles.most_common()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
