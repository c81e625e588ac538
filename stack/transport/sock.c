/*
 * sock.c: sockets, both transports: the tables, the event list, ports and
 * source addresses, and the public calls (include/sonde/socket.h), which
 * hand what is the transport's to udp.c and tcp_*.c.
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_random.h>
#include <rte_thash.h>

#include "ip.h"
#include "sock.h"
#include "transport.h"

#define SOCK_DEFAULT_MAX 16384
#define SOCK_DEFAULT_BUF (256u * 1024)

/* --- the event list --- */

void
sock_post(struct sonde_sock *s, uint32_t ev)
{
	struct sock_state *sk = s->st->sk;

	if (s->flags & SOCK_F_CLOSED)
		return;
	s->events |= ev;
	if (s->flags & SOCK_F_EVQ)
		return;
	s->flags |= SOCK_F_EVQ;
	s->ev_next = NULL;
	s->ev_pprev = sk->ev_tail;
	*sk->ev_tail = s;
	sk->ev_tail = &s->ev_next;
}

static void
sock_ev_remove(struct sonde_sock *s)
{
	struct sock_state *sk = s->st->sk;

	if (!(s->flags & SOCK_F_EVQ))
		return;
	*s->ev_pprev = s->ev_next;
	if (s->ev_next != NULL)
		s->ev_next->ev_pprev = s->ev_pprev;
	else
		sk->ev_tail = s->ev_pprev;
	s->flags &= ~SOCK_F_EVQ;
	s->events = 0;
}

unsigned
sonde_events(struct sonde_stack *st, struct sonde_event *ev, unsigned n)
{
	struct sock_state *sk = st->sk;
	unsigned k = 0;

	while (k < n && sk->ev_head != NULL) {
		struct sonde_sock *s = sk->ev_head;

		ev[k].sock = s;
		ev[k].udata = s->udata;
		ev[k].events = s->events;
		k++;
		sock_ev_remove(s);
	}
	return k;
}

/* --- sockets from the pool --- */

struct sonde_sock *
sock_alloc(struct sonde_stack *st, uint8_t proto, uint8_t af)
{
	struct sock_state *sk = st->sk;
	struct sonde_sock *s;
	void *obj;

	if (rte_mempool_get(sk->pool, &obj) != 0 &&
	    (!tcp_tw_recycle(st) || rte_mempool_get(sk->pool, &obj) != 0))
		return NULL;
	s = obj;
	memset(s, 0, sizeof(*s));
	s->cid = (uint64_t)st->id << 48 | ++sk->next_cid;
	s->st = st;
	s->proto = proto;
	s->af = af;
	s->key.proto = proto;
	s->key.af = af;
	s->ifhint = SONDE_IF_NONE;
	s->sndbuf = sk->sndbuf;
	s->rcvbuf = sk->rcvbuf;
	s->all_next = sk->all;
	if (s->all_next != NULL)
		s->all_next->all_pprev = &s->all_next;
	s->all_pprev = &sk->all;
	sk->all = s;
	sk->open++;
	return s;
}

/* Frees a queue of packets linked by pkt_qnext. */
void
sock_free_queue(struct sonde_sock *s, struct rte_mbuf *m)
{
	while (m != NULL) {
		struct rte_mbuf *n = pkt_qnext(m);

		sock_mbufs_sub(s->st, m->nb_segs);
		rte_pktmbuf_free(m);
		m = n;
	}
}

void
sock_free(struct sonde_sock *s)
{
	struct sock_state *sk = s->st->sk;

	sock_ev_remove(s);
	if (s->flags & SOCK_F_CONNECTED)
		sock_unhash_connected(s);
	if (s->flags & SOCK_F_BOUND)
		sock_unhash_bound(s);
	sock_free_queue(s, s->rq_head);
	s->rq_head = s->rq_tail = NULL;
	*s->all_pprev = s->all_next;
	if (s->all_next != NULL)
		s->all_next->all_pprev = s->all_pprev;
	s->flags = SOCK_F_FREED;
	sk->open--;
	rte_mempool_put(sk->pool, s);
}

/* --- the tables --- */

