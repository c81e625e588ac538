/*
 * frames.c: the fuzz input format, checksums and length fixes, and
 * fragment trains (see fuzz.h).  Written from RFC 791, 768, 792, 1071,
 * 4443 and 8200 without the stack's wire helpers, so that what it fixes and
 * what it checks on the way out is an independent reading.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "ref_sum.h"

#define ETH_LEN 14
#define ETYPE_IPV4 0x0800
#define ETYPE_IPV6 0x86dd

bool
fz_next(const uint8_t *d, size_t n, size_t *pos, struct fz_rec *r)
{
	size_t p = *pos, len;

	if (p + FZ_REC_HDR > n)
		return false;
	len = fz_get16(d + p + 2);
	if (len > n - p - FZ_REC_HDR)
		len = n - p - FZ_REC_HDR;
	r->flags = d[p];
	r->step = d[p + 1];
	r->len = (uint16_t)len;
	r->data = d + p + FZ_REC_HDR;
	*pos = p + FZ_REC_HDR + len;
	return true;
}

void
fz_parse(const uint8_t *d, size_t n, struct fz_input *in)
{
	size_t pos = n ? 1 : 0;

	in->cfg = n ? d[0] : 0;
	in->n = 0;
	while (in->n < FZ_MAX_RECS && fz_next(d, n, &pos, &in->rec[in->n]))
		in->n++;
	in->tail = d + pos;
	in->tail_len = n - pos;
}

size_t
fz_size(const struct fz_input *in)
{
	size_t s = 1 + in->tail_len;

	for (unsigned i = 0; i < in->n; i++)
		s += FZ_REC_HDR + in->rec[i].len;
	return s;
}

size_t
fz_write(const struct fz_input *in, uint8_t *out, size_t cap)
{
	size_t s = fz_size(in), pos = 1;

	if (s > cap)
		return 0;
	out[0] = in->cfg;
	for (unsigned i = 0; i < in->n; i++) {
		const struct fz_rec *r = &in->rec[i];

		out[pos] = r->flags;
		out[pos + 1] = r->step;
		fz_put16(out + pos + 2, r->len);
		/* memmove: a record may point into out itself (the mutator
		 * writes over the input it parsed only through a copy, but a
		 * caller need not know that). */
		if (r->len)
			memmove(out + pos + FZ_REC_HDR, r->data, r->len);
		pos += FZ_REC_HDR + r->len;
	}
	if (in->tail_len)
		memmove(out + pos, in->tail, in->tail_len);
	return s;
}

uint64_t
fz_step_ns(uint8_t step)
{
	return ((uint64_t)(step & 31) << (3 * (step >> 5))) * 1000;
}

/* The checksum field value that makes the sum of everything 0xffff. */
static uint16_t
cksum_of(uint32_t sum)
{
	return (uint16_t)~ref_fold(sum);
}

static uint32_t
pseudo4(const uint8_t *ip, uint8_t proto, size_t len)
{
	return ref_sum(0, ip + 12, 8) + proto + (uint32_t)len;
}

static uint32_t
pseudo6(const uint8_t *ip, uint8_t nxt, size_t len)
{
	return ref_sum(0, ip + 8, 32) + nxt + (uint32_t)(len >> 16) + (uint32_t)(len & 0xffff);
}

/* The upper-layer header of IPv6 packet ip (len bytes, the payload
 * length's): 0 with its offset and protocol; 1 at a fragment header that
 * is not atomic (offset or M set); -1 if a header runs past len, or past
 * 16 of them. */
static int
walk6(const uint8_t *ip, size_t len, size_t *off, uint8_t *nxt)
{
	size_t o = 40, hl;
	uint8_t n = ip[6];

	for (int i = 0; i < 16; i++) {
		switch (n) {
		case 0:	 /* Hop-by-Hop */
		case 43: /* Routing */
		case 60: /* Destination Options */
			if (o + 2 > len)
				return -1;
			hl = (ip[o + 1] + 1u) * 8;
			break;
		case 44: /* Fragment */
			if (o + 8 > len)
				return -1;
			if (fz_get16(ip + o + 2) & 0xfff9)
				return 1;
			hl = 8;
			break;
		default:
			*off = o;
			*nxt = n;
			return 0;
		}
		if (o + hl > len)
			return -1;
		n = ip[o];
		o += hl;
	}
	return -1;
}

