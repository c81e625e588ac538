/*
 * test_tcp_loss.c: TCP's losses on a fake clock (tcp_pair.h): the
 * retransmission timer and its backoff (RFC 6298), Karn's rule, SYN
 * retransmission, fast retransmit (RFC 5681), NewReno's partial ACKs
 * (RFC 6582), SACK recovery (RFC 6675), the windows after it (RFC 9438,
 * RFC 5681), and a transfer through the fault injector.
 */
#include <errno.h>
#include <string.h>

#include "sock.h"
#include "tcp_pair.h"

/* --- a tap that loses chosen data segments from A --- */

struct loser {
	struct sonde_sock *cs; /* A's side, to read its state at the loss */
	unsigned lose[8];      /* data segments (from 1, first transmissions) to lose */
	unsigned n_data;       /* first transmissions seen */
	uint32_t max_end;      /* the highest sequence sent */
	bool max_set, strip_sack, strip_ts;
	/* At the first retransmission: A's state. */
	bool rtx_seen;
	uint32_t rtx_flight, rtx_ssthresh, rtx_cwnd;
	uint32_t cwnd_last; /* A's cwnd at its last new data segment */
	uint32_t cwnd_at_loss;
};

static enum pair_verdict
loser_tap(struct pair *p, struct pair_seg *sg, void *arg)
{
	struct loser *l = arg;

	(void)p;
	if (!sg->to_b)
		return PAIR_PASS;
	if (sg->flags & TH_SYN) {
		if (l->strip_sack)
			pair_seg_strip(sg, 4);
		if (l->strip_ts)
			pair_seg_strip(sg, 8);
		return PAIR_PASS;
	}
	if (sg->len == 0)
		return PAIR_PASS;
	if (l->max_set && SEQ_LT(sg->seq, l->max_end)) {
		if (!l->rtx_seen && l->cs != NULL) {
			const struct tcp_cb *tp = &l->cs->tcp;

			l->rtx_seen = true;
			/* The flight at the loss: new data may follow the
			 * retransmission in the same burst. */
			l->rtx_flight = l->max_end - tp->snd_una;
			l->rtx_ssthresh = tp->ssthresh;
			l->rtx_cwnd = tp->cwnd;
			l->cwnd_at_loss = l->cwnd_last;
		}
		return PAIR_PASS;
	}
	l->max_end = sg->seq + sg->len;
	l->max_set = true;
	l->n_data++;
	if (l->cs != NULL)
		l->cwnd_last = l->cs->tcp.cwnd;
	for (unsigned i = 0; i < 8; i++)
		if (l->lose[i] == l->n_data)
			return PAIR_DROP;
	return PAIR_PASS;
}

/* A connection from A to B with l's tap on the wire, A's congestion
 * control cc. */
static struct pair *
loss_pair(struct loser *l, int af, int cc, struct sonde_sock **ls, struct sonde_sock **cs,
	  struct sonde_sock **ss)
{
	struct pair *p = pair_open(NULL);
	struct sockaddr_storage sa;
	socklen_t len = pair_addr(af, true, 80, &sa);

	p->tap = loser_tap;
	p->tap_arg = l;
	*ls = pair_listen(p, af, 80);
	assert_int_equal(sonde_socket(p->a, af, SOCK_STREAM, NULL, cs), 0);
	assert_int_equal(sonde_setsockopt(*cs, SONDE_SO_CC, cc), 0);
	assert_int_equal(sonde_connect(*cs, (struct sockaddr *)&sa, len), -EINPROGRESS);
	*ss = pair_accept(p, *ls);
	pair_wait(p, 10 * MS);
	assert_int_equal(pair_state(*cs), TCPS_ESTABLISHED);
	l->cs = *cs;
	return p;
}

/* The times A sent data segments at (the log), into t; how many. */
static unsigned
data_times(const struct pair *p, uint64_t *t, unsigned max)
{
	unsigned n = 0;

	for (unsigned i = 0; i < p->n_log && n < max; i++)
		if (p->log[i].to_b && p->log[i].len > 0)
			t[n++] = p->log[i].t;
	return n;
}

static bool
has_error(void *arg)
{
	return sonde_sock_error(arg) != 0;
}

/* RFC 6298 5.5-5.7: with the peer gone, each retransmission waits twice
 * the last (to 60 s at most, 2.5); after the limit the connection is
 * dropped, a RST to the peer, ETIMEDOUT to the application. */
