/*
 * probes.c: fill the DTrace-named argument structs and fire the probes:
 * ip, ipv4 and ipv6 (ip_provider.h), tcp and udp (tcp_provider.h).
 *
 * Only reached when a probe is enabled (see probes.h), so this code may take
 * its time: it formats addresses as text and copies names.  It must never
 * trust the packet: drop probes fire for truncated and malformed packets, so
 * every header byte read here is checked to be present first.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include <rte_mbuf.h>

#include "addrfmt.h"
#include "ip_provider.h"
#include "probes.h"
#include "sock.h"
#include "stack.h"
/* After tcp.h (by sock.h): its TH_* are tcp.h's, or the compiler says
 * they are redefined. */
#include "tcp_provider.h"

_Static_assert(SONDE_ADDRSTRLEN == ADDRFMT_LEN, "addrfmt fills the probes' address fields");

/* The user header's states are the stack's own numbers (FreeBSD's). */
_Static_assert(TCP_STATE_CLOSED == TCPS_CLOSED && TCP_STATE_LISTEN == TCPS_LISTEN &&
		       TCP_STATE_SYN_SENT == TCPS_SYN_SENT &&
		       TCP_STATE_SYN_RECEIVED == TCPS_SYN_RECEIVED &&
		       TCP_STATE_ESTABLISHED == TCPS_ESTABLISHED &&
		       TCP_STATE_CLOSE_WAIT == TCPS_CLOSE_WAIT &&
		       TCP_STATE_FIN_WAIT_1 == TCPS_FIN_WAIT_1 &&
		       TCP_STATE_CLOSING == TCPS_CLOSING && TCP_STATE_LAST_ACK == TCPS_LAST_ACK &&
		       TCP_STATE_FIN_WAIT_2 == TCPS_FIN_WAIT_2 &&
		       TCP_STATE_TIME_WAIT == TCPS_TIME_WAIT,
	       "tcp_provider.h's TCP_STATE_* are enum tcp_state's");
/* The layouts bpftrace reads: no padding the compiler chose. */
_Static_assert(sizeof(struct tcpinfo_t) == 32, "tcpinfo_t");
_Static_assert(sizeof(struct tcpsinfo_t) == 216, "tcpsinfo_t");
_Static_assert(sizeof(struct udpinfo_t) == 16, "udpinfo_t");
_Static_assert(sizeof(struct udpsinfo_t) == 104, "udpsinfo_t");

static const char *
probe_protoname(uint8_t p)
{
	switch (p) {
	case 0: return "IP";
	case 1: return "ICMP";
	case 2: return "IGMP";
	case 4: return "IPIP";
	case 6: return "TCP";
	case 8: return "EGP";
	case 17: return "UDP";
	case 41: return "IPV6";
	case 43: return "ROUTE";
	case 44: return "FRAG";
	case 47: return "GRE";
	case 50: return "ESP";
	case 51: return "AH";
	case 58: return "ICMPV6";
	case 59: return "NONE";
	case 60: return "DSTOPTS";
	case 89: return "OSPF";
	case 132: return "SCTP";
	case 255: return "RAW";
	}
	return NULL;
}

/* Protocol names and numbers as the probes give them, 8 bytes each (the
 * longest name is 7), zero-padded: built once, copied whole per probe. */
static char probe_protostrs[256][8];

static void __attribute__((constructor)) probe_protostr_init(void)
{
	for (unsigned p = 0; p < 256; p++) {
		const char *s = probe_protoname((uint8_t)p);
		char *out = probe_protostrs[p];

		if (s != NULL) {
			memcpy(out, s, strlen(s));
			continue;
		}
		if (p >= 100)
			*out++ = (char)('0' + p / 100);
		if (p >= 10)
			*out++ = (char)('0' + p / 10 % 10);
		*out = (char)('0' + p % 10);
	}
}

/* The protocol's name, or its number, into out (SONDE_PROTOSTRLEN, zeroed). */
static inline void
probe_protostr(uint8_t p, char *out)
{
	memcpy(out, probe_protostrs[p], sizeof(probe_protostrs[p]));
}

