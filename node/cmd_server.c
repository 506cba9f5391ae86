/*
 * cmd_server.c -- connection and server commands: PING ECHO QUIT HELLO AUTH
 * SELECT CLIENT INFO CONFIG COMMAND TIME DBSIZE SHUTDOWN.
 */
#include "common/clock.h"
#include "common/hello.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/sbuf.h"
#include "common/util.h"
#include "node/client.h"
#include "node/cmd.h"
#include "node/evict.h"
#include "node/kv.h"
#include "node/server.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define CONFIG_SET_MAX 64 /* parameters one CONFIG SET may change */

/* ---- connection ---- */

static void
cmd_ping(struct client *c)
{
    if (c->conn.argc > 2) {
        client_reply_arity(c);
        return;
    }
    if (c->conn.argc == 2) {
        client_reply_bulk(c, c->conn.argv[1].data, c->conn.argv[1].len);
    } else {
        resp_add_raw(&c->reply, "+PONG\r\n", 7);
    }
}

static void
cmd_echo(struct client *c)
{
    client_reply_bulk(c, c->conn.argv[1].data, c->conn.argv[1].len);
}

static void
cmd_quit(struct client *c)
{
    client_reply_ok(c);
    c->conn.flags |= CONN_CLOSE_AFTER_REPLY;
}

static void
cmd_auth(struct client *c)
{
    const char *err = auth_command(server.opt.requirepass, c->conn.argv, c->conn.argc);

    if (err != NULL) {
        client_reply_error(c, err);
        return;
    }
    c->conn.flags |= CONN_AUTHED;
    client_reply_ok(c);
}

static void
cmd_hello(struct client *c)
{
    struct hello h;
    char buf[256];
    const char *err = hello_parse(c->conn.argv, c->conn.argc, 3, &h, buf, sizeof(buf));

    if (err != NULL) {
        client_reply_error(c, err);
        return;
    }
    if (h.user != NULL) {
        if (!auth_check(server.opt.requirepass, h.user, h.pass)) {
            client_reply_error(c, ERR_WRONGPASS);
            return;
        }
        c->conn.flags |= CONN_AUTHED;
    }
    if (!(c->conn.flags & CONN_AUTHED)) {
        client_reply_error(c, HELLO_NOAUTH);
        return;
    }
    if (h.name != NULL) {
        conn_set_name(&c->conn, h.name);
    }
    if (h.proto != 0) {
        c->conn.resp = (int)h.proto;
    }
    /* "server" names the protocol family clients speak, as redis says it. */
    client_reply_map(c, 7);
    resp_add_bulk_cstr(&c->reply, "server");
    resp_add_bulk_cstr(&c->reply, "redis");
    resp_add_bulk_cstr(&c->reply, "version");
    resp_add_bulk_cstr(&c->reply, SERVER_REDIS_COMPAT);
    resp_add_bulk_cstr(&c->reply, "proto");
    client_reply_int(c, c->conn.resp);
    resp_add_bulk_cstr(&c->reply, "id");
    client_reply_int(c, (long long)c->conn.id);
    resp_add_bulk_cstr(&c->reply, "mode");
    resp_add_bulk_cstr(&c->reply, "standalone");
    resp_add_bulk_cstr(&c->reply, "role");
    resp_add_bulk_cstr(&c->reply, "master");
    resp_add_bulk_cstr(&c->reply, "modules");
    client_reply_array(c, 0);
}

static void
cmd_select(struct client *c)
{
    long long id;

    if (!util_str2ll(c->conn.argv[1].data, c->conn.argv[1].len, &id) || id < INT_MIN || id > INT_MAX) {
        client_reply_error(c, "ERR value is not an integer or out of range");
        return;
    }
    if (id != 0) {
        client_reply_error(c, ERR_DB_INDEX);
        return;
    }
    client_reply_ok(c);
}

/* ---- CLIENT ---- */

static void
cmd_client_id(struct client *c)
{
    client_reply_int(c, (long long)c->conn.id);
}

static void
cmd_client_setname(struct client *c)
{
    if (!conn_name_valid(&c->conn.argv[2])) {
        client_reply_error(c, "ERR Client names cannot contain spaces, newlines or special "
                              "characters.");
        return;
    }
    conn_set_name(&c->conn, &c->conn.argv[2]);
    client_reply_ok(c);
}

static void
cmd_client_getname(struct client *c)
{
    if (c->conn.name == NULL) {
        client_reply_null(c);
    } else {
        resp_add_bulk_cstr(&c->reply, c->conn.name);
    }
}

static void
cmd_client_info(struct client *c)
{
    struct sbuf s;

    sbuf_init(&s);
    client_describe(c, &s);
    sbuf_add(&s, "\n", 1);
    resp_add_verbatim(&c->reply, c->conn.resp, s.data, s.len);
    sbuf_free(&s);
}

static bool
type_is_normal(const struct bstr *t, bool *valid)
{
    *valid = true;
    if (bstr_is(t, "normal")) {
        return true;
    }
    if (bstr_is(t, "master") || bstr_is(t, "replica") || bstr_is(t, "slave") ||
        bstr_is(t, "pubsub")) {
        return false;
    }
    *valid = false;
    return false;
}

