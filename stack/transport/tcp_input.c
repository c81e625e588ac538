/*
 * tcp_input.c: segment arrival (RFC 9293 3.10.7), a run of segments at a
 * time from IP: each is checked and parsed, matched to its connection
 * (sock_lookup: 4-tuple, then listener), and taken by the handler of
 * its connection's state: no connection (3.10.7.1), LISTEN (3.10.7.2,
 * with SYN cookies, RFC 4987), SYN-SENT (3.10.7.3), the others
 * (3.10.7.4, with RFC 5961's challenge ACKs, RFC 7323's PAWS, RFC 6191
 * in TIME-WAIT).  What the run owes back (ACKs, the data they let go)
 * is sent once the run is through, a burst for all its connections.
 *
 * Every segment TCP does not keep is dropped with a reason (pkt_drop),
 * except those it consumed: a pure ACK, a RST or SYN it acted on.
 */
#include <errno.h>
#include <string.h>

#include <rte_mbuf.h>
#include <rte_random.h>

#include "ip.h"
#include "probes.h"
#include "sock.h"
#include "tcp.h"
#include "transport.h"

#define TCP_PAWS_IDLE_MS (24u * 24 * 3600 * 1000) /* RFC 7323 5.5: 24 days */
#define TCP_F_FIN 0x80				  /* pkt_meta spare: an out-of-order FIN */

/* --- parsing --- */

/* RFC 9293 3.1 and 3.2: the options; a malformed one ends the walk
 * (what was read stays). */
static void
tcp_opts_parse(const uint8_t *p, unsigned len, bool syn, struct tcp_opts *o)
{
	unsigned i = 0;

	while (i < len) {
		uint8_t kind = p[i], olen;

		if (kind == 0)
			break;
		if (kind == 1) {
			i++;
			continue;
		}
		if (i + 1 >= len || (olen = p[i + 1]) < 2 || i + olen > len)
			break;
		switch (kind) {
		case 2:
			if (olen == 4 && syn)
				o->mss = wire_get16(p + i + 2);
			break;
		case 3:
			if (olen == 3 && syn)
				o->ws = RTE_MIN(p[i + 2],
						(uint8_t)TCP_MAX_WSCALE); /* RFC 7323 2.3 */
			break;
		case 4:
			if (olen == 2 && syn)
				o->sack_ok = true;
			break;
		case 5:
			for (unsigned b = 0; b < (olen - 2u) / 8 && o->n_sack < TCP_SACK_BLOCKS;
			     b++) {
				o->sack[o->n_sack].start = wire_get32(p + i + 2 + 8 * b);
				o->sack[o->n_sack++].end = wire_get32(p + i + 6 + 8 * b);
			}
			break;
		case 8:
			if (olen == 10) {
				o->ts = true;
				o->tsval = wire_get32(p + i + 2);
				o->tsecr = wire_get32(p + i + 6);
			}
			break;
		default: break;
		}
		i += olen;
	}
}

/* The segment in m (data at the IP header): 0 or a drop reason. */
static int
tcp_parse(struct rte_mbuf *m, struct tcp_seg *sg, bool v6)
{
	const uint8_t *ip = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t off = pkt_meta(m)->l3_len, len = rte_pktmbuf_pkt_len(m) - off, psum;
	uint64_t ck = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;
	const uint8_t *th;
	uint16_t sum;

	if (unlikely(rte_pktmbuf_data_len(m) < off + TCP_HDR_LEN))
		return DROP_TCP_TRUNCATED;
	th = pkt_l4(m);
	sg->hlen = (uint8_t)((th[12] >> 4) * 4);
	if (unlikely(sg->hlen < TCP_HDR_LEN || sg->hlen > len))
		return DROP_TCP_BAD_OFFSET;
	if (unlikely(rte_pktmbuf_data_len(m) < off + sg->hlen))
		return DROP_TCP_TRUNCATED;
	if (ck == RTE_MBUF_F_RX_L4_CKSUM_BAD)
		return DROP_TCP_BAD_CHECKSUM;
	if (ck != RTE_MBUF_F_RX_L4_CKSUM_GOOD) {
		if (v6)
			psum = wire_pseudo6_sum(ip + 8, ip + 24, len, IPPROTO_TCP);
		else
			psum = wire_pseudo4_sum(wire_load32(ip + 12), wire_load32(ip + 16),
						(uint16_t)len, IPPROTO_TCP);
		if (pkt_sum(m, off, len, psum, &sum) != 0 || sum != 0xffff)
			return DROP_TCP_BAD_CHECKSUM;
	}
	sg->sport = wire_get16(th);
	sg->dport = wire_get16(th + 2);
	sg->seq = wire_get32(th + 4);
	sg->ack = wire_get32(th + 8);
	sg->flags = th[13];
	sg->wnd = wire_get16(th + 14);
	sg->len = len - sg->hlen;
	sg->ecn = v6 ? (uint8_t)(wire_get32(ip) >> 20 & 3) : ip[1] & 3;
	memset(&sg->o, 0, sizeof(sg->o));
	sg->o.ws = 0xff;
	if (sg->hlen > TCP_HDR_LEN)
		tcp_opts_parse(th + TCP_HDR_LEN, sg->hlen - TCP_HDR_LEN, sg->flags & TH_SYN,
			       &sg->o);
	/* No sane segment has both: RFC 9293 leaves them undefined, and
	 * every stack drops them (they are scans). */
	if ((sg->flags & (TH_SYN | TH_FIN)) == (TH_SYN | TH_FIN) ||
	    (sg->flags & (TH_SYN | TH_RST)) == (TH_SYN | TH_RST))
		return DROP_TCP_BAD_FLAGS;
	return 0;
}

/* --- small things every state uses --- */

/* The ACK of RFC 5961 (3.2, 4.2, 5.2), rate limited (RFC 5961 7). */
static void
tcp_challenge_ack(struct sonde_sock *s)
{
	struct sonde_stack *st = s->st;

	if (!ratelimit_ok(&st->sk->challenge_rl, st->now))
		return;
	st->stats.tcp_challenge_acks++;
	s->tcp.tf |= TF_ACKNOW;
}

/* s has work for the end of the run (its output). */
static void
tcp_touch(struct sonde_sock *s)
{
	struct sock_state *sk = s->st->sk;

	for (unsigned i = 0; i < sk->n_touched; i++)
		if (sk->touched[i] == s)
			return;
	if (sk->n_touched == SONDE_BURST) {
		tcp_output(s);
		return;
	}
	sk->touched[sk->n_touched++] = s;
}

