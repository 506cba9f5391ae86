/*
 * cmd_string.c -- the string commands: GET SET (EX PX EXAT PXAT NX XX
 * KEEPTTL GET) SETNX SETEX PSETEX GETSET GETDEL GETEX MGET MSET MSETNX
 * APPEND STRLEN INCR DECR INCRBY DECRBY INCRBYFLOAT GETRANGE SUBSTR SETRANGE
 * (LCS is not here).
 *
 * A command that must not fail half-way (SET ... GET and GETSET reply the
 * old value before they store, MSET is all or nothing) allocates first and
 * replies after, so that memory running short answers OOM and changes
 * nothing.
 * Replies and error texts are redis-server 7's; tests/integration's
 * differential suite runs the same commands against both and compares.
 */
#include "node/t_string.h"

#include "common/clock.h"
#include "common/reply.h"
#include "common/util.h"
#include "node/client.h"
#include "node/cmd.h"
#include "node/kv.h"
#include "node/server.h"

#include <limits.h>
#include <math.h>
#include <string.h>
#include <strings.h>

/* DECRBY's own text in redis 7.0 (not in common/reply.h: nothing else says it). */
#define ERR_DECR_OVERFLOW "ERR decrement would overflow"

/* ---- shared ---- */

struct item *
str_lookup(struct client *c, const struct bstr *key, int flags, bool *wrongtype)
{
    struct item *it = kv_lookup(key->data, key->len, flags);

    *wrongtype = false;
    if (it != NULL && it->type != ITEM_STRING) {
        client_reply_error(c, ERR_WRONGTYPE);
        *wrongtype = true;
        return NULL;
    }
    return it;
}

int
str_parse_options(struct client *c, int from, enum str_parse_mode mode, int *flags, int *expire)
{
    bool set = mode == STR_PARSE_SET;
    const int timed = STR_EX | STR_PX | STR_EXAT | STR_PXAT;

    *flags = 0;
    *expire = 0;
    for (int j = from; j < c->conn.argc; j++) {
        const struct bstr *opt = &c->conn.argv[j];
        bool next = j < c->conn.argc - 1;
        int f = *flags;

        /* The same conditions as redis's parseExtendedStringArgumentsOrReply:
         * an option repeated is accepted, a conflicting one is not. */
        if (set && bstr_is(opt, "NX") && !(f & STR_XX)) {
            *flags |= STR_NX;
        } else if (set && bstr_is(opt, "XX") && !(f & STR_NX)) {
            *flags |= STR_XX;
        } else if (set && bstr_is(opt, "GET")) {
            *flags |= STR_GET;
        } else if (set && bstr_is(opt, "KEEPTTL") && !(f & (STR_PERSIST | timed))) {
            *flags |= STR_KEEPTTL;
        } else if (!set && bstr_is(opt, "PERSIST") && !(f & (timed | STR_KEEPTTL))) {
            *flags |= STR_PERSIST;
        } else if (bstr_is(opt, "EX") && !(f & (STR_KEEPTTL | STR_PERSIST | (timed & ~STR_EX))) &&
                   next) {
            *flags |= STR_EX;
            *expire = ++j;
        } else if (bstr_is(opt, "PX") && !(f & (STR_KEEPTTL | STR_PERSIST | (timed & ~STR_PX))) &&
                   next) {
            *flags |= STR_PX;
            *expire = ++j;
        } else if (bstr_is(opt, "EXAT") &&
                   !(f & (STR_KEEPTTL | STR_PERSIST | (timed & ~STR_EXAT))) && next) {
            *flags |= STR_EXAT;
            *expire = ++j;
        } else if (bstr_is(opt, "PXAT") &&
                   !(f & (STR_KEEPTTL | STR_PERSIST | (timed & ~STR_PXAT))) && next) {
            *flags |= STR_PXAT;
            *expire = ++j;
        } else {
            client_reply_error(c, ERR_SYNTAX);
            return SC_ERR;
        }
    }
    return SC_OK;
}

