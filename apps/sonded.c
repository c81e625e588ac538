/*
 * sonded: the sonde daemon.  One stack on the main lcore over every DPDK
 * port EAL was given, addresses and routes from the command line, counters
 * over DPDK telemetry (/sonde/stats) while it runs and on stdout when it
 * stops (SIGINT/SIGTERM).
 *
 *   sonded [EAL args] -- --addr IF=ADDR/LEN [--addr ...]
 *          [--route DEST/LEN via GW ...] [--forward] [--pcap IF=FILE ...]
 *          [--mtu IF=N ...] [--frag-timeout MS] [--ping DEST[,COUNT]]
 *          [--service udp:PORT=echo|discard] [--busy-poll]
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_telemetry.h>

#include "sonde/sonde.h"

#define MAX_ARGS 64
#define POOL_SIZE 8191
#define IDLE_POLLS 256
#define IDLE_SLEEP_US 50

static volatile sig_atomic_t quit;
/* The one stack, for the telemetry callback (which takes no argument). */
static struct sonde_stack *the_stack;
static struct rte_mempool *the_pool;

struct opts {
	const char *addr[MAX_ARGS];
	unsigned n_addr;
	const char *route_dst[MAX_ARGS], *route_gw[MAX_ARGS];
	unsigned n_route;
	const char *pcap[MAX_ARGS];
	unsigned n_pcap;
	const char *service[MAX_ARGS];
	unsigned n_service;
	const char *mtu[MAX_ARGS];
	unsigned n_mtu;
	uint32_t frag_timeout_ms; /* 0: the stack's default */
	const char *ping;
	unsigned ping_count;
	bool forward;
	bool busy;
};

static void
on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: sonded [EAL args] -- --addr IF=ADDR/LEN [--addr ...]\n"
		   "       [--route DEST/LEN via GW ...] [--forward] [--pcap IF=FILE ...]\n"
		   "       [--mtu IF=N ...] [--frag-timeout MS] [--ping DEST[,COUNT]]\n"
		   "       [--service udp:PORT=echo|discard] [--busy-poll]\n"
		   "  --mtu IF=N         the port's MTU (at least 1280; default the PMD's, 1500)\n"
		   "  --frag-timeout MS  reassembly timeout in milliseconds (default 30000)\n");
}

static int
bad_arg(const char *what, const char *arg, const char *why)
{
	fprintf(stderr, "sonded: bad %s '%s': %s\n", what, arg ? arg : "", why);
	return 2;
}

static int
parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "addr", required_argument, NULL, 'a' },
		{ "route", required_argument, NULL, 'r' },
		{ "forward", no_argument, NULL, 'f' },
		{ "pcap", required_argument, NULL, 'p' },
		{ "mtu", required_argument, NULL, 'm' },
		{ "frag-timeout", required_argument, NULL, 'T' },
		{ "ping", required_argument, NULL, 'P' },
		{ "service", required_argument, NULL, 'S' },
		{ "busy-poll", no_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'a':
			if (o->n_addr == MAX_ARGS)
				return bad_arg("--addr", optarg, "too many");
			o->addr[o->n_addr++] = optarg;
			break;
		case 'r':
			/* --route DEST via GW: two more words. */
			if (optind + 1 >= argc + 0 || strcmp(argv[optind], "via") != 0 ||
			    optind + 1 > argc - 1)
				return bad_arg("--route", optarg, "expected DEST/LEN via GW");
			if (o->n_route == MAX_ARGS)
				return bad_arg("--route", optarg, "too many");
			o->route_dst[o->n_route] = optarg;
			o->route_gw[o->n_route++] = argv[optind + 1];
			optind += 2;
			break;
		case 'f': o->forward = true; break;
		case 'p':
			if (o->n_pcap == MAX_ARGS)
				return bad_arg("--pcap", optarg, "too many");
			o->pcap[o->n_pcap++] = optarg;
			break;
		case 'm':
			if (o->n_mtu == MAX_ARGS)
				return bad_arg("--mtu", optarg, "too many");
			o->mtu[o->n_mtu++] = optarg;
			break;
		case 'T': {
			char *end;
			unsigned long ms;

			errno = 0;
			ms = strtoul(optarg, &end, 10);
			if (!isdigit((unsigned char)optarg[0]) || *end != '\0' || errno ||
			    ms == 0 || ms > 3600000)
				return bad_arg("--frag-timeout", optarg,
					       "expected milliseconds, 1 to 3600000");
			o->frag_timeout_ms = (uint32_t)ms;
			break;
		}
		case 'P': o->ping = optarg; break;
		case 'S':
			if (o->n_service == MAX_ARGS)
				return bad_arg("--service", optarg, "too many");
			o->service[o->n_service++] = optarg;
			break;
		case 'b': o->busy = true; break;
		case 'h': usage(stdout); exit(0);
		default:
			return bad_arg("option", argv[optind - 1],
				       "unknown option or missing value");
		}
	}
	if (optind < argc)
		return bad_arg("argument", argv[optind], "unexpected");
	return 0;
}