static void
key_bound(const struct sonde_sock *s, struct sock_key *k)
{
	*k = s->key;
	memset(k->raddr, 0, sizeof(k->raddr));
	k->rport = 0;
}

int
sock_hash_connected(struct sonde_sock *s)
{
	struct sock_state *sk = s->st->sk;

	if (rte_hash_lookup(sk->conn, &s->key) >= 0)
		return -EADDRINUSE;
	if (rte_hash_add_key_data(sk->conn, &s->key, s) != 0)
		return -ENOMEM;
	s->flags |= SOCK_F_CONNECTED;
	return 0;
}

void
sock_unhash_connected(struct sonde_sock *s)
{
	rte_hash_del_key(s->st->sk->conn, &s->key);
	s->flags &= ~SOCK_F_CONNECTED;
}

int
sock_hash_bound(struct sonde_sock *s)
{
	struct sock_state *sk = s->st->sk;
	struct sock_key k;

	key_bound(s, &k);
	if (rte_hash_lookup(sk->bound, &k) >= 0)
		return -EADDRINUSE;
	/* An ESP tunnel's port (esp.c): its datagrams are not a socket's. */
	if (s->proto == IPPROTO_UDP &&
	    s->st->udp_service[rte_be_to_cpu_16(k.lport)] == UDP_SERVICE_ENCAP)
		return -EADDRINUSE;
	if (rte_hash_add_key_data(sk->bound, &k, s) != 0)
		return -ENOMEM;
	s->flags |= SOCK_F_BOUND;
	sk->udp_bound += s->proto == IPPROTO_UDP;
	return 0;
}

void
sock_unhash_bound(struct sonde_sock *s)
{
	struct sock_key k;

	key_bound(s, &k);
	rte_hash_del_key(s->st->sk->bound, &k);
	s->flags &= ~SOCK_F_BOUND;
	s->st->sk->udp_bound -= s->proto == IPPROTO_UDP;
}

static void
key_fill(struct sock_key *k, uint8_t proto, uint8_t af, const uint8_t *laddr, uint16_t lport,
	 const uint8_t *raddr, uint16_t rport)
{
	unsigned alen = af == 6 ? 16 : 4;

	memset(k, 0, sizeof(*k));
	if (laddr != NULL)
		memcpy(k->laddr, laddr, alen);
	if (raddr != NULL)
		memcpy(k->raddr, raddr, alen);
	k->lport = lport;
	k->rport = rport;
	k->proto = proto;
	k->af = af;
}

struct sonde_sock *
sock_lookup_bound(struct sonde_stack *st, uint8_t proto, uint8_t af, const uint8_t *laddr,
		  uint16_t lport)
{
	struct sock_state *sk = st->sk;
	struct sock_key k;
	void *data;

	key_fill(&k, proto, af, laddr, lport, NULL, 0);
	if (rte_hash_lookup_data(sk->bound, &k, &data) >= 0)
		return data;
	memset(k.laddr, 0, sizeof(k.laddr));
	if (rte_hash_lookup_data(sk->bound, &k, &data) >= 0)
		return data;
	return NULL;
}

struct sonde_sock *
sock_lookup(struct sonde_stack *st, uint8_t proto, uint8_t af, const uint8_t *laddr, uint16_t lport,
	    const uint8_t *raddr, uint16_t rport)
{
	struct sock_key k;

	key_fill(&k, proto, af, laddr, lport, raddr, rport);
	return sock_lookup_key(st, &k);
}

struct sonde_sock *
sock_lookup_key(struct sonde_stack *st, const struct sock_key *k)
{
	void *data;

	if (rte_hash_lookup_data(st->sk->conn, k, &data) >= 0)
		return data;
	return sock_lookup_bound(st, k->proto, k->af, k->laddr, k->lport);
}

/* --- ports and source addresses --- */

