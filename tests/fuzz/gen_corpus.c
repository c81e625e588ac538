/*
 * gen_corpus.c: writes the fuzz target's seeds (tests/fuzz/corpus) from the
 * unit tests' reference frames (tests/unit/packets.h), made by scapy and
 * checked by tshark: every layer and every path of the stack a frame or
 * two deep, for the mutator to start from.  Frames for test1 and the
 * second IPv6 subnet (fd10::/64, fd12::/64 beyond R) are packets.h's with
 * other addresses, fixed by fz_fix.  Run from the fuzz build:
 *
 *   build-fuzz/tests/fuzz/fuzz_corpus tests/fuzz/corpus
 *
 * and commit what changed; the target's tests check the two agree.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"
#include "packets.h"

static const uint8_t MAC_A[6] = { 0x02, 0, 0, 0, 0x00, 0x02 };
static const uint8_t MAC_US1[6] = { 0x02, 0, 0, 0, 0x01, 0x01 };
static const uint8_t MAC_B[6] = { 0x02, 0, 0, 0, 0x01, 0x02 };

#define T0 0		       /* test0, stack a */
#define T1 FZ_F_LINK1	       /* test1 */
#define SB FZ_F_STACK_B	       /* the linked stack */
#define FX FZ_F_FIX	       /* fixed before it goes in */
#define HOLD FZ_F_HOLD	       /* the next one joins the burst */
#define STEP_1MS 80	       /* (80 & 31) << 6 us: 1.024 ms */
#define STEP_1S 191	       /* 31 << 15 us: 1.016 s */
#define STEP_35S (7 << 5 | 17) /* 17 << 21 us: 35.7 s, past the reassembly timeout */

static const char *dir;

struct frame {
	uint8_t b[9216];
	size_t len;
};

struct seed {
	uint8_t b[1 << 17];
	size_t len;
};

static struct seed s;

static void
start(uint8_t cfg)
{
	s.b[0] = cfg;
	s.len = 1;
}

static void
rec(uint8_t flags, uint8_t step, const uint8_t *p, size_t len)
{
	if (s.len + FZ_REC_HDR + len > sizeof(s.b) || len > 65535) {
		fprintf(stderr, "fuzz_corpus: seed too big\n");
		exit(1);
	}
	s.b[s.len] = flags;
	s.b[s.len + 1] = step;
	s.b[s.len + 2] = (uint8_t)(len >> 8);
	s.b[s.len + 3] = (uint8_t)len;
	memcpy(s.b + s.len + FZ_REC_HDR, p, len);
	s.len += FZ_REC_HDR + len;
}

#define REC(flags, step, pkt) rec(flags, step, pkt, sizeof(pkt))
#define RECF(flags, step, f) rec(flags, step, (f)->b, (f)->len)

/* An operation record (fuzz_stack.c): op, what, length, sequence. */
static void
op(uint8_t flags, uint8_t step, uint8_t what, uint8_t arg, uint16_t len)
{
	uint8_t d[5] = { what, arg, (uint8_t)(len >> 8), (uint8_t)len, 1 };

	rec(FZ_F_OP | flags, step, d, sizeof(d));
}

