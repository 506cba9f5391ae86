/*
 * hiredis_async HOST PORT PREFIX: runs the compatibility script (script.h)
 * through hiredis's async API on a libev loop (adapters/libev.h): every
 * command is queued at once with redisAsyncCommandArgv(), so they travel
 * pipelined; each callback keeps its reply, the last one disconnects, and
 * the replies are printed as JSON once the loop has nothing left to do.
 * Exit status 1 if the connection failed or broke before the last reply.
 */
#include "script.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>
#include <hiredis/adapters/libev.h>
#include <hiredis/async.h>

static struct script s;
static redisReply *replies[SCRIPT_MAX_CMDS];
static int nreplies;
static int failed;

/* hiredis 0.14 frees a reply when its callback returns (it has no
 * REDIS_NO_AUTO_FREE), so the callback keeps a copy, freed with
 * freeReplyObject() like any reply. */
static redisReply *
copy_reply(const redisReply *r)
{
    redisReply *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        abort();
    }
    c->type = r->type;
    c->integer = r->integer;
    if (r->str != NULL) {
        c->str = malloc(r->len + 1);
        if (c->str == NULL) {
            abort();
        }
        memcpy(c->str, r->str, r->len + 1);
        c->len = r->len;
    }
    if (r->type == REDIS_REPLY_ARRAY && r->elements > 0) {
        c->element = calloc(r->elements, sizeof(*c->element));
        if (c->element == NULL) {
            abort();
        }
        c->elements = r->elements;
        for (size_t i = 0; i < r->elements; i++) {
            c->element[i] = copy_reply(r->element[i]);
        }
    }
    return c;
}

static void
on_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
    int i = (int)(intptr_t)privdata;
    if (reply == NULL) {
        failed = 1;
        return;
    }
    replies[i] = copy_reply(reply);
    if (++nreplies == s.ncmd) {
        redisAsyncDisconnect(ac);
    }
}

static void
on_connect(const redisAsyncContext *ac, int status)
{
    if (status != REDIS_OK) {
        fprintf(stderr, "connect: %s\n", ac->errstr);
        failed = 1;
    }
}

static void
on_disconnect(const redisAsyncContext *ac, int status)
{
    if (status != REDIS_OK) {
        fprintf(stderr, "disconnected: %s\n", ac->errstr);
        failed = 1;
    }
}

int
main(int argc, char **argv)
{
    int bad = script_from_args(&s, argc, argv);
    if (bad != 0) {
        return bad;
    }
    struct ev_loop *loop = ev_default_loop(0);
    redisAsyncContext *ac = redisAsyncConnect(argv[1], atoi(argv[2]));
    if (ac == NULL || ac->err) {
        fprintf(stderr, "connect: %s\n", ac ? ac->errstr : "out of memory");
        return 1;
    }
    redisLibevAttach(loop, ac);
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    for (int i = 0; i < s.ncmd; i++) {
        redisAsyncCommandArgv(ac, on_reply, (void *)(intptr_t)i, s.cmd[i].argc, s.cmd[i].argv,
                              s.cmd[i].argvlen);
    }
    ev_run(loop, 0);
    script_print(&s, replies);
    for (int i = 0; i < s.ncmd; i++) {
        freeReplyObject(replies[i]);
    }
    ev_loop_destroy(loop);
    return failed || nreplies != s.ncmd;
}
