/*
 * reass.c: reassembly of IPv4 and IPv6 datagrams from their fragments, the
 * step of both families registered with proto_reass_register().
 *
 * RFC 791 3.2 and RFC 815 (IPv4: the datagram's header is the first
 * fragment's, RFC 791 letting it alone carry the options not copied),
 * RFC 8200 4.5 (IPv6: the unfragmentable part and the Next Header are the
 * offset-zero fragment's; the length errors; the Fragment header may follow
 * Hop-by-Hop, Destination Options and Routing headers, 4.1), RFC 5722
 * (overlapping fragments discard the datagram; IPv4 too, as Linux does
 * since FragmentSmack), RFC 1858 3 (tiny TCP fragments), RFC 792 and RFC
 * 8200 4.5 (time exceeded, code 1, when the time runs out).
 *
 * Ours rather than DPDK's rte_ip_frag: DPDK 22.11 keeps at most
 * RTE_LIBRTE_IP_FRAG_MAX_FRAG (8, fixed when DPDK is compiled) fragments
 * per datagram, so a ping of 65000 bytes from Linux (45 fragments at MTU
 * 1500) could never be answered.  It also finds the IPv6 Fragment header
 * only right after the fixed header, and reports overlaps, duplicates and
 * too many fragments alike.
 *
 * The table: one per stack, allocated whole at init, an entry per datagram
 * in progress, keyed by family, addresses, identification, IPv4's protocol
 * and, for a link-local or multicast IPv6 destination, the interface (the
 * same addresses on two links are two datagrams).  Chained hash buckets,
 * jhash with a seed drawn at init so that nobody can aim fragments at one
 * bucket.  The entries are as many as the fragments that may be held
 * (conf.frag_max): every datagram in progress holds one at least, so the
 * fragment cap is the one that bites and the datagram count needs no
 * bound of its own.
 *
 * Bounds: fragments held, all datagrams together (conf.frag_max, 1024,
 * counted in mbufs: a fragment that came as a chain of segments counts
 * them all, since mbufs are what a flood would exhaust; bytes would bound
 * nothing more, a mbuf costs its buffer whatever it carries); fragments
 * per datagram (REASS_FRAGS_MAX, 256: 64 KiB needs 45 at MTU 1500, 54 at
 * IPv6's 1280, 241 at 296; past it the datagram goes, frag-too-many).
 *
 * Full: the new fragment is dropped (reassembly-full); nothing is evicted.
 * Evicting the oldest datagram lets whoever floods fragments destroy every
 * datagram in progress, each almost complete, while what is held is work
 * done; refusing keeps it, and the timeout makes room.  Linux evicted until
 * 4.17 and since refuses too (inet_frag_find() over high_thresh).
 *
 * A datagram's fragments are held in offset order as one mbuf chain: the
 * last segment of each leads to the next fragment's first, so the datagram
 * is that chain once its headers are stripped, and a fragment arriving in
 * order is placed after the tail without a walk.  A fragment's first
 * segment keeps its own nb_segs and pkt_len while held (the walk steps
 * over nb_segs segments; a drop sees the fragment alone), and
 * pkt_meta->scratch holds its byte range in the datagram.
 *
 * The timer: each datagram's, on the stack's wheel, armed when its first
 * fragment comes (RFC 791 and RFC 8200 both time a datagram from there)
 * and canceled when it completes.  On expiry every fragment goes
 * (reassembly-timeout), after a time exceeded to the source when the
 * offset-zero one had come.  A datagram found inconsistent (overlap, too
 * many, two ends) drops what it held and stays in the table, empty, until
 * that timer: the rest of its fragments are dropped as they come, for the
 * same reason, instead of starting a datagram that could only time out.
 */
#include <errno.h>
#include <string.h>

#include <rte_common.h>
#include <rte_jhash.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_random.h>

#include "ip.h"
#include "stack.h"

#define REASS_FRAGS_MAX 256
#define REASS_NIL UINT32_MAX
#define REASS_LEN_MAX 65535u /* IPv4 total length, IPv6 payload length */

