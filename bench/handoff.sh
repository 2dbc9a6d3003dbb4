#!/usr/bin/env bash
# The before/after table of issue 18 (hand-offs): old main against the new
# runtime, with raw crossbeam + std threads and Go beside them, in one run,
# as markdown on stdout (progress on stderr).
#
#   bench/handoff.sh [--old REV] [--new REV] [--runs N] [--quick] [--no-pin]
#                    [--only REGEX]
#
# Both revisions are exported (`git archive`, no worktree) into a directory
# of their own and built with a target directory of their own. They run the
# SAME bench sources: runtime/benches/{channels,select,common/workloads}.rs of the new
# revision are copied over the old one's (the old commit lacks the new
# groups; the benches use only the public API). Go's benchmarks come from
# the new revision's bench/go.
#
# Each of N runs goes over every workload: old, new (the order alternates
# between runs, so a slow drift of the machine hits both alike), then Go.
# Each cell is the best (lowest) of the N runs' criterion medians (Go: of
# its ns/op), the raw twin's the best over both builds' runs (same code).
#
# Rows and pinning:
#   hand-off rows (unpinned: a spinning waiter needs its partner on the
#   other core): unbuffered ping-pong, cap-1 ping-pong, 2-way select over
#   unbuffered channels, the 300-prime sieve and its CPU time (user + sys)
#   per sieve;
#   regression rows (must stay within 1.05x of old main): buffered 1P/1C,
#   4P/4C, the worker pool and the 2-way select over buffered channels,
#   pinned to one core with `taskset -c 1` as the earlier rounds measured
#   them (far less noisy on a shared 2-core VM); --no-pin runs them
#   unpinned too.
#
# Options and environment:
#   --old REV        the "before" revision (default 24d4e97, main before
#                    issue 18)
#   --new REV        the "after" revision (default HEAD)
#   --runs N         runs to take the best of (default 3)
#   --quick          short measurements (a smoke run): criterion
#                    --warm-up-time 0.5 --measurement-time 1, Go -benchtime
#                    0.2s
#   --no-pin         do not pin the regression rows
#   --only REGEX     only the workloads whose criterion group matches REGEX
#   HANDOFF_DIR      where the trees, target dirs and logs go (default
#                    /tmp/goscope-handoff; kept, so a second run rebuilds
#                    only what changed)
#   CRITERION_ARGS   extra criterion flags
#   GO_BENCHTIME     Go's -benchtime (default 1s)
set -euo pipefail
# fmt_ns, ratio
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

die() {
    echo "handoff.sh: error: $*" >&2
    exit 1
}
log() {
    echo "handoff.sh: $*" >&2
}

old_rev=24d4e97
new_rev=HEAD
runs=3
quick=false
pin=true
only=''
while [[ $# -gt 0 ]]; do
    case "$1" in
    --old | --new | --runs | --only)
        [[ $# -ge 2 ]] || die "$1 needs a value"
        case "$1" in
        --old) old_rev="$2" ;;
        --new) new_rev="$2" ;;
        --runs) runs="$2" ;;
        --only) only="$2" ;;
        esac
        shift
        ;;
    --quick) quick=true ;;
    --no-pin) pin=false ;;
    -h | --help)
        sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
        exit 0
        ;;
    *) die "unknown argument '$1' (try --help)" ;;
    esac
    shift
done
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || die "--runs must be a positive integer, not '$runs'"

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
work="${HANDOFF_DIR:-/tmp/goscope-handoff}"
mkdir -p "$work"

read -r -a criterion_args <<<"${CRITERION_ARGS:-}"
go_benchtime="${GO_BENCHTIME:-1s}"
if $quick; then
    criterion_args=(--warm-up-time 0.5 --measurement-time 1 "${criterion_args[@]}")
    go_benchtime="${GO_BENCHTIME:-0.2s}"
fi

command -v cargo >/dev/null || die "cargo not found"
command -v go >/dev/null || die "go not found (bench/compare.sh installs Debian's golang-go)"
if $pin; then
    command -v taskset >/dev/null || die "taskset not found (util-linux); or pass --no-pin"
fi
export GOPROXY=off GOTOOLCHAIN=local
export GOCACHE="${GOCACHE:-$work/go-cache}"

old_sha="$(git rev-parse --verify "$old_rev^{commit}")" || die "unknown revision '$old_rev'"
new_sha="$(git rev-parse --verify "$new_rev^{commit}")" || die "unknown revision '$new_rev'"

# --- trees and builds ----------------------------------------------------

# export SIDE SHA: the tree of SHA in $work/SIDE, re-exported only when SHA
# changed (an export gives every file a new mtime, so cargo rebuilds).
export_tree() {
    local side="$1" sha="$2" dir="$work/$1"
    if [[ "$(cat "$dir.rev" 2>/dev/null)" != "$sha" ]]; then
        log "$side: exporting ${sha:0:12} into $dir"
        rm -rf "$dir"
        mkdir -p "$dir"
        git archive --format=tar "$sha" | tar -x -m -C "$dir"
        echo "$sha" >"$dir.rev"
    fi
}
export_tree old "$old_sha"
export_tree new "$new_sha"
# The same bench sources on both sides; copied only when they differ, so an
# unchanged tree is not rebuilt.
mkdir -p "$work/old/runtime/benches/common"
for f in runtime/benches/channels.rs runtime/benches/select.rs runtime/benches/common/workloads.rs; do
    cmp -s "$work/new/$f" "$work/old/$f" || cp "$work/new/$f" "$work/old/$f"
