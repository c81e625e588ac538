/*
 * fuzz_stack.c: the libFuzzer target.  Each input (format: fuzz.h) gets a
 * new stack (two, linked, with FZ_CFG_LINKED) on two test links, the unit
 * tests' network of tests/unit/packets.h grown by a second IPv6 subnet:
 *
 *   test0  02:00:00:00:00:01  10.0.0.1/24  fd00::1/64   fe80::ff:fe00:1
 *          host A  02:00:00:00:00:02  10.0.0.2  fd00::2  fe80::ff:fe00:2
 *          (A routes fd01::/64, as in packets.h)
 *   test1  02:00:00:00:01:01  10.1.0.1/24  fd10::1/64   fe80::ff:fe00:101
 *          host B  02:00:00:00:01:02  10.1.0.2  fd10::2
 *          router R  02:00:00:00:01:fe  10.1.0.254  fd10::fe
 *          (R routes 10.2.0.0/16 and fd12::/64)
 *
 * with forwarding on, UDP echo on port 7 and discard on 9, R a permanent
 * neighbour (A and B learnt), DAD done; the configuration byte changes
 * those.  The records' frames go in through the links' rx callbacks, with
 * the fake clock stepping between polls.  Then the clock runs past every
 * timer (reassembly, neighbours, DAD, path MTU) with polls, and by then the
 * stack must hold no mbuf: the pool must be where it was before the stack
 * was made, before and after sonde_stack_destroy().  A leak aborts.
 *
 * Frames are injected as unit.c does: in malloc'd buffers of exactly their
 * size attached to mbufs (under ASan a read past a frame's end is caught),
 * or with FZ_F_POOL in ordinary pool mbufs with headroom, chained in
 * segments of 512 bytes as a scatter-gather NIC hands over what does not
 * fit one receive buffer.  What the stack
 * sends goes to the tx callback, which checks it before freeing it: a
 * well-formed mbuf chain; its source MAC the link's; no bigger than the
 * link's MTU; ARP, IPv4 or IPv6 only; lengths that match the frame; a
 * right IPv4 header checksum; no options and no ICMP error past 576 bytes
 * (IPv6: 1280) in what the stack built; and a transport checksum that is
 * right unless the packet came in with a wrong one (forwarding does not
 * look at it).  A malformed frame out is a bug too: it aborts.
 *
 * Operation records (FZ_F_OP): byte 0 picks the operation, byte 1 what it
 * acts on (an entry of the tables below), bytes 2-3 a ping's length (or an
 * MTU) and byte 4 its sequence number: ping, forwarding on/off, an
 * address, route or neighbour removed or added, an interface destroyed,
 * an MTU set, a pcap capture (to /dev/null) opened.
 *
 * With FZ_F_PROBES every probe is on from that record to the end of the
 * input (the target raises the semaphores a tracer would): the probe sites
 * then read every packet they see, malformed ones included.  With
 * FZ_F_OFFLOAD the link behaves as a NIC with checksum offloads from that
 * frame on: it marks what it receives with its (true) verdicts on the IPv4
 * header and UDP checksums (RTE_MBUF_F_RX_*_CKSUM_GOOD or _BAD, unknown
 * for fragments), and fills the IPv4 header checksum of what the stack
 * asks it to (RTE_MBUF_F_TX_IP_CKSUM), after checking l2_len and l3_len.
 *
 * Each stack's rte_lpm and rte_lpm6 tables come from lpm_keep.c, kept
 * (emptied) from one input to the next: making them costs 70 ms.
 *
 * SONDE_FUZZ_VERBOSE=1 prints every record as it goes in (after the fixes)
 * and every frame sent, as hex, and the counters at the end: what a unit
 * test that reproduces a crash needs.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_mempool.h>
#include <rte_random.h>

#include "fuzz.h"
#include "probe_sems.h"
#include "ref_sum.h"
#include "sonde/sonde.h"
#include "stack.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_POOL_MBUFS 8191
#define FZ_RXQ 1024
#define FZ_T0 (1000ull * 1000000000ull) /* the clock starts at 1000 s, as the unit tests' */
#define FZ_MS 1000000ull
#define FZ_SEG 512 /* FZ_F_POOL: a scatter-gather NIC's receive buffers */

