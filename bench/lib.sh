# Helpers shared by bench/compare.sh and bench/handoff.sh (sourced).

# fmt_ns NS: a duration with a readable unit; "n/a" when not measured.
fmt_ns() {
    [[ -n "$1" ]] || {
        echo "n/a"
        return
    }
    awk -v t="$1" 'BEGIN {
        if (t < 1e3) printf "%.1f ns", t
        else if (t < 1e6) printf "%.2f µs", t / 1e3
        else printf "%.2f ms", t / 1e6 }'
}

# ratio A B: A / B to two decimals, with a ×; "n/a" when either is missing.
ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (a != "" && b > 0) printf "%.2f×", a / b; else print "n/a" }'
}
