#!/usr/bin/env bash
# Python checks: build the seen wheel with maturin (abi3), install it into a
# virtualenv with pytest, Pillow and tqdm, and run the pytest suite against
# the installed wheel (not the source tree).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=deps.sh
. scripts/deps.sh
seen_python_env
VENV=$SEEN_VENV
WHEELS=$(mktemp -d /tmp/seen-wheels.XXXXXX)
trap 'rm -rf "$WHEELS"' EXIT
"$VENV/bin/maturin" build --quiet -m seen-py/Cargo.toml --profile dev --compatibility linux --auditwheel skip -i "$VENV/bin/python" --out "$WHEELS"
case "$(basename "$WHEELS"/seen-*.whl)" in
  *-abi3-*) ;;
  *) echo "the seen wheel is not abi3: $(ls "$WHEELS")" >&2; exit 1 ;;
esac
"$VENV/bin/pip" install -q --disable-pip-version-check --force-reinstall --no-deps "$WHEELS"/seen-*.whl
# Run from the tests folder so `import seen` finds the wheel, not the sources.
cd seen-py/tests
"$VENV/bin/python" -m pytest -q -p no:cacheprovider .
