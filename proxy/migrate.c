/*
 * migrate.c -- see migrate.h.
 */
#include "proxy/migrate.h"

#include "common/log.h"
#include "common/mem.h"
#include "common/sbuf.h"
#include "common/slot.h"
#include "proxy/proxy.h"
#include "proxy/resync.h"
#include "proxy/router.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define MIGRATE_SOURCES_MAX ROUTER_SHARDS_MAX

enum mig_state { MIG_NONE, MIG_CLEANING, MIG_COPYING, MIG_SOURCE_CLEANUP, MIG_DONE, MIG_FAILED };

static const char *const state_names[] = {"none", "cleaning", "copying", "cleaning-source",
                                          "done", "failed"};

static struct {
    int state;
    bool dual; /* writes to the slots also go to the target */
    uint8_t slots[SLOT_BITMAP_BYTES];
    char *slots_text; /* owned */
    char to_text[512];
    struct shard *to;
    struct shard *sources[MIGRATE_SOURCES_MAX];
    int nsources, next_source;
    int pending; /* jobs of the current phase not finished */
    bool phase_failed;
    uint64_t copied, deleted;
    long long started_ms, finished_ms;
    char error[256];
} mig;

static void next_phase(void);

static void
fail(const char *why)
{
    log_warn("slot move of %s to %s failed: %s", mig.slots_text, mig.to_text, why);
    snprintf(mig.error, sizeof(mig.error), "%s", why);
    mig.state = MIG_FAILED;
    mig.dual = false;
    mig.finished_ms = proxy_now_ms();
}

/* Every job reports here; the phase moves on once all of its jobs did. */
static void
job_done(void *ctx, bool ok, uint64_t keys)
{
    (void)ctx;
    if (mig.state == MIG_COPYING) {
        mig.copied += keys;
    } else {
        mig.deleted += keys;
    }
    mig.phase_failed |= !ok;
    if (--mig.pending == 0) {
        next_phase();
    }
}

/* (1) Keys of the slots the target may keep from an earlier ownership. */
static void
start_cleaning(void)
{
    mig.state = MIG_CLEANING;
    mig.pending = mig.to->nmembers + 1; /* held until every job has started */
    for (int i = 0; i < mig.to->nmembers; i++) {
        resync_delete_slots(mig.to->members[i], mig.slots, job_done, NULL);
    }
    job_done(NULL, true, 0);
}

/* (2) From one source shard at a time, into every member of the target. */
static void
copy_next_source(void)
{
    struct shard *src = mig.sources[mig.next_source++];
    struct member *from = router_read_member(src, NULL);

    if (from == NULL) {
        fail("a source shard has no node up");
        return;
    }
    mig.pending = mig.to->nmembers + 1;
    for (int i = 0; i < mig.to->nmembers; i++) {
        resync_copy_slots(mig.to->members[i], from, mig.slots, job_done, NULL);
    }
    job_done(NULL, true, 0);
}

/* (4) The old owners let go of the keys. */
static void
start_source_cleanup(void)
{
    mig.state = MIG_SOURCE_CLEANUP;
    mig.pending = 1;
    for (int s = 0; s < mig.nsources; s++) {
        for (int i = 0; i < mig.sources[s]->nmembers; i++) {
            mig.pending++;
            resync_delete_slots(mig.sources[s]->members[i], mig.slots, job_done, NULL);
        }
    }
    job_done(NULL, true, 0);
}

static void
finish(void)
{
    char err[256];

    mig.state = MIG_DONE;
    mig.finished_ms = proxy_now_ms();
    router_retire_empty();
    log_notice("slots %s moved to %s: %llu keys copied, %llu deleted, %lld ms", mig.slots_text,
               mig.to_text, (unsigned long long)mig.copied, (unsigned long long)mig.deleted,
               mig.finished_ms - mig.started_ms);
    if (proxy.config_file != NULL && migrate_rewrite_config(err, sizeof(err)) != SC_OK) {
        log_warn("the move is done but the config file was not rewritten: %s", err);
    }
}

static void
next_phase(void)
{
    if (mig.phase_failed) {
        mig.phase_failed = false;
        if (mig.state == MIG_SOURCE_CLEANUP) {
            /* The slots moved; only leftovers remain on an old owner. */
            log_warn("slot move: some keys could not be deleted from their old owner");
            finish();
            return;
        }
        fail("a node went down during the move");
        return;
    }
    switch (mig.state) {
    case MIG_CLEANING:
        mig.state = MIG_COPYING;
        mig.dual = true; /* from here on the target gets every write of the slots */
        copy_next_source();
        break;
    case MIG_COPYING:
        if (mig.next_source < mig.nsources) {
            copy_next_source();
            break;
        }
        /* (3) The switch: from now on the slots are the target's alone. */
        mig.dual = false;
        router_move_slots(mig.slots, mig.to);
        start_source_cleanup();
        break;
    case MIG_SOURCE_CLEANUP:
        finish();
        break;
    default:
        break;
    }
}

static int
collect_sources(char *err, size_t errlen)
{
    bool any = false;

    mig.nsources = 0;
    for (unsigned slot = 0; slot < SLOT_COUNT; slot++) {
        if (!slot_bitmap_has(mig.slots, slot)) {
            continue;
        }
        struct shard *owner = router_shard_of(slot);
        if (owner == mig.to) {
            mig.slots[slot >> 3] &= (uint8_t) ~(1u << (slot & 7)); /* already there */
            continue;
        }
        any = true;
        bool known = false;
        for (int i = 0; i < mig.nsources && !known; i++) {
            known = mig.sources[i] == owner;
        }
        if (!known) {
            mig.sources[mig.nsources++] = owner;
        }
    }
    if (!any) {
        snprintf(err, errlen, "the target already owns those slots");
        return SC_ERR;
    }
    return SC_OK;
}

