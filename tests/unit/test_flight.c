/*
 * test_flight.c -- single flight: one flight per key, waiters answered once
 * each in join order, waiters leaving from anywhere in the list, a waiter
 * freed by its own callback, table growth, keys as bytes, and an allocation
 * failure.
 */
#define TEST_SUITE "flight"
#include "tests/unit/testhelp.h"

#include "common/mem.h"
#include "loader/flight.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct req {
    struct flight_waiter w;
    int id;
    int answered;
};

struct log {
    int ids[64];
    int n;
};

static void
record(struct flight_waiter *w, void *arg)
{
    struct req *r = container_of(w, struct req, w);
    struct log *l = arg;

    CHECK(w->flight == NULL); /* it has left before it is told */
    r->answered++;
    l->ids[l->n++] = r->id;
}

static void
test_one_flight_per_key(void)
{
    struct flight_table t;
    struct req a = {.id = 1}, b = {.id = 2}, c = {.id = 3};
    struct log l = {0};

    flight_table_init(&t);
    CHECK(flight_find(&t, "koi:1", 5) == NULL);
    struct flight *f = flight_start(&t, "koi:1", 5);
    CHECK(f != NULL);
    CHECK_INT(t.count, 1);
    CHECK_MEM(f->key, f->keylen, "koi:1");
    CHECK_INT(f->key[5], '\0');
    flight_join(f, &a.w);
    CHECK(flight_find(&t, "koi:1", 5) == f);
    CHECK(flight_find(&t, "koi:10", 6) == NULL);
    CHECK(flight_find(&t, "koi:", 4) == NULL);
    flight_join(flight_find(&t, "koi:1", 5), &b.w);
    flight_join(f, &c.w);
    CHECK_INT(f->nwaiters, 3);
    CHECK(a.w.flight == f && c.w.flight == f);

    flight_finish(&t, f, record, &l);
    CHECK_INT(l.n, 3);
    CHECK_INT(l.ids[0], 1);
    CHECK_INT(l.ids[1], 2);
    CHECK_INT(l.ids[2], 3);
    CHECK(a.answered == 1 && b.answered == 1 && c.answered == 1);
    CHECK_INT(t.count, 0);
    CHECK(flight_find(&t, "koi:1", 5) == NULL);
    flight_table_free(&t);
}

/* Leaves waiter `gone` (0-based) of n, then checks the others are answered
 * in order. */
static void
leave_one(int n, int gone)
{
    struct flight_table t;
    struct req r[8];
    struct log l = {0};

    flight_table_init(&t);
    struct flight *f = flight_start(&t, "k", 1);
    for (int i = 0; i < n; i++) {
        r[i] = (struct req){.id = i};
        flight_join(f, &r[i].w);
    }
    flight_leave(&r[gone].w);
    CHECK(r[gone].w.flight == NULL);
    CHECK_INT(f->nwaiters, n - 1);
    flight_leave(&r[gone].w); /* twice: a no-op */
    CHECK_INT(f->nwaiters, n - 1);
    flight_finish(&t, f, record, &l);
    CHECK_INT(l.n, n - 1);
    for (int i = 0, k = 0; i < n; i++) {
        if (i != gone) {
            CHECK_INT(l.ids[k], i);
            k++;
        }
    }
    CHECK_INT(r[gone].answered, 0);
    flight_table_free(&t);
}

static void
test_leave_anywhere(void)
{
    for (int n = 1; n <= 5; n++) {
        for (int gone = 0; gone < n; gone++) {
            leave_one(n, gone);
        }
    }
}

static void
test_rejoin_after_leaving(void)
{
    struct flight_table t;
    struct req a = {.id = 1}, b = {.id = 2};
    struct log l = {0};

    flight_table_init(&t);
    struct flight *f = flight_start(&t, "k", 1);
    flight_join(f, &a.w);
    flight_join(f, &b.w);
    flight_leave(&a.w);
    flight_join(f, &a.w); /* now last */
    flight_finish(&t, f, record, &l);
    CHECK_INT(l.n, 2);
    CHECK_INT(l.ids[0], 2);
    CHECK_INT(l.ids[1], 1);
    flight_table_free(&t);
}

static void
free_it(struct flight_waiter *w, void *arg)
{
    int *n = arg;

    (*n)++;
    free(container_of(w, struct req, w));
}

static void
test_callback_frees_waiter(void)
{
    struct flight_table t;
    int n = 0;

    flight_table_init(&t);
    struct flight *f = flight_start(&t, "k", 1);
    for (int i = 0; i < 10; i++) {
        struct req *r = calloc(1, sizeof(*r));
        flight_join(f, &r->w);
    }
    flight_finish(&t, f, free_it, &n);
    CHECK_INT(n, 10);
    flight_table_free(&t);
}

