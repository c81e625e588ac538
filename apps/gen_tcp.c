/*
 * gen_tcp.c: sonde-gen's TCP modes.  Unlike the raw modes, which build
 * frames by hand, these embed libsonde as the client stack on the port
 * (it does ARP and ND itself) and drive connections through the public
 * socket API against a server's TCP services (sonded's --service):
 *
 *   tcp-send   N connections sending as fast as they can (discard, 9)
 *   tcp-recv   N connections reading (chargen, 19), the RFC 864 pattern
 *              checked byte by byte
 *   tcp-rr     N connections, each: send --req bytes, read them echoed
 *              (echo, 7), repeat (netperf's TCP_RR)
 *   tcp-crr    N slots, each: connect, send --req bytes, read the echo,
 *              close, repeat (TCP_CRR), from the --src addresses in turn
 *              so that the client's TIME-WAITs do not use up the ports
 *   http       N keep-alive connections, each: GET /bytes/--resp, read
 *              the whole response, check the body, repeat (like wrk)
 *   tcp-hold   N connections (up to 2^20) opened --in-flight at a time
 *              to echo (7) or discard (9), from the --src addresses in
 *              turn (16384 ports each); once all are established, held
 *              idle for --duration; then, with --check, --req bytes sent
 *              on each and their echo read back (--in-flight at a time);
 *              then closed (a FIN each, the peer's awaited), --in-flight
 *              at a time.  For bench/conns: what a server's idle
 *              connections cost.
 *
 * At the end of --duration no transaction starts; each connection
 * finishes the one it is in and closes with a FIN (its peer's FIN is
 * waited for, so that the server has closed too when this exits).
 * Everything read is checked (the echo against what was sent, chargen
 * and /bytes/N against their patterns); a byte out of place is
 * "corrupt", a connection that does not finish within DRAIN_S "stalled".
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* strcasestr */
#endif
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "gen_tcp.h"
#include "sonde/socket.h"

#define POOL_SIZE 16383
#define MAX_SRC 64
#define MAX_CONNS 4096		  /* the modes with buffers (struct tbuf) */
#define MAX_HOLD_CONNS (1u << 20) /* tcp-hold: no buffers */
#define HOLD_REQ_MAX 1024
#define HOLD_STALL_S 60 /* tcp-hold: a phase without progress this long ends */
#define MAX_REQ 65536
#define EV_BATCH 256
#define HIST_US 20000 /* latency histogram: 1 us buckets up to 20 ms */
#define DRAIN_S 5     /* seconds connections have to finish after the run */
#define HTTP_HEAD_MAX 1024
#define CHARGEN_COLS 72
#define CHARGEN_LINE (CHARGEN_COLS + 2)
#define CHARGEN_PERIOD (95 * CHARGEN_LINE)

enum tmode { T_SEND, T_RECV, T_RR, T_CRR, T_HTTP, T_HOLD };

static const char *const tmode_name[] = { "tcp-send", "tcp-recv", "tcp-rr",
					  "tcp-crr",  "http",	  "tcp-hold" };
/* sonded's services: discard, chargen, echo, echo, http, echo */
static const uint16_t tmode_port[] = { 9, 19, 7, 7, 80, 7 };

/* tcp-hold's C_CHECK: its request sent, the echo being read. */
enum cstate { C_IDLE, C_CONNECTING, C_RUN, C_CLOSING, C_DONE, C_CHECK };

/* A connection's request and response header: 65 KiB, so not in struct
 * tconn, and none for tcp-hold's connections, which may be a million. */
struct tbuf {
	char head[HTTP_HEAD_MAX];
	uint8_t req[MAX_REQ];
};

struct tconn {
	struct sonde_sock *s;
	enum cstate state;
	bool kick; /* -ENOBUFS: no event will say when to try again */
	uint32_t id;
	uint64_t txn;	   /* transactions this connection has made */
	uint64_t t0;	   /* ns: the transaction's start (CRR: the connect) */
	uint32_t req_off;  /* bytes of the request sent */
	uint64_t resp_off; /* bytes of the response (stream, for tcp-recv) read */
	/* http: the response's header as it comes (b->head), then its body's length */
	uint32_t head_len;
	bool in_body;
	uint64_t body_len;
	uint32_t req_len;
	struct tbuf *b; /* NULL for tcp-hold */
};

struct tgen {
	enum tmode mode;
	struct sonde_prefix src[MAX_SRC], dst;
	unsigned nsrc, src_count, next_src;
	uint16_t src_port[MAX_SRC]; /* the next local port of each, less 49152 */
	uint16_t port, dport;
	unsigned conns;
	uint32_t max_sockets;
	bool max_sockets_set;
	/* tcp-hold */
	uint32_t in_flight; /* handshakes, checks or closes under way at most */
	bool check;
	unsigned pending; /* under way now */
	uint64_t checked, est_ns, check_ns, close_ns;
	uint32_t req, resp;
	bool resp_set;
	double duration;
	bool json;
	struct sonde_stack *st;
	struct tconn *c;
	bool running;
	unsigned idle;	/* CRR slots waiting for a new connection */
	unsigned kicks; /* connections to run again at the next turn */
	/* results */
	uint64_t connects, established, txns, bytes;
	uint64_t txns_run, bytes_run; /* by the end of the run: the rates' */
	uint64_t refused, reset, timedout, other_err, corrupt, stalled, no_port, no_socket;
	uint64_t hist[HIST_US + 1], lat_n, lat_sum_ns, lat_max_ns;
	uint8_t buf[65536];
};

static volatile sig_atomic_t quit;

static void
on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

