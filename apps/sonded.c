/*
 * sonded: the sonde daemon.  One stack per EAL lcore (-l 0 gives one, -l
 * 0,1 two) over every DPDK port EAL was given, addresses and routes from
 * the command line, counters over DPDK telemetry (/sonde/stats) while it
 * runs and on stdout when it stops (SIGINT/SIGTERM).
 *
 * With several lcores every port gets one rx/tx queue pair per lcore; the
 * stack of the i-th lcore (the main lcore first) polls queue i of every
 * port on its own lcore.  The stacks are linked (sonde_stacks_link): the
 * configuration is given to the first, and reaches the others by message,
 * as neighbour news and DAD verdicts do; they share nothing else.
 *
 *   sonded [EAL args] -- --addr IF=ADDR/LEN [--addr ...]
 *          [--route DEST/LEN via GW ...] [--forward] [--pcap IF=FILE ...]
 *          [--mtu IF=N ...] [--frag-timeout MS] [--ping DEST[,COUNT]]
 *          [--service PROTO:PORT=KIND ...] [--fetch [ADDR]:PORT[/PATH]=FILE ...]
 *          [--exit-after-fetch] [--busy-poll] [--max-sockets N]
 *   sonded --help | --version
 *
 * The services and the client are apps/services.c, on the public socket
 * API: each lcore drains its stack's events after every sonde_poll().
 */
#include <ctype.h>
#include <sys/stat.h>
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_telemetry.h>
#include <rte_version.h>

#include "esp_sa.h"
#include "services.h"
#include "sonde/sonde.h"

#ifndef SONDE_VERSION
#error "SONDE_VERSION: the build passes meson's project version"
#endif

#define MAX_ARGS 64
#define MAX_STACKS 32
#define POOL_SIZE 8191
#define POOL_CACHE 256
#define PORT_RX_DESC 1024 /* drivers/port.c: mbufs a queue holds posted */
#define IDLE_POLLS 256
#define IDLE_SLEEP_US 50
#define AGG_MAX 512

static volatile sig_atomic_t quit;

/* One stack and the lcore that polls it. */
struct lcore_stack {
	struct sonde_stack *st;
	struct svc_stack *svc; /* its services (services.c) */
	unsigned lcore;
	bool busy;
	bool ready; /* written by its lcore only (atomically), read by main */
};

struct app {
	struct lcore_stack ls[MAX_STACKS]; /* [0]: the main lcore's */
	unsigned n;
	struct rte_mempool *pool;
	/* Held by the telemetry callback while it reads the stacks, and by
	 * main while it takes them away (tel_on false) at exit. */
	pthread_mutex_t tel_lock;
	bool tel_on;
};

/* For the telemetry callback, which takes no argument. */
static struct app *the_app;

/* --fault IF=SPEC, those for one IF merged. */
struct fault_opt {
	char ifname[64];
	const char *arg; /* the first, for messages */
	struct sonde_fault_conf conf;
};

/* --tunnel NAME,mode=MODE,local=ADDR,remote=ADDR[,...] */
struct tun_opt {
	char name[32];
	const char *arg; /* for messages */
	struct sonde_if_conf conf;
	struct sonde_esp_conf esp; /* esp=FILE's SAs (conf.tunnel.esp points here) */
};