/* The options of a SYN (or SYN-ACK) agreed on (RFC 7323 1.3, 2.2; RFC
 * 2018 2; RFC 9293 3.7.1). */
static void
tcp_syn_options(struct sonde_sock *s, const struct tcp_seg *sg)
{
	struct tcp_cb *tp = &s->tcp;
	uint16_t route_mss = tcp_mss_for(s->st, s->af, s->key.raddr);

	tp->peer_mss = sg->o.mss ? sg->o.mss : (s->af == 6 ? TCP_DEFAULT_MSS6 : TCP_DEFAULT_MSS);
	tp->rcv_mss = route_mss;
	if (sg->o.ws != 0xff) {
		tp->tf |= TF_WS;
		tp->snd_wscale = sg->o.ws;
		while (tp->rcv_wscale < TCP_MAX_WSCALE &&
		       ((uint32_t)UINT16_MAX << tp->rcv_wscale) < s->rcvbuf)
			tp->rcv_wscale++;
	} else {
		tp->tf &= ~TF_WS;
		tp->snd_wscale = tp->rcv_wscale = 0;
	}
	if (sg->o.sack_ok)
		tp->tf |= TF_SACK;
	else
		tp->tf &= ~TF_SACK;
	if (sg->o.ts) {
		tp->tf |= TF_TS;
		tp->ts_recent = sg->o.tsval;
		tp->ts_recent_age = tcp_ts_now(tp, s->st->now);
		tp->ts_len = 12;
	} else {
		tp->tf &= ~TF_TS;
		tp->ts_len = 0;
	}
	tp->mss = (uint16_t)(RTE_MIN(tp->peer_mss, route_mss) - tp->ts_len);
	if (tp->mss < 64)
		tp->mss = 64;
}

/* --- no connection (RFC 9293 3.10.7.1) --- */

static void
tcp_no_conn(struct sonde_stack *st, struct rte_mbuf *m, const struct tcp_seg *sg)
{
	/* RFC 1122 4.2.3.10: nothing to a broadcast or multicast. */
	if (pkt_meta(m)->flags & PKT_GROUP) {
		pkt_drop(st, m, DROP_TCP_BAD_ADDRESS);
		return;
	}
	tcp_respond_rst(st, m, sg);
	pkt_drop(st, m, DROP_TCP_NO_SOCKET);
}

/* --- LISTEN (RFC 9293 3.10.7.2) --- */

static void
tcp_listen_syn(struct sonde_sock *ls, struct rte_mbuf *m, const struct tcp_seg *sg,
	       const struct sock_key *k)
{
	struct sonde_stack *st = ls->st;
	struct sonde_sock *s;
	struct tcp_cb *tp;

	if (ls->tcp.acc_len >= ls->tcp.backlog) {
		pkt_drop(st, m, DROP_TCP_BACKLOG_FULL);
		return;
	}
	s = ls->tcp.syn_len < ls->tcp.backlog ? tcp_child_new(ls, k) : NULL;
	if (s == NULL) {
		/* RFC 4987 3.6: the half-open queue is full: answer
		 * statelessly, the state in the cookie. */
		struct sonde_sock tmp;
		uint16_t mss_in = sg->o.mss ? sg->o.mss : TCP_DEFAULT_MSS, mss;

		memset(&tmp, 0, sizeof(tmp));
		tmp.st = st;
		tmp.af = ls->af;
		tmp.proto = IPPROTO_TCP;
		tmp.key = *k;
		tmp.ifhint = pkt_meta(m)->ifindex;
		tmp.rcvbuf = ls->rcvbuf;
		tmp.cid = 0; /* no connection: tcp_send_seg names none */
		tmp.tcp.state = TCPS_SYN_RECEIVED;
		tcp_seq_init_snd(&tmp.tcp, tcp_cookie_make(st, k, sg->seq, mss_in, &mss));
		tcp_seq_init_rcv(&tmp.tcp, sg->seq);
		tmp.tcp.rcv_mss = tcp_mss_for(st, ls->af, k->raddr);
		tcp_send_seg(&tmp, tmp.tcp.iss, 0, TH_SYN | TH_ACK, false);
		st->stats.tcp_syncookies_sent++;
		rte_pktmbuf_free(m);
		return;
	}
	tp = &s->tcp;
	if (ipv6_addr_is_linklocal(k->raddr) && s->af == 6)
		s->ifhint = pkt_meta(m)->ifindex;
	tcp_seq_init_rcv(tp, sg->seq);
	tp->ts_offset = (uint32_t)rte_rand();
	tcp_syn_options(s, sg);
	/* RFC 3168 6.1.1: ECE and CWR on the SYN ask for ECN. */
	if ((sg->flags & (TH_ECE | TH_CWR)) == (TH_ECE | TH_CWR) && tp->tf & TF_WANT_ECN)
		tp->tf |= TF_ECN;
	tcp_seq_init_snd(tp, tcp_isn(st, k));
	tp->snd_wnd = sg->wnd; /* RFC 7323 2.2: a SYN's is not scaled */
	tp->snd_max_wnd = tp->snd_wnd;
	tcp_cc_init(s);
	if (pkt_meta(m)->ifindex == st->lo->index)
		tp->tf |= TF_LOCAL;
	tcp_set_state(s, TCPS_SYN_RECEIVED);
	st->stats.tcp_passive_opens++;
	tcp_output(s);
	rte_pktmbuf_free(m);
}

/* An ACK to a listener may finish a handshake whose SYN got a cookie:
 * the connection, made now, ESTABLISHED; NULL if not (or, with *gone,
 * the segment dropped). */
