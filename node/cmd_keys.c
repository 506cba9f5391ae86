/*
 * cmd_keys.c -- the keyspace commands: DEL UNLINK EXISTS TOUCH TYPE KEYS
 * SCAN RANDOMKEY RENAME RENAMENX FLUSHDB FLUSHALL EXPIRE PEXPIRE EXPIREAT
 * PEXPIREAT TTL PTTL EXPIRETIME PEXPIRETIME PERSIST OBJECT MEMORY.
 *
 * Replies, error texts and the keyspace counters they move (keyspace_hits,
 * expired_keys, server.dirty) are redis-server 7.0's: redis db.c, expire.c
 * and object.c are the reference, and tests/integration/cases/keys.txt and
 * expire.txt compare the two servers reply by reply.
 */
#include "common/clock.h"
#include "common/mem.h"
#include "common/reply.h"
#include "common/util.h"
#include "node/client.h"
#include "node/cmd.h"
#include "node/evict.h"
#include "node/hobj.h"
#include "node/kv.h"
#include "node/multi.h"
#include "node/server.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SCAN_DEFAULT_COUNT 10            /* redis: COUNT when not given */
#define SCAN_MAX_ITER_FACTOR 10          /* buckets visited per call: at most COUNT times this */
#define SHARED_INTEGERS 10000            /* redis OBJ_SHARED_INTEGERS */
#define SHARED_REFCOUNT INT_MAX          /* redis OBJ_SHARED_REFCOUNT */
#define TABLE_ENTRY_SHARE sizeof(void *) /* MEMORY USAGE: the key's bucket slot */

/* ---- shared ---- */

static struct item *
lookup(const struct bstr *key, int flags)
{
    return kv_lookup(key->data, key->len, flags);
}

/* How much of an argument redis sees where it treats it as a C string
 * (option names, %s in error texts): the bytes before the first NUL. */
static size_t
cstr_len(const struct bstr *a)
{
    const char *nul = memchr(a->data, '\0', a->len);
    return nul != NULL ? (size_t)(nul - a->data) : a->len;
}

/* An option name compared as redis compares it, with strcasecmp. */
static bool
opt_is(const struct bstr *a, const char *lit)
{
    size_t n = strlen(lit);
    return cstr_len(a) == n && strncasecmp(a->data, lit, n) == 0;
}

static const char *
type_name(const struct item *it)
{
    if (it == NULL) {
        return "none";
    }
    return it->type == ITEM_HASH ? "hash" : "string";
}

static struct hobj *
item_hobj(struct item *it)
{
    struct hobj *h;
    memcpy(&h, item_val(it), sizeof(h));
    return h;
}

/* A growable array of item pointers: KEYS and SCAN collect what they will
 * return before replying, since the reply starts with the count. */
struct itemvec {
    struct item **v;
    size_t n, cap;
    bool oom; /* a push failed: the caller replies OOM */
};

static void
itemvec_push(struct itemvec *iv, struct item *it)
{
    if (iv->n == iv->cap) {
        size_t cap = iv->cap == 0 ? 16 : iv->cap * 2;
        struct item **v = mem_try_realloc(iv->v, cap * sizeof(*v));
        if (v == NULL) {
            iv->oom = true;
            return;
        }
        iv->v = v;
        iv->cap = cap;
    }
    iv->v[iv->n++] = it;
}


/* ---- DEL UNLINK EXISTS TOUCH TYPE ---- */

/* DEL / UNLINK: values are freed at once either way (a slotcache value is
 * at most one hash, freed in O(fields)), so UNLINK is DEL. */
static void
cmd_del(struct client *c)
{
    long long deleted = 0;

    for (int j = 1; j < c->conn.argc; j++) {
        struct item *it = lookup(&c->conn.argv[j], KV_WRITE | KV_NOTOUCH);
        if (it != NULL) {
            kv_delete(it);
            server.dirty++;
            deleted++;
            multi_touch_key(c->conn.argv[j].data, c->conn.argv[j].len); /* only keys that went */
        }
    }
    client_reply_int(c, deleted);
}

/* EXISTS counts a key named twice twice, as redis does. */
static void
cmd_exists(struct client *c)
{
    long long n = 0;

    for (int j = 1; j < c->conn.argc; j++) {
        n += lookup(&c->conn.argv[j], KV_NOTOUCH) != NULL;
    }
    client_reply_int(c, n);
}