struct opts {
	struct tun_opt tun[MAX_ARGS];
	unsigned n_tun;
	const char *addr[MAX_ARGS];
	unsigned n_addr;
	const char *route_dst[MAX_ARGS], *route_gw[MAX_ARGS];
	unsigned n_route;
	const char *pcap[MAX_ARGS];
	unsigned n_pcap;
	struct svc_opts svc; /* --service, --fetch */
	const char *mtu[MAX_ARGS];
	unsigned n_mtu;
	struct fault_opt fault[MAX_ARGS];
	unsigned n_fault;
	uint32_t frag_timeout_ms; /* 0: the stack's default */
	uint32_t max_sockets;	  /* per stack; 0: the stack's default (16384) */
	const char *crypto_pmd;	  /* ESP's crypto driver; NULL: the stack's default */
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

/* Everything a first run needs: sonded's options and the EAL arguments
 * they go with, since EAL's own --help can no longer be reached. */
static void
usage(FILE *f)
{
	fprintf(f,
		"usage: sonded [EAL args] -- --addr IF=ADDR/LEN [sonded options]\n"
		"       sonded --help | --version\n"
		"\n"
		"A sonde IPv4/IPv6 stack on every DPDK port EAL was given, one stack per EAL\n"
		"lcore, until SIGINT or SIGTERM.  EAL arguments first, sonded's after \"--\".\n"
		"Interfaces are dpdk0, dpdk1, ... by DPDK port id, and lo0.\n"
		"\n"
		"sonded options (+: may be repeated):\n"
		"  --addr IF=ADDR/LEN      + an IPv4 or IPv6 address and its on-link prefix\n"
		"  --tunnel NAME,mode=MODE,local=ADDR,remote=ADDR[,key=K][,ttl=N][,encaplimit=N]\n"
		"         [,esp=FILE]\n"
		"                          + a tunnel interface NAME (e.g. ip.tun0): MODE ipip,\n"
		"                            sit, ip6ip6, ipip6, gre or ip6gre, as Linux's "
		"devices;\n"
		"                            local and remote the outer addresses (IPv6 for "
		"ip6*);\n"
		"                            key a GRE key; ttl the outer TTL (default 64);\n"
		"                            encaplimit N or none (ip6ip6, ipip6, ip6gre: RFC "
		"2473,\n"
		"                            default 4); MTU 1500 less the outer headers (--mtu)\n"
		"                            esp=FILE: ESP in UDP 4500 (ipip, sit, ip6ip6, ipip6)\n"
		"                            with the SAs in FILE (README, ESP in UDP); one lcore\n"
		"  --route DEST/LEN via GW + a route, GW on a connected prefix; DEST \"default\"\n"
		"                            is 0.0.0.0/0 or ::/0 by GW's family (or say\n"
		"                            default4, default6)\n"
		"  --forward                 route packets not addressed to sonded (RFC 1812)\n"
		"  --pcap IF=FILE          + record every frame IF sends or receives\n"
		"  --mtu IF=N              + the interface's MTU, at least 1280 (default the "
		"PMD's)\n"
		"  --frag-timeout MS         reassembly timeout in milliseconds (default 30000)\n"
		"  --ping DEST[,COUNT]       COUNT (default 1) echo requests to DEST, 1 a second\n"
		"  --service PROTO:PORT=KIND\n"
		"                          + a service on PORT, IPv4 and IPv6: udp:PORT=echo (RFC "
		"862),\n"
		"                            discard (RFC 863) or chargen (RFC 864); "
		"tcp:PORT=echo,\n"
		"                            discard, chargen or http (GET / and GET /bytes/N, N\n"
		"                            bytes of 0-9a-zA-Z+/ repeated)\n"
		"  --fetch [ADDR]:PORT[/PATH]=FILE\n"
		"                          + once ready, connect to ADDR (IPv6 in brackets) and\n"
		"                            write to FILE the body of GET /PATH (HTTP/1.1) or,\n"
		"                            without /PATH, all the peer sends until it closes;\n"
		"                            prints 'fetch: N bytes in T s ...' or 'fetch: error\n"
		"                            WHY ...' (WHY e.g. ECONNREFUSED, HTTP 404)\n"
		"  --exit-after-fetch        stop once every fetch has ended (exit status 3 if\n"
		"                            one failed)\n"
		"  --fault IF=[rx:|tx:]SPEC\n"
		"                          + a lossy link on IF made by sonde (no netem needed),\n"
		"                            received frames (rx:), sent ones (tx:) or both:\n"
		"                            SPEC is KEY=VALUE,... of loss, dup, reorder, corrupt\n"
		"                            (N%% or Nppm), delay (Nms, Nus or Ns), limit (frames\n"
		"                            held, default 1024) and seed (N, default 1),\n"
		"                            e.g. IF=loss=3%%,delay=10ms,seed=42\n"
		"  --busy-poll               never sleep when idle (benchmarks)\n"
		"  --crypto-pmd NAME         ESP's crypto driver: crypto_openssl (default) or\n"
		"                            crypto_aesni_gcm (intel-ipsec-mb: faster, AES-NI)\n"
		"  --max-sockets N           sockets (connections, listeners, TIME-WAITs) each\n"
		"                            stack holds at most (default 16384), 64 to 4194304;\n"
		"                            their pool and tables are taken at start, about\n"
		"                            1 KB each: raise -m MB to match (bench/conns)\n"
		"  -h, --help                this help; answered before EAL starts\n"
		"  --version                 sonded's version and DPDK's\n"
		"  With several lcores, --pcap IF=FILE writes one file per lcore, its id before\n"
		"  the extension (cap.pcap: cap.lcore0.pcap, cap.lcore1.pcap, ...), and --ping\n"
		"  is sent by the main lcore's stack.\n"
		"\n"
		"EAL arguments (DPDK's; the ones sonded needs most):\n"
		"  -l CORES                  lcores, one stack each: -l 0, or -l 0,1 for two\n"
		"  --vdev=net_tap0,iface=NAME\n"
		"                            a port whose kernel side is tap NAME (needs root);\n"
		"                            also net_memif0, net_af_packet0, net_ring0, ...\n"
		"  -a PCI_ADDR               a NIC bound to vfio-pci (e.g. -a 0000:03:00.0)\n"
		"  --no-pci                  do not scan PCI: --vdev ports only\n"
		"  --no-huge -m MB           no hugepages: MB of ordinary memory; a stack takes\n"
		"                            about 132 MB, so -m 256 for one, -m 384 for two\n"
		"  --file-prefix=NAME        a name of its own for each DPDK process running at\n"
		"                            once (default \"rte\"); also the telemetry socket's:\n"
		"                            dpdk-telemetry.py -f NAME\n"
		"  --log-level=LEVEL         EAL and driver logging, e.g. --log-level='*:warning'\n"
		"  The rest: DPDK's \"EAL parameters\" guide (Linux getting started guide).\n"
		"\n"
		"Example (as root, no hugepages needed):\n"
		"  sonded --no-huge -m 256 --no-pci --file-prefix=s1 -l 0 \\\n"
		"      --vdev=net_tap0,iface=sonde0 -- --addr dpdk0=10.99.0.2/24 \\\n"
		"      --addr dpdk0=fd00::2/64 --route default via fd00::1\n");
}

static void
version(void)
{
	printf("sonded %s\n%s\n", SONDE_VERSION, rte_version());
}

/* --help and --version wherever they are, before or after "--": answered
 * before EAL starts, which would take --help as its own and needs memory,
 * a free file prefix and often root before sonded reads a word.  Returns
 * true if one was answered. */
static bool
early_opts(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return true;
		}
		if (strcmp(argv[i], "--version") == 0) {
			version();
			return true;
		}
	}
	return false;
}

