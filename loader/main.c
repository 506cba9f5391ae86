/*
 * main.c -- slotcache-loader: answers cache misses from PostgreSQL.
 *
 *   slotcache-loader [CONFIG-FILE] [--directive value ...]
 */
#include "common/conf.h"
#include "loader/loader.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

int
main(int argc, char **argv)
{
    if (argc == 2 && (strcmp(argv[1], "-v") == 0 || strcmp(argv[1], "--version") == 0)) {
        printf("slotcache-loader v=%s\n", LOADER_VERSION);
        return 0;
    }
    if (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        conf_print_help(loader_options, "slotcache-loader");
        return 0;
    }
    signal(SIGPIPE, SIG_IGN); /* a peer that went away is an EPIPE, not a crash */
    loader_configure(argc - 1, argv + 1);
    int rc = loader_setup() == 0 ? 0 : 1;
    if (rc == 0) {
        loader_run();
    }
    loader_teardown();
    return rc;
}
