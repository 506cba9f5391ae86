/*
 * test_routes.c -- route directives (what is accepted, what is refused and
 * why), longest-prefix matching, and the text CONFIG GET / --help show.
 */
#define TEST_SUITE "routes"
#include "tests/unit/testhelp.h"

#include "loader/routes.h"

#include <stdio.h>
#include <string.h>

#define KOI_SQL "SELECT row_to_json(k)::text FROM koi k WHERE kepid = $1::bigint"

/* route_add over a words array (the directive's words after "route"). */
static int
add(struct route_table *t, const char *prefix, const char *sql, const char *ttl_word,
    const char *ttl, char *err, size_t errlen)
{
    char *argv[] = {(char *)prefix, (char *)sql, (char *)ttl_word, (char *)ttl};
    return route_add(t, 4, argv, err, errlen);
}

static void
test_add_and_fields(void)
{
    struct route_table t = {0};
    char err[256];

    CHECK_INT(add(&t, "koi:", KOI_SQL, "ttl", "300", err, sizeof(err)), SC_OK);
    CHECK_INT(add(&t, "name:", "SELECT $1::text", "TTL", "1", err, sizeof(err)), SC_OK);
    CHECK_INT(t.n, 2);
    CHECK_STR(t.routes[0].prefix, "koi:");
    CHECK_INT(t.routes[0].plen, 4);
    CHECK_STR(t.routes[0].sql, KOI_SQL);
    CHECK_INT(t.routes[0].ttl, 300);
    CHECK_INT(t.routes[0].id, 0);
    CHECK_INT(t.routes[1].id, 1);
    CHECK_INT(t.routes[1].ttl, 1);
    CHECK_INT(t.routes[1].inflight, 0);
    route_table_free(&t);
    CHECK_INT(t.n, 0);
    CHECK(t.routes == NULL);
}

struct bad {
    const char *prefix, *sql, *ttl_word, *ttl;
    const char *why; /* a word the reason must contain */
};

static void
test_refused(void)
{
    static const struct bad cases[] = {
        {"koi:", "SELECT 1", "ttl", "300", "$1"},
        {"koi:", "SELECT $10", "ttl", "300", "$1"},
        {"koi:", "SELECT $1, $2", "ttl", "300", "$2"},
        {"koi:", "SELECT $1 WHERE $9 > 0", "ttl", "300", "$9"},
        {"koi:", "", "ttl", "300", "empty"},
        {"koi:", KOI_SQL, "ttl", "0", "ttl"},
        {"koi:", KOI_SQL, "ttl", "-5", "ttl"},
        {"koi:", KOI_SQL, "ttl", "soon", "ttl"},
        {"koi:", KOI_SQL, "ttl", "2147483648", "ttl"},
        {"koi:", KOI_SQL, "expire", "300", "PREFIX"},
        {"", KOI_SQL, "ttl", "300", "prefix"},
    };
    char err[256];

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct route_table t = {0};
        const struct bad *c = &cases[i];
        err[0] = '\0';
        CHECK_INT(add(&t, c->prefix, c->sql, c->ttl_word, c->ttl, err, sizeof(err)), SC_ERR);
        CHECK_INT(t.n, 0);
        if (strstr(err, c->why) == NULL) {
            fprintf(stderr, "case %zu: '%s' lacks '%s'\n", i, err, c->why);
            CHECK(strstr(err, c->why) != NULL);
        }
        route_table_free(&t);
    }
}

static void
test_wrong_word_count(void)
{
    struct route_table t = {0};
    char err[256];
    char *three[] = {(char *)"koi:", (char *)KOI_SQL, (char *)"ttl"};

    CHECK_INT(route_add(&t, 3, three, err, sizeof(err)), SC_ERR);
    CHECK(strstr(err, "route takes") != NULL);
    CHECK_INT(route_add(&t, 0, three, err, sizeof(err)), SC_ERR);
}

static void
test_duplicate_prefix(void)
{
    struct route_table t = {0};
    char err[256];

    CHECK_INT(add(&t, "koi:", KOI_SQL, "ttl", "300", err, sizeof(err)), SC_OK);
    CHECK_INT(add(&t, "koi:", "SELECT $1", "ttl", "3", err, sizeof(err)), SC_ERR);
    CHECK(strstr(err, "duplicate") != NULL);
    CHECK_INT(t.n, 1);
    route_table_free(&t);
}

