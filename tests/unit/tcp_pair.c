/*
 * tcp_pair.c: two stacks joined by a wire (tcp_pair.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_mbuf.h>

#include "ref_sum.h"
#include "sock.h"
#include "tcp_pair.h"

static const uint8_t MAC_PA[6] = { 0x02, 0, 0, 0, 0x0a, 1 };
static const uint8_t MAC_PB[6] = { 0x02, 0, 0, 0, 0x0b, 1 };

static uint16_t
wire_pop(struct pair_wire *w, struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t k = 0;

	while (k < n && w->head != w->tail)
		pkts[k++] = w->q[w->head++ % PAIR_Q];
	return k;
}

static bool
wire_lost(const uint64_t *lose, uint64_t frame)
{
	for (unsigned i = 0; i < 8; i++)
		if (lose[i] == frame)
			return true;
	return false;
}

/* --- segments on the wire --- */

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* The TCP checksum over the pseudo-header (RFC 9293 3.1, RFC 8200 8.1),
 * by ref_sum: th with its checksum field zero. */
static uint16_t
tcp_cksum(uint8_t af, const uint8_t *ip, const uint8_t *th, uint32_t len)
{
	uint8_t tail[4] = { 0, 6, (uint8_t)(len >> 8), (uint8_t)len };
	uint32_t sum = af == 6 ? ref_sum(ref_sum(0, ip + 8, 16), ip + 24, 16)
			       : ref_sum(ref_sum(0, ip + 12, 4), ip + 16, 4);

	if (af == 6) {
		uint8_t t6[8] = { (uint8_t)(len >> 24),
				  (uint8_t)(len >> 16),
				  (uint8_t)(len >> 8),
				  (uint8_t)len,
				  0,
				  0,
				  0,
				  6 };

		sum = ref_sum(sum, t6, 8);
	} else {
		sum = ref_sum(sum, tail, 4);
	}
	return (uint16_t)~ref_fold(ref_sum(sum, th, len));
}

/* Frame f (len bytes): a TCP segment into sg; false if it is not one. */
static bool
seg_parse(const uint8_t *f, uint32_t len, struct pair_seg *sg)
{
	uint16_t type = get16(f + 12);
	const uint8_t *ip = f + 14, *th, *o;
	uint32_t tlen, hlen;

	memset(sg, 0, sizeof(*sg));
	if (type == 0x0800 && len >= 34 && ip[9] == 6) {
		sg->af = 4;
		sg->ecn = ip[1] & 3;
		th = ip + (ip[0] & 0xf) * 4;
		tlen = get16(ip + 2) - (uint32_t)(th - ip);
	} else if (type == 0x86dd && len >= 54 && ip[6] == 6) {
		sg->af = 6;
		sg->ecn = (uint8_t)(get32(ip) >> 20 & 3);
		th = ip + 40;
		tlen = get16(ip + 4);
	} else {
		return false;
	}
	hlen = (th[12] >> 4) * 4u;
	sg->sport = get16(th);
	sg->dport = get16(th + 2);
	sg->seq = get32(th + 4);
	sg->ack = get32(th + 8);
	sg->flags = th[13];
	sg->win = get16(th + 14);
	sg->len = tlen - hlen;
	for (o = th + 20; o < th + hlen && *o != 0;) {
		if (*o == 1) {
			o++;
			continue;
		}
		switch (o[0]) {
		case 2: sg->mss = get16(o + 2); break;
		case 3:
			sg->has_ws = true;
			sg->ws = o[2];
			break;
		case 4: sg->sack_ok = true; break;
		case 5:
			for (unsigned i = 0; i < (o[1] - 2u) / 8 && i < 4; i++) {
				sg->sack[i][0] = get32(o + 2 + 8 * i);
				sg->sack[i][1] = get32(o + 6 + 8 * i);
				sg->n_sack++;
			}
			break;
		case 8:
			sg->ts = true;
			sg->tsval = get32(o + 2);
			sg->tsecr = get32(o + 6);
			break;
		default: break;
		}
		if (o[1] < 2)
			break;
		o += o[1];
	}
	return true;
}