static void
fix4(uint8_t *ip, size_t n)
{
	size_t ihl, tot, l4len;
	uint8_t *l4;

	if (n < 20)
		return;
	ip[0] = (uint8_t)(0x40 | (ip[0] & 0xf));
	if ((ip[0] & 0xf) < 5)
		ip[0] = 0x45;
	ihl = (ip[0] & 0xfu) * 4;
	if (ihl > n)
		return;
	tot = n > 65535 ? 65535 : n;
	fz_put16(ip + 2, (uint32_t)tot);
	fz_put16(ip + 10, 0);
	fz_put16(ip + 10, cksum_of(ref_sum(0, ip, ihl)));
	if (fz_get16(ip + 6) & 0x3fff)
		return; /* a fragment: its transport checksum is the datagram's */
	l4 = ip + ihl;
	l4len = tot - ihl;
	if (ip[9] == 1 && l4len >= 4) {
		fz_put16(l4 + 2, 0);
		fz_put16(l4 + 2, cksum_of(ref_sum(0, l4, l4len)));
	} else if (ip[9] == 17 && l4len >= 8) {
		uint16_t c;

		fz_put16(l4 + 4, (uint32_t)l4len);
		if (fz_get16(l4 + 6) == 0)
			return; /* RFC 768: no checksum, and it stays so */
		fz_put16(l4 + 6, 0);
		c = cksum_of(ref_sum(pseudo4(ip, 17, l4len), l4, l4len));
		fz_put16(l4 + 6, c ? c : 0xffff);
	}
}

static void
fix6(uint8_t *ip, size_t n)
{
	size_t plen, off, l4len;
	uint8_t nxt, *l4;
	uint16_t c;

	if (n < 40)
		return;
	ip[0] = (uint8_t)(0x60 | (ip[0] & 0xf));
	plen = n - 40 > 65535 ? 65535 : n - 40;
	fz_put16(ip + 4, (uint32_t)plen);
	if (walk6(ip, 40 + plen, &off, &nxt) != 0)
		return;
	l4 = ip + off;
	l4len = 40 + plen - off;
	if (nxt == 58 && l4len >= 4) {
		fz_put16(l4 + 2, 0);
		fz_put16(l4 + 2, cksum_of(ref_sum(pseudo6(ip, 58, l4len), l4, l4len)));
	} else if (nxt == 17 && l4len >= 8) {
		fz_put16(l4 + 4, (uint32_t)l4len);
		fz_put16(l4 + 6, 0);
		c = cksum_of(ref_sum(pseudo6(ip, 17, l4len), l4, l4len));
		fz_put16(l4 + 6, c ? c : 0xffff);
	}
}

void
fz_fix(uint8_t *f, size_t len)
{
	if (len < ETH_LEN)
		return;
	if (fz_get16(f + 12) == ETYPE_IPV4)
		fix4(f + ETH_LEN, len - ETH_LEN);
	else if (fz_get16(f + 12) == ETYPE_IPV6)
		fix6(f + ETH_LEN, len - ETH_LEN);
}

/* UDP at l4 (l4len bytes of IP payload) with pseudo-header sum ps (less
 * the length), zero_ok for IPv4's "no checksum". */
static enum fz_l4
udp_state(const uint8_t *l4, size_t l4len, uint32_t ps, bool zero_ok)
{
	size_t ulen;

	if (l4len < 8)
		return FZ_L4_NONE;
	ulen = fz_get16(l4 + 4);
	if (ulen < 8 || ulen > l4len)
		return FZ_L4_INVALID;
	if (fz_get16(l4 + 6) == 0)
		return zero_ok ? FZ_L4_VALID : FZ_L4_INVALID;
	return ref_fold(ref_sum(ps + (uint32_t)ulen, l4, ulen)) == 0xffff ? FZ_L4_VALID
									  : FZ_L4_INVALID;
}

