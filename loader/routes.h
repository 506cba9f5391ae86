/*
 * routes.h -- which SQL loads which keys.
 *
 * A route maps a key prefix to one SQL statement with one parameter, $1,
 * which is the rest of the key:
 *
 *     route koi: "SELECT row_to_json(k)::text FROM koi k WHERE kepid = $1::bigint" ttl 300
 *
 * loads koi:10797460 by running the statement with $1 = '10797460'.  The
 * statement is prepared once per database connection and the key travels
 * as a parameter, never pasted into SQL, so any bytes in a key are just a
 * value.  The first column of the first row is the value; no row (or a
 * NULL) is NOT_FOUND.  ttl is how long the caller may cache the value.
 *
 * The longest matching prefix wins.  Route i is prepared as statement
 * "sc_route_<i>".  The table owns its routes' strings.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ROUTE_PREFIX_MAX 256
#define ROUTE_MAX 256
#define ROUTE_TTL_MAX 2147483647LL

struct route {
    char *prefix;
    size_t plen;
    char *sql;
    uint32_t ttl;      /* seconds the value may be cached, >= 1 */
    int id;            /* index in the table: the prepared statement's name */
    uint32_t inflight; /* queries of this route running now: the bulkhead's count */
};

struct route_table {
    struct route *routes;
    int n;
    bool defaults; /* holds only the built-in route: the first route directive replaces it */
};

/* Adds the route of a `route PREFIX "SQL" ttl SECONDS` directive (argv: the
 * words after "route").  SC_ERR with the reason in err. */
int route_add(struct route_table *t, int argc, char **argv, char *err, size_t errlen);
/* The route whose prefix is the longest one key starts with; NULL if none.
 * The rest of the key ($1) starts at key + route->plen. */
struct route *route_match(const struct route_table *t, const char *key, size_t len);
/* Every route as config lines (CONFIG GET, --help); returns the length. */
size_t route_describe(const struct route_table *t, char *buf, size_t len);
/* Frees every route; the table is empty afterwards. */
void route_table_free(struct route_table *t);