struct reass_key {
	uint8_t src[16]; /* IPv4: the first 4 bytes, the rest zero */
	uint8_t dst[16];
	uint32_t ident;
	uint16_t scope; /* IPv6 link-local or multicast destination: the interface */
	uint8_t af;
	uint8_t proto; /* IPv4's; 0 for IPv6 (RFC 8200 4.5 keys on addresses and ident) */
};
_Static_assert(sizeof(struct reass_key) == 40, "keys are hashed and compared as bytes: no padding");

struct reass_dgram {
	struct timer timer;
	struct reass_key key;
	uint32_t hash;
	uint32_t next;		      /* the bucket's next entry, or the free list's */
	struct rte_mbuf *head, *tail; /* the fragments with the lowest and highest offsets */
	uint32_t end;	  /* payload bytes in all, once the last fragment came; else 0 */
	uint32_t max_end; /* the furthest end of a fragment held */
	uint32_t have;	  /* payload bytes held (no overlap: the bytes covered) */
	uint32_t segs;	  /* mbufs held */
	uint16_t nfrags;
	/* Header bytes the datagram's length field counts, the offset-zero
	 * fragment's: IPv4 its IHL, IPv6 its extension headers before the
	 * Fragment header.  Meaningful once that fragment is held. */
	uint16_t hdr;
	uint8_t flags; /* every fragment's pkt_meta flags, or'ed */
	uint8_t dead;  /* the drop reason that emptied it for good; 0 while alive */
};

struct reass_table {
	uint32_t mask; /* buckets - 1 */
	uint32_t free; /* the first free entry */
	uint32_t seed;
	uint32_t *bucket;
	struct reass_dgram dg[];
};

/* A held fragment's byte range in the datagram's payload. */
static inline uint32_t
reass_off(const struct rte_mbuf *f)
{
	return pkt_meta_c(f)->scratch[0];
}

static inline uint32_t
reass_len(const struct rte_mbuf *f)
{
	return pkt_meta_c(f)->scratch[1];
}

/* f's last segment: the count is read once, from f's first segment (the
 * others say 1, and a walk that reread it stopped at the second: the
 * third segment on of a fragment that came as a chain, as a nested IPv6
 * fragment comes out of its outer datagram, was cut off the chain and
 * leaked, or the next fragment overwrote it). */
static struct rte_mbuf *
reass_lastseg(struct rte_mbuf *f)
{
	for (uint16_t n = f->nb_segs; n > 1; n--)
		f = f->next;
	return f;
}

/* The held fragment after f, f cut from it. */
static struct rte_mbuf *
reass_detach(struct rte_mbuf *f)
{
	struct rte_mbuf *last = reass_lastseg(f), *next = last->next;

	last->next = NULL;
	return next;
}

static struct reass_dgram *
reass_find(struct reass_table *t, const struct reass_key *k, uint32_t hash)
{
	for (uint32_t i = t->bucket[hash & t->mask]; i != REASS_NIL; i = t->dg[i].next)
		if (t->dg[i].hash == hash && memcmp(&t->dg[i].key, k, sizeof(*k)) == 0)
			return &t->dg[i];
	return NULL;
}

static void reass_expire(struct timer *tm, void *ctx);

/* A new entry, its timer running; NULL when the table is full. */
static struct reass_dgram *
reass_new(struct sonde_stack *st, const struct reass_key *k, uint32_t hash)
{
	struct reass_table *t = st->frag.reass;
	uint32_t i = t->free, *b = &t->bucket[hash & t->mask];
	struct reass_dgram *e;

	if (i == REASS_NIL)
		return NULL;
	e = &t->dg[i];
	t->free = e->next;
	*e = (struct reass_dgram){ .key = *k, .hash = hash, .next = *b };
	*b = i;
	timer_init(&e->timer, reass_expire);
	timer_arm(&st->wheel, &e->timer, st->now + st->frag.timeout_ns);
	return e;
}

/* e's entry back to the free list (its fragments already gone). */
static void
reass_free(struct sonde_stack *st, struct reass_dgram *e)
{
	struct reass_table *t = st->frag.reass;
	uint32_t i = (uint32_t)(e - t->dg), *p = &t->bucket[e->hash & t->mask];

	timer_cancel(&st->wheel, &e->timer);
	while (*p != i)
		p = &t->dg[*p].next;
	*p = e->next;
	e->next = t->free;
	t->free = i;
}

