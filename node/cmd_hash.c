/*
 * cmd_hash.c -- the hash commands: HSET HSETNX HMSET HGET HMGET HGETALL
 * HKEYS HVALS HDEL HEXISTS HLEN HSTRLEN HINCRBY HINCRBYFLOAT HRANDFIELD
 * HSCAN.
 *
 * A hash key is an item of type ITEM_HASH whose value bytes hold a pointer
 * to its struct hobj (node/hobj.h), which does the storing; this file reads
 * arguments, looks keys up and replies with redis-server 7's texts, in
 * redis's order of checks (t_hash.c).  After every change the item's
 * encoding is refreshed for OBJECT ENCODING, and a hash left without fields
 * is deleted: redis never keeps an empty hash.
 */
#include "common/reply.h"
#include "common/util.h"
#include "node/client.h"
#include "node/cmd.h"
#include "node/hobj.h"
#include "node/kv.h"
#include "node/server.h"

#include <limits.h>
#include <math.h>
#include <string.h>

#define HSCAN_DEFAULT_COUNT 10 /* redis scanGenericCommand */
/* HRANDFIELD with a negative count: picks between checks of the output
 * limits, so that a huge count stops once the client is being closed. */
#define HRANDFIELD_CHUNK 1024

#define ERR_HASH_NOT_INT "ERR hash value is not an integer"
#define ERR_HASH_NOT_FLOAT "ERR hash value is not a float"
#define ERR_NAN_OR_INF "ERR value is NaN or Infinity"
#define ERR_VALUE_RANGE "ERR value is out of range"
#define ERR_INVALID_CURSOR "ERR invalid cursor"

/* ---- looking hashes up ---- */

static struct hobj *
hash_of(struct item *it)
{
    struct hobj *h;
    memcpy(&h, item_val(it), sizeof(h));
    return h;
}

/* The hash at argv[1] for a read command (counts a hit or miss): SC_OK
 * with *h NULL when the key is absent; SC_ERR, WRONGTYPE replied, when it
 * holds something else. */
static int
hash_read(struct client *c, struct hobj **h)
{
    struct item *it = kv_lookup(c->conn.argv[1].data, c->conn.argv[1].len, 0);

    *h = NULL;
    if (it == NULL) {
        return SC_OK;
    }
    if (it->type != ITEM_HASH) {
        client_reply_error(c, ERR_WRONGTYPE);
        return SC_ERR;
    }
    *h = hash_of(it);
    return SC_OK;
}

/* An empty hash stored under key (redis hashTypeLookupWriteOrCreate); NULL
 * if memory is short, the keyspace unchanged. */
static struct item *
hash_create(const struct bstr *key)
{
    struct hobj *h = hobj_try_create();

    if (h == NULL) {
        return NULL;
    }
    struct item *it = item_try_create(key->data, key->len, &h, sizeof(h), sizeof(h), false);
    if (it == NULL) {
        hobj_free(h);
        return NULL;
    }
    it->type = ITEM_HASH;
    it->enc = (uint8_t)hobj_encoding(h);
    kv_add(it);
    return it;
}

/* The hash item at argv[1] for a write command; with create, an absent key
 * gets an empty hash (hash_done removes it again if it stays empty).
 * SC_ERR once WRONGTYPE or OOM is replied; SC_OK with *itp NULL when the
 * key is absent and create is false. */
static int
hash_write(struct client *c, bool create, struct item **itp)
{
    const struct bstr *key = &c->conn.argv[1];
    struct item *it = kv_lookup(key->data, key->len, KV_WRITE);

    if (it != NULL && it->type != ITEM_HASH) {
        client_reply_error(c, ERR_WRONGTYPE);
        return SC_ERR;
    }
    if (it == NULL && create) {
        it = hash_create(key);
        if (it == NULL) {
            client_reply_error(c, ERR_OOM);
            return SC_ERR;
        }
    }
    *itp = it;
    return SC_OK;
}

