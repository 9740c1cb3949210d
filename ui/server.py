"""Serving the chat: which interface, who may log in, how many answer at once, what files are served.

The local LLM answers one question at a time; everyone else waits in Gradio's
queue and sees their position. Past ``max_queue`` waiting requests a new one is
turned away at once with Gradio's "This application is currently busy. Please
try again." instead of waiting for minutes.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from litopys.core.config import ServerSettings, Settings
from litopys.core.errors import UnsafeServerError
from litopys.ui.app import CSS, build_app  # imports gradio with its analytics switched off

if TYPE_CHECKING:
    import gradio as gr

log = logging.getLogger(__name__)


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable only from this machine (names other than localhost count as not)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False


def login_pair(server: ServerSettings) -> tuple[str, str] | None:
    """The (user, password) Gradio's login page checks, or None; refuses settings that expose the chat.

    Raises UnsafeServerError for half-set credentials and for a non-loopback host with
    no login and no ``allow_anonymous``. The password never appears in a message.
    """
    user = (server.auth_user or "").strip()
    password = server.auth_password.get_secret_value() if server.auth_password else ""
    if bool(user) != bool(password):
        raise UnsafeServerError(
            "set both server.auth_user and server.auth_password "
            "(LITOPYS_SERVER__AUTH_USER, LITOPYS_SERVER__AUTH_PASSWORD), or neither"
        )
    if not user and not server.allow_anonymous and not is_loopback(server.host):
        raise UnsafeServerError(
            f"refusing to serve on {server.host} without a login: anyone on the network could read the "
            "articles. Set LITOPYS_SERVER__AUTH_USER and LITOPYS_SERVER__AUTH_PASSWORD, bind 127.0.0.1, "
            "or pass --allow-anonymous if an open server is really intended"
        )
    return (user, password) if user else None


def private_paths(settings: Settings) -> list[str]:
    """Folders Gradio must never serve, whatever GRADIO_ALLOWED_PATHS says (blocked paths win)."""
    folders = (settings.index_dir, settings.cache_dir, settings.corpus_dir)
    return [str(Path(p).expanduser().resolve()) for p in folders]


def warm_up(answerer) -> None:
    """Put the prompts' fixed prefixes in the KV cache, loaded from the prefix cache when saved, else evaluated.

    Failures are logged, never raised (the chat still works).
    """
    log.info("warm-up: loading or evaluating the system prompts and worked turns")
    started = time.perf_counter()
    try:
        answerer.warm_up()
    except Exception:  # a failed warm-up only means the first answer evaluates the prefix itself
        log.exception("warm-up failed")
        return
    log.info("warm-up done in %.1f s", time.perf_counter() - started)


def start_warm_up(answerer) -> threading.Thread:
    """Warm the LLM up in a background thread, so the page comes up at once (a load from the
    prefix cache takes a fraction of a second; a first evaluation, ~15 s on 2 cores).

    It holds the answerer's LLM lock while it runs: a question asked meanwhile waits for
    it, as it would for another user's answer.
    """
    thread = threading.Thread(target=warm_up, args=(answerer,), name="litopys-warm-up", daemon=True)
    thread.start()
    return thread


def create_app(assistant) -> gr.Blocks:
    """The chat app with its queue configured from the settings."""
    server = assistant.settings.server
    app = build_app(assistant)
    return app.queue(default_concurrency_limit=server.concurrency_limit, max_size=server.max_queue)


def launch(assistant, *, block: bool = True) -> gr.Blocks:
    """Serve the chat on the configured host and port (blocks unless ``block=False``)."""
    import gradio as gr  # already imported by ui.app

    settings = assistant.settings
    server = settings.server
    auth = login_pair(server)  # before anything listens
    app = create_app(assistant)
    log.info(
        "serving the chat on http://%s:%d (login %s, %d answering at once, queue up to %d)",
        server.host,
        server.port,
        "required" if auth else "off",
        server.concurrency_limit,
        server.max_queue,
    )
    if auth is None and not is_loopback(server.host):
        log.warning("serving %s without a login (--allow-anonymous)", server.host)
    start_warm_up(assistant.answerer)
    app.launch(
        server_name=server.host,
        server_port=server.port,
        share=False,
        show_error=True,
        css=CSS,
        theme=gr.themes.Soft(),
        footer_links=[],
        max_file_size=settings.max_file_bytes,
        auth=auth,
        auth_message="Litopys: увійдіть, щоб ставити запитання." if auth else None,
        blocked_paths=private_paths(settings),
        prevent_thread_lock=not block,
        quiet=not block,
    )
    return app
