/*
 * sonde-gen: a DPDK packet generator for sonde's users and benchmarks.
 *
 * Sends ICMP echo requests, UDP datagrams or IPv6 UDP datagrams over one
 * DPDK port (memif, ring, tap, a NIC) at a set rate or as fast as it can,
 * reads what comes back, and reports packets sent/received/lost, Mpps both
 * ways and round-trip latency percentiles from a TSC timestamp carried in
 * each payload.  It answers ARP requests and neighbour solicitations for
 * its own address, so the stack under test can reply to it, and it learns
 * the target's MAC the same way (or takes --dst-mac).
 *
 *   sonde-gen [EAL args] -- --src ADDR --dst ADDR [--mode icmp4|icmp6|udp4|udp6]
 *             [--size FRAME] [--rate PPS] [--duration SEC] [--count N]
 *             [--dport N] [--flows N] [--dst-mac MAC] [--gw ADDR]
 *             [--rx-port N --rx-addr ADDR] [--ipip LOCAL,REMOTE] [--rx-ipip]
 *             [--esp FILE] [--window N] [--json]
 *   sonde-gen [EAL args] -- --mode tcp-send|tcp-recv|tcp-rr|tcp-crr|http
 *             --src ADDR [--src ADDR ...|--src-count N] --dst ADDR [--conns N]
 *             [--req BYTES] [--resp BYTES] [--duration SEC] [--dport N] [--json]
 *
 * For a forwarding test, --gw is the router's address on port 0 (whose MAC
 * the requests go to) and --rx-port/--rx-addr the port and address the
 * forwarded packets arrive at (the generator answers ARP/ND for it there).
 *
 * For a tunnel test, --ipip LOCAL,REMOTE puts every IPv4 packet in an
 * outer IPv4 header from LOCAL to REMOTE (IP in IP, RFC 2003), the frame
 * size still the frame's on the wire, so that the target takes it out of
 * its tunnel; and --rx-ipip takes the outer header off what arrives in
 * one (outer protocol 4) before the packet is matched and timed, so that
 * what the target forwarded into its tunnel counts.
 *
 * --esp FILE (sonded's SA file, esp_sa.c, from this end: "out" is what we
 * send with) puts the --ipip packets in ESP in UDP 4500 instead (RFC 4303,
 * RFC 3948, AES-GCM: OpenSSL's EVP, a sequence number each, from the
 * file's "seq" on), the target's ESP tunnel's far end; and what comes
 * back in ESP (UDP to 4500) from the "in" SA is decrypted (its ICV
 * checked) before it is matched.  --size is then the frame before ESP (the inner packet as with
 * --ipip alone); ESP adds its 42 to 45 bytes on the wire.
 *
 * --window N keeps at most N packets outstanding (sent and not back yet):
 * fewer than the target's transmit ring holds, so that a moment's stall on
 * our side (descheduled, or our first packets' page faults) cannot
 * overflow it into losses while the target works through its receive
 * ring.  A packet the target drops stays outstanding, the window a packet
 * smaller for the rest of the run: for targets that should lose none.
 *
 * The TCP modes (gen_tcp.c) are a client on libsonde instead, against a
 * server's TCP services: bulk both ways, request/response, connect-
 * request-close and HTTP keep-alive.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include <openssl/evp.h>

#include "esp_sa.h"
#include "gen_tcp.h"
#include "sonde/sonde.h"
#include "wire.h"
#include "wire6.h"

#define BURST 32
#define RX_ROUNDS 4 /* bursts read from a port at most per turn (gen_rx_port) */
#define POOL_SIZE 8191
#define MAGIC 0x736f6e6465u /* "sonde" */
#define HIST_US 20000	    /* latency histogram: 1 us buckets up to 20 ms */
/* IP in IP's protocol number (RFC 2003 3.1): the stack's own definition
 * is in its tunnel's internal header, not one an application includes. */
#define IPPROTO_IPIP_ 4

enum gen_mode { MODE_ICMP4, MODE_UDP4, MODE_UDP6, MODE_ICMP6 };

static const char *const gen_mode_name[] = { "icmp4", "udp4", "udp6", "icmp6" };

struct gen {
	enum gen_mode mode;
	struct sonde_prefix src, dst;
	struct sonde_prefix gw, rx_addr;
	uint8_t mac[6], dst_mac[6], rx_mac[6];
	bool have_dst_mac;
	uint16_t port, rx_port;
	uint32_t size; /* frame bytes, without FCS */
	uint64_t rate; /* packets a second; 0 = as fast as it can */
	double duration;
	uint64_t count;
	uint16_t dport, flows;
	uint32_t window; /* --window: most packets outstanding; 0: no bound */
	bool json;
	bool ipip, rx_ipip;		  /* --ipip, --rx-ipip */
	bool esp;			  /* --esp */
	struct sonde_esp_conf sa;	  /* --esp's SAs */
	EVP_CIPHER_CTX *enc, *dec;	  /* their keys set, an IV a packet */
	uint32_t esp_seq;		  /* the last sent */
	uint32_t ipip_local, ipip_remote; /* --ipip's outer addresses, network order */
	struct rte_mempool *pool;
	uint64_t hz;
	uint64_t sent, received, bad, seq;
	uint64_t hist[HIST_US + 1];
	uint64_t lat_max_ns, lat_sum_ns;
};

static volatile sig_atomic_t quit;