static int
usage(const char *why)
{
	fprintf(stderr,
		"sonde-gen: %s\nusage: sonde-gen [EAL args] -- --mode "
		"tcp-send|tcp-recv|tcp-rr|tcp-crr|http|tcp-hold --src ADDR[/LEN] [--src ADDR ...] "
		"[--src-count N] --dst ADDR [--dport N] [--conns N] [--req BYTES] "
		"[--resp BYTES] [--duration SEC] [--port N] [--max-sockets N] [--json]\n"
		"  tcp-hold: [--in-flight N] [--check]; --conns up to 1048576\n",
		why);
	return 2;
}

bool
gen_tcp_wanted(int argc, char **argv)
{
	for (int i = 0; i + 1 < argc; i++)
		if (strcmp(argv[i], "--mode") == 0)
			return strncmp(argv[i + 1], "tcp-", 4) == 0 ||
			       strcmp(argv[i + 1], "http") == 0;
	return false;
}

static int
parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (*s == '\0' || *end || v < min || v > max)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int
parse_args(int argc, char **argv, struct tgen *g)
{
	static const struct option lo[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "src", required_argument, NULL, 's' },
		{ "src-count", required_argument, NULL, 'n' },
		{ "dst", required_argument, NULL, 'd' },
		{ "dport", required_argument, NULL, 'p' },
		{ "conns", required_argument, NULL, 'c' },
		{ "req", required_argument, NULL, 'q' },
		{ "resp", required_argument, NULL, 'r' },
		{ "duration", required_argument, NULL, 't' },
		{ "port", required_argument, NULL, 'P' },
		{ "json", no_argument, NULL, 'j' },
		{ "max-sockets", required_argument, NULL, 'S' },
		{ "in-flight", required_argument, NULL, 'I' },
		{ "check", no_argument, NULL, 'C' },
		{ NULL, 0, NULL, 0 },
	};
	uint32_t v;
	char *end;
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'm': {
			unsigned i;

			for (i = 0; i < RTE_DIM(tmode_name) && strcmp(optarg, tmode_name[i]); i++)
				;
			if (i == RTE_DIM(tmode_name))
				return usage("bad --mode");
			g->mode = (enum tmode)i;
			break;
		}
		case 's':
			if (g->nsrc == MAX_SRC || sonde_prefix_parse(optarg, &g->src[g->nsrc]) != 0)
				return usage("bad --src (or too many)");
			g->nsrc++;
			break;
		case 'n':
			if (parse_u32(optarg, 1, MAX_SRC, &g->src_count))
				return usage("bad --src-count (1..64)");
			break;
		case 'd':
			if (sonde_prefix_parse(optarg, &g->dst) != 0)
				return usage("bad --dst");
			break;
		case 'p':
			if (parse_u32(optarg, 1, 65535, &v))
				return usage("bad --dport");
			g->dport = (uint16_t)v;
			break;
		case 'c':
			if (parse_u32(optarg, 1, MAX_HOLD_CONNS, &g->conns))
				return usage("bad --conns (1..4096, tcp-hold 1..1048576)");
			break;
		case 'q':
			if (parse_u32(optarg, 1, MAX_REQ, &g->req))
				return usage("bad --req (1..65536)");
			break;
		case 'r':
			if (parse_u32(optarg, 0, 1u << 30, &g->resp))
				return usage("bad --resp");
			g->resp_set = true;
			break;
		case 't':
			g->duration = strtod(optarg, &end);
			if (*end || g->duration <= 0)
				return usage("bad --duration");
			break;
		case 'P':
			if (parse_u32(optarg, 0, RTE_MAX_ETHPORTS - 1, &v))
				return usage("bad --port");
			g->port = (uint16_t)v;
			break;
		case 'j': g->json = true; break;
		case 'S':
			if (parse_u32(optarg, 64, 1u << 22, &g->max_sockets))
				return usage("bad --max-sockets");
			g->max_sockets_set = true;
			break;
		case 'I':
			if (parse_u32(optarg, 1, 65536, &g->in_flight))
				return usage("bad --in-flight (1..65536)");
			break;
		case 'C': g->check = true; break;
		default: return usage("unknown option");
		}
	}
	if (g->nsrc == 0 || g->dst.af == 0)
		return usage("--src and --dst are required");
	/* --src-count N: the first --src and the N-1 addresses after it. */
	for (unsigned i = 1; g->src_count > 1 && i < g->src_count; i++) {
		struct sonde_prefix *p = &g->src[i];

		if (g->nsrc > 1)
			return usage("--src-count with one --src only");
		*p = g->src[0];
		if (p->af == AF_INET)
			p->addr.v4 = htonl(ntohl(g->src[0].addr.v4) + i);
		else
			p->addr.v6[15] = (uint8_t)(g->src[0].addr.v6[15] + i);
	}
	if (g->src_count > 1)
		g->nsrc = g->src_count;
	for (unsigned i = 0; i < g->nsrc; i++) {
		if (g->src[i].af != g->dst.af)
			return usage("--src and --dst of different families");
		/* A bare address: the usual on-link prefix, so that --dst is
		 * reached by the connected route. */
		if (g->src[i].plen == (g->src[i].af == AF_INET ? 32 : 128))
			g->src[i].plen = g->src[i].af == AF_INET ? 24 : 64;
	}
	if (g->mode == T_RR || g->mode == T_CRR) {
		if (g->resp_set && g->resp != g->req)
			return usage("tcp-rr and tcp-crr run against echo: --resp is --req");
		g->resp = g->req;
	}
	if (g->dport == 0)
		g->dport = tmode_port[g->mode];
	if (g->mode != T_HOLD && g->conns > MAX_CONNS)
		return usage("bad --conns (1..4096 but for tcp-hold)");
	if (g->mode == T_HOLD) {
		if (g->req > HOLD_REQ_MAX)
			return usage("tcp-hold: --req up to 1024");
		/* Each source address has the 16384 ports of the dynamic range
		 * towards the server's one address and port. */
		if ((uint64_t)g->nsrc * 16384 < g->conns)
			return usage("tcp-hold: 16384 connections per --src address at most "
				     "(more --src, or --src-count)");
	} else if (g->in_flight || g->check) {
		return usage("--in-flight and --check are tcp-hold's");
	}
	return 0;
}