static const uint8_t MAC_US0[6] = { 0x02, 0, 0, 0, 0x00, 0x01 };
static const uint8_t MAC_US1[6] = { 0x02, 0, 0, 0, 0x01, 0x01 };
static const uint8_t MAC_A[6] = { 0x02, 0, 0, 0, 0x00, 0x02 };
static const uint8_t MAC_B[6] = { 0x02, 0, 0, 0, 0x01, 0x02 };
static const uint8_t MAC_R[6] = { 0x02, 0, 0, 0, 0x01, 0xfe };

/* What operations act on, by index (byte 1 modulo the table's size). */
static const struct {
	int link;
	const char *p;
} addr_tbl[] = {
	{ 0, "10.0.0.1/24" }, { 0, "fd00::1/64" }, { 1, "10.1.0.1/24" },	{ 1, "fd10::1/64" },
	{ 0, "10.0.0.5/24" }, { 1, "fd10::5/64" }, { 0, "fe80::ff:fe00:1/64" },
};
#define FZ_BASE_ADDRS 4 /* the first four are there from the start */

static const struct {
	const char *dst, *gw;
} route_tbl[] = {
	{ "10.2.0.0/16", "10.1.0.254" }, { "fd12::/64", "fd10::fe" }, { "fd01::/64", "fd00::2" },
	{ "default", "10.1.0.254" },	 { "default", "fd10::fe" },   { "10.3.0.0/16", "10.0.0.2" },
	{ "10.2.1.0/24", "10.1.0.2" },
};
#define FZ_BASE_ROUTES 3

static const struct {
	int link;
	const char *a;
	const uint8_t *mac;
} neigh_tbl[] = {
	{ 1, "10.1.0.254", MAC_R },	   { 1, "fd10::fe", MAC_R }, { 0, "10.0.0.2", MAC_A },
	{ 0, "fd00::2", MAC_A },	   { 1, "10.1.0.2", MAC_B }, { 1, "fd10::2", MAC_B },
	{ 1, "fe80::ff:fe00:1fe", MAC_R }, { 0, "10.0.0.2", MAC_B },
};

static const char *const ping_tbl[] = {
	"10.0.0.2",  "10.1.0.2",   "10.2.0.5",	      "10.0.0.1",    "10.0.0.255", "224.0.0.1",
	"192.0.2.1", "10.1.0.254", "fd00::2",	      "fd10::2",     "fd12::5",	   "fd01::5",
	"fd00::1",   "ff02::1",	   "fe80::ff:fe00:2", "2001:db8::1",
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

struct fz_stack;

struct fz_link {
	struct fz_stack *owner;
	const char *name;
	const uint8_t *mac;
	int ifindex;	  /* -1 once destroyed */
	uint16_t mtu_max; /* the largest MTU it had in this input */
	bool offload;	  /* FZ_F_OFFLOAD seen */
	struct rte_mbuf *rxq[FZ_RXQ];
	unsigned head, tail;
};

struct fz_stack {
	struct sonde_stack *st;
	struct fz_link link[2];
};

/* An injected frame's external buffer: what its transport checksum said. */
struct fz_ext {
	struct rte_mbuf_ext_shared_info shinfo;
	enum fz_l4 l4;
};

/* What a pool mbuf was when injected, in a dynamic field of our own: 0
 * for none (or not known), else 1 + its fz_l4.  It outlives the frame (the
 * stack reuses freed mbufs for what it builds): a stale mark only makes
 * the tx check skip what it could have checked. */
static int fz_tag_off = -1;

static struct {
	struct rte_mempool *pool;
	struct sonde_prefix addr[N(addr_tbl)], route_dst[N(route_tbl)], route_gw[N(route_tbl)],
		neigh[N(neigh_tbl)], ping[N(ping_tbl)];
	char runtime_dir[4096];
	bool verbose;
	uint8_t cfg;
	unsigned n_stacks;
	struct fz_stack s[2];
	uint64_t now;
	unsigned extbufs;
	unsigned rec; /* the record going in, for messages */
} fz;

static uint8_t fz_buf[65536 + 64];

static void __attribute__((noreturn, format(printf, 1, 2))) fz_fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "sonde-fuzz: record %u: ", fz.rec);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

static void
fz_hex(const char *what, const uint8_t *p, size_t len)
{
	fprintf(stderr, "%s (%zu bytes):", what, len);
	for (size_t i = 0; i < len; i++)
		fprintf(stderr, "%s0x%02x,", i % 14 ? " " : "\n\t", p[i]);
	fputc('\n', stderr);
}