static void
cmd_touch(struct client *c)
{
    long long n = 0;

    for (int j = 1; j < c->conn.argc; j++) {
        n += lookup(&c->conn.argv[j], 0) != NULL;
    }
    client_reply_int(c, n);
}

static void
cmd_type(struct client *c)
{
    client_reply_simple(c, type_name(lookup(&c->conn.argv[1], KV_NOTOUCH)));
}

/* ---- KEYS SCAN RANDOMKEY ---- */

struct keys_ctx {
    const struct bstr *pat;
    bool all;
    struct itemvec found;
};

/* KEYS skips keys whose time has passed but leaves them to lazy or active
 * expiry, as redis does: kv_foreach's callback must not change the table. */
static void
keys_collect(void *ctx, struct item *it)
{
    struct keys_ctx *k = ctx;

    if ((k->all || util_glob_match(k->pat->data, k->pat->len, item_key(it), it->klen, false)) &&
        !kv_is_expired(it)) {
        itemvec_push(&k->found, it);
    }
}

static void
reply_keys(struct client *c, const struct itemvec *iv, const bool *skip)
{
    size_t n = 0;

    for (size_t i = 0; i < iv->n; i++) {
        n += skip == NULL || !skip[i];
    }
    client_reply_array(c, n);
    for (size_t i = 0; i < iv->n; i++) {
        if (skip == NULL || !skip[i]) {
            client_reply_bulk(c, item_key(iv->v[i]), iv->v[i]->klen);
        }
    }
}

static void
cmd_keys(struct client *c)
{
    const struct bstr *pat = &c->conn.argv[1];
    struct keys_ctx k = {.pat = pat, .all = pat->len == 1 && pat->data[0] == '*'};

    kv_foreach(keys_collect, &k);
    if (k.found.oom) {
        client_reply_error(c, ERR_OOM);
    } else {
        reply_keys(c, &k.found, NULL);
    }
    mem_free(k.found.v);
}

/* redis parseScanCursorOrReply: strtoul on the argument as a C string, so
 * "" is 0, "-1" wraps, "+5" is 5, and a NUL ends the number. */
static int
parse_cursor_or_reply(struct client *c, const struct bstr *arg, uint64_t *cursor)
{
    char *s = mem_strndup(arg->data, cstr_len(arg)), *end;
    bool ok;

    errno = 0;
    *cursor = strtoull(s, &end, 10);
    ok = !isspace((unsigned char)s[0]) && *end == '\0' && errno != ERANGE;
    mem_free(s);
    if (!ok) {
        client_reply_error(c, "ERR invalid cursor");
        return SC_ERR;
    }
    return SC_OK;
}

struct scan_opts {
    long long count;
    const struct bstr *pat;  /* NULL: every key */
    const struct bstr *type; /* NULL: every type */
};

static int
parse_scan_opts_or_reply(struct client *c, struct scan_opts *o)
{
    *o = (struct scan_opts){.count = SCAN_DEFAULT_COUNT};
    for (int j = 2; j < c->conn.argc; j += 2) {
        const struct bstr *opt = &c->conn.argv[j];
        if (j + 1 >= c->conn.argc) {
            client_reply_error(c, ERR_SYNTAX);
            return SC_ERR;
        }
        const struct bstr *val = &c->conn.argv[j + 1];
        if (opt_is(opt, "count")) {
            if (!util_str2ll(val->data, val->len, &o->count)) {
                client_reply_error(c, ERR_NOT_INT);
                return SC_ERR;
            }
            if (o->count < 1) {
                client_reply_error(c, ERR_SYNTAX);
                return SC_ERR;
            }
        } else if (opt_is(opt, "match")) {
            /* "*" matches everything: the same as no pattern. */
            o->pat = val->len == 1 && val->data[0] == '*' ? NULL : val;
        } else if (opt_is(opt, "type")) {
            o->type = val;
        } else {
            client_reply_error(c, ERR_SYNTAX);
            return SC_ERR;
        }
    }
    return SC_OK;
}

static void
scan_collect(void *ctx, struct item *it)
{
    itemvec_push(ctx, it);
}