static void
done(const char *name)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (f == NULL || fwrite(s.b, 1, s.len, f) != s.len || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

static void
frame(struct frame *f, const uint8_t *p, size_t len)
{
	memcpy(f->b, p, len);
	f->len = len;
}

#define FRAME(f, pkt) frame(f, pkt, sizeof(pkt))

static void
ip4_set(uint8_t *p, const char *a)
{
	if (inet_pton(AF_INET, a, p) != 1)
		abort();
}

static void
ip6_set(uint8_t *p, const char *a)
{
	if (inet_pton(AF_INET6, a, p) != 1)
		abort();
}

/* The IP packet of f (either family) re-addressed (NULL: as it was), its
 * TTL or hop limit ttl (0: as it was), then fixed. */
static void
readdr(struct frame *f, const char *src, const char *dst, uint8_t ttl)
{
	bool v6 = f->b[12] == 0x86;
	int af = v6 ? AF_INET6 : AF_INET;

	if ((src && inet_pton(af, src, f->b + (v6 ? 22 : 26)) != 1) ||
	    (dst && inet_pton(af, dst, f->b + (v6 ? 38 : 30)) != 1))
		abort();
	if (ttl)
		f->b[v6 ? 21 : 22] = ttl;
	fz_fix(f->b, f->len);
}

static void
eth(struct frame *f, const uint8_t *dst, const uint8_t *src)
{
	memcpy(f->b, dst, 6);
	memcpy(f->b + 6, src, 6);
}

/* f's IP packet grown to len bytes of frame, the new bytes a count. */
static void
grow(struct frame *f, size_t len)
{
	for (size_t i = f->len; i < len; i++)
		f->b[i] = (uint8_t)i;
	f->len = len;
	fz_fix(f->b, f->len);
}

/* f to dst beyond R, then with TTL 1 (time exceeded), then to
 * unroutable (no route). */
static void
beyond_r(struct frame *f, const char *dst, const char *unroutable)
{
	struct frame g;

	readdr(f, NULL, dst, 0);
	RECF(T0, 0, f);
	g = *f;
	readdr(&g, NULL, NULL, 1);
	RECF(T0, 0, &g);
	g = *f;
	readdr(&g, NULL, unroutable, 0);
	RECF(T0, 0, &g);
}

static void
seeds_v4(void)
{
	struct frame f;

	start(0);
	REC(T0, 0, pkt_arp_req);
	REC(T0, 0, pkt_echo_req);
	done("echo4");

	start(0);
	REC(T0, 0, pkt_echo_opt);
	REC(T0 | FZ_F_POOL, 0, pkt_echo_req);
	done("echo4-options-pool");

	start(0);
	REC(T0, 0, pkt_udp);
	REC(T0, 0, pkt_udp_echo);
	FRAME(&f, pkt_udp_echo);
	f.b[37] = 9; /* to discard */
	fz_fix(f.b, f.len);
	RECF(T0, 0, &f);
	done("udp4");

	/* To B, not known yet: an ARP request on test1, B's reply, the
	 * datagram goes. */
	start(0);
	REC(T0, 0, pkt_fwd_udp);
	FRAME(&f, pkt_arp_reply);
	eth(&f, MAC_US1, MAC_B);
	memcpy(f.b + 22, MAC_B, 6);
	ip4_set(f.b + 28, "10.1.0.2");
	memcpy(f.b + 32, MAC_US1, 6);
	ip4_set(f.b + 38, "10.1.0.1");
	RECF(T1, STEP_1MS, &f);
	done("forward4-b");

	start(0);
	FRAME(&f, pkt_fwd_udp);
	beyond_r(&f, "10.2.0.5", "192.0.2.7");
	REC(T1, 0, pkt_arp_req_b);
	REC(T1, 0, pkt_arp_req_r);
	REC(T0, 0, pkt_arp_reply);
	done("forward4-r");

	/* Too big for test1 at 1280: DF gets "fragmentation needed", no DF
	 * is cut. */
	start(FZ_CFG_MTU1280);
	FRAME(&f, pkt_echo_req);
	readdr(&f, NULL, "10.2.0.5", 0);
	grow(&f, 14 + 1400);
	RECF(T0, 0, &f);
	f.b[20] = 0; /* DF off */
	fz_fix(f.b, f.len);
	RECF(T0, 0, &f);
	done("forward4-mtu");

	/* R learnt: the packet waits for R's answer. */
	start(FZ_CFG_LEARN_R);
	FRAME(&f, pkt_fwd_udp);
	readdr(&f, NULL, "10.2.0.5", 0);
	RECF(T0, 0, &f);
	REC(T1, STEP_1MS, pkt_arp_req_r);
	done("forward4-learn-r");
}

static void
seeds_v6(void)
{
	static const struct {
		const char *name;
		const uint8_t *p;
		size_t len;
	} ext[] = {
#define E(n, p) { n, p, sizeof(p) }
		E("ext6-hbh", pkt6_echo_hbh),
		E("ext6-dst", pkt6_echo_dst),
		E("ext6-rh", pkt6_echo_rh),
		E("ext6-atomic", pkt6_echo_atomic),
		E("ext6-chain", pkt6_echo_chain),
		E("ext6-nonxt", pkt6_nonxt),
		E("ext6-hbh-second", pkt6_hbh_second),
		E("ext6-rh0", pkt6_rh0),
		E("ext6-opt", pkt6_opt),
		E("ext6-proto253", pkt6_proto253),
		E("ext6-dst-proto253", pkt6_dst_proto253),
		E("ext6-tiny-frag", pkt6_tiny_frag),
		E("ext6-err-chain", pkt6_err_chain),
#undef E
	};
	struct frame f, g;

	for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
		start(0);
		rec(T0, 0, ext[i].p, ext[i].len);
		done(ext[i].name);
	}

	start(0);
	REC(T0, 0, pkt6_ns);
	REC(T0, 0, pkt6_echo_req);
	REC(T0, 0, pkt6_udp);
	REC(T0, 0, pkt6_udp_echo);
	REC(T0, 0, pkt6_na);
	done("echo6");

	start(FZ_CFG_DAD_PENDING);
	REC(T0, 0, pkt6_ns_dad);
	REC(T0, STEP_1S, pkt6_echo_req);
	done("dad6");

	start(0);
	REC(T0, 0, pkt6_rs);
	REC(T0, 0, pkt6_ra);
	done("rs-ra6");

	/* A packet too big from A about fd01::5: our pings there then leave
	 * in fragments of 1400. */
	start(0);
	REC(T0, 0, pkt6_ns);
	REC(T0, 0, pkt6_ptb);
	op(0, 0, FZ_OP_PING, 11, 1452);
	done("ptb6");

	/* To B on test1, not known yet: our NS, B's NA, the packet goes. */
	start(0);
	FRAME(&f, pkt6_echo_req);
	readdr(&f, NULL, "fd10::2", 0);
	RECF(T0, 0, &f);
	FRAME(&g, pkt6_na);
	eth(&g, MAC_US1, MAC_B);
	ip6_set(g.b + 62, "fd10::2");
	memcpy(g.b + 80, MAC_B, 6);
	readdr(&g, "fd10::2", "fd10::1", 0);
	RECF(T1, STEP_1MS, &g);
	done("forward6-b");

	start(0);
	FRAME(&f, pkt6_echo_req);
	beyond_r(&f, "fd12::5", "2001:db8::7");
	g = f;
	readdr(&g, "fe80::ff:fe00:2", NULL, 0); /* beyond scope */
	RECF(T0, 0, &g);
	done("forward6-r");

	start(FZ_CFG_MTU1280);
	FRAME(&f, pkt6_echo_req);
	readdr(&f, NULL, "fd12::5", 0);
	grow(&f, 14 + 1400);
	RECF(T0, 0, &f);
	done("forward6-mtu");
}

