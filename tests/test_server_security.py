"""Access to the chat server: binding, login, queue limits, and no file read or written outside its folders.

Real `python -m litopys.cli serve` subprocesses on loopback with a real index and the small
bundled LLM, probed over HTTP with httpx and gradio_client like a browser or a script would.
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from pathlib import Path

import httpx
import pytest

from litopys.core.config import ServerSettings, load_settings
from litopys.core.errors import UnsafeServerError
from litopys.ui.render import answer_from_chat
from litopys.ui.server import is_loopback, login_pair

USER = "redaktor"
PASSWORD = "Tsy-parol-ne-mae-potrapyty-v-zhurnal-7f3a"
ARTICLE = (
    "date 2025-03-01 Нова бібліотека у Львові\nУ Львові відкрили нову бібліотеку для дітей на вулиці Городоцькій.\n"
)


# --- settings-level checks (no server) ------------------------------------------------------


@pytest.mark.parametrize(
    "host, loopback",
    [
        ("127.0.0.1", True),
        ("127.8.0.1", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("", False),
        ("192.168.1.5", False),
        ("example.org", False),
    ],
)
def test_loopback_hosts(host, loopback):
    assert is_loopback(host) is loopback


def test_login_pair_refuses_exposed_or_half_configured_servers():
    secret = "s3cret-value"
    with pytest.raises(UnsafeServerError, match="--allow-anonymous") as exc:
        login_pair(ServerSettings(host="0.0.0.0"))
    assert exc.value.exit_code == 7
    with pytest.raises(UnsafeServerError, match="both") as exc:
        login_pair(ServerSettings(auth_password=secret))
    assert secret not in str(exc.value)
    with pytest.raises(UnsafeServerError, match="both"):
        login_pair(ServerSettings(host="0.0.0.0", auth_user="ed", allow_anonymous=True))
    assert login_pair(ServerSettings(host="0.0.0.0", allow_anonymous=True)) is None
    assert login_pair(ServerSettings()) is None
    assert login_pair(ServerSettings(host="0.0.0.0", auth_user="ed", auth_password=secret)) == ("ed", secret)


def test_password_from_the_environment_is_masked_in_settings(monkeypatch):
    monkeypatch.setenv("LITOPYS_SERVER__AUTH_PASSWORD", PASSWORD)
    settings = load_settings()
    assert settings.server.auth_password.get_secret_value() == PASSWORD
    for shown in (repr(settings), str(settings), settings.model_dump_json()):
        assert PASSWORD not in shown


def test_non_loopback_without_login_refuses_to_start(tmp_path, model_cache, cli_env, free_port, run_cli):
    env = cli_env(tmp_path / "corpus", tmp_path / "index", model_cache)
    port = free_port()
    proc = run_cli(env, "serve", "--host", "0.0.0.0", "--port", str(port), check=False, timeout=300)
    assert proc.returncode == UnsafeServerError.exit_code == 7, proc.stderr[-2000:]
    message = proc.stderr.strip()
    assert message.startswith("error: refusing to serve on 0.0.0.0 without a login")
    assert "--allow-anonymous" in message and "LITOPYS_SERVER__AUTH_PASSWORD" in message
    assert "Traceback" not in message and "Running on" not in proc.stdout
    # Nothing started: no index was built and nobody listens on the port.
    assert not (tmp_path / "index").exists()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/", timeout=5)


# --- a real server with a login ---------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory, model_cache, make_workspace, start_server):
    root = tmp_path_factory.mktemp("auth-server")
    env = make_workspace(
        root,
        model_cache,
        LITOPYS_SERVER__AUTH_USER=USER,
        LITOPYS_SERVER__AUTH_PASSWORD=PASSWORD,
        LITOPYS_SERVER__MAX_QUEUE="2",
        LITOPYS_SERVER__MAX_UPLOAD_FILES="5",
    )
    srv = start_server(root, env)
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def session(server) -> httpx.Client:
    client = httpx.Client(base_url=server.url, timeout=60)
    response = client.post("/login", data={"username": USER, "password": PASSWORD})
    assert response.status_code == 200, response.text
    yield client
    client.close()


def call(session: httpx.Client, api_name: str, data: list) -> tuple[str, object]:
    """Call a named endpoint through Gradio's REST API; (event, payload) of its last SSE message."""
    response = session.post(f"/gradio_api/call/{api_name}", json={"data": data})
    response.raise_for_status()
    event_id = response.json()["event_id"]
    event, payload = None, None
    with session.stream("GET", f"/gradio_api/call/{api_name}/{event_id}", timeout=600) as stream:
        for line in stream.iter_lines():
            if line.startswith("event: "):
                event = line[len("event: ") :]
            elif line.startswith("data: "):
                payload = json.loads(line[len("data: ") :])
                if event in ("complete", "error"):
                    break
    return event, payload


