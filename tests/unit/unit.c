/*
 * unit.c: the unit-test harness (see unit.h): EAL and the mbuf pool, test
 * links in place of DPDK ports, the fixture, counters, frames and an
 * independent RFC 1071 checksum.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "packets.h"
#include "ref_sum.h"
#include "unit.h"

const uint8_t MAC_US0[6] = { 0x02, 0, 0, 0, 0x00, 0x01 };
const uint8_t MAC_US1[6] = { 0x02, 0, 0, 0, 0x01, 0x01 };
const uint8_t MAC_A[6] = { 0x02, 0, 0, 0, 0x00, 0x02 };
const uint8_t MAC_B[6] = { 0x02, 0, 0, 0, 0x01, 0x02 };
const uint8_t MAC_R[6] = { 0x02, 0, 0, 0, 0x01, 0xfe };
const uint8_t MAC_BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
const uint8_t MAC_ZERO[6];
const uint8_t MAC_ALLNODES[6] = { 0x33, 0x33, 0, 0, 0, 0x01 };
const uint8_t MAC_SN1[6] = { 0x33, 0x33, 0xff, 0, 0, 0x01 }; /* ff02::1:ff00:1 */
const uint8_t MAC_SN2[6] = { 0x33, 0x33, 0xff, 0, 0, 0x02 }; /* ff02::1:ff00:2 */

struct rte_mempool *unit_pool;
static char unit_runtime_dir[PATH_MAX];

/* The links' ops find their state through the fixture running now: tests
 * in a process run one at a time. */
static struct unit_fx *unit_cur;

/* External buffers given to the stack (fx_inject) and not yet freed by it. */
static unsigned unit_extbufs;

/* Fills an mbuf's whole buffer with garbage (like glibc's MALLOC_PERTURB_)
 * so that bytes the stack sends without writing them show up. */
static void
unit_scribble(struct rte_mbuf *m)
{
	memset(m->buf_addr, 0xa5, m->buf_len);
}

static void
unit_scribble_obj(struct rte_mempool *mp, void *arg, void *obj, unsigned idx)
{
	(void)mp, (void)arg, (void)idx;
	unit_scribble(obj);
}

void
unit_init(const char *name)
{
	unit_init_mem(name, 256);
}

void
unit_init_mem(const char *name, unsigned mb)
{
	char line[256], *argv[16], *save;
	int argc = 0;

	/* The file prefix is unique per process: meson runs tests in parallel. */
	snprintf(line, sizeof(line),
		 "sonde-unit --no-huge -m %u --no-pci --no-telemetry --log-level=*:error "
		 "--file-prefix=sondeunit_%s_%d -l 0",
		 mb, name, (int)getpid());
	for (char *t = strtok_r(line, " ", &save); t && argc < 15; t = strtok_r(NULL, " ", &save))
		argv[argc++] = t;
	argv[argc] = NULL;
	if (rte_eal_init(argc, argv) < 0) {
		fprintf(stderr, "rte_eal_init: %s\n", rte_strerror(rte_errno));
		exit(1);
	}
	snprintf(unit_runtime_dir, sizeof(unit_runtime_dir), "%s", rte_eal_get_runtime_dir());
	/* No per-lcore cache: rte_mempool_in_use_count() is then exact. */
	unit_pool = rte_pktmbuf_pool_create("sondeunit", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					    SOCKET_ID_ANY);
	if (unit_pool == NULL) {
		fprintf(stderr, "rte_pktmbuf_pool_create: %s\n", rte_strerror(rte_errno));
		exit(1);
	}
	rte_mempool_obj_iter(unit_pool, unit_scribble_obj, NULL);
}

void
unit_fini(void)
{
	DIR *d;
	struct dirent *de;
	char path[PATH_MAX + 256];

	rte_mempool_free(unit_pool);
	rte_eal_cleanup();
	/* EAL leaves its config and fbarray files behind: remove ours. */
	d = opendir(unit_runtime_dir);
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", unit_runtime_dir, de->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(unit_runtime_dir);
}

static uint16_t
unit_link_rx(void *arg, struct rte_mbuf **pkts, uint16_t n)
{
	struct unit_link *l = arg;
	uint16_t i;

	for (i = 0; i < n && l->rx_head != l->rx_tail; i++)
		pkts[i] = l->rxq[l->rx_head++];
	if (l->rx_head == l->rx_tail)
		l->rx_head = l->rx_tail = 0;
	return i;
}