/* After a write: the key reports the hash's encoding, or goes when the
 * hash is empty (its last field deleted, or a new hash whose first field
 * could not be stored). */
static void
hash_done(struct item *it)
{
    struct hobj *h = hash_of(it);

    if (hobj_len(h) == 0) {
        kv_delete(it);
    } else {
        it->enc = (uint8_t)hobj_encoding(h);
    }
}

/* Stores field argv[2] for HSETNX/HINCRBY*: counts the change, or replies
 * OOM and returns SC_ERR.  The key is left consistent either way. */
static int
hash_set_one(struct client *c, struct item *it, const char *v, size_t vlen)
{
    const struct bstr *f = &c->conn.argv[2];
    int rc = hobj_set(hash_of(it), f->data, f->len, v, vlen);

    hash_done(it);
    if (rc < 0) {
        client_reply_error(c, ERR_OOM);
        return SC_ERR;
    }
    server.dirty++;
    return SC_OK;
}

/* For HSETNX and HINCRBY*: the hash at argv[1], created if absent, and the
 * value of field argv[2] (*old NULL when the field is absent); SC_ERR once
 * an error is replied. */
static int
field_for_write(struct client *c, struct item **itp, const char **old, size_t *oldlen)
{
    const struct bstr *f = &c->conn.argv[2];

    if (hash_write(c, true, itp) != SC_OK) {
        return SC_ERR;
    }
    if (!hobj_get(hash_of(*itp), f->data, f->len, old, oldlen)) {
        *old = NULL;
    }
    return SC_OK;
}

/* ---- HSET HMSET HSETNX ---- */

/* HSET replies how many fields are new; HMSET (deprecated) replies OK. */
static void
cmd_hset(struct client *c)
{
    struct item *it;
    long long created = 0;
    int rc = SC_OK;

    if (c->conn.argc % 2 == 1) {
        client_reply_arity(c);
        return;
    }
    if (hash_write(c, true, &it) != SC_OK) {
        return;
    }
    struct hobj *h = hash_of(it);
    for (int j = 2; j < c->conn.argc && rc >= 0; j += 2) {
        const struct bstr *f = &c->conn.argv[j], *v = &c->conn.argv[j + 1];
        rc = hobj_set(h, f->data, f->len, v->data, v->len);
        if (rc >= 0) {
            created += rc;
            server.dirty++;
        }
    }
    hash_done(it);
    if (rc < 0) {
        client_reply_error(c, ERR_OOM);
    } else if (strcmp(c->cmd->name, "hmset") == 0) {
        client_reply_ok(c);
    } else {
        client_reply_int(c, created);
    }
}

static void
cmd_hsetnx(struct client *c)
{
    struct item *it;
    const char *old;
    size_t oldlen;

    if (field_for_write(c, &it, &old, &oldlen) != SC_OK) {
        return;
    }
    if (old != NULL) {
        client_reply_int(c, 0);
        return;
    }
    if (hash_set_one(c, it, c->conn.argv[3].data, c->conn.argv[3].len) == SC_OK) {
        client_reply_int(c, 1);
    }
}

/* ---- HGET HMGET HEXISTS HSTRLEN HLEN ---- */

static void
cmd_hget(struct client *c)
{
    struct hobj *h;
    const char *v;
    size_t vlen;

    if (hash_read(c, &h) != SC_OK) {
        return;
    }
    if (h != NULL && hobj_get(h, c->conn.argv[2].data, c->conn.argv[2].len, &v, &vlen)) {
        client_reply_bulk(c, v, vlen);
    } else {
        client_reply_null(c);
    }
}

static void
cmd_hmget(struct client *c)
{
    struct hobj *h;
    const char *v;
    size_t vlen;

    if (hash_read(c, &h) != SC_OK) {
        return;
    }
    client_reply_array(c, (size_t)c->conn.argc - 2);
    for (int j = 2; j < c->conn.argc; j++) {
        if (h != NULL && hobj_get(h, c->conn.argv[j].data, c->conn.argv[j].len, &v, &vlen)) {
            client_reply_bulk(c, v, vlen);
        } else {
            client_reply_null(c);
        }
    }
}

