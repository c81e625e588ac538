/*
 * replay: the stack's own cost per packet, without a generator or a link.
 *
 * bench/run's main table times sonded against a generator over net_memif,
 * two processes on a shared 2-vCPU guest: honest, but noisy by tens of per
 * cent, and bounded by the generator.  This replays one request at a time
 * in a single process instead: ports are net_ring pairs (rte_eth_from_rings,
 * the same ethdev path as any PMD), bursts of 32 copies of the request are
 * put on the receive ring, sonde_poll() runs once, and what it transmitted is
 * taken off the transmit rings.  Only replay_poll() is the stack's work, so
 *
 *   - natively, the TSC around replay_poll() gives ns per packet;
 *   - under `valgrind --tool=callgrind --toggle-collect=replay_poll`, the
 *     instructions per packet: the same count on every run, whatever else
 *     the machine does, which is how probes compiled in and idle are set
 *     against probes compiled out (the 1% target).
 *
 * The ceiling is the same loop with a MAC-swapping forwarder (testpmd's
 * macswap) in the stack's place, over the same ring ports.
 *
 * The TCP cases play the peer of one connection by hand-built frames (the
 * handshake first, outside the count) to an application on the socket API
 * in the same process, and replay_poll() runs that application too after
 * sonde_poll(): a user's cost per packet includes reading it.
 *   - tcp4_bulk, tcp6_bulk: bursts of 32 full-sized data segments (with
 *     timestamps: 1448 bytes, 1428 for IPv6) to a sink on port 9 that
 *     reads them (sonde_recv_mbuf, zero copy) and frees them; a packet is
 *     a data segment.
 *   - tcp4_rr, tcp6_rr: one request of 1 byte at a time (BURST is 1) to an
 *     echo on port 7 (sonde_recv, sonde_send); the next request acks the
 *     answer; a packet is a request and its answer.
 * What the stack sends is read off the transmit ring (outside the count)
 * for the peer's ACK number and timestamp echo.  The clock moves 1 us per
 * packet, so the stack's timers run as they would.
 *
 * The tunnel cases forward fwd4's packet through an IPIP tunnel (RFC
 * 2003): ipip_encap into one (routed to the tunnel, out port 1 in an outer
 * header to the tunnel's far end), ipip_decap out of one (the request
 * arrives in an outer header on port 0 and its inner packet is forwarded
 * out port 1), to set against fwd4.  esp_encap and esp_decap the same with
 * ESP in UDP on the tunnel (RFC 4303, RFC 3948; AES-128-GCM through the
 * OpenSSL crypto PMD, as sonded does it): what the crypto costs a packet
 * on top of IPIP.  esp_decap's requests are each encrypted (OpenSSL's
 * EVP, outside the count) with the next sequence number: the stack's
 * anti-replay window would drop the same packet twice.
 *
 *   replay [EAL args] -- CASE [PACKETS [BURST [SIZE [CRYPTO]]]]
 *   CASE: macswap icmp4_echo icmp6_echo udp4_echo udp6_echo fwd4 fwd6
 *	   ipip_encap ipip_decap esp_encap esp_decap tcp4_bulk tcp6_bulk tcp4_rr
 *	   tcp6_rr
 *
 * SIZE: the IPv4 request's IP packet in bytes, 50 (the 64-byte frame) to
 * 1400 (ESP's throughput: bytes a busy second).  CRYPTO: ESP's crypto
 * driver (sonde_conf's crypto_pmd; crypto_openssl unless named).
 *
 * Prints "replay CASE packets N ns_per_pkt X answered M"; exits 1 if the
 * stack did not answer (or forward) every packet, or (TCP) deliver every
 * byte, or leaked mbufs.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_eth_ring.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <openssl/evp.h>
#include <rte_ring.h>
#include <rte_tcp.h>

#include "sonde/socket.h"
#include "sonde/sonde.h"

#define BURST 32
#define RING_SIZE 1024
#define POOL_SIZE 8191
#define WARMUP 64 /* bursts before the measured ones */

#define TCP_PEER_PORT 49152
#define TCP_WSCALE 7 /* the peer's: 65535 << 7, a window that never closes */
#define TCP_FRAME 1600

static const uint8_t peer_mac[2][6] = { { 0x02, 0, 0, 0, 0, 0x02 }, { 0x02, 0, 0, 0, 0, 0x03 } };

/* The TCP cases: the peer's side of the connection, and the application's. */
struct tcp_peer {
	bool v6, rr;
	uint16_t port;	  /* the stack's: 9 (sink) or 7 (echo) */
	uint16_t seg;	  /* payload bytes of a data segment */
	uint32_t snd_nxt; /* the peer's next sequence number */
	uint32_t rcv_nxt; /* the stack's next: what the peer acks */
	uint32_t acked;	  /* the highest ACK the stack sent */
	uint32_t ts_ecr;  /* the stack's latest TSval, echoed */
	bool synack;
	uint64_t sent;	 /* payload bytes the peer sent */
	uint64_t echoed; /* payload bytes the stack sent (rr: the answers) */
	uint64_t rsts;
	uint64_t segs; /* segments the stack sent */
	/* the application */
	struct sonde_sock *lsn, *conn;
	uint64_t read; /* bytes it read */
	uint64_t app_errors;
	uint8_t frame[TCP_FRAME];
};

/* A frame's room: the largest request (SIZE 1400) in ESP in UDP. */
#define REPLAY_FRAME 1600

