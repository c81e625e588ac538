/*
 * probe_record.c: the recorder the recording build's probe macros call
 * (see probe_record.h and scripts/probes_record.py).
 */
#include <stdio.h>
#include <string.h>

#include "probe_record.h"
#include "sonde_probes.h" /* the recording build's: declares what follows */

/* The recording library refers to these; the test binary that links it
 * defines them, here. */
int sonde_probe_recording;

static struct probe_rec recs[PROBE_RECORD_MAX];
static unsigned n_recs, n_lost;

void
probe_record_start(void)
{
	n_recs = 0;
	n_lost = 0;
	sonde_probe_recording = 1;
}

void
probe_record_stop(void)
{
	sonde_probe_recording = 0;
}

unsigned
probe_record_count(void)
{
	return n_recs;
}

unsigned
probe_record_lost(void)
{
	return n_lost;
}

const struct probe_rec *
probe_record_get(unsigned i)
{
	return i < n_recs ? &recs[i] : NULL;
}

/* Copies what a points at into copy and returns the copy, or NULL for NULL:
 * a test must tell a NULL argument from a zeroed struct. */
static const void *
rec_copy(void *copy, const void *a, size_t size)
{
	if (a == NULL)
		return NULL;
	memcpy(copy, a, size);
	return copy;
}

/* Called whether or not recording is on: a site that fires while its
 * ENABLED() said no is a bug a test should see, not one to hide. */
void
sonde_probe_record(const char *provider, const char *probe, const void *a0, const void *a1,
		   const void *a2, const void *a3, const void *a4, const void *a5)
{
	struct probe_rec *r;

	if (n_recs == PROBE_RECORD_MAX) {
		n_lost++;
		return;
	}
	r = &recs[n_recs++];
	memset(r, 0, sizeof(*r));
	snprintf(r->provider, sizeof(r->provider), "%s", provider);
	snprintf(r->probe, sizeof(r->probe), "%s", probe);
	r->arg[0] = a0;
	r->arg[1] = a1;
	r->arg[2] = a2;
	r->arg[3] = a3;
	r->arg[4] = a4;
	r->arg[5] = a5;
	r->pkt = rec_copy(&r->pkt_copy, a0, sizeof(r->pkt_copy));
	r->cs = rec_copy(&r->cs_copy, a1, sizeof(r->cs_copy));
	r->ip = rec_copy(&r->ip_copy, a2, sizeof(r->ip_copy));
	if (strcmp(provider, "tcp") == 0) {
		r->tcps = rec_copy(&r->tcps_copy, a3, sizeof(r->tcps_copy));
		r->tcp = rec_copy(&r->tcp_copy, a4, sizeof(r->tcp_copy));
		r->tcpls = rec_copy(&r->tcpls_copy, a5, sizeof(r->tcpls_copy));
	} else if (strcmp(provider, "udp") == 0) {
		r->udps = rec_copy(&r->udps_copy, a3, sizeof(r->udps_copy));
		r->udp = rec_copy(&r->udp_copy, a4, sizeof(r->udp_copy));
	} else {
		r->ifi = rec_copy(&r->if_copy, a3, sizeof(r->if_copy));
		r->v4 = rec_copy(&r->v4_copy, a4, sizeof(r->v4_copy));
		r->v6 = rec_copy(&r->v6_copy, a5, sizeof(r->v6_copy));
	}
}

void
probe_record_print(void)
{
	for (unsigned i = 0; i < n_recs; i++) {
		const struct probe_rec *r = &recs[i];

		fprintf(stderr, "  %3u %s:%s", i, r->provider, r->probe);
		if (r->pkt)
			fprintf(stderr, " pkt %#llx len %u%s%s",
				(unsigned long long)r->pkt->pkt_addr, r->pkt->pkt_len,
				r->pkt->pkt_reason[0] ? " reason " : "", r->pkt->pkt_reason);
		if (r->ip)
			fprintf(stderr, " v%u %s -> %s plen %u", r->ip->ip_ver, r->ip->ip_saddr,
				r->ip->ip_daddr, r->ip->ip_plength);
		if (r->ifi)
			fprintf(stderr, " if %s", r->ifi->if_name);
		if (r->cs)
			fprintf(stderr, " cid %llu", (unsigned long long)r->cs->cs_cid);
		if (r->tcps)
			fprintf(stderr, " %s:%u - %s:%u state %d", r->tcps->tcps_laddr,
				r->tcps->tcps_lport, r->tcps->tcps_raddr, r->tcps->tcps_rport,
				r->tcps->tcps_state);
		if (r->tcpls)
			fprintf(stderr, " from %d", r->tcpls->tcps_state);
		if (r->tcp)
			fprintf(stderr, " %u > %u flags %#x", r->tcp->tcp_sport, r->tcp->tcp_dport,
				r->tcp->tcp_flags);
		if (r->udps)
			fprintf(stderr, " %s:%u - %s:%u", r->udps->udps_laddr, r->udps->udps_lport,
				r->udps->udps_raddr, r->udps->udps_rport);
		if (r->udp)
			fprintf(stderr, " %u > %u len %u", r->udp->udp_sport, r->udp->udp_dport,
				r->udp->udp_length);
		fprintf(stderr, "%s%s%s\n", r->cs ? " cs" : "", r->v4 ? " v4" : "",
			r->v6 ? " v6" : "");
	}
	if (n_lost)
		fprintf(stderr, "  (%u more not recorded)\n", n_lost);
}
