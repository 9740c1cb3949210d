"""One settings object for the whole assistant.

Sources, highest priority first: explicit keyword arguments, ``LITOPYS_*``
environment variables (nested with ``__``, e.g. ``LITOPYS_LLM__MODEL``), a TOML
file (``litopys.toml`` in the working directory, or the path given by
``--config`` / ``LITOPYS_CONFIG``), then the defaults below.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from litopys.core.errors import LitopysError

# A path setting: a leading ``~`` means the user's home, as in a shell (``index_dir = "~/news-index"``
# must not create a folder literally named ``~``).
ExpandedPath = Annotated[Path, AfterValidator(lambda p: p.expanduser())]


def _expand_model_path(value: str) -> str:
    """A model given as ``~/...`` is a local path: expand it; ids like ``bundled:...`` pass unchanged."""
    return os.path.expanduser(value) if value.startswith("~") else value


def _data_home() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "litopys"


def _cache_home() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "litopys"


class EmbedderSettings(BaseModel):
    """Which sentence embedder turns chunks and questions into vectors."""

    model: str = Field(
        "bundled:use-m3",
        description=(
            "bundled:use-m3 | bundled:minilm | a local sentence-transformers directory | "
            "a Hugging Face Hub id (e.g. intfloat/multilingual-e5-small)"
        ),
    )
    query_prefix: str | None = Field(
        None, description="Prefix for questions; None = automatic ('query: ' for e5 models)."
    )
    passage_prefix: str | None = Field(
        None, description="Prefix for chunks; None = automatic ('passage: ' for e5 models)."
    )
    batch_size: int = Field(32, ge=1)
    hub_timeout_s: float = Field(
        3.0, gt=0, description="How long to wait for the Hub before failing with a clear message."
    )

    @field_validator("model")
    @classmethod
    def _expand_model(cls, value: str) -> str:
        return _expand_model_path(value)


class ChunkSettings(BaseModel):
    """How article bodies are cut into passages."""

    target_tokens: int = Field(120, ge=16, description="Target chunk size in embedder tokens.")
    overlap_tokens: int = Field(30, ge=0, description="Sentence overlap between chunks, in tokens.")


class ExportSettings(BaseModel):
    """How the lines of a ``.jsonl`` export and the rows of a ``.csv`` export map to articles.

    For each article field, the keys (JSONL) or header names (CSV) that may hold it, matched
    without regard to case; the first one present and not empty wins.
    """

    id: list[str] = Field(
        ["id", "guid", "uuid"],
        description="A stable id, so the article id is FILE#ID; without one it is FILE#LINE (moves when lines do).",
    )
    title: list[str] = Field(["title", "headline"], description="Without one the first line of the text is the title.")
    date: list[str] = Field(
        ["date", "published", "pubDate", "created_at"],
        description="ISO 8601, RFC 2822, Unix seconds or a written date ('15 березня 2024'); a date it cannot read skips the line.",
    )
    text: list[str] = Field(
        ["text", "body", "content"], description="The article text (required; HTML is reduced to text)."
    )
    url: list[str] = Field(["url", "link"], description="The original's address, linked from the chat when http(s).")
    author: list[str] = Field(["author", "authors", "byline"])
    outlet: list[str] = Field(["outlet", "source", "site_name", "publisher"], description="The publication's name.")
    section: list[str] = Field(["section", "category"])
    tags: list[str] = Field(["tags", "keywords"], description="A list, or one string split at commas or semicolons.")
    max_file_bytes: int = Field(
        1_000_000_000, ge=1, description="Larger export files are skipped; each article in them obeys max_file_bytes."
    )


# Below this many vectors exact (flat) search is fast enough; above, an HNSW graph (see `litopys bench`).
HNSW_THRESHOLD = 50_000


# The passages' prompt tokens (docs/performance.md, "Passage budget"): 1000 bounds only the longest
# prompts. 440 keeps the news sets' user message under 500 tokens at p90, but cost answers when the
# LLM read its prompts, so it is not the default.
PASSAGE_TOKENS = 1000
# Below the lowest score a correct answer got over 302 scored rows (docs/quality.md, "A model-read
# check"): it withholds near misses whose evidence is of the right type but about something else.
MIN_ANSWERABLE_P = 0.25


class RetrievalSettings(BaseModel):
    """Hybrid (BM25 + dense) retrieval."""

    top_k: int = Field(5, ge=1, description="Passages handed to the LLM.")
    candidates: int = Field(50, ge=1, description="Candidates taken from each signal before fusion.")
    fusion: Literal["zscore", "rrf"] = "zscore"
    dense_weight: float = Field(
        0.3, ge=0.0, le=1.0, description="Weight of the dense signal; BM25 gets 1 - dense_weight."
    )
    cross_lingual_dense_weight: float = Field(
        0.9,
        ge=0.0,
        le=1.0,
        description=(
            "Weight of the dense signal when the question and the passages it finds are written in "
            "different scripts (an English question over Ukrainian articles: only names written alike "
            "can meet in the lexical index)."
        ),
    )
    rrf_k: int = Field(60, ge=1)
    per_article_cap: int = Field(2, ge=1, description="At most this many passages per article.")
    min_relative_score: float = Field(
        0.5,
        ge=0.0,
        le=1.0,
        description="Passages for the LLM must score at least this share of the best one (0 keeps all top_k).",
    )
    confident_score: float = Field(
        2.0,
        description="Prune weak passages only when the best one's fused score reaches this (z-score units).",
    )
    min_answer_score: float = Field(
        1.5,
        ge=0.0,
        description=(
            "Refuse without asking the LLM when the best passage's fused score is below this "
            "(nothing stands out from the candidates; z-score fusion only; 0 turns it off)."
        ),
    )
    cross_lingual_min_answer_score: float = Field(
        0.0,
        ge=0.0,
        description=(
            "min_answer_score for a question written in another script than the passages it finds (an English "
            "question over Ukrainian articles). Its lexical side meets only names written alike, and its best "
            "fused score does not tell answerable questions from off-topic ones (docs/quality.md): off (0) by "
            "default, the model and the checks after it decide."
        ),
    )
    question_dates: bool = Field(
        True, description="Read dates in the question ('14 листопада', 'минулого тижня') as a date filter."
    )
    relative_dates_from: Literal["today", "newest_article"] = Field(
        "today",
        description=(
            "What 'вчора', 'минулого тижня' and a day without a year count from: today, or the newest "
            "article's date (an archive of old news)."
        ),
    )
    recency_boost: float = Field(
        1.0,
        ge=0.0,
        description=(
            "A question for the latest news ('останні новини', 'що нового', 'latest') raises each passage by "
            "this many standard deviations of the fused scores for the newest article's date (0 turns it off)."
        ),
    )
    recency_half_life_days: float = Field(
        30.0, gt=0.0, description="The recency boost halves for every this many days an article is older."
    )
    list_articles: int = Field(
        10, ge=1, description="Articles listed for 'Які статті пишуть про X?' / 'which articles mention X' (no LLM)."
    )
    hnsw_threshold: int = Field(
        HNSW_THRESHOLD,
        ge=1,
        description="Search an HNSW graph instead of exact FAISS from this many chunks on.",
    )


class IndexSettings(BaseModel):
    """Where the index lives: files in ``index_dir`` (local), or collections on a Milvus server."""

    backend: Literal["local", "milvus"] = Field(
        "local",
        description=(
            "local: SQLite/FTS5 + FAISS files in index_dir (no server); "
            "milvus: collections on the Milvus server at uri, shared by many chat servers."
        ),
    )
    uri: str = Field("http://127.0.0.1:19530", description="The Milvus server (backend milvus).")
    token: SecretStr | None = Field(None, description="Milvus token ('user:password' or an API key); never logged.")
    collection: str = Field(
        "litopys",
        pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,200}$",
        description="Prefix of the Milvus collections (PREFIX_chunks, PREFIX_articles, PREFIX_meta).",
    )
    dense_index: Literal["HNSW", "FLAT"] = Field(
        "HNSW", description="Milvus vector index: HNSW (approximate, sub-linear) or FLAT (exact, small indexes)."
    )
    timeout_s: float = Field(30.0, gt=0, description="Longest wait for one Milvus call before it fails.")
    lock_settle_s: float = Field(
        6.0,
        ge=0,
        description=(
            "Milvus write lease: how long a writer waits after writing its lease before checking that it won "
            "(above the lease write's 5 s timeout; lower only where one host writes)."
        ),
    )


class LLMSettings(BaseModel):
    """The answering model: in-process llama.cpp, or an OpenAI-compatible server."""

    backend: Literal["llama_cpp", "openai"] = Field(
        "llama_cpp", description="llama_cpp: load the GGUF in-process; openai: call base_url's chat completions."
    )
    model: str = Field(
        "bundled:qwen2.5-coder-1.5b",
        description=(
            "bundled:qwen2.5-coder-1.5b | bundled:qwen2.5-coder-0.5b | a local .gguf path | "
            "hf:OWNER/REPO/FILE.gguf; with backend openai: the server's model name"
        ),
    )
    base_url: str | None = Field(None, description="OpenAI-compatible API root, e.g. http://127.0.0.1:8000/v1.")
    api_key: SecretStr | None = Field(None, description="Bearer token for base_url, if the server wants one.")
    request_timeout_s: float = Field(600.0, gt=0, description="Read timeout of one request to base_url.")
    keep_prefix_cache: bool = Field(
        True, description="Keep the evaluated system prompt (KV cache) across follow-up rewrites (llama_cpp)."
    )
    save_prefix_cache: bool = Field(
        True,
        description=(
            "Save the evaluated fixed prompt prefixes under <cache_dir>/prefix and load them in new processes "
            "instead of evaluating them again (llama_cpp, with keep_prefix_cache)."
        ),
    )
    n_ctx: int = Field(4096, ge=512)
    n_threads: int = Field(max(1, os.cpu_count() or 1), ge=1)
    flash_attn: bool = Field(
        False,
        description=(
            "llama.cpp's flash attention (llama_cpp): prompts evaluate faster on CPU, but some answers "
            "change (docs/performance.md has both measured)."
        ),
    )
    max_tokens: int = Field(256, ge=8)
    temperature: float = Field(0.1, ge=0.0)
    seed: int = 42
    hub_timeout_s: float = Field(3.0, gt=0)
    sha256: str | None = Field(
        None,
        description="Expected sha256 of a local or Hub .gguf, checked before loading (bundled models carry theirs).",
    )

    @field_validator("model")
    @classmethod
    def _expand_model(cls, value: str) -> str:
        return _expand_model_path(value)


class PromptSettings(BaseModel):
    """What the answer prompt carries."""

    passage_tokens: int = Field(
        PASSAGE_TOKENS,
        ge=0,
        description=(
            "Budget for the passages in the prompt, in the answering model's tokens: the best passages "
            "that fit, long ones cut to the sentences that carry the question (0: every passage whole)."
        ),
    )
    short_passage_chars: int = Field(
        120,
        ge=0,
        description=(
            "A passage shorter than this many characters is shown with the sentences before it in its "
            "article, up to short_passage_context_chars: a one-sentence chunk often leaves out whom it is "
            "about (0: never)."
        ),
    )
    short_passage_context_chars: int = Field(
        250, ge=1, description="What a short passage grows back to, in characters (whole sentences)."
    )
    # An overview ("Що відомо про X?") is one LLM call over several articles: its prompt is bigger
    # than a factoid's, within a median of 30 s on 2 cores (docs/quality.md, "Question kinds").
    overview_passages: int = Field(6, ge=1, description="Passages an overview answer's prompt carries at most.")
    overview_per_article_cap: int = Field(
        3, ge=1, description="At most this many passages of one article in an overview's retrieval pool."
    )
    overview_passage_tokens: int = Field(
        800, ge=0, description="Budget for an overview's passages, in the answering model's tokens (0: no cap)."
    )
    overview_max_tokens: int = Field(200, ge=8, description="Longest overview answer (a dated list), in tokens.")
    overview_dated_focus: float = Field(
        0.5,
        ge=0.0,
        le=1.0,
        description=(
            "For an overview under dates read from the question: passages scoring under this share of the "
            "best come only after every passage of the articles above it (0: spread over articles as usual)."
        ),
    )
    overview_corroboration: float = Field(
        0.8,
        ge=0.0,
        le=1.0,
        description=(
            "A timeline line also cites each other article in the prompt whose passage alone holds the line's "
            "names and numbers and at least this share of its other words (0 turns it off)."
        ),
    )


class ChecksSettings(BaseModel):
    """The checks a draft answer passes before it is shown (docs/quality.md has what each costs)."""

    min_answerable_p: float = Field(
        MIN_ANSWERABLE_P,
        ge=0.0,
        le=1.0,
        description=(
            "Withhold a draft when the answering model, shown the draft's evidence sentences and the "
            "question, puts less than this probability on 'yes, they answer it' (0: no such check; "
            "with llm.backend = 'openai' the check is skipped)."
        ),
    )


class ServerSettings(BaseModel):
    """The web chat server: where it listens, who may use it, how much it takes at once."""

    host: str = Field(
        "127.0.0.1", description="Interface to bind; anything but loopback needs auth or allow_anonymous."
    )
    port: int = Field(7860, ge=1, le=65535)
    concurrency_limit: int = Field(1, ge=1, description="Answers generated at once (one local LLM: keep 1).")
    max_queue: int = Field(64, ge=1, description="Requests waiting beyond this are told the server is busy.")
    auth_user: str | None = Field(None, description="Username for the login page (with auth_password).")
    auth_password: SecretStr | None = Field(None, description="Password for the login page; never logged.")
    allow_anonymous: bool = Field(False, description="Serve a non-loopback interface without a login.")
    max_upload_files: int = Field(20, ge=1, description="Article files accepted per upload.")


class WatchSettings(BaseModel):
    """A watched corpus folder: `serve` keeps the index current by itself."""

    enabled: bool = Field(False, description="`litopys serve` watches corpus_dir (as with --watch).")
    settle_s: float = Field(
        2.0, gt=0, description="Index changed files once the folder has been quiet this long (a burst: one build)."
    )


class FeedSettings(BaseModel):
    """One RSS or Atom feed whose new items are saved as articles (``[[feeds]]`` in the TOML file)."""

    url: str = Field(..., pattern=r"^https?://", description="The feed's http(s) address.")
    fetch_pages: bool = Field(False, description="Also fetch each item's page and keep its article text.")
    interval_s: float = Field(900.0, ge=10, description="How often `serve --watch` / `index --watch` polls it.")
    timeout_s: float = Field(20.0, gt=0, description="Longest wait for the feed (or a page) to arrive in full.")
    max_bytes: int = Field(10_000_000, ge=1, description="A larger feed (or page) is refused.")


class UISettings(BaseModel):
    """The chat's look."""

    language: Literal["uk", "en"] = Field("uk", description="Language of the chat's labels: uk | en.")