struct replay {
	const char *name;
	struct rte_mempool *pool;
	struct sonde_stack *st;
	struct rte_ring *rx[2], *tx[2];
	uint16_t port[2];
	uint8_t mac[2][6];
	unsigned n_ports;
	uint8_t frame[REPLAY_FRAME];
	uint16_t size;	    /* the request's IP packet, bytes (SIZE); 0: 50 (64-byte frames) */
	const char *crypto; /* ESP's crypto driver (CRYPTO); NULL: the stack's default */
	uint16_t frame_len;
	uint64_t answered;
	uint64_t now;
	unsigned burst;	      /* packets per poll */
	struct tcp_peer *tcp; /* NULL but in the TCP cases */
	/* esp_decap: the inner request, and the peer's outbound SA. */
	uint8_t inner[REPLAY_FRAME];
	uint16_t inner_len;
	uint32_t esp_seq;
	EVP_CIPHER_CTX *evp;
};

/* The tunnel's SAs (esp_*): the stack sends with KEY_OUT under SPI 0x1001,
 * takes KEY_IN under 0x2002 (16-byte AES keys, then the 4-byte salt). */
static const uint8_t esp_key_out[20] = { 1,  2,	 3,  4,	 5,  6,	 7,    8,    9,	   10,
					 11, 12, 13, 14, 15, 16, 0xa1, 0xa2, 0xa3, 0xa4 };
static const uint8_t esp_key_in[20] = { 16, 15, 14, 13, 12, 11, 10,   9,    8,	  7,
					6,  5,	4,  3,	2,  1,	0xb1, 0xb2, 0xb3, 0xb4 };

/* --- frames the peer sends --- */

static uint8_t *
frame_eth(uint8_t *p, const uint8_t *dst, const uint8_t *src, uint16_t type)
{
	struct rte_ether_hdr *eh = (struct rte_ether_hdr *)p;

	memcpy(&eh->dst_addr, dst, 6);
	memcpy(&eh->src_addr, src, 6);
	eh->ether_type = rte_cpu_to_be_16(type);
	return p + sizeof(*eh);
}

static uint16_t
frame_ipv4(uint8_t *p, const uint8_t *dmac, const uint8_t *smac, uint32_t src, uint32_t dst,
	   uint8_t proto, uint16_t l4len, uint8_t **l4)
{
	struct rte_ipv4_hdr *ip =
		(struct rte_ipv4_hdr *)frame_eth(p, dmac, smac, RTE_ETHER_TYPE_IPV4);

	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) + l4len));
	ip->time_to_live = 64;
	ip->next_proto_id = proto;
	ip->src_addr = src;
	ip->dst_addr = dst;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	*l4 = (uint8_t *)(ip + 1);
	return (uint16_t)(RTE_ETHER_HDR_LEN + sizeof(*ip) + l4len);
}

static uint16_t
frame_ipv6(uint8_t *p, const uint8_t *dmac, const uint8_t *smac, const uint8_t *src,
	   const uint8_t *dst, uint8_t proto, uint8_t hlim, uint16_t l4len, uint8_t **l4)
{
	struct rte_ipv6_hdr *ip =
		(struct rte_ipv6_hdr *)frame_eth(p, dmac, smac, RTE_ETHER_TYPE_IPV6);

	ip->vtc_flow = rte_cpu_to_be_32(6u << 28);
	ip->payload_len = rte_cpu_to_be_16(l4len);
	ip->proto = proto;
	ip->hop_limits = hlim;
	memcpy(ip->src_addr, src, 16);
	memcpy(ip->dst_addr, dst, 16);
	*l4 = (uint8_t *)(ip + 1);
	return (uint16_t)(RTE_ETHER_HDR_LEN + sizeof(*ip) + l4len);
}

/* The L4 checksum of an IPv6 frame built by frame_ipv6 (any next header). */
static void
frame_l4_cksum6(uint8_t *p, unsigned off)
{
	const struct rte_ipv6_hdr *ip = (const struct rte_ipv6_hdr *)(p + RTE_ETHER_HDR_LEN);
	uint8_t *l4 = p + RTE_ETHER_HDR_LEN + sizeof(*ip);

	l4[off] = l4[off + 1] = 0;
	uint16_t ck = rte_ipv6_udptcp_cksum(ip, l4);
	memcpy(l4 + off, &ck, 2);
}

static void
addr6(uint8_t *a, uint8_t net, uint8_t host)
{
	memset(a, 0, 16);
	a[0] = 0xfd;
	a[1] = net;
	a[15] = host;
}

static uint32_t
addr4(uint8_t net, uint8_t host)
{
	return rte_cpu_to_be_32(10u << 24 | (uint32_t)net << 16 | host);
}

/* An ARP request from the peer on port i for our address: RFC 826 has the
 * target (us) learn the sender, so the stack knows the peer's MAC. */
static uint16_t
frame_arp(struct replay *r, unsigned i, uint8_t *p)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint8_t *a = frame_eth(p, bcast, peer_mac[i], RTE_ETHER_TYPE_ARP);
	uint32_t spa = addr4((uint8_t)(77 + i), 2), tpa = addr4((uint8_t)(77 + i), 1);

	(void)r;
	memcpy(a, "\x00\x01\x08\x00\x06\x04\x00\x01", 8);
	memcpy(a + 8, peer_mac[i], 6);
	memcpy(a + 14, &spa, 4);
	memset(a + 18, 0, 6);
	memcpy(a + 24, &tpa, 4);
	return RTE_ETHER_HDR_LEN + 28;
}

