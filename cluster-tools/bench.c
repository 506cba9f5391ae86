/*
 * bench.c -- slotcache-bench: the load and hit-ratio benchmarks of `make bench`.
 *
 *   slotcache-bench trace --keys N --requests M --zipf ALPHA [--seed S] [--prefix key:]
 *   slotcache-bench readthrough --host H --port P --trace FILE [--value-size 100] [--pipeline 32]
 *   slotcache-bench fill --host H --port P --keys N [--key-size 16] [--value-size 100]
 *                        [--pipeline 256]
 *
 * `trace` writes a Zipf-distributed key trace, one key a line, that is the
 * same on every run and machine for a given seed: the generator is our own
 * splitmix64 and the sampling an exact inverse CDF over the N ranks, so the
 * only platform dependence is libm's pow() rounding in the cumulative table
 * (well under one ulp), which moves a sample only if a draw lands on that ulp.
 *
 * `readthrough` replays a trace as a cache's client does (GET; on nil, SET)
 * and reports the hit ratio twice: from the server's keyspace_hits/misses
 * deltas and from the replies the client saw.  The two must agree, and they
 * do because a pipelined batch never holds the same key twice (see
 * replay_batch), so pipelining changes only the speed, not the counts.
 *
 * `fill` writes N distinct keys of an exact size, for bytes-per-key figures.
 *
 * The tool is a plain hiredis client (synchronous API, pipelined with
 * redisAppendCommandArgv/redisGetReply), so it measures any Redis-protocol
 * server the same way: that is what makes redis-server a fair anchor.
 * Errors are returned with their text in a struct bench_err and reported
 * once, in main, on stderr; the exit status is then 1.
 */
#include "common/defs.h"
#include "common/log.h"
#include "common/rand.h"
#include "common/util.h"

#include <hiredis/hiredis.h>

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BENCH_CONNECT_TIMEOUT_S 5
#define BENCH_REPLY_TIMEOUT_S 60 /* a server silent this long is hung, not slow */
#define BENCH_KEY_DIGITS 12      /* key:000000012345 */
#define BENCH_MAX_KEYS 999999999999LL
#define BENCH_MAX_VALUE (512LL * 1024 * 1024) /* redis's proto-max-bulk-len */
#define BENCH_MAX_PIPELINE 100000
#define BENCH_STDOUT_BUF (1 << 20)

struct bench_err {
    char msg[512];
};

static int fail(struct bench_err *err, const char *fmt, ...) SC_PRINTF(2, 3);

/* Records why the command failed; returns SC_ERR so callers can `return fail(...)`. */
static int
fail(struct bench_err *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    return SC_ERR;
}

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- options: `--name value` pairs, one table per subcommand ---- */

enum opt_type { OPT_INT, OPT_DOUBLE, OPT_STR };

struct opt {
    const char *name;   /* without the leading "--" */
    enum opt_type type; /* dst is long long *, double * or const char ** */
    void *dst;          /* holds the default on entry */
    double min, max;    /* bounds for OPT_INT and OPT_DOUBLE */
    bool required;
    bool seen;
};

static int
opt_set(struct opt *o, const char *val, struct bench_err *err)
{
    long long ll;
    double d;

    switch (o->type) {
    case OPT_INT:
        if (!util_str2ll(val, strlen(val), &ll) || (double)ll < o->min || (double)ll > o->max) {
            return fail(err, "--%s: expected an integer in [%.0f, %.0f], got '%s'", o->name, o->min,
                        o->max, val);
        }
        *(long long *)o->dst = ll;
        break;
    case OPT_DOUBLE:
        if (!util_str2d(val, strlen(val), &d) || d < o->min || d > o->max) {
            return fail(err, "--%s: expected a number in [%g, %g], got '%s'", o->name, o->min,
                        o->max, val);
        }
        *(double *)o->dst = d;
        break;
    case OPT_STR:
        *(const char **)o->dst = val;
        break;
    }
    o->seen = true;
    return SC_OK;
}

