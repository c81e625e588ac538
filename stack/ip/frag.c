/*
 * frag.c: IPv4 and IPv6 fragmentation on output, with DPDK's rte_ip_frag
 * (reassembly is reass.c's).
 *
 * Fragmentation (RFC 791 2.3, RFC 8200 4.5 at the source only): the
 * rte_ipv4/ipv6_fragment_packet() helpers, with an indirect mbuf pool so
 * fragments reference the original's data instead of copying it.
 */
#include <errno.h>
#include <string.h>

#include <rte_ip.h>
#include <rte_ip_frag.h>
#include <rte_mbuf.h>

#include "ip.h"
#include "stack.h"

#define FRAG_MAX_OUT 64 /* fragments of one packet: 64 KiB at MTU 1280 */
#define FRAG_INDIRECT_MBUFS 2047

static int
frag_init(struct sonde_stack *st, const struct sonde_conf *conf)
{
	char name[RTE_MEMPOOL_NAMESIZE];

	(void)conf;
	snprintf(name, sizeof(name), "sind%u_%x", st->id, (unsigned)(uintptr_t)st);
	st->frag.indirect =
		rte_pktmbuf_pool_create(name, FRAG_INDIRECT_MBUFS, 32, 0, 0, (int)rte_socket_id());
	return st->frag.indirect == NULL ? -ENOMEM : 0;
}

static void
frag_fini(struct sonde_stack *st)
{
	rte_mempool_free(st->frag.indirect);
}

/* Sends each fragment of out[0..n) like a whole packet: send fires per
 * fragment, on the wire. */
static void
frag_send(struct sonde_stack *st, struct sonde_if *ifp, struct rte_mbuf **out, int n,
	  const void *nh, int af, void *conn)
{
	for (int i = 0; i < n; i++) {
		pkt_meta_init(out[i], ifp->index, (uint8_t)af);
		pkt_meta(out[i])->conn = conn;
		out[i]->ol_flags &= RTE_MBUF_F_EXTERNAL;
		if (af == 4)
			ipv4_send_nh(st, ifp, out[i], *(const uint32_t *)nh);
		else
			ipv6_send_nh(st, ifp, out[i], nh);
	}
	st->stats.frag_out += (uint64_t)n;
	st->stats.frag_fragmented++;
}

int
frag4_output(struct sonde_stack *st, struct sonde_if *ifp, struct rte_mbuf *m, uint32_t nh)
{
	struct rte_mbuf *out[FRAG_MAX_OUT];
	void *conn;
	uint8_t *h;
	int n;

	n = rte_ipv4_fragment_packet(m, out, FRAG_MAX_OUT, ifp->mtu, st->pool, st->frag.indirect);
	if (n < 0) {
		pkt_drop(st, m, DROP_FRAG_FAILED);
		return n;
	}
	conn = pkt_meta(m)->conn;
	rte_pktmbuf_free(m); /* the fragments hold their own references */
	for (int i = 0; i < n; i++) {
		h = rte_pktmbuf_mtod(out[i], uint8_t *);
		wire_put16(h + 10, 0);
		wire_put16(h + 10, wire_cksum(h, (size_t)(h[0] & 0xf) * 4));
	}
	frag_send(st, ifp, out, n, &nh, 4, conn);
	return 0;
}

int
frag6_output(struct sonde_stack *st, struct sonde_if *ifp, struct rte_mbuf *m, const uint8_t *nh,
	     uint32_t mtu)
{
	struct rte_mbuf *out[FRAG_MAX_OUT];
	uint32_t ident = st->frag6_ident++;
	void *conn;
	int n;

	n = rte_ipv6_fragment_packet(m, out, FRAG_MAX_OUT,
				     (uint16_t)RTE_MIN(mtu, (uint32_t)UINT16_MAX), st->pool,
				     st->frag.indirect);
	if (n < 0) {
		pkt_drop(st, m, DROP_FRAG_FAILED);
		return n;
	}
	conn = pkt_meta(m)->conn;
	rte_pktmbuf_free(m);
	/* RFC 7739: our own identification, not the helper's. */
	for (int i = 0; i < n; i++)
		wire_put32(rte_pktmbuf_mtod(out[i], uint8_t *) + IPV6_HDR_LEN + 4, ident);
	frag_send(st, ifp, out, n, nh, 6, conn);
	return 0;
}

const struct sonde_layer frag_layer = {
	.name = "frag",
	.init = frag_init,
	.fini = frag_fini,
};
