#!/usr/bin/env bash
# Sets up what is missing, then runs every test: unit tests, golden screens, and the
# end-to-end run of the release binary in tmux.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build -c release --product oicsr
swift test "$@"