static void
test_rto_backoff(void **state)
{
	struct sonde_sock *ls, *cs, *ss;
	uint64_t t[32];
	unsigned n;
	struct pair *p;

	(void)state;
	p = pair_up(NULL, AF_INET, &ls, &cs, &ss);
	pair_log(p);
	p->cut = true;
	assert_int_equal(sonde_send(cs, "lost in the void", 16, 0), 16);
	assert_true(pair_run(p, 5 * MS, 30 * 60 * SEC, has_error, cs));
	assert_int_equal(sonde_sock_error(cs), -ETIMEDOUT);
	assert_int_equal(pair_state(cs), TCPS_CLOSED);
	n = data_times(p, t, 32);
	/* The first transmission and 15 retransmissions. */
	assert_int_equal(n, 16);
	assert_int_equal(sonde_stat(p->a, "tcp.rto"), 15);
	for (unsigned i = 2; i < n; i++) {
		uint64_t prev = t[i - 1] - t[i - 2], d = t[i] - t[i - 1];
		uint64_t want = RTE_MIN(2 * prev, 60 * SEC);

		assert_true(d + 12 * MS >= want && d <= want + 12 * MS);
	}
	/* It reached the 60 s cap. */
	assert_true(t[n - 1] - t[n - 2] >= 59 * SEC);
	/* The last: a RST. */
	assert_true(p->log[p->n_log - 1].flags & TH_RST);
	pair_end(p, cs, ss, ls, NULL);
}

/* A partition that heals: the RTO's retransmission gets through, the
 * backoff is forgotten (RFC 6298 5.7 ends with the new RTT), the data
 * arrives whole. */
static void
test_rto_heals(void **state)
{
	struct sonde_sock *ls, *cs, *ss;
	struct pair *p;

	(void)state;
	p = pair_up(NULL, AF_INET6, &ls, &cs, &ss);
	p->hold = true;
	pair_wait(p, 1 * MS);
	p->hold = false;
	p->cut = true;
	assert_true(pair_stream(p, cs, ss, 0, 1 * MS));
	{
		uint8_t buf[20000];

		for (unsigned i = 0; i < sizeof(buf); i++)
			buf[i] = pair_pat(i);
		assert_int_equal(sonde_send(cs, buf, sizeof(buf), 0), sizeof(buf));
	}
	pair_wait(p, 3 * SEC);
	assert_true(cs->tcp.backoff >= 2);
	p->cut = false;
	assert_true(pair_run(p, MS, 10 * SEC, NULL, NULL));
	assert_int_equal(sonde_sock_readable(ss), 20000);
	assert_int_equal(cs->tcp.backoff, 0);
	assert_int_equal(cs->tcp.snd_una, cs->tcp.snd_max);
	assert_true(sonde_stat(p->a, "tcp.rto") >= 2);
	pair_end(p, cs, ss, ls, NULL);
}

/* RFC 6298 3 (Karn): without timestamps, a retransmitted segment gives
 * no RTT sample (its ACK may be for either copy); a segment sent once
 * does. */
static void
test_karn(void **state)
{
	struct loser l = { .lose = { 1 }, .strip_ts = true };
	struct sonde_sock *ls, *cs, *ss;
	uint32_t srtt;
	struct pair *p;

	(void)state;
	p = loss_pair(&l, AF_INET, SONDE_CC_CUBIC, &ls, &cs, &ss);
	assert_false(cs->tcp.tf & TF_TS);
	assert_false(ss->tcp.tf & TF_TS);
	srtt = cs->tcp.srtt_us;
	assert_true(srtt > 0 && srtt < 10000); /* from the handshake */
	assert_int_equal(sonde_send(cs, "first", 5, 0), 5);
	pair_wait(p, 2 * SEC);
	assert_int_equal(sonde_stat(p->a, "tcp.rto"), 1);
	assert_int_equal(sonde_sock_readable(ss), 5);
	assert_int_equal(cs->tcp.snd_una, cs->tcp.snd_max);
	/* An ACK of the retransmission, 200 ms after the first copy: no sample. */
	assert_int_equal(cs->tcp.srtt_us, srtt);
	/* A segment sent once: sampled (the delayed ACK's 40 ms in it). */
	assert_int_equal(sonde_send(cs, "second", 6, 0), 6);
	pair_wait(p, 100 * MS);
	assert_int_not_equal(cs->tcp.srtt_us, srtt);
	pair_end(p, cs, ss, ls, NULL);
}

