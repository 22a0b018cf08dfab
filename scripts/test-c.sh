#!/usr/bin/env bash
# C checks of libseen: the header compiles as C11 and C++ with -Wall -Werror,
# the example runs, and the test program checks every function under
# valgrind memcheck (no invalid accesses, no definite leaks).
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET=${CARGO_TARGET_DIR:-$PWD/target}/debug
cargo build -p seen-ffi --locked
# The build regenerated include/seen.h: an ABI change must commit its header.
if git rev-parse --git-dir >/dev/null 2>&1 && ! git diff --quiet -- include/seen.h; then
  echo "include/seen.h changed with the ABI: commit the regenerated header" >&2
  git --no-pager diff --stat -- include/seen.h >&2
  exit 1
fi
WORK=$(mktemp -d /tmp/seen-c.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/photos/2023"
ffmpeg -v error -f lavfi -i testsrc2=size=640x480 -frames:v 1 "$WORK/photos/beach.jpg"
ffmpeg -v error -f lavfi -i testsrc2=size=320x240 -frames:v 1 "$WORK/photos/2023/party.jpg"
ffmpeg -v error -f lavfi -i mandelbrot=size=400x300 -frames:v 1 "$WORK/photos/2023/fractal.png"
CFLAGS=(-std=c11 -Wall -Wextra -Werror -Iinclude)
LINK=(-L"$TARGET" -lseen -Wl,-rpath,"$TARGET")
echo '#include "seen.h"' > "$WORK/header.cpp"
c++ -std=c++17 -Wall -Wextra -Werror -Iinclude -fsyntax-only "$WORK/header.cpp"
cc "${CFLAGS[@]}" -fsyntax-only -x c include/seen.h
cc "${CFLAGS[@]}" examples/c/example.c -o "$WORK/example" "${LINK[@]}"
cc "${CFLAGS[@]}" tests/c/test_seen.c -o "$WORK/test_seen" "${LINK[@]}" -lpthread
"$WORK/example" "$WORK/example-data" "$WORK/photos" beach "$WORK/thumb.webp"
test -s "$WORK/thumb.webp"
# ONNX Runtime stays out of the valgrind run (its own allocations are not
# libseen's): the faces calls then report the missing runtime.
ORT_DYLIB_PATH=/nonexistent valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
  --show-leak-kinds=definite --track-origins=no \
  "$WORK/test_seen" "$WORK/test-data" "$WORK/photos"
