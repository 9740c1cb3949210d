"""Hugging Face Hub access that fails fast when the Hub cannot be reached.

Without this, an offline machine waits in the Hub client's retries
before it reports anything. Order: the local Hub cache, then (unless
HF_HUB_OFFLINE is set) a short reachability probe, then a normal download.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from urllib.parse import urlparse

from litopys.core.errors import ModelUnavailableError

_HINT = "use a local path or a bundled model (e.g. bundled:use-m3, bundled:qwen2.5-coder-1.5b)"


def _offline_env() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def hub_reachable(timeout_s: float) -> bool:
    """Whether a TCP connection to the Hub endpoint opens within ``timeout_s``."""
    from huggingface_hub import constants

    url = urlparse(constants.ENDPOINT)
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((url.hostname, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def _unavailable(what: str, why: str) -> ModelUnavailableError:
    return ModelUnavailableError(f"cannot get {what} from the Hugging Face Hub: {why}; {_HINT}")


def hub_snapshot(repo_id: str, *, timeout_s: float, allow_patterns: list[str] | None = None) -> Path:
    """Local folder of a Hub model repository (from cache, or downloaded)."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    try:
        return Path(snapshot_download(repo_id, allow_patterns=allow_patterns, local_files_only=True))
    except (LocalEntryNotFoundError, FileNotFoundError, HfHubHTTPError, ValueError):
        pass
    _check_online(repo_id, timeout_s)
    try:
        return Path(snapshot_download(repo_id, allow_patterns=allow_patterns))
    except Exception as exc:  # repository missing, gated, network dropped
        raise _unavailable(repo_id, str(exc).splitlines()[0]) from exc


def hub_file(repo_id: str, filename: str, *, timeout_s: float) -> Path:
    """Local path of one file of a Hub repository (from cache, or downloaded)."""
    from huggingface_hub import hf_hub_download, try_to_load_from_cache

    cached = try_to_load_from_cache(repo_id, filename)
    if isinstance(cached, str) and Path(cached).exists():
        return Path(cached)
    _check_online(f"{repo_id}/{filename}", timeout_s)
    try:
        return Path(hf_hub_download(repo_id, filename))
    except Exception as exc:
        raise _unavailable(f"{repo_id}/{filename}", str(exc).splitlines()[0]) from exc


def _check_online(what: str, timeout_s: float) -> None:
    if _offline_env():
        raise _unavailable(what, "it is not in the local cache and HF_HUB_OFFLINE is set")
    if not hub_reachable(timeout_s):
        raise _unavailable(what, "it is not in the local cache and the Hub is unreachable (no network?)")
