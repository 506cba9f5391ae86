/*
 * cluster.c -- see cluster.h.
 */
#include "proxy/cluster.h"

#include "common/net.h"
#include "common/reply.h"
#include "common/resp.h"
#include "common/sbuf.h"
#include "common/slot.h"
#include "proxy/front.h"
#include "proxy/msg.h"
#include "proxy/proxy.h"
#include "proxy/router.h"

#include <stdio.h>
#include <string.h>

/* The address clients should use: the one this client reached us at. */
static void
my_address(const struct front *c, char *ip, size_t len, int *port)
{
    char host[NET_ADDR_MAX];

    if (!net_parse_hostport(c->conn.laddr, host, sizeof(host), port)) {
        snprintf(host, sizeof(host), "127.0.0.1");
        *port = proxy.bound_port;
    }
    snprintf(ip, len, "%s", host);
}

static bool
cluster_ok(void)
{
    for (int i = 0; i < router->nshards; i++) {
        if (router_read_member(router->shards[i], NULL) == NULL) {
            return false;
        }
    }
    return true;
}

static void
slots(struct front *c, struct bufq *out)
{
    char ip[NET_ADDR_MAX];
    int port;

    my_address(c, ip, sizeof(ip), &port);
    resp_add_array(out, 1);
    resp_add_array(out, 3);
    resp_add_int(out, 0);
    resp_add_int(out, SLOT_COUNT - 1);
    resp_add_array(out, 3);
    resp_add_bulk_cstr(out, ip);
    resp_add_int(out, port);
    resp_add_bulk_cstr(out, proxy.run_id);
}

static void
shards(struct front *c, struct bufq *out)
{
    char ip[NET_ADDR_MAX];
    int port;

    my_address(c, ip, sizeof(ip), &port);
    resp_add_array(out, 1);
    resp_add_map(out, c->conn.resp, 2);
    resp_add_bulk_cstr(out, "slots");
    resp_add_array(out, 2);
    resp_add_int(out, 0);
    resp_add_int(out, SLOT_COUNT - 1);
    resp_add_bulk_cstr(out, "nodes");
    resp_add_array(out, 1);
    resp_add_map(out, c->conn.resp, 7);
    resp_add_bulk_cstr(out, "id");
    resp_add_bulk_cstr(out, proxy.run_id);
    resp_add_bulk_cstr(out, "port");
    resp_add_int(out, port);
    resp_add_bulk_cstr(out, "ip");
    resp_add_bulk_cstr(out, ip);
    resp_add_bulk_cstr(out, "endpoint");
    resp_add_bulk_cstr(out, ip);
    resp_add_bulk_cstr(out, "role");
    resp_add_bulk_cstr(out, "master");
    resp_add_bulk_cstr(out, "replication-offset");
    resp_add_int(out, 0);
    resp_add_bulk_cstr(out, "health");
    resp_add_bulk_cstr(out, cluster_ok() ? "online" : "failed");
}

static void
nodes(struct front *c, struct bufq *out)
{
    char ip[NET_ADDR_MAX], line[256];
    int port;

    my_address(c, ip, sizeof(ip), &port);
    int n = snprintf(line, sizeof(line), "%s %s:%d@%d myself,master - 0 0 1 connected 0-%d\n",
                     proxy.run_id, ip, port, port + 10000, SLOT_COUNT - 1);
    resp_add_bulk(out, line, (size_t)n);
}

static void
info(struct bufq *out)
{
    struct sbuf s;
    bool ok = cluster_ok();

    sbuf_init(&s);
    sbuf_printf(&s,
                "cluster_state:%s\r\ncluster_slots_assigned:%d\r\ncluster_slots_ok:%d\r\n"
                "cluster_slots_pfail:0\r\ncluster_slots_fail:%d\r\ncluster_known_nodes:1\r\n"
                "cluster_size:1\r\ncluster_current_epoch:1\r\ncluster_my_epoch:1\r\n"
                "cluster_stats_messages_sent:0\r\ncluster_stats_messages_received:0\r\n"
                "total_cluster_links_buffer_limit_exceeded:0\r\n",
                ok ? "ok" : "fail", SLOT_COUNT, ok ? SLOT_COUNT : 0, ok ? 0 : SLOT_COUNT);
    resp_add_bulk(out, s.data, s.len);
    sbuf_free(&s);
}

static void
help(struct bufq *out)
{
    static const char *const lines[] = {
        "CLUSTER <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "INFO", "    Cluster state as cluster clients expect it.",
        "KEYSLOT <key>", "    The hash slot of <key>.",
        "MYID", "    The proxy's node id.",
        "NODES", "    The proxy as the one node owning every slot.",
        "SHARDS", "    The proxy as the one shard owning every slot.",
        "SLOTS", "    The proxy as the owner of slots 0-16383.",
    };
    resp_add_array(out, ARRAY_LEN(lines));
    for (size_t i = 0; i < ARRAY_LEN(lines); i++) {
        resp_add_simple(out, lines[i], strlen(lines[i]));
    }
}

void
cluster_command(struct front *c, struct msg *m)
{
    struct bufq *out = front_out();
    const struct bstr *sub = &c->conn.argv[1];

    if (bstr_is(sub, "SLOTS") && c->conn.argc == 2) {
        slots(c, out);
    } else if (bstr_is(sub, "SHARDS") && c->conn.argc == 2) {
        shards(c, out);
    } else if (bstr_is(sub, "NODES") && c->conn.argc == 2) {
        nodes(c, out);
    } else if (bstr_is(sub, "INFO") && c->conn.argc == 2) {
        info(out);
    } else if (bstr_is(sub, "MYID") && c->conn.argc == 2) {
        resp_add_bulk_cstr(out, proxy.run_id);
    } else if (bstr_is(sub, "KEYSLOT") && c->conn.argc == 3) {
        resp_add_int(out, slot_of(c->conn.argv[2].data, c->conn.argv[2].len));
    } else if (bstr_is(sub, "HELP") && c->conn.argc == 2) {
        help(out);
    } else {
        reply_unknown_subcommand(out, sub, "CLUSTER");
    }
    front_answer(m);
}
