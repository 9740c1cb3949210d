"""Shared fixtures: paths to the project's seeds and the optional ../shared data."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
SHARED = ROOT.parent / "shared"
NER_UK = SHARED / "corpus" / "ner-uk" / "articles"
DEV_QUESTIONS = SHARED / "eval" / "dev.jsonl"
SEED_QUESTION = "Хто може очолити російську делегацію на переговорах у Майамі?"
SEED_ID = "000_0eb56f0bcda4d5b8.txt"


@pytest.fixture(scope="session")
def ner_uk() -> Path:
    """The ner-uk evaluation corpus from ../shared (skips when it is absent)."""
    if not NER_UK.is_dir():
        pytest.skip(f"needs the shared corpus at {NER_UK} (present in CI)")
    return NER_UK


@pytest.fixture(scope="session")
def model_cache() -> Path:
    """Assembled models are cached across runs like a user's would be."""
    return Path.home() / ".cache" / "litopys"