done

# build SIDE: builds SIDE's channels and select benches, copies them to
# $work/bin-SIDE.
build() {
    local side="$1" artifacts exe name
    log "$side: building the benches (target dir $work/target-$side)"
    artifacts="$(cd "$work/$side" && CARGO_TARGET_DIR="$work/target-$side" \
        cargo bench -p goscope --no-run --bench channels --bench select \
        --message-format=json-render-diagnostics)" ||
        die "building the $side benches failed"
    mkdir -p "$work/bin-$side"
    for name in channels select; do
        exe="$(echo "$artifacts" | grep '"reason":"compiler-artifact"' |
            grep '"kind":\["bench"\]' | grep "\"name\":\"$name\"" |
            sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -n 1)"
        [[ -n "$exe" && -x "$exe" ]] || die "cannot find the $side executable of bench '$name'"
        cp "$exe" "$work/bin-$side/$name"
    done
}
build old
build new
log "building the Go benchmarks ($(go version))"
(cd "$work/new/bench/go" && go test -c -o "$work/goscopebench.test" . >&2) ||
    die "building bench/go failed"

# --- measuring -----------------------------------------------------------

# group | bench | twin | pinned | Go benchmark | label
workloads=(
    "pingpong_unbuffered|channels|crossbeam|no|PingPongUnbuffered|unbuffered ping-pong, per round trip"
    "pingpong_cap1|channels|crossbeam|no|PingPongCap1|cap-1 ping-pong, per round trip"
    "select_2way_unbuffered|select|crossbeam|no|Select2WayUnbuffered|2 producers on unbuffered channels, 2-way select, per select"
    "prime_sieve_300|channels|crossbeam|no|PrimeSieve300|prime sieve, first 300 primes (300 goroutines), per sieve"
    "buffered_1p1c_cap1024|channels|crossbeam|yes|Buffered1P1CCap1024|buffered 1P/1C, cap 1024, per item"
    "buffered_4p4c_cap1024|channels|crossbeam|yes|Buffered4P4CCap1024|buffered 4P/4C, cap 1024, per item"
    "worker_pool_100k_5w|channels|crossbeam|yes|WorkerPool100k5W|worker pool, 100k jobs, 5 workers, per job"
    "select_2way_buffered|select|crossbeam|yes|Select2WayBuffered|2-way select, buffered, per select"
)
selected() {
    [[ -z "$only" || "$1" =~ $only ]]
}

results="$work/results.txt"
: >"$results"
# record KEY VALUE: one measurement (the best is taken at the end).
record() {
    echo "$1 $2" >>"$results"
}
# best KEY: the lowest value recorded for KEY.
best() {
    awk -v k="$1" '$1 == k { if (!seen || $2 < m) m = $2; seen = 1 } END { if (seen) print m }' "$results"
}

# median_of SIDE GROUP FN: criterion's median estimate, ns.
median_of() {
    local file="$work/criterion-$1/$2/$3/new/estimates.json" v
    [[ -f "$file" ]] || die "no criterion estimate for $1 $2/$3"
    v="$(sed -n 's/.*"median":{"confidence_interval":{[^}]*},"point_estimate":\([^,}]*\).*/\1/p' "$file")"
    [[ -n "$v" ]] || die "cannot read the median from $file"
    echo "$v"
}