/* Chain m, gathered into one pool mbuf as a scatter-gather NIC reads it:
 * rte_pktmbuf_linearize() would need room after the first segment, and a
 * reassembled datagram's first segment (an injected frame) has none. */
static struct rte_mbuf *
unit_gather(struct rte_mbuf *m)
{
	struct rte_mbuf *g = rte_pktmbuf_alloc(unit_pool);
	uint32_t len = rte_pktmbuf_pkt_len(m);
	const void *q;
	uint8_t *p;

	assert_non_null(g);
	p = (uint8_t *)rte_pktmbuf_append(g, (uint16_t)len);
	assert_non_null(p);
	q = rte_pktmbuf_read(m, 0, len, p);
	assert_non_null(q);
	if (q != p)
		memcpy(p, q, len);
	rte_pktmbuf_free(m);
	return g;
}

static uint16_t
unit_link_tx(void *arg, struct rte_mbuf **pkts, uint16_t n)
{
	struct unit_link *l = arg;
	uint16_t i;

	for (i = 0; i < n && l->tx_budget > 0; i++) {
		const char *why = NULL;

		assert_true(l->n_tx < UNIT_MAX_TX);
		/* Fragments (frag.c) leave as a header mbuf chained to indirect
		 * mbufs over the original's data, a reassembled datagram sent
		 * back whole as its chain: well-formed chains, gathered here as
		 * a scatter-gather NIC would, so tests read flat bytes. */
		if (pkts[i]->nb_segs > 1) {
			if (rte_mbuf_check(pkts[i], 1, &why) != 0)
				fail_msg("bad chain: %s", why);
			pkts[i] = unit_gather(pkts[i]);
			l->n_gathered++;
		}
		assert_int_equal(pkts[i]->nb_segs, 1);
		l->tx[l->n_tx++] = pkts[i];
		if (l->tx_budget != UINT_MAX)
			l->tx_budget--;
	}
	return i;
}

void
fx_start(struct unit_fx *fx, const struct sonde_conf *conf)
{
	struct sonde_conf c = { 0 };

	memset(fx, 0, sizeof(*fx));
	if (conf)
		c = *conf;
	c.pool = unit_pool;
	fx->pool_in_use = rte_mempool_in_use_count(unit_pool);
	fx->extbufs = unit_extbufs;
	fx->now = UNIT_T0;
	fx->st = sonde_stack_create(&c);
	if (fx->st == NULL)
		fail_msg("sonde_stack_create: %s", rte_strerror(rte_errno));
	unit_cur = fx;
}

struct unit_link *
fx_link(struct unit_fx *fx, const char *name, const uint8_t *mac, uint16_t mtu)
{
	struct unit_link *l = &fx->link[fx->n_links];
	struct sonde_if_conf c = {
		.type = SONDE_IF_DRIVER,
		.name = name,
		.mtu = mtu,
		/* The tests count every frame: no DAD for a link-local
		 * address unless a test adds one. */
		.no_linklocal = true,
		.driver = { .rx = unit_link_rx, .tx = unit_link_tx, .arg = l },
	};
	int idx;

	assert_true(fx->n_links < UNIT_MAX_LINKS);
	l->tx_budget = UINT_MAX;
	memcpy(c.mac, mac, 6);
	idx = sonde_if_create(fx->st, &c);
	assert_true(idx >= 0);
	l->ifp = stack_if(fx->st, (uint16_t)idx);
	assert_non_null(l->ifp);
	fx->n_links++;
	return l;
}

void
fx_addr(struct unit_fx *fx, struct unit_link *l, const char *prefix)
{
	struct sonde_prefix p;

	assert_int_equal(sonde_prefix_parse(prefix, &p), 0);
	assert_int_equal(sonde_addr_add(fx->st, l->ifp->index, &p), 0);
}

void
fx_route(struct unit_fx *fx, const char *dst, const char *gw)
{
	struct sonde_prefix d, g;

	assert_int_equal(sonde_prefix_parse(dst, &d), 0);
	assert_int_equal(sonde_prefix_parse(gw, &g), 0);
	assert_int_equal(sonde_route_add(fx->st, &d, &g), 0);
}

static void
unit_extbuf_free(void *addr, void *opaque)
{
	free(addr);
	free(opaque);
	unit_extbufs--;
}