/* --- checks on what is read --- */

static inline uint8_t
chargen_byte(uint64_t i)
{
	uint64_t p = i % CHARGEN_PERIOD, line = p / CHARGEN_LINE, col = p % CHARGEN_LINE;

	return col < CHARGEN_COLS    ? (uint8_t)(' ' + (line + col) % 95)
	       : col == CHARGEN_COLS ? '\r'
				     : '\n';
}

static const char BYTES_ALPHABET[65] =
	"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ+/";

/* A request of its own for every transaction, so that an echo of an
 * earlier one, or another connection's, does not pass for this one's. */
static void
req_fill(struct tgen *g, struct tconn *c)
{
	uint32_t seed = c->id * 2654435761u + (uint32_t)c->txn * 40503u;

	c->req_len = g->req;
	for (uint32_t i = 0; i < c->req_len; i++)
		c->b->req[i] = (uint8_t)((seed >> (i & 24)) + i);
}

static void
latency(struct tgen *g, uint64_t ns)
{
	g->lat_n++;
	g->lat_sum_ns += ns;
	if (ns > g->lat_max_ns)
		g->lat_max_ns = ns;
	g->hist[RTE_MIN(ns / 1000, (uint64_t)HIST_US)]++;
}

static uint64_t
percentile(const struct tgen *g, double q)
{
	uint64_t want = (uint64_t)(q * (double)g->lat_n), seen = 0;

	if (g->lat_n == 0)
		return 0;
	for (unsigned i = 0; i <= HIST_US; i++) {
		seen += g->hist[i];
		if (seen > want)
			return i;
	}
	return HIST_US;
}

/* --- connections --- */

static void conn_open(struct tgen *g, struct tconn *c);

static void
conn_txn_start(struct tgen *g, struct tconn *c, uint64_t now)
{
	c->req_off = 0;
	c->resp_off = 0;
	c->head_len = 0;
	c->in_body = false;
	c->t0 = g->mode == T_CRR ? c->t0 : now;
	if (g->mode == T_HTTP) {
		int n = snprintf((char *)c->b->req, sizeof(c->b->req),
				 "GET /bytes/%" PRIu32 " HTTP/1.1\r\nHost: sonde\r\n\r\n", g->resp);

		c->req_len = (uint32_t)n;
	} else if (g->mode == T_RR || g->mode == T_CRR) {
		req_fill(g, c);
	} else {
		c->req_len = 0;
	}
}

/* Gives the socket back; a CRR slot is opened again while the run lasts. */
static void
conn_end(struct tgen *g, struct tconn *c)
{
	sonde_close(c->s);
	c->s = NULL;
	c->state = C_DONE;
	if (g->mode == T_CRR && g->running) {
		c->state = C_IDLE;
		g->idle++;
	}
}

static void
conn_error(struct tgen *g, struct tconn *c, int err)
{
	switch (-err) {
	case ECONNREFUSED: g->refused++; break;
	case ECONNRESET: g->reset++; break;
	case ETIMEDOUT: g->timedout++; break;
	default:
		g->other_err++;
		fprintf(stderr, "sonde-gen: connection %u: %s\n", c->id, strerror(-err));
	}
	sonde_abort(c->s);
	c->s = NULL;
	c->state = C_DONE;
	if (g->mode == T_CRR && g->running) {
		c->state = C_IDLE;
		g->idle++;
	}
}

static void
conn_corrupt(struct tgen *g, struct tconn *c, const char *what)
{
	if (g->corrupt++ < 5)
		fprintf(stderr, "sonde-gen: connection %u, transaction %" PRIu64 ": %s\n", c->id,
			c->txn, what);
	sonde_abort(c->s);
	c->s = NULL;
	c->state = C_DONE;
}

/* After the run: no more requests; a FIN, then the peer's is waited for. */
static void
conn_finish(struct tconn *c)
{
	c->state = C_CLOSING;
	sonde_shutdown(c->s, SHUT_WR);
}

/* One transaction's response, done: true if the connection goes on. */
static bool
txn_done(struct tgen *g, struct tconn *c, uint64_t now)
{
	c->txn++;
	g->txns++;
	latency(g, now - c->t0);
	if (g->mode == T_CRR) {
		conn_finish(c); /* the peer's FIN is read as the CLOSING state's EOF */
		return true;
	}
	if (!g->running) {
		conn_finish(c);
		return true;
	}
	conn_txn_start(g, c, now);
	return true;
}

