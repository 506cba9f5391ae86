/*
 * test_util.c -- the conversions clients can see (which strings INCR takes,
 * how INCRBYFLOAT prints, what "1gb" means, how inline requests split, what
 * KEYS patterns match), against redis-server 7's behaviour.  Expected values
 * marked "redis" were read from redis-server 7.0.
 */
#define TEST_SUITE "util"
#include "tests/unit/testhelp.h"

#include "common/util.h"

#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/time.h>

/* ------------------------------------------------------------ integers */

static bool
ll_ok(const char *s, long long want)
{
    long long v = ~want; /* anything else: proves the value was written */
    return util_str2ll(s, strlen(s), &v) && v == want;
}

static bool
ll_bad(const char *s)
{
    long long v;
    return !util_str2ll(s, strlen(s), &v);
}

static void
test_str2ll_accepts(void)
{
    CHECK(ll_ok("0", 0));
    CHECK(ll_ok("1", 1));
    CHECK(ll_ok("-1", -1));
    CHECK(ll_ok("1234567890", 1234567890));
    CHECK(ll_ok("9223372036854775807", LLONG_MAX));
    CHECK(ll_ok("-9223372036854775808", LLONG_MIN));
    /* only len bytes are read: "12" of "123" */
    long long v = 0;
    CHECK(util_str2ll("123", 2, &v) && v == 12);
}

static void
test_str2ll_rejects(void)
{
    /* string2ll's strictness: one canonical spelling per number */
    CHECK(ll_bad(""));
    CHECK(ll_bad("-"));
    CHECK(ll_bad("+1"));
    CHECK(ll_bad("-0"));
    CHECK(ll_bad(" 1"));
    CHECK(ll_bad("1 "));
    CHECK(ll_bad("01"));
    CHECK(ll_bad("00"));
    CHECK(ll_bad("-01"));
    CHECK(ll_bad("1a"));
    CHECK(ll_bad("0x10"));
    CHECK(ll_bad("1.0"));
    CHECK(ll_bad("9223372036854775808"));
    CHECK(ll_bad("-9223372036854775809"));
    CHECK(ll_bad("18446744073709551616"));
    CHECK(ll_bad("99999999999999999999"));
    CHECK(ll_bad("123456789012345678901"));
    long long v;
    CHECK(!util_str2ll("1\0"
                       "2",
                       3, &v)); /* a NUL inside is not a digit */
}

static void
test_str2ull(void)
{
    unsigned long long v = 0;
    CHECK(util_str2ull("18446744073709551615", 20, &v) && v == ULLONG_MAX);
    CHECK(!util_str2ull("18446744073709551616", 20, &v));
    CHECK(!util_str2ull("-1", 2, &v));
    CHECK(util_str2ull("0", 1, &v) && v == 0);
    CHECK(!util_str2ull("01", 2, &v));
}

static void
test_ll2str(void)
{
    static const long long vals[] = {0,   1,     9,          10,        99,        100,          -1,
                                     -10, 12345, -987654321, LLONG_MAX, LLONG_MIN, LLONG_MIN + 1};
    char buf[UTIL_LL_STR_SIZE + 1], ref[32];
    int same = 0;

    for (size_t i = 0; i < ARRAY_LEN(vals); i++) {
        size_t n = util_ll2str(buf, vals[i]);
        int m = snprintf(ref, sizeof(ref), "%lld", vals[i]);
        same += n == (size_t)m && memcmp(buf, ref, n) == 0;
    }
    CHECK_INT(same, ARRAY_LEN(vals));

    /* random round trips through both directions */
    srandom(11);
    same = 0;
    for (int i = 0; i < 100000; i++) {
        long long v = (long long)((unsigned long long)random() << 33 ^
                                  (unsigned long long)random() << 2 ^ (unsigned long long)random());
        v >>= random() % 63;
        size_t n = util_ll2str(buf, v);
        int m = snprintf(ref, sizeof(ref), "%lld", v);
        long long back;
        same +=
            n == (size_t)m && memcmp(buf, ref, n) == 0 && util_str2ll(buf, n, &back) && back == v;
    }
    CHECK_INT(same, 100000);

    size_t n = util_ull2str(buf, ULLONG_MAX);
    CHECK_MEM(buf, n, "18446744073709551615");
}

