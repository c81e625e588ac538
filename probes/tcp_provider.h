/*
 * tcp_provider.h: the arguments of sonde's tcp and udp probes.
 *
 * For USDT consumers, as ip_provider.h (which this one includes for the
 * structs the providers share): #include <sonde/tcp_provider.h> in a
 * bpftrace script (bpftrace -I, or installed) and cast the arguments:
 *
 *   tcp:::send, receive, connect-request, connect-established,
 *   connect-refused, accept-established, accept-refused
 *     arg0 struct pktinfo_t *   arg1 struct csinfo_t * (NULL: no connection)
 *     arg2 struct ipinfo_t *    arg3 struct tcpsinfo_t *
 *     arg4 struct tcpinfo_t *   arg5 NULL
 *   tcp:::state-change
 *     arg0 NULL                 arg1 struct csinfo_t *
 *     arg2 NULL                 arg3 struct tcpsinfo_t * (the new state)
 *     arg4 NULL                 arg5 struct tcplsinfo_t * (the previous state)
 *   udp:::send, receive
 *     arg0 struct pktinfo_t *   arg1 struct csinfo_t * (NULL: no socket)
 *     arg2 struct ipinfo_t *    arg3 struct udpsinfo_t *
 *     arg4 struct udpinfo_t *   arg5 NULL
 *
 * The layout of the arguments, and the names of the structs and their
 * members, are those of the DTrace tcp and udp providers (illumos,
 * FreeBSD's dtrace_tcp(4) and dtrace_udp(4), Oracle Linux), so D scripts
 * port member for member; tcpsinfo_t adds FreeBSD's tcps_rtt, tcps_rtt_sd
 * and tcps_irs, and three of sonde's own at its end.  As in ip_provider.h,
 * everything has a fixed size, strings are NUL-terminated char arrays,
 * pointers are uint64_t, numbers are in host order, and members are only
 * ever added at the end.  docs/probes.md, in sonde's sources, says where
 * each probe fires and what each member holds.
 *
 * TCP states.  tcps_state is numbered as FreeBSD numbers its states
 * (netinet/tcp_fsm.h), which is the order of RFC 793's state diagram and
 * dtrace_tcp(4)'s: CLOSED 0 ... TIME_WAIT 10, all non-negative.  illumos
 * numbers them otherwise (TCPS_CLOSED -6, TCPS_IDLE -5, TCPS_BOUND -4,
 * TCPS_LISTEN -3, TCPS_SYN_SENT -2, ...), as does Oracle's dtrace-utils
 * after Linux (TCP_ESTABLISHED 1, ...): a D script that tests a state
 * against its system's constants needs these instead.  No string table
 * comes with them: bpftrace 0.17 cannot index a C array of strings from a
 * header (the array is not in the BPF program's memory), so each script
 * carries its own names, in a map filled at BEGIN (see probes/tcpstates.bt).
 *
 * Self-contained: needs nothing but <stdint.h> and ip_provider.h.
 */
#ifndef SONDE_TCP_PROVIDER_H
#define SONDE_TCP_PROVIDER_H

#include <stdint.h>

#include "ip_provider.h"

/* tcps_state, tcplsinfo_t's too: RFC 793's states, FreeBSD's numbers. */
#define TCP_STATE_CLOSED 0
#define TCP_STATE_LISTEN 1
#define TCP_STATE_SYN_SENT 2
#define TCP_STATE_SYN_RECEIVED 3
#define TCP_STATE_ESTABLISHED 4
#define TCP_STATE_CLOSE_WAIT 5
#define TCP_STATE_FIN_WAIT_1 6
#define TCP_STATE_CLOSING 7
#define TCP_STATE_LAST_ACK 8
#define TCP_STATE_FIN_WAIT_2 9
#define TCP_STATE_TIME_WAIT 10

/* tcp_flags: the header's bits (RFC 9293 3.1, RFC 3168 6.1); the same
 * definitions as <netinet/tcp.h>'s, which may come before or after. */
#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_PSH 0x08
#define TH_ACK 0x10
#define TH_URG 0x20
#define TH_ECE 0x40
#define TH_CWR 0x80

