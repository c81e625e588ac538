/*
 * test_tcp_states.c: every transition of RFC 9293 3.3.2's diagram, on
 * two stacks and a fake clock (tcp_pair.h): opens (active, passive,
 * simultaneous), closes (active, passive, simultaneous, half), resets
 * (unread data, abort, SO_LINGER 0, a listener's children), and accept
 * of a connection that already carries its data and FIN.
 */
#include <errno.h>
#include <string.h>

#include "sock.h"
#include "tcp_pair.h"

/* Polls until s reaches state (or 5 s of fake time pass). */
struct want {
	const struct sonde_sock *s;
	int state;
};

static bool
reached(void *arg)
{
	const struct want *w = arg;

	return pair_state(w->s) == w->state;
}

static void
run_to(struct pair *p, const struct sonde_sock *s, int state)
{
	struct want w = { s, state };

	assert_true(pair_run(p, 100000, 5 * SEC, reached, &w));
}

/* Polls a frame at a time (for 20 turns): s and t must both pass
 * through state. */
static void
passes(struct pair *p, const struct sonde_sock *s, const struct sonde_sock *t, int state)
{
	bool seen_s = false, seen_t = false;

	p->rx_max = 1;
	for (unsigned i = 0; i < 20; i++) {
		pair_poll(p);
		seen_s = seen_s || pair_state(s) == state;
		seen_t = seen_t || pair_state(t) == state;
		p->now += 100000;
	}
	p->rx_max = 0;
	assert_true(seen_s);
	assert_true(seen_t);
}

/* The error an ERR event of s brings (0: none came). */
static int
err_event(struct sonde_stack *st, const struct sonde_sock *s)
{
	struct sonde_event ev[16];
	unsigned n = sonde_events(st, ev, 16);

	for (unsigned i = 0; i < n; i++)
		if (ev[i].sock == s && ev[i].events & SONDE_EV_ERR)
			return sonde_sock_error(s);
	return 0;
}

/* Active open, passive open, active close by A and passive close by B,
 * one segment at a time: LISTEN, SYN-SENT, SYN-RECEIVED, ESTABLISHED,
 * FIN-WAIT-1, CLOSE-WAIT, FIN-WAIT-2, LAST-ACK, TIME-WAIT, CLOSED (2MSL
 * later: 60 s). */