/* HEXISTS and HSTRLEN: 0 for an absent key or field, else 1 or the
 * value's length. */
static void
field_int_reply(struct client *c, bool value_len)
{
    struct hobj *h;
    const char *v;
    size_t vlen;

    if (hash_read(c, &h) != SC_OK) {
        return;
    }
    if (h == NULL || !hobj_get(h, c->conn.argv[2].data, c->conn.argv[2].len, &v, &vlen)) {
        client_reply_int(c, 0);
    } else {
        client_reply_int(c, value_len ? (long long)vlen : 1);
    }
}

static void
cmd_hexists(struct client *c)
{
    field_int_reply(c, false);
}

static void
cmd_hstrlen(struct client *c)
{
    field_int_reply(c, true);
}

static void
cmd_hlen(struct client *c)
{
    struct hobj *h;

    if (hash_read(c, &h) == SC_OK) {
        client_reply_int(c, h == NULL ? 0 : (long long)hobj_len(h));
    }
}

/* ---- HGETALL HKEYS HVALS ---- */

#define HGET_FIELDS 0x1
#define HGET_VALUES 0x2

struct emit_ctx {
    struct client *c;
    int what;         /* HGET_* */
    bool pair_arrays; /* each pick a 2-element array (RESP3 WITHVALUES) */
    size_t header;    /* >0: array length to reply before the first field */
};

static void
emit_field(void *ctx, const char *f, size_t flen, const char *v, size_t vlen)
{
    struct emit_ctx *e = ctx;

    if (e->header > 0) {
        client_reply_array(e->c, e->header);
        e->header = 0;
    }
    if (e->pair_arrays) {
        client_reply_array(e->c, 2);
    }
    if (e->what & HGET_FIELDS) {
        client_reply_bulk(e->c, f, flen);
    }
    if (e->what & HGET_VALUES) {
        client_reply_bulk(e->c, v, vlen);
    }
}

/* Every field of h, in the hash's own order (insertion order while packed). */
static void
emit_all(struct hobj *h, struct emit_ctx *e)
{
    struct hobj_iter it;
    const char *f, *v;
    size_t flen, vlen;

    hobj_iter_init(&it, h);
    while (hobj_iter_next(&it, &f, &flen, &v, &vlen)) {
        emit_field(e, f, flen, v, vlen);
    }
}

static void
hgetall_generic(struct client *c, int what)
{
    struct emit_ctx e = {c, what, false, 0};
    struct hobj *h;

    if (hash_read(c, &h) != SC_OK) {
        return;
    }
    size_t len = h == NULL ? 0 : hobj_len(h);
    if (what == (HGET_FIELDS | HGET_VALUES)) {
        client_reply_map(c, len);
    } else {
        client_reply_array(c, len);
    }
    if (h != NULL) {
        emit_all(h, &e);
    }
}

static void
cmd_hgetall(struct client *c)
{
    hgetall_generic(c, HGET_FIELDS | HGET_VALUES);
}

static void
cmd_hkeys(struct client *c)
{
    hgetall_generic(c, HGET_FIELDS);
}

static void
cmd_hvals(struct client *c)
{
    hgetall_generic(c, HGET_VALUES);
}

/* ---- HDEL ---- */

static void
cmd_hdel(struct client *c)
{
    struct item *it;
    long long deleted = 0;

    if (hash_write(c, false, &it) != SC_OK) {
        return;
    }
    if (it == NULL) {
        client_reply_int(c, 0);
        return;
    }
    struct hobj *h = hash_of(it);
    for (int j = 2; j < c->conn.argc && hobj_len(h) > 0; j++) {
        deleted += hobj_del(h, c->conn.argv[j].data, c->conn.argv[j].len);
    }
    hash_done(it);
    server.dirty += (uint64_t)deleted;
    client_reply_int(c, deleted);
}

