/*
 * tcp_output.c: what TCP sends and when (RFC 9293 3.8, 3.10.7), the
 * segments it builds (options: RFC 9293 3.7.1 MSS, RFC 7323 window scale
 * and timestamps, RFC 2018 SACK; RFC 3168 ECN), and its timers:
 * retransmission (RFC 6298, with Karn's rule), zero-window probes (RFC
 * 9293 3.8.6.1), keepalive (RFC 1122 4.2.3.6), TIME-WAIT and delayed ACKs
 * (RFC 9293 3.8.6.3, RFC 1122 4.2.3.2), all on the stack's wheel.
 *
 * A segment is built in an mbuf of its own: headers in its headroom, the
 * payload copied from the send buffer after them (the send buffer keeps
 * what is unacknowledged, so a retransmission copies again).  Segments
 * gather in a burst per family (sock_state's tcp_out) that tcp_flush()
 * hands to IP: after a run of input, a call of the API, a timer.
 */
#include <errno.h>
#include <string.h>

#include <rte_mbuf.h>

#include "ip.h"
#include "probes.h"
#include "sock.h"
#include "tcp.h"

#define TCP_RTO_MIN_US 200000u	   /* Linux's; RFC 6298 2.4 asks 1 s (see tcp_rtt_sample) */
#define TCP_RTO_MAX_US 60000000u   /* RFC 6298 2.5 */
#define TCP_DELACK_NS (40 * MS_NS) /* RFC 9293 3.8.6.3: well under 500 ms */
#define TCP_SYN_RETRIES 6
#define TCP_SYNACK_RETRIES 5
#define TCP_RTX_RETRIES 15
#define MS_NS 1000000ull

/* --- sizes --- */

uint16_t
tcp_mss_for(struct sonde_stack *st, uint8_t af, const uint8_t *raddr)
{
	uint32_t room = rte_pktmbuf_data_room_size(st->pool) - RTE_PKTMBUF_HEADROOM;
	uint32_t mtu, hdr = af == 6 ? IPV6_HDR_LEN + TCP_HDR_LEN : IPV4_MIN_HDR_LEN + TCP_HDR_LEN;
	const struct dst *d =
		af == 6 ? dst6(st, raddr, SONDE_IF_NONE) : dst4(st, wire_load32(raddr));

	mtu = d->out != NULL ? d->mtu : (af == 6 ? 1280u : 576u);
	if (mtu > room + hdr) /* lo0: a segment fits an mbuf */
		mtu = room + hdr;
	return (uint16_t)(mtu - hdr);
}

/* RFC 9293 3.8.6.2.2: the window offered never moves its right edge back. */
uint32_t
tcp_rcv_window(const struct sonde_sock *s)
{
	const struct tcp_cb *tp = &s->tcp;
	uint32_t space = s->rcvbuf > s->rq_bytes ? s->rcvbuf - s->rq_bytes : 0;
	uint32_t max = (uint32_t)UINT16_MAX << tp->rcv_wscale;

	if (SEQ_GT(tp->rcv_adv, tp->rcv_nxt) && tp->rcv_adv - tp->rcv_nxt > space)
		space = tp->rcv_adv - tp->rcv_nxt;
	/* Receiver SWS avoidance: less than a segment is offered as none. */
	if (space < tp->rcv_mss && space < s->rcvbuf / 2 && !SEQ_GT(tp->rcv_adv, tp->rcv_nxt))
		space = 0;
	return RTE_MIN(space, max);
}

static uint64_t
tcp_rto_ns(const struct tcp_cb *tp)
{
	uint64_t rto = (uint64_t)tp->rto_us << RTE_MIN(tp->backoff, 16);

	return RTE_MIN(rto, (uint64_t)TCP_RTO_MAX_US) * 1000;
}

/* --- the burst to IP --- */

void
tcp_flush(struct sonde_stack *st)
{
	struct sock_state *sk = st->sk;

	for (unsigned i = 0; i < 2; i++) {
		if (sk->tcp_out[i].n == 0)
			continue;
		ip_out_send(st, &sk->tcp_out[i], i ? 6 : 4);
		ip_out_init(&sk->tcp_out[i]);
	}
}