/* Parses argv (after the subcommand) into the table; every option takes a value. */
static int
opts_parse(struct opt *opts, size_t nopts, int argc, char **argv, struct bench_err *err)
{
    for (int i = 0; i < argc; i += 2) {
        struct opt *o = NULL;
        if (strncmp(argv[i], "--", 2) == 0) {
            for (size_t j = 0; j < nopts; j++) {
                if (strcmp(argv[i] + 2, opts[j].name) == 0) {
                    o = &opts[j];
                }
            }
        }
        if (o == NULL) {
            return fail(err, "unknown option '%s'", argv[i]);
        }
        if (i + 1 >= argc) {
            return fail(err, "%s needs a value", argv[i]);
        }
        if (opt_set(o, argv[i + 1], err) != SC_OK) {
            return SC_ERR;
        }
    }
    for (size_t j = 0; j < nopts; j++) {
        if (opts[j].required && !opts[j].seen) {
            return fail(err, "--%s is required", opts[j].name);
        }
    }
    return SC_OK;
}

/* ---- connection helpers ---- */

static redisContext *
bench_connect(const char *host, long long port, struct bench_err *err)
{
    struct timeval ctv = {BENCH_CONNECT_TIMEOUT_S, 0};
    struct timeval rtv = {BENCH_REPLY_TIMEOUT_S, 0};

    redisContext *c = redisConnectWithTimeout(host, (int)port, ctv);
    if (c == NULL) {
        fail(err, "cannot connect to %s:%lld: out of memory", host, port);
        return NULL;
    }
    if (c->err != 0 || redisSetTimeout(c, rtv) != REDIS_OK) {
        fail(err, "cannot connect to %s:%lld: %s", host, port, c->errstr);
        redisFree(c);
        return NULL;
    }
    return c;
}

/* Reads one pipelined reply; on an I/O or protocol error the connection is
 * unusable, so this is the only failure: error *replies* are the caller's. */
static redisReply *
bench_reply(redisContext *c, const char *what, struct bench_err *err)
{
    void *r = NULL;
    if (redisGetReply(c, &r) != REDIS_OK || r == NULL) {
        fail(err, "%s: connection to %s:%d lost: %s", what, c->tcp.host, c->tcp.port,
             c->errstr[0] != '\0' ? c->errstr : "no reply");
        return NULL;
    }
    return r;
}

/* Queues one command of the pipeline; hiredis copies the arguments, so the
 * caller may reuse their buffers at once.  Fails only without memory. */
static int
bench_append(redisContext *c, int argc, const char **argv, const size_t *argvlen,
             struct bench_err *err)
{
    if (redisAppendCommandArgv(c, argc, argv, argvlen) != REDIS_OK) {
        return fail(err, "%s: cannot queue the command: %s", argv[0],
                    c->errstr[0] != '\0' ? c->errstr : "out of memory");
    }
    return SC_OK;
}

/* Finds "name:<integer>\r\n" in an INFO reply. */
static int
info_field(const char *info, const char *name, unsigned long long *out, struct bench_err *err)
{
    size_t nlen = strlen(name);
    const char *p = info;
    while (p != NULL) {
        if (strncmp(p, name, nlen) == 0 && p[nlen] == ':') {
            const char *v = p + nlen + 1;
            if (util_str2ull(v, strcspn(v, "\r\n"), out)) {
                return SC_OK;
            }
            break;
        }
        p = strchr(p, '\n');
        p = p != NULL ? p + 1 : NULL;
    }
    return fail(err, "INFO has no integer field '%s'", name);
}

struct keyspace_counts {
    unsigned long long hits, misses;
};

static int
read_keyspace_counts(redisContext *c, struct keyspace_counts *kc, struct bench_err *err)
{
    redisReply *r = redisCommand(c, "INFO stats");
    if (r == NULL) {
        return fail(err, "INFO stats: %s", c->errstr);
    }
    int rc = SC_OK;
    if (r->type != REDIS_REPLY_STRING) {
        rc = fail(err, "INFO stats: unexpected reply (%s)",
                  r->type == REDIS_REPLY_ERROR ? r->str : "not a bulk string");
    } else if (info_field(r->str, "keyspace_hits", &kc->hits, err) != SC_OK ||
               info_field(r->str, "keyspace_misses", &kc->misses, err) != SC_OK) {
        rc = SC_ERR;
    }
    freeReplyObject(r);
    return rc;
}

