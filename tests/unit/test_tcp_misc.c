/*
 * test_tcp_misc.c: TCP's defences and timers on a fake clock
 * (tcp_pair.h), with segments crafted on the wire: RFC 5961 (RST, SYN
 * and ACK checks, the challenge ACK's rate), PAWS (RFC 7323 5), TIME-WAIT
 * (RFC 9293 3.10.7.4, RFC 6191, RFC 6056), window scaling (RFC 7323 2),
 * the zero window (RFC 9293 3.8.6.1), delayed ACKs and Nagle (RFC 1122
 * 4.2.3.2, 4.2.3.4), keepalive (4.2.3.6), SYN cookies (RFC 4987), ECN
 * (RFC 3168).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "sock.h"
#include "tcp_pair.h"

/* A segment as A would send it on connection cs (A) -> ss (B): at B's
 * rcv_nxt, acknowledging what B sent, a timestamp B takes. */
static struct pair_seg
from_a(const struct sonde_sock *cs, const struct sonde_sock *ss, uint8_t flags)
{
	struct pair_seg t = { .to_b = true,
			      .af = cs->af,
			      .sport = pair_lport(cs),
			      .dport = pair_lport(ss),
			      .seq = ss->tcp.rcv_nxt,
			      .ack = ss->tcp.snd_max,
			      .flags = flags,
			      .win = 1024 };

	if (ss->tcp.tf & TF_TS) {
		t.ts = true;
		t.tsval = ss->tcp.ts_recent + 1;
		t.tsecr = 0;
	}
	return t;
}

/* Segments B sent (log entries from n on) with flags set. */
static unsigned
b_sent(const struct pair *p, unsigned from, uint8_t flags)
{
	unsigned n = 0;

	for (unsigned i = from; i < p->n_log; i++)
		if (!p->log[i].to_b && (p->log[i].flags & flags) == flags)
			n++;
	return n;
}

/* Polls at the same instant until the wire is empty. */
static void
settle(struct pair *p)
{
	for (unsigned i = 0; i < 200; i++)
		pair_poll(p);
}

/* A crafted segment on the wire, and everything it brings settled. */
static void
inject(struct pair *p, const struct pair_seg *t, const void *data, uint32_t len)
{
	pair_inject(p, t, data, len);
	settle(p);
}

/* pair_up on port 80, the log on. */
static struct pair *
up(int af, struct sonde_sock **ls, struct sonde_sock **cs, struct sonde_sock **ss)
{
	struct pair *p = pair_up(NULL, af, ls, cs, ss);

	pair_log(p);
	return p;
}

/* --- RFC 5961 --- */

/* 3.2: a RST at exactly rcv_nxt resets. */
static void
test_rst_exact(void **state)
{
	struct sonde_sock *ls, *cs, *ss;
	struct pair_seg t;
	struct pair *p;

	(void)state;
	p = pair_up(NULL, AF_INET, &ls, &cs, &ss);
	t = from_a(cs, ss, TH_RST);
	inject(p, &t, NULL, 0);
	assert_int_equal(pair_state(ss), TCPS_CLOSED);
	assert_int_equal(sonde_sock_error(ss), -ECONNRESET);
	assert_int_equal(sonde_stat(p->b, "tcp.estab_resets"), 1);
	pair_end(p, cs, ss, ls, NULL);
}

/* 3.2: a RST in the window but not at rcv_nxt: a challenge ACK, no
 * reset; 3.2 (1): out of the window: ignored. */
static void
test_rst_challenged(void **state)
{
	struct sonde_sock *ls, *cs, *ss;
	struct pair_seg t;
	struct pair *p;
	unsigned mark;

	(void)state;
	p = up(AF_INET6, &ls, &cs, &ss);
	t = from_a(cs, ss, TH_RST);
	t.seq += 100;
	inject(p, &t, NULL, 0);
	assert_int_equal(pair_state(ss), TCPS_ESTABLISHED);
	assert_int_equal(sonde_stat(p->b, "drop.in.tcp-rst-challenged"), 1);
	assert_int_equal(sonde_stat(p->b, "tcp.challenge_acks"), 1);
	assert_int_equal(b_sent(p, 0, TH_ACK), 1);
	assert_int_equal(p->log[0].ack, ss->tcp.rcv_nxt);
	mark = p->n_log;
	t.seq += 50u << 20;
	inject(p, &t, NULL, 0);
	assert_int_equal(pair_state(ss), TCPS_ESTABLISHED);
	assert_int_equal(sonde_stat(p->b, "tcp.challenge_acks"), 1);
	assert_int_equal(sonde_stat(p->b, "drop.in.tcp-out-of-window"), 1);
	assert_int_equal(b_sent(p, mark, 0), 0);
	assert_true(pair_stream(p, cs, ss, 10000, SEC));
	pair_end(p, cs, ss, ls, NULL);
}

