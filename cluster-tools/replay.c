/*
 * replay.c -- slotcache-bench replay: a key trace through each eviction
 * policy's own code, offline, at a cache size counted in keys.
 *
 *   slotcache-bench replay --trace FILE --capacity-keys N [--policy NAME ...] [--seed S]
 *
 * A maxmemory-policy name runs the node's policy module itself (linked from
 * libnode.a): the real keyspace is driven as the node drives it under the
 * read-through pattern -- kv_lookup, and on a miss kv_add of the key, then
 * kv_evict of evict_current()->victim() until at most N keys are held.
 * Only the limit differs from the node's: keys instead of bytes, so that a
 * policy is measured apart from its memory per key.  Under a volatile-*
 * policy every key gets a TTL far in the future, so that every key may be
 * evicted.  Time stands still (a fixed clock): LFU counters do not decay.
 * The log counter's coin flips use random(), seeded with --seed.
 *
 * Two references need no keyspace and run on key ids:
 *   lru-exact  exact LRU (a list over ids).
 *   opt        Belady's optimum: evict the key whose next request is the
 *              furthest away, the just-inserted one included (the node evicts
 *              after the SET, so a policy may drop a key at once, and so
 *              may the optimum).  Next uses are computed in one backward
 *              pass; a max-heap of (next use, id) with lazy deletion makes it
 *              O(n log n).
 *
 * Output: one line per policy, in the order asked:
 *   policy=allkeys-lru capacity_keys=N requests=R hits=H misses=M hit_ratio=0.7220 seconds=0.41
 */
#include "cluster-tools/replay.h"

#include "common/buf.h"
#include "common/clock.h"
#include "common/defs.h"
#include "common/ht.h"
#include "common/util.h"
#include "node/evict.h"
#include "node/kv.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REPLAY_MAX_POLICIES 64
#define REPLAY_CLOCK_MS 1700000000000LL       /* the fixed time of a replay */
#define REPLAY_TTL_MS (3650LL * 86400 * 1000) /* volatile-*: expires in 10 years */
#define REPLAY_NONE UINT32_MAX

/* One request: its key is text + off (len bytes, NUL-terminated in place);
 * id is dense, the same for the same key. */
struct rreq {
    uint32_t off, len, id;
};

/* The trace in memory: the file's bytes and its requests. */
struct rtrace {
    char *text;
    struct rreq *req;
    size_t n;
    uint32_t nkeys;
};

struct result {
    unsigned long long hits, misses;
    double seconds;
};

static int rfail(char *err, size_t errlen, const char *fmt, ...) SC_PRINTF(3, 4);

static int
rfail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return SC_ERR;
}

static double
mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

long long
replay_shift_key(long long rank, long long request, long long keys, long long every, long long by)
{
    if (every <= 0 || keys <= 1) {
        return rank;
    }
    unsigned long long n = (unsigned long long)keys;
    unsigned long long stride = by > 0 ? (unsigned long long)by % n : MAX(n / 100, 1);
    unsigned long long moves = (unsigned long long)(request / every) % n;
    unsigned long long off = (unsigned long long)((unsigned __int128)moves * stride % n);
    return (long long)(((unsigned long long)(rank - 1) + off) % n) + 1;
}

/* ---- the trace ---- */

static void
rtrace_free(struct rtrace *t)
{
    free(t->text);
    free(t->req);
    memset(t, 0, sizeof(*t));
}

static inline const char *
key_at(const struct rtrace *t, size_t i)
{
    return t->text + t->req[i].off;
}

static int
slurp(const char *path, char **out, size_t *outlen, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return rfail(err, errlen, "cannot open trace %s: %s", path, strerror(errno));
    }
    int rc = SC_ERR;
    long size = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    char *buf = size >= 0 && size < UINT32_MAX && fseek(f, 0, SEEK_SET) == 0
                    ? malloc((size_t)size + 1)
                    : NULL;
    if (buf == NULL) {
        rfail(err, errlen, "cannot read trace %s: %s", path,
              size < 0             ? strerror(errno)
              : size >= UINT32_MAX ? "over 4 GB"
                                   : "no memory");
    } else if (fread(buf, 1, (size_t)size, f) != (size_t)size) {
        rfail(err, errlen, "cannot read trace %s: short read", path);
    } else {
        buf[size] = '\0';
        *out = buf;
        *outlen = (size_t)size;
        buf = NULL;
        rc = SC_OK;
    }
    free(buf);
    fclose(f);
    return rc;
}

/* Cuts the text into NUL-terminated lines ("\r\n" too); empty lines are
 * skipped. */
