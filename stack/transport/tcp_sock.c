/*
 * tcp_sock.c: TCP's half of the socket calls (RFC 9293 3.10.1-3.10.6:
 * OPEN, SEND, RECEIVE, CLOSE, ABORT), the life of a connection (its
 * states, its end), initial sequence numbers (RFC 6528) and SYN cookies
 * (RFC 4987).
 *
 * A connection belongs to the application until sonde_close(); after
 * that (SOCK_F_CLOSED) the stack finishes it in the background and frees
 * it when it reaches CLOSED.  A passive child is nobody's until accepted:
 * it is created SOCK_F_CLOSED, and accept clears the flag.
 */
#include <errno.h>
#include <string.h>

#include <rte_mbuf.h>

#include "ip.h"
#include "probes.h"
#include "sock.h"
#include "tcp.h"

#define TCP_KEEPIDLE_S 7200 /* RFC 1122 4.2.3.6: no less than two hours */
#define TCP_KEEPINTVL_S 75
#define TCP_KEEPCNT 9
#define TCP_MAX_BACKLOG 65535

/* --- keyed hashes: SipHash-2-4 (Aumasson and Bernstein), for the ISN
 * (RFC 6528 3: F() a PRF of the 4-tuple and a secret) and the cookies. */

#define SIP_ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIP_ROUND(v0, v1, v2, v3)                                                 \
	do {                                                                      \
		v0 += v1, v1 = SIP_ROTL(v1, 13), v1 ^= v0, v0 = SIP_ROTL(v0, 32); \
		v2 += v3, v3 = SIP_ROTL(v3, 16), v3 ^= v2;                        \
		v0 += v3, v3 = SIP_ROTL(v3, 21), v3 ^= v0;                        \
		v2 += v1, v1 = SIP_ROTL(v1, 17), v1 ^= v2, v2 = SIP_ROTL(v2, 32); \
	} while (0)

