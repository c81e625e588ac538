/*
 * socket.h: UDP and TCP sockets on a sonde stack, both families.
 *
 * The calls are BSD's, made non-blocking and explicit about their stack:
 * every one returns at once, with a result or a negative errno (-EAGAIN
 * where a BSD socket would block).  Addresses are struct sockaddr_in and
 * sockaddr_in6, ports and addresses in network order, as for BSD.  An
 * AF_INET6 socket speaks IPv6 only (IPV6_V6ONLY): a server that takes
 * both families opens a socket for each.
 *
 * Readiness: an event list, drained after sonde_poll().
 *
 *	for (;;) {
 *		sonde_poll(st, sonde_now(st));
 *		n = sonde_events(st, ev, 64);
 *		for (i = 0; i < n; i++)
 *			handle(ev[i].sock, ev[i].udata, ev[i].events);
 *	}
 *
 * Why a list and not callbacks (lwIP's raw API): a callback runs in the
 * middle of the stack's own work (a segment half processed, a burst half
 * sent), so what it may call has to be restricted and every caller of it
 * made safe against a socket that vanishes under it.  With a list the
 * stack has finished its work when the application runs: in the
 * handling of an event the application may call anything here, on any
 * socket (send, close, open, accept), and the stack is consistent.  It is
 * the model of F-Stack's ff_epoll and smoltcp's socket set, at the cost
 * of one copy of a 24-byte record per event.
 *
 * Events are edge-triggered, like EPOLLET: a socket is posted when
 * something new happens to it (data or a FIN arrived, a connection
 * waits to be accepted, room opened in its send buffer, a connect
 * completed, an error), once until it is drained, with the bits
 * accumulated.  Read, accept or send until -EAGAIN, then wait for the
 * next event.  A socket is in the list at most once, so the list is
 * bounded by the number of sockets; events of a socket closed before the
 * list is drained are taken out of it.
 *
 * Sockets and lcores: a socket belongs to the stack it was made on, and
 * only that stack's lcore may touch it.  A TCP listener made on a linked
 * stack (sonde_stacks_link) is made on every stack of the group, with the
 * same address, options and udata (at each sibling's next poll): each
 * takes the connections RSS brings to its queue and posts them on its
 * own event list, for its own lcore to accept.  Each is its own socket:
 * the one an lcore first hears of by an event is that lcore's to close
 * (closing one closes no other); a sibling that has a listener on the
 * address already keeps it (counted, peer.cmd_failed).  An active open picks a local port whose RSS
 *hash (the port's Toeplitz key, rte_thash) brings the replies to the queue of the stack that opened
 *it; on a port that does not spread by RSS (net_tap, net_memif), replies come to whatever queue the
 *driver picks, and a connection is reliable only on the stack that owns that queue (in practice:
 *one stack per port).
 *
 * Buffers: data is held in mbufs from the stack's pool, the pool the
 * ports receive into.  Each socket's buffers are bounded in bytes
 * (SONDE_SO_SNDBUF, SONDE_SO_RCVBUF) and the stack's together in mbufs
 * (sonde_conf.sock_mbufs): a send past either bound returns what fit, or
 * -EAGAIN (room to come) or -ENOBUFS (the pool or the stack's share is
 * out: try later); a segment or datagram received past them is dropped
 * with a reason and counted, never held at the cost of the ports' rings.
 *
 * Zero copy: sonde_send_mbuf() takes a chain the application filled;
 * sonde_recv_mbuf() hands over the mbufs the stack received the data in.
 */
#ifndef SONDE_SOCKET_H
#define SONDE_SOCKET_H

#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "sonde.h"

struct rte_mbuf;
struct sonde_sock;

/* Event bits. */
#define SONDE_EV_IN                                                                 \
	0x01		  /* data to read, or the peer's FIN (recv then returns 0); \
			     a listener: a connection to accept */
#define SONDE_EV_OUT 0x02 /* room to send; a TCP connect completed */
#define SONDE_EV_HUP 0x04 /* the peer will send nothing more (TCP FIN received) */
#define SONDE_EV_ERR                                                  \
	0x08 /* an error: sonde_sock_error() says which; a TCP socket \
		with it is dead (reset, refused, timed out) */

struct sonde_event {
	struct sonde_sock *sock;
	void *udata; /* the socket's, as given to sonde_socket() or set since */
	uint32_t events;
};

/* Up to n events posted since the last call, oldest first. */
unsigned sonde_events(struct sonde_stack *st, struct sonde_event *ev, unsigned n);

