/*
 * bench.c -- slotcache-bench: the load and hit-ratio benchmarks of `make bench`.
 *
 *   slotcache-bench trace --keys N --requests M --zipf ALPHA [--seed S] [--prefix key:]
 *   slotcache-bench readthrough --host H --port P --trace FILE [--value-size 100] [--pipeline 32]
 *   slotcache-bench fill --host H --port P --keys N [--key-size 16] [--value-size 100]
 *                        [--pipeline 256]
 *   slotcache-bench run --host H --port P [--workload zipf|uniform|hotset|shifting|scan|trace]
 *                       [--clients C] [--pipeline P | --rate R] ... (see usage below)
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
 * `run` is the load generator: C connections, each on a thread of its own,
 * send seeded requests (GET, or SET for --write-ratio of them) over a key
 * space in a closed loop (pipeline P) or an open loop (a target rate, latency
 * from the intended send), and report throughput, the hit ratio from the
 * server's INFO beside the client's, and latency percentiles for hits,
 * misses and SETs, as text, CSV and JSON.  Its section below says how.
 *
 * The tool is a plain hiredis client (synchronous API, pipelined with
 * redisAppendCommandArgv/redisGetReply), so it measures any Redis-protocol
 * server the same way: that is what makes redis-server a fair anchor.
 * Errors are returned with their text in a struct bench_err and reported
 * once, in main, on stderr; the exit status is then 1.
 */
#include "cluster-tools/replay.h"
#include "common/defs.h"
#include "common/hist.h"
#include "common/log.h"
#include "common/rand.h"
#include "common/util.h"

#include <hiredis/hiredis.h>

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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
    unsigned long long loads; /* a proxy's keys asked of its loader */
    bool has_loads;           /* whether INFO had `loads` (a proxy does, a node does not) */
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
    } else {
        struct bench_err ignored;
        kc->has_loads = info_field(r->str, "loads", &kc->loads, &ignored) == SC_OK;
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
    long long shift = 0, shift_by = 0; /* the hot set moves every N requests: replay.h */
    struct opt opts[] = {
        {"keys", OPT_INT, &keys, 1, (double)BENCH_MAX_KEYS, true},
        {"requests", OPT_INT, &requests, 0, (double)LLONG_MAX, true},
        {"zipf", OPT_DOUBLE, &alpha, 0, 100, true},
        {"seed", OPT_INT, &seed, (double)LLONG_MIN, (double)LLONG_MAX, false},
        {"prefix", OPT_STR, &prefix, 0, 0, false},
        {"shift", OPT_INT, &shift, 0, (double)LLONG_MAX, false},
        {"shift-by", OPT_INT, &shift_by, 0, (double)BENCH_MAX_KEYS, false},
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
        rank = replay_shift_key(rank, i, keys, shift, shift_by);
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

/* Reads a whole file; `what` names it in errors ("trace", "key file"). */
static int
read_file(const char *path, const char *what, char **out, size_t *outlen, struct bench_err *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return fail(err, "cannot open %s %s: %s", what, path, strerror(errno));
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
        return fail(err, "cannot read %s %s: %s", what, path, why);
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
trace_split(struct trace *t, size_t len, const char *path, const char *what, struct bench_err *err)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        n += t->text[i] == '\n';
    }
    n += len > 0 && t->text[len - 1] != '\n';
    if (n >= UINT32_MAX) {
        return fail(err, "%s %s: more than %u lines", what, path, UINT32_MAX - 1);
    }
    t->key = malloc((n + 1) * sizeof(*t->key));
    t->len = malloc((n + 1) * sizeof(*t->len));
    t->id = malloc((n + 1) * sizeof(*t->id));
    if (t->key == NULL || t->len == NULL || t->id == NULL) {
        return fail(err, "no memory for a %s of %zu lines", what, n);
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
            return fail(err, "%s %s:%zu: empty line", what, path, t->nreq + 1);
        }
        t->key[t->nreq] = p;
        t->len[t->nreq] = klen;
        t->nreq++;
        p = eol + 1;
    }
    return SC_OK;
}

/* Loads a file of one key a line (a trace, or run's key file) without key
 * ids: t->key[i] and t->len[i] are line i. */
static int
lines_load(struct trace *t, const char *path, const char *what, struct bench_err *err)
{
    size_t len = 0;

    memset(t, 0, sizeof(*t));
    if (read_file(path, what, &t->text, &len, err) != SC_OK) {
        return SC_ERR;
    }
    if (trace_split(t, len, path, what, err) != SC_OK) {
        trace_free(t);
        return SC_ERR;
    }
    return SC_OK;
}

