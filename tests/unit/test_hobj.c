/*
 * test_hobj.c -- the value of a hash key: what a client of HSET, HGETALL,
 * HSCAN and HRANDFIELD relies on.  A packed hash keeps insertion order and
 * converts to a table at redis's thresholds; every field stays readable
 * across the conversion; a scan, a sample and a random pick only ever return
 * fields of the hash (a sample never the same one twice), each about equally
 * often; and a failed allocation leaves the hash as it was.
 */
#define TEST_SUITE "hobj"
#include "tests/unit/testhelp.h"

#include "common/mem.h"
#include "node/hobj.h"
#include "node/item.h"

#include <stdlib.h>

#define NFIELDS_MAX 4096

static const struct hobj_limits defaults = {512, 64};

/* Field i is "f<i>" with value "v<i>"; the buffers hold both texts. */
static size_t
field_name(char *buf, int i)
{
    return (size_t)snprintf(buf, 32, "f%d", i);
}

static int
field_index(const char *f, size_t flen)
{
    char buf[32];
    if (flen < 2 || flen >= sizeof(buf) || f[0] != 'f') {
        return -1;
    }
    memcpy(buf, f + 1, flen - 1);
    buf[flen - 1] = '\0';
    return atoi(buf);
}

static struct hobj *
make_hash(int n)
{
    struct hobj *h = hobj_try_create();
    char f[32], v[32];

    for (int i = 0; i < n; i++) {
        size_t flen = field_name(f, i);
        size_t vlen = (size_t)snprintf(v, sizeof(v), "v%d", i);
        CHECK_INT(hobj_set(h, f, flen, v, vlen), 1);
    }
    return h;
}

static bool
has_value(struct hobj *h, const char *f, const char *want)
{
    const char *v;
    size_t vlen;
    return hobj_get(h, f, strlen(f), &v, &vlen) && vlen == strlen(want) &&
           memcmp(v, want, vlen) == 0;
}

/* ------------------------------------------------------ set, get, delete */

static void
test_set_get_del(void)
{
    struct hobj *h = hobj_try_create();

    CHECK_INT(hobj_len(h), 0);
    CHECK_INT(hobj_set(h, "a", 1, "1", 1), 1);
    CHECK_INT(hobj_set(h, "b", 1, "2", 1), 1);
    CHECK_INT(hobj_set(h, "a", 1, "one", 3), 0);
    CHECK_INT(hobj_len(h), 2);
    CHECK(has_value(h, "a", "one"));
    CHECK(has_value(h, "b", "2"));
    CHECK(!has_value(h, "c", ""));
    CHECK(hobj_del(h, "a", 1));
    CHECK(!hobj_del(h, "a", 1));
    CHECK_INT(hobj_len(h), 1);
    CHECK(hobj_del(h, "b", 1));
    CHECK_INT(hobj_len(h), 0);
    CHECK_INT(hobj_encoding(h), ENC_LISTPACK);
    /* empty fields and values, and bytes a C string could not hold */
    CHECK_INT(hobj_set(h, "", 0, "", 0), 1);
    CHECK_INT(hobj_set(h, "x\0y", 3, "\0\r\n", 3), 1);
    const char *v;
    size_t vlen;
    CHECK(hobj_get(h, "", 0, &v, &vlen) && vlen == 0);
    CHECK(hobj_get(h, "x\0y", 3, &v, &vlen) && vlen == 3 && memcmp(v, "\0\r\n", 3) == 0);
    CHECK(!hobj_get(h, "x", 1, &v, &vlen));
    CHECK(hobj_mem(h) > 0);
    hobj_free(h);
    hobj_free(NULL);
}

/* HGETALL on a small hash: insertion order; an update keeps its place. */
static void
test_packed_order(void)
{
    struct hobj *h = make_hash(5);
    struct hobj_iter it;
    const char *f, *v;
    size_t flen, vlen;
    int i = 0;

    CHECK_INT(hobj_set(h, "f2", 2, "a much longer value than before", 31), 0);
    CHECK(hobj_del(h, "f0", 2));
    hobj_iter_init(&it, h);
    while (hobj_iter_next(&it, &f, &flen, &v, &vlen)) {
        CHECK_INT(field_index(f, flen), i + 1);
        i++;
    }
    CHECK_INT(i, 4);
    CHECK(has_value(h, "f2", "a much longer value than before"));
    CHECK(has_value(h, "f4", "v4"));
    hobj_free(h);
}

