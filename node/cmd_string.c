/*
 * cmd_string.c -- the string commands: GET SET (EX PX EXAT PXAT NX XX
 * KEEPTTL GET) SETNX SETEX PSETEX GETSET GETDEL GETEX MGET MSET MSETNX
 * APPEND STRLEN INCR DECR INCRBY DECRBY INCRBYFLOAT GETRANGE SETRANGE.
 *
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
#include <string.h>
#include <strings.h>

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
    for (int j = from; j < c->argc; j++) {
        const struct bstr *opt = &c->argv[j];
        bool next = j < c->argc - 1;
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

/* Whether an allocation with room cap fits vlen snugly enough to reuse:
 * reusing a much larger block would keep memory the value no longer needs. */
static bool
fits_snugly(size_t cap, size_t vlen)
{
    return cap >= vlen && cap <= vlen + vlen / 4 + 32;
}

struct item *
str_store(const struct bstr *key, const char *val, size_t vlen, enum item_enc enc,
          struct item *old, bool keepttl, long long expire_ms)
{
    bool ttl = expire_ms >= 0 || (keepttl && old != NULL && (old->flags & ITEM_F_TTL));

    server.dirty++;
    if (old != NULL && old->type == ITEM_STRING && ((old->flags & ITEM_F_TTL) != 0) == ttl &&
        fits_snugly(item_capacity(old), vlen)) {
        memmove(item_val(old), val, vlen);
        old->vlen = (uint32_t)vlen;
        old->enc = (uint8_t)enc;
        if (expire_ms >= 0) {
            item_set_expire_field(old, expire_ms);
        }
        return old;
    }
    struct item *it = item_try_create(key->data, key->len, val, vlen, vlen, ttl);
    if (it == NULL) {
        server.dirty--;
        return NULL;
    }
    it->type = ITEM_STRING;
    it->enc = (uint8_t)enc;
    if (ttl) {
        item_set_expire_field(it, expire_ms >= 0 ? expire_ms : item_expire(old));
    }
    if (old != NULL) {
        kv_overwrite(old, it);
    } else {
        kv_add(it);
    }
    return it;
}

/* ---- GET SET ---- */

static void
cmd_get(struct client *c)
{
    struct item *it = kv_lookup(c->argv[1].data, c->argv[1].len, 0);

    if (it == NULL) {
        client_reply_null(c);
    } else if (it->type != ITEM_STRING) {
        client_reply_error(c, ERR_WRONGTYPE);
    } else {
        client_reply_bulk(c, item_val(it), it->vlen);
    }
}

static void
cmd_set(struct client *c)
{
    const struct bstr *key = &c->argv[1], *val = &c->argv[2];
    int flags, expire;
    long long when = -1;
    bool wrongtype;

    if (str_parse_options(c, 3, STR_PARSE_SET, &flags, &expire) != SC_OK) {
        return;
    }
    if (expire > 0 && str_expire_ms(c, &c->argv[expire], flags, &when) != SC_OK) {
        return;
    }
    struct item *old;
    if (flags & STR_GET) {
        /* SET ... GET replies with the old value, as GET would. */
        old = str_lookup(c, key, 0, &wrongtype);
        if (wrongtype) {
            return;
        }
        if (old == NULL) {
            client_reply_null(c);
        } else {
            client_reply_bulk(c, item_val(old), old->vlen);
        }
    } else {
        old = kv_lookup(key->data, key->len, KV_WRITE);
    }
    if (((flags & STR_NX) && old != NULL) || ((flags & STR_XX) && old == NULL)) {
        if (!(flags & STR_GET)) {
            client_reply_null(c);
        }
        return;
    }
    if (str_store(key, val->data, val->len, item_string_enc(val->data, val->len), old,
                  flags & STR_KEEPTTL, when) == NULL) {
        if (!(flags & STR_GET)) {
            client_reply_error(c, ERR_OOM);
        }
        return;
    }
    if (!(flags & STR_GET)) {
        client_reply_ok(c);
    }
}

#define WRITE_OOM (CMD_WRITE | CMD_DENYOOM)

struct cmd cmd_string_table[] = {
    {.name = "get", .proc = cmd_get, .arity = 2, .flags = CMD_READONLY | CMD_FAST,
     .first_key = 1, .last_key = 1, .key_step = 1, .acl = "@read @string @fast",
     .group = "string", .since = "1.0.0", .summary = "Get the value of a key"},
    {.name = "set", .proc = cmd_set, .arity = -3, .flags = WRITE_OOM, .first_key = 1,
     .last_key = 1, .key_step = 1, .acl = "@write @string @slow", .group = "string",
     .since = "1.0.0",
     .summary = "Set the string value of a key"},
    CMD_END,
};
