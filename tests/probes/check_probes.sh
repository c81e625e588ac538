#!/usr/bin/env bash
# The probes in a built binary's .note.stapsdt are exactly provider.d's:
# none missing, none extra, each at least once, every site of each with as
# many arguments as provider.d declares (six, for every provider so far).
# With --none, the binary must carry no probe at all (the -Dprobes=false
# build).
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
[ "$nwant" -ge 30 ] || { echo "FAIL: only $nwant probes parsed from $provider"; exit 1; }
# Arguments: "provider:probe N", from the declarations and from every site.
want_args=$(sed 's,/\*.*\*/,,g' "$provider" | awk '
	/^[ \t]*provider[ \t]+[a-z0-9_]+/ { p = $2 }
	/^[ \t]*probe[ \t]+/ {
		name = $0; sub(/^[ \t]*probe[ \t]+/, "", name); sub(/\(.*/, "", name)
		args = $0; sub(/^[^(]*\(/, "", args); sub(/\).*/, "", args)
		print p ":" name, (args ~ /[^ \t]/ ? split(args, a, ",") : 0)
	}' | sort -u)
have_args=$(readelf -n "$bin" | awk '
	/Provider:/ { p = $2 }
	/Name:/ { n = $2 }
	/Arguments:/ && p != "" { print p ":" n, NF - 1; p = "" }
' | sort -u)
if [ "$want_args" != "$have_args" ]; then
	echo "FAIL: probe sites with another count of arguments than provider.d declares (< declared, > found):"
	diff <(echo "$want_args") <(echo "$have_args") || true
	exit 1
fi
for p in tcp udp; do
	n=$(echo "$want_args" | grep -c "^$p:" || true)
	[ "$n" -gt 0 ] || { echo "FAIL: no $p probe in $provider"; exit 1; }
done
# bpftrace, the consumer, must list the same set.
if command -v bpftrace >/dev/null; then
	listed=$(bpftrace -l "usdt:$bin:*" 2>/dev/null | awk -F: '{print $3 ":" $4}' | sort -u)
	if [ "$listed" != "$want" ]; then
		echo "FAIL: bpftrace -l lists a different set:"; diff <(echo "$want") <(echo "$listed") || true; exit 1
	fi
fi
echo "ok: $bin carries the $nwant probes of provider.d, each site with its arguments ($(echo "$want_args" | awk '{ print $2 }' | sort -u | paste -sd ' ')) (readelf -n and bpftrace -l agree)"