static void
probe_fill_ipv4(const uint8_t *h, uint32_t len, struct ipinfo_t *ip, struct ipv4info_t *v4)
{
	uint16_t tot = 0;

	if (len >= IPV4_MIN_HDR_LEN) {
		uint16_t frag = wire_get16(h + 6);

		v4->ipv4_ver = h[0] >> 4;
		v4->ipv4_ihl = (uint8_t)((h[0] & 0xf) * 4);
		v4->ipv4_tos = h[1];
		tot = wire_get16(h + 2);
		v4->ipv4_length = tot;
		v4->ipv4_ident = wire_get16(h + 4);
		v4->ipv4_flags =
			(uint8_t)((frag & IPV4_FLAG_DF ? 4 : 0) | (frag & IPV4_FLAG_MF ? 2 : 0));
		v4->ipv4_offset = (uint16_t)((frag & IPV4_OFFSET_MASK) * 8);
		v4->ipv4_ttl = h[8];
		v4->ipv4_protocol = h[9];
		v4->ipv4_checksum = wire_get16(h + 10);
		memcpy(&v4->ipv4_src, h + 12, 4);
		memcpy(&v4->ipv4_dst, h + 16, 4);
		addrfmt_v4(v4->ipv4_saddr, h + 12);
		addrfmt_v4(v4->ipv4_daddr, h + 16);
		probe_protostr(h[9], v4->ipv4_protostr);
	}
	v4->ipv4_hdr = (uint64_t)(uintptr_t)h;
	ip->ip_ver = 4;
	ip->ip_plength = tot > v4->ipv4_ihl ? (uint32_t)(tot - v4->ipv4_ihl) : 0;
	memcpy(ip->ip_saddr, v4->ipv4_saddr, sizeof(ip->ip_saddr));
	memcpy(ip->ip_daddr, v4->ipv4_daddr, sizeof(ip->ip_daddr));
}

static void
probe_fill_ipv6(const uint8_t *h, uint32_t len, struct ipinfo_t *ip, struct ipv6info_t *v6)
{

	if (len >= 40) {
		uint32_t w = wire_get32(h);

		v6->ipv6_ver = (uint8_t)(w >> 28);
		v6->ipv6_tclass = (uint8_t)(w >> 20);
		v6->ipv6_flow = w & 0xfffff;
		v6->ipv6_plen = wire_get16(h + 4);
		v6->ipv6_nexthdr = h[6];
		v6->ipv6_hlim = h[7];
		memcpy(v6->ipv6_src, h + 8, 16);
		memcpy(v6->ipv6_dst, h + 24, 16);
		addrfmt_v6(v6->ipv6_saddr, h + 8);
		addrfmt_v6(v6->ipv6_daddr, h + 24);
		probe_protostr(h[6], v6->ipv6_nextstr);
	}
	v6->ipv6_hdr = (uint64_t)(uintptr_t)h;
	ip->ip_ver = 6;
	ip->ip_plength = v6->ipv6_plen;
	memcpy(ip->ip_saddr, v6->ipv6_saddr, sizeof(ip->ip_saddr));
	memcpy(ip->ip_daddr, v6->ipv6_daddr, sizeof(ip->ip_daddr));
}

static void
probe_fill_cs(const struct sonde_stack *st, const struct sonde_sock *s, struct csinfo_t *cs)
{
	cs->cs_addr = (uint64_t)(uintptr_t)s;
	cs->cs_cid = s->cid;
	cs->cs_pid = st->pid;
	cs->cs_zoneid = st->id;
}

#define FIRE2(P4, P6, v6)                                                    \
	do {                                                                 \
		if (v6)                                                      \
			P6(&ap->pkt, csp, &ap->ip, &ap->ifi, NULL, &ap->i6); \
		else                                                         \
			P4(&ap->pkt, csp, &ap->ip, &ap->ifi, &ap->i4, NULL); \
	} while (0)

