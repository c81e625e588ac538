/*
 * probes.c: fill the DTrace-named argument structs and fire the probes.
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
#include "stack.h"

_Static_assert(SONDE_ADDRSTRLEN == ADDRFMT_LEN, "addrfmt fills the probes' address fields");

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
	const void *cs = pkt_meta_c(m)->conn;
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
		ap->csi.cs_addr = (uint64_t)(uintptr_t)cs;
		/* The first member of struct sonde_sock (sock.h): its cid. */
		memcpy(&ap->csi.cs_cid, cs, sizeof(ap->csi.cs_cid));
		ap->csi.cs_pid = st->pid;
		ap->csi.cs_zoneid = st->id;
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

#ifdef _SDT_HAS_SEMAPHORES
const uint8_t *probe_sem_block;

/* Every probe's semaphore: those PROBE_ANY_ON() reads (a probe added to
 * provider.d goes in both). */
static unsigned short *const probe_sems[] = {
	&ip_send_semaphore,	     &ip_receive_semaphore,
	&ip_local__send_semaphore,   &ip_local__receive_semaphore,
	&ipv4_send_semaphore,	     &ipv4_receive_semaphore,
	&ipv4_local__send_semaphore, &ipv4_local__receive_semaphore,
	&ipv4_read_semaphore,	     &ipv4_write_semaphore,
	&ipv4_drop__in_semaphore,    &ipv4_drop__out_semaphore,
	&ipv6_send_semaphore,	     &ipv6_receive_semaphore,
	&ipv6_local__send_semaphore, &ipv6_local__receive_semaphore,
	&ipv6_read_semaphore,	     &ipv6_write_semaphore,
	&ipv6_drop__in_semaphore,    &ipv6_drop__out_semaphore,
};
_Static_assert(sizeof(probe_sems) / sizeof(probe_sems[0]) * 2 == PROBE_SEM_WORDS * 8,
	       "PROBE_SEM_WORDS covers every semaphore");

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
