/*
 * iface.c: interfaces as objects of a kind.
 *
 * An interface has a kind (how IP packets leave it and how its frames are
 * read: Ethernet, lo0, and next tunnels), maybe a driver (how frames get in
 * and out: a DPDK port, an embedder's callbacks), a name the probes show,
 * an MTU, addresses, counters and an optional pcap capture, the same for
 * every kind.  This file makes and unmakes them, reads their drivers
 * (if_rx), flushes their transmit queues, and is lo0: the interface that
 * takes the packets the stack sends to itself back in at the next poll.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <pcap/pcap.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include "fault.h"
#include "iface.h"
#include "pcap_capture.h"
#include "port.h"
#include "probes.h"
#include "stack.h"

struct sonde_if *
if_create(struct sonde_stack *st, const struct if_kind *kind, const struct if_driver *drv,
	  const char *name)
{
	struct sonde_if *ifp;
	unsigned i;

	if (name == NULL || name[0] == '\0' || strlen(name) >= SONDE_NAMSIZ) {
		rte_errno = EINVAL;
		return NULL;
	}
	for (i = 0; i < st->n_ifs; i++)
		if (st->ifs[i] != NULL && strcmp(st->ifs[i]->name, name) == 0) {
			rte_errno = EEXIST;
			return NULL;
		}
	/* The lowest free index: linked stacks that make the same interfaces
	 * in the same order give them the same indexes. */
	for (i = 0; i < SONDE_MAX_IFS && st->ifs[i] != NULL; i++)
		;
	if (i == SONDE_MAX_IFS) {
		rte_errno = ENOSPC;
		return NULL;
	}
	ifp = rte_zmalloc("sonde_if", sizeof(*ifp), RTE_CACHE_LINE_SIZE);
	if (ifp == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	ifp->index = (uint16_t)i;
	ifp->kind = kind;
	ifp->drv = drv;
	ifp->port_id = UINT16_MAX;
	ifp->mtu = 1500;
	snprintf(ifp->name, sizeof(ifp->name), "%s", name);
	st->ifs[i] = ifp;
	if (i >= st->n_ifs)
		st->n_ifs = i + 1;
	dst_invalidate(st);
	return ifp;
}

__rte_noinline void
if_flush(struct sonde_stack *st, struct sonde_if *ifp)
{
	unsigned n = ifp->n_txq, sent, i;

	if (n == 0)
		return;
	ifp->n_txq = 0;
	if (ifp->pcap)
		for (i = 0; i < n; i++)
			pcap_capture_write(ifp->pcap, ifp->txq[i], st->now);
	sent = ifp->drv->tx(ifp, ifp->txq, (uint16_t)n);
	ifp->tx_pkts += sent;
	for (i = sent; i < n; i++)
		if_tx_refused(st, ifp, ifp->txq[i]);
}

void
if_tx_refused(struct sonde_stack *st, struct sonde_if *ifp, struct rte_mbuf *m)
{
	ifp->tx_bytes -= rte_pktmbuf_pkt_len(m);
	/* An IP packet goes to the drop probe with its IP header first. */
	if (pkt_meta(m)->af != 0) {
		rte_pktmbuf_adj(m, ifp->kind->l2_len);
		pkt_drop(st, m, DROP_TX_FULL);
	} else {
		pkt_drop(st, m, DROP_LINK_TX_FULL);
	}
}

void
if_send_burst(struct sonde_stack *st, struct rte_mbuf **pkts, struct sonde_if *const *out,
	      void *const *l2, uint8_t *oix, uint16_t n)
{
	uint16_t j;

	run_close(oix, n);
	for (uint16_t i = 0; i < n; i += j) {
		j = run_len(oix, i);
		out[i]->kind->xmit(st, out[i], pkts + i, l2 + i, j);
	}
}

/* A driver's burst into the stack: every packet's meta written, counted,
 * captured, then to the kind's input.  Returns how many. */
unsigned
if_rx(struct sonde_stack *st, struct sonde_if *ifp)
{
	struct rte_mbuf *pkts[SONDE_BURST];
	uint16_t n = ifp->drv->rx(ifp, pkts, SONDE_BURST);

	if (n == 0)
		return 0;
	/* The kind's input writes each frame's metadata and counts its bytes
	 * (if_rx_frame) in its first loop over the burst. */
	rte_prefetch0(rte_pktmbuf_mtod(pkts[0], void *));
	if (unlikely(ifp->pcap != NULL))
		for (uint16_t i = 0; i < n; i++)
			pcap_capture_write(ifp->pcap, pkts[i], st->now);
	ifp->rx_pkts += n;
	ifp->kind->input(st, ifp, pkts, n);
	return n;
}