static uint8_t *
fz_tag(struct rte_mbuf *m)
{
	return RTE_MBUF_DYNFIELD(m, fz_tag_off, uint8_t *);
}

static void
fz_ext_free(void *addr, void *opaque)
{
	free(addr);
	free(opaque);
	fz.extbufs--;
}

static uint16_t
fz_rx(void *arg, struct rte_mbuf **pkts, uint16_t n)
{
	struct fz_link *l = arg;
	uint16_t i;

	for (i = 0; i < n && l->head != l->tail; i++)
		pkts[i] = l->rxq[l->head++];
	if (l->head == l->tail)
		l->head = l->tail = 0;
	return i;
}

/* What a NIC does for RTE_MBUF_F_TX_IP_CKSUM: the IPv4 header at l2_len,
 * l3_len long, its checksum field zero, gets its checksum. */
static void
fz_nic_cksum(const struct fz_link *l, struct rte_mbuf *m)
{
	uint8_t *ip = rte_pktmbuf_mtod_offset(m, uint8_t *, m->l2_len);

	if (!l->offload || !(m->ol_flags & RTE_MBUF_F_TX_IPV4) || m->l2_len != 14 ||
	    rte_pktmbuf_data_len(m) < m->l2_len + 20u || m->l3_len != (ip[0] & 0xfu) * 4 ||
	    rte_pktmbuf_data_len(m) < (unsigned)m->l2_len + m->l3_len || ip[10] || ip[11])
		fz_fail("%s: a checksum offload asked wrong (l2_len %u, l3_len %u)", l->name,
			m->l2_len, m->l3_len);
	ip[10] = ip[11] = 0;
	fz_put16(ip + 10, (uint16_t)~ref_fold(ref_sum(0, ip, m->l3_len)));
}

/* The checks of a frame the stack sends (see the top of the file). */
static void
fz_check_tx(const struct fz_link *l, struct rte_mbuf *m)
{
	const char *why = NULL;
	uint32_t len = rte_pktmbuf_pkt_len(m), n;
	const uint8_t *p, *ip;
	enum fz_l4 in = FZ_L4_NONE, out;
	bool built = true;
	uint16_t type;

	if (rte_mbuf_check(m, 1, &why) != 0)
		fz_fail("%s: a malformed mbuf sent: %s", l->name, why);
	if (m->ol_flags & RTE_MBUF_F_TX_IP_CKSUM)
		fz_nic_cksum(l, m);
	if (len > sizeof(fz_buf))
		fz_fail("%s: a frame of %u bytes sent", l->name, len);
	p = rte_pktmbuf_read(m, 0, len, fz_buf);
	if (fz.verbose)
		fz_hex(l->name, p, len);
	if (RTE_MBUF_HAS_EXTBUF(m) && m->shinfo->free_cb == fz_ext_free) {
		built = false;
		in = ((const struct fz_ext *)m->shinfo)->l4;
	} else if (*fz_tag(m) != 0) {
		built = false;
		in = (enum fz_l4)(*fz_tag(m) - 1);
	}
	if (len < 14)
		fz_fail("%s: a %u-byte frame sent", l->name, len);
	if (memcmp(p + 6, l->mac, 6) != 0)
		fz_fail("%s: a frame sent from another MAC", l->name);
	type = fz_get16(p + 12);
	n = len - 14;
	ip = p + 14;
	if (type == 0x0806) {
		if (n < 28 || memcmp(ip, "\x00\x01\x08\x00\x06\x04\x00", 7) != 0 ||
		    (ip[7] != 1 && ip[7] != 2) || memcmp(ip + 8, l->mac, 6) != 0)
			fz_fail("%s: a malformed ARP packet sent", l->name);
		return;
	}
	if (n > l->mtu_max)
		fz_fail("%s: a %u-byte packet sent past the MTU %u", l->name, n, l->mtu_max);
	if (type == 0x0800) {
		uint32_t ihl = (ip[0] & 0xfu) * 4;

		if (n < 20 || ip[0] >> 4 != 4 || ihl < 20 || fz_get16(ip + 2) != n || ihl > n)
			fz_fail("%s: an IPv4 packet sent with a bad version, IHL or length",
				l->name);
		if (ref_fold(ref_sum(0, ip, ihl)) != 0xffff)
			fz_fail("%s: an IPv4 header checksum sent wrong", l->name);
		if (ip[8] == 0)
			fz_fail("%s: an IPv4 packet sent with TTL 0", l->name);
		/* Fragments of a forwarded packet have new headers but the
		 * packet's options and bytes: the stack's own only when whole. */
		if (fz_get16(ip + 6) & 0x3fff)
			built = false;
		if (built && ihl != 20)
			fz_fail("%s: IPv4 options in a packet the stack built", l->name);
		if (built && ip[9] == 1 && n > 576 && ip[20] != 0 && ip[20] != 8)
			fz_fail("%s: an ICMP error of %u bytes (RFC 1812: 576)", l->name, n);
	} else if (type == 0x86dd) {
		if (n < 40 || ip[0] >> 4 != 6 || 40u + fz_get16(ip + 4) != n)
			fz_fail("%s: an IPv6 packet sent with a bad version or length", l->name);
		if (ip[7] == 0)
			fz_fail("%s: an IPv6 packet sent with hop limit 0", l->name);
		if (built && ip[6] == 58 && ip[40] < 128 && n > 1280)
			fz_fail("%s: an ICMPv6 error of %u bytes (RFC 4443: 1280)", l->name, n);
	} else {
		fz_fail("%s: a frame of EtherType 0x%04x sent", l->name, type);
	}
	/* Forwarding carries a wrong transport checksum as it came; anything
	 * else the stack sends must have it right. */
	out = fz_l4(p, len);
	if (out == FZ_L4_INVALID && (built || in != FZ_L4_INVALID))
		fz_fail("%s: a transport checksum or UDP length sent wrong (%s)", l->name,
			built		       ? "built"
			: in == FZ_L4_FRAGMENT ? "reassembled"
					       : "turned around");
}