static struct sonde_sock *
tcp_listen_cookie(struct sonde_sock *ls, struct rte_mbuf *m, const struct tcp_seg *sg,
		  const struct sock_key *k, bool *gone)
{
	struct sonde_stack *st = ls->st;
	uint16_t mss;
	struct sonde_sock *s;
	struct tcp_cb *tp;

	if (sg->flags & (TH_SYN | TH_RST))
		return NULL;
	mss = tcp_cookie_check(st, k, sg->seq - 1, sg->ack - 1);
	if (mss == 0)
		return NULL;
	if (ls->tcp.acc_len >= ls->tcp.backlog || (s = tcp_child_new(ls, k)) == NULL) {
		pkt_drop(st, m, DROP_TCP_BACKLOG_FULL);
		*gone = true;
		return NULL;
	}
	st->stats.tcp_syncookies_ok++;
	tp = &s->tcp;
	tp->tf |= TF_COOKIE;
	if (s->af == 6 && ipv6_addr_is_linklocal(k->raddr))
		s->ifhint = pkt_meta(m)->ifindex;
	tcp_seq_init_rcv(tp, sg->seq - 1);
	tcp_seq_init_snd(tp, sg->ack - 1);
	tp->snd_una = tp->snd_nxt = tp->snd_max = sg->ack;
	tp->peer_mss = mss;
	tp->rcv_mss = tcp_mss_for(st, s->af, k->raddr);
	tp->mss = RTE_MIN(mss, tp->rcv_mss);
	tp->rcv_adv = tp->rcv_nxt + RTE_MIN(s->rcvbuf, 65535u);
	tp->snd_wnd = sg->wnd;
	tp->snd_max_wnd = tp->snd_wnd;
	tp->snd_wl1 = sg->seq;
	tp->snd_wl2 = sg->ack;
	tp->high_rxt = tp->recover = tp->ecn_seq = sg->ack;
	tcp_cc_init(s);
	st->stats.tcp_passive_opens++;
	tcp_set_state(s, TCPS_SYN_RECEIVED);
	pkt_meta(m)->conn = s;
	probe_tcp(st, PROBE_TCP_ACCEPT_ESTABLISHED, m, s, 0);
	tcp_established(s);
	return s;
}

static struct sonde_sock *
tcp_listen_input(struct sonde_sock *ls, struct rte_mbuf *m, const struct tcp_seg *sg,
		 const struct sock_key *k)
{
	struct sonde_stack *st = ls->st;

	if (sg->flags & TH_RST) {
		pkt_drop(st, m, DROP_TCP_STATE); /* RFC 9293: a RST to LISTEN is ignored */
		return NULL;
	}
	if (sg->flags & TH_ACK) {
		bool gone = false;
		struct sonde_sock *s = tcp_listen_cookie(ls, m, sg, k, &gone);

		if (s != NULL || gone)
			return s;
		if (ls->tcp.syn_len >= ls->tcp.backlog) {
			st->stats.tcp_syncookies_failed++;
			tcp_respond_rst(st, m, sg);
			pkt_drop(st, m, DROP_TCP_BAD_COOKIE);
			return NULL;
		}
		tcp_respond_rst(st, m, sg);
		pkt_drop(st, m, DROP_TCP_BAD_ACK);
		return NULL;
	}
	if (!(sg->flags & TH_SYN)) {
		pkt_drop(st, m, DROP_TCP_BAD_FLAGS);
		return NULL;
	}
	if (pkt_meta(m)->flags & PKT_GROUP) {
		pkt_drop(st, m, DROP_TCP_BAD_ADDRESS);
		return NULL;
	}
	tcp_listen_syn(ls, m, sg, k);
	return NULL;
}

/* --- SYN-SENT (RFC 9293 3.10.7.3) --- */

static void
tcp_synsent_input(struct sonde_sock *s, struct rte_mbuf *m, const struct tcp_seg *sg)
{
	struct sonde_stack *st = s->st;
	struct tcp_cb *tp = &s->tcp;
	bool ack_ok =
		(sg->flags & TH_ACK) && SEQ_GT(sg->ack, tp->iss) && SEQ_LEQ(sg->ack, tp->snd_max);

	if (sg->flags & TH_ACK && !ack_ok) {
		tcp_respond_rst(st, m, sg);
		pkt_drop(st, m, DROP_TCP_BAD_ACK);
		return;
	}
	if (sg->flags & TH_RST) {
		if (!ack_ok) {
			pkt_drop(st, m, DROP_TCP_BAD_RST);
			return;
		}
		probe_tcp(st, PROBE_TCP_CONNECT_REFUSED, m, s, 0);
		st->stats.tcp_attempt_fails++;
		tcp_closed(s, -ECONNREFUSED);
		rte_pktmbuf_free(m);
		return;
	}
	if (!(sg->flags & TH_SYN)) {
		pkt_drop(st, m, DROP_TCP_BAD_FLAGS);
		return;
	}
	tcp_seq_init_rcv(tp, sg->seq);
	tcp_syn_options(s, sg);
	if (!(tp->tf & TF_WS))
		tp->rcv_wscale = 0;
	if ((sg->flags & (TH_ECE | TH_CWR)) == TH_ECE && tp->tf & TF_WANT_ECN)
		tp->tf |= TF_ECN;
	tp->snd_wnd = sg->wnd;
	tp->snd_max_wnd = tp->snd_wnd;
	tp->snd_wl1 = sg->seq;
	tp->snd_wl2 = sg->ack;
	tcp_cc_init(s);
	if (!ack_ok) {
		/* Simultaneous open: our SYN again, with an ACK. */
		tcp_set_state(s, TCPS_SYN_RECEIVED);
		tp->snd_nxt = tp->iss;
		tcp_touch(s);
		rte_pktmbuf_free(m);
		return;
	}
	tp->snd_una = sg->ack;
	if (tp->tf & TF_TS && sg->o.tsecr)
		tcp_rtt_sample(s, (tcp_ts_now(tp, st->now) - sg->o.tsecr) * 1000);
	else if (tp->syn_rtx == 0)
		tcp_rtt_sample(s, (uint32_t)((st->now - tp->start_ns) / 1000));
	tp->backoff = 0;
	probe_tcp(st, PROBE_TCP_CONNECT_ESTABLISHED, m, s, 0);
	tcp_established(s);
	tcp_timer_stop(s);
	tp->tf |= TF_ACKNOW;
	tcp_touch(s);
	rte_pktmbuf_free(m); /* data on a SYN-ACK is rare: the peer sends it again */
}

/* --- synchronized states (RFC 9293 3.10.7.4) --- */

/* RFC 9293 3.10.7.4 "first check sequence number": whether any of the
 * segment is in the window we offered. */
static bool
tcp_seq_ok(const struct tcp_cb *tp, const struct tcp_seg *sg)
{
	uint32_t wnd = SEQ_GT(tp->rcv_adv, tp->rcv_nxt) ? tp->rcv_adv - tp->rcv_nxt : 0;
	uint32_t len = sg->len + !!(sg->flags & TH_SYN) + !!(sg->flags & TH_FIN);

	if (len == 0)
		return wnd == 0 ? sg->seq == tp->rcv_nxt
				: SEQ_GEQ(sg->seq, tp->rcv_nxt) &&
					  SEQ_LT(sg->seq, tp->rcv_nxt + wnd);
	if (wnd == 0)
		return false;
	return (SEQ_GEQ(sg->seq, tp->rcv_nxt) && SEQ_LT(sg->seq, tp->rcv_nxt + wnd)) ||
	       (SEQ_GEQ(sg->seq + len - 1, tp->rcv_nxt) &&
		SEQ_LT(sg->seq + len - 1, tp->rcv_nxt + wnd));
}

