/*
 * esp.c: ESP (RFC 4303) in UDP (RFC 3948) on a tunnel interface, AES-GCM
 * (RFC 4106), static SAs, crypto by DPDK's cryptodev with the OpenSSL
 * PMD (or another the stack's conf names: crypto_aesni_gcm).
 *
 * Where it sits, as in the seed's ip.tun0 trace: a packet routed to an
 * ESP tunnel fires send on the tunnel, gets its outer IP header (protocol
 * 4 or 41: tunnel.c) and goes to IP output marked PKT_XFRM; IP fires
 * write for that outer packet as it is (its payload the inner packet),
 * then calls st->xfrm_out, here: the packet becomes IP | UDP | ESP | IV |
 * the encrypted inner packet, padding and next header | ICV, and goes on
 * to send.  So write shows 20 + 68 bytes of payload and send 140 in the
 * seed (the inner packet and what ESP in UDP made of it).  On the wire it
 * is tunnel-mode ESP (next header 4 or 41) in UDP, Linux XFRM's tunnel
 * mode with espinudp encapsulation.  Inbound, UDP hands what comes to the
 * encapsulation port here (after IP's receive and read, UDP's receive):
 * NAT keepalives are taken, ESP is checked against the SA by SPI and
 * addresses, the anti-replay window (RFC 4303 3.4.3) and the ICV, and the
 * inner packet goes to IP input on the tunnel (tunnel.c's tun_strip, then
 * receive and read there).
 *
 * Why not rte_ipsec: it does UDP encapsulation only in tunnel mode, where
 * it builds the outer IP header itself (ours is the tunnel's, written and
 * traced before ESP), and on input it expects ESP right after the IP
 * header, not after UDP.  The framing is a few lines; the crypto is
 * cryptodev's.
 *
 * One stack owns an SA: its sequence numbers (and with them GCM's IVs,
 * which must never repeat under a key) are that stack's.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_bus_vdev.h>
#include <rte_cycles.h>
#include <rte_crypto.h>
#include <rte_cryptodev.h>
#include <rte_errno.h>
#include <rte_ip.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_random.h>

#include "esp.h"
#include "ip.h"
#include "sock.h"
#include "stack.h"
#include "transport.h"

#define ESP_PORT 4500				 /* RFC 3948 */
#define ESP_KEEPALIVE_S 20			 /* RFC 3948 2.2's suggested interval */
#define ESP_WIN_DEFAULT 64			 /* RFC 4303 3.4.3: 32 at least, 64 recommended */
#define ESP_WIN_MAX 1024			 /* the bitmap's size, a power of two */
#define ESP_HDR 8				 /* SPI, sequence number */
#define ESP_IV 8				 /* RFC 4106 3.1 */
#define ESP_ICV 16				 /* RFC 4106 */
#define ESP_SALT 4				 /* RFC 4106 8.1 */
#define ESP_NH_NONE 59				 /* RFC 4303 2.6: a dummy packet */
#define ESP_MIN (ESP_HDR + ESP_IV + 4 + ESP_ICV) /* the shortest: 2 trailer bytes padded to 4 */
#define UDP_LEN 8
/* The crypto op's private area: the 12-byte nonce (salt, IV) in 16 bytes
 * (DPDK's GCM IV room), then the index of the packet in its burst. */
#define ESP_OP_IV (sizeof(struct rte_crypto_op) + sizeof(struct rte_crypto_sym_op))
#define ESP_OP_SLOT (ESP_OP_IV + 16)
#define ESP_OP_PRIV 32
#define ESP_OPS 1023

struct esp_sa {
	uint32_t spi; /* network order */
	void *sess;   /* cryptodev session */
	uint8_t salt[ESP_SALT];
};

struct esp_tun {
	struct esp_sa out, in;
	uint32_t seq;			 /* outbound: the last sent */
	uint64_t iv_base;		 /* outbound: IV = iv_base + seq (esp_build) */
	bool exhausted;			 /* outbound: said so in the log */
	uint32_t top;			 /* inbound: the highest authenticated */
	uint32_t win;			 /* inbound: the window, packets */
	uint64_t bits[ESP_WIN_MAX / 64]; /* inbound: seen, by sequence number mod ESP_WIN_MAX */
	uint16_t port;			 /* UDP, host order */
	uint64_t ka_ns;			 /* keepalive interval; 0: none */
	uint64_t last_out;		 /* ns: the last packet to remote */
	struct timer ka;
	struct tunnel *t;
};

struct esp_state {
	char pmd[32]; /* the vdev driver (sonde_conf's crypto_pmd) */
	int dev;      /* cryptodev id; -1: not made yet */
	char name[RTE_CRYPTODEV_NAME_MAX_LEN];
	struct rte_mempool *ops, *sess;
};

/* --- the crypto device, one a stack --- */

