/*
 * cmdtab.c -- see cmdtab.h.
 */
#include "proxy/cmdtab.h"

#include "common/defs.h"
#include "common/mem.h"
#include "common/util.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define CMDTAB_SIZE 1024 /* open addressing: over twice the rows */
#define CMDTAB_NAME_MAX 64

struct row {
    const char *name;
    int arity;
    const char *flags;
    int first, last, step;
};

static const struct row rows[] = {
#define CMDTAB_ROW(n, a, f, fk, lk, st) {n, a, f, fk, lk, st},
#include "proxy/cmdtab_redis.inc"
#undef CMDTAB_ROW
    /* The proxy's own command; its subcommands' flags say who may run them. */
    {"proxy", -2, "", 0, 0, 0},
    {"proxy|config-rewrite", 2, "admin", 0, 0, 0},
    {"proxy|migrate", -4, "admin", 0, 0, 0},
    {"proxy|migrations", 2, "", 0, 0, 0},
    {"proxy|nodes", 2, "", 0, 0, 0},
    {"proxy|reload", 2, "admin", 0, 0, 0},
    {"proxy|topology", 2, "", 0, 0, 0},
};

/* Routing the generated rows cannot say. */
static const struct {
    const char *name;
    enum pcmd_route route;
    int numkeys_pos;
    const char *why;
} routes[] = {
    {"ping", ROUTE_LOCAL, 0, NULL},
    {"echo", ROUTE_LOCAL, 0, NULL},
    {"quit", ROUTE_LOCAL, 0, NULL},
    {"auth", ROUTE_LOCAL, 0, NULL},
    {"hello", ROUTE_LOCAL, 0, NULL},
    {"select", ROUTE_LOCAL, 0, NULL},
    {"reset", ROUTE_LOCAL, 0, NULL},
    {"client", ROUTE_LOCAL, 0, NULL},
    {"cluster", ROUTE_LOCAL, 0, NULL},
    {"proxy", ROUTE_LOCAL, 0, NULL},
    {"multi", ROUTE_LOCAL, 0, NULL},
    {"exec", ROUTE_LOCAL, 0, NULL},
    {"discard", ROUTE_LOCAL, 0, NULL},
    {"readonly", ROUTE_LOCAL, 0, NULL},
    {"readwrite", ROUTE_LOCAL, 0, NULL},
    {"asking", ROUTE_LOCAL, 0, NULL},
    {"shutdown", ROUTE_LOCAL, 0, NULL},
    {"info", ROUTE_INFO, 0, NULL},
    {"mget", ROUTE_MGET, 0, NULL},
    {"mset", ROUTE_MSET, 0, NULL},
    {"del", ROUTE_KEYS_SUM, 0, NULL},
    {"unlink", ROUTE_KEYS_SUM, 0, NULL},
    {"exists", ROUTE_KEYS_SUM, 0, NULL},
    {"touch", ROUTE_KEYS_SUM, 0, NULL},
    {"dbsize", ROUTE_ALL_SUM, 0, NULL},
    {"flushall", ROUTE_ALL_OK, 0, NULL},
    {"flushdb", ROUTE_ALL_OK, 0, NULL},
    {"config|set", ROUTE_ALL_OK, 0, NULL},
    {"config|resetstat", ROUTE_ALL_OK, 0, NULL},
    {"keys", ROUTE_ALL_CONCAT, 0, NULL},
    {"scan", ROUTE_SCAN, 0, NULL},
    {"randomkey", ROUTE_RANDOMKEY, 0, NULL},
    {"eval", ROUTE_NUMKEYS, 2, NULL},
    {"evalsha", ROUTE_NUMKEYS, 2, NULL},
    {"eval_ro", ROUTE_NUMKEYS, 2, NULL},
    {"evalsha_ro", ROUTE_NUMKEYS, 2, NULL},
    {"fcall", ROUTE_NUMKEYS, 2, NULL},
    {"fcall_ro", ROUTE_NUMKEYS, 2, NULL},
    {"sintercard", ROUTE_NUMKEYS, 1, NULL},
    {"zinter", ROUTE_NUMKEYS, 1, NULL},
    {"zunion", ROUTE_NUMKEYS, 1, NULL},
    {"zdiff", ROUTE_NUMKEYS, 1, NULL},
    {"zintercard", ROUTE_NUMKEYS, 1, NULL},
    {"lmpop", ROUTE_NUMKEYS, 1, NULL},
    {"zmpop", ROUTE_NUMKEYS, 1, NULL},
    {"watch", ROUTE_REFUSE, 0, "WATCH needs a connection to one node for the whole transaction"},
    {"unwatch", ROUTE_LOCAL, 0, NULL},
    {"monitor", ROUTE_REFUSE, 0, "MONITOR would only see one node"},
    {"wait", ROUTE_REFUSE, 0, "WAIT is about replication, which the proxy does itself"},
    {"subscribe", ROUTE_REFUSE, 0, "Pub/Sub is not proxied"},
    {"psubscribe", ROUTE_REFUSE, 0, "Pub/Sub is not proxied"},
    {"ssubscribe", ROUTE_REFUSE, 0, "Pub/Sub is not proxied"},
    {"unsubscribe", ROUTE_REFUSE, 0, "Pub/Sub is not proxied"},
    {"punsubscribe", ROUTE_REFUSE, 0, "Pub/Sub is not proxied"},
    {"sunsubscribe", ROUTE_REFUSE, 0, "Pub/Sub is not proxied"},
    {"publish", ROUTE_REFUSE, 0, "Pub/Sub is not proxied"},
    {"spublish", ROUTE_REFUSE, 0, "Pub/Sub is not proxied"},
    {"pubsub", ROUTE_REFUSE, 0, "Pub/Sub is not proxied"},
    {"sync", ROUTE_REFUSE, 0, "replication is done by the proxy"},
    {"psync", ROUTE_REFUSE, 0, "replication is done by the proxy"},
    {"replicaof", ROUTE_REFUSE, 0, "replication is done by the proxy"},
    {"slaveof", ROUTE_REFUSE, 0, "replication is done by the proxy"},
    {"failover", ROUTE_REFUSE, 0, "replication is done by the proxy"},
    {"migrate", ROUTE_REFUSE, 0, "use slotcache-cli reshard to move keys"},
    {"move", ROUTE_REFUSE, 0, "there is one database"},
    {"swapdb", ROUTE_REFUSE, 0, "there is one database"},
    {"debug", ROUTE_REFUSE, 0, "DEBUG would only reach one node"},
    {"script", ROUTE_REFUSE, 0, "scripts are not managed through the proxy"},
    {"function", ROUTE_REFUSE, 0, "functions are not managed through the proxy"},
    {"acl", ROUTE_LOCAL, 0, NULL},
    {"save", ROUTE_REFUSE, 0, "persistence is per node"},
    {"bgsave", ROUTE_REFUSE, 0, "persistence is per node"},
    {"bgrewriteaof", ROUTE_REFUSE, 0, "persistence is per node"},
    {"xread", ROUTE_REFUSE, 0, "XREAD's keys follow STREAMS; not proxied"},
    {"xreadgroup", ROUTE_REFUSE, 0, "XREADGROUP's keys follow STREAMS; not proxied"},
};