static void
cmd_client_list(struct client *c)
{
    struct sbuf s;
    bool normal = true, by_id = false;
    int ids_from = 0;

    if (c->conn.argc == 4 && bstr_is(&c->conn.argv[2], "TYPE")) {
        bool valid;
        normal = type_is_normal(&c->conn.argv[3], &valid);
        if (!valid) {
            client_reply_errorf(c, "ERR Unknown client type '%.*s'", (int)MIN(c->conn.argv[3].len, 64),
                                c->conn.argv[3].data);
            return;
        }
    } else if (c->conn.argc > 3 && bstr_is(&c->conn.argv[2], "ID")) {
        for (int j = 3; j < c->conn.argc; j++) {
            long long id;
            if (!util_str2ll(c->conn.argv[j].data, c->conn.argv[j].len, &id) || id <= 0) {
                client_reply_error(c, "ERR Invalid client ID");
                return;
            }
        }
        by_id = true;
        ids_from = 3;
    } else if (c->conn.argc != 2) {
        client_reply_error(c, ERR_SYNTAX);
        return;
    }
    sbuf_init(&s);
    /* Oldest first, as redis lists them; the set is newest first. */
    struct conn *last = server.conns.all;
    while (last != NULL && last->next != NULL) {
        last = last->next;
    }
    for (struct conn *k = last; k != NULL && normal; k = k->prev) {
        struct client *o = client_of(k);
        if (by_id) {
            bool match = false;
            for (int j = ids_from; j < c->conn.argc && !match; j++) {
                long long id;
                util_str2ll(c->conn.argv[j].data, c->conn.argv[j].len, &id);
                match = (uint64_t)id == o->conn.id;
            }
            if (!match) {
                continue;
            }
        }
        client_describe(o, &s);
        sbuf_add(&s, "\n", 1);
    }
    resp_add_verbatim(&c->reply, c->conn.resp, s.data != NULL ? s.data : "", s.len);
    sbuf_free(&s);
}

struct kill_filter {
    long long id;
    const struct bstr *addr, *laddr, *user;
    long long maxage;
    bool skipme;
    bool type_given, type_normal;
};

static bool
kill_matches(const struct kill_filter *f, struct client *me, struct client *o)
{
    if (f->skipme && o == me) {
        return false;
    }
    if (f->id > 0 && o->conn.id != (uint64_t)f->id) {
        return false;
    }
    if (f->addr != NULL && !(strlen(o->conn.addr) == f->addr->len &&
                             memcmp(o->conn.addr, f->addr->data, f->addr->len) == 0)) {
        return false;
    }
    if (f->laddr != NULL && !(strlen(o->conn.laddr) == f->laddr->len &&
                              memcmp(o->conn.laddr, f->laddr->data, f->laddr->len) == 0)) {
        return false;
    }
    if (f->user != NULL && !bstr_is(f->user, "default")) {
        return false;
    }
    if (f->type_given && !f->type_normal) {
        return false;
    }
    if (f->maxage > 0 && (clock_now_ms() - o->conn.ctime_ms) / 1000 < f->maxage) {
        return false;
    }
    return true;
}

static void
kill_client(struct client *me, struct client *o)
{
    if (o == me) {
        /* Reply first, then close: the client learns its own fate. */
        me->conn.flags |= CONN_CLOSE_AFTER_REPLY;
    } else {
        client_close_async(o);
    }
}

static void
cmd_client_kill(struct client *c)
{
    struct kill_filter f = {.skipme = true};

    if (c->conn.argc == 3) {
        /* Old form: CLIENT KILL addr:port -> +OK or an error. */
        for (struct conn *k = server.conns.all; k != NULL; k = k->next) {
            struct client *o = client_of(k);
            if (strlen(o->conn.addr) == c->conn.argv[2].len &&
                memcmp(o->conn.addr, c->conn.argv[2].data, c->conn.argv[2].len) == 0 &&
                !(o->conn.flags & CONN_CLOSE_ASAP)) {
                client_reply_ok(c);
                kill_client(c, o);
                return;
            }
        }
        client_reply_error(c, "ERR No such client");
        return;
    }
    if (c->conn.argc % 2 != 0) {
        client_reply_error(c, ERR_SYNTAX);
        return;
    }
    for (int j = 2; j < c->conn.argc; j += 2) {
        const struct bstr *opt = &c->conn.argv[j], *val = &c->conn.argv[j + 1];
        if (bstr_is(opt, "ID")) {
            if (!util_str2ll(val->data, val->len, &f.id) || f.id <= 0) {
                client_reply_error(c, "ERR client-id should be greater than 0");
                return;
            }
        } else if (bstr_is(opt, "ADDR")) {
            f.addr = val;
        } else if (bstr_is(opt, "LADDR")) {
            f.laddr = val;
        } else if (bstr_is(opt, "USER")) {
            f.user = val;
        } else if (bstr_is(opt, "TYPE")) {
            bool valid;
            f.type_given = true;
            f.type_normal = type_is_normal(val, &valid);
            if (!valid) {
                client_reply_errorf(c, "ERR Unknown client type '%.*s'", (int)MIN(val->len, 64),
                                    val->data);
                return;
            }
        } else if (bstr_is(opt, "SKIPME")) {
            if (bstr_is(val, "yes")) {
                f.skipme = true;
            } else if (bstr_is(val, "no")) {
                f.skipme = false;
            } else {
                client_reply_error(c, ERR_SYNTAX);
                return;
            }
        } else if (bstr_is(opt, "MAXAGE")) {
            if (!util_str2ll(val->data, val->len, &f.maxage)) {
                client_reply_error(c, ERR_SYNTAX);
                return;
            }
        } else {
            client_reply_error(c, ERR_SYNTAX);
            return;
        }
    }
    long long killed = 0;
    for (struct conn *k = server.conns.all; k != NULL; k = k->next) {
        struct client *o = client_of(k);
        if (!(o->conn.flags & CONN_CLOSE_ASAP) && kill_matches(&f, c, o)) {
            kill_client(c, o);
            killed++;
        }
    }
    client_reply_int(c, killed);
}