/* Keeps in iv only the keys that match the pattern: redis filters after
 * collecting, the pattern first, and does nothing more with the others. */
static void
scan_match(const struct scan_opts *o, struct itemvec *iv)
{
    size_t m = 0;

    for (size_t i = 0; i < iv->n; i++) {
        struct item *it = iv->v[i];
        if (o->pat == NULL ||
            util_glob_match(o->pat->data, o->pat->len, item_key(it), it->klen, false)) {
            iv->v[m++] = it;
        }
    }
    iv->n = m;
}

/* Whether SCAN leaves a matching key out of its reply: redis checks the
 * type with a read lookup, which deletes a key whose time has passed, so
 * it reads as "none"; then expiry, which finds such a key already gone.
 * So TYPE none returns expired keys, and any other filter drops them. */
static bool
scan_dropped(const struct scan_opts *o, struct item *it)
{
    if (o->type != NULL) {
        return !opt_is(o->type, type_name(kv_is_expired(it) ? NULL : it));
    }
    return kv_is_expired(it);
}

/* After the reply: the lookups and deletions redis's filter made, so that
 * keyspace_hits/misses and expired_keys move as in redis. */
static void
scan_expire(const struct scan_opts *o, const struct itemvec *iv)
{
    for (size_t i = 0; i < iv->n; i++) {
        struct item *it = iv->v[i];
        if (o->type != NULL) {
            kv_lookup(item_key(it), it->klen, KV_NOTOUCH);
        } else {
            kv_expire_if_needed(it);
        }
    }
}

/* SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]: bucket steps
 * until COUNT keys are collected or COUNT*10 steps are taken, then filter
 * (redis scanGenericCommand).  Nothing is deleted inside kv_scan's
 * callback: keys whose time has passed are dropped after the reply. */
static void
cmd_scan(struct client *c)
{
    struct scan_opts o;
    struct itemvec iv = {0};
    uint64_t cursor;

    if (parse_cursor_or_reply(c, &c->conn.argv[1], &cursor) != SC_OK ||
        parse_scan_opts_or_reply(c, &o) != SC_OK) {
        return;
    }
    long long maxiter =
        o.count > LLONG_MAX / SCAN_MAX_ITER_FACTOR ? LLONG_MAX : o.count * SCAN_MAX_ITER_FACTOR;
    do {
        cursor = kv_scan(cursor, scan_collect, &iv);
    } while (cursor != 0 && maxiter-- > 0 && iv.n < (uint64_t)o.count && !iv.oom);

    scan_match(&o, &iv);
    bool *skip = iv.n > 0 ? mem_try_alloc(iv.n * sizeof(*skip)) : NULL;
    if (iv.oom || (iv.n > 0 && skip == NULL)) {
        client_reply_error(c, ERR_OOM);
    } else {
        for (size_t i = 0; i < iv.n; i++) {
            skip[i] = scan_dropped(&o, iv.v[i]);
        }
        client_reply_array(c, 2);
        resp_add_bulk_ll(&c->reply, (long long)cursor);
        reply_keys(c, &iv, skip);
        scan_expire(&o, &iv);
    }
    mem_free(skip);
    mem_free(iv.v);
}

/* A random key whose time has not passed.  Each one found expired is
 * deleted, so the loop ends after at most as many tries as there are keys,
 * as redis's dbRandomKey on a primary. */
static void
cmd_randomkey(struct client *c)
{
    struct item *it;

    do {
        it = kv_random();
    } while (it != NULL && kv_expire_if_needed(it));
    if (it == NULL) {
        client_reply_null(c);
    } else {
        client_reply_bulk(c, item_key(it), it->klen);
    }
}

/* ---- RENAME RENAMENX ---- */

/* The value moves with its TTL; the dispatcher marks the WATCHers of both
 * names, since both are key arguments of a write that changed the keyspace. */
static void
rename_generic(struct client *c, bool nx)
{
    const struct bstr *src = &c->conn.argv[1], *dst = &c->conn.argv[2];
    struct item *it = lookup(src, KV_WRITE);

    if (it == NULL) {
        client_reply_error(c, ERR_NO_SUCH_KEY);
        return;
    }
    if (bstr_eq(src, dst)) {
        /* Nothing to do; redis still checks that the key exists. */
        if (nx) {
            client_reply_int(c, 0);
        } else {
            client_reply_ok(c);
        }
        return;
    }
    if (lookup(dst, KV_WRITE) != NULL && nx) {
        client_reply_int(c, 0);
        return;
    }
    if (kv_rename(it, dst->data, dst->len) == NULL) {
        client_reply_error(c, ERR_OOM);
        return;
    }
    server.dirty++;
    if (nx) {
        client_reply_int(c, 1);
    } else {
        client_reply_ok(c);
    }
}