/* The --file-prefix EAL will use ("rte" by default), read before
 * rte_eal_init(), which may reorder argv. */
static const char *
file_prefix(int argc, char **argv)
{
	static const char opt[] = "--file-prefix";
	const size_t n = sizeof(opt) - 1;
	const char *prefix = "rte";

	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strncmp(argv[i], opt, n) != 0)
			continue;
		if (argv[i][n] == '=')
			prefix = argv[i] + n + 1;
		else if (argv[i][n] == '\0' && i + 1 < argc)
			prefix = argv[++i];
	}
	return prefix;
}

/* Whether a running DPDK primary process holds the config file of prefix
 * where EAL keeps it (eal_create_runtime_dir: /var/run for root, else
 * $XDG_RUNTIME_DIR or /tmp).  EAL 22.11 fails on such a clash without
 * setting rte_errno, so the lock is the only sign. */
static bool
prefix_taken(const char *prefix)
{
	const char *dir = getuid() == 0 ? "/var/run" : getenv("XDG_RUNTIME_DIR");
	char path[4096];

	snprintf(path, sizeof(path), "%s/dpdk/%s/config", dir ? dir : "/tmp", prefix);
	return rte_eal_primary_proc_alive(path) == 1;
}

/* EAL said no: its reason and what usually gets past it, on one line. */
static int
eal_failed(const char *prefix)
{
	int e = rte_errno;
	const char *hint = "see EAL's messages above; sonded --help lists the EAL arguments";

	if (prefix_taken(prefix)) {
		fprintf(stderr,
			"sonded: EAL initialisation failed: --file-prefix=%s is in use by another "
			"DPDK process: give each its own --file-prefix=NAME\n",
			prefix);
		return 2;
	}
	if (e == EACCES || e == EPERM)
		hint = "no hugepages? try --no-huge -m 256; and run as root (net_tap, PCI)";
	else if (e == ENOMEM || e == ENODEV)
		hint = "not enough hugepage memory: try --no-huge -m 256, or a smaller -m";
	else if (e == EINVAL)
		hint = "a bad EAL argument (see EAL's message above; sonded --help lists them)";
	else if (e == EALREADY)
		hint = "EAL runs already: give each sonded its own --file-prefix=NAME";
	fprintf(stderr, "sonded: EAL initialisation failed: %s: %s\n",
		e ? rte_strerror(e) : "no reason given", hint);
	return 2;
}

static int
bad_arg(const char *what, const char *arg, const char *why)
{
	fprintf(stderr, "sonded: bad %s '%s': %s\n", what, arg ? arg : "", why);
	return 2;
}

/* "3%", "0.1%" or "250ppm": parts per million. */
static bool
fault_rate(const char *v, uint32_t *ppm)
{
	char *end;
	double x;

	if (!isdigit((unsigned char)v[0]))
		return false;
	errno = 0;
	x = strtod(v, &end);
	if (errno)
		return false;
	if (strcmp(end, "%") == 0)
		x *= 10000;
	else if (strcmp(end, "ppm") != 0)
		return false;
	if (x > 1000000)
		return false;
	*ppm = (uint32_t)(x + 0.5);
	return true;
}

/* "10ms", "500us", "1s": microseconds. */
static bool
fault_delay(const char *v, uint32_t *us)
{
	char *end;
	unsigned long long n;
	uint64_t mult;

	if (!isdigit((unsigned char)v[0]))
		return false;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno)
		return false;
	if (strcmp(end, "us") == 0)
		mult = 1;
	else if (strcmp(end, "ms") == 0)
		mult = 1000;
	else if (strcmp(end, "s") == 0)
		mult = 1000000;
	else
		return false;
	if (n > SONDE_FAULT_DELAY_MAX_US / mult)
		return false;
	*us = (uint32_t)(n * mult);
	return true;
}

/* The rate KEY names in d, or NULL. */
static uint32_t *
fault_key(struct sonde_fault_dir *d, const char *key)
{
	if (strcmp(key, "loss") == 0)
		return &d->loss_ppm;
	if (strcmp(key, "dup") == 0)
		return &d->dup_ppm;
	if (strcmp(key, "reorder") == 0)
		return &d->reorder_ppm;
	if (strcmp(key, "corrupt") == 0)
		return &d->corrupt_ppm;
	return NULL;
}

/* --fault IF=[rx:|tx:]KEY=VALUE,...: into o->fault, merged with what an
 * earlier --fault said of IF.  NULL, or what is wrong. */
