#!/bin/sh
# bench/run.sh runs the benchmarks of package bench COUNT times (6 by
# default), then prints benchstat's summary of every metric and a table of
# the ratios against their targets (medians over the runs), in Markdown, as
# docs/PERFORMANCE.md shows them.
#
#	bench/run.sh                  # everything, about 6 minutes
#	COUNT=10 bench/run.sh         # more runs
#	BENCH='CRLLoad' bench/run.sh  # one group (a regular expression)
#	bench/run.sh old.txt          # summarise saved output, run nothing
#
# The raw output is kept in $OUT (default: a file in $TMPDIR), for
# benchstat comparisons: benchstat before.txt after.txt.
#
# The machine should be as quiet as it can be: the benchmarks compare
# variants within each run, but a busy machine widens every spread.
set -eu

cd "$(dirname "$0")/.."
COUNT=${COUNT:-6}
BENCH=${BENCH:-.}
OUT=${OUT:-${TMPDIR:-/tmp}/tlsclient-bench-$(date +%Y%m%d-%H%M%S).txt}
# benchstat, pinned (golang.org/x/perf has no releases).
BENCHSTAT=${BENCHSTAT:-go run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da}

# Each group with an iteration count that fits it: the handshakes are cheap,
# a cold dial waits 50ms, loading a million-entry CRL with crypto/x509 takes
# half a second.
run() { # regexp benchtime
	if echo "$1" | grep -Eq -- "$BENCH"; then
		go test ./bench -run '^$' -bench "$1" -benchtime "$2" -count "$COUNT" -timeout 60m | tee -a "$OUT"
	fi
}

if [ $# -gt 0 ]; then
	OUT=$1
else
	: >"$OUT"
	{
		echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $(go version)"
		echo "# $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | sed 's/.*: //'), $(nproc) CPUs; load before: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
	} | tee -a "$OUT"
	run '^Benchmark(Handshake|Resumed)$' 2000x
	run '^BenchmarkColdChain$' 20x
	run '^BenchmarkConcurrentColdDials$' 10x
	run '^BenchmarkCRLLoad$' 5x
	run '^BenchmarkSCTVerify$' 2000x
	run '^BenchmarkWarmVerify$' 1s
	echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)" | tee -a "$OUT"
	echo "raw results: $OUT"
fi

echo
echo "## benchstat"
echo
$BENCHSTAT "$OUT"