static uint8_t *
seg_ip(struct rte_mbuf *m)
{
	return rte_pktmbuf_mtod(m, uint8_t *) + 14;
}

void
pair_seg_rewrite(struct pair_seg *sg)
{
	uint8_t *ip = seg_ip(sg->m), *th;
	uint32_t tlen;

	if (sg->af == 4) {
		ip[1] = (uint8_t)((ip[1] & ~3) | sg->ecn);
		put16(ip + 10, 0);
		put16(ip + 10, ref_cksum(ip, (ip[0] & 0xf) * 4u));
		th = ip + (ip[0] & 0xf) * 4;
		tlen = get16(ip + 2) - (uint32_t)(th - ip);
	} else {
		put32(ip, (get32(ip) & ~(3u << 20)) | (uint32_t)sg->ecn << 20);
		th = ip + 40;
		tlen = get16(ip + 4);
	}
	put32(th + 4, sg->seq);
	put32(th + 8, sg->ack);
	th[13] = sg->flags;
	put16(th + 14, sg->win);
	put16(th + 16, 0);
	put16(th + 16, tcp_cksum(sg->af, ip, th, tlen));
}

/* The tap and the log, for frame m going to B (to_b) or A: whether it
 * goes on. */
static bool
wire_tap(struct pair *p, bool to_b, struct rte_mbuf *m, bool lost)
{
	struct pair_seg sg;
	bool pass = true;

	if (m->nb_segs != 1 || !seg_parse(rte_pktmbuf_mtod(m, uint8_t *), m->data_len, &sg))
		return !lost;
	lost = lost || p->cut;
	sg.to_b = to_b;
	sg.t = p->now;
	sg.m = m;
	if (p->tap != NULL && !lost)
		pass = p->tap(p, &sg, p->tap_arg) == PAIR_PASS;
	if (p->log != NULL && p->n_log < PAIR_LOG_MAX) {
		sg.m = NULL;
		sg.lost = lost || !pass;
		p->log[p->n_log++] = sg;
	}
	return pass && !lost;
}

static uint16_t
wire_push(struct pair *p, bool to_b, struct rte_mbuf **pkts, uint16_t n)
{
	struct pair_wire *w = to_b ? &p->to_b : &p->to_a;
	const uint64_t *lose = to_b ? p->lose_to_b : p->lose_to_a;

	for (uint16_t i = 0; i < n; i++) {
		bool lost;

		w->frames++;
		lost = wire_lost(lose, w->frames);
		if (!wire_tap(p, to_b, pkts[i], lost) || w->tail - w->head == PAIR_Q) {
			w->dropped++;
			rte_pktmbuf_free(pkts[i]);
			continue;
		}
		w->q[w->tail++ % PAIR_Q] = pkts[i];
	}
	return n;
}

static uint16_t
rx_a(void *arg, struct rte_mbuf **pkts, uint16_t n)
{
	struct pair *p = arg;

	return p->hold ? 0 : wire_pop(&p->to_a, pkts, p->rx_max ? RTE_MIN(n, p->rx_max) : n);
}

static uint16_t
rx_b(void *arg, struct rte_mbuf **pkts, uint16_t n)
{
	struct pair *p = arg;

	return p->hold ? 0 : wire_pop(&p->to_b, pkts, p->rx_max ? RTE_MIN(n, p->rx_max) : n);
}

static uint16_t
tx_a(void *arg, struct rte_mbuf **pkts, uint16_t n)
{
	struct pair *p = arg;

	return wire_push(p, true, pkts, n);
}

static uint16_t
tx_b(void *arg, struct rte_mbuf **pkts, uint16_t n)
{
	struct pair *p = arg;

	return wire_push(p, false, pkts, n);
}