static uint16_t
fz_tx(void *arg, struct rte_mbuf **pkts, uint16_t n)
{
	struct fz_link *l = arg;
	uint16_t take = n;

	/* A ring that fills: the stack must drop (and count) the rest. */
	if (fz.cfg & FZ_CFG_TX_FULL)
		take = (uint16_t)((n + 1) / 2);
	for (uint16_t i = 0; i < take; i++) {
		fz_check_tx(l, pkts[i]);
		rte_pktmbuf_free(pkts[i]);
	}
	return take;
}

static void
fz_close(void *arg)
{
	struct fz_link *l = arg;

	while (l->head != l->tail)
		rte_pktmbuf_free(l->rxq[l->head++]);
	l->head = l->tail = 0;
	l->ifindex = -1;
}

static void
fz_poll(void)
{
	for (unsigned i = 0; i < fz.n_stacks; i++)
		sonde_poll(fz.s[i].st, fz.now);
}

static bool
fz_rx_pending(void)
{
	for (unsigned i = 0; i < fz.n_stacks; i++)
		for (unsigned j = 0; j < 2; j++)
			if (fz.s[i].link[j].head != fz.s[i].link[j].tail)
				return true;
	return false;
}

/* A NIC with checksum offloads: its verdicts on frame f, true ones (an
 * IPv4 header checksum; a UDP checksum, not of fragments), and from now on
 * it fills IPv4 header checksums. */
static void
fz_nic_verdicts(struct fz_link *l, struct rte_mbuf *m, const uint8_t *f, size_t len, enum fz_l4 l4)
{
	const uint8_t *ip = f + 14;

	if (!l->offload && l->ifindex >= 0) {
		l->offload = true;
		stack_if(l->owner->st, (uint16_t)l->ifindex)->csum_tx_ipv4 = true;
	}
	if (len >= 34 && fz_get16(f + 12) == 0x0800 && ip[0] >> 4 == 4 && (ip[0] & 0xf) >= 5 &&
	    len >= 14u + (ip[0] & 0xfu) * 4)
		m->ol_flags |= ref_fold(ref_sum(0, ip, (ip[0] & 0xfu) * 4)) == 0xffff
				       ? RTE_MBUF_F_RX_IP_CKSUM_GOOD
				       : RTE_MBUF_F_RX_IP_CKSUM_BAD;
	if (l4 == FZ_L4_VALID || l4 == FZ_L4_INVALID) {
		const uint8_t *l4h =
			f + 14 + (fz_get16(f + 12) == 0x0800 ? (ip[0] & 0xfu) * 4 : 40);

		/* Only UDP right behind the IP header; ICMP is not offloaded. */
		if ((fz_get16(f + 12) == 0x0800 ? ip[9] : ip[6]) == 17 && l4h + 8 <= f + len)
			m->ol_flags |= l4 == FZ_L4_VALID ? RTE_MBUF_F_RX_L4_CKSUM_GOOD
							 : RTE_MBUF_F_RX_L4_CKSUM_BAD;
	}
}