/* Our SACK blocks from the out-of-order queue: the one holding seq (the
 * newest) first (RFC 2018 4), then the others from the lowest. */
static void
tcp_rcv_sack_update(struct tcp_cb *tp, uint32_t newest)
{
	struct tcp_sack_range r[TCP_SACK_BLOCKS + 1];
	unsigned n = 0, first = UINT32_MAX;
	struct rte_mbuf *m = tp->ooo_head;

	while (m != NULL) {
		uint32_t a = pkt_meta(m)->scratch[2], b = a + m->pkt_len;

		for (m = pkt_qnext(m); m != NULL && pkt_meta(m)->scratch[2] == b; m = pkt_qnext(m))
			b += m->pkt_len;
		if (SEQ_GEQ(newest, a) && SEQ_LT(newest, b))
			first = n;
		if (n < TCP_SACK_BLOCKS + 1)
			r[n++] = (struct tcp_sack_range){ a, b };
	}
	tp->n_rcv_sack = 0;
	if (first != UINT32_MAX && first < n)
		tp->rcv_sack[tp->n_rcv_sack++] = r[first];
	for (unsigned i = 0; i < n && tp->n_rcv_sack < TCP_SACK_BLOCKS; i++)
		if (i != first)
			tp->rcv_sack[tp->n_rcv_sack++] = r[i];
}

/* Appends payload m (data at it, len bytes) to what the application
 * reads: into the room left in the last mbuf when it is small. */
static void
tcp_rq_add(struct sonde_sock *s, struct rte_mbuf *m, uint32_t len)
{
	struct rte_mbuf *t = s->rq_tail;

	if (t != NULL && m->nb_segs == 1 && t->nb_segs == 1 && RTE_MBUF_DIRECT(t) &&
	    rte_mbuf_refcnt_read(t) == 1 && len <= rte_pktmbuf_tailroom(t) && len <= 512) {
		memcpy(rte_pktmbuf_mtod_offset(t, uint8_t *, t->data_len),
		       rte_pktmbuf_mtod(m, const uint8_t *), len);
		t->data_len = (uint16_t)(t->data_len + len);
		t->pkt_len += len;
		s->rq_bytes += len;
		rte_pktmbuf_free(m);
		return;
	}
	sock_rq_append(s, m, len);
}

/* Cuts a payload to len bytes from its start (the window's end). */
static void
tcp_m_trim(struct rte_mbuf *m, uint32_t len)
{
	struct rte_mbuf *seg = m, *tail;
	uint32_t left = len;

	if (m->pkt_len <= len)
		return;
	m->nb_segs = 1;
	while (left > seg->data_len) {
		left -= seg->data_len;
		seg = seg->next;
		m->nb_segs++;
	}
	seg->data_len = (uint16_t)left;
	tail = seg->next;
	seg->next = NULL;
	rte_pktmbuf_free(tail);
	m->pkt_len = len;
}

/* The FIN, in order (RFC 9293 3.10.7.4 "eighth, check the FIN bit"). */
static void
tcp_fin_in(struct sonde_sock *s)
{
	struct tcp_cb *tp = &s->tcp;

	if (tp->tf & TF_RCVD_FIN)
		return;
	tp->tf |= TF_RCVD_FIN | TF_ACKNOW;
	tp->rcv_nxt++;
	switch (tp->state) {
	case TCPS_SYN_RECEIVED:
	case TCPS_ESTABLISHED: tcp_set_state(s, TCPS_CLOSE_WAIT); break;
	case TCPS_FIN_WAIT_1:
		if (tp->tf & TF_FIN_ACKED)
			tcp_time_wait(s);
		else
			tcp_set_state(s, TCPS_CLOSING);
		break;
	case TCPS_FIN_WAIT_2: tcp_time_wait(s); break;
	default: break;
	}
	sock_post(s, SONDE_EV_IN | SONDE_EV_HUP);
}

/* Out-of-order segments that now follow rcv_nxt, in. */
static void
tcp_ooo_pull(struct sonde_sock *s)
{
	struct tcp_cb *tp = &s->tcp;

	while (tp->ooo_head != NULL) {
		struct rte_mbuf *m = tp->ooo_head;
		uint32_t seq = pkt_meta(m)->scratch[2], len = m->pkt_len, segs = m->nb_segs;
		uint32_t end = seq + len; /* where its FIN is */
		bool fin = pkt_meta(m)->spare & TCP_F_FIN;

		if (SEQ_GT(seq, tp->rcv_nxt))
			break;
		tp->ooo_head = pkt_qnext(m);
		tp->ooo_bytes -= len;
		tp->ooo_mbufs -= segs;
		sock_mbufs_sub(s->st, segs);
		if (SEQ_LEQ(seq + len, tp->rcv_nxt)) {
			rte_pktmbuf_free(m);
		} else {
			uint32_t cut = tp->rcv_nxt - seq;

			m = tcp_m_cut(m, cut);
			len -= cut;
			tp->rcv_nxt += len;
			tp->bytes_received += len;
			tcp_rq_add(s, m, len);
		}
		if (fin && end == tp->rcv_nxt)
			tcp_fin_in(s);
	}
}

/* The last out-of-order segment starting at or before seq, or NULL. */
static struct rte_mbuf *
tcp_ooo_prev(const struct tcp_cb *tp, uint32_t seq)
{
	struct rte_mbuf *prev = NULL, *m = tp->ooo_head;

	for (; m != NULL && SEQ_LEQ(pkt_meta(m)->scratch[2], seq); m = pkt_qnext(m))
		prev = m;
	return prev;
}

/* Whether [seq, seq + len) is all in the out-of-order queue already. */
static bool
tcp_ooo_covered(const struct tcp_cb *tp, uint32_t seq, uint32_t len)
{
	struct rte_mbuf *prev = tcp_ooo_prev(tp, seq);

	return prev != NULL && SEQ_GEQ(pkt_meta(prev)->scratch[2] + prev->pkt_len, seq + len);
}

