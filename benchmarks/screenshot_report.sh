#!/usr/bin/env bash
# Render a report's one-page HTML in headless Chromium and save a PNG, to look at what a reader will see.
#
#   benchmarks/screenshot_report.sh [REPORT_HTML] [OUT_PNG] [WIDTHxHEIGHT]
#   defaults: reports/out/report.html  reports/out/screenshot.png  1400x2000
#
# Needs Debian's chromium (`apt-get install -y chromium`). The flags keep it offline and headless: the page is
# self-contained (plots inline, no fonts or scripts fetched), so nothing is reached over the network.
set -euo pipefail
html=${1:-reports/out/report.html}
png=${2:-reports/out/screenshot.png}
size=${3:-1400x2000}
browser=$(command -v chromium || command -v chromium-browser || true)
if [[ -z "$browser" ]]; then
  echo "chromium not found: apt-get install -y chromium" >&2
  exit 2
fi
[[ -f "$html" ]] || { echo "no report at $html: run \`suite report\` first" >&2; exit 2; }
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
"$browser" --headless --no-sandbox --disable-gpu --disable-background-networking --hide-scrollbars \
  --user-data-dir="$profile" --window-size="${size/x/,}" --screenshot="$(realpath -m "$png")" \
  "file://$(realpath "$html")" >/dev/null 2>&1
echo "$png"
