/*
 * hiredis_sync HOST PORT PREFIX: runs the compatibility script (script.h)
 * through hiredis's blocking API -- one redisCommandArgv() per command, and
 * the 100-command pipeline as redisAppendCommandArgv() x 100 followed by
 * redisGetReply() x 100 -- and prints the replies as JSON.  Exit status 1 if
 * the connection failed or broke.
 */
#include "script.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>

int
main(int argc, char **argv)
{
    static struct script s;
    static redisReply *replies[SCRIPT_MAX_CMDS];
    int bad = script_from_args(&s, argc, argv);
    if (bad != 0) {
        return bad;
    }
    struct timeval tv = {10, 0};
    redisContext *c = redisConnectWithTimeout(argv[1], atoi(argv[2]), tv);
    if (c == NULL || c->err) {
        fprintf(stderr, "connect: %s\n", c ? c->errstr : "out of memory");
        redisFree(c);
        return 1;
    }
    int rc = 0;
    for (int i = 0; i < s.ncmd && rc == 0;) {
        if (s.cmd[i].name != NULL) {
            replies[i] = redisCommandArgv(c, s.cmd[i].argc, s.cmd[i].argv, s.cmd[i].argvlen);
            rc = replies[i] == NULL ? 1 : 0;
            i++;
            continue;
        }
        int j = i;
        for (; j < s.ncmd && s.cmd[j].name == NULL; j++) {
            redisAppendCommandArgv(c, s.cmd[j].argc, s.cmd[j].argv, s.cmd[j].argvlen);
        }
        for (; i < j && rc == 0; i++) {
            void *r = NULL;
            rc = redisGetReply(c, &r) == REDIS_OK ? 0 : 1;
            replies[i] = r;
        }
    }
    if (rc != 0) {
        fprintf(stderr, "hiredis: %s\n", c->errstr);
    }
    script_print(&s, replies);
    for (int i = 0; i < s.ncmd; i++) {
        freeReplyObject(replies[i]);
    }
    redisFree(c);
    return rc;
}
