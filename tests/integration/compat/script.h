/*
 * The compatibility script the hiredis programs run (test_compat.py holds the
 * same script for every other client, and the replies it expects): PING,
 * SET/GET with a binary value, MSET/MGET over keys in different slots, INCR,
 * EXPIRE/TTL, DEL, a pipeline of 100 commands, a missing key, an error reply.
 *
 * script_build() lays the commands out once; a program sends them its own
 * way (blocking, appended as a pipeline, or through the async API) and hands
 * each reply to script_print(), which writes the whole run as one JSON object
 * on stdout: {"name": reply, ..., "pipeline": [reply, ...]}.
 */
#pragma once

#include <stddef.h>

#include <hiredis/hiredis.h>

#define SCRIPT_MAX_ARGS 16
#define SCRIPT_MAX_CMDS 160
#define SCRIPT_ARENA 16384

struct script_cmd {
    const char *name; /* key of the reply in the JSON; NULL: one of "pipeline" */
    int argc;
    const char *argv[SCRIPT_MAX_ARGS];
    size_t argvlen[SCRIPT_MAX_ARGS];
    int hex; /* print a string reply as hex (the binary value) */
};

struct script {
    struct script_cmd cmd[SCRIPT_MAX_CMDS];
    int ncmd;
    char arena[SCRIPT_ARENA]; /* the keys and values argv points into */
    size_t used;
};

/* Fills s with the script, every key starting with prefix.  Returns 0, or -1
 * when the prefix is too long for the arena. */
int script_build(struct script *s, const char *prefix);

/* The programs' command line, HOST PORT PREFIX: builds s for PREFIX and
 * returns 0, or prints why not and returns the exit status (2). */
int script_from_args(struct script *s, int argc, char **argv);

/* Writes replies[i], the reply to s->cmd[i] (NULL: none came, printed as
 * {"error": "no reply"}), as the JSON object described above. */
void script_print(const struct script *s, redisReply *const *replies);