static void
open_close(int af)
{
	uint8_t fam = af == AF_INET6 ? 6 : 4;
	struct sonde_sock *ls, *cs, *ss, *child;
	uint16_t cport;
	struct pair *p;

	p = pair_open(NULL);
	ls = pair_listen(p, af, 80);
	assert_int_equal(pair_state(ls), TCPS_LISTEN);
	cs = pair_connect_to(p, af, 80);
	assert_int_equal(pair_state(cs), TCPS_SYN_SENT);
	cport = pair_lport(cs);
	/* B takes the SYN: a child in SYN-RECEIVED, its SYN-ACK out. */
	pair_poll(p);
	child = pair_conn(p, true, fam, 80, cport);
	assert_non_null(child);
	assert_int_equal(pair_state(child), TCPS_SYN_RECEIVED);
	assert_int_equal(sonde_stat(p->b, "tcp.passive_opens"), 1);
	/* A takes the SYN-ACK: ESTABLISHED, the ACK out; B (polled after A)
	 * takes it in the same turn. */
	pair_poll(p);
	assert_int_equal(pair_state(cs), TCPS_ESTABLISHED);
	assert_int_equal(pair_state(child), TCPS_ESTABLISHED);
	ss = pair_accept(p, ls);
	assert_ptr_equal(ss, child);
	assert_int_equal(sonde_stat(p->a, "tcp.active_opens"), 1);
	assert_int_equal(sonde_stat(p->a, "tcp.curr_estab"), 1);
	assert_int_equal(sonde_stat(p->b, "tcp.curr_estab"), 1);

	/* A closes: FIN-WAIT-1; B: CLOSE-WAIT; A, its FIN acked: FIN-WAIT-2. */
	assert_int_equal(sonde_shutdown(cs, SHUT_WR), 0);
	assert_int_equal(pair_state(cs), TCPS_FIN_WAIT_1);
	pair_poll(p);
	assert_int_equal(pair_state(ss), TCPS_CLOSE_WAIT);
	pair_poll(p);
	assert_int_equal(pair_state(cs), TCPS_FIN_WAIT_2);
	/* B reads the end and closes: LAST-ACK; A: TIME-WAIT; B: CLOSED (and
	 * freed: no connection by its 4-tuple). */
	assert_int_equal(sonde_recv(ss, (uint8_t[8]){ 0 }, 8, 0), 0);
	assert_int_equal(sonde_close(ss), 0);
	assert_int_equal(pair_state(ss), TCPS_LAST_ACK);
	/* B's FIN leaves in B's turn: A takes it in the next. */
	pair_poll(p);
	pair_poll(p);
	assert_int_equal(pair_state(cs), TCPS_TIME_WAIT);
	pair_poll(p);
	assert_null(pair_conn(p, true, fam, 80, cport));
	assert_int_equal(sonde_stat(p->b, "tcp.curr_estab"), 0);
	/* 2MSL: still there just before 60 s, gone after. */
	pair_wait(p, 59 * SEC);
	assert_int_equal(pair_state(cs), TCPS_TIME_WAIT);
	pair_wait(p, 2 * SEC);
	assert_int_equal(pair_state(cs), TCPS_CLOSED);
	assert_null(pair_conn(p, false, fam, cport, 80));
	assert_int_equal(sonde_recv(cs, (uint8_t[8]){ 0 }, 8, 0), 0);
	assert_int_equal(sonde_stat(p->a, "tcp.out_rsts") + sonde_stat(p->b, "tcp.out_rsts"), 0);
	pair_end(p, cs, ls, NULL);
}

static void
test_open_close4(void **state)
{
	(void)state;
	open_close(AF_INET);
}

static void
test_open_close6(void **state)
{
	(void)state;
	open_close(AF_INET6);
}

/* RFC 9293 3.5 figure 7: both ends connect to each other at once; each
 * SYN meets the other's: SYN-SENT, SYN-RECEIVED, ESTABLISHED on both
 * sides, and data goes both ways. */
static void
test_simultaneous_open(void **state)
{
	struct sockaddr_storage la, lb;
	struct sonde_sock *sa, *sb;
	struct pair_flow f[2];
	socklen_t len;
	struct pair *p;

	(void)state;
	p = pair_open(NULL);
	pair_log(p);
	assert_int_equal(sonde_socket(p->a, AF_INET, SOCK_STREAM, NULL, &sa), 0);
	assert_int_equal(sonde_socket(p->b, AF_INET, SOCK_STREAM, NULL, &sb), 0);
	len = pair_addr(AF_INET, false, 7001, &la);
	assert_int_equal(sonde_bind(sa, (struct sockaddr *)&la, len), 0);
	len = pair_addr(AF_INET, true, 7002, &lb);
	assert_int_equal(sonde_bind(sb, (struct sockaddr *)&lb, len), 0);
	assert_int_equal(sonde_connect(sa, (struct sockaddr *)&lb, len), -EINPROGRESS);
	assert_int_equal(sonde_connect(sb, (struct sockaddr *)&la, len), -EINPROGRESS);
	assert_int_equal(pair_state(sa), TCPS_SYN_SENT);
	assert_int_equal(pair_state(sb), TCPS_SYN_SENT);
	/* A frame a poll: each takes the other's SYN before its SYN-ACK. */
	passes(p, sa, sb, TCPS_SYN_RECEIVED);
	run_to(p, sa, TCPS_ESTABLISHED);
	run_to(p, sb, TCPS_ESTABLISHED);
	/* And it stays quiet: no segment storm between the two. */
	pair_wait(p, 100 * MS);
	assert_true(p->n_log < 12);
	memset(f, 0, sizeof(f));
	f[0] = (struct pair_flow){ .tx = sa, .rx = sb, .total = 100000 };
	f[1] = (struct pair_flow){ .tx = sb, .rx = sa, .total = 100000 };
	assert_true(pair_flows(p, f, 2, 100000, 5 * SEC));
	assert_int_equal(sonde_stat(p->a, "tcp.out_rsts") + sonde_stat(p->b, "tcp.out_rsts"), 0);
	pair_end(p, sa, sb, NULL);
}