static void
tcp_xmit(struct sonde_stack *st, struct rte_mbuf *m, uint8_t af)
{
	struct ip_out *o = &st->sk->tcp_out[af == 6];

	if (o->n == SONDE_BURST) {
		ip_out_send(st, o, af);
		ip_out_init(o);
	}
	if (af == 6)
		ipv6_out_add(st, o, m);
	else
		ipv4_out_add(st, o, m);
	st->stats.tcp_out_segs++;
}

/* The IP header in front of the TCP segment at the data pointer (th, len
 * bytes with its payload), and the TCP checksum. */
static void
tcp_ip_prepend(struct sonde_stack *st, struct rte_mbuf *m, uint8_t af, const uint8_t *src,
	       const uint8_t *dst, uint8_t ecn)
{
	uint32_t len = rte_pktmbuf_pkt_len(m), psum;
	uint8_t *th = rte_pktmbuf_mtod(m, uint8_t *), *p;
	uint16_t ck;

	if (af == 6) {
		struct ipv6_view v = { 0 };

		psum = wire_pseudo6_sum(src, dst, len, IPPROTO_TCP);
		p = (uint8_t *)rte_pktmbuf_prepend(m, IPV6_HDR_LEN);
		v.tclass = ecn;
		v.plen = (uint16_t)len;
		v.nxt = IPPROTO_TCP;
		v.hlim = 64;
		memcpy(v.src, src, 16);
		memcpy(v.dst, dst, 16);
		wire_ipv6_emit(p, &v);
	} else {
		struct ipv4_view v = { 0 };

		psum = wire_pseudo4_sum(wire_load32(src), wire_load32(dst), (uint16_t)len,
					IPPROTO_TCP);
		p = (uint8_t *)rte_pktmbuf_prepend(m, IPV4_MIN_HDR_LEN);
		v.ihl = IPV4_MIN_HDR_LEN;
		v.tos = ecn;
		v.total_len = (uint16_t)(len + IPV4_MIN_HDR_LEN);
		v.ident = st->ip_ident++;
		v.frag = 0x4000; /* DF: path MTU discovery (RFC 1191) */
		v.ttl = 64;
		v.proto = IPPROTO_TCP;
		v.src = wire_load32(src);
		v.dst = wire_load32(dst);
		wire_ipv4_emit(p, &v, 0);
	}
	wire_put16(th + 16, 0);
	ck = (uint16_t)~wire_sum_fold(wire_sum(th, len, psum));
	memcpy(th + 16, &ck, 2); /* as summed: in the words' own byte order */
	pkt_meta_init(m, SONDE_IF_NONE, af == 6 ? 6 : 4);
	pkt_meta(m)->l3_len = af == 6 ? IPV6_HDR_LEN : IPV4_MIN_HDR_LEN;
}

/* --- options --- */

static uint8_t *
tcp_opt_ts(uint8_t *o, uint32_t val, uint32_t ecr)
{
	o[0] = 1, o[1] = 1, o[2] = 8, o[3] = 10;
	wire_put32(o + 4, val);
	wire_put32(o + 8, ecr);
	return o + 12;
}

/* The options of a segment of s with flags and len bytes of payload: into
 * o (TCP_OPT_MAX bytes), their length (a multiple of 4).  SACK blocks go
 * only as far as the segment stays within the MSS with its options (a
 * data segment full to the MSS carries none). */