int
str_expire_ms(struct client *c, const struct bstr *arg, int flags, long long *when)
{
    long long ms;
    bool seconds = flags & (STR_EX | STR_EXAT);

    if (!util_str2ll(arg->data, arg->len, &ms)) {
        client_reply_error(c, ERR_NOT_INT);
        return SC_ERR;
    }
    if (ms <= 0 || (seconds && ms > LLONG_MAX / 1000)) {
        client_reply_errorf(c, ERR_INVALID_EXPIRE_FMT, c->cmd->name);
        return SC_ERR;
    }
    if (seconds) {
        ms *= 1000;
    }
    if (flags & (STR_EX | STR_PX)) {
        if (ms > LLONG_MAX - clock_now_ms()) {
            client_reply_errorf(c, ERR_INVALID_EXPIRE_FMT, c->cmd->name);
            return SC_ERR;
        }
        ms += clock_now_ms();
    }
    *when = ms;
    return SC_OK;
}

/* ---- storing ---- */

/* Whether an allocation with room cap fits vlen snugly enough to reuse:
 * reusing a much larger block would keep memory the value no longer needs. */
static bool
fits_snugly(size_t cap, size_t vlen)
{
    return cap >= vlen && cap <= vlen + vlen / 4 + 32;
}

/* Whether the value str_store writes carries a TTL. */
static bool
store_ttl(const struct item *old, bool keepttl, long long expire_ms)
{
    return expire_ms >= 0 || (keepttl && old != NULL && (old->flags & ITEM_F_TTL));
}

/* Whether str_store writes into old's allocation instead of a new one. */
static bool
store_in_place(const struct item *old, size_t vlen, bool ttl)
{
    return old != NULL && old->type == ITEM_STRING && ((old->flags & ITEM_F_TTL) != 0) == ttl &&
           fits_snugly(item_capacity(old), vlen);
}

/*
 * str_store in two steps, for commands that must not fail once they have
 * begun: SET ... GET and GETSET reply the old value before storing, MSET
 * stores many keys all or nothing.  store_reserve makes the allocation
 * str_store would make (*spare, NULL when old can take the value in place);
 * store_into then stores without allocating.  SC_ENOMEM: nothing changed.
 */
static int
store_reserve(const struct bstr *key, size_t vlen, const struct item *old, bool keepttl,
              long long expire_ms, struct item **spare)
{
    bool ttl = store_ttl(old, keepttl, expire_ms);

    *spare = NULL;
    if (store_in_place(old, vlen, ttl)) {
        return SC_OK;
    }
    *spare = item_try_create(key->data, key->len, NULL, vlen, vlen, ttl);
    return *spare != NULL ? SC_OK : SC_ENOMEM;
}

/* Links a new item it in place of old (NULL: a new key). */
static void
store_link(struct item *it, struct item *old)
{
    if (old == NULL) {
        kv_add(it);
        return;
    }
    /* The new item inherits old's eviction state (kv_replace): keeping the
     * LFU counter is what redis's dbOverwrite does too. */
    kv_overwrite(old, it);
}

/* str_store with an allocation made by store_reserve for the same key,
 * value length and TTL (or NULL: allocate here if needed). */
static struct item *
store_into(const struct bstr *key, const char *val, size_t vlen, enum item_enc enc,
           struct item *old, bool keepttl, long long expire_ms, struct item *spare)
{
    bool ttl = store_ttl(old, keepttl, expire_ms);
    struct item *it = spare;

    if (it == NULL && store_in_place(old, vlen, ttl)) {
        it = old;
    } else if (it == NULL) {
        it = item_try_create(key->data, key->len, NULL, vlen, vlen, ttl);
        if (it == NULL) {
            return NULL;
        }
    }
    server.dirty++;
    memmove(item_val(it), val, vlen); /* val may be the item's own bytes (SETRANGE) */
    it->vlen = (uint32_t)vlen;
    it->type = ITEM_STRING;
    it->enc = (uint8_t)enc;
    if (it == old) {
        if (expire_ms >= 0) {
            item_set_expire_field(it, expire_ms);
        }
        return it;
    }
    if (ttl) {
        item_set_expire_field(it, expire_ms >= 0 ? expire_ms : item_expire(old));
    }
    store_link(it, old);
    return it;
}