static int
split_lines(struct rtrace *t, size_t len, char *err, size_t errlen)
{
    size_t cap = 1;
    for (size_t i = 0; i < len; i++) {
        cap += t->text[i] == '\n';
    }
    t->req = malloc(cap * sizeof(*t->req));
    if (t->req == NULL) {
        return rfail(err, errlen, "no memory for a trace of %zu lines", cap);
    }
    for (char *p = t->text, *end = t->text + len; p < end;) {
        char *eol = memchr(p, '\n', (size_t)(end - p));
        eol = eol != NULL ? eol : end;
        size_t klen = (size_t)(eol - p);
        klen -= klen > 0 && p[klen - 1] == '\r';
        p[klen] = '\0';
        if (klen > 0) {
            t->req[t->n++] = (struct rreq){(uint32_t)(p - t->text), (uint32_t)klen, 0};
        }
        p = eol + 1;
    }
    return SC_OK;
}

/* Dense ids by open addressing over the requests: the table maps a key's
 * hash slot to the first request of that key. */
static int
assign_ids(struct rtrace *t, char *err, size_t errlen)
{
    size_t size = 16;
    while (size < 2 * t->n) {
        size *= 2;
    }
    uint32_t *first = malloc(size * sizeof(*first));
    if (first == NULL) {
        return rfail(err, errlen, "no memory to index %zu requests", t->n);
    }
    memset(first, 0xff, size * sizeof(*first));
    for (size_t i = 0; i < t->n; i++) {
        struct rreq *r = &t->req[i];
        size_t s = ht_hash(key_at(t, i), r->len) & (size - 1);
        while (first[s] != REPLAY_NONE &&
               (t->req[first[s]].len != r->len ||
                memcmp(key_at(t, first[s]), key_at(t, i), r->len) != 0)) {
            s = (s + 1) & (size - 1);
        }
        if (first[s] == REPLAY_NONE) {
            first[s] = (uint32_t)i;
            r->id = t->nkeys++;
        } else {
            r->id = t->req[first[s]].id;
        }
    }
    free(first);
    return SC_OK;
}

static int
rtrace_load(struct rtrace *t, const char *path, char *err, size_t errlen)
{
    size_t len = 0;

    memset(t, 0, sizeof(*t));
    if (slurp(path, &t->text, &len, err, errlen) != SC_OK) {
        return SC_ERR;
    }
    if (split_lines(t, len, err, errlen) != SC_OK) {
        rtrace_free(t);
        return SC_ERR;
    }
    if (t->n >= UINT32_MAX) {
        rtrace_free(t);
        return rfail(err, errlen, "trace %s: more than %u requests", path, UINT32_MAX - 1);
    }
    if (assign_ids(t, err, errlen) != SC_OK) {
        rtrace_free(t);
        return SC_ERR;
    }
    return SC_OK;
}

/* ---- the node's policies ---- */

static void
policy_setup(int policy, long long seed)
{
    evict_opts = (struct evict_options){
        .maxmemory = 0, /* the limit is in keys, enforced below */
        .policy = policy,
        .samples = 5,
        .lfu_log_factor = 10,
        .lfu_decay_time = 1,
    };
    memset(&kv_stats, 0, sizeof(kv_stats));
    clock_cached_ms = REPLAY_CLOCK_MS;
    srandom((unsigned)seed);
    kv_setup();
    evict_setup();
}

static void
policy_teardown(void)
{
    evict_teardown();
    kv_teardown();
    buf_pool_drain();
}

/* The key, with a value-less item, as the SET after a miss stores it. */
static bool
insert(const char *key, size_t klen, bool ttl)
{
    struct item *it = item_try_create(key, klen, NULL, 0, 0, ttl);
    if (it == NULL) {
        return false;
    }
    if (ttl) {
        item_set_expire_field(it, REPLAY_CLOCK_MS + REPLAY_TTL_MS);
    }
    kv_add(it);
    return true;
}

static int
run_policy(const struct rtrace *t, int policy, uint64_t cap, long long seed, struct result *r,
           char *err, size_t errlen)
{
    policy_setup(policy, seed);
    const struct evict_ops *ops = evict_current();
    bool ttl = ops->volatile_only;
    int rc = SC_OK;

    for (size_t i = 0; i < t->n; i++) {
        if (kv_lookup(key_at(t, i), t->req[i].len, 0) != NULL) {
            r->hits++;
            continue;
        }
        r->misses++;
        if (!insert(key_at(t, i), t->req[i].len, ttl)) {
            rc = rfail(err, errlen, "%s: out of memory at request %zu", ops->name, i + 1);
            break;
        }
        while (kv_count() > cap) {
            struct item *v = ops->victim();
            if (v == NULL) {
                rc = rfail(err, errlen, "%s: no victim with %llu keys held", ops->name,
                           (unsigned long long)kv_count());
                break;
            }
            kv_evict(v);
        }
        if (rc != SC_OK) {
            break;
        }
    }
    policy_teardown();
    return rc;
}