/* RFC 9293 3.6 figure 13: both close at once: FIN-WAIT-1, CLOSING (each
 * FIN meets the other's), TIME-WAIT on both. */
static void
test_simultaneous_close(void **state)
{
	struct sonde_sock *ls, *cs, *ss;
	struct pair *p;

	(void)state;
	p = pair_up(NULL, AF_INET, &ls, &cs, &ss);
	assert_int_equal(sonde_shutdown(cs, SHUT_WR), 0);
	assert_int_equal(sonde_shutdown(ss, SHUT_WR), 0);
	assert_int_equal(pair_state(cs), TCPS_FIN_WAIT_1);
	assert_int_equal(pair_state(ss), TCPS_FIN_WAIT_1);
	/* A frame a poll: each takes the other's FIN before its ACK. */
	passes(p, cs, ss, TCPS_CLOSING);
	run_to(p, cs, TCPS_TIME_WAIT);
	run_to(p, ss, TCPS_TIME_WAIT);
	pair_wait(p, 61 * SEC);
	assert_int_equal(pair_state(cs), TCPS_CLOSED);
	assert_int_equal(pair_state(ss), TCPS_CLOSED);
	pair_end(p, cs, ss, ls, NULL);
}

/* RFC 9293 3.10.4, RFC 2525 2.17: closing with data unread resets the
 * connection, so the peer learns its data was not taken. */
static void
test_close_unread_rst(void **state)
{
	struct sonde_sock *ls, *cs, *ss;
	struct pair *p;

	(void)state;
	p = pair_up(NULL, AF_INET, &ls, &cs, &ss);
	assert_int_equal(sonde_send(cs, "hello", 5, 0), 5);
	pair_wait(p, 10 * MS);
	assert_int_equal(sonde_sock_readable(ss), 5);
	pair_drain(p);
	assert_int_equal(sonde_close(ss), 0);
	assert_int_equal(sonde_stat(p->b, "tcp.out_rsts"), 1);
	pair_wait(p, 10 * MS);
	assert_int_equal(pair_state(cs), TCPS_CLOSED);
	assert_int_equal(err_event(p->a, cs), -ECONNRESET);
	assert_int_equal(sonde_send(cs, "x", 1, 0), -ECONNRESET);
	assert_int_equal(sonde_stat(p->a, "tcp.estab_resets"), 1);
	pair_end(p, cs, ls, NULL);
}

/* RFC 9293 3.10.5 ABORT, and SO_LINGER with 0 (a close that resets):
 * a RST at once, the peer reset. */
static void
abort_or_linger(bool linger)
{
	struct sonde_sock *ls, *cs, *ss;
	uint16_t cport;
	struct pair *p;

	p = pair_up(NULL, AF_INET6, &ls, &cs, &ss);
	cport = pair_lport(cs);
	if (linger) {
		assert_int_equal(sonde_setsockopt(cs, SONDE_SO_LINGER0, 1), 0);
		assert_int_equal(sonde_close(cs), 0);
	} else {
		sonde_abort(cs);
	}
	assert_int_equal(sonde_stat(p->a, "tcp.out_rsts"), 1);
	pair_wait(p, 10 * MS);
	assert_int_equal(pair_state(ss), TCPS_CLOSED);
	assert_int_equal(err_event(p->b, ss), -ECONNRESET);
	assert_int_equal(sonde_recv(ss, (uint8_t[8]){ 0 }, 8, 0), -ECONNRESET);
	/* No TIME-WAIT left behind on A. */
	assert_null(pair_conn(p, false, 6, cport, 80));
	assert_int_equal(sonde_stat(p->a, "tcp.curr_estab"), 0);
	pair_end(p, ss, ls, NULL);
}

