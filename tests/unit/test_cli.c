/*
 * test_cli.c -- slotcache-cli's arithmetic and argument handling: slot sets
 * and their text form (what the proxy's config and PROXY MIGRATE carry),
 * the plans of reshard / add-node / del-node (every slot ends up owned
 * exactly once, shards end even), shard maps from `create` and from config
 * files, and the options parser.  The commands themselves are tested
 * against real processes in tests/integration/test_cli.py.
 */
#define TEST_SUITE "cli"
#include "tests/unit/testhelp.h"

#include "cluster-tools/cli_args.h"
#include "cluster-tools/cli_plan.h"
#include "cluster-tools/cli_slots.h"
#include "cluster-tools/cli_topo.h"
#include "common/sbuf.h"

#include <stdlib.h>
#include <unistd.h>

/* slots_format of s, in a static buffer (tests only). */
static const char *
fmt(const struct slots *s)
{
    static char out[4096];
    struct sbuf b;

    sbuf_init(&b);
    slots_format(s, &b);
    snprintf(out, sizeof(out), "%s", b.data);
    sbuf_free(&b);
    return out;
}

static int
parse(struct slots *s, const char *spec)
{
    char err[200];

    slots_clear(s);
    return slots_parse(s, spec, err, sizeof(err));
}

static void
test_slots_round_trip(void)
{
    static const char *const specs[] = {"0-16383", "0", "16383", "0-999,5000,16000-16383",
                                        "1,3,5-7"};
    struct slots s;

    for (size_t i = 0; i < ARRAY_LEN(specs); i++) {
        CHECK_INT(parse(&s, specs[i]), SC_OK);
        CHECK_STR(fmt(&s), specs[i]);
    }
    /* Overlaps and adjacent ranges come back merged and in order. */
    CHECK_INT(parse(&s, "10-20,0-9,15-30,31"), SC_OK);
    CHECK_STR(fmt(&s), "0-31");
    CHECK_INT(slots_count(&s), 32);
    CHECK_INT(slots_ranges(&s), 1);
    slots_clear(&s);
    CHECK_STR(fmt(&s), "");
    CHECK_INT(slots_min(&s), -1);
    CHECK_INT(slots_max(&s), -1);
}

static void
test_slots_bad_specs(void)
{
    /* What the proxy's parser (slot_bitmap_parse) refuses, the cli does. */
    static const char *const bad[] = {"",     "16384", "5-4", "a",      "1-2-3",
                                      "1,,2", "-1",    "0-",  "0-16384"};
    struct slots s;
    char err[200];

    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        slots_clear(&s);
        CHECK_INT(slots_parse(&s, bad[i], err, sizeof(err)), SC_ERR);
    }
    slots_clear(&s);
    slots_parse(&s, "0-10,99999", err, sizeof(err));
    CHECK(strstr(err, "'0-10,99999'") != NULL);
}

/* The longest lists there are fit: ranges of two with gaps between. */
static void
test_slots_format_worst_case(void)
{
    struct slots s, back;
    struct sbuf text;
    char err[200];

    slots_clear(&s);
    for (unsigned i = 0; i + 1 < SLOT_COUNT; i += 3) {
        slots_add_range(&s, i, i + 1);
    }
    sbuf_init(&text);
    slots_format(&s, &text);
    slots_clear(&back);
    CHECK_INT(slots_parse(&back, text.data, err, sizeof(err)), SC_OK);
    CHECK(memcmp(&s, &back, sizeof(s)) == 0);
    sbuf_free(&text);
}

static void
test_slots_sets(void)
{
    struct slots a, b, c;

    parse(&a, "0-99");
    parse(&b, "50-149");
    c = a;
    slots_intersect(&c, &b);
    CHECK_STR(fmt(&c), "50-99");
    c = a;
    slots_minus(&c, &b);
    CHECK_STR(fmt(&c), "0-49");
    c = a;
    slots_union(&c, &b);
    CHECK_STR(fmt(&c), "0-149");
    CHECK_INT(slots_min(&b), 50);
    CHECK_INT(slots_max(&b), 149);
    CHECK(slots_has(&b, 50) && !slots_has(&b, 49));
}

static void
test_slots_take(void)
{
    struct slots s, out;

    parse(&s, "0-9,100-109");
    slots_take(&s, 15, true, &out);
    CHECK_STR(fmt(&out), "5-9,100-109");
    slots_take(&s, 3, false, &out);
    CHECK_STR(fmt(&out), "0-2");
    slots_take(&s, 100, false, &out); /* capped at what there is */
    CHECK_INT(slots_count(&out), 20);
    slots_take(&s, 0, true, &out);
    CHECK_INT(slots_count(&out), 0);
}

