/*
 * The compatibility script shared by the hiredis programs: see script.h.
 */
#include "script.h"

#include <stdio.h>
#include <string.h>

/* A copy of len bytes in the arena, or NULL when it is full. */
static const char *
save(struct script *s, const void *data, size_t len)
{
    if (s->used + len > sizeof(s->arena)) {
        return NULL;
    }
    char *p = s->arena + s->used;
    memcpy(p, data, len);
    s->used += len;
    return p;
}

/* Appends a command; each argument is a NUL-free string, except that an
 * argument "\x01BIN" stands for the 256-byte value of every byte.  Returns 0
 * or -1 (arena or table full). */
static int
add(struct script *s, const char *name, int hex, const char *prefix, const char *const *args)
{
    if (s->ncmd == SCRIPT_MAX_CMDS) {
        return -1;
    }
    struct script_cmd *c = &s->cmd[s->ncmd];
    c->name = name;
    c->hex = hex;
    c->argc = 0;
    for (int i = 0; args[i] != NULL && c->argc < SCRIPT_MAX_ARGS; i++) {
        char buf[256];
        size_t len;
        if (strcmp(args[i], "\x01" "BIN") == 0) {
            for (int b = 0; b < 256; b++) {
                buf[b] = (char)b;
            }
            len = 256;
        } else if (args[i][0] == '@') { /* a key: @name becomes prefix:name */
            int n = snprintf(buf, sizeof(buf), "%s:%s", prefix, args[i] + 1);
            if (n < 0 || (size_t)n >= sizeof(buf)) {
                return -1;
            }
            len = (size_t)n;
        } else {
            len = strlen(args[i]);
            if (len > sizeof(buf)) {
                return -1;
            }
            memcpy(buf, args[i], len);
        }
        c->argv[c->argc] = save(s, buf, len);
        if (c->argv[c->argc] == NULL) {
            return -1;
        }
        c->argvlen[c->argc] = len;
        c->argc++;
    }
    s->ncmd++;
    return 0;
}

#define ADD(name, ...) add(s, name, 0, prefix, (const char *const[]){__VA_ARGS__, NULL})

int
script_build(struct script *s, const char *prefix)
{
    int rc = 0;
    s->ncmd = 0;
    s->used = 0;
    rc |= ADD("ping", "PING");
    rc |= ADD("set", "SET", "@k", "v1");
    rc |= ADD("get", "GET", "@k");
    rc |= ADD("set_bin", "SET", "@bin", "\x01" "BIN");
    rc |= add(s, "binary", 1, prefix, (const char *const[]){"GET", "@bin", NULL});
    rc |= ADD("mset", "MSET", "@m0", "m0", "@m1", "m1", "@m2", "m2", "@m3", "m3", "@m4", "m4");
    rc |= ADD("mget", "MGET", "@m0", "@m1", "@m2", "@m3", "@m4", "@nosuch");
    rc |= ADD("set_n", "SET", "@n", "10");
    rc |= ADD("incr", "INCR", "@n");
    rc |= ADD("expire", "EXPIRE", "@k", "100");
    rc |= ADD("ttl", "TTL", "@k");
    rc |= ADD("del", "DEL", "@k", "@m0");
    rc |= ADD("get_deleted", "GET", "@k");
    for (int i = 0; i < 50; i++) {
        char key[32], val[16];
        snprintf(key, sizeof(key), "@p:%d", i);
        snprintf(val, sizeof(val), "%d", i);
        rc |= ADD(NULL, "SET", key, val);
    }
    for (int i = 0; i < 50; i++) {
        char key[32];
        snprintf(key, sizeof(key), "@p:%d", i);
        rc |= ADD(NULL, "GET", key);
    }
    rc |= ADD("missing", "GET", "@missing");
    rc |= ADD("set_s", "SET", "@s", "abc");
    rc |= ADD("error", "INCR", "@s");
    rc |= ADD("after_error", "PING");
    return rc == 0 ? 0 : -1;
}

static void
print_string(const char *p, size_t len, int hex)
{
    putchar('"');
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)p[i];
        if (hex) {
            printf("%02x", ch);
        } else if (ch == '"' || ch == '\\') {
            printf("\\%c", ch);
        } else if (ch < 0x20 || ch >= 0x7f) {
            printf("\\u%04x", ch);
        } else {
            putchar(ch);
        }
    }
    putchar('"');
}

static void
print_reply(const redisReply *r, int hex)
{
    if (r == NULL) {
        printf("{\"error\": \"no reply\"}");
        return;
    }
    switch (r->type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
        print_string(r->str, r->len, hex && r->type == REDIS_REPLY_STRING);
        break;
    case REDIS_REPLY_INTEGER:
        printf("%lld", r->integer);
        break;
    case REDIS_REPLY_NIL:
        printf("null");
        break;
    case REDIS_REPLY_ERROR:
        printf("{\"error\": ");
        print_string(r->str, r->len, 0);
        putchar('}');
        break;
    case REDIS_REPLY_ARRAY:
        putchar('[');
        for (size_t i = 0; i < r->elements; i++) {
            printf(i ? ", " : "");
            print_reply(r->element[i], hex);
        }
        putchar(']');
        break;
    default:
        printf("{\"error\": \"reply type %d\"}", r->type);
        break;
    }
}

void
script_print(const struct script *s, redisReply *const *replies)
{
    int first = 1, in_pipeline = 0;
    putchar('{');
    for (int i = 0; i < s->ncmd; i++) {
        const struct script_cmd *c = &s->cmd[i];
        if (c->name == NULL && !in_pipeline) {
            printf("%s\"pipeline\": [", first ? "" : ", ");
            in_pipeline = 1;
            first = 0;
        } else if (c->name == NULL) {
            printf(", ");
        } else {
            if (in_pipeline) {
                putchar(']');
                in_pipeline = 0;
            }
            printf("%s\"%s\": ", first ? "" : ", ", c->name);
            first = 0;
        }
        print_reply(replies[i], c->hex);
    }
    printf("%s}\n", in_pipeline ? "]" : "");
}

int
script_from_args(struct script *s, int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s HOST PORT PREFIX\n", argv[0]);
        return 2;
    }
    if (script_build(s, argv[3]) != 0) {
        fprintf(stderr, "prefix too long\n");
        return 2;
    }
    return 0;
}