static void
cmd_client_help(struct client *c)
{
    static const char *const help[] = {
        "GETNAME",
        "    Return the name of the current connection.",
        "ID",
        "    Return the ID of the current connection.",
        "INFO",
        "    Return information about the current client connection.",
        "KILL <ip:port>",
        "    Kill connection made from <ip:port>.",
        "KILL <option> <value> [<option> <value> [...]]",
        "    Kill connections. Options are: ID, ADDR, LADDR, TYPE, USER, SKIPME, MAXAGE.",
        "LIST [TYPE (NORMAL|MASTER|REPLICA|PUBSUB)] [ID <id> [<id> ...]]",
        "    Return information about client connections.",
        "SETNAME <name>",
        "    Assign the name <name> to the current connection.",
        NULL,
    };
    client_reply_help(c, help);
}

/* ---- INFO ---- */

static void
cmd_info(struct client *c)
{
    struct sbuf s;

    sbuf_init(&s);
    if (c->conn.argc == 1) {
        server_info(&s, "default");
    }
    for (int j = 1; j < c->conn.argc; j++) {
        char section[64];
        snprintf(section, sizeof(section), "%.*s", (int)MIN(c->conn.argv[j].len, 63), c->conn.argv[j].data);
        server_info(&s, section);
    }
    resp_add_verbatim(&c->reply, c->conn.resp, s.data != NULL ? s.data : "", s.len);
    sbuf_free(&s);
}

/* ---- CONFIG ---- */

static void
cmd_config_get(struct client *c)
{
    const struct conf_option *match[128];
    size_t n = 0;
    char val[1024];

    for (const struct conf_option *o = server_options; o->name != NULL && n < ARRAY_LEN(match);
         o++) {
        for (int j = 2; j < c->conn.argc; j++) {
            if (util_glob_match(c->conn.argv[j].data, c->conn.argv[j].len, o->name, strlen(o->name), true)) {
                match[n++] = o;
                break;
            }
        }
    }
    client_reply_map(c, n);
    for (size_t i = 0; i < n; i++) {
        resp_add_bulk_cstr(&c->reply, match[i]->name);
        client_reply_bulk(c, val, conf_get(match[i], val, sizeof(val)));
    }
}

static void
cmd_config_set(struct client *c)
{
    const struct conf_option *opts[CONFIG_SET_MAX];
    char *old[CONFIG_SET_MAX];
    char err[512], val[1024];
    int n = (c->conn.argc - 2) / 2, done = 0;

    if ((c->conn.argc - 2) % 2 != 0) {
        client_reply_arity(c);
        return;
    }
    if (n > CONFIG_SET_MAX) {
        client_reply_error(c, "ERR too many parameters for CONFIG SET");
        return;
    }
    for (int i = 0; i < n; i++) {
        char name[128];
        snprintf(name, sizeof(name), "%.*s", (int)MIN(c->conn.argv[2 + 2 * i].len, 127),
                 c->conn.argv[2 + 2 * i].data);
        opts[i] = conf_find(server_options, name);
        if (opts[i] == NULL || strlen(name) != c->conn.argv[2 + 2 * i].len) {
            client_reply_errorf(c, "ERR Unknown option or number of arguments for CONFIG SET - "
                                   "'%s'",
                                name);
            return;
        }
        for (int k = 0; k < i; k++) {
            if (opts[k] == opts[i]) {
                client_reply_errorf(c, "ERR CONFIG SET failed (possibly related to argument "
                                       "'%s') - duplicate parameter",
                                    name);
                return;
            }
        }
    }
    /* All or nothing, as redis 7: remember each old value, restore on error. */
    for (; done < n; done++) {
        const struct conf_option *o = opts[done];
        conf_get(o, val, sizeof(val));
        old[done] = mem_strdup(val);
        char *v = mem_strndup(c->conn.argv[3 + 2 * done].data, c->conn.argv[3 + 2 * done].len);
        int rc = conf_set_runtime(o, v, err, sizeof(err));
        mem_free(v);
        if (rc != SC_OK) {
            client_reply_errorf(c, "ERR CONFIG SET failed (possibly related to argument '%s') - %s",
                                o->name, err);
            /* The failing one too: an apply hook that refused (maxclients
             * beyond the open-file limit) leaves the new value set. */
            done++;
            while (done-- > 0) {
                char tmp[512];
                conf_set_runtime(opts[done], old[done], tmp, sizeof(tmp));
                mem_free(old[done]);
            }
            return;
        }
    }
    for (int i = 0; i < n; i++) {
        mem_free(old[i]);
    }
    client_reply_ok(c);
}

static void
reset_cmd_stats(void *ctx, struct cmd *cmd)
{
    (void)ctx;
    cmd->calls = cmd->rejected_calls = cmd->failed_calls = 0;
    for (struct cmd *sub = cmd->subcmds; sub != NULL && sub->name != NULL; sub++) {
        reset_cmd_stats(ctx, sub);
    }
}

static void
cmd_config_resetstat(struct client *c)
{
    memset(server.stats, 0, sizeof(server.stats));
    memset(&kv_stats, 0, sizeof(kv_stats));
    cmd_foreach(reset_cmd_stats, NULL);
    server.peak_memory = evict_used_memory();
    client_reply_ok(c);
}

