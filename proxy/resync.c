/*
 * resync.c -- see resync.h.
 */
#include "proxy/resync.h"

#include "common/log.h"
#include "common/mem.h"
#include "common/resp.h"
#include "common/slot.h"
#include "common/util.h"
#include "proxy/back.h"
#include "proxy/cmdtab.h"
#include "proxy/front.h"
#include "proxy/msg.h"
#include "proxy/proxy.h"
#include "proxy/router.h"

#include <stdio.h>
#include <string.h>

#define RESYNC_SCAN_COUNT 256
#define RESYNC_INFLIGHT 64 /* keys being copied at once */
#define RESYNC_KEYS_MAX 256 /* keys of one request checked against copies */

enum stage { STAGE_SCAN, STAGE_TYPE, STAGE_PTTL, STAGE_GET, STAGE_FETCH, STAGE_TARGET };

struct copy {
    bool active;
    bool dirty;     /* written by a client while in flight: copy again */
    char *key;
    size_t len;
    int pending;    /* source replies still expected */
    char type[16];
    long long pttl;
    struct seg value; /* GET's reply, or the collection fetch's */
};

enum job_kind {
    JOB_RESYNC, /* empty the target, copy every key: a replica rejoining */
    JOB_COPY,   /* copy the keys of some slots (a move's middle step) */
    JOB_DELETE, /* delete the keys of some slots from the scanned member */
};

struct resync {
    int kind;               /* enum job_kind */
    struct member *target;  /* receives copies (RESYNC, COPY) */
    struct member *source;  /* is scanned: copied from, or deleted from */
    const uint8_t *slots;   /* bitmap of the slots concerned; NULL: every key */
    resync_done_fn *done;   /* COPY, DELETE: told how it ended */
    void *done_ctx;
    unsigned refs;
    bool cancelled;
    unsigned long long cursor;
    bool scan_busy, scan_done;
    char **keys; /* from the last SCAN page, waiting for a copy slot */
    size_t nkeys, kpos;
    struct copy copies[RESYNC_INFLIGHT];
    int inflight;
    uint64_t copied, skipped;
    long long started_ms;
    struct resync *next;
};

static struct resync *jobs;

static void job_put(struct resync *j);
static void pump(struct resync *j);

static void
job_unlink(struct resync *j)
{
    for (struct resync **p = &jobs; *p != NULL; p = &(*p)->next) {
        if (*p == j) {
            *p = j->next;
            return;
        }
    }
}

static void
job_put(struct resync *j)
{
    if (--j->refs > 0) {
        return;
    }
    for (int i = 0; i < RESYNC_INFLIGHT; i++) {
        mem_free(j->copies[i].key);
        seg_release(&j->copies[i].value);
    }
    for (size_t i = j->kpos; i < j->nkeys; i++) {
        mem_free(j->keys[i]);
    }
    mem_free(j->keys);
    mem_free(j);
}

/* An internal request of job j; stage and copy index ride in the message. */
static void
job_send(struct resync *j, struct member *to, struct seg req, int stage, int idx,
         msg_done_fn *fn)
{
    struct msg *m = msg_get();

    m->req = req;
    m->on_done = fn;
    m->ctx = j;
    m->sum = stage;
    m->slot = idx;
    j->refs++;
    back_send(to->conn, m);
    msg_put(&m);
}

/* Builds a command from words into a segment. */
static struct seg
command(int argc, const char *const *argv, const size_t *lens)
{
    struct bufq *out = front_out();
    resp_add_array(out, (size_t)argc);
    for (int i = 0; i < argc; i++) {
        resp_add_bulk(out, argv[i], lens[i]);
    }
    return front_take_out();
}

static struct seg
command2(const char *verb, const char *key, size_t klen)
{
    const char *argv[] = {verb, key};
    const size_t lens[] = {strlen(verb), klen};
    return command(2, argv, lens);
}