struct item *
str_store(const struct bstr *key, const char *val, size_t vlen, enum item_enc enc, struct item *old,
          bool keepttl, long long expire_ms)
{
    return store_into(key, val, vlen, enc, old, keepttl, expire_ms, NULL);
}

/* redis checkStringLength: a value may not grow past proto-max-bulk-len
 * (nor past what an item's 32-bit length holds). */
static int
check_length_or_reply(struct client *c, unsigned long long len, unsigned long long add)
{
    unsigned long long total = len + add; /* both < 2^63: no wrap */

    if (total > server.opt.proto_max_bulk_len || total > UINT32_MAX) {
        client_reply_error(c, ERR_STRING_TOO_LONG);
        return SC_ERR;
    }
    return SC_OK;
}

/* Writes p[0..n) at offset off of *itp's value, zero-filling a gap past its
 * end and growing it through kv_reserve_value (*itp may move).  The value
 * becomes raw, as redis's unshared sds does.  SC_ENOMEM: unchanged. */
static int
write_at(struct item **itp, size_t off, const char *p, size_t n)
{
    if (kv_reserve_value(itp, off + n) != SC_OK) {
        return SC_ENOMEM;
    }
    struct item *it = *itp;
    if (off > it->vlen) {
        memset(item_val(it) + it->vlen, 0, off - it->vlen);
    }
    memcpy(item_val(it) + off, p, n);
    it->vlen = (uint32_t)MAX(it->vlen, off + n);
    it->enc = ENC_RAW;
    server.dirty++;
    return SC_OK;
}

/* ---- GET SET and the commands SET subsumes ---- */

/* The value of it as GET replies it: nil when absent. */
static void
reply_value(struct client *c, struct item *it)
{
    if (it == NULL) {
        client_reply_null(c);
    } else {
        client_reply_bulk(c, item_val(it), it->vlen);
    }
}

/* redis getGenericCommand: replies argv[1]'s value (nil if absent) and
 * returns its item in *itp; SC_ERR after replying WRONGTYPE. */
static int
get_generic(struct client *c, struct item **itp)
{
    bool wrongtype;

    *itp = str_lookup(c, &c->conn.argv[1], 0, &wrongtype);
    if (wrongtype) {
        return SC_ERR;
    }
    reply_value(c, *itp);
    return SC_OK;
}

static void
cmd_get(struct client *c)
{
    struct item *it;

    get_generic(c, &it);
}

/* What the set commands answer when they store and when NX/XX stops them:
 * SET says OK or nil, SETNX 1 or 0; with STR_GET the old value is the
 * answer either way. */
enum set_reply { SET_REPLY_OK, SET_REPLY_INT };

static void
reply_set_result(struct client *c, enum set_reply style, bool stored)
{
    if (style == SET_REPLY_INT) {
        client_reply_int(c, stored);
    } else if (stored) {
        client_reply_ok(c);
    } else {
        client_reply_null(c);
    }
}

/*
 * redis setGenericCommand, for SET SETNX SETEX PSETEX GETSET: flags are
 * STR_* options, expire the time argument (NULL if none), val the value of
 * argv[1].  The allocation is made before anything is replied, so that
 * memory running short answers OOM alone and leaves the key as it was.
 */
static void
set_generic(struct client *c, int flags, const struct bstr *expire, const struct bstr *val,
            enum set_reply style)
{
    const struct bstr *key = &c->conn.argv[1];
    bool keepttl = flags & STR_KEEPTTL, wrongtype;
    long long when = -1;
    struct item *old, *spare = NULL;

    if (expire != NULL && str_expire_ms(c, expire, flags, &when) != SC_OK) {
        return;
    }
    if (flags & STR_GET) {
        /* The old value is read as GET reads it: counted, type-checked. */
        old = str_lookup(c, key, 0, &wrongtype);
        if (wrongtype) {
            return;
        }
    } else {
        old = kv_lookup(key->data, key->len, KV_WRITE);
    }
    bool store = !((flags & STR_NX) && old != NULL) && !((flags & STR_XX) && old == NULL);
    if (store && store_reserve(key, val->len, old, keepttl, when, &spare) != SC_OK) {
        client_reply_error(c, ERR_OOM);
        return;
    }
    if (flags & STR_GET) {
        reply_value(c, old);
    } else {
        reply_set_result(c, style, store);
    }
    if (store) {
        store_into(key, val->data, val->len, item_string_enc(val->data, val->len), old, keepttl,
                   when, spare);
    }
}