static int
trace_load(struct trace *t, const char *path, struct bench_err *err)
{
    if (lines_load(t, path, "trace", err) != SC_OK) {
        return SC_ERR;
    }
    if (trace_assign_ids(t, err) != SC_OK) {
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

/* ---- run: a load generator ---- */

/*
 * One thread per connection, each with a hiredis synchronous context.  Why
 * threads rather than hiredis async on one libev loop: the client must not be
 * the bottleneck, and a single loop thread caps the whole client at one core
 * (hiredis async also allocates a callback record per command), while the
 * servers it measures use the other cores; threads spread the client over
 * every core, keep each connection's code a plain sequential loop, and use
 * the synchronous API the other subcommands already use.
 *
 * Closed loop: a connection sends `pipeline` requests, reads their replies,
 * and sends the next batch; a request's latency runs from the batch's send
 * to its own reply.  Open loop (--rate): request j is due at t0 + j / rate,
 * whatever is outstanding; a connection sends what is due, polls its socket
 * until the next send is due, and reads what has arrived.  Latency runs from
 * the *intended* send time, so a server (or a client) that falls behind
 * shows as latency instead of silently lowering the rate (Gil Tene's
 * coordinated omission).
 */

#define RUN_MAX_CLIENTS 1024
#define RUN_MAX_PASSES 100        /* each keeps its histograms: 175 KB */
#define RUN_MAX_OUTSTANDING 16384 /* open loop: replies awaited per connection, at most */
#define RUN_MAX_RATE 1e8
#define RUN_DEFAULT_REQUESTS 100000
#define RUN_PROGRESS_TICK_NS 100000000ULL /* how often the main thread wakes */
#define RUN_SPLITMIX_GAMMA 0x9e3779b97f4a7c15ULL
#define RUN_DRAWS_PER_REQUEST 3

static uint64_t
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* -- key space -- */

/*
 * Key i (0-based; the workloads' rank i + 1) is either `prefix` + line i of a
 * key file (the sample data's keys: koi:<kepid>, from a file of kepids), or
 * `pre` + the number i + 1 + `post` from --key-format ("key:%012d" gives the
 * keys of `slotcache-bench trace`, so a trace and a run meet on one key space).
 */
struct keyspace {
    uint64_t n;
    size_t max_len;     /* the longest key, for the per-connection key buffer */
    struct trace lines; /* a key file's lines (lines.nreq == 0: generated keys) */
    const char *prefix;
    size_t prefix_len;
    char *pre, *post; /* --key-format around its one %d */
    size_t pre_len, post_len;
    int width;
};

static void
keyspace_free(struct keyspace *ks)
{
    trace_free(&ks->lines);
    free(ks->pre);
    free(ks->post);
    memset(ks, 0, sizeof(*ks));
}

/* Parses --key-format: literal text, "%%" for a '%', and exactly one "%d" or
 * "%0<width>d" (zero-padded) for the key's number.  A format of our own rather
 * than printf's, so that a user's string never reaches printf. */
static int
keyfmt_parse(struct keyspace *ks, const char *fmt, struct bench_err *err)
{
    size_t len = strlen(fmt);
    char *pre = malloc(len + 1), *post = malloc(len + 1);
    size_t *out_len = &ks->pre_len;
    char *out = pre;
    bool seen = false;

    ks->pre = pre;
    ks->post = post;
    if (pre == NULL || post == NULL) {
        return fail(err, "no memory for --key-format");
    }
    for (const char *p = fmt; *p != '\0'; p++) {
        if (*p != '%') {
            out[(*out_len)++] = *p;
            continue;
        }
        if (p[1] == '%') {
            out[(*out_len)++] = '%';
            p++;
            continue;
        }
        int width = 0;
        const char *q = p + 1;
        if (*q == '0') {
            while (*q >= '0' && *q <= '9' && width <= 20) {
                width = width * 10 + (*q++ - '0');
            }
        }
        if (*q != 'd' || seen || width > 20) {
            return fail(err,
                        "--key-format '%s': expected text with one %%d or %%0<width>d "
                        "(width up to 20) and %%%% for a '%%'",
                        fmt);
        }
        ks->width = width;
        seen = true;
        out = post;
        out_len = &ks->post_len;
        p = q;
    }
    if (!seen) {
        return fail(err, "--key-format '%s' has no %%d for the key's number", fmt);
    }
    return SC_OK;
}

/* Writes key i to buf (ks->max_len bytes at least, no NUL) and returns its
 * length. */
static size_t
keyspace_key(const struct keyspace *ks, uint64_t i, char *buf)
{
    if (ks->lines.nreq > 0) {
        size_t len = ks->lines.len[i];
        memcpy(buf, ks->prefix, ks->prefix_len);
        memcpy(buf + ks->prefix_len, ks->lines.key[i], len);
        return ks->prefix_len + len;
    }
    char num[UTIL_LL_STR_SIZE];
    size_t nlen = util_ull2str(num, i + 1);
    size_t pad = ks->width > (int)nlen ? (size_t)ks->width - nlen : 0;
    char *p = buf;
    memcpy(p, ks->pre, ks->pre_len);
    p += ks->pre_len;
    memset(p, '0', pad);
    p += pad;
    memcpy(p, num, nlen);
    p += nlen;
    memcpy(p, ks->post, ks->post_len);
    return (size_t)(p - buf) + ks->post_len;
}

/* -- workloads -- */

enum wl_kind { WL_ZIPF, WL_UNIFORM, WL_HOTSET, WL_SHIFTING, WL_SCAN, WL_TRACE };

static const char *const wl_names[] = {"zipf", "uniform", "hotset", "shifting", "scan", "trace"};

struct workload {
    enum wl_kind kind;
    uint64_t nkeys;
    uint64_t seed;
    double alpha;         /* zipf */
    double *zipf_cum;     /* zipf: the table of zipf_table() */
    double hot_share;     /* hotset, shifting: the share of requests on the hot keys */
    uint64_t hot_keys;    /* hotset, shifting: how many keys are hot (at least 1) */
    uint64_t shift_every; /* shifting: requests between two moves of the hot set */
    double write_ratio;
};

/* A uniform integer in [0, n) from 64 random bits (Lemire's multiply-shift:
 * no division, and a bias below n / 2^64). */
static uint64_t
draw_below(uint64_t draw, uint64_t n)
{
    return (uint64_t)(((unsigned __int128)draw * n) >> 64);
}

static double
draw_unit(uint64_t draw)
{
    return (double)(draw >> 11) * 0x1.0p-53;
}

/* Hot set: keys 0..hot_keys-1 take hot_share of the requests, uniformly;
 * the other keys share the rest, uniformly. */
static uint64_t
hot_index(const struct workload *w, uint64_t d1, uint64_t d2)
{
    if (w->hot_keys >= w->nkeys || draw_unit(d1) < w->hot_share) {
        return draw_below(d2, w->hot_keys);
    }
    return w->hot_keys + draw_below(d2, w->nkeys - w->hot_keys);
}

/*
 * Request j: the index of its key, and whether it is a SET.  A pure function
 * of the seed and j: request j takes draws 3j+1..3j+3 of the seed's splitmix64
 * stream, and splitmix64's state is a counter, so the draws of request j are
 * reached by one multiplication.  Each connection computes its own requests
 * (j = its number, + clients, + 2 clients, ...) without a shared generator,
 * and a run is the same requests in the same order per connection every time.
 *
 * shifting: the hot set of hotset, moved by hot_keys (to keys it did not hold)
 * every shift_every requests, counted over the whole run: connections send
 * every clients-th request each, so the move happens on all of them within a
 * batch of each other.
 */
static uint64_t
wl_request(const struct workload *w, uint64_t j, bool *is_write)
{
    uint64_t state = w->seed + j * RUN_DRAWS_PER_REQUEST * RUN_SPLITMIX_GAMMA;
    uint64_t d1 = rand_splitmix64(&state);
    uint64_t d2 = rand_splitmix64(&state);
    uint64_t d3 = rand_splitmix64(&state);

    *is_write = draw_unit(d3) < w->write_ratio;
    switch (w->kind) {
    case WL_ZIPF:
        return (uint64_t)zipf_rank(w->zipf_cum, (long long)w->nkeys, d1) - 1;
    case WL_UNIFORM:
        return draw_below(d1, w->nkeys);
    case WL_HOTSET:
        return hot_index(w, d1, d2);
    case WL_SHIFTING: {
        unsigned __int128 start = (unsigned __int128)(j / w->shift_every) * w->hot_keys;
        return (uint64_t)((hot_index(w, d1, d2) + start) % w->nkeys);
    }
    case WL_SCAN:
    case WL_TRACE:
        break;
    }
    return j % w->nkeys;
}

/* -- configuration -- */

enum classify { CLASSIFY_REPLY, CLASSIFY_PASS };

struct run_cfg {
    const char *host;
    long long port;
    struct keyspace ks;
    struct workload wl;
    uint64_t requests; /* per pass; UINT64_MAX: until --duration */
    double duration;   /* seconds; 0: no limit */
    long long clients, pipeline;
    double rate; /* requests/s over all connections; 0: closed loop */
    char *value;
    size_t value_len;
    long long passes;
    enum classify classify;
    bool progress, dry_run;
    FILE *csv, *json;
    const char *csv_path, *json_path;
};

static bool
opt_seen(const struct opt *opts, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(opts[i].name, name) == 0) {
            return opts[i].seen;
        }
    }
    return false;
}

static int
parse_enum(const char *opt, const char *val, const char *const *names, size_t n, int *out,
           struct bench_err *err)
{
    char list[256] = "";
    for (size_t i = 0; i < n; i++) {
        if (strcmp(val, names[i]) == 0) {
            *out = (int)i;
            return SC_OK;
        }
        snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i > 0 ? ", " : "",
                 names[i]);
    }
    return fail(err, "unknown --%s '%s' (one of: %s)", opt, val, list);
}

/* Options that make sense with only some workloads are refused elsewhere, so
 * that a typo'd combination fails instead of being silently ignored. */
static int
check_workload_opts(const struct opt *opts, size_t n, enum wl_kind kind, struct bench_err *err)
{
    static const struct {
        const char *opt;
        unsigned kinds; /* bit per enum wl_kind */
        const char *where;
    } only[] = {
        {"alpha", 1u << WL_ZIPF, "--workload zipf"},
        {"hot-requests", 1u << WL_HOTSET | 1u << WL_SHIFTING, "--workload hotset and shifting"},
        {"hot-keys", 1u << WL_HOTSET | 1u << WL_SHIFTING, "--workload hotset and shifting"},
        {"shift-every", 1u << WL_SHIFTING, "--workload shifting"},
        {"trace", 1u << WL_TRACE, "--workload trace"},
        {"keys", ~(1u << WL_TRACE), "workloads over a key space, not to a trace"},
        {"key-file", ~(1u << WL_TRACE), "workloads over a key space, not to a trace"},
        {"key-format", ~(1u << WL_TRACE), "workloads over a key space, not to a trace"},
    };
    for (size_t i = 0; i < ARRAY_LEN(only); i++) {
        if (opt_seen(opts, n, only[i].opt) && !(only[i].kinds & (1u << kind))) {
            return fail(err, "--%s applies to %s only", only[i].opt, only[i].where);
        }
    }
    if (kind == WL_TRACE && !opt_seen(opts, n, "trace")) {
        return fail(err, "--workload trace needs --trace FILE");
    }
    if (opt_seen(opts, n, "key-file") && opt_seen(opts, n, "key-format")) {
        return fail(err, "--key-file and --key-format are two sources of keys: give one");
    }
    if (opt_seen(opts, n, "key-prefix") && !opt_seen(opts, n, "key-file")) {
        return fail(err, "--key-prefix applies to --key-file only");
    }
    return SC_OK;
}