/* ---- HINCRBY HINCRBYFLOAT ---- */

/* The increment cannot be applied: the hash is left as it was, and goes
 * if it was created for this command. */
static void
incr_fail(struct client *c, struct item *it, const char *err)
{
    client_reply_error(c, err);
    hash_done(it);
}

static void
cmd_hincrby(struct client *c)
{
    long long incr, value = 0;
    struct item *it;
    const char *old;
    size_t oldlen;
    char buf[UTIL_LL_STR_SIZE];

    if (!util_str2ll(c->conn.argv[3].data, c->conn.argv[3].len, &incr)) {
        client_reply_error(c, ERR_NOT_INT);
        return;
    }
    if (field_for_write(c, &it, &old, &oldlen) != SC_OK) {
        return;
    }
    if (old != NULL && !util_str2ll(old, oldlen, &value)) {
        incr_fail(c, it, ERR_HASH_NOT_INT);
    } else if ((incr < 0 && value < 0 && incr < LLONG_MIN - value) ||
               (incr > 0 && value > 0 && incr > LLONG_MAX - value)) {
        incr_fail(c, it, ERR_OVERFLOW);
    } else if (hash_set_one(c, it, buf, util_ll2str(buf, value + incr)) == SC_OK) {
        client_reply_int(c, value + incr);
    }
}

static void
cmd_hincrbyfloat(struct client *c)
{
    long double incr, value = 0;
    struct item *it;
    const char *old;
    size_t oldlen;
    char buf[UTIL_LD_STR_SIZE];

    if (!util_str2ld(c->conn.argv[3].data, c->conn.argv[3].len, &incr)) {
        client_reply_error(c, ERR_NOT_FLOAT);
        return;
    }
    if (isnan(incr) || isinf(incr)) {
        client_reply_error(c, ERR_NAN_OR_INF);
        return;
    }
    if (field_for_write(c, &it, &old, &oldlen) != SC_OK) {
        return;
    }
    if (old != NULL && !util_str2ld(old, oldlen, &value)) {
        incr_fail(c, it, ERR_HASH_NOT_FLOAT);
        return;
    }
    value += incr;
    if (isnan(value) || isinf(value)) {
        incr_fail(c, it, ERR_NAN);
        return;
    }
    size_t n = util_ld2str(buf, sizeof(buf), value);
    if (hash_set_one(c, it, buf, n) == SC_OK) {
        client_reply_bulk(c, buf, n);
    }
}

/* ---- HRANDFIELD ---- */

/* HRANDFIELD key count [WITHVALUES]: redis 7's hrandfieldWithCountCommand.
 * A negative count may repeat fields and gives exactly -count of them; a
 * positive one gives distinct fields, at most the whole hash. */
static void
hrandfield_count(struct client *c, long long l, bool withvalues)
{
    int what = HGET_FIELDS | (withvalues ? HGET_VALUES : 0);
    struct emit_ctx e = {c, what, withvalues && c->conn.resp > 2, 0};
    struct hobj *h;

    if (hash_read(c, &h) != SC_OK) {
        return;
    }
    if (h == NULL || l == 0) {
        resp_add_raw(&c->reply, "*0\r\n", 4);
        return;
    }
    uint64_t count = l < 0 ? (uint64_t)-l : (uint64_t)l, len = hobj_len(h);
    if (l > 0 && count > len) {
        count = len;
    }
    size_t reply_len = withvalues && c->conn.resp == 2 ? count * 2 : count;
    if (l > 1 && count < len) {
        /* The sample may fail for memory before its first field: the
         * array header goes out with that field, so OOM is a clean reply. */
        e.header = reply_len;
        if (hobj_sample(h, count, emit_field, &e) != SC_OK) {
            client_reply_error(c, ERR_OOM);
        }
        return;
    }
    client_reply_array(c, reply_len);
    if (l > 0 && count == len) {
        emit_all(h, &e);
    } else {
        while (count > 0 && !(c->conn.flags & CONN_CLOSE_ASAP) && !client_check_output_limits(c)) {
            uint64_t n = MIN(count, HRANDFIELD_CHUNK);
            hobj_random_n(h, n, emit_field, &e);
            count -= n;
        }
    }
}

