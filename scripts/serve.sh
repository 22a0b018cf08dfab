#!/usr/bin/env bash
# Quick start: build Seen in release mode (installing what is missing) and
# serve the given folders on http://127.0.0.1:3000 with SQLite under ./seen-data.
# Extra seen-http flags may follow the folders, e.g. --port 8080.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=deps.sh
. scripts/deps.sh
seen_install_apt "${SEEN_APT_PACKAGES[@]}"
cargo build --release --locked -p seen-http
exec ./target/release/seen-http --data-dir "${SEEN_DATA_DIR:-./seen-data}" "$@"