/* HTTP: bytes of a response; returns false on a malformed one. */
static bool
http_take(struct tgen *g, struct tconn *c, const uint8_t *p, size_t n, uint64_t now)
{
	while (n > 0) {
		if (!c->in_body) {
			size_t k = RTE_MIN(n, (size_t)(HTTP_HEAD_MAX - 1 - c->head_len)), hl;
			char *e, *cl;

			memcpy(c->b->head + c->head_len, p, k);
			c->head_len += (uint32_t)k;
			c->b->head[c->head_len] = '\0';
			e = strstr(c->b->head, "\r\n\r\n");
			if (e == NULL)
				return k == n; /* a header longer than HTTP_HEAD_MAX: bad */
			if (strncmp(c->b->head, "HTTP/1.1 200 ", 13) != 0)
				return false;
			cl = strcasestr(c->b->head, "\r\nContent-Length: ");
			if (cl == NULL || cl > e)
				return false;
			c->body_len = strtoull(cl + 18, NULL, 10);
			if (c->body_len != g->resp)
				return false;
			/* The head's bytes past its end are the last of the k
			 * taken from p: the body starts there in p. */
			hl = (size_t)(e + 4 - c->b->head);
			p += k - (c->head_len - hl);
			n -= k - (c->head_len - hl);
			c->in_body = true;
			c->resp_off = 0;
		}
		size_t k = (size_t)RTE_MIN((uint64_t)n, c->body_len - c->resp_off);

		for (size_t i = 0; i < k; i++)
			if (p[i] != (uint8_t)BYTES_ALPHABET[(c->resp_off + i) % 64])
				return false;
		c->resp_off += k;
		g->bytes += k;
		p += k;
		n -= k;
		if (c->resp_off == c->body_len) {
			txn_done(g, c, now);
			if (n > 0) /* no pipelining: nothing was asked for */
				return false;
		}
	}
	return true;
}

/* The pool is short: the stack posts no event when it is not, so the
 * main loop runs c again at its next turn. */
static void
conn_kick(struct tgen *g, struct tconn *c)
{
	if (!c->kick) {
		c->kick = true;
		g->kicks++;
	}
}

/* Edge-triggered: works until the stack says -EAGAIN on what it waits on. */
static void
conn_run(struct tgen *g, struct tconn *c, uint64_t now)
{
	static uint8_t pat[65536];
	ssize_t r;

	if (pat[1] == 0)
		for (size_t i = 0; i < sizeof(pat); i++)
			pat[i] = (uint8_t)BYTES_ALPHABET[i % 64];
	for (;;) {
		if (c->state == C_RUN && g->mode == T_SEND) {
			r = sonde_send(c->s, pat, sizeof(pat), 0);
			if (r > 0) {
				g->bytes += (uint64_t)r;
				continue;
			}
			if (r == -ENOBUFS)
				conn_kick(g, c);
			if (r == -EAGAIN || r == -ENOBUFS)
				return; /* OUT comes with room */
			conn_error(g, c, (int)r);
			return;
		}
		if (c->state == C_RUN && c->req_off < c->req_len) {
			r = sonde_send(c->s, c->b->req + c->req_off, c->req_len - c->req_off, 0);
			if (r > 0) {
				c->req_off += (uint32_t)r;
				continue;
			}
			if (r == -ENOBUFS)
				conn_kick(g, c);
			if (r == -EAGAIN || r == -ENOBUFS)
				return;
			conn_error(g, c, (int)r);
			return;
		}
		/* Everything asked for sent: read. */
		r = sonde_recv(c->s, g->buf, sizeof(g->buf), 0);
		if (r == -EAGAIN)
			return;
		if (r < 0) {
			conn_error(g, c, (int)r);
			return;
		}
		if (r == 0) {
			if (c->state == C_CLOSING) {
				conn_end(g, c);
				return;
			}
			conn_corrupt(g, c, "the peer closed first");
			return;
		}
		if (c->state == C_CLOSING && g->mode != T_RECV) {
			conn_corrupt(g, c, "data after the last response");
			return;
		}
		switch (g->mode) {
		case T_RECV:
			for (ssize_t i = 0; i < r; i++)
				if (g->buf[i] != chargen_byte(c->resp_off + (uint64_t)i)) {
					conn_corrupt(g, c, "chargen pattern broken");
					return;
				}
			c->resp_off += (uint64_t)r;
			g->bytes += (uint64_t)r;
			break;
		case T_RR:
		case T_CRR:
			if (c->resp_off + (uint64_t)r > c->req_len ||
			    memcmp(g->buf, c->b->req + c->resp_off, (size_t)r) != 0) {
				conn_corrupt(g, c, "echo differs from the request");
				return;
			}
			c->resp_off += (uint64_t)r;
			g->bytes += (uint64_t)r;
			if (c->resp_off == c->req_len && c->req_off == c->req_len)
				txn_done(g, c, now);
			break;
		case T_HTTP:
			if (!http_take(g, c, g->buf, (size_t)r, now)) {
				conn_corrupt(g, c, "bad HTTP response");
				return;
			}
			break;
		case T_SEND:
		case T_HOLD: conn_corrupt(g, c, "discard answered"); return;
		}
	}
}

static void
conn_event(struct tgen *g, struct tconn *c, uint32_t events, uint64_t now)
{
	if (c->s == NULL)
		return;
	if (events & SONDE_EV_ERR) {
		conn_error(g, c, sonde_sock_error(c->s));
		return;
	}
	if (c->state == C_CONNECTING) {
		if (!(events & SONDE_EV_OUT))
			return;
		g->established++;
		c->state = C_RUN;
		/* A CRR connection is its transaction: begun, it is made. */
		if (!g->running && g->mode != T_CRR)
			conn_finish(c);
		else
			conn_txn_start(g, c, now);
	}
	conn_run(g, c, now);
}

/* A socket from src's address and port lport to the server: connect's
 * result (-EINPROGRESS), c->s set only then. */