static void
cmd_config_help(struct client *c)
{
    static const char *const help[] = {
        "GET <pattern>",
        "    Return parameters matching the glob-like <pattern> and their values.",
        "SET <directive> <value>",
        "    Set the configuration <directive> to <value>.",
        "RESETSTAT",
        "    Reset statistics reported by the INFO command.",
        NULL,
    };
    client_reply_help(c, help);
}

/* ---- COMMAND ---- */

static const struct {
    uint32_t flag;
    const char *name;
} cmd_flag_names[] = {
    {CMD_WRITE, "write"},       {CMD_READONLY, "readonly"}, {CMD_DENYOOM, "denyoom"},
    {CMD_ADMIN, "admin"},       {CMD_NOSCRIPT, "noscript"}, {CMD_LOADING, "loading"},
    {CMD_STALE, "stale"},       {CMD_FAST, "fast"},         {CMD_NOAUTH, "no_auth"},
    {CMD_SENTINEL, "sentinel"}, {CMD_NOMULTI, "no_multi"},
};

static void
add_status_set(struct client *c, const char *const *names, size_t n)
{
    resp_add_set(&c->reply, c->conn.resp, n);
    for (size_t i = 0; i < n; i++) {
        client_reply_simple(c, names[i]);
    }
}

static void
add_acl_categories(struct client *c, const struct cmd *cmd)
{
    char cats[256];
    const char *names[16];
    size_t n = 0;
    char *save = NULL;

    snprintf(cats, sizeof(cats), "%s", cmd->acl != NULL ? cmd->acl : "");
    for (char *t = strtok_r(cats, " ", &save); t != NULL && n < ARRAY_LEN(names);
         t = strtok_r(NULL, " ", &save)) {
        names[n++] = t;
    }
    add_status_set(c, names, n);
}

static void
add_key_specs(struct client *c, const struct cmd *cmd)
{
    if (cmd->first_key <= 0) {
        client_reply_array(c, 0);
        return;
    }
    const char *flags[2];
    size_t nflags = 0;
    if (cmd->flags & CMD_WRITE) {
        flags[nflags++] = "RW";
        flags[nflags++] = "update";
    } else {
        flags[nflags++] = "RO";
        flags[nflags++] = "access";
    }
    client_reply_array(c, 1);
    client_reply_map(c, 3);
    resp_add_bulk_cstr(&c->reply, "flags");
    add_status_set(c, flags, nflags);
    resp_add_bulk_cstr(&c->reply, "begin_search");
    client_reply_map(c, 2);
    resp_add_bulk_cstr(&c->reply, "type");
    resp_add_bulk_cstr(&c->reply, "index");
    resp_add_bulk_cstr(&c->reply, "spec");
    client_reply_map(c, 1);
    resp_add_bulk_cstr(&c->reply, "index");
    client_reply_int(c, cmd->first_key);
    resp_add_bulk_cstr(&c->reply, "find_keys");
    client_reply_map(c, 2);
    resp_add_bulk_cstr(&c->reply, "type");
    resp_add_bulk_cstr(&c->reply, "range");
    resp_add_bulk_cstr(&c->reply, "spec");
    client_reply_map(c, 3);
    resp_add_bulk_cstr(&c->reply, "lastkey");
    client_reply_int(c, cmd->last_key < 0 ? cmd->last_key : cmd->last_key - cmd->first_key);
    resp_add_bulk_cstr(&c->reply, "keystep");
    client_reply_int(c, cmd->key_step);
    resp_add_bulk_cstr(&c->reply, "limit");
    client_reply_int(c, 0);
}

static size_t
count_subs(const struct cmd *cmd)
{
    size_t n = 0;
    for (const struct cmd *s = cmd->subcmds; s != NULL && s->name != NULL; s++) {
        n++;
    }
    return n;
}

static void
add_command_info(struct client *c, const struct cmd *cmd)
{
    const char *flags[ARRAY_LEN(cmd_flag_names)];
    size_t nflags = 0;

    if (cmd == NULL) {
        client_reply_null(c);
        return;
    }
    for (size_t i = 0; i < ARRAY_LEN(cmd_flag_names); i++) {
        if (cmd->flags & cmd_flag_names[i].flag) {
            flags[nflags++] = cmd_flag_names[i].name;
        }
    }
    client_reply_array(c, 10);
    resp_add_bulk_cstr(&c->reply, cmd->name);
    client_reply_int(c, cmd->arity);
    add_status_set(c, flags, nflags);
    client_reply_int(c, cmd->first_key);
    client_reply_int(c, cmd->first_key > 0 && cmd->last_key >= 0 ? cmd->last_key
                                                                  : cmd->last_key);
    client_reply_int(c, cmd->key_step);
    add_acl_categories(c, cmd);
    resp_add_set(&c->reply, c->conn.resp, 0); /* tips */
    add_key_specs(c, cmd);
    client_reply_array(c, count_subs(cmd));
    for (const struct cmd *s = cmd->subcmds; s != NULL && s->name != NULL; s++) {
        add_command_info(c, s);
    }
}

static void
add_info_cb(void *ctx, struct cmd *cmd)
{
    add_command_info(ctx, cmd);
}

static void
cmd_command(struct client *c)
{
    client_reply_array(c, cmd_count());
    cmd_foreach(add_info_cb, c);
}

static void
cmd_command_count(struct client *c)
{
    client_reply_int(c, (long long)cmd_count());
}

static void
cmd_command_info(struct client *c)
{
    if (c->conn.argc == 2) {
        cmd_command(c);
        return;
    }
    client_reply_array(c, (size_t)c->conn.argc - 2);
    for (int j = 2; j < c->conn.argc; j++) {
        add_command_info(c, cmd_lookup(&c->conn.argv[j]));
    }
}