/* RFC 9293 3.8.1, RFC 6298 5: the SYN again at 1, 2, 4, 8, 16 and 32 s,
 * then connect fails with ETIMEDOUT. */
static void
test_syn_timeout(void **state)
{
	struct sonde_sock *cs;
	uint64_t t[16];
	unsigned n = 0;
	struct pair *p;

	(void)state;
	p = pair_open(NULL);
	pair_log(p);
	p->cut = true;
	cs = pair_connect_to(p, AF_INET, 80);
	assert_true(pair_run(p, 5 * MS, 10 * 60 * SEC, has_error, cs));
	assert_int_equal(sonde_sock_error(cs), -ETIMEDOUT);
	for (unsigned i = 0; i < p->n_log && n < 16; i++)
		if (p->log[i].flags & TH_SYN)
			t[n++] = p->log[i].t;
	assert_int_equal(n, 7);
	for (unsigned i = 1; i < n; i++) {
		uint64_t want = SEC << (i - 1), d = t[i] - t[i - 1];

		assert_true(d + 12 * MS >= want && d <= want + 12 * MS);
	}
	assert_int_equal(sonde_stat(p->a, "tcp.attempt_fails"), 1);
	pair_end(p, cs, NULL);
}

/* RFC 5681 3.2: one segment lost in a stream: three duplicate ACKs, its
 * retransmission at once, no timeout; with SACK or without. */
static void
fast_retransmit(bool sack)
{
	struct loser l = { .lose = { 40 }, .strip_sack = !sack };
	struct sonde_sock *ls, *cs, *ss;
	struct pair *p;

	p = loss_pair(&l, AF_INET, SONDE_CC_CUBIC, &ls, &cs, &ss);
	pair_log(p);
	assert_int_equal(!!(cs->tcp.tf & TF_SACK), sack);
	assert_true(pair_stream(p, cs, ss, 400000, 10 * SEC));
	assert_int_equal(sonde_stat(p->a, "tcp.fast_retrans"), 1);
	assert_int_equal(sonde_stat(p->a, "tcp.rto"), 0);
	assert_int_equal(sonde_stat(p->a, "tcp.retrans_segs"), 1);
	assert_true(l.rtx_seen);
	pair_end(p, cs, ss, ls, NULL);
}

static void
test_fast_retransmit(void **state)
{
	(void)state;
	fast_retransmit(true);
}

static void
test_fast_retransmit_nosack(void **state)
{
	(void)state;
	fast_retransmit(false);
}

/* RFC 6582: NewReno without SACK, two losses in one window: the partial
 * ACK after the first retransmission sends the second hole at once, one
 * recovery, no timeout; ssthresh half the flight (RFC 5681 (4)). */
static void
test_newreno_partial(void **state)
{
	struct loser l = { .lose = { 40, 44 }, .strip_sack = true };
	struct sonde_sock *ls, *cs, *ss;
	struct pair *p;

	(void)state;
	p = loss_pair(&l, AF_INET, SONDE_CC_NEWRENO, &ls, &cs, &ss);
	assert_false(cs->tcp.tf & TF_SACK);
	assert_true(pair_stream(p, cs, ss, 400000, 10 * SEC));
	assert_int_equal(sonde_stat(p->a, "tcp.fast_retrans"), 1);
	assert_int_equal(sonde_stat(p->a, "tcp.rto"), 0);
	assert_int_equal(sonde_stat(p->a, "tcp.retrans_segs"), 2);
	assert_true(l.rtx_seen);
	assert_int_equal(l.rtx_ssthresh, RTE_MAX(l.rtx_flight / 2, 2u * cs->tcp.mss));
	assert_int_equal(l.rtx_cwnd, l.rtx_ssthresh);
	assert_false(cs->tcp.tf & TF_RECOVERY);
	assert_true(cs->tcp.cwnd >= l.rtx_ssthresh);
	pair_end(p, cs, ss, ls, NULL);
}

/* RFC 6675: four losses in one window, SACK: all retransmitted in one
 * recovery, no timeout; CUBIC's ssthresh 0.7 of the window at the loss
 * (RFC 9438 4.6). */
