/*
 * peer.c: linked stacks, one per lcore (see peer.h): their rings, and
 * what a stack does with a sibling's message.
 *
 * Why messages: with several rx queues on a port, the answer to one
 * stack's ARP request or neighbour solicitation may arrive on another
 * stack's queue (the kernel behind net_tap hashes every ARP packet to one
 * queue; RSS hashes an NA by addresses that need not match the flow that
 * waited).  So every stack replays what any of them learnt about a
 * neighbour from a packet, as F-Stack hands ARP to every lcore.  A replayed
 * update follows the table's usual rules but never sends anything (no
 * reply, no solicitation) and never counts a drop; it may release the
 * packets a stack held waiting for that neighbour.  A ring that is full
 * loses the message (counted, peer.ring_full): the stack that needed it
 * solicits again, as it would after a lost reply.
 *
 * Duplicate Address Detection (RFC 4862 5.4) is the first stack's alone:
 * the others add an address as tentative without probing and take the
 * first stack's verdict (preferred or duplicate) by message; any stack that
 * sees a conflict (an NS from :: or an NA for a tentative address) declares
 * it duplicate and tells the rest.  One probe per address on the link, as
 * with one stack.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_ring.h>

#include "link.h"
#include "peer.h"
#include "stack.h"

#define PEER_RING_SIZE 1024 /* messages; a neighbour update or a command each */
#define PEER_BURST 32	    /* applied per poll, at most */
#define PEER_PKTS 1024	    /* handed-over packets a stack may have waiting */

/* rte_ring's element API copies multiples of 4 bytes. */
_Static_assert(sizeof(struct peer_msg) % 4 == 0, "peer_msg size");

void
peer_fini(struct sonde_stack *st)
{
	struct rte_mbuf *m;

	rte_ring_free(st->peer.ring);
	st->peer.ring = NULL;
	if (st->peer.pkts != NULL) {
		/* Packets a sibling handed us that we never took in. */
		while (rte_ring_sc_dequeue(st->peer.pkts, (void **)&m) == 0)
			pkt_drop(st, m, DROP_SHUTDOWN);
		rte_ring_free(st->peer.pkts);
		st->peer.pkts = NULL;
	}
}

static void
peer_unlink(struct sonde_stack **stacks, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		peer_fini(stacks[i]);
		stacks[i]->peer.n_sib = 0;
		stacks[i]->peer.n_stacks = 0;
		stacks[i]->peer.follower = false;
	}
}

int
sonde_stacks_link(struct sonde_stack **stacks, unsigned n)
{
	char name[RTE_RING_NAMESIZE];

	if (stacks == NULL || n < 2 || n > SONDE_MAX_STACKS)
		return -EINVAL;
	for (unsigned i = 0; i < n; i++) {
		if (stacks[i] == NULL)
			return -EINVAL;
		for (unsigned j = 0; j < i; j++)
			if (stacks[j] == stacks[i])
				return -EINVAL;
		if (stacks[i]->peer.ring != NULL)
			return -EALREADY;
		/* Only lo0: a port added before would have started DAD alone. */
		for (unsigned j = 0; j < stacks[i]->n_ifs; j++)
			if (stacks[i]->ifs[j] != NULL && stacks[i]->ifs[j] != stacks[i]->lo)
				return -EBUSY;
	}
	for (unsigned i = 0; i < n; i++) {
		struct sonde_stack *st = stacks[i];

		snprintf(name, sizeof(name), "sp%u_%x", st->id, (unsigned)(uintptr_t)st);
		st->peer.ring = rte_ring_create_elem(name, sizeof(struct peer_msg), PEER_RING_SIZE,
						     (int)rte_socket_id(), RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "spk%u_%x", st->id, (unsigned)(uintptr_t)st);
		if (st->peer.ring != NULL)
			st->peer.pkts = rte_ring_create(name, PEER_PKTS, (int)rte_socket_id(),
							RING_F_SC_DEQ);
		if (st->peer.ring == NULL || st->peer.pkts == NULL) {
			int r = -rte_errno;

			peer_unlink(stacks, n);
			return r;
		}
	}
	for (unsigned i = 0; i < n; i++) {
		struct peer_state *p = &stacks[i]->peer;

		for (unsigned j = 0; j < n; j++) {
			if (j != i)
				p->sib[p->n_sib++] = stacks[j]->peer.ring;
			p->pkts_of[j] = stacks[j]->peer.pkts;
		}
		p->n_stacks = n;
		p->follower = i > 0;
	}
	return 0;
}

void
peer_post(struct sonde_stack *st, const struct peer_msg *m)
{
	for (unsigned i = 0; i < st->peer.n_sib; i++) {
		if (rte_ring_mp_enqueue_elem(st->peer.sib[i], (void *)(uintptr_t)m, sizeof(*m)) ==
		    0)
			st->stats.peer_sent++;
		else
			st->stats.peer_ring_full++;
	}
}

void
peer_post_neigh(struct sonde_stack *st, const struct sonde_if *ifp, int af, const void *addr,
		const uint8_t *mac, uint8_t news, bool create)
{
	struct peer_msg m = {
		.kind = PEER_NEIGH,
		.af = (uint8_t)af,
		.ifindex = ifp->index,
		.news = news,
		.flags = create ? PEER_F_CREATE : 0,
	};

	if (st->peer.n_sib == 0)
		return;
	memcpy(m.addr, addr, af == 6 ? 16 : 4);
	memcpy(m.mac, mac, ETH_ADDR_LEN);
	peer_post(st, &m);
}

