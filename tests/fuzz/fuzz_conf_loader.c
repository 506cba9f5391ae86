/*
 * fuzz_conf_loader.c -- libFuzzer harness for slotcache-loader's config
 * file (see fuzz_conf.h): route lines (prefix, SQL, TTL), pool and breaker
 * settings.
 */
#include "tests/fuzz/fuzz_conf.h"

#include "loader/loader.h"
#include "tests/fuzz/fuzz.h"

static void
loader_defaults(void)
{
    conf_defaults(loader_options);
    loader.routes.defaults = true; /* as loader_configure: a file's routes replace it */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct fuzz_conf fc = {
        .opts = loader_options, .defaults = loader_defaults, .free = loader_config_free};
    return fuzz_conf_run(&fc, data, size);
}
