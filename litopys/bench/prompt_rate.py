"""How fast the installed llama.cpp build evaluates a prompt and decodes, on the configured model.

Data flow: the configured GGUF (``load_llm``) -> a prefix of ``--prefix`` tokens of corpus
text evaluated once and its state kept -> ``--new`` more tokens evaluated after it, from that
state, ``--repeats`` times (the work of an answer's user turn after the cached system prompt)
-> ``--decode`` single-token steps -> prompt and decode tokens per second, with the build's
CPU features; with ``--flash-attn both``, the model is loaded with llama.cpp's flash attention
off and on, in turns, and the ratios on/off are printed. Run it under two builds (e.g.
``PYTHONPATH=<an unpacked wheel>``) to compare them in one sitting:
``python -m litopys.bench.prompt_rate --corpus DIR``.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path

from litopys.core.config import load_settings
from litopys.rag.gguf import load_llm, load_tokenizer


def corpus_text(folder: Path, chars: int) -> str:
    """The first ``chars`` characters of the folder's text files, in name order."""
    out: list[str] = []
    for path in sorted(folder.rglob("*.txt")):
        out.append(path.read_text(encoding="utf-8", errors="replace"))
        if sum(map(len, out)) >= chars:
            break
    return "\n".join(out)[:chars]


def measure(llama, tokens: Sequence[int], prefix: int, new: int, repeats: int, decode: int) -> dict[str, float]:
    """Seconds to evaluate ``new`` tokens after an evaluated ``prefix`` (best of ``repeats``), and per decode step."""
    llama.reset()
    llama.eval(list(tokens[:prefix]))
    state = llama.save_state()
    runs = []
    for _ in range(repeats):
        llama.load_state(state)
        started = time.perf_counter()
        llama.eval(list(tokens[prefix : prefix + new]))
        runs.append(time.perf_counter() - started)
    started = time.perf_counter()
    for token in tokens[:decode]:
        llama.eval([token])
    step = (time.perf_counter() - started) / decode
    return {
        "prompt_s_best": min(runs),
        "prompt_s_median": sorted(runs)[len(runs) // 2],
        "prompt_tok_per_s": new / min(runs),
        "decode_tok_per_s": 1.0 / step,
    }


def main(argv: Sequence[str] | None = None) -> None:
    import llama_cpp

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, required=True, help="a folder of .txt articles (the prompt's text)")
    parser.add_argument("--prefix", type=int, default=1100, help="tokens evaluated first (the cached system prompt)")
    parser.add_argument("--new", type=int, default=400, help="tokens evaluated after it (the user turn)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--decode", type=int, default=20, help="single-token decode steps timed")
    parser.add_argument(
        "--flash-attn",
        choices=["config", "both"],
        default="config",
        help="config: as the settings say; both: off and on in turns (two rounds each), with the ratios on/off",
    )
    args = parser.parse_args(argv)
    settings = load_settings(None)
    # The vocabulary alone: the same tokens for every load, checked before any model is loaded.
    vocab = load_tokenizer(settings.llm, settings.cache_dir)
    tokens = vocab.tokenize(corpus_text(args.corpus, 8 * (args.prefix + args.new)).encode("utf-8"))
    if len(tokens) < args.prefix + args.new:
        parser.error(f"the corpus gave {len(tokens)} tokens, fewer than --prefix + --new")
    modes = [settings.llm.flash_attn] if args.flash_attn == "config" else [False, True, False, True]
    runs: dict[bool, list[dict[str, float]]] = {}
    for flash in modes:
        llama = load_llm(settings.llm.model_copy(update={"flash_attn": flash}), settings.cache_dir)
        runs.setdefault(flash, []).append(measure(llama, tokens, args.prefix, args.new, args.repeats, args.decode))
        del llama
    best = {flash: best_of(each) for flash, each in runs.items()}
    build = llama_cpp.llama_print_system_info().decode().strip()
    out: dict[str, object] = {"llama_cpp": llama_cpp.__version__, "build": build, **vars(args)}
    out.update({"flash_attn_on" if flash else "flash_attn_off": figures for flash, figures in best.items()})
    if len(best) == 2:
        on, off = best[True], best[False]
        out["ratio_on_off"] = {k: on[k] / off[k] for k in ("prompt_tok_per_s", "decode_tok_per_s")}
    print(json.dumps(out, default=str))


def best_of(runs: Sequence[dict[str, float]]) -> dict[str, float]:
    """Each figure's best over ``runs`` (fewest seconds, most tokens per second)."""
    return {k: (max if k.endswith("_per_s") else min)(r[k] for r in runs) for k in runs[0]}


if __name__ == "__main__":
    main()