/* Builds the key space: a trace's lines, a key file's (its first --keys), or
 * --keys generated names. */
static int
keyspace_setup(struct keyspace *ks, enum wl_kind kind, const char *trace_path, const char *key_file,
               const char *key_format, long long keys, bool keys_seen, struct bench_err *err)
{
    const char *path = kind == WL_TRACE ? trace_path : key_file;
    if (path != NULL) {
        if (lines_load(&ks->lines, path, kind == WL_TRACE ? "trace" : "key file", err) != SC_OK) {
            return SC_ERR;
        }
        if (ks->lines.nreq == 0) {
            return fail(err, "%s is empty", path);
        }
        if (keys_seen && (uint64_t)keys > ks->lines.nreq) {
            return fail(err, "--keys %lld: the key file %s has only %zu keys", keys, path,
                        ks->lines.nreq);
        }
        ks->n = keys_seen ? (uint64_t)keys : ks->lines.nreq;
        for (uint64_t i = 0; i < ks->n; i++) {
            ks->max_len = MAX(ks->max_len, ks->lines.len[i]);
        }
        if (kind == WL_TRACE) {
            ks->prefix = "";
        }
        ks->prefix_len = strlen(ks->prefix);
        ks->max_len += ks->prefix_len;
        return SC_OK;
    }
    if (keyfmt_parse(ks, key_format, err) != SC_OK) {
        return SC_ERR;
    }
    ks->n = (uint64_t)keys;
    ks->max_len = ks->pre_len + ks->post_len + (size_t)MAX(ks->width, UTIL_LL_STR_SIZE);
    return SC_OK;
}

static int
workload_setup(struct run_cfg *cfg, double alpha, double hot_requests, double hot_keys,
               long long shift_every, long long seed, struct bench_err *err)
{
    struct workload *w = &cfg->wl;

    w->nkeys = cfg->ks.n;
    w->seed = (uint64_t)seed;
    w->alpha = alpha;
    w->hot_share = hot_requests / 100.0;
    w->hot_keys = (uint64_t)llround(hot_keys / 100.0 * (double)w->nkeys);
    w->hot_keys = MAX(w->hot_keys, 1);
    w->shift_every = (uint64_t)shift_every;
    if (w->kind == WL_ZIPF) {
        w->zipf_cum = zipf_table((long long)w->nkeys, alpha, err);
        if (w->zipf_cum == NULL) {
            return SC_ERR;
        }
    }
    return SC_OK;
}

/* The checks that span several options; called once every option is read. */
static int
check_run_opts(const struct run_cfg *cfg, const struct opt *opts, size_t n, struct bench_err *err)
{
    if (cfg->rate > 0 && opt_seen(opts, n, "pipeline")) {
        return fail(err, "--pipeline is for the closed loop; with --rate requests are sent on "
                         "schedule, however many replies are awaited");
    }
    if (cfg->requests == UINT64_MAX && cfg->duration == 0) {
        return fail(err, "internal: no bound on the run");
    }
    if (cfg->dry_run && cfg->requests == UINT64_MAX) {
        return fail(err, "--dry-run needs a number of --requests");
    }
    if (cfg->classify == CLASSIFY_PASS) {
        if (cfg->wl.kind != WL_SCAN || cfg->passes < 2 || cfg->wl.write_ratio > 0 ||
            cfg->requests > cfg->wl.nkeys || cfg->duration > 0) {
            return fail(err, "--classify pass labels pass 1's GETs misses and later passes' "
                             "hits: it needs --workload scan, --passes 2 or more, "
                             "--write-ratio 0, no --duration and --requests at most --keys "
                             "(each key once per pass)");
        }
    }
    return SC_OK;
}

static int
open_output(const char *path, FILE **f, struct bench_err *err)
{
    if (path == NULL) {
        return SC_OK;
    }
    *f = fopen(path, "w");
    if (*f == NULL) {
        return fail(err, "cannot write %s: %s", path, strerror(errno));
    }
    return SC_OK;
}

static void
run_cfg_free(struct run_cfg *cfg)
{
    keyspace_free(&cfg->ks);
    free(cfg->wl.zipf_cum);
    free(cfg->value);
    if (cfg->csv != NULL) {
        fclose(cfg->csv);
    }
    if (cfg->json != NULL) {
        fclose(cfg->json);
    }
}

static const char *const classify_names[] = {"reply", "pass"};

static int
run_parse(struct run_cfg *cfg, int argc, char **argv, struct bench_err *err)
{
    const char *workload = "zipf", *trace_path = NULL, *key_file = NULL;
    const char *key_format = "key:%012d", *classify = "reply";
    long long keys = 10000, requests = RUN_DEFAULT_REQUESTS, shift_every = 10000, seed = 1;
    long long value_size = 100, progress = -1, dry_run = 0;
    double alpha = 0.99, hot_requests = 90, hot_keys = 10, write_ratio = 0;
    int kind, cls;

    cfg->host = "127.0.0.1";
    cfg->port = 6379;
    cfg->clients = 1;
    cfg->pipeline = 1;
    cfg->passes = 1;
    cfg->ks.prefix = "koi:";
    struct opt opts[] = {
        {"host", OPT_STR, &cfg->host, 0, 0, false},
        {"port", OPT_INT, &cfg->port, 1, 65535, false},
        {"workload", OPT_STR, &workload, 0, 0, false},
        {"alpha", OPT_DOUBLE, &alpha, 0, 100, false},
        {"hot-requests", OPT_DOUBLE, &hot_requests, 0, 100, false},
        {"hot-keys", OPT_DOUBLE, &hot_keys, 1e-9, 100, false},
        {"shift-every", OPT_INT, &shift_every, 1, (double)LLONG_MAX, false},
        {"trace", OPT_STR, &trace_path, 0, 0, false},
        {"keys", OPT_INT, &keys, 1, (double)BENCH_MAX_KEYS, false},
        {"key-file", OPT_STR, &key_file, 0, 0, false},
        {"key-prefix", OPT_STR, &cfg->ks.prefix, 0, 0, false},
        {"key-format", OPT_STR, &key_format, 0, 0, false},
        {"requests", OPT_INT, &requests, 1, (double)LLONG_MAX, false},
        {"duration", OPT_DOUBLE, &cfg->duration, 1e-3, 1e7, false},
        {"clients", OPT_INT, &cfg->clients, 1, RUN_MAX_CLIENTS, false},
        {"pipeline", OPT_INT, &cfg->pipeline, 1, BENCH_MAX_PIPELINE, false},
        {"rate", OPT_DOUBLE, &cfg->rate, 1e-3, RUN_MAX_RATE, false},
        {"write-ratio", OPT_DOUBLE, &write_ratio, 0, 1, false},
        {"value-size", OPT_INT, &value_size, 0, (double)BENCH_MAX_VALUE, false},
        {"seed", OPT_INT, &seed, (double)LLONG_MIN, (double)LLONG_MAX, false},
        {"passes", OPT_INT, &cfg->passes, 1, RUN_MAX_PASSES, false},
        {"classify", OPT_STR, &classify, 0, 0, false},
        {"csv", OPT_STR, &cfg->csv_path, 0, 0, false},
        {"json", OPT_STR, &cfg->json_path, 0, 0, false},
        {"progress", OPT_INT, &progress, 0, 1, false},
        {"dry-run", OPT_INT, &dry_run, 0, 1, false},
    };
    const size_t n = ARRAY_LEN(opts);

    if (opts_parse(opts, n, argc, argv, err) != SC_OK ||
        parse_enum("workload", workload, wl_names, ARRAY_LEN(wl_names), &kind, err) != SC_OK ||
        parse_enum("classify", classify, classify_names, 2, &cls, err) != SC_OK ||
        check_workload_opts(opts, n, (enum wl_kind)kind, err) != SC_OK) {
        return SC_ERR;
    }
    cfg->wl.kind = (enum wl_kind)kind;
    cfg->wl.write_ratio = write_ratio;
    cfg->classify = (enum classify)cls;
    cfg->dry_run = dry_run == 1;
    cfg->progress = progress == -1 ? isatty(STDERR_FILENO) : progress == 1;
    if (keyspace_setup(&cfg->ks, cfg->wl.kind, trace_path, key_file, key_format, keys,
                       opt_seen(opts, n, "keys"), err) != SC_OK ||
        workload_setup(cfg, alpha, hot_requests, hot_keys, shift_every, seed, err) != SC_OK) {
        return SC_ERR;
    }
    /* A scan or a trace is one pass over its keys unless told otherwise; a
     * run with only a --duration is bounded by the clock alone. */
    bool sequential = cfg->wl.kind == WL_SCAN || cfg->wl.kind == WL_TRACE;
    if (opt_seen(opts, n, "requests")) {
        cfg->requests = (uint64_t)requests;
    } else if (cfg->duration > 0) {
        cfg->requests = UINT64_MAX;
    } else {
        cfg->requests = sequential ? cfg->ks.n : (uint64_t)requests;
    }
    cfg->value_len = (size_t)value_size;
    cfg->value = make_value(value_size, err);
    if (cfg->value == NULL || check_run_opts(cfg, opts, n, err) != SC_OK ||
        open_output(cfg->csv_path, &cfg->csv, err) != SC_OK ||
        open_output(cfg->json_path, &cfg->json, err) != SC_OK) {
        return SC_ERR;
    }
    return SC_OK;
}

