/*
 * sock.h: sockets, both transports (private to libsonde).
 *
 * A struct sonde_sock is what the application holds and what the probes
 * report as the connection (pkt_meta's conn, csinfo_t's cs_addr; cs_cid
 * is its cid).  UDP sockets and TCP connections alike live in two
 * rte_hash tables of the stack: connected ones by their 4-tuple, bound
 * ones by local address and port (the wildcard address as all zeros).
 * Demux tries the 4-tuple, then the local address, then the wildcard
 * (RFC 9293 3.9.2.1's fully and partially specified sockets).
 *
 * Sockets come from a mempool of the stack (sonde_conf.max_sockets of
 * them), TCP's state and all: no malloc on the data path.
 *
 * Queued packets are linked through their pkt_meta (pkt_qnext): the
 * mbuf's own next is for the segments of one packet.
 */
#ifndef SONDE_SOCK_H
#define SONDE_SOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "sonde/socket.h"

#include "ip.h"
#include "stack.h"
#include "tcp.h"

/* The hash key: IPv4 addresses in the first 4 bytes, the rest zero; ports
 * in network order; raddr and rport zero for a bound-only socket. */
struct sock_key {
	uint8_t laddr[16];
	uint8_t raddr[16];
	uint16_t lport, rport;
	uint8_t proto; /* IPPROTO_TCP, IPPROTO_UDP */
	uint8_t af;    /* 4 or 6 */
	uint8_t pad[2];
};

/* sock.flags */
#define SOCK_F_BOUND 0x0001	/* in the bound table (key without the remote) */
#define SOCK_F_CONNECTED 0x0002 /* in the connected table (the whole key) */
#define SOCK_F_CLOSED 0x0004	/* the application gave it back: no events */
#define SOCK_F_EVQ 0x0008	/* on the event list */
#define SOCK_F_SHUT_RD 0x0010
#define SOCK_F_SHUT_WR 0x0020
#define SOCK_F_LISTEN 0x0040
#define SOCK_F_LINGER0 0x0080
#define SOCK_F_NODELAY 0x0100
#define SOCK_F_KEEPALIVE 0x0200
#define SOCK_F_REUSEADDR 0x0400
#define SOCK_F_EPHEMERAL 0x0800 /* its port was picked by the stack */
/* What a listener made on a linked stack copies. */
#define SOCK_F_OPTIONS (SOCK_F_LINGER0 | SOCK_F_NODELAY | SOCK_F_KEEPALIVE | SOCK_F_REUSEADDR)
#define SOCK_F_FREED 0x8000 /* back in the pool (a guard for tests) */

struct sonde_sock {
	/* The connection id (cs_cid): unique for the stack's life. */
	uint64_t cid;
	struct sonde_stack *st;
	void *udata;
	uint8_t proto; /* IPPROTO_TCP or IPPROTO_UDP */
	uint8_t af;    /* 4 or 6 */
	uint16_t flags;
	int error;	 /* a negative errno, or 0 */
	uint32_t events; /* SONDE_EV_* posted and not yet drained */
	struct sonde_sock *ev_next, **ev_pprev;
	struct sonde_sock *all_next, **all_pprev; /* every socket out of the pool */
	struct sock_key key;
	uint16_t ifhint; /* IPv6 link-local peer: its interface; else SONDE_IF_NONE */

	/* Received data: packets (TCP: in order, data at the payload; UDP:
	 * whole datagrams, data at the IP header) linked by pkt_qnext. */
	struct rte_mbuf *rq_head, *rq_tail;
	uint32_t rq_bytes, rq_mbufs;
	uint32_t sndbuf, rcvbuf;

	struct tcp_cb tcp; /* TCP's, zero for UDP */
};

/* The link of queued packets, in their pkt_meta (scratch, 8 bytes). */
static inline struct rte_mbuf *
pkt_qnext(struct rte_mbuf *m)
{
	struct rte_mbuf *n;

	memcpy(&n, pkt_meta(m)->scratch, sizeof(n));
	return n;
}