/* A fragment's place in its datagram's payload: bytes [off, off + len). */
struct cut {
	uint16_t off, len;
};

/* The cuts listed, and how many: cut4() and cut6()'s last two arguments. */
#define CUTS(...)                            \
	(const struct cut[]){ __VA_ARGS__ }, \
		sizeof((const struct cut[]){ __VA_ARGS__ }) / sizeof(struct cut)

/* Fragments made by cut4() and cut6(), to be recorded. */
static struct frame piece[300];

/* n cuts of step bytes (the last shorter) over p bytes of payload. */
static unsigned
even(struct cut *pc, size_t p, uint16_t step)
{
	unsigned n = 0;

	for (size_t off = 0; off < p; off += step)
		pc[n++] =
			(struct cut){ (uint16_t)off, (uint16_t)(p - off < step ? p - off : step) };
	return n;
}

/* IPv4 datagram f cut into piece[] as pc says (in that order): the first
 * fragment with f's header, the others with its 20 fixed bytes and ol
 * bytes of options opt (RFC 791 3.2: the copied ones, which the first
 * fragment's need not match in length). */
static unsigned
cut4(const struct frame *f, const uint8_t *opt, size_t ol, const struct cut *pc, unsigned n)
{
	size_t ihl = (f->b[14] & 0xfu) * 4, p = (size_t)(f->b[16] << 8 | f->b[17]) - ihl;

	for (unsigned i = 0; i < n; i++) {
		struct frame *g = &piece[i];
		size_t hl = pc[i].off == 0 ? ihl : 20 + ol;

		memcpy(g->b, f->b, 14 + 20);
		if (hl > 20)
			memcpy(g->b + 34, pc[i].off == 0 ? f->b + 34 : opt, hl - 20);
		g->b[14] = (uint8_t)(0x40 | hl / 4);
		g->b[20] = (uint8_t)((pc[i].off + pc[i].len < p ? 0x20 : 0) | pc[i].off >> 11);
		g->b[21] = (uint8_t)(pc[i].off >> 3);
		memcpy(g->b + 14 + hl, f->b + 14 + ihl + pc[i].off, pc[i].len);
		g->len = 14 + hl + pc[i].len;
		fz_fix(g->b, g->len); /* the lengths and the header checksum */
	}
	return n;
}