static void
cmd_set(struct client *c)
{
    int flags, expire;

    if (str_parse_options(c, 3, STR_PARSE_SET, &flags, &expire) != SC_OK) {
        return;
    }
    set_generic(c, flags, expire > 0 ? &c->conn.argv[expire] : NULL, &c->conn.argv[2], SET_REPLY_OK);
}

static void
cmd_setnx(struct client *c)
{
    set_generic(c, STR_NX, NULL, &c->conn.argv[2], SET_REPLY_INT);
}

static void
cmd_setex(struct client *c)
{
    set_generic(c, STR_EX, &c->conn.argv[2], &c->conn.argv[3], SET_REPLY_OK);
}

static void
cmd_psetex(struct client *c)
{
    set_generic(c, STR_PX, &c->conn.argv[2], &c->conn.argv[3], SET_REPLY_OK);
}

/* GETSET is SET key value GET: the TTL goes, the old value is the answer. */
static void
cmd_getset(struct client *c)
{
    set_generic(c, STR_GET, NULL, &c->conn.argv[2], SET_REPLY_OK);
}

/* ---- GETDEL GETEX ---- */

static void
cmd_getdel(struct client *c)
{
    struct item *it;

    if (get_generic(c, &it) == SC_OK && it != NULL) {
        kv_delete(it);
        server.dirty++;
    }
}

/* GETEX's TTL change on a live item; the value is replied after it, from
 * the item's new place (setting or dropping a TTL reallocates). */
static void
getex_apply(struct client *c, struct item *it, int flags, long long when)
{
    int rc = SC_OK;

    if (when >= 0 && (flags & (STR_EXAT | STR_PXAT)) && when <= clock_now_ms()) {
        /* An absolute time already past deletes the key, as redis does;
         * the value is still the answer. */
        reply_value(c, it);
        kv_delete(it);
        server.dirty++;
        return;
    }
    if (when >= 0) {
        rc = kv_set_expire(&it, when);
        server.dirty += rc == SC_OK;
    } else if ((flags & STR_PERSIST) && (it->flags & ITEM_F_TTL)) {
        rc = kv_persist(&it);
        server.dirty += rc == SC_OK;
    }
    if (rc != SC_OK) {
        client_reply_error(c, ERR_OOM);
        return;
    }
    reply_value(c, it);
}

static void
cmd_getex(struct client *c)
{
    int flags, expire;
    long long when = -1;
    bool wrongtype;

    if (str_parse_options(c, 2, STR_PARSE_GETEX, &flags, &expire) != SC_OK) {
        return;
    }
    /* redis looks the key up before it checks the time: a missing key
     * answers nil whatever the time says. */
    struct item *it = str_lookup(c, &c->conn.argv[1], 0, &wrongtype);
    if (wrongtype) {
        return;
    }
    if (it == NULL) {
        client_reply_null(c);
        return;
    }
    if (expire > 0 && str_expire_ms(c, &c->conn.argv[expire], flags, &when) != SC_OK) {
        return;
    }
    getex_apply(c, it, flags, when);
}

/* ---- MGET MSET MSETNX ---- */

static void
cmd_mget(struct client *c)
{
    client_reply_array(c, (size_t)c->conn.argc - 1);
    for (int j = 1; j < c->conn.argc; j++) {
        struct item *it = kv_lookup(c->conn.argv[j].data, c->conn.argv[j].len, 0);
        /* A key of another type is nil here, not an error. */
        reply_value(c, it != NULL && it->type == ITEM_STRING ? it : NULL);
    }
}

/*
 * MSET's first step: the allocations of every pair that cannot be stored
 * in place, chained through their (still unused) eviction link with the
 * pair's argument index in meta.  SC_ENOMEM: none is kept.
 */