/* A socket of domain AF_INET or AF_INET6 and type SOCK_DGRAM (UDP) or
 * SOCK_STREAM (TCP).  udata comes back with its events.  -EAFNOSUPPORT,
 * -EPROTONOSUPPORT, -EMFILE (sonde_conf.max_sockets), -ENOMEM. */
int sonde_socket(struct sonde_stack *st, int domain, int type, void *udata,
		 struct sonde_sock **out);
void sonde_sock_set_udata(struct sonde_sock *s, void *udata);
void *sonde_sock_udata(const struct sonde_sock *s);

/* Local address and port; port 0 picks a free one (RFC 6056), the
 * wildcard address takes what comes to any of the stack's.  -EADDRINUSE,
 * -EADDRNOTAVAIL (not an address of this stack), -EINVAL (bound already),
 * -EAFNOSUPPORT (another family than the socket's). */
int sonde_bind(struct sonde_sock *s, const struct sockaddr *addr, socklen_t len);

/* TCP: listens, with at most backlog connections (1..65535) established and
 * not yet accepted, and as many half-open ones before SYN cookies (RFC
 * 4987) take over.  Binds to a free port first if unbound.  On linked
 * stacks, also opens the listener on every other stack (see the top). */
int sonde_listen(struct sonde_sock *s, int backlog);

/* The next established connection of listener s: *out, with udata, and the
 * peer's address in peer (if not NULL; *len in: its size, out: the
 * address's).  -EAGAIN: none yet.  The new socket may already hold data:
 * events for it are posted as for any other (IN if it does, OUT). */
int sonde_accept(struct sonde_sock *s, void *udata, struct sonde_sock **out, struct sockaddr *peer,
		 socklen_t *len);

/* TCP: opens a connection; -EINPROGRESS, then OUT when it is established
 * or ERR when it failed (sonde_sock_error(): -ECONNREFUSED, -ETIMEDOUT,
 * -EHOSTUNREACH, -ENETUNREACH).  -EISCONN, -EALREADY, -EADDRNOTAVAIL (no
 * source address towards it, or no free port).  UDP: sets the peer
 * sonde_send() sends to and the only one datagrams are taken from; 0. */
int sonde_connect(struct sonde_sock *s, const struct sockaddr *addr, socklen_t len);

/* Flags for send and recv. */
#define SONDE_MSG_MORE 0x01 /* TCP: more follows, hold a segment that is not full (as MSG_MORE) */
#define SONDE_MSG_PEEK 0x02 /* recv: leave the data there */

/* TCP: copies up to len bytes into the send buffer and returns how many it
 * took (fewer when it fills: then OUT comes when there is room); -EAGAIN
 * when it is full, -ENOTCONN before the connection is established,
 * -EPIPE after shutdown or a reset (and then ERR), -ENOBUFS when the
 * pool is short.  UDP: sends one datagram to the connected peer, whole
 * or not at all (-EMSGSIZE past 65507 bytes, or 65527 for IPv6;
 * -EDESTADDRREQ unconnected; -EHOSTUNREACH no route, the datagram then
 * counted as dropped; -ENOBUFS the pool is short; -EPIPE after SHUT_WR),
 * or an error an ICMP message left on a connected socket, once (see
 * sonde_sock_error). */
ssize_t sonde_send(struct sonde_sock *s, const void *buf, size_t len, int flags);
/* UDP: one datagram to addr (NULL: the connected peer).  An unbound
 * socket is bound to a free port first (as BSD); from the bound address,
 * else the one the route to addr gives. */
ssize_t sonde_sendto(struct sonde_sock *s, const void *buf, size_t len, int flags,
		     const struct sockaddr *addr, socklen_t alen);
/* TCP: up to len bytes of the stream; 0 once the peer's FIN is reached;
 * -EAGAIN when there is nothing yet; -ECONNRESET after a reset.  UDP: the
 * next datagram, cut to len (the rest is lost, as for BSD), its sender in
 * from (if not NULL); with none queued, an error an ICMP message left,
 * once, else -EAGAIN. */
ssize_t sonde_recv(struct sonde_sock *s, void *buf, size_t len, int flags);
ssize_t sonde_recvfrom(struct sonde_sock *s, void *buf, size_t len, int flags,
		       struct sockaddr *from, socklen_t *flen);