/* The arguments, zeroed in one go (a char[] keys a bpftrace map whole: what
 * follows a string is part of the key); IPv4 or IPv6, not both. */
struct probe_args {
	struct pktinfo_t pkt;
	struct csinfo_t csi;
	struct ipinfo_t ip;
	struct ifinfo_t ifi;
	union {
		struct ipv4info_t i4;
		struct ipv6info_t i6;
	};
};

union probe_args_words {
	struct probe_args a;
	uint64_t v[(sizeof(struct probe_args) + 7) / 8];
};

/* The arguments are zeroed by a loop of word stores that GCC is told to
 * leave a loop (it vectorises it): as a memset it becomes `rep stos`, whose
 * start-up was 60% of a fill on these AMD guests (perf annotate,
 * bench/probe-cost). */
#if defined(__GNUC__) && !defined(__clang__)
#define PROBE_STORES_AS_WRITTEN __attribute__((optimize("no-tree-loop-distribute-patterns")))
#else
#define PROBE_STORES_AS_WRITTEN
#endif

PROBE_STORES_AS_WRITTEN void
probe_fire(const struct sonde_stack *st, enum probe_kind kind, const struct rte_mbuf *m,
	   const struct sonde_if *ifp, int fam, const char *reason)
{
	const struct sonde_sock *cs = pkt_meta_c(m)->conn;
	union probe_args_words buf;
	struct probe_args *ap = &buf.a;
	struct csinfo_t *csp = NULL;
	const uint8_t *h = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t len = rte_pktmbuf_data_len(m);
	int v6;

	for (unsigned i = 0; i < RTE_DIM(buf.v); i++)
		buf.v[i] = 0;

	if (len >= 1 && (h[0] >> 4 == 4 || h[0] >> 4 == 6))
		fam = h[0] >> 4;
	else if (fam == 0)
		fam = pkt_meta_c(m)->af;
	/* No IP header to read (a packet dropped before one was written):
	 * the family and the interface, and no header fields. */
	if (len == 0 || h[0] >> 4 != fam)
		len = 0;
	v6 = fam == 6;

	ap->pkt.pkt_addr = (uint64_t)(uintptr_t)m;
	ap->pkt.pkt_len = rte_pktmbuf_pkt_len(m) + (ifp ? ifp->kind->l2_len : 0);
	if (reason)
		memcpy(ap->pkt.pkt_reason, reason, strnlen(reason, sizeof(ap->pkt.pkt_reason) - 1));
	if (cs) {
		probe_fill_cs(st, cs, &ap->csi);
		csp = &ap->csi;
	}
	if (ifp) {
		memcpy(ap->ifi.if_name, ifp->name, sizeof(ap->ifi.if_name));
		ap->ifi.if_local = ifp == st->lo;
		ap->ifi.if_addr = (uint64_t)(uintptr_t)ifp;
	} else {
		memcpy(ap->ifi.if_name, "none", sizeof("none"));
	}
	ap->ifi.if_ipstack = (int32_t)st->id;
	if (v6)
		probe_fill_ipv6(h, len, &ap->ip, &ap->i6);
	else
		probe_fill_ipv4(h, len, &ap->ip, &ap->i4);

	switch (kind) {
	case PROBE_SEND:
		IP_SEND(&ap->pkt, csp, &ap->ip, &ap->ifi, v6 ? NULL : &ap->i4, v6 ? &ap->i6 : NULL);
		FIRE2(IPV4_SEND, IPV6_SEND, v6);
		break;
	case PROBE_RECEIVE:
		IP_RECEIVE(&ap->pkt, csp, &ap->ip, &ap->ifi, v6 ? NULL : &ap->i4,
			   v6 ? &ap->i6 : NULL);
		FIRE2(IPV4_RECEIVE, IPV6_RECEIVE, v6);
		break;
	case PROBE_LOCAL_SEND:
		IP_LOCAL_SEND(&ap->pkt, csp, &ap->ip, &ap->ifi, v6 ? NULL : &ap->i4,
			      v6 ? &ap->i6 : NULL);
		FIRE2(IPV4_LOCAL_SEND, IPV6_LOCAL_SEND, v6);
		break;
	case PROBE_LOCAL_RECEIVE:
		IP_LOCAL_RECEIVE(&ap->pkt, csp, &ap->ip, &ap->ifi, v6 ? NULL : &ap->i4,
				 v6 ? &ap->i6 : NULL);
		FIRE2(IPV4_LOCAL_RECEIVE, IPV6_LOCAL_RECEIVE, v6);
		break;
	case PROBE_READ: FIRE2(IPV4_READ, IPV6_READ, v6); break;
	case PROBE_WRITE: FIRE2(IPV4_WRITE, IPV6_WRITE, v6); break;
	case PROBE_DROP_IN: FIRE2(IPV4_DROP_IN, IPV6_DROP_IN, v6); break;
	case PROBE_DROP_OUT: FIRE2(IPV4_DROP_OUT, IPV6_DROP_OUT, v6); break;
	}
}