/* IPv6 datagram f cut into piece[] as pc says, a Fragment header
 * (identification ident) after its first u bytes (the fixed header and
 * the extension headers that stay whole). */
static unsigned
cut6(const struct frame *f, size_t u, uint32_t ident, const struct cut *pc, unsigned n)
{
	const uint8_t *ip = f->b + 14;
	size_t field = 6, p = 40 + (size_t)(ip[4] << 8 | ip[5]) - u;

	for (size_t at = 40; at < u; at += (ip[at + 1] + 1u) * 8)
		field = at;
	for (unsigned i = 0; i < n; i++) {
		struct frame *g = &piece[i];
		uint8_t *h = g->b + 14 + u;

		memcpy(g->b, f->b, 14 + u);
		g->b[14 + field] = 44;
		h[0] = ip[field];
		h[1] = 0;
		h[2] = (uint8_t)(pc[i].off >> 8);
		h[3] = (uint8_t)((pc[i].off & 0xf8) | (pc[i].off + pc[i].len < p));
		for (int k = 0; k < 4; k++)
			h[4 + k] = (uint8_t)(ident >> (24 - 8 * k));
		memcpy(h + 8, ip + u + pc[i].off, pc[i].len);
		g->len = 14 + u + 8 + pc[i].len;
		fz_fix(g->b, g->len); /* the payload length */
	}
	return n;
}

static void
rec_pieces(uint8_t flags, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		RECF(flags, 0, &piece[i]);
}

/* Seed name: a UDP echo of p bytes (its header included) in IPv4
 * fragments of step bytes, in order. */
static void
seed_udp4_even(const char *name, uint8_t cfg, size_t p, uint16_t step)
{
	static struct frame f;
	struct cut pc[300];

	start(cfg);
	FRAME(&f, pkt_udp_echo);
	grow(&f, 14 + 20 + p);
	rec_pieces(T0, cut4(&f, NULL, 0, pc, even(pc, p, step)));
	done(name);
}