static int
esp_dev_up(struct sonde_stack *st)
{
	static unsigned made; /* names for every stack of the process */
	struct esp_state *es = st->esp;
	struct rte_cryptodev_config cfg = {
		.socket_id = (int)rte_socket_id(),
		.nb_queue_pairs = 1,
		.ff_disable = RTE_CRYPTODEV_FF_ASYMMETRIC_CRYPTO | RTE_CRYPTODEV_FF_SECURITY,
	};
	struct rte_cryptodev_qp_conf qc = { .nb_descriptors = 2048 };
	char sess[RTE_MEMPOOL_NAMESIZE], ops[RTE_MEMPOOL_NAMESIZE];
	unsigned id;
	int dev, r;

	if (es->dev >= 0)
		return 0;
	id = __atomic_fetch_add(&made, 1, __ATOMIC_RELAXED);
	snprintf(es->name, sizeof(es->name), "%s_sonde%u", es->pmd, id);
	snprintf(sess, sizeof(sess), "sonde_esp_sess%u", id);
	snprintf(ops, sizeof(ops), "sonde_esp_ops%u", id);
	r = rte_vdev_init(es->name, NULL);
	if (r != 0) {
		RTE_LOG(ERR, USER1,
			"sonde: ESP: no crypto device %s (is DPDK's %s PMD there?): %s\n", es->name,
			es->pmd, rte_strerror(-r));
		return -ENODEV;
	}
	dev = rte_cryptodev_get_dev_id(es->name);
	if (dev < 0)
		goto fail;
	es->sess = rte_cryptodev_sym_session_pool_create(
		sess, 2 * SONDE_MAX_IFS, rte_cryptodev_sym_get_private_session_size((uint8_t)dev),
		0, 0, cfg.socket_id);
	es->ops = rte_crypto_op_pool_create(ops, RTE_CRYPTO_OP_TYPE_SYMMETRIC, ESP_OPS, 0,
					    ESP_OP_PRIV, cfg.socket_id);
	if (es->sess == NULL || es->ops == NULL)
		goto fail;
	qc.mp_session = es->sess;
	if (rte_cryptodev_configure((uint8_t)dev, &cfg) != 0 ||
	    rte_cryptodev_queue_pair_setup((uint8_t)dev, 0, &qc, cfg.socket_id) != 0 ||
	    rte_cryptodev_start((uint8_t)dev) != 0)
		goto fail;
	es->dev = dev;
	return 0;
fail:
	RTE_LOG(ERR, USER1, "sonde: ESP: crypto device %s: cannot set up: %s\n", es->name,
		rte_strerror(rte_errno));
	rte_mempool_free(es->ops);
	rte_mempool_free(es->sess);
	es->ops = es->sess = NULL;
	rte_vdev_uninit(es->name);
	return -ENODEV;
}

static void
esp_dev_down(struct esp_state *es)
{
	if (es->dev < 0)
		return;
	rte_cryptodev_stop((uint8_t)es->dev);
	rte_cryptodev_close((uint8_t)es->dev);
	rte_vdev_uninit(es->name);
	rte_mempool_free(es->ops);
	rte_mempool_free(es->sess);
	es->ops = es->sess = NULL;
	es->dev = -1;
}

/* n ops through the device and back, each into res[] at the slot it
 * names (its packet's index in the caller's burst; res NULL where no op):
 * the PMDs allowed (esp_pmd_ok) work in the enqueue call, so the dequeue
 * finds them done, and none is left in the device after the call.  Those
 * the device did not take come back NOT_PROCESSED. */
static void
esp_run(struct esp_state *es, struct rte_crypto_op **ops, uint16_t n, struct rte_crypto_op **res)
{
	struct rte_crypto_op *done[SONDE_BURST];
	uint16_t in, got = 0;

	in = rte_cryptodev_enqueue_burst((uint8_t)es->dev, 0, ops, n);
	for (uint16_t i = in; i < n; i++)
		ops[i]->status = RTE_CRYPTO_OP_STATUS_NOT_PROCESSED;
	for (unsigned tries = 0; got < in && tries < 1000; tries++)
		got += rte_cryptodev_dequeue_burst((uint8_t)es->dev, 0, done + got,
						   (uint16_t)(in - got));
	if (unlikely(got < in))
		RTE_LOG(ERR, USER1, "sonde: ESP: %s kept %u ops\n", es->name, in - got);
	for (uint16_t i = 0; i < got; i++)
		res[*rte_crypto_op_ctod_offset(done[i], uint16_t *, ESP_OP_SLOT)] = done[i];
	for (uint16_t i = in; i < n; i++)
		res[*rte_crypto_op_ctod_offset(ops[i], uint16_t *, ESP_OP_SLOT)] = ops[i];
}