/* Frame f in pool mbufs of FZ_SEG bytes each, chained, as a NIC with
 * scatter-gather and small receive buffers hands over a long frame. */
static struct rte_mbuf *
fz_pool_frame(const uint8_t *f, size_t len)
{
	struct rte_mbuf *head = NULL, *seg;
	size_t off = 0;

	do {
		size_t n = len - off < FZ_SEG ? len - off : FZ_SEG;

		seg = rte_pktmbuf_alloc(fz.pool);
		if (seg != NULL)
			memcpy(rte_pktmbuf_append(seg, (uint16_t)n), f + off, n);
		if (seg == NULL || (head != NULL && rte_pktmbuf_chain(head, seg) != 0)) {
			rte_pktmbuf_free(seg);
			rte_pktmbuf_free(head);
			return NULL;
		}
		if (head == NULL)
			head = seg;
		off += n;
	} while (off < len);
	return head;
}

static void
fz_inject(struct fz_link *l, const uint8_t *data, size_t len, uint8_t flags)
{
	struct rte_mbuf *m;
	struct fz_ext *ext;
	enum fz_l4 l4;
	uint8_t *buf;

	memcpy(fz_buf, data, len);
	if (flags & FZ_F_FIX)
		fz_fix(fz_buf, len);
	if (fz.verbose) {
		fprintf(stderr, "record %u: %s%s%s%s%s at +%llu ms, ", fz.rec, l->name,
			l->owner == &fz.s[1] ? " (stack b)" : "", flags & FZ_F_POOL ? " pool" : "",
			flags & FZ_F_HOLD ? " held" : "", flags & FZ_F_OFFLOAD ? " offload" : "",
			(unsigned long long)((fz.now - FZ_T0) / FZ_MS));
		fz_hex("frame", fz_buf, len);
	}
	if (l->ifindex < 0)
		return;
	/* A full queue is read before more goes in (32 a poll). */
	while (l->tail == FZ_RXQ)
		fz_poll();
	l4 = fz_l4(fz_buf, len);
	if (flags & FZ_F_POOL) {
		m = fz_pool_frame(fz_buf, len);
	} else {
		m = rte_pktmbuf_alloc(fz.pool);
		if (m == NULL)
			return;
		ext = malloc(sizeof(*ext));
		buf = malloc(len ? len : 1);
		if (ext == NULL || buf == NULL)
			fz_fail("out of memory");
		memcpy(buf, fz_buf, len);
		ext->shinfo.free_cb = fz_ext_free;
		ext->shinfo.fcb_opaque = ext;
		ext->l4 = l4;
		rte_mbuf_ext_refcnt_set(&ext->shinfo, 1);
		fz.extbufs++;
		rte_pktmbuf_attach_extbuf(m, buf, (rte_iova_t)(uintptr_t)buf, (uint16_t)len,
					  &ext->shinfo);
		rte_pktmbuf_append(m, (uint16_t)len);
	}
	if (m == NULL)
		return; /* the stack holds every mbuf: for the leak check to judge */
	*fz_tag(m) = flags & FZ_F_POOL ? (uint8_t)(1 + l4) : 0;
	if (flags & FZ_F_OFFLOAD)
		fz_nic_verdicts(l, m, fz_buf, len, l4);
	l->rxq[l->tail++] = m;
}