/* 4.2: a SYN on an established connection: a challenge ACK, nothing
 * else. */
static void
test_syn_challenged(void **state)
{
	struct sonde_sock *ls, *cs, *ss;
	struct pair_seg t;
	struct pair *p;

	(void)state;
	p = up(AF_INET, &ls, &cs, &ss);
	t = from_a(cs, ss, TH_SYN);
	t.seq = ss->tcp.rcv_nxt + 1000;
	t.mss = 1000;
	inject(p, &t, NULL, 0);
	assert_int_equal(pair_state(ss), TCPS_ESTABLISHED);
	assert_int_equal(sonde_stat(p->b, "drop.in.tcp-syn-challenged"), 1);
	assert_int_equal(sonde_stat(p->b, "tcp.challenge_acks"), 1);
	assert_int_equal(b_sent(p, 0, TH_ACK), 1);
	assert_int_equal(b_sent(p, 0, TH_RST), 0);
	assert_true(pair_stream(p, cs, ss, 10000, SEC));
	pair_end(p, cs, ss, ls, NULL);
}

/* 5.2 and RFC 9293 3.10.7.4: an ACK of what was never sent: dropped, an
 * ACK back. */
static void
test_ack_beyond(void **state)
{
	struct sonde_sock *ls, *cs, *ss;
	struct pair_seg t;
	struct pair *p;
	uint32_t una;

	(void)state;
	p = up(AF_INET, &ls, &cs, &ss);
	una = ss->tcp.snd_una;
	t = from_a(cs, ss, TH_ACK);
	t.ack = ss->tcp.snd_max + 5000;
	inject(p, &t, "data", 4);
	assert_int_equal(ss->tcp.snd_una, una);
	assert_int_equal(sonde_sock_readable(ss), 0);
	assert_int_equal(sonde_stat(p->b, "drop.in.tcp-bad-ack"), 1);
	assert_int_equal(b_sent(p, 0, TH_ACK), 1);
	assert_int_equal(pair_state(ss), TCPS_ESTABLISHED);
	pair_end(p, cs, ss, ls, NULL);
}

/* 7: challenge ACKs at most 1000 a second, the stack's together. */
static void
test_challenge_rate(void **state)
{
	struct sonde_sock *ls, *cs, *ss;
	struct pair_seg t;
	struct pair *p;

	(void)state;
	p = pair_up(NULL, AF_INET, &ls, &cs, &ss);
	t = from_a(cs, ss, TH_RST);
	t.seq += 100;
	for (unsigned k = 0; k < 3; k++) {
		for (unsigned i = 0; i < 500; i++)
			pair_inject(p, &t, NULL, 0);
		settle(p);
	}
	assert_int_equal(sonde_stat(p->b, "drop.in.tcp-rst-challenged"), 1500);
	assert_int_equal(sonde_stat(p->b, "tcp.challenge_acks"), 1000);
	/* A second on, the bucket has filled again. */
	pair_wait(p, SEC);
	inject(p, &t, NULL, 0);
	assert_int_equal(sonde_stat(p->b, "tcp.challenge_acks"), 1001);
	assert_int_equal(pair_state(ss), TCPS_ESTABLISHED);
	pair_end(p, cs, ss, ls, NULL);
}

/* RFC 7323 5.3: a segment with a timestamp older than ts_recent is
 * dropped (PAWS), with an ACK; its data is not taken. */