static int
mset_reserve(struct client *c, struct item **spares)
{
    struct item **tail = spares;

    *spares = NULL;
    for (int j = 1; j < c->conn.argc; j += 2) {
        const struct bstr *key = &c->conn.argv[j];
        struct item *old = kv_lookup(key->data, key->len, KV_WRITE), *spare;

        if (store_reserve(key, c->conn.argv[j + 1].len, old, false, -1, &spare) != SC_OK) {
            while (*spares != NULL) {
                struct item *next = (*spares)->next;
                item_free(*spares);
                *spares = next;
            }
            return SC_ENOMEM;
        }
        if (spare != NULL) {
            spare->meta = (uint32_t)j;
            *tail = spare;
            tail = &spare->next;
        }
    }
    return SC_OK;
}

/*
 * MSET's second step: stores every pair (the TTL goes, as SET's does).
 * A pair decided "in place" needs no memory -- unless an earlier pair with
 * the same key replaced the item it was decided on.  Only then (a key
 * repeated in one MSET) can this allocate, and if that fails the pairs
 * before it stay stored: finding repeats up front would cost a set of the
 * keys on every MSET for a case no client sends on purpose.
 */
static int
mset_store(struct client *c, struct item *spares)
{
    int rc = SC_OK;

    for (int j = 1; j < c->conn.argc; j += 2) {
        const struct bstr *key = &c->conn.argv[j], *val = &c->conn.argv[j + 1];
        struct item *spare = NULL;

        if (spares != NULL && spares->meta == (uint32_t)j) {
            spare = spares;
            spares = spare->next;
            spare->next = NULL;
            spare->meta = 0;
        }
        struct item *old = kv_lookup(key->data, key->len, KV_WRITE | KV_NOTOUCH);
        if (rc == SC_OK &&
            store_into(key, val->data, val->len, item_string_enc(val->data, val->len), old, false,
                       -1, spare) == NULL) {
            rc = SC_ENOMEM;
        } else if (rc != SC_OK && spare != NULL) {
            item_free(spare);
        }
    }
    return rc;
}

/* redis msetGenericCommand; MSETNX stores nothing if any key exists. */
static void
mset_generic(struct client *c, bool nx)
{
    struct item *spares;

    if (c->conn.argc % 2 == 0) {
        client_reply_arity(c);
        return;
    }
    for (int j = 1; nx && j < c->conn.argc; j += 2) {
        if (kv_lookup(c->conn.argv[j].data, c->conn.argv[j].len, KV_WRITE) != NULL) {
            client_reply_int(c, 0);
            return;
        }
    }
    if (mset_reserve(c, &spares) != SC_OK || mset_store(c, spares) != SC_OK) {
        client_reply_error(c, ERR_OOM);
        return;
    }
    if (nx) {
        client_reply_int(c, 1);
    } else {
        client_reply_ok(c);
    }
}

static void
cmd_mset(struct client *c)
{
    mset_generic(c, false);
}

static void
cmd_msetnx(struct client *c)
{
    mset_generic(c, true);
}

/* ---- APPEND STRLEN GETRANGE SETRANGE ---- */

static void
cmd_append(struct client *c)
{
    const struct bstr *key = &c->conn.argv[1], *add = &c->conn.argv[2];
    bool wrongtype;
    struct item *it = str_lookup(c, key, KV_WRITE, &wrongtype);

    if (wrongtype) {
        return;
    }
    if (it == NULL) {
        /* A new key is stored as SET would store it (int, embstr, raw). */
        if (str_store(key, add->data, add->len, item_string_enc(add->data, add->len), NULL, false,
                      -1) == NULL) {
            client_reply_error(c, ERR_OOM);
            return;
        }
        client_reply_int(c, (long long)add->len);
        return;
    }
    if (check_length_or_reply(c, it->vlen, add->len) != SC_OK) {
        return;
    }
    if (write_at(&it, it->vlen, add->data, add->len) != SC_OK) {
        client_reply_error(c, ERR_OOM);
        return;
    }
    client_reply_int(c, it->vlen);
}