/* A neighbour solicitation from the peer on port i for our address, with
 * its link-layer address (RFC 4861 7.2.3: the stack records it STALE). */
static uint16_t
frame_ns(struct replay *r, unsigned i, uint8_t *p)
{
	uint8_t src[16], tgt[16], dst[16] = { 0xff, 0x02, [11] = 1, [12] = 0xff };
	uint8_t dmac[6] = { 0x33, 0x33, 0xff, 0, 0, 1 };
	uint8_t *l4;
	uint16_t len;

	(void)r;
	addr6(src, (uint8_t)(0x77 + i), 2);
	addr6(tgt, (uint8_t)(0x77 + i), 1);
	dst[15] = 1;
	len = frame_ipv6(p, dmac, peer_mac[i], src, dst, IPPROTO_ICMPV6, 255, 32, &l4);
	memset(l4, 0, 32);
	l4[0] = 135;
	memcpy(l4 + 8, tgt, 16);
	l4[24] = 1; /* source link-layer address */
	l4[25] = 1;
	memcpy(l4 + 26, peer_mac[i], 6);
	frame_l4_cksum6(p, 2);
	return len;
}

/* The request to replay: 64-byte frames for IPv4, 78 for IPv6 (bench/run's
 * sizes); to us on port 0, or through us to the peer on port 1. */
/* A forwarding case: fwd4, fwd6 and the tunnel ones. */
static bool
case_fwd(const char *c)
{
	return strncmp(c, "fwd", 3) == 0 || strncmp(c, "ipip", 4) == 0 || strncmp(c, "esp", 3) == 0;
}

/* A tunnel case: ipip_* or esp_*. */
static bool
case_tunnel(const char *c)
{
	return strncmp(c, "ipip", 4) == 0 || strncmp(c, "esp", 3) == 0;
}

static int
frame_request(struct replay *r, const char *c)
{
	bool fwd = case_fwd(c);
	bool v6 = strstr(c, "6") != NULL;
	bool icmp = strncmp(c, "icmp", 4) == 0;
	uint16_t l4len = r->size > 48 && !v6 ? (uint16_t)(r->size - 20) : v6 ? 24 : 30;
	uint8_t *l4, *p = r->frame;

	if (v6) {
		uint8_t src[16], dst[16];

		addr6(src, 0x77, 2);
		addr6(dst, fwd ? 0x78 : 0x77, fwd ? 2 : 1);
		r->frame_len = frame_ipv6(p, r->mac[0], peer_mac[0], src, dst,
					  icmp ? IPPROTO_ICMPV6 : IPPROTO_UDP, 64, l4len, &l4);
	} else {
		r->frame_len = frame_ipv4(p, r->mac[0], peer_mac[0], addr4(77, 2),
					  !fwd				? addr4(77, 1)
					  : strstr(c, "_encap") != NULL ? addr4(79, 2)
									: addr4(78, 2),
					  icmp ? IPPROTO_ICMP : IPPROTO_UDP, l4len, &l4);
	}
	memset(l4, 0, l4len);
	for (unsigned i = 8; i < l4len; i++)
		l4[i] = (uint8_t)i;
	if (icmp) {
		l4[0] = v6 ? 128 : 8; /* echo request */
		l4[4] = 0x53;	      /* identifier, sequence */
		l4[7] = 1;
	} else {
		l4[0] = 0xc0; /* 49152 -> 7 */
		l4[3] = 7;
		l4[4] = (uint8_t)(l4len >> 8);
		l4[5] = (uint8_t)l4len;
	}
	if (v6) {
		frame_l4_cksum6(p, icmp ? 2 : 6);
	} else if (icmp) {
		uint16_t ck = (uint16_t)~rte_raw_cksum(l4, l4len);

		memcpy(l4 + 2, &ck, 2);
	} else {
		uint16_t ck =
			rte_ipv4_udptcp_cksum((struct rte_ipv4_hdr *)(p + RTE_ETHER_HDR_LEN), l4);

		memcpy(l4 + 6, &ck, 2);
	}
	if (strcmp(c, "esp_decap") == 0) {
		/* fwd4's packet, encrypted afresh for each (esp_frame). */
		r->inner_len = (uint16_t)(r->frame_len - RTE_ETHER_HDR_LEN);
		memcpy(r->inner, p + RTE_ETHER_HDR_LEN, r->inner_len);
		r->evp = EVP_CIPHER_CTX_new();
		return r->evp != NULL ? 0 : -1;
	}
	if (strcmp(c, "ipip_decap") == 0) {
		/* fwd4's packet, in an outer header from the tunnel's far end. */
		uint8_t inner[REPLAY_FRAME];
		uint16_t ilen = (uint16_t)(r->frame_len - RTE_ETHER_HDR_LEN);

		memcpy(inner, p + RTE_ETHER_HDR_LEN, ilen);
		r->frame_len = frame_ipv4(p, r->mac[0], peer_mac[0], addr4(77, 2), addr4(77, 1),
					  4 /* IPIP */, ilen, &l4);
		memcpy(l4, inner, ilen);
	}
	return 0;
}

/* --- TCP: the peer's segments, and what it reads of the stack's --- */

static uint32_t
tcp_ts_val(const struct replay *r)
{
	return (uint32_t)(r->now / 1000000); /* a ms clock (RFC 7323 5.4) */
}

/* A segment from the peer at its snd_nxt, acking rcv_nxt, with plen bytes
 * of payload; a SYN carries Linux's options (MSS, SACK permitted,
 * timestamps, window scale), any other segment timestamps only. */