uint16_t
sock_rss_queue(const struct if_rss *rss, uint8_t af, const uint8_t *laddr, const uint8_t *raddr,
	       uint16_t lport, uint16_t rport)
{
	/* The tuple as the NIC hashes a reply: from the remote end to us,
	 * addresses and ports as host-order words (rte_softrss). */
	uint32_t t[RTE_THASH_V6_L4_LEN], n = 0, h;
	unsigned alen = af == 6 ? 16 : 4;

	for (unsigned i = 0; i < alen; i += 4)
		t[n++] = rte_be_to_cpu_32(wire_load32(raddr + i));
	for (unsigned i = 0; i < alen; i += 4)
		t[n++] = rte_be_to_cpu_32(wire_load32(laddr + i));
	t[n++] = (uint32_t)rte_be_to_cpu_16(rport) << 16 | rte_be_to_cpu_16(lport);
	h = rte_softrss(t, n, rss->key);
	return rss->reta[h % rss->reta_size];
}

/* Whether replies to s from its remote end come to this stack's queue,
 * with local port nport (where the port spreads by RSS: socket.h). */
static bool
sock_rss_ok(const struct sonde_sock *s, uint16_t nport)
{
	struct sonde_stack *st = s->st;
	const struct dst *d = s->af == 6 ? dst6(st, s->key.raddr, s->ifhint)
					 : dst4(st, wire_load32(s->key.raddr));
	const struct sonde_if *ifp = d->out;

	/* Over a tunnel: the port its replies come in by, whose stack hands
	 * them on by the same hash of the inner packet (tunnel.c). */
	if (ifp != NULL && ifp->kind->rss_under != NULL)
		ifp = ifp->kind->rss_under(st, ifp);
	if (ifp == NULL || ifp->rss == NULL)
		return true;
	return sock_rss_queue(ifp->rss, s->af, s->key.laddr, s->key.raddr, nport, s->key.rport) ==
	       ifp->queue_id;
}

/* RFC 6056 3.3.3, algorithm 3: an offset by a keyed hash of the remote
 * end (here the CRC of it, seeded with the stack's secret: not a
 * cryptographic F(), but one an off-path attacker does not know), and a
 * counter that moves on by the ports tried.  A port is free towards this
 * remote when no connection has the 4-tuple (TIME-WAIT ones included:
 * RFC 6056 asks that they be avoided), no socket is bound to it, and,
 * on a port that spreads by RSS, the replies hash to our queue. */
int
sock_pick_port(struct sonde_sock *s)
{
	struct sonde_stack *st = s->st;
	struct sock_state *sk = st->sk;
	const uint32_t num = SOCK_EPHEMERAL_MAX - SOCK_EPHEMERAL_MIN + 1;
	bool connected = s->key.rport != 0;
	uint32_t off;

	off = rte_hash_crc(s->key.raddr, sizeof(s->key.raddr), sk->port_secret[0]);
	off = rte_hash_crc(s->key.laddr, sizeof(s->key.laddr), off);
	off = rte_hash_crc_4byte((uint32_t)s->key.rport << 8 | s->proto, off ^ sk->port_secret[1]);
	for (uint32_t i = 0; i < num; i++) {
		uint16_t port =
			(uint16_t)(SOCK_EPHEMERAL_MIN + (off + sk->next_ephemeral + i) % num);
		uint16_t nport = rte_cpu_to_be_16(port);

		if (sock_lookup_bound(st, s->proto, s->af, s->key.laddr, nport) != NULL)
			continue;
		if (connected) {
			s->key.lport = nport;
			if (rte_hash_lookup(sk->conn, &s->key) >= 0 || !sock_rss_ok(s, nport))
				continue;
		}
		sk->next_ephemeral = (uint16_t)(sk->next_ephemeral + i + 1);
		s->key.lport = nport;
		s->flags |= SOCK_F_EPHEMERAL;
		return 0;
	}
	s->key.lport = 0;
	return -EADDRNOTAVAIL;
}