/* ---- trace: Zipf(alpha) over N ranks ---- */

/* Traces use their own seeded splitmix64 stream (common/rand.h), so they
 * cannot change with a libc. */
/* cum[i] = sum over ranks 1..i+1 of rank^-alpha (not normalised: a draw is
 * scaled by cum[n-1] instead, which saves n divisions and their rounding). */
static double *
zipf_table(long long n, double alpha, struct bench_err *err)
{
    double *cum = malloc((size_t)n * sizeof(*cum));
    if (cum == NULL) {
        fail(err, "trace: no memory for a table of %lld ranks", n);
        return NULL;
    }
    double sum = 0;
    for (long long i = 0; i < n; i++) {
        sum += pow((double)(i + 1), -alpha);
        cum[i] = sum;
    }
    return cum;
}

/* The rank (1-based) whose CDF interval holds a uniform draw: the first i
 * with cum[i] > u * total, by binary search. */
static long long
zipf_rank(const double *cum, long long n, uint64_t draw)
{
    double x = (double)(draw >> 11) * 0x1.0p-53 * cum[n - 1];
    long long lo = 0, hi = n - 1;
    while (lo < hi) {
        long long mid = lo + (hi - lo) / 2;
        if (cum[mid] > x) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    return lo + 1;
}

static int
cmd_trace(int argc, char **argv, struct bench_err *err)
{
    long long keys = 0, requests = 0, seed = 1;
    double alpha = 0;
    const char *prefix = "key:";
    struct opt opts[] = {
        {"keys", OPT_INT, &keys, 1, (double)BENCH_MAX_KEYS, true},
        {"requests", OPT_INT, &requests, 0, (double)LLONG_MAX, true},
        {"zipf", OPT_DOUBLE, &alpha, 0, 100, true},
        {"seed", OPT_INT, &seed, (double)LLONG_MIN, (double)LLONG_MAX, false},
        {"prefix", OPT_STR, &prefix, 0, 0, false},
    };
    if (opts_parse(opts, ARRAY_LEN(opts), argc, argv, err) != SC_OK) {
        return SC_ERR;
    }
    double *cum = zipf_table(keys, alpha, err);
    if (cum == NULL) {
        return SC_ERR;
    }
    static char obuf[BENCH_STDOUT_BUF];
    setvbuf(stdout, obuf, _IOFBF, sizeof(obuf));
    uint64_t state = (uint64_t)seed;
    for (long long i = 0; i < requests; i++) {
        long long rank = zipf_rank(cum, keys, rand_splitmix64(&state));
        printf("%s%0*lld\n", prefix, BENCH_KEY_DIGITS, rank);
    }
    free(cum);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        return fail(err, "trace: writing stdout: %s", strerror(errno));
    }
    return SC_OK;
}

/* ---- readthrough: replay a trace with GET, SET on a miss ---- */

/* A trace in memory: the file's bytes with each line NUL-terminated in
 * place, and per request its key and a dense id (the same id for the same
 * key), so a batch can tell in O(1) whether it already holds a key. */
struct trace {
    char *text;
    const char **key;
    size_t *len;
    uint32_t *id;
    size_t nreq;
    size_t nkeys;
};

static void
trace_free(struct trace *t)
{
    free(t->text);
    free(t->key);
    free(t->len);
    free(t->id);
    memset(t, 0, sizeof(*t));
}

static int
read_file(const char *path, char **out, size_t *outlen, struct bench_err *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return fail(err, "cannot open trace %s: %s", path, strerror(errno));
    }
    size_t cap = 1 << 20, len = 0;
    char *buf = malloc(cap + 1);
    while (buf != NULL) {
        len += fread(buf + len, 1, cap - len, f);
        if (len < cap) {
            break;
        }
        cap *= 2;
        char *nbuf = realloc(buf, cap + 1);
        if (nbuf == NULL) {
            free(buf);
        }
        buf = nbuf;
    }
    const char *why = buf == NULL ? "no memory" : ferror(f) ? strerror(errno) : NULL;
    fclose(f);
    if (why != NULL) {
        free(buf);
        return fail(err, "cannot read trace %s: %s", path, why);
    }
    buf[len] = '\0';
    *out = buf;
    *outlen = len;
    return SC_OK;
}