static inline void
pkt_set_qnext(struct rte_mbuf *m, struct rte_mbuf *n)
{
	memcpy(pkt_meta(m)->scratch, &n, sizeof(n));
}

/* What the stack keeps for its sockets (st->sk). */
struct sock_state {
	struct rte_mempool *pool; /* struct sonde_sock, max_sockets of them */
	struct rte_hash *conn;	  /* 4-tuple -> sock */
	struct rte_hash *bound;	  /* local address and port -> sock */
	struct sonde_sock *ev_head, **ev_tail;
	struct sonde_sock *all; /* every socket out of the pool, for the stack's end */
	/* Connections in TIME-WAIT, in the order they entered it (all wait
	 * as long: the oldest ends first): sock_alloc takes the oldest one
	 * the application gave back when the pool is empty. */
	struct sonde_sock *tw_head, **tw_tail;
	uint64_t next_cid;
	uint32_t mbufs, mbufs_max; /* held in socket buffers, all sockets */
	uint32_t sndbuf, rcvbuf;   /* defaults */
	uint32_t open;		   /* sockets out of the pool */
	uint32_t udp_bound;	   /* UDP sockets in the bound table: none, no demux */
	uint32_t port_secret[4];   /* RFC 6056's F() key */
	uint16_t next_ephemeral;
	struct ratelimit challenge_rl; /* RFC 5961 7: challenge ACKs */
	uint8_t isn_key[16];	       /* RFC 6528 */
	uint8_t cookie_key[16];	       /* RFC 4987 */
	/* TCP's segments built and not yet handed to IP, by family: sent
	 * a burst at a time (tcp_flush). */
	struct ip_out tcp_out[2];
	/* Connections a run of segments touched: their output (ACKs, data
	 * the ACKs let go) once the run is through. */
	struct sonde_sock *touched[SONDE_BURST];
	unsigned n_touched;
};

#define SOCK_EPHEMERAL_MIN 49152 /* RFC 6335 6: the dynamic range */
#define SOCK_EPHEMERAL_MAX 65535

/* Posts events for s (nothing after the application closed it). */
void sock_post(struct sonde_sock *s, uint32_t ev);
/* A socket from the pool, zeroed, of proto and af; NULL when there is none. */
struct sonde_sock *sock_alloc(struct sonde_stack *st, uint8_t proto, uint8_t af);
/* Back to the pool: out of the tables and the event list, its queues freed. */
void sock_free(struct sonde_sock *s);
/* Into the connected table by s->key (whole); -EADDRINUSE if taken. */
int sock_hash_connected(struct sonde_sock *s);
void sock_unhash_connected(struct sonde_sock *s);
int sock_hash_bound(struct sonde_sock *s);
void sock_unhash_bound(struct sonde_sock *s);
/* The socket for a packet: by the 4-tuple, then local address and port,
 * then the wildcard; NULL if none.  Addresses as in struct sock_key. */
struct sonde_sock *sock_lookup(struct sonde_stack *st, uint8_t proto, uint8_t af,
			       const uint8_t *laddr, uint16_t lport, const uint8_t *raddr,
			       uint16_t rport);
/* The same for a key built already (whole: raddr and rport the remote's). */
struct sonde_sock *sock_lookup_key(struct sonde_stack *st, const struct sock_key *k);
/* A local port for s towards its key's remote (RFC 6056 algorithm 3, and
 * RSS on linked stacks): written into s->key.lport; -EADDRNOTAVAIL when
 * none is free. */
int sock_pick_port(struct sonde_sock *s);
/* The queue a port's RSS puts a segment from raddr:rport to laddr:lport
 * in (ports in network order): the Toeplitz hash (rte_softrss) and the
 * redirection table. */
uint16_t sock_rss_queue(const struct if_rss *rss, uint8_t af, const uint8_t *laddr,
			const uint8_t *raddr, uint16_t lport, uint16_t rport);
/* The source address towards s->key.raddr into s->key.laddr, and the
 * interface for a link-local one: -ENETUNREACH, -EADDRNOTAVAIL. */
