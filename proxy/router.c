/*
 * router.c -- see router.h.
 */
#include "proxy/router.h"

#include "common/log.h"
#include "common/mem.h"
#include "common/sbuf.h"
#include "common/util.h"
#include "proxy/back.h"
#include "proxy/health.h"
#include "proxy/proxy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct router *router;
static struct member *members; /* every member ever configured, by address */
static struct shard *retired;  /* shards dropped at run time, freed at teardown */

struct member *
router_members(void)
{
    return members;
}

const char *
member_state_name(int state)
{
    switch (state) {
    case MEMBER_UP:
        return "up";
    case MEMBER_DOWN:
        return "down";
    default:
        return "syncing";
    }
}

static struct member *
member_for(const char *addr, char *err, size_t errlen)
{
    for (struct member *m = members; m != NULL; m = m->next) {
        if (strcmp(m->addr, addr) == 0) {
            return m;
        }
    }
    struct member *m = mem_calloc(1, sizeof(*m));
    if (!net_parse_hostport(addr, m->host, sizeof(m->host), &m->port) || m->port == 0) {
        snprintf(err, errlen, "'%s' is not HOST:PORT", addr);
        mem_free(m);
        return NULL;
    }
    snprintf(m->addr, sizeof(m->addr), "%s", addr);
    /* A new member starts UP: its first failure marks it down, and a node
     * that was never reached has no data to resynchronise anyway. */
    m->state = MEMBER_UP;
    m->conn = back_create(m);
    m->next = members;
    members = m;
    return m;
}

static void
shard_free(struct shard *s)
{
    mem_free(s->slots);
    mem_free(s);
}

static struct shard *
shard_new(struct router *r, const char *slots)
{
    struct shard *s = mem_calloc(1, sizeof(*s));
    s->id = r->nshards;
    s->slots = mem_strdup(slots);
    r->shards[r->nshards++] = s;
    return s;
}

static int
shard_add_member(struct shard *s, const char *addr, char *err, size_t errlen)
{
    if (s->nmembers == SHARD_MEMBERS_MAX) {
        snprintf(err, errlen, "a shard has at most %d nodes", SHARD_MEMBERS_MAX);
        return SC_ERR;
    }
    struct member *m = member_for(addr, err, errlen);
    if (m == NULL) {
        return SC_ERR;
    }
    for (int i = 0; i < s->nmembers; i++) {
        if (s->members[i] == m) {
            snprintf(err, errlen, "node %s is listed twice in one shard", addr);
            return SC_ERR;
        }
    }
    s->members[s->nmembers++] = m;
    return SC_OK;
}

/* Claims the slots of spec ("0-5460", "0-100,200-300,7000") for shard
 * index idx; a slot claimed twice is an error. */
static int
claim_slots(struct router *r, const char *spec, int idx, bool *owned, char *err, size_t errlen)
{
    uint8_t bm[SLOT_BITMAP_BYTES];

    if (!slot_bitmap_parse(bm, spec)) {
        snprintf(err, errlen, "bad slot range '%s' (slots are 0-16383)", spec);
        return SC_ERR;
    }
    for (unsigned s = 0; s < SLOT_COUNT; s++) {
        if (!slot_bitmap_has(bm, s)) {
            continue;
        }
        if (owned[s]) {
            snprintf(err, errlen, "slot %u is owned by two shards", s);
            return SC_ERR;
        }
        owned[s] = true;
        r->slot_shard[s] = (uint16_t)idx;
    }
    return SC_OK;
}

/* "slots 100-200,5000 are not owned by any shard" */
static void
describe_missing(const bool *owned, char *err, size_t errlen)
{
    size_t n = (size_t)snprintf(err, errlen, "not every slot has a shard; missing: ");
    for (unsigned s = 0; s < SLOT_COUNT && n < errlen - 16;) {
        if (owned[s]) {
            s++;
            continue;
        }
        unsigned e = s;
        while (e + 1 < SLOT_COUNT && !owned[e + 1]) {
            e++;
        }
        n += (size_t)(e == s ? snprintf(err + n, errlen - n, "%u,", s)
                             : snprintf(err + n, errlen - n, "%u-%u,", s, e));
        s = e + 1;
    }
    if (n > 0 && err[n - 1] == ',') {
        err[n - 1] = '\0';
    }
}