class Settings(BaseSettings):
    """All Litopys settings."""

    model_config = SettingsConfigDict(
        env_prefix="LITOPYS_",
        env_nested_delimiter="__",
        extra="forbid",
        toml_file="litopys.toml",
    )

    corpus_dir: ExpandedPath = Field(Path("seeds"), description="Folder of article files.")
    index_dir: ExpandedPath = Field(default_factory=lambda: _data_home() / "index")
    cache_dir: ExpandedPath = Field(
        default_factory=_cache_home, description="Where assembled/downloaded models are kept."
    )
    max_file_bytes: int = Field(5_000_000, ge=1, description="Larger article files are skipped.")
    exports: ExportSettings = ExportSettings()
    log_level: str = "INFO"

    index: IndexSettings = IndexSettings()
    embedder: EmbedderSettings = EmbedderSettings()
    chunking: ChunkSettings = ChunkSettings()
    retrieval: RetrievalSettings = RetrievalSettings()
    llm: LLMSettings = LLMSettings()
    prompt: PromptSettings = PromptSettings()
    checks: ChecksSettings = ChecksSettings()
    server: ServerSettings = ServerSettings()
    ui: UISettings = UISettings()
    watch: WatchSettings = WatchSettings()
    feeds: list[FeedSettings] = Field([], description="RSS/Atom feeds saved under corpus_dir/feeds/.")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_path = cls.model_config.get("toml_file")
        return (
            init_settings,
            env_settings,
            TomlConfigSettingsSource(settings_cls, toml_file=toml_path),
        )


class ConfigError(LitopysError):
    """A settings file or value the user must fix."""


def load_settings(config_file: Path | None = None, **overrides: object) -> Settings:
    """Build the settings; ``config_file`` (if given) must exist and replaces ``litopys.toml``."""
    explicit = config_file or os.environ.get("LITOPYS_CONFIG")
    if explicit is not None and not Path(explicit).expanduser().is_file():
        raise ConfigError(f"config file not found: {explicit}")
    toml_file = Path(explicit).expanduser() if explicit else Path("litopys.toml")
    # A subclass per call keeps the TOML path out of global state.
    cls = type("Settings", (Settings,), {"model_config": {**Settings.model_config, "toml_file": toml_file}})
    try:
        return cls(**overrides)
    except Exception as exc:  # pydantic ValidationError, TOML decode errors
        raise ConfigError(f"invalid settings: {exc}") from exc