/* -- the connections -- */

enum op_class { OP_GET_HIT, OP_GET_MISS, OP_SET, OP_NCLASS };

static const char *const op_names[OP_NCLASS] = {"get_hit", "get_miss", "set"};

struct run_counts {
    uint64_t gets, sets, hits, nils, errors; /* hits and nils: as the client saw GETs */
};

/* A request sent and not yet answered. */
struct pending {
    uint64_t since_ns; /* send time (closed loop) or intended send time (open loop) */
    bool is_write;
};

struct run;

struct worker {
    pthread_t tid;
    struct run *run;
    redisContext *c;
    uint64_t first;        /* this connection sends requests first, first + clients, ... */
    struct hist *hist;     /* [OP_NCLASS], this pass */
    struct run_counts cnt; /* this pass */
    char first_error[256];
    char *keybuf;
    struct pending *ring; /* pipeline entries (closed loop) or a FIFO (open loop) */
    size_t ring_cap;
    uint64_t end_ns;       /* when its last reply of the pass came */
    _Atomic uint64_t done; /* requests answered this pass, for the progress line */
    _Atomic bool finished;
    struct bench_err err;
    int rc;
};

struct run {
    const struct run_cfg *cfg;
    struct worker *w;
    int pass;              /* 1-based */
    uint64_t t0_ns;        /* the pass's start: open loop's request 0 is due then */
    uint64_t t_end_ns;     /* --duration's end; UINT64_MAX: none */
    double ns_per_request; /* open loop */
    _Atomic bool stop;     /* a connection failed: the others stop too */
};

/* Queues request j (GET or SET of its key) on the connection. */
static int
worker_append(struct worker *w, uint64_t j, bool *is_write)
{
    const struct run_cfg *cfg = w->run->cfg;
    uint64_t k = wl_request(&cfg->wl, j, is_write);
    size_t klen = keyspace_key(&cfg->ks, k, w->keybuf);
    const char *argv[3] = {*is_write ? "SET" : "GET", w->keybuf, cfg->value};
    size_t argvlen[3] = {3, klen, cfg->value_len};
    return bench_append(w->c, *is_write ? 3 : 2, argv, argvlen, &w->err);
}

static void
worker_error(struct worker *w, bool is_write, const redisReply *r)
{
    if (w->cnt.errors++ == 0) {
        snprintf(w->first_error, sizeof(w->first_error), "%s: %s", is_write ? "SET" : "GET",
                 r->str);
    }
}

/* Counts one reply and files its latency under its class: a GET is a hit or
 * a miss by its reply (nil = miss), or with --classify pass by the pass it
 * belongs to (pass 1 = miss).  Error replies are counted, not timed. */
static int
worker_record(struct worker *w, bool is_write, redisReply *r, uint64_t lat_ns)
{
    int type = r->type;
    bool nil = type == REDIS_REPLY_NIL;

    if (type == REDIS_REPLY_ERROR) {
        worker_error(w, is_write, r);
    } else if (is_write) {
        w->cnt.sets++;
        hist_record(&w->hist[OP_SET], lat_ns);
    } else if (nil || type == REDIS_REPLY_STRING) {
        w->cnt.gets++;
        w->cnt.nils += nil;
        w->cnt.hits += !nil;
        bool miss = w->run->cfg->classify == CLASSIFY_PASS ? w->run->pass == 1 : nil;
        hist_record(&w->hist[miss ? OP_GET_MISS : OP_GET_HIT], lat_ns);
    }
    freeReplyObject(r);
    if (type != REDIS_REPLY_ERROR && type != REDIS_REPLY_NIL && type != REDIS_REPLY_STRING &&
        !(is_write && type == REDIS_REPLY_STATUS)) {
        return fail(&w->err, "%s: unexpected reply type %d", is_write ? "SET" : "GET", type);
    }
    atomic_fetch_add_explicit(&w->done, 1, memory_order_relaxed);
    return SC_OK;
}

static bool
run_over(const struct run *r, uint64_t now)
{
    return atomic_load_explicit(&r->stop, memory_order_relaxed) || now >= r->t_end_ns;
}

/* Closed loop: batches of `pipeline` requests, each answered before the next. */
static int
worker_closed(struct worker *w)
{
    const struct run *r = w->run;
    const uint64_t step = (uint64_t)r->cfg->clients, total = r->cfg->requests;
    uint64_t j = w->first;

    while (j < total && !run_over(r, now_ns())) {
        size_t nb = 0;
        for (; nb < w->ring_cap && j < total; nb++, j += step) {
            if (worker_append(w, j, &w->ring[nb].is_write) != SC_OK) {
                return SC_ERR;
            }
        }
        uint64_t sent = now_ns(); /* redisGetReply writes the batch first */
        for (size_t b = 0; b < nb; b++) {
            bool is_write = w->ring[b].is_write;
            redisReply *rep = bench_reply(w->c, is_write ? "SET" : "GET", &w->err);
            if (rep == NULL || worker_record(w, is_write, rep, now_ns() - sent) != SC_OK) {
                return SC_ERR;
            }
        }
    }
    w->end_ns = now_ns();
    return SC_OK;
}

static uint64_t
due_ns(const struct run *r, uint64_t j)
{
    return r->t0_ns + (uint64_t)((double)j * r->ns_per_request);
}

/* Writes everything queued; the socket is blocking, so this waits only when
 * the kernel's send buffer is full, i.e. the server has stopped reading. */
static int
worker_flush(struct worker *w)
{
    int done = 0;
    while (!done) {
        if (redisBufferWrite(w->c, &done) != REDIS_OK) {
            return fail(&w->err, "connection to %s:%d lost: %s", w->c->tcp.host, w->c->tcp.port,
                        w->c->errstr);
        }
    }
    return SC_OK;
}