bool
probe_on(enum probe_kind kind)
{
	switch (kind) {
	case PROBE_SEND: return PROBE_SEND_ON();
	case PROBE_RECEIVE: return PROBE_RECEIVE_ON();
	case PROBE_LOCAL_SEND: return PROBE_LOCAL_SEND_ON();
	case PROBE_LOCAL_RECEIVE: return PROBE_LOCAL_RECEIVE_ON();
	case PROBE_READ: return PROBE_READ_ON();
	case PROBE_WRITE: return PROBE_WRITE_ON();
	case PROBE_DROP_IN: return PROBE_DROP_IN_ON();
	case PROBE_DROP_OUT: return PROBE_DROP_OUT_ON();
	}
	return false;
}

void
probe_burst_fire(const struct sonde_stack *st, enum probe_kind kind, struct rte_mbuf *const *pkts,
		 uint16_t n, const struct sonde_if *ifp, struct sonde_if *const *out)
{
	if (!probe_on(kind))
		return;
	for (uint16_t i = 0; i < n; i++)
		probe_fire(st, kind, pkts[i], out ? out[i] : ifp, 0, NULL);
}

/* The tcp and udp probes' arguments, zeroed in one go as probe_fire's. */
struct probe_l4_args {
	struct pktinfo_t pkt;
	struct csinfo_t csi;
	struct ipinfo_t ip;
	union {
		struct {
			struct tcpsinfo_t tcps;
			struct tcpinfo_t tcp;
			struct tcplsinfo_t tcpls;
		};
		struct {
			struct udpsinfo_t udps;
			struct udpinfo_t udp;
		};
	};
	union { /* the IP header's own fields: for ipinfo_t only */
		struct ipv4info_t i4;
		struct ipv6info_t i6;
	};
};

union probe_l4_words {
	struct probe_l4_args a;
	uint64_t v[(sizeof(struct probe_l4_args) + 7) / 8];
};

static inline void
probe_l4_zero(union probe_l4_words *buf)
{
	for (unsigned i = 0; i < RTE_DIM(buf->v); i++)
		buf->v[i] = 0;
}

static bool
probe_addr_any(const uint8_t *a)
{
	static const uint8_t zero[16];

	return memcmp(a, zero, sizeof(zero)) == 0;
}

/* What a packet of a transport probe says, for its arguments: the packet,
 * the IP header (the family from its version nibble, else s's or the
 * packet's), and where the transport header is, or NULL when the first
 * segment does not hold hlen bytes of it. */
struct probe_seg {
	const uint8_t *ip; /* the IP header, or NULL if cut short */
	const uint8_t *l4; /* the transport header, or NULL */
	bool v6;
};