enum fz_l4
fz_l4(const uint8_t *f, size_t len)
{
	const uint8_t *ip = f + ETH_LEN, *l4;
	size_t n, ihl, tot, off, l4len;
	uint8_t nxt;

	if (len < ETH_LEN)
		return FZ_L4_NONE;
	n = len - ETH_LEN;
	if (fz_get16(f + 12) == ETYPE_IPV4) {
		if (n < 20 || ip[0] >> 4 != 4 || (ip[0] & 0xf) < 5)
			return FZ_L4_NONE;
		ihl = (ip[0] & 0xfu) * 4;
		tot = fz_get16(ip + 2);
		if (tot < ihl || tot > n)
			return FZ_L4_NONE;
		if (fz_get16(ip + 6) & 0x3fff)
			return FZ_L4_FRAGMENT;
		l4 = ip + ihl;
		l4len = tot - ihl;
		if (ip[9] == 1 && l4len >= 8)
			return ref_fold(ref_sum(0, l4, l4len)) == 0xffff ? FZ_L4_VALID
									 : FZ_L4_INVALID;
		if (ip[9] == 17)
			return udp_state(l4, l4len, pseudo4(ip, 17, 0), true);
		return FZ_L4_NONE;
	}
	if (fz_get16(f + 12) != ETYPE_IPV6 || n < 40 || ip[0] >> 4 != 6 ||
	    40 + (size_t)fz_get16(ip + 4) > n)
		return FZ_L4_NONE;
	tot = 40 + (size_t)fz_get16(ip + 4);
	switch (walk6(ip, tot, &off, &nxt)) {
	case 1: return FZ_L4_FRAGMENT;
	case 0: break;
	default: return FZ_L4_NONE;
	}
	l4 = ip + off;
	l4len = tot - off;
	if (nxt == 58 && l4len >= 4)
		return ref_fold(ref_sum(pseudo6(ip, 58, l4len), l4, l4len)) == 0xffff
			       ? FZ_L4_VALID
			       : FZ_L4_INVALID;
	if (nxt == 17)
		return udp_state(l4, l4len, pseudo6(ip, 17, 0), false);
	return FZ_L4_NONE;
}

uint64_t
fz_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* A fragment of the train: bytes [off, off + len) of the fragmentable part,
 * M set or not; junk: other bytes than the datagram's (an overlap that
 * disagrees). */
struct piece {
	uint32_t off, len;
	bool more, junk;
};

