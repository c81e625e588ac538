/*
 * tcp_pair.h: two stacks joined by a wire, for TCP tests: stack A
 * (10.9.0.1/24, fd09::1/64) and stack B (10.9.0.2/24, fd09::2/64), each
 * with one driver interface whose frames cross to the other's in the
 * next poll, and one fake clock for both.  A fault injector can go on
 * either side (sonde_if_fault).  pair_finish() destroys both stacks and
 * checks that every mbuf came back.
 */
#ifndef SONDE_TCP_PAIR_H
#define SONDE_TCP_PAIR_H

#include <stdbool.h>
#include <stdint.h>

#include "sonde/socket.h"
#include "unit.h"

#define PAIR_Q 4096

struct pair_wire {
	struct rte_mbuf *q[PAIR_Q];
	unsigned head, tail;
	uint64_t frames, dropped;
};

struct pair {
	struct sonde_stack *a, *b;
	int ifa, ifb;
	struct pair_wire to_a, to_b; /* frames waiting for A, for B */
	uint64_t now;
	unsigned pool_in_use;
	/* The wire's own losses, on top of any injector: frame numbers
	 * (from 1, per direction) that vanish. */
	uint64_t lose_to_b[8], lose_to_a[8];
	bool hold; /* frames stay on the wire (a partition) */
};

void pair_start(struct pair *p, const struct sonde_conf *conf);
/* One poll of each stack at the current time. */
void pair_poll(struct pair *p);
/* Polls both, the clock stepping step_ns each turn, until done(arg) or
 * max_ns have passed; returns done's last answer. */
bool pair_run(struct pair *p, uint64_t step_ns, uint64_t max_ns, bool (*done)(void *), void *arg);
/* Polls both for ns of fake time, in 1 ms steps. */
void pair_wait(struct pair *p, uint64_t ns);
void pair_finish(struct pair *p);

/* Socket addresses of A and B, family af (AF_INET, AF_INET6), port (host order). */
socklen_t pair_addr(int af, bool b, uint16_t port, struct sockaddr_storage *ss);

#endif