static uint16_t
frame_tcp(struct replay *r, uint8_t *p, uint8_t flags, uint16_t plen)
{
	struct tcp_peer *t = r->tcp;
	bool syn = flags & RTE_TCP_SYN_FLAG;
	uint16_t olen = syn ? 20 : 12, l4len = (uint16_t)(sizeof(struct rte_tcp_hdr) + olen + plen);
	uint32_t tsv = rte_cpu_to_be_32(tcp_ts_val(r)), tse = rte_cpu_to_be_32(t->ts_ecr);
	struct rte_tcp_hdr *th;
	uint8_t *l4, *o;
	uint16_t len;

	if (t->v6) {
		uint8_t src[16], dst[16];

		addr6(src, 0x77, 2);
		addr6(dst, 0x77, 1);
		len = frame_ipv6(p, r->mac[0], peer_mac[0], src, dst, IPPROTO_TCP, 64, l4len, &l4);
	} else {
		len = frame_ipv4(p, r->mac[0], peer_mac[0], addr4(77, 2), addr4(77, 1), IPPROTO_TCP,
				 l4len, &l4);
	}
	th = (struct rte_tcp_hdr *)l4;
	th->src_port = rte_cpu_to_be_16(TCP_PEER_PORT);
	th->dst_port = rte_cpu_to_be_16(t->port);
	th->sent_seq = rte_cpu_to_be_32(t->snd_nxt);
	th->recv_ack = rte_cpu_to_be_32(flags & RTE_TCP_ACK_FLAG ? t->rcv_nxt : 0);
	th->data_off = (uint8_t)((sizeof(*th) + olen) / 4 << 4);
	th->tcp_flags = flags;
	th->rx_win = rte_cpu_to_be_16(65535);
	th->cksum = 0;
	th->tcp_urp = 0;
	o = (uint8_t *)(th + 1);
	if (syn) {
		uint16_t mss = rte_cpu_to_be_16(t->v6 ? 1440 : 1460);

		o[0] = 2; /* MSS */
		o[1] = 4;
		memcpy(o + 2, &mss, 2);
		o[4] = 4; /* SACK permitted */
		o[5] = 2;
		o += 6;
	} else {
		o[0] = o[1] = 1; /* NOP NOP: the timestamps 32-bit aligned */
		o += 2;
	}
	o[0] = 8; /* timestamps */
	o[1] = 10;
	memcpy(o + 2, &tsv, 4);
	memcpy(o + 6, &tse, 4);
	if (syn) {
		o[10] = 1; /* NOP, window scale */
		o[11] = 3;
		o[12] = 3;
		o[13] = TCP_WSCALE;
	}
	for (uint16_t i = 0; i < plen; i++)
		l4[sizeof(*th) + olen + i] = (uint8_t)(t->snd_nxt + i);
	if (t->v6) {
		frame_l4_cksum6(p, 16);
	} else {
		th->cksum =
			rte_ipv4_udptcp_cksum((struct rte_ipv4_hdr *)(p + RTE_ETHER_HDR_LEN), l4);
	}
	t->snd_nxt += plen + (syn ? 1 : 0);
	t->sent += plen;
	return len;
}

/* One frame the stack sent: its sequence space and timestamp for the
 * peer's next ACK; returns its payload bytes. */
static unsigned
tcp_seen(struct replay *r, const struct rte_mbuf *m)
{
	struct tcp_peer *t = r->tcp;
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	const struct rte_ether_hdr *eh = (const struct rte_ether_hdr *)p;
	const struct rte_tcp_hdr *th;
	uint32_t l4len, hlen, plen, seq, end;

	if (eh->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4)) {
		const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(eh + 1);
		uint32_t ihl = (ip->version_ihl & 0xf) * 4u;

		if (ip->next_proto_id != IPPROTO_TCP)
			return 0;
		l4len = rte_be_to_cpu_16(ip->total_length) - ihl;
		th = (const struct rte_tcp_hdr *)((const uint8_t *)ip + ihl);
	} else if (eh->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6)) {
		const struct rte_ipv6_hdr *ip = (const struct rte_ipv6_hdr *)(eh + 1);

		if (ip->proto != IPPROTO_TCP)
			return 0;
		l4len = rte_be_to_cpu_16(ip->payload_len);
		th = (const struct rte_tcp_hdr *)(ip + 1);
	} else {
		return 0;
	}
	t->segs++;
	hlen = (th->data_off >> 4) * 4u;
	plen = l4len - hlen;
	seq = rte_be_to_cpu_32(th->sent_seq);
	if (th->tcp_flags & RTE_TCP_RST_FLAG) {
		t->rsts++;
		return 0;
	}
	for (const uint8_t *o = (const uint8_t *)(th + 1), *e = (const uint8_t *)th + hlen;
	     o < e && *o != 0;) {
		if (*o == 1) {
			o++;
			continue;
		}
		if (o + 1 >= e || o[1] < 2)
			break;
		if (*o == 8 && o[1] == 10) {
			uint32_t v;

			memcpy(&v, o + 2, 4);
			t->ts_ecr = rte_be_to_cpu_32(v);
		}
		o += o[1];
	}
	if (th->tcp_flags & RTE_TCP_SYN_FLAG) {
		t->synack = true;
		t->rcv_nxt = seq;
	}
	end = seq + plen + (th->tcp_flags & (RTE_TCP_SYN_FLAG | RTE_TCP_FIN_FLAG) ? 1 : 0);
	if ((int32_t)(end - t->rcv_nxt) > 0)
		t->rcv_nxt = end;
	if (th->tcp_flags & RTE_TCP_ACK_FLAG &&
	    (!t->acked || (int32_t)(rte_be_to_cpu_32(th->recv_ack) - t->acked) > 0))
		t->acked = rte_be_to_cpu_32(th->recv_ack);
	t->echoed += plen;
	return plen;
}