static void
seeds_frag(void)
{
	static struct frame f, g, h;
	struct cut pc[300];
	uint16_t lens[FZ_TRAIN_MAX];
	uint8_t out[8192];
	uint64_t rng = 1;
	unsigned n;
	size_t off = 0;

	start(0);
	REC(T0 | HOLD, 0, pkt_big_f1);
	REC(T0 | HOLD, 0, pkt_big_f2);
	REC(T0, 0, pkt_big_f3);
	done("frag4-echo");

	start(0);
	REC(T0, 0, pkt_udp_big_f3);
	REC(T0, 0, pkt_udp_big_f1);
	REC(T0, 0, pkt_udp_big_f2);
	done("frag4-udp-echo");

	start(0);
	REC(T0 | HOLD, 0, pkt6_big_f1);
	REC(T0 | HOLD, 0, pkt6_big_f2);
	REC(T0 | HOLD, 0, pkt6_big_f3);
	REC(T0, 0, pkt6_big_f4);
	done("frag6-echo");

	start(0);
	REC(T0, 0, pkt6_udp_big_f1);
	REC(T0, 0, pkt6_udp_big_f2);
	REC(T0, 0, pkt6_udp_big_f3);
	done("frag6-udp-echo");

	/* A UDP echo in two fragments, the first with a Router Alert
	 * option (IHL 6), the second without: the datagram's header is the
	 * first fragment's. */
	start(0);
	FRAME(&f, pkt_udp_echo);
	grow(&f, 14 + 20 + 8 + 64);
	memcpy(g.b, f.b, 14 + 20);
	g.b[14] = 0x46;
	memcpy(g.b + 34, "\x94\x04\x00\x00", 4);
	memcpy(g.b + 38, f.b + 34, 32); /* UDP header and 24 bytes */
	g.b[20] = 0x20;			/* MF, offset 0 */
	g.b[21] = 0;
	g.len = 14 + 24 + 32;
	fz_fix(g.b, g.len);
	RECF(T0 | FX, 0, &g);
	memcpy(g.b, f.b, 14 + 20);
	memcpy(g.b + 34, f.b + 34 + 32, 40);
	g.b[20] = 0; /* offset 32 bytes */
	g.b[21] = 4;
	g.len = 14 + 20 + 40;
	fz_fix(g.b, g.len);
	RECF(T0 | FX, 0, &g);
	done("frag4-options");

	/* Trains the mutator would make: a UDP echo of 500 bytes cut at
	 * random, each family. */
	start(0);
	FRAME(&f, pkt6_udp_echo);
	grow(&f, 14 + 40 + 8 + 500);
	n = fz_frag_train(f.b, f.len, &rng, out, sizeof(out), lens, FZ_TRAIN_MAX);
	for (unsigned i = 0; i < n; i++) {
		rec(T0 | FX, 0, out + off, lens[i]);
		off += lens[i];
	}
	done("frag6-train");

	start(0);
	off = 0;
	FRAME(&f, pkt_udp_echo);
	grow(&f, 14 + 20 + 8 + 500);
	n = fz_frag_train(f.b, f.len, &rng, out, sizeof(out), lens, FZ_TRAIN_MAX);
	for (unsigned i = 0; i < n; i++) {
		rec(T0 | FX, 0, out + off, lens[i]);
		off += lens[i];
	}
	done("frag4-train");

	/* Parts of two datagrams, each with its offset-zero fragment, A
	 * known: at the reassembly timeout (the fake clock 35 s on) a time
	 * exceeded, code 1, goes back in each family, and the fragment that
	 * comes then starts its datagram anew. */
	start(FZ_CFG_KNOW_AB);
	REC(T0, 0, pkt_big_f1);
	REC(T0, 0, pkt6_big_f1);
	REC(T0, 0, pkt6_big_f2);
	REC(T0, STEP_35S, pkt_big_f2);
	done("frag-timeout");

	/* Past rte_ip_frag's 8 fragments a datagram: UDP echoes of 960
	 * bytes in 20 fragments, IPv4 in order, IPv6 reversed. */
	seed_udp4_even("frag4-many", FZ_CFG_KNOW_AB, 960, 48);

	start(FZ_CFG_KNOW_AB);
	FRAME(&f, pkt6_udp_echo);
	grow(&f, 14 + 40 + 8 + 952);
	n = cut6(&f, 40, 0x6d616e79, pc, even(pc, 960, 48));
	for (unsigned i = n; i-- > 0;)
		RECF(T0, 0, &piece[i]);
	done("frag6-many");

	/* 258 fragments of 8 bytes: the 257th is one too many (frag-too-many),
	 * the datagram goes, and so does the last that comes after. */
	seed_udp4_even("frag4-too-many", 0, 2064, 8);

	/* A fragment twice (frag-duplicate: the datagram completes), each
	 * family; a fragment over another's bytes (frag-overlap: the
	 * datagram goes, and its last fragment after it). */
	start(FZ_CFG_KNOW_AB);
	FRAME(&f, pkt_udp_echo);
	grow(&f, 14 + 20 + 8 + 40);
	rec_pieces(T0, cut4(&f, NULL, 0, CUTS({ 0, 24 }, { 0, 24 }, { 24, 24 })));
	FRAME(&g, pkt6_udp_echo);
	grow(&g, 14 + 40 + 8 + 40);
	rec_pieces(T0, cut6(&g, 40, 0x64757020, CUTS({ 24, 24 }, { 24, 24 }, { 0, 24 })));
	f.b[19] ^= 1; /* another datagram */
	fz_fix(f.b, f.len);
	rec_pieces(T0, cut4(&f, NULL, 0, CUTS({ 0, 24 }, { 16, 16 }, { 32, 16 })));
	done("frag-dup-overlap");

	/* The first fragment with options (Router Alert and a NOP, IHL 7),
	 * the last with only the copied one (IHL 6), the last first: the
	 * datagram's header is the first fragment's (RFC 791 3.2). */
	start(FZ_CFG_KNOW_AB);
	FRAME(&f, pkt_udp_echo);
	grow(&f, 14 + 20 + 8 + 56);
	memcpy(g.b, f.b, 14 + 20);
	memcpy(g.b + 34, "\x94\x04\x00\x00\x01\x01\x01\x00", 8);
	memcpy(g.b + 42, f.b + 34, 64);
	g.len = f.len + 8;
	g.b[14] = 0x47;
	fz_fix(g.b, g.len);
	rec_pieces(T0, cut4(&g, (const uint8_t *)"\x94\x04\x00\x00", 4,
			    CUTS({ 48, 16 }, { 0, 24 }, { 24, 24 })));
	done("frag4-options-last");

	/* An IPv6 datagram of three fragments whose payload is the first
	 * fragment of an echo request (reassembled, it goes back in as a
	 * chain of three mbufs), then the echo's second fragment; and the
	 * same again without it, left to the timeout. */
	start(FZ_CFG_KNOW_AB);
	FRAME(&f, pkt6_echo_req);
	cut6(&f, 40, 0x11111111, CUTS({ 0, 32 }, { 32, 32 }));
	g = piece[0];
	h = piece[1];
	rec_pieces(T0, cut6(&g, 40, 0x22222222, CUTS({ 0, 16 }, { 32, 8 }, { 16, 16 })));
	RECF(T0, 0, &h);
	rec_pieces(T0, cut6(&g, 40, 0x33333333, CUTS({ 0, 16 }, { 32, 8 }, { 16, 16 })));
	done("frag6-nested");

	/* The Fragment header after a Hop-by-Hop header (RFC 8200 4.1). */
	start(FZ_CFG_KNOW_AB);
	FRAME(&f, pkt6_echo_hbh);
	rec_pieces(T0, cut6(&f, 48, 0x68626820, CUTS({ 32, 32 }, { 0, 32 })));
	done("frag6-after-hbh");
}