static struct probe_seg
probe_l4_common(const struct sonde_stack *st, const struct rte_mbuf *m, const struct sonde_sock *s,
		uint32_t hlen, struct probe_l4_args *ap)
{
	const uint8_t *h = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t len = rte_pktmbuf_data_len(m), off = pkt_meta_c(m)->l3_len;
	struct probe_seg g = { NULL, NULL, false };
	int fam;

	if (len >= 1 && (h[0] >> 4 == 4 || h[0] >> 4 == 6))
		fam = h[0] >> 4;
	else
		fam = s ? s->af : pkt_meta_c(m)->af;
	if (len == 0 || h[0] >> 4 != fam)
		len = 0;
	g.v6 = fam == 6;
	ap->pkt.pkt_addr = (uint64_t)(uintptr_t)m;
	ap->pkt.pkt_len = rte_pktmbuf_pkt_len(m); /* no link header: no interface yet */
	if (s)
		probe_fill_cs(st, s, &ap->csi);
	if (g.v6)
		probe_fill_ipv6(h, len, &ap->ip, &ap->i6);
	else
		probe_fill_ipv4(h, len, &ap->ip, &ap->i4);
	if (len > 0 && len >= (g.v6 ? 40u : IPV4_MIN_HDR_LEN))
		g.ip = h;
	if (g.ip && off >= (g.v6 ? 40u : IPV4_MIN_HDR_LEN) && len >= off + hlen)
		g.l4 = h + off;
	return g;
}

/* The local and remote ends of a tcpsinfo_t or udpsinfo_t: s's (its key),
 * where s has them; the segment's where s has none (no socket, or a
 * socket bound to the wildcard address or not connected): its source is
 * the local end when out, the remote one when not. */
static void
probe_fill_ends(const struct sonde_sock *s, const struct probe_seg *g,
		const struct probe_l4_args *ap, bool out, char *laddr, char *raddr, uint16_t *lport,
		uint16_t *rport)
{
	const char *src = ap->ip.ip_saddr, *dst = ap->ip.ip_daddr;
	uint16_t sport = 0, dport = 0;

	if (g->l4) {
		sport = wire_get16(g->l4);
		dport = wire_get16(g->l4 + 2);
	}
	memcpy(laddr, out ? src : dst, SONDE_ADDRSTRLEN);
	memcpy(raddr, out ? dst : src, SONDE_ADDRSTRLEN);
	*lport = out ? sport : dport;
	*rport = out ? dport : sport;
	if (s == NULL)
		return;
	if (!probe_addr_any(s->key.laddr)) {
		memset(laddr, 0, SONDE_ADDRSTRLEN);
		(s->af == 6 ? addrfmt_v6 : addrfmt_v4)(laddr, s->key.laddr);
	}
	if (!probe_addr_any(s->key.raddr)) {
		memset(raddr, 0, SONDE_ADDRSTRLEN);
		(s->af == 6 ? addrfmt_v6 : addrfmt_v4)(raddr, s->key.raddr);
	}
	if (s->key.lport)
		*lport = rte_be_to_cpu_16(s->key.lport);
	if (s->key.rport)
		*rport = rte_be_to_cpu_16(s->key.rport);
}

/* The connection's state into t (its ends aside). */
static void
probe_fill_tcps(const struct sonde_sock *s, struct tcpsinfo_t *t)
{
	const struct tcp_cb *tp = &s->tcp;
	uint32_t fack = tp->snd_una;

	t->tcps_addr = (uint64_t)(uintptr_t)s;
	t->tcps_local = !!(tp->tf & TF_LOCAL);
	t->tcps_active = !!(tp->tf & TF_ACTIVE);
	t->tcps_state = tp->state;
	t->tcps_iss = tp->iss;
	t->tcps_suna = tp->snd_una;
	t->tcps_snxt = tp->snd_nxt;
	t->tcps_rack = tp->last_ack_sent;
	t->tcps_rnxt = tp->rcv_nxt;
	t->tcps_swnd = tp->snd_wnd;
	t->tcps_snd_ws = tp->snd_wscale;
	t->tcps_rwnd = tp->rcv_wnd;
	t->tcps_rcv_ws = tp->rcv_wscale;
	t->tcps_cwnd = tp->cwnd;
	t->tcps_cwnd_ssthresh = tp->ssthresh;
	for (unsigned i = 0; i < tp->n_sacked && i < TCP_SACK_HOLES; i++)
		fack = SEQ_MAX(fack, tp->sacked[i].end);
	t->tcps_sack_fack = fack;
	t->tcps_sack_snxt = tp->high_rxt;
	t->tcps_rto = tp->rto_us / 1000;
	t->tcps_mss = tp->mss;
	t->tcps_rtt = tp->srtt_us;
	t->tcps_rtt_sd = tp->rttvar_us;
	t->tcps_irs = tp->irs;
	t->tcps_bytes_acked = tp->bytes_acked;
	t->tcps_bytes_received = tp->bytes_received;
	t->tcps_start_ns = tp->start_ns;
}