static void
test_paws(void **state)
{
	struct sonde_sock *ls, *cs, *ss;
	struct pair_seg t;
	struct pair *p;

	(void)state;
	p = up(AF_INET, &ls, &cs, &ss);
	assert_true(ss->tcp.tf & TF_TS);
	t = from_a(cs, ss, TH_ACK);
	t.tsval = ss->tcp.ts_recent - 1000;
	inject(p, &t, "stale", 5);
	assert_int_equal(sonde_stat(p->b, "drop.in.tcp-paws"), 1);
	assert_int_equal(sonde_sock_readable(ss), 0);
	assert_int_equal(b_sent(p, 0, TH_ACK), 1);
	/* The same with a fresh timestamp is taken. */
	t.tsval = ss->tcp.ts_recent + 1;
	inject(p, &t, "fresh", 5);
	assert_int_equal(sonde_sock_readable(ss), 5);
	pair_end(p, cs, ss, ls, NULL);
}

/* --- TIME-WAIT --- */

/* A in TIME-WAIT (it closed first) takes B's FIN again: ACKs it, stays. */
static void
test_time_wait_fin_again(void **state)
{
	struct sonde_sock *ls, *cs, *ss;
	struct pair_seg t;
	struct pair *p;
	unsigned mark;

	(void)state;
	p = up(AF_INET, &ls, &cs, &ss);
	assert_int_equal(sonde_shutdown(cs, SHUT_WR), 0);
	pair_wait(p, 10 * MS);
	assert_int_equal(sonde_shutdown(ss, SHUT_WR), 0);
	pair_wait(p, 10 * MS);
	assert_int_equal(pair_state(cs), TCPS_TIME_WAIT);
	/* B's FIN again, as B would send it had A's ACK been lost. */
	t = (struct pair_seg){ .to_b = false,
			       .af = 4,
			       .sport = 80,
			       .dport = pair_lport(cs),
			       .seq = cs->tcp.rcv_nxt - 1,
			       .ack = cs->tcp.snd_max,
			       .flags = TH_FIN | TH_ACK,
			       .win = 1024,
			       .ts = true,
			       .tsval = cs->tcp.ts_recent + 1 };
	mark = p->n_log;
	inject(p, &t, NULL, 0);
	assert_int_equal(pair_state(cs), TCPS_TIME_WAIT);
	assert_true(p->n_log > mark);
	assert_true(p->log[mark].to_b && p->log[mark].flags == TH_ACK);
	assert_int_equal(p->log[mark].ack, cs->tcp.rcv_nxt);
	pair_end(p, cs, ss, ls, NULL);
}

/* RFC 6191: B closed first and is in TIME-WAIT; a SYN of the same pair
 * with a newer timestamp opens a new connection at once. */
static void
test_time_wait_rfc6191(void **state)
{
	struct sonde_sock *ls, *cs, *ss, *c2, *s2;
	struct sockaddr_storage la, sb;
	uint16_t port;
	socklen_t len;
	struct pair *p;

	(void)state;
	p = pair_up(NULL, AF_INET, &ls, &cs, &ss);
	port = pair_lport(cs);
	assert_int_equal(sonde_close(ss), 0);
	pair_wait(p, 10 * MS);
	assert_int_equal(sonde_recv(cs, (uint8_t[4]){ 0 }, 4, 0), 0);
	assert_int_equal(sonde_close(cs), 0);
	pair_wait(p, 10 * MS);
	ss = pair_conn(p, true, 4, 80, port);
	assert_non_null(ss);
	assert_int_equal(pair_state(ss), TCPS_TIME_WAIT);
	assert_null(pair_conn(p, false, 4, port, 80));
	pair_wait(p, SEC);
	/* A again, from the same port. */
	assert_int_equal(sonde_socket(p->a, AF_INET, SOCK_STREAM, NULL, &c2), 0);
	len = pair_addr(AF_INET, false, port, &la);
	assert_int_equal(sonde_bind(c2, (struct sockaddr *)&la, len), 0);
	len = pair_addr(AF_INET, true, 80, &sb);
	assert_int_equal(sonde_connect(c2, (struct sockaddr *)&sb, len), -EINPROGRESS);
	s2 = pair_accept(p, ls);
	pair_wait(p, 10 * MS);
	assert_int_equal(pair_state(c2), TCPS_ESTABLISHED);
	assert_int_equal(sonde_stat(p->b, "tcp.passive_opens"), 2);
	assert_true(pair_stream(p, c2, s2, 50000, SEC));
	pair_end(p, c2, s2, ls, NULL);
}