static void
seeds_ops(void)
{
	struct frame f;

	/* Our own pings, to every kind of destination, small and cut. */
	start(0);
	REC(T0, 0, pkt_arp_req);
	REC(T0, 0, pkt6_ns);
	for (uint8_t i = 0; i < 16; i++)
		op(0, i == 8 ? STEP_1S : 0, FZ_OP_PING, i, i % 3 == 2 ? 1600 : 56);
	REC(T0, STEP_1MS, pkt_arp_reply);
	REC(T0, 0, pkt6_na);
	done("ops-ping");

	/* The configuration changing under traffic. */
	start(0);
	op(0, 0, FZ_OP_ADDR_DEL, 0, 0);
	REC(T0, 0, pkt_echo_req);
	op(0, 0, FZ_OP_ADDR_ADD, 0, 0);
	op(0, 0, FZ_OP_ADDR_ADD, 4, 0);
	REC(T0, STEP_1MS, pkt_echo_req);
	op(0, 0, FZ_OP_ROUTE_DEL, 0, 0);
	FRAME(&f, pkt_fwd_udp);
	readdr(&f, NULL, "10.2.0.5", 0);
	RECF(T0, 0, &f);
	op(0, 0, FZ_OP_ROUTE_ADD, 3, 0);
	RECF(T0, 0, &f);
	op(0, 0, FZ_OP_NEIGH_ADD, 7, 0);
	op(0, 0, FZ_OP_FORWARDING, 0, 0);
	REC(T0, 0, pkt_fwd_udp);
	op(0, 0, FZ_OP_FORWARDING, 1, 0);
	op(0, 0, FZ_OP_MTU, 1, 0);
	op(0, 0, FZ_OP_NEIGH_DEL, 0, 0);
	RECF(T0, 0, &f);
	op(0, 0, FZ_OP_IF_DESTROY, 1, 0);
	RECF(T0, 0, &f);
	REC(T1, 0, pkt_arp_req_b);
	done("ops-config");
}