/* Reads what the socket has and records every whole reply in it. */
static int
worker_drain(struct worker *w, size_t *head, size_t *outstanding)
{
    if (redisBufferRead(w->c) != REDIS_OK) {
        return fail(&w->err, "connection to %s:%d lost: %s", w->c->tcp.host, w->c->tcp.port,
                    w->c->errstr);
    }
    uint64_t now = now_ns();
    for (;;) {
        void *rep = NULL;
        if (redisGetReplyFromReader(w->c, &rep) != REDIS_OK) {
            return fail(&w->err, "reply from %s:%d: %s", w->c->tcp.host, w->c->tcp.port,
                        w->c->errstr);
        }
        if (rep == NULL) {
            return SC_OK;
        }
        if (*outstanding == 0) {
            freeReplyObject(rep);
            return fail(&w->err, "a reply to no request from %s:%d", w->c->tcp.host,
                        w->c->tcp.port);
        }
        struct pending *p = &w->ring[*head];
        *head = (*head + 1) % w->ring_cap;
        (*outstanding)--;
        uint64_t lat = now > p->since_ns ? now - p->since_ns : 0;
        if (worker_record(w, p->is_write, rep, lat) != SC_OK) {
            return SC_ERR;
        }
    }
}

/* Waits until the socket is readable or `until` (CLOCK_MONOTONIC ns) passes. */
static int
worker_wait(struct worker *w, uint64_t until, bool *readable)
{
    uint64_t now = now_ns();
    uint64_t wait = until > now ? until - now : 0;
    struct timespec ts = {(time_t)(wait / 1000000000ULL), (long)(wait % 1000000000ULL)};
    struct pollfd pfd = {.fd = w->c->fd, .events = POLLIN};

    int n = ppoll(&pfd, 1, &ts, NULL);
    if (n < 0 && errno != EINTR) {
        return fail(&w->err, "poll: %s", strerror(errno));
    }
    *readable = n > 0;
    return SC_OK;
}

/* Open loop: request j is due at t0 + j / rate; everything due is sent at
 * once, and the connection waits on its socket until the next one is due.
 * Past RUN_MAX_OUTSTANDING unanswered requests it stops sending until
 * replies come; their latency still counts from the intended time. */
static int
worker_open(struct worker *w)
{
    const struct run *r = w->run;
    const uint64_t step = (uint64_t)r->cfg->clients, total = r->cfg->requests;
    uint64_t j = w->first;
    size_t head = 0, outstanding = 0;
    /* a request due after --duration's end is not sent */
    bool more = j < total && !run_over(r, due_ns(r, j));

    while (more || outstanding > 0) {
        uint64_t now = now_ns();
        bool sent = false;
        while (more && outstanding < w->ring_cap && due_ns(r, j) <= now) {
            struct pending *p = &w->ring[(head + outstanding) % w->ring_cap];
            p->since_ns = due_ns(r, j);
            if (worker_append(w, j, &p->is_write) != SC_OK) {
                return SC_ERR;
            }
            outstanding++;
            sent = true;
            j += step;
            more = j < total && !run_over(r, due_ns(r, j));
        }
        if (sent && worker_flush(w) != SC_OK) {
            return SC_ERR;
        }
        if (!more && outstanding == 0) {
            break;
        }
        bool can_send = more && outstanding < w->ring_cap;
        uint64_t until =
            can_send ? due_ns(r, j) : now_ns() + (uint64_t)BENCH_REPLY_TIMEOUT_S * 1000000000ULL;
        bool readable = false;
        if (worker_wait(w, until, &readable) != SC_OK) {
            return SC_ERR;
        }
        if (readable && worker_drain(w, &head, &outstanding) != SC_OK) {
            return SC_ERR;
        }
        if (!readable && !can_send && now_ns() >= until) {
            return fail(&w->err, "no reply from %s:%d in %d s", w->c->tcp.host, w->c->tcp.port,
                        BENCH_REPLY_TIMEOUT_S);
        }
    }
    w->end_ns = now_ns();
    return SC_OK;
}

static void *
worker_main(void *arg)
{
    struct worker *w = arg;
    w->rc = w->run->cfg->rate > 0 ? worker_open(w) : worker_closed(w);
    if (w->rc != SC_OK) {
        atomic_store(&w->run->stop, true);
    }
    atomic_store(&w->finished, true);
    return NULL;
}

/* -- passes -- */

/* What a pass measured: the connections' counts and histograms merged, and
 * the server's counters before and after. */
struct pass_result {
    double seconds;
    struct run_counts cnt;
    struct hist hist[OP_NCLASS];
    struct keyspace_counts before, after;
    char first_error[256];
};

static void
progress_line(const struct run *r, uint64_t start_ns)
{
    uint64_t done = 0;
    for (long long i = 0; i < r->cfg->clients; i++) {
        done += atomic_load_explicit(&r->w[i].done, memory_order_relaxed);
    }
    double secs = (double)(now_ns() - start_ns) / 1e9;
    fprintf(stderr, "\rpass %d: %llu requests in %.1f s, %.0f/s    ", r->pass,
            (unsigned long long)done, secs, secs > 0 ? (double)done / secs : 0.0);
}

/* Waits for every connection of the pass; with a progress line, by polling
 * their `finished` flags so that the line is redrawn once a second. */
static void
wait_workers(struct run *r)
{
    uint64_t next_progress = r->t0_ns + 1000000000ULL;
    for (long long i = 0; i < r->cfg->clients; i++) {
        while (r->cfg->progress && !atomic_load(&r->w[i].finished)) {
            struct timespec ts = {0, (long)RUN_PROGRESS_TICK_NS};
            nanosleep(&ts, NULL);
            if (now_ns() >= next_progress) {
                progress_line(r, r->t0_ns);
                next_progress += 1000000000ULL;
            }
        }
        pthread_join(r->w[i].tid, NULL);
    }
    if (r->cfg->progress) {
        progress_line(r, r->t0_ns);
        fputc('\n', stderr);
    }
}

static void
worker_reset(struct worker *w)
{
    memset(w->hist, 0, OP_NCLASS * sizeof(*w->hist));
    memset(&w->cnt, 0, sizeof(w->cnt));
    w->first_error[0] = '\0';
    w->done = 0;
    w->finished = false;
    w->rc = SC_OK;
    w->end_ns = 0;
}

static void
pass_collect(const struct run *r, struct pass_result *res)
{
    uint64_t end = r->t0_ns;
    for (long long i = 0; i < r->cfg->clients; i++) {
        const struct worker *w = &r->w[i];
        for (int k = 0; k < OP_NCLASS; k++) {
            hist_merge(&res->hist[k], &w->hist[k]);
        }
        res->cnt.gets += w->cnt.gets;
        res->cnt.sets += w->cnt.sets;
        res->cnt.hits += w->cnt.hits;
        res->cnt.nils += w->cnt.nils;
        if (w->cnt.errors > 0 && res->cnt.errors == 0) {
            snprintf(res->first_error, sizeof(res->first_error), "%s", w->first_error);
        }
        res->cnt.errors += w->cnt.errors;
        end = MAX(end, w->end_ns);
    }
    res->seconds = (double)(end - r->t0_ns) / 1e9;
}

static int
run_pass(struct run *r, redisContext *ctl, struct pass_result *res, struct bench_err *err)
{
    const struct run_cfg *cfg = r->cfg;

    if (read_keyspace_counts(ctl, &res->before, err) != SC_OK) {
        return SC_ERR;
    }
    for (long long i = 0; i < cfg->clients; i++) {
        worker_reset(&r->w[i]);
    }
    r->t0_ns = now_ns();
    r->t_end_ns = cfg->duration > 0 ? r->t0_ns + (uint64_t)(cfg->duration * 1e9) : UINT64_MAX;
    for (long long i = 0; i < cfg->clients; i++) {
        int e = pthread_create(&r->w[i].tid, NULL, worker_main, &r->w[i]);
        if (e != 0) {
            atomic_store(&r->stop, true);
            for (long long k = 0; k < i; k++) {
                pthread_join(r->w[k].tid, NULL);
            }
            return fail(err, "cannot start connection thread %lld: %s", i + 1, strerror(e));
        }
    }
    wait_workers(r);
    for (long long i = 0; i < cfg->clients; i++) {
        if (r->w[i].rc != SC_OK) {
            *err = r->w[i].err;
            return SC_ERR;
        }
    }
    pass_collect(r, res);
    return read_keyspace_counts(ctl, &res->after, err);
}