struct rte_mbuf *
fx_inject(struct unit_fx *fx, struct unit_link *l, const void *p, size_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(unit_pool);
	struct rte_mbuf_ext_shared_info *shinfo = malloc(sizeof(*shinfo));
	uint8_t *buf = malloc(len ? len : 1);

	(void)fx;
	assert_non_null(m);
	assert_true(shinfo && buf && len <= UINT16_MAX);
	/* The frame in a buffer of exactly its size, from malloc: under ASan
	 * a read past its end is a heap-buffer-overflow, not a quiet read of
	 * the pool's memory. */
	if (len)
		memcpy(buf, p, len);
	shinfo->free_cb = unit_extbuf_free;
	shinfo->fcb_opaque = shinfo;
	rte_mbuf_ext_refcnt_set(shinfo, 1);
	unit_extbufs++;
	rte_pktmbuf_attach_extbuf(m, buf, (rte_iova_t)(uintptr_t)buf, (uint16_t)len, shinfo);
	assert_non_null(rte_pktmbuf_append(m, (uint16_t)len));
	assert_true(l->rx_tail < UNIT_MAX_RX);
	l->rxq[l->rx_tail++] = m;
	return m;
}

struct rte_mbuf *
fx_inject_pool(struct unit_fx *fx, struct unit_link *l, const void *p, size_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(unit_pool);
	void *d;

	(void)fx;
	assert_non_null(m);
	d = rte_pktmbuf_append(m, (uint16_t)len);
	assert_non_null(d);
	if (len)
		memcpy(d, p, len);
	assert_true(l->rx_tail < UNIT_MAX_RX);
	l->rxq[l->rx_tail++] = m;
	return m;
}

unsigned
fx_poll(struct unit_fx *fx)
{
	unit_cur = fx;
	return sonde_poll(fx->st, fx->now);
}

void
fx_advance(struct unit_fx *fx, uint64_t ns)
{
	fx->now += ns;
}

void
fx_tx_clear(struct unit_link *l)
{
	for (unsigned i = 0; i < l->n_tx; i++) {
		unit_scribble(l->tx[i]);
		rte_pktmbuf_free(l->tx[i]);
	}
	l->n_tx = 0;
}

static void
fx_release(struct unit_fx *fx)
{
	for (unsigned i = 0; i < fx->n_links; i++) {
		struct unit_link *l = &fx->link[i];

		fx_tx_clear(l);
		while (l->rx_head != l->rx_tail)
			rte_pktmbuf_free(l->rxq[l->rx_head++]);
	}
	sonde_stack_destroy(fx->st);
	/* What the stack sent as it went (TCP's resets). */
	for (unsigned i = 0; i < fx->n_links; i++)
		fx_tx_clear(&fx->link[i]);
	fx->st = NULL;
	unit_cur = NULL;
}

void
fx_finish(struct unit_fx *fx)
{
	fx_release(fx);
	assert_int_equal(rte_mempool_in_use_count(unit_pool), fx->pool_in_use);
	/* An mbuf freed without its EXTERNAL flag goes back to the pool still
	 * holding our buffer: the count above is then right, this is not. */
	assert_int_equal(unit_extbufs, fx->extbufs);
}

int
fx_teardown(void **state)
{
	struct unit_fx *fx = *state;

	if (fx && fx->st)
		fx_release(fx);
	return 0;
}

void
fx_host(struct unit_fx *fx, const struct sonde_conf *conf)
{
	struct unit_link *l;

	fx_start(fx, conf);
	l = fx_link(fx, "test0", MAC_US0, 1500);
	fx_addr(fx, l, "10.0.0.1/24");
	fx_poll(fx);
	assert_int_equal(l->n_tx, 1); /* the RFC 5227 announcement */
	tx_arp(l, 0, ARP_OP_REQUEST, MAC_BCAST);
	fx_tx_clear(l);
}

void
fx_router(struct unit_fx *fx, struct sonde_conf *conf, uint16_t mtu1)
{
	struct sonde_conf c = { 0 };
	struct unit_link *l;

	if (conf)
		c = *conf;
	c.forwarding = true;
	fx_host(fx, &c);
	l = fx_link(fx, "test1", MAC_US1, mtu1);
	fx_addr(fx, l, "10.1.0.1/24");
	fx_poll(fx);
	assert_int_equal(l->n_tx, 1);
	tx_arp(l, 0, ARP_OP_REQUEST, MAC_BCAST);
	fx_tx_clear(l);
}

