/*
 * test_tcp.c: TCP between two stacks on a wire, on a fake clock
 * (tcp_pair.h): handshakes, transfers, closes, resets, losses.
 */
#include <errno.h>
#include <string.h>

#include <arpa/inet.h>

#include "sock.h"
#include "tcp_pair.h"

/* A one-way transfer: A connects to B's listener and sends total bytes
 * (byte i is i * 7 % 251), then shuts down; B reads it all, checks it,
 * and closes at the FIN; A closes at B's FIN. */
struct xfer {
	struct pair *p;
	struct sonde_sock *ls, *cs, *ss; /* listener (B), client (A), server (B) */
	uint64_t total, sent, rcvd;
	bool bad, a_eof, b_eof, shut, connected;
	int a_err;
	uint8_t buf[65536];
};

static uint8_t
pat(uint64_t i)
{
	return (uint8_t)(i * 7 % 251);
}

static void
xfer_send(struct xfer *x)
{
	while (x->sent < x->total) {
		size_t n = (size_t)RTE_MIN(x->total - x->sent, (uint64_t)sizeof(x->buf));
		ssize_t r;

		for (size_t i = 0; i < n; i++)
			x->buf[i] = pat(x->sent + i);
		r = sonde_send(x->cs, x->buf, n, 0);
		if (r <= 0) {
			assert_true(r == -EAGAIN || r == -ENOBUFS);
			return;
		}
		x->sent += (uint64_t)r;
	}
	if (!x->shut) {
		assert_int_equal(sonde_shutdown(x->cs, SHUT_WR), 0);
		x->shut = true;
	}
}

static void
xfer_a(struct xfer *x)
{
	struct sonde_event ev[16];
	unsigned n = sonde_events(x->p->a, ev, 16);

	for (unsigned i = 0; i < n; i++) {
		assert_ptr_equal(ev[i].sock, x->cs);
		if (ev[i].events & SONDE_EV_ERR)
			x->a_err = sonde_sock_error(x->cs);
		if (ev[i].events & SONDE_EV_OUT) {
			x->connected = true;
			xfer_send(x);
		}
		if (ev[i].events & SONDE_EV_IN) {
			ssize_t r = sonde_recv(x->cs, x->buf, sizeof(x->buf), 0);

			if (r == 0 && !x->a_eof) {
				x->a_eof = true;
				assert_int_equal(sonde_close(x->cs), 0);
			}
		}
	}
}

static void
xfer_b(struct xfer *x)
{
	struct sonde_event ev[16];
	unsigned n = sonde_events(x->p->b, ev, 16);

	for (unsigned i = 0; i < n; i++) {
		if (ev[i].sock == x->ls) {
			if (sonde_accept(x->ls, x, &x->ss, NULL, NULL) != 0)
				continue;
		}
		if (x->ss == NULL || x->b_eof)
			continue;
		for (;;) {
			ssize_t r = sonde_recv(x->ss, x->buf, sizeof(x->buf), 0);

			if (r == -EAGAIN)
				break;
			if (r == 0) {
				x->b_eof = true;
				assert_int_equal(sonde_close(x->ss), 0);
				break;
			}
			assert_true(r > 0);
			for (ssize_t j = 0; j < r; j++)
				if (x->buf[j] != pat(x->rcvd + (uint64_t)j))
					x->bad = true;
			x->rcvd += (uint64_t)r;
		}
	}
}

static bool
xfer_done(void *arg)
{
	struct xfer *x = arg;

	xfer_a(x);
	xfer_b(x);
	return x->a_eof && x->b_eof;
}

static void
xfer_start(struct xfer *x, struct pair *p, int af, uint16_t port, uint64_t total)
{
	struct sockaddr_storage ss;
	socklen_t len;

	memset(x, 0, sizeof(*x));
	x->p = p;
	x->total = total;
	assert_int_equal(sonde_socket(p->b, af, SOCK_STREAM, NULL, &x->ls), 0);
	len = pair_addr(af, true, port, &ss);
	assert_int_equal(sonde_bind(x->ls, (struct sockaddr *)&ss, len), 0);
	assert_int_equal(sonde_listen(x->ls, 16), 0);
	assert_int_equal(sonde_socket(p->a, af, SOCK_STREAM, x, &x->cs), 0);
	assert_int_equal(sonde_connect(x->cs, (struct sockaddr *)&ss, len), -EINPROGRESS);
}

static void
transfer(int af, uint64_t total)
{
	struct pair p;
	struct xfer *x = calloc(1, sizeof(*x));

	pair_start(&p, NULL);
	xfer_start(x, &p, af, 5001, total);
	assert_true(pair_run(&p, 100000, 60 * SEC, xfer_done, x));
	assert_false(x->bad);
	assert_int_equal(x->rcvd, total);
	assert_int_equal(sonde_stat(p.a, "tcp.retrans_segs"), 0);
	sonde_close(x->ls);
	pair_finish(&p);
	free(x);
}

static void
test_transfer4(void **state)
{
	(void)state;
	transfer(AF_INET, 4 << 20);
}

static void
test_transfer6(void **state)
{
	(void)state;
	transfer(AF_INET6, 4 << 20);
}

/* RFC 9293 3.10.7.1: a SYN to a closed port gets a RST; connect fails
 * with ECONNREFUSED. */
