#!/usr/bin/env bash
# Runs the benchmarks of issues 5 and 18 side by side, goscope, raw std + crossbeam and
# Go, and prints one markdown table (on stdout; progress goes to stderr).
#
#   bench/compare.sh [--quick] [--only REGEX]
#
# Per workload it runs the criterion group (goscope and its raw twin, in one
# run) and then the Go benchmark, so that slow drifts of a shared machine hit
# all three alike. Times are medians: criterion's median estimate
# (target/criterion/<group>/<fn>/new/estimates.json), and the median of
# GO_COUNT runs of Go's ns/op. The prime sieve adds a row of CPU time
# (user + sys) per sieve: the bench's `RESULT cpu` line (summed over its timed
# samples) and the median of Go's cpu-ns/op.
#
# Options and environment:
#   --quick          short measurement (a smoke run): criterion
#                    --warm-up-time 0.5 --measurement-time 1, Go -benchtime
#                    0.2s -count 3
#   --only REGEX     only the workloads whose criterion group matches REGEX
#                    (groups: spawn_waitgroup_10k live_goroutines
#                    pingpong_unbuffered pingpong_cap1 buffered_1p1c_cap1024
#                    buffered_4p4c_cap1024 worker_pool_100k_5w
#                    prime_sieve_300 select_2way_buffered
#                    select_2way_unbuffered)
#   CRITERION_ARGS   extra criterion flags (e.g. "--measurement-time 5")
#   GO_BENCHTIME     Go's -benchtime (default 1s)
#   GO_COUNT         Go runs per benchmark, the median is reported (default 5)
#   LIVE_N           live goroutines for the live-goroutine rows (default 10000)
#   LIVE_RUNS        runs of each live-goroutine program, interleaved; the
#                    medians are reported (default 3)
#
# Go is installed with the system package manager (Debian's golang-go) when
# `go` is not on PATH. Not part of CI: CI only compiles the benches.
set -euo pipefail
# fmt_ns, ratio
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

die() {
    echo "compare.sh: error: $*" >&2
    exit 1
}
log() {
    echo "compare.sh: $*" >&2
}

quick=false
only=''
while [[ $# -gt 0 ]]; do
    case "$1" in
    --quick) quick=true ;;
    --only)
        [[ $# -ge 2 ]] || die "--only needs a regex"
        only="$2"
        shift
        ;;
    -h | --help)
        sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
        exit 0
        ;;
    *) die "unknown argument '$1' (try --help)" ;;
    esac
    shift
done

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

# criterion and Go settings.
read -r -a criterion_args <<<"${CRITERION_ARGS:-}"
go_benchtime="${GO_BENCHTIME:-1s}"
go_count="${GO_COUNT:-5}"
live_n="${LIVE_N:-10000}"
live_runs="${LIVE_RUNS:-3}"
if $quick; then
    criterion_args=(--warm-up-time 0.5 --measurement-time 1 "${criterion_args[@]}")
    go_benchtime="${GO_BENCHTIME:-0.2s}"
    go_count="${GO_COUNT:-3}"
fi
[[ "$go_count" =~ ^[1-9][0-9]*$ ]] || die "GO_COUNT must be a positive integer, not '$go_count'"
[[ "$live_n" =~ ^[1-9][0-9]*$ ]] || die "LIVE_N must be a positive integer, not '$live_n'"
[[ "$live_runs" =~ ^[1-9][0-9]*$ ]] || die "LIVE_RUNS must be a positive integer, not '$live_runs'"

# --- tools ---------------------------------------------------------------

command -v cargo >/dev/null || die "cargo not found: install Rust (rustup) first"
if ! command -v go >/dev/null; then
    log "go not found: installing Debian's golang-go"
    command -v apt-get >/dev/null || die "go not found and no apt-get: install Go (>= 1.19) by hand"
    sudo=()
    if [[ "$(id -u)" != 0 ]]; then
        command -v sudo >/dev/null || die "go not found: run as root or install golang-go by hand"
        sudo=(sudo)
    fi
    "${sudo[@]}" apt-get update >&2 || die "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y golang-go >&2 ||
        die "apt-get install golang-go failed"
    command -v go >/dev/null || die "golang-go installed but go is not on PATH"
fi

# The workspace's target directory (CARGO_TARGET_DIR or [build] target-dir
# included), where criterion writes its estimates.
target="$(cargo metadata --format-version 1 --no-deps |
    sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
[[ -n "$target" ]] || die "cannot find cargo's target directory (cargo metadata)"
out="$target/bench-compare"
mkdir -p "$out"
# No module downloads (the Go side has no dependencies) and no toolchain
# switching; keep Go's build cache beside the binaries.
export GOPROXY=off GOTOOLCHAIN=local
export GOCACHE="${GOCACHE:-$out/go-cache}"

# --- build ---------------------------------------------------------------