#define TRAIN_MAX FZ_TRAIN_MAX

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Cuts p bytes into pieces and arranges them (see fz_frag_train). */
static unsigned
plan(uint64_t *rng, uint32_t p, struct piece *pc)
{
	uint32_t cuts[FZ_TRAIN_MAX - 1], k = 2 + fz_below(rng, 7), m = 1;
	unsigned n = 0;

	if (p < 16)
		return 0;
	/* Now and then many: reassembly holds up to 256 fragments a
	 * datagram (rte_ip_frag, before it, 8). */
	if (fz_below(rng, 8) == 0)
		k = 9 + fz_below(rng, FZ_TRAIN_MAX - 12);
	if (k > p / 8)
		k = p / 8;
	cuts[0] = 0;
	for (uint32_t i = 1; i < k; i++)
		cuts[i] = 8 * (1 + fz_below(rng, (p - 1) / 8));
	qsort(cuts + 1, k - 1, sizeof(cuts[0]), cmp_u32);
	/* Equal cuts would make empty pieces: keep the distinct ones. */
	for (uint32_t i = 1; i < k; i++)
		if (cuts[i] != cuts[m - 1] && cuts[i] < p)
			cuts[m++] = cuts[i];
	if (m > 1 && fz_below(rng, 8) == 0) {
		uint32_t i = 1 + fz_below(rng, m - 1), c = cuts[i] + 1 + fz_below(rng, 7);

		if (c < p && (i + 1 == m || c < cuts[i + 1]))
			cuts[i] = c; /* not a multiple of 8: RFC 791 and 8200 refuse it */
	}
	cuts[m] = p;
	for (uint32_t i = 0; i < m; i++)
		pc[n++] = (struct piece){ cuts[i], cuts[i + 1] - cuts[i], i + 1 < m, false };

	switch (fz_below(rng, 8)) {
	case 4: /* reversed */
		for (unsigned i = 0; i < n / 2; i++) {
			struct piece t = pc[i];

			pc[i] = pc[n - 1 - i];
			pc[n - 1 - i] = t;
		}
		break;
	case 5: { /* the last first: the datagram's length known early */
		struct piece last = pc[n - 1];

		memmove(pc + 1, pc, (n - 1) * sizeof(*pc));
		pc[0] = last;
		break;
	}
	case 6:
	case 7: /* shuffled */
		for (unsigned i = n - 1; i > 0; i--) {
			unsigned j = fz_below(rng, i + 1);
			struct piece t = pc[i];

			pc[i] = pc[j];
			pc[j] = t;
		}
		break;
	default: break; /* in order, as most senders do */
	}
	if (fz_below(rng, 4) == 0 && n < TRAIN_MAX) { /* a duplicate */
		unsigned at = fz_below(rng, n + 1);
		struct piece d = pc[fz_below(rng, n)];

		memmove(pc + at + 1, pc + at, (n - at) * sizeof(*pc));
		pc[at] = d;
		n++;
	}
	if (fz_below(rng, 6) == 0 && n < TRAIN_MAX) { /* an overlap of other bytes */
		uint32_t off = 8 * fz_below(rng, (p + 7) / 8), len = 8 * (1 + fz_below(rng, 4));
		unsigned at = fz_below(rng, n + 1);

		if (off + len > p)
			len = p - off;
		memmove(pc + at + 1, pc + at, (n - at) * sizeof(*pc));
		pc[at] = (struct piece){ off, len, off + len < p, true };
		n++;
	}
	if (fz_below(rng, 8) == 0 && n > 1) { /* one never comes */
		unsigned at = fz_below(rng, n);

		memmove(pc + at, pc + at + 1, (n - at - 1) * sizeof(*pc));
		n--;
	}
	return n;
}

/* Copies a piece's bytes of the fragmentable part src to dst. */
static void
piece_bytes(uint8_t *dst, const uint8_t *src, const struct piece *pc)
{
	memcpy(dst, src + pc->off, pc->len);
	if (pc->junk)
		for (uint32_t i = 0; i < pc->len; i++)
			dst[i] ^= 0x5a;
}

/* IPv4 options a first fragment may carry: Router Alert (copied, RFC
 * 2113), NOPs and an end, Record Route, Timestamp (not copied). */
static const uint8_t opt_ra[] = { 0x94, 0x04, 0x00, 0x00 };
static const uint8_t opt_nop[] = { 0x01, 0x01, 0x01, 0x00 };
static const uint8_t opt_rr[] = { 0x07, 0x07, 0x04, 0, 0, 0, 0, 0x00 };
static const uint8_t opt_ts[] = { 0x44, 0x0c, 0x05, 0x00, 0, 0, 0, 0, 0, 0, 0, 0 };

