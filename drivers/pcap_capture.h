/*
 * pcap_capture.h: record frames to a pcap file (libpcap), the "snoop" side
 * of every trace.
 */
#ifndef SONDE_PCAP_CAPTURE_H
#define SONDE_PCAP_CAPTURE_H

#include <stdint.h>

struct rte_mbuf;
struct sonde_pcap;

/* A capture of frames of pcap link type dlt (DLT_EN10MB, DLT_RAW). */
struct sonde_pcap *pcap_capture_open(const char *path, int dlt, char *err, unsigned errlen);
/* Appends the frame in m (borrowed) with a timestamp of now_ns. */
void pcap_capture_write(struct sonde_pcap *pc, const struct rte_mbuf *m, uint64_t now_ns);
void pcap_capture_close(struct sonde_pcap *pc);

#endif
