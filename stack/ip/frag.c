/*
 * frag.c: IPv4 and IPv6 fragments, in and out, with DPDK's rte_ip_frag.
 *
 * Reassembly (RFC 791 3.2, RFC 8200 4.5): one rte_ip_frag table for both
 * families, timed in the stack's nanoseconds, capped in fragments held.
 * rte_ip_frag gives back what it discards in a death row; we drain it at
 * once so every discarded fragment goes through pkt_drop() with a reason:
 * expired entries are purged before each insertion (reassembly-timeout), so
 * what the insertion itself discards is an inconsistent datagram: overlap
 * or duplicate (RFC 5722: the whole datagram goes), or too many fragments.
 *
 * Fragmentation (RFC 791 2.3, RFC 8200 4.5 at the source only): the
 * rte_ipv4/ipv6_fragment_packet() helpers, with an indirect mbuf pool so
 * fragments reference the original's data instead of copying it.
 */
#include <string.h>

#include <rte_ip.h>
#include <rte_ip_frag.h>
#include <rte_mbuf.h>

#include "ip.h"
#include "stack.h"

#define FRAG_BUCKETS 256
#define FRAG_BUCKET_ENTRIES 8
#define FRAG_MAX_OUT 64 /* fragments of one packet: 64 KiB at MTU 1280 */
#define FRAG_INDIRECT_MBUFS 2047

static struct rte_mbuf *frag4_input(struct sonde_stack *st, struct rte_mbuf *m, uint32_t off);
static struct rte_mbuf *frag6_input(struct sonde_stack *st, struct rte_mbuf *m, uint32_t off);

static int
frag_init(struct sonde_stack *st, const struct sonde_conf *conf)
{
	struct frag_state *f = &st->frag;
	char name[RTE_MEMPOOL_NAMESIZE];

	f->timeout_ns = (conf->frag_timeout_ms ? conf->frag_timeout_ms : 30000) * 1000000ull;
	f->held_max = conf->frag_max ? conf->frag_max : 1024;
	f->tbl = rte_ip_frag_table_create(FRAG_BUCKETS, FRAG_BUCKET_ENTRIES,
					  FRAG_BUCKETS * FRAG_BUCKET_ENTRIES / 2, f->timeout_ns,
					  (int)rte_socket_id());
	if (f->tbl == NULL)
		return -ENOMEM;
	snprintf(name, sizeof(name), "sind%u_%x", st->id, (unsigned)(uintptr_t)st);
	f->indirect =
		rte_pktmbuf_pool_create(name, FRAG_INDIRECT_MBUFS, 32, 0, 0, (int)rte_socket_id());
	if (f->indirect == NULL)
		return -ENOMEM;
	return proto_reass_register(st, 4, frag4_input) ?: proto_reass_register(st, 6, frag6_input);
}

/* f->held counts mbuf segments, in and out: a fragment is one, but a
 * datagram whose payload starts with another Fragment header goes back in
 * as the chain reassembly made of it, and comes out as part of a bigger
 * one (by nb_segs).  Counted by mbuf going in, the count fell to zero with
 * fragments still held, which the timer then never dropped. */
static void
frag_drain(struct sonde_stack *st, enum drop_reason why)
{
	struct frag_state *f = &st->frag;

	for (uint32_t i = 0; i < f->dr.cnt; i++) {
		f->held -= f->dr.row[i]->nb_segs;
		pkt_drop(st, f->dr.row[i], why);
	}
	f->dr.cnt = 0;
}

static void
frag_fini(struct sonde_stack *st)
{
	struct frag_state *f = &st->frag;

	if (f->tbl) {
		/* Everything still held has, by now, timed out. */
		rte_ip_frag_table_del_expired_entries(f->tbl, &f->dr, UINT64_MAX);
		frag_drain(st, DROP_SHUTDOWN);
		rte_ip_frag_table_destroy(f->tbl);
	}
	rte_mempool_free(f->indirect);
}

static void
frag_timer(struct sonde_stack *st)
{
	struct frag_state *f = &st->frag;

	if (f->held == 0)
		return;
	rte_ip_frag_table_del_expired_entries(f->tbl, &f->dr, st->now);
	frag_drain(st, DROP_REASSEMBLY_TIMEOUT);
}