static void
test_slots_even_parts(void)
{
    for (int n = 1; n <= 7; n++) {
        unsigned next = 0;
        int lo_size = SLOT_COUNT, hi_size = 0;
        for (int i = 0; i < n; i++) {
            unsigned lo, hi;
            slots_even_part(i, n, &lo, &hi);
            CHECK_INT(lo, next); /* consecutive, no gap, no overlap */
            next = hi + 1;
            lo_size = MIN(lo_size, (int)(hi - lo + 1));
            hi_size = MAX(hi_size, (int)(hi - lo + 1));
        }
        CHECK_INT(next, SLOT_COUNT);
        CHECK(hi_size - lo_size <= 1);
    }
    unsigned lo, hi;
    slots_even_part(0, 3, &lo, &hi);
    CHECK_INT(hi, 5461);
}

static int
spread(const int *v, int n)
{
    int lo = v[0], hi = v[0];

    for (int i = 1; i < n; i++) {
        lo = MIN(lo, v[i]);
        hi = MAX(hi, v[i]);
    }
    return hi - lo;
}

static void
test_plan_counts(void)
{
    int counts[] = {5462, 5461, 5461}, give[3], after[4];

    plan_add_counts(counts, 3, give);
    CHECK_INT(give[0] + give[1] + give[2], SLOT_COUNT / 4);
    for (int i = 0; i < 3; i++) {
        after[i] = counts[i] - give[i];
    }
    after[3] = SLOT_COUNT / 4;
    CHECK(spread(after, 4) <= 1);

    /* Uneven shards: the fullest give the most, the smallest may give none. */
    int uneven[] = {10000, 6000, 384}, g2[3];
    plan_add_counts(uneven, 3, g2);
    CHECK_INT(g2[2], 0);
    CHECK(g2[0] > g2[1]);
    CHECK_INT(g2[0] + g2[1] + g2[2], SLOT_COUNT / 4);

    int rest[] = {5462, 5461}, get[2];
    plan_remove_counts(5461, rest, 2, get);
    CHECK_INT(get[0] + get[1], 5461);
    CHECK(abs((rest[0] + get[0]) - (rest[1] + get[1])) <= 1);
}

static void
test_plan_add_and_remove(void)
{
    struct slots have[3], give[3], got[2], all, left;

    parse(&have[0], "0-5461");
    parse(&have[1], "5462-10922");
    parse(&have[2], "10923-16383");
    plan_add(have, 3, give);
    slots_clear(&all);
    for (int i = 0; i < 3; i++) {
        struct slots inside = give[i];
        slots_intersect(&inside, &have[i]);
        CHECK_INT(slots_count(&inside), slots_count(&give[i])); /* only its own slots */
        CHECK_INT(slots_ranges(&give[i]), 1);                   /* in one run */
        CHECK_INT(slots_count(&all) + slots_count(&give[i]),
                  (slots_union(&all, &give[i]), slots_count(&all))); /* disjoint */
    }
    CHECK_INT(slots_count(&all), SLOT_COUNT / 4);

    /* del-node of shard 1: its slots split between the two others. */
    struct slots others[2] = {have[0], have[2]};
    plan_remove(&have[1], others, 2, got);
    left = have[1];
    for (int i = 0; i < 2; i++) {
        struct slots outside = got[i];
        slots_minus(&outside, &have[1]);
        CHECK_INT(slots_count(&outside), 0);
        slots_minus(&left, &got[i]);
    }
    CHECK_INT(slots_count(&left), 0);
    CHECK(abs(slots_count(&got[0]) - slots_count(&got[1])) <= 1);
}

static void
test_plan_reshard(void)
{
    struct slots from, to, out, none;

    parse(&from, "0-5461");
    parse(&to, "5462-10922");
    plan_reshard(&from, &to, 4000, &out);
    CHECK_STR(fmt(&out), "1462-5461"); /* the end that faces the target */
    plan_reshard(&to, &from, 10, &out);
    CHECK_STR(fmt(&out), "5462-5471");
    slots_clear(&none);
    plan_reshard(&from, &none, 2, &out);
    CHECK_STR(fmt(&out), "5460-5461");
}