/* ---- exact LRU on ids ---- */

static int
run_lru_exact(const struct rtrace *t, uint64_t cap, struct result *r, char *err, size_t errlen)
{
    /* A doubly linked list over ids, most recent at head; REPLAY_NONE ends it. */
    uint32_t *prev = malloc((size_t)t->nkeys * sizeof(*prev));
    uint32_t *next = malloc((size_t)t->nkeys * sizeof(*next));
    bool *in = calloc(t->nkeys, sizeof(*in));
    uint32_t head = REPLAY_NONE, tail = REPLAY_NONE;
    uint64_t held = 0;

    if (prev == NULL || next == NULL || in == NULL) {
        free(prev);
        free(next);
        free(in);
        return rfail(err, errlen, "lru-exact: no memory for %u keys", t->nkeys);
    }
    for (size_t i = 0; i < t->n; i++) {
        uint32_t x = t->req[i].id;
        if (in[x]) {
            r->hits++;
            if (x == head) {
                continue;
            }
            next[prev[x]] = next[x]; /* x is not the head: it has a prev */
            if (next[x] != REPLAY_NONE) {
                prev[next[x]] = prev[x];
            } else {
                tail = prev[x];
            }
        } else {
            r->misses++;
            in[x] = true;
            held++;
        }
        prev[x] = REPLAY_NONE;
        next[x] = head;
        if (head != REPLAY_NONE) {
            prev[head] = x;
        }
        head = x;
        tail = tail == REPLAY_NONE ? x : tail;
        if (held > cap) {
            uint32_t v = tail;
            tail = prev[v];
            next[tail] = REPLAY_NONE; /* cap >= 1: the list still holds x */
            in[v] = false;
            held--;
        }
    }
    free(prev);
    free(next);
    free(in);
    return SC_OK;
}

/* ---- Belady's optimum ---- */

struct heap_entry {
    uint32_t next_use; /* request index of the key's next use; n: never */
    uint32_t id;
};

static void
heap_push(struct heap_entry *h, size_t *n, struct heap_entry e)
{
    size_t i = (*n)++;
    while (i > 0 && h[(i - 1) / 2].next_use < e.next_use) {
        h[i] = h[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h[i] = e;
}

static struct heap_entry
heap_pop(struct heap_entry *h, size_t *n)
{
    struct heap_entry top = h[0], last = h[--*n];
    size_t i = 0;

    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= *n) {
            break;
        }
        if (c + 1 < *n && h[c + 1].next_use > h[c].next_use) {
            c++;
        }
        if (h[c].next_use <= last.next_use) {
            break;
        }
        h[i] = h[c];
        i = c;
    }
    if (*n > 0) {
        h[i] = last;
    }
    return top;
}

/* next[i]: the index of the next request of request i's key, or n. */
static uint32_t *
next_uses(const struct rtrace *t)
{
    uint32_t *next = malloc(t->n * sizeof(*next));
    uint32_t *last = malloc((size_t)t->nkeys * sizeof(*last));

    if (next != NULL && last != NULL) {
        for (uint32_t k = 0; k < t->nkeys; k++) {
            last[k] = (uint32_t)t->n;
        }
        for (size_t i = t->n; i-- > 0;) {
            next[i] = last[t->req[i].id];
            last[t->req[i].id] = (uint32_t)i;
        }
    } else {
        free(next);
        next = NULL;
    }
    free(last);
    return next;
}

static int
run_opt(const struct rtrace *t, uint64_t cap, struct result *r, char *err, size_t errlen)
{
    uint32_t *next = next_uses(t);
    /* per id: its next use while held, REPLAY_NONE when not held; a heap
     * entry that disagrees is stale */
    uint32_t *held_next = malloc((size_t)t->nkeys * sizeof(*held_next));
    struct heap_entry *heap = malloc(t->n * sizeof(*heap));
    size_t hn = 0;
    uint64_t held = 0;

    if (next == NULL || held_next == NULL || heap == NULL) {
        free(next);
        free(held_next);
        free(heap);
        return rfail(err, errlen, "opt: no memory for %zu requests", t->n);
    }
    memset(held_next, 0xff, (size_t)t->nkeys * sizeof(*held_next));
    for (size_t i = 0; i < t->n; i++) {
        uint32_t x = t->req[i].id;
        if (held_next[x] != REPLAY_NONE) {
            r->hits++;
        } else {
            r->misses++;
            held++;
        }
        held_next[x] = next[i];
        heap_push(heap, &hn, (struct heap_entry){next[i], x});
        while (held > cap) {
            struct heap_entry e = heap_pop(heap, &hn);
            if (held_next[e.id] == e.next_use) {
                held_next[e.id] = REPLAY_NONE;
                held--;
            }
        }
    }
    free(next);
    free(held_next);
    free(heap);
    return SC_OK;
}