int
sock_source(struct sonde_stack *st, uint8_t af, const uint8_t *raddr, uint16_t *ifhint,
	    uint8_t *laddr)
{
	if (af == 4) {
		uint32_t dst, src;
		const struct dst *d;

		memcpy(&dst, raddr, 4);
		d = dst4(st, dst);
		if (d->out == NULL)
			return -ENETUNREACH;
		if (d->flags & DST_LOCAL) /* to ourselves, by lo0: from the same address */
			src = dst;
		else
			src = ipv4_if_addr(d->out, dst);
		if (src == 0)
			return -EADDRNOTAVAIL;
		memcpy(laddr, &src, 4);
		return 0;
	} else {
		uint8_t nh[16];
		struct sonde_if *ifp;

		if (ipv6_is_local(st, raddr) || ipv6_addr_is_loopback(raddr)) {
			memcpy(laddr, raddr, 16);
			return 0;
		}
		ifp = ipv6_route(st, raddr, *ifhint == SONDE_IF_NONE ? -1 : (int)*ifhint, nh);
		if (ifp == NULL)
			return -ENETUNREACH;
		if (ipv6_addr_is_linklocal(raddr))
			*ifhint = ifp->index;
		if (!ipv6_select_source(ifp, raddr, laddr))
			return -EADDRNOTAVAIL;
		return 0;
	}
}

int
sock_pick_source(struct sonde_sock *s)
{
	return sock_source(s->st, s->af, s->key.raddr, &s->ifhint, s->key.laddr);
}

/* Whether addr (af's length) is one of ours, or the wildcard. */
static bool
sock_addr_ours(struct sonde_stack *st, uint8_t af, const uint8_t *addr)
{
	static const uint8_t zero[16];

	if (memcmp(addr, zero, af == 6 ? 16 : 4) == 0)
		return true;
	if (af == 4) {
		uint32_t a;

		memcpy(&a, addr, 4);
		return ipv4_is_local(st, a) || IN_LOOPBACK_H(rte_be_to_cpu_32(a));
	}
	if (ipv6_addr_is_loopback(addr))
		return true;
	for (unsigned i = 0; i < st->n_ifs; i++)
		if (st->ifs[i] != NULL && ipv6_if_find_addr(st->ifs[i], addr) != NULL)
			return true;
	return false;
}

/* Whether a UDP socket may bind to addr (af's length) though it is not
 * ours: a multicast group, or an IPv4 broadcast address of ours, to take
 * what is sent to it (as BSD and Linux allow). */
static bool
sock_addr_group(struct sonde_stack *st, uint8_t af, const uint8_t *addr)
{
	uint32_t a;

	if (af == 6)
		return ipv6_addr_is_multicast(addr);
	memcpy(&a, addr, 4);
	if (IN_MULTICAST_H(rte_be_to_cpu_32(a)))
		return true;
	for (unsigned i = 0; i < st->n_ifs; i++)
		if (st->ifs[i] != NULL && ipv4_is_broadcast(st, st->ifs[i], a))
			return true;
	return false;
}

/* --- addresses in and out --- */

int
sock_addr_from(uint8_t af, const struct sockaddr *sa, socklen_t len, uint8_t *addr, uint16_t *port)
{
	if (sa == NULL)
		return -EINVAL;
	if (af == 4) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		if (len < sizeof(*in))
			return -EINVAL;
		if (in->sin_family != AF_INET)
			return -EAFNOSUPPORT;
		memset(addr, 0, 16);
		memcpy(addr, &in->sin_addr, 4);
		*port = in->sin_port;
		return 0;
	} else {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

		if (len < sizeof(*in6))
			return -EINVAL;
		if (in6->sin6_family != AF_INET6)
			return -EAFNOSUPPORT;
		memcpy(addr, &in6->sin6_addr, 16);
		*port = in6->sin6_port;
		return 0;
	}
}

int
sock_addr_to(uint8_t af, const uint8_t *addr, uint16_t port, struct sockaddr *sa, socklen_t *len)
{
	if (sa == NULL || len == NULL)
		return 0;
	if (af == 4) {
		struct sockaddr_in in = { .sin_family = AF_INET, .sin_port = port };

		memcpy(&in.sin_addr, addr, 4);
		memcpy(sa, &in, RTE_MIN((size_t)*len, sizeof(in)));
		*len = sizeof(in);
	} else {
		struct sockaddr_in6 in6 = { .sin6_family = AF_INET6, .sin6_port = port };

		memcpy(&in6.sin6_addr, addr, 16);
		memcpy(sa, &in6, RTE_MIN((size_t)*len, sizeof(in6)));
		*len = sizeof(in6);
	}
	return 0;
}