static void
test_topo_create(void)
{
    const char *addrs[] = {"127.0.0.1:7001", "127.0.0.1:7002", "127.0.0.1:7003", "127.0.0.1:7004"};
    struct topo t;
    struct cli_err err;
    struct sbuf out;

    topo_init(&t);
    CHECK_INT(topo_create(&t, TOPO_PARTITIONED, addrs, 4, 1, &err), SC_OK);
    CHECK_INT(t.nshards, 2);
    CHECK_INT(t.shards[1].nmembers, 2);
    CHECK_STR(t.shards[1].members[0].addr, "127.0.0.1:7003");
    sbuf_init(&out);
    topo_write(&t, &out);
    CHECK_STR(out.data, "mode partitioned\nshard 0-8191 127.0.0.1:7001 127.0.0.1:7002\n"
                        "shard 8192-16383 127.0.0.1:7003 127.0.0.1:7004\n");
    sbuf_reset(&out);
    CHECK_INT(topo_create(&t, TOPO_REPLICATED, addrs, 3, 0, &err), SC_OK);
    topo_write(&t, &out);
    CHECK_STR(out.data, "mode replicated\nnode 127.0.0.1:7001\nnode 127.0.0.1:7002\n"
                        "node 127.0.0.1:7003\n");
    sbuf_free(&out);

    CHECK_INT(topo_create(&t, TOPO_PARTITIONED, addrs, 3, 1, &err), SC_ERR);
    CHECK(strstr(err.msg, "do not divide") != NULL);
    CHECK_INT(topo_create(&t, TOPO_CENTRAL, addrs, 2, 0, &err), SC_ERR);
    CHECK_INT(topo_create(&t, TOPO_REPLICATED, addrs, 2, 1, &err), SC_ERR);
    CHECK_INT(topo_create(&t, TOPO_PARTITIONED, addrs, 0, 0, &err), SC_ERR);
    const char *dup[] = {"h:1", "h:2", "h:1"};
    CHECK_INT(topo_create(&t, TOPO_PARTITIONED, dup, 3, 0, &err), SC_ERR);
    CHECK(strstr(err.msg, "twice") != NULL);
    const char *bad[] = {"h:1", "nope"};
    CHECK_INT(topo_create(&t, TOPO_PARTITIONED, bad, 2, 0, &err), SC_ERR);
    CHECK(strstr(err.msg, "'nope'") != NULL);
    topo_free(&t);
}

static char *
write_temp(const char *text)
{
    static char path[] = "/tmp/test_cli_XXXXXX";
    snprintf(path, sizeof(path), "/tmp/test_cli_XXXXXX");
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    CHECK_INT(write(fd, text, strlen(text)), (long long)strlen(text));
    close(fd);
    return path;
}

static void
test_topo_config(void)
{
    struct topo t;
    struct cli_err err;
    struct sbuf out;
    char *path = write_temp("# a comment\nport 7000\nMODE partitioned\n"
                            "shard 0-8191 a:1 \"b:2\"\n  shard 8192-16383 c:3\nloader x:9\n");

    topo_init(&t);
    CHECK_INT(topo_load_config(&t, path, &err), SC_OK);
    CHECK_INT(t.mode, TOPO_PARTITIONED);
    CHECK_INT(t.nshards, 2);
    CHECK_STR(t.shards[0].members[1].addr, "b:2");
    CHECK_INT(slots_count(&t.shards[1].slots), 8192);

    int si, mi;
    CHECK_INT(topo_find(&t, "c:3", &si, &mi, &err), SC_OK);
    CHECK_INT(si, 1);
    CHECK_INT(topo_find(&t, "2", &si, &mi, &err), SC_OK);
    CHECK(si == 0 && mi == 1);
    CHECK_INT(topo_find(&t, "z:9", &si, &mi, &err), SC_ERR);
    const char *members[] = {"b:2", "a:1"};
    CHECK_INT(topo_find_shard(&t, members, 2), 0);
    CHECK_INT(topo_find_shard(&t, members, 1), -1);

    /* The base's own lines are kept, its map replaced. */
    sbuf_init(&out);
    CHECK_INT(topo_config_text(&t, path, &out, &err), SC_OK);
    CHECK(strstr(out.data, "port 7000\n") != NULL && strstr(out.data, "loader x:9\n") != NULL);
    CHECK(strstr(out.data, "MODE") == NULL);
    CHECK(strstr(out.data, "shard 0-8191 a:1 b:2\n") != NULL);
    sbuf_free(&out);
    unlink(path);

    path = write_temp("mode replicated\nnode a:1\nnode b:2 c:3\n");
    CHECK_INT(topo_load_config(&t, path, &err), SC_OK);
    CHECK_INT(t.nshards, 1);
    CHECK_INT(t.shards[0].nmembers, 3);
    CHECK_INT(slots_count(&t.shards[0].slots), SLOT_COUNT);
    unlink(path);

    path = write_temp("mode partitioned\nshard 0-100,99999 a:1\n");
    CHECK_INT(topo_load_config(&t, path, &err), SC_ERR);
    CHECK(strstr(err.msg, ":2:") != NULL);
    unlink(path);
    CHECK_INT(topo_load_config(&t, "/nonexistent/proxy.conf", &err), SC_ERR);
    topo_free(&t);
}