static void
add_command_docs(struct client *c, const struct cmd *cmd)
{
    size_t nsubs = count_subs(cmd);

    resp_add_bulk_cstr(&c->reply, cmd->name);
    client_reply_map(c, nsubs > 0 ? 4 : 3);
    resp_add_bulk_cstr(&c->reply, "summary");
    resp_add_bulk_cstr(&c->reply, cmd->summary != NULL ? cmd->summary : "");
    resp_add_bulk_cstr(&c->reply, "since");
    resp_add_bulk_cstr(&c->reply, cmd->since != NULL ? cmd->since : "1.0.0");
    resp_add_bulk_cstr(&c->reply, "group");
    resp_add_bulk_cstr(&c->reply, cmd->group != NULL ? cmd->group : "generic");
    if (nsubs > 0) {
        resp_add_bulk_cstr(&c->reply, "subcommands");
        client_reply_map(c, nsubs);
        for (const struct cmd *s = cmd->subcmds; s != NULL && s->name != NULL; s++) {
            add_command_docs(c, s);
        }
    }
}

static void
add_docs_cb(void *ctx, struct cmd *cmd)
{
    add_command_docs(ctx, cmd);
}

static void
cmd_command_docs(struct client *c)
{
    if (c->conn.argc == 2) {
        client_reply_map(c, cmd_count());
        cmd_foreach(add_docs_cb, c);
        return;
    }
    size_t found = 0;
    for (int j = 2; j < c->conn.argc; j++) {
        found += cmd_lookup(&c->conn.argv[j]) != NULL;
    }
    client_reply_map(c, found);
    for (int j = 2; j < c->conn.argc; j++) {
        const struct cmd *cmd = cmd_lookup(&c->conn.argv[j]);
        if (cmd != NULL) {
            add_command_docs(c, cmd);
        }
    }
}

static void
add_name_cb(void *ctx, struct cmd *cmd)
{
    resp_add_bulk_cstr(&((struct client *)ctx)->reply, cmd->name);
}

static void
cmd_command_list(struct client *c)
{
    if (c->conn.argc != 2) {
        client_reply_error(c, ERR_SYNTAX);
        return;
    }
    client_reply_array(c, cmd_count());
    cmd_foreach(add_name_cb, c);
}

static void
cmd_command_getkeys(struct client *c)
{
    int pos[256];
    struct cmd *cmd = cmd_lookup(&c->conn.argv[2]);

    if (cmd == NULL) {
        client_reply_error(c, "ERR Invalid command specified");
        return;
    }
    int argc = c->conn.argc - 2;
    if (cmd->subcmds != NULL && argc >= 2) {
        struct cmd *sub = cmd_lookup_sub(cmd, &c->conn.argv[3]);
        cmd = sub != NULL ? sub : cmd;
    }
    if (cmd->arity > 0 ? argc != cmd->arity : argc < -cmd->arity) {
        client_reply_error(c, "ERR Invalid number of arguments specified for command");
        return;
    }
    int n = cmd_key_positions(cmd, argc, pos, (int)ARRAY_LEN(pos));
    if (n == 0) {
        client_reply_error(c, "ERR The command has no key arguments");
        return;
    }
    client_reply_array(c, (size_t)n);
    for (int i = 0; i < n; i++) {
        client_reply_bulk(c, c->conn.argv[2 + pos[i]].data, c->conn.argv[2 + pos[i]].len);
    }
}

static void
cmd_command_help(struct client *c)
{
    static const char *const help[] = {
        "(no subcommand)",
        "    Return details about all commands.",
        "COUNT",
        "    Return the total number of commands in this server.",
        "LIST",
        "    Return a list of all commands in this server.",
        "INFO [<command-name> ...]",
        "    Return details about multiple commands.",
        "DOCS [<command-name> ...]",
        "    Return documentation details about multiple commands.",
        "GETKEYS <full-command>",
        "    Return the keys from a full command.",
        NULL,
    };
    client_reply_help(c, help);
}

/* ---- server ---- */

static void
cmd_time(struct client *c)
{
    long long us = util_ustime();

    client_reply_array(c, 2);
    resp_add_bulk_ll(&c->reply, us / 1000000);
    resp_add_bulk_ll(&c->reply, us % 1000000);
}

/* CLUSTER: a node is not a cluster.  It answers every subcommand as
 * redis-server without cluster-enabled does, so a cluster client (redis-py's
 * RedisCluster, ioredis's Cluster, node-redis's createCluster) pointed at a
 * node fails with the error its users know; the proxy is the cluster
 * endpoint.  The subcommands are in the table so that an unknown one or a
 * wrong arity gets redis's own error first, as there. */
static void
cmd_cluster(struct client *c)
{
    client_reply_error(c, ERR_CLUSTER_DISABLED);
}

static void
cmd_dbsize(struct client *c)
{
    client_reply_int(c, (long long)kv_count());
}

static void
cmd_shutdown(struct client *c)
{
    for (int j = 1; j < c->conn.argc; j++) {
        if (bstr_is(&c->conn.argv[j], "NOSAVE") || bstr_is(&c->conn.argv[j], "NOW") ||
            bstr_is(&c->conn.argv[j], "FORCE")) {
            continue;
        }
        if (bstr_is(&c->conn.argv[j], "ABORT")) {
            client_reply_error(c, "ERR No shutdown in progress.");
            return;
        }
        if (bstr_is(&c->conn.argv[j], "SAVE")) {
            /* There is nothing on disk to save to. */
            client_reply_error(c, "ERR Errors trying to SHUTDOWN. Check logs.");
            log_warn("SHUTDOWN SAVE refused: slotcache-node keeps no data on disk");
            return;
        }
        client_reply_error(c, ERR_SYNTAX);
        return;
    }
    log_warn("User requested shutdown...");
    server_shutdown();
}

