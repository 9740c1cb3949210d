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
# llama-cpp-python compiles from source; build it once with safe CPU flags into a wheel cache.
bash scripts/build-llama.sh .venv/bin/python
pip_args+=(--find-links "${LITOPYS_WHEEL_CACHE:-$HOME/.cache/litopys/wheels}")
target="."
if [ -n "$extras" ]; then target=".[${extras}]"; fi
.venv/bin/python -m pip install "${pip_args[@]}" -e "$target"