/* -------------------------------------------------------- long doubles */

/* INCRBYFLOAT: parse both, add as long doubles, print as redis does. */
static bool
incrbyfloat(const char *a, const char *b, const char *want)
{
    long double x, y;
    char out[UTIL_LD_STR_SIZE];

    if (!util_str2ld(a, strlen(a), &x) || !util_str2ld(b, strlen(b), &y)) {
        return false;
    }
    size_t n = util_ld2str(out, sizeof(out), x + y);
    if (n != strlen(want) || strcmp(out, want) != 0) {
        fprintf(stderr, "  incrbyfloat %s %s: got \"%s\", want \"%s\"\n", a, b, out, want);
        return false;
    }
    return true;
}

static void
test_incrbyfloat_output(void)
{
    /* redis-server 7.0: SET k a; INCRBYFLOAT k b */
    CHECK(incrbyfloat("10.5", "0.1", "10.6"));
    CHECK(incrbyfloat("1.5", "1.5", "3"));
    CHECK(incrbyfloat("17179869184", "1.5", "17179869185.5"));
    CHECK(incrbyfloat("5.0e3", "2.0e2", "5200"));
    CHECK(incrbyfloat("-0.0", "0", "0"));
    CHECK(incrbyfloat("0", "1e-17", "0.00000000000000001"));
    CHECK(incrbyfloat("1", "1e20", "100000000000000000000"));
    CHECK(incrbyfloat("3", "-5", "-2"));
}

static void
test_ld2str_edges(void)
{
    char out[UTIL_LD_STR_SIZE];

    CHECK(util_ld2str(out, sizeof(out), (long double)INFINITY) == 3 && strcmp(out, "inf") == 0);
    CHECK(util_ld2str(out, sizeof(out), -(long double)INFINITY) == 4 && strcmp(out, "-inf") == 0);
    CHECK(util_ld2str(out, sizeof(out), -0.0L) == 1 && strcmp(out, "0") == 0);
    CHECK(util_ld2str(out, 4, 12345.0L) == 0); /* does not fit: 0, not a truncation */
}

static bool
ld_ok(const char *s, long double want)
{
    long double v;
    return util_str2ld(s, strlen(s), &v) && v == want;
}

static bool
ld_bad(const char *s)
{
    long double v;
    return !util_str2ld(s, strlen(s), &v);
}

static void
test_str2ld(void)
{
    CHECK(ld_ok("10.5", 10.5L));
    CHECK(ld_ok("-3", -3.0L));
    CHECK(ld_ok("1e3", 1000.0L));
    CHECK(ld_ok(".5", 0.5L));
    CHECK(ld_ok("inf", (long double)INFINITY)); /* string2ld takes it; INCRBYFLOAT rejects later */
    CHECK(ld_bad(""));
    CHECK(ld_bad(" 1"));
    CHECK(ld_bad("1 "));
    CHECK(ld_bad("1x"));
    CHECK(ld_bad("nan"));
    CHECK(ld_bad("1e99999")); /* overflow */
    long double v;
    CHECK(util_str2ld("2.5xyz", 3, &v) && v == 2.5L); /* only len bytes */
}