/* RFC 6056: ports for new connections to the same peer avoid the pairs
 * still in TIME-WAIT. */
static void
test_time_wait_ports(void **state)
{
	struct sonde_sock *ls, *cs, *ss;
	uint16_t ports[12];
	struct pair *p;

	(void)state;
	p = pair_open(NULL);
	ls = pair_listen(p, AF_INET, 80);
	for (unsigned i = 0; i < 12; i++) {
		cs = pair_connect_to(p, AF_INET, 80);
		ss = pair_accept(p, ls);
		ports[i] = pair_lport(cs);
		for (unsigned j = 0; j < i; j++)
			assert_int_not_equal(ports[i], ports[j]);
		assert_int_equal(sonde_close(cs), 0);
		pair_wait(p, 5 * MS);
		assert_int_equal(sonde_close(ss), 0);
		pair_wait(p, 5 * MS);
		assert_int_equal(pair_state(pair_conn(p, false, 4, ports[i], 80)), TCPS_TIME_WAIT);
	}
	pair_end(p, ls, NULL);
}

/* --- windows --- */

static enum pair_verdict
strip_ws(struct pair *p, struct pair_seg *sg, void *arg)
{
	(void)p, (void)arg;
	if (sg->to_b && sg->flags & TH_SYN)
		pair_seg_strip(sg, 3);
	return PAIR_PASS;
}

/* RFC 7323 2: a 1 MB receive buffer asks a shift of 5; the windows B
 * advertises after the handshake are scaled by it; a peer that does not
 * offer the option gets unscaled windows. */
static void
window_scale(bool peer_ws)
{
	struct sonde_conf conf = { .rcvbuf = 1 << 20 };
	struct sonde_sock *ls, *cs, *ss;
	struct pair *p;
	unsigned n = 0;

	p = pair_open(&conf);
	pair_log(p);
	if (!peer_ws)
		p->tap = strip_ws;
	pair_connect(p, AF_INET, 80, &ls, &cs, &ss);
	assert_true(pair_stream(p, cs, ss, 100000, SEC));
	for (unsigned i = 0; i < p->n_log; i++) {
		const struct pair_seg *g = &p->log[i];

		if (g->to_b || !(g->flags & TH_ACK))
			continue;
		if (g->flags & TH_SYN) {
			assert_int_equal(g->has_ws, peer_ws);
			assert_int_equal(g->win, 65535);
			continue;
		}
		n++;
		if (peer_ws)
			assert_true((uint32_t)g->win << 5 > 900000);
		else
			assert_int_equal(g->win, 65535);
	}
	assert_true(n > 0);
	assert_int_equal(ss->tcp.rcv_wscale, peer_ws ? 5 : 0);
	assert_int_equal(cs->tcp.snd_wscale, peer_ws ? 5 : 0);
	pair_end(p, cs, ss, ls, NULL);
}

static void
test_window_scale(void **state)
{
	(void)state;
	window_scale(true);
}

static void
test_window_unscaled(void **state)
{
	(void)state;
	window_scale(false);
}

/* RFC 9293 3.8.6.1: B does not read: A fills the window and stops,
 * probes the zero window with a backoff, and goes on when B reads. */
