/*
 * tcp.h: TCP (RFC 9293) for both families (private to libsonde).
 *
 * tcp_input.c: segment arrival (RFC 9293 3.10.7), SYN cookies, RFC 5961;
 * tcp_output.c: what to send and when (windows, Nagle, SACK
 * retransmission), segments built, timers; tcp_cc.c: congestion control
 * (NewReno, CUBIC) and the SACK scoreboard; tcp_sock.c: the API's TCP
 * half.  Sequence numbers compare with the SEQ_* macros (modulo 2^32).
 */
#ifndef SONDE_TCP_H
#define SONDE_TCP_H

#include <stdbool.h>
#include <stdint.h>

#include "timer.h"

struct rte_mbuf;
struct sock_key;
struct sonde_sock;
struct sonde_stack;

/* States, as in RFC 9293 3.3.2, numbered as FreeBSD's (and the
 * TCP_STATE_* constants of the user header, tcp_provider.h). */
enum tcp_state {
	TCPS_CLOSED,
	TCPS_LISTEN,
	TCPS_SYN_SENT,
	TCPS_SYN_RECEIVED,
	TCPS_ESTABLISHED,
	TCPS_CLOSE_WAIT,
	TCPS_FIN_WAIT_1,
	TCPS_CLOSING,
	TCPS_LAST_ACK,
	TCPS_FIN_WAIT_2,
	TCPS_TIME_WAIT,
};

#define SEQ_LT(a, b) ((int32_t)((a) - (b)) < 0)
#define SEQ_LEQ(a, b) ((int32_t)((a) - (b)) <= 0)
#define SEQ_GT(a, b) ((int32_t)((a) - (b)) > 0)
#define SEQ_GEQ(a, b) ((int32_t)((a) - (b)) >= 0)
#define SEQ_MAX(a, b) (SEQ_GT(a, b) ? (a) : (b))
#define SEQ_MIN(a, b) (SEQ_LT(a, b) ? (a) : (b))

/* Header flags. */
#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_PSH 0x08
#define TH_ACK 0x10
#define TH_URG 0x20
#define TH_ECE 0x40
#define TH_CWR 0x80

#define TCP_HDR_LEN 20
#define TCP_OPT_MAX 40
#define TCP_SACK_BLOCKS 4     /* a receiver reports at most (RFC 2018: 3 with timestamps) */
#define TCP_SACK_HOLES 16     /* SACKed ranges the sender keeps (the scoreboard) */
#define TCP_MAX_WSCALE 14     /* RFC 7323 2.3 */
#define TCP_DEFAULT_MSS 536   /* RFC 9293 3.7.1, IPv4 */
#define TCP_DEFAULT_MSS6 1220 /* RFC 8200 5: 1280 - 60 */

/* tcp_cb.tf: what the connection does and has agreed to. */
#define TF_ACKNOW 0x0001     /* send an ACK at the next output */
#define TF_DELACK 0x0002     /* an ACK is owed, held by the delayed-ACK timer */
#define TF_TS 0x0004	     /* timestamps agreed (RFC 7323) */
#define TF_WS 0x0008	     /* window scaling agreed */
#define TF_SACK 0x0010	     /* SACK permitted both ways (RFC 2018) */
#define TF_ECN 0x0020	     /* ECN agreed (RFC 3168 6.1.1) */
#define TF_ECE 0x0040	     /* a CE arrived: send ECE until CWR */
#define TF_CWR 0x0080	     /* send CWR on the next new data */
#define TF_FIN_QUEUED 0x0100 /* shutdown: a FIN follows the data */
#define TF_FIN_SENT 0x0200
#define TF_RECOVERY 0x0400 /* in fast recovery (RFC 6582, RFC 6675) */
#define TF_PERSIST 0x0800  /* the timer is the zero-window probe's */
#define TF_QUICKACK 0x1000 /* ack every segment (the start, out of order) */
#define TF_COOKIE 0x2000   /* made from a SYN cookie */
#define TF_RTT 0x4000	   /* timing a segment (rtt_seq), without timestamps */
#define TF_RCVD_FIN 0x8000
#define TF_WANT_ECN 0x10000   /* ask for ECN on connect (SONDE_SO_ECN) */
#define TF_NEWRENO 0x20000    /* NewReno, not CUBIC */
#define TF_ACTIVE 0x40000     /* opened actively (connect), for tcpsinfo_t */
#define TF_LOCAL 0x80000      /* to one of our own addresses (by lo0) */
#define TF_FIN_ACKED 0x100000 /* our FIN is acknowledged */
#define TF_MORE 0x200000      /* the last send said more follows: hold a short tail */