/* Tells the source its datagram timed out (RFC 792, RFC 8200 4.5: code 1,
 * only when the offset-zero fragment came, and quoting it).  It counts as
 * sent to a group if any fragment was. */
static void
reass_time_exceeded(struct sonde_stack *st, const struct reass_dgram *e, struct rte_mbuf *first)
{
	pkt_meta(first)->flags |= e->flags;
	if (e->key.af == 4)
		icmp_error(st, first, ICMP_TIMXCEED, 1, 0);
	else
		icmp6_error(st, first, ICMP6_TIME_EXCEEDED, 1, 0);
}

/* Drops every fragment e holds as why; e stays, empty. */
static void
reass_drop_all(struct sonde_stack *st, struct reass_dgram *e, enum drop_reason why)
{
	struct rte_mbuf *f = e->head, *next;

	while (f != NULL) {
		next = reass_detach(f);
		if (why == DROP_REASSEMBLY_TIMEOUT && reass_off(f) == 0)
			reass_time_exceeded(st, e, f);
		pkt_drop(st, f, why);
		f = next;
	}
	st->frag.held -= e->segs;
	e->head = e->tail = NULL;
	e->segs = e->nfrags = 0;
	e->have = 0;
}

static void
reass_expire(struct timer *tm, void *ctx)
{
	struct sonde_stack *st = ctx;
	struct reass_dgram *e = container_of(tm, struct reass_dgram, timer);

	reass_drop_all(st, e, DROP_REASSEMBLY_TIMEOUT);
	reass_free(st, e);
}

/* IPv4: the first fragment's header made the datagram's (RFC 791 3.2). */
static void
reass4_header(struct rte_mbuf *head, uint32_t end)
{
	uint8_t *h = rte_pktmbuf_mtod(head, uint8_t *);
	uint32_t ihl = (h[0] & 0xfu) * 4;

	wire_put16(h + 2, (uint16_t)(ihl + end));
	wire_put16(h + 6, wire_get16(h + 6) & (uint16_t) ~(IPV4_FLAG_MF | IPV4_OFFSET_MASK));
	wire_put16(h + 10, 0);
	wire_put16(h + 10, wire_cksum(h, ihl));
}

/* IPv6: the offset of the field that names the Fragment header at off,
 * walking the headers ipv6_ext() walked to reach it. */
static uint32_t
reass6_nh_field(const uint8_t *h, uint32_t off)
{
	uint32_t field = 6, pos = IPV6_HDR_LEN;
	uint8_t nxt = h[6];

	while (pos < off) {
		field = pos;
		pos += nxt == IPPROTO_FRAGMENT_ ? IPV6_FRAG_HDR_LEN : (h[pos + 1] + 1u) * 8;
		nxt = h[field];
	}
	return field;
}

/* IPv6 (RFC 8200 4.5): the first fragment's unfragmentable part, its
 * Fragment header taken out (the part moves forward over it), the field
 * that named it naming what that fragment's Fragment header named. */
static void
reass6_header(struct rte_mbuf *head, uint32_t end)
{
	uint8_t *h = rte_pktmbuf_mtod(head, uint8_t *);
	uint32_t off = rte_pktmbuf_pkt_len(head) - reass_len(head) - IPV6_FRAG_HDR_LEN;

	h[reass6_nh_field(h, off)] = h[off];
	memmove(h + IPV6_FRAG_HDR_LEN, h, off);
	h = (uint8_t *)rte_pktmbuf_adj(head, IPV6_FRAG_HDR_LEN);
	wire_put16(h + 4, (uint16_t)(off - IPV6_HDR_LEN + end));
}

/* The whole datagram, from e's fragments: later fragments' headers
 * stripped, the first one's made the datagram's; e's entry freed. */