static void
test_refused(void **state)
{
	struct sonde_event ev[4];
	struct sockaddr_storage ss;
	struct sonde_sock *cs;
	struct pair p;
	socklen_t len;
	unsigned n;

	(void)state;
	pair_start(&p, NULL);
	assert_int_equal(sonde_socket(p.a, AF_INET, SOCK_STREAM, NULL, &cs), 0);
	len = pair_addr(AF_INET, true, 9999, &ss);
	assert_int_equal(sonde_connect(cs, (struct sockaddr *)&ss, len), -EINPROGRESS);
	pair_wait(&p, 10 * MS);
	n = sonde_events(p.a, ev, 4);
	assert_int_equal(n, 1);
	assert_true(ev[0].events & SONDE_EV_ERR);
	assert_int_equal(sonde_sock_error(cs), -ECONNREFUSED);
	assert_int_equal(sonde_stat(p.b, "drop.in.tcp-no-socket"), 1);
	assert_int_equal(sonde_stat(p.a, "tcp.attempt_fails"), 1);
	sonde_close(cs);
	pair_finish(&p);
}

/* The Toeplitz hash of a reply, against the verification suite of
 * Microsoft's RSS specification (its key; a redirection table of 128
 * entries, entry i queue i, so the queue is the hash's low 7 bits). */
static void
test_rss_queue(void **state)
{
	static const uint8_t key[40] = {
		0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
		0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
		0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
	};
	struct if_rss *rss = calloc(1, sizeof(*rss) + 128 * sizeof(rss->reta[0]));
	uint8_t l4[16] = { 0 }, r4[16] = { 0 };

	(void)state;
	memcpy(rss->key, key, sizeof(key));
	rss->key_len = sizeof(key);
	rss->reta_size = 128;
	for (unsigned i = 0; i < 128; i++)
		rss->reta[i] = (uint16_t)i;
	/* 66.9.149.187:2794 -> 161.142.100.80:1766: 0x51ccc178. */
	memcpy(l4, &(uint32_t){ ip4("161.142.100.80") }, 4);
	memcpy(r4, &(uint32_t){ ip4("66.9.149.187") }, 4);
	assert_int_equal(sock_rss_queue(rss, 4, l4, r4, htons(1766), htons(2794)),
			 0x51ccc178 % 128);
	/* 3ffe:2501:200:1fff::7:2794 -> 3ffe:2501:200:3::1:1766: 0x40207d3d. */
	assert_int_equal(sock_rss_queue(rss, 6, ip6("3ffe:2501:200:3::1").a,
					ip6("3ffe:2501:200:1fff::7").a, htons(1766), htons(2794)),
			 0x40207d3d % 128);
	free(rss);
}

/* Reading: MSG_PEEK across several arrivals leaves them; recv takes the
 * same bytes in order, across packets; recv_mbuf hands over the next
 * packet as it arrived; bytes and mbufs held come back to zero.  Three
 * sends of more than tcp_rq_add shares an mbuf for: three packets. */
static void
test_recv_peek(void **state)
{
	static const uint32_t sz[3] = { 600, 700, 800 };
	struct sonde_sock *ls, *cs, *ss;
	uint8_t buf[2100], want[2100];
	uint32_t off = 0;
	struct rte_mbuf *m;
	struct pair *p;
	ssize_t n;

	(void)state;
	p = pair_up(NULL, AF_INET, &ls, &cs, &ss);
	assert_int_equal(sonde_setsockopt(cs, SONDE_SO_NODELAY, 1), 0);
	for (unsigned i = 0; i < sizeof(want); i++)
		want[i] = pair_pat(i);
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(sonde_send(cs, want + off, sz[i], 0), sz[i]);
		off += sz[i];
		pair_wait(p, 2 * MS);
	}
	assert_int_equal(sonde_sock_readable(ss), 2100);
	assert_int_equal(((struct sonde_sock *)ss)->rq_mbufs, 3);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(sonde_recv(ss, buf, 1500, SONDE_MSG_PEEK), 1500);
	assert_memory_equal(buf, want, 1500);
	assert_int_equal(sonde_sock_readable(ss), 2100);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(sonde_recv(ss, buf, 650, 0), 650); /* the first, and 50 of the second */
	assert_memory_equal(buf, want, 650);
	assert_int_equal(((struct sonde_sock *)ss)->rq_mbufs, 2);
	n = sonde_recv_mbuf(ss, &m, NULL, NULL); /* the second's other 650 */
	assert_int_equal(n, 650);
	assert_int_equal(rte_pktmbuf_pkt_len(m), 650);
	assert_memory_equal(rte_pktmbuf_read(m, 0, 650, buf), want + 650, 650);
	rte_pktmbuf_free(m);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(sonde_recv(ss, buf, sizeof(buf), 0), 800);
	assert_memory_equal(buf, want + 1300, 800);
	assert_int_equal(sonde_sock_readable(ss), 0);
	assert_int_equal(((struct sonde_sock *)ss)->rq_mbufs, 0);
	assert_int_equal(sonde_recv(ss, buf, sizeof(buf), 0), -EAGAIN);
	pair_end(p, cs, ss, ls, NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rss_queue), cmocka_unit_test(test_refused),
		pair_test(test_recv_peek),	  cmocka_unit_test(test_transfer4),
		cmocka_unit_test(test_transfer6),
	};
	int r;

	unit_init_mem("tcp", 512);
	r = cmocka_run_group_tests_name("tcp", tests, NULL, NULL);
	unit_fini();
	return r;
}
