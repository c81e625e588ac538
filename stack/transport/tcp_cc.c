/*
 * tcp_cc.c: congestion control and the SACK scoreboard.
 *
 * Slow start and congestion avoidance (RFC 5681), an initial window of
 * ten segments (RFC 6928), CUBIC (RFC 9438, the default) or NewReno
 * (RFC 5681 3.2, RFC 6582) after a loss, and for the loss recovery of
 * RFC 6675 the scoreboard of what the peer has SACKed (RFC 2018): its
 * IsLost(), SetPipe() and NextSeg() rule 1.
 */
#include <math.h>
#include <string.h>

#include "sock.h"
#include "tcp.h"

#define TCP_DUPTHRESH 3
#define CUBIC_C 0.4	 /* RFC 9438 5: segments / s^3 */
#define CUBIC_BETA_NUM 7 /* beta_cubic = 0.7 */
#define CUBIC_BETA_DEN 10

void
tcp_cc_init(struct sonde_sock *s)
{
	struct tcp_cb *tp = &s->tcp;
	uint32_t mss = tp->mss ? tp->mss : TCP_DEFAULT_MSS;

	/* RFC 6928 2: min(10 * MSS, max(2 * MSS, 14600)). */
	tp->cwnd = RTE_MIN(10 * mss, RTE_MAX(2 * mss, 14600u));
	tp->ssthresh = UINT32_MAX;
	memset(&tp->cubic, 0, sizeof(tp->cubic));
}

/* RFC 9438 4.2: W_cubic(t) = C (t - K)^3 + W_max, in segments, t in s. */
static double
cubic_w(const struct tcp_cb *tp, double t)
{
	double k = tp->cubic.k_us / 1e6, d = t - k;

	return CUBIC_C * d * d * d + (double)tp->cubic.w_max / tp->mss;
}

static void
cubic_ack(struct sonde_sock *s, uint32_t acked)
{
	struct tcp_cb *tp = &s->tcp;
	uint64_t now = s->st->now;
	double t, target, cwnd_seg = (double)tp->cwnd / tp->mss;

	if (tp->cubic.epoch_ns == 0) {
		/* RFC 9438 4.2: a new epoch: K from where the window is. */
		tp->cubic.epoch_ns = now;
		if (tp->cubic.w_max <= tp->cwnd) {
			tp->cubic.k_us = 0;
			tp->cubic.w_max = tp->cwnd;
		} else {
			double w = (double)(tp->cubic.w_max - tp->cwnd) / tp->mss;

			tp->cubic.k_us = (uint32_t)(cbrt(w / CUBIC_C) * 1e6);
		}
		tp->cubic.w_est = tp->cwnd;
		tp->cubic.ack_cnt = 0;
	}
	/* RFC 9438 4.2: the target one RTT ahead. */
	t = (double)(now - tp->cubic.epoch_ns) / 1e9 + (double)tp->srtt_us / 1e6;
	target = cubic_w(tp, t);
	if (target > 1.5 * cwnd_seg)
		target = 1.5 * cwnd_seg;
	/* RFC 9438 4.3: the Reno-friendly estimate, alpha = 3(1-b)/(1+b). */
	tp->cubic.ack_cnt += acked;
	if (tp->cubic.ack_cnt >= tp->cwnd) {
		tp->cubic.ack_cnt -= tp->cwnd;
		tp->cubic.w_est += (uint32_t)(tp->mss * 3.0 * (CUBIC_BETA_DEN - CUBIC_BETA_NUM) /
					      (CUBIC_BETA_DEN + CUBIC_BETA_NUM));
	}
	if (tp->cubic.w_est > tp->cwnd && tp->cubic.w_est / tp->mss > target) {
		tp->cwnd = tp->cubic.w_est;
		return;
	}
	/* RFC 9438 4.4-4.5: (target - cwnd) / cwnd a segment's worth per ACK. */
	if (target > cwnd_seg) {
		double inc = (target - cwnd_seg) / cwnd_seg * acked;

		tp->cwnd += (uint32_t)RTE_MAX(inc, 1.0);
	}
}

void
tcp_cc_ack(struct sonde_sock *s, uint32_t acked)
{
	struct tcp_cb *tp = &s->tcp;

	if (tp->cwnd < tp->ssthresh) {
		/* RFC 5681 3.1 with RFC 3465's L = 2 SMSS. */
		tp->cwnd += RTE_MIN(acked, 2u * tp->mss);
		return;
	}
	if (tp->tf & TF_NEWRENO) {
		/* RFC 5681 3.1 (3): SMSS * SMSS / cwnd per ACK. */
		uint32_t inc = (uint32_t)((uint64_t)tp->mss * tp->mss / tp->cwnd);

		tp->cwnd += RTE_MAX(inc, 1u);
		return;
	}
	cubic_ack(s, acked);
}

