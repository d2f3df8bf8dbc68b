#!/usr/bin/env bash
# One command: set-up, then `verifier-diff run` on the built-in corpus (or on what the arguments say).
#   sudo ./run_compare.sh                                   built-in corpus, run directory under runs/
#   sudo ./run_compare.sh --corpus FILE.jsonl --out DIR     any corpus, any place
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
if [ "$(id -u)" != 0 ]; then
  echo "run_compare.sh: not root, so the kernel's verifier cannot be reached and nothing can be installed:" \
       "run it with sudo (or, where bpf() is refused even to root, use \`vagrant up\`); running pyverifier alone." >&2
fi
./scripts/setup.sh
exec .venv/bin/verifier-diff run "$@"