static void
seeds_cfg(void)
{
	struct frame f;

	/* Two linked stacks: what one learns reaches the other. */
	start(FZ_CFG_LINKED);
	REC(T0 | SB, 0, pkt_arp_req);
	REC(T0, 0, pkt_echo_req);
	REC(T0 | SB, 0, pkt6_ns);
	REC(T0, 0, pkt6_echo_req);
	REC(T0 | SB, 0, pkt6_echo_req);
	op(0, 0, FZ_OP_ADDR_ADD, 4, 0);
	REC(T1 | SB, 0, pkt_fwd_udp);
	done("linked");

	start(FZ_CFG_LINKED | FZ_CFG_DAD_PENDING);
	REC(T0 | SB, 0, pkt6_ns_dad);
	REC(T0, STEP_1S, pkt6_echo_req);
	done("linked-dad");

	/* Tiny tables: neighbours, queues and fragments run out. */
	start(FZ_CFG_SMALL | FZ_CFG_LEARN_R);
	FRAME(&f, pkt_arp_req);
	for (uint8_t i = 10; i < 16; i++) {
		f.b[31] = i;
		RECF(T0, 0, &f);
	}
	FRAME(&f, pkt_fwd_udp);
	readdr(&f, NULL, "10.2.0.5", 0);
	RECF(T0 | HOLD, 0, &f);
	RECF(T0, 0, &f);
	FRAME(&f, pkt_big_f1);
	for (uint8_t i = 0; i < 6; i++) {
		f.b[19] = i; /* another datagram each */
		fz_fix(f.b, f.len);
		RECF(T0, 0, &f);
	}
	for (uint8_t i = 0; i < 4; i++)
		REC(T0, 0, pkt_udp);
	done("small");

	/* The links' rings full: half of each burst refused. */
	start(FZ_CFG_TX_FULL | FZ_CFG_KNOW_AB);
	for (int i = 0; i < 4; i++)
		REC(T0 | HOLD, 0, pkt_echo_req);
	REC(T0, 0, pkt6_echo_req);
	done("tx-full");

	start(FZ_CFG_NO_FORWARD);
	REC(T0, 0, pkt_fwd_udp);
	FRAME(&f, pkt6_echo_req);
	readdr(&f, NULL, "fd12::5", 0);
	RECF(T0, 0, &f);
	done("no-forward");
}

/* The probes on (a tracer attached) for traffic of every kind, and pcap
 * captures open: both read every packet, the bad ones too. */
static void
seeds_readers(void)
{
	struct frame f;

	start(0);
	REC(T0 | FZ_F_PROBES, 0, pkt_arp_req);
	REC(T0, 0, pkt_echo_opt);
	FRAME(&f, pkt_echo_req);
	f.b[24] ^= 1; /* a bad header checksum */
	RECF(T0, 0, &f);
	FRAME(&f, pkt_fwd_udp);
	beyond_r(&f, "10.2.0.5", "192.0.2.7");
	REC(T0 | HOLD, 0, pkt_udp_big_f1);
	REC(T0 | HOLD, 0, pkt_udp_big_f2);
	REC(T0, 0, pkt_udp_big_f3);
	REC(T0, 0, pkt6_ns);
	REC(T0, 0, pkt6_echo_chain);
	REC(T0, 0, pkt6_tiny_frag);
	REC(T0, 0, pkt6_err_chain);
	REC(T0, 0, pkt6_ptb);
	op(0, 0, FZ_OP_PING, 3, 56);  /* to ourselves, over lo0 */
	op(0, 0, FZ_OP_PING, 12, 56); /* the same in IPv6 */
	op(0, 0, FZ_OP_PING, 11, 1452);
	done("probes");

	start(0);
	op(0, 0, FZ_OP_PCAP, 0, 0);
	op(0, 0, FZ_OP_PCAP, 1, 0);
	REC(T0, 0, pkt_arp_req);
	REC(T0, 0, pkt_echo_req);
	FRAME(&f, pkt_fwd_udp);
	readdr(&f, NULL, "10.2.0.5", 0);
	RECF(T0, 0, &f);
	REC(T0, 0, pkt6_big_f1);
	REC(T0, 0, pkt6_big_f2);
	REC(T0, 0, pkt6_big_f3);
	REC(T0, 0, pkt6_big_f4);
	done("pcap");
}

/* To groups: an echo to all nodes is answered from a unicast address;
 * UDP echo to a group or a broadcast never. */
static void
seeds_groups(void)
{
	static const uint8_t allnodes[6] = { 0x33, 0x33, 0, 0, 0, 0x01 };
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct frame f;

	start(0);
	FRAME(&f, pkt6_echo_req);
	eth(&f, allnodes, MAC_A);
	readdr(&f, NULL, "ff02::1", 0);
	RECF(T0, 0, &f);
	FRAME(&f, pkt6_udp_echo);
	eth(&f, allnodes, MAC_A);
	readdr(&f, NULL, "ff02::1", 0);
	RECF(T0, 0, &f);
	FRAME(&f, pkt_udp_echo);
	eth(&f, bcast, MAC_A);
	readdr(&f, NULL, "10.0.0.255", 0);
	RECF(T0, 0, &f);
	readdr(&f, NULL, "255.255.255.255", 0);
	RECF(T0, 0, &f);
	done("groups");
}

