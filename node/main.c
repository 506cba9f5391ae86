/*
 * main.c -- slotcache-node: a Redis-compatible cache server.
 *
 *   slotcache-node [CONFIG-FILE] [--directive value ...]
 */
#include "common/conf.h"
#include "node/server.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
main(int argc, char **argv)
{
    if (argc == 2 && (strcmp(argv[1], "-v") == 0 || strcmp(argv[1], "--version") == 0)) {
        printf("slotcache-node v=%s (redis %s compatible)\n", SLOTCACHE_VERSION,
               SERVER_REDIS_COMPAT);
        return 0;
    }
    if (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        conf_print_help(server_options, "slotcache-node");
        return 0;
    }
    signal(SIGPIPE, SIG_IGN); /* a peer that went away is an EPIPE, not a crash */
    server.executable = argv[0];
    server_configure(argc - 1, argv + 1);
    if (server_setup() != 0) {
        return 1;
    }
    server_run();
    server_teardown();
    return 0;
}
