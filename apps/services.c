/*
 * services.c: sonded's services and its client on the public socket API.
 *
 * Every socket's udata starts with a tag saying whose it is (a listener,
 * a UDP service, a connection, a fetch); services_run() drains the event
 * list and hands each event to that handler.  Events are edge-triggered
 * (socket.h), so a handler works until the stack says -EAGAIN on the
 * side it waits on (reading, or sending when it has something to send):
 * only then can it count on a new event.  A connection that stops
 * reading because what it answers cannot be sent yet waits for OUT, and
 * its peer, meanwhile, for the window the unread data holds shut.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <rte_common.h>
#include <rte_mbuf.h>
#include <rte_random.h>

#include "services.h"
#include "sonde/socket.h"

#define EV_BATCH 64
#define EV_ROUNDS 16 /* batches a run drains at most: accepts post events */
#define LISTEN_BACKLOG 1024
#define SEND_CHUNK 65536	 /* bytes a send offers at most */
#define HTTP_HEAD_MAX 8192	 /* a request's header section: more is a 400 */
#define LINGER_NS 10000000000ull /* a closing connection waits this for the peer's FIN */
#define SWEEP_NS 1000000000ull
/* RFC 864: lines of 72 characters and CR LF, each starting one character
 * further along the 95 printable ones; the pattern repeats after 95 lines. */
#define CHARGEN_COLS 72
#define CHARGEN_LINE (CHARGEN_COLS + 2)
#define CHARGEN_PERIOD (95 * CHARGEN_LINE)
#define UDP_CHARGEN_MAX 512 /* RFC 864: a datagram of 0 to 512 characters */

/* /bytes/N: byte i of the body is BYTES_ALPHABET[i % 64] (README). */
static const char BYTES_ALPHABET[65] =
	"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ+/";

static const char HTTP_PAGE[] =
	"<!DOCTYPE html>\n"
	"<html><head><title>sonded</title></head>\n"
	"<body><h1>sonded</h1>\n"
	"<p>Served by sonde, a userspace TCP/IP stack on DPDK.</p>\n"
	"<p><a href=\"/bytes/1048576\">/bytes/N</a>: N bytes of "
	"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ+/, repeated.</p>\n"
	"</body></html>\n";

/* Read only once made (services_start, before the lcores run): any
 * offset of a pattern is followed by SEND_CHUNK bytes of it. */
static char chargen_pat[CHARGEN_PERIOD + SEND_CHUNK];
static char bytes_pat[64 + SEND_CHUNK];
static bool patterns_made;

enum tag { T_LISTEN = 1, T_UDP, T_CONN, T_FETCH };

struct counters {
	uint64_t udp_echoed, udp_discarded, udp_chargen, udp_refused, udp_send_failed;
	uint64_t tcp_accepted, tcp_closed, tcp_errors;
	uint64_t tcp_echoed_bytes, tcp_discarded_bytes, tcp_chargen_bytes;
	uint64_t http_requests, http_errors, http_body_bytes;
	uint64_t fetch_bytes;
};

struct udp_svc {
	int tag;
	enum svc_kind kind;
	struct svc_stack *ss;
	struct sonde_sock *s;
	uint32_t line; /* chargen: the line the next datagram starts at */
};

/* An HTTP connection's request buffer and the response it is sending. */
struct http {
	char req[HTTP_HEAD_MAX];
	size_t len;    /* bytes in req */
	uint64_t skip; /* the current request's body, still to be thrown away */
	char hdr[512]; /* the response's header section */
	size_t hdr_len, hdr_off;
	const char *body; /* the page, or NULL: the /bytes pattern */
	uint64_t body_off, body_left;
	bool busy;  /* a response is being sent */
	bool close; /* and the connection closes after it */
};

struct conn {
	int tag;
	enum svc_kind kind;
	struct svc_stack *ss;
	struct sonde_sock *s;
	struct conn *prev, *next;
	bool eof;		  /* the peer's FIN was read */
	bool closing;		  /* our FIN is asked for: reading until the peer's */
	bool kick;		  /* to run again: the pool was short (-ENOBUFS posts no event) */
	uint64_t since;		  /* closing: since when */
	struct rte_mbuf *pending; /* echo: received, not yet taken by the send buffer */
	uint32_t pos;		  /* chargen: the next byte's place in the pattern */
	struct http *h;
};

enum fetch_state { F_CONNECTING, F_SENDING, F_HEAD, F_BODY, F_DONE };

struct fetch {
	int tag;
	const struct fetch_spec *sp;
	struct svc_stack *ss;
	struct sonde_sock *s;
	FILE *f;
	enum fetch_state state;
	char req[1400];
	size_t req_len, req_off;
	char head[HTTP_HEAD_MAX + 1]; /* NUL-terminated */
	size_t head_len;
	int status;
	int64_t clen; /* Content-Length, or -1: to the FIN */
	uint64_t bytes, t0;
	bool failed;
};

struct svc_stack {
	struct sonde_stack *st;
	const struct svc_opts *o;
	uint64_t now, next_sweep;
	struct udp_svc udp[2 * SVC_MAX];
	unsigned n_udp;
	struct sonde_sock *listen[2 * SVC_MAX];
	unsigned n_listen;
	struct conn *conns;
	unsigned n_closing, n_kick;
	struct fetch fetch[FETCH_MAX];
	unsigned n_fetch, fetch_left;
	bool fetch_failed;
	time_t date_sec;
	char date[40];
	struct counters c;
};

/* --- options --- */

static void
patterns_make(void)
{
	if (patterns_made)
		return;
	for (size_t i = 0; i < sizeof(chargen_pat); i++) {
		size_t p = i % CHARGEN_PERIOD, line = p / CHARGEN_LINE, col = p % CHARGEN_LINE;

		chargen_pat[i] = col < CHARGEN_COLS    ? (char)(' ' + (line + col) % 95)
				 : col == CHARGEN_COLS ? '\r'
						       : '\n';
	}
	for (size_t i = 0; i < sizeof(bytes_pat); i++)
		bytes_pat[i] = BYTES_ALPHABET[i % 64];
	patterns_made = true;
}

