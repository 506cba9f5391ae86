/*
 * fuzz_proxy.c -- libFuzzer harness for the proxy's request handling:
 * parsing, routing, splitting multi-key commands, transactions, replicated
 * writes, and merging what the nodes answer.
 *
 * The proxy runs with a partitioned topology of three shards of two
 * replicas each, but no node is contacted: requests are fed to a client
 * with front_feed() and the nodes' replies with back_feed(), so any reply a
 * node could send meets any request a client could send.  The input is a
 * sequence of records
 *
 *     [who: 1 byte][length: 1 byte][bytes]
 *
 * where who % 7 == 0 is the client and 1..6 are the six nodes.  After the
 * input, every node connection is failed (as if the nodes went away), the
 * client's replies are written to a socket and the client is freed; then no
 * message may remain (msg_in_use() == 0): everything routed was answered.
 */
#include "tests/fuzz/fuzz.h"

#include "common/buf.h"
#include "common/log.h"
#include "common/mem.h"
#include "proxy/acl.h"
#include "proxy/back.h"
#include "proxy/cmdtab.h"
#include "proxy/front.h"
#include "proxy/msg.h"
#include "proxy/proxy.h"
#include "proxy/readthru.h"
#include "proxy/router.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define FUZZ_NODES 6

static struct member *nodes[FUZZ_NODES];
static bool ready;

static void
setup_once(void)
{
    static char s0[] = "0-5460 127.0.0.1:7001 127.0.0.1:7002";
    static char s1[] = "5461-10922 127.0.0.1:7003 127.0.0.1:7004";
    static char s2[] = "10923-16383 127.0.0.1:7005 127.0.0.1:7006";
    static char *shards[] = {s0, s1, s2};
    /* Roles to reach: AUTH reader r / writer w, then commands they may not run. */
    static char u0[] = "reader readonly r", u1[] = "writer readwrite w";
    static char *users[] = {u0, u1};
    char err[256];

    conf_defaults(proxy_options);
    log_min_level = LL_NOTHING;
    proxy.loop = EV_DEFAULT;
    proxy.conns.loop = proxy.loop;
    proxy.rcfg.mode = MODE_PARTITIONED;
    proxy.rcfg.shards = shards;
    proxy.rcfg.nshards = 3;
    cmdtab_setup();
    msg_setup();
    front_setup();
    readthru_setup();
    struct acl_table *t = acl_build(users, 2, "", err, sizeof(err));
    sc_assert(t != NULL);
    acl_install(t);
    struct router *r = router_build(&proxy.rcfg, err, sizeof(err));
    sc_assert(r != NULL);
    router_install(r);
    for (int s = 0, i = 0; s < router->nshards; s++) {
        for (int j = 0; j < router->shards[s]->nmembers; j++) {
            nodes[i++] = router->shards[s]->members[j];
        }
    }
    ready = true;
}

/* Every node up, its connection "open" on a socket nobody reads. */
static void
reset_nodes(void)
{
    for (int i = 0; i < FUZZ_NODES; i++) {
        struct back *b = nodes[i]->conn;
        nodes[i]->state = MEMBER_UP;
        if (b->state != BACK_READY) {
            b->fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
            sc_assert(b->fd >= 0);
            b->state = BACK_READY;
        }
    }
}

/* Whatever was routed counts as written, so that replies may arrive. */
static void
mark_sent(void)
{
    for (int i = 0; i < FUZZ_NODES; i++) {
        nodes[i]->conn->unsent = NULL;
        nodes[i]->conn->unsent_off = 0;
    }
}

static void
drain(int fd)
{
    char sink[65536];
    while (read(fd, sink, sizeof(sink)) > 0) {
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int sv[2];

    if (!ready) {
        setup_once();
    }
    reset_nodes();
    sc_assert(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0);
    front_create(sv[0], NULL, "127.0.0.1:1");
    struct front *c = front_of(proxy.conns.all);

    for (size_t i = 0; i + 2 <= size;) {
        int who = data[i] % (FUZZ_NODES + 1);
        size_t len = MIN((size_t)data[i + 1], size - i - 2);
        const uint8_t *bytes = data + i + 2;
        i += 2 + len;
        if (who == 0) {
            front_feed(c, bytes, len);
        } else {
            mark_sent();
            back_feed(nodes[who - 1]->conn, bytes, len);
        }
        front_flush_all();
        drain(sv[1]);
        if (proxy.conns.all != &c->conn) {
            break; /* the client was closed (protocol error, QUIT) */
        }
    }
    /* The nodes go away: everything still waiting is answered with errors. */
    for (int i = 0; i < FUZZ_NODES; i++) {
        if (nodes[i]->conn->state != BACK_CLOSED) {
            back_fail(nodes[i]->conn, "fuzz input over");
        }
    }
    if (proxy.conns.all == &c->conn) {
        front_close_async(c);
    }
    front_flush_all();
    drain(sv[1]);
    close(sv[1]);
    sc_assert(msg_in_use() == 0);
    return 0;
}
