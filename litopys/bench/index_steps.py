"""Index build timings on a real corpus: full build, add 1, change 1, remove 1, no change.

    .venv/bin/python benchmarks/index_bench.py [--corpus ../shared/corpus/ner-uk/articles]

Runs in one process with the configured (default: bundled) embedder loaded
once, on a scratch copy of the corpus and a scratch index. Prints one line per
step and a JSON summary; ratios to the full build are the figures to compare
across machines (absolute seconds on a shared 2-core box are noisy).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

from litopys.core.config import load_settings  # noqa: E402
from litopys.index.embedder import load_embedder  # noqa: E402
from litopys.runtime import index_corpus  # noqa: E402

NEW_ARTICLE = (
    "date 2025-05-05 У Черкасах відкрили музей гончарства\n"
    "Музей гончарства у Черкасах відкрила директорка Оксана Гребенюк. "
    "У музеї зібрано понад 300 глеків і макітер, найстарішим з них понад сто років. "
    "Відвідувачі можуть спробувати виліпити глечик на гончарному крузі.\n"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus" / "ner-uk" / "articles")
    args = parser.parse_args()
    if not args.corpus.is_dir():
        sys.exit(f"corpus folder not found: {args.corpus}")

    with tempfile.TemporaryDirectory(prefix="litopys-bench-") as tmp:
        corpus = Path(tmp) / "corpus"
        shutil.copytree(args.corpus, corpus)
        settings = load_settings(corpus_dir=corpus, index_dir=Path(tmp) / "index")
        t = time.perf_counter()
        embedder = load_embedder(settings.embedder)
        results: dict[str, dict] = {"load_embedder": {"seconds": round(time.perf_counter() - t, 3)}}

        def step(name: str) -> None:
            report = index_corpus(settings, embedder)
            results[name] = {k: v for k, v in report.as_dict().items() if k != "issues"}
            r = results[name]
            print(
                f"{name:<12} {r['seconds']:8.2f} s  added {r['added']} updated {r['updated']} "
                f"removed {r['removed']} unchanged {r['unchanged']}  chunks embedded {r['chunks_embedded']} "
                f"({r['articles_total']} articles, {r['chunks_total']} chunks)",
                flush=True,
            )

        step("full_build")
        (corpus / "zz_new_article.txt").write_text(NEW_ARTICLE, encoding="utf-8")
        step("add_1")
        with open(corpus / "zz_new_article.txt", "a", encoding="utf-8") as fh:
            fh.write("Вхід до музею вільний щонеділі.\n")
        step("change_1")
        (corpus / "zz_new_article.txt").unlink()
        step("remove_1")
        step("no_change")

        full = results["full_build"]["seconds"]
        for name in ("add_1", "change_1", "remove_1", "no_change"):
            results[name]["ratio_to_full"] = round(results[name]["seconds"] / full, 4)
        print(json.dumps(results, ensure_ascii=False))


if __name__ == "__main__":
    main()
