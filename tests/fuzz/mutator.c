/*
 * mutator.c: libFuzzer's custom mutator and cross-over for fuzz_stack.c's
 * input format (fuzz.h).
 *
 * Byte mutation of a whole input breaks the record framing more often than
 * it makes a frame the stack has not seen, and a mutated frame mostly dies
 * at the first checksum: plain libFuzzer did not reach the IPv4 reassembly
 * bug of the stack's first fuzzing in four million runs.  So a mutation
 * works on records: one frame's bytes mutated by libFuzzer (its dictionary
 * and comparison hints included) and, mostly, marked to be fixed
 * (FZ_F_FIX: lengths and checksums made right before it goes in, so that
 * the mutation is judged by the layers behind the checks); a record's
 * flags or clock step; records duplicated, dropped, swapped; an operation
 * record inserted; the configuration byte; a datagram cut into a fragment
 * train (fz_frag_train: options in the first fragment, odd orders,
 * duplicates, overlaps, a missing piece); and now and then plain byte
 * mutation of the whole input, which keeps libFuzzer's own strengths.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz.h"

size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed);
size_t LLVMFuzzerCustomCrossOver(const uint8_t *d1, size_t s1, const uint8_t *d2, size_t s2,
				 uint8_t *out, size_t max_out, unsigned int seed);

/* New record bytes live here until the input is written out. */
static uint8_t arena[4 << 20];
static size_t arena_used;
static uint8_t outbuf[4 << 20];
static struct fz_input in, in2;

static uint8_t *
arena_get(size_t n)
{
	uint8_t *p;

	if (n > sizeof(arena) - arena_used)
		return NULL;
	p = arena + arena_used;
	arena_used += n;
	return p;
}

static bool
rec_insert(struct fz_input *x, unsigned at, const struct fz_rec *r)
{
	if (x->n >= FZ_MAX_RECS)
		return false;
	memmove(&x->rec[at + 1], &x->rec[at], (x->n - at) * sizeof(x->rec[0]));
	x->rec[at] = *r;
	x->n++;
	return true;
}

static void
rec_delete(struct fz_input *x, unsigned at)
{
	memmove(&x->rec[at], &x->rec[at + 1], (x->n - at - 1) * sizeof(x->rec[0]));
	x->n--;
}

/* A step byte: mostly none or short, now and then anything (to 65 s). */
static uint8_t
rand_step(uint64_t *rng)
{
	switch (fz_below(rng, 4)) {
	case 0: return 0;
	case 1: return (uint8_t)fz_below(rng, 32);
	case 2: return (uint8_t)(fz_below(rng, 8) << 5 | 1);
	default: return (uint8_t)fz_rand(rng);
	}
}

/* One record's frame through libFuzzer's mutator, with room to grow. */
static bool
mutate_frame(struct fz_rec *r, size_t room, uint64_t *rng)
{
	size_t cap = r->len + room, n;
	uint8_t *p;

	if (cap > FZ_MAX_FRAME)
		cap = r->len > FZ_MAX_FRAME ? r->len : FZ_MAX_FRAME;
	if (cap == 0)
		return false; /* LLVMFuzzerMutate needs room for a byte */
	p = arena_get(cap);
	if (p == NULL)
		return false;
	memcpy(p, r->data, r->len);
	n = LLVMFuzzerMutate(p, r->len, cap);
	r->data = p;
	r->len = (uint16_t)n;
	/* Mostly judged by what is behind the checks; sometimes by the
	 * checks themselves. */
	switch (fz_below(rng, 10)) {
	case 0: r->flags &= (uint8_t)~FZ_F_FIX; break;
	case 1:
	case 2: r->flags |= FZ_F_FIX; break;
	default: break;
	}
	return true;
}

/* Replaces record i by a fragment train of its datagram. */
static bool
make_train(struct fz_input *x, unsigned i, size_t room, uint64_t *rng)
{
	uint16_t lens[FZ_TRAIN_MAX];
	struct fz_rec r = x->rec[i], t;
	size_t cap = room + r.len + 512, used = 0;
	uint8_t *p;
	unsigned n;
	bool burst;

	if (cap > 4 * 65536)
		cap = 4 * 65536;
	p = arena_get(cap);
	if (p == NULL)
		return false;
	n = fz_frag_train(r.data, r.len, rng, p, cap, lens, FZ_TRAIN_MAX);
	if (n == 0 || x->n - 1 + n > FZ_MAX_RECS)
		return false;
	rec_delete(x, i);
	/* One burst, or a poll after each; the clock still mostly. */
	burst = fz_below(rng, 2);
	for (unsigned k = 0; k < n; k++) {
		t.flags = (uint8_t)((r.flags & (FZ_F_LINK1 | FZ_F_STACK_B | FZ_F_POOL)) | FZ_F_FIX);
		if (burst && k + 1 < n)
			t.flags |= FZ_F_HOLD;
		t.step = k == 0 ? r.step : (fz_below(rng, 16) == 0 ? rand_step(rng) : 0);
		t.len = lens[k];
		t.data = p + used;
		used += lens[k];
		rec_insert(x, i + k, &t);
	}
	return true;
}

