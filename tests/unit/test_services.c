/*
 * test_services.c: sonded's services (apps/services.c) against a fake of
 * the socket API, no stack, no EAL: the HTTP server's requests and
 * responses (the page, /bytes/N, HEAD, 404, 405, 400 for a bad request
 * line, a missing Host or a header section over 8 KiB, keep-alive and
 * HTTP/1.0's close, pipelining, a request body skipped), a large body
 * streamed through a send buffer that takes a little at a time (as OUT
 * events come), TCP chargen's RFC 864 pattern, and --service/--fetch
 * parsing.  The fake: a stream socket is a buffer of what the peer sent
 * (and its FIN) and one of what the server sent, with room for `room`
 * bytes until the test drains it; events are a queue the test fills.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "services.h"
#include "sonde/socket.h"

#define OUT_MAX (4u << 20)

struct sonde_sock {
	int type;
	void *udata;
	bool listener, shut_wr, closed, aborted;
	struct sonde_sock *backlog; /* a listener: the next to accept */
	char in[65536];
	size_t in_len, in_off;
	bool in_fin;
	char *out;
	size_t out_len, room; /* room: bytes send may still take */
};

static struct sonde_event evq[256];
static unsigned n_ev;
static struct sonde_sock *socks[64];
static unsigned n_socks;

static struct sonde_sock *
fake_new(int type, void *udata)
{
	struct sonde_sock *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	s->type = type;
	s->udata = udata;
	s->out = malloc(OUT_MAX);
	s->room = OUT_MAX;
	socks[n_socks++] = s;
	return s;
}

static void
post(struct sonde_sock *s, uint32_t ev)
{
	evq[n_ev++] = (struct sonde_event){ .sock = s, .udata = s->udata, .events = ev };
}

unsigned
sonde_events(struct sonde_stack *st, struct sonde_event *ev, unsigned n)
{
	unsigned k = n < n_ev ? n : n_ev;

	(void)st;
	memcpy(ev, evq, k * sizeof(*ev));
	memmove(evq, evq + k, (n_ev - k) * sizeof(*ev));
	n_ev -= k;
	return k;
}

int
sonde_socket(struct sonde_stack *st, int domain, int type, void *udata, struct sonde_sock **out)
{
	(void)st, (void)domain;
	*out = fake_new(type, udata);
	return 0;
}

void
sonde_sock_set_udata(struct sonde_sock *s, void *udata)
{
	s->udata = udata;
}

int
sonde_bind(struct sonde_sock *s, const struct sockaddr *addr, socklen_t len)
{
	(void)s, (void)addr, (void)len;
	return 0;
}

int
sonde_listen(struct sonde_sock *s, int backlog)
{
	(void)backlog;
	s->listener = true;
	return 0;
}

int
sonde_accept(struct sonde_sock *s, void *udata, struct sonde_sock **out, struct sockaddr *peer,
	     socklen_t *len)
{
	(void)peer, (void)len;
	if (s->backlog == NULL)
		return -EAGAIN;
	*out = s->backlog;
	s->backlog = NULL;
	(*out)->udata = udata;
	return 0;
}

int
sonde_connect(struct sonde_sock *s, const struct sockaddr *addr, socklen_t len)
{
	(void)s, (void)addr, (void)len;
	return -EINPROGRESS;
}

ssize_t
sonde_send(struct sonde_sock *s, const void *buf, size_t len, int flags)
{
	(void)flags;
	assert_false(s->shut_wr);
	if (s->room == 0)
		return -EAGAIN;
	if (len > s->room)
		len = s->room;
	assert_true(s->out_len + len <= OUT_MAX);
	memcpy(s->out + s->out_len, buf, len);
	s->out_len += len;
	s->room -= len;
	return (ssize_t)len;
}

ssize_t
sonde_sendto(struct sonde_sock *s, const void *buf, size_t len, int flags,
	     const struct sockaddr *addr, socklen_t alen)
{
	(void)addr, (void)alen;
	return sonde_send(s, buf, len, flags);
}

ssize_t
sonde_recv(struct sonde_sock *s, void *buf, size_t len, int flags)
{
	size_t n = s->in_len - s->in_off;

	(void)flags;
	if (n == 0)
		return s->in_fin ? 0 : -EAGAIN;
	if (n > len)
		n = len;
	memcpy(buf, s->in + s->in_off, n);
	s->in_off += n;
	return (ssize_t)n;
}