/* "IF=VALUE": looks up IF, returns VALUE. */
static const char *
split_if(struct sonde_stack *st, const char *arg, int *ifindex)
{
	static char name[64];
	const char *eq = strchr(arg, '=');

	if (eq == NULL || (size_t)(eq - arg) >= sizeof(name) || eq[1] == '\0')
		return NULL;
	memcpy(name, arg, (size_t)(eq - arg));
	name[eq - arg] = '\0';
	*ifindex = sonde_if_find(st, name);
	return *ifindex < 0 ? NULL : eq + 1;
}

static int
configure(struct sonde_stack *st, const struct opts *o)
{
	struct sonde_prefix p, gw;
	const char *v;
	int ifi, r;

	for (unsigned i = 0; i < o->n_mtu; i++) {
		char *end;
		unsigned long mtu;

		v = split_if(st, o->mtu[i], &ifi);
		if (v == NULL)
			return bad_arg("--mtu", o->mtu[i], "expected IF=N with a known IF");
		mtu = strtoul(v, &end, 10);
		if (!isdigit((unsigned char)v[0]) || *end != '\0' || mtu < 1280 || mtu > UINT16_MAX)
			return bad_arg("--mtu", o->mtu[i], "expected an MTU of at least 1280");
		r = sonde_if_set_mtu(st, ifi, (uint16_t)mtu);
		if (r)
			return bad_arg("--mtu", o->mtu[i], strerror(-r));
	}
	for (unsigned i = 0; i < o->n_addr; i++) {
		v = split_if(st, o->addr[i], &ifi);
		if (v == NULL)
			return bad_arg("--addr", o->addr[i],
				       "expected IF=ADDR/LEN with a known IF");
		if (sonde_prefix_parse(v, &p) != 0 || strchr(v, '/') == NULL)
			return bad_arg("--addr", o->addr[i], "expected ADDR/LEN");
		r = sonde_addr_add(st, ifi, &p);
		if (r)
			return bad_arg("--addr", o->addr[i], strerror(-r));
	}
	for (unsigned i = 0; i < o->n_route; i++) {
		if (sonde_prefix_parse(o->route_dst[i], &p) != 0)
			return bad_arg("--route", o->route_dst[i], "expected DEST/LEN or default");
		if (sonde_prefix_parse(o->route_gw[i], &gw) != 0 ||
		    gw.plen != (gw.af == AF_INET ? 32 : 128))
			return bad_arg("--route gateway", o->route_gw[i], "expected an address");
		r = sonde_route_add(st, &p, &gw);
		if (r)
			return bad_arg("--route", o->route_dst[i], strerror(-r));
	}
	for (unsigned i = 0; i < o->n_service; i++) {
		/* udp:PORT=echo|discard */
		unsigned port;
		char kind[16];
		enum sonde_service k;

		if (sscanf(o->service[i], "udp:%u=%15s", &port, kind) != 2 || port == 0 ||
		    port > 65535)
			return bad_arg("--service", o->service[i],
				       "expected udp:PORT=echo|discard");
		if (strcmp(kind, "echo") == 0)
			k = SONDE_SERVICE_ECHO;
		else if (strcmp(kind, "discard") == 0)
			k = SONDE_SERVICE_DISCARD;
		else
			return bad_arg("--service", o->service[i], "expected echo or discard");
		sonde_udp_service(st, (uint16_t)port, k);
	}
	for (unsigned i = 0; i < o->n_pcap; i++) {
		v = split_if(st, o->pcap[i], &ifi);
		if (v == NULL)
			return bad_arg("--pcap", o->pcap[i], "expected IF=FILE with a known IF");
		r = sonde_pcap_open(st, ifi, v);
		if (r)
			return bad_arg("--pcap", o->pcap[i], strerror(-r));
	}
	return 0;
}

/* DPDK 22.11 refuses dict keys with anything but [A-Za-z0-9_/] (and the
 * entry is lost): a counter is served with those characters as '_', so
 * "drop.in.bad-checksum" is "drop_in_bad_checksum". */
static void
tel_add(const char *name, uint64_t value, void *arg)
{
	char key[RTE_TEL_MAX_STRING_LEN];

	snprintf(key, sizeof(key), "%s", name);
	for (char *c = key; *c; c++)
		if (!isalnum((unsigned char)*c) && *c != '_' && *c != '/')
			*c = '_';
	rte_tel_data_add_dict_u64(arg, key, value);
}

static int
tel_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd, (void)params;
	rte_tel_data_start_dict(d);
	if (the_stack) {
		sonde_stats_foreach(the_stack, tel_add, d);
		rte_tel_data_add_dict_u64(d, "mbufs_in_use", rte_mempool_in_use_count(the_pool));
	}
	return 0;
}