/* Corners the first long runs did not reach: an NA claiming our
 * tentative address (DAD fails), a chain of 17 extension headers (one too
 * many), a ping to an IPv4 group once there is a route for it, big frames
 * in chained pool mbufs (linearized, or too big to be). */
static void
seeds_corners(void)
{
	static const uint8_t allnodes[6] = { 0x33, 0x33, 0, 0, 0, 0x01 };
	struct frame f, g;

	start(FZ_CFG_DAD_PENDING);
	FRAME(&f, pkt6_na);
	eth(&f, allnodes, MAC_A);
	ip6_set(f.b + 62, "fd00::1");
	f.b[58] = 0x20; /* O only: unsolicited */
	readdr(&f, NULL, "ff02::1", 0);
	RECF(T0, 0, &f);
	REC(T0, STEP_1S, pkt6_echo_req);
	done("dad6-na");

	start(0);
	FRAME(&f, pkt6_echo_req);
	memcpy(g.b, f.b, 14 + 40);
	g.b[20] = 60; /* Destination Options, 17 times: Pad1 option 0, PadN */
	for (int i = 0; i < 17; i++) {
		uint8_t *h = g.b + 54 + 8 * i;

		memcpy(h, "\x3c\x00\x01\x04\x00\x00\x00\x00", 8);
		if (i == 16)
			h[0] = 58;
	}
	memcpy(g.b + 54 + 8 * 17, f.b + 54, f.len - 54);
	g.len = f.len + 8 * 17;
	fz_fix(g.b, g.len);
	RECF(T0, 0, &g);
	done("ext6-too-many");

	start(0);
	op(0, 0, FZ_OP_ROUTE_ADD, 3, 0); /* default via R */
	op(0, 0, FZ_OP_PING, 5, 56);	 /* 224.0.0.1 */
	op(0, 0, FZ_OP_PING, 4, 56);	 /* 10.0.0.255 */
	done("ping-groups");

	start(FZ_CFG_KNOW_AB);
	FRAME(&f, pkt_echo_req);
	grow(&f, 1514);
	RECF(T0 | FZ_F_POOL, 0, &f);
	FRAME(&f, pkt6_udp_echo);
	grow(&f, 1514);
	RECF(T0 | FZ_F_POOL, 0, &f);
	FRAME(&f, pkt_udp_echo);
	grow(&f, 3000);
	RECF(T0 | FZ_F_POOL, 0, &f);
	done("pool-chains");
}

/* A NIC with checksum offloads: verdicts on what comes in, the IPv4
 * header checksum of what goes out filled by it. */
static void
seeds_offload(void)
{
	struct frame f;

	start(FZ_CFG_KNOW_AB);
	REC(T0 | FZ_F_OFFLOAD, 0, pkt_echo_req);
	REC(T0 | FZ_F_OFFLOAD, 0, pkt_udp_echo);
	FRAME(&f, pkt_udp_echo);
	f.b[f.len - 1] ^= 1; /* a bad UDP checksum */
	RECF(T0 | FZ_F_OFFLOAD, 0, &f);
	FRAME(&f, pkt_echo_req);
	f.b[24] ^= 1; /* a bad IPv4 header checksum */
	RECF(T0 | FZ_F_OFFLOAD, 0, &f);
	REC(T0 | FZ_F_OFFLOAD, 0, pkt6_udp_echo);
	REC(T0 | FZ_F_OFFLOAD, 0, pkt_fwd_udp);
	REC(T0 | FZ_F_OFFLOAD | HOLD, 0, pkt_udp_big_f1);
	REC(T0 | FZ_F_OFFLOAD | HOLD, 0, pkt_udp_big_f2);
	REC(T0 | FZ_F_OFFLOAD, 0, pkt_udp_big_f3);
	done("offload");
}

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: fuzz_corpus DIR\n");
		return 2;
	}
	dir = argv[1];
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		perror(dir);
		return 1;
	}
	seeds_v4();
	seeds_v6();
	seeds_frag();
	seeds_ops();
	seeds_cfg();
	seeds_readers();
	seeds_groups();
	seeds_offload();
	seeds_corners();
	return 0;
}