static void
test_topo_coverage(void)
{
    struct topo t;
    struct slots missing, twice;

    topo_init(&t);
    slots_add_range(&topo_add_shard(&t, 0)->slots, 0, 9000);
    slots_add_range(&topo_add_shard(&t, 1)->slots, 8000, 16000);
    topo_coverage(&t, &missing, &twice);
    CHECK_STR(fmt(&missing), "16001-16383");
    CHECK_STR(fmt(&twice), "8000-9000");
    topo_free(&t);
}

/* main's argv is char **; a literal stands in for a word (never written). */
#define W(lit) ((char *)(uintptr_t)(lit))

static void
test_args(void)
{
    const char *host = "h", *out = NULL;
    long long port = 7000, watch = 0;
    bool flag = false;
    struct args_opt opts[] = {
        {.name = "host", .type = ARGS_STR, .dst = &host},
        {.name = "port", .type = ARGS_INT, .dst = &port, .min = 1, .max = 65535},
        {.name = "watch", .type = ARGS_OPT_INT, .dst = &watch, .min = 1, .max = 60, .implied = 2},
        {.name = "out", .type = ARGS_STR, .dst = &out},
        {.name = "force", .type = ARGS_FLAG, .dst = &flag},
        ARGS_END,
    };
    char *argv[] = {W("a"),       W("--port"),  W("7001"), W("--watch"), W("b"),
                    W("--out=x"), W("--force"), W("--"),   W("--c")};
    char *pos[4];
    int n;
    struct cli_err err;

    CHECK_INT(args_parse(opts, 9, argv, pos, 4, &n, &err), SC_OK);
    CHECK_INT(port, 7001);
    CHECK_INT(watch, 2); /* "b" is not a number: a word of its own */
    CHECK_STR(out, "x");
    CHECK(flag);
    CHECK_INT(n, 3);
    CHECK_STR(pos[1], "b");
    CHECK_STR(pos[2], "--c");

    char *w5[] = {W("--watch"), W("5")};
    CHECK_INT(args_parse(opts, 2, w5, pos, 4, &n, &err), SC_OK);
    CHECK_INT(watch, 5);
    CHECK_INT(n, 0);

    char *bad1[] = {W("--port"), W("70000")};
    CHECK_INT(args_parse(opts, 2, bad1, pos, 4, &n, &err), SC_ERR);
    CHECK(strstr(err.msg, "70000") != NULL);
    char *bad2[] = {W("--nope")};
    CHECK_INT(args_parse(opts, 1, bad2, pos, 4, &n, &err), SC_ERR);
    CHECK(strstr(err.msg, "--nope") != NULL);
    char *bad3[] = {W("--host")};
    CHECK_INT(args_parse(opts, 1, bad3, pos, 4, &n, &err), SC_ERR);
    char *bad4[] = {W("--out"), W("--force")};
    CHECK_INT(args_parse(opts, 2, bad4, pos, 4, &n, &err), SC_ERR);
    char *bad5[] = {W("x"), W("y")};
    CHECK_INT(args_parse(opts, 2, bad5, pos, 1, &n, &err), SC_ERR);
    char *bad6[] = {W("--force=yes")};
    CHECK_INT(args_parse(opts, 1, bad6, pos, 4, &n, &err), SC_ERR);

    char host_out[64];
    int p;
    CHECK_INT(args_hostport("7002", "127.0.0.1", host_out, sizeof(host_out), &p, "x", &err), SC_OK);
    CHECK(p == 7002 && strcmp(host_out, "127.0.0.1") == 0);
    CHECK_INT(args_hostport("10.0.0.1:80", "h", host_out, sizeof(host_out), &p, "x", &err), SC_OK);
    CHECK_STR(host_out, "10.0.0.1");
    CHECK_INT(args_hostport("0", "h", host_out, sizeof(host_out), &p, "x", &err), SC_ERR);
    CHECK_INT(args_hostport(":80", "h", host_out, sizeof(host_out), &p, "x", &err), SC_ERR);
}

TEST_MAIN(test_slots_round_trip, test_slots_bad_specs, test_slots_format_worst_case,
          test_slots_sets, test_slots_take, test_slots_even_parts, test_plan_counts,
          test_plan_add_and_remove, test_plan_reshard, test_topo_create, test_topo_config,
          test_topo_coverage, test_args)
