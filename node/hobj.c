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
#include "common/rand.h"
#include "node/item.h"

#include <stdlib.h>
#include <string.h>

/* Largest packed buffer: past it the hash converts to a table, as redis's
 * lpSafeToAdd makes it do at LISTPACK_MAX_SAFETY_SIZE. */
#define HOBJ_LP_MAX_BYTES (1u << 30)
/* Spare bytes a packed buffer may keep after deletions before it shrinks. */
#define HOBJ_LP_SLACK 64
/* Picks served per walk of a packed hash (hobj_random_n); the batch lives
 * on the stack. */
#define HOBJ_RANDOM_BATCH 64

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

static void
call_field(const struct hfield *n, hobj_scan_fn *fn, void *ctx)
{
    fn(ctx, n->data, n->flen, n->data + n->flen, n->vlen);
}

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

    size_t need = sizeof(*old) + flen + vlen;

    /* Reuse the field's block when the value fits it, unless that would
     * keep far more memory than the new value needs. */
    if (old != NULL && mem_usable(old) >= need && mem_usable(old) <= 2 * need) {
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

/* Replaces bytes [from, to) of the packed buffer with room for addlen
 * bytes and returns where they go, or NULL if memory is short (buffer
 * unchanged).  Grows by a quarter more than needed so that a hash built one
 * HSET at a time is not copied on every field. */
static char *
lp_make_room(struct hobj *h, size_t from, size_t to, size_t addlen)
{
    size_t len = h->u.lp.len - (to - from) + addlen;

    if (len > mem_usable(h->u.lp.buf)) {
        char *nb = mem_try_realloc(h->u.lp.buf, len + len / 4);
        if (nb == NULL) {
            return NULL;
        }
        h->u.lp.buf = nb;
    }
    memmove(h->u.lp.buf + from + addlen, h->u.lp.buf + to, h->u.lp.len - to);
    h->u.lp.len = (uint32_t)len;
    return h->u.lp.buf + from;
}

/* Gives memory back after deletions left the buffer mostly empty; keeps
 * the old buffer if the allocator cannot provide a smaller one. */
static void
lp_maybe_shrink(struct hobj *h)
{
    size_t len = h->u.lp.len;

    if (mem_usable(h->u.lp.buf) <= 2 * len + HOBJ_LP_SLACK) {
        return;
    }
    if (len == 0) {
        mem_free(h->u.lp.buf);
        h->u.lp.buf = NULL;
        return;
    }
    char *nb = mem_try_realloc(h->u.lp.buf, len);
    if (nb != NULL) {
        h->u.lp.buf = nb;
    }
}

static size_t
lp_entry_len(size_t flen, size_t vlen)
{
    return varint_len(flen) + flen + varint_len(vlen) + vlen;
}

static void
lp_write_entry(char *p, const char *f, size_t flen, const char *v, size_t vlen)
{
    p += varint_put(p, flen);
    memcpy(p, f, flen);
    p += flen;
    p += varint_put(p, vlen);
    memcpy(p, v, vlen);
}

/* Sets f in the packed form, in place: an update keeps the field's
 * position, a new field goes last (insertion order, as redis's listpack). */
static int
lp_set(struct hobj *h, const char *f, size_t flen, const char *v, size_t vlen)
{
    struct lp_entry e;
    bool found = lp_find(h, f, flen, &e);
    size_t from = found ? e.off : h->u.lp.len;
    size_t to = found ? e.end : h->u.lp.len;
    char *p = lp_make_room(h, from, to, lp_entry_len(flen, vlen));

    if (p == NULL) {
        return SC_ENOMEM;
    }
    lp_write_entry(p, f, flen, v, vlen);
    if (found) {
        return 0;
    }
    h->u.lp.count++;
    return 1;
}

/* Whether setting f to v must first move the hash to a table: a field or
 * value too long for the packed form, or a buffer that would outgrow what
 * its 32-bit offsets (and redis's lpSafeToAdd) allow. */
static bool
lp_must_convert(const struct hobj *h, size_t flen, size_t vlen)
{
    long long max = hobj_limits.max_listpack_value;

    return (long long)flen > max || (long long)vlen > max ||
           h->u.lp.len + lp_entry_len(flen, vlen) > HOBJ_LP_MAX_BYTES;
}

int
hobj_set(struct hobj *h, const char *f, size_t flen, const char *v, size_t vlen)
{
    if (h->enc == ENC_LISTPACK && lp_must_convert(h, flen, vlen) && convert(h) != SC_OK) {
        return SC_ENOMEM;
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
        /* Shrinking never allocates: lp_make_room cannot fail here. */
        lp_make_room(h, e.off, e.end, 0);
        h->u.lp.count--;
        lp_maybe_shrink(h);
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

struct scan_ctx {
    hobj_scan_fn *fn;
    void *ctx;
};

static void
scan_field(void *ctx, struct ht_node *node)
{
    struct scan_ctx *sc = ctx;
    call_field((struct hfield *)node, sc->fn, sc->ctx);
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

/* ---- random picks (HRANDFIELD) ---- */

struct lp_pick {
    uint32_t idx;  /* entry index in the packed form */
    uint32_t slot; /* position in the batch's (random) order */
};

static int
pick_cmp(const void *a, const void *b)
{
    const struct lp_pick *x = a, *y = b;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* One batch of n picks from a packed hash: draw indices, sort them so one
 * walk finds them all, then call fn in the order they were drawn. */
static void
lp_random_batch(struct hobj *h, unsigned n, hobj_scan_fn *fn, void *ctx)
{
    struct lp_pick picks[HOBJ_RANDOM_BATCH];
    struct lp_entry got[HOBJ_RANDOM_BATCH];
    struct lp_entry e;
    uint32_t idx = 0;

    for (unsigned i = 0; i < n; i++) {
        picks[i].idx = (uint32_t)(rand_next() % h->u.lp.count);
        picks[i].slot = i;
    }
    qsort(picks, n, sizeof(picks[0]), pick_cmp);
    lp_decode(h, 0, &e);
    for (unsigned i = 0; i < n; i++) {
        for (; idx < picks[i].idx; idx++) {
            lp_decode(h, e.end, &e);
        }
        got[picks[i].slot] = e;
    }
    for (unsigned i = 0; i < n; i++) {
        fn(ctx, got[i].f, got[i].flen, got[i].v, got[i].vlen);
    }
}

void
hobj_random_n(struct hobj *h, uint64_t count, hobj_scan_fn *fn, void *ctx)
{
    if (h->enc == ENC_LISTPACK) {
        while (count > 0) {
            unsigned n = (unsigned)MIN(count, HOBJ_RANDOM_BATCH);
            lp_random_batch(h, n, fn, ctx);
            count -= n;
        }
        return;
    }
    while (count-- > 0) {
        call_field((struct hfield *)ht_random(&h->u.ht), fn, ctx);
    }
}

struct pick {
    const char *f, *v;
    size_t flen, vlen;
};

static void
keep_pick(void *ctx, const char *f, size_t flen, const char *v, size_t vlen)
{
    *(struct pick *)ctx = (struct pick){f, v, flen, vlen};
}

void
hobj_random(struct hobj *h, const char **f, size_t *flen, const char **v, size_t *vlen)
{
    struct pick p;

    hobj_random_n(h, 1, keep_pick, &p);
    *f = p.f;
    *flen = p.flen;
    *v = p.v;
    *vlen = p.vlen;
}

/* Selection sampling (Knuth's algorithm S): one walk, each field taken
 * with probability needed/remaining, so exactly count distinct ones. */
static void
sample_by_walk(struct hobj *h, uint64_t count, hobj_scan_fn *fn, void *ctx)
{
    struct hobj_iter it;
    const char *f, *v;
    size_t flen, vlen;
    uint64_t left = hobj_len(h);

    hobj_iter_init(&it, h);
    while (count > 0 && hobj_iter_next(&it, &f, &flen, &v, &vlen)) {
        if (rand_next() % left < count) {
            fn(ctx, f, flen, v, vlen);
            count--;
        }
        left--;
    }
}

/* Adds p to an open-addressing set of size mask+1; false if it was there. */
static bool
set_add(const void **set, uint64_t mask, const void *p)
{
    uint64_t i = ht_hash(&p, sizeof(p));

    for (i &= mask; set[i] != NULL; i = (i + 1) & mask) {
        if (set[i] == p) {
            return false;
        }
    }
    set[i] = p;
    return true;
}

/* Random picks, repeats thrown away: O(count) for a few fields of a big
 * table, where a walk would be O(len).  Fields are told apart by address. */
static int
sample_by_picks(struct hobj *h, uint64_t count, hobj_scan_fn *fn, void *ctx)
{
    uint64_t size = 4;

    while (size < count * 2) {
        size <<= 1;
    }
    const void **set = mem_try_alloc(size * sizeof(*set));
    if (set == NULL) {
        return SC_ENOMEM;
    }
    memset(set, 0, size * sizeof(*set));
    while (count > 0) {
        struct hfield *n = (struct hfield *)ht_random(&h->u.ht);
        if (set_add(set, size - 1, n)) {
            call_field(n, fn, ctx);
            count--;
        }
    }
    mem_free(set);
    return SC_OK;
}

int
hobj_sample(struct hobj *h, uint64_t count, hobj_scan_fn *fn, void *ctx)
{
    /* Like redis: walk when a good share of the hash is wanted (or it is
     * small and packed), pick at random when only a few fields are. */
    if (h->enc == ENC_LISTPACK || count * 3 > hobj_len(h)) {
        sample_by_walk(h, count, fn, ctx);
        return SC_OK;
    }
    return sample_by_picks(h, count, fn, ctx);
}