static unsigned
tcp_options(const struct sonde_sock *s, uint8_t flags, uint32_t len, uint8_t *o)
{
	const struct tcp_cb *tp = &s->tcp;
	uint8_t *p = o;
	uint32_t now = tcp_ts_now(tp, s->st->now);

	if (flags & TH_SYN) {
		bool syn_ack = flags & TH_ACK;

		p[0] = 2, p[1] = 4; /* MSS */
		wire_put16(p + 2, tp->rcv_mss);
		p += 4;
		if (!syn_ack || tp->tf & TF_WS) {
			p[0] = 1, p[1] = 3, p[2] = 3, p[3] = tp->rcv_wscale;
			p += 4;
		}
		if (!syn_ack || tp->tf & TF_SACK) {
			p[0] = 1, p[1] = 1, p[2] = 4, p[3] = 2;
			p += 4;
		}
		if (!syn_ack || tp->tf & TF_TS)
			p = tcp_opt_ts(p, now, syn_ack ? tp->ts_recent : 0);
		return (unsigned)(p - o);
	}
	if (tp->tf & TF_TS)
		p = tcp_opt_ts(p, now, tp->ts_recent);
	/* RFC 2018 4: the block with the segment that triggered this ACK
	 * first, then the most recent others; 3 fit beside timestamps. */
	if (tp->tf & TF_SACK && tp->n_rcv_sack > 0 && flags & TH_ACK && !(flags & TH_RST)) {
		uint32_t room = (uint32_t)tp->mss + tp->ts_len, used = (uint32_t)(p - o) + len;
		unsigned n = RTE_MIN((unsigned)tp->n_rcv_sack, tp->tf & TF_TS ? 3u : 4u);

		if (used + 4 + 8 > room)
			return (unsigned)(p - o);
		n = RTE_MIN(n, (room - used - 4) / 8);

		p[0] = 1, p[1] = 1, p[2] = 5, p[3] = (uint8_t)(2 + 8 * n);
		p += 4;
		for (unsigned i = 0; i < n; i++, p += 8) {
			wire_put32(p, tp->rcv_sack[i].start);
			wire_put32(p + 4, tp->rcv_sack[i].end);
		}
	}
	return (unsigned)(p - o);
}

/* --- the send buffer --- */

/* Copies len bytes from offset off of the send buffer to dst. */
static void
tcp_sb_copy(struct tcp_cb *tp, uint32_t off, uint8_t *dst, uint32_t len)
{
	struct rte_mbuf *m = tp->sb_head;
	uint32_t base = 0;

	if (tp->sb_cur != NULL && off >= tp->sb_cur_off) {
		m = tp->sb_cur;
		base = tp->sb_cur_off;
	}
	while (m != NULL && off >= base + m->pkt_len) {
		base += m->pkt_len;
		m = pkt_qnext(m);
	}
	tp->sb_cur = m;
	tp->sb_cur_off = base;
	tcp_queue_copy(m, off - base, dst, len);
}

/* --- one segment --- */