static void
sack_recovery(int af)
{
	struct loser l = { .lose = { 40, 43, 46, 49 } };
	struct sonde_sock *ls, *cs, *ss;
	struct pair *p;

	p = loss_pair(&l, af, SONDE_CC_CUBIC, &ls, &cs, &ss);
	assert_true(cs->tcp.tf & TF_SACK);
	assert_true(pair_stream(p, cs, ss, 600000, 10 * SEC));
	assert_int_equal(sonde_stat(p->a, "tcp.fast_retrans"), 1);
	assert_int_equal(sonde_stat(p->a, "tcp.rto"), 0);
	assert_int_equal(sonde_stat(p->a, "tcp.retrans_segs"), 4);
	assert_int_equal(sonde_stat(p->a, "tcp.sack_retrans"), 3);
	assert_true(l.rtx_seen);
	/* The window it reduced from is at least the last new data's. */
	assert_true(cs->tcp.cubic.w_last_max >= l.cwnd_at_loss);
	assert_int_equal(l.rtx_ssthresh, (uint32_t)((uint64_t)cs->tcp.cubic.w_last_max * 7 / 10));
	assert_int_equal(l.rtx_cwnd, l.rtx_ssthresh);
	assert_false(cs->tcp.tf & TF_RECOVERY);
	pair_end(p, cs, ss, ls, NULL);
}

static void
test_sack_recovery4(void **state)
{
	(void)state;
	sack_recovery(AF_INET);
}

static void
test_sack_recovery6(void **state)
{
	(void)state;
	sack_recovery(AF_INET6);
}

/* A stalled transfer's witness: each sender's and receiver's variables. */
static void
flows_print(const struct pair_flow *f, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		const struct tcp_cb *tp = &f[i].tx->tcp, *rp = &f[i].rx->tcp;

		print_message("flow %u: sent %lu rcvd %lu; una %u nxt %u max %u wnd %u cwnd %u "
			      "tf %x timer %u backoff %u; rcv_nxt %u ooo %u\n",
			      i, (unsigned long)f[i].sent, (unsigned long)f[i].rcvd, tp->snd_una,
			      tp->snd_nxt, tp->snd_max, tp->snd_wnd, tp->cwnd, tp->tf,
			      tp->timer_kind, tp->backoff, rp->rcv_nxt, rp->ooo_bytes);
	}
}

/* Both ways through the fault injector at once, 2 MB each way: loss,
 * reordering, duplicates and delay; the streams arrive whole. */
static void
lossy(int af)
{
	struct sonde_fault_conf fc = { .seed = 0x5eed + (uint64_t)af };
	struct sonde_sock *ls, *cs, *ss;
	struct pair_flow f[2];
	struct pair *p;

	p = pair_up(NULL, af, &ls, &cs, &ss);
	fc.tx = (struct sonde_fault_dir){
		.loss_ppm = 30000, .reorder_ppm = 50000, .dup_ppm = 10000, .delay_us = 10000
	};
	assert_int_equal(sonde_if_fault(p->a, p->ifa, &fc), 0);
	assert_int_equal(sonde_if_fault(p->b, p->ifb, &fc), 0);
	memset(f, 0, sizeof(f));
	f[0] = (struct pair_flow){ .tx = cs, .rx = ss, .total = 2 << 20 };
	f[1] = (struct pair_flow){ .tx = ss, .rx = cs, .total = 2 << 20 };
	pair_log(p);
	if (!pair_flows(p, f, 2, 200000, 300 * SEC)) {
		flows_print(f, 2);
		pair_log_print(p, p->n_log - 60, p->n_log);
		fail();
	}
	assert_true(sonde_stat(p->a, "tcp.retrans_segs") > 0);
	assert_true(sonde_stat(p->b, "tcp.retrans_segs") > 0);
	assert_true(sonde_stat(p->a, "tcp.fast_retrans") > 0);
	sonde_if_fault(p->a, p->ifa, NULL);
	sonde_if_fault(p->b, p->ifb, NULL);
	pair_end(p, cs, ss, ls, NULL);
}

static void
test_lossy4(void **state)
{
	(void)state;
	lossy(AF_INET);
}

static void
test_lossy6(void **state)
{
	(void)state;
	lossy(AF_INET6);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		pair_test(test_rto_backoff),
		pair_test(test_rto_heals),
		pair_test(test_karn),
		pair_test(test_syn_timeout),
		pair_test(test_fast_retransmit),
		pair_test(test_fast_retransmit_nosack),
		pair_test(test_newreno_partial),
		pair_test(test_sack_recovery4),
		pair_test(test_sack_recovery6),
		pair_test(test_lossy4),
		pair_test(test_lossy6),
	};
	int r;

	unit_init_mem("tcp_loss", 512);
	r = cmocka_run_group_tests_name("tcp_loss", tests, NULL, NULL);
	unit_fini();
	return r;
}