const char *
services_parse(struct svc_opts *o, const char *arg)
{
	static const char *const kinds[] = { "echo", "discard", "chargen", "http" };
	struct svc_spec *sp;
	char proto[4], kind[16];
	unsigned port;
	int n = 0;

	if (o->n_svc == SVC_MAX)
		return "too many";
	if (sscanf(arg, "%3[a-z]:%u=%15[a-z]%n", proto, &port, kind, &n) != 3 || arg[n] != '\0' ||
	    port == 0 || port > 65535)
		return "expected udp:PORT=echo|discard|chargen or "
		       "tcp:PORT=echo|discard|chargen|http";
	sp = &o->svc[o->n_svc];
	if (strcmp(proto, "udp") == 0)
		sp->type = SOCK_DGRAM;
	else if (strcmp(proto, "tcp") == 0)
		sp->type = SOCK_STREAM;
	else
		return "expected udp: or tcp:";
	for (n = 0; n < 4 && strcmp(kind, kinds[n]) != 0; n++)
		;
	if (n == 4 || (n == SVC_HTTP && sp->type == SOCK_DGRAM))
		return "expected echo, discard, chargen (udp, tcp) or http (tcp)";
	for (unsigned i = 0; i < o->n_svc; i++)
		if (o->svc[i].type == sp->type && o->svc[i].port == port)
			return "that port has a service already";
	sp->tag = T_LISTEN;
	sp->arg = arg;
	sp->port = (uint16_t)port;
	sp->kind = (enum svc_kind)n;
	o->n_svc++;
	return NULL;
}

/* "[ADDR]:PORT" or "ADDR:PORT" (IPv4) of s..end into sp. */
static const char *
fetch_addr(struct fetch_spec *sp, const char *s, const char *end)
{
	const char *colon, *a = s, *a_end;
	unsigned long port;
	char *pend;

	if (*s == '[') {
		a = s + 1;
		a_end = memchr(a, ']', (size_t)(end - a));
		if (a_end == NULL || a_end + 1 >= end || a_end[1] != ':')
			return "expected [ADDR]:PORT";
		colon = a_end + 1;
	} else {
		colon = memchr(s, ':', (size_t)(end - s));
		if (colon == NULL)
			return "expected ADDR:PORT";
		a_end = colon;
	}
	if ((size_t)(a_end - a) >= sizeof(sp->host) || a_end == a)
		return "expected an address";
	memcpy(sp->host, a, (size_t)(a_end - a));
	sp->host[a_end - a] = '\0';
	port = strtoul(colon + 1, &pend, 10);
	if (pend != end || colon + 1 == end || port == 0 || port > 65535)
		return "expected a port, 1 to 65535";
	memset(&sp->addr, 0, sizeof(sp->addr));
	if (inet_pton(AF_INET, sp->host, &((struct sockaddr_in *)&sp->addr)->sin_addr) == 1) {
		struct sockaddr_in *in = (struct sockaddr_in *)&sp->addr;

		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		sp->alen = sizeof(*in);
	} else if (inet_pton(AF_INET6, sp->host, &((struct sockaddr_in6 *)&sp->addr)->sin6_addr) ==
		   1) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&sp->addr;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		sp->alen = sizeof(*in6);
	} else {
		return "expected an IPv4 or IPv6 address (IPv6 in brackets)";
	}
	return NULL;
}

/* [ADDR]:PORT[/PATH]=FILE, FILE after the last '=' (a query may have one). */
const char *
fetch_parse(struct svc_opts *o, const char *arg)
{
	struct fetch_spec *sp;
	const char *eq = strrchr(arg, '='), *slash, *why;
	size_t plen;

	if (o->n_fetch == FETCH_MAX)
		return "too many";
	if (eq == NULL || eq[1] == '\0')
		return "expected [ADDR]:PORT[/PATH]=FILE";
	sp = &o->fetch[o->n_fetch];
	slash = memchr(arg, '/', (size_t)(eq - arg));
	why = fetch_addr(sp, arg, slash ? slash : eq);
	if (why)
		return why;
	sp->raw = slash == NULL;
	plen = slash ? (size_t)(eq - slash) : 0;
	if (plen >= sizeof(sp->path))
		return "PATH too long";
	for (size_t i = 0; i < plen; i++)
		if ((unsigned char)slash[i] <= ' ' || slash[i] == 0x7f)
			return "PATH with a space or a control character";
	memcpy(sp->path, slash ? slash : "", plen);
	sp->path[plen] = '\0';
	sp->arg = arg;
	sp->file = eq + 1;
	o->n_fetch++;
	return NULL;
}

/* --- connections --- */

static struct conn *
conn_new(struct svc_stack *ss, enum svc_kind kind, struct sonde_sock *s)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	if (kind == SVC_HTTP && (c->h = malloc(sizeof(*c->h))) == NULL) {
		free(c);
		return NULL;
	}
	if (c->h) {
		c->h->len = 0;
		c->h->skip = 0;
		c->h->busy = c->h->close = false;
	}
	c->tag = T_CONN;
	c->kind = kind;
	c->ss = ss;
	c->s = s;
	c->next = ss->conns;
	if (ss->conns)
		ss->conns->prev = c;
	ss->conns = c;
	return c;
}

static void
conn_free(struct conn *c)
{
	struct svc_stack *ss = c->ss;

	if (c->prev)
		c->prev->next = c->next;
	else
		ss->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	if (c->closing)
		ss->n_closing--;
	if (c->kick)
		ss->n_kick--;
	rte_pktmbuf_free(c->pending);
	free(c->h);
	free(c);
}

/* Done with it: FIN after what is queued (socket.h: sonde_close). */
static void
conn_close(struct conn *c)
{
	c->ss->c.tcp_closed++;
	sonde_close(c->s);
	conn_free(c);
}