static struct rte_mbuf *
reass_done(struct sonde_stack *st, struct reass_dgram *e)
{
	struct rte_mbuf *head = e->head, *f = reass_lastseg(head)->next;
	uint32_t len0 = reass_len(head);

	while (f != NULL) {
		struct rte_mbuf *next = reass_lastseg(f)->next;

		/* A fragment's header, whatever its length, is in its first
		 * segment, where IP read it. */
		rte_pktmbuf_adj(f, (uint16_t)(rte_pktmbuf_pkt_len(f) - reass_len(f)));
		f = next;
	}
	if (e->key.af == 4)
		reass4_header(head, e->end);
	else
		reass6_header(head, e->end);
	head->pkt_len = rte_pktmbuf_pkt_len(head) - len0 + e->end;
	head->nb_segs = (uint16_t)e->segs;
	/* A NIC's verdict on a fragment's L4 checksum says nothing of the
	 * datagram's. */
	head->ol_flags &= ~RTE_MBUF_F_RX_L4_CKSUM_MASK;
	pkt_meta(head)->flags |= e->flags;
	st->frag.held -= e->segs;
	st->stats.frag_reassembled++;
	reass_free(st, e);
	return head;
}

/* Where fragment m (payload [off, off + len), the last one unless more)
 * goes among e's: between *prev and *next.  0, or why it cannot:
 * DROP_FRAG_DUPLICATE (m alone goes) or a reason to drop the datagram. */
static int
reass_place(const struct reass_dgram *e, const struct rte_mbuf *m, uint32_t off, uint32_t len,
	    bool more, uint32_t hdr, struct rte_mbuf **prev, struct rte_mbuf **next)
{
	uint32_t fend = off + len, end = more ? e->end : fend;
	bool first = off == 0 || (e->head != NULL && reass_off(e->head) == 0);
	struct rte_mbuf *p = NULL, *f = e->head;

	/* RFC 791 3.2, RFC 8200 4.5: one end, every fragment before it; the
	 * first fragment's header and the payload within 65535 bytes. */
	if ((!more && ((e->end && e->end != fend) || fend < e->max_end)) ||
	    (more && e->end && fend > e->end))
		return DROP_FRAG_BAD_LENGTH;
	if (first && end && (off == 0 ? hdr : e->hdr) + end > REASS_LEN_MAX)
		return DROP_FRAG_BAD_LENGTH;
	/* In order, the common case: after the tail, without a walk. */
	if (e->tail != NULL && reass_off(e->tail) < off) {
		p = e->tail;
		f = NULL;
	}
	while (f != NULL && reass_off(f) < off) {
		p = f;
		f = reass_lastseg(f)->next;
	}
	*prev = p;
	*next = f;
	/* RFC 8200 4.5 allows exact duplicates; RFC 5722 refuses overlaps. */
	if (f != NULL && reass_off(f) == off && reass_len(f) == len)
		return DROP_FRAG_DUPLICATE;
	if ((p != NULL && reass_off(p) + reass_len(p) > off) || (f != NULL && reass_off(f) < fend))
		return DROP_FRAG_OVERLAP;
	if (e->nfrags == REASS_FRAGS_MAX || e->segs + m->nb_segs > UINT16_MAX)
		return DROP_FRAG_TOO_MANY;
	return 0;
}

/* The packet's length made iplen, the header's (lo0 does not trim what a
 * link pads); false when it cannot be. */
static bool
reass_fit(struct rte_mbuf *m, uint32_t iplen)
{
	uint32_t len = rte_pktmbuf_pkt_len(m);

	return len == iplen || (len > iplen && rte_pktmbuf_trim(m, (uint16_t)(len - iplen)) == 0);
}

static void
reass_key_set(struct reass_key *k, uint8_t af, const uint8_t *src, const uint8_t *dst,
	      uint32_t alen, uint32_t ident)
{
	memset(k, 0, sizeof(*k));
	memcpy(k->src, src, alen);
	memcpy(k->dst, dst, alen);
	k->ident = ident;
	k->af = af;
}

/* Fragment m (data at its IP header, iplen bytes by its header) of the
 * datagram k: held, dropped, or the fragment that completes it.  off, len,
 * more: its payload's place; hdr: what its header adds to the datagram's
 * length field if it is the first. */
