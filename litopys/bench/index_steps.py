"""Index build timings on a real corpus: full build, add 1, change 1, remove 1, no change.

    litopys bench-index-steps --corpus DIR

Runs in one process with the configured (default: bundled) embedder loaded
once, on a scratch copy of the corpus and a scratch index. Prints one line per
step and a JSON summary; ratios to the full build are the figures to compare
across machines (absolute seconds on a shared 2-core box are noisy).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from litopys.core.config import Settings

NEW_ARTICLE = (
    "date 2025-05-05 У Черкасах відкрили музей гончарства\n"
    "Музей гончарства у Черкасах відкрила директорка Оксана Гребенюк. "
    "У музеї зібрано понад 300 глеків і макітер, найстарішим з них понад сто років. "
    "Відвідувачі можуть спробувати виліпити глечик на гончарному крузі.\n"
)
STEPS = ("add_1", "change_1", "remove_1", "no_change")  # after the full build


def step_line(name: str, r: dict) -> str:
    """One printed line for a step's index report."""
    return (
        f"{name:<12} {r['seconds']:8.2f} s  added {r['added']} updated {r['updated']} "
        f"removed {r['removed']} unchanged {r['unchanged']}  chunks embedded {r['chunks_embedded']} "
        f"({r['articles_total']} articles, {r['chunks_total']} chunks)"
    )


def index_steps(settings: Settings, corpus: Path, say: Callable[[str], None] = lambda s: None) -> dict[str, dict]:
    """Time a full build of a copy of ``corpus`` and then one small change of each kind.

    Returns each step's index report (without the per-file issues) by name, plus the seconds
    to load the embedder; the later steps carry ``ratio_to_full``.
    """
    from litopys.index.embedder import load_embedder
    from litopys.runtime import index_corpus

    with tempfile.TemporaryDirectory(prefix="litopys-bench-") as tmp:
        scratch = Path(tmp) / "corpus"
        shutil.copytree(corpus, scratch)
        run = settings.model_copy(update={"corpus_dir": scratch, "index_dir": Path(tmp) / "index"})
        t = time.perf_counter()
        embedder = load_embedder(run.embedder)
        results: dict[str, dict] = {"load_embedder": {"seconds": round(time.perf_counter() - t, 3)}}

        def step(name: str) -> None:
            report = index_corpus(run, embedder)
            results[name] = {k: v for k, v in report.as_dict().items() if k != "issues"}
            say(step_line(name, results[name]))

        step("full_build")
        added = scratch / "zz_new_article.txt"
        added.write_text(NEW_ARTICLE, encoding="utf-8")
        step("add_1")
        with open(added, "a", encoding="utf-8") as fh:
            fh.write("Вхід до музею вільний щонеділі.\n")
        step("change_1")
        added.unlink()
        step("remove_1")
        step("no_change")
    full = results["full_build"]["seconds"]
    for name in STEPS:
        results[name]["ratio_to_full"] = round(results[name]["seconds"] / full, 4)
    return results