/* Ends j: a rejoining replica serves again; a move's step reports. */
static void
end_job(struct resync *j, bool ok)
{
    j->cancelled = true;
    job_unlink(j);
    if (j->target != NULL && j->target->resync == j) {
        j->target->resync = NULL;
    }
    if (j->kind == JOB_RESYNC) {
        if (ok) {
            j->target->state = MEMBER_UP;
            j->target->missed_writes = false;
        }
    } else {
        j->done(j->done_ctx, ok, j->copied);
    }
    job_put(j);
}

static void
finish(struct resync *j)
{
    struct member *t = j->target;

    if (j->kind == JOB_RESYNC) {
        log_notice("node %s resynchronised from %s: %llu keys copied (%llu skipped) in %lld ms",
                   t->addr, j->source->addr, (unsigned long long)j->copied,
                   (unsigned long long)j->skipped, proxy_now_ms() - j->started_ms);
        t->keys_resynced += j->copied;
        t->resyncs++;
    }
    end_job(j, true);
}

/* ---- the copy of one key ---- */

static void source_reply(struct msg *m);
static void ignore_reply(struct msg *m);

static void
copy_start(struct resync *j, int idx)
{
    struct copy *cp = &j->copies[idx];

    cp->pending = 3;
    cp->type[0] = '\0';
    cp->pttl = -1;
    seg_release(&cp->value);
    job_send(j, j->source, command2("TYPE", cp->key, cp->len), STAGE_TYPE, idx, source_reply);
    job_send(j, j->source, command2("PTTL", cp->key, cp->len), STAGE_PTTL, idx, source_reply);
    job_send(j, j->source, command2("GET", cp->key, cp->len), STAGE_GET, idx, source_reply);
}

/* "*<n+2>\r\n$<verb>\r\n$<key>\r\n" followed by raw element bytes. */
static struct seg
collection_write(const char *verb, const struct copy *cp, const char *elems, size_t elen,
                 long long n)
{
    struct bufq *out = front_out();
    resp_add_array(out, (size_t)n + 2);
    resp_add_bulk_cstr(out, verb);
    resp_add_bulk(out, cp->key, cp->len);
    resp_add_raw(out, elems, elen);
    return front_take_out();
}

struct zswap {
    struct bufq *out;
    const char *member;
    size_t mlen;
};

static void
zadd_pair(void *ctx, size_t i, const char *p, size_t n)
{
    struct zswap *z = ctx;
    if (i % 2 == 0) {
        z->member = p;
        z->mlen = n;
    } else {
        resp_add_raw(z->out, p, n); /* score first for ZADD */
        resp_add_raw(z->out, z->member, z->mlen);
    }
}

/* Writes the copied key to the target (after DEL). */
static void
write_target(struct resync *j, struct copy *cp)
{
    struct member *t = j->target;
    const char *v;
    size_t vlen;

    job_send(j, t, command2("DEL", cp->key, cp->len), STAGE_TARGET, -1, ignore_reply);
    if (strcmp(cp->type, "none") == 0) {
        return;
    }
    if (strcmp(cp->type, "string") == 0) {
        if (!resp_bulk_value(cp->value.p, cp->value.len, &v, &vlen)) {
            return; /* expired between TYPE and GET */
        }
        const char *argv[] = {"SET", cp->key, v};
        const size_t lens[] = {3, cp->len, vlen};
        job_send(j, t, command(3, argv, lens), STAGE_TARGET, -1, ignore_reply);
    } else {
        const char *p = cp->value.p;
        const char *cr = memchr(p, '\r', cp->value.len);
        long long n;
        if (p[0] != '*' || cr == NULL || !util_str2ll(p + 1, (size_t)(cr - p - 1), &n) || n <= 0) {
            return;
        }
        const char *elems = cr + 2;
        size_t elen = cp->value.len - (size_t)(elems - p);
        struct seg w;
        if (strcmp(cp->type, "hash") == 0) {
            w = collection_write("HSET", cp, elems, elen, n);
        } else if (strcmp(cp->type, "list") == 0) {
            w = collection_write("RPUSH", cp, elems, elen, n);
        } else if (strcmp(cp->type, "set") == 0) {
            w = collection_write("SADD", cp, elems, elen, n);
        } else {
            struct bufq *out = front_out();
            struct zswap z = {out, NULL, 0};
            resp_add_array(out, (size_t)n + 2);
            resp_add_bulk_cstr(out, "ZADD");
            resp_add_bulk(out, cp->key, cp->len);
            resp_array_each(p, cp->value.len, zadd_pair, &z);
            w = front_take_out();
        }
        job_send(j, t, w, STAGE_TARGET, -1, ignore_reply);
    }
    if (cp->pttl > 0) {
        char ms[UTIL_LL_STR_SIZE];
        const char *argv[] = {"PEXPIRE", cp->key, ms};
        const size_t lens[] = {7, cp->len, util_ll2str(ms, cp->pttl)};
        job_send(j, t, command(3, argv, lens), STAGE_TARGET, -1, ignore_reply);
    }
}