/* -- reports: text on stdout, CSV and JSON files -- */

static double
us(uint64_t ns)
{
    return (double)ns / 1000.0;
}

static const double pctls[] = {50, 90, 99, 99.9};
static const char *const pctl_names[] = {"p50", "p90", "p99", "p999"};

/* The figures every report derives from a pass. */
struct pass_view {
    unsigned long long requests, hits, misses, loads;
    double throughput, hit_ratio, client_hit_ratio;
    bool has_ratio, has_client_ratio, has_loads, agree;
};

static struct pass_view
pass_view(const struct pass_result *p)
{
    struct pass_view v = {0};
    v.requests = p->cnt.gets + p->cnt.sets + p->cnt.errors;
    v.hits = p->after.hits - p->before.hits;
    v.misses = p->after.misses - p->before.misses;
    v.has_loads = p->before.has_loads && p->after.has_loads;
    v.loads = v.has_loads ? p->after.loads - p->before.loads : 0;
    v.has_ratio = v.hits + v.misses > 0;
    v.hit_ratio = ratio(v.hits, v.hits + v.misses);
    v.has_client_ratio = p->cnt.gets > 0;
    v.client_hit_ratio = ratio(p->cnt.hits, p->cnt.gets);
    v.agree = v.hits == p->cnt.hits && v.misses == p->cnt.nils;
    v.throughput = p->seconds > 0 ? (double)v.requests / p->seconds : 0;
    return v;
}

/* "0.1234", or "-" where there is nothing to divide (no GETs). */
static const char *
fmt_ratio(char *buf, size_t cap, bool has, double v, const char *none)
{
    if (!has) {
        return none;
    }
    snprintf(buf, cap, "%.4f", v);
    return buf;
}

/* A proxy's loads, or `none` where the target has no loader (a node). */
static const char *
fmt_loads(char *buf, size_t cap, const struct pass_view *v, const char *none)
{
    if (!v->has_loads) {
        return none;
    }
    snprintf(buf, cap, "%llu", v->loads);
    return buf;
}

static void
print_header(const struct run_cfg *cfg)
{
    const struct workload *w = &cfg->wl;
    printf("run: %s:%lld workload=%s", cfg->host, cfg->port, wl_names[w->kind]);
    if (w->kind == WL_ZIPF) {
        printf(" alpha=%g", w->alpha);
    } else if (w->kind == WL_HOTSET || w->kind == WL_SHIFTING) {
        printf(" hot-requests=%g%% hot-keys=%llu", w->hot_share * 100,
               (unsigned long long)w->hot_keys);
    }
    if (w->kind == WL_SHIFTING) {
        printf(" shift-every=%llu", (unsigned long long)w->shift_every);
    }
    printf(" keys=%llu", (unsigned long long)w->nkeys);
    if (cfg->requests != UINT64_MAX) {
        printf(" requests=%llu", (unsigned long long)cfg->requests);
    }
    if (cfg->duration > 0) {
        printf(" duration=%gs", cfg->duration);
    }
    printf(" clients=%lld", cfg->clients);
    if (cfg->rate > 0) {
        printf(" open-loop rate=%g/s", cfg->rate);
    } else {
        printf(" closed-loop pipeline=%lld", cfg->pipeline);
    }
    printf(" write-ratio=%g value-size=%zu seed=%llu passes=%lld classify=%s\n", w->write_ratio,
           cfg->value_len, (unsigned long long)w->seed, cfg->passes, classify_names[cfg->classify]);
    if (cfg->classify == CLASSIFY_PASS) {
        printf("  get_miss = the GETs of pass 1, get_hit = those of later passes (checked "
               "against the server's counters)\n");
    } else {
        printf("  get_miss = GETs answered nil, get_hit = GETs answered a value\n");
    }
}

/* One key=value line (for scripts) and a latency table (for people). */
static void
print_pass(int pass, const struct pass_result *p)
{
    struct pass_view v = pass_view(p);
    char b1[32], b2[32], loads[48] = "";

    if (v.has_loads) {
        snprintf(loads, sizeof(loads), " loads=%llu", v.loads);
    }
    printf("pass=%d requests=%llu gets=%llu sets=%llu errors=%llu seconds=%.3f throughput=%.1f "
           "hits=%llu misses=%llu hit_ratio=%s client_hits=%llu client_nils=%llu "
           "client_hit_ratio=%s counters_agree=%d%s\n",
           pass, v.requests, (unsigned long long)p->cnt.gets, (unsigned long long)p->cnt.sets,
           (unsigned long long)p->cnt.errors, p->seconds, v.throughput, v.hits, v.misses,
           fmt_ratio(b1, sizeof(b1), v.has_ratio, v.hit_ratio, "-"),
           (unsigned long long)p->cnt.hits, (unsigned long long)p->cnt.nils,
           fmt_ratio(b2, sizeof(b2), v.has_client_ratio, v.client_hit_ratio, "-"), v.agree, loads);
    printf("  %-12s %10s %10s %10s %10s %10s %10s %10s\n", "latency_us", "count", "mean", "p50",
           "p90", "p99", "p99.9", "max");
    for (int k = 0; k < OP_NCLASS; k++) {
        const struct hist *h = &p->hist[k];
        if (h->count == 0) {
            printf("  %-12s %10d %10s %10s %10s %10s %10s %10s\n", op_names[k], 0, "-", "-", "-",
                   "-", "-", "-");
            continue;
        }
        printf("  %-12s %10llu %10.1f", op_names[k], (unsigned long long)h->count,
               us(h->sum / h->count));
        for (size_t q = 0; q < ARRAY_LEN(pctls); q++) {
            printf(" %10.1f", us(hist_percentile(h, pctls[q])));
        }
        printf(" %10.1f\n", us(h->max));
    }
    fflush(stdout);
}

static void
csv_write(FILE *f, const struct run_cfg *cfg, const struct pass_result *res)
{
    fprintf(f, "workload,keys,clients,pipeline,rate,write_ratio,seed,classify,pass,requests,gets,"
               "sets,errors,seconds,throughput,server_hits,server_misses,hit_ratio,client_hits,"
               "client_nils,client_hit_ratio,loads");
    for (int k = 0; k < OP_NCLASS; k++) {
        fprintf(f, ",%s_count,%s_mean_us", op_names[k], op_names[k]);
        for (size_t q = 0; q < ARRAY_LEN(pctls); q++) {
            fprintf(f, ",%s_%s_us", op_names[k], pctl_names[q]);
        }
        fprintf(f, ",%s_max_us", op_names[k]);
    }
    fputc('\n', f);
    for (long long i = 0; i < cfg->passes; i++) {
        const struct pass_result *p = &res[i];
        struct pass_view v = pass_view(p);
        char b1[32], b2[32], b3[32];
        fprintf(f,
                "%s,%llu,%lld,%lld,%g,%g,%llu,%s,%lld,%llu,%llu,%llu,%llu,%.6f,%.3f,%llu,%llu,"
                "%s,%llu,%llu,%s,%s",
                wl_names[cfg->wl.kind], (unsigned long long)cfg->wl.nkeys, cfg->clients,
                cfg->rate > 0 ? 0 : cfg->pipeline, cfg->rate, cfg->wl.write_ratio,
                (unsigned long long)cfg->wl.seed, classify_names[cfg->classify], i + 1, v.requests,
                (unsigned long long)p->cnt.gets, (unsigned long long)p->cnt.sets,
                (unsigned long long)p->cnt.errors, p->seconds, v.throughput, v.hits, v.misses,
                fmt_ratio(b1, sizeof(b1), v.has_ratio, v.hit_ratio, ""),
                (unsigned long long)p->cnt.hits, (unsigned long long)p->cnt.nils,
                fmt_ratio(b2, sizeof(b2), v.has_client_ratio, v.client_hit_ratio, ""),
                fmt_loads(b3, sizeof(b3), &v, ""));
        for (int k = 0; k < OP_NCLASS; k++) {
            const struct hist *h = &p->hist[k];
            fprintf(f, ",%llu", (unsigned long long)h->count);
            if (h->count == 0) {
                fprintf(f, ",,,,,,");
                continue;
            }
            fprintf(f, ",%.3f", us(h->sum / h->count));
            for (size_t q = 0; q < ARRAY_LEN(pctls); q++) {
                fprintf(f, ",%.3f", us(hist_percentile(h, pctls[q])));
            }
            fprintf(f, ",%.3f", us(h->max));
        }
        fputc('\n', f);
    }
}

