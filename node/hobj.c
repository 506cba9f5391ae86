/*
 * hobj.c -- see hobj.h.
 *
 * The packed form ("listpack") is one buffer of entries
 *
 *     [varint flen][field bytes][varint vlen][value bytes] ...
 *
 * with LEB128 lengths (7 bits a byte), so a small hash costs its bytes plus
 * two or so bytes per pair.  The table form keeps one struct hfield per
 * field: the intrusive table link, both lengths, then field and value bytes
 * in the same allocation.
 */
#include "node/hobj.h"

#include "common/defs.h"
#include "common/mem.h"
#include "node/item.h"

#include <stdlib.h>
#include <string.h>

struct hobj_limits hobj_limits = {512, 64};

struct hfield {
    struct ht_node node;
    uint32_t flen;
    uint32_t vlen;
    char data[]; /* field, then value */
};

struct hobj {
    uint8_t enc; /* ENC_LISTPACK or ENC_HASHTABLE */
    union {
        struct {
            char *buf;
            uint32_t len;   /* bytes used */
            uint32_t count; /* pairs */
        } lp;
        struct ht ht;
    } u;
};

static uint64_t
field_hash(const struct ht_node *n)
{
    const struct hfield *f = (const struct hfield *)n;
    return ht_hash(f->data, f->flen);
}

static bool
field_eq(const struct ht_node *n, const void *key, size_t len)
{
    const struct hfield *f = (const struct hfield *)n;
    return f->flen == len && memcmp(f->data, key, len) == 0;
}

static const struct ht_type field_type = {field_hash, field_eq};

/* ---- varints ---- */

static size_t
varint_len(size_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static size_t
varint_put(char *p, size_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (char)(v & 0x7f) | (char)0x80;
        v >>= 7;
    }
    p[n++] = (char)v;
    return n;
}

static size_t
varint_get(const char *p, size_t *v)
{
    size_t n = 0, r = 0;
    int shift = 0;
    for (;;) {
        unsigned char b = (unsigned char)p[n++];
        r |= (size_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            break;
        }
        shift += 7;
    }
    *v = r;
    return n;
}

/* An entry of the packed form, decoded. */
struct lp_entry {
    size_t off; /* of the entry */
    size_t end; /* past the entry */
    const char *f, *v;
    size_t flen, vlen;
};

static void
lp_decode(const struct hobj *h, size_t off, struct lp_entry *e)
{
    const char *p = h->u.lp.buf + off;
    size_t n = varint_get(p, &e->flen);
    e->f = p + n;
    p = e->f + e->flen;
    n = varint_get(p, &e->vlen);
    e->v = p + n;
    e->off = off;
    e->end = (size_t)(e->v + e->vlen - h->u.lp.buf);
}

static bool
lp_find(const struct hobj *h, const char *f, size_t flen, struct lp_entry *e)
{
    for (size_t off = 0; off < h->u.lp.len; off = e->end) {
        lp_decode(h, off, e);
        if (e->flen == flen && memcmp(e->f, f, flen) == 0) {
            return true;
        }
    }
    return false;
}

/* ---- lifecycle ---- */

struct hobj *
hobj_try_create(void)
{
    struct hobj *h = mem_try_alloc(sizeof(*h));

    if (h == NULL) {
        return NULL;
    }
    memset(h, 0, sizeof(*h));
    h->enc = ENC_LISTPACK;
    return h;
}

static void
free_field(void *ctx, struct ht_node *n)
{
    (void)ctx;
    mem_free(n);
}

void
hobj_free(struct hobj *h)
{
    if (h == NULL) {
        return;
    }
    if (h->enc == ENC_LISTPACK) {
        mem_free(h->u.lp.buf);
    } else {
        ht_foreach(&h->u.ht, free_field, NULL);
        ht_deinit(&h->u.ht);
    }
    mem_free(h);
}

uint64_t
hobj_len(const struct hobj *h)
{
    return h->enc == ENC_LISTPACK ? h->u.lp.count : ht_count(&h->u.ht);
}

int
hobj_encoding(const struct hobj *h)
{
    return h->enc;
}

static void
add_field_mem(void *ctx, struct ht_node *n)
{
    *(size_t *)ctx += mem_usable(n);
}

size_t
hobj_mem(const struct hobj *h)
{
    size_t m = mem_usable(h);

    if (h->enc == ENC_LISTPACK) {
        return m + mem_usable(h->u.lp.buf);
    }
    m += ht_mem(&h->u.ht);
    ht_foreach((struct ht *)&h->u.ht, add_field_mem, &m);
    return m;
}