/* tcp_cb.timer_kind: what the one timer of a connection is for (RFC 6298
 * retransmission, zero-window probe, keepalive, 2MSL, connection
 * establishment); the delayed ACK has its own. */
enum tcp_timer_kind {
	TT_NONE,
	TT_RTX,
	TT_PERSIST,
	TT_KEEP,
	TT_2MSL,
	TT_FINWAIT2,
};

struct tcp_sack_range {
	uint32_t start, end;
};

struct tcp_cb {
	uint8_t state; /* enum tcp_state */
	uint8_t timer_kind;
	uint8_t snd_wscale, rcv_wscale; /* shift counts (RFC 7323 2.2) */
	uint32_t tf;			/* TF_* */

	/* Send sequence space (RFC 9293 3.3.1). */
	uint32_t iss, snd_una, snd_nxt, snd_max, snd_wnd, snd_wl1, snd_wl2;
	uint32_t snd_max_wnd; /* the largest window the peer offered */
	/* Receive sequence space. */
	uint32_t irs, rcv_nxt, rcv_wnd, rcv_adv; /* rcv_adv: right edge advertised */
	uint16_t mss;				 /* send: segment size, options aside */
	uint16_t rcv_mss;			 /* what we announced */
	uint16_t peer_mss;			 /* what the peer announced */
	uint16_t ts_len; /* option bytes every segment carries (timestamps) */

	/* Timestamps (RFC 7323 3, 5). */
	uint32_t ts_recent, ts_recent_age; /* age: our ms clock when set */
	uint32_t last_ack_sent;
	uint32_t ts_offset; /* added to our clock: a per-connection random start */

	/* Round trip (RFC 6298), microseconds. */
	uint32_t srtt_us, rttvar_us, rto_us, rtt_min_us;
	uint32_t rtt_seq;    /* TF_RTT: the segment timed */
	uint64_t rtt_start;  /* its send time, ns */
	uint8_t backoff;     /* RTOs in a row */
	uint8_t dupacks;     /* RFC 5681 3.2 */
	uint8_t keep_probes; /* unanswered */
	uint8_t syn_rtx;     /* SYN or SYN-ACK retransmissions */

	/* Congestion control (tcp_cc.c), bytes. */
	uint32_t cwnd, ssthresh;
	uint32_t recover;      /* RFC 6582: snd_max when recovery began */
	uint32_t high_rxt;     /* RFC 6675: the highest retransmitted */
	uint32_t rescue_rxt;   /* RFC 6675 4: the rescue retransmission */
	uint32_t sacked_bytes; /* the scoreboard's total */
	uint32_t ecn_seq;      /* RFC 3168 6.1.2: once per window */
	struct {
		uint64_t epoch_ns; /* the congestion avoidance epoch's start; 0: none */
		uint32_t w_max;	   /* bytes, before the last reduction */
		uint32_t w_last_max;
		uint32_t k_us;	  /* time to reach w_max again */
		uint32_t w_est;	  /* the Reno-friendly estimate (RFC 9438 4.3) */
		uint32_t ack_cnt; /* bytes acked in this epoch, for w_est */
	} cubic;
	uint8_t n_sacked;
	struct tcp_sack_range sacked[TCP_SACK_HOLES]; /* sorted, disjoint, above snd_una */

	/* What we tell the peer in SACK blocks (RFC 2018 4): the most recent
	 * first. */
	uint8_t n_rcv_sack;
	struct tcp_sack_range rcv_sack[TCP_SACK_BLOCKS];

	/* Send buffer: the bytes from snd_una on, sent or not, in mbufs
	 * (data at the payload) linked by pkt_qnext; sb_bytes of them. */
	struct rte_mbuf *sb_head, *sb_tail;
	uint32_t sb_bytes, sb_mbufs;
	/* Where the last copy out of it stopped: a packet of the buffer and
	 * its offset from snd_una, so that sending at snd_nxt does not walk
	 * the buffer from its head each time. */
	struct rte_mbuf *sb_cur;
	uint32_t sb_cur_off;
	/* Out-of-order segments, data at their payload, linked by pkt_qnext
	 * and sorted by their sequence number (pkt_meta scratch[2]). */
	struct rte_mbuf *ooo_head;
	uint32_t ooo_bytes, ooo_mbufs;

	/* Timers on the stack's wheel. */
	struct timer timer;  /* enum tcp_timer_kind */
	struct timer dack;   /* the delayed ACK */
	uint64_t idle_since; /* ns: the last segment received (keepalive) */
	uint64_t last_send;  /* ns: the last segment sent (RFC 7661-ish idle restart) */
	uint32_t keep_idle_s, keep_intvl_s, keep_cnt;