@pytest.mark.slow
def test_every_route_needs_the_login(server, seed):
    anonymous = httpx.Client(base_url=server.url, timeout=30)
    for path in ("/config", "/gradio_api/info", f"/gradio_api/file={server.index_dir}/litopys.sqlite3"):
        assert anonymous.get(path).status_code == 401, path
    assert anonymous.post("/gradio_api/upload", files={"files": ("a.txt", ARTICLE.encode())}).status_code == 401
    assert anonymous.post("/gradio_api/call/respond", json={"data": [seed.question, "", "", []]}).status_code == 401
    assert (
        anonymous.post("/gradio_api/queue/join", json={"data": [], "fn_index": 0, "session_hash": "x"}).status_code
        == 401
    )
    wrong = anonymous.post("/login", data={"username": USER, "password": PASSWORD + "x"})
    assert wrong.status_code in (400, 401) and "cookie" not in str(wrong.headers).lower()
    assert anonymous.post("/login", data={"username": "admin", "password": PASSWORD}).status_code in (400, 401)
    # The page itself is the login form, not the app.
    assert '"auth_required":true' in anonymous.get("/").text.replace(" ", "")
    right = anonymous.post("/login", data={"username": USER, "password": PASSWORD})
    assert right.status_code == 200
    assert anonymous.get("/config").status_code == 200
    anonymous.close()


@pytest.mark.slow
def test_file_route_serves_nothing_outside_the_upload_cache(server, session, model_cache, seed):
    secret = server.corpus.parent / "private-notes.txt"
    secret.write_text("Приватне: пароль від редакційної пошти.\n", encoding="utf-8")
    targets = [
        "/etc/passwd",
        str(server.index_dir / "litopys.sqlite3"),
        str(server.corpus / seed.article_id),
        str(secret),
        str(next((model_cache / "models").glob("*.gguf"))),
        f"{server.env['GRADIO_TEMP_DIR']}/../private-notes.txt",
        "../../../../etc/passwd",
        "%2e%2e/%2e%2e/etc/passwd",
    ]
    for target in targets:
        for prefix in ("/gradio_api/file=", "/file=", "/gradio_api/file/"):
            response = session.get(prefix + target)
            assert response.status_code in (403, 404), (prefix + target, response.status_code)
            assert "root:" not in response.text and "SQLite format" not in response.text
            assert "Приватне" not in response.text and "GGUF" not in response.text[:4]