static void *
esp_session(struct esp_state *es, const struct sonde_esp_sa *sa, bool encrypt)
{
	struct rte_crypto_sym_xform x = {
		.type = RTE_CRYPTO_SYM_XFORM_AEAD,
		.aead = {
			.op = encrypt ? RTE_CRYPTO_AEAD_OP_ENCRYPT : RTE_CRYPTO_AEAD_OP_DECRYPT,
			.algo = RTE_CRYPTO_AEAD_AES_GCM,
			.key = { .data = sa->key, .length = sa->alg == SONDE_ESP_AES_GCM_256 ? 32 : 16 },
			.iv = { .offset = ESP_OP_IV, .length = ESP_SALT + ESP_IV },
			.digest_length = ESP_ICV,
			.aad_length = ESP_HDR,
		},
	};

	return rte_cryptodev_sym_session_create((uint8_t)es->dev, &x, es->sess);
}

/* One op for packet idx of a burst: AES-GCM over len bytes at off in m,
 * the ICV after them, the ESP header (at esp) as the AAD (RFC 4106 5),
 * the nonce the SA's salt and the IV at iv. */
static void
esp_op(struct rte_crypto_op *op, const struct esp_sa *sa, struct rte_mbuf *m, uint32_t esp,
       uint32_t off, uint32_t len, const uint8_t *iv, uint16_t idx)
{
	uint8_t *nonce = rte_crypto_op_ctod_offset(op, uint8_t *, ESP_OP_IV);

	memcpy(nonce, sa->salt, ESP_SALT);
	memcpy(nonce + ESP_SALT, iv, ESP_IV);
	memcpy(rte_crypto_op_ctod_offset(op, uint8_t *, ESP_OP_SLOT), &idx, 2);
	op->sym->m_src = m;
	op->sym->m_dst = NULL;
	op->sym->aead.data.offset = off;
	op->sym->aead.data.length = len;
	op->sym->aead.digest.data = rte_pktmbuf_mtod_offset(m, uint8_t *, off + len);
	op->sym->aead.digest.phys_addr = rte_pktmbuf_iova_offset(m, off + len);
	op->sym->aead.aad.data = rte_pktmbuf_mtod_offset(m, uint8_t *, esp);
	op->sym->aead.aad.phys_addr = rte_pktmbuf_iova_offset(m, esp);
	rte_crypto_op_attach_sym_session(op, sa->sess);
}

/* --- output: between write and send --- */

/* t's outer packet m (data at its IP header, of protocol 4 or 41, its
 * payload the inner packet) as an ESP-in-UDP packet in a new mbuf, its op
 * made ready; m is freed.  NULL when dropped (m counted). */