/* The window after a loss: RFC 5681 (3.4) halves the flight; CUBIC
 * (RFC 9438 4.6, 4.7) takes 0.7 of the window and remembers it, lower
 * still (fast convergence) when it is below the last one. */
static uint32_t
tcp_cc_reduce(struct sonde_sock *s)
{
	struct tcp_cb *tp = &s->tcp;
	uint32_t flight = tp->snd_max - tp->snd_una;

	if (tp->tf & TF_NEWRENO)
		return RTE_MAX(flight / 2, 2u * tp->mss);
	tp->cubic.epoch_ns = 0;
	if (tp->cwnd < tp->cubic.w_last_max)
		tp->cubic.w_max =
			(uint32_t)((uint64_t)tp->cwnd * (CUBIC_BETA_DEN + CUBIC_BETA_NUM) /
				   (2 * CUBIC_BETA_DEN));
	else
		tp->cubic.w_max = tp->cwnd;
	tp->cubic.w_last_max = tp->cwnd;
	return RTE_MAX((uint32_t)((uint64_t)tp->cwnd * CUBIC_BETA_NUM / CUBIC_BETA_DEN),
		       2u * tp->mss);
}

void
tcp_cc_loss(struct sonde_sock *s)
{
	struct tcp_cb *tp = &s->tcp;

	tp->ssthresh = tcp_cc_reduce(s);
	tp->cwnd = tp->ssthresh;
}

void
tcp_cc_rto(struct sonde_sock *s)
{
	struct tcp_cb *tp = &s->tcp;

	/* RFC 5681 3.1 (4): ssthresh from the flight, once per timeout
	 * series; one segment of window. */
	if (tp->backoff <= 1)
		tp->ssthresh = tcp_cc_reduce(s);
	tp->cwnd = tp->mss;
}

/* --- the scoreboard --- */

/* Drops what snd_una has passed. */
void
tcp_sack_trim(struct sonde_sock *s)
{
	struct tcp_cb *tp = &s->tcp;
	unsigned j = 0;

	tp->sacked_bytes = 0;
	for (unsigned i = 0; i < tp->n_sacked; i++) {
		struct tcp_sack_range r = tp->sacked[i];

		if (SEQ_LEQ(r.end, tp->snd_una))
			continue;
		if (SEQ_LT(r.start, tp->snd_una))
			r.start = tp->snd_una;
		tp->sacked[j++] = r;
		tp->sacked_bytes += r.end - r.start;
	}
	tp->n_sacked = (uint8_t)j;
}

/* One block into the sorted, disjoint list (merging what it touches). */
static void
tcp_sack_add(struct tcp_cb *tp, uint32_t start, uint32_t end)
{
	struct tcp_sack_range out[TCP_SACK_HOLES + 1];
	unsigned n = 0, i = 0;

	while (i < tp->n_sacked && SEQ_LT(tp->sacked[i].end, start))
		out[n++] = tp->sacked[i++];
	while (i < tp->n_sacked && SEQ_LEQ(tp->sacked[i].start, end)) {
		start = SEQ_MIN(start, tp->sacked[i].start);
		end = SEQ_MAX(end, tp->sacked[i].end);
		i++;
	}
	out[n++] = (struct tcp_sack_range){ start, end };
	while (i < tp->n_sacked && n < TCP_SACK_HOLES)
		out[n++] = tp->sacked[i++];
	/* Full: the highest range goes (the lowest matter for recovery). */
	if (n > TCP_SACK_HOLES)
		n = TCP_SACK_HOLES;
	memcpy(tp->sacked, out, n * sizeof(out[0]));
	tp->n_sacked = (uint8_t)n;
}

/* Bytes not SACKed in [from, to). */
static uint32_t tcp_unsacked(const struct tcp_cb *tp, uint32_t from, uint32_t to);

uint32_t
tcp_sack_update(struct sonde_sock *s, const struct tcp_opts *o)
{
	struct tcp_cb *tp = &s->tcp;
	uint32_t newly = 0;

	for (unsigned i = 0; i < o->n_sack; i++) {
		uint32_t a = o->sack[i].start, b = o->sack[i].end;

		/* RFC 2018 has no use for blocks outside what is in flight
		 * (a D-SACK below snd_una, RFC 2883, says a duplicate). */
		if (!SEQ_LT(a, b) || SEQ_LEQ(b, tp->snd_una) || SEQ_GT(b, tp->snd_max))
			continue;
		a = SEQ_MAX(a, tp->snd_una);
		newly += tcp_unsacked(tp, a, b);
		tcp_sack_add(tp, a, b);
	}
	tcp_sack_trim(s);
	return newly;
}

