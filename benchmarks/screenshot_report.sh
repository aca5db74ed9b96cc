#!/usr/bin/env bash
# Render a report's one-page HTML in headless Chromium and save a PNG, to look at what a reader will see; then
# say which tables are wider than the window (they scroll sideways inside their card), the folded ones included.
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
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
flags=(--headless --no-sandbox --disable-gpu --disable-background-networking --hide-scrollbars
       --user-data-dir="$work/profile" --window-size="${size/x/,}")
"$browser" "${flags[@]}" --screenshot="$(realpath -m "$png")" "file://$(realpath "$html")" >/dev/null 2>&1
echo "$png"
# the page marks a table's card "scroll wide" when the table is wider than the card; <details> opened to see all
sed 's/<details \([^>]*\)>/<details \1 open>/g' "$html" > "$work/open.html"
wide=$("$browser" "${flags[@]}" --dump-dom "file://$work/open.html" 2>/dev/null \
       | grep -o '<section class="card" id="[^"]*"><h2>[^<]*</h2><p class="caption">[^<]*</p><div class="scroll wide"' \
       | sed 's/.*<h2>\([^<]*\)<\/h2>.*/\1/' || true)
if [[ -n "$wide" ]]; then
  echo "tables wider than ${size%x*} px (they scroll sideways in their card):"
  echo "$wide" | sed 's/^/  /'
else
  echo "every table fits ${size%x*} px"
fi
