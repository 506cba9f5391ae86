/*
 * routes.c -- see routes.h.
 */
#include "loader/routes.h"

#include "common/defs.h"
#include "common/mem.h"
#include "common/util.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Whether sql refers to $n (and not only to $n0, $n1...). */
static bool
uses_param(const char *sql, char n)
{
    for (const char *p = strchr(sql, '$'); p != NULL; p = strchr(p + 1, '$')) {
        if (p[1] == n && !(p[2] >= '0' && p[2] <= '9')) {
            return true;
        }
    }
    return false;
}

/* The statement is prepared with one parameter: a $1 it lacks, or a $2 it
 * has, would fail at prepare time on every connection; say so at startup. */
static int
check_sql(const char *sql, char *err, size_t errlen)
{
    if (sql[0] == '\0') {
        snprintf(err, errlen, "route SQL is empty");
        return SC_ERR;
    }
    if (!uses_param(sql, '1')) {
        snprintf(err, errlen, "route SQL must use $1 (the rest of the key)");
        return SC_ERR;
    }
    for (char n = '2'; n <= '9'; n++) {
        if (uses_param(sql, n)) {
            snprintf(err, errlen, "route SQL may use only $1, not $%c", n);
            return SC_ERR;
        }
    }
    return SC_OK;
}

static int
check_prefix(const struct route_table *t, const char *prefix, char *err, size_t errlen)
{
    size_t n = strlen(prefix);

    if (n == 0 || n > ROUTE_PREFIX_MAX) {
        snprintf(err, errlen, "route prefix must be 1 to %d bytes", ROUTE_PREFIX_MAX);
        return SC_ERR;
    }
    for (int i = 0; i < t->n; i++) {
        if (strcmp(t->routes[i].prefix, prefix) == 0) {
            snprintf(err, errlen, "duplicate route prefix '%s'", prefix);
            return SC_ERR;
        }
    }
    return SC_OK;
}

int
route_add(struct route_table *t, int argc, char **argv, char *err, size_t errlen)
{
    long long ttl;

    if (argc != 4 || strcasecmp(argv[2], "ttl") != 0) {
        snprintf(err, errlen, "route takes PREFIX \"SQL\" ttl SECONDS");
        return SC_ERR;
    }
    if (!util_str2ll(argv[3], strlen(argv[3]), &ttl) || ttl < 1 || ttl > ROUTE_TTL_MAX) {
        snprintf(err, errlen, "route ttl must be between 1 and %lld seconds", ROUTE_TTL_MAX);
        return SC_ERR;
    }
    if (t->defaults) {
        route_table_free(t);
    }
    if (t->n == ROUTE_MAX) {
        snprintf(err, errlen, "at most %d routes", ROUTE_MAX);
        return SC_ERR;
    }
    if (check_prefix(t, argv[0], err, errlen) != SC_OK ||
        check_sql(argv[1], err, errlen) != SC_OK) {
        return SC_ERR;
    }
    t->routes = mem_realloc(t->routes, (size_t)(t->n + 1) * sizeof(*t->routes));
    t->routes[t->n] = (struct route){.prefix = mem_strdup(argv[0]),
                                     .plen = strlen(argv[0]),
                                     .sql = mem_strdup(argv[1]),
                                     .ttl = (uint32_t)ttl,
                                     .id = t->n};
    t->n++;
    return SC_OK;
}

struct route *
route_match(const struct route_table *t, const char *key, size_t len)
{
    struct route *best = NULL;

    for (int i = 0; i < t->n; i++) {
        struct route *r = &t->routes[i];
        if (r->plen <= len && memcmp(key, r->prefix, r->plen) == 0 &&
            (best == NULL || r->plen > best->plen)) {
            best = r;
        }
    }
    return best;
}

/* A bounded writer: what does not fit is dropped, the text stays terminated. */
struct text {
    char *buf;
    size_t cap, len;
};

static void
put_char(struct text *o, char c)
{
    if (o->len + 1 < o->cap) {
        o->buf[o->len++] = c;
        o->buf[o->len] = '\0';
    }
}

static void
put_str(struct text *o, const char *s)
{
    for (; *s != '\0'; s++) {
        put_char(o, *s);
    }
}

/* s as a config-file word: quoted, with " and \ escaped. */
static void
put_quoted(struct text *o, const char *s)
{
    put_char(o, '"');
    for (; *s != '\0'; s++) {
        if (*s == '"' || *s == '\\') {
            put_char(o, '\\');
        }
        put_char(o, *s);
    }
    put_char(o, '"');
}

size_t
route_describe(const struct route_table *t, char *buf, size_t len)
{
    struct text o = {buf, len, 0};
    char ttl[32];

    if (len > 0) {
        buf[0] = '\0';
    }
    for (int i = 0; i < t->n; i++) {
        const struct route *r = &t->routes[i];
        put_str(&o, i > 0 ? ", " : "");
        put_quoted(&o, r->prefix);
        put_char(&o, ' ');
        put_quoted(&o, r->sql);
        snprintf(ttl, sizeof(ttl), " ttl %u", r->ttl);
        put_str(&o, ttl);
    }
    return o.len;
}

void
route_table_free(struct route_table *t)
{
    for (int i = 0; i < t->n; i++) {
        mem_free(t->routes[i].prefix);
        mem_free(t->routes[i].sql);
    }
    mem_free(t->routes);
    t->routes = NULL;
    t->n = 0;
    t->defaults = false;
}