static void
print_stat(const char *name, uint64_t value, void *arg)
{
	(void)arg;
	if (value)
		printf("%-32s %" PRIu64 "\n", name, value);
}

int
main(int argc, char **argv)
{
	struct opts o = { 0 };
	struct sonde_conf conf = { 0 };
	struct rte_mempool *pool;
	struct sonde_stack *st;
	struct sonde_prefix ping_dst;
	uint64_t next_ping = 0, now;
	unsigned idle = 0, pings = 0, in_use;
	uint16_t port;
	int n, r;

	n = rte_eal_init(argc, argv);
	if (n < 0) {
		fprintf(stderr, "sonded: EAL initialisation failed: %s\n", rte_strerror(rte_errno));
		return 2;
	}
	argc -= n;
	argv += n;
	argv[0] = (char *)"sonded";
	r = parse_opts(argc, argv, &o);
	if (r) {
		usage(stderr);
		rte_eal_cleanup();
		return r;
	}
	if (o.ping) {
		char buf[64], *comma;

		snprintf(buf, sizeof(buf), "%s", o.ping);
		comma = strchr(buf, ',');
		o.ping_count = 1;
		if (comma) {
			*comma = '\0';
			o.ping_count = (unsigned)strtoul(comma + 1, NULL, 10);
		}
		if (sonde_prefix_parse(buf, &ping_dst) != 0 || o.ping_count == 0) {
			rte_eal_cleanup();
			return bad_arg("--ping", o.ping, "expected DEST[,COUNT]");
		}
	}
	if (rte_eth_dev_count_avail() == 0) {
		fprintf(stderr, "sonded: no DPDK ports (give EAL a --vdev or a device)\n");
		rte_eal_cleanup();
		return 2;
	}
	pool = rte_pktmbuf_pool_create("sonde_pool", POOL_SIZE, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       (int)rte_socket_id());
	if (pool == NULL) {
		fprintf(stderr, "sonded: mbuf pool: %s\n", rte_strerror(rte_errno));
		rte_eal_cleanup();
		return 1;
	}
	conf.pool = pool;
	conf.stack_id = rte_lcore_id();
	conf.forwarding = o.forward;
	conf.frag_timeout_ms = o.frag_timeout_ms;
	st = sonde_stack_create(&conf);
	if (st == NULL) {
		fprintf(stderr, "sonded: stack: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	RTE_ETH_FOREACH_DEV (port) {
		r = sonde_port_add(st, port);
		if (r < 0) {
			fprintf(stderr, "sonded: port %u: %s\n", port, strerror(-r));
			return 1;
		}
	}
	r = configure(st, &o);
	if (r) {
		sonde_ports_close(st);
		sonde_stack_destroy(st);
		return r;
	}
	the_stack = st;
	the_pool = pool;
	rte_telemetry_register_cmd("/sonde/stats", tel_stats,
				   "sonde counters: packets, drops by reason. No parameters");
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	/* IPv6 addresses are tentative until DAD is done: about a second. */
	for (now = sonde_clock_ns(), next_ping = now + 5000000000ull;
	     !quit && !sonde_ready(st) && now < next_ping; now = sonde_clock_ns()) {
		if (sonde_poll(st, now) == 0)
			usleep(IDLE_SLEEP_US);
	}
	next_ping = 0;
	printf("ready pid %d", (int)getpid());
	RTE_ETH_FOREACH_DEV (port) {
		struct rte_ether_addr mac;

		rte_eth_macaddr_get(port, &mac);
		printf(" dpdk%u=" RTE_ETHER_ADDR_PRT_FMT, port, RTE_ETHER_ADDR_BYTES(&mac));
	}
	printf("\n");
	fflush(stdout);

	while (!quit) {
		now = sonde_clock_ns();
		if (o.ping && pings < o.ping_count && now >= next_ping) {
			sonde_ping(st, &ping_dst, (uint16_t)getpid(), (uint16_t)pings, 56);
			pings++;
			next_ping = now + 1000000000ull;
		}
		if (sonde_poll(st, now) == 0 && !o.busy) {
			/* Idle: give the core back for a moment (not with --busy-poll). */
			if (++idle >= IDLE_POLLS)
				usleep(IDLE_SLEEP_US);
		} else {
			idle = 0;
		}
	}

	the_stack = NULL;
	sonde_ports_close(st);
	printf("stopping\n");
	sonde_stats_foreach(st, print_stat, NULL);
	sonde_stack_destroy(st);
	in_use = rte_mempool_in_use_count(pool);
	printf("mbufs_in_use %u\n", in_use);
	fflush(stdout);
	rte_mempool_free(pool);
	rte_eal_cleanup();
	return in_use ? 1 : 0;
}