bool
tcp_sacked(const struct sonde_sock *s, uint32_t seq)
{
	const struct tcp_cb *tp = &s->tcp;

	for (unsigned i = 0; i < tp->n_sacked; i++)
		if (SEQ_GEQ(seq, tp->sacked[i].start) && SEQ_LT(seq, tp->sacked[i].end))
			return true;
	return false;
}

/* Below this, what is not SACKed is lost (RFC 6675 4 IsLost: DupThresh
 * discontiguous SACKed ranges above, or more than (DupThresh - 1) * SMSS
 * bytes SACKed above). */
static uint32_t
tcp_lost_edge(const struct tcp_cb *tp)
{
	uint32_t bytes = 0, edge = tp->snd_una;

	for (unsigned i = tp->n_sacked; i-- > 0;) {
		unsigned ranges = tp->n_sacked - i;

		bytes += tp->sacked[i].end - tp->sacked[i].start;
		if (ranges >= TCP_DUPTHRESH || bytes > (TCP_DUPTHRESH - 1) * (uint32_t)tp->mss) {
			edge = tp->sacked[i].start;
			break;
		}
	}
	return edge;
}

bool
tcp_sack_lost_una(const struct sonde_sock *s)
{
	const struct tcp_cb *tp = &s->tcp;

	return SEQ_GT(tcp_lost_edge(tp), tp->snd_una);
}

static uint32_t
tcp_unsacked(const struct tcp_cb *tp, uint32_t from, uint32_t to)
{
	uint32_t n = SEQ_GT(to, from) ? to - from : 0;

	for (unsigned i = 0; i < tp->n_sacked && n > 0; i++) {
		uint32_t a = SEQ_MAX(tp->sacked[i].start, from), b = SEQ_MIN(tp->sacked[i].end, to);

		if (SEQ_LT(a, b))
			n -= b - a;
	}
	return n;
}

/* RFC 6675 4 SetPipe(): what is in flight is neither SACKed nor lost, or
 * was retransmitted.  Without SACK each duplicate ACK stands for a
 * segment that left the network (RFC 5681 3.2's window inflation, put
 * the other way). */
uint32_t
tcp_pipe(const struct sonde_sock *s)
{
	const struct tcp_cb *tp = &s->tcp;
	uint32_t flight = tp->snd_max - tp->snd_una, edge, lost, rtx;

	if (!(tp->tf & TF_SACK)) {
		uint32_t left = (uint32_t)tp->dupacks * tp->mss;
		uint32_t pipe = flight > left ? flight - left : 0;

		/* The retransmission of snd_una is in flight too. */
		if (SEQ_GT(tp->high_rxt, tp->snd_una))
			pipe += RTE_MIN(tp->high_rxt - tp->snd_una, (uint32_t)tp->mss);
		return pipe;
	}
	edge = tcp_lost_edge(tp);
	lost = tcp_unsacked(tp, tp->snd_una, edge);
	rtx = SEQ_GT(tp->high_rxt, tp->snd_una)
		      ? tcp_unsacked(tp, tp->snd_una, SEQ_MIN(tp->high_rxt, edge))
		      : 0;
	return flight - tp->sacked_bytes - lost + rtx;
}

/* RFC 6675 4 NextSeg() (1): the first sequence above HighRxt that is
 * lost and not SACKed; without SACK (RFC 6582), snd_una once per partial
 * ACK. */
bool
tcp_next_lost(const struct sonde_sock *s, uint32_t *seq, uint32_t *len)
{
	const struct tcp_cb *tp = &s->tcp;
	uint32_t from = SEQ_MAX(tp->high_rxt, tp->snd_una), edge;

	if (!(tp->tf & TF_SACK)) {
		if (SEQ_GT(tp->high_rxt, tp->snd_una))
			return false;
		*seq = tp->snd_una;
		*len = RTE_MIN(tp->snd_max - tp->snd_una, (uint32_t)tp->mss);
		return *len > 0;
	}
	edge = tcp_lost_edge(tp);
	for (unsigned i = 0; i <= tp->n_sacked; i++) {
		uint32_t hole_end = i < tp->n_sacked ? tp->sacked[i].start : tp->snd_max;

		if (!SEQ_LT(from, edge))
			return false;
		if (SEQ_LT(from, hole_end)) {
			uint32_t end = SEQ_MIN(hole_end, edge);

			if (SEQ_LT(from, end)) {
				*seq = from;
				*len = RTE_MIN(end - from, (uint32_t)tp->mss);
				return true;
			}
		}
		if (i < tp->n_sacked && SEQ_LT(from, tp->sacked[i].end))
			from = tp->sacked[i].end;
	}
	return false;
}