int
tcp_send_seg(struct sonde_sock *s, uint32_t seq, uint32_t len, uint8_t flags, bool rtx)
{
	struct sonde_stack *st = s->st;
	struct tcp_cb *tp = &s->tcp;
	uint8_t opts[TCP_OPT_MAX], *th, ecn = 0;
	unsigned olen = tcp_options(s, flags, len, opts), hlen = TCP_HDR_LEN + olen;
	struct rte_mbuf *m = rte_pktmbuf_alloc(st->pool);
	uint32_t win;

	if (m == NULL)
		return -ENOBUFS;
	if (len > 0)
		tcp_sb_copy(tp, seq - tp->snd_una, rte_pktmbuf_mtod(m, uint8_t *), len);
	m->data_len = (uint16_t)len;
	m->pkt_len = len;
	th = (uint8_t *)rte_pktmbuf_prepend(m, (uint16_t)hlen);

	/* RFC 3168 6.1.1: ECE and CWR on the SYN ask; ECE on the SYN-ACK
	 * agrees; 6.1.2-6.1.5: data (not retransmitted) is ECT(0); ECE on
	 * our ACKs until the peer's CWR; CWR once after we reduced. */
	if (flags & TH_SYN) {
		if (!(flags & TH_ACK) && tp->tf & TF_WANT_ECN)
			flags |= TH_ECE | TH_CWR;
		else if (flags & TH_ACK && tp->tf & TF_ECN)
			flags |= TH_ECE;
	} else if (tp->tf & TF_ECN) {
		if (tp->tf & TF_ECE && flags & TH_ACK)
			flags |= TH_ECE;
		if (len > 0 && !rtx) {
			ecn = 0x2; /* ECT(0) */
			if (tp->tf & TF_CWR) {
				flags |= TH_CWR;
				tp->tf &= ~TF_CWR;
			}
		}
	}
	win = tcp_rcv_window(s);
	wire_put16(th, rte_be_to_cpu_16(s->key.lport));
	wire_put16(th + 2, rte_be_to_cpu_16(s->key.rport));
	wire_put32(th + 4, seq);
	wire_put32(th + 8, flags & TH_ACK ? tp->rcv_nxt : 0);
	th[12] = (uint8_t)(hlen / 4) << 4;
	th[13] = flags;
	/* RFC 7323 2.2: a SYN's window is never scaled. */
	wire_put16(th + 14,
		   (uint16_t)(flags & TH_SYN ? RTE_MIN(win, 65535u) : win >> tp->rcv_wscale));
	wire_put32(th + 16, 0); /* checksum, urgent pointer */
	memcpy(th + TCP_HDR_LEN, opts, olen);
	tcp_ip_prepend(st, m, s->af, s->key.laddr, s->key.raddr, ecn);
	pkt_meta(m)->ifindex = s->ifhint;
	pkt_meta(m)->conn = s->cid ? s : NULL;

	if (flags & TH_ACK) {
		tp->last_ack_sent = tp->rcv_nxt;
		if (SEQ_GT(tp->rcv_nxt + win, tp->rcv_adv))
			tp->rcv_adv = tp->rcv_nxt + win;
		tp->tf &= ~(TF_ACKNOW | TF_DELACK);
		tp->segs_unacked = 0;
		timer_cancel(&st->wheel, &tp->dack);
	}
	if (rtx) {
		tp->retransmits++;
		st->stats.tcp_retrans_segs++;
	} else if (len > 0 && !(tp->tf & (TF_TS | TF_RTT))) {
		/* RFC 6298 3 (Karn): time a segment sent once only. */
		tp->tf |= TF_RTT;
		tp->rtt_seq = seq;
		tp->rtt_start = st->now;
	}
	tp->last_send = st->now;
	/* docs/probes.md: connect-request after the first SYN's send.  A
	 * SYN cookie's SYN-ACK (cid 0, a stack temporary) is of no
	 * connection: arg1 NULL, as at its ip probes. */
	probe_tcp(st, PROBE_TCP_SEND, m, s->cid ? s : NULL, rtx ? PROBE_TCP_F_RETRANSMIT : 0);
	if (flags & TH_SYN && !(flags & TH_ACK) && !rtx)
		probe_tcp(st, PROBE_TCP_CONNECT_REQUEST, m, s, 0);
	tcp_xmit(st, m, s->af);
	return 0;
}

/* An ACK alone carries snd_max, not snd_nxt: after a timeout snd_nxt is
 * back at snd_una, below what the peer may have received already (the
 * first copies arrived, their ACKs were lost), and RFC 9293 3.10.7.4
 * has it drop a segment below RCV.NXT, its ACK unread: two ends both
 * retransmitting would then never take each other's ACKs (4.4BSD's
 * tcp_output does the same, for the same reason). */
void
tcp_send_ack(struct sonde_sock *s)
{
	tcp_send_seg(s, s->tcp.snd_max, 0, TH_ACK, false);
}

/* RFC 9293 3.10.7.1: a segment to no connection gets a RST, unless it is
 * one: with its ACK's number if it has one, else acknowledging it. */