static struct pcmd cmds[ARRAY_LEN(rows)];
static struct pcmd *index_slots[CMDTAB_SIZE];


static bool
has_flag(const char *flags, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = flags; (p = strstr(p, word)) != NULL; p += n) {
        if ((p == flags || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0')) {
            return true;
        }
    }
    return false;
}

static uint32_t
parse_flags(const char *f)
{
    static const struct {
        const char *word;
        uint32_t bit;
    } map[] = {
        {"write", PCMD_WRITE},       {"readonly", PCMD_READONLY}, {"denyoom", PCMD_DENYOOM},
        {"admin", PCMD_ADMIN},       {"blocking", PCMD_BLOCKING}, {"pubsub", PCMD_PUBSUB},
        {"movablekeys", PCMD_MOVABLE}, {"no_auth", PCMD_NOAUTH}, {"@dangerous", PCMD_DANGEROUS},
    };
    uint32_t bits = 0;
    for (size_t i = 0; i < ARRAY_LEN(map); i++) {
        if (has_flag(f, map[i].word)) {
            bits |= map[i].bit;
        }
    }
    return bits;
}

static void
index_add(struct pcmd *c)
{
    uint32_t i = util_nocase_hash(c->name, strlen(c->name)) & (CMDTAB_SIZE - 1);
    while (index_slots[i] != NULL) {
        i = (i + 1) & (CMDTAB_SIZE - 1);
    }
    index_slots[i] = c;
}