static void
cmd_rename(struct client *c)
{
    rename_generic(c, false);
}

static void
cmd_renamenx(struct client *c)
{
    rename_generic(c, true);
}

/* ---- EXPIRE PEXPIRE EXPIREAT PEXPIREAT PERSIST ---- */

#define EXPIRE_NX 0x1
#define EXPIRE_XX 0x2
#define EXPIRE_GT 0x4
#define EXPIRE_LT 0x8

/* The NX XX GT LT words after the time, with redis's checks and texts
 * (parseExtendedExpireArgumentsOrReply); they are parsed before the time. */
static int
parse_expire_flags_or_reply(struct client *c, int *flags)
{
    static const struct {
        const char *name;
        int flag;
    } opts[] = {{"nx", EXPIRE_NX}, {"xx", EXPIRE_XX}, {"gt", EXPIRE_GT}, {"lt", EXPIRE_LT}};

    *flags = 0;
    for (int j = 3; j < c->conn.argc; j++) {
        size_t i = 0;
        while (i < ARRAY_LEN(opts) && !opt_is(&c->conn.argv[j], opts[i].name)) {
            i++;
        }
        if (i == ARRAY_LEN(opts)) {
            client_reply_errorf(c, "ERR Unsupported option %.*s", (int)cstr_len(&c->conn.argv[j]),
                                c->conn.argv[j].data);
            return SC_ERR;
        }
        *flags |= opts[i].flag;
    }
    if ((*flags & EXPIRE_NX) && (*flags & (EXPIRE_XX | EXPIRE_GT | EXPIRE_LT))) {
        client_reply_error(c, "ERR NX and XX, GT or LT options at the same time are not "
                              "compatible");
        return SC_ERR;
    }
    if ((*flags & EXPIRE_GT) && (*flags & EXPIRE_LT)) {
        client_reply_error(c, "ERR GT and LT options at the same time are not compatible");
        return SC_ERR;
    }
    return SC_OK;
}

/* The time argument as an absolute ms time: basetime is now for relative
 * commands and 0 for the *AT ones.  Negative times are allowed (they delete
 * the key); only overflow is refused, as in redis. */
static int
parse_expire_time_or_reply(struct client *c, long long basetime, bool seconds, long long *when)
{
    if (!util_str2ll(c->conn.argv[2].data, c->conn.argv[2].len, when)) {
        client_reply_error(c, ERR_NOT_INT);
        return SC_ERR;
    }
    if (seconds) {
        if (*when > LLONG_MAX / 1000 || *when < LLONG_MIN / 1000) {
            client_reply_errorf(c, ERR_INVALID_EXPIRE_FMT, c->cmd->name);
            return SC_ERR;
        }
        *when *= 1000;
    }
    if (*when > LLONG_MAX - basetime) {
        client_reply_errorf(c, ERR_INVALID_EXPIRE_FMT, c->cmd->name);
        return SC_ERR;
    }
    *when += basetime;
    return SC_OK;
}

/* Whether NX XX GT LT let the new time replace the key's current one.  A
 * key without a TTL counts as having an infinite one: GT never passes, LT
 * always does. */
static bool
expire_allowed(const struct item *it, int flags, long long when)
{
    long long cur = item_expire(it);

    if ((flags & EXPIRE_NX) && cur != -1) {
        return false;
    }
    if ((flags & EXPIRE_XX) && cur == -1) {
        return false;
    }
    if ((flags & EXPIRE_GT) && (cur == -1 || when <= cur)) {
        return false;
    }
    if ((flags & EXPIRE_LT) && cur != -1 && when >= cur) {
        return false;
    }
    return true;
}

/* redis expireGenericCommand.  A time already past deletes the key: that
 * is a deletion (reply 1, server.dirty), not an expiry (expired_keys). */