	/* A listener's: connections half open (SYN-RECEIVED), and those
	 * established and waiting for accept. */
	struct sonde_sock *parent;   /* a child's listener, until accepted */
	struct sonde_sock *acc_next; /* the accept queue's link */
	struct sonde_sock *acc_head, *acc_tail;
	/* Every child not yet accepted (SYN-RECEIVED or in the accept
	 * queue), so that a listener that goes takes them along. */
	struct sonde_sock *child_head;
	struct sonde_sock *child_next, **child_pprev;
	/* In TIME-WAIT: the stack's list of them, oldest first (tcp_tw_*). */
	struct sonde_sock *tw_next, **tw_pprev;
	uint16_t backlog, acc_len, syn_len;
	uint8_t segs_unacked; /* full segments received since our last ACK */
	uint8_t ecn_ip;	      /* the ECN bits of the segment being processed */

	/* Counted per connection, for tcpsinfo_t and tcplife. */
	uint32_t retransmits; /* segments retransmitted */
	uint64_t bytes_acked, bytes_received;
	uint64_t start_ns; /* created */
};

/* The layer (stack/layers.c). */
extern const struct sonde_layer tcp_layer;

/* A parsed segment (tcp_input.c), host order. */
struct tcp_opts {
	uint16_t mss;
	uint8_t ws;   /* 0xff: none */
	bool sack_ok; /* SACK permitted */
	bool ts;      /* timestamps present */
	uint32_t tsval, tsecr;
	uint8_t n_sack;
	struct tcp_sack_range sack[TCP_SACK_BLOCKS];
};

struct tcp_seg {
	uint32_t seq, ack;
	uint32_t wnd; /* as on the wire (unscaled) */
	uint32_t len; /* payload bytes */
	uint16_t sport, dport;
	uint8_t flags;
	uint8_t hlen; /* header with options, bytes */
	uint8_t ecn;  /* the IP header's ECN bits */
	struct tcp_opts o;
};

/* The ms clock of timestamps (RFC 7323 5.4: between 1 ms and 1 s a tick). */
static inline uint32_t
tcp_ts_now(const struct tcp_cb *tp, uint64_t now_ns)
{
	return (uint32_t)(now_ns / 1000000u) + tp->ts_offset;
}

/* tcp_sock.c */
/* Every send-side sequence variable from our ISS, and (once the peer's is
 * known, irs) every receive-side one: nothing compares against a zero
 * that means nothing in sequence space. */
void tcp_seq_init_snd(struct tcp_cb *tp, uint32_t iss);
void tcp_seq_init_rcv(struct tcp_cb *tp, uint32_t irs);
void tcp_set_state(struct sonde_sock *s, uint8_t state);
/* The connection is over (CLOSED): freed if nobody holds it, else kept for
 * the application to read its error and close. */
void tcp_closed(struct sonde_sock *s, int err);
void tcp_free(struct sonde_sock *s);
/* n bytes off the front of packet m (a chain: whole segments freed); the
 * new head, or NULL when it was all of it. */
struct rte_mbuf *tcp_m_cut(struct rte_mbuf *m, uint32_t n);
/* n bytes off the front of a queue of packets linked by pkt_qnext (the
 * send buffer, what the application reads); the segments freed. */
uint32_t tcp_queue_cut(struct rte_mbuf **head, struct rte_mbuf **tail, uint32_t n);
/* len bytes from offset off of the queue starting at m, to dst. */
void tcp_queue_copy(struct rte_mbuf *m, uint32_t off, uint8_t *dst, uint32_t len);
/* The connection reached ESTABLISHED (either way). */
void tcp_established(struct sonde_sock *s);
uint32_t tcp_isn(struct sonde_stack *st, const struct sock_key *k);
uint32_t tcp_cookie_make(struct sonde_stack *st, const struct sock_key *k, uint32_t peer_isn,
			 uint16_t mss, uint16_t *mss_out);
/* The MSS a cookie (our ISN, ack - 1) encodes, or 0 if it is not ours. */
uint16_t tcp_cookie_check(struct sonde_stack *st, const struct sock_key *k, uint32_t peer_isn,
			  uint32_t cookie);
/* A child of listener ls for the segment's 4-tuple, in SYN-RECEIVED. */
struct sonde_sock *tcp_child_new(struct sonde_sock *ls, const struct sock_key *k);
void tcp_child_unlink(struct sonde_sock *s);