static unsigned
train4(uint8_t *dg, size_t len, uint64_t *rng, uint8_t *out, size_t cap, uint16_t *lens,
       unsigned max)
{
	uint8_t *ip = dg + ETH_LEN, h1[60], h2[60];
	size_t ihl, tot, l1, l2, used = 0;
	struct piece pc[TRAIN_MAX];
	unsigned n;
	uint16_t ident;
	uint32_t df;

	if (len < ETH_LEN + 20 || ip[0] >> 4 != 4 || (ip[0] & 0xf) < 5)
		return 0;
	ihl = (ip[0] & 0xfu) * 4;
	tot = fz_get16(ip + 2);
	if (tot > len - ETH_LEN)
		tot = len - ETH_LEN;
	if (tot < ihl + 16 || (fz_get16(ip + 6) & 0x3fff))
		return 0;
	/* The first fragment keeps the header as it is; the others keep
	 * only the fixed part (a real fragmenter would keep the copied
	 * options: sometimes they get ours). */
	memcpy(h1, ip, ihl);
	l1 = ihl;
	memcpy(h2, ip, 20);
	l2 = 20;
	if (fz_below(rng, 3) == 0) {
		const uint8_t *o;
		size_t ol;
		bool copied = false;

		switch (fz_below(rng, 5)) {
		case 0: o = opt_ra, ol = sizeof(opt_ra), copied = true; break;
		case 1: o = opt_nop, ol = sizeof(opt_nop); break;
		case 2: o = opt_rr, ol = sizeof(opt_rr); break;
		case 3: o = opt_ts, ol = sizeof(opt_ts); break;
		default: o = NULL, ol = 4 * (1 + fz_below(rng, 4)); break;
		}
		if (l1 + ol <= 60) {
			for (size_t i = 0; i < ol; i++)
				h1[l1 + i] = o ? o[i] : (uint8_t)fz_rand(rng);
			l1 += ol;
		}
		if (copied && fz_below(rng, 2)) {
			memcpy(h2 + l2, o, ol);
			l2 += ol;
		}
	}
	n = plan(rng, (uint32_t)(tot - ihl), pc);
	if (n == 0 || n > max)
		return 0;
	ident = fz_below(rng, 4) == 0 ? (uint16_t)fz_rand(rng) : fz_get16(ip + 4);
	/* DF as the datagram had it, rarely: a fragment with DF set is odd,
	 * and what the stack makes of it is for the fuzzer to find out. */
	df = fz_below(rng, 8) == 0 ? fz_get16(ip + 6) & 0x4000u : 0;
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *h = pc[i].off == 0 ? h1 : h2;
		size_t hl = pc[i].off == 0 ? l1 : l2, flen = ETH_LEN + hl + pc[i].len;
		uint8_t *f = out + used, *fi = f + ETH_LEN;

		if (used + flen > cap || flen > 65535)
			return 0;
		memcpy(f, dg, ETH_LEN);
		memcpy(fi, h, hl);
		fi[0] = (uint8_t)(0x40 | hl / 4);
		fz_put16(fi + 2, (uint32_t)(hl + pc[i].len));
		fz_put16(fi + 4, ident);
		fz_put16(fi + 6, df | (pc[i].more ? 0x2000u : 0) | pc[i].off / 8);
		fz_put16(fi + 10, 0);
		fz_put16(fi + 10, cksum_of(ref_sum(0, fi, hl)));
		piece_bytes(fi + hl, ip + ihl, &pc[i]);
		lens[i] = (uint16_t)flen;
		used += flen;
	}
	return n;
}

