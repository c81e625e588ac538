/*
 * wire6.c: parse and emit IPv6 headers, fragment headers, ND options.
 * RFC 8200, RFC 4861 4.6, RFC 4291 2.7.1, RFC 2464 7.
 */
#include <string.h>

#include <rte_ip.h>

#include "wire.h"
#include "wire6.h"

int
wire_ipv6_parse(const uint8_t *p, size_t len, struct ipv6_view *v)
{
	uint32_t w;

	if (len < IPV6_HDR_LEN)
		return DROP_TRUNCATED;
	w = wire_get32(p);
	if (w >> 28 != 6)
		return DROP_BAD_VERSION;
	v->tclass = (uint8_t)(w >> 20);
	v->flow = w & 0xfffff;
	v->plen = wire_get16(p + 4);
	if (v->plen == 0 || v->plen > len - IPV6_HDR_LEN)
		return DROP_BAD_LENGTH;
	v->nxt = p[6];
	v->hlim = p[7];
	memcpy(v->src, p + 8, 16);
	memcpy(v->dst, p + 24, 16);
	return 0;
}

void
wire_ipv6_emit(uint8_t *p, const struct ipv6_view *v)
{
	wire_put32(p, 6u << 28 | (uint32_t)v->tclass << 20 | (v->flow & 0xfffff));
	wire_put16(p + 4, v->plen);
	p[6] = v->nxt;
	p[7] = v->hlim;
	memcpy(p + 8, v->src, 16);
	memcpy(p + 24, v->dst, 16);
}

int
wire_frag6_parse(const uint8_t *p, size_t len, struct frag6_view *v)
{
	uint16_t w;

	if (len < IPV6_FRAG_HDR_LEN)
		return DROP_EXT_TRUNCATED;
	v->nxt = p[0];
	w = wire_get16(p + 2);
	v->offset = w & 0xfff8;
	v->more = w & 1;
	v->ident = wire_get32(p + 4);
	return 0;
}

int
wire_nd_opts_parse(const uint8_t *p, size_t len, struct nd_opts *o)
{
	memset(o, 0, sizeof(*o));
	while (len > 0) {
		size_t olen;

		if (len < 2 || p[1] == 0)
			return DROP_ND_BAD_OPTION;
		olen = (size_t)p[1] * 8;
		if (olen > len)
			return DROP_ND_BAD_OPTION;
		switch (p[0]) {
		case ND_OPT_SOURCE_LINKADDR: o->sllao = p + 2; break;
		case ND_OPT_TARGET_LINKADDR: o->tllao = p + 2; break;
		case ND_OPT_MTU:
			if (olen >= 8)
				o->mtu = wire_get32(p + 4);
			break;
		default: /* RFC 4861 4.6: unknown options are skipped */ break;
		}
		p += olen;
		len -= olen;
	}
	return 0;
}

void
ipv6_solicited_node(uint8_t *out, const uint8_t *a)
{
	static const uint8_t pfx[13] = { 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff };

	memcpy(out, pfx, sizeof(pfx));
	memcpy(out + 13, a + 13, 3);
}

void
ipv6_mcast_mac(uint8_t *mac, const uint8_t *a)
{
	mac[0] = 0x33;
	mac[1] = 0x33;
	memcpy(mac + 2, a + 12, 4);
}