static void
test_zero_window(void **state)
{
	struct sonde_conf conf = { .rcvbuf = 64 << 10 };
	struct sonde_sock *ls, *cs, *ss;
	struct pair_flow f;
	uint64_t t[16];
	unsigned n = 0;
	struct pair *p;

	(void)state;
	p = pair_open(&conf);
	pair_connect(p, AF_INET, 80, &ls, &cs, &ss);
	pair_log(p);
	f = (struct pair_flow){ .tx = cs, .rx = ss, .total = 1 << 20 };
	for (unsigned i = 0; i < 200; i++) {
		uint8_t buf[4096];
		ssize_t r;

		for (unsigned j = 0; j < sizeof(buf); j++)
			buf[j] = pair_pat(f.sent + j);
		r = sonde_send(cs, buf, sizeof(buf), 0);
		if (r > 0)
			f.sent += (uint64_t)r;
		pair_wait(p, 50 * MS);
	}
	/* 10 s on: the window is shut, B holds its buffer's worth. */
	assert_int_equal(cs->tcp.snd_wnd, 0);
	assert_int_equal(sonde_sock_readable(ss), 64 << 10);
	assert_true(sonde_stat(p->a, "tcp.zero_window_probes") >= 3);
	for (unsigned i = 0; i < p->n_log && n < 16; i++)
		if (p->log[i].to_b && p->log[i].len == 0 && p->log[i].seq == cs->tcp.snd_una - 1)
			t[n++] = p->log[i].t;
	assert_true(n >= 3);
	for (unsigned i = 2; i < n; i++)
		assert_true(t[i] - t[i - 1] > t[i - 1] - t[i - 2]);
	assert_int_equal(sonde_stat(p->a, "tcp.rto"), 0);
	/* B reads: the rest goes. */
	assert_true(pair_flows(p, &f, 1, 100000, 20 * SEC));
	pair_end(p, cs, ss, ls, NULL);
}

/* Window updates of B's own (a segment from B that acknowledges nothing
 * new and only moves the window's right edge) after B reads, for bytes
 * A sent in one go. */
static unsigned
updates_after_read(uint32_t bytes)
{
	struct sonde_conf conf = { .rcvbuf = 256 << 10 };
	struct sonde_sock *ls, *cs, *ss;
	struct pair *p = pair_open(&conf);
	uint8_t buf[16384];
	uint32_t sent = 0, last_ack = 0, from;
	unsigned updates = 0;
	bool seen = false;

	pair_connect(p, AF_INET, 80, &ls, &cs, &ss);
	assert_int_equal(sonde_setsockopt(cs, SONDE_SO_NODELAY, 1), 0);
	memset(buf, 'w', sizeof(buf));
	while (sent < bytes) {
		ssize_t r = sonde_send(cs, buf, RTE_MIN(sizeof(buf), (size_t)(bytes - sent)), 0);

		assert_true(r > 0);
		sent += (uint32_t)r;
		pair_wait(p, MS);
	}
	/* Everything in B's buffer, acknowledged (delayed ACKs out too). */
	pair_wait(p, 200 * MS);
	assert_int_equal(sonde_sock_readable(ss), bytes);
	pair_log(p);
	from = p->n_log;
	for (uint32_t got = 0; got < bytes;) {
		ssize_t r = sonde_recv(ss, buf, sizeof(buf), 0);

		assert_true(r > 0);
		got += (uint32_t)r;
	}
	pair_wait(p, 200 * MS);
	for (unsigned i = from; i < p->n_log; i++) {
		const struct pair_seg *sg = &p->log[i];

		if (sg->to_b || sg->len != 0 || sg->flags & (TH_SYN | TH_FIN | TH_RST))
			continue;
		if (!seen)
			last_ack = cs->tcp.snd_una; /* all acknowledged before the read */
		seen = true;
		if (sg->ack == last_ack)
			updates++;
		last_ack = sg->ack;
	}
	pair_end(p, cs, ss, ls, NULL);
	return updates;
}

/* A reader that keeps up sends no update of its own: the window the peer
 * has left is more than half open, and the ACKs of the data still to come
 * carry the new edge (bench/replay's bulk reader sent one after every
 * burst it read, a third of a segment's cost).  One whose window was half
 * closed or worse tells the peer it opened (RFC 9293 3.8.6.2.2). */
static void
test_window_update(void **state)
{
	(void)state;
	assert_int_equal(updates_after_read(32 << 10), 0);
	assert_true(updates_after_read(192 << 10) >= 1);
}

/* --- ACKs and Nagle --- */

/* RFC 1122 4.2.3.2: one small segment is acknowledged after the delayed
 * ACK's 40 ms; two full ones at once. */
