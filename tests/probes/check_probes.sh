#!/usr/bin/env bash
# The probes in a built binary's .note.stapsdt are exactly provider.d's:
# none missing, none extra, each at least once.  With --none, the binary must
# carry no probe at all (the -Dprobes=false build).
#   check_probes.sh BINARY provider.d [--none]
set -euo pipefail
bin=$1 provider=$2 mode=${3:-}
want=$(sed 's,/\*.*\*/,,g' "$provider" | awk '
	/^[ \t]*provider[ \t]+[a-z0-9_]+/ { p = $2 }
	/^[ \t]*probe[ \t]+/ { sub(/^[ \t]*probe[ \t]+/, ""); sub(/\(.*/, ""); print p ":" $0 }
' | sort -u)
have=$(readelf -n "$bin" | awk '
	/Provider:/ { p = $2 }
	/Name:/ && p != "" { print p ":" $2; p = "" }
' | sort -u)
if [ "$mode" = --none ]; then
	if [ -n "$have" ]; then
		echo "FAIL: $bin has probes although built with probes off:"; echo "$have"; exit 1
	fi
	echo "ok: $bin has no probes (probes compiled out)"
	exit 0
fi
nwant=$(echo "$want" | grep -c .)
missing=$(comm -23 <(echo "$want") <(echo "$have"))
extra=$(comm -13 <(echo "$want") <(echo "$have"))
[ -z "$missing" ] || { echo "FAIL: declared in provider.d but not in $bin:"; echo "$missing"; exit 1; }
[ -z "$extra" ] || { echo "FAIL: in $bin but not declared in provider.d:"; echo "$extra"; exit 1; }
[ "$nwant" -ge 20 ] || { echo "FAIL: only $nwant probes parsed from $provider"; exit 1; }
# bpftrace, the consumer, must list the same set.
if command -v bpftrace >/dev/null; then
	listed=$(bpftrace -l "usdt:$bin:*" 2>/dev/null | awk -F: '{print $3 ":" $4}' | sort -u)
	if [ "$listed" != "$want" ]; then
		echo "FAIL: bpftrace -l lists a different set:"; diff <(echo "$want") <(echo "$listed") || true; exit 1
	fi
fi
echo "ok: $bin carries the $nwant probes of provider.d (readelf -n and bpftrace -l agree)"