/* Whether a tcp probe's segment is one the stack sends. */
static bool
probe_tcp_out(enum probe_tcp_kind kind)
{
	return kind == PROBE_TCP_SEND || kind == PROBE_TCP_CONNECT_REQUEST ||
	       kind == PROBE_TCP_ACCEPT_REFUSED;
}

PROBE_STORES_AS_WRITTEN void
probe_tcp_fire(const struct sonde_stack *st, enum probe_tcp_kind kind, const struct rte_mbuf *m,
	       const struct sonde_sock *s, unsigned flags)
{
	union probe_l4_words buf;
	struct probe_l4_args *ap = &buf.a;
	struct tcpsinfo_t *t = &ap->tcps;
	struct tcpinfo_t *th = &ap->tcp;
	struct pktinfo_t *pkt = &ap->pkt;
	struct csinfo_t *csp = s ? &ap->csi : NULL;
	struct ipinfo_t *ip = &ap->ip;
	struct probe_seg g;

	probe_l4_zero(&buf);
	g = probe_l4_common(st, m, s, TCP_HDR_LEN, ap);
	if (g.l4) {
		th->tcp_sport = wire_get16(g.l4);
		th->tcp_dport = wire_get16(g.l4 + 2);
		th->tcp_seq = wire_get32(g.l4 + 4);
		th->tcp_ack = wire_get32(g.l4 + 8);
		th->tcp_offset = (uint8_t)((g.l4[12] >> 4) * 4);
		th->tcp_flags = g.l4[13];
		th->tcp_window = wire_get16(g.l4 + 14);
		th->tcp_checksum = wire_get16(g.l4 + 16);
		th->tcp_urgent = wire_get16(g.l4 + 18);
		th->tcp_hdr = (uint64_t)(uintptr_t)g.l4;
	}
	if (s)
		probe_fill_tcps(s, t);
	else
		t->tcps_state = TCP_STATE_CLOSED;
	t->tcps_retransmit = !!(flags & PROBE_TCP_F_RETRANSMIT);
	probe_fill_ends(s, &g, ap, probe_tcp_out(kind), t->tcps_laddr, t->tcps_raddr,
			&t->tcps_lport, &t->tcps_rport);

	switch (kind) {
	case PROBE_TCP_SEND: TCP_SEND(pkt, csp, ip, t, th, NULL); break;
	case PROBE_TCP_RECEIVE: TCP_RECEIVE(pkt, csp, ip, t, th, NULL); break;
	case PROBE_TCP_CONNECT_REQUEST: TCP_CONNECT_REQUEST(pkt, csp, ip, t, th, NULL); break;
	case PROBE_TCP_CONNECT_ESTABLISHED:
		TCP_CONNECT_ESTABLISHED(pkt, csp, ip, t, th, NULL);
		break;
	case PROBE_TCP_CONNECT_REFUSED: TCP_CONNECT_REFUSED(pkt, csp, ip, t, th, NULL); break;
	case PROBE_TCP_ACCEPT_ESTABLISHED: TCP_ACCEPT_ESTABLISHED(pkt, csp, ip, t, th, NULL); break;
	case PROBE_TCP_ACCEPT_REFUSED: TCP_ACCEPT_REFUSED(pkt, csp, ip, t, th, NULL); break;
	}
}

