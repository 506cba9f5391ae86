/*
 * hobj.h -- the value of a hash key.
 *
 * Small hashes are one packed byte array of (field, value) pairs in
 * insertion order, scanned linearly -- redis's listpack, which is what
 * OBJECT ENCODING reports and why HGETALL on a small hash returns fields in
 * the order they were added.  A hash that grows past hash-max-listpack-
 * entries fields, or gets a field or value longer than
 * hash-max-listpack-value bytes, converts once to a hash table of fields
 * (struct ht), as redis converts to "hashtable"; it never converts back.
 *
 * Ownership: the hobj owns copies of every field and value.  Pointers it
 * returns (hobj_get, iterators, callbacks) stay valid until the hash is next
 * modified.  An iterator must not be interleaved with other calls on the
 * same hash: a table lookup may move fields between the tables of a rehash
 * in progress, and the iterator would then miss or repeat some.
 */
#pragma once

#include "common/ht.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hobj;

struct hobj_limits {
    long long max_listpack_entries; /* hash-max-listpack-entries */
    long long max_listpack_value;   /* hash-max-listpack-value */
};

extern struct hobj_limits hobj_limits;

/* NULL if memory is short. */
struct hobj *hobj_try_create(void);
void hobj_free(struct hobj *h);
uint64_t hobj_len(const struct hobj *h);
int hobj_encoding(const struct hobj *h); /* ENC_LISTPACK or ENC_HASHTABLE */
/* Bytes the hash occupies, for MEMORY USAGE. */
size_t hobj_mem(const struct hobj *h);

bool hobj_get(struct hobj *h, const char *f, size_t flen, const char **v, size_t *vlen);
/* Sets field f to v: 1 if the field is new, 0 if it was updated, SC_ENOMEM. */
int hobj_set(struct hobj *h, const char *f, size_t flen, const char *v, size_t vlen);
/* Whether f was there (and is now gone). */
bool hobj_del(struct hobj *h, const char *f, size_t flen);

struct hobj_iter {
    struct hobj *h;
    size_t pos;      /* listpack: byte offset */
    uint64_t bucket; /* hashtable: bucket, and entry within it */
    int table;
    struct ht_node *node;
};
void hobj_iter_init(struct hobj_iter *it, struct hobj *h);
bool hobj_iter_next(struct hobj_iter *it, const char **f, size_t *flen, const char **v,
                    size_t *vlen);

/* A uniformly random field; h must not be empty. */
void hobj_random(struct hobj *h, const char **f, size_t *flen, const char **v, size_t *vlen);

/* Receives one field and its value; both live until the hash changes. */
typedef void hobj_scan_fn(void *ctx, const char *f, size_t flen, const char *v, size_t vlen);

/* HSCAN: a listpack hash is returned whole with cursor 0 (as redis does);
 * a hashtable one a bucket step at a time.  Calls fn for each field of the
 * step and returns the next cursor (0: done).  The same cursor on an
 * unchanged hash visits the same fields again. */
uint64_t hobj_scan(struct hobj *h, uint64_t cursor, hobj_scan_fn *fn, void *ctx);

/* HRANDFIELD with a negative count: calls fn count times, each time with a
 * uniformly random field (repeats allowed), in random order; h must not be
 * empty.  A packed hash is walked once per batch of picks, not per pick. */
void hobj_random_n(struct hobj *h, uint64_t count, hobj_scan_fn *fn, void *ctx);

/* HRANDFIELD with a positive count: calls fn for count distinct fields
 * chosen uniformly, count < hobj_len(h), in no particular order.  A few
 * picks from a big table use a scratch set of count pointers: SC_ENOMEM if
 * it cannot be allocated (fn not called); otherwise SC_OK. */
int hobj_sample(struct hobj *h, uint64_t count, hobj_scan_fn *fn, void *ctx);