/* The application: accepts the connection, then reads all there is (as
 * the edge-triggered events ask), the sink freeing it, the echo sending it
 * back. */
static void
tcp_app(struct replay *r)
{
	struct tcp_peer *t = r->tcp;
	struct sonde_event ev[16];
	unsigned n = sonde_events(r->st, ev, RTE_DIM(ev));

	for (unsigned i = 0; i < n; i++) {
		struct sonde_sock *s = ev[i].sock;

		if (s == t->lsn) {
			while (sonde_accept(t->lsn, NULL, &s, NULL, NULL) == 0) {
				if (t->conn != NULL)
					t->app_errors++; /* one connection only */
				t->conn = s;
			}
			continue;
		}
		if (!(ev[i].events & SONDE_EV_IN))
			continue;
		if (t->rr) {
			uint8_t buf[256];
			ssize_t k;

			while ((k = sonde_recv(s, buf, sizeof(buf), 0)) > 0) {
				t->read += (uint64_t)k;
				if (sonde_send(s, buf, (size_t)k, 0) != k)
					t->app_errors++;
			}
		} else {
			struct rte_mbuf *m;
			ssize_t k;

			while ((k = sonde_recv_mbuf(s, &m, NULL, NULL)) > 0) {
				t->read += (uint64_t)k;
				rte_pktmbuf_free(m);
			}
		}
	}
}

/* This burst's segments from the peer: full-sized (bulk) or 1 byte (rr). */
static int
tcp_fill(struct replay *r)
{
	struct tcp_peer *t = r->tcp;
	struct rte_mbuf *m[BURST];

	if (rte_pktmbuf_alloc_bulk(r->pool, m, r->burst) != 0)
		return -1;
	for (unsigned i = 0; i < r->burst; i++) {
		uint16_t len = frame_tcp(r, t->frame, RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, t->seg);

		memcpy(rte_pktmbuf_append(m[i], len), t->frame, len);
		m[i]->port = r->port[0];
	}
	if (rte_ring_enqueue_bulk(r->rx[0], (void **)m, r->burst, NULL) != r->burst) {
		rte_pktmbuf_free_bulk(m, r->burst);
		return -1;
	}
	return 0;
}

/* --- the ports and the two loops --- */