static void
on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

static int
usage(const char *why)
{
	fprintf(stderr,
		"sonde-gen: %s\nusage: sonde-gen [EAL args] -- --src ADDR --dst ADDR "
		"[--mode icmp4|icmp6|udp4|udp6] [--size FRAME] [--rate PPS] [--duration SEC] "
		"[--count N] [--dport N] [--flows N] [--dst-mac MAC] [--gw ADDR] "
		"[--rx-port N --rx-addr ADDR] [--ipip LOCAL,REMOTE] [--rx-ipip] [--window N] "
		"[--json]\n",
		why);
	return 2;
}

static int
parse_mac(const char *s, uint8_t *mac)
{
	unsigned v[6];

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return 0;
}

/* --ipip LOCAL,REMOTE: two IPv4 addresses, no prefix lengths. */
static int
parse_ipip(const char *s, struct gen *g)
{
	const char *comma = strchr(s, ',');
	struct sonde_prefix local, remote;
	char buf[64];

	if (comma == NULL || (size_t)(comma - s) >= sizeof(buf) || strchr(s, '/') != NULL)
		return -1;
	memcpy(buf, s, (size_t)(comma - s));
	buf[comma - s] = '\0';
	if (sonde_prefix_parse(buf, &local) != 0 || sonde_prefix_parse(comma + 1, &remote) != 0 ||
	    local.af != AF_INET || remote.af != AF_INET)
		return -1;
	g->ipip = true;
	g->ipip_local = local.addr.v4;
	g->ipip_remote = remote.addr.v4;
	return 0;
}

static int
parse_args(int argc, char **argv, struct gen *g)
{
	static const struct option lo[] = {
		{ "src", required_argument, NULL, 's' },
		{ "dst", required_argument, NULL, 'd' },
		{ "mode", required_argument, NULL, 'm' },
		{ "size", required_argument, NULL, 'z' },
		{ "rate", required_argument, NULL, 'r' },
		{ "duration", required_argument, NULL, 't' },
		{ "count", required_argument, NULL, 'c' },
		{ "dport", required_argument, NULL, 'p' },
		{ "flows", required_argument, NULL, 'f' },
		{ "dst-mac", required_argument, NULL, 'M' },
		{ "json", no_argument, NULL, 'j' },
		{ "gw", required_argument, NULL, 'g' },
		{ "rx-port", required_argument, NULL, 'R' },
		{ "rx-addr", required_argument, NULL, 'A' },
		{ "ipip", required_argument, NULL, 'I' },
		{ "rx-ipip", no_argument, NULL, 'X' },
		{ "esp", required_argument, NULL, 'E' },
		{ "window", required_argument, NULL, 'w' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 's':
			if (sonde_prefix_parse(optarg, &g->src) != 0)
				return usage("bad --src");
			break;
		case 'd':
			if (sonde_prefix_parse(optarg, &g->dst) != 0)
				return usage("bad --dst");
			break;
		case 'm':
			if (strcmp(optarg, "icmp4") == 0)
				g->mode = MODE_ICMP4;
			else if (strcmp(optarg, "udp4") == 0)
				g->mode = MODE_UDP4;
			else if (strcmp(optarg, "udp6") == 0)
				g->mode = MODE_UDP6;
			else if (strcmp(optarg, "icmp6") == 0)
				g->mode = MODE_ICMP6;
			else
				return usage("bad --mode");
			break;
		case 'z':
			g->size = (uint32_t)strtoul(optarg, &end, 10);
			if (*end || g->size < 60 || g->size > 1514)
				return usage("bad --size (60..1514)");
			break;
		case 'r':
			g->rate = strtoull(optarg, &end, 10);
			if (*end)
				return usage("bad --rate");
			break;
		case 't':
			g->duration = strtod(optarg, &end);
			if (*end || g->duration <= 0)
				return usage("bad --duration");
			break;
		case 'c':
			g->count = strtoull(optarg, &end, 10);
			if (*end)
				return usage("bad --count");
			break;
		case 'p':
			g->dport = (uint16_t)strtoul(optarg, &end, 10);
			if (*end)
				return usage("bad --dport");
			break;
		case 'f':
			g->flows = (uint16_t)strtoul(optarg, &end, 10);
			if (*end || g->flows == 0)
				return usage("bad --flows");
			break;
		case 'M':
			if (parse_mac(optarg, g->dst_mac) != 0)
				return usage("bad --dst-mac");
			g->have_dst_mac = true;
			break;
		case 'j': g->json = true; break;
		case 'g':
			if (sonde_prefix_parse(optarg, &g->gw) != 0)
				return usage("bad --gw");
			break;
		case 'R':
			g->rx_port = (uint16_t)strtoul(optarg, &end, 10);
			if (*end)
				return usage("bad --rx-port");
			break;
		case 'A':
			if (sonde_prefix_parse(optarg, &g->rx_addr) != 0)
				return usage("bad --rx-addr");
			break;
		case 'I':
			if (parse_ipip(optarg, g) != 0)
				return usage("bad --ipip (LOCAL,REMOTE: two IPv4 addresses)");
			break;
		case 'X': g->rx_ipip = true; break;
		case 'E': {
			static char why[600];

			if (esp_sa_file(&g->sa, optarg, why, sizeof(why)) != NULL)
				return usage(why);
			g->esp = true;
			break;
		}
		case 'w':
			g->window = (uint32_t)strtoul(optarg, &end, 10);
			if (*end || g->window == 0)
				return usage("bad --window");
			break;
		default: return usage("unknown option");
		}
	}
	if (g->src.af == 0 || g->dst.af == 0)
		return usage("--src and --dst are required");
	if (g->gw.af == 0)
		g->gw = g->dst;
	if (g->rx_addr.af == 0)
		g->rx_addr = g->src;
	if ((g->mode >= MODE_UDP6) != (g->dst.af == AF_INET6) || g->src.af != g->dst.af)
		return usage("--src/--dst family does not match --mode");
	/* IP in IP carries IPv4 (RFC 2003); IPv6 in IPv4 is another
	 * protocol (41, RFC 4213) that nothing here needs yet. */
	if ((g->ipip || g->rx_ipip) && g->mode != MODE_UDP4 && g->mode != MODE_ICMP4)
		return usage("--ipip and --rx-ipip carry IPv4: --mode udp4 or icmp4 only");
	if (g->esp && !g->ipip && g->port == g->rx_port)
		return usage(
			"--esp needs --ipip (the outer addresses), or a --rx-port it reads ESP on");
	return 0;
}