static struct sonde_stack *
pair_stack(struct pair *p, const struct sonde_conf *conf, uint32_t id, const char *name,
	   const uint8_t *mac, bool is_b, int *ifindex)
{
	struct sonde_conf c = conf ? *conf : (struct sonde_conf){ 0 };
	struct sonde_if_conf ic = { 0 };
	struct sonde_prefix pf;
	struct sonde_stack *st;

	c.pool = unit_pool;
	c.stack_id = id;
	st = sonde_stack_create(&c);
	if (st == NULL)
		fail_msg("sonde_stack_create: %s", rte_strerror(rte_errno));
	ic.type = SONDE_IF_DRIVER;
	ic.name = name;
	memcpy(ic.mac, mac, 6);
	ic.driver.rx = is_b ? rx_b : rx_a;
	ic.driver.tx = is_b ? tx_b : tx_a;
	ic.driver.arg = p;
	*ifindex = sonde_if_create(st, &ic);
	assert_true(*ifindex >= 0);
	assert_int_equal(sonde_prefix_parse(is_b ? "10.9.0.2/24" : "10.9.0.1/24", &pf), 0);
	assert_int_equal(sonde_addr_add(st, *ifindex, &pf), 0);
	assert_int_equal(sonde_prefix_parse(is_b ? "fd09::2/64" : "fd09::1/64", &pf), 0);
	assert_int_equal(sonde_addr_add(st, *ifindex, &pf), 0);
	return st;
}

/* The pair of the test running, for pair_teardown. */
static struct pair *live;

static void
wire_drain(struct pair_wire *w)
{
	while (w->head != w->tail)
		rte_pktmbuf_free(w->q[w->head++ % PAIR_Q]);
}

static bool
pair_ready(void *arg)
{
	struct pair *p = arg;

	return sonde_ready(p->a) && sonde_ready(p->b);
}

void
pair_start(struct pair *p, const struct sonde_conf *conf)
{
	pair_start2(p, conf, conf);
}

void
pair_start2(struct pair *p, const struct sonde_conf *conf_a, const struct sonde_conf *conf_b)
{
	memset(p, 0, sizeof(*p));
	p->now = UNIT_T0;
	p->pool_in_use = rte_mempool_in_use_count(unit_pool);
	p->a = pair_stack(p, conf_a, 1, "wa", MAC_PA, false, &p->ifa);
	p->b = pair_stack(p, conf_b, 2, "wb", MAC_PB, true, &p->ifb);
	/* Duplicate Address Detection: about a second. */
	assert_true(pair_run(p, 10 * MS, 5 * SEC, pair_ready, p));
	live = p;
	/* Each knows the other's MAC, both families, so that a test can
	 * follow a handshake a poll at a time. */
	for (unsigned i = 0; i < 2; i++) {
		struct sonde_prefix pa, pb;

		assert_int_equal(sonde_prefix_parse(i ? "fd09::1" : "10.9.0.1", &pa), 0);
		assert_int_equal(sonde_prefix_parse(i ? "fd09::2" : "10.9.0.2", &pb), 0);
		assert_int_equal(sonde_ping(p->a, &pb, 1, 1, 8), 0);
		assert_int_equal(sonde_ping(p->b, &pa, 1, 1, 8), 0);
	}
	pair_wait(p, 10 * MS);
}

struct pair *
pair_open(const struct sonde_conf *conf)
{
	static struct pair the_pair;

	pair_start(&the_pair, conf);
	return &the_pair;
}

int
pair_teardown(void **state)
{
	(void)state;
	if (live != NULL) {
		struct pair *p = live;

		live = NULL;
		p->hold = false;
		sonde_stack_destroy(p->a);
		sonde_stack_destroy(p->b);
		wire_drain(&p->to_a);
		wire_drain(&p->to_b);
		free(p->log);
		p->log = NULL;
	}
	return 0;
}

void
pair_poll(struct pair *p)
{
	sonde_poll(p->a, p->now);
	sonde_poll(p->b, p->now);
}

bool
pair_run(struct pair *p, uint64_t step_ns, uint64_t max_ns, bool (*done)(void *), void *arg)
{
	uint64_t end = p->now + max_ns;

	for (;;) {
		pair_poll(p);
		if (done != NULL && done(arg))
			return true;
		if (p->now >= end)
			return done == NULL;
		p->now += step_ns;
	}
}