static uint64_t
fnv1a(const char *s, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < len; i++) {
        h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
    }
    return h;
}

/* Gives each request the id of its key: an open-addressing table of request
 * indexes, twice as large as the number of requests (an upper bound on the
 * number of keys), so it never fills. */
static int
trace_assign_ids(struct trace *t, struct bench_err *err)
{
    size_t cap = 2;
    while (cap < 2 * t->nreq) {
        cap *= 2;
    }
    uint32_t *slot = calloc(cap, sizeof(*slot)); /* request index + 1; 0 is empty */
    if (slot == NULL) {
        return fail(err, "no memory for the trace's key table");
    }
    for (size_t i = 0; i < t->nreq; i++) {
        size_t h = (size_t)fnv1a(t->key[i], t->len[i]) & (cap - 1);
        for (;; h = (h + 1) & (cap - 1)) {
            if (slot[h] == 0) {
                slot[h] = (uint32_t)i + 1;
                t->id[i] = (uint32_t)t->nkeys++;
                break;
            }
            size_t j = slot[h] - 1;
            if (t->len[j] == t->len[i] && memcmp(t->key[j], t->key[i], t->len[i]) == 0) {
                t->id[i] = t->id[j];
                break;
            }
        }
    }
    free(slot);
    return SC_OK;
}

/* Splits the text into lines in place; a trailing "\r" is dropped (a trace
 * edited on Windows) and an empty line is an error, not a key. */
static int
trace_split(struct trace *t, size_t len, const char *path, struct bench_err *err)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        n += t->text[i] == '\n';
    }
    n += len > 0 && t->text[len - 1] != '\n';
    if (n >= UINT32_MAX) {
        return fail(err, "trace %s: more than %u requests", path, UINT32_MAX - 1);
    }
    t->key = malloc((n + 1) * sizeof(*t->key));
    t->len = malloc((n + 1) * sizeof(*t->len));
    t->id = malloc((n + 1) * sizeof(*t->id));
    if (t->key == NULL || t->len == NULL || t->id == NULL) {
        return fail(err, "no memory for a trace of %zu requests", n);
    }
    char *p = t->text, *end = t->text + len;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *eol = nl != NULL ? nl : end;
        *eol = '\0';
        size_t klen = (size_t)(eol - p);
        if (klen > 0 && p[klen - 1] == '\r') {
            p[--klen] = '\0';
        }
        if (klen == 0) {
            return fail(err, "trace %s:%zu: empty line", path, t->nreq + 1);
        }
        t->key[t->nreq] = p;
        t->len[t->nreq] = klen;
        t->nreq++;
        p = eol + 1;
    }
    return SC_OK;
}

static int
trace_load(struct trace *t, const char *path, struct bench_err *err)
{
    size_t len = 0;

    memset(t, 0, sizeof(*t));
    if (read_file(path, &t->text, &len, err) != SC_OK) {
        return SC_ERR;
    }
    if (trace_split(t, len, path, err) != SC_OK || trace_assign_ids(t, err) != SC_OK) {
        trace_free(t);
        return SC_ERR;
    }
    return SC_OK;
}

struct replay {
    redisContext *c;
    const struct trace *t;
    const char *value;
    size_t value_len;
    size_t pipeline;
    uint64_t *in_batch; /* per key id: the number of the last batch that held it */
    size_t *missed;     /* scratch: the requests of the batch whose GET missed */
    uint64_t batches;
    unsigned long long hits, misses, errors;
    char first_error[256];
};

static void
replay_error(struct replay *rp, const char *cmd, size_t req, const redisReply *r)
{
    if (rp->errors++ == 0) {
        snprintf(rp->first_error, sizeof(rp->first_error), "%s %s (request %zu): %s", cmd,
                 rp->t->key[req], req + 1, r->str);
    }
}