/* --- ESP (RFC 4303) in UDP (RFC 3948), AES-GCM (RFC 4106) --- */

#define ESP_PORT 4500
#define ESP_OVER (8 + 8 + 8 + 16) /* UDP, SPI and sequence, IV, ICV; the trailer apart */

static EVP_CIPHER_CTX *
esp_ctx(const struct sonde_esp_sa *sa, bool enc)
{
	bool k256 = sa->alg == SONDE_ESP_AES_GCM_256;
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();

	if (c == NULL || (enc ? EVP_EncryptInit_ex(c, k256 ? EVP_aes_256_gcm() : EVP_aes_128_gcm(),
						   NULL, sa->key, NULL)
			      : EVP_DecryptInit_ex(c, k256 ? EVP_aes_256_gcm() : EVP_aes_128_gcm(),
						   NULL, sa->key, NULL)) != 1) {
		EVP_CIPHER_CTX_free(c);
		return NULL;
	}
	return c;
}

/* The IPIP frame of m (Ethernet, outer IPv4 of protocol 4, the inner
 * packet) as ESP in UDP from the outer header's addresses: a new mbuf;
 * NULL on a failure (m freed either way). */
static struct rte_mbuf *
esp_wrap(struct gen *g, struct rte_mbuf *m)
{
	const struct sonde_esp_sa *sa = &g->sa.out;
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t plen = rte_pktmbuf_data_len(m) - ETH_HDR_LEN - IPV4_MIN_HDR_LEN;
	uint32_t ct = (plen + 2 + 3) & ~3u, tot = ETH_HDR_LEN + IPV4_MIN_HDR_LEN + ESP_OVER + ct;
	uint32_t pad = ct - plen - 2, seq = ++g->esp_seq, spi = rte_cpu_to_be_32(sa->spi);
	const uint8_t *salt = sa->key + (sa->alg == SONDE_ESP_AES_GCM_256 ? 32 : 16);
	struct rte_mbuf *n = rte_pktmbuf_alloc(g->pool);
	uint8_t *q, *u, nonce[12];
	struct ipv4_view ip;
	int len;

	if (n == NULL || rte_pktmbuf_tailroom(n) < tot)
		goto fail;
	q = (uint8_t *)rte_pktmbuf_append(n, (uint16_t)tot);
	memcpy(q, f, ETH_HDR_LEN);
	if (wire_ipv4_parse(f + ETH_HDR_LEN, IPV4_MIN_HDR_LEN + plen, 0, &ip) != 0)
		goto fail;
	ip.total_len = (uint16_t)(tot - ETH_HDR_LEN);
	ip.proto = IPPROTO_UDP_;
	wire_ipv4_emit(q + ETH_HDR_LEN, &ip, 0);
	u = q + ETH_HDR_LEN + IPV4_MIN_HDR_LEN;
	wire_put16(u, ESP_PORT);
	wire_put16(u + 2, ESP_PORT);
	wire_put16(u + 4, (uint16_t)(tot - ETH_HDR_LEN - IPV4_MIN_HDR_LEN));
	wire_put16(u + 6, 0); /* RFC 3948 2.1 */
	memcpy(u + 8, &spi, 4);
	wire_put32(u + 12, seq);
	wire_put32(u + 16, 0); /* the IV: the sequence number, unique under the key */
	wire_put32(u + 20, seq);
	/* The inner packet and its trailer where the ciphertext goes:
	 * encrypted in place. */
	memcpy(u + 24, f + ETH_HDR_LEN + IPV4_MIN_HDR_LEN, plen);
	for (uint32_t i = 0; i < pad; i++)
		u[24 + plen + i] = (uint8_t)(i + 1);
	u[24 + plen + pad] = (uint8_t)pad;
	u[24 + plen + pad + 1] = IPPROTO_IPIP_;
	memcpy(nonce, salt, 4);
	memcpy(nonce + 4, u + 16, 8);
	if (EVP_EncryptInit_ex(g->enc, NULL, NULL, NULL, nonce) != 1 ||
	    EVP_EncryptUpdate(g->enc, NULL, &len, u + 8, 8) != 1 ||
	    EVP_EncryptUpdate(g->enc, u + 24, &len, u + 24, (int)ct) != 1 ||
	    EVP_EncryptFinal_ex(g->enc, u + 24 + len, &len) != 1 ||
	    EVP_CIPHER_CTX_ctrl(g->enc, EVP_CTRL_GCM_GET_TAG, 16, u + 24 + ct) != 1)
		goto fail;
	rte_pktmbuf_free(m);
	return n;
fail:
	rte_pktmbuf_free(n);
	rte_pktmbuf_free(m);
	return NULL;
}