log "building the criterion benches (cargo bench -p goscope --no-run)"
artifacts="$(cargo bench -p goscope --no-run --message-format=json-render-diagnostics)" ||
    die "building the Rust benches failed"
# Run copies of the executables, not `cargo bench`: other builds in the same
# target directory may rebuild (and replace) them while this script runs,
# and every workload must measure the same build.
mkdir -p "$out/bin"
for name in spawn channels select live_goroutines; do
    exe="$(echo "$artifacts" | grep '"reason":"compiler-artifact"' |
        grep '"kind":\["bench"\]' | grep "\"name\":\"$name\"" |
        sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -n 1)"
    [[ -n "$exe" && -x "$exe" ]] || die "cannot find the executable of bench '$name' in cargo's output"
    cp "$exe" "$out/bin/$name"
done
# Where criterion writes its estimates (it would otherwise ask cargo).
export CRITERION_HOME="$target/criterion"
log "building the Go benchmarks ($(go version))"
(cd bench/go && go test -c -o "$out/goscopebench.test" . >&2) || die "building bench/go failed"
(cd bench/go && go build -o "$out/live" ./live >&2) || die "building bench/go/live failed"

# --- helpers -------------------------------------------------------------

# criterion_median GROUP FN: the median point estimate in ns.
criterion_median() {
    local file="$CRITERION_HOME/$1/$2/new/estimates.json"
    [[ -f "$file" ]] || die "no criterion estimate for $1/$2 ($file)"
    local v
    v="$(sed -n 's/.*"median":{"confidence_interval":{[^}]*},"point_estimate":\([^,}]*\).*/\1/p' "$file")"
    [[ -n "$v" ]] || die "cannot read the median from $file"
    echo "$v"
}

# run_criterion BENCH GROUP: runs one group (both of its functions).
run_criterion() {
    local bench="$1" group="$2"
    # Stale estimates must not stand in for a run that measured nothing.
    rm -f "$CRITERION_HOME/$group"/*/new/estimates.json
    log "criterion: $group"
    "$out/bin/$bench" --bench "${criterion_args[@]}" "^$group/" >"$out/$group.log" ||
        die "criterion bench $bench ($group) failed: $(cat "$out/$group.log")"
    cat "$out/$group.log" >&2
}

# criterion_cpu GROUP FN: the CPU ns per iteration the bench printed (its
# `RESULT cpu GROUP/FN ns_per_iter=` line).
criterion_cpu() {
    local v
    v="$(sed -n "s|^RESULT cpu $1/$2 ns_per_iter=\([0-9]*\).*|\1|p" "$out/$1.log")"
    [[ -n "$v" ]] || die "no RESULT cpu line for $1/$2 in $out/$1.log"
    echo "$v"
}

# go_median NAME: runs Benchmark NAME GO_COUNT times, prints the median ns/op
# (the output is kept for go_metric).
go_median() {
    log "go: $1"
    local output
    output="$(cd bench/go && "$out/goscopebench.test" -test.run '^$' -test.bench "^$1\$" \
        -test.benchtime "$go_benchtime" -test.count "$go_count")" ||
        die "Go benchmark $1 failed: $output"
    echo "$output" >&2
    echo "$output" >"$out/go-$1.log"
    go_metric "$1" ns/op
}

# go_metric NAME UNIT: the median of Benchmark NAME's UNIT values in its last
# go_median run.
go_metric() {
    local values
    values="$(awk -v name="$1" -v unit="$2" '$1 ~ "^"name"(-[0-9]+)?$" { for (i = 2; i <= NF; i++) if ($i == unit) print $(i-1) }' "$out/go-$1.log" | sort -g)"
    [[ -n "$values" ]] || die "no $2 for $1 in Go's output"
    median "$values"
}

# median LINES: the median of sorted numbers, one per line.
median() {
    echo "$1" | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# sorted_median LINES: the median of numbers, one per line, in any order.
sorted_median() {
    median "$(echo -n "$1" | sort -g)"
}

# live_result CMD...: runs a live-goroutine program; prints its KiB each and
# its start time per goroutine in ns ("KIB NS").
live_result() {
    local output
    output="$("$@")" || die "$* failed: $output"
    echo "$output" >&2
    local kib ms n
    kib="$(echo "$output" | sed -n 's/^RESULT .*kib_per_goroutine=\([^ ]*\).*/\1/p')"
    n="$(echo "$output" | sed -n 's/^RESULT .* n=\([0-9]*\) .*/\1/p')"
    ms="$(echo "$output" | sed -n 's/.*started in \([0-9.]*\) ms.*/\1/p' | head -n 1)"
    [[ -n "$kib" && -n "$n" && -n "$ms" ]] || die "no RESULT line or start time from $*"
    echo "$kib $(awk -v ms="$ms" -v n="$n" 'BEGIN { print ms * 1e6 / n }')"
}