static void
fz_op(struct fz_stack *s, const uint8_t *d, size_t n)
{
	unsigned a = n > 1 ? d[1] : 0, k;
	uint16_t len = n > 3 ? fz_get16(d + 2) % 2048 : 56;
	struct fz_link *l;
	int r = 0;

	if (n == 0)
		return;
	switch ((enum fz_op)(d[0] % FZ_OP_N)) {
	case FZ_OP_PING:
		k = a % N(ping_tbl);
		r = sonde_ping(s->st, &fz.ping[k], 0xf022, n > 4 ? d[4] : 0, len);
		break;
	case FZ_OP_FORWARDING: r = sonde_forwarding(s->st, a & 1); break;
	case FZ_OP_ADDR_DEL:
		k = a % N(addr_tbl);
		r = sonde_addr_del(s->st, s->link[addr_tbl[k].link].ifindex, &fz.addr[k]);
		break;
	case FZ_OP_ADDR_ADD:
		k = a % N(addr_tbl);
		r = sonde_addr_add(s->st, s->link[addr_tbl[k].link].ifindex, &fz.addr[k]);
		break;
	case FZ_OP_ROUTE_DEL: r = sonde_route_del(s->st, &fz.route_dst[a % N(route_tbl)]); break;
	case FZ_OP_ROUTE_ADD:
		k = a % N(route_tbl);
		r = sonde_route_add(s->st, &fz.route_dst[k], &fz.route_gw[k]);
		break;
	case FZ_OP_NEIGH_ADD:
		k = a % N(neigh_tbl);
		r = sonde_neigh_add(s->st, s->link[neigh_tbl[k].link].ifindex, &fz.neigh[k],
				    neigh_tbl[k].mac);
		break;
	case FZ_OP_NEIGH_DEL:
		k = a % N(neigh_tbl);
		r = sonde_neigh_del(s->st, s->link[neigh_tbl[k].link].ifindex, &fz.neigh[k]);
		break;
	case FZ_OP_IF_DESTROY:
		l = &s->link[a & 1];
		if (l->ifindex >= 0)
			r = sonde_if_destroy(s->st, l->ifindex);
		break;
	case FZ_OP_PCAP:
		l = &s->link[a & 1];
		r = sonde_pcap_open(s->st, l->ifindex, "/dev/null");
		break;
	case FZ_OP_MTU:
		l = &s->link[a & 1];
		len = (uint16_t)(1280 + len);
		r = sonde_if_set_mtu(s->st, l->ifindex, len);
		/* Linked stacks take it at their next poll: what any of them
		 * sends may be as big as the largest the link had. */
		if (r == 0)
			for (unsigned i = 0; i < fz.n_stacks; i++)
				if (fz.s[i].link[a & 1].mtu_max < len)
					fz.s[i].link[a & 1].mtu_max = len;
		break;
	case FZ_OP_N: break;
	}
	if (fz.verbose)
		fprintf(stderr, "record %u: operation %u on %u: %d\n", fz.rec, d[0] % FZ_OP_N, a,
			r);
}

static void
fz_must(int r, const char *what)
{
	if (r < 0)
		fz_fail("setup: %s: %s", what, strerror(-r));
}