static void
test_doubles(void)
{
    char out[64];
    double d;

    CHECK(util_d2str(out, sizeof(out), 1.5) == 3 && strcmp(out, "1.5") == 0);
    CHECK(util_d2str(out, sizeof(out), -2.25) == 5 && strcmp(out, "-2.25") == 0);
    CHECK(util_d2str(out, sizeof(out), INFINITY) == 3 && strcmp(out, "inf") == 0);
    CHECK(util_d2str(out, sizeof(out), -INFINITY) == 4 && strcmp(out, "-inf") == 0);
    CHECK(util_d2str(out, sizeof(out), NAN) == 3 && strcmp(out, "nan") == 0);
    CHECK(util_d2str(out, sizeof(out), 0.1) == 19 && strcmp(out, "0.10000000000000001") == 0);
    CHECK(util_d2str(out, 3, 1234.0) == 0);
    CHECK(util_str2d("1.5", 3, &d) && d == 1.5);
    CHECK(!util_str2d(" 1.5", 4, &d));
    CHECK(!util_str2d("nan", 3, &d));
    CHECK(!util_str2d("", 0, &d));
}

/* -------------------------------------------------------------- memory */

static bool
mem_ok(const char *s, unsigned long long want)
{
    unsigned long long v = want + 1;
    bool ok = util_str2mem(s, &v) && v == want;
    if (!ok) {
        fprintf(stderr, "  util_str2mem(\"%s\"): want %llu\n", s, want);
    }
    return ok;
}

static bool
mem_bad(const char *s)
{
    unsigned long long v;
    return !util_str2mem(s, &v);
}

static void
test_str2mem(void)
{
    CHECK(mem_ok("0", 0));
    CHECK(mem_ok("100", 100));
    CHECK(mem_ok("1b", 1));
    CHECK(mem_ok("1k", 1000));
    CHECK(mem_ok("1kb", 1024));
    CHECK(mem_ok("1K", 1000));
    CHECK(mem_ok("1KB", 1024));
    CHECK(mem_ok("1kB", 1024));
    CHECK(mem_ok("3m", 3000000));
    CHECK(mem_ok("2mb", 2ULL << 20));
    CHECK(mem_ok("1g", 1000000000ULL));
    CHECK(mem_ok("1gb", 1ULL << 30));
    CHECK(mem_ok("1GB", 1ULL << 30));
    CHECK(mem_ok("16gb", 16ULL << 30));
    CHECK(mem_ok("18446744073709551615", ULLONG_MAX));
    /* redis: CONFIG SET maxmemory 0100mb gives 104857600 (memtoull uses
     * strtoull on the digits, which takes leading zeros) */
    CHECK(mem_ok("0100mb", 100ULL << 20));
    CHECK(mem_bad("1x"));
    CHECK(mem_bad("1xb"));
    CHECK(mem_bad("-1"));
    CHECK(mem_bad("1 kb"));
    CHECK(mem_bad(" 1"));
    CHECK(mem_bad("1.5gb"));
    CHECK(mem_bad("18446744073709551615kb")); /* overflow */
    CHECK(mem_bad("99999999999999999999999"));
}

/* ---------------------------------------------------------- split args */

struct args {
    int n;
    char v[8][64];
};

static void
collect(void *ctx, char *arg, size_t len)
{
    struct args *a = ctx;
    if (a->n < 8 && len < 64) {
        memcpy(a->v[a->n], arg, len);
        a->v[a->n][len] = '\0';
    }
    a->n++;
}

/* Splits a copy of line (len bytes, may hold NULs); returns the count. */
static int
split(const char *line, size_t len, struct args *a)
{
    char buf[256];
    memcpy(buf, line, len);
    memset(a, 0, sizeof(*a));
    int rc = util_split_args(buf, len, collect, a);
    return rc >= 0 && rc != a->n ? -2 : rc; /* the count must match the calls */
}

#define SPLIT(lit, a) split(lit, sizeof(lit) - 1, a)