/* An ESP-in-UDP frame to us from the in SA, decrypted in place: the offset
 * of the inner packet in p, and its length into *ilen; 0 when it is not
 * one of ours or fails its ICV. */
static uint32_t
esp_unwrap(struct gen *g, uint8_t *p, uint32_t len, uint32_t *ilen)
{
	uint32_t l3 = ETH_HDR_LEN, ihl, ulen, ct;
	uint8_t nonce[12], *u;
	int n;

	if (len < l3 + IPV4_MIN_HDR_LEN + ESP_OVER + 4 || wire_get16(p + 12) != ETHERTYPE_IPV4 ||
	    p[l3 + 9] != IPPROTO_UDP_)
		return 0;
	ihl = (p[l3] & 0xfu) * 4;
	u = p + l3 + ihl;
	if (len < l3 + ihl + ESP_OVER + 4 || wire_get16(u + 2) != ESP_PORT)
		return 0;
	ulen = wire_get16(u + 4);
	if (ulen < ESP_OVER + 4 || l3 + ihl + ulen > len || (ulen - ESP_OVER) % 4 ||
	    wire_get32(u + 8) != g->sa.in.spi)
		return 0;
	ct = ulen - ESP_OVER;
	memcpy(nonce, g->sa.in.key + (g->sa.in.alg == SONDE_ESP_AES_GCM_256 ? 32 : 16), 4);
	memcpy(nonce + 4, u + 16, 8);
	if (EVP_DecryptInit_ex(g->dec, NULL, NULL, NULL, nonce) != 1 ||
	    EVP_DecryptUpdate(g->dec, NULL, &n, u + 8, 8) != 1 ||
	    EVP_DecryptUpdate(g->dec, u + 24, &n, u + 24, (int)ct) != 1 ||
	    EVP_CIPHER_CTX_ctrl(g->dec, EVP_CTRL_GCM_SET_TAG, 16, u + 24 + ct) != 1 ||
	    EVP_DecryptFinal_ex(g->dec, u + 24 + n, &n) != 1)
		return 0;
	if (u[24 + ct - 2] + 2u > ct || u[24 + ct - 1] != IPPROTO_IPIP_)
		return 0;
	*ilen = ct - 2 - u[24 + ct - 2];
	return l3 + ihl + 24;
}

static uint32_t
l3_hdr_len(const struct gen *g)
{
	return g->mode >= MODE_UDP6 ? IPV6_HDR_LEN : IPV4_MIN_HDR_LEN;
}

/* Where the inner IP header starts in what we send: after the outer one
 * with --ipip. */
static uint32_t
tx_l3_off(const struct gen *g)
{
	return ETH_HDR_LEN + (g->ipip ? IPV4_MIN_HDR_LEN : 0);
}

/* One request: Ethernet, (an outer IPv4 header,) IP, ICMP or UDP, then
 * MAGIC, a sequence number and the TSC at send, padded to the frame size. */