/* ---- the table form ---- */

static struct hfield *
field_try_create(const char *f, size_t flen, const char *v, size_t vlen)
{
    struct hfield *n = mem_try_alloc(sizeof(*n) + flen + vlen);

    if (n == NULL) {
        return NULL;
    }
    n->node.next = NULL;
    n->flen = (uint32_t)flen;
    n->vlen = (uint32_t)vlen;
    memcpy(n->data, f, flen);
    memcpy(n->data + flen, v, vlen);
    return n;
}

/* Moves every pair of the packed form into a table (one way, as redis). */
static int
convert(struct hobj *h)
{
    struct ht ht;
    struct lp_entry e;

    ht_init(&ht, &field_type);
    for (size_t off = 0; off < h->u.lp.len; off = e.end) {
        lp_decode(h, off, &e);
        struct hfield *n = field_try_create(e.f, e.flen, e.v, e.vlen);
        if (n == NULL) {
            ht_foreach(&ht, free_field, NULL);
            ht_deinit(&ht);
            return SC_ENOMEM;
        }
        ht_insert(&ht, &n->node, ht_hash(e.f, e.flen));
    }
    mem_free(h->u.lp.buf);
    h->enc = ENC_HASHTABLE;
    h->u.ht = ht;
    return SC_OK;
}

static int
ht_set(struct hobj *h, const char *f, size_t flen, const char *v, size_t vlen)
{
    uint64_t hash = ht_hash(f, flen);
    struct hfield *old = (struct hfield *)ht_find(&h->u.ht, f, flen, hash);

    if (old != NULL && mem_usable(old) >= sizeof(*old) + flen + vlen) {
        memcpy(old->data + flen, v, vlen);
        old->vlen = (uint32_t)vlen;
        return 0;
    }
    struct hfield *n = field_try_create(f, flen, v, vlen);
    if (n == NULL) {
        return SC_ENOMEM;
    }
    if (old != NULL) {
        ht_replace(&h->u.ht, &old->node, &n->node, hash);
        mem_free(old);
        return 0;
    }
    ht_insert(&h->u.ht, &n->node, hash);
    return 1;
}

/* ---- operations ---- */

bool
hobj_get(struct hobj *h, const char *f, size_t flen, const char **v, size_t *vlen)
{
    if (h->enc == ENC_LISTPACK) {
        struct lp_entry e;
        if (!lp_find(h, f, flen, &e)) {
            return false;
        }
        *v = e.v;
        *vlen = e.vlen;
        return true;
    }
    struct hfield *n = (struct hfield *)ht_find(&h->u.ht, f, flen, ht_hash(f, flen));
    if (n == NULL) {
        return false;
    }
    *v = n->data + n->flen;
    *vlen = n->vlen;
    return true;
}

/* Replaces bytes [from, to) of the packed buffer with add bytes. */
static int
lp_splice(struct hobj *h, size_t from, size_t to, const char *add, size_t addlen)
{
    size_t len = h->u.lp.len - (to - from) + addlen;

    if (len > mem_usable(h->u.lp.buf)) {
        char *nb = mem_try_realloc(h->u.lp.buf, len + len / 4);
        if (nb == NULL) {
            return SC_ENOMEM;
        }
        h->u.lp.buf = nb;
    }
    memmove(h->u.lp.buf + from + addlen, h->u.lp.buf + to, h->u.lp.len - to);
    if (addlen > 0) {
        memcpy(h->u.lp.buf + from, add, addlen);
    }
    h->u.lp.len = (uint32_t)len;
    return SC_OK;
}

static int
lp_set(struct hobj *h, const char *f, size_t flen, const char *v, size_t vlen)
{
    struct lp_entry e;
    bool found = lp_find(h, f, flen, &e);
    size_t elen = varint_len(flen) + flen + varint_len(vlen) + vlen;
    char *entry = mem_try_alloc(elen);

    if (entry == NULL) {
        return SC_ENOMEM;
    }
    size_t n = varint_put(entry, flen);
    memcpy(entry + n, f, flen);
    n += flen;
    n += varint_put(entry + n, vlen);
    memcpy(entry + n, v, vlen);
    int rc = found ? lp_splice(h, e.off, e.end, entry, elen)
                   : lp_splice(h, h->u.lp.len, h->u.lp.len, entry, elen);
    mem_free(entry);
    if (rc != SC_OK) {
        return rc;
    }
    if (found) {
        return 0;
    }
    h->u.lp.count++;
    return 1;
}