void
pair_wait(struct pair *p, uint64_t ns)
{
	pair_run(p, MS, ns, NULL, NULL);
}

void
pair_finish(struct pair *p)
{
	live = NULL;
	sonde_stack_destroy(p->a);
	sonde_stack_destroy(p->b);
	wire_drain(&p->to_a);
	wire_drain(&p->to_b);
	free(p->log);
	p->log = NULL;
	assert_int_equal(rte_mempool_in_use_count(unit_pool), p->pool_in_use);
}

socklen_t
pair_addr(int af, bool b, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (af == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;

		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		inet_pton(AF_INET, b ? "10.9.0.2" : "10.9.0.1", &in->sin_addr);
		return sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		inet_pton(AF_INET6, b ? "fd09::2" : "fd09::1", &in6->sin6_addr);
		return sizeof(*in6);
	}
}

/* A's or B's address of family af (4, 6) as bytes. */
static void
addr_bytes(uint8_t af, bool b, uint8_t *out)
{
	struct sockaddr_storage ss;

	pair_addr(af == 6 ? AF_INET6 : AF_INET, b, 0, &ss);
	if (af == 6)
		memcpy(out, &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
	else
		memcpy(out, &((struct sockaddr_in *)&ss)->sin_addr, 4);
}

void
pair_log(struct pair *p)
{
	if (p->log == NULL)
		p->log = calloc(PAIR_LOG_MAX, sizeof(*p->log));
	assert_non_null(p->log);
}

void
pair_inject(struct pair *p, const struct pair_seg *t, const void *payload, uint32_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(unit_pool);
	struct pair_wire *w = t->to_b ? &p->to_b : &p->to_a;
	uint8_t *f, *ip, *th, *o;
	uint32_t olen = 0, iplen = t->af == 6 ? 40 : 20, tlen;

	assert_non_null(m);
	olen = (t->mss ? 4 : 0) + (t->has_ws ? 4 : 0) + (t->sack_ok ? 4 : 0) + (t->ts ? 12 : 0) +
	       (t->n_sack ? 4 + 8 * t->n_sack : 0);
	assert_true(olen <= 40);
	tlen = 20 + olen + len;
	f = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(14 + iplen + tlen));
	assert_non_null(f);
	memset(f, 0, 14 + iplen + tlen);
	memcpy(f, t->to_b ? MAC_PB : MAC_PA, 6);
	memcpy(f + 6, t->to_b ? MAC_PA : MAC_PB, 6);
	put16(f + 12, t->af == 6 ? 0x86dd : 0x0800);
	ip = f + 14;
	if (t->af == 6) {
		put32(ip, 6u << 28 | (uint32_t)t->ecn << 20);
		put16(ip + 4, (uint16_t)tlen);
		ip[6] = 6;
		ip[7] = 64;
		addr_bytes(6, !t->to_b, ip + 8);
		addr_bytes(6, t->to_b, ip + 24);
	} else {
		ip[0] = 0x45;
		ip[1] = t->ecn;
		put16(ip + 2, (uint16_t)(20 + tlen));
		put16(ip + 6, 0x4000);
		ip[8] = 64;
		ip[9] = 6;
		addr_bytes(4, !t->to_b, ip + 12);
		addr_bytes(4, t->to_b, ip + 16);
		put16(ip + 10, ref_cksum(ip, 20));
	}
	th = ip + iplen;
	put16(th, t->sport);
	put16(th + 2, t->dport);
	put32(th + 4, t->seq);
	put32(th + 8, t->ack);
	th[12] = (uint8_t)((20 + olen) / 4 << 4);
	th[13] = t->flags;
	put16(th + 14, t->win);
	o = th + 20;
	if (t->mss) {
		o[0] = 2, o[1] = 4;
		put16(o + 2, t->mss);
		o += 4;
	}
	if (t->has_ws) {
		o[0] = 1, o[1] = 3, o[2] = 3, o[3] = t->ws;
		o += 4;
	}
	if (t->sack_ok) {
		o[0] = 1, o[1] = 1, o[2] = 4, o[3] = 2;
		o += 4;
	}
	if (t->ts) {
		o[0] = 1, o[1] = 1, o[2] = 8, o[3] = 10;
		put32(o + 4, t->tsval);
		put32(o + 8, t->tsecr);
		o += 12;
	}
	if (t->n_sack) {
		o[0] = 1, o[1] = 1, o[2] = 5, o[3] = (uint8_t)(2 + 8 * t->n_sack);
		for (unsigned i = 0; i < t->n_sack; i++) {
			put32(o + 4 + 8 * i, t->sack[i][0]);
			put32(o + 8 + 8 * i, t->sack[i][1]);
		}
		o += 4 + 8 * t->n_sack;
	}
	if (len > 0)
		memcpy(o, payload, len);
	put16(th + 16, tcp_cksum(t->af, ip, th, tlen));
	assert_true(w->tail - w->head < PAIR_Q);
	w->q[w->tail++ % PAIR_Q] = m;
}

