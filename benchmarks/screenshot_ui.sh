#!/usr/bin/env bash
# Start `suite ui` on a free port, load the leaderboard URL it prints in headless Chromium, save a PNG, stop the UI:
# to look at what `suite ui` opens on (parent runs, best test/primary_mean first, metric and n_runs columns).
#
#   benchmarks/screenshot_ui.sh TRACKING_URI [EXPERIMENT] [OUT_PNG] [WIDTHxHEIGHT]
#   defaults: -  dna-suite  reports/out/ui.png  1600x1000
#
# `suite ui` writes one experiment tag (the saved leaderboard view) into the store: point it at a copy of a store
# another process is writing. PYTHON picks the interpreter (default: python). Needs Debian's chromium.
set -euo pipefail
uri=${1:?usage: benchmarks/screenshot_ui.sh TRACKING_URI [EXPERIMENT] [OUT_PNG] [WIDTHxHEIGHT]}
experiment=${2:-dna-suite}
png=${3:-reports/out/ui.png}
size=${4:-1600x1000}
python=${PYTHON:-python}
browser=$(command -v chromium || command -v chromium-browser || true)
[[ -n "$browser" ]] || { echo "chromium not found: apt-get install -y chromium" >&2; exit 2; }
work=$(mktemp -d)
ui=""
cleanup() {
  if [[ -n "$ui" ]] && kill -0 "$ui" 2>/dev/null; then
    kill -TERM "$ui"  # `suite ui` stops every process it started on SIGTERM
    wait "$ui" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$python" -m suite ui --tracking-uri "$uri" --experiment "$experiment" --port "$port" --no-browser \
  >"$work/ui.log" 2>&1 &
ui=$!
url=""
for _ in $(seq 240); do
  kill -0 "$ui" 2>/dev/null || { cat "$work/ui.log" >&2; exit 1; }
  url=$(sed -n "s/^leaderboard of '.*': //p" "$work/ui.log")
  if [[ -n "$url" ]] && curl -sf "http://127.0.0.1:$port/health" >/dev/null; then break; fi
  sleep 1
done
[[ -n "$url" ]] || { echo "suite ui printed no leaderboard URL:" >&2; cat "$work/ui.log" >&2; exit 1; }
mkdir -p "$(dirname "$png")"
# the UI is a single-page app that fetches its runs after loading: virtual time lets those requests finish
"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --user-data-dir="$work/profile" \
  --window-size="${size/x/,}" --virtual-time-budget=15000 --screenshot="$(realpath -m "$png")" "$url" >/dev/null 2>&1
echo "$url"
echo "$png"