static void
expire_generic(struct client *c, long long basetime, bool seconds)
{
    int flags;
    long long when;

    if (parse_expire_flags_or_reply(c, &flags) != SC_OK ||
        parse_expire_time_or_reply(c, basetime, seconds, &when) != SC_OK) {
        return;
    }
    struct item *it = lookup(&c->conn.argv[1], KV_WRITE);
    if (it == NULL || !expire_allowed(it, flags, when)) {
        client_reply_int(c, 0);
        return;
    }
    if (when <= clock_now_ms()) {
        kv_delete(it);
    } else if (kv_set_expire(&it, when) != SC_OK) {
        client_reply_error(c, ERR_OOM);
        return;
    }
    server.dirty++;
    client_reply_int(c, 1);
}

static void
cmd_expire(struct client *c)
{
    expire_generic(c, clock_now_ms(), true);
}

static void
cmd_pexpire(struct client *c)
{
    expire_generic(c, clock_now_ms(), false);
}

static void
cmd_expireat(struct client *c)
{
    expire_generic(c, 0, true);
}

static void
cmd_pexpireat(struct client *c)
{
    expire_generic(c, 0, false);
}

static void
cmd_persist(struct client *c)
{
    struct item *it = lookup(&c->conn.argv[1], KV_WRITE);

    if (it == NULL || !(it->flags & ITEM_F_TTL)) {
        client_reply_int(c, 0);
        return;
    }
    if (kv_persist(&it) != SC_OK) {
        client_reply_error(c, ERR_OOM);
        return;
    }
    server.dirty++;
    client_reply_int(c, 1);
}

/* ---- TTL PTTL EXPIRETIME PEXPIRETIME ---- */

/* -2 without the key, -1 without a TTL; else the time left (or the
 * absolute time), in ms or rounded to the nearest second as redis rounds. */
static void
ttl_generic(struct client *c, bool ms, bool absolute)
{
    struct item *it = lookup(&c->conn.argv[1], KV_NOTOUCH);

    if (it == NULL) {
        client_reply_int(c, -2);
        return;
    }
    long long expire = item_expire(it);
    if (expire == -1) {
        client_reply_int(c, -1);
        return;
    }
    long long t = absolute ? expire : expire - clock_now_ms();
    if (t < 0) {
        t = 0;
    }
    /* Unsigned: t + 500 may pass LLONG_MAX for a time near the end of
     * time, where redis's compiled code also yields the rounded value. */
    client_reply_int(c, ms ? t : (long long)(((unsigned long long)t + 500) / 1000));
}

static void
cmd_ttl(struct client *c)
{
    ttl_generic(c, false, false);
}

static void
cmd_pttl(struct client *c)
{
    ttl_generic(c, true, false);
}

static void
cmd_expiretime(struct client *c)
{
    ttl_generic(c, false, true);
}

static void
cmd_pexpiretime(struct client *c)
{
    ttl_generic(c, true, true);
}

/* ---- OBJECT ---- */

/* The key argument's item for OBJECT subcommands (a read that does not
 * count as an access); replies null and returns NULL when it is missing. */
static struct item *
object_lookup_or_reply(struct client *c)
{
    struct item *it = lookup(&c->conn.argv[2], KV_NOTOUCH);

    if (it == NULL) {
        client_reply_null(c);
    }
    return it;
}

static void
cmd_object_encoding(struct client *c)
{
    static const char *const names[] = {
        [ENC_RAW] = "raw",           [ENC_EMBSTR] = "embstr",       [ENC_INT] = "int",
        [ENC_LISTPACK] = "listpack", [ENC_HASHTABLE] = "hashtable",
    };
    struct item *it = object_lookup_or_reply(c);

    if (it != NULL) {
        int enc = it->type == ITEM_HASH ? hobj_encoding(item_hobj(it)) : it->enc;
        resp_add_bulk_cstr(&c->reply, names[enc]);
    }
}

/* Whether redis would hold this value as one of its shared integer objects:
 * an "int" string in 0..9999, stored while maxmemory is off or the policy
 * is neither LRU nor LFU.  We read the policy now, redis at store time, so
 * the two differ only for values stored before a policy switch. */