#define READ_FLAGS (CMD_LOADING | CMD_STALE)

static struct cmd client_subcmds[] = {
    {.name = "client|id", .proc = cmd_client_id, .arity = 2,
     .flags = CMD_NOSCRIPT | READ_FLAGS, .acl = "@slow @connection", .group = "connection",
     .since = "5.0.0", .summary = "Returns the client ID for the current connection"},
    {.name = "client|setname", .proc = cmd_client_setname, .arity = 3,
     .flags = CMD_NOSCRIPT | READ_FLAGS, .acl = "@slow @connection", .group = "connection",
     .since = "2.6.9", .summary = "Set the current connection name"},
    {.name = "client|getname", .proc = cmd_client_getname, .arity = 2,
     .flags = CMD_NOSCRIPT | READ_FLAGS, .acl = "@slow @connection", .group = "connection",
     .since = "2.6.9", .summary = "Get the current connection name"},
    {.name = "client|list", .proc = cmd_client_list, .arity = -2,
     .flags = CMD_ADMIN | CMD_NOSCRIPT | READ_FLAGS,
     .acl = "@admin @slow @dangerous @connection", .group = "connection", .since = "2.4.0",
     .summary = "Get the list of client connections"},
    {.name = "client|info", .proc = cmd_client_info, .arity = 2,
     .flags = CMD_NOSCRIPT | READ_FLAGS, .acl = "@slow @connection", .group = "connection",
     .since = "6.2.0", .summary = "Returns information about the current client connection."},
    {.name = "client|kill", .proc = cmd_client_kill, .arity = -3,
     .flags = CMD_ADMIN | CMD_NOSCRIPT | READ_FLAGS,
     .acl = "@admin @slow @dangerous @connection", .group = "connection", .since = "2.4.0",
     .summary = "Kill the connection of a client"},
    {.name = "client|help", .proc = cmd_client_help, .arity = 2, .flags = READ_FLAGS,
     .acl = "@slow @connection", .group = "connection", .since = "5.0.0",
     .summary = "Show helpful text about the different subcommands"},
    CMD_END,
};

static struct cmd config_subcmds[] = {
    {.name = "config|get", .proc = cmd_config_get, .arity = -3,
     .flags = CMD_ADMIN | CMD_NOSCRIPT | READ_FLAGS, .acl = "@admin @slow @dangerous",
     .group = "server", .since = "2.0.0",
     .summary = "Get the values of configuration parameters"},
    {.name = "config|set", .proc = cmd_config_set, .arity = -4,
     .flags = CMD_ADMIN | CMD_NOSCRIPT | READ_FLAGS, .acl = "@admin @slow @dangerous",
     .group = "server", .since = "2.0.0", .summary = "Set configuration parameters to the given values"},
    {.name = "config|resetstat", .proc = cmd_config_resetstat, .arity = 2,
     .flags = CMD_ADMIN | CMD_NOSCRIPT | READ_FLAGS, .acl = "@admin @slow @dangerous",
     .group = "server", .since = "2.0.0", .summary = "Reset the stats returned by INFO"},
    {.name = "config|help", .proc = cmd_config_help, .arity = 2, .flags = READ_FLAGS,
     .acl = "@slow", .group = "server", .since = "5.0.0",
     .summary = "Show helpful text about the different subcommands"},
    CMD_END,
};

static struct cmd command_subcmds[] = {
    {.name = "command|count", .proc = cmd_command_count, .arity = 2, .flags = READ_FLAGS,
     .acl = "@slow @connection", .group = "server", .since = "2.8.13",
     .summary = "Get total number of Redis commands"},
    {.name = "command|info", .proc = cmd_command_info, .arity = -2, .flags = READ_FLAGS,
     .acl = "@slow @connection", .group = "server", .since = "2.8.13",
     .summary = "Get array of specific Redis command details, or all when no argument is given."},
    {.name = "command|docs", .proc = cmd_command_docs, .arity = -2, .flags = READ_FLAGS,
     .acl = "@slow @connection", .group = "server", .since = "7.0.0",
     .summary = "Get array of specific Redis command documentation"},
    {.name = "command|list", .proc = cmd_command_list, .arity = -2, .flags = READ_FLAGS,
     .acl = "@slow @connection", .group = "server", .since = "7.0.0",
     .summary = "Get an array of Redis command names"},
    {.name = "command|getkeys", .proc = cmd_command_getkeys, .arity = -4, .flags = READ_FLAGS,
     .acl = "@slow @connection", .group = "server", .since = "2.8.13",
     .summary = "Extract keys given a full Redis command"},
    {.name = "command|help", .proc = cmd_command_help, .arity = 2, .flags = READ_FLAGS,
     .acl = "@slow @connection", .group = "server", .since = "5.0.0",
     .summary = "Show helpful text about the different subcommands"},
    CMD_END,
};