void
tcp_respond_rst(struct sonde_stack *st, const struct rte_mbuf *in, const struct tcp_seg *sg)
{
	const uint8_t *ip = rte_pktmbuf_mtod(in, const uint8_t *);
	uint8_t af = pkt_meta_c(in)->af, src[16] = { 0 }, dst[16] = { 0 }, *th;
	struct rte_mbuf *m;

	if (sg->flags & TH_RST)
		return;
	m = rte_pktmbuf_alloc(st->pool);
	if (m == NULL)
		return;
	if (af == 6) {
		memcpy(dst, ip + 8, 16);
		memcpy(src, ip + 24, 16);
	} else {
		memcpy(dst, ip + 12, 4);
		memcpy(src, ip + 16, 4);
	}
	th = (uint8_t *)rte_pktmbuf_prepend(m, TCP_HDR_LEN);
	memset(th, 0, TCP_HDR_LEN);
	wire_put16(th, sg->dport);
	wire_put16(th + 2, sg->sport);
	if (sg->flags & TH_ACK) {
		wire_put32(th + 4, sg->ack);
		th[13] = TH_RST;
	} else {
		wire_put32(th + 8,
			   sg->seq + sg->len + !!(sg->flags & TH_SYN) + !!(sg->flags & TH_FIN));
		th[13] = TH_RST | TH_ACK;
	}
	th[12] = 5 << 4;
	tcp_ip_prepend(st, m, af, src, dst, 0);
	/* A link-local peer is answered on the link it came from. */
	pkt_meta(m)->ifindex = pkt_meta_c(in)->ifindex;
	st->stats.tcp_out_rsts++;
	/* docs/probes.md: accept-refused after the RST's send. */
	probe_tcp(st, PROBE_TCP_SEND, m, NULL, 0);
	if (sg->flags & TH_SYN)
		probe_tcp(st, PROBE_TCP_ACCEPT_REFUSED, m, NULL, 0);
	tcp_xmit(st, m, af);
}

/* --- what to send --- */

/* The SYN or SYN-ACK, first or again. */
static void
tcp_output_syn(struct sonde_sock *s)
{
	struct tcp_cb *tp = &s->tcp;
	bool rtx = tp->syn_rtx > 0;

	if (tp->snd_nxt != tp->iss)
		return;
	tcp_send_seg(s, tp->iss, 0, tp->state == TCPS_SYN_SENT ? TH_SYN : TH_SYN | TH_ACK, rtx);
	tp->snd_nxt = tp->iss + 1;
	if (SEQ_GT(tp->snd_nxt, tp->snd_max))
		tp->snd_max = tp->snd_nxt;
	if (!timer_armed(&tp->timer))
		tcp_timer_arm(s, TT_RTX, tcp_rto_ns(tp));
}

/* RFC 6675 5 (and, without SACK, RFC 6582): in recovery, what the pipe
 * leaves room for: lost segments first, then new data. */
static void
tcp_output_recovery(struct sonde_sock *s)
{
	struct tcp_cb *tp = &s->tcp;
	uint32_t pipe = tcp_pipe(s), seq, len;

	while (tp->cwnd > pipe && tp->cwnd - pipe >= tp->mss) {
		if (tcp_next_lost(s, &seq, &len)) {
			if (tcp_send_seg(s, seq, len, TH_ACK, true) != 0)
				break;
			tp->high_rxt = seq + len;
			s->st->stats.tcp_sack_retrans++;
		} else {
			uint32_t off = tp->snd_max - tp->snd_una;
			uint32_t wnd_end = tp->snd_una + tp->snd_wnd;

			if (off >= tp->sb_bytes || !SEQ_LT(tp->snd_max, wnd_end))
				break;
			len = RTE_MIN(tp->sb_bytes - off, (uint32_t)tp->mss);
			len = RTE_MIN(len, wnd_end - tp->snd_max);
			if (tcp_send_seg(s, tp->snd_max, len, TH_ACK | TH_PSH, false) != 0)
				break;
			tp->snd_max += len;
			tp->snd_nxt = tp->snd_max;
		}
		pipe += len;
	}
}

/* Whether a segment of len bytes (avail to send, the rest of the buffer)
 * should wait: Nagle (RFC 1122 4.2.3.4) and sender SWS avoidance (RFC
 * 9293 3.8.6.2.1). */