static struct rte_mbuf *
esp_build(struct sonde_stack *st, struct esp_tun *e, struct rte_mbuf *m, struct rte_crypto_op *op,
	  uint16_t idx)
{
	const struct tunnel *t = e->t;
	uint32_t oh = t->oaf == 6 ? IPV6_HDR_LEN : IPV4_MIN_HDR_LEN;
	uint32_t plen = rte_pktmbuf_pkt_len(m) - oh;
	uint32_t ct = (plen + 2 + 3) & ~3u; /* RFC 4303 2.4: to 4 bytes */
	uint32_t pad = ct - plen - 2;
	uint32_t tot = oh + UDP_LEN + ESP_HDR + ESP_IV + ct + ESP_ICV;
	struct rte_mbuf *n;
	const void *src;
	uint8_t *q, *u;

	if (unlikely(pkt_meta(m)->l3_len != oh)) {
		/* Never: tunnel.c puts a bare IP header on for ESP tunnels.
		 * Anything else would be encrypted as if it were the inner
		 * packet. */
		pkt_drop(st, m, DROP_ESP_CRYPTO_OUT);
		return NULL;
	}
	if (unlikely(e->seq == UINT32_MAX)) {
		/* RFC 4303 3.3.3: the counter never cycles; a new SA (a new
		 * key) is the only way on, and static SAs have none. */
		if (!e->exhausted)
			RTE_LOG(ERR, USER1,
				"sonde: ESP: %s: SPI 0x%08x has sent 2^32 - 1 packets: it sends no "
				"more (RFC 4303 3.3.3); give the tunnel new SAs\n",
				t->ifp->name, rte_be_to_cpu_32(e->out.spi));
		e->exhausted = true;
		pkt_drop(st, m, DROP_ESP_SEQ_EXHAUSTED);
		return NULL;
	}
	n = rte_pktmbuf_alloc(st->pool);
	if (unlikely(n == NULL)) {
		pkt_drop(st, m, DROP_NO_HEADROOM);
		return NULL;
	}
	if (unlikely(rte_pktmbuf_tailroom(n) < tot)) {
		rte_pktmbuf_free(n);
		pkt_drop(st, m, DROP_ESP_TOO_BIG);
		return NULL;
	}
	q = (uint8_t *)rte_pktmbuf_append(n, (uint16_t)tot);
	u = q + oh;
	/* The inner packet, wherever its segments are (a TCP segment's data
	 * is the socket's: it is never encrypted where it lies). */
	src = rte_pktmbuf_read(m, oh, plen, u + UDP_LEN + ESP_HDR + ESP_IV);
	if (src != u + UDP_LEN + ESP_HDR + ESP_IV)
		memcpy(u + UDP_LEN + ESP_HDR + ESP_IV, src, plen);
	memcpy(q, rte_pktmbuf_mtod(m, const uint8_t *), oh);
	*pkt_meta(n) = *pkt_meta(m);
	rte_pktmbuf_free(m);

	e->seq++;
	/* RFC 3948 2.1: source and destination port the same; IPv4's UDP
	 * checksum zero (IPv6's after encryption). */
	wire_put16(u, e->port);
	wire_put16(u + 2, e->port);
	wire_put16(u + 4, (uint16_t)(tot - oh));
	wire_put16(u + 6, 0);
	memcpy(u + UDP_LEN, &e->out.spi, 4);
	wire_put32(u + UDP_LEN + 4, e->seq);
	/* RFC 4106 3.1: the IV must never repeat under a key.  The sequence
	 * number never does within a run (3.3.3 above); from a random start,
	 * the IVs of a run do not meet another run's under the same static
	 * key either (a restart with the same SA file), short of a 2^-32
	 * chance. */
	wire_put32(u + UDP_LEN + ESP_HDR, (uint32_t)((e->iv_base + e->seq) >> 32));
	wire_put32(u + UDP_LEN + ESP_HDR + 4, (uint32_t)(e->iv_base + e->seq));
	/* RFC 4303 2.4: padding 1, 2, 3...; then its length and the inner
	 * packet's protocol (tunnel mode: IPv4 4, IPv6 41). */
	for (uint32_t i = 0; i < pad; i++)
		u[UDP_LEN + ESP_HDR + ESP_IV + plen + i] = (uint8_t)(i + 1);
	u[UDP_LEN + ESP_HDR + ESP_IV + plen + pad] = (uint8_t)pad;
	u[UDP_LEN + ESP_HDR + ESP_IV + plen + pad + 1] = t->proto;
	if (t->oaf == 4) {
		q[9] = IPPROTO_UDP_;
		wire_put16(q + 2, (uint16_t)tot);
		wire_put16(q + 10, 0);
		wire_put16(q + 10, wire_cksum_hdr(q, IPV4_MIN_HDR_LEN));
	} else {
		q[6] = IPPROTO_UDP_;
		wire_put16(q + 4, (uint16_t)(tot - IPV6_HDR_LEN));
	}
	pkt_meta(n)->flags &= (uint8_t)~PKT_XFRM;
	pkt_meta(n)->l3_len = (uint16_t)oh;
	esp_op(op, &e->out, n, oh + UDP_LEN, oh + UDP_LEN + ESP_HDR + ESP_IV, ct,
	       u + UDP_LEN + ESP_HDR, idx);
	e->last_out = st->now;
	return n;
}

/* st->xfrm_out: each outer packet of an ESP tunnel replaced by its ESP
 * packet, encrypted; NULL where dropped. */
static void
esp_xfrm_out(struct sonde_stack *st, struct rte_mbuf **pkts, uint16_t n)
{
	struct esp_state *es = st->esp;
	struct rte_crypto_op *ops[SONDE_BURST], *res[SONDE_BURST] = { NULL };
	uint16_t k = 0;

	if (unlikely(rte_crypto_op_bulk_alloc(es->ops, RTE_CRYPTO_OP_TYPE_SYMMETRIC, ops, n) ==
		     0)) {
		for (uint16_t i = 0; i < n; i++) {
			pkt_drop(st, pkts[i], DROP_ESP_CRYPTO_OUT);
			pkts[i] = NULL;
		}
		return;
	}
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		const struct sonde_if *ifp = stack_if(st, pkt_meta(m)->xfrm_if);
		struct tunnel *t = ifp != NULL ? ifp->priv : NULL;

		pkts[i] = NULL;
		if (unlikely(t == NULL || t->esp == NULL)) { /* never: the tunnel marked it */
			pkt_drop(st, m, DROP_ESP_CRYPTO_OUT);
			continue;
		}
		m = esp_build(st, t->esp, m, ops[k], i);
		if (m == NULL)
			continue;
		pkts[i] = m;
		k++;
	}
	for (uint16_t i = k; i < n; i++)
		rte_crypto_op_free(ops[i]);
	if (k == 0)
		return;
	esp_run(es, ops, k, res);
	for (uint16_t i = 0; i < n; i++) {
		struct rte_crypto_op *op = res[i];
		struct rte_mbuf *m = pkts[i];

		if (m == NULL)
			continue;
		if (unlikely(op == NULL || op->sym->m_src != m ||
			     op->status != RTE_CRYPTO_OP_STATUS_SUCCESS)) {
			pkt_drop(st, m, DROP_ESP_CRYPTO_OUT);
			pkts[i] = NULL;
		} else {
			if (pkt_meta(m)->af == 6) {
				uint8_t *q = rte_pktmbuf_mtod(m, uint8_t *);
				uint16_t c = rte_ipv6_udptcp_cksum((const struct rte_ipv6_hdr *)q,
								   q + IPV6_HDR_LEN);

				memcpy(q + IPV6_HDR_LEN + 6, &c, 2);
			}
			st->stats.esp_out++;
		}
		if (op != NULL)
			rte_crypto_op_free(op);
	}
}