/* Into the out-of-order queue, sorted, without overlap (the new segment,
 * not all there already, cut to the hole it fills). */
static void
tcp_ooo_insert(struct sonde_sock *s, struct rte_mbuf *m, uint32_t seq, bool fin)
{
	struct tcp_cb *tp = &s->tcp;
	struct rte_mbuf *prev = tcp_ooo_prev(tp, seq);
	struct rte_mbuf *next = prev != NULL ? pkt_qnext(prev) : tp->ooo_head;
	uint32_t len = m->pkt_len;

	if (prev != NULL) {
		uint32_t pend = pkt_meta(prev)->scratch[2] + prev->pkt_len;

		if (SEQ_GT(pend, seq)) {
			m = tcp_m_cut(m, pend - seq);
			len -= pend - seq;
			seq = pend;
		}
	}
	if (next != NULL) {
		uint32_t nseq = pkt_meta(next)->scratch[2];

		if (SEQ_GT(seq + len, nseq)) {
			tcp_m_trim(m, nseq - seq);
			len = nseq - seq;
			fin = false;
		}
	}
	pkt_meta(m)->scratch[2] = seq;
	pkt_meta(m)->spare = fin ? TCP_F_FIN : 0;
	pkt_set_qnext(m, next);
	if (prev != NULL)
		pkt_set_qnext(prev, m);
	else
		tp->ooo_head = m;
	tp->ooo_bytes += len;
	tp->ooo_mbufs += m->nb_segs;
	sock_mbufs_add(s->st, m->nb_segs);
}

/* RFC 9293 3.10.7.4 "seventh, process the segment text": m's payload
 * (data at the IP header) into the stream or the out-of-order queue.
 * What is dropped goes while m still starts at its IP header, for the
 * drop probe. */
static void
tcp_data_in(struct sonde_sock *s, struct rte_mbuf *m, const struct tcp_seg *sg)
{
	struct sonde_stack *st = s->st;
	struct tcp_cb *tp = &s->tcp;
	uint32_t seq = sg->seq, len = sg->len, end = tp->rcv_adv, cut;
	bool fin = sg->flags & TH_FIN, hole;

	if (s->flags & SOCK_F_SHUT_RD && len > 0) {
		/* RFC 9293 3.10.7.4 / RFC 2525 2.17: data nobody will read. */
		pkt_drop(st, m, DROP_TCP_SHUT_RD);
		tp->tf |= TF_ACKNOW;
		return;
	}
	if (len == 0) {
		rte_pktmbuf_free(m);
		if (fin && seq == tp->rcv_nxt)
			tcp_fin_in(s);
		return;
	}
	/* What we had already, and what is past the window, off. */
	if (SEQ_LT(seq, tp->rcv_nxt)) {
		uint32_t d = tp->rcv_nxt - seq;

		if (d >= len) {
			tp->tf |= TF_ACKNOW;
			if (fin && seq + len == tp->rcv_nxt)
				tcp_fin_in(s);
			pkt_drop(st, m, DROP_TCP_DUPLICATE);
			return;
		}
		seq += d;
		len -= d;
	}
	if (SEQ_LT(end, tp->rcv_nxt))
		end = tp->rcv_nxt;
	if (SEQ_GT(seq + len, end)) {
		len = SEQ_GT(end, seq) ? end - seq : 0;
		fin = false;
		if (len == 0) {
			tp->tf |= TF_ACKNOW;
			pkt_drop(st, m, DROP_TCP_OUT_OF_WINDOW);
			return;
		}
	}
	if (!sock_mbufs_ok(st->sk, m->nb_segs)) {
		tp->tf |= TF_ACKNOW;
		pkt_drop(st, m, DROP_SOCK_MBUFS);
		return;
	}
	if (seq != tp->rcv_nxt && tcp_ooo_covered(tp, seq, len)) {
		tp->tf |= TF_ACKNOW;
		pkt_drop(st, m, DROP_TCP_DUPLICATE);
		return;
	}
	if (seq != tp->rcv_nxt && tp->ooo_bytes + len > s->rcvbuf) {
		tp->tf |= TF_ACKNOW;
		pkt_drop(st, m, DROP_TCP_OOO_FULL);
		return;
	}
	/* The headers and what we had, off the front; past the window, off
	 * the back. */
	cut = pkt_meta(m)->l3_len + sg->hlen + (seq - sg->seq);
	m = tcp_m_cut(m, cut);
	tcp_m_trim(m, len);
	if (seq != tp->rcv_nxt) {
		tcp_ooo_insert(s, m, seq, fin);
		tcp_rcv_sack_update(tp, seq);
		/* RFC 5681 4.2: out of order, a duplicate ACK at once, one
		 * for each segment: the sender counts them (3.2), so the
		 * one ACK a run's end would send for a burst of them leaves
		 * it waiting for its timeout. */
		tcp_send_ack(s);
		return;
	}
	hole = tp->ooo_head != NULL;
	tp->rcv_nxt += len;
	tp->bytes_received += len;
	tcp_rq_add(s, m, len);
	if (fin)
		tcp_fin_in(s);
	if (hole) {
		tcp_ooo_pull(s);
		tcp_rcv_sack_update(tp, seq);
	}
	sock_post(s, SONDE_EV_IN);
	/* RFC 5681 4.2: an ACK at once when a hole is filled. */
	tcp_ack_owed(s, hole);
}

/* Data acknowledged: out of the send buffer.  The copy cursor stays
 * where it is if it is past what goes (a packet starting at or after n
 * is not touched), else it starts over. */
static void
tcp_sb_drop(struct sonde_sock *s, uint32_t n)
{
	struct tcp_cb *tp = &s->tcp;
	uint32_t freed;

	tp->sb_bytes -= n;
	tp->bytes_acked += n;
	if (tp->sb_cur != NULL && tp->sb_cur_off >= n && n > 0) {
		tp->sb_cur_off -= n;
	} else if (n > 0) {
		tp->sb_cur = NULL;
		tp->sb_cur_off = 0;
	}
	freed = tcp_queue_cut(&tp->sb_head, &tp->sb_tail, n);
	tp->sb_mbufs -= freed;
	sock_mbufs_sub(s->st, freed);
}