/* A JSON string: the host is the only text a user gives that JSON quotes. */
static void
json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            fprintf(f, "\\%c", c);
        } else if (c < 0x20) {
            fprintf(f, "\\u%04x", c);
        } else {
            fputc(c, f);
        }
    }
    fputc('"', f);
}

static void
json_config(FILE *f, const struct run_cfg *cfg)
{
    const struct workload *w = &cfg->wl;
    fprintf(f, "{\"host\": ");
    json_str(f, cfg->host);
    fprintf(f, ", \"port\": %lld, \"workload\": \"%s\", \"keys\": %llu", cfg->port,
            wl_names[w->kind], (unsigned long long)w->nkeys);
    if (w->kind == WL_ZIPF) {
        fprintf(f, ", \"alpha\": %g", w->alpha);
    }
    if (w->kind == WL_HOTSET || w->kind == WL_SHIFTING) {
        fprintf(f, ", \"hot_requests\": %g, \"hot_keys\": %llu", w->hot_share * 100,
                (unsigned long long)w->hot_keys);
    }
    if (w->kind == WL_SHIFTING) {
        fprintf(f, ", \"shift_every\": %llu", (unsigned long long)w->shift_every);
    }
    if (cfg->requests != UINT64_MAX) {
        fprintf(f, ", \"requests\": %llu", (unsigned long long)cfg->requests);
    }
    if (cfg->duration > 0) {
        fprintf(f, ", \"duration\": %g", cfg->duration);
    }
    fprintf(f, ", \"clients\": %lld, \"loop\": \"%s\"", cfg->clients,
            cfg->rate > 0 ? "open" : "closed");
    if (cfg->rate > 0) {
        fprintf(f, ", \"rate\": %g", cfg->rate);
    } else {
        fprintf(f, ", \"pipeline\": %lld", cfg->pipeline);
    }
    fprintf(f,
            ", \"write_ratio\": %g, \"value_size\": %zu, \"seed\": %llu, \"passes\": %lld, "
            "\"classify\": \"%s\"}",
            w->write_ratio, cfg->value_len, (unsigned long long)w->seed, cfg->passes,
            classify_names[cfg->classify]);
}

static void
json_pass(FILE *f, int pass, const struct pass_result *p)
{
    struct pass_view v = pass_view(p);
    char b1[32], b2[32], b3[32];
    fprintf(f,
            "{\"pass\": %d, \"requests\": %llu, \"gets\": %llu, \"sets\": %llu, "
            "\"errors\": %llu, \"seconds\": %.6f, \"throughput\": %.3f,\n"
            "     \"server\": {\"hits\": %llu, \"misses\": %llu, \"hit_ratio\": %s, "
            "\"loads\": %s},\n"
            "     \"client\": {\"hits\": %llu, \"nils\": %llu, \"hit_ratio\": %s}, "
            "\"counters_agree\": %s,\n     \"latency_us\": {",
            pass, v.requests, (unsigned long long)p->cnt.gets, (unsigned long long)p->cnt.sets,
            (unsigned long long)p->cnt.errors, p->seconds, v.throughput, v.hits, v.misses,
            fmt_ratio(b1, sizeof(b1), v.has_ratio, v.hit_ratio, "null"),
            fmt_loads(b3, sizeof(b3), &v, "null"), (unsigned long long)p->cnt.hits,
            (unsigned long long)p->cnt.nils,
            fmt_ratio(b2, sizeof(b2), v.has_client_ratio, v.client_hit_ratio, "null"),
            v.agree ? "true" : "false");
    for (int k = 0; k < OP_NCLASS; k++) {
        const struct hist *h = &p->hist[k];
        fprintf(f, "%s\"%s\": {\"count\": %llu", k > 0 ? ", " : "", op_names[k],
                (unsigned long long)h->count);
        if (h->count > 0) {
            fprintf(f, ", \"mean\": %.3f", us(h->sum / h->count));
            for (size_t q = 0; q < ARRAY_LEN(pctls); q++) {
                fprintf(f, ", \"%s\": %.3f", pctl_names[q], us(hist_percentile(h, pctls[q])));
            }
            fprintf(f, ", \"max\": %.3f", us(h->max));
        }
        fputc('}', f);
    }
    fprintf(f, "}}");
}

static void
json_write(FILE *f, const struct run_cfg *cfg, const struct pass_result *res)
{
    fprintf(f, "{\"config\": ");
    json_config(f, cfg);
    fprintf(f, ",\n \"passes\": [\n");
    for (long long i = 0; i < cfg->passes; i++) {
        fprintf(f, "    ");
        json_pass(f, (int)i + 1, &res[i]);
        fprintf(f, "%s\n", i + 1 < cfg->passes ? "," : "");
    }
    fprintf(f, " ]}\n");
}

static int
write_outputs(struct run_cfg *cfg, const struct pass_result *res, struct bench_err *err)
{
    int rc = SC_OK;
    if (cfg->csv != NULL) {
        csv_write(cfg->csv, cfg, res);
        if (fclose(cfg->csv) != 0 && rc == SC_OK) {
            rc = fail(err, "writing %s: %s", cfg->csv_path, strerror(errno));
        }
        cfg->csv = NULL;
    }
    if (cfg->json != NULL) {
        json_write(cfg->json, cfg, res);
        if (fclose(cfg->json) != 0 && rc == SC_OK) {
            rc = fail(err, "writing %s: %s", cfg->json_path, strerror(errno));
        }
        cfg->json = NULL;
    }
    return rc;
}

/* What makes a finished run a failure: error replies, and with --classify
 * pass a pass the server's counters say was not what it was labelled. */
static int
check_passes(const struct run_cfg *cfg, const struct pass_result *res, struct bench_err *err)
{
    for (long long i = 0; i < cfg->passes; i++) {
        const struct pass_result *p = &res[i];
        struct pass_view v = pass_view(p);
        if (p->cnt.errors > 0) {
            return fail(err, "pass %lld: %llu error replies; the first: %s", i + 1,
                        (unsigned long long)p->cnt.errors, p->first_error);
        }
        if (cfg->classify != CLASSIFY_PASS) {
            continue;
        }
        bool want_miss = i == 0;
        if ((want_miss && (v.hits != 0 || v.misses != p->cnt.gets)) ||
            (!want_miss && (v.misses != 0 || v.hits != p->cnt.gets))) {
            return fail(err,
                        "pass %lld was to be all %s, but the server counted %llu hits and %llu "
                        "misses for %llu GETs (a warm cache, evictions or another client): "
                        "its latencies are not %s",
                        i + 1, want_miss ? "misses" : "hits", v.hits, v.misses,
                        (unsigned long long)p->cnt.gets, want_miss ? "misses'" : "hits'");
        }
    }
    return SC_OK;
}

/* -- the subcommand -- */

static void
workers_teardown(struct run *r)
{
    if (r->w == NULL) {
        return;
    }
    for (long long i = 0; i < r->cfg->clients; i++) {
        struct worker *w = &r->w[i];
        if (w->c != NULL) {
            redisFree(w->c);
        }
        free(w->hist);
        free(w->keybuf);
        free(w->ring);
    }
    free(r->w);
    r->w = NULL;
}

