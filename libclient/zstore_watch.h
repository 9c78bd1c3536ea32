/*  =========================================================================
    zstore_watch - every change in a scope, exactly once, in revision order;
    zstore_mirror - a local, always-current copy of a group or namespace.

    A watch subscribes to its scope's topics on the broker's event socket,
    waits for its sync marker (PROTOCOL.md 4.1) and from then on delivers
    each change with a revision above the marker's. It checks every event's
    sequence number (seq, nseq or gseq, per epoch) and the heartbeats and
    beacons that reveal a lost last event. On a gap, a silent broker or an
    epoch change it replays the missing revisions from the broker's history;
    when history no longer reaches back (too_old) it reads a snapshot and
    delivers ZSTORE_CHANGE_RESYNC, then the scope's entries as
    ZSTORE_CHANGE_STATE, then live changes again. Duplicates (an event seen
    live and in a replay) are dropped by revision, so the application sees
    nothing twice and nothing out of order.

    A watch opens its own sockets (a SUB and a DEALER for repairs) from the
    client's endpoints and namespace at creation: it may live in another
    thread than that client, one thread at a time.
    =========================================================================
*/

#ifndef ZSTORE_WATCH_H_INCLUDED
#define ZSTORE_WATCH_H_INCLUDED

#include "zstore_client.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    ZSTORE_CHANGE_SET = 1,
    ZSTORE_CHANGE_DELETE = 2,
    ZSTORE_CHANGE_DELETE_GROUP = 3,     //  key empty: every key of the group is gone
    ZSTORE_CHANGE_EXPIRE = 4,
    ZSTORE_CHANGE_RESYNC = 5,           //  the watch re-read its scope at rev: forget what you knew
    ZSTORE_CHANGE_STATE = 6             //  one entry of the scope as of the resync's rev
} zstore_change_type_t;

//  "set", "delete", "delete_group", "expire", "resync", "state".
const char *
    zstore_change_type_name (zstore_change_type_t type);

//  A change. Its byte strings belong to the watch and stay valid until
//  the next call on it; each is followed by a NUL not counted in its size.
typedef struct {
    zstore_change_type_t type;
    const char *group;  size_t group_size;      //  the stored group name ("tenant-a:orders")
    const char *key;    size_t key_size;
    const char *value;  size_t value_size;      //  set and state
    uint64_t rev;                               //  the change's revision (resync: the
                                                //  snapshot's; state: the entry's mod_rev)
    uint64_t prev_rev;                          //  the key's mod_rev before, 0 if none
    uint64_t ts;                                //  Unix ms
    uint64_t expires_at;                        //  set/state with TTL, else 0
    uint64_t create_rev;                        //  state: the key's create_rev; set: rev when
                                                //  it created the key (prev_rev 0), else 0
} zstore_change_t;

typedef struct _zstore_watch_t zstore_watch_t;

//  go-store's Watch (group, key) with "*" as the wildcard, under the
//  client's namespace: (g, k) one key, (g, "*") a group, ("*", "*")
//  everything (with a namespace: the whole namespace), ("*", k) key k in
//  any group (filtered in the client). NULL on a bad argument, or when the
//  broker does not answer the sync within the client's timeout.
zstore_watch_t *
    zstore_watch_new (zstore_client_t *client, const char *group, const char *key);
//  Every group of namespace ns (the client's namespace is not applied).
zstore_watch_t *
    zstore_watch_new_namespace (zstore_client_t *client, const char *ns);
//  Keys of group starting with prefix.
zstore_watch_t *
    zstore_watch_new_prefix (zstore_client_t *client, const char *group, const char *prefix);

void
    zstore_watch_destroy (zstore_watch_t **self_p);

//  Waits up to timeout_ms (-1 = forever) for the next change. ZSTORE_OK
//  with *change filled; ZSTORE_TIMEOUT; ZSTORE_INTERRUPTED on SIGINT; or a
//  code when a repair failed (the watch retries on the next call). A
//  repair is a blocking request on the watch's own connection, bounded by
//  the client's timeout and retries rather than by timeout_ms.
int
    zstore_watch_next (zstore_watch_t *self, zstore_change_t *change, int timeout_ms);

//  The revision of the last change delivered (the start marker's at first).
uint64_t
    zstore_watch_rev (zstore_watch_t *self);

//  Counters of repairs, for monitoring and tests: gaps replayed from
//  history, and resyncs from a snapshot.
uint64_t
    zstore_watch_replays (zstore_watch_t *self);
uint64_t
    zstore_watch_resyncs (zstore_watch_t *self);

//  The SUB socket (a zsock_t *), to put the watch in a zpoller or zloop:
//  when it is readable, call zstore_watch_next with timeout 0 until it
//  returns ZSTORE_TIMEOUT (a repair queues many changes at once). Repairs
//  also happen on heartbeat silence, so call next at least every
//  heartbeat interval.
void *
    zstore_watch_socket (zstore_watch_t *self);

//  --- Mirror (the Clone pattern's client) --------------------------------

typedef struct _zstore_mirror_t zstore_mirror_t;

//  Snapshot + watch of one group (under the client's namespace), or of a
//  whole namespace. NULL if the broker does not answer.
zstore_mirror_t *
    zstore_mirror_new (zstore_client_t *client, const char *group);
zstore_mirror_t *
    zstore_mirror_new_namespace (zstore_client_t *client, const char *ns);
void
    zstore_mirror_destroy (zstore_mirror_t **self_p);

//  Applies every change that has arrived, waiting up to timeout_ms for the
//  first. Returns ZSTORE_OK (something or nothing applied), or a code.
int
    zstore_mirror_update (zstore_mirror_t *self, int timeout_ms);

//  The local entry, NULL if absent or expired by the local clock. group is
//  the stored name (with "ns:"); the entry stays valid until the next
//  update.
const zstore_entry_t *
    zstore_mirror_get (zstore_mirror_t *self, const char *group, const char *key);
size_t
    zstore_mirror_size (zstore_mirror_t *self);
//  The revision the mirror reflects.
uint64_t
    zstore_mirror_rev (zstore_mirror_t *self);
//  Every live entry, in (group, key) order, copied.
int
    zstore_mirror_entries (zstore_mirror_t *self, zstore_entries_t *entries);

#ifdef __cplusplus
}
#endif

#endif
