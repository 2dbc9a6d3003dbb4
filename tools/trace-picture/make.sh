#!/usr/bin/env bash
# Makes docs/worker_pool_trace.png: a real trace of examples/worker_pool.rs
# (GOSCOPE_TRACE), opened in speedscope (from the npm registry) in headless
# Chromium, one screenshot per goroutine, stacked.
#
#   tools/trace-picture/make.sh
#
# Needs node and npm, Debian's chromium and ImageMagick:
#   apt-get install chromium imagemagick
set -euo pipefail
cd "$(dirname "$0")/../.."
for tool in node npm /usr/bin/chromium /usr/bin/convert; do
    command -v "$tool" >/dev/null || {
        echo "make.sh: $tool is missing (apt-get install nodejs npm chromium imagemagick)" >&2
        exit 1
    }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The worker pool: main, three workers, five jobs of a second each.
GOSCOPE_TRACE="$tmp/trace.json" cargo run -q -p examples --example worker_pool >/dev/null

(cd tools/trace-picture && npm ci --no-audit --no-fund --silent)
node tools/trace-picture/picture.mjs "$tmp/trace.json" "$tmp/track" 4

mkdir -p docs
/usr/bin/convert "$tmp"/track-{1,2,3,4}.png -bordercolor '#808080' -border 0x1 -append \
    docs/worker_pool_trace.png
echo "wrote docs/worker_pool_trace.png"
