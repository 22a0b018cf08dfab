#!/usr/bin/env bash
# Quick start: build Seen in release mode (installing what is missing) and
# serve the given folders on http://127.0.0.1:3000 with SQLite under
# ./seen-data. Folders and the data directory are relative to where you run
# this from. Extra seen-http flags may follow the folders, e.g. --port 8080.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=deps.sh
. "$REPO/scripts/deps.sh"
seen_install_apt "${SEEN_APT_PACKAGES[@]}"
(cd "$REPO" && cargo build --release --locked -p seen-http)
exec "$REPO/target/release/seen-http" --data-dir "${SEEN_DATA_DIR:-./seen-data}" "$@"