/* --- lo0 --- */

void
loop_enqueue(struct sonde_stack *st, struct rte_mbuf *m)
{
	pkt_meta(m)->ifindex = st->lo->index;
	probe_local_send(st, m, st->lo);
	if (st->loop_tail - st->loop_head == SONDE_LOOPQ) {
		pkt_drop(st, m, DROP_LOOP_FULL);
		return;
	}
	st->loopq[st->loop_tail++ & (SONDE_LOOPQ - 1)] = m;
	st->stats.loop_pkts++;
}

/* What was queued before this poll's turn of lo0 (its budget): what it
 * loops now waits for the next poll, so no poll runs forever on a packet
 * that loops back. */
static uint16_t
loop_rx(struct sonde_if *ifp, struct rte_mbuf **pkts, uint16_t n)
{
	struct sonde_stack *st = (struct sonde_stack *)ifp->user.arg;
	uint16_t i;

	for (i = 0; i < n && st->loop_budget > 0; i++, st->loop_budget--)
		pkts[i] = st->loopq[st->loop_head++ & (SONDE_LOOPQ - 1)];
	return i;
}

void
if_loop_poll(struct sonde_stack *st)
{
	st->loop_budget = st->loop_tail - st->loop_head;
	while (st->loop_budget > 0)
		if_rx(st, st->lo);
}

void
if_loop_drain(struct sonde_stack *st)
{
	while (st->loop_head != st->loop_tail)
		pkt_drop(st, st->loopq[st->loop_head++ & (SONDE_LOOPQ - 1)], DROP_SHUTDOWN);
}

static void
loop_input(struct sonde_stack *st, struct sonde_if *ifp, struct rte_mbuf **pkts, uint16_t n)
{
	uint8_t af[SONDE_BURST + RUN_PAD];
	uint16_t i, j;

	for (i = 0; i < n; i++) {
		const uint8_t *p = rte_pktmbuf_mtod(pkts[i], const uint8_t *);

		if_rx_frame(ifp, pkts[i]);
		af[i] = p[0] >> 4 == 6 ? 6 : 4;
		pkt_meta(pkts[i])->af = af[i];
	}
	probe_burst_if(st, PROBE_LOCAL_RECEIVE, pkts, n, ifp);
	run_close(af, n);
	for (i = 0; i < n; i += j) {
		j = run_len(af, i);
		st->l3_local[af_idx(af[i])](st, ifp, pkts + i, j);
	}
}

static bool
loop_resolve(struct sonde_stack *st, struct sonde_if *ifp, int af, const uint8_t *nh, void **l2)
{
	(void)st, (void)ifp, (void)af, (void)nh;
	*l2 = NULL;
	return true;
}

static void
loop_xmit(struct sonde_stack *st, struct sonde_if *ifp, struct rte_mbuf **pkts, void *const *l2,
	  uint16_t n)
{
	(void)ifp, (void)l2;
	for (uint16_t i = 0; i < n; i++)
		loop_enqueue(st, pkts[i]);
}

static void
loop_output(struct sonde_stack *st, struct sonde_if *ifp, struct rte_mbuf *m, int af,
	    const uint8_t *nh)
{
	(void)ifp, (void)af, (void)nh;
	loop_enqueue(st, m);
}

static const struct if_kind loop_kind = {
	.name = "loopback",
	.l2_len = 0,
	.dlt = DLT_RAW,
	.input = loop_input,
	.resolve = loop_resolve,
	.xmit = loop_xmit,
	.output = loop_output,
};

static uint16_t
loop_tx(struct sonde_if *ifp, struct rte_mbuf **pkts, uint16_t n)
{
	(void)ifp, (void)pkts, (void)n;
	return 0; /* nothing is ever queued to lo0's transmit queue */
}

static const struct if_driver loop_driver = {
	.rx = loop_rx,
	.tx = loop_tx,
};

int
if_loop_create(struct sonde_stack *st)
{
	st->lo = if_create(st, &loop_kind, &loop_driver, "lo0");
	if (st->lo == NULL)
		return -rte_errno;
	st->lo->mtu = UINT16_MAX;
	st->lo->user.arg = st;
	return 0;
}

/* Every packet an interface holds, dropped; its capture closed. */
void
if_release(struct sonde_stack *st, struct sonde_if *ifp)
{
	fault_release(st, ifp);
	for (unsigned j = 0; j < ifp->n_txq; j++) {
		struct rte_mbuf *m = ifp->txq[j];

		if (pkt_meta(m)->af != 0) {
			rte_pktmbuf_adj(m, ifp->kind->l2_len);
			pkt_drop(st, m, DROP_SHUTDOWN);
		} else {
			rte_pktmbuf_free(m);
		}
	}
	ifp->n_txq = 0;
	pcap_capture_close(ifp->pcap);
	ifp->pcap = NULL;
	rte_free(ifp->rss);
	ifp->rss = NULL;
}