/* Names, arities, flags and ACL categories as redis 7.0's COMMAND INFO. */
static struct cmd cluster_subcmds[] = {
    {.name = "cluster|addslots", .proc = cmd_cluster, .arity = -3, .flags = CMD_ADMIN | CMD_STALE,
     .acl = "@admin @slow @dangerous", .group = "cluster", .since = "3.0.0",
     .summary = "Assign new hash slots to receiving node"},
    {.name = "cluster|addslotsrange", .proc = cmd_cluster, .arity = -4, .flags = CMD_ADMIN | CMD_STALE,
     .acl = "@admin @slow @dangerous", .group = "cluster", .since = "7.0.0",
     .summary = "Assign new hash slots to receiving node"},
    {.name = "cluster|bumpepoch", .proc = cmd_cluster, .arity = 2, .flags = CMD_ADMIN | CMD_STALE,
     .acl = "@admin @slow @dangerous", .group = "cluster", .since = "3.0.0",
     .summary = "Advance the cluster config epoch"},
    {.name = "cluster|count-failure-reports", .proc = cmd_cluster, .arity = 3, .flags = CMD_ADMIN | CMD_STALE,
     .acl = "@admin @slow @dangerous", .group = "cluster", .since = "3.0.0",
     .summary = "Return the number of failure reports active for a given node"},
    {.name = "cluster|countkeysinslot", .proc = cmd_cluster, .arity = 3, .flags = CMD_STALE,
     .acl = "@slow", .group = "cluster", .since = "3.0.0",
     .summary = "Return the number of local keys in the specified hash slot"},
    {.name = "cluster|delslots", .proc = cmd_cluster, .arity = -3, .flags = CMD_ADMIN | CMD_STALE,
     .acl = "@admin @slow @dangerous", .group = "cluster", .since = "3.0.0",
     .summary = "Set hash slots as unbound in receiving node"},
    {.name = "cluster|delslotsrange", .proc = cmd_cluster, .arity = -4, .flags = CMD_ADMIN | CMD_STALE,
     .acl = "@admin @slow @dangerous", .group = "cluster", .since = "7.0.0",
     .summary = "Set hash slots as unbound in receiving node"},
    {.name = "cluster|failover", .proc = cmd_cluster, .arity = -2, .flags = CMD_ADMIN | CMD_STALE,
     .acl = "@admin @slow @dangerous", .group = "cluster", .since = "3.0.0",
     .summary = "Forces a replica to perform a manual failover of its master."},
    {.name = "cluster|flushslots", .proc = cmd_cluster, .arity = 2, .flags = CMD_ADMIN | CMD_STALE,
     .acl = "@admin @slow @dangerous", .group = "cluster", .since = "3.0.0",
     .summary = "Delete a node's own slots information"},
    {.name = "cluster|forget", .proc = cmd_cluster, .arity = 3, .flags = CMD_ADMIN | CMD_STALE,
     .acl = "@admin @slow @dangerous", .group = "cluster", .since = "3.0.0",
     .summary = "Remove a node from the nodes table"},
    {.name = "cluster|getkeysinslot", .proc = cmd_cluster, .arity = 4, .flags = CMD_STALE,
     .acl = "@slow", .group = "cluster", .since = "3.0.0",
     .summary = "Return local key names in the specified hash slot"},
    {.name = "cluster|help", .proc = cmd_cluster, .arity = 2, .flags = CMD_LOADING | CMD_STALE,
     .acl = "@slow", .group = "cluster", .since = "5.0.0",
     .summary = "Show helpful text about the different subcommands"},
    {.name = "cluster|info", .proc = cmd_cluster, .arity = 2, .flags = CMD_STALE,
     .acl = "@slow", .group = "cluster", .since = "3.0.0",
     .summary = "Provides info about Redis Cluster node state"},
    {.name = "cluster|keyslot", .proc = cmd_cluster, .arity = 3, .flags = CMD_STALE,
     .acl = "@slow", .group = "cluster", .since = "3.0.0",
     .summary = "Returns the hash slot of the specified key"},
    {.name = "cluster|links", .proc = cmd_cluster, .arity = 2, .flags = CMD_STALE,
     .acl = "@slow", .group = "cluster", .since = "7.0.0",
     .summary = "Returns a list of all TCP links to and from peer nodes in cluster"},
    {.name = "cluster|meet", .proc = cmd_cluster, .arity = -4, .flags = CMD_ADMIN | CMD_STALE,
     .acl = "@admin @slow @dangerous", .group = "cluster", .since = "3.0.0",
     .summary = "Force a node cluster to handshake with another node"},
    {.name = "cluster|myid", .proc = cmd_cluster, .arity = 2, .flags = CMD_STALE,
     .acl = "@slow", .group = "cluster", .since = "3.0.0",
     .summary = "Return the node id"},
    {.name = "cluster|nodes", .proc = cmd_cluster, .arity = 2, .flags = CMD_STALE,
     .acl = "@slow", .group = "cluster", .since = "3.0.0",
     .summary = "Get Cluster config for the node"},
    {.name = "cluster|replicas", .proc = cmd_cluster, .arity = 3, .flags = CMD_ADMIN | CMD_STALE,
     .acl = "@admin @slow @dangerous", .group = "cluster", .since = "5.0.0",
     .summary = "List replica nodes of the specified master node"},
    {.name = "cluster|replicate", .proc = cmd_cluster, .arity = 3, .flags = CMD_ADMIN | CMD_STALE,
     .acl = "@admin @slow @dangerous", .group = "cluster", .since = "3.0.0",
     .summary = "Reconfigure a node as a replica of the specified master node"},
    {.name = "cluster|reset", .proc = cmd_cluster, .arity = -2, .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_STALE,
     .acl = "@admin @slow @dangerous", .group = "cluster", .since = "3.0.0",
     .summary = "Reset a Redis Cluster node"},
    {.name = "cluster|saveconfig", .proc = cmd_cluster, .arity = 2, .flags = CMD_ADMIN | CMD_STALE,
     .acl = "@admin @slow @dangerous", .group = "cluster", .since = "3.0.0",
     .summary = "Forces the node to save cluster state on disk"},
    {.name = "cluster|set-config-epoch", .proc = cmd_cluster, .arity = 3, .flags = CMD_ADMIN | CMD_STALE,
     .acl = "@admin @slow @dangerous", .group = "cluster", .since = "3.0.0",
     .summary = "Set the configuration epoch in a new node"},
    {.name = "cluster|setslot", .proc = cmd_cluster, .arity = -4, .flags = CMD_ADMIN | CMD_STALE,
     .acl = "@admin @slow @dangerous", .group = "cluster", .since = "3.0.0",
     .summary = "Bind a hash slot to a specific node"},
    {.name = "cluster|shards", .proc = cmd_cluster, .arity = 2, .flags = CMD_STALE,
     .acl = "@slow", .group = "cluster", .since = "7.0.0",
     .summary = "Get array of cluster slots to node mappings"},
    {.name = "cluster|slaves", .proc = cmd_cluster, .arity = 3, .flags = CMD_ADMIN | CMD_STALE,
     .acl = "@admin @slow @dangerous", .group = "cluster", .since = "3.0.0",
     .summary = "List replica nodes of the specified master node"},
    {.name = "cluster|slots", .proc = cmd_cluster, .arity = 2, .flags = CMD_STALE,
     .acl = "@slow", .group = "cluster", .since = "3.0.0",
     .summary = "Get array of Cluster slot to node mappings"},
    CMD_END,
};

