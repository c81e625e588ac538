/*
 * tcp_input.c: segment arrival (RFC 9293 3.10.7).
 */
#include "ip.h"
#include "sock.h"
#include "transport.h"

static int
tcp_init(struct sonde_stack *st, const struct sonde_conf *conf)
{
	(void)st, (void)conf;
	return 0;
}

const struct sonde_layer tcp_layer = {
	.name = "tcp",
	.init = tcp_init,
};