static bool
is_shared_integer(struct item *it)
{
    long long v;
    int p = evict_opts.policy;
    bool lru_lfu = p == EVICT_VOLATILE_LRU || p == EVICT_ALLKEYS_LRU || p == EVICT_VOLATILE_LFU ||
                   p == EVICT_ALLKEYS_LFU;

    return it->type == ITEM_STRING && it->enc == ENC_INT &&
           (evict_opts.maxmemory == 0 || !lru_lfu) && util_str2ll(item_val(it), it->vlen, &v) &&
           v >= 0 && v < SHARED_INTEGERS;
}

static void
cmd_object_refcount(struct client *c)
{
    struct item *it = object_lookup_or_reply(c);

    if (it != NULL) {
        client_reply_int(c, is_shared_integer(it) ? SHARED_REFCOUNT : 1);
    }
}

static void
cmd_object_idletime(struct client *c)
{
    struct item *it = object_lookup_or_reply(c);

    if (it == NULL) {
        return;
    }
    if (evict_current()->lfu) {
        client_reply_error(c, "ERR An LFU maxmemory policy is selected, idle time not tracked. "
                              "Please note that when switching between policies at runtime LRU "
                              "and LFU data will take some time to adjust.");
        return;
    }
    client_reply_int(c, evict_idle_seconds(it));
}

static void
cmd_object_freq(struct client *c)
{
    struct item *it = object_lookup_or_reply(c);

    if (it == NULL) {
        return;
    }
    if (!evict_current()->lfu) {
        client_reply_error(c, "ERR An LFU maxmemory policy is not selected, access frequency not "
                              "tracked. Please note that when switching between policies at "
                              "runtime LRU and LFU data will take some time to adjust.");
        return;
    }
    client_reply_int(c, evict_lfu_freq(it));
}

static void
cmd_object_help(struct client *c)
{
    static const char *const help[] = {
        "ENCODING <key>",
        "    Return the kind of internal representation used in order to store the value",
        "    associated with a <key>.",
        "FREQ <key>",
        "    Return the access frequency index of the <key>. The returned integer is",
        "    proportional to the logarithm of the recent access frequency of the key.",
        "IDLETIME <key>",
        "    Return the idle time of the <key>, that is the approximated number of",
        "    seconds elapsed since the last access to the key.",
        "REFCOUNT <key>",
        "    Return the number of references of the value associated with the specified",
        "    <key>.",
        NULL,
    };
    client_reply_help(c, help);
}

/* ---- MEMORY ---- */

/* MEMORY USAGE key [SAMPLES n]: the bytes the key really holds -- its item
 * allocation, a hash's table and fields, and its slot in the keyspace's
 * bucket array.  redis estimates its own layout (robj, sds, dictEntry,
 * sampled nested values), so the numbers differ from redis's; SAMPLES is
 * parsed and checked as redis does but not needed, as nothing is sampled.
 * Like redis (dictFind), a key whose time has passed is still measured. */
static void
cmd_memory_usage(struct client *c)
{
    for (int j = 3; j < c->conn.argc; j++) {
        long long samples;
        if (!opt_is(&c->conn.argv[j], "samples") || j + 1 >= c->conn.argc) {
            client_reply_error(c, ERR_SYNTAX);
            return;
        }
        if (!util_str2ll(c->conn.argv[j + 1].data, c->conn.argv[j + 1].len, &samples)) {
            client_reply_error(c, ERR_NOT_INT);
            return;
        }
        if (samples < 0) {
            client_reply_error(c, ERR_SYNTAX);
            return;
        }
        j++;
    }
    struct item *it = kv_peek(c->conn.argv[2].data, c->conn.argv[2].len);
    if (it == NULL) {
        client_reply_null(c);
        return;
    }
    size_t usage = mem_usable(it) + TABLE_ENTRY_SHARE;
    if (it->type == ITEM_HASH) {
        usage += hobj_mem(item_hobj(it));
    }
    client_reply_int(c, (long long)usage);
}

static void
cmd_memory_help(struct client *c)
{
    static const char *const help[] = {
        "DOCTOR",
        "    Return memory problems reports.",
        "MALLOC-STATS",
        "    Return internal statistics report from the memory allocator.",
        "PURGE",
        "    Attempt to purge dirty pages for reclamation by the allocator.",
        "STATS",
        "    Return information about the memory usage of the server.",
        "USAGE <key> [SAMPLES <count>]",
        "    Return memory in bytes used by <key> and its value. Nested values are",
        "    sampled up to <count> times (default: 5, 0 means sample all).",
        NULL,
    };
    client_reply_help(c, help);
}