int sock_pick_source(struct sonde_sock *s);
/* The same for any remote raddr of family af: the source into laddr;
 * *ifhint in, the interface a link-local raddr is on (SONDE_IF_NONE: by
 * the route), out, the one it leaves by. */
int sock_source(struct sonde_stack *st, uint8_t af, const uint8_t *raddr, uint16_t *ifhint,
		uint8_t *laddr);
/* Queue a received packet on s (the tail). */
void sock_rq_append(struct sonde_sock *s, struct rte_mbuf *m, uint32_t bytes);
/* Whether the stack's socket buffers may take n more mbufs. */
static inline bool
sock_mbufs_ok(const struct sock_state *sk, uint32_t n)
{
	return sk->mbufs + n <= sk->mbufs_max;
}

/* sockaddr <-> key halves. */
int sock_addr_from(uint8_t af, const struct sockaddr *sa, socklen_t len, uint8_t *addr,
		   uint16_t *port);
int sock_addr_to(uint8_t af, const uint8_t *addr, uint16_t port, struct sockaddr *sa,
		 socklen_t *len);

/* Frees a queue of packets linked by pkt_qnext, uncounting their mbufs. */
void sock_free_queue(struct sonde_sock *s, struct rte_mbuf *m);
/* The bound socket for local address laddr (then the wildcard) and port. */
struct sonde_sock *sock_lookup_bound(struct sonde_stack *st, uint8_t proto, uint8_t af,
				     const uint8_t *laddr, uint16_t lport);
/* len bytes of buf in a chain from the stack's pool, the first mbuf with
 * its full headroom (for the headers); NULL when the pool is short. */
struct rte_mbuf *sock_copy_in(struct sonde_stack *st, const void *buf, size_t len,
			      uint16_t headroom);

static inline void
sock_mbufs_add(struct sonde_stack *st, uint32_t n)
{
	st->sk->mbufs += n;
}

static inline void
sock_mbufs_sub(struct sonde_stack *st, uint32_t n)
{
	st->sk->mbufs -= n;
}

/* The transports' halves of the API (udp.c, tcp_*.c). */
int udp_connect(struct sonde_sock *s, const uint8_t *raddr, uint16_t rport);
ssize_t udp_send(struct sonde_sock *s, const void *buf, size_t len, const struct sockaddr *sa,
		 socklen_t alen);
ssize_t udp_send_mbuf(struct sonde_sock *s, struct rte_mbuf *m, const struct sockaddr *sa,
		      socklen_t alen);
ssize_t udp_recv(struct sonde_sock *s, void *buf, size_t len, int flags, struct sockaddr *from,
		 socklen_t *flen);
ssize_t udp_recv_mbuf(struct sonde_sock *s, struct rte_mbuf **m, struct sockaddr *from,
		      socklen_t *flen);

void tcp_sock_init(struct sonde_sock *s);
int tcp_listen(struct sonde_sock *s, int backlog);
int tcp_accept(struct sonde_sock *s, void *udata, struct sonde_sock **out, struct sockaddr *peer,
	       socklen_t *len);
int tcp_connect(struct sonde_sock *s, const uint8_t *raddr, uint16_t rport);
ssize_t tcp_send(struct sonde_sock *s, const void *buf, size_t len, int flags);
ssize_t tcp_send_mbuf(struct sonde_sock *s, struct rte_mbuf *m);
ssize_t tcp_recv(struct sonde_sock *s, void *buf, size_t len, int flags);
ssize_t tcp_recv_mbuf(struct sonde_sock *s, struct rte_mbuf **m);
int tcp_shutdown(struct sonde_sock *s, int how);
/* The application gave s back (SOCK_F_CLOSED set): close or abort. */
void tcp_close(struct sonde_sock *s, bool abort);
int tcp_buffers_changed(struct sonde_sock *s);
int tcp_setsockopt(struct sonde_sock *s, enum sonde_sockopt opt, int val);
int tcp_getsockopt(const struct sonde_sock *s, enum sonde_sockopt opt, int *val);
/* The stack goes: every connection reset (RST sent) and freed. */
void tcp_fini_all(struct sonde_stack *st);

extern const struct sonde_layer sock_layer;

#endif