/* Dead (reset, timed out) or misbehaving: the stack frees it. */
static void
conn_fail(struct conn *c)
{
	c->ss->c.tcp_errors++;
	sonde_close(c->s);
	conn_free(c);
}

/* Our FIN after what is queued, then reading until the peer's: closed
 * at once with data in flight to it, a connection with unread data sends
 * a RST that may destroy that data before the peer reads it (RFC 9112
 * 9.6, RFC 9293 3.10.4). */
static bool conn_drain(struct conn *c);

/* False if c is gone. */
static bool
conn_linger(struct conn *c)
{
	if (c->eof) {
		conn_close(c); /* nothing unread: a FIN */
		return false;
	}
	if (sonde_shutdown(c->s, SHUT_WR) < 0) {
		conn_fail(c);
		return false;
	}
	c->closing = true;
	c->since = c->ss->now;
	c->ss->n_closing++;
	return conn_drain(c);
}

/* Reads and throws away until the peer's FIN; false if c is gone. */
static bool
conn_drain(struct conn *c)
{
	struct rte_mbuf *m;
	ssize_t r;

	for (;;) {
		m = NULL; /* socket.h does not say whether the FIN sets it */
		r = sonde_recv_mbuf(c->s, &m, NULL, NULL);
		if (r > 0) {
			rte_pktmbuf_free(m);
			continue;
		}
		if (r == 0) {
			rte_pktmbuf_free(m);
			c->eof = true;
			if (c->closing) {
				conn_close(c);
				return false;
			}
			return true;
		}
		if (r == -EAGAIN)
			return true;
		conn_fail(c);
		return false;
	}
}

/* -ENOBUFS: the pool or the stack's share of it is out, and no event
 * says when it is back: run c again at the next services_run(). */
static void
conn_kick(struct conn *c)
{
	if (!c->kick) {
		c->kick = true;
		c->ss->n_kick++;
	}
}

/* Sends an error other than -EAGAIN and -ENOBUFS ends c: false then. */
static bool
conn_send_ok(struct conn *c, ssize_t r)
{
	if (r >= 0 || r == -EAGAIN)
		return true;
	if (r == -ENOBUFS) {
		conn_kick(c);
		return true;
	}
	conn_fail(c);
	return false;
}

/* --- tcp echo, discard, chargen --- */

/* RFC 862 over TCP, zero copy: the mbufs data came in go back out. */
static void
echo_run(struct conn *c)
{
	struct rte_mbuf *m;
	ssize_t r;

	for (;;) {
		if (c->pending) {
			uint32_t len = rte_pktmbuf_pkt_len(c->pending);

			r = sonde_send_mbuf(c->s, c->pending, NULL, 0);
			if (r < 0) {
				conn_send_ok(c, r);
				return;
			}
			c->pending = NULL;
			c->ss->c.tcp_echoed_bytes += len;
		}
		if (c->eof) {
			conn_close(c);
			return;
		}
		m = NULL;
		r = sonde_recv_mbuf(c->s, &m, NULL, NULL);
		if (r > 0) {
			c->pending = m;
		} else if (r == 0) {
			rte_pktmbuf_free(m);
			c->eof = true;
		} else {
			if (r != -EAGAIN)
				conn_fail(c);
			return;
		}
	}
}

/* RFC 863 over TCP: everything read and thrown away, closed at the FIN. */
static void
discard_run(struct conn *c)
{
	struct rte_mbuf *m;
	ssize_t r;

	for (;;) {
		m = NULL;
		r = sonde_recv_mbuf(c->s, &m, NULL, NULL);
		if (r > 0) {
			c->ss->c.tcp_discarded_bytes += (uint64_t)r;
			rte_pktmbuf_free(m);
			continue;
		}
		if (r == 0) {
			rte_pktmbuf_free(m);
			conn_close(c);
		} else if (r != -EAGAIN) {
			conn_fail(c);
		}
		return;
	}
}

/* RFC 864 over TCP: the pattern as fast as the peer takes it; what it
 * sends is thrown away, its FIN closes. */
static void
chargen_run(struct conn *c)
{
	ssize_t r;

	if (!conn_drain(c))
		return;
	if (c->eof) {
		conn_close(c);
		return;
	}
	for (;;) {
		r = sonde_send(c->s, chargen_pat + c->pos, SEND_CHUNK, 0);
		if (r <= 0) {
			conn_send_ok(c, r == 0 ? -EAGAIN : r);
			return;
		}
		c->pos = (uint32_t)((c->pos + (size_t)r) % CHARGEN_PERIOD);
		c->ss->c.tcp_chargen_bytes += (uint64_t)r;
	}
}

/* --- http --- */

static bool
is_tchar(char ch)
{
	/* RFC 9110 5.6.2: token characters. */
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

static bool
is_token(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_tchar(s[i]))
			return false;
	return true;
}

/* The length of the header section at the front of b (n bytes), through
 * the empty line that ends it; 0 while it is incomplete.  Lines end in
 * CRLF or a bare LF (RFC 9112 2.2 lets a recipient take either). */