static void
test_abort(void **state)
{
	(void)state;
	abort_or_linger(false);
}

static void
test_linger0(void **state)
{
	(void)state;
	abort_or_linger(true);
}

/* shutdown(SHUT_WR): A's FIN goes, B keeps sending, A keeps reading
 * (FIN-WAIT-2 receives, RFC 9293 3.10.7.4), then B closes too. */
static void
test_half_close(void **state)
{
	struct sonde_sock *ls, *cs, *ss;
	struct pair *p;

	(void)state;
	p = pair_up(NULL, AF_INET, &ls, &cs, &ss);
	assert_int_equal(sonde_shutdown(cs, SHUT_WR), 0);
	assert_int_equal(sonde_send(cs, "x", 1, 0), -EPIPE);
	run_to(p, cs, TCPS_FIN_WAIT_2);
	assert_int_equal(pair_state(ss), TCPS_CLOSE_WAIT);
	assert_int_equal(sonde_recv(ss, (uint8_t[8]){ 0 }, 8, 0), 0);
	assert_true(pair_stream(p, ss, cs, 300000, 10 * SEC));
	assert_int_equal(pair_state(cs), TCPS_FIN_WAIT_2);
	assert_int_equal(sonde_close(ss), 0);
	run_to(p, cs, TCPS_TIME_WAIT);
	assert_int_equal(sonde_recv(cs, (uint8_t[8]){ 0 }, 8, 0), 0);
	pair_end(p, cs, ls, NULL);
}

/* A listener that goes resets what it has not handed out (sonde_close):
 * connections established and waiting, their peers told. */
static void
test_listener_close(void **state)
{
	struct sonde_sock *ls, *c1, *c2;
	struct pair *p;

	(void)state;
	p = pair_open(NULL);
	ls = pair_listen(p, AF_INET, 80);
	c1 = pair_connect_to(p, AF_INET, 80);
	c2 = pair_connect_to(p, AF_INET, 80);
	pair_wait(p, 10 * MS);
	assert_int_equal(pair_state(c1), TCPS_ESTABLISHED);
	assert_int_equal(pair_state(c2), TCPS_ESTABLISHED);
	assert_int_equal(sonde_stat(p->b, "tcp.curr_estab"), 2);
	pair_drain(p);
	assert_int_equal(sonde_close(ls), 0);
	assert_int_equal(sonde_stat(p->b, "tcp.out_rsts"), 2);
	assert_int_equal(sonde_stat(p->b, "tcp.curr_estab"), 0);
	pair_wait(p, 10 * MS);
	assert_int_equal(pair_state(c1), TCPS_CLOSED);
	assert_int_equal(pair_state(c2), TCPS_CLOSED);
	assert_int_equal(sonde_sock_error(c1), -ECONNRESET);
	assert_int_equal(sonde_sock_error(c2), -ECONNRESET);
	pair_end(p, c1, c2, NULL);
}

/* A connection that got its data and FIN before accept: accept hands it
 * over in CLOSE-WAIT, with IN and HUP, the data, then the end. */