# run_side SIDE GROUP BENCH TWIN PIN: one criterion run of GROUP.
run_side() {
    local side="$1" group="$2" bench="$3" twin="$4" pin_it="$5" logf v
    local cmd=("$work/bin-$side/$bench" --bench "${criterion_args[@]}" "^$group/")
    [[ "$pin_it" == yes ]] && cmd=(taskset -c 1 "${cmd[@]}")
    logf="$work/log-$side-$group.txt"
    rm -f "$work/criterion-$side/$group"/*/new/estimates.json
    log "  $side: $group"
    CRITERION_HOME="$work/criterion-$side" "${cmd[@]}" >"$logf" 2>&1 ||
        die "$side $group failed: $(tail -n 20 "$logf")"
    record "$side.$group.goscope" "$(median_of "$side" "$group" goscope)"
    record "twin.$group" "$(median_of "$side" "$group" "$twin")"
    if [[ "$group" == prime_sieve_300 ]]; then
        for fn in goscope "$twin"; do
            v="$(sed -n "s|^RESULT cpu $group/$fn ns_per_iter=\\([0-9]*\\).*|\\1|p" "$logf")"
            [[ -n "$v" ]] || die "no RESULT cpu line for $side $group/$fn"
            if [[ "$fn" == goscope ]]; then
                record "$side.$group.cpu" "$v"
            else
                record "twin.$group.cpu" "$v"
            fi
        done
    fi
}

# run_go NAME GROUP PIN: one Go run.
run_go() {
    local name="$1" group="$2" pin_it="$3" output v
    local cmd=("$work/goscopebench.test" -test.run '^$' -test.bench "^Benchmark$name\$"
        -test.benchtime "$go_benchtime" -test.count 1)
    [[ "$pin_it" == yes ]] && cmd=(taskset -c 1 "${cmd[@]}")
    log "  go: $name"
    output="$(cd "$work/new/bench/go" && "${cmd[@]}")" || die "Go $name failed: $output"
    for unit in ns/op cpu-ns/op; do
        v="$(echo "$output" | awk -v u="$unit" '$1 ~ /^Benchmark/ { for (i = 2; i <= NF; i++) if ($i == u) print $(i-1) }')"
        [[ -n "$v" ]] || continue
        if [[ "$unit" == ns/op ]]; then record "go.$group" "$v"; else record "go.$group.cpu" "$v"; fi
    done
}

for ((r = 1; r <= runs; r++)); do
    log "run $r of $runs"
    if ((r % 2)); then sides=(old new); else sides=(new old); fi
    for w in "${workloads[@]}"; do
        IFS='|' read -r group bench twin pinned go_name label <<<"$w"
        selected "$group" || continue
        $pin || pinned=no
        for side in "${sides[@]}"; do
            run_side "$side" "$group" "$bench" "$twin" "$pinned"
        done
        run_go "$go_name" "$group" "$pinned"
    done
done

# --- the table -----------------------------------------------------------

# check LABEL VALUE LIMIT: a done-when line.
checks=()
check() {
    local verdict
    verdict="$(awk -v v="$2" -v l="$3" 'BEGIN { if (v == "") print "not measured"; else if (v <= l) print "met"; else print "NOT met" }')"
    checks+=("| $1 | $(awk -v v="$2" 'BEGIN { if (v == "") print "n/a"; else printf "%.2f×", v }') | ≤ $3× | $verdict |")
}
quotient() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (a != "" && b > 0) printf "%.4f", a / b }'
}

model="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
echo "Machine: $(nproc) cores, ${model:-unknown CPU}; $(rustc --version); $(go version | sed 's/^go version //'); $(date -u +%Y-%m-%d)."
echo "Old: ${old_sha:0:12} ($old_rev); new: ${new_sha:0:12} ($new_rev). Best of $runs interleaved runs$($quick && echo ' (--quick: short, noisy)')."
if $pin; then
    echo "Regression rows (the last four) pinned with \`taskset -c 1\`; hand-off rows on both cores."
fi
echo
echo "| workload | old main | new | raw crossbeam/std | Go | new/old | new/raw | old/Go | new/Go |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for w in "${workloads[@]}"; do
    IFS='|' read -r group bench twin pinned go_name label <<<"$w"
    selected "$group" || continue
    for suffix in "" .cpu; do
        [[ -z "$suffix" || "$group" == prime_sieve_300 ]] || continue
        o="$(best "old.$group${suffix:-.goscope}")"
        n="$(best "new.$group${suffix:-.goscope}")"
        t="$(best "twin.$group$suffix")"
        g="$(best "go.$group$suffix")"
        if [[ "$group" == worker_pool_100k_5w ]]; then
            # Per iteration -> per job.
            o="$(awk -v v="$o" 'BEGIN { print v / 100000 }')"
            n="$(awk -v v="$n" 'BEGIN { print v / 100000 }')"
            t="$(awk -v v="$t" 'BEGIN { print v / 100000 }')"
            g="$(awk -v v="$g" 'BEGIN { print v / 100000 }')"
        fi
        l="$label"
        [[ -n "$suffix" ]] && l="prime sieve, CPU time (user + sys) per sieve"
        echo "| $l | $(fmt_ns "$o") | $(fmt_ns "$n") | $(fmt_ns "$t") | $(fmt_ns "$g") | $(ratio "$n" "$o") | $(ratio "$n" "$t") | $(ratio "$o" "$g") | $(ratio "$n" "$g") |"
        case "$group$suffix" in
        pingpong_unbuffered) check "unbuffered ping-pong, new/Go (goal ≤ 1.5×)" "$(quotient "$n" "$g")" 3 ;;
        select_2way_unbuffered) check "2-way select over unbuffered channels, new/Go" "$(quotient "$n" "$g")" 3 ;;
        pingpong_cap1) check "cap-1 ping-pong, new/Go" "$(quotient "$n" "$g")" 2 ;;
        prime_sieve_300) check "prime sieve, new/raw" "$(quotient "$n" "$t")" 1.1 ;;
        prime_sieve_300.cpu) check "prime sieve CPU time, new/old" "$(quotient "$n" "$o")" 1 ;;
        buffered_* | worker_pool_* | select_2way_buffered) check "$label, new/old" "$(quotient "$n" "$o")" 1.05 ;;
        esac
    done
done
echo
echo "| issue 18's goal | measured | limit | |"
echo "| --- | ---: | ---: | --- |"
printf '%s\n' "${checks[@]}"
echo
echo "Raw measurements: $results; criterion logs: $work/log-*.txt."