ssize_t
sonde_recvfrom(struct sonde_sock *s, void *buf, size_t len, int flags, struct sockaddr *from,
	       socklen_t *flen)
{
	(void)from, (void)flen;
	return sonde_recv(s, buf, len, flags);
}

/* Only the FIN and -EAGAIN: the tests send no data to the mbuf readers. */
ssize_t
sonde_recv_mbuf(struct sonde_sock *s, struct rte_mbuf **m, struct sockaddr *from, socklen_t *flen)
{
	(void)m, (void)from, (void)flen;
	if (s->in_off < s->in_len)
		s->in_off = s->in_len; /* thrown away unseen */
	return s->in_fin ? 0 : -EAGAIN;
}

ssize_t
sonde_send_mbuf(struct sonde_sock *s, struct rte_mbuf *m, const struct sockaddr *addr,
		socklen_t alen)
{
	(void)s, (void)m, (void)addr, (void)alen;
	return -EAGAIN;
}

int
sonde_shutdown(struct sonde_sock *s, int how)
{
	assert_int_equal(how, SHUT_WR);
	s->shut_wr = true;
	return 0;
}

int
sonde_close(struct sonde_sock *s)
{
	s->closed = true;
	return 0;
}

void
sonde_abort(struct sonde_sock *s)
{
	s->closed = s->aborted = true;
}

int
sonde_sock_error(const struct sonde_sock *s)
{
	(void)s;
	return -ECONNRESET;
}

int
sonde_setsockopt(struct sonde_sock *s, enum sonde_sockopt opt, int val)
{
	(void)s, (void)opt, (void)val;
	return 0;
}

/* --- fixture: sonded with --service tcp:80=http --service tcp:19=chargen --- */

struct fx {
	struct svc_opts o;
	struct svc_stack *ss;
	struct sonde_sock *l_http, *l_chargen;
	uint64_t now;
};

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	n_socks = n_ev = 0;
	assert_null(services_parse(&fx->o, "tcp:80=http"));
	assert_null(services_parse(&fx->o, "tcp:19=chargen"));
	assert_int_equal(services_start(&fx->ss, NULL, &fx->o, true), 0);
	/* Two listeners per service, IPv4 then IPv6. */
	assert_int_equal(n_socks, 4);
	fx->l_http = socks[0];
	fx->l_chargen = socks[2];
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;

	services_stop(fx->ss);
	services_free(fx->ss);
	for (unsigned i = 0; i < n_socks; i++) {
		free(socks[i]->out);
		free(socks[i]);
	}
	free(fx);
	return 0;
}

static void
run(struct fx *fx)
{
	fx->now += 1000;
	services_run(fx->ss, fx->now);
}

/* A connection accepted on listener l, with what the peer sent. */
static struct sonde_sock *
connect_to(struct fx *fx, struct sonde_sock *l, const char *data, bool fin)
{
	struct sonde_sock *s = fake_new(SOCK_STREAM, NULL);

	memcpy(s->in, data, strlen(data));
	s->in_len = strlen(data);
	s->in_fin = fin;
	l->backlog = s;
	post(l, SONDE_EV_IN);
	run(fx);
	post(s, SONDE_EV_IN | SONDE_EV_OUT);
	run(fx);
	return s;
}

static void
peer_sends(struct fx *fx, struct sonde_sock *s, const char *data)
{
	memcpy(s->in + s->in_len, data, strlen(data));
	s->in_len += strlen(data);
	post(s, SONDE_EV_IN);
	run(fx);
}

/* What the server sent, as a string (the tests' responses are text). */
static const char *
out_str(struct sonde_sock *s)
{
	s->out[s->out_len] = '\0';
	return s->out;
}

/* The n-th response's status code in out, or 0. */
static int
status_of(const char *out, int n)
{
	const char *p = out;

	for (int i = 0; p != NULL; i++) {
		p = strstr(p, "HTTP/1.1 ");
		if (p == NULL)
			return 0;
		if (i == n)
			return atoi(p + 9);
		p++;
	}
	return 0;
}