static uint64_t
tcp_siphash(const uint8_t key[16], const void *data, size_t len)
{
	uint64_t k0, k1, v0, v1, v2, v3, b = (uint64_t)len << 56, m;
	const uint8_t *p = data;
	size_t i;

	memcpy(&k0, key, 8);
	memcpy(&k1, key + 8, 8);
	v0 = k0 ^ 0x736f6d6570736575ull;
	v1 = k1 ^ 0x646f72616e646f6dull;
	v2 = k0 ^ 0x6c7967656e657261ull;
	v3 = k1 ^ 0x7465646279746573ull;
	for (i = 0; i + 8 <= len; i += 8) {
		memcpy(&m, p + i, 8);
		v3 ^= m;
		SIP_ROUND(v0, v1, v2, v3);
		SIP_ROUND(v0, v1, v2, v3);
		v0 ^= m;
	}
	for (size_t j = 0; i + j < len; j++)
		b |= (uint64_t)p[i + j] << (8 * j);
	v3 ^= b;
	SIP_ROUND(v0, v1, v2, v3);
	SIP_ROUND(v0, v1, v2, v3);
	v0 ^= b;
	v2 ^= 0xff;
	for (int r = 0; r < 4; r++)
		SIP_ROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

/* RFC 6528 3: ISN = M + F(localip, localport, remoteip, remoteport,
 * secretkey), M a 4 us timer. */
uint32_t
tcp_isn(struct sonde_stack *st, const struct sock_key *k)
{
	return (uint32_t)(st->now / 4000) +
	       (uint32_t)tcp_siphash(st->sk->isn_key, k, offsetof(struct sock_key, pad));
}

/* SYN cookies (RFC 4987 3.6): our ISN carries what we would have kept.
 * Top 5 bits: a counter of 64 s periods; 3 bits: the MSS, as an index
 * into a table; 24 bits: a keyed hash of the 4-tuple, the period and the
 * peer's ISN.  A cookie is good for the period it was made in and the
 * one before.  Window scaling, SACK and timestamps are lost with a
 * cookie (RFC 4987 3.6's trade-off): the connection goes without. */
static const uint16_t tcp_cookie_mss[8] = { 536, 1024, 1220, 1360, 1400, 1440, 1460, 8960 };

static uint32_t
tcp_cookie_hash(struct sonde_stack *st, const struct sock_key *k, uint32_t peer_isn,
		uint32_t period)
{
	struct {
		struct sock_key k;
		uint32_t isn, period;
	} in;

	memset(&in, 0, sizeof(in));
	in.k = *k;
	in.isn = peer_isn;
	in.period = period;
	return (uint32_t)tcp_siphash(st->sk->cookie_key, &in, sizeof(in)) & 0xffffff;
}

uint32_t
tcp_cookie_make(struct sonde_stack *st, const struct sock_key *k, uint32_t peer_isn, uint16_t mss,
		uint16_t *mss_out)
{
	uint32_t period = (uint32_t)(st->now / (64 * 1000000000ull));
	unsigned i = 0;

	for (unsigned j = 0; j < RTE_DIM(tcp_cookie_mss); j++)
		if (tcp_cookie_mss[j] <= mss)
			i = j;
	*mss_out = tcp_cookie_mss[i];
	return (period & 0x1f) << 27 | i << 24 | tcp_cookie_hash(st, k, peer_isn, period);
}

uint16_t
tcp_cookie_check(struct sonde_stack *st, const struct sock_key *k, uint32_t peer_isn,
		 uint32_t cookie)
{
	uint32_t now = (uint32_t)(st->now / (64 * 1000000000ull));

	for (uint32_t back = 0; back < 2; back++) {
		uint32_t period = now - back;

		if ((cookie >> 27) != (period & 0x1f))
			continue;
		if ((cookie & 0xffffff) == tcp_cookie_hash(st, k, peer_isn, period))
			return tcp_cookie_mss[cookie >> 24 & 7];
	}
	return 0;
}

/* --- states and the end of a connection --- */

void
tcp_seq_init_snd(struct tcp_cb *tp, uint32_t iss)
{
	tp->iss = iss;
	tp->snd_una = tp->snd_nxt = tp->snd_max = iss;
	tp->snd_wl2 = tp->high_rxt = tp->rescue_rxt = tp->recover = tp->ecn_seq = tp->rtt_seq = iss;
}

void
tcp_seq_init_rcv(struct tcp_cb *tp, uint32_t irs)
{
	tp->irs = irs;
	tp->rcv_nxt = irs + 1;
	tp->rcv_adv = tp->last_ack_sent = tp->rcv_nxt;
	tp->snd_wl1 = irs;
}

/* The stack's TIME-WAIT list (sock_state's tw_head): a connection joins it
 * as it enters TIME-WAIT and leaves it as it leaves the state or the pool. */
static void
tcp_tw_link(struct sonde_sock *s)
{
	struct sock_state *sk = s->st->sk;

	s->tcp.tw_next = NULL;
	s->tcp.tw_pprev = sk->tw_tail;
	*sk->tw_tail = s;
	sk->tw_tail = &s->tcp.tw_next;
}

static void
tcp_tw_unlink(struct sonde_sock *s)
{
	struct sock_state *sk = s->st->sk;
	struct tcp_cb *tp = &s->tcp;

	*tp->tw_pprev = tp->tw_next;
	if (tp->tw_next != NULL)
		tp->tw_next->tcp.tw_pprev = tp->tw_pprev;
	else
		sk->tw_tail = tp->tw_pprev;
	tp->tw_next = NULL;
	tp->tw_pprev = NULL;
}

/* TIME-WAIT again from now (the peer's FIN came again: our ACK of it was
 * lost): 2MSL anew, and the list's tail, so that the list stays in the
 * order its timers end (FreeBSD's tcp_tw_2msl_reset) and recycling takes
 * this one last, not first. */
void
tcp_tw_restart(struct sonde_sock *s)
{
	if (s->tcp.tw_pprev != NULL) {
		tcp_tw_unlink(s);
		tcp_tw_link(s);
	}
	tcp_timer_arm(s, TT_2MSL, TCP_2MSL_NS);
}

/*
 * Out of sockets: TIME-WAIT (RFC 9293 3.6.1, 2 MSL) keeps a closed
 * connection's pair from a new incarnation that old duplicates could
 * corrupt, and holds a whole socket for it.  A client that opens and
 * closes connections fast (sonde-gen's tcp-crr: tens of thousands a
 * second) fills the pool with them in a second.  Rather than refuse new
 * connections, the oldest TIME-WAIT the application has given back goes
 * first, as FreeBSD does when its TIME-WAIT zone is full: the one closest
 * to its end anyway.  Counted (tcp.tw_recycled), and its state-change to
 * CLOSED fires.
 */
bool
tcp_tw_recycle(struct sonde_stack *st)
{
	struct sonde_sock *s;
	unsigned n = 0;

	/* The first few only: an application that keeps its sockets after a
	 * shutdown may fill the pool with TIME-WAITs it still holds, and a
	 * SYN flood must not walk them all for each SYN. */
	for (s = st->sk->tw_head; s != NULL && n < TCP_TW_SCAN; s = s->tcp.tw_next, n++)
		if (s->flags & SOCK_F_CLOSED) {
			st->stats.tcp_tw_recycled++;
			tcp_closed(s, 0); /* frees it: given back */
			return true;
		}
	return false;
}

void
tcp_set_state(struct sonde_sock *s, uint8_t state)
{
	struct tcp_cb *tp = &s->tcp;
	uint8_t old = tp->state;
	bool was = old == TCPS_ESTABLISHED || old == TCPS_CLOSE_WAIT;
	bool is = state == TCPS_ESTABLISHED || state == TCPS_CLOSE_WAIT;

	tp->state = state;
	if (state == TCPS_TIME_WAIT && tp->tw_pprev == NULL)
		tcp_tw_link(s);
	else if (state != TCPS_TIME_WAIT && tp->tw_pprev != NULL)
		tcp_tw_unlink(s);
	if (was && !is)
		s->st->tcp_curr_estab--;
	else if (!was && is)
		s->st->tcp_curr_estab++;
	probe_tcp_state(s->st, s, old);
}

void
tcp_timer_stop(struct sonde_sock *s)
{
	timer_cancel(&s->st->wheel, &s->tcp.timer);
	timer_cancel(&s->st->wheel, &s->tcp.dack);
	s->tcp.timer_kind = TT_NONE;
}

static void
tcp_sb_free(struct sonde_sock *s)
{
	struct tcp_cb *tp = &s->tcp;

	sock_free_queue(s, tp->sb_head);
	sock_free_queue(s, tp->ooo_head);
	tp->sb_head = tp->sb_tail = tp->sb_cur = tp->ooo_head = NULL;
	tp->sb_bytes = tp->sb_mbufs = tp->ooo_bytes = tp->ooo_mbufs = 0;
}

void
tcp_child_unlink(struct sonde_sock *s)
{
	struct tcp_cb *tp = &s->tcp;
	struct sonde_sock *ls = tp->parent;

	if (ls == NULL)
		return;
	*tp->child_pprev = tp->child_next;
	if (tp->child_next != NULL)
		tp->child_next->tcp.child_pprev = tp->child_pprev;
	if (tp->state == TCPS_SYN_RECEIVED)
		ls->tcp.syn_len--;
	/* In the accept queue? */
	for (struct sonde_sock **pp = &ls->tcp.acc_head; *pp != NULL; pp = &(*pp)->tcp.acc_next) {
		if (*pp != s)
			continue;
		*pp = tp->acc_next;
		if (ls->tcp.acc_tail == s) {
			ls->tcp.acc_tail = NULL;
			for (struct sonde_sock *c = ls->tcp.acc_head; c != NULL;
			     c = c->tcp.acc_next)
				ls->tcp.acc_tail = c;
		}
		ls->tcp.acc_len--;
		break;
	}
	tp->parent = NULL;
	tp->acc_next = NULL;
}

void
tcp_free(struct sonde_sock *s)
{
	struct sock_state *sk = s->st->sk;

	for (unsigned i = 0; i < sk->n_touched; i++)
		if (sk->touched[i] == s)
			sk->touched[i] = NULL;
	tcp_timer_stop(s);
	tcp_child_unlink(s);
	if (s->tcp.tw_pprev != NULL)
		tcp_tw_unlink(s);
	tcp_sb_free(s);
	sock_free(s);
}

void
tcp_closed(struct sonde_sock *s, int err)
{
	/* Out of its listener's queues first: a child leaving SYN-RECEIVED
	 * gives its place in the half-open count back. */
	tcp_child_unlink(s);
	if (s->tcp.state != TCPS_CLOSED)
		tcp_set_state(s, TCPS_CLOSED);
	tcp_timer_stop(s);
	if (s->flags & SOCK_F_CONNECTED)
		sock_unhash_connected(s);
	if (s->flags & SOCK_F_CLOSED) {
		tcp_free(s);
		return;
	}
	if (err && s->error == 0)
		s->error = err;
	/* What was sent is gone with it; what arrived may still be read. */
	sock_free_queue(s, s->tcp.sb_head);
	sock_free_queue(s, s->tcp.ooo_head);
	s->tcp.sb_head = s->tcp.sb_tail = s->tcp.sb_cur = s->tcp.ooo_head = NULL;
	s->tcp.sb_bytes = s->tcp.ooo_bytes = 0;
	sock_post(s, SONDE_EV_IN | SONDE_EV_HUP | (err ? SONDE_EV_ERR : 0));
}

void
tcp_established(struct sonde_sock *s)
{
	struct tcp_cb *tp = &s->tcp;
	struct sonde_sock *ls = tp->parent;

	tcp_set_state(s, TCPS_ESTABLISHED);
	s->st->stats.tcp_established++;
	tp->idle_since = s->st->now;
	if (ls == NULL) {
		sock_post(s, SONDE_EV_OUT);
		return;
	}
	/* A passive open: into the listener's accept queue. */
	ls->tcp.syn_len--;
	tp->acc_next = NULL;
	if (ls->tcp.acc_tail != NULL)
		ls->tcp.acc_tail->tcp.acc_next = s;
	else
		ls->tcp.acc_head = s;
	ls->tcp.acc_tail = s;
	ls->tcp.acc_len++;
	sock_post(ls, SONDE_EV_IN);
}

struct sonde_sock *
tcp_child_new(struct sonde_sock *ls, const struct sock_key *k)
{
	struct sonde_sock *s = sock_alloc(ls->st, IPPROTO_TCP, ls->af);
	struct tcp_cb *tp;

	if (s == NULL)
		return NULL;
	tcp_sock_init(s);
	tp = &s->tcp;
	s->key = *k;
	s->udata = ls->udata;
	s->sndbuf = ls->sndbuf;
	s->rcvbuf = ls->rcvbuf;
	s->flags |=
		SOCK_F_CLOSED | (ls->flags & (SOCK_F_NODELAY | SOCK_F_KEEPALIVE | SOCK_F_LINGER0));
	tp->tf |= ls->tcp.tf & (TF_NEWRENO | TF_WANT_ECN);
	tp->keep_idle_s = ls->tcp.keep_idle_s;
	tp->keep_intvl_s = ls->tcp.keep_intvl_s;
	tp->keep_cnt = ls->tcp.keep_cnt;
	if (sock_hash_connected(s) != 0) {
		sock_free(s);
		return NULL;
	}
	tp->parent = ls;
	tp->child_next = ls->tcp.child_head;
	if (tp->child_next != NULL)
		tp->child_next->tcp.child_pprev = &tp->child_next;
	tp->child_pprev = &ls->tcp.child_head;
	ls->tcp.child_head = s;
	ls->tcp.syn_len++;
	tp->state = TCPS_LISTEN; /* tcp_set_state to SYN-RECEIVED follows */
	return s;
}

/* --- the calls --- */

void
tcp_sock_init(struct sonde_sock *s)
{
	struct tcp_cb *tp = &s->tcp;

	tp->state = TCPS_CLOSED;
	tp->tf = TF_WANT_ECN;
	tp->keep_idle_s = TCP_KEEPIDLE_S;
	tp->keep_intvl_s = TCP_KEEPINTVL_S;
	tp->keep_cnt = TCP_KEEPCNT;
	tp->rto_us = 1000000; /* RFC 6298 2.1 */
	tp->start_ns = s->st->now;
	timer_init(&tp->timer, tcp_timer_fn);
	timer_init(&tp->dack, tcp_dack_fn);
}

int
tcp_listen(struct sonde_sock *s, int backlog)
{
	struct tcp_cb *tp = &s->tcp;
	int r;

	if (tp->state == TCPS_LISTEN) {
		tp->backlog = (uint16_t)RTE_MIN(RTE_MAX(backlog, 1), TCP_MAX_BACKLOG);
		return 0;
	}
	if (tp->state != TCPS_CLOSED || (s->flags & SOCK_F_CONNECTED))
		return -EINVAL;
	if (backlog < 1)
		backlog = 1;
	if (!(s->flags & SOCK_F_BOUND)) {
		r = sock_pick_port(s);
		if (r == 0)
			r = sock_hash_bound(s);
		if (r)
			return r;
	}
	tp->backlog = (uint16_t)RTE_MIN(backlog, TCP_MAX_BACKLOG);
	s->flags |= SOCK_F_LISTEN;
	tcp_set_state(s, TCPS_LISTEN);
	return 0;
}

int
tcp_accept(struct sonde_sock *s, void *udata, struct sonde_sock **out, struct sockaddr *peer,
	   socklen_t *len)
{
	struct tcp_cb *tp = &s->tcp;
	struct sonde_sock *c = tp->acc_head;

	if (tp->state != TCPS_LISTEN)
		return -EINVAL;
	if (c == NULL)
		return -EAGAIN;
	tcp_child_unlink(c);
	c->flags &= (uint16_t)~SOCK_F_CLOSED;
	c->udata = udata;
	sock_addr_to(c->af, c->key.raddr, c->key.rport, peer, len);
	/* What happened before it was handed out, as events. */
	sock_post(c, SONDE_EV_OUT | (c->rq_bytes || (c->tcp.tf & TF_RCVD_FIN) ? SONDE_EV_IN : 0) |
			     (c->tcp.tf & TF_RCVD_FIN ? SONDE_EV_HUP : 0));
	*out = c;
	return 0;
}

int
tcp_connect(struct sonde_sock *s, const uint8_t *raddr, uint16_t rport)
{
	struct sonde_stack *st = s->st;
	struct tcp_cb *tp = &s->tcp;
	bool bound = s->flags & SOCK_F_BOUND;
	static const uint8_t zero[16];
	int r;

	if (tp->state == TCPS_SYN_SENT)
		return -EALREADY;
	if (tp->state != TCPS_CLOSED || s->error)
		return tp->state == TCPS_LISTEN ? -EINVAL : -EISCONN;
	memcpy(s->key.raddr, raddr, s->af == 6 ? 16 : 4);
	s->key.rport = rport;
	if (memcmp(s->key.laddr, zero, 16) == 0) {
		r = sock_pick_source(s);
		if (r)
			goto fail;
	}
	if (s->key.lport == 0) {
		r = sock_pick_port(s);
		if (r)
			goto fail;
	}
	r = sock_hash_connected(s);
	if (r == -EADDRINUSE && bound && s->flags & SOCK_F_EPHEMERAL) {
		/* Bound to port 0: the port the bind picked has this 4-tuple
		 * in use (TIME-WAIT): pick again, towards this remote (as
		 * Linux's IP_BIND_ADDRESS_NO_PORT would have at connect). */
		uint16_t old = s->key.lport;

		sock_unhash_bound(s);
		r = sock_pick_port(s);
		if (r == 0)
			r = sock_hash_connected(s);
		if (r) {
			s->key.lport = old;
			sock_hash_bound(s);
		} else {
			bound = false; /* unhashed from the bound table already */
		}
	}
	if (r)
		goto fail;
	if (bound)
		sock_unhash_bound(s); /* the 4-tuple has it now */
	tp->tf |= TF_ACTIVE;
	if (s->af == 4 ? IN_LOOPBACK_H(rte_be_to_cpu_32(wire_load32(raddr))) ||
				 ipv4_is_local(st, wire_load32(raddr))
		       : ipv6_addr_is_loopback(raddr) || ipv6_is_local(st, raddr))
		tp->tf |= TF_LOCAL;
	tcp_seq_init_snd(tp, tcp_isn(st, &s->key));
	tp->rcv_mss = tcp_mss_for(st, s->af, s->key.raddr);
	tp->mss = s->af == 6 ? TCP_DEFAULT_MSS6 : TCP_DEFAULT_MSS;
	tcp_cc_init(s);
	tcp_set_state(s, TCPS_SYN_SENT);
	st->stats.tcp_active_opens++;
	tcp_output(s);
	tcp_flush(st);
	return -EINPROGRESS;
fail:
	memset(s->key.raddr, 0, sizeof(s->key.raddr));
	s->key.rport = 0;
	if (!bound) {
		memset(s->key.laddr, 0, sizeof(s->key.laddr));
		s->key.lport = 0;
	}
	return r;
}

/* Whether the send side is open: the errors of SEND (RFC 9293 3.10.2). */
static ssize_t
tcp_send_check(const struct sonde_sock *s)
{
	switch (s->tcp.state) {
	case TCPS_ESTABLISHED:
	case TCPS_CLOSE_WAIT: break;
	case TCPS_SYN_SENT:
	case TCPS_SYN_RECEIVED: return -EAGAIN; /* queued data goes after the handshake */
	case TCPS_CLOSED:
	case TCPS_LISTEN:
		return s->error ? s->error : (s->flags & SOCK_F_CONNECTED ? -EPIPE : -ENOTCONN);
	default: return -EPIPE;
	}
	if (s->tcp.tf & TF_FIN_QUEUED || s->flags & SOCK_F_SHUT_WR)
		return -EPIPE;
	return 0;
}

static void
tcp_sb_append(struct sonde_sock *s, struct rte_mbuf *m)
{
	struct tcp_cb *tp = &s->tcp;

	pkt_set_qnext(m, NULL);
	if (tp->sb_tail != NULL)
		pkt_set_qnext(tp->sb_tail, m);
	else
		tp->sb_head = m;
	tp->sb_tail = m;
	tp->sb_bytes += m->pkt_len;
	tp->sb_mbufs += m->nb_segs;
	sock_mbufs_add(s->st, m->nb_segs);
}

ssize_t
tcp_send(struct sonde_sock *s, const void *buf, size_t len, int flags)
{
	struct sonde_stack *st = s->st;
	struct tcp_cb *tp = &s->tcp;
	const uint8_t *p = buf;
	ssize_t r = tcp_send_check(s);
	size_t room, done = 0;

	if (r)
		return r;
	room = s->sndbuf > tp->sb_bytes ? s->sndbuf - tp->sb_bytes : 0;
	if (room == 0)
		return -EAGAIN;
	len = RTE_MIN(len, room);
	/* The tail's room first: small writes share an mbuf. */
	if (tp->sb_tail != NULL && tp->sb_tail->nb_segs == 1 && RTE_MBUF_DIRECT(tp->sb_tail) &&
	    rte_mbuf_refcnt_read(tp->sb_tail) == 1) {
		struct rte_mbuf *t = tp->sb_tail;
		size_t n = RTE_MIN((size_t)rte_pktmbuf_tailroom(t), len);

		memcpy(rte_pktmbuf_mtod_offset(t, uint8_t *, t->data_len), p, n);
		t->data_len = (uint16_t)(t->data_len + n);
		t->pkt_len += (uint32_t)n;
		tp->sb_bytes += (uint32_t)n;
		done = n;
	}
	while (done < len) {
		struct rte_mbuf *m;
		size_t n;

		if (!sock_mbufs_ok(st->sk, 1) || (m = rte_pktmbuf_alloc(st->pool)) == NULL)
			break;
		m->data_off = 0; /* the payload only: headers go in a segment of their own */
		n = RTE_MIN((size_t)rte_pktmbuf_tailroom(m), len - done);
		memcpy(rte_pktmbuf_mtod(m, uint8_t *), p + done, n);
		m->data_len = (uint16_t)n;
		m->pkt_len = (uint32_t)n;
		tcp_sb_append(s, m);
		done += n;
	}
	if (done == 0)
		return -ENOBUFS;
	/* More to come holds a short last segment, never full ones (as
	 * Linux's MSG_MORE): holding them all, a writer that filled the
	 * buffer with SONDE_MSG_MORE waited for room that nothing made. */
	if (flags & SONDE_MSG_MORE)
		tp->tf |= TF_MORE;
	else
		tp->tf &= ~TF_MORE;
	tcp_output(s);
	tcp_flush(st);
	return (ssize_t)done;
}

ssize_t
tcp_send_mbuf(struct sonde_sock *s, struct rte_mbuf *m)
{
	struct tcp_cb *tp = &s->tcp;
	ssize_t r = tcp_send_check(s);
	uint32_t len = rte_pktmbuf_pkt_len(m);

	if (r)
		return r;
	if (tp->sb_bytes + len > s->sndbuf)
		return -EAGAIN;
	if (!sock_mbufs_ok(s->st->sk, m->nb_segs))
		return -ENOBUFS;
	if (len == 0) {
		rte_pktmbuf_free(m);
		return 0;
	}
	tcp_sb_append(s, m);
	tp->tf &= ~TF_MORE; /* a send without SONDE_MSG_MORE lets the tail go */
	tcp_output(s);
	tcp_flush(s->st);
	return len;
}

/* The window opened by reading: tell the peer when it grew by two
 * segments or half the buffer (RFC 9293 3.8.6.2.2, receiver SWS
 * avoidance). */
static void
tcp_read_done(struct sonde_sock *s)
{
	struct tcp_cb *tp = &s->tcp;
	uint32_t win = tcp_rcv_window(s), adv = tp->rcv_adv - tp->rcv_nxt;

	if (tp->state < TCPS_ESTABLISHED || tp->state == TCPS_TIME_WAIT)
		return;
	/* A window update of its own only when the window the peer has left
	 * is half closed or worse and reading at least doubles it (as Linux's
	 * tcp_cleanup_rbuf); otherwise the ACKs of the data still coming
	 * carry the new edge.  And never by less than the receiver's SWS
	 * avoidance allows (RFC 9293 3.8.6.2.2: 2 segments or half the
	 * buffer).  Without the first test a reader that keeps up sent a pure
	 * update after every burst it read: a third of a segment's cost in
	 * bulk (bench/replay tcp4_bulk). */
	if (win > adv && 2 * (uint64_t)adv <= s->rcvbuf && win >= 2 * adv &&
	    (win - adv >= 2u * tp->rcv_mss || win - adv >= s->rcvbuf / 2)) {
		tp->tf |= TF_ACKNOW;
		tcp_output(s);
		tcp_flush(s->st);
	}
}

struct rte_mbuf *
tcp_m_cut(struct rte_mbuf *m, uint32_t n)
{
	while (n > 0 && m != NULL) {
		struct rte_mbuf *next;

		if (n < m->data_len) {
			m->data_off = (uint16_t)(m->data_off + n);
			m->data_len = (uint16_t)(m->data_len - n);
			m->pkt_len -= n;
			return m;
		}
		n -= m->data_len;
		next = m->next;
		if (next != NULL) {
			next->pkt_len = m->pkt_len - m->data_len;
			next->nb_segs = (uint16_t)(m->nb_segs - 1);
		}
		m->next = NULL;
		m->nb_segs = 1;
		rte_pktmbuf_free_seg(m);
		m = next;
	}
	return m;
}

uint32_t
tcp_queue_cut(struct rte_mbuf **head, struct rte_mbuf **tail, uint32_t n)
{
	uint32_t freed = 0;

	while (n > 0 && *head != NULL) {
		struct rte_mbuf *m = *head, *next = pkt_qnext(m), *rest;
		uint16_t segs = m->nb_segs;
		uint32_t k = RTE_MIN(n, m->pkt_len);

		rest = tcp_m_cut(m, k);
		n -= k;
		if (rest == NULL) {
			*head = next;
			if (next == NULL)
				*tail = NULL;
			freed += segs;
			continue;
		}
		/* The link is in the first segment's metadata: it moves with
		 * the head when that segment went. */
		pkt_set_qnext(rest, next);
		if (*tail == m)
			*tail = rest;
		*head = rest;
		freed += (uint32_t)(segs - rest->nb_segs);
	}
	return freed;
}

void
tcp_queue_copy(struct rte_mbuf *m, uint32_t off, uint8_t *dst, uint32_t len)
{
	for (; len > 0 && m != NULL; m = pkt_qnext(m)) {
		uint32_t k;
		const void *src;

		if (off >= m->pkt_len) {
			off -= m->pkt_len;
			continue;
		}
		k = RTE_MIN(len, m->pkt_len - off);
		src = rte_pktmbuf_read(m, off, k, dst);
		if (src != dst)
			memcpy(dst, src, k);
		dst += k;
		len -= k;
		off = 0;
	}
}

ssize_t
tcp_recv(struct sonde_sock *s, void *buf, size_t len, int flags)
{
	uint32_t n = (uint32_t)RTE_MIN(len, (size_t)s->rq_bytes), freed;

	if (s->tcp.state == TCPS_LISTEN)
		return -ENOTCONN;
	if (n > 0) {
		tcp_queue_copy(s->rq_head, 0, buf, n);
		if (flags & SONDE_MSG_PEEK)
			return n;
		freed = tcp_queue_cut(&s->rq_head, &s->rq_tail, n);
		s->rq_bytes -= n;
		s->rq_mbufs -= freed;
		sock_mbufs_sub(s->st, freed);
		tcp_read_done(s);
		return n;
	}
	if (len == 0)
		return 0;
	if (s->tcp.tf & TF_RCVD_FIN || s->flags & SOCK_F_SHUT_RD)
		return 0;
	if (s->error)
		return s->error;
	if (s->tcp.state == TCPS_CLOSED)
		return (s->flags & SOCK_F_CONNECTED) || s->tcp.iss ? 0 : -ENOTCONN;
	return -EAGAIN;
}

ssize_t
tcp_recv_mbuf(struct sonde_sock *s, struct rte_mbuf **out)
{
	struct rte_mbuf *m = s->rq_head;

	if (m == NULL) {
		if (s->tcp.tf & TF_RCVD_FIN || s->flags & SOCK_F_SHUT_RD)
			return 0;
		if (s->error)
			return s->error;
		return s->tcp.state == TCPS_LISTEN ? -ENOTCONN : -EAGAIN;
	}
	s->rq_head = pkt_qnext(m);
	if (s->rq_head == NULL)
		s->rq_tail = NULL;
	s->rq_bytes -= m->pkt_len;
	s->rq_mbufs -= m->nb_segs;
	sock_mbufs_sub(s->st, m->nb_segs);
	*out = m;
	tcp_read_done(s);
	return m->pkt_len;
}

/* RFC 9293 3.10.4 CLOSE (our side's FIN): the state it moves to. */
static void
tcp_fin_queue(struct sonde_sock *s)
{
	struct tcp_cb *tp = &s->tcp;

	if (tp->tf & TF_FIN_QUEUED)
		return;
	switch (tp->state) {
	case TCPS_SYN_RECEIVED:
	case TCPS_ESTABLISHED: tcp_set_state(s, TCPS_FIN_WAIT_1); break;
	case TCPS_CLOSE_WAIT: tcp_set_state(s, TCPS_LAST_ACK); break;
	default: return;
	}
	tp->tf |= TF_FIN_QUEUED;
	tcp_output(s);
	tcp_flush(s->st);
}

int
tcp_shutdown(struct sonde_sock *s, int how)
{
	struct tcp_cb *tp = &s->tcp;

	if (tp->state == TCPS_CLOSED || tp->state == TCPS_LISTEN || tp->state == TCPS_SYN_SENT)
		return -ENOTCONN;
	if (how != SHUT_WR) {
		s->flags |= SOCK_F_SHUT_RD;
		sock_free_queue(s, s->rq_head);
		s->rq_head = s->rq_tail = NULL;
		s->rq_bytes = s->rq_mbufs = 0;
	}
	if (how != SHUT_RD) {
		s->flags |= SOCK_F_SHUT_WR;
		tcp_fin_queue(s);
	}
	return 0;
}

/* A RST for connection s (RFC 9293 3.10.5 ABORT), then CLOSED. */
static void
tcp_reset(struct sonde_sock *s)
{
	struct tcp_cb *tp = &s->tcp;

	if (tp->state >= TCPS_SYN_RECEIVED && tp->state != TCPS_TIME_WAIT) {
		tcp_send_seg(s, tp->snd_max, 0, TH_RST | TH_ACK, false);
		s->st->stats.tcp_out_rsts++;
		if (tp->state == TCPS_ESTABLISHED || tp->state == TCPS_CLOSE_WAIT)
			s->st->stats.tcp_estab_resets++;
	}
	tcp_closed(s, 0);
}

/* A listener goes: its children, handed out or not, with it. */
static void
tcp_listener_close(struct sonde_sock *s)
{
	while (s->tcp.child_head != NULL) {
		struct sonde_sock *c = s->tcp.child_head;

		tcp_child_unlink(c);
		c->flags |= SOCK_F_CLOSED;
		tcp_reset(c);
	}
	tcp_closed(s, 0);
}

void
tcp_close(struct sonde_sock *s, bool abort)
{
	struct tcp_cb *tp = &s->tcp;

	switch (tp->state) {
	case TCPS_LISTEN: tcp_listener_close(s); break;
	case TCPS_CLOSED:
	case TCPS_SYN_SENT: tcp_closed(s, 0); break;
	default:
		/* RFC 9293 3.10.4 and RFC 2525 2.17: data unread at close is
		 * a reset, so the peer learns it was lost. */
		if (abort || s->rq_bytes > 0) {
			tcp_reset(s);
			break;
		}
		tcp_fin_queue(s);
		/* FIN-WAIT-2 given back: bounded from now.  TIME-WAIT keeps
		 * its 2MSL (closing does not make it longer). */
		if (tp->state == TCPS_FIN_WAIT_2)
			tcp_timer_arm(s, TT_FINWAIT2, 60ull * 1000000000ull);
	}
	tcp_flush(s->st);
}

int
tcp_buffers_changed(struct sonde_sock *s)
{
	if (s->tcp.state >= TCPS_ESTABLISHED)
		tcp_read_done(s);
	return 0;
}

int
tcp_setsockopt(struct sonde_sock *s, enum sonde_sockopt opt, int val)
{
	struct tcp_cb *tp = &s->tcp;

	switch (opt) {
	case SONDE_SO_NODELAY:
		if (val)
			s->flags |= SOCK_F_NODELAY;
		else
			s->flags &= (uint16_t)~SOCK_F_NODELAY;
		if (val && tp->state >= TCPS_ESTABLISHED) {
			tcp_output(s);
			tcp_flush(s->st);
		}
		return 0;
	case SONDE_SO_KEEPALIVE:
		if (val)
			s->flags |= SOCK_F_KEEPALIVE;
		else
			s->flags &= (uint16_t)~SOCK_F_KEEPALIVE;
		if (tp->state == TCPS_ESTABLISHED)
			tcp_rearm_rtx(s);
		return 0;
	case SONDE_SO_KEEPIDLE:
	case SONDE_SO_KEEPINTVL:
		if (val < 1 || val > 86400 * 7)
			return -EINVAL;
		if (opt == SONDE_SO_KEEPIDLE)
			tp->keep_idle_s = (uint32_t)val;
		else
			tp->keep_intvl_s = (uint32_t)val;
		return 0;
	case SONDE_SO_KEEPCNT:
		if (val < 1 || val > 127)
			return -EINVAL;
		tp->keep_cnt = (uint32_t)val;
		return 0;
	case SONDE_SO_CC:
		if (val != SONDE_CC_CUBIC && val != SONDE_CC_NEWRENO)
			return -EINVAL;
		if (val == SONDE_CC_NEWRENO)
			tp->tf |= TF_NEWRENO;
		else
			tp->tf &= ~TF_NEWRENO;
		return 0;
	case SONDE_SO_ECN:
		if (val)
			tp->tf |= TF_WANT_ECN;
		else
			tp->tf &= ~TF_WANT_ECN;
		return 0;
	default: return -ENOPROTOOPT;
	}
}

int
tcp_getsockopt(const struct sonde_sock *s, enum sonde_sockopt opt, int *val)
{
	const struct tcp_cb *tp = &s->tcp;

	switch (opt) {
	case SONDE_SO_NODELAY: *val = !!(s->flags & SOCK_F_NODELAY); return 0;
	case SONDE_SO_KEEPALIVE: *val = !!(s->flags & SOCK_F_KEEPALIVE); return 0;
	case SONDE_SO_KEEPIDLE: *val = (int)tp->keep_idle_s; return 0;
	case SONDE_SO_KEEPINTVL: *val = (int)tp->keep_intvl_s; return 0;
	case SONDE_SO_KEEPCNT: *val = (int)tp->keep_cnt; return 0;
	case SONDE_SO_CC: *val = tp->tf & TF_NEWRENO ? SONDE_CC_NEWRENO : SONDE_CC_CUBIC; return 0;
	case SONDE_SO_ECN: *val = !!(tp->tf & TF_WANT_ECN); return 0;
	default: return -ENOPROTOOPT;
	}
}

/* The stack goes while the interfaces still send: every synchronized
 * connection is reset (RFC 9293 3.10.5), so that no peer waits on a
 * connection that is no more.  sock_fini() frees them after. */
void
tcp_fini_all(struct sonde_stack *st)
{
	struct sock_state *sk = st->sk;
	unsigned rsts = 0;

	if (sk == NULL)
		return;
	for (struct sonde_sock *s = sk->all; s != NULL; s = s->all_next) {
		struct tcp_cb *tp = &s->tcp;

		if (s->proto != IPPROTO_TCP || tp->state < TCPS_SYN_RECEIVED ||
		    tp->state == TCPS_TIME_WAIT)
			continue;
		tcp_send_seg(s, tp->snd_max, 0, TH_RST | TH_ACK, false);
		st->stats.tcp_out_rsts++;
		tcp_set_state(s, TCPS_CLOSED);
		rsts++;
	}
	tcp_flush(st);
	/* Out now: the interfaces drop what they still queue when they go. */
	if (rsts > 0)
		for (unsigned i = 0; i < st->n_ifs; i++)
			if (st->ifs[i] != NULL)
				if_flush(st, st->ifs[i]);
}
