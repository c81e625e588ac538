/*
 * pcap_capture.c: a pcap writer for frames an interface sends or receives.
 * Timestamps are wall-clock time so captures line up with tcpdump's; the
 * monotonic now_ns only orders them.  Writes are buffered by libpcap's stdio
 * and flushed on close.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pcap/pcap.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "pcap_capture.h"

struct sonde_pcap {
	pcap_t *dead;
	pcap_dumper_t *dumper;
	uint8_t buf[RTE_MBUF_DEFAULT_BUF_SIZE * 8];
};

struct sonde_pcap *
pcap_capture_open(const char *path, int dlt, char *err, unsigned errlen)
{
	struct sonde_pcap *pc = calloc(1, sizeof(*pc));

	if (pc == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pc->dead = pcap_open_dead(dlt, 65535);
	if (pc->dead == NULL) {
		snprintf(err, errlen, "pcap_open_dead failed");
		free(pc);
		return NULL;
	}
	pc->dumper = pcap_dump_open(pc->dead, path);
	if (pc->dumper == NULL) {
		snprintf(err, errlen, "%s", pcap_geterr(pc->dead));
		pcap_close(pc->dead);
		free(pc);
		return NULL;
	}
	return pc;
}

void
pcap_capture_write(struct sonde_pcap *pc, const struct rte_mbuf *m, uint64_t now_ns)
{
	struct pcap_pkthdr h;
	struct timespec ts;
	uint32_t len = rte_pktmbuf_pkt_len(m);
	const void *data;

	(void)now_ns;
	clock_gettime(CLOCK_REALTIME, &ts);
	h.ts.tv_sec = ts.tv_sec;
	h.ts.tv_usec = ts.tv_nsec / 1000;
	h.len = len;
	h.caplen = RTE_MIN(len, (uint32_t)sizeof(pc->buf));
	data = rte_pktmbuf_read(m, 0, h.caplen, pc->buf);
	if (data == NULL)
		return;
	/* An IPv4 checksum left to the NIC (TX offload) is still zero here:
	 * record it as it will be on the wire, computed in a copy. */
	if ((m->ol_flags & RTE_MBUF_F_TX_IP_CKSUM) && m->l3_len >= sizeof(struct rte_ipv4_hdr) &&
	    h.caplen >= (uint32_t)m->l2_len + m->l3_len) {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(pc->buf + m->l2_len);

		if (data != pc->buf)
			memcpy(pc->buf, data, h.caplen);
		data = pc->buf;
		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
	}
	pcap_dump((u_char *)pc->dumper, &h, data);
}

void
pcap_capture_close(struct sonde_pcap *pc)
{
	if (pc == NULL)
		return;
	pcap_dump_close(pc->dumper);
	pcap_close(pc->dead);
	free(pc);
}