/* Counts the replies to the batch's GETs, remembering the misses. */
static int
replay_get_replies(struct replay *rp, size_t start, size_t end, size_t *nmissed,
                   struct bench_err *err)
{
    *nmissed = 0;
    for (size_t i = start; i < end; i++) {
        redisReply *r = bench_reply(rp->c, "GET", err);
        if (r == NULL) {
            return SC_ERR;
        }
        if (r->type == REDIS_REPLY_NIL) {
            rp->misses++;
            rp->missed[(*nmissed)++] = i;
        } else if (r->type == REDIS_REPLY_STRING) {
            rp->hits++;
        } else if (r->type == REDIS_REPLY_ERROR) {
            replay_error(rp, "GET", i, r);
        } else {
            int type = r->type;
            freeReplyObject(r);
            return fail(err, "GET %s: unexpected reply type %d", rp->t->key[i], type);
        }
        freeReplyObject(r);
    }
    return SC_OK;
}

static int
replay_set_misses(struct replay *rp, size_t nmissed, struct bench_err *err)
{
    for (size_t m = 0; m < nmissed; m++) {
        size_t i = rp->missed[m];
        const char *argv[3] = {"SET", rp->t->key[i], rp->value};
        size_t argvlen[3] = {3, rp->t->len[i], rp->value_len};
        if (bench_append(rp->c, 3, argv, argvlen, err) != SC_OK) {
            return SC_ERR;
        }
    }
    for (size_t m = 0; m < nmissed; m++) {
        redisReply *r = bench_reply(rp->c, "SET", err);
        if (r == NULL) {
            return SC_ERR;
        }
        if (r->type == REDIS_REPLY_ERROR) {
            replay_error(rp, "SET", rp->missed[m], r);
        }
        freeReplyObject(r);
    }
    return SC_OK;
}

/* Sends up to `pipeline` GETs from request `start`, then the SETs for those
 * that missed; returns the index after the batch (or 0 on a lost connection).
 *
 * A batch ends early at a key it already holds.  Had both GETs of a key been
 * in one batch, the second would miss too (its SET comes after the batch),
 * which a sequential client never sees; cut there, every GET of a key comes
 * after the SET of its earlier miss, so without eviction the counts are
 * exactly a sequential run's.  Under eviction the operations of other keys
 * within one batch are ordered GETs-then-SETs rather than interleaved,
 * which can change which key an eviction picks, but client and server still
 * count the very same GETs, so their hit ratios agree exactly. */
static size_t
replay_batch(struct replay *rp, size_t start, struct bench_err *err)
{
    const struct trace *t = rp->t;
    size_t end = start;
    size_t nmissed;

    rp->batches++;
    while (end < t->nreq && end - start < rp->pipeline && rp->in_batch[t->id[end]] != rp->batches) {
        const char *argv[2] = {"GET", t->key[end]};
        size_t argvlen[2] = {3, t->len[end]};
        rp->in_batch[t->id[end]] = rp->batches;
        if (bench_append(rp->c, 2, argv, argvlen, err) != SC_OK) {
            return 0;
        }
        end++;
    }
    if (replay_get_replies(rp, start, end, &nmissed, err) != SC_OK ||
        replay_set_misses(rp, nmissed, err) != SC_OK) {
        return 0;
    }
    return end;
}

static char *
make_value(long long size, struct bench_err *err)
{
    char *v = malloc((size_t)size + 1);
    if (v == NULL) {
        fail(err, "no memory for a value of %lld bytes", size);
        return NULL;
    }
    for (long long i = 0; i < size; i++) {
        v[i] = (char)('a' + i % 26); /* not all digits: redis would store an integer */
    }
    v[size] = '\0';
    return v;
}

static double
ratio(unsigned long long part, unsigned long long whole)
{
    return whole == 0 ? 0.0 : (double)part / (double)whole;
}