static void
fx_learn(struct unit_fx *fx, struct unit_link *l, const uint8_t *req, size_t len,
	 const uint8_t *mac)
{
	fx_inject(fx, l, req, len);
	fx_poll(fx);
	assert_int_equal(l->n_tx, 1);
	tx_arp(l, 0, ARP_OP_REPLY, mac);
	fx_tx_clear(l);
}

void
fx_learn_a(struct unit_fx *fx)
{
	fx_learn(fx, &fx->link[0], pkt_arp_req, sizeof(pkt_arp_req), MAC_A);
}

void
fx_learn_b(struct unit_fx *fx)
{
	fx_learn(fx, &fx->link[1], pkt_arp_req_b, sizeof(pkt_arp_req_b), MAC_B);
}

uint64_t
fx_stat(const struct unit_fx *fx, const char *name)
{
	return sonde_stat(fx->st, name);
}

static void
fx_snap_cb(const char *name, uint64_t value, void *arg)
{
	struct unit_fx *fx = arg;
	struct unit_stat *s;

	assert_true(fx->n_snap < UNIT_MAX_STATS);
	s = &fx->snap[fx->n_snap++];
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->value = value;
}

void
fx_snap(struct unit_fx *fx)
{
	fx->n_snap = 0;
	sonde_stats_foreach(fx->st, fx_snap_cb, fx);
}

/* Sums the counters named name (or every drop.* for NULL) in the snapshot. */
static uint64_t
fx_snap_value(const struct unit_fx *fx, const char *name)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < fx->n_snap; i++)
		if (name ? strcmp(fx->snap[i].name, name) == 0
			 : strncmp(fx->snap[i].name, "drop.", 5) == 0)
			v += fx->snap[i].value;
	return v;
}

uint64_t
fx_delta(const struct unit_fx *fx, const char *name)
{
	return fx_stat(fx, name) - fx_snap_value(fx, name);
}

static void
fx_print_cb(const char *name, uint64_t value, void *arg)
{
	const struct unit_fx *fx = arg;
	uint64_t old = fx_snap_value(fx, name);

	if (value != old)
		print_message("  %s: %llu -> %llu\n", name, (unsigned long long)old,
			      (unsigned long long)value);
}

void
fx_print_delta(const struct unit_fx *fx)
{
	sonde_stats_foreach(fx->st, fx_print_cb, (void *)fx);
}

struct drop_sum {
	uint64_t v;
};

static void
fx_drop_sum_cb(const char *name, uint64_t value, void *arg)
{
	struct drop_sum *s = arg;

	if (strncmp(name, "drop.", 5) == 0)
		s->v += value;
}

uint64_t
fx_drops_delta(const struct unit_fx *fx)
{
	struct drop_sum s = { 0 };

	sonde_stats_foreach(fx->st, fx_drop_sum_cb, &s);
	return s.v - fx_snap_value(fx, NULL);
}

void
frame_init(struct frame *f, const uint8_t *p, size_t len)
{
	assert_true(len <= sizeof(f->b));
	memset(f, 0, sizeof(*f));
	memcpy(f->b, p, len);
	f->len = len;
}

uint16_t
ref_cksum(const uint8_t *p, size_t len)
{
	return (uint16_t)~ref_fold(ref_sum(0, p, len));
}

uint16_t
ref_udp_cksum(const uint8_t *ip)
{
	uint8_t buf[12 + UNIT_FRAME_MAX];
	unsigned ihl = (ip[0] & 0xf) * 4u;
	unsigned ulen = (unsigned)(ip[ihl + 4] << 8 | ip[ihl + 5]);
	uint16_t c;

	assert_true(ulen <= UNIT_FRAME_MAX);
	memcpy(buf, ip + 12, 8); /* source and destination */
	buf[8] = 0;
	buf[9] = IPPROTO_UDP_;
	buf[10] = (uint8_t)(ulen >> 8);
	buf[11] = (uint8_t)ulen;
	memcpy(buf + 12, ip + ihl, ulen);
	buf[12 + 6] = buf[12 + 7] = 0;
	c = ref_cksum(buf, 12 + ulen);
	return c ? c : 0xffff;
}