static void
cmd_hrandfield(struct client *c)
{
    long long l;
    bool withvalues = c->conn.argc == 4;
    struct hobj *h;

    if (c->conn.argc >= 3) {
        if (!util_str2ll(c->conn.argv[2].data, c->conn.argv[2].len, &l)) {
            client_reply_error(c, ERR_NOT_INT);
            return;
        }
        if (l < -LLONG_MAX) {
            client_reply_errorf(c, "ERR value is out of range, value must between %lld and %lld",
                                -LLONG_MAX, LLONG_MAX);
            return;
        }
        if (c->conn.argc > 4 || (withvalues && !bstr_is(&c->conn.argv[3], "WITHVALUES"))) {
            client_reply_error(c, ERR_SYNTAX);
            return;
        }
        /* The RESP2 reply has 2*count elements: keep that from overflowing. */
        if (withvalues && (l < -LLONG_MAX / 2 || l > LLONG_MAX / 2)) {
            client_reply_error(c, ERR_VALUE_RANGE);
            return;
        }
        hrandfield_count(c, l, withvalues);
        return;
    }
    if (hash_read(c, &h) != SC_OK) {
        return;
    }
    if (h == NULL) {
        client_reply_null(c);
        return;
    }
    const char *f, *v;
    size_t flen, vlen;
    hobj_random(h, &f, &flen, &v, &vlen);
    client_reply_bulk(c, f, flen);
}

/* ---- HSCAN ---- */

/* The cursor as redis's parseScanCursorOrReply reads it with strtoul:
 * optional sign, decimal digits, no blank first; "-1" wraps to the top of
 * the range and "" is 0.  Bytes after a NUL are ignored, as C strings do. */
static bool
parse_cursor(const struct bstr *arg, uint64_t *cursor)
{
    size_t len = strnlen(arg->data, arg->len), i = 0;
    bool neg = false;
    uint64_t v = 0;

    if (len == 0) {
        *cursor = 0;
        return true;
    }
    if (arg->data[0] == '+' || arg->data[0] == '-') {
        neg = arg->data[0] == '-';
        i++;
    }
    if (i == len) {
        return false; /* a sign alone: strtoul consumes nothing */
    }
    for (; i < len; i++) {
        unsigned d = (unsigned)(arg->data[i] - '0');
        if (d > 9 || v > (UINT64_MAX - d) / 10) {
            return false;
        }
        v = v * 10 + d;
    }
    *cursor = neg ? 0 - v : v;
    return true;
}

struct hscan_ctx {
    struct client *c;
    const struct bstr *pat; /* NULL: every field */
    bool emit;              /* second pass: reply; first pass: count */
    long long seen;         /* elements (fields and values) visited */
    size_t matched;         /* fields that pass the pattern */
};

static void
hscan_field(void *ctx, const char *f, size_t flen, const char *v, size_t vlen)
{
    struct hscan_ctx *s = ctx;

    s->seen += 2;
    if (s->pat != NULL && !util_glob_match(s->pat->data, s->pat->len, f, flen, false)) {
        return;
    }
    s->matched++;
    if (s->emit) {
        client_reply_bulk(s->c, f, flen);
        client_reply_bulk(s->c, v, vlen);
    }
}

/* One HSCAN step as redis's scanGenericCommand bounds it: buckets until
 * count elements were seen, at most 10*count buckets. */
static uint64_t
hscan_pass(struct hobj *h, uint64_t cursor, long long count, struct hscan_ctx *s)
{
    long long budget = count > LLONG_MAX / 10 ? LLONG_MAX : count * 10;

    s->seen = 0;
    s->matched = 0;
    do {
        cursor = hobj_scan(h, cursor, hscan_field, s);
    } while (cursor != 0 && budget-- > 0 && s->seen < count);
    return cursor;
}