/* --- buffers --- */

struct rte_mbuf *
sock_copy_in(struct sonde_stack *st, const void *buf, size_t len, uint16_t headroom)
{
	struct rte_mbuf *head = NULL, *tail = NULL;
	const uint8_t *p = buf;
	size_t left = len;

	do {
		struct rte_mbuf *m = rte_pktmbuf_alloc(st->pool);
		uint16_t room, n;

		if (m == NULL) {
			rte_pktmbuf_free(head);
			return NULL;
		}
		if (head == NULL) {
			/* The first holds the headers in front: the rest of
			 * its headroom is not needed by the others. */
			rte_pktmbuf_reset_headroom(m);
			head = m;
		} else {
			m->data_off = 0;
			tail->next = m;
			head->nb_segs++;
		}
		(void)headroom;
		room = rte_pktmbuf_tailroom(m);
		n = (uint16_t)RTE_MIN((size_t)room, left);
		memcpy(rte_pktmbuf_mtod(m, uint8_t *), p, n);
		m->data_len = n;
		head->pkt_len += n;
		p += n;
		left -= n;
		tail = m;
	} while (left > 0);
	return head;
}

void
sock_rq_append(struct sonde_sock *s, struct rte_mbuf *m, uint32_t bytes)
{
	pkt_set_qnext(m, NULL);
	if (s->rq_tail != NULL)
		pkt_set_qnext(s->rq_tail, m);
	else
		s->rq_head = m;
	s->rq_tail = m;
	s->rq_bytes += bytes;
	s->rq_mbufs += m->nb_segs;
	sock_mbufs_add(s->st, m->nb_segs);
}

/* --- the public calls --- */

int
sonde_socket(struct sonde_stack *st, int domain, int type, void *udata, struct sonde_sock **out)
{
	struct sonde_sock *s;
	uint8_t proto, af;

	if (domain == AF_INET)
		af = 4;
	else if (domain == AF_INET6)
		af = 6;
	else
		return -EAFNOSUPPORT;
	if (type == SOCK_DGRAM)
		proto = IPPROTO_UDP;
	else if (type == SOCK_STREAM)
		proto = IPPROTO_TCP;
	else
		return -EPROTONOSUPPORT;
	s = sock_alloc(st, proto, af);
	if (s == NULL)
		return -EMFILE;
	s->udata = udata;
	if (proto == IPPROTO_TCP)
		tcp_sock_init(s);
	*out = s;
	return 0;
}

void
sonde_sock_set_udata(struct sonde_sock *s, void *udata)
{
	s->udata = udata;
}

void *
sonde_sock_udata(const struct sonde_sock *s)
{
	return s->udata;
}

int
sonde_bind(struct sonde_sock *s, const struct sockaddr *sa, socklen_t len)
{
	uint8_t addr[16];
	uint16_t port;
	int r;

	if (s->flags & (SOCK_F_BOUND | SOCK_F_CONNECTED) || s->key.lport != 0)
		return -EINVAL;
	r = sock_addr_from(s->af, sa, len, addr, &port);
	if (r)
		return r;
	if (!sock_addr_ours(s->st, s->af, addr) &&
	    !(s->proto == IPPROTO_UDP && sock_addr_group(s->st, s->af, addr)))
		return -EADDRNOTAVAIL;
	memcpy(s->key.laddr, addr, 16);
	if (port == 0) {
		r = sock_pick_port(s);
		if (r)
			return r;
	} else {
		s->key.lport = port;
	}
	r = sock_hash_bound(s);
	if (r) {
		memset(s->key.laddr, 0, 16);
		s->key.lport = 0;
	}
	return r;
}

/* The listener's address, port, backlog, options and udata, for every
 * linked stack to make its own (socket.h: each takes the connections RSS
 * brings it).  b's 16 bytes: port, backlog, flags, udata. */