/* ---- FLUSHALL FLUSHDB ---- */

/* FLUSHALL / FLUSHDB [ASYNC|SYNC] */
static void
cmd_flush(struct client *c)
{
    bool async = false;

    if (c->conn.argc > 2) {
        client_reply_error(c, ERR_SYNTAX);
        return;
    }
    if (c->conn.argc == 2) {
        if (bstr_is(&c->conn.argv[1], "ASYNC")) {
            async = true;
        } else if (!bstr_is(&c->conn.argv[1], "SYNC")) {
            client_reply_error(c, ERR_SYNTAX);
            return;
        }
    }
    multi_touch_all();
    server.dirty += kv_count();
    kv_flush(async);
    client_reply_ok(c);
}

/* ---- the table ---- */

#define RW_FAST (CMD_WRITE | CMD_FAST)
#define RO_FAST (CMD_READONLY | CMD_FAST)
#define STALE (CMD_LOADING | CMD_STALE)
#define ACL_RW_FAST "@keyspace @write @fast"
#define ACL_RO_FAST "@keyspace @read @fast"
#define ACL_RO_SLOW "@keyspace @read @slow"

/* name, handler, arity, flags, key positions (first, last, step; last -1 =
 * the last argument), ACL categories, COMMAND DOCS group, the version that
 * added it, summary: as redis 7.0's COMMAND INFO and DOCS report them. */
#define KEY_CMD(name_, proc_, arity_, flags_, first_, last_, step_, acl_, group_, since_,          \
                summary_)                                                                          \
    {                                                                                              \
        .name = name_, .proc = proc_, .arity = arity_, .flags = flags_, .first_key = first_,       \
        .last_key = last_, .key_step = step_, .acl = acl_, .group = group_, .since = since_,       \
        .summary = summary_                                                                        \
    }

static struct cmd object_subcmds[] = {
    KEY_CMD("object|encoding", cmd_object_encoding, 3, CMD_READONLY, 2, 2, 1, ACL_RO_SLOW,
            "generic", "2.2.3", "Inspect the internal encoding of a Redis object"),
    KEY_CMD("object|freq", cmd_object_freq, 3, CMD_READONLY, 2, 2, 1, ACL_RO_SLOW, "generic",
            "4.0.0", "Get the logarithmic access frequency counter of a Redis object"),
    KEY_CMD("object|idletime", cmd_object_idletime, 3, CMD_READONLY, 2, 2, 1, ACL_RO_SLOW,
            "generic", "2.2.3", "Get the time since a Redis object was last accessed"),
    KEY_CMD("object|refcount", cmd_object_refcount, 3, CMD_READONLY, 2, 2, 1, ACL_RO_SLOW,
            "generic", "2.2.3", "Get the number of references to the value of the key"),
    KEY_CMD("object|help", cmd_object_help, 2, STALE, 0, 0, 0, "@keyspace @slow", "generic",
            "6.2.0", "Show helpful text about the different subcommands"),
    CMD_END,
};

static struct cmd memory_subcmds[] = {
    KEY_CMD("memory|usage", cmd_memory_usage, -3, CMD_READONLY, 2, 2, 1, "@read @slow", "server",
            "4.0.0", "Estimate the memory usage of a key"),
    KEY_CMD("memory|help", cmd_memory_help, 2, STALE, 0, 0, 0, "@slow", "server", "4.0.0",
            "Show helpful text about the different subcommands"),
    CMD_END,
};

