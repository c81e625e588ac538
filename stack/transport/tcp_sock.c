/*
 * tcp_sock.c: the API's TCP half.  SCAFFOLD: every call refuses until the
 * TCP state machine lands (this session's next commits).
 */
#include <errno.h>

#include "sock.h"

void
tcp_sock_init(struct sonde_sock *s)
{
	(void)s;
}

int
tcp_listen(struct sonde_sock *s, int backlog)
{
	(void)s, (void)backlog;
	return -EOPNOTSUPP;
}

int
tcp_accept(struct sonde_sock *s, void *udata, struct sonde_sock **out, struct sockaddr *peer,
	   socklen_t *len)
{
	(void)s, (void)udata, (void)out, (void)peer, (void)len;
	return -EOPNOTSUPP;
}

int
tcp_connect(struct sonde_sock *s, const uint8_t *raddr, uint16_t rport)
{
	(void)s, (void)raddr, (void)rport;
	return -EOPNOTSUPP;
}

ssize_t
tcp_send(struct sonde_sock *s, const void *buf, size_t len, int flags)
{
	(void)s, (void)buf, (void)len, (void)flags;
	return -EOPNOTSUPP;
}

ssize_t
tcp_send_mbuf(struct sonde_sock *s, struct rte_mbuf *m)
{
	(void)s, (void)m;
	return -EOPNOTSUPP;
}

ssize_t
tcp_recv(struct sonde_sock *s, void *buf, size_t len, int flags)
{
	(void)s, (void)buf, (void)len, (void)flags;
	return -EOPNOTSUPP;
}

ssize_t
tcp_recv_mbuf(struct sonde_sock *s, struct rte_mbuf **m)
{
	(void)s, (void)m;
	return -EOPNOTSUPP;
}

int
tcp_shutdown(struct sonde_sock *s, int how)
{
	(void)s, (void)how;
	return -EOPNOTSUPP;
}

void
tcp_close(struct sonde_sock *s, bool abort)
{
	(void)abort;
	sock_free(s);
}

int
tcp_buffers_changed(struct sonde_sock *s)
{
	(void)s;
	return 0;
}

int
tcp_setsockopt(struct sonde_sock *s, enum sonde_sockopt opt, int val)
{
	(void)s, (void)opt, (void)val;
	return -ENOPROTOOPT;
}

int
tcp_getsockopt(const struct sonde_sock *s, enum sonde_sockopt opt, int *val)
{
	(void)s, (void)opt, (void)val;
	return -ENOPROTOOPT;
}

void
tcp_fini_all(struct sonde_stack *st)
{
	(void)st;
}