static void
sock_listen_post(struct sonde_sock *s, int backlog)
{
	struct sonde_prefix a = { .af = s->af == 6 ? AF_INET6 : AF_INET }, b = { 0 };
	uint16_t bl = (uint16_t)RTE_MIN(backlog, 65535), fl = s->flags & SOCK_F_OPTIONS;
	uint64_t ud = (uint64_t)(uintptr_t)s->udata;

	memcpy(a.addr.v6, s->key.laddr, 16);
	memcpy(b.addr.v6, &s->key.lport, 2);
	memcpy(b.addr.v6 + 2, &bl, 2);
	memcpy(b.addr.v6 + 4, &fl, 2);
	memcpy(b.addr.v6 + 6, &ud, 8);
	peer_post_cmd(s->st, PEER_LISTEN, -1, &a, &b);
}

int
sock_listen_peer(struct sonde_stack *st, const struct sonde_prefix *a, const struct sonde_prefix *b)
{
	struct sockaddr_storage ss = { 0 };
	struct sonde_sock *s;
	uint16_t port, bl, fl;
	uint64_t ud;
	socklen_t len = sizeof(ss);
	int r;

	memcpy(&port, b->addr.v6, 2);
	memcpy(&bl, b->addr.v6 + 2, 2);
	memcpy(&fl, b->addr.v6 + 4, 2);
	memcpy(&ud, b->addr.v6 + 6, 8);
	r = sonde_socket(st, a->af, SOCK_STREAM, (void *)(uintptr_t)ud, &s);
	if (r)
		return r;
	s->flags |= fl & SOCK_F_OPTIONS;
	sock_addr_to(a->af == AF_INET6 ? 6 : 4, a->addr.v6, port, (struct sockaddr *)&ss, &len);
	r = sonde_bind(s, (struct sockaddr *)&ss, len);
	if (r == 0)
		r = sonde_listen(s, bl);
	if (r)
		sonde_close(s);
	return r;
}

int
sonde_listen(struct sonde_sock *s, int backlog)
{
	bool was = s->flags & SOCK_F_LISTEN;
	int r;

	if (s->proto != IPPROTO_TCP)
		return -EOPNOTSUPP;
	r = tcp_listen(s, backlog);
	if (r == 0 && !was)
		sock_listen_post(s, backlog);
	return r;
}

int
sonde_accept(struct sonde_sock *s, void *udata, struct sonde_sock **out, struct sockaddr *peer,
	     socklen_t *len)
{
	if (s->proto != IPPROTO_TCP)
		return -EOPNOTSUPP;
	return tcp_accept(s, udata, out, peer, len);
}

int
sonde_connect(struct sonde_sock *s, const struct sockaddr *sa, socklen_t len)
{
	uint8_t addr[16];
	uint16_t port;
	int r;

	r = sock_addr_from(s->af, sa, len, addr, &port);
	if (r)
		return r;
	if (port == 0)
		return -EINVAL;
	if (s->proto == IPPROTO_UDP)
		return udp_connect(s, addr, port);
	return tcp_connect(s, addr, port);
}

ssize_t
sonde_send(struct sonde_sock *s, const void *buf, size_t len, int flags)
{
	return sonde_sendto(s, buf, len, flags, NULL, 0);
}

ssize_t
sonde_sendto(struct sonde_sock *s, const void *buf, size_t len, int flags,
	     const struct sockaddr *sa, socklen_t alen)
{
	if (s->proto == IPPROTO_TCP)
		return tcp_send(s, buf, len, flags);
	return udp_send(s, buf, len, sa, alen);
}

ssize_t
sonde_recv(struct sonde_sock *s, void *buf, size_t len, int flags)
{
	return sonde_recvfrom(s, buf, len, flags, NULL, NULL);
}

ssize_t
sonde_recvfrom(struct sonde_sock *s, void *buf, size_t len, int flags, struct sockaddr *from,
	       socklen_t *flen)
{
	if (s->proto == IPPROTO_TCP) {
		ssize_t r = tcp_recv(s, buf, len, flags);

		if (r >= 0 && from != NULL)
			sonde_getpeername(s, from, flen);
		return r;
	}
	return udp_recv(s, buf, len, flags, from, flen);
}

