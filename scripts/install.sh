#!/usr/bin/env bash
# Create ./.venv (if needed) and install Litopys into it, with optional extras: install.sh [EXTRAS]
# torch is pinned to the CPU build 2.13.0: a plain `torch` would pull a multi-GB CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"
python="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
pip_args=(--disable-pip-version-check)
# A local folder of wheels (where this machine keeps the CPU torch build) is used when present.
if [ -d /opt/wheels ]; then pip_args+=(--find-links /opt/wheels); fi
.venv/bin/python -m pip install "${pip_args[@]}" -q --upgrade pip
# llama-cpp-python compiles from source; build it once for this CPU into a wheel cache, and
# install it (again when the wheel changed, e.g. built for more of the CPU's instructions).
wheel="$(bash scripts/build-llama.sh .venv/bin/python)"
stamp=".venv/.llama-wheel"
if [ "$(cat "$stamp" 2>/dev/null)" != "$wheel" ]; then
  .venv/bin/python -m pip install "${pip_args[@]}" -q --no-deps --force-reinstall "$wheel"
  printf '%s\n' "$wheel" >"$stamp"
fi
pip_args+=(--find-links "$(dirname "$wheel")")
target="."
if [ -n "$extras" ]; then target=".[${extras}]"; fi
.venv/bin/python -m pip install "${pip_args[@]}" -e "$target"