static bool
tcp_hold(const struct sonde_sock *s, uint32_t len, uint32_t avail, bool fin)
{
	const struct tcp_cb *tp = &s->tcp;

	if (len >= tp->mss || fin)
		return false;
	/* Held by the window: a part goes only if it is big, or if nothing
	 * is in flight (no ACK would come to let it go: RFC 1122 4.2.3.4's
	 * override, without its timer). */
	if (len < avail)
		return tp->snd_max != tp->snd_una && len < tp->snd_max_wnd / 2;
	/* All we have, and less than a segment: held while the writer said
	 * more follows (SONDE_MSG_MORE), else by Nagle. */
	if (tp->tf & TF_MORE)
		return true;
	if (s->flags & SOCK_F_NODELAY)
		return false;
	return tp->snd_max != tp->snd_una;
}

void
tcp_output(struct sonde_sock *s)
{
	struct tcp_cb *tp = &s->tcp;

	switch (tp->state) {
	case TCPS_CLOSED:
	case TCPS_LISTEN: return;
	case TCPS_SYN_SENT:
	case TCPS_SYN_RECEIVED: tcp_output_syn(s); return;
	default: break;
	}
	if (tp->tf & TF_RECOVERY)
		tcp_output_recovery(s);
	while (!(tp->tf & TF_RECOVERY)) {
		uint32_t off = tp->snd_nxt - tp->snd_una;
		uint32_t avail = off < tp->sb_bytes ? tp->sb_bytes - off : 0;
		/* RFC 3042 (RFC 5681 3.2, RFC 6675 5 (3)): on the first two
		 * duplicate ACKs, a new segment each past cwnd, so that a
		 * small window still brings the duplicates that tell a loss. */
		uint32_t lt = tp->snd_nxt == tp->snd_max ? RTE_MIN(tp->dupacks, 2u) * tp->mss : 0;
		uint32_t wnd = RTE_MIN(tp->snd_wnd, tp->cwnd + lt);
		uint32_t usable = wnd > off ? wnd - off : 0;
		uint32_t len = RTE_MIN(RTE_MIN(avail, usable), (uint32_t)tp->mss);
		uint32_t fin_seq = tp->snd_una + tp->sb_bytes;
		/* The FIN rides on the last segment, or alone; it is sent
		 * again after a timeout brings snd_nxt back to it. */
		bool fin = (tp->tf & (TF_FIN_QUEUED | TF_FIN_ACKED)) == TF_FIN_QUEUED &&
			   SEQ_LEQ(tp->snd_nxt, fin_seq) && tp->snd_nxt + len == fin_seq;
		uint8_t flags = TH_ACK;

		if (len == 0 && !fin)
			break;
		/* Nagle and SWS avoidance are for new data: what a timeout
		 * brought snd_nxt back to goes whatever its size (held, a
		 * short segment waits for an ACK that only it can bring). */
		if (len > 0 && !SEQ_LT(tp->snd_nxt, tp->snd_max) && tcp_hold(s, len, avail, fin))
			break;
		if (fin)
			flags |= TH_FIN;
		if (len > 0 && len == avail)
			flags |= TH_PSH;
		if (tcp_send_seg(s, tp->snd_nxt, len, flags, SEQ_LT(tp->snd_nxt, tp->snd_max)) != 0)
			break;
		tp->snd_nxt += len + fin;
		if (fin)
			tp->tf |= TF_FIN_SENT;
		if (SEQ_GT(tp->snd_nxt, tp->snd_max))
			tp->snd_max = tp->snd_nxt;
		if (tp->timer_kind != TT_RTX)
			tcp_timer_arm(s, TT_RTX, tcp_rto_ns(tp));
	}
	if (tp->tf & TF_ACKNOW)
		tcp_send_ack(s);
	if (tp->timer_kind == TT_NONE || tp->timer_kind == TT_KEEP)
		tcp_rearm_rtx(s);
}

/* --- timers --- */

void
tcp_timer_arm(struct sonde_sock *s, uint8_t kind, uint64_t delay_ns)
{
	s->tcp.timer_kind = kind;
	timer_arm(&s->st->wheel, &s->tcp.timer, s->st->now + delay_ns);
}

