/*
 * lpm_keep.c: the stack's rte_lpm and rte_lpm6 tables kept from one fuzz
 * input to the next.
 *
 * Every input gets a new stack, and rte_lpm_create() with rte_lpm_free()
 * costs 25 ms natively and 70 ms under ASan (its tbl24 is 64 MB, which
 * DPDK's heap zeroes when it is freed): nine tenths of an input's time.
 * The fuzz target is linked with -Wl,--wrap for these functions, so the
 * stack's calls come here: create hands out a table kept from before (one
 * per stack alive at once), and free deletes the rules added since
 * (recorded by the add and delete wrappers) and keeps it.  To the stack it
 * is the empty table create makes; a table whose rules could not all be
 * recorded is really freed.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <rte_lpm.h>
#include <rte_lpm6.h>

#define KEEP_SLOTS 4
#define KEEP_RULES 2048

struct rule {
	uint8_t ip[16];
	uint8_t depth;
};

struct kept {
	void *tbl;
	bool in_use, lost; /* lost: a rule went unrecorded */
	uint32_t max_rules, tbl8s;
	unsigned n;
	struct rule r[KEEP_RULES];
};

static struct kept keep4[KEEP_SLOTS], keep6[KEEP_SLOTS];

struct rte_lpm *__real_rte_lpm_create(const char *name, int socket_id,
				      const struct rte_lpm_config *config);
void __real_rte_lpm_free(struct rte_lpm *lpm);
int __real_rte_lpm_add(struct rte_lpm *lpm, uint32_t ip, uint8_t depth, uint32_t next_hop);
int __real_rte_lpm_delete(struct rte_lpm *lpm, uint32_t ip, uint8_t depth);
struct rte_lpm6 *__real_rte_lpm6_create(const char *name, int socket_id,
					const struct rte_lpm6_config *config);
void __real_rte_lpm6_free(struct rte_lpm6 *lpm);
int __real_rte_lpm6_add(struct rte_lpm6 *lpm, const uint8_t *ip, uint8_t depth, uint32_t next_hop);
int __real_rte_lpm6_delete(struct rte_lpm6 *lpm, const uint8_t *ip, uint8_t depth);

struct rte_lpm *__wrap_rte_lpm_create(const char *name, int socket_id,
				      const struct rte_lpm_config *config);
void __wrap_rte_lpm_free(struct rte_lpm *lpm);
int __wrap_rte_lpm_add(struct rte_lpm *lpm, uint32_t ip, uint8_t depth, uint32_t next_hop);
int __wrap_rte_lpm_delete(struct rte_lpm *lpm, uint32_t ip, uint8_t depth);
struct rte_lpm6 *__wrap_rte_lpm6_create(const char *name, int socket_id,
					const struct rte_lpm6_config *config);
void __wrap_rte_lpm6_free(struct rte_lpm6 *lpm);
int __wrap_rte_lpm6_add(struct rte_lpm6 *lpm, const uint8_t *ip, uint8_t depth, uint32_t next_hop);
int __wrap_rte_lpm6_delete(struct rte_lpm6 *lpm, const uint8_t *ip, uint8_t depth);

/* A kept table not in use and made with this configuration, or an empty
 * slot (tbl NULL) to make one in; NULL if neither. */
static struct kept *
keep_take(struct kept *k, uint32_t max_rules, uint32_t tbl8s)
{
	struct kept *empty = NULL;

	for (unsigned i = 0; i < KEEP_SLOTS; i++) {
		if (k[i].tbl == NULL && empty == NULL)
			empty = &k[i];
		if (k[i].tbl != NULL && !k[i].in_use && k[i].max_rules == max_rules &&
		    k[i].tbl8s == tbl8s)
			return &k[i];
	}
	return empty;
}

static struct kept *
keep_find(struct kept *k, const void *tbl)
{
	for (unsigned i = 0; tbl != NULL && i < KEEP_SLOTS; i++)
		if (k[i].tbl == tbl)
			return &k[i];
	return NULL;
}

static void
keep_record(struct kept *k, const uint8_t *ip, size_t len, uint8_t depth)
{
	for (unsigned i = 0; i < k->n; i++)
		if (k->r[i].depth == depth && memcmp(k->r[i].ip, ip, len) == 0)
			return;
	if (k->n == KEEP_RULES) {
		k->lost = true;
		return;
	}
	memset(&k->r[k->n], 0, sizeof(k->r[0]));
	memcpy(k->r[k->n].ip, ip, len);
	k->r[k->n++].depth = depth;
}

static void
keep_forget(struct kept *k, const uint8_t *ip, size_t len, uint8_t depth)
{
	for (unsigned i = 0; i < k->n; i++)
		if (k->r[i].depth == depth && memcmp(k->r[i].ip, ip, len) == 0) {
			k->r[i] = k->r[--k->n];
			return;
		}
}