static size_t
http_head_len(const char *b, size_t n)
{
	for (size_t i = 0; i + 1 < n; i++) {
		if (b[i] != '\n')
			continue;
		if (b[i + 1] == '\n')
			return i + 2;
		if (b[i + 1] == '\r' && i + 2 < n && b[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

struct http_req {
	const char *method, *target;
	size_t mlen, tlen;
	int major, minor;
	bool conn_close, conn_keepalive, te;
	int hosts;
	int64_t clen; /* -1: none */
	bool bad;
};

/* Connection: a comma-separated list of options (RFC 9110 7.6.1). */
static void
http_connection(struct http_req *q, const char *v, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t j;

		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		for (j = i; j < n && v[j] != ',' && v[j] != ' ' && v[j] != '\t'; j++)
			;
		if (j - i == 5 && strncasecmp(v + i, "close", 5) == 0)
			q->conn_close = true;
		if (j - i == 10 && strncasecmp(v + i, "keep-alive", 10) == 0)
			q->conn_keepalive = true;
		i = j;
	}
}

/* One field line, name and value split at the colon. */
static void
http_field(struct http_req *q, const char *l, size_t n)
{
	const char *colon = memchr(l, ':', n), *v;
	size_t nlen, vlen;

	/* RFC 9112 5.1: no whitespace between name and colon; 5.2: obs-fold
	 * (a line starting with whitespace) may be refused with a 400. */
	if (colon == NULL || !is_token(l, (size_t)(colon - l))) {
		q->bad = true;
		return;
	}
	nlen = (size_t)(colon - l);
	v = colon + 1;
	vlen = n - nlen - 1;
	while (vlen && (*v == ' ' || *v == '\t'))
		v++, vlen--;
	while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
		vlen--;
	if (nlen == 4 && strncasecmp(l, "host", 4) == 0) {
		q->hosts++;
	} else if (nlen == 10 && strncasecmp(l, "connection", 10) == 0) {
		http_connection(q, v, vlen);
	} else if (nlen == 17 && strncasecmp(l, "transfer-encoding", 17) == 0) {
		q->te = true;
	} else if (nlen == 14 && strncasecmp(l, "content-length", 14) == 0) {
		int64_t x = 0;

		/* RFC 9112 6.3: an invalid or conflicting length is unrecoverable. */
		if (vlen == 0 || vlen > 18)
			q->bad = true;
		for (size_t i = 0; i < vlen && !q->bad; i++) {
			if (v[i] < '0' || v[i] > '9')
				q->bad = true;
			x = x * 10 + (v[i] - '0');
		}
		if (q->clen >= 0 && q->clen != x)
			q->bad = true;
		q->clen = x;
	}
}

/* request-line = method SP request-target SP HTTP-version (RFC 9112 3). */
static void
http_request_line(struct http_req *q, const char *l, size_t n)
{
	const char *sp1 = memchr(l, ' ', n), *sp2, *v;

	if (sp1 == NULL) {
		q->bad = true;
		return;
	}
	sp2 = memchr(sp1 + 1, ' ', n - (size_t)(sp1 + 1 - l));
	if (sp2 == NULL) {
		q->bad = true;
		return;
	}
	q->method = l;
	q->mlen = (size_t)(sp1 - l);
	q->target = sp1 + 1;
	q->tlen = (size_t)(sp2 - sp1 - 1);
	v = sp2 + 1;
	if (!is_token(q->method, q->mlen) || q->tlen == 0 || l + n - v != 8 ||
	    strncmp(v, "HTTP/", 5) != 0 || v[5] < '0' || v[5] > '9' || v[6] != '.' || v[7] < '0' ||
	    v[7] > '9') {
		q->bad = true;
		return;
	}
	for (size_t i = 0; i < q->tlen; i++)
		if ((unsigned char)q->target[i] <= ' ' || q->target[i] == 0x7f)
			q->bad = true;
	q->major = v[5] - '0';
	q->minor = v[7] - '0';
}

/* Parses the header section b (len bytes, its empty line included). */
static void
http_parse(struct http_req *q, const char *b, size_t len)
{
	const char *end = b + len, *l = b;
	bool first = true;

	memset(q, 0, sizeof(*q));
	q->clen = -1;
	while (l < end && !q->bad) {
		const char *lf = memchr(l, '\n', (size_t)(end - l));
		size_t n = (size_t)(lf - l);

		if (n && l[n - 1] == '\r')
			n--;
		if (memchr(l, '\r', n) != NULL || memchr(l, '\0', n) != NULL) {
			q->bad = true; /* a bare CR or a NUL in a line */
		} else if (first) {
			http_request_line(q, l, n);
			first = false;
		} else if (n != 0) {
			http_field(q, l, n);
		}
		l = lf + 1;
	}
}

/* The statuses we send, with a body for the errors: their status line. */
static const struct {
	int code;
	const char *reason, *body;
} http_statuses[] = {
	{ 200, "OK", "" },
	{ 400, "Bad Request", "400 Bad Request\n" },
	{ 404, "Not Found", "404 Not Found\n" },
	{ 405, "Method Not Allowed", "405 Method Not Allowed\n" },
	{ 501, "Not Implemented", "501 Not Implemented\n" },
	{ 505, "HTTP Version Not Supported", "505 HTTP Version Not Supported\n" },
};

static unsigned
http_status(int code)
{
	unsigned i;

	for (i = 0; i < RTE_DIM(http_statuses) - 1 && http_statuses[i].code != code; i++)
		;
	return i;
}

/* RFC 9110 6.6.1: an origin server with a clock sends Date (IMF-fixdate). */
static const char *
http_date(struct svc_stack *ss)
{
	time_t t = time(NULL);
	struct tm tm;

	if (t != ss->date_sec) {
		ss->date_sec = t;
		gmtime_r(&t, &tm);
		strftime(ss->date, sizeof(ss->date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	}
	return ss->date;
}

/* Starts a response: its header section, then body_len bytes of body
 * (the page, or with body NULL the /bytes pattern), none for HEAD. */
static void
http_respond(struct conn *c, int status, const char *body, uint64_t body_len, bool head,
	     bool keepalive_10)
{
	struct http *h = c->h;
	const char *ctype = status != 200 ? "text/plain"
			    : body	  ? "text/html; charset=utf-8"
					  : "application/octet-stream";
	int n;

	n = snprintf(h->hdr, sizeof(h->hdr),
		     "HTTP/1.1 %d %s\r\nDate: %s\r\nServer: sonded\r\nContent-Type: %s\r\n"
		     "Content-Length: %" PRIu64 "\r\n%s%s\r\n",
		     status, http_statuses[http_status(status)].reason, http_date(c->ss), ctype,
		     body_len, status == 405 ? "Allow: GET, HEAD\r\n" : "",
		     h->close	    ? "Connection: close\r\n"
		     : keepalive_10 ? "Connection: keep-alive\r\n"
				    : "");
	h->hdr_len = (size_t)n;
	h->hdr_off = 0;
	h->body = body;
	h->body_off = 0;
	h->body_left = head ? 0 : body_len;
	h->busy = true;
	c->ss->c.http_requests++;
	if (status >= 400)
		c->ss->c.http_errors++;
}

/* An error response with its status line as the body. */
static void
http_error(struct conn *c, int status, bool head)
{
	const char *body = http_statuses[http_status(status)].body;

	http_respond(c, status, body, strlen(body), head, false);
}

/* "/bytes/N": N, or -1. */
static int64_t
http_bytes_path(const char *t, size_t n)
{
	int64_t x = 0;

	if (n <= 7 || n > 7 + 18 || strncmp(t, "/bytes/", 7) != 0)
		return -1;
	for (size_t i = 7; i < n; i++) {
		if (t[i] < '0' || t[i] > '9')
			return -1;
		x = x * 10 + (t[i] - '0');
	}
	return x;
}

/* The request q, the header section of which was parsed: its response. */
static void
http_route(struct conn *c, const struct http_req *q)
{
	bool head = q->mlen == 4 && memcmp(q->method, "HEAD", 4) == 0;
	bool get = q->mlen == 3 && memcmp(q->method, "GET", 3) == 0;
	size_t tlen = q->tlen;
	const char *qm = memchr(q->target, '?', tlen);
	int64_t n;

	if (qm)
		tlen = (size_t)(qm - q->target);
	if (!get && !head)
		http_error(c, 405, false);
	else if (tlen == 1 && q->target[0] == '/')
		http_respond(c, 200, HTTP_PAGE, sizeof(HTTP_PAGE) - 1, head,
			     q->minor == 0 && !c->h->close);
	else if ((n = http_bytes_path(q->target, tlen)) >= 0)
		http_respond(c, 200, NULL, (uint64_t)n, head, q->minor == 0 && !c->h->close);
	else
		http_error(c, 404, head);
}

/* The request at the front of the buffer, if all of its header section
 * has come: starts its response and takes it out.  True if it did. */
static bool
http_next(struct conn *c)
{
	struct http *h = c->h;
	struct http_req q;
	size_t hl, body, lead = 0;
	int status = 0;

	/* RFC 9112 2.2: empty lines before a request line are ignored. */
	while (lead < h->len && (h->req[lead] == '\r' || h->req[lead] == '\n'))
		lead++;
	if (lead) {
		memmove(h->req, h->req + lead, h->len - lead);
		h->len -= lead;
	}
	hl = http_head_len(h->req, h->len);
	if (hl == 0) {
		if (h->len < sizeof(h->req))
			return false;
		/* RFC 9112 3, RFC 6585 5 would be 431; the task is a 400. */
		h->close = true;
		http_error(c, 400, false);
		h->len = 0;
		return true;
	}
	http_parse(&q, h->req, hl);
	/* RFC 9112 3.2: exactly one Host in 1.1.  After a request we cannot
	 * make sense of, where the next one starts is not known: close. */
	if (q.bad || (q.major == 1 && q.minor >= 1 && q.hosts != 1))
		status = 400;
	else if (q.major != 1)
		status = 505;
	else if (q.te)
		status = 501; /* RFC 9112 6.1: a coding we do not decode */
	h->close = status != 0 || q.conn_close || (q.minor == 0 && !q.conn_keepalive);
	if (status)
		http_error(c, status, false);
	else
		http_route(c, &q);
	/* The request goes, and what of its body came with it. */
	h->skip = q.clen > 0 ? (uint64_t)q.clen : 0;
	body = (size_t)RTE_MIN(h->skip, (uint64_t)(h->len - hl));
	h->skip -= body;
	hl += body;
	memmove(h->req, h->req + hl, h->len - hl);
	h->len -= hl;
	return true;
}

/* What remains of the response: 0 once all of it is in the send buffer. */
static ssize_t
http_flush(struct conn *c)
{
	struct http *h = c->h;
	ssize_t r;

	while (h->hdr_off < h->hdr_len) {
		r = sonde_send(c->s, h->hdr + h->hdr_off, h->hdr_len - h->hdr_off,
			       h->body_left ? SONDE_MSG_MORE : 0);
		if (r <= 0)
			return r ?: -EAGAIN;
		h->hdr_off += (size_t)r;
	}
	while (h->body_left) {
		size_t n = (size_t)RTE_MIN(h->body_left, (uint64_t)SEND_CHUNK);
		const char *p = h->body ? h->body + h->body_off : bytes_pat + h->body_off % 64;

		r = sonde_send(c->s, p, n, n < h->body_left ? SONDE_MSG_MORE : 0);
		if (r <= 0)
			return r ?: -EAGAIN;
		h->body_off += (uint64_t)r;
		h->body_left -= (uint64_t)r;
		c->ss->c.http_body_bytes += (uint64_t)r;
	}
	h->busy = false;
	return 0;
}

/* Reads into the request buffer (after throwing away a request's body);
 * false when there is nothing to read now or c is gone (*gone). */
static bool
http_read(struct conn *c, bool *gone)
{
	struct http *h = c->h;
	ssize_t r;

	r = sonde_recv(c->s, h->req + h->len, sizeof(h->req) - h->len, 0);
	if (r > 0) {
		size_t drop = (size_t)RTE_MIN(h->skip, (uint64_t)r);

		memmove(h->req + h->len, h->req + h->len + drop, (size_t)r - drop);
		h->skip -= drop;
		h->len += (size_t)r - drop;
		return true;
	}
	if (r == 0) {
		c->eof = true;
		return true;
	}
	if (r != -EAGAIN) {
		conn_fail(c);
		*gone = true;
	}
	return false;
}

/* RFC 9112: requests answered in order, pipelined ones too, one at a
 * time; no more is read while the request buffer is full, so a peer
 * that pipelines without reading is held by the window. */
static void
http_run(struct conn *c)
{
	struct http *h = c->h;
	bool gone = false;

	for (;;) {
		if (h->busy) {
			ssize_t r = http_flush(c);

			if (r < 0) {
				conn_send_ok(c, r);
				return;
			}
			if (h->close) {
				conn_linger(c);
				return;
			}
		}
		if (h->skip == 0 && http_next(c))
			continue;
		if (c->eof) {
			/* The peer sent all it will; what is left is no request. */
			conn_close(c);
			return;
		}
		if (!http_read(c, &gone))
			return;
	}
}

/* --- dispatch --- */

static void
conn_run(struct conn *c)
{
	if (c->kick) {
		c->kick = false;
		c->ss->n_kick--;
	}
	if (c->closing) {
		conn_drain(c);
		return;
	}
	switch (c->kind) {
	case SVC_ECHO: echo_run(c); break;
	case SVC_DISCARD: discard_run(c); break;
	case SVC_CHARGEN: chargen_run(c); break;
	case SVC_HTTP: http_run(c); break;
	}
}

static void
conn_event(struct conn *c, uint32_t events)
{
	if (events & SONDE_EV_ERR) {
		conn_fail(c);
		return;
	}
	conn_run(c);
}

static void
listen_event(struct svc_stack *ss, const struct svc_spec *sp, struct sonde_sock *ls)
{
	struct sonde_sock *s;
	struct conn *c;

	while (sonde_accept(ls, NULL, &s, NULL, NULL) == 0) {
		c = conn_new(ss, sp->kind, s);
		if (c == NULL) {
			sonde_abort(s);
			continue;
		}
		sonde_sock_set_udata(s, c);
		if (sp->kind == SVC_ECHO || sp->kind == SVC_HTTP)
			sonde_setsockopt(s, SONDE_SO_NODELAY, 1);
		ss->c.tcp_accepted++;
	}
}

/* No answer to the echo and chargen ports (two such services would
 * answer each other forever), to port 0, or to a source that is not one
 * host (a group, the unspecified or the broadcast address). */
static bool
udp_may_answer(const struct sockaddr_storage *from)
{
	uint16_t port;

	if (from->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)from;
		uint32_t a = ntohl(in->sin_addr.s_addr);

		port = ntohs(in->sin_port);
		if (a == 0 || a == 0xffffffff || IN_MULTICAST(a))
			return false;
	} else {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)from;

		port = ntohs(in6->sin6_port);
		if (IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr) ||
		    IN6_IS_ADDR_MULTICAST(&in6->sin6_addr))
			return false;
	}
	return port != 0 && port != 7 && port != 19;
}

static void
udp_answer(struct udp_svc *u, struct rte_mbuf *m, const struct sockaddr_storage *from,
	   socklen_t flen)
{
	struct counters *k = &u->ss->c;
	ssize_t r;

	if (u->kind == SVC_DISCARD) {
		rte_pktmbuf_free(m);
		k->udp_discarded++;
		return;
	}
	if (!udp_may_answer(from)) {
		rte_pktmbuf_free(m);
		k->udp_refused++;
		return;
	}
	if (u->kind == SVC_ECHO) {
		/* Zero copy: the datagram goes back in the mbufs it came in. */
		r = sonde_send_mbuf(u->s, m, (const struct sockaddr *)from, flen);
		if (r < 0 && r != -EHOSTUNREACH) /* socket.h: that one took m */
			rte_pktmbuf_free(m);
	} else {
		rte_pktmbuf_free(m);
		r = sonde_sendto(u->s, chargen_pat + (u->line++ % 95) * CHARGEN_LINE,
				 (size_t)rte_rand_max(UDP_CHARGEN_MAX + 1), 0,
				 (const struct sockaddr *)from, flen);
	}
	if (r < 0)
		k->udp_send_failed++;
	else if (u->kind == SVC_ECHO)
		k->udp_echoed++;
	else
		k->udp_chargen++;
}

static void
udp_event(struct udp_svc *u)
{
	struct sockaddr_storage from;
	socklen_t flen;
	struct rte_mbuf *m;
	ssize_t r;

	for (;;) {
		m = NULL;
		flen = sizeof(from);
		r = sonde_recv_mbuf(u->s, &m, (struct sockaddr *)&from, &flen);
		if (r < 0 || m == NULL)
			return;
		udp_answer(u, m, &from, flen);
	}
}

/* --- fetch --- */

static const char *
err_name(int e)
{
	const char *n = strerrorname_np(e < 0 ? -e : e);

	return n ? n : "unknown error";
}

static void
fetch_end(struct fetch *f, const char *err)
{
	const struct fetch_spec *sp = f->sp;
	double secs = (double)(f->ss->now - f->t0) / 1e9;
	char status[32] = "";

	if (f->state == F_DONE)
		return;
	if (f->f && fclose(f->f) != 0 && err == NULL)
		err = "writing the file";
	f->f = NULL;
	if (f->s)
		sonde_close(f->s);
	f->s = NULL;
	if (err == NULL && !sp->raw && (f->status < 200 || f->status > 299)) {
		snprintf(status, sizeof(status), "HTTP %d", f->status);
		err = status;
	}
	if (err) {
		printf("fetch: error %s from %s (%" PRIu64 " bytes in %.3f s)\n", err, sp->arg,
		       f->bytes, secs);
		f->failed = f->ss->fetch_failed = true;
	} else {
		printf("fetch: %" PRIu64 " bytes in %.3f s (%.1f Mbit/s) from %s%s\n", f->bytes,
		       secs, secs > 0 ? (double)f->bytes * 8 / secs / 1e6 : 0.0, sp->arg,
		       sp->raw ? ", closed by the peer" : ", HTTP 200");
	}
	fflush(stdout);
	f->state = F_DONE;
	f->ss->fetch_left--;
}

/* The response's status and Content-Length, from its header section. */
static const char *
fetch_head(struct fetch *f, size_t hl)
{
	const char *l = f->head, *end = f->head + hl;

	if (sscanf(f->head, "HTTP/1.%*1d %3d", &f->status) != 1)
		return "a malformed status line";
	f->clen = -1;
	while (l < end) {
		const char *lf = memchr(l, '\n', (size_t)(end - l));

		if (strncasecmp(l, "content-length:", 15) == 0)
			f->clen = strtoll(l + 15, NULL, 10);
		if (strncasecmp(l, "transfer-encoding:", 18) == 0)
			return "a Transfer-Encoding we do not decode";
		l = lf + 1;
	}
	return NULL;
}

/* Bytes of the response p..p+n: the header section first, then the
 * body to the file.  An error, or NULL. */
static const char *
fetch_data(struct fetch *f, const char *p, size_t n)
{
	if (f->state == F_HEAD) {
		size_t take = RTE_MIN(n, HTTP_HEAD_MAX - f->head_len), hl, old = f->head_len;
		const char *why;

		memcpy(f->head + f->head_len, p, take);
		f->head_len += take;
		f->head[f->head_len] = '\0';
		hl = http_head_len(f->head, f->head_len);
		if (hl == 0)
			return f->head_len == HTTP_HEAD_MAX ? "a header section over 8 KiB" : NULL;
		why = fetch_head(f, hl);
		if (why)
			return why;
		f->state = F_BODY;
		p += hl - old;
		n -= hl - old;
	}
	if (f->clen >= 0 && f->bytes + n > (uint64_t)f->clen)
		return "more than the Content-Length";
	if (n && fwrite(p, 1, n, f->f) != n)
		return "writing the file";
	f->bytes += n;
	f->ss->c.fetch_bytes += n;
	return NULL;
}

/* Reads what came; ends f at its end (the FIN, or Content-Length). */
static void
fetch_read(struct fetch *f)
{
	struct rte_mbuf *m, *seg;
	const char *why = NULL;
	ssize_t r;

	while (f->state != F_DONE) {
		m = NULL;
		r = sonde_recv_mbuf(f->s, &m, NULL, NULL);
		if (r == -EAGAIN)
			return;
		if (r < 0) {
			fetch_end(f, err_name((int)r));
			return;
		}
		if (r == 0) {
			rte_pktmbuf_free(m);
			if (f->state == F_HEAD)
				why = "closed before the response";
			else if (f->clen >= 0 && f->bytes < (uint64_t)f->clen)
				why = "closed before the end of the body";
			fetch_end(f, why);
			return;
		}
		for (seg = m; seg && !why; seg = seg->next)
			why = fetch_data(f, rte_pktmbuf_mtod(seg, const char *),
					 rte_pktmbuf_data_len(seg));
		rte_pktmbuf_free(m);
		if (why || (f->state == F_BODY && f->clen >= 0 && f->bytes == (uint64_t)f->clen)) {
			fetch_end(f, why);
			return;
		}
	}
}

static void
fetch_event(struct fetch *f, uint32_t events)
{
	ssize_t r;

	if (f->state == F_DONE)
		return;
	if (events & SONDE_EV_ERR) {
		fetch_end(f, err_name(sonde_sock_error(f->s)));
		return;
	}
	if (f->state == F_CONNECTING)
		f->state = f->sp->raw ? F_BODY : F_SENDING;
	while (f->state == F_SENDING && f->req_off < f->req_len) {
		r = sonde_send(f->s, f->req + f->req_off, f->req_len - f->req_off, 0);
		if (r == -EAGAIN || r == -ENOBUFS)
			return;
		if (r < 0) {
			fetch_end(f, err_name((int)r));
			return;
		}
		f->req_off += (size_t)r;
	}
	if (f->state == F_SENDING)
		f->state = F_HEAD;
	fetch_read(f);
}

static void
fetch_open(struct svc_stack *ss, struct fetch *f, const struct fetch_spec *sp)
{
	int r;

	f->tag = T_FETCH;
	f->sp = sp;
	f->ss = ss;
	f->t0 = ss->now;
	f->clen = -1;
	f->state = F_CONNECTING;
	ss->fetch_left++;
	f->req_len = (size_t)snprintf(f->req, sizeof(f->req),
				      "GET %s HTTP/1.1\r\nHost: %s%s%s\r\nUser-Agent: sonded\r\n"
				      "Connection: close\r\n\r\n",
				      sp->path, sp->addr.ss_family == AF_INET6 ? "[" : "", sp->host,
				      sp->addr.ss_family == AF_INET6 ? "]" : "");
	f->f = fopen(sp->file, "wb");
	if (f->f == NULL) {
		fetch_end(f, "cannot open the file");
		return;
	}
	r = sonde_socket(ss->st, sp->addr.ss_family, SOCK_STREAM, f, &f->s);
	if (r < 0) {
		f->s = NULL;
		fetch_end(f, err_name(r));
		return;
	}
	r = sonde_connect(f->s, (const struct sockaddr *)&sp->addr, sp->alen);
	if (r < 0 && r != -EINPROGRESS)
		fetch_end(f, err_name(r));
}

void
services_fetch_start(struct svc_stack *ss, uint64_t now)
{
	ss->now = now;
	for (unsigned i = 0; i < ss->o->n_fetch; i++)
		fetch_open(ss, &ss->fetch[ss->n_fetch++], &ss->o->fetch[i]);
}

bool
services_fetch_done(const struct svc_stack *ss, bool *failed)
{
	*failed = ss->fetch_failed;
	return ss->fetch_left == 0;
}

/* --- the stack's services --- */

static void
dispatch(struct svc_stack *ss, const struct sonde_event *ev)
{
	const int *tag = ev->udata;

	if (tag == NULL)
		return;
	switch (*tag) {
	case T_LISTEN: listen_event(ss, ev->udata, ev->sock); break;
	case T_UDP: udp_event(ev->udata); break;
	case T_CONN: conn_event(ev->udata, ev->events); break;
	case T_FETCH: fetch_event(ev->udata, ev->events); break;
	}
}

/* Connections waiting for the pool to come back, and closing ones whose
 * peer never sent its FIN. */
static void
sweep(struct svc_stack *ss)
{
	struct conn *c = ss->conns, *next;

	for (; c; c = next) {
		next = c->next;
		if (c->kick)
			conn_run(c);
		else if (c->closing && ss->now - c->since > LINGER_NS)
			conn_close(c);
	}
}

unsigned
services_run(struct svc_stack *ss, uint64_t now)
{
	struct sonde_event ev[EV_BATCH];
	unsigned n, total = 0;

	ss->now = now;
	if (ss->n_kick || (ss->n_closing && now >= ss->next_sweep)) {
		ss->next_sweep = now + SWEEP_NS;
		sweep(ss);
	}
	for (unsigned round = 0; round < EV_ROUNDS; round++) {
		n = sonde_events(ss->st, ev, EV_BATCH);
		for (unsigned i = 0; i < n; i++)
			dispatch(ss, &ev[i]);
		total += n;
		if (n < EV_BATCH)
			break;
	}
	return total;
}

/* One socket of sp's, of family af, bound to its port on every address. */
static int
svc_socket(struct svc_stack *ss, const struct svc_spec *sp, int af, void *udata,
	   struct sonde_sock **s, bool quiet_inuse)
{
	struct sockaddr_in in = { .sin_family = AF_INET, .sin_port = htons(sp->port) };
	struct sockaddr_in6 in6 = { .sin6_family = AF_INET6, .sin6_port = htons(sp->port) };
	const char *what = "bind";
	int r;

	r = sonde_socket(ss->st, af, sp->type, udata, s);
	if (r) {
		fprintf(stderr, "sonded: --service %s: socket: %s\n", sp->arg, strerror(-r));
		return r;
	}
	r = af == AF_INET ? sonde_bind(*s, (struct sockaddr *)&in, sizeof(in))
			  : sonde_bind(*s, (struct sockaddr *)&in6, sizeof(in6));
	if (r == 0 && sp->type == SOCK_STREAM) {
		what = "listen";
		r = sonde_listen(*s, LISTEN_BACKLOG);
	}
	if (r && !(r == -EADDRINUSE && quiet_inuse))
		fprintf(stderr, "sonded: --service %s: %s (%s): %s\n", sp->arg, what,
			af == AF_INET ? "IPv4" : "IPv6", strerror(-r));
	if (r)
		sonde_close(*s);
	return r;
}

int
services_start(struct svc_stack **out, struct sonde_stack *st, const struct svc_opts *o,
	       bool primary)
{
	static const int afs[2] = { AF_INET, AF_INET6 };
	struct svc_stack *ss = calloc(1, sizeof(*ss));
	int r = 0;

	if (ss == NULL)
		return -ENOMEM;
	patterns_make();
	ss->st = st;
	ss->o = o;
	*out = ss;
	for (unsigned i = 0; i < o->n_svc && r == 0; i++) {
		const struct svc_spec *sp = &o->svc[i];

		for (unsigned f = 0; f < 2 && r == 0; f++) {
			if (sp->type == SOCK_DGRAM) {
				struct udp_svc *u = &ss->udp[ss->n_udp];

				u->tag = T_UDP;
				u->kind = sp->kind;
				u->ss = ss;
				r = svc_socket(ss, sp, afs[f], u, &u->s, false);
				ss->n_udp += r == 0;
			} else {
				/* A listener made on one linked stack is made
				 * on all by the library (socket.h): its events
				 * come to each stack's loop with the same
				 * udata. */
				if (!primary)
					continue;
				r = svc_socket(ss, sp, afs[f], (void *)(uintptr_t)sp,
					       &ss->listen[ss->n_listen], false);
				ss->n_listen += r == 0;
			}
		}
	}
	return r;
}

void
services_stop(struct svc_stack *ss)
{
	if (ss == NULL)
		return;
	/* Connections with a RST, now: the peers learn at once. */
	while (ss->conns) {
		struct conn *c = ss->conns;

		sonde_abort(c->s);
		conn_free(c);
	}
	for (unsigned i = 0; i < ss->n_fetch; i++)
		if (ss->fetch[i].state != F_DONE)
			fetch_end(&ss->fetch[i], "interrupted");
	for (unsigned i = 0; i < ss->n_listen; i++)
		sonde_close(ss->listen[i]);
	for (unsigned i = 0; i < ss->n_udp; i++)
		sonde_close(ss->udp[i].s);
	ss->n_listen = ss->n_udp = 0;
}

void
services_free(struct svc_stack *ss)
{
	free(ss);
}

void
services_stats(const struct svc_stack *ss, sonde_stat_fn fn, void *arg)
{
	const struct counters *k = &ss->c;
	const struct {
		const char *name;
		uint64_t v;
	} all[] = {
		{ "service.udp.echoed", k->udp_echoed },
		{ "service.udp.discarded", k->udp_discarded },
		{ "service.udp.chargen", k->udp_chargen },
		{ "service.udp.refused", k->udp_refused },
		{ "service.udp.send_failed", k->udp_send_failed },
		{ "service.tcp.accepted", k->tcp_accepted },
		{ "service.tcp.closed", k->tcp_closed },
		{ "service.tcp.errors", k->tcp_errors },
		{ "service.tcp.echoed_bytes", k->tcp_echoed_bytes },
		{ "service.tcp.discarded_bytes", k->tcp_discarded_bytes },
		{ "service.tcp.chargen_bytes", k->tcp_chargen_bytes },
		{ "service.http.requests", k->http_requests },
		{ "service.http.errors", k->http_errors },
		{ "service.http.body_bytes", k->http_body_bytes },
		{ "service.fetch.bytes", k->fetch_bytes },
	};

	for (size_t i = 0; i < RTE_DIM(all); i++)
		fn(all[i].name, all[i].v, arg);
}