/* ------------------------------------------------------------ conversion */

/* Fields f0..f<n-1> of make_hash() are all there with their values. */
static void
check_all_fields(struct hobj *h, int n)
{
    char f[32], v[32];
    bool all = true;
    for (int i = 0; i < n; i++) {
        field_name(f, i);
        snprintf(v, sizeof(v), "v%d", i);
        all = all && has_value(h, f, v);
    }
    CHECK(all);
}

static void
test_convert_on_entries(void)
{
    hobj_limits = (struct hobj_limits){4, 64};
    struct hobj *h = make_hash(4);
    CHECK_INT(hobj_encoding(h), ENC_LISTPACK);
    CHECK_INT(hobj_set(h, "f4", 2, "v4", 2), 1);
    CHECK_INT(hobj_encoding(h), ENC_HASHTABLE);
    check_all_fields(h, 5);
    CHECK_INT(hobj_len(h), 5);
    /* a table never converts back, as in redis */
    for (int i = 0; i < 4; i++) {
        char f[32];
        CHECK(hobj_del(h, f, field_name(f, i)));
    }
    CHECK_INT(hobj_encoding(h), ENC_HASHTABLE);
    CHECK(has_value(h, "f4", "v4"));
    hobj_free(h);
    hobj_limits = defaults;
}

static void
test_convert_on_length(void)
{
    char big[65];
    memset(big, 'x', sizeof(big));
    struct hobj *h = make_hash(3);

    CHECK_INT(hobj_set(h, "k", 1, big, 64), 1);
    CHECK_INT(hobj_encoding(h), ENC_LISTPACK);
    CHECK_INT(hobj_set(h, "k", 1, big, 65), 0);
    CHECK_INT(hobj_encoding(h), ENC_HASHTABLE);
    check_all_fields(h, 3);
    hobj_free(h);

    h = make_hash(3);
    CHECK_INT(hobj_set(h, big, 65, "v", 1), 1);
    CHECK_INT(hobj_encoding(h), ENC_HASHTABLE);
    check_all_fields(h, 3);
    hobj_free(h);
}

/* A big table: growth, then deletions down to one field (shrinking). */
static void
test_big_table(void)
{
    struct hobj *h = make_hash(NFIELDS_MAX);
    char f[32];

    CHECK_INT(hobj_encoding(h), ENC_HASHTABLE);
    check_all_fields(h, NFIELDS_MAX);
    CHECK_INT(hobj_len(h), NFIELDS_MAX);
    for (int i = 1; i < NFIELDS_MAX; i++) {
        CHECK(hobj_del(h, f, field_name(f, i)));
    }
    CHECK_INT(hobj_len(h), 1);
    CHECK(has_value(h, "f0", "v0"));
    hobj_free(h);
}

/* -------------------------------------------------------------- HSCAN */

struct seen {
    int count[NFIELDS_MAX];
    int calls;
    bool stranger; /* a field that is not in the hash */
};

static void
note_field(void *ctx, const char *f, size_t flen, const char *v, size_t vlen)
{
    struct seen *s = ctx;
    int i = field_index(f, flen);
    char want[32];

    s->calls++;
    if (i < 0 || i >= NFIELDS_MAX || vlen != (size_t)snprintf(want, sizeof(want), "v%d", i) ||
        memcmp(v, want, vlen) != 0) {
        s->stranger = true;
        return;
    }
    s->count[i]++;
}

static void
test_scan(void)
{
    static struct seen s;

    /* packed: everything at once, cursor 0, whatever cursor was asked */
    struct hobj *h = make_hash(10);
    memset(&s, 0, sizeof(s));
    CHECK_INT(hobj_scan(h, 12345, note_field, &s), 0);
    CHECK_INT(s.calls, 10);
    hobj_free(h);

    /* table: the cursor walk returns every field at least once */
    h = make_hash(1000);
    memset(&s, 0, sizeof(s));
    uint64_t cursor = 0;
    int steps = 0;
    do {
        cursor = hobj_scan(h, cursor, note_field, &s);
        steps++;
    } while (cursor != 0 && steps < 100000);
    CHECK(!s.stranger);
    bool all = true;
    for (int i = 0; i < 1000; i++) {
        all = all && s.count[i] >= 1;
    }
    CHECK(all);
    CHECK(steps > 1);
    hobj_free(h);
}

/* ---------------------------------------------------------- HRANDFIELD */