/* --- the public API --- */

int
sonde_if_find(const struct sonde_stack *st, const char *name)
{
	for (unsigned i = 0; i < st->n_ifs; i++)
		if (st->ifs[i] != NULL && strcmp(st->ifs[i]->name, name) == 0)
			return (int)i;
	return -ENOENT;
}

const char *
sonde_if_name(const struct sonde_stack *st, int ifindex)
{
	const struct sonde_if *ifp = ifindex >= 0 ? stack_if(st, (uint16_t)ifindex) : NULL;

	return ifp ? ifp->name : NULL;
}

int
sonde_pcap_open(struct sonde_stack *st, int ifindex, const char *path)
{
	struct sonde_if *ifp = ifindex >= 0 ? stack_if(st, (uint16_t)ifindex) : NULL;
	char err[PCAP_ERRBUF_SIZE];

	if (ifp == NULL)
		return -ENODEV;
	if (ifp->pcap)
		return -EBUSY;
	ifp->pcap = pcap_capture_open(path, ifp->kind->dlt, err, sizeof(err));
	if (ifp->pcap == NULL) {
		/* libpcap says why (a path, a permission): keep its words. */
		RTE_LOG(ERR, USER1, "sonde: pcap capture %s on %s: %s\n", path, ifp->name, err);
		return -EIO;
	}
	return 0;
}

/* Interfaces of a type the application names: the kind a layer registered
 * for it (Ethernet for ports and drivers). */
static const struct if_kind *
if_kind_of(const struct sonde_stack *st, enum sonde_if_type type)
{
	return (unsigned)type < SONDE_IF_TYPES ? st->kinds[type] : NULL;
}

/* The embedder's callbacks behind the internal driver ops. */
static uint16_t
user_rx(struct sonde_if *ifp, struct rte_mbuf **pkts, uint16_t n)
{
	return ifp->user.rx(ifp->user.arg, pkts, n);
}

static uint16_t
user_tx(struct sonde_if *ifp, struct rte_mbuf **pkts, uint16_t n)
{
	return ifp->user.tx(ifp->user.arg, pkts, n);
}

static void
user_close(struct sonde_if *ifp)
{
	if (ifp->user.close)
		ifp->user.close(ifp->user.arg);
}

static const struct if_driver user_driver = {
	.rx = user_rx,
	.tx = user_tx,
	.close = user_close,
};

/* RFC 4291 2.5.1 / appendix A: fe80::/64 with the modified EUI-64 of the MAC. */
static void
if_linklocal(const uint8_t *mac, struct sonde_prefix *p)
{
	memset(p, 0, sizeof(*p));
	p->af = AF_INET6;
	p->plen = 64;
	p->addr.v6[0] = 0xfe;
	p->addr.v6[1] = 0x80;
	p->addr.v6[8] = mac[0] ^ 0x02;
	p->addr.v6[9] = mac[1];
	p->addr.v6[10] = mac[2];
	p->addr.v6[11] = 0xff;
	p->addr.v6[12] = 0xfe;
	p->addr.v6[13] = mac[3];
	p->addr.v6[14] = mac[4];
	p->addr.v6[15] = mac[5];
}

static void
if_free(struct sonde_stack *st, struct sonde_if *ifp)
{
	st->ifs[ifp->index] = NULL;
	while (st->n_ifs > 0 && st->ifs[st->n_ifs - 1] == NULL)
		st->n_ifs--;
	rte_free(ifp);
	dst_invalidate(st);
}