/* RFC 5681 3.2, RFC 6675 5: a loss, by duplicate ACKs or SACK. */
static void
tcp_enter_recovery(struct sonde_sock *s)
{
	struct tcp_cb *tp = &s->tcp;
	uint32_t len = RTE_MIN(tp->snd_max - tp->snd_una, (uint32_t)tp->mss);

	s->st->stats.tcp_fast_retrans++;
	tp->recover = tp->snd_max;
	tcp_cc_loss(s);
	tp->tf |= TF_RECOVERY;
	tp->tf &= ~TF_RTT;
	if (tp->tf & TF_ECN)
		tp->tf |= TF_CWR;
	tp->snd_nxt = tp->snd_max;
	if (len > 0 && tcp_send_seg(s, tp->snd_una, len, TH_ACK, true) == 0)
		tp->high_rxt = tp->snd_una + len;
	tcp_timer_arm(s, TT_RTX, (uint64_t)tp->rto_us * 1000);
}

/* RFC 9293 3.10.7.4 "fifth, check the ACK field", with RFC 5961 5.2;
 * false when the segment is done with (dropped or the connection gone). */
static bool
tcp_ack_in(struct sonde_sock *s, struct rte_mbuf *m, const struct tcp_seg *sg)
{
	struct sonde_stack *st = s->st;
	struct tcp_cb *tp = &s->tcp;
	uint32_t wnd = sg->wnd << tp->snd_wscale, newly = 0;
	bool advanced = SEQ_GT(sg->ack, tp->snd_una), dup;

	if (SEQ_GT(sg->ack, tp->snd_max)) {
		tp->tf |= TF_ACKNOW;
		pkt_drop(st, m, DROP_TCP_BAD_ACK);
		return false;
	}
	if (SEQ_LT(sg->ack, tp->snd_una - tp->snd_max_wnd)) {
		tcp_challenge_ack(s);
		pkt_drop(st, m, DROP_TCP_BAD_ACK);
		return false;
	}
	if (advanced) {
		uint32_t acked = sg->ack - tp->snd_una, data = acked;

		if (tp->tf & TF_FIN_SENT && sg->ack == tp->snd_max && !(tp->tf & TF_FIN_ACKED)) {
			tp->tf |= TF_FIN_ACKED;
			data--;
		}
		if (data > tp->sb_bytes)
			data = tp->sb_bytes;
		/* RFC 7323 4 (RTTM) or RFC 6298 with Karn's rule. */
		if (tp->tf & TF_TS && sg->o.ts && sg->o.tsecr)
			tcp_rtt_sample(s, (tcp_ts_now(tp, st->now) - sg->o.tsecr) * 1000);
		else if (tp->tf & TF_RTT && SEQ_GT(sg->ack, tp->rtt_seq)) {
			tcp_rtt_sample(s, (uint32_t)((st->now - tp->rtt_start) / 1000));
			tp->tf &= ~TF_RTT;
		}
		tp->backoff = 0;
		tcp_sb_drop(s, data);
		tp->snd_una = sg->ack;
		if (SEQ_LT(tp->snd_nxt, tp->snd_una))
			tp->snd_nxt = tp->snd_una;
		if (SEQ_LT(tp->high_rxt, tp->snd_una))
			tp->high_rxt = tp->snd_una;
		tcp_sack_trim(s);
		if (tp->tf & TF_RECOVERY) {
			if (SEQ_GEQ(sg->ack, tp->recover)) {
				/* RFC 6582 3.2 (3): full acknowledgment. */
				tp->tf &= ~TF_RECOVERY;
				tp->cwnd = tp->ssthresh;
				tp->dupacks = 0;
			} else if (!(tp->tf & TF_SACK)) {
				/* RFC 6582 3.2 (4): a partial one: the next
				 * hole goes at once, whatever the window (the
				 * pipe, every segment above it still counted in
				 * flight, would hold it until the timeout). */
				uint32_t len =
					RTE_MIN(tp->snd_max - tp->snd_una, (uint32_t)tp->mss);

				tp->dupacks = 0;
				tp->high_rxt = tp->snd_una;
				if (tcp_send_seg(s, tp->snd_una, len, TH_ACK, true) == 0)
					tp->high_rxt = tp->snd_una + len;
			}
		} else {
			tp->dupacks = 0;
			tcp_cc_ack(s, data);
		}
		if (data > 0 && tp->sb_bytes < s->sndbuf)
			sock_post(s, SONDE_EV_OUT);
		tcp_rearm_rtx(s);
	}
	/* RFC 6675 Update(), after the cumulative ACK: what the blocks SACK
	 * newly is what lies above it. */
	if (tp->tf & TF_SACK && sg->o.n_sack)
		newly = tcp_sack_update(s, &sg->o);
	/* A duplicate ACK: with SACK, RFC 6675 2's, one that SACKs data not
	 * SACKed before, whatever its cumulative ACK and window (Linux's
	 * window moves with nearly every ACK); without, RFC 5681 2's. */
	if (tp->tf & TF_SACK)
		dup = newly > 0;
	else
		dup = !advanced && sg->len == 0 && !(sg->flags & (TH_SYN | TH_FIN)) &&
		      wnd == tp->snd_wnd;
	if (dup && tp->snd_una != tp->snd_max)
		tp->dupacks = (uint8_t)RTE_MIN(tp->dupacks + 1, 255);
	/* RFC 6675 5 (1), (2), on every ACK: DupThresh duplicates, or
	 * snd_una lost by the scoreboard (RFC 5681 3.2 without SACK); not
	 * again before snd_una reaches the last recovery point (RFC 6675
	 * 5, 5.1; RFC 6582 3.2 (1)). */
	if (!(tp->tf & TF_RECOVERY) && tp->snd_una != tp->snd_max &&
	    SEQ_GEQ(tp->snd_una, tp->recover) &&
	    (tp->dupacks >= 3 || (tp->tf & TF_SACK && tcp_sack_lost_una(s))))
		tcp_enter_recovery(s);
	/* RFC 3168 6.1.2: ECE once a window (not in recovery: it reduced).
	 * The next window starts past snd_max at the reduction: an ACK of
	 * exactly that much still answers the old window's data (the peer
	 * echoes ECE until our CWR, which rides on the data after it). */
	if (tp->tf & TF_ECN && sg->flags & TH_ECE && !(tp->tf & TF_RECOVERY) &&
	    SEQ_GT(sg->ack, tp->ecn_seq)) {
		tcp_cc_loss(s);
		tp->tf |= TF_CWR;
		tp->ecn_seq = tp->snd_max;
	}
	/* RFC 9293 3.10.7.4: the window, from the newest segment. */
	if (SEQ_LT(tp->snd_wl1, sg->seq) ||
	    (tp->snd_wl1 == sg->seq && SEQ_LEQ(tp->snd_wl2, sg->ack))) {
		bool opened = tp->snd_wnd == 0 && wnd > 0;

		tp->snd_wnd = wnd;
		tp->snd_wl1 = sg->seq;
		tp->snd_wl2 = sg->ack;
		if (wnd > tp->snd_max_wnd)
			tp->snd_max_wnd = wnd;
		if (opened && tp->timer_kind == TT_PERSIST) {
			tp->backoff = 0;
			tcp_rearm_rtx(s);
		}
	}
	if (!(tp->tf & TF_FIN_ACKED))
		return true;
	switch (tp->state) {
	case TCPS_FIN_WAIT_1:
		tcp_set_state(s, TCPS_FIN_WAIT_2);
		tcp_rearm_rtx(s);
		break;
	case TCPS_CLOSING: tcp_time_wait(s); break;
	case TCPS_LAST_ACK:
		rte_pktmbuf_free(m);
		tcp_closed(s, 0);
		return false;
	default: break;
	}
	return true;
}