/* tcp_output.c */
/* Sends what the connection may and should: data, SYN, FIN, an ACK owed. */
void tcp_output(struct sonde_sock *s);
/* One segment of s: seq, len bytes of the send buffer from seq, flags. */
int tcp_send_seg(struct sonde_sock *s, uint32_t seq, uint32_t len, uint8_t flags, bool rtx);
void tcp_send_ack(struct sonde_sock *s);
/* A RST (or, ack_only, an ACK) in reply to segment m (data at its IP
 * header, borrowed) that has no connection: RFC 9293 3.10.7.1. */
void tcp_respond_rst(struct sonde_stack *st, const struct rte_mbuf *m, const struct tcp_seg *sg);
/* The segments built since the last flush, to IP. */
void tcp_flush(struct sonde_stack *st);
void tcp_timer_arm(struct sonde_sock *s, uint8_t kind, uint64_t delay_ns);
void tcp_timer_stop(struct sonde_sock *s);
void tcp_rearm_rtx(struct sonde_sock *s);
void tcp_rtt_sample(struct sonde_sock *s, uint32_t rtt_us);
uint16_t tcp_mss_for(struct sonde_stack *st, uint8_t af, const uint8_t *raddr);
uint32_t tcp_rcv_window(const struct sonde_sock *s);
void tcp_timer_fn(struct timer *t, void *ctx);
/* An ACK is owed for what arrived: now, or by the delayed-ACK rule. */
void tcp_ack_owed(struct sonde_sock *s, bool now);
void tcp_time_wait(struct sonde_sock *s);
/* The pool is empty: frees the connection longest in TIME-WAIT among those
 * the application gave back (FreeBSD's tcp_tw_2msl_scan(reuse) does the
 * same), counted in tcp.tw_recycled.  False if there is none. */
bool tcp_tw_recycle(struct sonde_stack *st);
#define TCP_2MSL_NS 60000000000ull /* as Linux: MSL taken as 30 s */
#define TCP_TW_SCAN 64		   /* TIME-WAITs tcp_tw_recycle looks at, at most */
/* The peer's FIN again in TIME-WAIT: 2MSL from now, last in the list. */
void tcp_tw_restart(struct sonde_sock *s);
void tcp_dack_fn(struct timer *t, void *ctx);

/* tcp_cc.c: congestion control and the SACK scoreboard */
void tcp_cc_init(struct sonde_sock *s);
/* acked bytes newly acknowledged, out of recovery. */
void tcp_cc_ack(struct sonde_sock *s, uint32_t acked);
/* Loss detected by dupacks or SACK (enter recovery), or by ECN. */
void tcp_cc_loss(struct sonde_sock *s);
void tcp_cc_rto(struct sonde_sock *s);
/* The peer's SACK blocks into the scoreboard; the bytes they SACK that
 * were neither SACKed nor acknowledged before. */
uint32_t tcp_sack_update(struct sonde_sock *s, const struct tcp_opts *o);
void tcp_sack_trim(struct sonde_sock *s);
/* RFC 6675 SetPipe(). */
uint32_t tcp_pipe(const struct sonde_sock *s);
/* RFC 6675 NextSeg() rule 1: a lost sequence not yet retransmitted,
 * with its length into *len; false if none. */
bool tcp_next_lost(const struct sonde_sock *s, uint32_t *seq, uint32_t *len);
/* Whether snd_una counts as lost (RFC 6675 IsLost). */
bool tcp_sack_lost_una(const struct sonde_sock *s);
bool tcp_sacked(const struct sonde_sock *s, uint32_t seq);

/* Until the tcp provider lands (probes.h declares these then). */
#if defined(SONDE_PROBES_H) && !defined(PROBE_TCP_F_RETRANSMIT)
enum probe_tcp_kind {
	PROBE_TCP_SEND,
	PROBE_TCP_RECEIVE,
	PROBE_TCP_CONNECT_REQUEST,
	PROBE_TCP_CONNECT_ESTABLISHED,
	PROBE_TCP_CONNECT_REFUSED,
	PROBE_TCP_ACCEPT_ESTABLISHED,
	PROBE_TCP_ACCEPT_REFUSED
};
#define PROBE_TCP_F_RETRANSMIT 0x1
static inline void
probe_tcp(const struct sonde_stack *st, enum probe_tcp_kind kind, const struct rte_mbuf *m,
	  const struct sonde_sock *s, unsigned flags)
{
	(void)st, (void)kind, (void)m, (void)s, (void)flags;
}
static inline void
probe_tcp_state(const struct sonde_stack *st, const struct sonde_sock *s, unsigned old)
{
	(void)st, (void)s, (void)old;
}
#endif

#endif