struct sonde_sock *
pair_conn(struct pair *p, bool b, uint8_t af, uint16_t lport, uint16_t rport)
{
	uint8_t la[16] = { 0 }, ra[16] = { 0 };
	struct sonde_sock *s;

	addr_bytes(af, b, la);
	addr_bytes(af, !b, ra);
	s = sock_lookup(b ? p->b : p->a, IPPROTO_TCP, af, la, htons(lport), ra, htons(rport));
	if (s != NULL && !(s->flags & SOCK_F_CONNECTED))
		return NULL;
	return s;
}

int
pair_state(const struct sonde_sock *s)
{
	return s->tcp.state;
}

uint16_t
pair_lport(const struct sonde_sock *s)
{
	return ntohs(s->key.lport);
}

void
pair_seg_strip(struct pair_seg *sg, uint8_t kind)
{
	uint8_t *ip = seg_ip(sg->m), *th = ip + (sg->af == 6 ? 40 : (ip[0] & 0xf) * 4);
	uint8_t *o = th + 20, *end = th + (th[12] >> 4) * 4;

	while (o < end && *o != 0) {
		if (*o == 1) {
			o++;
			continue;
		}
		if (o[1] < 2)
			break;
		if (*o == kind) {
			memset(o, 1, o[1]);
			break;
		}
		o += o[1];
	}
	pair_seg_rewrite(sg);
}

/* A TCP socket on st, and B's address at port into *ss. */
static struct sonde_sock *
pair_sock(struct sonde_stack *st, int af, uint16_t port, struct sockaddr_storage *ss,
	  socklen_t *len)
{
	struct sonde_sock *s;

	*len = pair_addr(af, true, port, ss);
	assert_int_equal(sonde_socket(st, af, SOCK_STREAM, NULL, &s), 0);
	return s;
}

struct sonde_sock *
pair_listen(struct pair *p, int af, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	struct sonde_sock *ls = pair_sock(p->b, af, port, &ss, &len);

	assert_int_equal(sonde_bind(ls, (struct sockaddr *)&ss, len), 0);
	assert_int_equal(sonde_listen(ls, 16), 0);
	return ls;
}

struct sonde_sock *
pair_connect_to(struct pair *p, int af, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	struct sonde_sock *cs = pair_sock(p->a, af, port, &ss, &len);

	assert_int_equal(sonde_connect(cs, (struct sockaddr *)&ss, len), -EINPROGRESS);
	return cs;
}

struct pair *
pair_up(const struct sonde_conf *conf, int af, struct sonde_sock **ls, struct sonde_sock **cs,
	struct sonde_sock **ss)
{
	struct pair *p = pair_open(conf);

	pair_connect(p, af, 80, ls, cs, ss);
	return p;
}

void
pair_end(struct pair *p, ...)
{
	struct sonde_sock *s;
	va_list ap;

	va_start(ap, p);
	while ((s = va_arg(ap, struct sonde_sock *)) != NULL)
		sonde_close(s);
	va_end(ap);
	pair_finish(p);
}