static int
conn_try(struct tgen *g, struct tconn *c, const struct sonde_prefix *src, uint16_t lport)
{
	struct sockaddr_storage la = { 0 }, ra = { 0 };
	socklen_t len;
	int r;

	if (g->dst.af == AF_INET) {
		struct sockaddr_in *l = (struct sockaddr_in *)&la, *d = (struct sockaddr_in *)&ra;

		l->sin_family = d->sin_family = AF_INET;
		l->sin_addr.s_addr = src->addr.v4;
		l->sin_port = htons(lport);
		d->sin_addr.s_addr = g->dst.addr.v4;
		d->sin_port = htons(g->dport);
		len = sizeof(*l);
	} else {
		struct sockaddr_in6 *l = (struct sockaddr_in6 *)&la,
				    *d = (struct sockaddr_in6 *)&ra;

		l->sin6_family = d->sin6_family = AF_INET6;
		memcpy(&l->sin6_addr, src->addr.v6, 16);
		l->sin6_port = htons(lport);
		memcpy(&d->sin6_addr, g->dst.addr.v6, 16);
		d->sin6_port = htons(g->dport);
		len = sizeof(*l);
	}
	r = sonde_socket(g->st, g->dst.af, SOCK_STREAM, c, &c->s);
	if (r != 0) {
		c->s = NULL;
		return r;
	}
	r = sonde_bind(c->s, (struct sockaddr *)&la, len);
	if (r == 0 && g->mode != T_SEND && g->mode != T_RECV)
		sonde_setsockopt(c->s, SONDE_SO_NODELAY, 1);
	if (r == 0)
		r = sonde_connect(c->s, (struct sockaddr *)&ra, len);
	if (r != -EINPROGRESS) {
		sonde_abort(c->s);
		c->s = NULL;
	}
	return r;
}

/* The local port is ours to pick, each source address walking the
 * dynamic range on its own: bind with port 0 would pick one free of
 * bound sockets only, not of the TIME-WAITs towards the server (as BSD
 * sockets without Linux's IP_BIND_ADDRESS_NO_PORT), and its one counter
 * for all addresses gives each of n addresses a 1/n of the range.  A
 * port whose 4-tuple is still in TIME-WAIT is -EADDRINUSE: the next. */
static void
conn_open(struct tgen *g, struct tconn *c)
{
	unsigned i = g->next_src++ % g->nsrc;
	int r = -EADDRINUSE;

	c->state = C_IDLE;
	for (unsigned tries = 0; tries < 64 && r == -EADDRINUSE; tries++) {
		uint16_t lport = (uint16_t)(49152 + g->src_port[i]++ % 16384);

		r = conn_try(g, c, &g->src[i], lport);
	}
	if (r != -EINPROGRESS) {
		if (r == -EADDRINUSE || r == -EADDRNOTAVAIL)
			g->no_port++;
		else if (r == -EMFILE)
			g->no_socket++; /* all of max_sockets held open */
		else if (g->other_err++ < 5)
			fprintf(stderr, "sonde-gen: connect: %s\n", strerror(-r));
		g->idle++;
		return;
	}
	g->connects++;
	c->state = C_CONNECTING;
	c->t0 = sonde_now(g->st);
}

/* --- the run --- */

static void
report(struct tgen *g, double secs)
{
	uint64_t errors = g->refused + g->reset + g->timedout + g->other_err + g->corrupt +
			  g->stalled + g->no_port + g->no_socket;
	double rate = (g->mode == T_SEND || g->mode == T_RECV) ? (double)g->bytes_run / secs
							       : (double)g->txns_run / secs;
	const char *unit = g->mode == T_SEND || g->mode == T_RECV ? "bytes_per_s"
			   : g->mode == T_HTTP			  ? "requests_per_s"
								  : "transactions_per_s";

	if (g->mode == T_HOLD) {
		printf(g->json ? "{\"mode\": \"%s\", \"conns\": %u, \"in_flight\": %u, "
				 "\"connects\": %" PRIu64 ", \"established\": %" PRIu64
				 ", \"establish_s\": %.3f, \"hold_s\": %.1f, \"checked\": %" PRIu64
				 ", \"check_s\": %.3f, \"close_s\": %.3f, \"errors\": %" PRIu64
				 ", \"refused\": %" PRIu64 ", \"reset\": %" PRIu64
				 ", \"timeout\": %" PRIu64 ", \"corrupt\": %" PRIu64
				 ", \"stalled\": %" PRIu64 ", \"no_port\": %" PRIu64
				 ", \"no_socket\": %" PRIu64 ", \"other_errors\": %" PRIu64 "}\n"
			       : "%s: %u connections (%u in flight): connects %" PRIu64
				 " established %" PRIu64 " in %.3f s, held %.1f s, checked %" PRIu64
				 " in %.3f s, closed in %.3f s; errors %" PRIu64
				 " (refused %" PRIu64 " reset %" PRIu64 " timeout %" PRIu64
				 " corrupt %" PRIu64 " stalled %" PRIu64 " no_port %" PRIu64
				 " no_socket %" PRIu64 " other %" PRIu64 ")\n",
		       tmode_name[g->mode], g->conns, g->in_flight, g->connects, g->established,
		       (double)g->est_ns / 1e9, secs, g->checked, (double)g->check_ns / 1e9,
		       (double)g->close_ns / 1e9, errors, g->refused, g->reset, g->timedout,
		       g->corrupt, g->stalled, g->no_port, g->no_socket, g->other_err);
		return;
	}

	if (g->json)
		printf("{\"mode\": \"%s\", \"conns\": %u, \"req\": %" PRIu32 ", \"resp\": %" PRIu32
		       ", \"seconds\": %.3f, \"%s\": %.1f, \"bytes\": %" PRIu64
		       ", \"transactions\": %" PRIu64 ", \"connects\": %" PRIu64
		       ", \"established\": %" PRIu64 ", \"lat_us_p50\": %" PRIu64
		       ", \"lat_us_p90\": %" PRIu64 ", \"lat_us_p99\": %" PRIu64
		       ", \"lat_us_max\": %.1f, \"errors\": %" PRIu64 ", \"refused\": %" PRIu64
		       ", \"reset\": %" PRIu64 ", \"timeout\": %" PRIu64 ", \"corrupt\": %" PRIu64
		       ", \"stalled\": %" PRIu64 ", \"no_port\": %" PRIu64
		       ", \"no_socket\": %" PRIu64 ", \"other_errors\": %" PRIu64 "}\n",
		       tmode_name[g->mode], g->conns, g->req, g->resp, secs, unit, rate, g->bytes,
		       g->txns, g->connects, g->established, percentile(g, 0.5), percentile(g, 0.9),
		       percentile(g, 0.99), (double)g->lat_max_ns / 1000.0, errors, g->refused,
		       g->reset, g->timedout, g->corrupt, g->stalled, g->no_port, g->no_socket,
		       g->other_err);
	else
		printf("%s: %u connections, %.3f s: %s %.1f; bytes %" PRIu64
		       " transactions %" PRIu64 " connects %" PRIu64 "; latency us p50 %" PRIu64
		       " p90 %" PRIu64 " p99 %" PRIu64 " max %.1f; errors %" PRIu64
		       " (refused %" PRIu64 " reset %" PRIu64 " timeout %" PRIu64
		       " corrupt %" PRIu64 " stalled %" PRIu64 " no_port %" PRIu64
		       " no_socket %" PRIu64 ")\n",
		       tmode_name[g->mode], g->conns, secs, unit, rate, g->bytes, g->txns,
		       g->connects, percentile(g, 0.5), percentile(g, 0.9), percentile(g, 0.99),
		       (double)g->lat_max_ns / 1000.0, errors, g->refused, g->reset, g->timedout,
		       g->corrupt, g->stalled, g->no_port, g->no_socket);
}

