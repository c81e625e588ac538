/*
 * probes.h: where the stack fires its USDT probes.
 *
 * Each probe_*() is an inline test of the probes' semaphores; only when a
 * consumer is attached does probe_fire() fill the argument structs of
 * ip_provider.h and fire the ip and ipv4/ipv6 probes, or probe_tcp_fire()
 * and probe_udp_fire() those of tcp_provider.h for the tcp and udp ones.  With -Dprobes=false
 * the generated header makes every _ENABLED() the constant 0 and all of this
 * compiles away.
 */
#ifndef SONDE_PROBES_H
#define SONDE_PROBES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <rte_branch_prediction.h>

#include "sonde_probes.h"      /* generated from provider.d */
#include "sonde_probes_list.h" /* the same, as a list (scripts/probes_noop.py --list) */
#include "stack.h"

struct rte_mbuf;
struct sonde_stack;
struct sonde_if;
struct sonde_sock;

enum probe_kind {
	PROBE_SEND,
	PROBE_RECEIVE,
	PROBE_LOCAL_SEND,
	PROBE_LOCAL_RECEIVE,
	PROBE_READ,
	PROBE_WRITE,
	PROBE_DROP_IN,
	PROBE_DROP_OUT,
};

/* m's data starts at the IP header; the family is read from the header's
 * version nibble (or fam, 4 or 6, when the header is too damaged to say);
 * the connection, if any, from its pkt_meta. */
void probe_fire(const struct sonde_stack *st, enum probe_kind kind, const struct rte_mbuf *m,
		const struct sonde_if *ifp, int fam, const char *reason);

/* Bitwise, not logical, or: the semaphores are plain loads, and a chain of
 * branches costs more than reading them all. */
#define PROBE_SEND_ON() (!!(IP_SEND_ENABLED() | IPV4_SEND_ENABLED() | IPV6_SEND_ENABLED()))
#define PROBE_RECEIVE_ON() \
	(!!(IP_RECEIVE_ENABLED() | IPV4_RECEIVE_ENABLED() | IPV6_RECEIVE_ENABLED()))
#define PROBE_LOCAL_SEND_ON() \
	(!!(IP_LOCAL_SEND_ENABLED() | IPV4_LOCAL_SEND_ENABLED() | IPV6_LOCAL_SEND_ENABLED()))
#define PROBE_LOCAL_RECEIVE_ON()                                        \
	(!!(IP_LOCAL_RECEIVE_ENABLED() | IPV4_LOCAL_RECEIVE_ENABLED() | \
	    IPV6_LOCAL_RECEIVE_ENABLED()))
#define PROBE_READ_ON() (!!(IPV4_READ_ENABLED() | IPV6_READ_ENABLED()))
#define PROBE_WRITE_ON() (!!(IPV4_WRITE_ENABLED() | IPV6_WRITE_ENABLED()))
#define PROBE_DROP_IN_ON() (!!(IPV4_DROP_IN_ENABLED() | IPV6_DROP_IN_ENABLED()))
#define PROBE_DROP_OUT_ON() (!!(IPV4_DROP_OUT_ENABLED() | IPV6_DROP_OUT_ENABLED()))

/* Whether any probe at all is on: every probe of provider.d, from the
 * generated list (a probe added there is in it by itself). */
#define PROBE_ENABLED_OR(prov, name, MACRO) | MACRO##_ENABLED()
#define PROBE_ANY_ON() (!!(0 SONDE_PROBE_LIST(PROBE_ENABLED_OR)))

/* The gate: whether any probe is switched on, read from the semaphores by
 * sonde_poll() at most every PROBE_GATE_NS (probe_gate_update), so that
 * while nobody traces a packet pays one test of a hot byte per site
 * instead of two or three semaphore loads.  A tracer that attaches is seen
 * within PROBE_GATE_NS: less than sonded's idle sleep (50 us), so a poll
 * after its second sleep has seen it (what the tests wait for). */
#define PROBE_GATE_NS 20000ull
static inline bool
probe_gate(const struct sonde_stack *st)
{
	return st->probes_on;
}

