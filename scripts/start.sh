#!/usr/bin/env bash
# Install Litopys, index the corpus (./seeds unless LITOPYS_CORPUS_DIR says otherwise) and serve the chat.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
exec .venv/bin/litopys serve "$@"