/* Nothing open any more?  (Slots waiting to be opened count as closed.) */
static bool
all_done(const struct tgen *g)
{
	for (unsigned i = 0; i < g->conns; i++)
		if (g->c[i].s != NULL)
			return false;
	return true;
}

static void
poll_for(struct tgen *g, uint64_t ns)
{
	uint64_t end = sonde_now(g->st) + ns;
	struct sonde_event ev[EV_BATCH];

	while (!quit && sonde_now(g->st) < end) {
		sonde_poll(g->st, sonde_now(g->st));
		sonde_events(g->st, ev, EV_BATCH); /* every socket is closed */
	}
}

/* --- tcp-hold: many idle connections --- */

/* Connection id's request of --req bytes, made again to check its echo. */
static void
hold_req(const struct tgen *g, uint32_t id, uint8_t *p)
{
	uint32_t seed = id * 2654435761u + 0x5eed;

	for (uint32_t i = 0; i < g->req; i++)
		p[i] = (uint8_t)((seed >> (i & 24)) + i);
}

/* A connection leaves the phase's work (established, checked, closed or
 * failed): room for the next. */
static void
hold_done(struct tgen *g)
{
	g->pending--;
}

static void
hold_fail(struct tgen *g, struct tconn *c, int err)
{
	bool was_pending = c->state != C_RUN;

	conn_error(g, c, err); /* aborts, C_DONE */
	if (was_pending)
		hold_done(g);
}

static void
hold_corrupt(struct tgen *g, struct tconn *c, const char *what)
{
	bool was_pending = c->state != C_RUN;

	conn_corrupt(g, c, what);
	if (was_pending)
		hold_done(g);
}

/* Reads what c has: the echo while checking, the peer's FIN while
 * closing; nothing is expected while held. */
static void
hold_read(struct tgen *g, struct tconn *c)
{
	uint8_t want[HOLD_REQ_MAX];
	ssize_t r;

	for (;;) {
		r = sonde_recv(c->s, g->buf, sizeof(g->buf), 0);
		if (r == -EAGAIN)
			return;
		if (r < 0) {
			hold_fail(g, c, (int)r);
			return;
		}
		if (r == 0) {
			if (c->state != C_CLOSING) {
				hold_corrupt(g, c, "the peer closed first");
				return;
			}
			sonde_close(c->s);
			c->s = NULL;
			c->state = C_DONE;
			hold_done(g);
			return;
		}
		if (c->state != C_CHECK) {
			hold_corrupt(g, c, "data on an idle connection");
			return;
		}
		hold_req(g, c->id, want);
		if (c->resp_off + (uint64_t)r > g->req ||
		    memcmp(g->buf, want + c->resp_off, (size_t)r) != 0) {
			hold_corrupt(g, c, "echo differs from the request");
			return;
		}
		c->resp_off += (uint64_t)r;
		g->bytes += (uint64_t)r;
		if (c->resp_off == g->req) {
			g->checked++;
			g->txns++;
			c->state = C_RUN;
			hold_done(g);
		}
	}
}

static void
hold_event(struct tgen *g, struct tconn *c, uint32_t events)
{
	if (c->s == NULL)
		return;
	if (events & SONDE_EV_ERR) {
		hold_fail(g, c, sonde_sock_error(c->s));
		return;
	}
	if (c->state == C_CONNECTING) {
		if (!(events & SONDE_EV_OUT))
			return;
		g->established++;
		c->state = C_RUN;
		hold_done(g);
	}
	if (events & SONDE_EV_IN)
		hold_read(g, c);
}

