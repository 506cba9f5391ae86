/*
 * item.c -- see item.h.
 */
#include "node/item.h"

#include "common/mem.h"
#include "common/util.h"

size_t
item_capacity(const struct item *it)
{
    return mem_usable(it) - sizeof(struct item) - item_ttl_size(it) - it->klen;
}

struct item *
item_try_create(const void *key, size_t klen, const void *val, size_t vlen, size_t vcap, bool ttl)
{
    struct item *it = mem_try_alloc(item_size(ttl, klen, MAX(vlen, vcap)));

    if (it == NULL) {
        return NULL;
    }
    memset(it, 0, sizeof(*it));
    it->klen = (uint32_t)klen;
    it->vlen = (uint32_t)vlen;
    it->flags = ttl ? ITEM_F_TTL : 0;
    if (ttl) {
        item_set_expire_field(it, 0);
        item_set_vidx(it, 0);
    }
    memcpy(item_key(it), key, klen);
    if (val != NULL) {
        memcpy(item_val(it), val, vlen);
    }
    return it;
}

struct item *
item_try_reshape(struct item *it, bool ttl, size_t vcap)
{
    size_t copy = MIN(it->vlen, vcap);
    struct item *n = mem_try_alloc(item_size(ttl, it->klen, MAX(vcap, it->vlen)));

    if (n == NULL) {
        return NULL;
    }
    *n = *it;
    n->flags = (uint8_t)(ttl ? (it->flags | ITEM_F_TTL) : (it->flags & ~ITEM_F_TTL));
    if (ttl) {
        item_set_expire_field(n, it->flags & ITEM_F_TTL ? item_expire(it) : 0);
        item_set_vidx(n, it->flags & ITEM_F_TTL ? item_vidx(it) : 0);
    }
    memcpy(item_key(n), item_key(it), it->klen);
    memcpy(item_val(n), item_val(it), copy);
    return n;
}

void
item_free(struct item *it)
{
    mem_free(it);
}

enum item_enc
item_string_enc(const char *v, size_t len)
{
    long long ll;

    if (len <= 20 && util_str2ll(v, len, &ll)) {
        return ENC_INT;
    }
    return len <= ITEM_EMBSTR_MAX ? ENC_EMBSTR : ENC_RAW;
}

uint64_t
item_hash(const struct item *it)
{
    return ht_hash(it->data + item_ttl_size(it), it->klen);
}
