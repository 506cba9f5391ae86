/*
 * health.c -- see health.h.
 */
#include "proxy/health.h"

#include "common/log.h"
#include "proxy/back.h"
#include "proxy/msg.h"
#include "proxy/proxy.h"
#include "proxy/resync.h"
#include "proxy/router.h"

#include <stdio.h>
#include <string.h>

static ev_timer timer;

#define WAIT_REASON "missed writes while down: waiting for a member to copy from"

/* A DOWN member answered: it rejoins, refilled first if it has a peer.
 * Without one it serves alone only if it has every acknowledged write:
 * one that missed some (its shard went on without it, or its resync was
 * cut short) would answer with old values or none, and a member back after
 * it would be emptied and refilled from it.  It waits, DOWN, for the
 * member that went down last. */
static void
member_back(struct member *m)
{
    struct shard *s = m->shard;
    struct member *source = s != NULL ? router_read_member(s, m) : NULL;

    if (source == NULL && m->missed_writes) {
        if (strcmp(m->down_reason, WAIT_REASON) != 0) {
            log_warn("node %s answers again but missed writes while down; it waits for a "
                     "member to resynchronise from", m->addr);
            snprintf(m->down_reason, sizeof(m->down_reason), "%s", WAIT_REASON);
        }
        return;
    }
    /* Whatever its failed connections still hold must not land after what
     * follows: the FLUSHALL and copy of a resync, or new writes. */
    back_fence(m->conn);
    if (source != NULL) {
        log_notice("node %s is back; resynchronising it from %s", m->addr, source->addr);
        m->state = MEMBER_SYNCING;
        resync_start(m, source);
    } else {
        log_notice("node %s is back", m->addr);
        m->state = MEMBER_UP;
    }
}

static void
probe_done(struct msg *p)
{
    struct member *m = p->ctx;

    m->probing = false;
    if ((p->flags & MSG_FAILED) || p->rsp.len < 5 || memcmp(p->rsp.p, "+PONG", 5) != 0) {
        return; /* the connection already marked it down, or it is not ready */
    }
    if (m->state == MEMBER_DOWN && m->in_use) {
        member_back(m);
    }
}

static void
probe(struct member *m)
{
    struct msg *p = msg_get();

    m->probing = true;
    p->req = seg_const("*1\r\n$4\r\nPING\r\n", 14);
    p->on_done = probe_done;
    p->ctx = m;
    back_send(m->conn, p);
    msg_put(&p);
}

static void
on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)w;
    (void)revents;
    for (struct member *m = router_members(); m != NULL; m = m->next) {
        if (!m->in_use) {
            back_close_if_idle(m->conn);
            continue;
        }
        if (!m->probing) {
            probe(m);
        }
    }
}

void
health_setup(void)
{
    double every = (double)proxy.opt.health_interval_ms / 1000.0;
    ev_timer_init(&timer, on_timer, every, every);
    ev_timer_start(proxy.loop, &timer);
}

void
health_teardown(void)
{
    ev_timer_stop(proxy.loop, &timer);
}

void
health_member_down(struct member *m)
{
    resync_cancel(m);
}

void
health_forget(struct member *m)
{
    resync_cancel(m);
}