void
frame_fix(struct frame *f)
{
	uint8_t *ip = frame_ip(f);
	unsigned ihl = (ip[0] & 0xf) * 4u, tot = (unsigned)(ip[2] << 8 | ip[3]);
	uint16_t c;

	assert_true(f->b[12] == 0x08 && f->b[13] == 0x00);
	assert_true(ihl >= 20 && ETH_HDR_LEN + ihl <= f->len);
	ip[10] = ip[11] = 0;
	c = ref_cksum(ip, ihl);
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
	if (tot < ihl || ETH_HDR_LEN + tot > f->len)
		return;
	if (ip[9] == IPPROTO_ICMP_ && tot >= ihl + ICMP_HDR_LEN) {
		ip[ihl + 2] = ip[ihl + 3] = 0;
		c = ref_cksum(ip + ihl, tot - ihl);
		ip[ihl + 2] = (uint8_t)(c >> 8);
		ip[ihl + 3] = (uint8_t)c;
	} else if (ip[9] == IPPROTO_UDP_ && tot >= ihl + UDP_HDR_LEN &&
		   (ip[ihl + 6] | ip[ihl + 7]) != 0 && wire_get16(ip + ihl + 4) >= UDP_HDR_LEN &&
		   ihl + wire_get16(ip + ihl + 4) <= tot) {
		c = ref_udp_cksum(ip);
		ip[ihl + 6] = (uint8_t)(c >> 8);
		ip[ihl + 7] = (uint8_t)c;
	}
}

void
frame_set_ip4(uint8_t *p, const char *addr)
{
	uint32_t a = ip4(addr);

	memcpy(p, &a, 4);
}

void
frame_ip_resize(struct frame *f, uint16_t tot)
{
	uint8_t *ip = frame_ip(f);
	unsigned ihl = (ip[0] & 0xf) * 4u;

	assert_true(tot >= ihl && ETH_HDR_LEN + (size_t)tot <= sizeof(f->b));
	ip[2] = (uint8_t)(tot >> 8);
	ip[3] = (uint8_t)tot;
	if (ip[9] == IPPROTO_UDP_ && tot >= ihl + UDP_HDR_LEN) {
		ip[ihl + 4] = (uint8_t)((tot - ihl) >> 8);
		ip[ihl + 5] = (uint8_t)(tot - ihl);
	}
	f->len = ETH_HDR_LEN + tot;
	frame_fix(f);
}

uint32_t
ip4(const char *s)
{
	uint32_t a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a;
}

const uint8_t *
tx_frame(struct unit_link *l, unsigned i, size_t *len)
{
	const struct rte_mbuf *m;
	const uint8_t *p;

	assert_true(i < l->n_tx);
	m = l->tx[i];
	p = rte_pktmbuf_mtod(m, const uint8_t *);
	assert_true(rte_pktmbuf_data_len(m) >= ETH_HDR_LEN);
	assert_memory_equal(p + 6, l->ifp->mac, 6);
	if (len)
		*len = rte_pktmbuf_data_len(m);
	return p;
}

const uint8_t *
tx_ipv4(struct unit_link *l, unsigned i, const uint8_t *eth_dst, size_t *len)
{
	size_t n;
	const uint8_t *p = tx_frame(l, i, &n), *ip = p + ETH_HDR_LEN;
	unsigned tot;

	assert_memory_equal(p, eth_dst, 6);
	assert_int_equal(wire_get16(p + 12), ETHERTYPE_IPV4);
	assert_true(n >= ETH_HDR_LEN + IPV4_MIN_HDR_LEN);
	assert_int_equal(ip[0], 0x45); /* the stack sends no options */
	tot = wire_get16(ip + 2);
	assert_int_equal(ETH_HDR_LEN + tot, n);
	assert_int_equal(ref_cksum(ip, IPV4_MIN_HDR_LEN), 0);
	if (len)
		*len = tot;
	return ip;
}

const uint8_t *
tx_arp(struct unit_link *l, unsigned i, uint16_t op, const uint8_t *eth_dst)
{
	size_t n;
	const uint8_t *p = tx_frame(l, i, &n), *a = p + ETH_HDR_LEN;

	assert_memory_equal(p, eth_dst, 6);
	assert_int_equal(wire_get16(p + 12), ETHERTYPE_ARP);
	/* Padded to the 60-byte Ethernet minimum, with zeros. */
	assert_int_equal(n, 60);
	for (size_t j = ETH_HDR_LEN + ARP_PKT_LEN; j < n; j++)
		assert_int_equal(p[j], 0);
	assert_int_equal(wire_get16(a), 1);
	assert_int_equal(wire_get16(a + 2), ETHERTYPE_IPV4);
	assert_int_equal(a[4], 6);
	assert_int_equal(a[5], 4);
	assert_int_equal(wire_get16(a + 6), op);
	assert_memory_equal(a + 8, l->ifp->mac, 6); /* sender: us */
	return a;
}

