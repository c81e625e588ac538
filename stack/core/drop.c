/*
 * drop.c: the one place packets are discarded (see drop.h).
 */
#include <rte_mbuf.h>

#include "probes.h"
#include "stack.h"

static const struct {
	const char *name;
	enum drop_dir dir;
	enum drop_layer layer;
} drop_reasons[DROP_REASON_MAX] = {
#define X(e, s, d, l) [e] = { s, d, l },
	SONDE_DROP_REASONS(X)
#undef X
};

const char *
drop_reason_str(enum drop_reason r)
{
	return r > DROP_NONE && r < DROP_REASON_MAX ? drop_reasons[r].name : "unknown";
}

enum drop_dir
drop_reason_dir(enum drop_reason r)
{
	return drop_reasons[r].dir;
}

void
pkt_drop(struct sonde_stack *st, struct rte_mbuf *m, enum drop_reason r)
{
	st->stats.drops[r]++;
	if (unlikely(probe_gate(st)) && drop_reasons[r].layer == DROP_IP) {
		const struct pkt_meta *pm = pkt_meta_c(m);
		int fam = pm->af == 6 ? 6 : 4;
		const struct sonde_if *ifp = stack_if(st, pm->ifindex);

		if (drop_reasons[r].dir == DROP_DIR_IN) {
			if (unlikely(PROBE_DROP_IN_ON()))
				probe_fire(st, PROBE_DROP_IN, m, ifp, fam, drop_reasons[r].name);
		} else if (unlikely(PROBE_DROP_OUT_ON())) {
			probe_fire(st, PROBE_DROP_OUT, m, ifp, fam, drop_reasons[r].name);
		}
	}
	rte_pktmbuf_free(m);
}