ssize_t
sonde_send_mbuf(struct sonde_sock *s, struct rte_mbuf *m, const struct sockaddr *sa, socklen_t alen)
{
	if (s->proto == IPPROTO_TCP)
		return tcp_send_mbuf(s, m);
	return udp_send_mbuf(s, m, sa, alen);
}

ssize_t
sonde_recv_mbuf(struct sonde_sock *s, struct rte_mbuf **m, struct sockaddr *from, socklen_t *flen)
{
	if (s->proto == IPPROTO_TCP) {
		ssize_t r = tcp_recv_mbuf(s, m);

		if (r >= 0 && from != NULL)
			sonde_getpeername(s, from, flen);
		return r;
	}
	return udp_recv_mbuf(s, m, from, flen);
}

int
sonde_shutdown(struct sonde_sock *s, int how)
{
	if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR)
		return -EINVAL;
	if (s->proto == IPPROTO_UDP) {
		if (how != SHUT_WR)
			s->flags |= SOCK_F_SHUT_RD;
		if (how != SHUT_RD)
			s->flags |= SOCK_F_SHUT_WR;
		return s->flags & SOCK_F_CONNECTED ? 0 : -ENOTCONN;
	}
	return tcp_shutdown(s, how);
}

int
sonde_close(struct sonde_sock *s)
{
	sock_ev_remove(s);
	s->flags |= SOCK_F_CLOSED;
	if (s->proto == IPPROTO_UDP) {
		sock_free(s);
		return 0;
	}
	tcp_close(s, (s->flags & SOCK_F_LINGER0) != 0);
	return 0;
}

void
sonde_abort(struct sonde_sock *s)
{
	sock_ev_remove(s);
	s->flags |= SOCK_F_CLOSED;
	if (s->proto == IPPROTO_UDP)
		sock_free(s);
	else
		tcp_close(s, true);
}

int
sonde_getsockname(const struct sonde_sock *s, struct sockaddr *addr, socklen_t *len)
{
	return sock_addr_to(s->af, s->key.laddr, s->key.lport, addr, len);
}

int
sonde_getpeername(const struct sonde_sock *s, struct sockaddr *addr, socklen_t *len)
{
	if (!(s->flags & SOCK_F_CONNECTED))
		return -ENOTCONN;
	return sock_addr_to(s->af, s->key.raddr, s->key.rport, addr, len);
}

int
sonde_sock_error(const struct sonde_sock *s)
{
	return s->error;
}

static int
sock_flag(struct sonde_sock *s, uint16_t f, int val)
{
	if (val)
		s->flags |= f;
	else
		s->flags &= (uint16_t)~f;
	return 0;
}

int
sonde_setsockopt(struct sonde_sock *s, enum sonde_sockopt opt, int val)
{
	switch (opt) {
	case SONDE_SO_SNDBUF:
	case SONDE_SO_RCVBUF:
		if (val < 2048 || val > (1 << 30))
			return -EINVAL;
		if (opt == SONDE_SO_SNDBUF)
			s->sndbuf = (uint32_t)val;
		else
			s->rcvbuf = (uint32_t)val;
		return s->proto == IPPROTO_TCP ? tcp_buffers_changed(s) : 0;
	case SONDE_SO_LINGER0: return sock_flag(s, SOCK_F_LINGER0, val);
	case SONDE_SO_REUSEADDR: return sock_flag(s, SOCK_F_REUSEADDR, val);
	default:
		if (s->proto != IPPROTO_TCP)
			return -ENOPROTOOPT;
		return tcp_setsockopt(s, opt, val);
	}
}

int
sonde_getsockopt(const struct sonde_sock *s, enum sonde_sockopt opt, int *val)
{
	switch (opt) {
	case SONDE_SO_SNDBUF: *val = (int)s->sndbuf; return 0;
	case SONDE_SO_RCVBUF: *val = (int)s->rcvbuf; return 0;
	case SONDE_SO_LINGER0: *val = !!(s->flags & SOCK_F_LINGER0); return 0;
	case SONDE_SO_REUSEADDR: *val = !!(s->flags & SOCK_F_REUSEADDR); return 0;
	default:
		if (s->proto != IPPROTO_TCP)
			return -ENOPROTOOPT;
		return tcp_getsockopt(s, opt, val);
	}
}