const uint8_t *
tx_icmp_error(struct unit_link *l, unsigned i, const uint8_t *eth_dst, const char *src,
	      const char *dst, uint8_t type, uint8_t code, uint32_t rest, const uint8_t *quote,
	      size_t qlen)
{
	size_t len;
	const uint8_t *ip = tx_ipv4(l, i, eth_dst, &len);

	assert_int_equal(len, IPV4_MIN_HDR_LEN + ICMP_HDR_LEN + qlen);
	assert_int_equal(ip[1], 0); /* routine TOS */
	assert_int_equal(ip[8], 64);
	assert_int_equal(ip[9], IPPROTO_ICMP_);
	assert_ip4(ip + 12, src);
	assert_ip4(ip + 16, dst);
	assert_int_equal(ip[20], type);
	assert_int_equal(ip[21], code);
	assert_int_equal(wire_get32(ip + 24), rest);
	assert_int_equal(ref_cksum(ip + 20, len - 20), 0);
	assert_memory_equal(ip + 28, quote, qlen);
	return ip;
}

void
fx_host6(struct unit_fx *fx, const struct sonde_conf *conf)
{
	struct unit_link *l;

	fx_host(fx, conf);
	l = &fx->link[0];
	fx_addr(fx, l, "fe80::ff:fe00:1/64");
	fx_addr(fx, l, "fd00::1/64");
	assert_false(sonde_ready(fx->st));
	fx_poll(fx);
	/* RFC 4862 5.4.2: a probe from :: to the solicited-node group. */
	assert_int_equal(l->n_tx, 2);
	tx_nd6(l, 0, MAC_SN1, ND_NEIGHBOR_SOLICIT, 0, "::", "ff02::1:ff00:1", "fe80::ff:fe00:1", 0);
	tx_nd6(l, 1, MAC_SN1, ND_NEIGHBOR_SOLICIT, 0, "::", "ff02::1:ff00:1", "fd00::1", 0);
	fx_tx_clear(l);
	fx_advance(fx, 1 * SEC);
	fx_poll(fx);
	assert_int_equal(l->n_tx, 0);
	assert_true(sonde_ready(fx->st));
}

void
fx_learn6_a(struct unit_fx *fx)
{
	struct unit_link *l = &fx->link[0];

	fx_inject(fx, l, pkt6_ns, sizeof(pkt6_ns));
	fx_poll(fx);
	assert_int_equal(l->n_tx, 1);
	tx_nd6(l, 0, MAC_A, ND_NEIGHBOR_ADVERT, ND_NA_FLAG_SOLICITED | ND_NA_FLAG_OVERRIDE,
	       "fd00::1", "fd00::2", "fd00::1", ND_OPT_TARGET_LINKADDR);
	fx_tx_clear(l);
}

struct in6
ip6(const char *s)
{
	struct in6 a;

	assert_int_equal(inet_pton(AF_INET6, s, a.a), 1);
	return a;
}

uint16_t
ref_cksum6(const uint8_t *src, const uint8_t *dst, uint8_t nxt, const uint8_t *p, size_t len)
{
	uint8_t tail[8] = { 0 };
	uint32_t sum;

	tail[0] = (uint8_t)(len >> 24);
	tail[1] = (uint8_t)(len >> 16);
	tail[2] = (uint8_t)(len >> 8);
	tail[3] = (uint8_t)len;
	tail[7] = nxt;
	sum = ref_sum(0, src, 16);
	sum = ref_sum(sum, dst, 16);
	sum = ref_sum(sum, tail, 8);
	sum = ref_sum(sum, p, len);
	return (uint16_t)~ref_fold(sum);
}