static bool
all_members_up(char *err, size_t errlen)
{
    for (int i = 0; i < router->nshards; i++) {
        for (int j = 0; j < router->shards[i]->nmembers; j++) {
            const struct member *m = router->shards[i]->members[j];
            if (m->state != MEMBER_UP) {
                snprintf(err, errlen, "node %s is %s: moves need every node up", m->addr,
                         member_state_name(m->state));
                return false;
            }
        }
    }
    return true;
}

int
migrate_start(const char *slots, char **addrs, int naddrs, char *err, size_t errlen)
{
    struct member *m[SHARD_MEMBERS_MAX];

    if (mig.state >= MIG_CLEANING && mig.state <= MIG_SOURCE_CLEANUP) {
        snprintf(err, errlen, "a move is already running (%s)", state_names[mig.state]);
        return SC_ERR;
    }
    if (router->mode != MODE_PARTITIONED) {
        snprintf(err, errlen, "slots move between shards in partitioned mode only");
        return SC_ERR;
    }
    if (naddrs < 1 || naddrs > SHARD_MEMBERS_MAX) {
        snprintf(err, errlen, "give the target shard's node addresses");
        return SC_ERR;
    }
    uint8_t bm[SLOT_BITMAP_BYTES];
    if (!slot_bitmap_parse(bm, slots)) {
        snprintf(err, errlen, "bad slot list '%s' (slots are 0-16383)", slots);
        return SC_ERR;
    }
    for (int i = 0; i < naddrs; i++) {
        if ((m[i] = router_member(addrs[i], err, errlen)) == NULL) {
            return SC_ERR;
        }
    }
    if (!all_members_up(err, errlen)) {
        return SC_ERR;
    }
    struct shard *to = router_shard_with(m, naddrs, err, errlen);
    if (to == NULL) {
        return SC_ERR;
    }
    mem_free(mig.slots_text);
    memset(&mig, 0, sizeof(mig));
    memcpy(mig.slots, bm, sizeof(bm));
    mig.to = to;
    if (collect_sources(err, errlen) != SC_OK) {
        router_retire_empty(); /* a new, still empty target shard goes again */
        return SC_ERR;
    }
    mig.slots_text = slot_bitmap_text(mig.slots);
    size_t n = 0;
    for (int i = 0; i < naddrs && n < sizeof(mig.to_text); i++) {
        n += (size_t)snprintf(mig.to_text + n, sizeof(mig.to_text) - n, "%s%s", i ? " " : "",
                              addrs[i]);
    }
    mig.started_ms = proxy_now_ms();
    log_notice("moving slots %s to %s (from %d shard(s))", mig.slots_text, mig.to_text,
               mig.nsources);
    start_cleaning();
    return SC_OK;
}

bool
migrate_moving(unsigned slot)
{
    return mig.dual && slot_bitmap_has(mig.slots, slot);
}

int
migrate_dual_targets(unsigned slot, struct member **targets)
{
    if (!migrate_moving(slot)) {
        return 0;
    }
    for (int i = 0; i < mig.to->nmembers; i++) {
        targets[i] = mig.to->members[i];
    }
    return mig.to->nmembers;
}

void
migrate_describe(struct sbuf *s)
{
    sbuf_printf(s, "state:%s\r\nslots:%s\r\nto:%s\r\nkeys_copied:%llu\r\nkeys_deleted:%llu\r\n"
                   "started_ms:%lld\r\nfinished_ms:%lld\r\nerror:%s\r\n",
                state_names[mig.state], mig.slots_text != NULL ? mig.slots_text : "", mig.to_text,
                (unsigned long long)mig.copied, (unsigned long long)mig.deleted, mig.started_ms,
                mig.finished_ms, mig.error);
}

static bool
topology_line(const char *line)
{
    char word[16];
    if (sscanf(line, " %15s", word) != 1) {
        return false;
    }
    return strcasecmp(word, "mode") == 0 || strcasecmp(word, "node") == 0 ||
           strcasecmp(word, "shard") == 0;
}

int
migrate_rewrite_config(char *err, size_t errlen)
{
    char tmp[4096];
    const char *path = proxy.config_file;

    if (path == NULL) {
        snprintf(err, errlen, "the proxy was started without a config file");
        return SC_ERR;
    }
    FILE *in = fopen(path, "r");
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *out = fopen(tmp, "w");
    if (in == NULL || out == NULL) {
        snprintf(err, errlen, "%s: %s", in == NULL ? path : tmp, strerror(errno));
        if (in != NULL) {
            fclose(in);
        }
        if (out != NULL) {
            fclose(out);
        }
        return SC_ERR;
    }
    /* getline: a shard's slot list can run to tens of kilobytes. */
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, in) != -1) {
        if (!topology_line(line)) {
            fputs(line, out);
        }
    }
    free(line); /* getline's, not mem_alloc's */
    fclose(in);
    struct sbuf shard;
    sbuf_init(&shard);
    fprintf(out, "mode partitioned\n");
    for (int i = 0; i < router->nshards; i++) {
        sbuf_reset(&shard);
        router_shard_line(router->shards[i], &shard);
        fprintf(out, "shard %s\n", shard.data != NULL ? shard.data : "");
    }
    sbuf_free(&shard);
    if (fclose(out) != 0 || rename(tmp, path) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        unlink(tmp);
        return SC_ERR;
    }
    proxy_config_topology_changed();
    return SC_OK;
}

void
migrate_teardown(void)
{
    resync_abort_all();
    mig.dual = false;
    mem_free(mig.slots_text);
    mig.slots_text = NULL;
}