uint32_t
sonde_sock_unsent(const struct sonde_sock *s)
{
	return s->proto == IPPROTO_TCP ? s->tcp.sb_bytes : 0;
}

uint32_t
sonde_sock_readable(const struct sonde_sock *s)
{
	return s->rq_bytes;
}

/* --- the layer --- */

/* Every socket starts marked as in the pool (a guard for tests). */
static void
sock_obj_init(struct rte_mempool *mp, void *arg, void *obj, unsigned idx)
{
	struct sonde_sock *s = obj;

	(void)mp, (void)arg, (void)idx;
	memset(s, 0, sizeof(*s));
	s->flags = SOCK_F_FREED;
}

static int
sock_init(struct sonde_stack *st, const struct sonde_conf *conf)
{
	struct rte_hash_parameters hp = { 0 };
	struct sock_state *sk;
	uint32_t n = conf->max_sockets ? conf->max_sockets : SOCK_DEFAULT_MAX;
	char name[RTE_HASH_NAMESIZE];
	uint64_t r;

	sk = rte_zmalloc("sonde_sk", sizeof(*sk), RTE_CACHE_LINE_SIZE);
	if (sk == NULL)
		return -ENOMEM;
	st->sk = sk;
	sk->ev_tail = &sk->ev_head;
	sk->tw_tail = &sk->tw_head;
	sk->sndbuf = conf->sndbuf ? conf->sndbuf : SOCK_DEFAULT_BUF;
	sk->rcvbuf = conf->rcvbuf ? conf->rcvbuf : SOCK_DEFAULT_BUF;
	sk->mbufs_max = conf->sock_mbufs ? conf->sock_mbufs : st->pool->size / 2;
	for (unsigned i = 0; i < 4; i++)
		sk->port_secret[i] = (uint32_t)rte_rand();
	for (unsigned i = 0; i < 16; i += 8) {
		r = rte_rand();
		memcpy(sk->isn_key + i, &r, 8);
		r = rte_rand();
		memcpy(sk->cookie_key + i, &r, 8);
	}
	sk->next_ephemeral = (uint16_t)rte_rand();
	snprintf(name, sizeof(name), "ssk%u_%x", st->id, (unsigned)(uintptr_t)st);
	sk->pool = rte_mempool_create(name, n, sizeof(struct sonde_sock), 0, 0, NULL, NULL,
				      sock_obj_init, NULL, (int)rte_socket_id(),
				      RTE_MEMPOOL_F_SP_PUT | RTE_MEMPOOL_F_SC_GET |
					      RTE_MEMPOOL_F_NO_IOVA_CONTIG);
	if (sk->pool == NULL)
		return -rte_errno;
	hp.entries = n < 8 ? 8 : n;
	hp.key_len = sizeof(struct sock_key);
	hp.hash_func = rte_hash_crc;
	hp.socket_id = (int)rte_socket_id();
	hp.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
	snprintf(name, sizeof(name), "sskc%u_%x", st->id, (unsigned)(uintptr_t)st);
	hp.name = name;
	sk->conn = rte_hash_create(&hp);
	if (sk->conn == NULL)
		return -rte_errno;
	snprintf(name, sizeof(name), "sskb%u_%x", st->id, (unsigned)(uintptr_t)st);
	sk->bound = rte_hash_create(&hp);
	if (sk->bound == NULL)
		return -rte_errno;
	return 0;
}

static void
sock_fini(struct sonde_stack *st)
{
	struct sock_state *sk = st->sk;

	if (sk == NULL)
		return;
	/* What the application did not close, and TCP's that were left
	 * (tcp_fini_all ran at the stop). */
	while (sk->all != NULL) {
		struct sonde_sock *s = sk->all;

		if (s->proto == IPPROTO_TCP)
			tcp_free(s);
		else
			sock_free(s);
	}
	rte_hash_free(sk->conn);
	rte_hash_free(sk->bound);
	rte_mempool_free(sk->pool);
	rte_free(sk);
	st->sk = NULL;
}

const struct sonde_layer sock_layer = {
	.name = "sock",
	.init = sock_init,
	.fini = sock_fini,
};
