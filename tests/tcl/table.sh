#!/usr/bin/env bash
# Prints the README's whole-suite table (markdown) from RESULTS files of
# tests/tcl/run.sh all:
#
#   tests/tcl/table.sh sessiond.tsv redis.tsv [before.tsv]
#
# Units that ran no test on either server (external:skip) are left out;
# "not run" is what redis-server ran minus what sessiond ran.
set -eu
now=$1 base=$2 before=${3:-/dev/null}
awk -v before="$before" '
FNR == 1 { file++ }
file == 1 { bp[$1] = $2; bf[$1] = $3 + 0; next }
file == 2 { wok[$1] = $2; werr[$1] = $3; was[$1] = 1; next }
{
	units[++n] = $1; ok[$1] = $2; err[$1] = $3; st[$1] = $5
}
END {
	print "| unit | sessiond passed | failed | not run | redis-server 7.0.15 passed | sessiond before (passed/failed/not run) |"
	print "|---|---|---|---|---|---|"
	for (i = 1; i <= n; i++) {
		u = units[i]
		if (ok[u] + err[u] == 0 && bp[u] + bf[u] == 0) continue
		nr = bp[u] + bf[u] - ok[u] - err[u]
		if (nr < 0) nr = 0
		name = u; sub(/^unit\//, "", name)
		if (st[u] != "done") name = name " (" st[u] ")"
		w = "-"
		if (u in was) {
			wnr = bp[u] + bf[u] - wok[u] - werr[u]
			w = wok[u] "/" werr[u] "/" (wnr < 0 ? 0 : wnr)
		}
		printf "| %s | %d | %d | %d | %d | %s |\n", name, ok[u], err[u], nr, bp[u], w
		T += ok[u]; F += err[u]; N += nr; B += bp[u]
	}
	printf "| **total** | **%d** | **%d** | **%d** | **%d** | |\n", T, F, N, B
}' "$base" "$before" "$now"