/* The create wrappers' work, for either family: make calls the real
 * create. */
static void *
keep_create(struct kept *set, const char *kind, uint32_t max_rules, uint32_t tbl8s,
	    void *(*make)(const char *name, const void *config), const char *name,
	    const void *config)
{
	struct kept *k = keep_take(set, max_rules, tbl8s);
	char kname[RTE_LPM_NAMESIZE];

	if (k == NULL)
		return make(name, config);
	if (k->tbl == NULL) {
		snprintf(kname, sizeof(kname), "fzkeep%s_%u", kind, (unsigned)(k - set));
		k->tbl = make(kname, config);
		if (k->tbl == NULL)
			return NULL;
		k->max_rules = max_rules;
		k->tbl8s = tbl8s;
	}
	k->in_use = true;
	return k->tbl;
}

/* The free wrappers' work: del and release call the real delete and free. */
static void
keep_free(struct kept *set, void *tbl, void (*del)(void *tbl, const struct rule *r),
	  void (*release)(void *tbl))
{
	struct kept *k = keep_find(set, tbl);

	if (k == NULL) {
		release(tbl);
		return;
	}
	for (unsigned i = 0; i < k->n; i++)
		del(tbl, &k->r[i]);
	k->n = 0;
	k->in_use = false;
	if (k->lost) {
		release(tbl);
		memset(k, 0, sizeof(*k));
	}
}

/* After a real add or delete that returned r: the rule recorded or
 * forgotten. */
static int
keep_added(struct kept *set, const void *tbl, const uint8_t *ip, size_t len, uint8_t depth, int r)
{
	struct kept *k = keep_find(set, tbl);

	if (k != NULL && r == 0)
		keep_record(k, ip, len, depth);
	return r;
}

static int
keep_deleted(struct kept *set, const void *tbl, const uint8_t *ip, size_t len, uint8_t depth, int r)
{
	struct kept *k = keep_find(set, tbl);

	if (k != NULL && r == 0)
		keep_forget(k, ip, len, depth);
	return r;
}

static int socket_id_;

static void *
make4(const char *name, const void *config)
{
	return __real_rte_lpm_create(name, socket_id_, config);
}

static void *
make6(const char *name, const void *config)
{
	return __real_rte_lpm6_create(name, socket_id_, config);
}

static void
del4(void *tbl, const struct rule *r)
{
	uint32_t ip;

	memcpy(&ip, r->ip, 4);
	__real_rte_lpm_delete(tbl, ip, r->depth);
}

static void
del6(void *tbl, const struct rule *r)
{
	__real_rte_lpm6_delete(tbl, r->ip, r->depth);
}

static void
release4(void *tbl)
{
	__real_rte_lpm_free(tbl);
}

static void
release6(void *tbl)
{
	__real_rte_lpm6_free(tbl);
}

struct rte_lpm *
__wrap_rte_lpm_create(const char *name, int socket_id, const struct rte_lpm_config *config)
{
	socket_id_ = socket_id;
	return keep_create(keep4, "4", config->max_rules, config->number_tbl8s, make4, name,
			   config);
}

void
__wrap_rte_lpm_free(struct rte_lpm *lpm)
{
	keep_free(keep4, lpm, del4, release4);
}

int
__wrap_rte_lpm_add(struct rte_lpm *lpm, uint32_t ip, uint8_t depth, uint32_t next_hop)
{
	return keep_added(keep4, lpm, (const uint8_t *)&ip, 4, depth,
			  __real_rte_lpm_add(lpm, ip, depth, next_hop));
}

int
__wrap_rte_lpm_delete(struct rte_lpm *lpm, uint32_t ip, uint8_t depth)
{
	return keep_deleted(keep4, lpm, (const uint8_t *)&ip, 4, depth,
			    __real_rte_lpm_delete(lpm, ip, depth));
}

struct rte_lpm6 *
__wrap_rte_lpm6_create(const char *name, int socket_id, const struct rte_lpm6_config *config)
{
	socket_id_ = socket_id;
	return keep_create(keep6, "6", config->max_rules, config->number_tbl8s, make6, name,
			   config);
}

void
__wrap_rte_lpm6_free(struct rte_lpm6 *lpm)
{
	keep_free(keep6, lpm, del6, release6);
}

int
__wrap_rte_lpm6_add(struct rte_lpm6 *lpm, const uint8_t *ip, uint8_t depth, uint32_t next_hop)
{
	return keep_added(keep6, lpm, ip, 16, depth, __real_rte_lpm6_add(lpm, ip, depth, next_hop));
}

int
__wrap_rte_lpm6_delete(struct rte_lpm6 *lpm, const uint8_t *ip, uint8_t depth)
{
	return keep_deleted(keep6, lpm, ip, 16, depth, __real_rte_lpm6_delete(lpm, ip, depth));
}
