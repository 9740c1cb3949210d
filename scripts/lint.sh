#!/usr/bin/env bash
# Lint, format check and type check (scripts/test.sh runs this before the tests).
# mypy cannot follow the package-dir mapping (index/ -> litopys.index, ...), so it checks a
# throwaway link tree laid out as the installed package.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bin=.venv/bin
"$bin/ruff" check .
"$bin/ruff" format --check .
tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
mkdir "$tree/litopys"
for entry in litopys/*; do ln -s "$root/$entry" "$tree/litopys/"; done
for layer in index rag ui; do ln -s "$root/$layer" "$tree/litopys/$layer"; done
(cd "$tree" && "$root/$bin/mypy" --config-file "$root/pyproject.toml" \
  --python-executable "$root/$bin/python" --cache-dir "$root/.mypy_cache" -p litopys)