static int
replay_port(struct replay *r, unsigned i)
{
	char name[32];
	int id;

	snprintf(name, sizeof(name), "rr%u", i);
	r->rx[i] = rte_ring_create(name, RING_SIZE, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
	snprintf(name, sizeof(name), "rt%u", i);
	r->tx[i] = rte_ring_create(name, RING_SIZE, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (r->rx[i] == NULL || r->tx[i] == NULL)
		return -1;
	snprintf(name, sizeof(name), "replay%u", i);
	id = rte_eth_from_rings(name, &r->rx[i], 1, &r->tx[i], 1, 0);
	if (id < 0)
		return -1;
	r->port[i] = (uint16_t)id;
	return 0;
}

/* Gives the stack one frame on port i and throws away what it sends. */
static void
replay_inject(struct replay *r, unsigned i, const uint8_t *f, uint16_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(r->pool);

	if (m == NULL)
		return;
	memcpy(rte_pktmbuf_append(m, len), f, len);
	if (rte_ring_enqueue(r->rx[i], m) != 0)
		rte_pktmbuf_free(m);
}

static unsigned
replay_drain(struct replay *r)
{
	struct rte_mbuf *out[BURST];
	unsigned n, total = 0;

	for (unsigned i = 0; i < r->n_ports; i++)
		while ((n = rte_ring_dequeue_burst(r->tx[i], (void **)out, BURST, NULL)) > 0) {
			if (r->tcp == NULL) {
				total += n;
			} else {
				/* rr: an answer is a segment with data (the sink's
				 * ACKs carry none) */
				for (unsigned k = 0; k < n; k++)
					total += tcp_seen(r, out[k]) > 0;
			}
			rte_pktmbuf_free_bulk(out, n);
		}
	return total;
}

static void
macswap_poll(struct replay *r)
{
	struct rte_mbuf *pkts[BURST];
	uint16_t n = rte_eth_rx_burst(r->port[0], 0, pkts, BURST), sent;

	for (uint16_t i = 0; i < n; i++) {
		struct rte_ether_hdr *eh = rte_pktmbuf_mtod(pkts[i], struct rte_ether_hdr *);
		struct rte_ether_addr a = eh->dst_addr;

		eh->dst_addr = eh->src_addr;
		eh->src_addr = a;
	}
	sent = rte_eth_tx_burst(r->port[0], 0, pkts, n);
	if (sent < n)
		rte_pktmbuf_free_bulk(pkts + sent, n - sent);
}

static inline void
poll_once(struct replay *r)
{
	if (r->st) {
		sonde_poll(r->st, r->now);
		if (r->tcp)
			tcp_app(r);
	} else {
		macswap_poll(r);
	}
}

/* The measured work: everything from the receive burst to the transmit
 * burst, and for TCP the application's reading (and answering) after it.
 * callgrind counts inside this function only; the warm-up goes through its
 * twin. */
__attribute__((noinline)) static void
replay_poll(struct replay *r)
{
	poll_once(r);
}

__attribute__((noinline)) static void
warmup_poll(struct replay *r)
{
	poll_once(r);
}

/* esp_decap's next request into p: fwd4's packet in ESP in UDP from the
 * tunnel's far end (RFC 4303 2.4 padding, RFC 4106 nonce and AAD), its
 * sequence number the next; the frame's length, 0 on an OpenSSL error. */
static uint16_t
esp_frame(struct replay *r, uint8_t *p)
{
	uint16_t ct = (uint16_t)((r->inner_len + 2 + 3) & ~3u);
	uint8_t nonce[12], pt[REPLAY_FRAME], *u;
	uint16_t len = frame_ipv4(p, r->mac[0], peer_mac[0], addr4(77, 2), addr4(77, 1),
				  IPPROTO_UDP, (uint16_t)(8 + 8 + 8 + ct + 16), &u);
	uint8_t pad = (uint8_t)(ct - r->inner_len - 2);
	uint32_t seq = ++r->esp_seq;
	int n;

	u[0] = 0x11, u[1] = 0x94, u[2] = 0x11, u[3] = 0x94; /* 4500 -> 4500 */
	u[4] = (uint8_t)((len - RTE_ETHER_HDR_LEN - 20) >> 8);
	u[5] = (uint8_t)(len - RTE_ETHER_HDR_LEN - 20);
	u[6] = u[7] = 0;
	memcpy(u + 8, (uint8_t[]){ 0, 0, 0x20, 0x02 }, 4);
	for (int i = 0; i < 4; i++)
		u[12 + i] = (uint8_t)(seq >> (24 - 8 * i));
	memset(u + 16, 0, 4);
	memcpy(u + 20, u + 12, 4); /* the IV: the sequence number */
	memcpy(nonce, esp_key_in + 16, 4);
	memcpy(nonce + 4, u + 16, 8);
	memcpy(pt, r->inner, r->inner_len);
	for (uint8_t i = 0; i < pad; i++)
		pt[r->inner_len + i] = (uint8_t)(i + 1);
	pt[r->inner_len + pad] = pad;
	pt[r->inner_len + pad + 1] = 4; /* IPv4 inside */
	if (EVP_EncryptInit_ex(r->evp, EVP_aes_128_gcm(), NULL, esp_key_in, nonce) != 1 ||
	    EVP_EncryptUpdate(r->evp, NULL, &n, u + 8, 8) != 1 ||
	    EVP_EncryptUpdate(r->evp, u + 24, &n, pt, ct) != 1 ||
	    EVP_EncryptFinal_ex(r->evp, u + 24 + n, &n) != 1 ||
	    EVP_CIPHER_CTX_ctrl(r->evp, EVP_CTRL_GCM_GET_TAG, 16, u + 24 + ct) != 1)
		return 0;
	return len;
}

static int
replay_fill(struct replay *r)
{
	struct rte_mbuf *m[BURST];

	if (rte_pktmbuf_alloc_bulk(r->pool, m, r->burst) != 0)
		return -1;
	for (unsigned i = 0; i < r->burst; i++) {
		if (r->evp != NULL) {
			uint8_t f[REPLAY_FRAME];
			uint16_t len = esp_frame(r, f);

			if (len == 0) {
				rte_pktmbuf_free_bulk(m, r->burst);
				return -1;
			}
			memcpy(rte_pktmbuf_append(m[i], len), f, len);
		} else {
			memcpy(rte_pktmbuf_append(m[i], r->frame_len), r->frame, r->frame_len);
		}
		m[i]->port = r->port[0];
	}
	if (rte_ring_enqueue_bulk(r->rx[0], (void **)m, r->burst, NULL) != r->burst) {
		rte_pktmbuf_free_bulk(m, r->burst);
		return -1;
	}
	return 0;
}

/* The listener, and the handshake by hand: SYN, the SYN-ACK off the
 * transmit ring (the stack's ISN), ACK; the application accepts. */
static int
tcp_setup(struct replay *r)
{
	struct tcp_peer *t = r->tcp;
	int dom = t->v6 ? AF_INET6 : AF_INET;
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6,
				   .sin6_port = rte_cpu_to_be_16(t->port) };
	struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = rte_cpu_to_be_16(t->port) };
	uint16_t len;

	if (sonde_socket(r->st, dom, SOCK_STREAM, NULL, &t->lsn) != 0 ||
	    sonde_bind(t->lsn, t->v6 ? (struct sockaddr *)&a6 : (struct sockaddr *)&a4,
		       t->v6 ? sizeof(a6) : sizeof(a4)) != 0 ||
	    sonde_listen(t->lsn, 16) != 0) {
		fprintf(stderr, "replay: no listener on port %u\n", t->port);
		return -1;
	}
	t->snd_nxt = 0x10000000;
	len = frame_tcp(r, t->frame, RTE_TCP_SYN_FLAG, 0);
	replay_inject(r, 0, t->frame, len);
	sonde_poll(r->st, r->now);
	replay_drain(r);
	if (!t->synack) {
		fprintf(stderr, "replay: no SYN-ACK\n");
		return -1;
	}
	r->now += 100000;
	len = frame_tcp(r, t->frame, RTE_TCP_ACK_FLAG, 0);
	replay_inject(r, 0, t->frame, len);
	sonde_poll(r->st, r->now);
	tcp_app(r);
	replay_drain(r);
	if (t->conn == NULL) {
		fprintf(stderr, "replay: connection not accepted\n");
		return -1;
	}
	return 0;
}