struct accept_wait {
	struct sonde_sock *ls, *ss;
};

static bool
accept_done(void *arg)
{
	struct accept_wait *w = arg;

	return sonde_accept(w->ls, NULL, &w->ss, NULL, NULL) == 0;
}

struct sonde_sock *
pair_accept(struct pair *p, struct sonde_sock *ls)
{
	struct accept_wait w = { ls, NULL };

	assert_true(pair_run(p, 100000, 5 * SEC, accept_done, &w));
	return w.ss;
}

static bool
established(void *arg)
{
	return pair_state(arg) == TCPS_ESTABLISHED;
}

void
pair_connect(struct pair *p, int af, uint16_t port, struct sonde_sock **ls, struct sonde_sock **cs,
	     struct sonde_sock **ss)
{
	*ls = pair_listen(p, af, port);
	*cs = pair_connect_to(p, af, port);
	*ss = pair_accept(p, *ls);
	assert_true(pair_run(p, 100000, 5 * SEC, established, *cs));
	assert_int_equal(pair_state(*ss), TCPS_ESTABLISHED);
	pair_drain(p);
}

void
pair_drain(struct pair *p)
{
	struct sonde_event ev[64];

	while (sonde_events(p->a, ev, 64) == 64)
		;
	while (sonde_events(p->b, ev, 64) == 64)
		;
}

static void
flow_move(struct pair_flow *f)
{
	uint8_t buf[16384];

	while (f->sent < f->total) {
		size_t n = (size_t)RTE_MIN(f->total - f->sent, (uint64_t)sizeof(buf));
		ssize_t r;

		for (size_t i = 0; i < n; i++)
			buf[i] = pair_pat(f->sent + i);
		r = sonde_send(f->tx, buf, n, 0);
		if (r <= 0) {
			assert_true(r == -EAGAIN || r == -ENOBUFS);
			break;
		}
		f->sent += (uint64_t)r;
	}
	for (;;) {
		ssize_t r = sonde_recv(f->rx, buf, sizeof(buf), 0);

		if (r <= 0) {
			assert_true(r == -EAGAIN || (r == 0 && f->rcvd == f->total));
			break;
		}
		for (ssize_t j = 0; j < r; j++)
			if (buf[j] != pair_pat(f->rcvd + (uint64_t)j))
				f->bad = true;
		f->rcvd += (uint64_t)r;
	}
}

struct flows {
	struct pair *p;
	struct pair_flow *f;
	unsigned n;
};

static bool
flows_done(void *arg)
{
	struct flows *w = arg;
	bool done = true;

	pair_drain(w->p);
	for (unsigned i = 0; i < w->n; i++) {
		flow_move(&w->f[i]);
		assert_false(w->f[i].bad);
		done = done && w->f[i].rcvd == w->f[i].total;
	}
	return done;
}

bool
pair_flows(struct pair *p, struct pair_flow *f, unsigned n, uint64_t step_ns, uint64_t max_ns)
{
	struct flows w = { p, f, n };

	return pair_run(p, step_ns, max_ns, flows_done, &w);
}

bool
pair_stream(struct pair *p, struct sonde_sock *tx, struct sonde_sock *rx, uint64_t total,
	    uint64_t max_ns)
{
	struct pair_flow f = { .tx = tx, .rx = rx, .total = total };

	return pair_flows(p, &f, 1, 100000, max_ns);
}

void
pair_log_print(const struct pair *p, unsigned from, unsigned to)
{
	for (unsigned i = from; i < to && i < p->n_log; i++) {
		const struct pair_seg *g = &p->log[i];

		print_message("%5u %8.3f %s %02x seq %u ack %u len %u win %u%s sack %u %u-%u\n", i,
			      (double)(g->t - UNIT_T0) / 1e6, g->to_b ? "A>B" : "B>A", g->flags,
			      g->seq, g->ack, g->len, g->win, g->lost ? " LOST" : "", g->n_sack,
			      g->sack[0][0], g->sack[0][1]);
	}
}