static struct rte_mbuf *
reass_add(struct sonde_stack *st, struct rte_mbuf *m, const struct reass_key *k, uint32_t iplen,
	  uint32_t off, uint32_t len, bool more, uint32_t hdr)
{
	struct frag_state *fs = &st->frag;
	uint32_t hash = rte_jhash(k, sizeof(*k), fs->reass->seed);
	struct reass_dgram *e = reass_find(fs->reass, k, hash);
	struct rte_mbuf *prev, *next;
	int r;

	/* Held, a fragment's length is its packet's: a later header is
	 * stripped by what it adds to its payload. */
	if (!reass_fit(m, iplen)) {
		pkt_drop(st, m, DROP_BAD_LENGTH);
		return NULL;
	}
	st->stats.frag_in++;
	pkt_meta(m)->scratch[0] = off;
	pkt_meta(m)->scratch[1] = len;
	if (e == NULL && fs->held + m->nb_segs <= fs->held_max)
		e = reass_new(st, k, hash);
	if (e == NULL) {
		pkt_drop(st, m, DROP_REASSEMBLY_FULL);
		return NULL;
	}
	if (e->dead) {
		pkt_drop(st, m, (enum drop_reason)e->dead);
		return NULL;
	}
	r = reass_place(e, m, off, len, more, hdr, &prev, &next);
	if (r != 0 && r != DROP_FRAG_DUPLICATE) {
		reass_drop_all(st, e, (enum drop_reason)r);
		e->dead = (uint8_t)r;
	}
	/* What the datagram holds is checked first: the cap refuses only
	 * what would be held. */
	if (r == 0 && fs->held + m->nb_segs > fs->held_max)
		r = DROP_REASSEMBLY_FULL;
	if (r) {
		pkt_drop(st, m, (enum drop_reason)r);
		return NULL;
	}
	reass_lastseg(m)->next = next;
	if (prev != NULL)
		reass_lastseg(prev)->next = m;
	else
		e->head = m;
	if (next == NULL)
		e->tail = m;
	e->nfrags++;
	e->segs += m->nb_segs;
	e->have += len;
	e->max_end = RTE_MAX(e->max_end, off + len);
	e->flags |= pkt_meta(m)->flags;
	if (off == 0)
		e->hdr = (uint16_t)hdr;
	if (!more)
		e->end = off + len;
	fs->held += m->nb_segs;
	if (fs->held > fs->held_peak)
		fs->held_peak = fs->held;
	/* No overlaps: the bytes held are the bytes covered. */
	if (e->end != 0 && e->have == e->end)
		return reass_done(st, e);
	return NULL;
}

static struct rte_mbuf *
reass4_input(struct sonde_stack *st, struct rte_mbuf *m, uint32_t unused)
{
	const uint8_t *h = rte_pktmbuf_mtod(m, const uint8_t *);
	uint16_t fw = wire_get16(h + 6);
	uint32_t ihl = (h[0] & 0xfu) * 4, tot = wire_get16(h + 2);
	uint32_t off = (uint32_t)(fw & IPV4_OFFSET_MASK) * 8, len = tot - ihl;
	struct reass_key k;

	(void)unused;
	/* RFC 791 3.2: every fragment carries data, all but the last a
	 * multiple of 8 bytes; no datagram exceeds 65535 bytes (the "ping
	 * of death"). */
	if (((fw & IPV4_FLAG_MF) && (len & 7)) || len == 0 || off + len > REASS_LEN_MAX - ihl) {
		pkt_drop(st, m, DROP_FRAG_BAD_LENGTH);
		return NULL;
	}
	/* RFC 1858 3: a TCP header split across fragments is an attack. */
	if (h[9] == IPPROTO_TCP_ && ((off == 0 && len < 20) || off == 8)) {
		pkt_drop(st, m, DROP_TINY_FRAGMENT);
		return NULL;
	}
	reass_key_set(&k, 4, h + 12, h + 16, 4, wire_get16(h + 4));
	k.proto = h[9];
	return reass_add(st, m, &k, tot, off, len, fw & IPV4_FLAG_MF, ihl);
}