static void
test_split_plain(void)
{
    struct args a;

    CHECK(SPLIT("set foo bar", &a) == 3 && strcmp(a.v[0], "set") == 0 &&
          strcmp(a.v[1], "foo") == 0 && strcmp(a.v[2], "bar") == 0);
    CHECK(SPLIT("  a \t b  ", &a) == 2 && strcmp(a.v[0], "a") == 0 && strcmp(a.v[1], "b") == 0);
    CHECK(SPLIT("", &a) == 0);
    CHECK(SPLIT("   ", &a) == 0);
    CHECK(SPLIT("a\0b c", &a) == 1 && strcmp(a.v[0], "a") == 0); /* NUL ends the line */
}

static void
test_split_quotes(void)
{
    struct args a;

    CHECK(SPLIT("\"a b\" c", &a) == 2 && strcmp(a.v[0], "a b") == 0 && strcmp(a.v[1], "c") == 0);
    CHECK(SPLIT("\"\"", &a) == 1 && a.v[0][0] == '\0');
    CHECK(SPLIT("''", &a) == 1 && a.v[0][0] == '\0');
    CHECK(SPLIT("\"\\x41\\x7a\\n\\r\\t\\b\\a\"", &a) == 1 && strcmp(a.v[0], "Az\n\r\t\b\a") == 0);
    CHECK(SPLIT("\"\\xZZ\"", &a) == 1 && strcmp(a.v[0], "xZZ") == 0); /* not hex: \x is x */
    CHECK(SPLIT("\"a\\\\b\\\"c\"", &a) == 1 && strcmp(a.v[0], "a\\b\"c") == 0);
    CHECK(SPLIT("'it\\'s' 'a\\nb'", &a) == 2 && strcmp(a.v[0], "it's") == 0 &&
          strcmp(a.v[1], "a\\nb") == 0); /* single quotes only unescape \' */
    CHECK(SPLIT("ab\"cd\"", &a) == 1 && strcmp(a.v[0], "abcd") == 0);
}

static void
test_split_unbalanced(void)
{
    struct args a;

    CHECK(SPLIT("\"abc", &a) == -1);
    CHECK(SPLIT("'abc", &a) == -1);
    CHECK(SPLIT("\"abc\"def", &a) == -1); /* closing quote must be followed by a blank */
    CHECK(SPLIT("'abc'def", &a) == -1);
    CHECK(SPLIT("set \"a", &a) == -1);
    CHECK(SPLIT("\"a\\\"", &a) == -1); /* the escaped quote does not close */
}

/* ---------------------------------------------------------------- glob */

static bool
glob(const char *pat, const char *s)
{
    return util_glob_match(pat, strlen(pat), s, strlen(s), false);
}

static bool
globi(const char *pat, const char *s)
{
    return util_glob_match(pat, strlen(pat), s, strlen(s), true);
}

static void
test_glob_basic(void)
{
    CHECK(glob("*", "anything"));
    CHECK(glob("*", ""));
    CHECK(glob("", ""));
    CHECK(!glob("", "a"));
    CHECK(glob("hello", "hello"));
    CHECK(!glob("hello", "hell"));
    CHECK(!glob("hell", "hello"));
    CHECK(glob("h?llo", "hello"));
    CHECK(glob("h?llo", "hallo"));
    CHECK(!glob("h?llo", "hllo"));
    CHECK(glob("h*llo", "hllo"));
    CHECK(glob("h*llo", "heeeello"));
    CHECK(glob("a*b*c", "aXbYc"));
    CHECK(!glob("a*b*c", "aXbY"));
    CHECK(glob("*a", "ba"));
    CHECK(glob("a**", "a"));
    CHECK(glob("user:*:name", "user:1000:name"));
    CHECK(!glob("user:*:name", "user:1000:mail"));
}

