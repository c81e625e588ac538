/*
 * fuzz.h: the input format of sonde's fuzz target (fuzz_stack.c), and
 * what the target, its mutator (mutator.c) and the seed generator
 * (gen_corpus.c) share about it (frames.c): parsing, writing, the
 * checksum and length fixes, fragment trains.  Plain C, no DPDK.
 *
 * An input is one configuration byte, then records:
 *
 *   input  := cfg record*
 *   record := flags step len_hi len_lo bytes[len]
 *
 * A record's bytes are an Ethernet frame received on a link (or, with
 * FZ_F_OP, an operation on the stack: see fuzz_stack.c).  Before it, the
 * fake clock moves on by fz_step_ns(step); after it, the stack is polled,
 * unless FZ_F_HOLD (the next frames join the same burst).  A len past the
 * end of the input is cut to what is there, so every byte string is an
 * input.  After the last record the clock runs past every timer.
 */
#ifndef SONDE_FUZZ_H
#define SONDE_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* cfg: the stack each input starts with. */
#define FZ_CFG_DAD_PENDING 0x01 /* frames arrive while the IPv6 addresses are tentative */
#define FZ_CFG_LINKED 0x02	/* a second stack linked to the first (sonde_stacks_link) */
#define FZ_CFG_MTU1280 0x04	/* test1's MTU is 1280, not 1500 */
#define FZ_CFG_NO_FORWARD 0x08	/* forwarding off */
#define FZ_CFG_LEARN_R 0x10	/* router R is learnt, not a permanent neighbour */
#define FZ_CFG_KNOW_AB 0x20	/* hosts A and B are permanent neighbours */
#define FZ_CFG_SMALL 0x40	/* tiny tables: neighbours, queues, fragments, ICMP burst */
#define FZ_CFG_TX_FULL 0x80	/* the links' tx takes only half of each burst */

/* record flags */
#define FZ_F_LINK1 0x01	  /* received on test1 (else test0) */
#define FZ_F_FIX 0x02	  /* lengths and checksums fixed before it goes in (fz_fix) */
#define FZ_F_POOL 0x04	  /* in pool mbufs (512 bytes each, chained), not an exact-size buffer */
#define FZ_F_STACK_B 0x08 /* for the linked stack (FZ_CFG_LINKED) */
#define FZ_F_HOLD 0x10	  /* no poll after it: the next frame joins the burst */
#define FZ_F_OP 0x20	  /* the bytes are an operation, not a frame */
#define FZ_F_PROBES 0x40  /* every probe on from here, as when a tracer attaches */
#define FZ_F_OFFLOAD 0x80 /* the link's NIC checks checksums (this frame on) and fills */
			  /* IPv4 header checksums (from here on) */
#define FZ_F_BITS 8	  /* the bits that mean something */

/* An operation record's byte 0, modulo FZ_OP_N (fuzz_stack.c's fz_op). */
enum fz_op {
	FZ_OP_PING,
	FZ_OP_FORWARDING,
	FZ_OP_ADDR_DEL,
	FZ_OP_ADDR_ADD,
	FZ_OP_ROUTE_DEL,
	FZ_OP_ROUTE_ADD,
	FZ_OP_NEIGH_ADD,
	FZ_OP_NEIGH_DEL,
	FZ_OP_IF_DESTROY,
	FZ_OP_MTU,
	FZ_OP_PCAP,
	FZ_OP_N
};

#define FZ_REC_HDR 4
#define FZ_MAX_FRAME 9216 /* what the mutator lets a frame grow to */
#define FZ_MAX_RECS 512	  /* records the mutator works on (the rest rides along) */

struct fz_rec {
	uint8_t flags, step;
	uint16_t len;
	const uint8_t *data;
};

/* An input taken apart: up to FZ_MAX_RECS records, and the bytes after
 * them (more records, or a cut one) as they were. */
struct fz_input {
	uint8_t cfg;
	unsigned n;
	struct fz_rec rec[FZ_MAX_RECS];
	const uint8_t *tail;
	size_t tail_len;
};

/* The next record of d[0..n) at *pos (after the cfg byte); false at the end. */
bool fz_next(const uint8_t *d, size_t n, size_t *pos, struct fz_rec *r);
void fz_parse(const uint8_t *d, size_t n, struct fz_input *in);
/* Bytes fz_write needs. */
size_t fz_size(const struct fz_input *in);
/* Writes in to out (cap bytes); returns the size, 0 if it does not fit. */
size_t fz_write(const struct fz_input *in, uint8_t *out, size_t cap);

/* The clock step a step byte stands for: (step & 31) << 3*(step >> 5) us,
 * 0 to 65 s with a few steps of each order of magnitude. */
uint64_t fz_step_ns(uint8_t step);

/*
 * Makes an Ethernet frame's IPv4 or IPv6 packet consistent, so that a
 * mutation gets past the first checks: the version, the IPv4 total length
 * and header checksum (an IHL below 5 becomes 5), the IPv6 payload length,
 * all from the frame's length (up to 65535); and for a whole datagram (not
 * a fragment) the UDP length and the UDP, ICMP or ICMPv6 checksum (an IPv4
 * UDP checksum of zero, "none", stays zero).  Anything else: untouched.
 */
void fz_fix(uint8_t *f, size_t len);

/* What a frame's transport checksum says, read from its own lengths. */
enum fz_l4 {
	FZ_L4_NONE,	/* not IP, malformed, or a protocol without one we check */
	FZ_L4_VALID,	/* UDP (length and checksum), ICMP or ICMPv6 checksum right */
	FZ_L4_INVALID,	/* ... wrong */
	FZ_L4_FRAGMENT, /* a fragment: the checksum covers the datagram */
};
enum fz_l4 fz_l4(const uint8_t *f, size_t len);

/* Network-order 16-bit fields. */
static inline uint16_t
fz_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void
fz_put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* splitmix64 */
uint64_t fz_rand(uint64_t *s);
static inline uint32_t
fz_below(uint64_t *s, uint32_t n)
{
	return n ? (uint32_t)(fz_rand(s) % n) : 0;
}

/*
 * Cuts the IPv4 or IPv6 datagram in frame f into a train of fragments
 * (Ethernet frames), the datagram fixed first (fz_fix) unless rarely, its
 * UDP datagram (if any) now and then made shorter than the IP payload:
 * 2 to 8 pieces, now and then 9 to 36, at multiples of 8 (now and then
 * one that is not; the lengths go to lens, FZ_TRAIN_MAX at most), IPv4
 * options in the first fragment (and the copied ones in all) sometimes,
 * the IPv6 fragment header after the fixed header or, one time in four,
 * after the unfragmentable extension headers; then in order, reversed,
 * last first or shuffled, with now and then a duplicate, an overlapping
 * piece of other bytes, a piece left out.  Writes the frames one after
 * another to out (cap bytes), their lengths to lens; returns how many (0:
 * f is no datagram to cut, out is too small, or the train would be longer
 * than max).
 */
#define FZ_TRAIN_MAX 40 /* fragments of a train: 36 pieces, a duplicate, an overlap */
unsigned fz_frag_train(const uint8_t *f, size_t len, uint64_t *rng, uint8_t *out, size_t cap,
		       uint16_t *lens, unsigned max);

#endif