/* --- input: from UDP's encapsulation port --- */

/* RFC 4303 3.4.3: whether seq may be new (before the ICV is checked,
 * and again after, to take it). */
static bool
esp_replay_ok(const struct esp_tun *e, uint32_t seq)
{
	if (seq == 0) /* never sent: the first is 1 (3.3.3) */
		return false;
	if (seq > e->top)
		return true;
	if (e->top - seq >= e->win)
		return false;
	return !(e->bits[(seq & (ESP_WIN_MAX - 1)) / 64] >> (seq & 63) & 1);
}

static void
esp_replay_take(struct esp_tun *e, uint32_t seq)
{
	if (seq > e->top) {
		if (seq - e->top >= e->win)
			memset(e->bits, 0, sizeof(e->bits));
		else
			for (uint32_t s = e->top + 1; s != seq; s++)
				e->bits[(s & (ESP_WIN_MAX - 1)) / 64] &= ~(1ull << (s & 63));
		e->top = seq;
	}
	e->bits[(seq & (ESP_WIN_MAX - 1)) / 64] |= 1ull << (seq & 63);
}

/* The ESP tunnel between local and remote (family oaf) whose inbound SA
 * (out: outbound) is spi (network order), or NULL. */
static __rte_always_inline struct tunnel *
esp_find(const struct sonde_stack *st, uint8_t oaf, uint32_t spi, bool out, const uint8_t *local,
	 const uint8_t *remote)
{
	const struct tun_state *ts = st->tun;
	size_t alen = oaf == 6 ? 16 : 4;

	for (unsigned i = 0; i < ts->n; i++) {
		struct tunnel *t = ts->t[i];

		if (t->esp != NULL && (out ? t->esp->out.spi : t->esp->in.spi) == spi &&
		    t->oaf == oaf && memcmp(t->local, local, alen) == 0 &&
		    memcmp(t->remote, remote, alen) == 0)
			return t;
	}
	return NULL;
}

/* One datagram to the port (data at its IP header, UDP checked): a
 * keepalive taken (0, *t NULL), or an ESP packet with its op made ready
 * (0, its tunnel in *t); else the drop reason. */
static int
esp_in_one(struct sonde_stack *st, struct rte_mbuf *m, struct rte_crypto_op *op, uint16_t idx,
	   struct tunnel **tp)
{
	uint32_t off = pkt_meta(m)->l3_len, plen;
	const uint8_t *ip, *u;
	struct tunnel *t;
	uint8_t oaf = pkt_meta(m)->af;

	*tp = NULL;
	if (unlikely(m->nb_segs > 1) && rte_pktmbuf_linearize(m) != 0)
		return DROP_ESP_TRUNCATED;
	ip = rte_pktmbuf_mtod(m, const uint8_t *);
	u = ip + off;
	plen = wire_get16(u + 4) - UDP_LEN;
	/* RFC 3948 2.2: one byte, 0xFF: a NAT keepalive, taken. */
	if (plen == 1 && u[UDP_LEN] == 0xff) {
		st->stats.esp_keepalive_in++;
		return 0;
	}
	/* RFC 3948 2.2: a zero SPI field is the non-ESP marker (IKE): no
	 * key exchange here. */
	if (plen >= 4 && wire_load32(u + UDP_LEN) == 0)
		return DROP_ESP_NOT_ESP;
	if (plen < ESP_MIN || (plen - ESP_MIN) % 4 != 0)
		return DROP_ESP_TRUNCATED;
	t = esp_find(st, oaf, wire_load32(u + UDP_LEN), false, oaf == 6 ? ip + 24 : ip + 16,
		     oaf == 6 ? ip + 8 : ip + 12);
	if (t == NULL)
		return DROP_ESP_NO_SA;
	if (!esp_replay_ok(t->esp, wire_get32(u + UDP_LEN + 4)))
		return DROP_ESP_REPLAY;
	/* Anything after UDP's length (IP's is longer) is not ESP's. */
	if (rte_pktmbuf_pkt_len(m) > off + UDP_LEN + plen)
		rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_pkt_len(m) - off - UDP_LEN - plen));
	esp_op(op, &t->esp->in, m, off + UDP_LEN, off + UDP_LEN + ESP_HDR + ESP_IV,
	       plen - ESP_HDR - ESP_IV - ESP_ICV, u + UDP_LEN + ESP_HDR, idx);
	*tp = t;
	return 0;
}

