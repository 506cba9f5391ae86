/*
 * cli_topo.c -- see cli_topo.h.
 */
#include "cluster-tools/cli_topo.h"

#include "common/mem.h"
#include "common/sbuf.h"
#include "common/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TOPO_LINE_MAX (64 * 1024) /* the proxy's config line limit */
#define TOPO_LINE_ARGS 64

static const char *const mode_names[] = {"central", "partitioned", "replicated"};

const char *
topo_mode_name(int mode)
{
    return mode >= 0 && mode < (int)ARRAY_LEN(mode_names) ? mode_names[mode] : "unknown";
}

int
topo_mode_parse(const char *name)
{
    for (size_t i = 0; i < ARRAY_LEN(mode_names); i++) {
        if (strcasecmp(name, mode_names[i]) == 0) {
            return (int)i;
        }
    }
    return -1;
}

void
topo_init(struct topo *t)
{
    t->mode = TOPO_CENTRAL;
    t->shards = NULL;
    t->nshards = 0;
}

void
topo_free(struct topo *t)
{
    mem_free(t->shards);
    topo_init(t);
}

struct topo_shard *
topo_add_shard(struct topo *t, int id)
{
    if (t->nshards == TOPO_SHARDS_MAX) {
        return NULL;
    }
    t->shards = mem_realloc(t->shards, (size_t)(t->nshards + 1) * sizeof(*t->shards));
    struct topo_shard *s = &t->shards[t->nshards++];
    memset(s, 0, sizeof(*s));
    s->id = id;
    return s;
}

int
topo_add_member(struct topo_shard *s, const char *addr, const char *state, struct cli_err *err)
{
    char host[NET_ADDR_MAX];
    int port;

    if (!net_parse_hostport(addr, host, sizeof(host), &port) || port < 1 || port > 65535 ||
        host[0] == '\0' || strlen(addr) >= NET_ADDR_MAX) {
        return cli_fail(err, "'%s' is not HOST:PORT", addr);
    }
    if (s->nmembers == TOPO_MEMBERS_MAX) {
        return cli_fail(err, "a shard has at most %d nodes", TOPO_MEMBERS_MAX);
    }
    struct topo_member *m = &s->members[s->nmembers++];
    snprintf(m->addr, sizeof(m->addr), "%s", addr);
    snprintf(m->state, sizeof(m->state), "%s", state != NULL ? state : "");
    return SC_OK;
}

static int
check_unique(const char *const *addrs, int n, struct cli_err *err)
{
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < i; j++) {
            if (strcmp(addrs[i], addrs[j]) == 0) {
                return cli_fail(err, "node %s is listed twice", addrs[i]);
            }
        }
    }
    return SC_OK;
}

static int
create_single(struct topo *t, const char *const *addrs, int n, struct cli_err *err)
{
    struct topo_shard *s = topo_add_shard(t, 0);

    slots_add_range(&s->slots, 0, SLOT_COUNT - 1);
    for (int i = 0; i < n; i++) {
        if (topo_add_member(s, addrs[i], NULL, err) != SC_OK) {
            return SC_ERR;
        }
    }
    return SC_OK;
}

static int
create_partitioned(struct topo *t, const char *const *addrs, int n, int replicas,
                   struct cli_err *err)
{
    int group = replicas + 1;

    if (n % group != 0) {
        return cli_fail(err,
                        "--replicas %d makes shards of %d nodes, but %d address(es) do not "
                        "divide into them",
                        replicas, group, n);
    }
    int nshards = n / group;
    if (nshards > TOPO_SHARDS_MAX) {
        return cli_fail(err, "at most %d shards", TOPO_SHARDS_MAX);
    }
    for (int i = 0; i < nshards; i++) {
        struct topo_shard *s = topo_add_shard(t, i);
        unsigned lo, hi;
        slots_even_part(i, nshards, &lo, &hi);
        slots_add_range(&s->slots, lo, hi);
        for (int j = 0; j < group; j++) {
            if (topo_add_member(s, addrs[i * group + j], NULL, err) != SC_OK) {
                return SC_ERR;
            }
        }
    }
    return SC_OK;
}

int
topo_create(struct topo *t, int mode, const char *const *addrs, int n, int replicas,
            struct cli_err *err)
{
    topo_free(t);
    t->mode = mode;
    if (n == 0) {
        return cli_fail(err, "no node addresses given");
    }
    if (check_unique(addrs, n, err) != SC_OK) {
        return SC_ERR;
    }
    if (mode != TOPO_PARTITIONED && replicas > 0) {
        return cli_fail(err, "--replicas is for mode partitioned (replicated: every node is one)");
    }
    if (mode == TOPO_CENTRAL && n != 1) {
        return cli_fail(err, "mode central takes one node, got %d", n);
    }
    if (n > TOPO_MEMBERS_MAX && mode != TOPO_PARTITIONED) {
        return cli_fail(err, "mode %s takes at most %d nodes", topo_mode_name(mode),
                        TOPO_MEMBERS_MAX);
    }
    if (replicas + 1 > TOPO_MEMBERS_MAX) {
        return cli_fail(err, "a shard has at most %d nodes", TOPO_MEMBERS_MAX);
    }
    return mode == TOPO_PARTITIONED ? create_partitioned(t, addrs, n, replicas, err)
                                    : create_single(t, addrs, n, err);
}