static void
test_delayed_ack(void **state)
{
	struct sonde_sock *ls, *cs, *ss;
	uint8_t buf[2 * 1448];
	struct pair *p;
	unsigned mark;
	uint64_t t0;

	(void)state;
	p = pair_up(NULL, AF_INET, &ls, &cs, &ss);
	assert_true(pair_stream(p, cs, ss, 100000, SEC)); /* past the quick ACKs */
	pair_wait(p, SEC);
	pair_log(p);
	t0 = p->now;
	assert_int_equal(sonde_send(cs, "x", 1, 0), 1);
	pair_wait(p, 100 * MS);
	assert_true(p->n_log == 2 && !p->log[1].to_b);
	assert_true(p->log[1].t - t0 >= 39 * MS && p->log[1].t - t0 <= 42 * MS);
	mark = p->n_log;
	memset(buf, 0, sizeof(buf));
	assert_int_equal(sonde_recv(ss, buf, 1, 0), 1);
	t0 = p->now;
	assert_int_equal(sonde_send(cs, buf, cs->tcp.mss * 2u, 0), cs->tcp.mss * 2);
	pair_wait(p, 100 * MS);
	assert_true(p->n_log >= mark + 3);
	assert_false(p->log[mark + 2].to_b);
	assert_true(p->log[mark + 2].t - t0 <= 1 * MS);
	pair_end(p, cs, ss, ls, NULL);
}

/* RFC 1122 4.2.3.4: a small write while data is unacknowledged waits
 * for the ACK; with NODELAY it goes at once. */
static void
nagle(bool nodelay)
{
	struct sonde_sock *ls, *cs, *ss;
	struct pair *p;

	p = pair_up(NULL, AF_INET, &ls, &cs, &ss);
	assert_true(pair_stream(p, cs, ss, 100000, SEC));
	pair_wait(p, SEC);
	assert_int_equal(sonde_setsockopt(cs, SONDE_SO_NODELAY, nodelay), 0);
	pair_log(p);
	assert_int_equal(sonde_send(cs, "a", 1, 0), 1);
	assert_int_equal(sonde_send(cs, "b", 1, 0), 1);
	pair_wait(p, 100 * MS);
	assert_true(p->n_log >= 2 && p->log[0].to_b && p->log[1].to_b == nodelay);
	assert_int_equal(p->log[0].len, 1);
	for (unsigned i = 1; i < p->n_log; i++)
		if (p->log[i].to_b) {
			assert_int_equal(p->log[i].len, 1);
			if (nodelay)
				assert_true(p->log[i].t == p->log[0].t);
			else
				assert_true(p->log[i].t - p->log[0].t >= 39 * MS);
			break;
		}
	pair_end(p, cs, ss, ls, NULL);
}

static void
test_nagle(void **state)
{
	(void)state;
	nagle(false);
}

static void
test_nodelay(void **state)
{
	(void)state;
	nagle(true);
}

/* SONDE_MSG_MORE holds only a short tail: a writer that fills the send
 * buffer with it (as the HTTP service does, a body in chunks) sees its
 * full segments leave at once, and the tail with the last send without
 * it.  (Holding everything, the writer got -EAGAIN from a full buffer
 * that nothing would ever drain.) */
static void
test_msg_more(void **state)
{
	static uint8_t buf[4096];
	struct sonde_sock *ls, *cs, *ss;
	unsigned full = 0, tail = 0;
	struct pair *p;
	size_t sent = 0, got = 0;
	ssize_t r;

	(void)state;
	p = pair_up(NULL, AF_INET, &ls, &cs, &ss);
	pair_log(p);
	while ((r = sonde_send(cs, buf, 1000, SONDE_MSG_MORE)) > 0)
		sent += (size_t)r;
	assert_int_equal(r, -EAGAIN);
	assert_true(sent >= cs->sndbuf);
	pair_wait(p, MS); /* the frames to the wire */
	for (unsigned i = 0; i < p->n_log; i++)
		if (p->log[i].to_b && p->log[i].len > 0)
			full += p->log[i].len == cs->tcp.mss;
	assert_true(full >= 1); /* the initial window's, at once */
	for (unsigned i = 0; i < p->n_log; i++)
		assert_true(!p->log[i].to_b || p->log[i].len == 0 || p->log[i].len == cs->tcp.mss);
	/* Read it all: what ACKs bring goes on; the short tail waits. */
	for (unsigned i = 0; i < 2000 && got < sent - sent % cs->tcp.mss; i++) {
		pair_wait(p, MS);
		while ((r = sonde_recv(ss, buf, sizeof(buf), 0)) > 0)
			got += (size_t)r;
	}
	assert_int_equal(got, sent - sent % cs->tcp.mss);
	pair_wait(p, 100 * MS); /* the last ACK back, delayed or not */
	assert_true(cs->tcp.sb_bytes < cs->tcp.mss && cs->tcp.sb_bytes == sent % cs->tcp.mss);
	assert_int_equal(sonde_send(cs, buf, 1, 0), 1);
	pair_wait(p, 10 * MS);
	for (unsigned i = 0; i < p->n_log; i++)
		if (p->log[i].to_b && p->log[i].len > 0 && p->log[i].len < cs->tcp.mss)
			tail++;
	assert_int_equal(tail, 1);
	pair_end(p, cs, ss, ls, NULL);
}