static unsigned
pick(const struct fz_input *x, uint64_t *rng)
{
	return fz_below(rng, x->n);
}

/* One structured mutation of in; false when none applied. */
static bool
mutate(struct fz_input *x, size_t max_size, uint64_t *rng)
{
	size_t size = fz_size(x), room = max_size > size ? max_size - size : 0;
	unsigned r = fz_below(rng, 100), i, j;
	struct fz_rec t;
	uint8_t *p;

	if (x->n == 0 && r < 85)
		r = 85; /* nothing to work on but the configuration or a new record */
	if (r < 45)
		return mutate_frame(&x->rec[pick(x, rng)], room, rng);
	if (r < 55) {
		i = pick(x, rng);
		if (fz_below(rng, 2))
			x->rec[i].flags ^= (uint8_t)(1u << fz_below(rng, FZ_F_BITS));
		else
			x->rec[i].step = rand_step(rng);
		return true;
	}
	if (r < 70) {
		for (int tries = 0; tries < 8; tries++)
			if (make_train(x, pick(x, rng), room, rng))
				return true;
		return false;
	}
	if (r < 85) {
		i = pick(x, rng);
		switch (fz_below(rng, 4)) {
		case 0: /* a copy, somewhere */
			if (room < FZ_REC_HDR + x->rec[i].len)
				return false;
			t = x->rec[i];
			return rec_insert(x, fz_below(rng, x->n + 1), &t);
		case 1: rec_delete(x, i); return true;
		case 2: /* two trade places */
			j = pick(x, rng);
			t = x->rec[i];
			x->rec[i] = x->rec[j];
			x->rec[j] = t;
			return true;
		default: /* one moves */
			t = x->rec[i];
			rec_delete(x, i);
			return rec_insert(x, fz_below(rng, x->n + 1), &t);
		}
	}
	if (r < 90) {
		x->cfg ^= (uint8_t)(1u << fz_below(rng, 8));
		return true;
	}
	/* An operation (fuzz_stack.c: ping, forwarding, addresses, routes,
	 * neighbours, an interface gone, an MTU, a capture), its bytes at random. */
	if (room < FZ_REC_HDR + 5 || (p = arena_get(5)) == NULL)
		return false;
	for (int k = 0; k < 5; k++)
		p[k] = (uint8_t)fz_rand(rng);
	t = (struct fz_rec){ FZ_F_OP | (uint8_t)(fz_rand(rng) & FZ_F_STACK_B), rand_step(rng), 5,
			     p };
	return rec_insert(x, x->n ? fz_below(rng, x->n + 1) : 0, &t);
}

size_t
LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
	uint64_t rng = seed;
	size_t n;
	bool ok;

	/* Plain byte mutation now and then, and for what is not an input yet. */
	if (size == 0 || fz_below(&rng, 8) == 0)
		return LLVMFuzzerMutate(data, size, max_size);
	arena_used = 0;
	fz_parse(data, size, &in);
	ok = mutate(&in, max_size, &rng);
	/* Stacked mutations now and then: a train whose pieces then change. */
	while (ok && fz_below(&rng, 4) == 0)
		mutate(&in, max_size, &rng);
	n = ok ? fz_write(&in, outbuf, max_size) : 0;
	if (n == 0)
		return LLVMFuzzerMutate(data, size, max_size);
	memcpy(data, outbuf, n);
	return n;
}

/* Records of one input, then records of the other, cut anywhere. */
size_t
LLVMFuzzerCustomCrossOver(const uint8_t *d1, size_t s1, const uint8_t *d2, size_t s2, uint8_t *out,
			  size_t max_out, unsigned int seed)
{
	uint64_t rng = seed;
	unsigned a, b;
	size_t n;

	fz_parse(d1, s1, &in);
	fz_parse(d2, s2, &in2);
	a = fz_below(&rng, in.n + 1);
	b = fz_below(&rng, in2.n + 1);
	in.n = a;
	for (unsigned i = b; i < in2.n && in.n < FZ_MAX_RECS; i++)
		in.rec[in.n++] = in2.rec[i];
	in.tail = NULL;
	in.tail_len = 0;
	while (in.n > 0 && fz_size(&in) > max_out)
		in.n--;
	n = fz_write(&in, out, max_out);
	return n;
}