static int
replay_run(struct replay *rp, struct bench_err *err)
{
    struct keyspace_counts before, after;

    if (read_keyspace_counts(rp->c, &before, err) != SC_OK) {
        return SC_ERR;
    }
    double t0 = now_s();
    for (size_t i = 0; i < rp->t->nreq;) {
        i = replay_batch(rp, i, err);
        if (i == 0) {
            return SC_ERR;
        }
    }
    double secs = now_s() - t0;
    if (read_keyspace_counts(rp->c, &after, err) != SC_OK) {
        return SC_ERR;
    }
    unsigned long long hits = after.hits - before.hits;
    unsigned long long misses = after.misses - before.misses;
    double hr = ratio(hits, hits + misses);
    double chr = ratio(rp->hits, rp->hits + rp->misses);
    printf("requests=%zu hits=%llu misses=%llu hit_ratio=%.4f client_hit_ratio=%.4f "
           "seconds=%.3f client_hits=%llu client_misses=%llu batches=%llu errors=%llu\n",
           rp->t->nreq, hits, misses, hr, chr, secs, rp->hits, rp->misses,
           (unsigned long long)rp->batches, rp->errors);
    fflush(stdout);
    if (rp->errors > 0) {
        return fail(err, "readthrough: %llu error replies; the first: %s", rp->errors,
                    rp->first_error);
    }
    if (hits != rp->hits || misses != rp->misses) {
        return fail(err,
                    "readthrough: the server counted %llu hits/%llu misses, the client saw "
                    "%llu/%llu (another client on the server?)",
                    hits, misses, rp->hits, rp->misses);
    }
    return SC_OK;
}

static int
cmd_readthrough(int argc, char **argv, struct bench_err *err)
{
    const char *host = "127.0.0.1", *path = NULL;
    long long port = 6379, value_size = 100, pipeline = 32;
    struct opt opts[] = {
        {"host", OPT_STR, &host, 0, 0, false},
        {"port", OPT_INT, &port, 1, 65535, false},
        {"trace", OPT_STR, &path, 0, 0, true},
        {"value-size", OPT_INT, &value_size, 0, (double)BENCH_MAX_VALUE, false},
        {"pipeline", OPT_INT, &pipeline, 1, BENCH_MAX_PIPELINE, false},
    };
    struct trace t;
    struct replay rp = {.t = &t};
    int rc = SC_ERR;

    if (opts_parse(opts, ARRAY_LEN(opts), argc, argv, err) != SC_OK ||
        trace_load(&t, path, err) != SC_OK) {
        return SC_ERR;
    }
    rp.pipeline = (size_t)pipeline;
    rp.value_len = (size_t)value_size;
    rp.value = make_value(value_size, err);
    rp.in_batch = calloc(t.nkeys + 1, sizeof(*rp.in_batch));
    rp.missed = malloc(rp.pipeline * sizeof(*rp.missed));
    if (rp.value != NULL && (rp.in_batch == NULL || rp.missed == NULL)) {
        fail(err, "no memory for the replay of %zu keys", t.nkeys);
    } else if (rp.value != NULL && (rp.c = bench_connect(host, port, err)) != NULL) {
        rc = replay_run(&rp, err);
        redisFree(rp.c);
    }
    free((char *)rp.value);
    free(rp.in_batch);
    free(rp.missed);
    trace_free(&t);
    return rc;
}

/* ---- fill: N distinct keys of an exact size ---- */

/* Key i as key_size bytes: its decimal digits right-aligned over '0's, with
 * as much of "key:" in front as the spare room allows (16 bytes and N = 10^6
 * give "key:000000123456"), so every key of a run has the same length. */
static void
fill_key(char *dst, size_t key_size, size_t spare, long long i)
{
    static const char prefix[] = "key:";
    memset(dst, '0', key_size);
    for (size_t p = key_size; i > 0; i /= 10) {
        dst[--p] = (char)('0' + i % 10);
    }
    memcpy(dst, prefix, MIN(spare, sizeof(prefix) - 1));
}