/* An ESP packet decrypted in place (its ICV good): the trailer checked and
 * cut, the window moved; the inner family, or the drop reason as its
 * negative. */
static int
esp_in_done(struct sonde_stack *st, struct tunnel *t, struct rte_mbuf *m)
{
	struct esp_tun *e = t->esp;
	uint32_t off = pkt_meta(m)->l3_len + UDP_LEN;
	const uint8_t *u = rte_pktmbuf_mtod_offset(m, const uint8_t *, off);
	uint32_t len = rte_pktmbuf_pkt_len(m) - off, ct = len - ESP_HDR - ESP_IV - ESP_ICV;
	const uint8_t *tr = u + ESP_HDR + ESP_IV + ct; /* past the trailer */
	uint8_t padlen = tr[-2], nh = tr[-1];
	uint32_t seq = wire_get32(u + 4);

	/* Another of the burst with the same number got here first. */
	if (!esp_replay_ok(e, seq))
		return -DROP_ESP_REPLAY;
	esp_replay_take(e, seq);
	st->stats.esp_in++;
	if (padlen + 2u > ct)
		return -DROP_ESP_PADDING;
	/* RFC 4303 2.4: the default padding is 1, 2, 3...; a receiver may
	 * check it (and so it does: anything else was not our peer's). */
	for (unsigned i = 0; i < padlen; i++)
		if (tr[-2 - padlen + (int)i] != i + 1)
			return -DROP_ESP_PADDING;
	if (nh == ESP_NH_NONE)
		return -DROP_ESP_DUMMY; /* RFC 4303 2.6: discarded */
	if (nh != IPPROTO_IPIP_ && nh != IPPROTO_IPV6_)
		return -DROP_ESP_NEXT_HEADER;
	rte_pktmbuf_trim(m, (uint16_t)(ESP_ICV + padlen + 2));
	return nh == IPPROTO_IPIP_ ? 4 : 6;
}

/* st->udp_encap: datagrams to the ESP port. */
static void
esp_udp_input(struct sonde_stack *st, struct rte_mbuf **pkts, uint16_t n)
{
	struct esp_state *es = st->esp;
	struct rte_crypto_op *ops[SONDE_BURST], *res[SONDE_BURST] = { NULL };
	struct tunnel *ts[SONDE_BURST];
	struct sonde_if *ifs[SONDE_BURST];
	uint16_t k = 0, j = 0;

	if (unlikely(rte_crypto_op_bulk_alloc(es->ops, RTE_CRYPTO_OP_TYPE_SYMMETRIC, ops, n) ==
		     0)) {
		for (uint16_t i = 0; i < n; i++)
			pkt_drop(st, pkts[i], DROP_ESP_CRYPTO_IN);
		return;
	}
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		int r = esp_in_one(st, m, ops[k], k, &ts[k]);

		if (r != 0)
			pkt_drop(st, m, (enum drop_reason)r);
		else if (ts[k] == NULL)
			rte_pktmbuf_free(m); /* a keepalive */
		else
			pkts[k++] = m;
	}
	for (uint16_t i = k; i < n; i++)
		rte_crypto_op_free(ops[i]);
	if (k == 0)
		return;
	esp_run(es, ops, k, res);
	for (uint16_t i = 0; i < k; i++) {
		struct rte_crypto_op *op = res[i];
		struct rte_mbuf *m = pkts[i];
		int r;

		if (unlikely(op == NULL || op->sym->m_src != m ||
			     op->status != RTE_CRYPTO_OP_STATUS_SUCCESS)) {
			/* A wrong key or a forged packet: the ICV. */
			r = op != NULL && op->status == RTE_CRYPTO_OP_STATUS_AUTH_FAILED
				    ? DROP_ESP_AUTH
				    : DROP_ESP_CRYPTO_IN;
			pkt_drop(st, m, (enum drop_reason)r);
		} else if ((r = esp_in_done(st, ts[i], m)) < 0) {
			pkt_drop(st, m, (enum drop_reason) - r);
		} else if (tun_strip(st, ts[i], m, pkt_meta(m)->l3_len + UDP_LEN + ESP_HDR + ESP_IV,
				     (uint8_t)r) != NULL) {
			ifs[j] = ts[i]->ifp;
			pkts[j++] = m;
		}
		if (op != NULL)
			rte_crypto_op_free(op);
	}
	tun_rx(st, pkts, ifs, j);
}

/* --- NAT keepalives (RFC 3948 2.2) --- */