/* ---- the command ---- */

/* The enum evict_policy value of a maxmemory-policy name, or -1. */
static int
policy_by_name(const char *name)
{
    for (const struct conf_enum *e = evict_policy_names; e->name != NULL; e++) {
        if (strcmp(e->name, name) == 0) {
            return e->value;
        }
    }
    return -1;
}

/* What run_one can replay: a policy that evicts, or a reference. */
static bool
policy_known(const char *name)
{
    int p = policy_by_name(name);
    return strcmp(name, "lru-exact") == 0 || strcmp(name, "opt") == 0 ||
           (p >= 0 && p != EVICT_NOEVICTION);
}

static int
run_one(const struct rtrace *t, const char *name, uint64_t cap, long long seed, char *err,
        size_t errlen)
{
    struct result r = {0};
    double t0 = mono_s();
    int rc;

    if (strcmp(name, "lru-exact") == 0) {
        rc = run_lru_exact(t, cap, &r, err, errlen);
    } else if (strcmp(name, "opt") == 0) {
        rc = run_opt(t, cap, &r, err, errlen);
    } else {
        rc = run_policy(t, policy_by_name(name), cap, seed, &r, err, errlen);
    }
    if (rc != SC_OK) {
        return rc;
    }
    r.seconds = mono_s() - t0;
    unsigned long long total = r.hits + r.misses;
    printf("policy=%s capacity_keys=%llu requests=%llu hits=%llu misses=%llu hit_ratio=%.4f "
           "seconds=%.3f\n",
           name, (unsigned long long)cap, total, r.hits, r.misses,
           total > 0 ? (double)r.hits / (double)total : 0.0, r.seconds);
    fflush(stdout);
    return SC_OK;
}

static const char *const default_policies[] = {
    "allkeys-lru",    "allkeys-lfu",      "allkeys-random", "allkeys-sieve",
    "allkeys-s3fifo", "allkeys-wtinylfu", "lru-exact",      "opt",
};

struct replay_args {
    const char *trace;
    long long capacity;
    long long seed;
    const char *policies[REPLAY_MAX_POLICIES];
    int npolicies;
};

static int
parse_int(const char *opt, const char *v, long long min, long long *out, char *err, size_t errlen)
{
    if (!util_str2ll(v, strlen(v), out) || *out < min) {
        return rfail(err, errlen, "%s: expected an integer >= %lld, got '%s'", opt, min, v);
    }
    return SC_OK;
}

static int
parse_args(int argc, char **argv, struct replay_args *a, char *err, size_t errlen)
{
    for (int i = 0; i < argc; i += 2) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int rc = SC_OK;
        if (v == NULL) {
            return rfail(err, errlen, "%s needs a value", o);
        }
        if (strcmp(o, "--trace") == 0) {
            a->trace = v;
        } else if (strcmp(o, "--capacity-keys") == 0) {
            rc = parse_int(o, v, 1, &a->capacity, err, errlen);
        } else if (strcmp(o, "--seed") == 0) {
            rc = parse_int(o, v, LLONG_MIN, &a->seed, err, errlen);
        } else if (strcmp(o, "--policy") == 0 && a->npolicies < REPLAY_MAX_POLICIES) {
            a->policies[a->npolicies++] = v;
        } else {
            return rfail(err, errlen, "unknown option '%s'", o);
        }
        if (rc != SC_OK) {
            return rc;
        }
    }
    if (a->trace == NULL || a->capacity == 0) {
        return rfail(err, errlen, "--trace and --capacity-keys are required");
    }
    if (a->npolicies == 0) {
        for (size_t i = 0; i < ARRAY_LEN(default_policies); i++) {
            a->policies[a->npolicies++] = default_policies[i];
        }
    }
    return SC_OK;
}

int
replay_cmd(int argc, char **argv, char *err, size_t errlen)
{
    struct replay_args a = {.seed = 1};
    struct rtrace t;

    if (parse_args(argc, argv, &a, err, errlen) != SC_OK) {
        return SC_ERR;
    }
    for (int i = 0; i < a.npolicies; i++) {
        if (!policy_known(a.policies[i])) {
            return rfail(err, errlen,
                         "unknown policy '%s' (a maxmemory-policy other than noeviction, "
                         "lru-exact or opt)",
                         a.policies[i]);
        }
    }
    if (rtrace_load(&t, a.trace, err, errlen) != SC_OK) {
        return SC_ERR;
    }
    int rc = SC_OK;
    for (int i = 0; rc == SC_OK && i < a.npolicies; i++) {
        rc = run_one(&t, a.policies[i], (uint64_t)a.capacity, a.seed, err, errlen);
    }
    rtrace_free(&t);
    return rc;
}