static void
test_glob_classes(void)
{
    CHECK(glob("h[ae]llo", "hello"));
    CHECK(glob("h[ae]llo", "hallo"));
    CHECK(!glob("h[ae]llo", "hillo"));
    CHECK(glob("h[^e]llo", "hallo"));
    CHECK(!glob("h[^e]llo", "hello"));
    CHECK(glob("h[a-b]llo", "hbllo"));
    CHECK(!glob("h[a-b]llo", "hcllo"));
    CHECK(glob("h[b-a]llo", "hallo")); /* reversed range */
    CHECK(glob("[0-9][0-9]", "42"));
    CHECK(!glob("[0-9][0-9]", "4x"));
    CHECK(glob("[\\]]", "]")); /* escaped ']' inside a class */
    CHECK(glob("[-a]", "-"));  /* '-' first is literal */
    CHECK(glob("a[bc", "ab")); /* unterminated class: the end closes it */
    CHECK(!glob("a[bc", "ad"));
}

static void
test_glob_escapes_and_case(void)
{
    CHECK(glob("h\\*llo", "h*llo"));
    CHECK(!glob("h\\*llo", "hello"));
    CHECK(glob("h\\?llo", "h?llo"));
    CHECK(!glob("h\\?llo", "hallo"));
    CHECK(!glob("a\\", "a")); /* a trailing backslash is a literal backslash */
    CHECK(glob("a\\", "a\\"));
    CHECK(!glob("HELLO", "hello"));
    CHECK(globi("HELLO", "hello"));
    CHECK(globi("h[A-C]llo", "hbllo"));
    CHECK(globi("H[^E]LLO", "hallo"));
    CHECK(!globi("H[^E]LLO", "hello"));
}

/* Runs glob(pat, s) with a time limit: a pattern that takes exponential
 * time must fail the check, not hang the suite.  *finished says whether the
 * match returned. */
static sigjmp_buf glob_deadline;

static void
on_glob_deadline(int sig)
{
    (void)sig;
    siglongjmp(glob_deadline, 1);
}

static bool
glob_within(const char *pat, const char *s, int seconds, bool *finished)
{
    struct sigaction sa = {.sa_handler = on_glob_deadline}, old;
    struct itimerval limit = {.it_value = {seconds, 0}}, off = {{0, 0}, {0, 0}};
    volatile bool matched = false;

    *finished = false;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, &old);
    if (sigsetjmp(glob_deadline, 1) == 0) {
        setitimer(ITIMER_REAL, &limit, NULL);
        matched = glob(pat, s);
        *finished = true;
    }
    setitimer(ITIMER_REAL, &off, NULL);
    sigaction(SIGALRM, &old, NULL);
    return matched;
}

static void
test_glob_abusive_patterns(void)
{
    /* redis keyspace.tcl "Regression for pattern matching long nested
     * loops" and "... very long nested loops" (the fix of CVE-2022-36021):
     * KEYS with such a pattern answers at once in redis 7.0.15; here it must
     * too, or one client stalls the node. */
    char key[50001], pat[100001];
    bool finished;

    memset(key, 'a', 40);
    key[40] = '\0';
    for (int i = 0; i < 20; i++) {
        memcpy(pat + 2 * i, "a*", 2);
    }
    strcpy(pat + 40, "b");
    CHECK(!glob_within(pat, key, 2, &finished));
    CHECK(finished);

    memset(key, 'a', 50000);
    key[50000] = '\0';
    for (int i = 0; i < 50000; i++) {
        memcpy(pat + 2 * i, "*?", 2);
    }
    pat[100000] = '\0';
    CHECK(!glob_within(pat, key, 2, &finished));
    CHECK(finished);
}

static void
test_eq_nocase(void)
{
    CHECK(util_eq_nocase("GeT", 3, "get"));
    CHECK(!util_eq_nocase("GeT", 2, "get"));
    CHECK(!util_eq_nocase("gets", 4, "get"));
}

TEST_MAIN(test_str2ll_accepts, test_str2ll_rejects, test_str2ull, test_ll2str,
          test_incrbyfloat_output, test_ld2str_edges, test_str2ld, test_doubles, test_str2mem,
          test_split_plain, test_split_quotes, test_split_unbalanced, test_glob_basic,
          test_glob_classes, test_glob_escapes_and_case, test_glob_abusive_patterns, test_eq_nocase)
