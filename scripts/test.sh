#!/usr/bin/env bash
# Install Litopys with its test extras (and Chromium for the browser tests), check lint, format and
# types (scripts/lint.sh), then run the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh test
if [ ! -x /usr/bin/chromium ]; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
      || echo "WARNING: could not install chromium; browser tests will skip" >&2
  else
    echo "WARNING: chromium missing and apt-get unavailable (not root?); browser tests will skip" >&2
  fi
fi
bash scripts/lint.sh
exec .venv/bin/python -m pytest "$@"