static struct rte_mbuf *
gen_build(struct gen *g, uint64_t tsc)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(g->pool);
	uint32_t l3 = tx_l3_off(g), l4 = l3 + l3_hdr_len(g);
	uint32_t l4len = g->size - l4;
	struct eth_hdr_view eh;
	uint8_t *p;

	if (m == NULL)
		return NULL;
	p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)g->size);
	memset(p + l4, 0, l4len);
	memcpy(eh.dst, g->dst_mac, 6);
	memcpy(eh.src, g->mac, 6);
	eh.type = g->mode >= MODE_UDP6 ? ETHERTYPE_IPV6 : ETHERTYPE_IPV4;
	wire_eth_emit(p, &eh);
	wire_put32(p + l4 + 8, (uint32_t)MAGIC);
	wire_put32(p + l4 + 12, (uint32_t)g->seq);
	memcpy(p + l4 + 16, &tsc, 8);
	if (g->mode == MODE_ICMP4) {
		struct icmp_view ic = { .type = ICMP_ECHO,
					.rest = (0x5347u << 16) | (g->seq & 0xffff) };

		wire_icmp_emit(p + l4, l4len, &ic);
	} else if (g->mode == MODE_ICMP6) {
		uint32_t sum =
			wire_pseudo6_sum(g->src.addr.v6, g->dst.addr.v6, l4len, IPPROTO_ICMPV6_);
		uint16_t ck;

		p[l4] = ICMP6_ECHO_REQUEST;
		wire_put32(p + l4 + 4, (0x5347u << 16) | (g->seq & 0xffff));
		ck = (uint16_t)~__rte_raw_cksum_reduce(sum + rte_raw_cksum(p + l4, l4len));
		wire_put16(p + l4 + 2, rte_be_to_cpu_16(ck));
	} else {
		uint16_t sport = (uint16_t)(49152 + g->seq % g->flows);

		wire_put16(p + l4, sport);
		wire_put16(p + l4 + 2, g->dport);
		wire_put16(p + l4 + 4, (uint16_t)l4len);
		if (g->mode == MODE_UDP4) {
			wire_put16(p + l4 + 6,
				   wire_udp4_cksum(g->src.addr.v4, g->dst.addr.v4, p + l4, l4len));
		} else {
			uint32_t sum = wire_pseudo6_sum(g->src.addr.v6, g->dst.addr.v6, l4len,
							IPPROTO_UDP_);
			uint16_t ck = (uint16_t)~__rte_raw_cksum_reduce(
				sum + rte_raw_cksum(p + l4, l4len));

			wire_put16(p + l4 + 6, ck == 0 ? 0xffff : rte_be_to_cpu_16(ck));
		}
	}
	if (g->mode >= MODE_UDP6) {
		struct ipv6_view ip = { .plen = (uint16_t)l4len,
					.nxt = g->mode == MODE_ICMP6 ? IPPROTO_ICMPV6_
								     : IPPROTO_UDP_,
					.hlim = 64 };

		memcpy(ip.src, g->src.addr.v6, 16);
		memcpy(ip.dst, g->dst.addr.v6, 16);
		wire_ipv6_emit(p + l3, &ip);
	} else {
		struct ipv4_view ip = { .ihl = 20,
					.total_len = (uint16_t)(g->size - l3),
					.ident = (uint16_t)g->seq,
					.ttl = 64,
					.proto = g->mode == MODE_ICMP4 ? IPPROTO_ICMP_
								       : IPPROTO_UDP_,
					.src = g->src.addr.v4,
					.dst = g->dst.addr.v4 };

		wire_ipv4_emit(p + l3, &ip, 0);
	}
	if (g->ipip) {
		/* RFC 2003 3.1: a TTL that reaches the tunnel's exit (64, a
		 * host's default); Don't Fragment copied from the inner header,
		 * so that its sender's choice of path MTU discovery holds
		 * through the tunnel; no options. */
		struct ipv4_view out = { .ihl = 20,
					 .total_len = (uint16_t)(g->size - ETH_HDR_LEN),
					 .ident = (uint16_t)g->seq,
					 .frag = wire_get16(p + l3 + 6) & IPV4_FLAG_DF,
					 .ttl = 64,
					 .proto = IPPROTO_IPIP_,
					 .src = g->ipip_local,
					 .dst = g->ipip_remote };

		wire_ipv4_emit(p + ETH_HDR_LEN, &out, 0);
	}
	g->seq++;
	return g->esp && g->ipip ? esp_wrap(g, m) : m;
}

/* Answers ARP requests and neighbour solicitations for our address (on the
 * sending port also for --ipip's LOCAL: the target resolves it to send
 * into its tunnel's far end, us), and learns the target's MAC from its
 * answers.  Returns true if m was one. */
static bool
gen_neighbour(struct gen *g, struct rte_mbuf *m, struct rte_mbuf **reply, uint16_t port)
{
	const struct sonde_prefix *me = port == g->port ? &g->src : &g->rx_addr;
	const uint8_t *mymac = port == g->port ? g->mac : g->rx_mac;
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
	uint32_t len = rte_pktmbuf_data_len(m);
	struct eth_hdr_view eh;
	struct arp_view a;

	*reply = NULL;
	if (wire_eth_parse(p, len, &eh) != 0)
		return false;
	if (eh.type == ETHERTYPE_ARP &&
	    wire_arp_parse(p + ETH_HDR_LEN, len - ETH_HDR_LEN, &a) == 0) {
		if (a.op == ARP_OP_REPLY && a.spa == g->gw.addr.v4 && !g->have_dst_mac) {
			memcpy(g->dst_mac, a.sha, 6);
			g->have_dst_mac = true;
		}
		if (a.op == ARP_OP_REQUEST &&
		    (a.tpa == me->addr.v4 ||
		     (g->ipip && port == g->port && a.tpa == g->ipip_local))) {
			struct arp_view r = { .op = ARP_OP_REPLY, .spa = a.tpa, .tpa = a.spa };

			memcpy(r.sha, mymac, 6);
			memcpy(r.tha, a.sha, 6);
			memcpy(eh.dst, a.sha, 6);
			memcpy(eh.src, mymac, 6);
			wire_eth_emit(p, &eh);
			wire_arp_emit(p + ETH_HDR_LEN, &r);
			*reply = m;
			return true;
		}
		return true;
	}
	if (eh.type == ETHERTYPE_IPV6 && len >= ETH_HDR_LEN + IPV6_HDR_LEN + 32 &&
	    p[ETH_HDR_LEN + 6] == IPPROTO_ICMPV6_) {
		uint8_t *ip = p + ETH_HDR_LEN, *ic = ip + IPV6_HDR_LEN;

		if (ic[0] == ND_NEIGHBOR_ADVERT && memcmp(ic + 8, g->gw.addr.v6, 16) == 0 &&
		    ic[24] == ND_OPT_TARGET_LINKADDR && !g->have_dst_mac) {
			memcpy(g->dst_mac, ic + 26, 6);
			g->have_dst_mac = true;
			return true;
		}
		if (ic[0] == ND_NEIGHBOR_SOLICIT && memcmp(ic + 8, me->addr.v6, 16) == 0) {
			/* Turn it into a solicited advertisement in place. */
			struct ipv6_view v = { .plen = 32, .nxt = IPPROTO_ICMPV6_, .hlim = 255 };
			uint32_t sum;
			uint16_t ck;

			memcpy(v.dst, ip + 8, 16);
			memcpy(v.src, me->addr.v6, 16);
			memcpy(eh.dst, eh.src, 6);
			memcpy(eh.src, mymac, 6);
			wire_eth_emit(p, &eh);
			wire_ipv6_emit(ip, &v);
			ic[0] = ND_NEIGHBOR_ADVERT;
			ic[1] = 0;
			wire_put32(ic + 4, ND_NA_FLAG_SOLICITED | ND_NA_FLAG_OVERRIDE);
			ic[24] = ND_OPT_TARGET_LINKADDR;
			ic[25] = 1;
			memcpy(ic + 26, mymac, 6);
			wire_put16(ic + 2, 0);
			sum = wire_pseudo6_sum(v.src, v.dst, 32, IPPROTO_ICMPV6_);
			ck = (uint16_t)~__rte_raw_cksum_reduce(sum + rte_raw_cksum(ic, 32));
			wire_put16(ic + 2, rte_be_to_cpu_16(ck));
			rte_pktmbuf_trim(m, (uint16_t)(len - ETH_HDR_LEN - IPV6_HDR_LEN - 32));
			*reply = m;
			return true;
		}
	}
	return false;
}

