#!/usr/bin/env bash
# Google Search 3.0, Go and goscope side by side: runs each program N times
# (default 24), interleaved so both see the same machine load, and counts the
# runs that returned all three results before the 80 ms timeout.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-24}
command -v go >/dev/null || { apt-get update -qq && apt-get install -y -qq golang-go; }
cargo build -q --release -p examples --example google_search
(cd bench/go && go build -o ../../target/release/google_search_go ./google_search)
go_complete=0 rs_complete=0
for _ in $(seq "$runs"); do
    target/release/google_search_go | grep -q "timed out" || go_complete=$((go_complete + 1))
    target/release/examples/google_search | grep -q "timed out" || rs_complete=$((rs_complete + 1))
done
echo "complete results: Go $go_complete/$runs, goscope $rs_complete/$runs"