/* ip.tun0, IPIP: for ipip_encap from port 1's address to its peer, with
 * 10.79.0.0/24 routed through it; for ipip_decap from port 0's peer. */
static int
replay_tunnel(struct replay *r)
{
	bool enc = strstr(r->name, "_encap") != NULL;
	struct sonde_if_conf tc = { .type = SONDE_IF_TUNNEL, .name = "ip.tun0" };
	struct sonde_esp_conf esp = { .keepalive = 0xffff };
	struct sonde_prefix p, gw;
	int t;

	tc.tunnel.mode = SONDE_TUNNEL_IPIP;
	if (strncmp(r->name, "esp", 3) == 0) {
		esp.out = (struct sonde_esp_sa){ .spi = 0x1001, .alg = SONDE_ESP_AES_GCM_128 };
		esp.in = (struct sonde_esp_sa){ .spi = 0x2002,
						.alg = SONDE_ESP_AES_GCM_128,
						.replay_window = 1024 };
		memcpy(esp.out.key, esp_key_out, sizeof(esp_key_out));
		memcpy(esp.in.key, esp_key_in, sizeof(esp_key_in));
		tc.tunnel.esp = &esp;
	}
	if (sonde_prefix_parse(enc ? "10.78.0.1" : "10.77.0.1", &tc.tunnel.local) != 0 ||
	    sonde_prefix_parse(enc ? "10.78.0.2" : "10.77.0.2", &tc.tunnel.remote) != 0)
		return -1;
	t = sonde_if_create(r->st, &tc);
	if (t < 0 || sonde_prefix_parse("192.168.79.1/30", &p) != 0 || sonde_addr_add(r->st, t, &p))
		return -1;
	if (enc &&
	    (sonde_prefix_parse("10.79.0.0/24", &p) != 0 ||
	     sonde_prefix_parse("192.168.79.2", &gw) != 0 || sonde_route_add(r->st, &p, &gw)))
		return -1;
	return 0;
}

static int
replay_stack(struct replay *r)
{
	static const char *const addrs[2][2] = { { "10.77.0.1/24", "fd77::1/64" },
						 { "10.78.0.1/24", "fd78::1/64" } };
	struct sonde_conf conf = { .pool = r->pool,
				   .forwarding = case_fwd(r->name),
				   .crypto_pmd = r->crypto };
	struct sonde_prefix p;
	uint8_t f[128];

	r->st = sonde_stack_create(&conf);
	if (r->st == NULL)
		return -1;
	for (unsigned i = 0; i < r->n_ports; i++) {
		int ifx = sonde_port_add(r->st, r->port[i]);

		if (ifx < 0) {
			fprintf(stderr, "replay: port %u: %s\n", r->port[i], strerror(-ifx));
			return -1;
		}
		for (unsigned a = 0; a < 2; a++)
			if (sonde_prefix_parse(addrs[i][a], &p) != 0 ||
			    sonde_addr_add(r->st, ifx, &p) != 0) {
				fprintf(stderr, "replay: address %s refused\n", addrs[i][a]);
				return -1;
			}
	}
	if (sonde_udp_service(r->st, 7, SONDE_SERVICE_ECHO) != 0)
		return -1;
	if (case_tunnel(r->name) && replay_tunnel(r) != 0)
		return -1;
	/* DAD, on the stack's own clock: a few simulated seconds. */
	for (r->now = 1; !sonde_ready(r->st) && r->now < 10000000000ull; r->now += 10000000) {
		sonde_poll(r->st, r->now);
		replay_drain(r);
	}
	if (!sonde_ready(r->st)) {
		fprintf(stderr, "replay: addresses still tentative\n");
		return -1;
	}
	for (unsigned i = 0; i < r->n_ports; i++) {
		replay_inject(r, i, f, frame_arp(r, i, f));
		replay_inject(r, i, f, frame_ns(r, i, f));
	}
	sonde_poll(r->st, r->now);
	replay_drain(r);
	return r->tcp ? tcp_setup(r) : 0;
}