static void
test_accept_data_fin(void **state)
{
	struct sonde_sock *ls, *cs, *ss;
	struct sonde_event ev[8];
	uint8_t buf[64];
	struct pair *p;
	unsigned n;
	bool seen = false;

	(void)state;
	p = pair_open(NULL);
	ls = pair_listen(p, AF_INET6, 80);
	cs = pair_connect_to(p, AF_INET6, 80);
	pair_wait(p, 10 * MS);
	assert_int_equal(sonde_send(cs, "early bird", 10, 0), 10);
	assert_int_equal(sonde_shutdown(cs, SHUT_WR), 0);
	pair_wait(p, 100 * MS);
	assert_int_equal(pair_state(cs), TCPS_FIN_WAIT_2);
	pair_drain(p);
	assert_int_equal(sonde_accept(ls, NULL, &ss, NULL, NULL), 0);
	assert_int_equal(pair_state(ss), TCPS_CLOSE_WAIT);
	n = sonde_events(p->b, ev, 8);
	for (unsigned i = 0; i < n; i++)
		if (ev[i].sock == ss) {
			assert_true(ev[i].events & SONDE_EV_IN);
			assert_true(ev[i].events & SONDE_EV_HUP);
			seen = true;
		}
	assert_true(seen);
	assert_int_equal(sonde_recv(ss, buf, sizeof(buf), 0), 10);
	assert_memory_equal(buf, "early bird", 10);
	assert_int_equal(sonde_recv(ss, buf, sizeof(buf), 0), 0);
	assert_int_equal(sonde_close(ss), 0);
	run_to(p, cs, TCPS_TIME_WAIT);
	pair_end(p, cs, ls, NULL);
}

/* Sockets run out while closed connections wait in TIME-WAIT: the oldest
 * given back makes room (tcp.tw_recycled), so a client that opens and
 * closes fast is never refused; one the application still holds is not
 * taken, and with nothing to recycle, -EMFILE. */
static void
test_tw_recycle(void **state)
{
	struct sonde_conf conf = { .max_sockets = 8 };
	struct pair *p = pair_open(&conf);
	struct sonde_sock *ls = pair_listen(p, AF_INET, 80), *cs, *ss, *held = NULL, *extra[8];
	struct sockaddr_storage sa;
	socklen_t len = pair_addr(AF_INET, true, 80, &sa);
	unsigned n_extra = 0;
	const unsigned rounds = 20;

	(void)state;
	for (unsigned i = 0; i < rounds; i++) {
		assert_int_equal(sonde_socket(p->a, AF_INET, SOCK_STREAM, NULL, &cs), 0);
		assert_int_equal(sonde_connect(cs, (struct sockaddr *)&sa, len), -EINPROGRESS);
		ss = pair_accept(p, ls);
		/* A closes first: A ends in TIME-WAIT, B in CLOSED (freed). */
		assert_int_equal(sonde_shutdown(cs, SHUT_WR), 0);
		run_to(p, cs, TCPS_FIN_WAIT_2);
		assert_int_equal(sonde_close(ss), 0);
		run_to(p, cs, TCPS_TIME_WAIT);
		if (i == 0)
			held = cs; /* the oldest, but still the application's */
		else
			assert_int_equal(sonde_close(cs), 0);
		pair_drain(p);
	}
	assert_int_equal(pair_state(held), TCPS_TIME_WAIT);
	/* A's pool: 8 sockets, 20 connections, one held all along. */
	assert_int_equal(sonde_stat(p->a, "tcp.tw_recycled"), rounds - 8);
	assert_int_equal(sonde_stat(p->a, "tcp.active_opens"), rounds);
	/* Every socket taken by the application: the held one and 7 new. */
	while (n_extra < 8 && sonde_socket(p->a, AF_INET, SOCK_STREAM, NULL, &extra[n_extra]) == 0)
		n_extra++;
	assert_int_equal(n_extra, 7);
	assert_int_equal(sonde_socket(p->a, AF_INET, SOCK_STREAM, NULL, &cs), -EMFILE);
	assert_int_equal(pair_state(held), TCPS_TIME_WAIT);
	for (unsigned i = 0; i < n_extra; i++)
		sonde_close(extra[i]);
	pair_end(p, held, ls, NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		pair_test(test_open_close4),	   pair_test(test_open_close6),
		pair_test(test_simultaneous_open), pair_test(test_simultaneous_close),
		pair_test(test_close_unread_rst),  pair_test(test_abort),
		pair_test(test_linger0),	   pair_test(test_half_close),
		pair_test(test_tw_recycle),	   pair_test(test_listener_close),
		pair_test(test_accept_data_fin),
	};
	int r;

	unit_init_mem("tcp_states", 512);
	r = cmocka_run_group_tests_name("tcp_states", tests, NULL, NULL);
	unit_fini();
	return r;
}
