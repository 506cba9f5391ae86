/*
 * health.h -- health checks: every health-interval each member of the
 * topology gets a PING.  A member that fails (a connection error, a request
 * past node-timeout) is marked DOWN by its connection; a DOWN member that
 * answers again comes back UP, or SYNCING when its shard has another UP
 * member to copy from (resync.h), since it missed writes while down.
 */
#pragma once

struct member;

void health_setup(void);
void health_teardown(void);
/* m just went DOWN: stop any resync it was part of. */
void health_member_down(struct member *m);
/* m left the topology (reload) or the proxy is stopping. */
void health_forget(struct member *m);