/* RFC 6191: a SYN to a TIME-WAIT connection opens a new one when it is
 * sure to be newer (timestamps, or else the sequence number). */
static bool
tcp_time_wait_syn(struct sonde_sock *s, const struct tcp_seg *sg)
{
	const struct tcp_cb *tp = &s->tcp;

	if ((sg->flags & (TH_SYN | TH_ACK)) != TH_SYN)
		return false;
	if (tp->tf & TF_TS && sg->o.ts)
		return SEQ_GT(sg->o.tsval, tp->ts_recent);
	return SEQ_GT(sg->seq, tp->rcv_nxt);
}

/* RFC 5961 3.2: a RST only with exactly the next sequence number. */
static void
tcp_rst_in(struct sonde_sock *s, struct rte_mbuf *m, const struct tcp_seg *sg)
{
	struct sonde_stack *st = s->st;
	struct tcp_cb *tp = &s->tcp;

	if (sg->seq != tp->rcv_nxt) {
		tcp_challenge_ack(s);
		pkt_drop(st, m, DROP_TCP_BAD_RST);
		return;
	}
	rte_pktmbuf_free(m);
	if (tp->state == TCPS_TIME_WAIT) /* RFC 1337: TIME-WAIT assassination */
		return;
	if (tp->state == TCPS_ESTABLISHED || tp->state == TCPS_CLOSE_WAIT)
		st->stats.tcp_estab_resets++;
	/* A passive child that never got out of SYN-RECEIVED just goes
	 * (RFC 9293 3.10.7.4: "return to the LISTEN state"). */
	tcp_closed(s, tp->state == TCPS_SYN_RECEIVED && tp->parent ? 0 : -ECONNRESET);
}

static void
tcp_conn_input(struct sonde_sock *s, struct rte_mbuf *m, const struct tcp_seg *sg)
{
	struct sonde_stack *st = s->st;
	struct tcp_cb *tp = &s->tcp;

	/* RFC 7323 5.3 (PAWS), before anything else. */
	if (tp->tf & TF_TS && sg->o.ts && !(sg->flags & TH_RST) &&
	    SEQ_LT(sg->o.tsval, tp->ts_recent)) {
		if (tcp_ts_now(tp, st->now) - tp->ts_recent_age > TCP_PAWS_IDLE_MS) {
			tp->ts_recent = sg->o.tsval;
		} else {
			tp->tf |= TF_ACKNOW;
			pkt_drop(st, m, DROP_TCP_PAWS);
			return;
		}
	}
	/* RFC 9293 3.5 figure 7, simultaneous open: the peer's SYN-ACK
	 * acknowledges our SYN: ESTABLISHED, and an ACK of its SYN (sending
	 * our SYN-ACK again instead, as for a SYN alone, has each side answer
	 * the other's SYN-ACK with one more, for ever). */
	if (tp->state == TCPS_SYN_RECEIVED &&
	    (sg->flags & (TH_SYN | TH_ACK | TH_RST)) == (TH_SYN | TH_ACK) && sg->seq == tp->irs &&
	    SEQ_GT(sg->ack, tp->snd_una) && SEQ_LEQ(sg->ack, tp->snd_max)) {
		tp->snd_una = sg->ack;
		tp->snd_wnd = sg->wnd; /* RFC 7323 2.2: a SYN's is not scaled */
		tp->snd_max_wnd = tp->snd_wnd;
		tp->snd_wl1 = sg->seq;
		tp->snd_wl2 = sg->ack;
		tp->backoff = 0;
		tcp_established(s);
		tcp_rearm_rtx(s);
		tp->tf |= TF_ACKNOW;
		rte_pktmbuf_free(m);
		return;
	}
	/* A SYN-ACK we sent again: the peer's SYN again (RFC 9293 3.10.7.4). */
	if (tp->state == TCPS_SYN_RECEIVED && sg->flags & TH_SYN && sg->seq == tp->irs) {
		tp->snd_nxt = tp->iss;
		pkt_drop(st, m, DROP_TCP_DUPLICATE);
		return;
	}
	if (!tcp_seq_ok(tp, sg)) {
		if (!(sg->flags & TH_RST))
			tp->tf |= TF_ACKNOW;
		pkt_drop(st, m, DROP_TCP_OUT_OF_WINDOW);
		return;
	}
	if (sg->flags & TH_RST) {
		tcp_rst_in(s, m, sg);
		return;
	}
	if (sg->flags & TH_SYN) {
		/* RFC 5961 4.2: a SYN in a synchronized state. */
		tcp_challenge_ack(s);
		pkt_drop(st, m, DROP_TCP_BAD_SYN);
		return;
	}
	if (!(sg->flags & TH_ACK)) {
		pkt_drop(st, m, DROP_TCP_BAD_FLAGS);
		return;
	}
	if (tp->state == TCPS_SYN_RECEIVED) {
		if (!SEQ_GT(sg->ack, tp->snd_una) || SEQ_GT(sg->ack, tp->snd_max)) {
			tcp_respond_rst(st, m, sg);
			pkt_drop(st, m, DROP_TCP_BAD_ACK);
			return;
		}
		tp->snd_wnd = sg->wnd << tp->snd_wscale;
		tp->snd_max_wnd = tp->snd_wnd;
		tp->snd_wl1 = sg->seq;
		tp->snd_wl2 = sg->ack;
		if (tp->parent != NULL)
			probe_tcp(st, PROBE_TCP_ACCEPT_ESTABLISHED, m, s, 0);
		tcp_established(s);
	}
	tp->idle_since = st->now;
	tp->keep_probes = 0;
	/* RFC 7323 4.3: the timestamp to echo, from a segment in order. */
	if (tp->tf & TF_TS && sg->o.ts && SEQ_LEQ(sg->seq, tp->last_ack_sent) &&
	    SEQ_LEQ(tp->last_ack_sent, sg->seq + sg->len + !!(sg->flags & TH_FIN))) {
		tp->ts_recent = sg->o.tsval;
		tp->ts_recent_age = tcp_ts_now(tp, st->now);
	}
	/* RFC 3168 6.1.3: CE seen: ECE until the peer's CWR. */
	if (tp->tf & TF_ECN) {
		if (sg->ecn == 3) {
			tp->tf |= TF_ECE;
			st->stats.tcp_ecn_ce++;
		}
		if (sg->flags & TH_CWR)
			tp->tf &= ~TF_ECE;
	}
	if (!tcp_ack_in(s, m, sg))
		return;
	switch (tp->state) {
	case TCPS_ESTABLISHED:
	case TCPS_FIN_WAIT_1:
	case TCPS_FIN_WAIT_2:
		if (sg->len > 0 && s->flags & SOCK_F_CLOSED && tp->parent == NULL &&
		    tp->tf & TF_FIN_QUEUED) {
			/* Data after the application closed: nobody reads it
			 * (RFC 9293 3.10.4, RFC 2525 2.17). */
			pkt_drop(st, m, DROP_TCP_SHUT_RD);
			tcp_send_seg(s, tp->snd_max, 0, TH_RST | TH_ACK, false);
			st->stats.tcp_out_rsts++;
			tcp_closed(s, 0);
			return;
		}
		tcp_data_in(s, m, sg);
		break;
	case TCPS_TIME_WAIT:
		/* RFC 9293 3.10.7.4: a FIN again: ACK it, 2MSL again. */
		if (sg->flags & TH_FIN) {
			tp->tf |= TF_ACKNOW;
			tcp_tw_restart(s);
		}
		rte_pktmbuf_free(m);
		break;
	default:
		/* CLOSE-WAIT, CLOSING, LAST-ACK: the peer's FIN came; nothing
		 * more of its text is taken. */
		if (sg->len > 0)
			pkt_drop(st, m, DROP_TCP_STATE);
		else
			rte_pktmbuf_free(m);
		break;
	}
}