#ifdef _SDT_HAS_SEMAPHORES
/* The probes' semaphores, 2 bytes each, when `dtrace -G` laid them out as
 * one block (it does: one object, one after the other), else NULL:
 * probe_sems_init() checks.  The gate then reads them a word at a time,
 * not one by one (a tenth of the instructions, every poll): the whole
 * words, then the last bytes, exactly the block, whatever the count. */
#define PROBE_SEM_BYTES (SONDE_PROBE_COUNT * 2)
#define PROBE_SEM_WORDS (PROBE_SEM_BYTES / 8)
#define PROBE_SEM_TAIL (PROBE_SEM_BYTES % 8)
extern const uint8_t *probe_sem_block;
#endif
void probe_sems_init(void);

static inline void
probe_gate_update(struct sonde_stack *st)
{
#ifdef _SDT_HAS_SEMAPHORES
	const uint8_t *b = probe_sem_block;

	if (likely(b != NULL)) {
		uint64_t any = 0, w;

		/* The kernel writes them when a tracer comes or goes. */
		__asm__ volatile("" ::: "memory");
#pragma GCC unroll 16 /* a load and an or a word, no loop */
		for (unsigned i = 0; i < PROBE_SEM_WORDS; i++) {
			memcpy(&w, b + 8 * i, 8);
			any |= w;
		}
		if (PROBE_SEM_TAIL != 0) {
			w = 0;
			memcpy(&w, b + 8 * PROBE_SEM_WORDS, PROBE_SEM_TAIL);
			any |= w;
		}
		st->probes_on = any != 0;
		return;
	}
#endif
	st->probes_on = PROBE_ANY_ON();
}

#define SONDE_PROBE_SITE(fn, KIND, ON)                                                \
	static inline void fn(const struct sonde_stack *st, const struct rte_mbuf *m, \
			      const struct sonde_if *ifp)                             \
	{                                                                             \
		if (unlikely(probe_gate(st)) && ON())                                 \
			probe_fire(st, KIND, m, ifp, 0, NULL);                        \
	}

SONDE_PROBE_SITE(probe_send, PROBE_SEND, PROBE_SEND_ON)
SONDE_PROBE_SITE(probe_receive, PROBE_RECEIVE, PROBE_RECEIVE_ON)
SONDE_PROBE_SITE(probe_local_send, PROBE_LOCAL_SEND, PROBE_LOCAL_SEND_ON)
SONDE_PROBE_SITE(probe_local_receive, PROBE_LOCAL_RECEIVE, PROBE_LOCAL_RECEIVE_ON)
SONDE_PROBE_SITE(probe_read, PROBE_READ, PROBE_READ_ON)
SONDE_PROBE_SITE(probe_write, PROBE_WRITE, PROBE_WRITE_ON)

/* Whether probe kind is switched on (its semaphores). */
bool probe_on(enum probe_kind kind);

/* A burst's probe site: one test of the gate for the whole burst, and only
 * when someone traces, the probe for each packet, all on interface ifp
 * (out == NULL) or each on out[i].  The burst's order is the firing order. */
void probe_burst_fire(const struct sonde_stack *st, enum probe_kind kind,
		      struct rte_mbuf *const *pkts, uint16_t n, const struct sonde_if *ifp,
		      struct sonde_if *const *out);

static __rte_always_inline void
probe_burst_if(const struct sonde_stack *st, enum probe_kind kind, struct rte_mbuf *const *pkts,
	       uint16_t n, const struct sonde_if *ifp)
{
	if (unlikely(probe_gate(st)))
		probe_burst_fire(st, kind, pkts, n, ifp, NULL);
}

static __rte_always_inline void
probe_burst_out(const struct sonde_stack *st, enum probe_kind kind, struct rte_mbuf *const *pkts,
		uint16_t n, struct sonde_if *const *out)
{
	if (unlikely(probe_gate(st)))
		probe_burst_fire(st, kind, pkts, n, NULL, out);
}

/* The tcp provider.  Which segment each probe describes (dtrace_tcp(4)):
 * send and receive, every segment sent or received on a connection (or
 * for none: an RST answering a segment no connection takes, a segment
 * dropped for want of one); connect-request, the first SYN sent by
 * connect; connect-established, the SYN-ACK that answers it; connect-
 * refused, the RST that answers it; accept-established, the final ACK of
 * the handshake of a listener's connection; accept-refused, the RST sent
 * to a SYN for a port with no listener.  Each of these segments also
 * fires send or receive. */