/* RFC 1122 4.2.3.6: probes after KEEPIDLE, every KEEPINTVL; answered,
 * the connection stays; unanswered KEEPCNT times, it is dropped. */
static void
test_keepalive(void **state)
{
	struct sonde_sock *ls, *cs, *ss;
	struct pair *p;

	(void)state;
	p = pair_up(NULL, AF_INET, &ls, &cs, &ss);
	assert_int_equal(sonde_setsockopt(cs, SONDE_SO_KEEPIDLE, 10), 0);
	assert_int_equal(sonde_setsockopt(cs, SONDE_SO_KEEPINTVL, 2), 0);
	assert_int_equal(sonde_setsockopt(cs, SONDE_SO_KEEPCNT, 3), 0);
	assert_int_equal(sonde_setsockopt(cs, SONDE_SO_KEEPALIVE, 1), 0);
	pair_wait(p, 9 * SEC);
	assert_int_equal(sonde_stat(p->a, "tcp.keepalive_probes"), 0);
	pair_wait(p, 25 * SEC);
	assert_true(sonde_stat(p->a, "tcp.keepalive_probes") >= 2);
	assert_int_equal(pair_state(cs), TCPS_ESTABLISHED);
	p->cut = true;
	pair_wait(p, 20 * SEC);
	assert_int_equal(pair_state(cs), TCPS_CLOSED);
	assert_int_equal(sonde_sock_error(cs), -ETIMEDOUT);
	assert_int_equal(sonde_stat(p->a, "tcp.keepalive_drops"), 1);
	pair_end(p, cs, ss, ls, NULL);
}

/* RFC 4987 3.6: SYNs past the backlog get cookies; the handshakes
 * finish from them and the connections carry data. */
struct cookies {
	struct pair *p;
	struct sonde_sock *ls, *cs[8], *ss[8];
	unsigned n_acc;
	bool sent[8];
	uint8_t got[8];
};

static bool
cookies_done(void *arg)
{
	struct cookies *c = arg;
	struct sonde_sock *s;
	uint8_t b[16];

	pair_drain(c->p);
	for (unsigned i = 0; i < 8; i++)
		if (!c->sent[i] && pair_state(c->cs[i]) == TCPS_ESTABLISHED)
			c->sent[i] = sonde_send(c->cs[i], &(uint8_t){ (uint8_t)i }, 1, 0) == 1;
	while (c->n_acc < 8 && sonde_accept(c->ls, NULL, &s, NULL, NULL) == 0)
		c->ss[c->n_acc++] = s;
	for (unsigned i = 0; i < c->n_acc; i++)
		if (sonde_recv(c->ss[i], b, sizeof(b), 0) == 1)
			c->got[b[0]]++;
	for (unsigned i = 0; i < 8; i++)
		if (c->got[i] != 1)
			return false;
	return true;
}

