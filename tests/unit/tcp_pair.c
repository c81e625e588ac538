/*
 * tcp_pair.c: two stacks joined by a wire (tcp_pair.h).
 */
#include <arpa/inet.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_mbuf.h>

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

static uint16_t
wire_push(struct pair_wire *w, const uint64_t *lose, struct rte_mbuf **pkts, uint16_t n)
{
	for (uint16_t i = 0; i < n; i++) {
		w->frames++;
		if (wire_lost(lose, w->frames) || w->tail - w->head == PAIR_Q) {
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

	return p->hold ? 0 : wire_pop(&p->to_a, pkts, n);
}

static uint16_t
rx_b(void *arg, struct rte_mbuf **pkts, uint16_t n)
{
	struct pair *p = arg;

	return p->hold ? 0 : wire_pop(&p->to_b, pkts, n);
}

static uint16_t
tx_a(void *arg, struct rte_mbuf **pkts, uint16_t n)
{
	struct pair *p = arg;

	return wire_push(&p->to_b, p->lose_to_b, pkts, n);
}

static uint16_t
tx_b(void *arg, struct rte_mbuf **pkts, uint16_t n)
{
	struct pair *p = arg;

	return wire_push(&p->to_a, p->lose_to_a, pkts, n);
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

static bool
pair_ready(void *arg)
{
	struct pair *p = arg;

	return sonde_ready(p->a) && sonde_ready(p->b);
}

void
pair_start(struct pair *p, const struct sonde_conf *conf)
{
	memset(p, 0, sizeof(*p));
	p->now = UNIT_T0;
	p->pool_in_use = rte_mempool_in_use_count(unit_pool);
	p->a = pair_stack(p, conf, 1, "wa", MAC_PA, false, &p->ifa);
	p->b = pair_stack(p, conf, 2, "wb", MAC_PB, true, &p->ifb);
	/* Duplicate Address Detection: about a second. */
	assert_true(pair_run(p, 10 * MS, 5 * SEC, pair_ready, p));
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

static void
wire_drain(struct pair_wire *w)
{
	while (w->head != w->tail)
		rte_pktmbuf_free(w->q[w->head++ % PAIR_Q]);
}

void
pair_finish(struct pair *p)
{
	sonde_stack_destroy(p->a);
	sonde_stack_destroy(p->b);
	wire_drain(&p->to_a);
	wire_drain(&p->to_b);
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
