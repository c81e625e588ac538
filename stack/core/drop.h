/*
 * drop.h: why sonde discards a packet.
 *
 * Every discard goes through pkt_drop(): it counts the packet by reason,
 * fires ipv4/ipv6 drop-in or drop-out when the packet is IP (the mbuf's data
 * starts at the IP header and its pkt_meta says the family) and frees it,
 * like Linux's kfree_skb_reason().  The reason text is what bpftrace sees in
 * pktinfo_t.pkt_reason.  Link-layer reasons (ARP, Ethernet) are counted but
 * fire no IP probe: the packet never reached IP.
 */
#ifndef SONDE_DROP_H
#define SONDE_DROP_H

#include <stdint.h>

struct rte_mbuf;
struct sonde_stack;

enum drop_dir { DROP_DIR_IN, DROP_DIR_OUT };
enum drop_layer { DROP_LINK, DROP_IP };

/* X(enum, text, direction, layer) */
#define SONDE_DROP_REASONS(X)                                                   \
	X(DROP_ETH_TRUNCATED, "eth-truncated", DROP_DIR_IN, DROP_LINK)          \
	X(DROP_ETH_NOT_FOR_US, "eth-not-for-us", DROP_DIR_IN, DROP_LINK)        \
	X(DROP_ETH_UNKNOWN_TYPE, "eth-unknown-type", DROP_DIR_IN, DROP_LINK)    \
	X(DROP_ARP_MALFORMED, "arp-malformed", DROP_DIR_IN, DROP_LINK)          \
	X(DROP_ARP_NOT_FOR_US, "arp-not-for-us", DROP_DIR_IN, DROP_LINK)        \
	X(DROP_ARP_BAD_SENDER, "arp-bad-sender", DROP_DIR_IN, DROP_LINK)        \
	X(DROP_ARP_ADDR_CONFLICT, "arp-addr-conflict", DROP_DIR_IN, DROP_LINK)  \
	X(DROP_LINK_TX_FULL, "link-tx-queue-full", DROP_DIR_OUT, DROP_LINK)     \
	X(DROP_FAULT_LOSS_IN, "fault-loss", DROP_DIR_IN, DROP_LINK)             \
	X(DROP_FAULT_LOSS_OUT, "fault-loss", DROP_DIR_OUT, DROP_LINK)           \
	X(DROP_FAULT_FULL_IN, "fault-queue-full", DROP_DIR_IN, DROP_LINK)       \
	X(DROP_FAULT_FULL_OUT, "fault-queue-full", DROP_DIR_OUT, DROP_LINK)     \
	X(DROP_FAULT_FLUSH_IN, "fault-flushed", DROP_DIR_IN, DROP_LINK)         \
	X(DROP_FAULT_FLUSH_OUT, "fault-flushed", DROP_DIR_OUT, DROP_LINK)       \
	X(DROP_TRUNCATED, "truncated", DROP_DIR_IN, DROP_IP)                    \
	X(DROP_BAD_VERSION, "bad-version", DROP_DIR_IN, DROP_IP)                \
	X(DROP_BAD_IHL, "bad-ihl", DROP_DIR_IN, DROP_IP)                        \
	X(DROP_BAD_LENGTH, "bad-length", DROP_DIR_IN, DROP_IP)                  \
	X(DROP_BAD_CHECKSUM, "bad-checksum", DROP_DIR_IN, DROP_IP)              \
	X(DROP_BAD_SOURCE, "bad-source", DROP_DIR_IN, DROP_IP)                  \
	X(DROP_BAD_DEST, "bad-destination", DROP_DIR_IN, DROP_IP)               \
	X(DROP_NOT_LOCAL, "not-local", DROP_DIR_IN, DROP_IP)                    \
	X(DROP_TTL_EXCEEDED, "ttl-exceeded", DROP_DIR_IN, DROP_IP)              \
	X(DROP_NO_ROUTE_FWD, "no-route", DROP_DIR_IN, DROP_IP)                  \
	X(DROP_IF_DOWN_IN, "interface-down", DROP_DIR_IN, DROP_IP)              \
	X(DROP_NO_PROTOCOL, "unknown-protocol", DROP_DIR_IN, DROP_IP)           \
	X(DROP_ICMP_TRUNCATED, "icmp-truncated", DROP_DIR_IN, DROP_IP)          \
	X(DROP_ICMP_BAD_CHECKSUM, "icmp-bad-checksum", DROP_DIR_IN, DROP_IP)    \
	X(DROP_ICMP_BROADCAST, "icmp-broadcast", DROP_DIR_IN, DROP_IP)          \
	X(DROP_UDP_TRUNCATED, "udp-truncated", DROP_DIR_IN, DROP_IP)            \
	X(DROP_UDP_BAD_LENGTH, "udp-bad-length", DROP_DIR_IN, DROP_IP)          \
	X(DROP_UDP_BAD_CHECKSUM, "udp-bad-checksum", DROP_DIR_IN, DROP_IP)      \
	X(DROP_UDP_NO_PORT, "udp-no-port", DROP_DIR_IN, DROP_IP)                \
	X(DROP_UDP_RCVBUF, "udp-receive-buffer-full", DROP_DIR_IN, DROP_IP)     \
	X(DROP_UDP_SHUT_RD, "udp-read-shutdown", DROP_DIR_IN, DROP_IP)          \
	X(DROP_SOCK_MBUFS, "socket-mbufs-full", DROP_DIR_IN, DROP_IP)           \
	X(DROP_TCP_TRUNCATED, "tcp-truncated", DROP_DIR_IN, DROP_IP)            \
	X(DROP_TCP_BAD_OFFSET, "tcp-bad-offset", DROP_DIR_IN, DROP_IP)          \
	X(DROP_TCP_BAD_CHECKSUM, "tcp-bad-checksum", DROP_DIR_IN, DROP_IP)      \
	X(DROP_TCP_BAD_FLAGS, "tcp-bad-flags", DROP_DIR_IN, DROP_IP)            \
	X(DROP_TCP_BAD_ADDRESS, "tcp-bad-address", DROP_DIR_IN, DROP_IP)        \
	X(DROP_TCP_NO_SOCKET, "tcp-no-socket", DROP_DIR_IN, DROP_IP)            \
	X(DROP_TCP_BACKLOG_FULL, "tcp-backlog-full", DROP_DIR_IN, DROP_IP)      \
	X(DROP_TCP_BAD_COOKIE, "tcp-bad-cookie", DROP_DIR_IN, DROP_IP)          \
	X(DROP_TCP_PAWS, "tcp-paws", DROP_DIR_IN, DROP_IP)                      \
	X(DROP_TCP_OUT_OF_WINDOW, "tcp-out-of-window", DROP_DIR_IN, DROP_IP)    \
	X(DROP_TCP_BAD_ACK, "tcp-bad-ack", DROP_DIR_IN, DROP_IP)                \
	X(DROP_TCP_BAD_RST, "tcp-rst-challenged", DROP_DIR_IN, DROP_IP)         \
	X(DROP_TCP_BAD_SYN, "tcp-syn-challenged", DROP_DIR_IN, DROP_IP)         \
	X(DROP_TCP_OOO_FULL, "tcp-ooo-queue-full", DROP_DIR_IN, DROP_IP)        \
	X(DROP_TCP_DUPLICATE, "tcp-duplicate", DROP_DIR_IN, DROP_IP)            \
	X(DROP_TCP_SHUT_RD, "tcp-read-shutdown", DROP_DIR_IN, DROP_IP)          \
	X(DROP_TCP_STATE, "tcp-bad-state", DROP_DIR_IN, DROP_IP)                \
	X(DROP_EXT_TRUNCATED, "ext-header-truncated", DROP_DIR_IN, DROP_IP)     \
	X(DROP_EXT_TOO_MANY, "ext-header-chain-too-long", DROP_DIR_IN, DROP_IP) \
	X(DROP_HBH_NOT_FIRST, "hop-by-hop-not-first", DROP_DIR_IN, DROP_IP)     \
	X(DROP_BAD_OPTION, "bad-option", DROP_DIR_IN, DROP_IP)                  \
	X(DROP_RH0, "routing-header-type-0", DROP_DIR_IN, DROP_IP)              \
	X(DROP_BAD_ROUTING, "bad-routing-header", DROP_DIR_IN, DROP_IP)         \
	X(DROP_NO_NEXT_HEADER, "no-next-header", DROP_DIR_IN, DROP_IP)          \
	X(DROP_HLIM_EXCEEDED, "hop-limit-exceeded", DROP_DIR_IN, DROP_IP)       \
	X(DROP_BAD_SCOPE, "beyond-scope", DROP_DIR_IN, DROP_IP)                 \
	X(DROP_TINY_FRAGMENT, "tiny-fragment", DROP_DIR_IN, DROP_IP)            \
	X(DROP_FRAG_BAD_LENGTH, "frag-bad-length", DROP_DIR_IN, DROP_IP)        \
	X(DROP_FRAG_OVERLAP, "frag-overlap", DROP_DIR_IN, DROP_IP)              \
	X(DROP_FRAG_DUPLICATE, "frag-duplicate", DROP_DIR_IN, DROP_IP)          \
	X(DROP_FRAG_TOO_MANY, "frag-too-many", DROP_DIR_IN, DROP_IP)            \
	X(DROP_REASSEMBLY_TIMEOUT, "reassembly-timeout", DROP_DIR_IN, DROP_IP)  \
	X(DROP_REASSEMBLY_FULL, "reassembly-full", DROP_DIR_IN, DROP_IP)        \
	X(DROP_ND_BAD_HLIM, "nd-bad-hop-limit", DROP_DIR_IN, DROP_IP)           \
	X(DROP_ND_BAD_CODE, "nd-bad-code", DROP_DIR_IN, DROP_IP)                \
	X(DROP_ND_MALFORMED, "nd-malformed", DROP_DIR_IN, DROP_IP)              \
	X(DROP_ND_BAD_OPTION, "nd-bad-option", DROP_DIR_IN, DROP_IP)            \
	X(DROP_ND_BAD_TARGET, "nd-bad-target", DROP_DIR_IN, DROP_IP)            \
	X(DROP_ND_NOT_FOR_US, "nd-not-for-us", DROP_DIR_IN, DROP_IP)            \
	X(DROP_ND_TENTATIVE, "nd-tentative-target", DROP_DIR_IN, DROP_IP)       \
	X(DROP_ND_DAD_CONFLICT, "nd-dad-conflict", DROP_DIR_IN, DROP_IP)        \
	X(DROP_ND_UNSOLICITED, "nd-unsolicited-advert", DROP_DIR_IN, DROP_IP)   \
	X(DROP_TUN_NO_MATCH, "tunnel-no-match", DROP_DIR_IN, DROP_IP)           \
	X(DROP_TUN_BAD_SOURCE, "tunnel-wrong-source", DROP_DIR_IN, DROP_IP)     \
	X(DROP_TUN_BAD_KEY, "tunnel-wrong-key", DROP_DIR_IN, DROP_IP)           \
	X(DROP_TUN_TRUNCATED, "tunnel-inner-truncated", DROP_DIR_IN, DROP_IP)   \
	X(DROP_TUN_BAD_INNER, "tunnel-inner-bad-version", DROP_DIR_IN, DROP_IP) \
	X(DROP_TUN_ECN, "tunnel-ce-not-ect", DROP_DIR_IN, DROP_IP)              \
	X(DROP_TUN_TOO_DEEP, "tunnel-too-deep", DROP_DIR_IN, DROP_IP)           \
	X(DROP_GRE_CHECKSUM, "gre-checksum-unsupported", DROP_DIR_IN, DROP_IP)  \
	X(DROP_GRE_SEQUENCE, "gre-sequence-unsupported", DROP_DIR_IN, DROP_IP)  \
	X(DROP_GRE_BAD_HEADER, "gre-bad-header", DROP_DIR_IN, DROP_IP)          \
	X(DROP_GRE_PROTOCOL, "gre-unknown-protocol", DROP_DIR_IN, DROP_IP)      \
	X(DROP_ESP_REQUIRED, "esp-required", DROP_DIR_IN, DROP_IP)              \
	X(DROP_PEER_HANDOFF_FULL, "handoff-ring-full", DROP_DIR_IN, DROP_IP)    \
	X(DROP_ESP_NOT_ESP, "esp-not-esp", DROP_DIR_IN, DROP_IP)                \
	X(DROP_ESP_TRUNCATED, "esp-truncated", DROP_DIR_IN, DROP_IP)            \
	X(DROP_ESP_NO_SA, "esp-no-sa", DROP_DIR_IN, DROP_IP)                    \
	X(DROP_ESP_REPLAY, "esp-replay", DROP_DIR_IN, DROP_IP)                  \
	X(DROP_ESP_AUTH, "esp-auth-failed", DROP_DIR_IN, DROP_IP)               \
	X(DROP_ESP_PADDING, "esp-bad-padding", DROP_DIR_IN, DROP_IP)            \
	X(DROP_ESP_NEXT_HEADER, "esp-bad-next-header", DROP_DIR_IN, DROP_IP)    \
	X(DROP_ESP_DUMMY, "esp-dummy", DROP_DIR_IN, DROP_IP)                    \
	X(DROP_ESP_CRYPTO_IN, "esp-crypto-error", DROP_DIR_IN, DROP_IP)         \
	X(DROP_NO_ROUTE, "no-route", DROP_DIR_OUT, DROP_IP)                     \
	X(DROP_ND_QUEUE_FULL, "nd-queue-full", DROP_DIR_OUT, DROP_IP)           \
	X(DROP_ND_TABLE_FULL, "nd-table-full", DROP_DIR_OUT, DROP_IP)           \
	X(DROP_ND_TIMEOUT, "nd-timeout", DROP_DIR_OUT, DROP_IP)                 \
	X(DROP_FRAG_FAILED, "frag-failed", DROP_DIR_OUT, DROP_IP)               \
	X(DROP_NO_SOURCE, "no-source-address", DROP_DIR_OUT, DROP_IP)           \
	X(DROP_NO_HEADROOM, "no-headroom", DROP_DIR_OUT, DROP_IP)               \
	X(DROP_FRAG_NEEDED, "frag-needed", DROP_DIR_OUT, DROP_IP)               \
	X(DROP_ARP_QUEUE_FULL, "arp-queue-full", DROP_DIR_OUT, DROP_IP)         \
	X(DROP_ARP_TABLE_FULL, "arp-table-full", DROP_DIR_OUT, DROP_IP)         \
	X(DROP_ARP_TIMEOUT, "arp-timeout", DROP_DIR_OUT, DROP_IP)               \
	X(DROP_LOOP_FULL, "loopback-full", DROP_DIR_OUT, DROP_IP)               \
	X(DROP_IF_DOWN, "interface-down", DROP_DIR_OUT, DROP_IP)                \
	X(DROP_TX_FULL, "tx-queue-full", DROP_DIR_OUT, DROP_IP)                 \
	X(DROP_TUN_LOOP, "tunnel-loop", DROP_DIR_OUT, DROP_IP)                  \
	X(DROP_TUN_NESTING, "tunnel-nesting", DROP_DIR_OUT, DROP_IP)            \
	X(DROP_TUN_ENCAP_LIMIT, "tunnel-encap-limit", DROP_DIR_OUT, DROP_IP)    \
	X(DROP_TUN_FAMILY, "tunnel-wrong-family", DROP_DIR_OUT, DROP_IP)        \
	X(DROP_ESP_SEQ_EXHAUSTED, "esp-seq-exhausted", DROP_DIR_OUT, DROP_IP)   \
	X(DROP_ESP_TOO_BIG, "esp-too-big", DROP_DIR_OUT, DROP_IP)               \
	X(DROP_ESP_CRYPTO_OUT, "esp-crypto-error", DROP_DIR_OUT, DROP_IP)       \
	X(DROP_SHUTDOWN, "shutdown", DROP_DIR_OUT, DROP_IP)

enum drop_reason {
	DROP_NONE, /* 0, not a reason: parsers return it when all is well */
#define X(e, s, d, l) e,
	SONDE_DROP_REASONS(X)
#undef X
		DROP_REASON_MAX
};

const char *drop_reason_str(enum drop_reason r);
enum drop_dir drop_reason_dir(enum drop_reason r);

/* Consumes m: counts it under reason r, fires the drop probe, frees it. */
void pkt_drop(struct sonde_stack *st, struct rte_mbuf *m, enum drop_reason r);

#endif