static const char *
fetch_verb(const char *type)
{
    if (strcmp(type, "hash") == 0) {
        return "HGETALL";
    }
    if (strcmp(type, "list") == 0 || strcmp(type, "zset") == 0) {
        return strcmp(type, "list") == 0 ? "LRANGE" : "ZRANGE";
    }
    if (strcmp(type, "set") == 0) {
        return "SMEMBERS";
    }
    return NULL;
}

static void
copy_fetched(struct resync *j, int idx)
{
    struct copy *cp = &j->copies[idx];

    write_target(j, cp);
    j->copied++;
    if (cp->dirty) {
        cp->dirty = false;
        copy_start(j, idx); /* a client wrote it meanwhile: once more */
        return;
    }
    cp->active = false;
    mem_free(cp->key);
    cp->key = NULL;
    seg_release(&cp->value);
    j->inflight--;
}

static void
fetch_collection(struct resync *j, int idx)
{
    struct copy *cp = &j->copies[idx];
    const char *verb = fetch_verb(cp->type);

    if (verb == NULL) {
        log_warn("resync of %s: key '%.*s' of type %s is not copied", j->target->addr,
                 (int)MIN(cp->len, 64), cp->key, cp->type);
        j->skipped++;
        strcpy(cp->type, "none");
        copy_fetched(j, idx);
        return;
    }
    cp->pending = 1;
    if (strcmp(verb, "LRANGE") == 0 || strcmp(verb, "ZRANGE") == 0) {
        bool z = verb[0] == 'Z';
        const char *argv[] = {verb, cp->key, "0", "-1", "WITHSCORES"};
        const size_t lens[] = {6, cp->len, 1, 2, 10};
        job_send(j, j->source, command(z ? 5 : 4, argv, lens), STAGE_FETCH, idx, source_reply);
    } else {
        job_send(j, j->source, command2(verb, cp->key, cp->len), STAGE_FETCH, idx, source_reply);
    }
}

static void
source_reply(struct msg *m)
{
    struct resync *j = m->ctx;
    struct copy *cp = &j->copies[m->slot];

    if (!j->cancelled && !(m->flags & MSG_FAILED)) {
        if (m->sum == STAGE_TYPE && m->rsp.len > 3 && m->rsp.p[0] == '+') {
            snprintf(cp->type, sizeof(cp->type), "%.*s", (int)m->rsp.len - 3, m->rsp.p + 1);
        } else if (m->sum == STAGE_PTTL && m->rsp.len > 3) {
            util_str2ll(m->rsp.p + 1, m->rsp.len - 3, &cp->pttl);
        } else if (m->sum == STAGE_GET || m->sum == STAGE_FETCH) {
            seg_release(&cp->value);
            cp->value = m->rsp;
            if (cp->value.b != NULL) {
                buf_ref(cp->value.b);
            }
        }
        if (--cp->pending == 0) {
            if (m->sum == STAGE_FETCH || strcmp(cp->type, "string") == 0 ||
                strcmp(cp->type, "none") == 0) {
                copy_fetched(j, m->slot);
            } else {
                fetch_collection(j, m->slot);
            }
            pump(j);
        }
    }
    job_put(j);
}