static void
fz_setup(void)
{
	struct sonde_conf conf = {
		.pool = fz.pool,
		.forwarding = !(fz.cfg & FZ_CFG_NO_FORWARD),
	};
	struct sonde_stack *sts[2];
	struct fz_stack *a = &fz.s[0];

	if (fz.cfg & FZ_CFG_SMALL) {
		/* Every limit within reach of a few frames. */
		conf.arp_entries = 8; /* rte_hash takes no fewer */
		conf.arp_queue = 1;
		conf.frag_max = 4;
		conf.icmp_rate = 10;
		conf.icmp_burst = 2;
		conf.frag_timeout_ms = 1000;
		conf.arp_timeout_ms = 2000;
	}
	fz.n_stacks = fz.cfg & FZ_CFG_LINKED ? 2 : 1;
	fz.now = FZ_T0;
	for (unsigned i = 0; i < fz.n_stacks; i++) {
		struct fz_stack *s = &fz.s[i];

		conf.stack_id = i;
		s->st = sonde_stack_create(&conf);
		if (s->st == NULL)
			fz_fail("setup: sonde_stack_create: %s", rte_strerror(rte_errno));
		sts[i] = s->st;
	}
	if (fz.n_stacks > 1)
		fz_must(sonde_stacks_link(sts, fz.n_stacks), "sonde_stacks_link");
	for (unsigned i = 0; i < fz.n_stacks; i++) {
		for (unsigned j = 0; j < 2; j++) {
			struct fz_link *l = &fz.s[i].link[j];
			struct sonde_if_conf c = {
				.type = SONDE_IF_DRIVER,
				.name = j ? "test1" : "test0",
				.mtu = j && (fz.cfg & FZ_CFG_MTU1280) ? 1280 : 1500,
				.driver = { .rx = fz_rx, .tx = fz_tx, .close = fz_close, .arg = l },
			};

			memset(l, 0, sizeof(*l));
			l->owner = &fz.s[i];
			l->name = c.name;
			l->mac = j ? MAC_US1 : MAC_US0;
			l->mtu_max = c.mtu;
			memcpy(c.mac, l->mac, 6);
			l->ifindex = sonde_if_create(fz.s[i].st, &c);
			fz_must(l->ifindex, "sonde_if_create");
			if (sonde_if_find(fz.s[i].st, c.name) != l->ifindex ||
			    strcmp(sonde_if_name(fz.s[i].st, l->ifindex), c.name) != 0)
				fz_fail("setup: %s is not found by its name", c.name);
		}
	}
	fz_poll(); /* the clocks start: DAD deadlines count from here */
	/* Linked stacks are configured through the first: the others take
	 * every change by message at their next poll. */
	for (unsigned k = 0; k < FZ_BASE_ADDRS; k++)
		fz_must(sonde_addr_add(a->st, a->link[addr_tbl[k].link].ifindex, &fz.addr[k]),
			addr_tbl[k].p);
	for (unsigned k = 0; k < FZ_BASE_ROUTES; k++)
		fz_must(sonde_route_add(a->st, &fz.route_dst[k], &fz.route_gw[k]),
			route_tbl[k].dst);
	fz_must(sonde_udp_service(a->st, 7, SONDE_SERVICE_ECHO), "echo");
	fz_must(sonde_udp_service(a->st, 9, SONDE_SERVICE_DISCARD), "discard");
	for (unsigned k = 0; k < N(neigh_tbl) - 2; k++) {
		bool is_r = neigh_tbl[k].mac == MAC_R;

		if (is_r ? !(fz.cfg & FZ_CFG_LEARN_R) : (fz.cfg & FZ_CFG_KNOW_AB) != 0)
			fz_must(sonde_neigh_add(a->st, a->link[neigh_tbl[k].link].ifindex,
						&fz.neigh[k], neigh_tbl[k].mac),
				neigh_tbl[k].a);
	}
	fz_poll();
	if (!(fz.cfg & FZ_CFG_DAD_PENDING)) {
		/* RFC 4862: one probe, a second's wait; then the verdict
		 * reaches linked stacks at their next poll. */
		fz.now += 1100 * FZ_MS;
		fz_poll();
		fz_poll();
		if (!sonde_ready(a->st))
			fz_fail("setup: DAD not done after a second");
	}
}

/* Past every timer of the stack, with polls on the way: reassembly (30 s),
 * neighbours (probes of 1 s, DELAY 5 s, REACHABLE 30 s, STALE forgotten
 * after 60 s), DAD, path MTU (10 min), the ICMP buckets. */
static void
fz_run_timers(void)
{
	static const uint64_t steps_ms[] = { 1,	   10,	  100,	 1000,	1000,	1000,	1000,
					     5000, 10000, 30000, 60000, 120000, 600000, 3600000 };

	while (fz_rx_pending())
		fz_poll();
	for (unsigned i = 0; i < N(steps_ms); i++) {
		fz.now += steps_ms[i] * FZ_MS;
		fz_poll();
	}
}

/* Every counter read, as telemetry does; printed when verbose. */
static void
fz_stat(const char *name, uint64_t value, void *arg)
{
	(void)arg;
	if (fz.verbose && value != 0 && strncmp(name, "poll.", 5) != 0)
		fprintf(stderr, "  %s %llu\n", name, (unsigned long long)value);
}

static void
fz_stats(void)
{
	for (unsigned i = 0; i < fz.n_stacks; i++) {
		if (fz.verbose)
			fprintf(stderr, "stack %c:\n", 'a' + i);
		sonde_stats_foreach(fz.s[i].st, fz_stat, NULL);
	}
}

