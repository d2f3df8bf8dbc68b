#!/usr/bin/env bash
# The test command: set-up (with the test extras and chromium), then every test.
#   sudo ./run_tests.sh              all tests
#   sudo ./run_tests.sh -k tnum      pytest arguments pass through
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
./scripts/setup.sh --with-tests
exec .venv/bin/python -m pytest "$@"