size_t
ip6_upper(const uint8_t *ip, size_t len, uint8_t *nxt)
{
	size_t off = IPV6_HDR_LEN;
	uint8_t n = ip[6];

	while (off + 8 <= len) {
		if (n == IPPROTO_FRAGMENT_) {
			if ((wire_get16(ip + off + 2) & 0xfff8) != 0)
				break;
			n = ip[off];
			off += 8;
		} else if (n == IPPROTO_HOPOPTS_ || n == IPPROTO_ROUTING_ ||
			   n == IPPROTO_DSTOPTS_) {
			size_t hl = (ip[off + 1] + 1u) * 8;

			n = ip[off];
			off += hl;
		} else {
			break;
		}
	}
	*nxt = n;
	return off;
}

void
frame6_fix(struct frame *f)
{
	uint8_t *ip = frame_ip(f), nxt;
	size_t len, off;
	uint16_t c;

	assert_true(wire_get16(f->b + 12) == ETHERTYPE_IPV6);
	len = IPV6_HDR_LEN + wire_get16(ip + 4);
	assert_true(ETH_HDR_LEN + len <= f->len);
	off = ip6_upper(ip, len, &nxt);
	if (nxt == IPPROTO_ICMPV6_ && off + ICMP_HDR_LEN <= len) {
		ip[off + 2] = ip[off + 3] = 0;
		c = ref_cksum6(ip + 8, ip + 24, nxt, ip + off, len - off);
		wire_put16(ip + off + 2, c);
	} else if (nxt == IPPROTO_UDP_ && off + UDP_HDR_LEN <= len) {
		ip[off + 6] = ip[off + 7] = 0;
		c = ref_cksum6(ip + 8, ip + 24, nxt, ip + off, len - off);
		wire_put16(ip + off + 6, c ? c : 0xffff);
	}
}

void
frame6_resize(struct frame *f, uint16_t plen)
{
	uint8_t *ip = frame_ip(f);
	uint8_t nxt;
	size_t off;

	assert_true(ETH_HDR_LEN + IPV6_HDR_LEN + (size_t)plen <= sizeof(f->b));
	wire_put16(ip + 4, plen);
	f->len = ETH_HDR_LEN + IPV6_HDR_LEN + plen;
	off = ip6_upper(ip, IPV6_HDR_LEN + plen, &nxt);
	if (nxt == IPPROTO_UDP_ && off + UDP_HDR_LEN <= IPV6_HDR_LEN + (size_t)plen)
		wire_put16(ip + off + 4, (uint16_t)(IPV6_HDR_LEN + plen - off));
	frame6_fix(f);
}

void
frame6_set_src(struct frame *f, const char *addr)
{
	memcpy(frame_ip(f) + 8, ip6(addr).a, 16);
	frame6_fix(f);
}

void
frame6_set_dst(struct frame *f, const char *addr)
{
	memcpy(frame_ip(f) + 24, ip6(addr).a, 16);
	frame6_fix(f);
}

const uint8_t *
tx_ipv6(struct unit_link *l, unsigned i, const uint8_t *eth_dst, size_t *len)
{
	size_t n;
	const uint8_t *p = tx_frame(l, i, &n), *ip = p + ETH_HDR_LEN;

	assert_memory_equal(p, eth_dst, 6);
	assert_int_equal(wire_get16(p + 12), ETHERTYPE_IPV6);
	assert_true(n >= ETH_HDR_LEN + IPV6_HDR_LEN);
	assert_int_equal(ip[0] >> 4, 6);
	assert_int_equal(ETH_HDR_LEN + IPV6_HDR_LEN + wire_get16(ip + 4), n);
	if (len)
		*len = IPV6_HDR_LEN + wire_get16(ip + 4);
	return ip;
}

const uint8_t *
tx_icmp6_error(struct unit_link *l, unsigned i, const uint8_t *eth_dst, const char *src,
	       const char *dst, uint8_t type, uint8_t code, uint32_t rest, const uint8_t *quote,
	       size_t qlen)
{
	size_t len;
	const uint8_t *ip = tx_ipv6(l, i, eth_dst, &len);

	assert_int_equal(len, IPV6_HDR_LEN + ICMP_HDR_LEN + qlen);
	assert_int_equal(wire_get32(ip), 6u << 28); /* class 0, no flow label */
	assert_int_equal(ip[6], IPPROTO_ICMPV6_);
	assert_int_equal(ip[7], 64);
	assert_ip6(ip + 8, src);
	assert_ip6(ip + 24, dst);
	assert_int_equal(ip[40], type);
	assert_int_equal(ip[41], code);
	assert_int_equal(wire_get32(ip + 44), rest);
	assert_int_equal(ref_cksum6(ip + 8, ip + 24, IPPROTO_ICMPV6_, ip + 40, len - 40), 0);
	assert_memory_equal(ip + 48, quote, qlen);
	return ip;
}