/* --- a run --- */

static __rte_always_inline void
tcp_input(struct sonde_stack *st, struct rte_mbuf **pkts, uint16_t n, bool v6)
{
	struct sock_state *sk = st->sk;
	uint8_t af = v6 ? 6 : 4;

	sk->n_touched = 0;
	st->stats.tcp_in_segs += n;
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		const uint8_t *ip = rte_pktmbuf_mtod(m, const uint8_t *);
		struct sonde_sock *s;
		struct tcp_seg sg;
		struct sock_key k;
		int r;

		if (i + 1 < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void *));
		r = tcp_parse(m, &sg, v6);
		if (unlikely(r)) {
			/* No tcp:::receive: there may be no header to read. */
			st->stats.tcp_in_errs++;
			pkt_drop(st, m, (enum drop_reason)r);
			continue;
		}
		memset(&k, 0, sizeof(k));
		if (v6) {
			memcpy(k.laddr, ip + 24, 16);
			memcpy(k.raddr, ip + 8, 16);
		} else {
			memcpy(k.laddr, ip + 16, 4);
			memcpy(k.raddr, ip + 12, 4);
		}
		k.lport = rte_cpu_to_be_16(sg.dport);
		k.rport = rte_cpu_to_be_16(sg.sport);
		k.proto = IPPROTO_TCP;
		k.af = af;
		s = sock_lookup_key(st, &k);
		if (s != NULL && s->proto != IPPROTO_TCP)
			s = NULL;
		/* A bound-only socket is a listener, or nothing for TCP. */
		if (s != NULL && !(s->flags & SOCK_F_CONNECTED) && s->tcp.state != TCPS_LISTEN)
			s = NULL;
		/* RFC 6191 in TIME-WAIT: a new incarnation goes to the listener. */
		if (s != NULL && s->tcp.state == TCPS_TIME_WAIT && tcp_time_wait_syn(s, &sg)) {
			struct sonde_sock *ls =
				sock_lookup_bound(st, IPPROTO_TCP, af, k.laddr, k.lport);

			if (ls != NULL && ls->tcp.state == TCPS_LISTEN) {
				tcp_closed(s, 0);
				s = ls;
			}
		}
		pkt_meta(m)->conn = s;
		probe_tcp(st, PROBE_TCP_RECEIVE, m, s, 0);
		if (s == NULL) {
			tcp_no_conn(st, m, &sg);
			continue;
		}
		if (s->tcp.state == TCPS_LISTEN) {
			s = tcp_listen_input(s, m, &sg, &k);
			if (s == NULL)
				continue;
		}
		tcp_touch(s);
		if (s->tcp.state == TCPS_SYN_SENT)
			tcp_synsent_input(s, m, &sg);
		else
			tcp_conn_input(s, m, &sg);
	}
	for (unsigned i = 0; i < sk->n_touched; i++)
		if (sk->touched[i] != NULL)
			tcp_output(sk->touched[i]);
	sk->n_touched = 0;
	tcp_flush(st);
}

static void
tcp4_input(struct sonde_stack *st, struct rte_mbuf **pkts, uint16_t n)
{
	tcp_input(st, pkts, n, false);
}

static void
tcp6_input(struct sonde_stack *st, struct rte_mbuf **pkts, uint16_t n)
{
	tcp_input(st, pkts, n, true);
}

static int
tcp_init(struct sonde_stack *st, const struct sonde_conf *conf)
{
	(void)conf;
	st->sk->challenge_rl.rate = 1000; /* RFC 5961 7: as Linux's default */
	st->sk->challenge_rl.burst = 1000;
	ip_out_init(&st->sk->tcp_out[0]);
	ip_out_init(&st->sk->tcp_out[1]);
	return proto_ip_register(st, 4, IPPROTO_TCP, tcp4_input)
		       ?: proto_ip_register(st, 6, IPPROTO_TCP, tcp6_input);
}

const struct sonde_layer tcp_layer = {
	.name = "tcp",
	.init = tcp_init,
	.stop = tcp_fini_all,
};