static const char *
fault_parse(struct opts *o, const char *arg)
{
	char buf[256], *save, *kv;
	const char *eq = strchr(arg, '='), *spec;
	struct sonde_fault_dir d = { 0 };
	struct fault_opt *f = NULL;
	bool rx = true, tx = true, seeded = false;
	uint64_t seed = 1;

	if (eq == NULL || eq == arg || (size_t)(eq - arg) >= sizeof(f->ifname))
		return "expected IF=SPEC";
	spec = eq + 1;
	if (strncmp(spec, "rx:", 3) == 0)
		tx = false, spec += 3;
	else if (strncmp(spec, "tx:", 3) == 0)
		rx = false, spec += 3;
	if (spec[0] == '\0' || strlen(spec) >= sizeof(buf))
		return "expected a SPEC after IF= (e.g. loss=3%,delay=10ms)";
	strcpy(buf, spec);
	for (kv = strtok_r(buf, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
		char *v = strchr(kv, '=');
		uint32_t *rate;

		if (v == NULL)
			return "expected KEY=VALUE between commas";
		*v++ = '\0';
		rate = fault_key(&d, kv);
		if (rate != NULL) {
			if (!fault_rate(v, rate))
				return "loss, dup, reorder, corrupt: expected 0% to 100% (N% or "
				       "Nppm)";
		} else if (strcmp(kv, "delay") == 0) {
			if (!fault_delay(v, &d.delay_us))
				return "delay: expected Nus, Nms or Ns, at most 10 s";
		} else if (strcmp(kv, "limit") == 0) {
			char *end;
			unsigned long n;

			errno = 0;
			n = strtoul(v, &end, 10);
			if (!isdigit((unsigned char)v[0]) || *end != '\0' || errno || n == 0 ||
			    n > SONDE_FAULT_QUEUE)
				return "limit: expected frames held, 1 to 1024";
			d.limit = (uint32_t)n;
		} else if (strcmp(kv, "seed") == 0) {
			char *end;

			errno = 0;
			seed = strtoull(v, &end, 0);
			if (!isdigit((unsigned char)v[0]) || *end != '\0' || errno)
				return "seed: expected a number";
			seeded = true;
		} else {
			return "unknown KEY: expected loss, dup, reorder, corrupt, delay, limit or "
			       "seed";
		}
	}
	for (unsigned i = 0; i < o->n_fault; i++)
		if (strncmp(o->fault[i].ifname, arg, (size_t)(eq - arg)) == 0 &&
		    o->fault[i].ifname[eq - arg] == '\0')
			f = &o->fault[i];
	if (f == NULL) {
		if (o->n_fault == MAX_ARGS)
			return "too many";
		f = &o->fault[o->n_fault++];
		memcpy(f->ifname, arg, (size_t)(eq - arg));
		f->ifname[eq - arg] = '\0';
		f->arg = arg;
		f->conf.seed = 1;
	}
	if (seeded)
		f->conf.seed = seed;
	if (rx)
		f->conf.rx = d;
	if (tx)
		f->conf.tx = d;
	return NULL;
}

static const char *const tunnel_modes[SONDE_TUNNEL_MODES] = {
	[SONDE_TUNNEL_IPIP] = "ipip",	  [SONDE_TUNNEL_SIT] = "sit",
	[SONDE_TUNNEL_IP6IP6] = "ip6ip6", [SONDE_TUNNEL_IPIP6] = "ipip6",
	[SONDE_TUNNEL_GRE] = "gre",	  [SONDE_TUNNEL_IP6GRE] = "ip6gre",
};

/* --tunnel's NAME,KEY=VALUE,...; NULL or what is wrong. */
static const char *
tunnel_parse(struct tun_opt *t, const char *arg)
{
	char buf[512], *save = NULL, *tok;
	bool have_mode = false, have_local = false, have_remote = false;
	unsigned long v;

	memset(t, 0, sizeof(*t));
	t->arg = arg;
	if (strlen(arg) >= sizeof(buf))
		return "too long";
	strcpy(buf, arg);
	tok = strtok_r(buf, ",", &save);
	if (tok == NULL || strchr(tok, '=') != NULL || strlen(tok) >= sizeof(t->name))
		return "expected NAME first (at most 31 characters)";
	strcpy(t->name, tok);
	t->conf.type = SONDE_IF_TUNNEL;
	t->conf.name = t->name;
	while ((tok = strtok_r(NULL, ",", &save)) != NULL) {
		char *val = strchr(tok, '=');
		struct sonde_prefix *p = NULL;

		if (val == NULL)
			return "expected KEY=VALUE after NAME";
		*val++ = '\0';
		if (strcmp(tok, "mode") == 0) {
			unsigned m;

			for (m = 0; m < SONDE_TUNNEL_MODES && strcmp(val, tunnel_modes[m]) != 0;
			     m++)
				;
			if (m == SONDE_TUNNEL_MODES)
				return "mode: expected ipip, sit, ip6ip6, ipip6, gre or ip6gre";
			t->conf.tunnel.mode = (enum sonde_tunnel_mode)m;
			have_mode = true;
		} else if (strcmp(tok, "local") == 0 || strcmp(tok, "remote") == 0) {
			bool local = tok[0] == 'l';

			p = local ? &t->conf.tunnel.local : &t->conf.tunnel.remote;
			if (sonde_prefix_parse(val, p) != 0 || strchr(val, '/') != NULL)
				return "local, remote: expected an address";
			*(local ? &have_local : &have_remote) = true;
		} else if (strcmp(tok, "key") == 0) {
			if (!parse_uint(val, UINT32_MAX, &v))
				return "key: expected a number from 0 to 4294967295";
			t->conf.tunnel.has_key = true;
			t->conf.tunnel.key = (uint32_t)v;
		} else if (strcmp(tok, "ttl") == 0) {
			if (!parse_uint(val, 255, &v) || v == 0)
				return "ttl: expected 1 to 255";
			t->conf.tunnel.ttl = (uint8_t)v;
		} else if (strcmp(tok, "encaplimit") == 0) {
			if (strcmp(val, "none") == 0)
				t->conf.tunnel.encap_limit = -1;
			else if (parse_uint(val, 255, &v) && v > 0)
				t->conf.tunnel.encap_limit = (int16_t)v;
			else
				return "encaplimit: expected 1 to 255 or none";
		} else if (strcmp(tok, "esp") == 0) {
			static char why[600];

			if (esp_sa_file(&t->esp, val, why, sizeof(why)) != NULL)
				return why;
			t->conf.tunnel.esp = &t->esp;
		} else {
			return "unknown key (mode, local, remote, key, ttl, encaplimit, esp)";
		}
	}
	if (!have_mode || !have_local || !have_remote)
		return "mode=, local= and remote= are needed";
	return NULL;
}

static int
parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "addr", required_argument, NULL, 'a' },
		{ "tunnel", required_argument, NULL, 't' },
		{ "route", required_argument, NULL, 'r' },
		{ "forward", no_argument, NULL, 'f' },
		{ "pcap", required_argument, NULL, 'p' },
		{ "mtu", required_argument, NULL, 'm' },
		{ "frag-timeout", required_argument, NULL, 'T' },
		{ "ping", required_argument, NULL, 'P' },
		{ "service", required_argument, NULL, 'S' },
		{ "fetch", required_argument, NULL, 'G' },
		{ "exit-after-fetch", no_argument, NULL, 'X' },
		{ "busy-poll", no_argument, NULL, 'b' },
		{ "fault", required_argument, NULL, 'F' },
		{ "max-sockets", required_argument, NULL, 'M' },
		{ "crypto-pmd", required_argument, NULL, 'C' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 't': {
			const char *why;

			if (o->n_tun == MAX_ARGS)
				return bad_arg("--tunnel", optarg, "too many");
			why = tunnel_parse(&o->tun[o->n_tun], optarg);
			if (why)
				return bad_arg("--tunnel", optarg, why);
			o->n_tun++;
			break;
		}
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
		case 'C': o->crypto_pmd = optarg; break;
		case 'M': {
			char *end;
			unsigned long n;

			errno = 0;
			n = strtoul(optarg, &end, 10);
			if (!isdigit((unsigned char)optarg[0]) || *end != '\0' || errno || n < 64 ||
			    n > 4194304)
				return bad_arg("--max-sockets", optarg, "expected 64 to 4194304");
			o->max_sockets = (uint32_t)n;
			break;
		}
		case 'P': o->ping = optarg; break;
		case 'S': {
			const char *why = services_parse(&o->svc, optarg);

			if (why)
				return bad_arg("--service", optarg, why);
			break;
		}
		case 'G': {
			const char *why = fetch_parse(&o->svc, optarg);

			if (why)
				return bad_arg("--fetch", optarg, why);
			break;
		}
		case 'X': o->svc.exit_after_fetch = true; break;
		case 'b': o->busy = true; break;
		case 'F': {
			const char *why = fault_parse(o, optarg);

			if (why)
				return bad_arg("--fault", optarg, why);
			break;
		}
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

/* FILE for the stack on lcore, with several stacks: FILE with
 * ".lcoreN" before its extension (pcap files take one writer each). */
static void
pcap_name(char *buf, size_t size, const char *file, unsigned lcore, unsigned n_stacks)
{
	const char *slash = strrchr(file, '/');
	const char *dot = strrchr(file, '.');

	if (n_stacks == 1) {
		snprintf(buf, size, "%s", file);
		return;
	}
	if (dot == NULL || dot == file || (slash && dot < slash) || (slash && dot == slash + 1))
		dot = file + strlen(file);
	snprintf(buf, size, "%.*s.lcore%u%s", (int)(dot - file), file, lcore, dot);
}

/* The configuration, given to the first stack: linked stacks make the
 * same changes from its messages at their first poll.  The captures are
 * every stack's own (one file each). */
static int
configure(struct sonde_stack *st, const struct opts *o, unsigned lcore, unsigned n_stacks)
{
	struct sonde_prefix p, gw;
	const char *v;
	int ifi, r;

	/* Tunnels: every stack makes its own, in the same order (the same
	 * indexes); what is configured on them then comes from the first. */
	for (unsigned i = 0; i < o->n_tun; i++) {
		r = sonde_if_create(st, &o->tun[i].conf);
		if (r < 0)
			return bad_arg("--tunnel", o->tun[i].arg, strerror(-r));
	}
	if (lcore != rte_get_main_lcore())
		goto captures;
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
captures:
	/* Every stack's own: each has its queue of the port. */
	for (unsigned i = 0; i < o->n_fault; i++) {
		ifi = sonde_if_find(st, o->fault[i].ifname);
		if (ifi < 0)
			return bad_arg("--fault", o->fault[i].arg, "no such interface");
		r = sonde_if_fault(st, ifi, &o->fault[i].conf);
		if (r)
			return bad_arg("--fault", o->fault[i].arg, strerror(-r));
	}
	for (unsigned i = 0; i < o->n_pcap; i++) {
		char file[4096];

		v = split_if(st, o->pcap[i], &ifi);
		if (v == NULL)
			return bad_arg("--pcap", o->pcap[i], "expected IF=FILE with a known IF");
		pcap_name(file, sizeof(file), v, lcore, n_stacks);
		r = sonde_pcap_open(st, ifi, file);
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

/* Counters summed over stacks: linked stacks have the same interfaces, so
 * the same names in the same order. */
struct agg {
	unsigned n, pos;
	char name[AGG_MAX][64];
	uint64_t v[AGG_MAX];
};

static void
agg_add(const char *name, uint64_t value, void *arg)
{
	struct agg *g = arg;

	if (g->pos < g->n && strcmp(g->name[g->pos], name) == 0) {
		g->v[g->pos++] += value;
		return;
	}
	for (unsigned i = 0; i < g->n; i++) {
		if (strcmp(g->name[i], name) == 0) {
			g->v[i] += value;
			g->pos = i + 1;
			return;
		}
	}
	if (g->n == AGG_MAX)
		return;
	snprintf(g->name[g->n], sizeof(g->name[0]), "%s", name);
	g->v[g->n++] = value;
	g->pos = g->n;
}

/* Every stack's counters, summed; NULL if out of memory. */
static struct agg *
agg_stacks(const struct app *a)
{
	struct agg *g = calloc(1, sizeof(*g));

	if (g == NULL)
		return NULL;
	for (unsigned i = 0; i < a->n; i++) {
		g->pos = 0;
		sonde_stats_foreach(a->ls[i].st, agg_add, g);
		if (a->ls[i].svc)
			services_stats(a->ls[i].svc, agg_add, g);
	}
	return g;
}

/* The counters also given per stack, with several: packets in and out. */
static bool
per_stack_stat(const char *name)
{
	static const char *const names[] = {
		"ipv4.in",   "ipv4.out",      "ipv6.in",	"ipv6.out",
		"icmp.in",   "icmp6.in",      "udp.in",		"service.udp.echoed",
		"arp.in",    "nd.ns_in",      "nd.na_in",	"neigh.entries",
		"peer.sent", "peer.received", "peer.ring_full",
	};
	size_t len = strlen(name);

	if (strncmp(name, "if.", 3) == 0 && len > 8 && strcmp(name + len - 8, "_packets") == 0)
		return true;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(name, names[i]) == 0)
			return true;
	return false;
}

struct per_stack {
	unsigned lcore;
	sonde_stat_fn fn;
	void *arg;
};

/* Passes name on as "stackN.name" (N the lcore) if it is a per-stack one. */
static void
per_stack_cb(const char *name, uint64_t value, void *arg)
{
	const struct per_stack *p = arg;
	char key[96];

	if (!per_stack_stat(name))
		return;
	snprintf(key, sizeof(key), "stack%u.%s", p->lcore, name);
	p->fn(key, value, p->arg);
}

/* Every counter, summed over stacks (the names one stack has); then, with
 * several stacks, the per-stack ones (per_stack_stat). */
static void
stats_foreach(const struct app *a, sonde_stat_fn fn, void *arg)
{
	struct agg *g = agg_stacks(a);

	if (g == NULL)
		return;
	for (unsigned i = 0; i < g->n; i++)
		fn(g->name[i], g->v[i], arg);
	free(g);
	for (unsigned i = 0; a->n > 1 && i < a->n; i++) {
		struct per_stack p = { a->ls[i].lcore, fn, arg };

		sonde_stats_foreach(a->ls[i].st, per_stack_cb, &p);
	}
}

/* Runs on the telemetry thread while the lcores poll: it reads counters
 * they write, never writes.  A 64-bit aligned load is atomic on the
 * 64-bit targets DPDK supports, so each value is one the counter had;
 * the set is not a snapshot of one instant. */
static int
tel_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct app *a = the_app;

	(void)cmd, (void)params;
	rte_tel_data_start_dict(d);
	if (a == NULL)
		return 0;
	pthread_mutex_lock(&a->tel_lock);
	if (a->tel_on) {
		stats_foreach(a, tel_add, d);
		rte_tel_data_add_dict_u64(d, "mbufs_in_use", rte_mempool_in_use_count(a->pool));
	}
	pthread_mutex_unlock(&a->tel_lock);
	return 0;
}

static void
print_stat(const char *name, uint64_t value, void *arg)
{
	(void)arg;
	if (value)
		printf("%-32s %" PRIu64 "\n", name, value);
}

/* One turn: the stack's, then its services' events.  False if idle. */
static bool
poll_once(struct lcore_stack *ls, uint64_t now)
{
	unsigned n = sonde_poll(ls->st, now);

	return (n + services_run(ls->svc, now)) != 0;
}

/* The services' sockets closed (connections reset) by the stack's own
 * lcore, and a last poll to send the RSTs before the ports close. */
static void
services_stop_flush(struct lcore_stack *ls)
{
	services_stop(ls->svc);
	sonde_poll(ls->st, sonde_now(ls->st));
}

/* The poll loop of one stack, until SIGINT/SIGTERM. */
static int
stack_loop(void *arg)
{
	struct lcore_stack *ls = arg;
	unsigned idle = 0;

	while (!quit) {
		if (!poll_once(ls, sonde_now(ls->st)) && !ls->busy) {
			/* Idle: give the core back for a moment (not with --busy-poll). */
			if (++idle >= IDLE_POLLS)
				usleep(IDLE_SLEEP_US);
		} else {
			idle = 0;
		}
		if (!ls->ready && sonde_ready(ls->st))
			__atomic_store_n(&ls->ready, true, __ATOMIC_RELEASE);
	}
	services_stop_flush(ls);
	return 0;
}

static bool
all_ready(struct app *a)
{
	for (unsigned i = 0; i < a->n; i++)
		if (!__atomic_load_n(&a->ls[i].ready, __ATOMIC_ACQUIRE))
			return false;
	return true;
}

/* Creates one stack per lcore, the main lcore's first, linked if several. */
static int
stacks_create(struct app *a, const struct opts *o)
{
	struct sonde_conf conf = { 0 };
	struct sonde_stack *sts[MAX_STACKS];
	unsigned lcore;
	int r;

	conf.pool = a->pool;
	conf.forwarding = o->forward;
	conf.frag_timeout_ms = o->frag_timeout_ms;
	conf.max_sockets = o->max_sockets;
	conf.crypto_pmd = o->crypto_pmd;
	a->ls[a->n++].lcore = rte_get_main_lcore();
	RTE_LCORE_FOREACH_WORKER (lcore) {
		if (a->n == MAX_STACKS) {
			fprintf(stderr, "sonded: at most %u lcores\n", MAX_STACKS);
			return 2;
		}
		a->ls[a->n++].lcore = lcore;
	}
	/* RFC 1812 4.3.2.8 limits the ICMP errors a router sends; with one
	 * token bucket per stack, each gets its share of the default 100 a
	 * second (burst 50), so the daemon as a whole keeps to it. */
	conf.icmp_rate = RTE_MAX(100u / a->n, 1u);
	conf.icmp_burst = RTE_MAX(50u / a->n, 1u);
	for (unsigned i = 0; i < a->n; i++) {
		conf.stack_id = a->ls[i].lcore;
		a->ls[i].st = sts[i] = sonde_stack_create(&conf);
		a->ls[i].busy = o->busy;
		if (a->ls[i].st == NULL) {
			fprintf(stderr, "sonded: stack on lcore %u: %s\n", a->ls[i].lcore,
				rte_strerror(rte_errno));
			return 1;
		}
	}
	if (a->n > 1) {
		r = sonde_stacks_link(sts, a->n);
		if (r) {
			fprintf(stderr, "sonded: linking stacks: %s\n", strerror(-r));
			return 1;
		}
	}
	return 0;
}

/* Every port: one queue pair per stack, stack i on queue i. */
static int
ports_add(struct app *a)
{
	uint16_t port;
	int r = 0;

	RTE_ETH_FOREACH_DEV (port) {
		if (a->n == 1) {
			r = sonde_port_add(a->ls[0].st, port);
		} else {
			r = sonde_port_setup(port, (uint16_t)a->n, a->pool);
			for (unsigned i = 0; r >= 0 && i < a->n; i++)
				r = sonde_port_add_queue(a->ls[i].st, port, (uint16_t)i);
		}
		if (r < 0) {
			fprintf(stderr, "sonded: port %u: %s\n", port, strerror(-r));
			return 1;
		}
	}
	return 0;
}

/* Closes the ports: the stack holding queue 0 last (it closes them). */
static void
ports_close(struct app *a)
{
	for (unsigned i = a->n; i-- > 0;)
		if (a->ls[i].st)
			sonde_ports_close(a->ls[i].st);
}

static void
stacks_destroy(struct app *a)
{
	for (unsigned i = 0; i < a->n; i++) {
		sonde_stack_destroy(a->ls[i].st);
		services_free(a->ls[i].svc);
	}
	a->n = 0;
}

/* Enough mbufs for every queue's posted receive buffers (net_tap posts
 * one per descriptor) and the lcores' caches, and room to work. */
static unsigned
pool_size(unsigned n_stacks)
{
	unsigned want = rte_eth_dev_count_avail() * n_stacks * PORT_RX_DESC +
			n_stacks * POOL_CACHE * 3 / 2 + 4096;
	unsigned size = POOL_SIZE;

	if (n_stacks == 1)
		return POOL_SIZE;
	while (size < want)
		size = size * 2 + 1; /* 2^k - 1: what rte_mempool sizes best */
	return size;
}

int
main(int argc, char **argv)
{
	static struct app app = { .tel_lock = PTHREAD_MUTEX_INITIALIZER };
	struct opts o = { 0 };
	struct sonde_prefix ping_dst;
	struct lcore_stack *main_ls = &app.ls[0];
	uint64_t next_ping = 0, now;
	unsigned idle = 0, pings = 0, in_use;
	bool fetch_failed = false;
	const char *prefix;
	uint16_t port;
	int n, r;

	if (early_opts(argc, argv))
		return 0;
	prefix = file_prefix(argc, argv);
	n = rte_eal_init(argc, argv);
	if (n < 0)
		return eal_failed(prefix);
	argc -= n;
	argv += n;
	argv[0] = (char *)"sonded";
	r = parse_opts(argc, argv, &o);
	if (r) {
		fprintf(stderr, "sonded: 'sonded --help' lists the options\n");
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
		if (sonde_prefix_parse(buf, &ping_dst) != 0 || ping_dst.af == AF_UNSPEC ||
		    o.ping_count == 0) {
			rte_eal_cleanup();
			return bad_arg("--ping", o.ping, "expected DEST[,COUNT]");
		}
	}
	if (rte_eth_dev_count_avail() == 0) {
		fprintf(stderr,
			"sonded: no DPDK ports: give EAL a --vdev or a device (one that "
			"failed to start is in EAL's messages above; net_tap needs root)\n");
		rte_eal_cleanup();
		return 2;
	}
	app.pool = rte_pktmbuf_pool_create("sonde_pool", pool_size(rte_lcore_count()), POOL_CACHE,
					   0, RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	if (app.pool == NULL) {
		fprintf(stderr, "sonded: mbuf pool: %s\n", rte_strerror(rte_errno));
		rte_eal_cleanup();
		return 1;
	}
	r = stacks_create(&app, &o);
	if (r == 0)
		r = ports_add(&app);
	for (unsigned i = 0; r == 0 && i < o.n_tun; i++)
		if (o.tun[i].conf.tunnel.esp != NULL && app.n > 1)
			r = bad_arg("--tunnel", o.tun[i].arg,
				    "an ESP tunnel needs one stack (one lcore): its outbound "
				    "sequence numbers, GCM's IVs with them, are one stack's");
	for (unsigned i = 0; r == 0 && i < app.n; i++)
		r = configure(app.ls[i].st, &o, app.ls[i].lcore, app.n);
	for (unsigned i = 0; i < o.n_tun; i++) /* the stacks have their sessions */
		explicit_bzero(&o.tun[i].esp, sizeof(o.tun[i].esp));
	for (unsigned i = 0; r == 0 && i < app.n; i++)
		r = services_start(&app.ls[i].svc, app.ls[i].st, &o.svc, i == 0) ? 1 : 0;
	if (r) {
		ports_close(&app);
		stacks_destroy(&app);
		return r;
	}
	app.tel_on = true;
	the_app = &app;
	rte_telemetry_register_cmd("/sonde/stats", tel_stats,
				   "sonde counters: packets, drops by reason. No parameters");
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	for (unsigned i = 1; i < app.n; i++) {
		r = rte_eal_remote_launch(stack_loop, &app.ls[i], app.ls[i].lcore);
		if (r) {
			fprintf(stderr, "sonded: lcore %u: %s\n", app.ls[i].lcore, strerror(-r));
			quit = 1;
			break;
		}
	}
	/* IPv6 addresses are tentative until DAD is done: about a second. */
	for (now = sonde_now(main_ls->st), next_ping = now + 5000000000ull;
	     !quit && !all_ready(&app) && now < next_ping; now = sonde_now(main_ls->st)) {
		if (!poll_once(main_ls, now))
			usleep(IDLE_SLEEP_US);
		if (sonde_ready(main_ls->st))
			__atomic_store_n(&main_ls->ready, true, __ATOMIC_RELEASE);
	}
	next_ping = 0;
	printf("ready pid %d", (int)getpid());
	RTE_ETH_FOREACH_DEV (port) {
		struct rte_ether_addr mac;

		rte_eth_macaddr_get(port, &mac);
		printf(" dpdk%u=" RTE_ETHER_ADDR_PRT_FMT, port, RTE_ETHER_ADDR_BYTES(&mac));
	}
	if (app.n > 1)
		printf(" lcores=%u", app.n);
	printf("\n");
	fflush(stdout);
	services_fetch_start(main_ls->svc, sonde_now(main_ls->st));

	while (!quit) {
		now = sonde_now(main_ls->st);
		if (o.svc.exit_after_fetch && services_fetch_done(main_ls->svc, &fetch_failed))
			quit = 1;
		if (o.ping && pings < o.ping_count && now >= next_ping) {
			sonde_ping(main_ls->st, &ping_dst, (uint16_t)getpid(), (uint16_t)pings, 56);
			pings++;
			next_ping = now + 1000000000ull;
		}
		if (!poll_once(main_ls, now) && !o.busy) {
			/* Idle: give the core back for a moment (not with --busy-poll). */
			if (++idle >= IDLE_POLLS)
				usleep(IDLE_SLEEP_US);
		} else {
			idle = 0;
		}
	}

	services_stop_flush(main_ls);
	rte_eal_mp_wait_lcore();
	pthread_mutex_lock(&app.tel_lock);
	app.tel_on = false;
	pthread_mutex_unlock(&app.tel_lock);
	ports_close(&app);
	printf("stopping\n");
	stats_foreach(&app, print_stat, NULL);
	stacks_destroy(&app);
	in_use = rte_mempool_in_use_count(app.pool);
	printf("mbufs_in_use %u\n", in_use);
	fflush(stdout);
	rte_mempool_free(app.pool);
	rte_eal_cleanup();
	if (in_use)
		return 1;
	return fetch_failed ? 3 : 0;
}
