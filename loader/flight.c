/*
 * flight.c -- see flight.h.
 */
#include "loader/flight.h"

#include "common/defs.h"
#include "common/mem.h"

#include <string.h>

#define FLIGHT_BUCKETS_MIN 64

/* FNV-1a: keys are short and the table holds only the flights in the air,
 * so a simple hash does. */
static uint64_t
hash_key(const char *key, size_t len)
{
    uint64_t h = 1469598103934665603ULL;

    for (size_t i = 0; i < len; i++) {
        h = (h ^ (uint8_t)key[i]) * 1099511628211ULL;
    }
    return h;
}

void
flight_table_init(struct flight_table *t)
{
    t->nbuckets = FLIGHT_BUCKETS_MIN;
    t->buckets = mem_calloc(t->nbuckets, sizeof(*t->buckets));
    t->count = 0;
}

static void
detach_all(struct flight *f)
{
    while (f->waiters != NULL) {
        flight_leave(f->waiters);
    }
}

void
flight_table_free(struct flight_table *t)
{
    for (size_t i = 0; i < t->nbuckets; i++) {
        while (t->buckets[i] != NULL) {
            struct flight *f = t->buckets[i];
            t->buckets[i] = f->hnext;
            detach_all(f);
            mem_free(f);
        }
    }
    mem_free(t->buckets);
    t->buckets = NULL;
    t->nbuckets = t->count = 0;
}

struct flight *
flight_find(const struct flight_table *t, const char *key, size_t len)
{
    uint64_t h = hash_key(key, len);

    for (struct flight *f = t->buckets[h & (t->nbuckets - 1)]; f != NULL; f = f->hnext) {
        if (f->hash == h && f->keylen == len && memcmp(f->key, key, len) == 0) {
            return f;
        }
    }
    return NULL;
}

/* Doubles the bucket array when flights outnumber buckets, so chains stay
 * short however many keys are in the air at once. */
static void
grow(struct flight_table *t)
{
    size_t n = t->nbuckets * 2;
    struct flight **b = mem_calloc(n, sizeof(*b));

    for (size_t i = 0; i < t->nbuckets; i++) {
        while (t->buckets[i] != NULL) {
            struct flight *f = t->buckets[i];
            t->buckets[i] = f->hnext;
            f->hnext = b[f->hash & (n - 1)];
            b[f->hash & (n - 1)] = f;
        }
    }
    mem_free(t->buckets);
    t->buckets = b;
    t->nbuckets = n;
}

struct flight *
flight_start(struct flight_table *t, const char *key, size_t len)
{
    struct flight *f = mem_try_alloc(sizeof(*f) + len + 1);

    if (f == NULL) {
        return NULL;
    }
    memset(f, 0, sizeof(*f));
    f->hash = hash_key(key, len);
    f->keylen = len;
    memcpy(f->key, key, len);
    f->key[len] = '\0';
    if (t->count >= t->nbuckets) {
        grow(t);
    }
    struct flight **head = &t->buckets[f->hash & (t->nbuckets - 1)];
    f->hnext = *head;
    *head = f;
    t->count++;
    return f;
}

void
flight_join(struct flight *f, struct flight_waiter *w)
{
    struct flight_waiter *last = f->waiters != NULL ? f->waiters->prev : NULL;

    /* A circular list through prev of the head: appending keeps join order
     * without a tail pointer in every flight. */
    w->flight = f;
    w->next = NULL;
    if (last == NULL) {
        f->waiters = w;
        w->prev = w;
    } else {
        last->next = w;
        w->prev = last;
        f->waiters->prev = w;
    }
    f->nwaiters++;
}

void
flight_leave(struct flight_waiter *w)
{
    struct flight *f = w->flight;

    if (f == NULL) {
        return;
    }
    struct flight_waiter *head = f->waiters;
    if (w == head) {
        f->waiters = w->next;
        if (f->waiters != NULL) {
            f->waiters->prev = w->prev;
        }
    } else {
        w->prev->next = w->next;
        if (w->next != NULL) {
            w->next->prev = w->prev;
        } else {
            head->prev = w->prev;
        }
    }
    w->prev = w->next = NULL;
    w->flight = NULL;
    f->nwaiters--;
}

static void
unlink_flight(struct flight_table *t, struct flight *f)
{
    struct flight **p = &t->buckets[f->hash & (t->nbuckets - 1)];

    while (*p != f) {
        p = &(*p)->hnext;
    }
    *p = f->hnext;
    t->count--;
}

void
flight_finish(struct flight_table *t, struct flight *f, flight_done_fn *fn, void *arg)
{
    unlink_flight(t, f);
    while (f->waiters != NULL) {
        struct flight_waiter *w = f->waiters;
        flight_leave(w);
        fn(w, arg);
    }
    mem_free(f);
}