echo
echo "## Ratios (medians over the runs)"
echo
# The allocation budgets, as TestAllocBudgets enforces them.
budgets=$(sed -n 's/^	"\([a-z/]*\)": *\([0-9]*\),.*/\1=\2/p' bench/verify_test.go | tr '\n' ' ')
awk -v budgets="$budgets" '
# Each benchmark line: name, iterations, then value/unit pairs.
/^Benchmark/ {
	name = $1
	sub(/^Benchmark/, "", name)
	sub(/-[0-9]+$/, "", name)
	if (!(name in seen)) { seen[name] = 1; order[++nnames] = name }
	for (i = 3; i < NF; i += 2) {
		key = name SUBSEP $(i + 1)
		n[key]++
		v[key, n[key]] = $i
	}
}
function med(name, unit,    key, k, i, j, t, a) {
	key = name SUBSEP unit
	k = n[key]
	if (k == 0) return ""
	for (i = 1; i <= k; i++) a[i] = v[key, i]
	for (i = 2; i <= k; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
	return (k % 2) ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
}
function mx(name, unit,    key, i, m) {
	key = name SUBSEP unit
	m = ""
	for (i = 1; i <= n[key]; i++) if (m == "" || v[key, i] > m) m = v[key, i]
	return m
}
function fmtv(x, f) { return x == "" ? "-" : sprintf(f, x) }
function row(what, measured, baseline, ratio, target, ok) {
	printf "| %s | %s | %s | %s | %s | %s |\n", what, measured, baseline, ratio, target, ok
}
function verdict(x, ok) { return x == "" ? "-" : (ok ? "met" : "**not met**") }
END {
	print "| Benchmark | Measured | Baseline | Ratio | Target | |"
	print "|---|---|---|---|---|---|"
	for (s = 1; s <= 2; s++) {
		b = s == 1 ? "Handshake" : "Resumed"
		for (vi = 1; vi <= 4; vi++) {
			split("tlsclient revocation ct all", vs, " ")
			name = b "/" vs[vi]
			o = med(name, "overhead-%")
			if (o == "") continue
			t = vs[vi] == "all" ? "≤ +3%" : ""
			row(sprintf("%s, %s (warm)", s == 1 ? "full handshake" : "resumed handshake", vs[vi] == "tlsclient" ? "tlsclient defaults" : vs[vi] == "all" ? "everything" : vs[vi]),
				fmtv(med(name, "ns/hs") / 1000, "%.0f µs") ", " fmtv(med(name, "allocs/hs"), "%.0f") " allocs",
				fmtv(med(name, "plain-ns/hs") / 1000, "%.0f µs") " (crypto/tls)",
				fmtv(o, "%+.1f%%") ", " fmtv(med(name, "extra-allocs/hs"), "%+.0f") " allocs",
				t, t == "" ? "" : verdict(o, o <= 3))
		}
	}
	d = med("ColdChain", "delays/dial")
	if (d != "")
		row("cold dial, 3 certificates, responder delay 50 ms", fmtv(med("ColdChain", "ns/dial") / 1e6, "%.1f ms"),
			fmtv(med("ColdChain", "plain-ns/dial") / 1e6, "%.1f ms") " (crypto/tls)", fmtv(d, "%.2f delays"), "≈ 1 delay, not 3", verdict(d, d < 1.5))
	f = mx("ConcurrentColdDials", "max-fetches/URL")
	if (f != "")
		row("64 concurrent cold dials, one Dialer", fmtv(med("ConcurrentColdDials", "ns/batch") / 1e6, "%.0f ms") " per batch",
			fmtv(med("ConcurrentColdDials", "plain-ns/batch") / 1e6, "%.0f ms") " (crypto/tls)",
			fmtv(f, "%.0f fetch/URL") " (worst run), " fmtv(med("ConcurrentColdDials", "batch/plain"), "%.2fx time"), "1 fetch per URL", verdict(f, f == 1))
	split("10000 100000 1000000", sizes, " ")
	for (si = 1; si <= 3; si++) {
		name = "CRLLoad/entries=" sizes[si]
		sp = med(name, "speedup")
		if (sp == "") continue
		big = sizes[si] == 1000000
		row(sprintf("load a %s-entry CRL (signature checked)", sizes[si] == 1000000 ? "1M" : sizes[si] / 1000 "k"),
			fmtv(med(name, "load-ns") / 1e6, "%.1f ms"), fmtv(med(name, "x509-ns") / 1e6, "%.0f ms") " (x509.ParseRevocationList)",
			fmtv(sp, "%.1fx") " (" fmtv(med(name, "speedup-verified"), "%.1fx") " with its signature check)",
			big ? "≥ 20x at 1M" : "", big ? verdict(sp, sp >= 20) : "")
		be = med(name, "B/entry")
		row(sprintf("  bytes kept per entry, %s", sizes[si] == 1000000 ? "1M" : sizes[si] / 1000 "k"), fmtv(be, "%.1f B"),
			fmtv(med(name, "x509-B/entry"), "%.0f B") " (x509)", fmtv(med(name, "x509-B/entry") / be, "%.1fx less"), "≤ 48 B", verdict(be, be <= 48))
		l = med(name, "lookup-vs-10k")
		row(sprintf("  lookup, %s", sizes[si] == 1000000 ? "1M" : sizes[si] / 1000 "k"), fmtv(med(name, "lookup-ns"), "%.0f ns"),
			l == "" ? "" : "same lookup in a 10k CRL", l == "" ? "" : fmtv(l, "%.2fx"), big ? "O(1)" : "", big ? "met: 1 hash, ~1 comparison" : "")
	}
	w = med("SCTVerify", "warm-%-of-hs")
	if (w != "") {
		row("SCT verification per handshake, warm (3 SCTs)", fmtv(med("SCTVerify", "warm-ns") / 1000, "%.1f µs"),
			fmtv(med("SCTVerify", "plain-ns/hs") / 1000, "%.0f µs") " (full handshake)", fmtv(w, "%.2f%%") " of a handshake", "", "")
		row("SCT verification per handshake, cold (3 SCTs)", fmtv(med("SCTVerify", "cold-ns") / 1000, "%.0f µs"),
			fmtv(med("SCTVerify", "plain-ns/hs") / 1000, "%.0f µs") " (full handshake)",
			fmtv(med("SCTVerify", "cold-%-of-hs"), "%.1f%%") " of a handshake, " fmtv(med("SCTVerify", "cold/warm"), "%.0fx") " warm", "", "")
	}
	nb = split(budgets, bl, " ")
	for (bi = 1; bi <= nb; bi++) { split(bl[bi], kv, "="); budget[kv[1]] = kv[2] }
	split("revocation ct engine/defaults engine/all", hp, " ")
	for (hi = 1; hi <= 4; hi++) {
		name = "WarmVerify/" hp[hi]
		a = med(name, "allocs/op")
		if (a == "") continue
		bud = budget[hp[hi]]
		row("warm verify path: " hp[hi], fmtv(med(name, "ns/op") / 1000, "%.1f µs") ", " fmtv(a, "%.0f") " allocs, " fmtv(med(name, "B/op"), "%.0f") " B",
			"", "", bud == "" ? "" : "budget " bud " allocs", bud == "" ? "" : verdict(a, a <= bud + 0))
	}
}' "$OUT"