static struct rte_mbuf *
reass6_input(struct sonde_stack *st, struct rte_mbuf *m, uint32_t off)
{
	const uint8_t *h = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t iplen = IPV6_HDR_LEN + wire_get16(h + 4);
	uint32_t len = iplen - off - IPV6_FRAG_HDR_LEN, unfrag = off - IPV6_HDR_LEN;
	struct frag6_view fv;
	struct reass_key k;

	/* ipv6_ext() found the whole Fragment header in the first segment. */
	wire_frag6_parse(h + off, IPV6_FRAG_HDR_LEN, &fv);
	/* RFC 8200 4.5: M set and a length not a multiple of 8 is a
	 * parameter problem pointing at the payload length; so is a
	 * fragment that would make the payload longer than 65535 bytes,
	 * pointing at its offset. */
	if ((fv.more && (len & 7)) || unfrag + fv.offset + len > REASS_LEN_MAX) {
		icmp6_error(st, m, ICMP6_PARAM_PROB, ICMP6_PARAMPROB_HEADER,
			    fv.more && (len & 7) ? 4 : off + 2);
		pkt_drop(st, m, DROP_FRAG_BAD_LENGTH);
		return NULL;
	}
	if (len == 0) {
		pkt_drop(st, m, DROP_FRAG_BAD_LENGTH);
		return NULL;
	}
	reass_key_set(&k, 6, h + 8, h + 24, 16, fv.ident);
	if (ipv6_addr_is_linklocal(h + 24) || ipv6_addr_is_multicast(h + 24))
		k.scope = pkt_meta(m)->ifindex;
	return reass_add(st, m, &k, iplen, fv.offset, len, fv.more, unfrag);
}

static int
reass_init(struct sonde_stack *st, const struct sonde_conf *conf)
{
	struct frag_state *fs = &st->frag;
	uint32_t n = conf->frag_max ? conf->frag_max : 1024, nb = rte_align32pow2(n);
	struct reass_table *t;

	fs->timeout_ns = (conf->frag_timeout_ms ? conf->frag_timeout_ms : 30000) * 1000000ull;
	fs->held_max = n;
	t = rte_zmalloc("sonde_reass", sizeof(*t) + n * sizeof(t->dg[0]), RTE_CACHE_LINE_SIZE);
	if (t == NULL)
		return -ENOMEM;
	t->bucket = rte_malloc("sonde_reass_buckets", nb * sizeof(t->bucket[0]), 0);
	if (t->bucket == NULL) {
		rte_free(t);
		return -ENOMEM;
	}
	t->mask = nb - 1;
	t->seed = (uint32_t)rte_rand();
	memset(t->bucket, 0xff, nb * sizeof(t->bucket[0])); /* REASS_NIL */
	for (uint32_t i = 0; i < n; i++)
		t->dg[i].next = i + 1 < n ? i + 1 : REASS_NIL;
	t->free = 0;
	fs->reass = t;
	return proto_reass_register(st, 4, reass4_input)
		       ?: proto_reass_register(st, 6, reass6_input);
}

/* The stack goes: every fragment still held with it (shutdown). */
static void
reass_fini(struct sonde_stack *st)
{
	struct reass_table *t = st->frag.reass;

	if (t == NULL)
		return;
	for (uint32_t b = 0; b <= t->mask; b++)
		while (t->bucket[b] != REASS_NIL) {
			struct reass_dgram *e = &t->dg[t->bucket[b]];

			reass_drop_all(st, e, DROP_SHUTDOWN);
			reass_free(st, e);
		}
	rte_free(t->bucket);
	rte_free(t);
	st->frag.reass = NULL;
}

/* Whether a fragment of e came in on interface ifindex. */
static bool
reass_from(const struct reass_dgram *e, uint16_t ifindex)
{
	for (struct rte_mbuf *f = e->head; f != NULL; f = reass_lastseg(f)->next)
		if (pkt_meta_c(f)->ifindex == ifindex)
			return true;
	return false;
}

/* An interface goes: the datagrams with a fragment from it go too (their
 * fragments name it; its index may soon name another). */
static void
reass_if_detach(struct sonde_stack *st, struct sonde_if *ifp)
{
	struct reass_table *t = st->frag.reass;

	if (st->closing)
		return; /* reass_fini() drops them all, as "shutdown" */
	for (uint32_t b = 0; b <= t->mask; b++)
		for (uint32_t i = t->bucket[b]; i != REASS_NIL;) {
			struct reass_dgram *e = &t->dg[i];

			i = e->next;
			if (reass_from(e, ifp->index)) {
				reass_drop_all(st, e, DROP_IF_DOWN_IN);
				reass_free(st, e);
			}
		}
}

const struct sonde_layer reass_layer = {
	.name = "reass",
	.init = reass_init,
	.fini = reass_fini,
	.if_detach = reass_if_detach,
};