/* A callback that makes the next waiter leave (its connection closed while
 * answering): the flight must not answer it afterwards. */
static struct req *victim;

static void
drop_victim(struct flight_waiter *w, void *arg)
{
    record(w, arg);
    if (victim != NULL) {
        flight_leave(&victim->w);
        victim = NULL;
    }
}

static void
test_waiter_leaves_during_finish(void)
{
    struct flight_table t;
    struct req r[3] = {{.id = 0}, {.id = 1}, {.id = 2}};
    struct log l = {0};

    flight_table_init(&t);
    struct flight *f = flight_start(&t, "k", 1);
    for (int i = 0; i < 3; i++) {
        flight_join(f, &r[i].w);
    }
    victim = &r[1];
    flight_finish(&t, f, drop_victim, &l);
    CHECK_INT(l.n, 2);
    CHECK_INT(l.ids[0], 0);
    CHECK_INT(l.ids[1], 2);
    CHECK_INT(r[1].answered, 0);
    flight_table_free(&t);
}

static void
test_no_waiters(void)
{
    struct flight_table t;

    flight_table_init(&t);
    struct flight *f = flight_start(&t, "alone", 5);
    CHECK_INT(f->nwaiters, 0);
    flight_finish(&t, f, NULL, NULL);
    CHECK_INT(t.count, 0);
    flight_table_free(&t);
}

static void
test_many_keys_grow_the_table(void)
{
    struct flight_table t;
    char key[32];
    size_t buckets;

    flight_table_init(&t);
    buckets = t.nbuckets;
    int started = 0;
    for (int i = 0; i < 5000; i++) {
        int n = snprintf(key, sizeof(key), "koi:%d", i);
        started += flight_start(&t, key, (size_t)n) != NULL;
    }
    CHECK_INT(started, 5000);
    CHECK_INT(t.count, 5000);
    CHECK(t.nbuckets > buckets);
    int found = 0;
    for (int i = 0; i < 5000; i++) {
        int n = snprintf(key, sizeof(key), "koi:%d", i);
        struct flight *f = flight_find(&t, key, (size_t)n);
        found += f != NULL && f->keylen == (size_t)n && memcmp(f->key, key, (size_t)n) == 0;
    }
    CHECK_INT(found, 5000);
    /* Finish every other one; the rest are still found. */
    for (int i = 0; i < 5000; i += 2) {
        int n = snprintf(key, sizeof(key), "koi:%d", i);
        flight_finish(&t, flight_find(&t, key, (size_t)n), NULL, NULL);
    }
    CHECK_INT(t.count, 2500);
    CHECK(flight_find(&t, "koi:1", 5) != NULL);
    CHECK(flight_find(&t, "koi:2", 5) == NULL);
    flight_table_free(&t); /* frees the rest */
    CHECK_INT(t.count, 0);
}

static void
test_binary_keys(void)
{
    struct flight_table t;

    flight_table_init(&t);
    struct flight *a = flight_start(&t, "k\0a", 3);
    struct flight *b = flight_start(&t, "k\0b", 3);
    struct flight *e = flight_start(&t, "", 0);
    CHECK(flight_find(&t, "k\0a", 3) == a);
    CHECK(flight_find(&t, "k\0b", 3) == b);
    CHECK(flight_find(&t, "k", 1) == NULL);
    CHECK(flight_find(&t, "", 0) == e);
    CHECK_INT(e->key[0], '\0');
    flight_table_free(&t);
}

static void
test_free_detaches_waiters(void)
{
    struct flight_table t;
    struct req a = {.id = 1};

    flight_table_init(&t);
    flight_join(flight_start(&t, "k", 1), &a.w);
    flight_table_free(&t);
    CHECK(a.w.flight == NULL);
    CHECK_INT(a.answered, 0);
}

static void
test_out_of_memory(void)
{
    struct flight_table t;

    flight_table_init(&t);
    mem_fail_after(1);
    CHECK(flight_start(&t, "koi:1", 5) == NULL);
    CHECK_INT(t.count, 0);
    CHECK(flight_start(&t, "koi:1", 5) != NULL); /* the next one works */
    mem_fail_after(0);
    flight_table_free(&t);
}

TEST_MAIN(test_one_flight_per_key, test_leave_anywhere, test_rejoin_after_leaving,
          test_callback_frees_waiter, test_waiter_leaves_during_finish, test_no_waiters,
          test_many_keys_grow_the_table, test_binary_keys, test_free_detaches_waiters,
          test_out_of_memory)
