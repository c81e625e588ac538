/*
 * proto.c: the joints.  A layer registers what it handles when a stack is
 * made (its init in stack/layers.c): an EtherType, what raw IP from a
 * tunnel or lo0 goes to, an IP protocol number per family (and who hears
 * of ICMP errors about what it sent), the reassembly of fragments.  The
 * layers below dispatch through these tables, so adding a protocol (TCP, a
 * tunnel's decapsulation) is a registration, not a new case in someone
 * else's switch.
 */
#include <errno.h>

#include "stack.h"

int
proto_eth_register(struct sonde_stack *st, uint16_t type, pkt_burst_fn fn)
{
	if (fn == NULL)
		return -EINVAL;
	if (proto_eth_find(st, type) != NULL)
		return -EEXIST;
	if (st->n_eth_types == SONDE_ETH_TYPES)
		return -ENOSPC;
	st->eth_types[st->n_eth_types].type = type;
	st->eth_types[st->n_eth_types].fn = fn;
	st->n_eth_types++;
	return 0;
}

int
proto_l3_register(struct sonde_stack *st, int af, pkt_burst_fn input, pkt_burst_fn local)
{
	if ((af != 4 && af != 6) || input == NULL || local == NULL)
		return -EINVAL;
	if (st->l3_input[af_idx(af)] != NULL)
		return -EEXIST;
	st->l3_input[af_idx(af)] = input;
	st->l3_local[af_idx(af)] = local;
	return 0;
}

/* What a registration per family checks: a family, a handler, a free
 * slot (taken: the slot of af_idx(af), a valid index whatever af). */
static int
proto_af_check(int af, bool have_fn, bool taken)
{
	if ((af != 4 && af != 6) || !have_fn)
		return -EINVAL;
	return taken ? -EEXIST : 0;
}

int
proto_ip_register(struct sonde_stack *st, int af, uint8_t proto, ip_upper_fn fn)
{
	int r = proto_af_check(af, fn != NULL, st->ip_proto[af_idx(af)][proto] != NULL);

	if (r == 0)
		st->ip_proto[af_idx(af)][proto] = fn;
	return r;
}

int
proto_reass_register(struct sonde_stack *st, int af, reass_fn fn)
{
	if ((af != 4 && af != 6) || fn == NULL)
		return -EINVAL;
	if (st->reass[af_idx(af)] != NULL)
		return -EEXIST;
	st->reass[af_idx(af)] = fn;
	return 0;
}

int
proto_ip_err_register(struct sonde_stack *st, int af, uint8_t proto, ip_err_fn fn)
{
	int r = proto_af_check(af, fn != NULL, st->ip_err[af_idx(af)][proto] != NULL);

	if (r == 0)
		st->ip_err[af_idx(af)][proto] = fn;
	return r;
}