/* Zero copy.  sonde_send_mbuf: m (a chain, its data the payload: the
 * stack prepends its headers in front, TCP in a segment of its own) is the
 * stack's once this returns 0 or a positive count: TCP appends it whole
 * to the send buffer (-EAGAIN: no room for all of it, m still the
 * caller's); UDP sends it as one datagram to addr (NULL: the peer), its
 * headers in m's own headroom when m is direct, not shared and has 62
 * bytes of it, else in a segment of their own.  UDP's errors leave m the
 * caller's, but -EHOSTUNREACH: IP had it, found no route and dropped it
 * (counted, as sonde_send's), so m is gone.
 * sonde_recv_mbuf: *m is the next mbuf chain of received data (TCP: the
 * stream's next bytes, as they arrived; UDP: one datagram), data at the
 * payload, the caller's to free; returns its length, 0 at the FIN,
 * -EAGAIN when there is none. */
ssize_t sonde_send_mbuf(struct sonde_sock *s, struct rte_mbuf *m, const struct sockaddr *addr,
			socklen_t alen);
ssize_t sonde_recv_mbuf(struct sonde_sock *s, struct rte_mbuf **m, struct sockaddr *from,
			socklen_t *flen);

/* TCP: SHUT_WR sends a FIN once the buffered data has gone; SHUT_RD
 * throws away what arrives from now on; SHUT_RDWR both.  -ENOTCONN. */
int sonde_shutdown(struct sonde_sock *s, int how);
/* Gives the socket back: s is invalid once this returns, and its events
 * are no longer posted.  TCP: the connection closes in the background as
 * after shutdown(SHUT_RDWR) (FIN after the data, TIME-WAIT), or at once
 * with a RST with SONDE_SO_LINGER0 set or data left unread (RFC 9293
 * 3.10.4, RFC 2525 2.17).  A listener resets the connections it has not
 * handed out. */
int sonde_close(struct sonde_sock *s);
/* As close, with a RST (RFC 9293 3.10.5: ABORT) whatever the options. */
void sonde_abort(struct sonde_sock *s);

int sonde_getsockname(const struct sonde_sock *s, struct sockaddr *addr, socklen_t *len);
/* -ENOTCONN when there is no peer. */
int sonde_getpeername(const struct sonde_sock *s, struct sockaddr *addr, socklen_t *len);
/* The socket's error, a negative errno, or 0; reading it does not clear
 * it.  UDP: what the last ICMP error about a connected socket's datagrams
 * said (-ECONNREFUSED port unreachable, -EHOSTUNREACH, -ENETUNREACH,
 * ...: Linux's mapping; not packet too big, as IP fragments to the path
 * MTU), which the next send or recv returns once and clears (BSD's
 * so_error); an unconnected socket is not told. */
int sonde_sock_error(const struct sonde_sock *s);

/* Options, an int each. */
enum sonde_sockopt {
	SONDE_SO_NODELAY = 1, /* TCP: no Nagle (RFC 1122 4.2.3.4); default 0 */
	SONDE_SO_KEEPALIVE,   /* TCP: keepalive probes (RFC 1122 4.2.3.6); default 0 */
	SONDE_SO_KEEPIDLE,    /* seconds idle before the first (7200) */
	SONDE_SO_KEEPINTVL,   /* seconds between probes (75) */
	SONDE_SO_KEEPCNT,     /* probes unanswered before the connection is dropped (9) */
	SONDE_SO_SNDBUF,      /* bytes the send buffer holds (sonde_conf.sndbuf) */
	SONDE_SO_RCVBUF,      /* bytes the receive buffer holds (sonde_conf.rcvbuf); the \
				 window scale is fixed at the SYN by the value then */
	SONDE_SO_LINGER0,     /* close sends a RST, at once (SO_LINGER with l_linger 0) */
	SONDE_SO_CC,	      /* TCP congestion control: enum sonde_cc; before connect/listen */
	SONDE_SO_ECN,	      /* TCP: ask for ECN (RFC 3168) on connect; default 1 */
	SONDE_SO_REUSEADDR,   /* bind to a port with connections in TIME-WAIT */
};

enum sonde_cc { SONDE_CC_CUBIC, SONDE_CC_NEWRENO };

/* 0, -ENOPROTOOPT (not for this kind of socket), -EINVAL (a bad value). */
int sonde_setsockopt(struct sonde_sock *s, enum sonde_sockopt opt, int val);
int sonde_getsockopt(const struct sonde_sock *s, enum sonde_sockopt opt, int *val);

/* TCP: bytes waiting in the send buffer, sent or not (as SIOCOUTQ), and
 * bytes to read (SIOCINQ). */
uint32_t sonde_sock_unsent(const struct sonde_sock *s);
uint32_t sonde_sock_readable(const struct sonde_sock *s);

#endif