PROBE_STORES_AS_WRITTEN void
probe_tcp_state_fire(const struct sonde_stack *st, const struct sonde_sock *s, unsigned old_state)
{
	union probe_l4_words buf;
	struct probe_l4_args *ap = &buf.a;
	struct tcpsinfo_t *t = &ap->tcps;

	probe_l4_zero(&buf);
	probe_fill_cs(st, s, &ap->csi);
	probe_fill_tcps(s, t);
	(s->af == 6 ? addrfmt_v6 : addrfmt_v4)(t->tcps_laddr, s->key.laddr);
	(s->af == 6 ? addrfmt_v6 : addrfmt_v4)(t->tcps_raddr, s->key.raddr);
	t->tcps_lport = rte_be_to_cpu_16(s->key.lport);
	t->tcps_rport = rte_be_to_cpu_16(s->key.rport);
	ap->tcpls.tcps_state = (int32_t)old_state;
	TCP_STATE_CHANGE(NULL, &ap->csi, NULL, t, NULL, &ap->tcpls);
}

PROBE_STORES_AS_WRITTEN void
probe_udp_fire(const struct sonde_stack *st, enum probe_udp_kind kind, const struct rte_mbuf *m,
	       const struct sonde_sock *s)
{
	union probe_l4_words buf;
	struct probe_l4_args *ap = &buf.a;
	struct udpsinfo_t *u = &ap->udps;
	struct udpinfo_t *uh = &ap->udp;
	struct probe_seg g;

	probe_l4_zero(&buf);
	g = probe_l4_common(st, m, s, UDP_HDR_LEN, ap);
	if (g.l4) {
		uh->udp_sport = wire_get16(g.l4);
		uh->udp_dport = wire_get16(g.l4 + 2);
		uh->udp_length = wire_get16(g.l4 + 4);
		uh->udp_checksum = wire_get16(g.l4 + 6);
		uh->udp_hdr = (uint64_t)(uintptr_t)g.l4;
	}
	u->udps_addr = (uint64_t)(uintptr_t)s;
	probe_fill_ends(s, &g, ap, kind == PROBE_UDP_SEND, u->udps_laddr, u->udps_raddr,
			&u->udps_lport, &u->udps_rport);
	if (kind == PROBE_UDP_SEND)
		UDP_SEND(&ap->pkt, s ? &ap->csi : NULL, &ap->ip, u, uh, NULL);
	else
		UDP_RECEIVE(&ap->pkt, s ? &ap->csi : NULL, &ap->ip, u, uh, NULL);
}

#ifdef _SDT_HAS_SEMAPHORES
const uint8_t *probe_sem_block;

/* Every probe's semaphore, from provider.d's list, as PROBE_ANY_ON(). */
#define PROBE_SEM_ADDR(prov, name, MACRO) &prov##_##name##_semaphore,
static unsigned short *const probe_sems[] = { SONDE_PROBE_LIST(PROBE_SEM_ADDR) };
_Static_assert(sizeof(probe_sems) / sizeof(probe_sems[0]) * 2 == PROBE_SEM_BYTES,
	       "PROBE_SEM_BYTES covers every semaphore");

/* The block is used only if the semaphores are exactly its bytes: as
 * many as fit, none twice, none outside. */
void
probe_sems_init(void)
{
	uintptr_t lo = UINTPTR_MAX, hi = 0;
	unsigned n = RTE_DIM(probe_sems);

	for (unsigned i = 0; i < n; i++) {
		uintptr_t a = (uintptr_t)probe_sems[i];

		lo = a < lo ? a : lo;
		hi = a > hi ? a : hi;
		for (unsigned j = 0; j < i; j++)
			if (probe_sems[j] == probe_sems[i])
				return;
	}
	if (hi + 2 - lo == n * 2 && lo % 2 == 0)
		probe_sem_block = (const uint8_t *)lo;
}
#else
void
probe_sems_init(void)
{
}
#endif
