/*
 * services.h: sonded's services and its client, on the public socket API
 * (include/sonde/socket.h) and nothing else of the stack's.
 *
 * --service PROTO:PORT=KIND opens, on both families, udp echo (RFC 862),
 * discard (RFC 863), chargen (RFC 864), tcp echo, discard, chargen and
 * http (RFC 9112: GET / and GET /bytes/N); --fetch connects to a server
 * once the stack is ready and writes what it sends to a file.  Each
 * lcore's loop calls services_run() after sonde_poll(): it drains the
 * stack's event list and hands each event to its socket's handler.
 */
#ifndef SONDED_SERVICES_H
#define SONDED_SERVICES_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "sonde/sonde.h"

#define SVC_MAX 64
#define FETCH_MAX 16

enum svc_kind { SVC_ECHO, SVC_DISCARD, SVC_CHARGEN, SVC_HTTP };

/* A --service, also the udata of its TCP listeners: read only once
 * parsed, so the one pointer serves every linked stack's copy of a
 * listener. */
struct svc_spec {
	int tag; /* the handler's, see services.c */
	const char *arg;
	int type; /* SOCK_DGRAM or SOCK_STREAM */
	uint16_t port;
	enum svc_kind kind;
};

/* A --fetch [ADDR]:PORT[/PATH]=FILE. */
struct fetch_spec {
	const char *arg;
	struct sockaddr_storage addr;
	socklen_t alen;
	char host[64];	 /* ADDR as given, for Host: */
	char path[1024]; /* /PATH, to GET */
	bool raw;	 /* no /PATH: read the stream, send nothing */
	const char *file;
};

struct svc_opts {
	struct svc_spec svc[SVC_MAX];
	unsigned n_svc;
	struct fetch_spec fetch[FETCH_MAX];
	unsigned n_fetch;
	bool exit_after_fetch;
};

/* Parse --service and --fetch into o: NULL, or what is wrong. */
const char *services_parse(struct svc_opts *o, const char *arg);
const char *fetch_parse(struct svc_opts *o, const char *arg);

struct svc_stack;

/* The services of o on st, a UDP socket and a TCP listener a family on
 * every stack (primary: the first of linked stacks; on the others a
 * listener the library copied there already is taken as theirs).  0 or
 * a negative errno (printed). */
int services_start(struct svc_stack **out, struct sonde_stack *st, const struct svc_opts *o,
		   bool primary);
/* Drains st's events and handles them; returns how many there were. */
unsigned services_run(struct svc_stack *ss, uint64_t now);
/* Opens o's fetches on this stack (call once it is ready). */
void services_fetch_start(struct svc_stack *ss, uint64_t now);
/* True once every fetch has ended; *failed, whether one failed. */
bool services_fetch_done(const struct svc_stack *ss, bool *failed);
/* Resets every connection and closes every socket of ss (its lcore's
 * last call on the stack before a last sonde_poll that sends the RSTs). */
void services_stop(struct svc_stack *ss);
/* Frees ss, once its counters have been read. */
void services_free(struct svc_stack *ss);
/* The services' counters, "service.*". */
void services_stats(const struct svc_stack *ss, sonde_stat_fn fn, void *arg);

#endif