rows=()
# row LABEL GOSCOPE TWIN GO FORMATTER
row() {
    rows+=("| $1 | $($5 "$2") | $($5 "$3") | $($5 "$4") | $(ratio "$2" "$3") | $(ratio "$2" "$4") |")
}
fmt_kib() {
    awk -v k="$1" 'BEGIN { printf "%.1f KiB", k }'
}
selected() {
    [[ -z "$only" || "$1" =~ $only ]]
}

# --- the workloads, interleaved ------------------------------------------

# bench file | criterion group | twin function | iteration / unit | Go benchmark | label
workloads=(
    "spawn|spawn_waitgroup_10k|std|10000|SpawnWaitGroup10k|spawn + WaitGroup, 10k goroutines, per goroutine"
    "live|live_goroutines|std|1|-|10k live blocked goroutines"
    "channels|pingpong_unbuffered|crossbeam|1|PingPongUnbuffered|unbuffered ping-pong, per round trip"
    "channels|pingpong_cap1|crossbeam|1|PingPongCap1|cap-1 ping-pong, per round trip"
    "channels|buffered_1p1c_cap1024|crossbeam|1|Buffered1P1CCap1024|buffered 1P/1C, cap 1024, per item"
    "channels|buffered_4p4c_cap1024|crossbeam|1|Buffered4P4CCap1024|buffered 4P/4C, cap 1024, per item"
    "channels|worker_pool_100k_5w|crossbeam|100000|WorkerPool100k5W|worker pool, 100k jobs, 5 workers, per job"
    "channels|prime_sieve_300|crossbeam|1|PrimeSieve300|prime sieve, first 300 primes (300 goroutines), per sieve"
    "select|select_2way_buffered|crossbeam|1|Select2WayBuffered|2-way select, buffered, per select"
    "select|select_2way_unbuffered|crossbeam|1|Select2WayUnbuffered|2-way select, 2 producers on unbuffered channels, per select"
)

for w in "${workloads[@]}"; do
    IFS='|' read -r bench group twin per go_name label <<<"$w"
    selected "$group" || continue
    if [[ "$bench" == live ]]; then
        label="${label/10k/$live_n}"
        log "live goroutines: N=$live_n, $live_runs runs each"
        # Interleaved, as the criterion groups are: one run of each in turn.
        g_kibs='' g_nss='' t_kibs='' t_nss='' o_kibs='' o_nss=''
        for _ in $(seq "$live_runs"); do
            r="$(live_result "$out/bin/live_goroutines" "$live_n" goscope)"
            read -r kib ns <<<"$r"
            g_kibs+="$kib"$'\n' g_nss+="$ns"$'\n'
            r="$(live_result "$out/bin/live_goroutines" "$live_n" std)"
            read -r kib ns <<<"$r"
            t_kibs+="$kib"$'\n' t_nss+="$ns"$'\n'
            r="$(live_result "$out/live" -n "$live_n")"
            read -r kib ns <<<"$r"
            o_kibs+="$kib"$'\n' o_nss+="$ns"$'\n'
        done
        row "$label, start time per goroutine" "$(sorted_median "$g_nss")" \
            "$(sorted_median "$t_nss")" "$(sorted_median "$o_nss")" fmt_ns
        row "$label, RSS each" "$(sorted_median "$g_kibs")" "$(sorted_median "$t_kibs")" \
            "$(sorted_median "$o_kibs")" fmt_kib
        continue
    fi
    run_criterion "$bench" "$group"
    g="$(criterion_median "$group" goscope)"
    t="$(criterion_median "$group" "$twin")"
    o="$(go_median "Benchmark$go_name")"
    # Per iteration -> per goroutine / job.
    g="$(awk -v v="$g" -v d="$per" 'BEGIN { print v / d }')"
    t="$(awk -v v="$t" -v d="$per" 'BEGIN { print v / d }')"
    o="$(awk -v v="$o" -v d="$per" 'BEGIN { print v / d }')"
    row "$label" "$g" "$t" "$o" fmt_ns
    if [[ "$group" == prime_sieve_300 ]]; then
        row "prime sieve, CPU time (user + sys) per sieve" \
            "$(criterion_cpu "$group" goscope)" "$(criterion_cpu "$group" "$twin")" \
            "$(go_metric "Benchmark$go_name" cpu-ns/op)" fmt_ns
    fi
done

[[ ${#rows[@]} -gt 0 ]] || die "no workload matches --only '$only'"

# --- the table -----------------------------------------------------------

model="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
echo "Machine: $(nproc) cores, ${model:-unknown CPU}; $(rustc --version); $(go version | sed 's/^go version //'); $(date -u +%Y-%m-%d)."
if $quick; then
    echo "Smoke run (--quick): short measurements, noisy numbers."
fi
echo
echo "| workload | goscope | raw crossbeam/std | Go | goscope/crossbeam | goscope/Go |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
printf '%s\n' "${rows[@]}"