struct cmd cmd_keys_table[] = {
    KEY_CMD("del", cmd_del, -2, CMD_WRITE | CMD_SIGNALS, 1, -1, 1, "@keyspace @write @slow", "generic", "1.0.0",
            "Delete a key"),
    KEY_CMD("unlink", cmd_del, -2, RW_FAST | CMD_SIGNALS, 1, -1, 1, ACL_RW_FAST, "generic", "4.0.0",
            "Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non "
            "blocking."),
    KEY_CMD("exists", cmd_exists, -2, RO_FAST, 1, -1, 1, ACL_RO_FAST, "generic", "1.0.0",
            "Determine if a key exists"),
    KEY_CMD("touch", cmd_touch, -2, RO_FAST, 1, -1, 1, ACL_RO_FAST, "generic", "3.2.1",
            "Alters the last access time of a key(s). Returns the number of existing keys "
            "specified."),
    KEY_CMD("type", cmd_type, 2, RO_FAST, 1, 1, 1, ACL_RO_FAST, "generic", "1.0.0",
            "Determine the type stored at key"),
    KEY_CMD("keys", cmd_keys, 2, CMD_READONLY, 0, 0, 0, "@keyspace @read @slow @dangerous",
            "generic", "1.0.0", "Find all keys matching the given pattern"),
    KEY_CMD("scan", cmd_scan, -2, CMD_READONLY, 0, 0, 0, ACL_RO_SLOW, "generic", "2.8.0",
            "Incrementally iterate the keys space"),
    KEY_CMD("randomkey", cmd_randomkey, 1, CMD_READONLY, 0, 0, 0, ACL_RO_SLOW, "generic", "1.0.0",
            "Return a random key from the keyspace"),
    KEY_CMD("rename", cmd_rename, 3, CMD_WRITE, 1, 2, 1, "@keyspace @write @slow", "generic",
            "1.0.0", "Rename a key"),
    KEY_CMD("renamenx", cmd_renamenx, 3, RW_FAST, 1, 2, 1, ACL_RW_FAST, "generic", "1.0.0",
            "Rename a key, only if the new key does not exist"),
    KEY_CMD("expire", cmd_expire, -3, RW_FAST, 1, 1, 1, ACL_RW_FAST, "generic", "1.0.0",
            "Set a key's time to live in seconds"),
    KEY_CMD("pexpire", cmd_pexpire, -3, RW_FAST, 1, 1, 1, ACL_RW_FAST, "generic", "2.6.0",
            "Set a key's time to live in milliseconds"),
    KEY_CMD("expireat", cmd_expireat, -3, RW_FAST, 1, 1, 1, ACL_RW_FAST, "generic", "1.2.0",
            "Set the expiration for a key as a UNIX timestamp"),
    KEY_CMD("pexpireat", cmd_pexpireat, -3, RW_FAST, 1, 1, 1, ACL_RW_FAST, "generic", "2.6.0",
            "Set the expiration for a key as a UNIX timestamp specified in milliseconds"),
    KEY_CMD("ttl", cmd_ttl, 2, RO_FAST, 1, 1, 1, ACL_RO_FAST, "generic", "1.0.0",
            "Get the time to live for a key in seconds"),
    KEY_CMD("pttl", cmd_pttl, 2, RO_FAST, 1, 1, 1, ACL_RO_FAST, "generic", "2.6.0",
            "Get the time to live for a key in milliseconds"),
    KEY_CMD("expiretime", cmd_expiretime, 2, RO_FAST, 1, 1, 1, ACL_RO_FAST, "generic", "7.0.0",
            "Get the expiration Unix timestamp for a key"),
    KEY_CMD("pexpiretime", cmd_pexpiretime, 2, RO_FAST, 1, 1, 1, ACL_RO_FAST, "generic", "7.0.0",
            "Get the expiration Unix timestamp for a key in milliseconds"),
    KEY_CMD("persist", cmd_persist, 2, RW_FAST, 1, 1, 1, ACL_RW_FAST, "generic", "2.2.0",
            "Remove the expiration from a key"),
    {.name = "object",
     .arity = -2,
     .acl = "@slow",
     .group = "generic",
     .since = "2.2.3",
     .summary = "A container for object introspection commands",
     .subcmds = object_subcmds},
    {.name = "memory",
     .arity = -2,
     .acl = "@slow",
     .group = "server",
     .since = "4.0.0",
     .summary = "A container for memory diagnostics commands",
     .subcmds = memory_subcmds},
    KEY_CMD("flushall", cmd_flush, -1, CMD_WRITE, 0, 0, 0, "@keyspace @write @slow @dangerous",
            "server", "1.0.0", "Remove all keys from all databases"),
    KEY_CMD("flushdb", cmd_flush, -1, CMD_WRITE, 0, 0, 0, "@keyspace @write @slow @dangerous",
            "server", "1.0.0", "Remove all keys from the current database"),
    CMD_END,
};
