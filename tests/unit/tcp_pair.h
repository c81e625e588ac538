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
#define PAIR_LOG_MAX (1u << 16)

struct rte_mbuf;
struct sonde_sock;

/* A TCP segment on the wire, parsed (host order), for a tap, the log,
 * and pair_inject's template. */
struct pair_seg {
	bool to_b;  /* from A to B */
	bool lost;  /* the log's: the wire or the tap dropped it */
	uint8_t af; /* 4 or 6 */
	uint64_t t; /* the fake clock when it went on the wire */
	uint16_t sport, dport;
	uint32_t seq, ack, len; /* len: payload bytes */
	uint8_t flags, ecn;	/* ecn: the IP header's two bits */
	uint16_t win;		/* as on the wire */
	/* Options: a SYN's, timestamps, SACK blocks. */
	uint16_t mss;
	bool has_ws, sack_ok, ts;
	uint8_t ws, n_sack;
	uint32_t tsval, tsecr;
	uint32_t sack[4][2];
	/* A tap's only: the frame (data at its Ethernet header). */
	struct rte_mbuf *m;
};

enum pair_verdict { PAIR_PASS, PAIR_DROP };
struct pair;
/* Sees every TCP segment as it goes on the wire (before the wire's own
 * losses); may change its fields and call pair_seg_rewrite(). */
typedef enum pair_verdict (*pair_tap_fn)(struct pair *p, struct pair_seg *sg, void *arg);

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
	bool hold;	 /* frames stay on the wire (a partition) */
	bool cut;	 /* frames vanish (a partition that loses) */
	uint16_t rx_max; /* frames a poll takes from the wire; 0: a burst */
	pair_tap_fn tap;
	void *tap_arg;
	/* With pair_log(): every TCP segment that went on the wire. */
	struct pair_seg *log;
	unsigned n_log;
};

void pair_start(struct pair *p, const struct sonde_conf *conf);
/* The same with a conf for each stack. */
void pair_start2(struct pair *p, const struct sonde_conf *conf_a, const struct sonde_conf *conf_b);
/* pair_start on a pair that outlives the test's frame (for
 * pair_teardown, after a failed assertion). */
struct pair *pair_open(const struct sonde_conf *conf);
/* One poll of each stack at the current time. */
void pair_poll(struct pair *p);
/* Polls both, the clock stepping step_ns each turn, until done(arg) or
 * max_ns have passed; returns done's last answer. */
bool pair_run(struct pair *p, uint64_t step_ns, uint64_t max_ns, bool (*done)(void *), void *arg);
/* Polls both for ns of fake time, in 1 ms steps. */
void pair_wait(struct pair *p, uint64_t ns);
void pair_finish(struct pair *p);
/* For cmocka teardowns: destroys the stacks of a test that failed before
 * pair_finish (so the next test has the memory); only a pair_open one
 * (pair_start's may be gone with the test's frame). */
int pair_teardown(void **state);
#define pair_test(f) cmocka_unit_test_teardown(f, pair_teardown)

/* Socket addresses of A and B, family af (AF_INET, AF_INET6), port (host order). */
socklen_t pair_addr(int af, bool b, uint16_t port, struct sockaddr_storage *ss);

/* Logs every TCP segment from now on (p->log, p->n_log; full at
 * PAIR_LOG_MAX, then no more). */
void pair_log(struct pair *p);
/* Prints log entries [from, to) (a failing test's witness). */
void pair_log_print(const struct pair *p, unsigned from, unsigned to);
/* Writes sg's seq, ack, flags, win and ecn back into its frame (sg->m)
 * and fixes the checksums. */
void pair_seg_rewrite(struct pair_seg *sg);
/* Puts a TCP segment crafted from t (addresses by t->to_b and t->af,
 * ports, numbers, flags, window, the options it has, ecn) with len bytes
 * of payload on the wire, past the tap and the losses: the next poll
 * delivers it. */
void pair_inject(struct pair *p, const struct pair_seg *t, const void *payload, uint32_t len);
/* The connection of stack st (A or B) from lport to rport (host order),
 * family af (4, 6): looked up as a segment would be; NULL if none. */
struct sonde_sock *pair_conn(struct pair *p, bool b, uint8_t af, uint16_t lport, uint16_t rport);
/* Replaces option kind in sg's frame with NOPs (the peer never sees it)
 * and fixes the checksum. */
void pair_seg_strip(struct pair_seg *sg, uint8_t kind);

/* Listener on B's port (backlog 16), family af (AF_INET, AF_INET6). */
struct sonde_sock *pair_listen(struct pair *p, int af, uint16_t port);
/* A's socket connecting to B's port (-EINPROGRESS checked). */
struct sonde_sock *pair_connect_to(struct pair *p, int af, uint16_t port);
/* Polls until listener ls has a connection to accept, and accepts it. */
struct sonde_sock *pair_accept(struct pair *p, struct sonde_sock *ls);
/* All three: an established connection, cs on A, ss on B. */
void pair_connect(struct pair *p, int af, uint16_t port, struct sonde_sock **ls,
		  struct sonde_sock **cs, struct sonde_sock **ss);
/* pair_open(conf) and pair_connect on port 80. */
struct pair *pair_up(const struct sonde_conf *conf, int af, struct sonde_sock **ls,
		     struct sonde_sock **cs, struct sonde_sock **ss);
/* Closes the sockets given (a NULL ends the list), then pair_finish. */
void pair_end(struct pair *p, ...);
/* Throws away both stacks' events. */
void pair_drain(struct pair *p);

/* Byte i of a stream: the pattern both ends agree on. */
static inline uint8_t
pair_pat(uint64_t i)
{
	return (uint8_t)(i * 7 % 251);
}

/* A stream of total bytes from tx to rx, checked on arrival. */
struct pair_flow {
	struct sonde_sock *tx, *rx;
	uint64_t total, sent, rcvd;
	bool bad;
};
/* Moves flows f[0..n-1] (sending as there is room, reading what came)
 * with the clock stepping step_ns, until all have arrived or max_ns
 * passed: whether they all did. */
bool pair_flows(struct pair *p, struct pair_flow *f, unsigned n, uint64_t step_ns, uint64_t max_ns);
/* One flow of total bytes from tx to rx, checked: whether it arrived
 * whole within max_ns. */
bool pair_stream(struct pair *p, struct sonde_sock *tx, struct sonde_sock *rx, uint64_t total,
		 uint64_t max_ns);

/* The TCP state (enum tcp_state) of socket s. */
int pair_state(const struct sonde_sock *s);
/* A socket's local port (host order). */
uint16_t pair_lport(const struct sonde_sock *s);

#endif