static unsigned
train6(uint8_t *dg, size_t len, uint64_t *rng, uint8_t *out, size_t cap, uint16_t *lens,
       unsigned max)
{
	uint8_t *ip = dg + ETH_LEN;
	size_t tot, u = 40, nh_field = 6, used = 0;
	struct piece pc[TRAIN_MAX];
	unsigned n;
	uint32_t ident;
	uint8_t nxt;

	if (len < ETH_LEN + 40 || ip[0] >> 4 != 6)
		return 0;
	tot = 40 + (size_t)fz_get16(ip + 4);
	if (tot > len - ETH_LEN)
		tot = len - ETH_LEN;
	/* RFC 8200 4.5: the unfragmentable part is the IPv6 header and the
	 * extension headers up to the Routing header; reass.c takes the
	 * Fragment header after any of Hop-by-Hop, Destination Options and
	 * Routing headers (RFC 8200 4.1), but most senders put it right
	 * after the fixed header: mostly there. */
	if (fz_below(rng, 4) == 0) {
		uint8_t t = ip[6];

		while ((t == 0 || t == 43 || t == 60) && u + 2 <= tot &&
		       u + (ip[u + 1] + 1u) * 8 <= tot) {
			nh_field = u;
			t = ip[u];
			u += (ip[u + 1] + 1u) * 8;
		}
	}
	nxt = ip[nh_field];
	n = tot > u ? plan(rng, (uint32_t)(tot - u), pc) : 0;
	if (n == 0 || n > max)
		return 0;
	ident = (uint32_t)fz_rand(rng);
	for (unsigned i = 0; i < n; i++) {
		size_t flen = ETH_LEN + u + 8 + pc[i].len;
		uint8_t *f = out + used, *fi = f + ETH_LEN, *fh = fi + u;

		if (used + flen > cap || flen > 65535)
			return 0;
		memcpy(f, dg, ETH_LEN + u);
		fi[nh_field] = 44;
		fz_put16(fi + 4, (uint32_t)(u - 40 + 8 + pc[i].len));
		fh[0] = nxt;
		fh[1] = 0;
		fz_put16(fh + 2, (pc[i].off & 0xfff8u) | (pc[i].more ? 1u : 0));
		fh[4] = (uint8_t)(ident >> 24);
		fh[5] = (uint8_t)(ident >> 16);
		fh[6] = (uint8_t)(ident >> 8);
		fh[7] = (uint8_t)ident;
		piece_bytes(fh + 8, ip + u, &pc[i]);
		lens[i] = (uint16_t)flen;
		used += flen;
	}
	return n;
}

/* The UDP datagram of the whole (fixed) IP packet in frame f made
 * shorter than the IP payload, the checksum over what is left: RFC 768
 * says the bytes after it are not UDP's, and a reassembled datagram must
 * be cut to it (udp_trim, of a chain). */
static void
udp_shorten(uint8_t *f, size_t len, uint64_t *rng)
{
	uint8_t *ip = f + ETH_LEN, *l4, nxt;
	size_t off, tot, ulen;
	uint32_t ps;
	uint16_t c;

	if (fz_get16(f + 12) == ETYPE_IPV4) {
		if (len < ETH_LEN + 20 || ip[9] != 17)
			return;
		off = (ip[0] & 0xfu) * 4;
		tot = fz_get16(ip + 2);
	} else {
		if (len < ETH_LEN + 40)
			return;
		tot = 40 + (size_t)fz_get16(ip + 4);
		if (tot > len - ETH_LEN || walk6(ip, tot, &off, &nxt) != 0 || nxt != 17)
			return;
	}
	if (tot > len - ETH_LEN || off + 16 > tot)
		return;
	l4 = ip + off;
	ulen = 8 + fz_below(rng, (uint32_t)(tot - off - 8));
	fz_put16(l4 + 4, (uint32_t)ulen);
	if (fz_get16(l4 + 6) == 0)
		return;
	ps = fz_get16(f + 12) == ETYPE_IPV4 ? pseudo4(ip, 17, ulen) : pseudo6(ip, 17, ulen);
	fz_put16(l4 + 6, 0);
	c = cksum_of(ref_sum(ps, l4, ulen));
	fz_put16(l4 + 6, c ? c : 0xffff);
}

unsigned
fz_frag_train(const uint8_t *f, size_t len, uint64_t *rng, uint8_t *out, size_t cap, uint16_t *lens,
	      unsigned max)
{
	static uint8_t dg[ETH_LEN + 65535];

	if (len < ETH_LEN || len > sizeof(dg))
		return 0;
	memcpy(dg, f, len);
	/* Fixed first, so that the reassembled datagram is one the stack
	 * takes: what is wrong is only what the train does. */
	if (fz_below(rng, 8) != 0)
		fz_fix(dg, len);
	if (fz_below(rng, 4) == 0)
		udp_shorten(dg, len, rng);
	if (fz_get16(dg + 12) == ETYPE_IPV4)
		return train4(dg, len, rng, out, cap, lens, max);
	if (fz_get16(dg + 12) == ETYPE_IPV6)
		return train6(dg, len, rng, out, cap, lens, max);
	return 0;
}
