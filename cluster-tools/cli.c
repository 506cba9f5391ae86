/*
 * cli.c -- slotcache-cli: stand a topology up, see its state, change it.
 *
 *   slotcache-cli create --mode partitioned|replicated|central [--replicas N]
 *                        [--base FILE] [--out FILE] ADDR...
 *   slotcache-cli check [--host H] [--port N] | check --config FILE
 *   slotcache-cli info [--host H] [--port N] [--watch [SECONDS]] [--count N]
 *   slotcache-cli reshard [--host H] --port N --from NODE --to NODE --slots N
 *   slotcache-cli add-node [--host H] --port N ADDR [REPLICA...]
 *   slotcache-cli del-node [--host H] --port N ADDR
 *   slotcache-cli up central|partitioned|replicated [--port N] [--dir DIR] [--rows N]
 *   slotcache-cli down [--dir DIR]
 *
 * This file is the boundary: it parses each subcommand's arguments, calls
 * the module that does the work (cli_topo, cli_check, cli_info, cli_move,
 * cli_up) and reports its failure once, on stderr.  Exit status: 0 all is
 * well, 1 the operation failed or found a problem, 2 bad arguments.
 */
#include "cluster-tools/cli_args.h"
#include "cluster-tools/cli_check.h"
#include "cluster-tools/cli_info.h"
#include "cluster-tools/cli_move.h"
#include "cluster-tools/cli_topo.h"
#include "cluster-tools/cli_up.h"
#include "common/mem.h"
#include "common/sbuf.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#define CLI_DEFAULT_HOST "127.0.0.1"

struct command {
    const char *name;
    int (*run)(int argc, char **argv, struct cli_err *err);
    const char *usage; /* the arguments, for "usage: slotcache-cli NAME ..." */
    const char *help;  /* one line */
};

/* Commands return CLI_EXIT_USAGE with err set for bad arguments; main
 * prints the message and the command's usage. */
#define CLI_USAGE_ERROR(err, ...) (cli_fail((err), __VA_ARGS__), CLI_EXIT_USAGE)

/* The proxy's address from --host and --port. */
struct proxy_addr {
    const char *host;
    long long port;
};

#define PROXY_OPTS(a)                                                                              \
    {.name = "host", .type = ARGS_STR, .dst = &(a)->host},                                         \
    {                                                                                              \
        .name = "port", .type = ARGS_INT, .dst = &(a)->port, .min = 1, .max = 65535                \
    }

/* ---- create ---- */

static int
write_output(const char *path, const struct sbuf *text, struct cli_err *err)
{
    if (path == NULL) {
        fwrite(text->data, 1, text->len, stdout);
        return SC_OK;
    }
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        return cli_fail(err, "cannot write %s: %s", path, strerror(errno));
    }
    size_t n = fwrite(text->data, 1, text->len, f);
    if (fclose(f) != 0 || n != text->len) {
        return cli_fail(err, "cannot write %s: %s", path, strerror(errno));
    }
    fprintf(stderr, "wrote %s\n", path);
    return SC_OK;
}

static int
cmd_create(int argc, char **argv, struct cli_err *err)
{
    const char *mode = NULL, *out = NULL, *base = NULL;
    long long replicas = 0;
    struct args_opt opts[] = {
        {.name = "mode", .type = ARGS_STR, .dst = &mode},
        {.name = "replicas", .type = ARGS_INT, .dst = &replicas, .min = 0, .max = 15},
        {.name = "out", .type = ARGS_STR, .dst = &out},
        {.name = "base", .type = ARGS_STR, .dst = &base},
        ARGS_END,
    };
    char **addrs = mem_calloc((size_t)argc + 1, sizeof(*addrs));
    int n, rc = CLI_EXIT_USAGE;
    struct topo t;
    struct sbuf text;

    topo_init(&t);
    sbuf_init(&text);
    if (args_parse(opts, argc, argv, addrs, argc, &n, err) != SC_OK) {
        goto done;
    }
    int m = mode != NULL ? topo_mode_parse(mode) : -1;
    if (m < 0) {
        rc = CLI_USAGE_ERROR(err, "--mode must be central, partitioned or replicated");
    } else if (topo_create(&t, m, (const char *const *)addrs, n, (int)replicas, err) != SC_OK) {
        rc = CLI_EXIT_USAGE;
    } else {
        rc = topo_config_text(&t, base, &text, err) == SC_OK &&
                     write_output(out, &text, err) == SC_OK
                 ? CLI_EXIT_OK
                 : CLI_EXIT_FAIL;
    }
done:
    sbuf_free(&text);
    topo_free(&t);
    mem_free(addrs);
    return rc;
}