static void
fz_teardown(void)
{
	/* The second first: its ring is fed by the first. */
	for (unsigned i = fz.n_stacks; i-- > 0;) {
		sonde_stack_destroy(fz.s[i].st);
		fz.s[i].st = NULL;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned base = rte_mempool_in_use_count(fz.pool), held;
	size_t pos = 1;
	struct fz_rec r;

	if (size == 0)
		return 0;
	fz.cfg = data[0];
	fz.rec = 0;
#ifdef PROBE_SEMAPHORES
	probes_enable(0);
#endif
	/* The stack's random numbers (the first IPv6 fragment
	 * identification, the reassembly table's hash seed) the same on
	 * every run of an input. */
	rte_srand(0x50de);
	fz_setup();
	while (fz_next(data, size, &pos, &r)) {
		struct fz_stack *s = &fz.s[(r.flags & FZ_F_STACK_B) && fz.n_stacks > 1];

		fz.rec++;
		fz.now += fz_step_ns(r.step);
#ifdef PROBE_SEMAPHORES
		if (r.flags & FZ_F_PROBES)
			probes_enable(1);
#endif
		if (r.flags & FZ_F_OP)
			fz_op(s, r.data, r.len);
		else
			fz_inject(&s->link[r.flags & FZ_F_LINK1], r.data, r.len, r.flags);
		if (!(r.flags & FZ_F_HOLD))
			fz_poll();
	}
	fz.rec++;
	fz_run_timers();
	fz_stats();
	held = rte_mempool_in_use_count(fz.pool) - base;
	if (held != 0 || fz.extbufs != 0)
		fz_fail("after every timer ran the stack still holds %u mbufs, %u of our buffers",
			held, fz.extbufs);
	fz_teardown();
	held = rte_mempool_in_use_count(fz.pool) - base;
	if (held != 0 || fz.extbufs != 0)
		fz_fail("sonde_stack_destroy left %u mbufs, %u of our buffers in use", held,
			fz.extbufs);
	return 0;
}

static void
fz_parse_all(void)
{
	for (unsigned k = 0; k < N(addr_tbl); k++)
		fz_must(sonde_prefix_parse(addr_tbl[k].p, &fz.addr[k]), addr_tbl[k].p);
	for (unsigned k = 0; k < N(route_tbl); k++) {
		fz_must(sonde_prefix_parse(route_tbl[k].dst, &fz.route_dst[k]), route_tbl[k].dst);
		fz_must(sonde_prefix_parse(route_tbl[k].gw, &fz.route_gw[k]), route_tbl[k].gw);
	}
	for (unsigned k = 0; k < N(neigh_tbl); k++)
		fz_must(sonde_prefix_parse(neigh_tbl[k].a, &fz.neigh[k]), neigh_tbl[k].a);
	for (unsigned k = 0; k < N(ping_tbl); k++)
		fz_must(sonde_prefix_parse(ping_tbl[k], &fz.ping[k]), ping_tbl[k]);
}

/* EAL's runtime directory is empty (--no-shconf): it goes at exit. */
static void
fz_exit(void)
{
	rmdir(fz.runtime_dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const struct rte_mbuf_dynfield tag = { .name = "sonde_fuzz_tag",
						      .size = 1,
						      .align = 1 };
	char line[512], *args[16], *save;
	int n = 0;

	(void)argc, (void)argv;
	fz.verbose = getenv("SONDE_FUZZ_VERBOSE") != NULL;
	/* No hugepages, no devices, no shared config (no files), a file
	 * prefix of our own: libFuzzer's -jobs run several of us. */
	snprintf(line, sizeof(line),
		 "sonde-fuzz --no-huge -m 512 --no-pci --no-shconf --no-telemetry "
		 "--log-level=*:%s --file-prefix=sondefuzz_%d -l 0",
		 fz.verbose ? "error" : "critical", (int)getpid());
	for (char *t = strtok_r(line, " ", &save); t && n < 15; t = strtok_r(NULL, " ", &save))
		args[n++] = t;
	args[n] = NULL;
	if (rte_eal_init(n, args) < 0) {
		fprintf(stderr, "sonde-fuzz: rte_eal_init: %s\n", rte_strerror(rte_errno));
		exit(1);
	}
	snprintf(fz.runtime_dir, sizeof(fz.runtime_dir), "%s", rte_eal_get_runtime_dir());
	atexit(fz_exit);
	/* No per-lcore cache: rte_mempool_in_use_count() is then exact. */
	fz.pool = rte_pktmbuf_pool_create("sondefuzz", FZ_POOL_MBUFS, 0, 0,
					  RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	fz_tag_off = rte_mbuf_dynfield_register(&tag);
	if (fz.pool == NULL || fz_tag_off < 0) {
		fprintf(stderr, "sonde-fuzz: mbuf pool: %s\n", rte_strerror(rte_errno));
		exit(1);
	}
	fz_parse_all();
	return 0;
}