static int
build_partitioned(struct router *r, const struct router_config *cfg, char *err, size_t errlen)
{
    bool *owned = mem_calloc(SLOT_COUNT, sizeof(bool));
    char *line = NULL; /* the shard line being split */
    int rc = SC_ERR;

    if (cfg->nshards == 0) {
        snprintf(err, errlen, "mode partitioned needs 'shard SLOTS PRIMARY [REPLICA...]' lines");
        goto done;
    }
    for (int i = 0; i < cfg->nshards; i++) {
        char *save = NULL;
        mem_free(line);
        line = mem_strdup(cfg->shards[i]);
        char *slots = strtok_r(line, " \t", &save);
        char *addr = strtok_r(NULL, " \t", &save);
        if (slots == NULL || addr == NULL) {
            snprintf(err, errlen, "shard '%s': expected SLOTS PRIMARY [REPLICA...]", cfg->shards[i]);
            goto done;
        }
        if (r->nshards == ROUTER_SHARDS_MAX) {
            snprintf(err, errlen, "at most %d shards", ROUTER_SHARDS_MAX);
            goto done;
        }
        struct shard *s = shard_new(r, slots);
        if (claim_slots(r, slots, s->id, owned, err, errlen) != SC_OK) {
            goto done;
        }
        for (; addr != NULL; addr = strtok_r(NULL, " \t", &save)) {
            if (shard_add_member(s, addr, err, errlen) != SC_OK) {
                goto done;
            }
        }
    }
    for (unsigned s = 0; s < SLOT_COUNT; s++) {
        if (!owned[s]) {
            describe_missing(owned, err, errlen);
            goto done;
        }
    }
    rc = SC_OK;
done:
    mem_free(line);
    mem_free(owned);
    return rc;
}

static int
build_single(struct router *r, const struct router_config *cfg, char *err, size_t errlen)
{
    if (cfg->nnodes == 0) {
        snprintf(err, errlen, "mode %s needs at least one 'node HOST:PORT' line",
                 cfg->mode == MODE_CENTRAL ? "central" : "replicated");
        return SC_ERR;
    }
    if (cfg->mode == MODE_CENTRAL && cfg->nnodes > 1) {
        snprintf(err, errlen, "mode central takes one node (use replicated or partitioned)");
        return SC_ERR;
    }
    struct shard *s = shard_new(r, "0-16383");
    for (int i = 0; i < cfg->nnodes; i++) {
        if (shard_add_member(s, cfg->nodes[i], err, errlen) != SC_OK) {
            return SC_ERR;
        }
    }
    memset(r->slot_shard, 0, sizeof(r->slot_shard));
    return SC_OK;
}

void
router_free(struct router *r)
{
    if (r == NULL) {
        return;
    }
    for (int i = 0; i < r->nshards; i++) {
        shard_free(r->shards[i]);
    }
    mem_free(r);
}

/* Shard structs of a replaced router are kept like retired ones: messages
 * in flight keep pointers to their shard (read retries). */
static void
retire_router(struct router *r)
{
    if (r == NULL) {
        return;
    }
    for (int i = 0; i < r->nshards; i++) {
        r->shards[i]->nmembers = 0; /* a retry finds no member and fails cleanly */
        r->shards[i]->next_retired = retired;
        retired = r->shards[i];
    }
    mem_free(r);
}

struct router *
router_build(const struct router_config *cfg, char *err, size_t errlen)
{
    struct router *r = mem_calloc(1, sizeof(*r));
    int rc;

    r->mode = cfg->mode;
    if (cfg->mode == MODE_PARTITIONED) {
        rc = build_partitioned(r, cfg, err, errlen);
    } else {
        rc = build_single(r, cfg, err, errlen);
    }
    if (rc != SC_OK) {
        router_free(r);
        return NULL;
    }
    return r;
}

void
router_install(struct router *r)
{
    struct router *old = router;

    for (struct member *m = members; m != NULL; m = m->next) {
        m->in_use = false;
        m->shard = NULL;
    }
    for (int i = 0; i < r->nshards; i++) {
        for (int j = 0; j < r->shards[i]->nmembers; j++) {
            r->shards[i]->members[j]->in_use = true;
            r->shards[i]->members[j]->shard = r->shards[i];
        }
    }
    router = r;
    /* Members that left the topology: let in-flight requests finish, then
     * the connection is closed by the cron (back_idle_close). */
    for (struct member *m = members; m != NULL; m = m->next) {
        if (!m->in_use) {
            health_forget(m);
        }
    }
    retire_router(old);
}

void
router_teardown(void)
{
    /* Connections first: failing their queues still describes shards. */
    for (struct member *m = members; m != NULL; m = m->next) {
        health_forget(m);
        back_destroy(&m->conn);
    }
    router_free(router);
    router = NULL;
    while (retired != NULL) {
        struct shard *sh = retired;
        retired = sh->next_retired;
        shard_free(sh);
    }
    while (members != NULL) {
        struct member *m = members;
        members = m->next;
        mem_free(m);
    }
}

struct member *
router_read_member(struct shard *s, const struct member *exclude)
{
    for (int i = 0; i < s->nmembers; i++) {
        struct member *m = s->members[s->rr++ % (uint32_t)s->nmembers];
        if (m->state == MEMBER_UP && m != exclude) {
            return m;
        }
    }
    return NULL;
}

int
router_write_members(struct shard *s, struct member **out)
{
    int n = 0;
    for (int i = 0; i < s->nmembers; i++) {
        if (s->members[i]->state != MEMBER_DOWN) {
            out[n++] = s->members[i];
        }
    }
    return n;
}