static void
test_get_page_keepalive(void **state)
{
	struct fx *fx = *state;
	struct sonde_sock *s =
		connect_to(fx, fx->l_http, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", false);
	const char *out = out_str(s);
	const char *body = strstr(out, "\r\n\r\n");
	long clen;

	assert_int_equal(status_of(out, 0), 200);
	assert_non_null(strstr(out, "Content-Type: text/html"));
	assert_non_null(strstr(out, "\r\nDate: "));
	assert_null(strstr(out, "Connection: close"));
	clen = atol(strstr(out, "Content-Length: ") + 16);
	assert_non_null(body);
	assert_int_equal(strlen(body + 4), clen);
	assert_non_null(strstr(body, "</html>"));
	assert_false(s->shut_wr || s->closed);
	/* Keep-alive: a second request on the same connection. */
	peer_sends(fx, s, "GET /bytes/10 HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_int_equal(status_of(out_str(s), 1), 200);
	assert_non_null(strstr(out_str(s), "\r\n\r\n0123456789"));
}

static void
test_pipelined_in_order(void **state)
{
	struct fx *fx = *state;
	struct sonde_sock *s = connect_to(
		fx, fx->l_http,
		"GET /bytes/5 HTTP/1.1\r\nHost: x\r\n\r\nHEAD /bytes/100 HTTP/1.1\r\nHost: "
		"x\r\n\r\n"
		"GET /nope HTTP/1.1\r\nHost: x\r\n\r\nGET /bytes/3 HTTP/1.1\r\nHost: x\r\n"
		"Connection: close\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n",
		false);
	const char *out = out_str(s);

	assert_int_equal(status_of(out, 0), 200);
	assert_int_equal(status_of(out, 1), 200);
	assert_int_equal(status_of(out, 2), 404);
	assert_int_equal(status_of(out, 3), 200);
	assert_int_equal(status_of(out, 4), 0); /* after Connection: close, nothing */
	assert_non_null(strstr(out, "\r\n\r\n01234HTTP/1.1 200"));
	/* HEAD: the length of the body, not the body. */
	assert_non_null(strstr(out, "Content-Length: 100\r\n"));
	assert_non_null(strstr(out, "\r\n\r\nHTTP/1.1 404"));
	assert_true(strlen(out) > 3 && strcmp(out + strlen(out) - 3, "012") == 0);
	assert_true(s->shut_wr);
	assert_false(s->closed);
	/* Lingering: the peer's FIN closes it. */
	s->in_fin = true;
	post(s, SONDE_EV_IN | SONDE_EV_HUP);
	run(fx);
	assert_true(s->closed);
	assert_false(s->aborted);
}

static void
test_errors(void **state)
{
	struct fx *fx = *state;
	static const struct {
		const char *req;
		int status;
		bool closes;
	} cases[] = {
		{ "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nabcdeGET /bytes/2 "
		  "HTTP/1.1\r\nHost: x\r\n\r\n",
		  405, false },
		{ "GET/ HTTP/1.1\r\nHost: x\r\n\r\n", 400, true },
		{ "GET / HTTP/1.1\r\n\r\n", 400, true },
		{ "GET / HTTP/1.1\r\nHost: x\r\nBad Name: y\r\n\r\n", 400, true },
		{ "GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505, true },
		{ "GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", 501, true },
		{ "GET /bytes/x HTTP/1.1\r\nHost: x\r\n\r\n", 404, false },
		{ "GET / HTTP/1.0\r\n\r\n", 200, true },
		{ "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 200, false },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sonde_sock *s = connect_to(fx, fx->l_http, cases[i].req, false);

		assert_int_equal(status_of(out_str(s), 0), cases[i].status);
		assert_int_equal(s->shut_wr, cases[i].closes);
		assert_int_equal(strstr(out_str(s), "Connection: close") != NULL, cases[i].closes);
		if (i == 0) /* the body skipped, the next request answered */
			assert_non_null(strstr(out_str(s), "\r\n\r\n01"));
	}
}

static void
test_header_over_8k(void **state)
{
	struct fx *fx = *state;
	static char req[9000];
	struct sonde_sock *s;

	memset(req, 'a', sizeof(req) - 1);
	memcpy(req, "GET / HTTP/1.1\r\nX: ", 19);
	s = connect_to(fx, fx->l_http, req, false);
	assert_int_equal(status_of(out_str(s), 0), 400);
	assert_true(s->shut_wr);
}

/* 1 MiB of /bytes/N through a send buffer that takes 1000 bytes per OUT. */
static void
test_bytes_streamed(void **state)
{
	struct fx *fx = *state;
	const size_t n = 1 << 20;
	static const char a[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ+/";
	struct sonde_sock *s = fake_new(SOCK_STREAM, NULL);
	const char *body;
	char req[64];
	unsigned rounds = 0;

	snprintf(req, sizeof(req), "GET /bytes/%zu HTTP/1.1\r\nHost: x\r\n\r\n", n);
	memcpy(s->in, req, strlen(req));
	s->in_len = strlen(req);
	s->room = 1000;
	fx->l_http->backlog = s;
	post(fx->l_http, SONDE_EV_IN);
	run(fx);
	post(s, SONDE_EV_IN | SONDE_EV_OUT);
	run(fx);
	while (s->room == 0 && rounds++ < 10 * n / 1000) {
		s->room = 1000;
		post(s, SONDE_EV_OUT);
		run(fx);
	}
	body = strstr(out_str(s), "\r\n\r\n") + 4;
	assert_int_equal(s->out_len - (size_t)(body - s->out), n);
	for (size_t i = 0; i < n; i++)
		if (body[i] != a[i % 64])
			fail_msg("byte %zu is %c, want %c", i, body[i], a[i % 64]);
	assert_false(s->shut_wr);
}

static void
test_chargen_pattern(void **state)
{
	struct fx *fx = *state;
	struct sonde_sock *s = fake_new(SOCK_STREAM, NULL);

	s->room = 3 * 7030 + 5;
	fx->l_chargen->backlog = s;
	post(fx->l_chargen, SONDE_EV_IN);
	run(fx);
	post(s, SONDE_EV_OUT);
	run(fx);
	s->room = 1000; /* resumes where it stopped */
	post(s, SONDE_EV_OUT);
	run(fx);
	assert_int_equal(s->out_len, 3 * 7030 + 1005);
	for (size_t i = 0; i < s->out_len; i++) {
		size_t p = i % 7030, line = p / 74, col = p % 74;
		char want = col < 72 ? (char)(' ' + (line + col) % 95) : col == 72 ? '\r' : '\n';

		if (s->out[i] != want)
			fail_msg("chargen byte %zu: %d, want %d", i, s->out[i], want);
	}
	/* The peer's FIN closes it. */
	s->in_fin = true;
	post(s, SONDE_EV_IN);
	run(fx);
	assert_true(s->closed);
}

static void
test_parse(void **state)
{
	struct svc_opts o;

	(void)state;
	memset(&o, 0, sizeof(o));
	assert_null(services_parse(&o, "udp:7=echo"));
	assert_null(services_parse(&o, "tcp:7=echo"));
	assert_non_null(services_parse(&o, "udp:7=discard")); /* the port has one */
	assert_non_null(services_parse(&o, "udp:80=http"));
	assert_non_null(services_parse(&o, "sctp:80=http"));
	assert_non_null(services_parse(&o, "tcp:0=echo"));
	assert_non_null(services_parse(&o, "tcp:70000=echo"));
	assert_non_null(services_parse(&o, "tcp:80=httpd"));
	assert_null(fetch_parse(&o, "10.0.0.1:80/a/b?x=1=out.bin"));
	assert_string_equal(o.fetch[0].path, "/a/b?x=1");
	assert_string_equal(o.fetch[0].file, "out.bin");
	assert_false(o.fetch[0].raw);
	assert_null(fetch_parse(&o, "[fd00::1]:5000=raw"));
	assert_true(o.fetch[1].raw);
	assert_int_equal(o.fetch[1].addr.ss_family, AF_INET6);
	assert_string_equal(o.fetch[1].host, "fd00::1");
	assert_non_null(fetch_parse(&o, "fd00::1:5000=raw"));
	assert_non_null(fetch_parse(&o, "10.0.0.1:80/x"));
	assert_non_null(fetch_parse(&o, "10.0.0.1:0/x=f"));
	assert_non_null(fetch_parse(&o, "host:80/x=f"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_get_page_keepalive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pipelined_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_header_over_8k, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bytes_streamed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chargen_pattern, setup, teardown),
		cmocka_unit_test(test_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