/* Each of n fields drawn close to total/n times (within a third). */
static bool
about_uniform(const struct seen *s, int n, int total)
{
    for (int i = 0; i < n; i++) {
        int want = total / n;
        if (s->count[i] < want - want / 3 || s->count[i] > want + want / 3) {
            return false;
        }
    }
    return true;
}

static void
check_random_n(int n)
{
    static struct seen s;
    struct hobj *h = make_hash(n);

    memset(&s, 0, sizeof(s));
    hobj_random_n(h, (uint64_t)n * 600, note_field, &s);
    CHECK_INT(s.calls, n * 600);
    CHECK(!s.stranger);
    CHECK(about_uniform(&s, n, n * 600));
    const char *f, *v;
    size_t flen, vlen;
    hobj_random(h, &f, &flen, &v, &vlen);
    CHECK(field_index(f, flen) >= 0 && field_index(f, flen) < n);
    hobj_free(h);
}

static void
test_random_n(void)
{
    check_random_n(7);   /* packed: batched walks */
    check_random_n(700); /* table */
}

/* count distinct fields per sample; over many samples, each field about
 * equally often. */
static void
check_sample(int n, uint64_t count, int enc)
{
    static struct seen s, total;
    hobj_limits.max_listpack_entries = enc == ENC_LISTPACK ? n : n / 4;
    struct hobj *h = make_hash(n);
    bool distinct = true, exact = true;
    int rounds = 3000;

    CHECK_INT(hobj_encoding(h), enc);
    memset(&total, 0, sizeof(total));
    for (int r = 0; r < rounds; r++) {
        memset(&s, 0, sizeof(s));
        CHECK_INT(hobj_sample(h, count, note_field, &s), SC_OK);
        exact = exact && s.calls == (int)count && !s.stranger;
        for (int i = 0; i < n; i++) {
            distinct = distinct && s.count[i] <= 1;
            total.count[i] += s.count[i];
        }
    }
    CHECK(exact);
    CHECK(distinct);
    CHECK(about_uniform(&total, n, rounds * (int)count));
    hobj_free(h);
    hobj_limits = defaults;
}

static void
test_sample(void)
{
    check_sample(10, 4, ENC_LISTPACK);
    check_sample(10, 9, ENC_LISTPACK);
    check_sample(60, 30, ENC_HASHTABLE); /* a walk */
    check_sample(60, 20, ENC_HASHTABLE); /* random picks, repeats dropped */
}

/* ------------------------------------------------------- out of memory */

static void
test_oom_leaves_hash_unchanged(void)
{
    struct hobj *h = make_hash(3);
    char big[100];
    memset(big, 'y', sizeof(big));

    /* a new field that needs the buffer to grow */
    mem_fail_after(1);
    CHECK_INT(hobj_set(h, big, 60, big, 60), SC_ENOMEM);
    mem_fail_after(0);
    CHECK_INT(hobj_len(h), 3);
    check_all_fields(h, 3);
    CHECK_INT(hobj_encoding(h), ENC_LISTPACK);

    /* a conversion that cannot allocate its first field */
    mem_fail_after(1);
    CHECK_INT(hobj_set(h, "k", 1, big, 100), SC_ENOMEM);
    mem_fail_after(0);
    CHECK_INT(hobj_encoding(h), ENC_LISTPACK);
    check_all_fields(h, 3);
    CHECK_INT(hobj_len(h), 3);
    hobj_free(h);

    /* a new field of a table */
    h = make_hash(600);
    mem_fail_after(1);
    CHECK_INT(hobj_set(h, "new", 3, "v", 1), SC_ENOMEM);
    mem_fail_after(0);
    check_all_fields(h, 600);
    CHECK_INT(hobj_len(h), 600);

    /* a sample's scratch set: nothing reported */
    static struct seen s;
    memset(&s, 0, sizeof(s));
    mem_fail_after(1);
    CHECK_INT(hobj_sample(h, 10, note_field, &s), SC_ENOMEM);
    mem_fail_after(0);
    CHECK_INT(s.calls, 0);
    hobj_free(h);

    mem_fail_after(1);
    CHECK(hobj_try_create() == NULL);
    mem_fail_after(0);
}

TEST_MAIN(test_set_get_del, test_packed_order, test_convert_on_entries, test_convert_on_length,
          test_big_table, test_scan, test_random_n, test_sample, test_oom_leaves_hash_unchanged)