/* ---- check, info ---- */

static int
cmd_check(int argc, char **argv, struct cli_err *err)
{
    struct proxy_addr a = {CLI_DEFAULT_HOST, UP_DEFAULT_PORT};
    const char *config = NULL;
    struct args_opt opts[] = {
        PROXY_OPTS(&a),
        {.name = "config", .type = ARGS_STR, .dst = &config},
        ARGS_END,
    };
    int n;

    if (args_parse(opts, argc, argv, NULL, 0, &n, err) != SC_OK) {
        return CLI_EXIT_USAGE;
    }
    if (config != NULL && (opts[0].seen || opts[1].seen)) {
        return CLI_USAGE_ERROR(err,
                               "--config checks a file's nodes, --host/--port a proxy's: give one");
    }
    return config != NULL ? check_config(config, err) : check_proxy(a.host, (int)a.port, err);
}

static int
cmd_info(int argc, char **argv, struct cli_err *err)
{
    struct proxy_addr a = {CLI_DEFAULT_HOST, UP_DEFAULT_PORT};
    struct info_options o = {.watch_s = 0, .count = 0};
    struct args_opt opts[] = {
        PROXY_OPTS(&a),
        {.name = "watch",
         .type = ARGS_OPT_INT,
         .dst = &o.watch_s,
         .min = 1,
         .max = 3600,
         .implied = 2},
        {.name = "count", .type = ARGS_INT, .dst = &o.count, .min = 1, .max = 1000000},
        ARGS_END,
    };
    int n;

    if (args_parse(opts, argc, argv, NULL, 0, &n, err) != SC_OK) {
        return CLI_EXIT_USAGE;
    }
    o.host = a.host;
    o.port = (int)a.port;
    return info_run(&o, err);
}

/* ---- moves ---- */

static int
cmd_reshard(int argc, char **argv, struct cli_err *err)
{
    struct proxy_addr a = {CLI_DEFAULT_HOST, UP_DEFAULT_PORT};
    const char *from = NULL, *to = NULL;
    long long nslots = 0;
    struct args_opt opts[] = {
        PROXY_OPTS(&a),
        {.name = "from", .type = ARGS_STR, .dst = &from},
        {.name = "to", .type = ARGS_STR, .dst = &to},
        {.name = "slots", .type = ARGS_INT, .dst = &nslots, .min = 1, .max = SLOT_COUNT},
        ARGS_END,
    };
    int n;

    if (args_parse(opts, argc, argv, NULL, 0, &n, err) != SC_OK) {
        return CLI_EXIT_USAGE;
    }
    if (from == NULL || to == NULL || nslots == 0) {
        return CLI_USAGE_ERROR(err, "--from, --to and --slots are required");
    }
    return move_reshard(a.host, (int)a.port, from, to, nslots, err);
}

static int
cmd_add_node(int argc, char **argv, struct cli_err *err)
{
    struct proxy_addr a = {CLI_DEFAULT_HOST, UP_DEFAULT_PORT};
    struct args_opt opts[] = {PROXY_OPTS(&a), ARGS_END};
    char *addrs[TOPO_MEMBERS_MAX];
    int n;

    if (args_parse(opts, argc, argv, addrs, TOPO_MEMBERS_MAX, &n, err) != SC_OK) {
        return CLI_EXIT_USAGE;
    }
    if (n == 0) {
        return CLI_USAGE_ERROR(err, "the new node's address is required");
    }
    return move_add_node(a.host, (int)a.port, (const char *const *)addrs, n, err);
}

static int
cmd_del_node(int argc, char **argv, struct cli_err *err)
{
    struct proxy_addr a = {CLI_DEFAULT_HOST, UP_DEFAULT_PORT};
    struct args_opt opts[] = {PROXY_OPTS(&a), ARGS_END};
    char *addr[1];
    int n;

    if (args_parse(opts, argc, argv, addr, 1, &n, err) != SC_OK) {
        return CLI_EXIT_USAGE;
    }
    if (n == 0) {
        return CLI_USAGE_ERROR(err, "the address of the node to remove is required");
    }
    return move_del_node(a.host, (int)a.port, addr[0], err);
}

/* ---- up, down ---- */