static const struct pcmd *
find_counted(const char *s, size_t len)
{
    if (len == 0 || len > CMDTAB_NAME_MAX) {
        return NULL;
    }
    uint32_t i = util_nocase_hash(s, len) & (CMDTAB_SIZE - 1);
    while (index_slots[i] != NULL) {
        if (util_nocase_eq_lower(index_slots[i]->name, s, len)) {
            return index_slots[i];
        }
        i = (i + 1) & (CMDTAB_SIZE - 1);
    }
    return NULL;
}

const struct pcmd *
cmdtab_find(const char *name)
{
    return find_counted(name, strlen(name));
}

void
cmdtab_setup(void)
{
    for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
        struct pcmd *c = &cmds[i];
        c->name = rows[i].name;
        c->arity = rows[i].arity;
        c->flags = parse_flags(rows[i].flags);
        c->first_key = (int8_t)rows[i].first;
        c->last_key = (int8_t)rows[i].last;
        c->key_step = (int8_t)rows[i].step;
        c->route = c->first_key > 0 ? ROUTE_KEY : ROUTE_KEYLESS;
        if (c->flags & (PCMD_BLOCKING | PCMD_PUBSUB)) {
            c->route = ROUTE_REFUSE;
            c->refusal = c->flags & PCMD_BLOCKING ? "blocking commands are not proxied"
                                                  : "Pub/Sub is not proxied";
        }
        index_add(c);
    }
    for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
        const char *bar = strchr(cmds[i].name, '|');
        if (bar != NULL) {
            char parent[CMDTAB_NAME_MAX];
            snprintf(parent, sizeof(parent), "%.*s", (int)(bar - cmds[i].name), cmds[i].name);
            struct pcmd *p = (struct pcmd *)cmdtab_find(parent);
            if (p != NULL) {
                p->flags |= PCMD_CONTAINER;
            }
        }
    }
    for (size_t i = 0; i < ARRAY_LEN(routes); i++) {
        struct pcmd *c = (struct pcmd *)cmdtab_find(routes[i].name);
        sc_assert(c != NULL);
        c->route = (uint8_t)routes[i].route;
        c->numkeys_pos = (int8_t)routes[i].numkeys_pos;
        c->refusal = routes[i].why;
    }
}

void
cmdtab_teardown(void)
{
    memset(index_slots, 0, sizeof(index_slots));
}

const struct pcmd *
cmdtab_lookup(const struct bstr *argv, int argc)
{
    const struct pcmd *c = find_counted(argv[0].data, argv[0].len);

    if (c == NULL || !(c->flags & PCMD_CONTAINER) || argc < 2 || c->route == ROUTE_LOCAL) {
        return c;
    }
    const struct pcmd *sub = cmdtab_subcommand(c, &argv[1]);
    return sub != NULL ? sub : c;
}

const struct pcmd *
cmdtab_subcommand(const struct pcmd *cmd, const struct bstr *sub)
{
    char name[CMDTAB_NAME_MAX * 2 + 2];
    size_t n = strlen(cmd->name);

    if (!(cmd->flags & PCMD_CONTAINER) || sub->len > CMDTAB_NAME_MAX) {
        return NULL;
    }
    memcpy(name, cmd->name, n);
    name[n] = '|';
    memcpy(name + n + 1, sub->data, sub->len);
    return find_counted(name, n + 1 + sub->len);
}

bool
cmdtab_arity_ok(const struct pcmd *c, int argc)
{
    return c->arity > 0 ? argc == c->arity : argc >= -c->arity;
}

int
cmdtab_keys(const struct pcmd *c, const struct bstr *argv, int argc, int *pos, int max)
{
    int n = 0;

    if (c->route == ROUTE_NUMKEYS) {
        long long nk;
        int at = c->numkeys_pos;
        if (at >= argc || !util_str2ll(argv[at].data, argv[at].len, &nk) || nk < 0 ||
            nk > argc - at - 1) {
            return -1;
        }
        for (int i = 0; i < nk && n < max; i++) {
            pos[n++] = at + 1 + i;
        }
        return n;
    }
    if (c->first_key <= 0) {
        return 0;
    }
    int last = c->last_key < 0 ? argc + c->last_key : c->last_key;
    for (int i = c->first_key; i <= last && i < argc && n < max; i += c->key_step) {
        pos[n++] = i;
    }
    return n;
}