/* Options after the cursor: COUNT n, MATCH pattern (redis's rules: a
 * pattern "*" matches all, COUNT below 1 is a syntax error). */
static int
hscan_options(struct client *c, long long *count, const struct bstr **pat)
{
    *count = HSCAN_DEFAULT_COUNT;
    *pat = NULL;
    for (int j = 3; j < c->conn.argc; j += 2) {
        const struct bstr *opt = &c->conn.argv[j];
        bool has_arg = j + 1 < c->conn.argc;
        if (has_arg && bstr_is(opt, "COUNT")) {
            if (!util_str2ll(c->conn.argv[j + 1].data, c->conn.argv[j + 1].len, count)) {
                client_reply_error(c, ERR_NOT_INT);
                return SC_ERR;
            }
            if (*count < 1) {
                client_reply_error(c, ERR_SYNTAX);
                return SC_ERR;
            }
        } else if (has_arg && bstr_is(opt, "MATCH")) {
            const struct bstr *p = &c->conn.argv[j + 1];
            *pat = p->len == 1 && p->data[0] == '*' ? NULL : p;
        } else {
            client_reply_error(c, ERR_SYNTAX);
            return SC_ERR;
        }
    }
    return SC_OK;
}

static void
cmd_hscan(struct client *c)
{
    struct hscan_ctx s = {c, NULL, false, 0, 0};
    uint64_t cursor;
    long long count;
    struct hobj *h;

    if (!parse_cursor(&c->conn.argv[2], &cursor)) {
        client_reply_error(c, ERR_INVALID_CURSOR);
        return;
    }
    if (hash_read(c, &h) != SC_OK) {
        return;
    }
    if (h == NULL) {
        resp_add_raw(&c->reply, "*2\r\n$1\r\n0\r\n*0\r\n", 15);
        return;
    }
    if (hscan_options(c, &count, &s.pat) != SC_OK) {
        return;
    }
    /* Count the matches first, then reply: a step on an unchanged hash
     * visits the same fields, and nothing is collected in between. */
    uint64_t next = hscan_pass(h, cursor, count, &s);
    char buf[UTIL_LL_STR_SIZE];
    client_reply_array(c, 2);
    client_reply_bulk(c, buf, util_ull2str(buf, next));
    client_reply_array(c, s.matched * 2);
    s.emit = true;
    hscan_pass(h, cursor, count, &s);
}

/* ---- the table ---- */

#define KEY1 .first_key = 1, .last_key = 1, .key_step = 1
#define WRITE_FAST (CMD_WRITE | CMD_DENYOOM | CMD_FAST)
#define READ_FAST (CMD_READONLY | CMD_FAST)
#define ACL_WRITE_FAST "@write @hash @fast"
#define ACL_READ_FAST "@read @hash @fast"
#define ACL_READ_SLOW "@read @hash @slow"

