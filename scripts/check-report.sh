#!/usr/bin/env bash
# Opens a Lumen HTML report in headless Chromium with every network lookup blocked, and fails
# unless the page finished rendering with no script error and no console message, with at
# least MIN_FIGURES figures drawn. Saves a full-page screenshot.
#   scripts/check-report.sh REPORT.html [SCREENSHOT.png] [MIN_FIGURES]
# Installs Debian's chromium-headless-shell when no Chromium is found.
set -euo pipefail
report=$(readlink -f "$1")
shot=${2:-${report%.html}.png}
min_figures=${3:-1}
[ -f "$report" ] || { echo "check-report: no such file: $1" >&2; exit 2; }

browser=""
for b in chromium-headless-shell chromium chromium-browser google-chrome; do
  if command -v "$b" >/dev/null; then browser=$(command -v "$b"); break; fi
done
if [ -z "$browser" ]; then
  echo "check-report: installing chromium-headless-shell" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium-headless-shell >/dev/null
  browser=$(command -v chromium-headless-shell)
fi

flags=(--headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run --disable-extensions
       --disable-background-networking --host-resolver-rules="MAP * ~NOTFOUND" --virtual-time-budget=30000
       --enable-logging=stderr --v=0)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
timeout 180 "$browser" "${flags[@]}" --dump-dom "file://$report" >"$tmp/dom.html" 2>"$tmp/log.txt" || true
body=$(grep -o '<body[^>]*>' "$tmp/dom.html" | head -n1 || true)
status=$(sed -n 's/.*data-status="\([a-z]*\)".*/\1/p' <<<"$body")
figures=$(sed -n 's/.*data-figures="\([0-9]*\)".*/\1/p' <<<"$body")
console=$(grep 'CONSOLE' "$tmp/log.txt" || true)
ok=1
if [ "$status" != "ok" ]; then echo "check-report: page status '${status:-none}' (expected ok)" >&2; ok=0; fi
if [ -n "$console" ]; then echo "check-report: console messages:" >&2; echo "$console" >&2; ok=0; fi
if [ "${figures:-0}" -lt "$min_figures" ]; then echo "check-report: ${figures:-0} figures, expected >= $min_figures" >&2; ok=0; fi
timeout 180 "$browser" "${flags[@]}" --hide-scrollbars --window-size=1400,5200 --screenshot="$shot" "file://$report" \
  >/dev/null 2>&1 || true
[ -s "$shot" ] || { echo "check-report: no screenshot written" >&2; ok=0; }
[ "$ok" -eq 1 ] || exit 1
echo "check-report: ok: $figures figures, no console messages; screenshot $shot"