/* Opens every connection before the first pass, so that connecting is not
 * timed and a refused connection fails the run before it starts. */
static int
workers_setup(struct run *r, struct bench_err *err)
{
    const struct run_cfg *cfg = r->cfg;
    uint64_t per_conn = cfg->requests / (uint64_t)cfg->clients + 1;

    r->w = calloc((size_t)cfg->clients, sizeof(*r->w));
    if (r->w == NULL) {
        return fail(err, "no memory for %lld connections", cfg->clients);
    }
    for (long long i = 0; i < cfg->clients; i++) {
        struct worker *w = &r->w[i];
        w->run = r;
        w->first = (uint64_t)i;
        w->ring_cap =
            cfg->rate > 0 ? (size_t)MIN(per_conn, RUN_MAX_OUTSTANDING) : (size_t)cfg->pipeline;
        w->hist = calloc(OP_NCLASS, sizeof(*w->hist));
        w->keybuf = malloc(cfg->ks.max_len + 1);
        w->ring = malloc(w->ring_cap * sizeof(*w->ring));
        if (w->hist == NULL || w->keybuf == NULL || w->ring == NULL) {
            return fail(err, "no memory for connection %lld", i + 1);
        }
        if ((w->c = bench_connect(cfg->host, cfg->port, err)) == NULL) {
            return SC_ERR;
        }
    }
    return SC_OK;
}

static int
run_passes(struct run_cfg *cfg, struct bench_err *err)
{
    struct run r = {.cfg = cfg, .ns_per_request = cfg->rate > 0 ? 1e9 / cfg->rate : 0};
    struct pass_result *res = calloc((size_t)cfg->passes, sizeof(*res));
    redisContext *ctl = NULL;
    int rc = SC_ERR;

    if (res == NULL) {
        fail(err, "no memory for %lld passes", cfg->passes);
        goto done;
    }
    /* INFO goes over a connection of its own, outside the measured ones. */
    if ((ctl = bench_connect(cfg->host, cfg->port, err)) == NULL ||
        workers_setup(&r, err) != SC_OK) {
        goto done;
    }
    print_header(cfg);
    for (r.pass = 1; r.pass <= cfg->passes; r.pass++) {
        if (run_pass(&r, ctl, &res[r.pass - 1], err) != SC_OK) {
            goto done;
        }
        print_pass(r.pass, &res[r.pass - 1]);
    }
    rc = write_outputs(cfg, res, err);
    if (rc == SC_OK) {
        rc = check_passes(cfg, res, err);
    }
done:
    workers_teardown(&r);
    if (ctl != NULL) {
        redisFree(ctl);
    }
    free(res);
    return rc;
}

/* --dry-run 1: the requests a run would send, one a line: the connection
 * (0-based) that sends it, GET or SET, and the key, in request order. */
static int
run_dry(const struct run_cfg *cfg, struct bench_err *err)
{
    static char obuf[BENCH_STDOUT_BUF];
    char *key = malloc(cfg->ks.max_len + 1);
    if (key == NULL) {
        return fail(err, "no memory for a key");
    }
    setvbuf(stdout, obuf, _IOFBF, sizeof(obuf));
    for (uint64_t j = 0; j < cfg->requests; j++) {
        bool is_write;
        size_t klen = keyspace_key(&cfg->ks, wl_request(&cfg->wl, j, &is_write), key);
        printf("%llu %s %.*s\n", (unsigned long long)(j % (uint64_t)cfg->clients),
               is_write ? "SET" : "GET", (int)klen, key);
    }
    free(key);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        return fail(err, "writing stdout: %s", strerror(errno));
    }
    return SC_OK;
}

static int
cmd_run(int argc, char **argv, struct bench_err *err)
{
    struct run_cfg cfg = {0};
    int rc = run_parse(&cfg, argc, argv, err);
    if (rc == SC_OK) {
        rc = cfg.dry_run ? run_dry(&cfg, err) : run_passes(&cfg, err);
    }
    run_cfg_free(&cfg);
    return rc;
}

/* ---- main ---- */

static const char usage[] =
    "usage:\n"
    "  slotcache-bench trace --keys N --requests M --zipf ALPHA [--seed S] [--prefix key:]\n"
    "      a Zipf(ALPHA) trace over N keys, one key a line on stdout; rank 1 is the\n"
    "      most popular and is key <prefix>000000000001\n"
    "      --shift R [--shift-by K]: every R requests the K most popular keys (default 1%)\n"
    "      become the least popular and every other key moves up K ranks\n"
    "  slotcache-bench readthrough [--host H] [--port P] --trace FILE [--value-size 100]\n"
    "                              [--pipeline 32]\n"
    "      replays FILE: GET, and SET on a nil reply; prints the server's and the\n"
    "      client's hit ratios\n"
    "  slotcache-bench fill [--host H] [--port P] --keys N [--key-size 16]\n"
    "                       [--value-size 100] [--pipeline 256]\n"
    "      writes N distinct keys of exactly key-size bytes\n"
    "  slotcache-bench run [--host H] [--port P] [options]\n"
    "      a load generator; prints a pass=... line and a latency table per pass\n"
    "    workload (request j's key and command depend on --seed and j alone):\n"
    "      --workload zipf [--alpha 0.99]   Zipf over the keys, key 1 the most popular\n"
    "      --workload uniform\n"
    "      --workload hotset [--hot-requests 90] [--hot-keys 10]\n"
    "                                       X% of the requests on the first Y% of the keys\n"
    "      --workload shifting [--hot-requests 90] [--hot-keys 10] [--shift-every 10000]\n"
    "                                       hotset whose hot keys move on every N requests\n"
    "      --workload scan                  every key in order (default: each once)\n"
    "      --workload trace --trace FILE    the file's keys in order, one a line\n"
    "      --requests N (default 100000; scan, trace: one pass) | --duration SECONDS\n"
    "      --write-ratio W (0)  --value-size B (100)  --seed S (1)\n"
    "    keys (key i = rank i, 1-based):\n"
    "      --keys N (10000) [--key-format 'key:%012d']   generated names\n"
    "      --key-file FILE [--key-prefix koi:] [--keys N]  prefix + line i; a file of\n"
    "                                       kepids gives the sample data's koi:<kepid>\n"
    "    load: --clients C (1), one connection and thread each; request j goes to\n"
    "      connection j mod C.  Closed loop: --pipeline P (1).  Open loop: --rate R\n"
    "      requests/s over all connections, latency from each request's due time\n"
    "    --passes K (1): the same requests K times, the server's counters per pass\n"
    "    --classify reply|pass (reply): a GET is a miss when answered nil; with\n"
    "      pass, pass 1's GETs are misses and later passes' hits (read-through\n"
    "      returns rows on a miss), and the run fails unless the server's\n"
    "      keyspace_hits/misses agree (needs --workload scan --passes 2+)\n"
    "    --csv FILE  --json FILE  --progress 0|1 (default: when stderr is a tty)\n"
    "    --dry-run 1: print 'connection GET|SET key' per request instead of sending\n"
    "  slotcache-bench replay --trace FILE --capacity-keys N [--policy NAME ...] [--seed S]\n"
    "      replays FILE offline through the node's eviction policies (maxmemory-policy\n"
    "      names), lru-exact and opt (Belady) at N keys; one hit_ratio line per policy\n";

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
    } else if (strcmp(argv[1], "replay") == 0) {
        rc = replay_cmd(argc - 2, argv + 2, err.msg, sizeof(err.msg));
    } else if (strcmp(argv[1], "run") == 0) {
        rc = cmd_run(argc - 2, argv + 2, &err);
    } else {
        rc = fail(&err, "unknown command '%s' (try --help)", argv[1]);
    }
    if (rc != SC_OK) {
        log_warn("slotcache-bench %s: %s", argv[1], err.msg);
        return 1;
    }
    return 0;
}