@pytest.mark.slow
def test_upload_names_cannot_escape_and_server_files_cannot_be_pulled_in(server, session, tmp_path):
    tag = uuid.uuid4().hex[:8]
    hostile = [
        f"../../escape-{tag}.txt",
        f"/tmp/abs-{tag}.txt",
        f"..\\..\\back-{tag}.txt",
        f"nul-{tag}\x00.txt",
        f"%2e%2e%2fenc-{tag}.txt",
    ]
    body = ARTICLE.encode()
    # Names in the multipart upload are the browser's; Gradio stores each file under its cache.
    files = [("files", (name, body + f"Копія {n}.".encode(), "text/plain")) for n, name in enumerate(hostile)]
    uploaded = session.post("/gradio_api/upload", files=files)
    assert uploaded.status_code == 200, uploaded.text
    paths = uploaded.json()
    cache = Path(server.env["GRADIO_TEMP_DIR"]).resolve()
    assert all(Path(p).resolve().is_relative_to(cache) for p in paths), paths
    # Then the library tab's upload endpoint gets them, with the hostile names as the original names.
    data = [
        [
            {"path": p, "orig_name": n, "meta": {"_type": "gradio.FileData"}}
            for p, n in zip(paths, hostile, strict=False)
        ]
    ]
    event, payload = call(session, "upload", data)
    assert event == "complete", payload
    uploads = server.corpus / "uploads"
    saved = sorted(p.name for p in uploads.iterdir())
    assert len(saved) == len(hostile) and all(tag in name for name in saved), saved
    for name in saved:  # inside uploads/, as plain names
        assert (uploads / name).resolve().parent == uploads.resolve()
    roots = {Path("/tmp"), server.corpus.parent, server.corpus, Path.cwd(), Path(server.env["GRADIO_TEMP_DIR"]).parent}
    for root in roots:
        assert not [p for p in root.glob(f"*{tag}*")], root

    # A path on the server that no user uploaded is refused: nothing is read into the corpus.
    secret = server.corpus.parent / f"secret-{tag}.txt"
    secret.write_text("Таємниця\nРедакційний пароль: kit-na-dakhu.\n", encoding="utf-8")
    for path in (str(secret), "/etc/passwd", str(server.index_dir / "litopys.sqlite3")):
        event, payload = call(session, "upload", [[{"path": path, "meta": {"_type": "gradio.FileData"}}]])
        assert event == "error", payload
    assert sorted(p.name for p in uploads.iterdir()) == saved
    assert "kit-na-dakhu" not in "".join(p.read_text(encoding="utf-8") for p in uploads.iterdir())


@pytest.mark.slow
def test_upload_count_is_limited(server, session):
    files = [
        ("files", (f"many-{n}.txt", f"Стаття {n}\nТекст статті номер {n}.\n".encode(), "text/plain")) for n in range(6)
    ]
    paths = session.post("/gradio_api/upload", files=files).json()
    before = set(os.listdir(server.corpus / "uploads")) if (server.corpus / "uploads").exists() else set()
    event, payload = call(session, "upload", [[{"path": p, "meta": {"_type": "gradio.FileData"}} for p in paths]])
    assert event == "complete", payload
    assert "over the limit of 5" in payload[0]
    after = set(os.listdir(server.corpus / "uploads")) if (server.corpus / "uploads").exists() else set()
    assert after == before


@pytest.mark.slow
def test_waiting_users_see_their_position_and_a_full_queue_says_busy(server, seed):
    from gradio_client import Client
    from gradio_client.exceptions import AppError
    from gradio_client.utils import QueueError, Status

    clients = [Client(server.url, auth=(USER, PASSWORD), verbose=False) for _ in range(5)]
    jobs = [c.submit(seed.question, "", "", [], api_name="/respond") for c in clients]
    ranks: dict[int, set[int]] = {n: set() for n in range(len(jobs))}

    def watch(n: int, job) -> None:
        while not job.done():
            status = job.status()
            if status.code == Status.IN_QUEUE and status.rank is not None:
                ranks[n].add(status.rank)
            threading.Event().wait(0.05)

    watchers = [threading.Thread(target=watch, args=(n, j)) for n, j in enumerate(jobs)]
    for w in watchers:
        w.start()
    outcomes = []
    for job in jobs:
        try:
            result = job.result(timeout=900)
            outcomes.append("answered" if answer_from_chat(result[1])[1] else "empty")
        except (QueueError, AppError, ValueError) as exc:
            outcomes.append(f"busy: {exc}")
    for w in watchers:
        w.join(timeout=60)
    for c in clients:
        c.close()
    print(outcomes, ranks)
    # One answers while up to max_queue=2 wait (seeing their place); the rest are told the server is busy.
    assert outcomes.count("answered") >= 2
    assert any(o.startswith("busy") and "Queue is full" in o for o in outcomes)
    assert any(r for r in ranks.values()), ranks
    assert all(o == "answered" or o.startswith("busy") for o in outcomes)


@pytest.mark.slow
def test_password_never_reaches_the_log(server, session):
    # After logins (right and wrong), uploads and answers above; --verbose logs at DEBUG.
    session.post("/login", data={"username": USER, "password": PASSWORD + "-wrong"})
    text = server.log.read_text()
    assert "serving the chat on" in text and "login required" in text
    assert PASSWORD not in text and PASSWORD[:12] not in text