static void
esp_keepalive_send(struct sonde_stack *st, struct esp_tun *e)
{
	const struct tunnel *t = e->t;
	struct rte_mbuf *m = rte_pktmbuf_alloc(st->pool);
	uint8_t *u;

	if (m == NULL)
		return;
	u = (uint8_t *)rte_pktmbuf_append(m, UDP_LEN + 1);
	wire_put16(u, e->port);
	wire_put16(u + 2, e->port);
	wire_put16(u + 4, UDP_LEN + 1);
	wire_put16(u + 6, 0); /* IPv4: zero (2.2); IPv6: below */
	u[UDP_LEN] = 0xff;
	st->stats.esp_keepalive_out++;
	e->last_out = st->now;
	if (t->oaf == 4) {
		uint32_t src, dst;

		memcpy(&src, t->local, 4);
		memcpy(&dst, t->remote, 4);
		ipv4_output(st, m, src, dst, IPPROTO_UDP_, t->ttl, 0);
	} else {
		uint64_t sum =
			wire_sum(u, UDP_LEN + 1,
				 wire_pseudo6_sum(t->local, t->remote, UDP_LEN + 1, IPPROTO_UDP_));
		uint16_t c = (uint16_t)~wire_sum_fold(sum);

		if (c == 0)
			c = 0xffff;
		memcpy(u + 6, &c, 2);
		ipv6_output(st, m, t->local, t->remote, IPPROTO_UDP_, t->ttl, 0, -1);
	}
}

static void
esp_keepalive_timer(struct timer *tm, void *ctx)
{
	struct sonde_stack *st = ctx;
	struct esp_tun *e = container_of(tm, struct esp_tun, ka);

	/* Only when the tunnel said nothing for a whole interval. */
	if (st->now - e->last_out >= e->ka_ns)
		esp_keepalive_send(st, e);
	/* From now if nothing went (no mbuf for the keepalive): not a
	 * deadline already past, the timer would fire every tick. */
	timer_arm(&st->wheel, &e->ka, RTE_MAX(st->now, e->last_out) + e->ka_ns);
}

/* --- the SAs of a tunnel --- */

/* Whether a UDP socket is bound to port on the wildcard of either family
 * (UDP delivers to a socket before any service: it would take ESP). */
static bool
esp_port_bound(struct sonde_stack *st, uint16_t port)
{
	static const uint8_t any[16];

	return sock_lookup_bound(st, IPPROTO_UDP_, 4, any, rte_cpu_to_be_16(port)) != NULL ||
	       sock_lookup_bound(st, IPPROTO_UDP_, 6, any, rte_cpu_to_be_16(port)) != NULL;
}

/* An ICMP error about one of our ESP packets (UDP's, from the port):
 * fragmentation needed or packet too big lowers the tunnel's MTU (RFC
 * 4301 8.2.1: the SA's path MTU).  Nothing is relayed: the quoted inner
 * packet is ciphertext; the next inner packet too big is refused by the
 * tunnel's MTU, with the ICMP its sender needs. */
static void
esp_err(struct sonde_stack *st, const struct ip_err *e)
{
	const uint8_t *o = e->ip;
	struct tunnel *t;

	if (e->err != EMSGSIZE || e->len < e->l4_off + UDP_LEN + ESP_HDR)
		return;
	t = esp_find(st, e->af, wire_load32(o + e->l4_off + UDP_LEN), true,
		     e->af == 6 ? o + 8 : o + 12, e->af == 6 ? o + 24 : o + 16);
	if (t != NULL)
		tun_pmtu(st, t, e->info);
}

/* The PMDs whose operations are done when the enqueue returns (esp_run
 * relies on it: an op left in a device would write into a packet freed
 * meanwhile). */
static bool
esp_pmd_ok(const char *pmd)
{
	return strcmp(pmd, "crypto_openssl") == 0 || strcmp(pmd, "crypto_aesni_gcm") == 0 ||
	       strcmp(pmd, "crypto_aesni_mb") == 0;
}

static bool
esp_sa_ok(const struct sonde_esp_sa *sa)
{
	return (sa->alg == SONDE_ESP_AES_GCM_128 || sa->alg == SONDE_ESP_AES_GCM_256) &&
	       sa->spi > 255 && sa->replay_window <= ESP_WIN_MAX; /* RFC 4303 2.1 */
}