static void
test_syncookies(void **state)
{
	unsigned cookie_conns = 0;
	struct cookies c;
	struct pair *p;

	(void)state;
	memset(&c, 0, sizeof(c));
	p = c.p = pair_open(NULL);
	c.ls = pair_listen(p, AF_INET, 80);
	assert_int_equal(sonde_listen(c.ls, 2), 0);
	for (unsigned i = 0; i < 8; i++)
		c.cs[i] = pair_connect_to(p, AF_INET, 80);
	assert_true(pair_run(p, MS, 30 * SEC, cookies_done, &c));
	assert_true(sonde_stat(p->b, "tcp.syncookies_sent") >= 1);
	assert_true(sonde_stat(p->b, "tcp.syncookies_ok") >= 1);
	for (unsigned i = 0; i < 8; i++) {
		if (!(c.ss[i]->tcp.tf & TF_COOKIE))
			continue;
		cookie_conns++;
		/* Data both ways on a cookie connection. */
		for (unsigned j = 0; j < 8; j++)
			if (pair_lport(c.cs[j]) == ntohs(c.ss[i]->key.rport)) {
				assert_true(pair_stream(p, c.ss[i], c.cs[j], 100000, 2 * SEC));
				assert_true(pair_stream(p, c.cs[j], c.ss[i], 100000, 2 * SEC));
			}
	}
	assert_int_equal(cookie_conns, sonde_stat(p->b, "tcp.syncookies_ok"));
	for (unsigned i = 0; i < 8; i++) {
		sonde_close(c.cs[i]);
		sonde_close(c.ss[i]);
	}
	pair_end(p, c.ls, NULL);
}

/* RFC 3168 6.1.2-6.1.3: B sees CE on A's data: ECE on its ACKs until A's
 * CWR; A reduces once. */
struct ce {
	unsigned marked;
};

static enum pair_verdict
mark_ce(struct pair *p, struct pair_seg *sg, void *arg)
{
	struct ce *c = arg;

	(void)p;
	if (sg->to_b && sg->len > 0 && sg->ecn == 2 && c->marked < 3) {
		c->marked++;
		sg->ecn = 3;
		pair_seg_rewrite(sg);
	}
	return PAIR_PASS;
}

static void
test_ecn(void **state)
{
	struct sonde_sock *ls, *cs, *ss;
	struct ce c = { 0 };
	unsigned cwr = 0, ece = 0;
	uint32_t cwr_seq = 0;
	struct pair *p;

	(void)state;
	p = pair_up(NULL, AF_INET, &ls, &cs, &ss);
	assert_true(cs->tcp.tf & TF_ECN);
	assert_true(ss->tcp.tf & TF_ECN);
	assert_true(pair_stream(p, cs, ss, 200000, SEC));
	pair_log(p);
	p->tap = mark_ce;
	p->tap_arg = &c;
	assert_true(pair_stream(p, cs, ss, 400000, 2 * SEC));
	assert_int_equal(c.marked, 3);
	assert_int_equal(sonde_stat(p->b, "tcp.ecn_ce"), 3);
	/* ECE until B has the CWR: later ones only on ACKs below it (sent
	 * before it arrived, as window updates); one CWR, one reduction. */
	for (unsigned i = 0; i < p->n_log; i++) {
		const struct pair_seg *g = &p->log[i];

		if (g->to_b && g->flags & TH_CWR) {
			cwr++;
			cwr_seq = g->seq;
		} else if (!g->to_b && g->flags & TH_ECE) {
			ece++;
			if (cwr)
				assert_true(SEQ_LEQ(g->ack, cwr_seq));
		}
	}
	assert_int_equal(cwr, 1);
	assert_true(ece >= 1);
	/* Each reduction sends one CWR (RFC 3168 6.1.2): one, so one. */
	assert_true(cs->tcp.ssthresh < UINT32_MAX);
	assert_int_equal(sonde_stat(p->a, "tcp.fast_retrans") + sonde_stat(p->a, "tcp.rto"), 0);
	pair_end(p, cs, ss, ls, NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		pair_test(test_rst_exact),
		pair_test(test_rst_challenged),
		pair_test(test_syn_challenged),
		pair_test(test_ack_beyond),
		pair_test(test_challenge_rate),
		pair_test(test_paws),
		pair_test(test_time_wait_fin_again),
		pair_test(test_time_wait_rfc6191),
		pair_test(test_time_wait_ports),
		pair_test(test_window_scale),
		pair_test(test_window_unscaled),
		pair_test(test_zero_window),
		pair_test(test_window_update),
		pair_test(test_delayed_ack),
		pair_test(test_nagle),
		pair_test(test_nodelay),
		pair_test(test_msg_more),
		pair_test(test_keepalive),
		pair_test(test_syncookies),
		pair_test(test_ecn),
	};
	int r;

	unit_init_mem("tcp_misc", 512);
	r = cmocka_run_group_tests_name("tcp_misc", tests, NULL, NULL);
	unit_fini();
	return r;
}