static void
ignore_reply(struct msg *m)
{
    job_put(m->ctx); /* a failed target write means the target is down: cancelled there */
}

/* ---- scanning the source ---- */

static void
collect_key(void *ctx, size_t i, const char *p, size_t n)
{
    struct resync *j = ctx;
    const char *k;
    size_t klen;

    (void)i;
    if (resp_bulk_value(p, n, &k, &klen) &&
        (j->slots == NULL || slot_bitmap_has(j->slots, slot_of(k, klen)))) {
        j->keys[j->nkeys++] = mem_strndup(k, klen);
    }
}

static void
page_element(void *ctx, size_t i, const char *p, size_t n)
{
    struct resync *j = ctx;
    const char *v;
    size_t vlen;

    if (i == 0 && resp_bulk_value(p, n, &v, &vlen)) {
        util_str2ull(v, vlen, &j->cursor);
    } else if (i == 1 && p[0] == '*') {
        /* COUNT is a hint: size the page by what the node returned. */
        long long count = 0;
        const char *cr = memchr(p, '\r', n);
        if (cr != NULL && util_str2ll(p + 1, (size_t)(cr - p - 1), &count) && count > 0) {
            j->keys = mem_realloc(j->keys, (size_t)count * sizeof(char *));
        }
        j->nkeys = j->kpos = 0;
        resp_array_each(p, n, collect_key, j);
    }
}

static void
scan_reply(struct msg *m)
{
    struct resync *j = m->ctx;

    if (!j->cancelled) {
        j->scan_busy = false;
        if ((m->flags & (MSG_FAILED | MSG_ERROR)) ||
            resp_array_each(m->rsp.p, m->rsp.len, page_element, j) != SC_OK) {
            log_warn("SCAN on %s failed during a %s", j->source->addr,
                     j->kind == JOB_RESYNC ? "resync" : "slot move");
            if (j->kind == JOB_RESYNC) {
                member_down(j->target, "resync could not read its source");
            } else {
                end_job(j, false);
            }
        } else {
            j->scan_done = j->cursor == 0;
            pump(j);
        }
    }
    job_put(j);
}

static void
scan_next(struct resync *j)
{
    char cursor[UTIL_LL_STR_SIZE], count[UTIL_LL_STR_SIZE];
    const char *argv[] = {"SCAN", cursor, "COUNT", count};
    const size_t lens[] = {4, util_ull2str(cursor, j->cursor), 5,
                           util_ll2str(count, RESYNC_SCAN_COUNT)};

    j->scan_busy = true;
    job_send(j, j->source, command(4, argv, lens), STAGE_SCAN, -1, scan_reply);
}

/* DELETE: every key of the page goes; the DELs are ahead of anything sent
 * to the member later, so the job is done once the scan is. */
static void
delete_page(struct resync *j)
{
    while (j->kpos < j->nkeys) {
        char *key = j->keys[j->kpos];
        j->keys[j->kpos++] = NULL;
        job_send(j, j->source, command2("DEL", key, strlen(key)), STAGE_TARGET, -1, ignore_reply);
        j->copied++;
        mem_free(key);
    }
}

/* Starts copies while there are keys and room; scans for more; finishes. */
static void
pump(struct resync *j)
{
    if (j->kind == JOB_DELETE) {
        delete_page(j);
    }
    for (int i = 0; i < RESYNC_INFLIGHT && j->kpos < j->nkeys; i++) {
        struct copy *cp = &j->copies[i];
        if (cp->active) {
            continue;
        }
        cp->active = true;
        cp->dirty = false;
        cp->key = j->keys[j->kpos];
        cp->len = strlen(cp->key);
        j->keys[j->kpos++] = NULL;
        j->inflight++;
        copy_start(j, i);
    }
    if (j->kpos == j->nkeys && !j->scan_busy && !j->scan_done) {
        scan_next(j);
    }
    if (j->scan_done && j->kpos == j->nkeys && j->inflight == 0) {
        finish(j);
    }
}

/* ---- public ---- */

