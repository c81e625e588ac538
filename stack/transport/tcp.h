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
#define TF_WANT_ECN 0x10000 /* ask for ECN on connect (SONDE_SO_ECN) */
#define TF_NEWRENO 0x20000  /* NewReno, not CUBIC */
#define TF_ACTIVE 0x40000   /* opened actively (connect), for tcpsinfo_t */
#define TF_LOCAL 0x80000    /* to one of our own addresses (by lo0) */

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
	uint16_t ts_len;			 /* option bytes every segment carries (timestamps) */

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
	/* Out-of-order segments, data at their payload, linked by pkt_qnext
	 * and sorted by their sequence number (pkt_meta scratch[2]). */
	struct rte_mbuf *ooo_head;
	uint32_t ooo_bytes, ooo_mbufs;

	/* Timers on the stack's wheel. */
	struct timer timer;   /* enum tcp_timer_kind */
	struct timer dack;    /* the delayed ACK */
	uint64_t idle_since;  /* ns: the last segment received (keepalive) */
	uint64_t last_send;   /* ns: the last segment sent (RFC 7661-ish idle restart) */
	uint32_t keep_idle_s, keep_intvl_s, keep_cnt;

	/* A listener's: connections half open (SYN-RECEIVED), and those
	 * established and waiting for accept. */
	struct sonde_sock *parent;   /* a child's listener, until accepted */
	struct sonde_sock *acc_next; /* the accept queue's link */
	struct sonde_sock *acc_head, *acc_tail;
	uint16_t backlog, acc_len, syn_len;

	/* Counted per connection, for tcpsinfo_t and tcplife. */
	uint32_t retransmits; /* segments retransmitted */
	uint64_t bytes_acked, bytes_received;
	uint64_t start_ns; /* created */
};

/* The layer (stack/layers.c). */
extern const struct sonde_layer tcp_layer;

#endif