struct cmd cmd_hash_table[] = {
    {.name = "hset",
     .proc = cmd_hset,
     .arity = -4,
     .flags = WRITE_FAST,
     KEY1,
     .acl = ACL_WRITE_FAST,
     .group = "hash",
     .since = "2.0.0",
     .summary = "Set the string value of a hash field"},
    {.name = "hsetnx",
     .proc = cmd_hsetnx,
     .arity = 4,
     .flags = WRITE_FAST,
     KEY1,
     .acl = ACL_WRITE_FAST,
     .group = "hash",
     .since = "2.0.0",
     .summary = "Set the value of a hash field, only if the field does not exist"},
    {.name = "hmset",
     .proc = cmd_hset,
     .arity = -4,
     .flags = WRITE_FAST,
     KEY1,
     .acl = ACL_WRITE_FAST,
     .group = "hash",
     .since = "2.0.0",
     .summary = "Set multiple hash fields to multiple values"},
    {.name = "hget",
     .proc = cmd_hget,
     .arity = 3,
     .flags = READ_FAST,
     KEY1,
     .acl = ACL_READ_FAST,
     .group = "hash",
     .since = "2.0.0",
     .summary = "Get the value of a hash field"},
    {.name = "hmget",
     .proc = cmd_hmget,
     .arity = -3,
     .flags = READ_FAST,
     KEY1,
     .acl = ACL_READ_FAST,
     .group = "hash",
     .since = "2.0.0",
     .summary = "Get the values of all the given hash fields"},
    {.name = "hgetall",
     .proc = cmd_hgetall,
     .arity = 2,
     .flags = CMD_READONLY,
     KEY1,
     .acl = ACL_READ_SLOW,
     .group = "hash",
     .since = "2.0.0",
     .summary = "Get all the fields and values in a hash"},
    {.name = "hkeys",
     .proc = cmd_hkeys,
     .arity = 2,
     .flags = CMD_READONLY,
     KEY1,
     .acl = ACL_READ_SLOW,
     .group = "hash",
     .since = "2.0.0",
     .summary = "Get all the fields in a hash"},
    {.name = "hvals",
     .proc = cmd_hvals,
     .arity = 2,
     .flags = CMD_READONLY,
     KEY1,
     .acl = ACL_READ_SLOW,
     .group = "hash",
     .since = "2.0.0",
     .summary = "Get all the values in a hash"},
    {.name = "hdel",
     .proc = cmd_hdel,
     .arity = -3,
     .flags = CMD_WRITE | CMD_FAST,
     KEY1,
     .acl = ACL_WRITE_FAST,
     .group = "hash",
     .since = "2.0.0",
     .summary = "Delete one or more hash fields"},
    {.name = "hexists",
     .proc = cmd_hexists,
     .arity = 3,
     .flags = READ_FAST,
     KEY1,
     .acl = ACL_READ_FAST,
     .group = "hash",
     .since = "2.0.0",
     .summary = "Determine if a hash field exists"},
    {.name = "hlen",
     .proc = cmd_hlen,
     .arity = 2,
     .flags = READ_FAST,
     KEY1,
     .acl = ACL_READ_FAST,
     .group = "hash",
     .since = "2.0.0",
     .summary = "Get the number of fields in a hash"},
    {.name = "hstrlen",
     .proc = cmd_hstrlen,
     .arity = 3,
     .flags = READ_FAST,
     KEY1,
     .acl = ACL_READ_FAST,
     .group = "hash",
     .since = "3.2.0",
     .summary = "Get the length of the value of a hash field"},
    {.name = "hincrby",
     .proc = cmd_hincrby,
     .arity = 4,
     .flags = WRITE_FAST,
     KEY1,
     .acl = ACL_WRITE_FAST,
     .group = "hash",
     .since = "2.0.0",
     .summary = "Increment the integer value of a hash field by the given number"},
    {.name = "hincrbyfloat",
     .proc = cmd_hincrbyfloat,
     .arity = 4,
     .flags = WRITE_FAST,
     KEY1,
     .acl = ACL_WRITE_FAST,
     .group = "hash",
     .since = "2.6.0",
     .summary = "Increment the float value of a hash field by the given amount"},
    {.name = "hrandfield",
     .proc = cmd_hrandfield,
     .arity = -2,
     .flags = CMD_READONLY,
     KEY1,
     .acl = ACL_READ_SLOW,
     .group = "hash",
     .since = "6.2.0",
     .summary = "Get one or multiple random fields from a hash"},
    {.name = "hscan",
     .proc = cmd_hscan,
     .arity = -3,
     .flags = CMD_READONLY,
     KEY1,
     .acl = ACL_READ_SLOW,
     .group = "hash",
     .since = "2.8.0",
     .summary = "Incrementally iterate hash fields and associated values"},
    CMD_END,
};