static void
cmd_strlen(struct client *c)
{
    bool wrongtype;
    struct item *it = str_lookup(c, &c->conn.argv[1], 0, &wrongtype);

    if (!wrongtype) {
        client_reply_int(c, it != NULL ? it->vlen : 0);
    }
}

/* GETRANGE (and SUBSTR, its old name): bytes start..end inclusive, negative
 * indexes counting from the end, clamped to the value, "" when empty. */
static void
cmd_getrange(struct client *c)
{
    long long start, end;
    bool wrongtype;

    if (!util_str2ll(c->conn.argv[2].data, c->conn.argv[2].len, &start) ||
        !util_str2ll(c->conn.argv[3].data, c->conn.argv[3].len, &end)) {
        client_reply_error(c, ERR_NOT_INT);
        return;
    }
    struct item *it = str_lookup(c, &c->conn.argv[1], 0, &wrongtype);
    if (wrongtype) {
        return;
    }
    long long len = it != NULL ? it->vlen : 0;
    /* Both counted from the end with start after end is empty before any
     * clamping (clamping both to 0 would answer the first byte). */
    bool empty = start < 0 && end < 0 && start > end;
    start = start < 0 ? MAX(len + start, 0) : start;
    end = end < 0 ? MAX(len + end, 0) : MIN(end, len - 1);
    if (empty || len == 0 || start > end) {
        client_reply_bulk(c, "", 0);
        return;
    }
    client_reply_bulk(c, item_val(it) + start, (size_t)(end - start + 1));
}

/* SETRANGE on a missing key: a new raw value, zeros up to off. */
static void
setrange_new(struct client *c, size_t off, const struct bstr *val)
{
    const struct bstr *key = &c->conn.argv[1];
    size_t len = off + val->len;
    struct item *spare;

    if (store_reserve(key, len, NULL, false, -1, &spare) != SC_OK) {
        client_reply_error(c, ERR_OOM);
        return;
    }
    /* Build the value in the new item, then store it onto itself. */
    char *v = item_val(spare);
    memset(v, 0, off);
    memcpy(v + off, val->data, val->len);
    store_into(key, v, len, ENC_RAW, NULL, false, -1, spare);
    client_reply_int(c, (long long)len);
}

static void
cmd_setrange(struct client *c)
{
    const struct bstr *val = &c->conn.argv[3];
    long long off;
    bool wrongtype;

    if (!util_str2ll(c->conn.argv[2].data, c->conn.argv[2].len, &off)) {
        client_reply_error(c, ERR_NOT_INT);
        return;
    }
    if (off < 0) {
        client_reply_error(c, ERR_OFFSET_RANGE);
        return;
    }
    struct item *it = str_lookup(c, &c->conn.argv[1], KV_WRITE, &wrongtype);
    if (wrongtype) {
        return;
    }
    if (val->len == 0) {
        /* Nothing to write: nothing changes, not even a missing key. */
        client_reply_int(c, it != NULL ? it->vlen : 0);
        return;
    }
    if (check_length_or_reply(c, (unsigned long long)off, val->len) != SC_OK) {
        return;
    }
    if (it == NULL) {
        setrange_new(c, (size_t)off, val);
        return;
    }
    if (write_at(&it, (size_t)off, val->data, val->len) != SC_OK) {
        client_reply_error(c, ERR_OOM);
        return;
    }
    client_reply_int(c, it->vlen);
}

/* ---- INCR DECR INCRBY DECRBY INCRBYFLOAT ---- */

/* redis incrDecrCommand: adds by to argv[1]'s integer (0 if absent),
 * keeping its TTL; the result is stored int-encoded, as redis stores it. */
static void
incr_generic(struct client *c, long long by)
{
    const struct bstr *key = &c->conn.argv[1];
    char buf[UTIL_LL_STR_SIZE];
    long long v = 0;
    bool wrongtype;
    struct item *it = str_lookup(c, key, KV_WRITE, &wrongtype);

    if (wrongtype) {
        return;
    }
    if (it != NULL && !util_str2ll(item_val(it), it->vlen, &v)) {
        client_reply_error(c, ERR_NOT_INT);
        return;
    }
    if ((by < 0 && v < 0 && by < LLONG_MIN - v) || (by > 0 && v > 0 && by > LLONG_MAX - v)) {
        client_reply_error(c, ERR_OVERFLOW);
        return;
    }
    v += by;
    if (str_store(key, buf, util_ll2str(buf, v), ENC_INT, it, true, -1) == NULL) {
        client_reply_error(c, ERR_OOM);
        return;
    }
    client_reply_int(c, v);
}

