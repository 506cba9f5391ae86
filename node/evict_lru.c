/*
 * evict_lru.c -- allkeys-lru and volatile-lru as exact LRU.
 *
 * Redis approximates LRU by sampling keys and comparing access times kept by
 * a clock that ticks once a second; at high request rates most keys share a
 * tick and the choice degrades towards random.  Here every eligible key sits
 * in one doubly linked list in access order (the links are in the item, so
 * this costs no allocation): an access moves the key to the head, the victim
 * is the tail.  O(1) per access and per eviction, exact at any rate.
 */
#include "node/evict.h"

#include <stddef.h>

static struct item *head; /* most recently used */
static struct item *tail; /* least recently used: the next victim */

static void
lru_start(void)
{
    head = tail = NULL;
}

static void
lru_attach(struct item *it)
{
    it->prev = NULL;
    it->next = head;
    if (head != NULL) {
        head->prev = it;
    } else {
        tail = it;
    }
    head = it;
}

static void
lru_detach(struct item *it)
{
    if (it->prev != NULL) {
        it->prev->next = it->next;
    } else {
        head = it->next;
    }
    if (it->next != NULL) {
        it->next->prev = it->prev;
    } else {
        tail = it->prev;
    }
    it->prev = it->next = NULL;
}

static void
lru_touch(struct item *it)
{
    if (it != head) {
        lru_detach(it);
        lru_attach(it);
    }
}

/* to is a copy of from's header: point the neighbours at it. */
static void
lru_moved(struct item *from, struct item *to)
{
    if (to->prev != NULL) {
        to->prev->next = to;
    }
    if (to->next != NULL) {
        to->next->prev = to;
    }
    if (head == from) {
        head = to;
    }
    if (tail == from) {
        tail = to;
    }
}

static struct item *
lru_victim(void)
{
    return tail;
}

const struct evict_ops evict_lru_allkeys = {
    .name = "allkeys-lru",
    .start = lru_start,
    .stop = lru_start,
    .attach = lru_attach,
    .detach = lru_detach,
    .touch = lru_touch,
    .moved = lru_moved,
    .victim = lru_victim,
};

const struct evict_ops evict_lru_volatile = {
    .name = "volatile-lru",
    .volatile_only = true,
    .start = lru_start,
    .stop = lru_start,
    .attach = lru_attach,
    .detach = lru_detach,
    .touch = lru_touch,
    .moved = lru_moved,
    .victim = lru_victim,
};