/* A reply to one of ours?  Then record its round trip. */
static void
gen_account(struct gen *g, struct rte_mbuf *m, uint64_t now)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t len = rte_pktmbuf_data_len(m), l3 = ETH_HDR_LEN, l4;
	uint64_t ts, ns;

	/* --esp: one of ours back in ESP (UDP to 4500), decrypted; the inner
	 * packet then as if it had come in a frame of its own. */
	if (g->esp && len >= ETH_HDR_LEN + IPV4_MIN_HDR_LEN + 8 &&
	    wire_get16(p + 12) == ETHERTYPE_IPV4 && p[ETH_HDR_LEN + 9] == IPPROTO_UDP_ &&
	    wire_get16(p + ETH_HDR_LEN + (p[ETH_HDR_LEN] & 0xfu) * 4 + 2) == ESP_PORT) {
		uint32_t ilen, off = esp_unwrap(g, rte_pktmbuf_mtod(m, uint8_t *), len, &ilen);

		if (off == 0) {
			g->bad++;
			return;
		}
		l3 = off;
		len = off + ilen;
	}
	/* --rx-ipip: one of ours still in a tunnel (RFC 2003) is matched
	 * past its outer header, which must be a valid one (the target made
	 * it); the rest as they are. */
	if (!g->esp && g->rx_ipip && len >= ETH_HDR_LEN + IPV4_MIN_HDR_LEN &&
	    wire_get16(p + 12) == ETHERTYPE_IPV4 && p[ETH_HDR_LEN + 9] == IPPROTO_IPIP_) {
		struct ipv4_view out;

		if (wire_ipv4_parse(p + ETH_HDR_LEN, len - ETH_HDR_LEN, 0, &out) != 0) {
			g->bad++;
			return;
		}
		l3 += out.ihl;
	}
	l4 = l3 + l3_hdr_len(g);
	if (len < l4 + 24 || wire_get32(p + l4 + 8) != (uint32_t)MAGIC) {
		g->bad++;
		return;
	}
	memcpy(&ts, p + l4 + 16, 8);
	ns = (now - ts) * 1000000000ull / g->hz;
	g->received++;
	g->lat_sum_ns += ns;
	if (ns > g->lat_max_ns)
		g->lat_max_ns = ns;
	g->hist[RTE_MIN(ns / 1000, (uint64_t)HIST_US)]++;
}

/* Reads what has come back on a port: while bursts come full, up to
 * RX_ROUNDS of them.  One burst a turn of the send loop, which sends one,
 * would drain no faster than it fills: a backlog once built (the target
 * or we descheduled for a moment) would stay, in the latency of every
 * packet after it, and the next hiccup would overflow the target's
 * transmit ring into losses. */
static void
gen_rx_port(struct gen *g, uint16_t port)
{
	struct rte_mbuf *pkts[BURST], *reply;
	uint64_t now = rte_get_tsc_cycles();
	uint16_t n;

	for (unsigned round = 0;
	     round < RX_ROUNDS && (n = rte_eth_rx_burst(port, 0, pkts, BURST)) > 0; round++) {
		for (uint16_t i = 0; i < n; i++) {
			if (gen_neighbour(g, pkts[i], &reply, port)) {
				if (reply == NULL || rte_eth_tx_burst(port, 0, &reply, 1) != 1)
					rte_pktmbuf_free(pkts[i]);
				continue;
			}
			gen_account(g, pkts[i], now);
			rte_pktmbuf_free(pkts[i]);
		}
		if (n < BURST)
			break;
	}
}

static void
gen_rx(struct gen *g)
{
	gen_rx_port(g, g->port);
	if (g->rx_port != g->port)
		gen_rx_port(g, g->rx_port);
}