/* The one timer of a connection, for what it now waits on. */
void
tcp_rearm_rtx(struct sonde_sock *s)
{
	struct tcp_cb *tp = &s->tcp;

	if (tp->state == TCPS_TIME_WAIT || tp->state == TCPS_CLOSED)
		return;
	if (tp->snd_una != tp->snd_max) {
		tcp_timer_arm(s, TT_RTX, tcp_rto_ns(tp));
	} else if (tp->sb_bytes > 0 && tp->snd_wnd == 0) {
		if (tp->timer_kind != TT_PERSIST)
			tcp_timer_arm(s, TT_PERSIST, tcp_rto_ns(tp));
	} else if (tp->state == TCPS_FIN_WAIT_2 && s->flags & SOCK_F_CLOSED) {
		tcp_timer_arm(s, TT_FINWAIT2, TCP_2MSL_NS);
	} else if (s->flags & SOCK_F_KEEPALIVE && tp->state == TCPS_ESTABLISHED) {
		uint64_t at = tp->idle_since + (uint64_t)tp->keep_idle_s * 1000000000ull;

		tp->timer_kind = TT_KEEP;
		timer_arm(&s->st->wheel, &tp->timer, at);
	} else {
		timer_cancel(&s->st->wheel, &tp->timer);
		tp->timer_kind = TT_NONE;
	}
}

/* RFC 6298 2.2-2.4, on microseconds.  The floor is Linux's 200 ms, not
 * RFC 6298's 1 s: every modern stack has found 1 s too long for a link
 * whose round trip is well under it (RFC 6298 says why it chose 1 s, and
 * a spurious timeout, the risk, is undone by the next ACK). */
void
tcp_rtt_sample(struct sonde_sock *s, uint32_t r)
{
	struct tcp_cb *tp = &s->tcp;
	uint32_t var;

	if (r == 0)
		r = 1;
	if (tp->srtt_us == 0) {
		tp->srtt_us = r;
		tp->rttvar_us = r / 2;
	} else {
		uint32_t d = tp->srtt_us > r ? tp->srtt_us - r : r - tp->srtt_us;

		tp->rttvar_us = (3 * tp->rttvar_us + d) / 4;
		tp->srtt_us = (7 * tp->srtt_us + r) / 8;
	}
	if (tp->rtt_min_us == 0 || r < tp->rtt_min_us)
		tp->rtt_min_us = r;
	var = RTE_MAX(4 * tp->rttvar_us, 1000u); /* G: the wheel's tick, about 1 ms */
	tp->rto_us = RTE_MIN(RTE_MAX(tp->srtt_us + var, TCP_RTO_MIN_US), TCP_RTO_MAX_US);
}

/* A probe the peer must answer, for an unchanged window or keepalive:
 * an ACK one before snd_una (RFC 1122 4.2.3.6, RFC 9293 3.8.6.1), which
 * no stack takes as data. */
static void
tcp_send_probe(struct sonde_sock *s)
{
	tcp_send_seg(s, s->tcp.snd_una - 1, 0, TH_ACK, false);
}

static void
tcp_timer_rtx(struct sonde_sock *s)
{
	struct sonde_stack *st = s->st;
	struct tcp_cb *tp = &s->tcp;

	if (tp->state == TCPS_SYN_SENT || tp->state == TCPS_SYN_RECEIVED) {
		unsigned max = tp->state == TCPS_SYN_SENT ? TCP_SYN_RETRIES : TCP_SYNACK_RETRIES;

		if (++tp->syn_rtx > max) {
			if (tp->state == TCPS_SYN_SENT)
				st->stats.tcp_attempt_fails++;
			tcp_closed(s, -ETIMEDOUT);
			return;
		}
		tp->backoff++;
		tp->snd_nxt = tp->iss;
		tcp_timer_arm(s, TT_RTX, tcp_rto_ns(tp));
		tcp_output_syn(s);
		return;
	}
	if (++tp->backoff > TCP_RTX_RETRIES) {
		tcp_send_seg(s, tp->snd_max, 0, TH_RST | TH_ACK, false);
		st->stats.tcp_out_rsts++;
		tcp_closed(s, -ETIMEDOUT);
		return;
	}
	/* RFC 6298 5.4-5.6: back off, retransmit the earliest unacknowledged
	 * (go back to it, RFC 5681 3.1's slow start from one segment).  RFC
	 * 6675 5.1: the recovery point is what was sent, and no fast
	 * recovery begins before it is acknowledged. */
	st->stats.tcp_rto++;
	tcp_cc_rto(s);
	tp->recover = tp->snd_max;
	tp->tf &= ~(TF_RECOVERY | TF_RTT);
	tp->dupacks = 0;
	tp->n_sacked = 0;
	tp->sacked_bytes = 0;
	tp->snd_nxt = tp->snd_una;
	tcp_timer_arm(s, TT_RTX, tcp_rto_ns(tp));
	tcp_output(s);
}