void
peer_post_cmd(struct sonde_stack *st, enum peer_kind kind, int ifindex,
	      const struct sonde_prefix *a, const struct sonde_prefix *b)
{
	struct peer_msg m = {
		.kind = (uint8_t)kind,
		.ifindex = ifindex >= 0 ? (uint16_t)ifindex : UINT16_MAX,
	};

	if (st->peer.n_sib == 0 || st->peer.applying)
		return;
	if (a)
		m.a = *a;
	if (b)
		m.b = *b;
	peer_post(st, &m);
}

/* A sibling's command: the same public call, here.  One that fails (an
 * interface this stack lacks, a table full) is counted and logged: the
 * stacks then differ, and the log says where. */
static void
peer_apply_cmd(struct sonde_stack *st, const struct peer_msg *m)
{
	int ifx = m->ifindex == UINT16_MAX ? -1 : m->ifindex, r;

	st->peer.applying = true;
	switch (m->kind) {
	case PEER_ADDR_ADD: r = sonde_addr_add(st, ifx, &m->a); break;
	case PEER_ADDR_DEL: r = sonde_addr_del(st, ifx, &m->a); break;
	case PEER_ROUTE_ADD: r = sonde_route_add(st, &m->a, &m->b); break;
	case PEER_ROUTE_DEL: r = sonde_route_del(st, &m->a); break;
	case PEER_NEIGH_ADD: r = sonde_neigh_add(st, ifx, &m->a, m->b.addr.v6); break;
	case PEER_NEIGH_DEL: r = sonde_neigh_del(st, ifx, &m->a); break;
	case PEER_SERVICE:
		r = sonde_udp_service(st, (uint16_t)m->a.addr.v4, (enum sonde_service)m->a.plen);
		break;
	case PEER_MTU: r = sonde_if_set_mtu(st, ifx, (uint16_t)m->a.addr.v4); break;
	case PEER_FORWARDING: r = sonde_forwarding(st, m->a.plen != 0); break;
	case PEER_LISTEN: r = sock_listen_peer(st, &m->a, &m->b); break;
	default: r = -EINVAL; break;
	}
	st->peer.applying = false;
	if (r != 0) {
		st->stats.peer_cmd_failed++;
		RTE_LOG(WARNING, USER1,
			"sonde: stack %u: a linked stack's change (%u) failed: %s\n", st->id,
			m->kind, strerror(-r));
	}
}

static void
peer_apply(struct sonde_stack *st, const struct peer_msg *m)
{
	struct sonde_if *ifp = stack_if(st, m->ifindex);

	if (m->kind >= PEER_ADDR_ADD) {
		peer_apply_cmd(st, m);
		return;
	}
	if (ifp == NULL || ifp->kind != &eth_kind)
		return;
	switch (m->kind) {
	case PEER_NEIGH:
		neigh_update(st, ifp, m->af, m->addr, m->mac, (enum neigh_news)m->news,
			     m->flags & PEER_F_CREATE);
		break;
	case PEER_NA:
		nd6_na_peer(st, ifp, m->addr, m->flags & PEER_F_LLADDR ? m->mac : NULL,
			    m->na_flags);
		break;
	case PEER_DAD: nd6_dad_peer(st, ifp, m->addr, m->flags & PEER_F_DUPLICATE); break;
	default: break;
	}
}

void
peer_handoff(struct sonde_stack *st, uint16_t q, struct rte_mbuf *m)
{
	if (q >= st->peer.n_stacks || rte_ring_mp_enqueue(st->peer.pkts_of[q], m) != 0) {
		pkt_drop(st, m, DROP_PEER_HANDOFF_FULL);
		return;
	}
	st->stats.peer_handoff_out++;
}

/* Packets siblings handed us: IP input on their interface (ours of the
 * same index), a run of one interface and family at a time. */
static void
peer_take(struct sonde_stack *st)
{
	struct rte_mbuf *pkts[PEER_BURST];
	unsigned n = rte_ring_sc_dequeue_burst(st->peer.pkts, (void **)pkts, PEER_BURST, NULL), j;

	st->stats.peer_handoff_in += n;
	for (unsigned i = 0; i < n; i += j) {
		const struct pkt_meta *pm = pkt_meta(pkts[i]);
		struct sonde_if *ifp = stack_if(st, pm->ifindex);

		for (j = 1; i + j < n && pkt_meta(pkts[i + j])->ifindex == pm->ifindex &&
			    pkt_meta(pkts[i + j])->af == pm->af;
		     j++)
			;
		if (ifp == NULL) { /* gone here meanwhile */
			for (unsigned k = i; k < i + j; k++)
				pkt_drop(st, pkts[k], DROP_IF_DOWN_IN);
			continue;
		}
		st->l3_input[af_idx(pm->af)](st, ifp, pkts + i, (uint16_t)j);
	}
}

void
peer_poll(struct sonde_stack *st)
{
	struct peer_msg msgs[PEER_BURST];
	unsigned n;

	if (st->peer.ring == NULL)
		return;
	n = rte_ring_sc_dequeue_burst_elem(st->peer.ring, msgs, sizeof(msgs[0]), PEER_BURST, NULL);
	for (unsigned i = 0; i < n; i++)
		peer_apply(st, &msgs[i]);
	st->stats.peer_received += n;
	if (!rte_ring_empty(st->peer.pkts))
		peer_take(st);
}