/* The TCP header of the segment, host order. */
struct tcpinfo_t {
	uint16_t tcp_sport;    /* source port */
	uint16_t tcp_dport;    /* destination port */
	uint32_t tcp_seq;      /* sequence number */
	uint32_t tcp_ack;      /* acknowledgment number */
	uint8_t tcp_offset;    /* data offset, bytes (the header with its options) */
	uint8_t tcp_flags;     /* TH_* */
	uint16_t tcp_window;   /* window, as sent (not scaled) */
	uint16_t tcp_checksum; /* 0 on send when the port computes it */
	uint16_t tcp_urgent;   /* urgent pointer */
	uint32_t tcp_pad;
	uint64_t tcp_hdr;      /* address of the TCP header */
};

/* The connection, as it is when the probe fires. */
struct tcpsinfo_t {
	uint64_t tcps_addr;              /* the connection (struct sonde_sock *); 0: none */
	int32_t tcps_local;              /* 1: both ends are this stack (by lo0) */
	int32_t tcps_active;             /* 1: opened by connect, 0: accepted */
	uint16_t tcps_lport;             /* local port */
	uint16_t tcps_rport;             /* remote port */
	char tcps_laddr[SONDE_ADDRSTRLEN]; /* local address, text */
	char tcps_raddr[SONDE_ADDRSTRLEN]; /* remote address, text */
	int32_t tcps_state;              /* TCP_STATE_* */
	uint32_t tcps_iss;               /* initial send sequence number */
	uint32_t tcps_suna;              /* oldest unacknowledged (SND.UNA) */
	uint32_t tcps_snxt;              /* next to send (SND.NXT) */
	uint32_t tcps_rack;              /* the highest we acknowledged (last ACK sent) */
	uint32_t tcps_rnxt;              /* next expected (RCV.NXT) */
	uint32_t tcps_swnd;              /* send window, bytes */
	int32_t tcps_snd_ws;             /* send window scale, shift */
	uint32_t tcps_rwnd;              /* receive window, bytes */
	int32_t tcps_rcv_ws;             /* receive window scale, shift */
	uint32_t tcps_cwnd;              /* congestion window, bytes */
	uint32_t tcps_cwnd_ssthresh;     /* slow start threshold, bytes */
	uint32_t tcps_sack_fack;         /* the highest sequence number SACKed */
	uint32_t tcps_sack_snxt;         /* the highest retransmitted in SACK recovery */
	uint32_t tcps_rto;               /* retransmission timeout, ms */
	uint32_t tcps_mss;               /* segment size, bytes */
	int32_t tcps_retransmit;         /* 1: this segment is a retransmission */
	uint32_t tcps_rtt;               /* smoothed round trip time, µs */
	uint32_t tcps_rtt_sd;            /* its variation (RTTVAR), µs */
	uint32_t tcps_irs;               /* initial receive sequence number */
	uint64_t tcps_bytes_acked;       /* bytes sent and acknowledged so far */
	uint64_t tcps_bytes_received;    /* bytes received in order so far */
	uint64_t tcps_start_ns;          /* when the connection was created, stack clock ns */
};

/* The state before a state-change. */
struct tcplsinfo_t {
	int32_t tcps_state; /* TCP_STATE_* */
};

/* The UDP header of the datagram, host order. */
struct udpinfo_t {
	uint16_t udp_sport;    /* source port */
	uint16_t udp_dport;    /* destination port */
	uint16_t udp_length;   /* length, header included */
	uint16_t udp_checksum; /* 0: none (IPv4) */
	uint64_t udp_hdr;      /* address of the UDP header */
};

/* The socket (or, with none, the datagram's ends). */
struct udpsinfo_t {
	uint64_t udps_addr;              /* the socket (struct sonde_sock *); 0: none */
	uint16_t udps_lport;             /* local port */
	uint16_t udps_rport;             /* remote port */
	char udps_laddr[SONDE_ADDRSTRLEN]; /* local address, text */
	char udps_raddr[SONDE_ADDRSTRLEN]; /* remote address, text */
};

typedef struct tcpinfo_t tcpinfo_t;
typedef struct tcpsinfo_t tcpsinfo_t;
typedef struct tcplsinfo_t tcplsinfo_t;
typedef struct udpinfo_t udpinfo_t;
typedef struct udpsinfo_t udpsinfo_t;

#endif