static struct resync *
job_new(int kind, struct member *target, struct member *source, const uint8_t *slots)
{
    struct resync *j = mem_calloc(1, sizeof(*j));

    j->kind = kind;
    j->target = target;
    j->source = source;
    j->slots = slots;
    j->refs = 1;
    j->started_ms = proxy_now_ms();
    j->next = jobs;
    jobs = j;
    if (target != NULL) {
        target->resync = j;
    }
    return j;
}

void
resync_start(struct member *target, struct member *source)
{
    struct resync *j = job_new(JOB_RESYNC, target, source, NULL);

    target->missed_writes = true; /* from its FLUSHALL until the copy is complete */
    /* Emptied first: the FLUSHALL is ahead of every write on its connection. */
    job_send(j, target, seg_const("*1\r\n$8\r\nFLUSHALL\r\n", 18), STAGE_TARGET, -1, ignore_reply);
    pump(j);
}

struct resync *
resync_copy_slots(struct member *target, struct member *source, const uint8_t *slots,
                  resync_done_fn *done, void *ctx)
{
    struct resync *j = job_new(JOB_COPY, target, source, slots);

    j->done = done;
    j->done_ctx = ctx;
    pump(j);
    return j;
}

struct resync *
resync_delete_slots(struct member *m, const uint8_t *slots, resync_done_fn *done, void *ctx)
{
    struct resync *j = job_new(JOB_DELETE, NULL, m, slots);

    j->done = done;
    j->done_ctx = ctx;
    pump(j);
    return j;
}

void
resync_cancel(struct member *m)
{
    struct resync *j = jobs;

    while (j != NULL) {
        struct resync *next = j->next;
        if (j->target == m || j->source == m) {
            if (j->kind == JOB_RESYNC && j->source == m) {
                /* Its source is gone: the target goes back to DOWN and is
                 * resynchronised again from another member when probed. */
                j->target->state = MEMBER_DOWN;
            }
            log_warn("%s involving %s abandoned: it went down",
                     j->kind == JOB_RESYNC ? "resync" : "slot move", m->addr);
            end_job(j, false);
        }
        j = next;
    }
}

void
resync_abort_all(void)
{
    while (jobs != NULL) {
        end_job(jobs, false);
    }
}

void
resync_note_write(struct member *target, const struct seg *req)
{
    struct resync *j = target->resync;
    struct resp_req r;
    int pos[RESYNC_KEYS_MAX];

    if (j == NULL || j->inflight == 0) {
        return;
    }
    /* Parse the request again to find its keys; only writes to a syncing
     * member pay for it, and only while copies are in flight. */
    char *copy = mem_strndup(req->p, req->len);
    resp_req_init(&r, UINT64_MAX);
    if (resp_req_parse(&r, copy, req->len) == RESP_OK && r.argc > 0) {
        struct bstr argv[RESYNC_KEYS_MAX];
        int argc = (int)MIN(r.argc, RESYNC_KEYS_MAX);
        for (int i = 0; i < argc; i++) {
            argv[i].data = copy + r.argv[i].off;
            argv[i].len = r.argv[i].len;
        }
        const struct pcmd *cmd = cmdtab_lookup(argv, argc);
        bool is_exec = bstr_is(&argv[0], "MULTI");
        int n = cmd == NULL ? 0 : cmdtab_keys(cmd, argv, argc, pos, RESYNC_KEYS_MAX);
        for (int k = 0; k < n || is_exec; k++) {
            for (int i = 0; i < RESYNC_INFLIGHT; i++) {
                struct copy *cp = &j->copies[i];
                /* A transaction's keys are not parsed out: it dirties every
                 * copy in flight, which only costs extra copies. */
                if (cp->active && (is_exec || (cp->len == argv[pos[k]].len &&
                                               memcmp(cp->key, argv[pos[k]].data, cp->len) == 0))) {
                    cp->dirty = true;
                }
            }
            if (is_exec) {
                break;
            }
        }
    }
    resp_req_deinit(&r);
    mem_free(copy);
}