static int
cmd_up(int argc, char **argv, struct cli_err *err)
{
    struct up_options o = {.port = UP_DEFAULT_PORT, .dir = NULL, .rows = UP_DEFAULT_ROWS};
    struct args_opt opts[] = {
        {.name = "port", .type = ARGS_INT, .dst = &o.port, .min = 1, .max = UP_PORT_MAX},
        {.name = "dir", .type = ARGS_STR, .dst = &o.dir},
        {.name = "rows", .type = ARGS_INT, .dst = &o.rows, .min = 1, .max = 10000000},
        ARGS_END,
    };
    char *topology[1];
    int n;

    if (args_parse(opts, argc, argv, topology, 1, &n, err) != SC_OK) {
        return CLI_EXIT_USAGE;
    }
    if (n == 0) {
        return CLI_USAGE_ERROR(err, "which topology: central, partitioned or replicated?");
    }
    if (topo_mode_parse(topology[0]) < 0) {
        return CLI_USAGE_ERROR(err, "unknown topology '%s' (central, partitioned or replicated)",
                               topology[0]);
    }
    o.topology = topology[0];
    return up_run(&o, err);
}

static int
cmd_down(int argc, char **argv, struct cli_err *err)
{
    const char *dir = NULL;
    struct args_opt opts[] = {
        {.name = "dir", .type = ARGS_STR, .dst = &dir},
        ARGS_END,
    };
    int n;

    if (args_parse(opts, argc, argv, NULL, 0, &n, err) != SC_OK) {
        return CLI_EXIT_USAGE;
    }
    return down_run(dir, err);
}

/* ---- dispatch ---- */

static const struct command commands[] = {
    {"create", cmd_create,
     "--mode partitioned|replicated|central [--replicas N] [--base FILE] [--out FILE] ADDR...",
     "assign the 16384 slots to the nodes and write the proxy's config"},
    {"check", cmd_check, "[--host H] [--port N] | --config FILE",
     "every slot owned, every node answering, replicas agreeing; exit 0 if all is well"},
    {"info", cmd_info, "[--host H] [--port N] [--watch [SECONDS]] [--count N]",
     "one table of keys, memory, hit ratio, evictions and ops/s for the whole topology"},
    {"reshard", cmd_reshard, "[--host H] --port N --from NODE --to NODE --slots N",
     "move N slots and their keys from one shard to another while clients keep going"},
    {"add-node", cmd_add_node, "[--host H] --port N ADDR [REPLICA...]",
     "bring empty node(s) in as a new shard and move it an even share of the slots"},
    {"del-node", cmd_del_node, "[--host H] --port N ADDR",
     "move a shard's slots to the others; the proxy drops it"},
    {"up", cmd_up, "central|partitioned|replicated [--port N] [--dir DIR] [--rows N]",
     "start a topology locally: PostgreSQL with sample data, nodes, loader, proxy"},
    {"down", cmd_down, "[--dir DIR]", "stop exactly what up started"},
};

static const struct command *
find_command(const char *name)
{
    for (size_t i = 0; i < ARRAY_LEN(commands); i++) {
        if (strcmp(commands[i].name, name) == 0) {
            return &commands[i];
        }
    }
    return NULL;
}

static void
print_help(FILE *out)
{
    fprintf(out, "usage: slotcache-cli COMMAND [ARGS]\n\n");
    for (size_t i = 0; i < ARRAY_LEN(commands); i++) {
        fprintf(out, "  %-9s %s\n            %s\n", commands[i].name, commands[i].usage,
                commands[i].help);
    }
    fprintf(out, "\nNODE is HOST:PORT, or a port alone when one node of the map has it. --host "
                 "and --port name the proxy (default 127.0.0.1:7000).\n"
                 "Exit status: 0 all is well, 1 failure or problems found, 2 bad arguments.\n");
}

static bool
wants_help(int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            return true;
        }
    }
    return false;
}

int
main(int argc, char **argv)
{
    struct cli_err err = {""};

    signal(SIGPIPE, SIG_IGN); /* a node closing on us is an error reply, not a death */
    if (argc < 2 || strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0) {
        print_help(argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    const struct command *c = find_command(argv[1]);
    if (c == NULL) {
        fprintf(stderr, "slotcache-cli: unknown command '%s' (slotcache-cli help lists them)\n",
                argv[1]);
        return CLI_EXIT_USAGE;
    }
    if (wants_help(argc - 2, argv + 2)) {
        printf("usage: slotcache-cli %s %s\n  %s\n", c->name, c->usage, c->help);
        return CLI_EXIT_OK;
    }
    int rc = c->run(argc - 2, argv + 2, &err);
    if (rc != CLI_EXIT_OK && err.msg[0] != '\0') {
        fprintf(stderr, "slotcache-cli %s: %s\n", c->name, err.msg);
    }
    if (rc == CLI_EXIT_USAGE) {
        fprintf(stderr, "usage: slotcache-cli %s %s\n", c->name, c->usage);
    }
    return rc;
}