struct cmd cmd_server_table[] = {
    {.name = "ping", .proc = cmd_ping, .arity = -1, .flags = CMD_FAST | CMD_SENTINEL,
     .acl = "@fast @connection", .group = "connection", .since = "1.0.0",
     .summary = "Ping the server"},
    {.name = "echo", .proc = cmd_echo, .arity = 2, .flags = CMD_FAST | READ_FLAGS,
     .acl = "@fast @connection", .group = "connection", .since = "1.0.0",
     .summary = "Echo the given string"},
    {.name = "quit", .proc = cmd_quit, .arity = -1,
     .flags = CMD_NOSCRIPT | READ_FLAGS | CMD_FAST | CMD_NOAUTH | CMD_NOMULTI,
     .acl = "@fast @connection", .group = "connection", .since = "1.0.0",
     .summary = "Close the connection"},
    {.name = "hello", .proc = cmd_hello, .arity = -1,
     .flags = CMD_NOSCRIPT | READ_FLAGS | CMD_FAST | CMD_NOAUTH | CMD_SENTINEL,
     .acl = "@fast @connection", .group = "connection", .since = "6.0.0",
     .summary = "Handshake with Redis"},
    {.name = "auth", .proc = cmd_auth, .arity = -2,
     .flags = CMD_NOSCRIPT | READ_FLAGS | CMD_FAST | CMD_NOAUTH | CMD_SENTINEL,
     .acl = "@fast @connection", .group = "connection", .since = "1.0.0",
     .summary = "Authenticate to the server"},
    {.name = "select", .proc = cmd_select, .arity = 2, .flags = CMD_LOADING | CMD_STALE | CMD_FAST,
     .acl = "@fast @connection", .group = "connection", .since = "1.0.0",
     .summary = "Change the selected database for the current connection"},
    {.name = "client", .arity = -2, .flags = CMD_SENTINEL, .acl = "@slow",
     .group = "connection", .since = "2.4.0", .summary = "A container for client connection commands",
     .subcmds = client_subcmds},
    {.name = "info", .proc = cmd_info, .arity = -1, .flags = READ_FLAGS | CMD_SENTINEL,
     .acl = "@slow @dangerous", .group = "server", .since = "1.0.0",
     .summary = "Get information and statistics about the server"},
    {.name = "config", .arity = -2, .acl = "@slow", .group = "server", .since = "2.0.0",
     .summary = "A container for server configuration commands", .subcmds = config_subcmds},
    {.name = "command", .proc = cmd_command, .arity = -1, .flags = READ_FLAGS,
     .acl = "@slow @connection", .group = "server", .since = "2.8.13",
     .summary = "Get array of Redis command details", .subcmds = command_subcmds},
    {.name = "cluster", .arity = -2, .acl = "@slow", .group = "cluster", .since = "3.0.0",
     .summary = "A container for cluster commands", .subcmds = cluster_subcmds},
    {.name = "time", .proc = cmd_time, .arity = 1, .flags = READ_FLAGS | CMD_FAST | CMD_RANDOM,
     .acl = "@fast", .group = "server", .since = "2.6.0", .summary = "Return the current server time"},
    {.name = "dbsize", .proc = cmd_dbsize, .arity = 1, .flags = CMD_READONLY | CMD_FAST,
     .acl = "@keyspace @read @fast", .group = "server", .since = "1.0.0",
     .summary = "Return the number of keys in the selected database"},
    {.name = "shutdown", .proc = cmd_shutdown, .arity = -1,
     .flags = CMD_ADMIN | CMD_NOSCRIPT | READ_FLAGS | CMD_NOMULTI | CMD_SENTINEL,
     .acl = "@admin @slow @dangerous", .group = "server", .since = "1.0.0",
     .summary = "Synchronously save the dataset to disk and then shut down the server"},
    CMD_END,
};
