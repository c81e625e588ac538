/*
 * conn-sizes: what a socket slot of the stack costs, by parts, for
 * bench/conns.  A stack takes sonde_conf.max_sockets sockets' worth of
 * memory at its start (stack/transport/sock.c, sock_init): a mempool of
 * struct sonde_sock and two rte_hash tables (connected: 4-tuple -> socket,
 * bound: local address and port -> socket), each of max_sockets entries.
 * This builds the same pool and tables for N sockets and prints, as one
 * JSON line:
 *
 *   sizeof_sonde_sock, sizeof_tcp_cb    the structs
 *   mempool_obj_{header,elt,trailer,total}
 *                                       rte_mempool_calc_obj_size for it
 *                                       (what one object takes in the pool)
 *   mempool_bytes, mempool_per_socket   the pool's memory from DPDK's heap
 *   hash_bytes, hash_per_entry          one table's (key store, buckets,
 *                                       extendable buckets, free-slot rings)
 *   hash_key_entry                      one key slot: the slot's data
 *                                       pointer and struct sock_key, aligned
 *
 *   conn-sizes [EAL args] -- N
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <rte_eal.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_mempool.h>

#include "sock.h"

/* Bytes DPDK's heaps have handed out (mempools' memzones included). */
static uint64_t
heap_used(void)
{
	struct rte_malloc_socket_stats st;

	if (rte_malloc_get_socket_stats((int)rte_socket_id(), &st) != 0)
		return 0;
	return st.heap_allocsz_bytes;
}

int
main(int argc, char **argv)
{
	struct rte_hash_parameters hp = { 0 };
	struct rte_mempool_objsz sz;
	struct rte_mempool *mp;
	struct rte_hash *h;
	uint64_t before, pool_bytes, hash_bytes;
	unsigned n;
	int k = rte_eal_init(argc, argv);

	if (k < 0) {
		fprintf(stderr, "conn-sizes: EAL initialisation failed\n");
		return 2;
	}
	argc -= k;
	argv += k;
	if (argc < 2 || (n = (unsigned)strtoul(argv[1], NULL, 10)) < 8) {
		fprintf(stderr, "usage: conn-sizes [EAL args] -- N (at least 8)\n");
		return 2;
	}
	/* As sock_init makes them. */
	rte_mempool_calc_obj_size(sizeof(struct sonde_sock),
				  RTE_MEMPOOL_F_SP_PUT | RTE_MEMPOOL_F_SC_GET, &sz);
	before = heap_used();
	mp = rte_mempool_create("cs_pool", n, sizeof(struct sonde_sock), 0, 0, NULL, NULL, NULL,
				NULL, (int)rte_socket_id(),
				RTE_MEMPOOL_F_SP_PUT | RTE_MEMPOOL_F_SC_GET);
	pool_bytes = heap_used() - before;
	hp.name = "cs_hash";
	hp.entries = n;
	hp.key_len = sizeof(struct sock_key);
	hp.hash_func = rte_hash_crc;
	hp.socket_id = (int)rte_socket_id();
	hp.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
	before = heap_used();
	h = rte_hash_create(&hp);
	hash_bytes = heap_used() - before;
	if (mp == NULL || h == NULL) {
		fprintf(stderr, "conn-sizes: no memory for %u sockets (a larger -m)\n", n);
		return 1;
	}
	printf("{\"sockets\": %u, \"sizeof_sonde_sock\": %zu, \"sizeof_tcp_cb\": %zu, "
	       "\"mempool_obj_header\": %u, \"mempool_obj_elt\": %u, "
	       "\"mempool_obj_trailer\": %u, \"mempool_obj_total\": %u, "
	       "\"mempool_bytes\": %" PRIu64 ", \"mempool_per_socket\": %.1f, "
	       "\"hash_bytes\": %" PRIu64 ", \"hash_per_entry\": %.1f, "
	       "\"hash_key_entry\": %zu}\n",
	       n, sizeof(struct sonde_sock), sizeof(struct tcp_cb), sz.header_size, sz.elt_size,
	       sz.trailer_size, sz.total_size, pool_bytes, (double)pool_bytes / n, hash_bytes,
	       (double)hash_bytes / n, RTE_ALIGN(sizeof(void *) + sizeof(struct sock_key), 16));
	rte_hash_free(h);
	rte_mempool_free(mp);
	rte_eal_cleanup();
	return 0;
}