static int
fill_batch(redisContext *c, long long from, long long to, const char *value, size_t vlen,
           size_t key_size, size_t spare, struct bench_err *err)
{
    char *kbuf = malloc(key_size);
    if (kbuf == NULL) {
        return fail(err, "no memory for a key of %zu bytes", key_size);
    }
    int rc = SC_OK;
    for (long long i = from; rc == SC_OK && i < to; i++) {
        const char *argv[3] = {"SET", kbuf, value};
        size_t argvlen[3] = {3, key_size, vlen};
        fill_key(kbuf, key_size, spare, i);
        rc = bench_append(c, 3, argv, argvlen, err);
    }
    free(kbuf);
    if (rc != SC_OK) {
        return SC_ERR;
    }
    for (long long i = from; i < to; i++) {
        redisReply *r = bench_reply(c, "SET", err);
        if (r == NULL) {
            return SC_ERR;
        }
        bool ok = r->type == REDIS_REPLY_STATUS;
        if (!ok) {
            fail(err, "SET of key %lld failed: %s", i + 1,
                 r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply type");
        }
        freeReplyObject(r);
        if (!ok) {
            return SC_ERR;
        }
    }
    return SC_OK;
}

static int
digits(long long n)
{
    int d = 1;
    while (n >= 10) {
        n /= 10;
        d++;
    }
    return d;
}

static int
cmd_fill(int argc, char **argv, struct bench_err *err)
{
    const char *host = "127.0.0.1";
    long long port = 6379, keys = 0, key_size = 16, value_size = 100, pipeline = 256;
    struct opt opts[] = {
        {"host", OPT_STR, &host, 0, 0, false},
        {"port", OPT_INT, &port, 1, 65535, false},
        {"keys", OPT_INT, &keys, 1, (double)BENCH_MAX_KEYS, true},
        {"key-size", OPT_INT, &key_size, 1, (double)BENCH_MAX_VALUE, false},
        {"value-size", OPT_INT, &value_size, 0, (double)BENCH_MAX_VALUE, false},
        {"pipeline", OPT_INT, &pipeline, 1, BENCH_MAX_PIPELINE, false},
    };
    if (opts_parse(opts, ARRAY_LEN(opts), argc, argv, err) != SC_OK) {
        return SC_ERR;
    }
    int need = digits(keys - 1);
    if (key_size < need) {
        return fail(err, "--key-size %lld cannot hold %lld distinct keys (needs %d bytes)",
                    key_size, keys, need);
    }
    char *value = make_value(value_size, err);
    if (value == NULL) {
        return SC_ERR;
    }
    redisContext *c = bench_connect(host, port, err);
    int rc = c != NULL ? SC_OK : SC_ERR;
    double t0 = now_s();
    for (long long i = 0; rc == SC_OK && i < keys; i += pipeline) {
        rc = fill_batch(c, i, MIN(i + pipeline, keys), value, (size_t)value_size, (size_t)key_size,
                        (size_t)(key_size - need), err);
    }
    if (rc == SC_OK) {
        printf("keys=%lld seconds=%.3f\n", keys, now_s() - t0);
    }
    if (c != NULL) {
        redisFree(c);
    }
    free(value);
    return rc;
}

/* ---- main ---- */

static const char usage[] =
    "usage:\n"
    "  slotcache-bench trace --keys N --requests M --zipf ALPHA [--seed S] [--prefix key:]\n"
    "      a Zipf(ALPHA) trace over N keys, one key a line on stdout; rank 1 is the\n"
    "      most popular and is key <prefix>000000000001\n"
    "  slotcache-bench readthrough [--host H] [--port P] --trace FILE [--value-size 100]\n"
    "                              [--pipeline 32]\n"
    "      replays FILE: GET, and SET on a nil reply; prints the server's and the\n"
    "      client's hit ratios\n"
    "  slotcache-bench fill [--host H] [--port P] --keys N [--key-size 16]\n"
    "                       [--value-size 100] [--pipeline 256]\n"
    "      writes N distinct keys of exactly key-size bytes\n";

int
main(int argc, char **argv)
{
    struct bench_err err = {{0}};
    int rc;

    log_setup(NULL, LL_NOTICE, 'C');
    if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        fputs(usage, stdout);
        return 0;
    }
    if (argc < 2) {
        fputs(usage, stderr);
        return 1;
    }
    if (strcmp(argv[1], "trace") == 0) {
        rc = cmd_trace(argc - 2, argv + 2, &err);
    } else if (strcmp(argv[1], "readthrough") == 0) {
        rc = cmd_readthrough(argc - 2, argv + 2, &err);
    } else if (strcmp(argv[1], "fill") == 0) {
        rc = cmd_fill(argc - 2, argv + 2, &err);
    } else {
        rc = fail(&err, "unknown command '%s' (try --help)", argv[1]);
    }
    if (rc != SC_OK) {
        log_warn("slotcache-bench %s: %s", argv[1], err.msg);
        return 1;
    }
    return 0;
}