enum probe_tcp_kind {
	PROBE_TCP_SEND,
	PROBE_TCP_RECEIVE,
	PROBE_TCP_CONNECT_REQUEST,
	PROBE_TCP_CONNECT_ESTABLISHED,
	PROBE_TCP_CONNECT_REFUSED,
	PROBE_TCP_ACCEPT_ESTABLISHED,
	PROBE_TCP_ACCEPT_REFUSED,
};

/* probe_tcp()'s flags: the segment is a retransmission (tcps_retransmit). */
#define PROBE_TCP_F_RETRANSMIT 0x1

void probe_tcp_fire(const struct sonde_stack *st, enum probe_tcp_kind kind,
		    const struct rte_mbuf *m, const struct sonde_sock *s, unsigned flags);
void probe_tcp_state_fire(const struct sonde_stack *st, const struct sonde_sock *s,
			  unsigned old_state);

/* Each kind's semaphore: one load where kind is a constant. */
static __rte_always_inline bool
probe_tcp_on(enum probe_tcp_kind kind)
{
	switch (kind) {
	case PROBE_TCP_SEND: return TCP_SEND_ENABLED();
	case PROBE_TCP_RECEIVE: return TCP_RECEIVE_ENABLED();
	case PROBE_TCP_CONNECT_REQUEST: return TCP_CONNECT_REQUEST_ENABLED();
	case PROBE_TCP_CONNECT_ESTABLISHED: return TCP_CONNECT_ESTABLISHED_ENABLED();
	case PROBE_TCP_CONNECT_REFUSED: return TCP_CONNECT_REFUSED_ENABLED();
	case PROBE_TCP_ACCEPT_ESTABLISHED: return TCP_ACCEPT_ESTABLISHED_ENABLED();
	case PROBE_TCP_ACCEPT_REFUSED: return TCP_ACCEPT_REFUSED_ENABLED();
	}
	return false;
}

/* A segment: m's data at the IP header, the TCP header at
 * pkt_meta(m)->l3_len.  s may be NULL (a segment of no connection:
 * tcpsinfo_t from the segment's addresses and ports, state CLOSED).
 * flags: PROBE_TCP_F_*. */
static inline void
probe_tcp(const struct sonde_stack *st, enum probe_tcp_kind kind, const struct rte_mbuf *m,
	  const struct sonde_sock *s, unsigned flags)
{
	if (unlikely(probe_gate(st)) && probe_tcp_on(kind))
		probe_tcp_fire(st, kind, m, s, flags);
}

/* s has just changed state, from old_state (enum tcp_state) to its
 * s->tcp.state: tcp:::state-change.  Every change, to CLOSED too when the
 * connection ends (tcplife.bt counts on it). */
static inline void
probe_tcp_state(const struct sonde_stack *st, const struct sonde_sock *s, unsigned old_state)
{
	if (unlikely(probe_gate(st)) && TCP_STATE_CHANGE_ENABLED())
		probe_tcp_state_fire(st, s, old_state);
}

/* The udp provider: receive when a datagram is taken by a socket or a
 * service (before any socket queue), send when one leaves for IP. */
enum probe_udp_kind {
	PROBE_UDP_SEND,
	PROBE_UDP_RECEIVE,
};

void probe_udp_fire(const struct sonde_stack *st, enum probe_udp_kind kind,
		    const struct rte_mbuf *m, const struct sonde_sock *s);

/* A datagram: m's data at the IP header, the UDP header at
 * pkt_meta(m)->l3_len; s may be NULL (a service's datagram). */
static inline void
probe_udp(const struct sonde_stack *st, enum probe_udp_kind kind, const struct rte_mbuf *m,
	  const struct sonde_sock *s)
{
	if (unlikely(probe_gate(st)) &&
	    (kind == PROBE_UDP_SEND ? UDP_SEND_ENABLED() : UDP_RECEIVE_ENABLED()))
		probe_udp_fire(st, kind, m, s);
}

#endif
