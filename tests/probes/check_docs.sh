#!/usr/bin/env bash
# docs/probes.md keeps up with the code: each probe of provider.d has a row
# in its provider's table ("### Provider `ipv4`"), named in DTrace's
# spelling and, when it has "__", bpftrace's too: | `drop-in` (`drop__in`) |;
# each member of each struct of the user headers (probes/ip_provider.h,
# probes/tcp_provider.h) a row in its struct's table ("### `struct
# pktinfo_t` ..."): | `pkt_len` |; each reason of
# stack/core/drop.h a row in "## Drop reasons" with its direction and the
# probe it fires (drop-in or drop-out for DROP_IP, none for DROP_LINK):
# | `no-route` | out | drop-out |.  A row for something the code no longer
# has fails too.
#   check_docs.sh provider.d drop.h probes.md HEADER...
set -euo pipefail
provider=$1 drops=$2 doc=$3
shift 3
headers=("$@")
[ ${#headers[@]} -gt 0 ] || { echo "usage: check_docs.sh provider.d drop.h probes.md HEADER..."; exit 2; }
bad=0

# first_cells HEADING [N]: the first N (default 1) cells of the table rows
# under the heading line HEADING, up to the next heading, one row a line,
# cells joined by " | " ("#" in a code block is no heading).
first_cells()
{
	awk -v h="$1" -v n="${2:-1}" '
		/^```/ { fence = !fence; next }
		fence { next }
		/^#/ { on = ($0 == h); next }
		on && /^\| *`/ {
			split($0, c, "|")
			row = ""
			for (i = 2; i <= n + 1; i++) {
				gsub(/^ +| +$/, "", c[i])
				row = row (i > 2 ? " | " : "") c[i]
			}
			print row
		}' "$doc" | sort
}

# compare WHAT WANT HAVE HOW: WANT and HAVE, sorted lists, are the same;
# HOW says where a missing row goes.
compare()
{
	local missing extra
	missing=$(comm -23 <(echo "$2") <(echo "$3"))
	extra=$(comm -13 <(echo "$2") <(echo "$3"))
	if [ -n "$missing" ]; then
		echo "FAIL: $doc lacks the rows of $1 ($4):"
		echo "$missing" | sed 's/^/    | /; s/$/ |/'
		bad=1
	fi
	if [ -n "$extra" ]; then
		echo "FAIL: $doc has rows of $1 that the code no longer has:"
		echo "$extra" | sed 's/^/    | /; s/$/ |/'
		bad=1
	fi
}

# Probes, by provider.
probes=$(sed 's,/\*.*\*/,,g' "$provider" | awk '
	/^[ \t]*provider[ \t]+[a-z0-9_]+/ { p = $2 }
	/^[ \t]*probe[ \t]+/ { sub(/^[ \t]*probe[ \t]+/, ""); sub(/\(.*/, ""); print p, $0 }')
[ "$(echo "$probes" | grep -c .)" -ge 20 ] || { echo "FAIL: few probes read from $provider"; exit 1; }
for p in $(echo "$probes" | awk '{ print $1 }' | sort -u); do
	want=$(echo "$probes" | awk -v p="$p" '$1 == p {
		d = $2; gsub(/__/, "-", d)
		print "`" d "`" (d != $2 ? " (`" $2 "`)" : "") }' | sort)
	compare "provider $p" "$want" "$(first_cells "### Provider \`$p\`")" \
		"under '### Provider \`$p\`': | \`probe\` (\`probe__bpftrace\`) | arguments | fires when |"
done

# Struct members, by struct.
members=$(awk '
	/^struct [a-z0-9_]+ \{/ { s = $2; next }
	s && /^\};/ { s = ""; next }
	s {
		l = $0
		sub(/\/\*.*/, "", l)
		if (l !~ /;/) next
		sub(/;.*/, "", l)
		sub(/\[.*\]/, "", l)
		n = split(l, w, /[ \t*]+/)
		print s, w[n]
	}' "${headers[@]}")
if [ "$(echo "$members" | awk '{ print $1 }' | sort -u | grep -c .)" -lt 6 ] ||
	[ "$(echo "$members" | grep -c .)" -lt 40 ]; then
	echo "FAIL: few structs or members read from ${headers[*]}"
	exit 1
fi
for s in $(echo "$members" | awk '{ print $1 }' | sort -u); do
	heading=$(grep -m1 "^### \`struct $s\`" "$doc" || true)
	if [ -z "$heading" ]; then
		echo "FAIL: $doc has no section '### \`struct $s\`' for the struct of ${headers[*]}"
		bad=1
		continue
	fi
	want=$(echo "$members" | awk -v s="$s" '$1 == s { print "`" $2 "`" }' | sort)
	compare "struct $s" "$want" "$(first_cells "$heading")" \
		"under '$heading': | \`member\` | type | meaning |"
done

# Drop reasons: text, direction, probe.
reasons=$(sed -n 's/.*X(DROP_[A-Z0-9_]*, *"\([^"]*\)", *DROP_DIR_\([A-Z]*\), *DROP_\([A-Z]*\)).*/\1 \2 \3/p' "$drops" |
	awk '{ d = tolower($2); print "`" $1 "` | " d " | " ($3 == "IP" ? "drop-" d : "none") }' | sort)
[ "$(echo "$reasons" | grep -c .)" -ge 60 ] || { echo "FAIL: few drop reasons read from $drops"; exit 1; }
have=$(first_cells "## Drop reasons" 3 | sed 's/ | none .*$/ | none/')
compare "drop reasons" "$reasons" "$have" \
	"under '## Drop reasons': | \`reason\` | in or out | drop-in, drop-out or none (link) | what causes it |"

[ $bad = 0 ] || exit 1
echo "ok: $doc documents the $(echo "$probes" | grep -c .) probes of $provider, the $(echo "$members" | grep -c .) struct members of ${headers[*]##*/} and the $(echo "$reasons" | grep -c .) drop reasons of $drops"