int
sonde_if_create(struct sonde_stack *st, const struct sonde_if_conf *conf)
{
	const struct if_kind *kind = conf ? if_kind_of(st, conf->type) : NULL;
	char name[SONDE_NAMSIZ];
	struct sonde_if *ifp;
	struct sonde_prefix ll;
	int r;

	if (kind == NULL)
		return -EINVAL;
	if (conf->type == SONDE_IF_PORT) {
		snprintf(name, sizeof(name), "dpdk%u", conf->port_id);
		ifp = if_create(st, kind, &port_driver, conf->name ? conf->name : name);
		if (ifp == NULL)
			return -rte_errno;
		r = port_attach(ifp, conf->port_id, conf->queue);
	} else if (kind->create != NULL) {
		/* A kind with no driver of its own (a tunnel). */
		ifp = if_create(st, kind, NULL, conf->name);
		if (ifp == NULL)
			return -rte_errno;
		r = kind->create(st, ifp, conf);
	} else {
		if (conf->driver.rx == NULL || conf->driver.tx == NULL)
			return -EINVAL;
		ifp = if_create(st, kind, &user_driver, conf->name);
		if (ifp == NULL)
			return -rte_errno;
		ifp->user = conf->driver;
		memcpy(ifp->mac, conf->mac, ETH_ADDR_LEN);
		ifp->mtu = conf->mtu ? conf->mtu : 1500;
		r = (conf->mac[0] & 1) ? -EINVAL : 0; /* a station's address is unicast */
	}
	if (r) {
		if_free(st, ifp);
		return r;
	}
	if (kind->attach)
		kind->attach(ifp);
	/* A link-local address from the MAC: for Ethernet (RFC 4291 2.5.1);
	 * a tunnel has no MAC (and Linux's ipip and gre get none). */
	if (!conf->no_linklocal && kind->l2_len != 0) {
		if_linklocal(ifp->mac, &ll);
		r = sonde_addr_add(st, ifp->index, &ll);
		if (r) {
			sonde_if_destroy(st, ifp->index);
			return r;
		}
	}
	return ifp->index;
}

int
sonde_if_destroy(struct sonde_stack *st, int ifindex)
{
	struct sonde_if *ifp = ifindex >= 0 ? stack_if(st, (uint16_t)ifindex) : NULL;

	if (ifp == NULL || ifp == st->lo)
		return -ENODEV;
	if (ifp->drv && ifp->drv->tx)
		if_flush(st, ifp);
	for (unsigned i = sonde_n_layers; i-- > 0;)
		if (sonde_layers[i]->if_detach)
			sonde_layers[i]->if_detach(st, ifp);
	if_release(st, ifp);
	if (if_base_drv(ifp) == &user_driver)
		user_close(ifp);
	if_free(st, ifp);
	return 0;
}

int
sonde_port_add(struct sonde_stack *st, uint16_t port_id)
{
	struct sonde_if_conf c = { .type = SONDE_IF_PORT, .port_id = port_id };
	int r = port_setup(port_id, 1, st->pool);

	if (r)
		return r;
	r = sonde_if_create(st, &c);
	if (r < 0)
		port_close_device(port_id);
	return r;
}

int
sonde_port_setup(uint16_t port_id, uint16_t nb_queues, struct rte_mempool *pool)
{
	return port_setup(port_id, nb_queues, pool);
}

int
sonde_port_add_queue(struct sonde_stack *st, uint16_t port_id, uint16_t queue)
{
	struct sonde_if_conf c = { .type = SONDE_IF_PORT, .port_id = port_id, .queue = queue };

	return sonde_if_create(st, &c);
}

void
sonde_ports_close(struct sonde_stack *st)
{
	for (unsigned i = 0; i < st->n_ifs; i++) {
		struct sonde_if *ifp = st->ifs[i];

		if (ifp == NULL || if_base_drv(ifp) != &port_driver)
			continue;
		/* A sibling stack may have closed the port (see port.c): what
		 * is left in txq is freed by sonde_stack_destroy(). */
		if (!port_is_open(ifp))
			continue;
		if_flush(st, ifp);
		ifp->drv->close(ifp);
	}
}

int
sonde_if_set_mtu(struct sonde_stack *st, int ifindex, uint16_t mtu)
{
	struct sonde_if *ifp = ifindex >= 0 ? stack_if(st, (uint16_t)ifindex) : NULL;
	struct sonde_prefix p = { 0 };
	int r = 0;

	if (ifp == NULL || ifp == st->lo)
		return -ENODEV;
	if (mtu < 1280)
		return -EINVAL;
	/* The device is shared by linked stacks: the first to be told sets
	 * it, the others only take the number. */
	if (if_base_drv(ifp) == &port_driver && !st->peer.applying)
		r = port_set_mtu(ifp, mtu);
	if (r)
		return r;
	ifp->mtu = mtu;
	dst_invalidate(st);
	p.addr.v4 = mtu;
	peer_post_cmd(st, PEER_MTU, ifindex, &p, NULL);
	return 0;
}

int
if_kind_register(struct sonde_stack *st, enum sonde_if_type type, const struct if_kind *kind)
{
	if ((unsigned)type >= SONDE_IF_TYPES || kind == NULL)
		return -EINVAL;
	if (st->kinds[type] != NULL)
		return -EEXIST;
	st->kinds[type] = kind;
	return 0;
}