void
tcp_timer_fn(struct timer *t, void *ctx)
{
	struct sonde_sock *s = container_of(t, struct sonde_sock, tcp.timer);
	struct sonde_stack *st = ctx;
	struct tcp_cb *tp = &s->tcp;
	uint8_t kind = tp->timer_kind;

	tp->timer_kind = TT_NONE;
	switch (kind) {
	case TT_RTX: tcp_timer_rtx(s); break;
	case TT_PERSIST:
		/* RFC 9293 3.8.6.1: probe the zero window, backing off. */
		st->stats.tcp_zwp++;
		tcp_send_probe(s);
		tp->backoff = (uint8_t)RTE_MIN(tp->backoff + 1, 16);
		tcp_timer_arm(s, TT_PERSIST, tcp_rto_ns(tp));
		break;
	case TT_KEEP:
		if (st->now - tp->idle_since < (uint64_t)tp->keep_idle_s * 1000000000ull) {
			tcp_rearm_rtx(s);
			break;
		}
		if (tp->keep_probes >= tp->keep_cnt) {
			st->stats.tcp_keepalive_drops++;
			tcp_send_seg(s, tp->snd_max, 0, TH_RST | TH_ACK, false);
			st->stats.tcp_out_rsts++;
			tcp_closed(s, -ETIMEDOUT);
			break;
		}
		tp->keep_probes++;
		st->stats.tcp_keepalive_probes++;
		tcp_send_probe(s);
		tcp_timer_arm(s, TT_KEEP, (uint64_t)tp->keep_intvl_s * 1000000000ull);
		break;
	case TT_2MSL:
	case TT_FINWAIT2: tcp_closed(s, 0); break;
	default: break;
	}
	tcp_flush(st);
}

void
tcp_dack_fn(struct timer *t, void *ctx)
{
	struct sonde_sock *s = container_of(t, struct sonde_sock, tcp.dack);

	if (s->tcp.tf & TF_DELACK) {
		s->tcp.tf |= TF_ACKNOW;
		tcp_output(s);
		tcp_flush(ctx);
	}
}

/* An ACK owed: at once, or by the delayed-ACK timer (RFC 9293 3.8.6.3:
 * at least every second full-sized segment). */
void
tcp_ack_owed(struct sonde_sock *s, bool now)
{
	struct tcp_cb *tp = &s->tcp;

	if (now || tp->tf & TF_QUICKACK || ++tp->segs_unacked >= 2) {
		tp->tf |= TF_ACKNOW;
		return;
	}
	if (!(tp->tf & TF_DELACK)) {
		tp->tf |= TF_DELACK;
		timer_arm(&s->st->wheel, &tp->dack, s->st->now + TCP_DELACK_NS);
	}
}

void
tcp_time_wait(struct sonde_sock *s)
{
	tcp_set_state(s, TCPS_TIME_WAIT);
	timer_cancel(&s->st->wheel, &s->tcp.dack);
	tcp_timer_arm(s, TT_2MSL, TCP_2MSL_NS);
	/* Nothing more to send or resend. */
	sock_free_queue(s, s->tcp.sb_head);
	s->tcp.sb_head = s->tcp.sb_tail = s->tcp.sb_cur = NULL;
	s->tcp.sb_bytes = 0;
}