static void
test_first_directive_replaces_defaults(void)
{
    struct route_table t = {0};
    char err[256];

    CHECK_INT(add(&t, "koi:", KOI_SQL, "ttl", "300", err, sizeof(err)), SC_OK);
    t.defaults = true;
    CHECK_INT(add(&t, "star:", "SELECT $1", "ttl", "5", err, sizeof(err)), SC_OK);
    CHECK_INT(t.n, 1);
    CHECK_STR(t.routes[0].prefix, "star:");
    CHECK_INT(t.routes[0].id, 0);
    CHECK(!t.defaults);
    /* Later directives add. */
    CHECK_INT(add(&t, "koi:", KOI_SQL, "ttl", "300", err, sizeof(err)), SC_OK);
    CHECK_INT(t.n, 2);
    route_table_free(&t);
}

static void
test_too_many(void)
{
    struct route_table t = {0};
    char err[256], prefix[16];

    int added = 0;
    for (int i = 0; i < ROUTE_MAX; i++) {
        snprintf(prefix, sizeof(prefix), "r%d:", i);
        added += add(&t, prefix, "SELECT $1", "ttl", "1", err, sizeof(err)) == SC_OK;
    }
    CHECK_INT(added, ROUTE_MAX);
    CHECK_INT(add(&t, "one-more:", "SELECT $1", "ttl", "1", err, sizeof(err)), SC_ERR);
    CHECK_INT(t.n, ROUTE_MAX);
    route_table_free(&t);
}

static void
test_longest_prefix_wins(void)
{
    struct route_table t = {0};
    char err[256];

    add(&t, "k", "SELECT $1", "ttl", "1", err, sizeof(err));
    add(&t, "koi:", KOI_SQL, "ttl", "300", err, sizeof(err));
    add(&t, "koi:x", "SELECT $1", "ttl", "2", err, sizeof(err));

    struct route *r = route_match(&t, "koi:10797460", 12);
    CHECK(r != NULL && strcmp(r->prefix, "koi:") == 0);
    r = route_match(&t, "koi:x1", 6);
    CHECK(r != NULL && strcmp(r->prefix, "koi:x") == 0);
    r = route_match(&t, "kepler", 6);
    CHECK(r != NULL && strcmp(r->prefix, "k") == 0);
    r = route_match(&t, "koi:", 4); /* the whole key is the prefix: empty rest */
    CHECK(r != NULL && strcmp(r->prefix, "koi:") == 0);
    CHECK(route_match(&t, "koi", 3) != NULL); /* "k" */
    CHECK(route_match(&t, "star:1", 6) == NULL);
    CHECK(route_match(&t, "", 0) == NULL);
    /* Matching is by bytes and length, not C strings. */
    CHECK(route_match(&t, "koi:\0x", 6) != NULL && route_match(&t, "koi:\0x", 6)->plen == 4);
    route_table_free(&t);
}

static void
test_case_sensitive(void)
{
    struct route_table t = {0};
    char err[256];

    add(&t, "koi:", KOI_SQL, "ttl", "300", err, sizeof(err));
    CHECK(route_match(&t, "KOI:1", 5) == NULL);
    route_table_free(&t);
}

static void
test_describe(void)
{
    struct route_table t = {0};
    char err[256], buf[512];

    CHECK_INT(route_describe(&t, buf, sizeof(buf)), 0);
    CHECK_STR(buf, "");
    add(&t, "koi:", KOI_SQL, "ttl", "300", err, sizeof(err));
    add(&t, "q\"", "SELECT \"col\" FROM \"t\\x\" WHERE a = $1", "ttl", "7", err, sizeof(err));
    size_t n = route_describe(&t, buf, sizeof(buf));
    CHECK_STR(buf, "\"koi:\" \"" KOI_SQL "\" ttl 300, "
                   "\"q\\\"\" \"SELECT \\\"col\\\" FROM \\\"t\\\\x\\\" WHERE a = $1\" ttl 7");
    CHECK_INT(n, strlen(buf));
    /* Truncated, still terminated. */
    n = route_describe(&t, buf, 10);
    CHECK_INT(n, 9);
    CHECK_STR(buf, "\"koi:\" \"S");
    route_table_free(&t);
}

TEST_MAIN(test_add_and_fields, test_refused, test_wrong_word_count, test_duplicate_prefix,
          test_first_directive_replaces_defaults, test_too_many, test_longest_prefix_wins,
          test_case_sensitive, test_describe)
