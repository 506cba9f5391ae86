/*
 * main.c -- slotcache-proxy: one Redis endpoint in front of many nodes.
 *
 *   slotcache-proxy [CONFIG-FILE] [--directive value ...]
 */
#include "common/conf.h"
#include "proxy/proxy.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

int
main(int argc, char **argv)
{
    if (argc == 2 && (strcmp(argv[1], "-v") == 0 || strcmp(argv[1], "--version") == 0)) {
        printf("slotcache-proxy v=0.1.0\n");
        return 0;
    }
    if (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        conf_print_help(proxy_options, "slotcache-proxy");
        return 0;
    }
    signal(SIGPIPE, SIG_IGN);
    proxy_configure(argc - 1, argv + 1);
    if (proxy_setup() != 0) {
        return 1;
    }
    proxy_run();
    proxy_teardown();
    return 0;
}