/* ---- config files ---- */

struct words {
    char *v[TOPO_LINE_ARGS];
    size_t len[TOPO_LINE_ARGS];
    int n;
};

static void
add_word(void *ctx, char *arg, size_t len)
{
    struct words *w = ctx;

    if (w->n < TOPO_LINE_ARGS) {
        w->v[w->n] = arg;
        w->len[w->n++] = len;
    }
}

/* Splits a config line in place as the servers do (util_split_args);
 * SC_ERR on unbalanced quotes.  Comment and blank lines give zero words. */
static int
split_line(char *line, struct words *w)
{
    char *p = line + strspn(line, " \t");

    w->n = 0;
    if (*p == '#') {
        return SC_OK;
    }
    if (util_split_args(p, strlen(p), add_word, w) < 0) {
        return SC_ERR;
    }
    /* Each word ends on a separator or the line's end: terminating them
     * is safe only now that the splitter is done reading. */
    for (int i = 0; i < w->n; i++) {
        w->v[i][w->len[i]] = '\0';
    }
    return SC_OK;
}

static bool
is_topology_directive(const char *word)
{
    return strcasecmp(word, "mode") == 0 || strcasecmp(word, "node") == 0 ||
           strcasecmp(word, "shard") == 0;
}

/* What the file's lines say before they become shards. */
struct config_lines {
    int mode;
    struct topo single; /* node lines, as one shard */
};

static int
apply_line(struct topo *t, struct config_lines *c, struct words *w, struct cli_err *err)
{
    const char *d = w->v[0];

    if (strcasecmp(d, "mode") == 0) {
        if (w->n != 2 || (c->mode = topo_mode_parse(w->v[1])) < 0) {
            return cli_fail(err, "mode takes central, partitioned or replicated");
        }
    } else if (strcasecmp(d, "node") == 0) {
        struct topo_shard *s =
            c->single.nshards > 0 ? &c->single.shards[0] : topo_add_shard(&c->single, 0);
        for (int i = 1; i < w->n; i++) {
            if (topo_add_member(s, w->v[i], NULL, err) != SC_OK) {
                return SC_ERR;
            }
        }
    } else if (strcasecmp(d, "shard") == 0) {
        char why[200];
        struct topo_shard *s = topo_add_shard(t, t->nshards);
        if (w->n < 3 || s == NULL) {
            return cli_fail(err, "shard takes SLOTS PRIMARY [REPLICA...]");
        }
        if (slots_parse(&s->slots, w->v[1], why, sizeof(why)) != SC_OK) {
            return cli_fail(err, "%s", why);
        }
        for (int i = 2; i < w->n; i++) {
            if (topo_add_member(s, w->v[i], NULL, err) != SC_OK) {
                return SC_ERR;
            }
        }
    }
    return SC_OK;
}

/* Central and replicated maps are their node lines; partitioned maps are
 * their shard lines, as the proxy's router reads them. */
static void
finish_config(struct topo *t, struct config_lines *c)
{
    t->mode = c->mode;
    if (c->mode != TOPO_PARTITIONED) {
        topo_free(t);
        t->mode = c->mode;
        if (c->single.nshards > 0) {
            *topo_add_shard(t, 0) = c->single.shards[0];
            slots_add_range(&t->shards[0].slots, 0, SLOT_COUNT - 1);
        }
    }
    topo_free(&c->single);
}

int
topo_load_config(struct topo *t, const char *path, struct cli_err *err)
{
    struct config_lines c = {.mode = TOPO_CENTRAL};
    char *line = mem_alloc(TOPO_LINE_MAX);
    int lineno = 0, rc = SC_OK;
    FILE *f = fopen(path, "r");

    topo_free(t);
    topo_init(&c.single);
    if (f == NULL) {
        mem_free(line);
        return cli_fail(err, "%s: %s", path, strerror(errno));
    }
    while (rc == SC_OK && fgets(line, TOPO_LINE_MAX, f) != NULL) {
        struct words w;
        lineno++;
        line[strcspn(line, "\r\n")] = '\0';
        if (split_line(line, &w) != SC_OK) {
            rc = cli_fail(err, "unbalanced quotes");
        } else if (w.n > 0 && is_topology_directive(w.v[0])) {
            rc = apply_line(t, &c, &w, err);
        }
        if (rc != SC_OK) {
            cli_wrap(err, "%s:%d", path, lineno);
        }
    }
    fclose(f);
    mem_free(line);
    finish_config(t, &c);
    return rc;
}