/* Asks for the target's MAC until it answers (bounded). */
static int
gen_resolve(struct gen *g)
{
	uint64_t deadline = rte_get_tsc_cycles() + 5 * g->hz, next = 0;

	while (!g->have_dst_mac && !quit && rte_get_tsc_cycles() < deadline) {
		if (rte_get_tsc_cycles() >= next) {
			struct rte_mbuf *m = rte_pktmbuf_alloc(g->pool);
			uint8_t *p = m ? (uint8_t *)rte_pktmbuf_append(m, 86) : NULL;
			struct eth_hdr_view eh = { .dst = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } };

			if (p == NULL)
				return -ENOBUFS;
			memset(p, 0, 86);
			memcpy(eh.src, g->mac, 6);
			if (g->dst.af == AF_INET) {
				/* With --ipip, LOCAL is our address on this link
				 * (--src may be the tunnel's inner one). */
				struct arp_view a = { .op = ARP_OP_REQUEST,
						      .spa = g->ipip ? g->ipip_local
								     : g->src.addr.v4,
						      .tpa = g->gw.addr.v4 };

				memcpy(a.sha, g->mac, 6);
				eh.type = ETHERTYPE_ARP;
				wire_eth_emit(p, &eh);
				wire_arp_emit(p + ETH_HDR_LEN, &a);
				rte_pktmbuf_trim(m, 86 - 60);
			} else {
				struct ipv6_view v = { .plen = 32,
						       .nxt = IPPROTO_ICMPV6_,
						       .hlim = 255 };
				uint8_t *ic = p + ETH_HDR_LEN + IPV6_HDR_LEN;
				uint16_t ck;

				ipv6_solicited_node(v.dst, g->gw.addr.v6);
				memcpy(v.src, g->src.addr.v6, 16);
				ipv6_mcast_mac(eh.dst, v.dst);
				eh.type = ETHERTYPE_IPV6;
				wire_eth_emit(p, &eh);
				wire_ipv6_emit(p + ETH_HDR_LEN, &v);
				ic[0] = ND_NEIGHBOR_SOLICIT;
				memcpy(ic + 8, g->gw.addr.v6, 16);
				ic[24] = ND_OPT_SOURCE_LINKADDR;
				ic[25] = 1;
				memcpy(ic + 26, g->mac, 6);
				ck = (uint16_t)~__rte_raw_cksum_reduce(
					wire_pseudo6_sum(v.src, v.dst, 32, IPPROTO_ICMPV6_) +
					rte_raw_cksum(ic, 32));
				wire_put16(ic + 2, rte_be_to_cpu_16(ck));
			}
			if (rte_eth_tx_burst(g->port, 0, &m, 1) != 1)
				rte_pktmbuf_free(m);
			next = rte_get_tsc_cycles() + g->hz / 2;
		}
		gen_rx(g);
	}
	return g->have_dst_mac ? 0 : -EHOSTUNREACH;
}

static uint64_t
gen_percentile(const struct gen *g, double q)
{
	uint64_t want = (uint64_t)(q * (double)g->received), seen = 0;

	if (g->received == 0)
		return 0;
	for (unsigned i = 0; i <= HIST_US; i++) {
		seen += g->hist[i];
		if (seen > want)
			return i;
	}
	return HIST_US;
}

static int
gen_port_init(struct gen *g, uint16_t port, uint8_t *macout)
{
	struct rte_eth_conf conf = { 0 };
	struct rte_ether_addr mac;
	uint16_t rxd = 1024, txd = 1024;
	int r;

	if ((r = rte_eth_dev_configure(port, 1, 1, &conf)) != 0 ||
	    (r = rte_eth_dev_adjust_nb_rx_tx_desc(port, &rxd, &txd)) != 0 ||
	    (r = rte_eth_rx_queue_setup(port, 0, rxd, rte_socket_id(), NULL, g->pool)) != 0 ||
	    (r = rte_eth_tx_queue_setup(port, 0, txd, rte_socket_id(), NULL)) != 0 ||
	    (r = rte_eth_dev_start(port)) != 0 || (r = rte_eth_macaddr_get(port, &mac)) != 0)
		return r;
	rte_eth_promiscuous_enable(port);
	memcpy(macout, mac.addr_bytes, 6);
	return 0;
}

