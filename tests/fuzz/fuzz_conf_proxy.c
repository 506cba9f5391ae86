/*
 * fuzz_conf_proxy.c -- libFuzzer harness for slotcache-proxy's config file
 * (see fuzz_conf.h): node and shard lines (slot ranges, HOST:PORT), user
 * lines and roles, write-quorum; an accepted file's users and shard map are
 * then built as at start-up, which is where a map with missing or doubly
 * owned slots is refused.
 */
#include "tests/fuzz/fuzz_conf.h"

#include "proxy/acl.h"
#include "proxy/proxy.h"
#include "proxy/router.h"
#include "tests/fuzz/fuzz.h"

static void
proxy_defaults(void)
{
    conf_defaults(proxy_options);
}

static void
proxy_check(void)
{
    char err[1024];

    acl_free(acl_build(proxy.users, proxy.nusers, proxy.opt.requirepass, err, sizeof(err)));
    router_free(router_build(&proxy.rcfg, err, sizeof(err)));
    router_teardown(); /* the members router_build created */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct fuzz_conf fc = {.opts = proxy_options,
                                        .defaults = proxy_defaults,
                                        .check = proxy_check,
                                        .free = proxy_config_free};
    return fuzz_conf_run(&fc, data, size);
}