/* The increment argument of INCRBY/DECRBY; SC_ERR after the reply. */
static int
parse_incr_or_reply(struct client *c, long long *by)
{
    if (!util_str2ll(c->conn.argv[2].data, c->conn.argv[2].len, by)) {
        client_reply_error(c, ERR_NOT_INT);
        return SC_ERR;
    }
    return SC_OK;
}

static void
cmd_incr(struct client *c)
{
    incr_generic(c, 1);
}

static void
cmd_decr(struct client *c)
{
    incr_generic(c, -1);
}

static void
cmd_incrby(struct client *c)
{
    long long by;

    if (parse_incr_or_reply(c, &by) == SC_OK) {
        incr_generic(c, by);
    }
}

static void
cmd_decrby(struct client *c)
{
    long long by;

    if (parse_incr_or_reply(c, &by) != SC_OK) {
        return;
    }
    if (by == LLONG_MIN) {
        client_reply_error(c, ERR_DECR_OVERFLOW); /* -LLONG_MIN does not exist */
        return;
    }
    incr_generic(c, -by);
}

/* redis incrbyfloatCommand: long double arithmetic, the result printed
 * with util_ld2str (ld2string's human form) and stored as that text. */
static void
cmd_incrbyfloat(struct client *c)
{
    const struct bstr *key = &c->conn.argv[1], *arg = &c->conn.argv[2];
    char buf[UTIL_LD_STR_SIZE];
    long double v = 0, by;
    bool wrongtype;
    struct item *it = str_lookup(c, key, KV_WRITE, &wrongtype);

    if (wrongtype) {
        return;
    }
    if ((it != NULL && !util_str2ld(item_val(it), it->vlen, &v)) ||
        !util_str2ld(arg->data, arg->len, &by)) {
        client_reply_error(c, ERR_NOT_FLOAT);
        return;
    }
    v += by;
    if (isnan(v) || isinf(v)) {
        client_reply_error(c, ERR_NAN);
        return;
    }
    size_t n = util_ld2str(buf, sizeof(buf), v);
    enum item_enc enc = n <= ITEM_EMBSTR_MAX ? ENC_EMBSTR : ENC_RAW;
    if (str_store(key, buf, n, enc, it, true, -1) == NULL) {
        client_reply_error(c, ERR_OOM);
        return;
    }
    client_reply_bulk(c, buf, n);
}

/* ---- the table: what COMMAND INFO and COMMAND DOCS say, as redis 7 ---- */

#define WRITE_OOM (CMD_WRITE | CMD_DENYOOM)
#define WRITE_OOM_FAST (CMD_WRITE | CMD_DENYOOM | CMD_FAST)
#define READ_FAST_ACL "@read @string @fast"
#define READ_SLOW_ACL "@read @string @slow"
#define WRITE_FAST_ACL "@write @string @fast"
#define WRITE_SLOW_ACL "@write @string @slow"

/* name, handler, arity, flags, key positions (first, last, step; last -1 =
 * the last argument), ACL categories, the version that added it, summary. */
#define STRING_CMD(name_, proc_, arity_, flags_, first_, last_, step_, acl_, since_, summary_)     \
    {                                                                                              \
        .name = name_, .proc = proc_, .arity = arity_, .flags = flags_, .first_key = first_,       \
        .last_key = last_, .key_step = step_, .acl = acl_, .group = "string", .since = since_,     \
        .summary = summary_                                                                        \
    }