const uint8_t *
tx_nd6(struct unit_link *l, unsigned i, const uint8_t *eth_dst, uint8_t type, uint32_t flags,
       const char *src, const char *dst, const char *target, uint8_t opt)
{
	size_t len;
	const uint8_t *ip = tx_ipv6(l, i, eth_dst, &len);

	assert_int_equal(len, IPV6_HDR_LEN + 24 + (opt ? 8 : 0));
	assert_int_equal(ip[6], IPPROTO_ICMPV6_);
	assert_int_equal(ip[7], 255);
	assert_ip6(ip + 8, src);
	assert_ip6(ip + 24, dst);
	assert_int_equal(ip[40], type);
	assert_int_equal(ip[41], 0);
	assert_int_equal(ref_cksum6(ip + 8, ip + 24, IPPROTO_ICMPV6_, ip + 40, len - 40), 0);
	assert_int_equal(wire_get32(ip + 44), flags);
	assert_ip6(ip + 48, target);
	if (opt) {
		assert_int_equal(ip[64], opt);
		assert_int_equal(ip[65], 1);
		assert_memory_equal(ip + 66, l->ifp->mac, 6);
	}
	return ip;
}

void
tx_ipv4_fragments(struct unit_link *l, unsigned first, unsigned n, const uint8_t *eth_dst,
		  const uint8_t *ip, uint16_t mtu)
{
	size_t tot = wire_get16(ip + 2), off = 0, chunk = (mtu - IPV4_MIN_HDR_LEN) & ~7u;

	assert_int_equal(ip[0], 0x45);
	assert_true(l->n_tx >= first + n);
	for (unsigned k = 0; k < n; k++) {
		size_t len, want = RTE_MIN(chunk, tot - IPV4_MIN_HDR_LEN - off);
		const uint8_t *f = tx_ipv4(l, first + k, eth_dst, &len);
		bool last = k == n - 1;

		assert_int_equal(len, IPV4_MIN_HDR_LEN + want);
		assert_true(len <= mtu);
		assert_memory_equal(f, ip, 2);		 /* version, IHL, TOS */
		assert_memory_equal(f + 4, ip + 4, 2);	 /* identification */
		assert_memory_equal(f + 8, ip + 8, 2);	 /* TTL, protocol */
		assert_memory_equal(f + 12, ip + 12, 8); /* addresses */
		assert_int_equal(wire_get16(f + 6), (last ? 0 : IPV4_FLAG_MF) | off / 8);
		assert_memory_equal(f + IPV4_MIN_HDR_LEN, ip + IPV4_MIN_HDR_LEN + off, want);
		off += want;
	}
	assert_int_equal(off, tot - IPV4_MIN_HDR_LEN);
}

uint32_t
tx_ipv6_fragments(struct unit_link *l, unsigned first, unsigned n, const uint8_t *eth_dst,
		  const uint8_t *ip, uint16_t mtu)
{
	size_t plen = wire_get16(ip + 4), off = 0, chunk = (mtu - IPV6_HDR_LEN - 8) & ~7u;
	uint32_t ident = 0;

	assert_true(l->n_tx >= first + n);
	for (unsigned k = 0; k < n; k++) {
		size_t len, want = RTE_MIN(chunk, plen - off);
		const uint8_t *f = tx_ipv6(l, first + k, eth_dst, &len);
		bool last = k == n - 1;

		assert_int_equal(len, IPV6_HDR_LEN + 8 + want);
		assert_true(len <= mtu);
		assert_memory_equal(f, ip, 4); /* version, class, flow label */
		assert_int_equal(f[6], IPPROTO_FRAGMENT_);
		assert_int_equal(f[7], ip[7]);
		assert_memory_equal(f + 8, ip + 8, 32);
		assert_int_equal(f[40], ip[6]);
		assert_int_equal(f[41], 0);
		assert_int_equal(wire_get16(f + 42), off | (last ? 0 : 1));
		if (k == 0)
			ident = wire_get32(f + 44);
		assert_int_equal(wire_get32(f + 44), ident);
		assert_memory_equal(f + 48, ip + IPV6_HDR_LEN + off, want);
		off += want;
	}
	assert_int_equal(off, plen);
	return ident;
}