int
main(int argc, char **argv)
{
	/* 160 KB with the latency histogram: static, not on the stack, and
	 * nothing to free on any of main's exits. */
	static struct gen the_gen;
	struct gen *g;
	struct rte_mbuf *burst[BURST];
	uint64_t start, end, now, next, gap, drain_end, last, got;
	double secs;
	int n, r;

	n = rte_eal_init(argc, argv);
	if (n < 0) {
		fprintf(stderr, "sonde-gen: EAL initialisation failed\n");
		return 2;
	}
	argc -= n;
	argv += n;
	if (gen_tcp_wanted(argc, argv)) {
		r = gen_tcp_main(argc, argv);
		rte_eal_cleanup();
		return r;
	}
	g = &the_gen;
	g->mode = MODE_ICMP4;
	g->size =
		0; /* by default the smallest frame: 64 bytes with FCS, or what the headers need */
	g->duration = 5;
	g->dport = 7;
	g->flows = 1;
	r = parse_args(argc, argv, g);
	if (r)
		return r;
	if (g->esp) {
		/* The file's "seq": the last the target took, when it has
		 * taken some already (its anti-replay window). */
		g->esp_seq = g->sa.out.seq;
		g->enc = esp_ctx(&g->sa.out, true);
		g->dec = esp_ctx(&g->sa.in, false);
		/* The keys are in the contexts now; the salts stay (nonces). */
		explicit_bzero(g->sa.out.key, g->sa.out.alg == SONDE_ESP_AES_GCM_256 ? 32 : 16);
		explicit_bzero(g->sa.in.key, g->sa.in.alg == SONDE_ESP_AES_GCM_256 ? 32 : 16);
		if (g->enc == NULL || g->dec == NULL) {
			fprintf(stderr, "sonde-gen: --esp: OpenSSL has no AES-GCM context\n");
			return 1;
		}
	}
	if (rte_eth_dev_count_avail() == 0) {
		fprintf(stderr, "sonde-gen: no DPDK port\n");
		return 2;
	}
	g->hz = rte_get_tsc_hz();
	g->pool = rte_pktmbuf_pool_create("gen_pool", POOL_SIZE, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					  (int)rte_socket_id());
	if (g->pool == NULL || gen_port_init(g, g->port, g->mac) != 0 ||
	    (g->rx_port != g->port && gen_port_init(g, g->rx_port, g->rx_mac) != 0)) {
		fprintf(stderr, "sonde-gen: cannot start the ports\n");
		return 1;
	}
	if (g->size == 0)
		g->size = RTE_MAX(60u, tx_l3_off(g) + l3_hdr_len(g) + 24);
	if (g->size < tx_l3_off(g) + l3_hdr_len(g) + 24) {
		fprintf(stderr, "sonde-gen: --size too small for the headers and timestamp\n");
		return 2;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (gen_resolve(g) != 0) {
		fprintf(stderr, "sonde-gen: no answer from the target's ARP/ND\n");
		return 1;
	}
	gap = g->rate ? g->hz / g->rate : 0;
	start = now = next = rte_get_tsc_cycles();
	end = start + (uint64_t)(g->duration * (double)g->hz);
	while (!quit && now < end && (g->count == 0 || g->sent < g->count)) {
		unsigned k = 0, want = BURST;

		if (gap) {
			/* Paced: send what is due, at most a burst. */
			want = now >= next
				       ? (unsigned)RTE_MIN((now - next) / gap + 1, (uint64_t)BURST)
				       : 0;
		}
		if (g->count)
			want = (unsigned)RTE_MIN((uint64_t)want, g->count - g->sent);
		if (g->window) {
			/* (More back than sent: a target that duplicates.) */
			uint64_t out = g->sent > g->received ? g->sent - g->received : 0;

			want = out >= g->window
				       ? 0
				       : (unsigned)RTE_MIN((uint64_t)want, g->window - out);
		}
		next += want * gap; /* what the window held back is still due */
		while (k < want && (burst[k] = gen_build(g, now)) != NULL)
			k++;
		if (k) {
			uint16_t s = rte_eth_tx_burst(g->port, 0, burst, (uint16_t)k);

			g->sent += s;
			for (unsigned i = s; i < k; i++)
				rte_pktmbuf_free(burst[i]);
			g->seq -= k - s;
		}
		gen_rx(g);
		now = rte_get_tsc_cycles();
	}
	secs = (double)(now - start) / (double)g->hz;
	/* What is still in flight comes back: until all has, or nothing has
	 * for a second (a loss, not a delay: the target may be descheduled
	 * for a while on a busy machine), and 10 s at the most. */
	for (drain_end = now + 10 * g->hz, last = now, got = g->received;
	     g->received < g->sent && (now = rte_get_tsc_cycles()) < drain_end &&
	     now - last < g->hz;) {
		gen_rx(g);
		if (g->received != got) {
			got = g->received;
			last = now;
		}
	}
	if (g->json)
		printf("{\"mode\": \"%s\", \"sent\": %" PRIu64 ", \"received\": %" PRIu64
		       ", \"lost\": %" PRId64
		       ", \"seconds\": %.3f, \"tx_mpps\": %.4f, \"rx_mpps\": %.4f"
		       ", \"lat_us_p50\": %" PRIu64 ", \"lat_us_p90\": %" PRIu64
		       ", \"lat_us_p99\": %" PRIu64 ", \"lat_us_max\": %.1f}\n",
		       gen_mode_name[g->mode], g->sent, g->received,
		       (int64_t)(g->sent - g->received), secs, (double)g->sent / secs / 1e6,
		       (double)g->received / secs / 1e6, gen_percentile(g, 0.5),
		       gen_percentile(g, 0.9), gen_percentile(g, 0.99),
		       (double)g->lat_max_ns / 1000.0);
	else
		printf("sent %" PRIu64 " received %" PRIu64 " lost %" PRId64
		       " in %.3f s: tx %.4f Mpps"
		       " rx %.4f Mpps; latency us p50 %" PRIu64 " p90 %" PRIu64 " p99 %" PRIu64
		       " max %.1f\n",
		       g->sent, g->received, (int64_t)(g->sent - g->received), secs,
		       (double)g->sent / secs / 1e6, (double)g->received / secs / 1e6,
		       gen_percentile(g, 0.5), gen_percentile(g, 0.9), gen_percentile(g, 0.99),
		       (double)g->lat_max_ns / 1000.0);
	rte_eth_dev_stop(g->port);
	rte_eth_dev_close(g->port);
	if (g->rx_port != g->port) {
		rte_eth_dev_stop(g->rx_port);
		rte_eth_dev_close(g->rx_port);
	}
	rte_eal_cleanup();
	return 0;
}