struct cmd cmd_string_table[] = {
    STRING_CMD("get", cmd_get, 2, CMD_READONLY | CMD_FAST, 1, 1, 1, READ_FAST_ACL, "1.0.0",
               "Get the value of a key"),
    STRING_CMD("set", cmd_set, -3, WRITE_OOM, 1, 1, 1, WRITE_SLOW_ACL, "1.0.0",
               "Set the string value of a key"),
    STRING_CMD("setnx", cmd_setnx, 3, WRITE_OOM_FAST, 1, 1, 1, WRITE_FAST_ACL, "1.0.0",
               "Set the value of a key, only if the key does not exist"),
    STRING_CMD("setex", cmd_setex, 4, WRITE_OOM, 1, 1, 1, WRITE_SLOW_ACL, "2.0.0",
               "Set the value and expiration of a key"),
    STRING_CMD("psetex", cmd_psetex, 4, WRITE_OOM, 1, 1, 1, WRITE_SLOW_ACL, "2.6.0",
               "Set the value and expiration in milliseconds of a key"),
    STRING_CMD("getset", cmd_getset, 3, WRITE_OOM_FAST, 1, 1, 1, WRITE_FAST_ACL, "1.0.0",
               "Set the string value of a key and return its old value"),
    STRING_CMD("getdel", cmd_getdel, 2, CMD_WRITE | CMD_FAST, 1, 1, 1, WRITE_FAST_ACL, "6.2.0",
               "Get the value of a key and delete the key"),
    STRING_CMD("getex", cmd_getex, -2, CMD_WRITE | CMD_FAST, 1, 1, 1, WRITE_FAST_ACL, "6.2.0",
               "Get the value of a key and optionally set its expiration"),
    STRING_CMD("mget", cmd_mget, -2, CMD_READONLY | CMD_FAST, 1, -1, 1, READ_FAST_ACL, "1.0.0",
               "Get the values of all the given keys"),
    STRING_CMD("mset", cmd_mset, -3, WRITE_OOM, 1, -1, 2, WRITE_SLOW_ACL, "1.0.1",
               "Set multiple keys to multiple values"),
    STRING_CMD("msetnx", cmd_msetnx, -3, WRITE_OOM, 1, -1, 2, WRITE_SLOW_ACL, "1.0.1",
               "Set multiple keys to multiple values, only if none of the keys exist"),
    STRING_CMD("append", cmd_append, 3, WRITE_OOM_FAST, 1, 1, 1, WRITE_FAST_ACL, "2.0.0",
               "Append a value to a key"),
    STRING_CMD("strlen", cmd_strlen, 2, CMD_READONLY | CMD_FAST, 1, 1, 1, READ_FAST_ACL, "2.2.0",
               "Get the length of the value stored in a key"),
    STRING_CMD("incr", cmd_incr, 2, WRITE_OOM_FAST, 1, 1, 1, WRITE_FAST_ACL, "1.0.0",
               "Increment the integer value of a key by one"),
    STRING_CMD("decr", cmd_decr, 2, WRITE_OOM_FAST, 1, 1, 1, WRITE_FAST_ACL, "1.0.0",
               "Decrement the integer value of a key by one"),
    STRING_CMD("incrby", cmd_incrby, 3, WRITE_OOM_FAST, 1, 1, 1, WRITE_FAST_ACL, "1.0.0",
               "Increment the integer value of a key by the given amount"),
    STRING_CMD("decrby", cmd_decrby, 3, WRITE_OOM_FAST, 1, 1, 1, WRITE_FAST_ACL, "1.0.0",
               "Decrement the integer value of a key by the given number"),
    STRING_CMD("incrbyfloat", cmd_incrbyfloat, 3, WRITE_OOM_FAST, 1, 1, 1, WRITE_FAST_ACL, "2.6.0",
               "Increment the float value of a key by the given amount"),
    STRING_CMD("getrange", cmd_getrange, 4, CMD_READONLY, 1, 1, 1, READ_SLOW_ACL, "2.4.0",
               "Get a substring of the string stored at a key"),
    STRING_CMD("substr", cmd_getrange, 4, CMD_READONLY, 1, 1, 1, READ_SLOW_ACL, "1.0.0",
               "Get a substring of the string stored at a key"),
    STRING_CMD("setrange", cmd_setrange, 4, WRITE_OOM, 1, 1, 1, WRITE_SLOW_ACL, "2.2.0",
               "Overwrite part of a string at key starting at the specified offset"),
    CMD_END,
};