int
main(int argc, char **argv)
{
	struct replay r = { 0 };
	static struct tcp_peer tcp;
	uint64_t packets = 1000000, cycles = 0, rounds, read0 = 0, segs0 = 0, seg_end;
	bool ok;
	int n = rte_eal_init(argc, argv);
	unsigned leaked;

	if (n < 0)
		return 2;
	argc -= n;
	argv += n;
	if (argc < 2) {
		fprintf(stderr,
			"usage: replay [EAL args] -- CASE [PACKETS [BURST [SIZE [CRYPTO]]]]\n");
		return 2;
	}
	r.name = argv[1];
	if (argc > 2)
		packets = strtoull(argv[2], NULL, 0);
	r.burst = argc > 3 ? (unsigned)atoi(argv[3]) : BURST;
	r.size = argc > 4 ? (uint16_t)atoi(argv[4]) : 0;
	r.crypto = argc > 5 ? argv[5] : NULL;
	if (argc > 4 && (r.size < 50 || r.size > 1400)) {
		fprintf(stderr, "replay: SIZE (IPv4 cases) is 50 to 1400 bytes\n");
		return 2;
	}
	if (r.burst < 1 || r.burst > BURST) {
		fprintf(stderr, "replay: BURST is 1 to %d\n", BURST);
		return 2;
	}
	if (strncmp(r.name, "tcp", 3) == 0) {
		r.tcp = &tcp;
		tcp.v6 = r.name[3] == '6';
		tcp.rr = strstr(r.name, "_rr") != NULL;
		if (!tcp.rr && strstr(r.name, "_bulk") == NULL) {
			fprintf(stderr, "replay: unknown case %s\n", r.name);
			return 2;
		}
		tcp.port = tcp.rr ? 7 : 9;
		/* the MSS less the timestamps option */
		tcp.seg = tcp.rr ? 1 : tcp.v6 ? 1428 : 1448;
		/* request and response: one at a time */
		if (tcp.rr)
			r.burst = 1;
	}
	rounds = (packets + r.burst - 1) / r.burst;
	r.n_ports = case_fwd(r.name) ? 2 : 1;
	r.pool = rte_pktmbuf_pool_create("replay", POOL_SIZE, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	if (r.pool == NULL)
		return 1;
	for (unsigned i = 0; i < r.n_ports; i++)
		if (replay_port(&r, i) != 0)
			return 1;
	if (strcmp(r.name, "macswap") != 0) {
		if (replay_stack(&r) != 0) {
			fprintf(stderr, "replay: stack setup failed\n");
			return 1;
		}
	} else if (rte_eth_dev_configure(r.port[0], 1, 1, &(struct rte_eth_conf){ 0 }) != 0 ||
		   rte_eth_rx_queue_setup(r.port[0], 0, RING_SIZE, 0, NULL, r.pool) != 0 ||
		   rte_eth_tx_queue_setup(r.port[0], 0, RING_SIZE, 0, NULL) != 0 ||
		   rte_eth_dev_start(r.port[0]) != 0) {
		return 1;
	}
	for (unsigned i = 0; i < r.n_ports; i++)
		rte_eth_macaddr_get(r.port[i], (struct rte_ether_addr *)r.mac[i]);
	if (strcmp(r.name, "macswap") == 0)
		frame_request(&r, "udp4_echo");
	else if (r.tcp == NULL && frame_request(&r, r.name) != 0)
		return 1;
	for (unsigned i = 0; i < WARMUP; i++) {
		if ((r.tcp ? tcp_fill(&r) : replay_fill(&r)) != 0)
			return 1;
		warmup_poll(&r);
		replay_drain(&r);
		if (r.tcp)
			r.now += 1000u * r.burst;
	}
	if (r.tcp) {
		read0 = tcp.read;
		segs0 = tcp.segs;
	}
	for (uint64_t i = 0; i < rounds; i++) {
		uint64_t t0;

		if ((r.tcp ? tcp_fill(&r) : replay_fill(&r)) != 0)
			return 1;
		t0 = rte_rdtsc();
		replay_poll(&r);
		cycles += rte_rdtsc() - t0;
		r.answered += replay_drain(&r);
		if (r.tcp)
			r.now += 1000u * r.burst;
	}
	if (r.tcp && !tcp.rr) {
		/* the sink's answer is having read it all: a data segment
		 * counts once its bytes are read */
		r.answered = (tcp.read - read0) / tcp.seg;
	}
	ok = r.answered == rounds * r.burst;
	seg_end = tcp.segs;
	if (r.tcp) {
		uint8_t f[TCP_FRAME];

		/* every byte read (and for rr, answered) and acknowledged: the
		 * peer acks the last answer (no retransmission of it then), a
		 * delayed ACK of ours is due in 40 ms */
		replay_inject(&r, 0, f, frame_tcp(&r, f, RTE_TCP_ACK_FLAG, 0));
		r.now += 100000000;
		sonde_poll(r.st, r.now);
		replay_drain(&r);
		if (tcp.read != tcp.sent || tcp.acked != tcp.snd_nxt || tcp.rsts ||
		    tcp.app_errors || (tcp.rr && tcp.echoed != tcp.sent)) {
			fprintf(stderr,
				"replay: TCP sent %" PRIu64 " read %" PRIu64 " echoed %" PRIu64
				" unacked %u rsts %" PRIu64 " app errors %" PRIu64 "\n",
				tcp.sent, tcp.read, tcp.echoed, tcp.snd_nxt - tcp.acked, tcp.rsts,
				tcp.app_errors);
			ok = false;
		}
	}
	printf("replay %s packets %" PRIu64 " ns_per_pkt %.1f answered %" PRIu64, r.name,
	       rounds * r.burst,
	       (double)cycles * 1e9 / (double)rte_get_tsc_hz() / (double)(rounds * r.burst),
	       r.answered);
	/* how often the stack ACKs (or updates the window): part of its cost */
	if (r.tcp)
		printf(" stack_segs_per_pkt %.3f",
		       (double)(seg_end - segs0) / (double)(rounds * r.burst));
	printf("\n");
	if (r.tcp) {
		/* the connection closed while the ports can still send */
		sonde_abort(tcp.conn);
		sonde_close(tcp.lsn);
		sonde_poll(r.st, r.now);
		replay_drain(&r);
	}
	if (r.st) {
		sonde_ports_close(r.st);
		sonde_stack_destroy(r.st);
	} else {
		rte_eth_dev_stop(r.port[0]);
		rte_eth_dev_close(r.port[0]);
	}
	replay_drain(&r);
	leaked = rte_mempool_in_use_count(r.pool);
	if (leaked)
		fprintf(stderr, "replay: %u mbufs in use at exit\n", leaked);
	rte_eal_cleanup();
	return ok && leaked == 0 ? 0 : 1;
}
