/*
 * cli_up.h -- `slotcache-cli up` and `down`: a whole topology as local
 * processes on 127.0.0.1, and stopping exactly those.
 *
 * up starts, in order, a throwaway PostgreSQL (initdb + pg_ctl in the run
 * directory, as user postgres when we are root) filled with the sample data
 * (data/load), the nodes, slotcache-loader and slotcache-proxy, each with
 * the config files of docker/config/ -- the ones the compose files use --
 * and only addresses and ports given as --flags.  It returns once a key
 * that exists reads through the proxy, and prints where to connect.
 *
 * Ports follow from the proxy's (--port, 7000 by default):
 *
 *     proxy        PORT          proxy /metrics   PORT + 100
 *     node i       PORT + i      (i = 1..3)
 *     loader       PORT + 400    loader /metrics  PORT + 401
 *     PostgreSQL   PORT + 432
 *
 * A port already taken is an error: fixed ports are what a user types.
 * Every process is recorded in DIR/slotcache-up.pids as it starts
 * ("role pid port starttime [metrics-port]"); down stops those pids (never by name),
 * waits until they are gone and their ports closed, and removes the
 * database.  Logs stay in DIR.
 */
#pragma once

#include "cluster-tools/cli_util.h"

#define UP_DEFAULT_PORT 7000
#define UP_DEFAULT_ROWS 10000
#define UP_NODE_OFFSET 1
#define UP_PROXY_METRICS_OFFSET 100
#define UP_NODE_METRICS_OFFSET 101 /* node i's /metrics: port + 101 + i */
#define UP_LOADER_OFFSET 400
#define UP_LOADER_METRICS_OFFSET 401
#define UP_POSTGRES_OFFSET 432
#define UP_PORT_MAX (65535 - UP_POSTGRES_OFFSET)

struct up_options {
    const char *topology; /* central, partitioned or replicated */
    long long port;       /* the proxy's; the others follow */
    const char *dir;      /* NULL: run/ in the source tree */
    long long rows;       /* sample rows loaded into PostgreSQL */
};

/* Returns an exit status; on failure err says why, what was started has
 * been stopped, and the failing process's log was shown. */
int up_run(const struct up_options *o, struct cli_err *err);
/* Stops what `up` recorded in dir (NULL: run/ in the source tree). */
int down_run(const char *dir, struct cli_err *err);