int
hobj_set(struct hobj *h, const char *f, size_t flen, const char *v, size_t vlen)
{
    if (h->enc == ENC_LISTPACK) {
        bool too_long = (long long)flen > hobj_limits.max_listpack_value ||
                        (long long)vlen > hobj_limits.max_listpack_value;
        if (too_long && convert(h) != SC_OK) {
            return SC_ENOMEM;
        }
    }
    if (h->enc == ENC_HASHTABLE) {
        return ht_set(h, f, flen, v, vlen);
    }
    int rc = lp_set(h, f, flen, v, vlen);
    if (rc == 1 && (long long)h->u.lp.count > hobj_limits.max_listpack_entries &&
        convert(h) != SC_OK) {
        /* The pair is stored; only the conversion failed: stay packed. */
        return 1;
    }
    return rc;
}

bool
hobj_del(struct hobj *h, const char *f, size_t flen)
{
    if (h->enc == ENC_LISTPACK) {
        struct lp_entry e;
        if (!lp_find(h, f, flen, &e)) {
            return false;
        }
        /* Shrinking never allocates: lp_splice cannot fail here. */
        lp_splice(h, e.off, e.end, NULL, 0);
        h->u.lp.count--;
        return true;
    }
    uint64_t hash = ht_hash(f, flen);
    struct hfield *n = (struct hfield *)ht_find(&h->u.ht, f, flen, hash);
    if (n == NULL) {
        return false;
    }
    ht_remove(&h->u.ht, &n->node, hash);
    mem_free(n);
    ht_maybe_shrink(&h->u.ht);
    return true;
}

void
hobj_iter_init(struct hobj_iter *it, struct hobj *h)
{
    memset(it, 0, sizeof(*it));
    it->h = h;
}

bool
hobj_iter_next(struct hobj_iter *it, const char **f, size_t *flen, const char **v, size_t *vlen)
{
    struct hobj *h = it->h;

    if (h->enc == ENC_LISTPACK) {
        struct lp_entry e;
        if (it->pos >= h->u.lp.len) {
            return false;
        }
        lp_decode(h, it->pos, &e);
        it->pos = e.end;
        *f = e.f;
        *flen = e.flen;
        *v = e.v;
        *vlen = e.vlen;
        return true;
    }
    while (it->node == NULL) {
        const struct ht_table *t = &h->u.ht.t[it->table];
        if (it->bucket >= t->size) {
            if (it->table == 1) {
                return false;
            }
            it->table = 1;
            it->bucket = 0;
            continue;
        }
        it->node = t->buckets[it->bucket++];
    }
    struct hfield *n = (struct hfield *)it->node;
    it->node = n->node.next;
    *f = n->data;
    *flen = n->flen;
    *v = n->data + n->flen;
    *vlen = n->vlen;
    return true;
}

void
hobj_random(struct hobj *h, const char **f, size_t *flen, const char **v, size_t *vlen)
{
    if (h->enc == ENC_LISTPACK) {
        struct hobj_iter it;
        long k = random() % (long)h->u.lp.count;
        hobj_iter_init(&it, h);
        do {
            hobj_iter_next(&it, f, flen, v, vlen);
        } while (k-- > 0);
        return;
    }
    struct hfield *n = (struct hfield *)ht_random(&h->u.ht);
    *f = n->data;
    *flen = n->flen;
    *v = n->data + n->flen;
    *vlen = n->vlen;
}

struct scan_ctx {
    hobj_scan_fn *fn;
    void *ctx;
};

static void
scan_field(void *ctx, struct ht_node *node)
{
    struct scan_ctx *sc = ctx;
    struct hfield *n = (struct hfield *)node;
    sc->fn(sc->ctx, n->data, n->flen, n->data + n->flen, n->vlen);
}

uint64_t
hobj_scan(struct hobj *h, uint64_t cursor, hobj_scan_fn *fn, void *ctx)
{
    if (h->enc == ENC_LISTPACK) {
        struct hobj_iter it;
        const char *f, *v;
        size_t flen, vlen;
        hobj_iter_init(&it, h);
        while (hobj_iter_next(&it, &f, &flen, &v, &vlen)) {
            fn(ctx, f, flen, v, vlen);
        }
        return 0;
    }
    struct scan_ctx sc = {fn, ctx};
    return ht_scan(&h->u.ht, cursor, scan_field, &sc);
}
