/*
 * fuzz_conf_node.c -- libFuzzer harness for slotcache-node's config file
 * (see fuzz_conf.h): its directives, memory units, eviction policy names,
 * client-output-buffer-limit classes.
 */
#include "tests/fuzz/fuzz_conf.h"

#include "node/server.h"
#include "tests/fuzz/fuzz.h"

static void
node_defaults(void)
{
    conf_defaults(server_options);
}

static void
node_free(void)
{
    conf_free(server_options);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct fuzz_conf fc = {
        .opts = server_options, .defaults = node_defaults, .free = node_free};
    return fuzz_conf_run(&fc, data, size);
}