/* Polls and handles events until fewer than --in-flight are under way
 * (or none, if drain), or HOLD_STALL_S pass with none finishing. */
static bool
hold_wait(struct tgen *g, bool drain)
{
	struct sonde_event ev[EV_BATCH];
	unsigned last = g->pending;
	uint64_t now = sonde_now(g->st), since = now;

	while (!quit && (drain ? g->pending > 0 : g->pending >= g->in_flight)) {
		unsigned n;

		sonde_poll(g->st, now);
		while ((n = sonde_events(g->st, ev, EV_BATCH)) > 0)
			for (unsigned i = 0; i < n; i++)
				hold_event(g, ev[i].udata, ev[i].events);
		now = sonde_now(g->st);
		if (g->pending != last) {
			last = g->pending;
			since = now;
		} else if (now - since > HOLD_STALL_S * 1000000000ull) {
			return false;
		}
	}
	return !quit;
}

/* Whatever did not finish a phase in time: stalled, aborted. */
static void
hold_stalled(struct tgen *g, const char *phase)
{
	unsigned n = 0;

	for (unsigned i = 0; i < g->conns; i++) {
		struct tconn *c = &g->c[i];

		if (c->s == NULL || c->state == C_RUN)
			continue;
		if (n++ < 5)
			fprintf(stderr, "sonde-gen: connection %u stalled %s (state %d)\n", i,
				phase, c->state);
		g->stalled++;
		sonde_abort(c->s);
		c->s = NULL;
		c->state = C_DONE;
	}
	g->pending = 0;
}

/* Polls for ns, handling events (a connection's error is counted). */
static void
hold_idle(struct tgen *g, uint64_t ns)
{
	struct sonde_event ev[EV_BATCH];
	uint64_t end = sonde_now(g->st) + ns;

	while (!quit && sonde_now(g->st) < end) {
		unsigned n;

		sonde_poll(g->st, sonde_now(g->st));
		while ((n = sonde_events(g->st, ev, EV_BATCH)) > 0)
			for (unsigned i = 0; i < n; i++)
				hold_event(g, ev[i].udata, ev[i].events);
	}
}

static int
run_hold(struct tgen *g)
{
	uint8_t req[HOLD_REQ_MAX];
	uint64_t t0, t1;
	unsigned held = 0;

	g->running = true;
	/* Open, --in-flight handshakes at a time. */
	t0 = sonde_now(g->st);
	for (unsigned i = 0; i < g->conns && !quit; i++) {
		struct tconn *c = &g->c[i];

		c->id = i;
		if (!hold_wait(g, false))
			break;
		conn_open(g, c);
		if (c->state == C_CONNECTING)
			g->pending++;
		g->idle = 0; /* no slot is opened again */
		/* The first from each source address alone: the server learns
		 * its MAC (ARP) with one SYN waiting, not hundreds, of which
		 * it would keep 4 (sonde_conf.arp_queue) and the rest would
		 * wait a second for their retransmission. */
		if (i < g->nsrc && !hold_wait(g, true))
			break;
	}
	if (!hold_wait(g, true))
		hold_stalled(g, "connecting");
	t1 = sonde_now(g->st);
	g->est_ns = t1 - t0;
	for (unsigned i = 0; i < g->conns; i++)
		held += g->c[i].s != NULL && g->c[i].state == C_RUN;
	printf("established %" PRIu64 " of %u in %.3f s; holding %u for %.1f s\n", g->established,
	       g->conns, (double)g->est_ns / 1e9, held, g->duration);
	fflush(stdout);
	/* Held: polled, nothing sent. */
	hold_idle(g, (uint64_t)(g->duration * 1e9));
	g->running = false;
	/* One request on each, its echo read back. */
	if (g->check) {
		t0 = sonde_now(g->st);
		for (unsigned i = 0; i < g->conns && !quit; i++) {
			struct tconn *c = &g->c[i];
			ssize_t r;

			if (c->s == NULL || c->state != C_RUN)
				continue;
			if (!hold_wait(g, false))
				break;
			if (c->s == NULL) /* reset while waiting */
				continue;
			hold_req(g, c->id, req);
			c->resp_off = 0;
			c->state = C_CHECK;
			g->pending++;
			r = sonde_send(c->s, req, g->req, 0);
			if (r != (ssize_t)g->req)
				hold_fail(g, c, r < 0 ? (int)r : -ENOBUFS);
		}
		if (!hold_wait(g, true))
			hold_stalled(g, "checking");
		g->check_ns = sonde_now(g->st) - t0;
	}
	/* Closed: a FIN, the peer's awaited. */
	t0 = sonde_now(g->st);
	for (unsigned i = 0; i < g->conns && !quit; i++) {
		struct tconn *c = &g->c[i];

		if (c->s == NULL || c->state != C_RUN)
			continue;
		if (!hold_wait(g, false))
			break;
		if (c->s == NULL)
			continue;
		c->state = C_CLOSING;
		g->pending++;
		sonde_shutdown(c->s, SHUT_WR);
		hold_read(g, c); /* the peer's FIN may be in already */
	}
	if (!hold_wait(g, true))
		hold_stalled(g, "closing");
	g->close_ns = sonde_now(g->st) - t0;
	for (unsigned i = 0; i < g->conns; i++)
		if (g->c[i].s != NULL) {
			g->stalled++;
			sonde_abort(g->c[i].s);
			g->c[i].s = NULL;
		}
	/* The ACK of the server's FIN, and those of retransmissions, go out. */
	poll_for(g, 200000000ull);
	report(g, g->duration);
	return 0;
}