/* Before a fragment goes in: room for it, and no stale entry in the way. */
static bool
frag_admit(struct sonde_stack *st, struct rte_mbuf *m)
{
	struct frag_state *f = &st->frag;

	st->stats.frag_in++;
	frag_timer(st);
	if (f->held >= f->held_max) {
		pkt_drop(st, m, DROP_REASSEMBLY_FULL);
		return false;
	}
	f->held += m->nb_segs;
	return true;
}

static struct rte_mbuf *
frag_done(struct sonde_stack *st, struct rte_mbuf *r)
{
	frag_drain(st, DROP_FRAG_OVERLAP);
	if (r == NULL)
		return NULL;
	st->frag.held -= r->nb_segs;
	st->stats.frag_reassembled++;
	return r;
}

static struct rte_mbuf *
frag4_input(struct sonde_stack *st, struct rte_mbuf *m, uint32_t unused)
{
	const uint8_t *h = rte_pktmbuf_mtod(m, const uint8_t *);
	uint16_t frag = wire_get16(h + 6);
	uint32_t ihl = (h[0] & 0xfu) * 4, off = (uint32_t)(frag & IPV4_OFFSET_MASK) * 8;
	uint32_t plen = wire_get16(h + 2) - ihl;
	struct rte_mbuf *r;
	uint8_t *rh;

	(void)unused;
	/* RFC 791: all but the last fragment carry a multiple of 8 bytes; no
	 * datagram exceeds 65535 bytes (the "ping of death"). */
	if (((frag & IPV4_FLAG_MF) && (plen & 7)) || plen == 0 || off + plen > 65535u - ihl) {
		pkt_drop(st, m, DROP_FRAG_BAD_LENGTH);
		return NULL;
	}
	/* RFC 1858 3: a TCP header split across fragments is an attack. */
	if (h[9] == IPPROTO_TCP_ && ((off == 0 && plen < 20) || off == 8)) {
		pkt_drop(st, m, DROP_TINY_FRAGMENT);
		return NULL;
	}
	if (!frag_admit(st, m))
		return NULL;
	m->l2_len = 0;
	m->l3_len = ihl;
	r = rte_ipv4_frag_reassemble_packet(st->frag.tbl, &st->frag.dr, m, st->now,
					    rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *));
	r = frag_done(st, r);
	if (r != NULL) {
		/* A whole header again, for the probes and ICMP errors: over its
		 * own length, the first fragment's. */
		rh = rte_pktmbuf_mtod(r, uint8_t *);
		wire_put16(rh + 10, 0);
		wire_put16(rh + 10, wire_cksum(rh, (size_t)(rh[0] & 0xf) * 4));
	}
	return r;
}

static struct rte_mbuf *
frag6_input(struct sonde_stack *st, struct rte_mbuf *m, uint32_t off)
{
	uint8_t *h = rte_pktmbuf_mtod(m, uint8_t *);
	uint32_t plen = wire_get16(h + 4) - (off - IPV6_HDR_LEN) - IPV6_FRAG_HDR_LEN;
	struct frag6_view fv_;
	const struct frag6_view *fv = &fv_;

	wire_frag6_parse(h + off, rte_pktmbuf_data_len(m) - off, &fv_);

	/* rte_ip_frag finds the fragment header right after the fixed header,
	 * where every sender we know puts it (RFC 8200 4.1 allows Hop-by-Hop,
	 * Routing and Destination Options before it). */
	if (off != IPV6_HDR_LEN) {
		pkt_drop(st, m, DROP_FRAG_CHAIN);
		return NULL;
	}
	/* RFC 8200 4.5: M set and a length not a multiple of 8 is a parameter
	 * problem pointing at the payload length; so is a datagram > 65535. */
	if ((fv->more && (plen & 7)) || fv->offset + plen > 65535) {
		icmp6_error(st, m, ICMP6_PARAM_PROB, ICMP6_PARAMPROB_HEADER,
			    fv->more && (plen & 7) ? 4 : off + 2);
		pkt_drop(st, m, DROP_FRAG_BAD_LENGTH);
		return NULL;
	}
	if (!frag_admit(st, m))
		return NULL;
	m->l2_len = 0;
	m->l3_len = off + IPV6_FRAG_HDR_LEN;
	return frag_done(
		st, rte_ipv6_frag_reassemble_packet(st->frag.tbl, &st->frag.dr, m, st->now,
						    (struct rte_ipv6_hdr *)h,
						    (struct rte_ipv6_fragment_ext *)(h + off)));
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
	.poll = frag_timer,
};