int
router_quorum(const struct shard *s, int sent)
{
    long long q = proxy.opt.write_quorum;

    if (q == PROXY_QUORUM_ALL) {
        return sent;
    }
    if (q == PROXY_QUORUM_MAJORITY) {
        return s->nmembers / 2 + 1;
    }
    return (int)MIN(q, (long long)s->nmembers);
}

int
router_all_members(struct member **out, int max)
{
    int n = 0;
    for (int i = 0; i < router->nshards; i++) {
        for (int j = 0; j < router->shards[i]->nmembers && n < max; j++) {
            out[n++] = router->shards[i]->members[j];
        }
    }
    return n;
}

void
router_shard_desc(const struct shard *s, char *buf, size_t len)
{
    snprintf(buf, len, "shard %d (slots %s)", s->id, s->slots);
}

/* Whether s has a member other than m that is UP (takes writes that count). */
static bool
shard_has_up(const struct shard *s, const struct member *m)
{
    for (int i = 0; i < s->nmembers; i++) {
        if (s->members[i] != m && s->members[i]->state == MEMBER_UP) {
            return true;
        }
    }
    return false;
}

void
member_down(struct member *m, const char *why)
{
    if (m->state == MEMBER_DOWN) {
        return;
    }
    if (m->shard != NULL && shard_has_up(m->shard, m)) {
        m->missed_writes = true; /* its shard goes on taking writes without it */
    }
    log_warn("node %s is down: %s", m->addr, why);
    snprintf(m->down_reason, sizeof(m->down_reason), "%s", why);
    m->state = MEMBER_DOWN;
    m->down_since_ms = proxy_now_ms();
    health_member_down(m);
}

/* ---- changes at run time ---- */

struct member *
router_member(const char *addr, char *err, size_t errlen)
{
    return member_for(addr, err, errlen);
}

static bool
same_members(const struct shard *s, struct member **m, int n)
{
    if (s->nmembers != n) {
        return false;
    }
    for (int i = 0; i < n; i++) {
        bool found = false;
        for (int j = 0; j < n && !found; j++) {
            found = s->members[j] == m[i];
        }
        if (!found) {
            return false;
        }
    }
    return true;
}

struct shard *
router_shard_with(struct member **m, int n, char *err, size_t errlen)
{
    for (int i = 0; i < router->nshards; i++) {
        if (same_members(router->shards[i], m, n)) {
            return router->shards[i];
        }
    }
    for (int i = 0; i < n; i++) {
        if (m[i]->in_use) {
            snprintf(err, errlen, "node %s already belongs to another shard", m[i]->addr);
            return NULL;
        }
    }
    if (router->nshards == ROUTER_SHARDS_MAX || n > SHARD_MEMBERS_MAX) {
        snprintf(err, errlen, "too many shards or nodes");
        return NULL;
    }
    struct shard *s = shard_new(router, "");
    for (int i = 0; i < n; i++) {
        s->members[s->nmembers++] = m[i];
        m[i]->in_use = true;
        m[i]->shard = s;
    }
    return s;
}

void
router_shard_slots(const struct shard *s, uint8_t *bm)
{
    memset(bm, 0, SLOT_BITMAP_BYTES);
    for (unsigned slot = 0; slot < SLOT_COUNT; slot++) {
        if (router->slot_shard[slot] == s->id) {
            slot_bitmap_add(bm, slot);
        }
    }
}

static void
describe_slots(struct shard *s)
{
    uint8_t bm[SLOT_BITMAP_BYTES];
    router_shard_slots(s, bm);
    mem_free(s->slots);
    s->slots = slot_bitmap_text(bm);
}

void
router_move_slots(const uint8_t *slots, const struct shard *to)
{
    for (unsigned slot = 0; slot < SLOT_COUNT; slot++) {
        if (slot_bitmap_has(slots, slot)) {
            router->slot_shard[slot] = (uint16_t)to->id;
        }
    }
    for (int i = 0; i < router->nshards; i++) {
        describe_slots(router->shards[i]);
    }
}

void
router_retire_empty(void)
{
    int remap[ROUTER_SHARDS_MAX], n = 0;

    for (int i = 0; i < router->nshards; i++) {
        struct shard *s = router->shards[i];
        if (s->slots[0] == '\0') {
            for (int j = 0; j < s->nmembers; j++) {
                s->members[j]->in_use = false;
                s->members[j]->shard = NULL;
                health_forget(s->members[j]);
            }
            s->nmembers = 0;
            s->next_retired = retired;
            retired = s;
            remap[i] = -1;
            continue;
        }
        remap[i] = n;
        s->id = n;
        router->shards[n++] = s;
    }
    router->nshards = n;
    for (unsigned slot = 0; slot < SLOT_COUNT; slot++) {
        router->slot_shard[slot] = (uint16_t)remap[router->slot_shard[slot]];
    }
}

void
router_shard_line(const struct shard *s, struct sbuf *out)
{
    sbuf_adds(out, s->slots);
    for (int j = 0; j < s->nmembers; j++) {
        sbuf_printf(out, " %s", s->members[j]->addr);
    }
}