static int
run(struct tgen *g)
{
	struct sonde_event ev[EV_BATCH];
	uint64_t start, end, now, drain_end = 0;
	double secs;

	g->running = true;
	start = sonde_now(g->st);
	end = start + (uint64_t)(g->duration * 1e9);
	for (unsigned i = 0; i < g->conns; i++) {
		g->c[i].id = i;
		conn_open(g, &g->c[i]);
	}
	for (now = start; !quit; now = sonde_now(g->st)) {
		unsigned n;

		sonde_poll(g->st, now);
		while ((n = sonde_events(g->st, ev, EV_BATCH)) > 0)
			for (unsigned i = 0; i < n; i++)
				conn_event(g, ev[i].udata, ev[i].events, now);
		if (g->kicks > 0) {
			g->kicks = 0;
			for (unsigned i = 0; i < g->conns; i++)
				if (g->c[i].kick) {
					g->c[i].kick = false;
					if (g->c[i].s != NULL)
						conn_run(g, &g->c[i], now);
				}
		}
		if (g->running && g->idle > 0) {
			g->idle = 0;
			for (unsigned i = 0; i < g->conns; i++)
				if (g->c[i].state == C_IDLE)
					conn_open(g, &g->c[i]);
		}
		if (g->running && now >= end) {
			/* The end of the run: what the bulk modes moved until now
			 * is their throughput; the rest finish. */
			g->running = false;
			g->bytes_run = g->bytes;
			g->txns_run = g->txns;
			if (g->mode == T_SEND)
				for (unsigned i = 0; i < g->conns; i++)
					if (g->c[i].s != NULL)
						g->bytes_run -= sonde_sock_unsent(g->c[i].s);
			for (unsigned i = 0; i < g->conns; i++) {
				struct tconn *c = &g->c[i];

				/* A connection between transactions (bulk ones always
				 * are) finishes now; one in a transaction, when its
				 * response is in. */
				if (c->s != NULL && c->state == C_RUN &&
				    (g->mode == T_SEND || g->mode == T_RECV))
					conn_finish(c);
			}
			drain_end = now + DRAIN_S * 1000000000ull;
		}
		if (!g->running && (all_done(g) || now >= drain_end))
			break;
	}
	secs = (double)(end - start) / 1e9;
	for (unsigned i = 0; i < g->conns; i++)
		if (g->c[i].s != NULL) {
			g->stalled++;
			fprintf(stderr, "sonde-gen: connection %u did not finish (state %d)\n", i,
				g->c[i].state);
			sonde_abort(g->c[i].s);
			g->c[i].s = NULL;
		}
	/* The ACK of the server's FIN, and those of retransmissions, go out. */
	poll_for(g, 200000000ull);
	report(g, secs);
	return 0;
}

int
gen_tcp_main(int argc, char **argv)
{
	static struct tgen the_gen;
	struct tgen *g = &the_gen;
	struct sonde_conf conf = { 0 };
	int ifindex, r;

	g->duration = 5;
	g->conns = 1;
	g->req = 1;
	g->resp = 1024;
	g->max_sockets = 32768;
	r = parse_args(argc, argv, g);
	if (r)
		return r;
	if (!rte_eth_dev_is_valid_port(g->port)) {
		fprintf(stderr, "sonde-gen: no DPDK port %u\n", g->port);
		return 2;
	}
	g->c = calloc(g->conns, sizeof(*g->c));
	for (unsigned i = 0; g->c != NULL && g->mode != T_HOLD && i < g->conns; i++)
		if ((g->c[i].b = malloc(sizeof(*g->c[i].b))) == NULL) {
			fprintf(stderr, "sonde-gen: no memory for the connections\n");
			return 1;
		}
	if (g->mode == T_HOLD) {
		if (g->in_flight == 0)
			g->in_flight = 1000;
		/* Every connection at once, a few more for what closes. */
		if (!g->max_sockets_set)
			g->max_sockets = g->conns + 64;
	}
	conf.pool = rte_pktmbuf_pool_create("gen_tcp", POOL_SIZE, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					    (int)rte_socket_id());
	/* CRR leaves a TIME-WAIT (60 s) per connection on this side: past
	 * max_sockets the stack recycles the oldest (tcp.tw_recycled), so
	 * -EMFILE ("no_socket") means every socket is one the generator
	 * holds. */
	conf.max_sockets = g->max_sockets;
	/* Every connection's SYN may wait for the server's MAC at the start. */
	conf.arp_queue = (g->mode == T_HOLD ? RTE_MIN(g->conns, g->in_flight) : g->conns) + 16;
	if (g->c == NULL || conf.pool == NULL || (g->st = sonde_stack_create(&conf)) == NULL) {
		fprintf(stderr, "sonde-gen: no memory for the stack\n");
		return 1;
	}
	ifindex = sonde_port_add(g->st, g->port);
	for (unsigned i = 0; ifindex >= 0 && i < g->nsrc; i++)
		if ((r = sonde_addr_add(g->st, ifindex, &g->src[i])) != 0) {
			fprintf(stderr, "sonde-gen: address %u: %s\n", i, strerror(-r));
			ifindex = -1;
		}
	if (ifindex < 0) {
		fprintf(stderr, "sonde-gen: cannot start port %u with its addresses\n", g->port);
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	while (!quit && !sonde_ready(g->st)) /* IPv6: DAD, about a second */
		sonde_poll(g->st, sonde_now(g->st));
	r = g->mode == T_HOLD ? run_hold(g) : run(g);
	sonde_ports_close(g->st);
	sonde_stack_destroy(g->st);
	for (unsigned i = 0; g->mode != T_HOLD && i < g->conns; i++)
		free(g->c[i].b);
	free(g->c);
	return r;
}