void
topo_write(const struct topo *t, struct sbuf *out)
{
    sbuf_printf(out, "mode %s\n", topo_mode_name(t->mode));
    for (int i = 0; i < t->nshards; i++) {
        const struct topo_shard *s = &t->shards[i];
        if (t->mode == TOPO_PARTITIONED) {
            sbuf_adds(out, "shard ");
            slots_format(&s->slots, out);
            for (int j = 0; j < s->nmembers; j++) {
                sbuf_printf(out, " %s", s->members[j].addr);
            }
            sbuf_adds(out, "\n");
            continue;
        }
        for (int j = 0; j < s->nmembers; j++) {
            sbuf_printf(out, "node %s\n", s->members[j].addr);
        }
    }
}

/* Appends base's lines except its mode/node/shard ones. */
static int
copy_base(const char *base, struct sbuf *out, struct cli_err *err)
{
    char *line = mem_alloc(TOPO_LINE_MAX);
    char *copy = mem_alloc(TOPO_LINE_MAX);
    FILE *f = fopen(base, "r");

    if (f == NULL) {
        mem_free(line);
        mem_free(copy);
        return cli_fail(err, "%s: %s", base, strerror(errno));
    }
    while (fgets(line, TOPO_LINE_MAX, f) != NULL) {
        struct words w;
        memcpy(copy, line, strlen(line) + 1);
        copy[strcspn(copy, "\r\n")] = '\0';
        if (split_line(copy, &w) == SC_OK && w.n > 0 && is_topology_directive(w.v[0])) {
            continue;
        }
        sbuf_adds(out, line);
        if (line[0] != '\0' && line[strlen(line) - 1] != '\n') {
            sbuf_adds(out, "\n");
        }
    }
    fclose(f);
    mem_free(line);
    mem_free(copy);
    return SC_OK;
}

int
topo_config_text(const struct topo *t, const char *base, struct sbuf *out, struct cli_err *err)
{
    if (base != NULL) {
        if (copy_base(base, out, err) != SC_OK) {
            return SC_ERR;
        }
        sbuf_adds(out, "\n");
    }
    sbuf_adds(out, "# The shard map (slotcache-cli create; PROXY CONFIG-REWRITE rewrites these "
                   "lines after a move).\n");
    topo_write(t, out);
    return SC_OK;
}

/* ---- lookups ---- */

static bool
port_matches(const char *addr, const char *port)
{
    const char *colon = strrchr(addr, ':');
    return colon != NULL && strcmp(colon + 1, port) == 0;
}

int
topo_find(const struct topo *t, const char *name, int *shard, int *member, struct cli_err *err)
{
    bool by_port = strchr(name, ':') == NULL;
    int found = 0;

    for (int i = 0; i < t->nshards; i++) {
        for (int j = 0; j < t->shards[i].nmembers; j++) {
            const char *addr = t->shards[i].members[j].addr;
            if (by_port ? port_matches(addr, name) : strcmp(addr, name) == 0) {
                *shard = i;
                *member = j;
                found++;
            }
        }
    }
    if (found == 1) {
        return SC_OK;
    }
    if (found > 1) {
        return cli_fail(err, "port %s is used by %d nodes: name one as HOST:PORT", name, found);
    }
    return cli_fail(err, "node %s is not in the shard map", name);
}

static bool
member_of(const struct topo_shard *s, const char *addr)
{
    for (int j = 0; j < s->nmembers; j++) {
        if (strcmp(s->members[j].addr, addr) == 0) {
            return true;
        }
    }
    return false;
}

int
topo_find_shard(const struct topo *t, const char *const *addrs, int n)
{
    for (int i = 0; i < t->nshards; i++) {
        const struct topo_shard *s = &t->shards[i];
        bool same = s->nmembers == n;
        for (int k = 0; same && k < n; k++) {
            same = member_of(s, addrs[k]);
        }
        if (same) {
            return i;
        }
    }
    return -1;
}

void
topo_coverage(const struct topo *t, struct slots *missing, struct slots *twice)
{
    struct slots seen;

    slots_clear(&seen);
    slots_clear(twice);
    for (int i = 0; i < t->nshards; i++) {
        struct slots both = seen;
        slots_intersect(&both, &t->shards[i].slots);
        slots_union(twice, &both);
        slots_union(&seen, &t->shards[i].slots);
    }
    slots_clear(missing);
    slots_add_range(missing, 0, SLOT_COUNT - 1);
    slots_minus(missing, &seen);
}

int
topo_node_count(const struct topo *t)
{
    int n = 0;

    for (int i = 0; i < t->nshards; i++) {
        n += t->shards[i].nmembers;
    }
    return n;
}