int
esp_tun_create(struct sonde_stack *st, struct tunnel *t, const struct sonde_esp_conf *c)
{
	struct esp_state *es = st->esp;
	struct esp_tun *e;
	uint16_t port = c->port ? c->port : ESP_PORT;
	int r;

	if (!esp_sa_ok(&c->out) || !esp_sa_ok(&c->in) || t->proto == IPPROTO_GRE_)
		return -EINVAL;
	/* One stack owns an SA: linked stacks would each count its
	 * sequence numbers (the peer's window drops the repeats), and its
	 * ESP comes in on one queue, the flows of the others' connections
	 * with it (no hand-over after ESP). */
	if (st->peer.n_stacks != 0)
		return -EBUSY;
	/* The port is ours alone: a socket or a service there would take
	 * ESP from us, or we from it. */
	if ((st->udp_service[port] != SONDE_SERVICE_NONE &&
	     st->udp_service[port] != UDP_SERVICE_ENCAP) ||
	    esp_port_bound(st, port))
		return -EADDRINUSE;
	r = esp_dev_up(st);
	if (r != 0)
		return r;
	e = rte_zmalloc("sonde_esp", sizeof(*e), RTE_CACHE_LINE_SIZE);
	if (e == NULL)
		return -ENOMEM;
	e->t = t;
	e->out.spi = rte_cpu_to_be_32(c->out.spi);
	e->in.spi = rte_cpu_to_be_32(c->in.spi);
	memcpy(e->out.salt, c->out.key + (c->out.alg == SONDE_ESP_AES_GCM_256 ? 32 : 16), ESP_SALT);
	memcpy(e->in.salt, c->in.key + (c->in.alg == SONDE_ESP_AES_GCM_256 ? 32 : 16), ESP_SALT);
	e->seq = c->out.seq;
	/* From the kernel's entropy (rte_rand() may be seeded by the
	 * application: its IVs would repeat across restarts). */
	if (getentropy(&e->iv_base, sizeof(e->iv_base)) != 0)
		e->iv_base = rte_rand() ^ rte_get_tsc_cycles();
	e->win = c->in.replay_window ? c->in.replay_window : ESP_WIN_DEFAULT;
	e->port = port;
	e->ka_ns = c->keepalive == 0xffff
			   ? 0
			   : (uint64_t)(c->keepalive ?: ESP_KEEPALIVE_S) * 1000000000ull;
	e->out.sess = esp_session(es, &c->out, true);
	e->in.sess = esp_session(es, &c->in, false);
	if (e->out.sess == NULL || e->in.sess == NULL) {
		RTE_LOG(ERR, USER1, "sonde: ESP: %s: no crypto session: %s\n", t->ifp->name,
			rte_strerror(rte_errno));
		t->esp = e;
		esp_tun_free(st, t);
		return -ENOMEM;
	}
	t->esp = e;
	st->xfrm_out = esp_xfrm_out;
	st->udp_encap = esp_udp_input;
	st->udp_encap_err = esp_err;
	st->udp_service[port] = UDP_SERVICE_ENCAP;
	e->last_out = st->now;
	timer_init(&e->ka, esp_keepalive_timer);
	if (e->ka_ns != 0)
		timer_arm(&st->wheel, &e->ka, st->now + e->ka_ns);
	return 0;
}

void
esp_tun_free(struct sonde_stack *st, struct tunnel *t)
{
	struct esp_state *es = st->esp;
	struct esp_tun *e = t->esp;
	bool port_used = false;

	if (e == NULL)
		return;
	t->esp = NULL;
	if (timer_armed(&e->ka))
		timer_cancel(&st->wheel, &e->ka);
	if (e->out.sess != NULL)
		rte_cryptodev_sym_session_free((uint8_t)es->dev, e->out.sess);
	if (e->in.sess != NULL)
		rte_cryptodev_sym_session_free((uint8_t)es->dev, e->in.sess);
	if (st->udp_service[e->port] == UDP_SERVICE_ENCAP) {
		for (unsigned i = 0; i < st->tun->n; i++)
			if (st->tun->t[i]->esp != NULL && st->tun->t[i]->esp->port == e->port)
				port_used = true;
		if (!port_used)
			st->udp_service[e->port] = SONDE_SERVICE_NONE;
	}
	rte_free(e);
}

/* --- the layer --- */

static int
esp_init(struct sonde_stack *st, const struct sonde_conf *conf)
{
	const char *pmd = conf->crypto_pmd ? conf->crypto_pmd : "crypto_openssl";

	if (strlen(pmd) >= sizeof(st->esp->pmd) || !esp_pmd_ok(pmd)) {
		RTE_LOG(ERR, USER1,
			"sonde: ESP's crypto driver %s: crypto_openssl, crypto_aesni_gcm or "
			"crypto_aesni_mb (they finish each operation as it is queued)\n",
			pmd);
		return -EINVAL;
	}
	st->esp = rte_zmalloc("sonde_esp_state", sizeof(*st->esp), RTE_CACHE_LINE_SIZE);
	if (st->esp == NULL)
		return -ENOMEM;
	strcpy(st->esp->pmd, pmd);
	st->esp->dev = -1;
	return 0;
}

static void
esp_fini(struct sonde_stack *st)
{
	if (st->esp == NULL)
		return;
	esp_dev_down(st->esp);
	rte_free(st->esp);
	st->esp = NULL;
}

const struct sonde_layer esp_layer = {
	.name = "esp",
	.init = esp_init,
	.fini = esp_fini,
};
