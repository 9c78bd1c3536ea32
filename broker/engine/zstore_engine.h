/*  =========================================================================
    zstore_engine - go-store's group-namespaced key-value store over SQLite

    One engine = one SQLite database (a file path or ":memory:"). It knows
    nothing about sockets: the broker owns one engine and puts it behind
    ZeroMQ. The behaviour is go-store's (see shared/spec), plus revisions,
    compare-and-set, atomic quotas, observable expiry, byte-exact prefixes,
    cursor pages and an ordered event sink.

    Conventions
    - Groups, keys and values are arbitrary byte strings (NUL bytes allowed),
      passed as zstore_bytes_t. zstore_str() wraps a C string.
    - Every operation returns a zstore_code_t: ZSTORE_OK (0) or an error code.
      The message of the last failure (go-store's text where go-store has
      one) is zstore_engine_error().
    - Mutations report the revision they committed in *revision_p (may be
      NULL); 0 means nothing changed (deleting a missing key, say).
    - Lists returned through **list_p belong to the caller
      (zstore_list_destroy).
    - An engine is not thread-safe: one thread (the broker's loop) owns it.
      Several processes may open the same file; writes serialise on
      SQLite's write lock (BEGIN IMMEDIATE, busy timeout 5 s).
    =========================================================================
*/

#ifndef ZSTORE_ENGINE_H_INCLUDED
#define ZSTORE_ENGINE_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zstore_list.h"

#ifdef __cplusplus
extern "C" {
#endif

//  Result codes. The numbers are stable: the wire protocol uses them.
typedef enum {
    ZSTORE_OK = 0,
    ZSTORE_NOT_FOUND = 1,           //  key absent or expired
    ZSTORE_QUOTA_EXCEEDED = 2,      //  namespace key or group limit reached
    ZSTORE_INVALID = 3,             //  bad argument (namespace, offset, template...)
    ZSTORE_CLOSED = 4,              //  the engine was closed
    ZSTORE_CONFLICT = 5,            //  compare-and-set revision mismatch
    ZSTORE_INTERNAL = 6,            //  SQLite or system failure
    ZSTORE_TOO_OLD = 7              //  history no longer reaches back that far
} zstore_code_t;

//  Stable lower-case name of a code: "ok", "not_found", "quota_exceeded",
//  "invalid", "closed", "conflict", "internal", "too_old"; "unknown" otherwise.
const char *
    zstore_engine_code_name (int code);

//  A byte string: data need not be NUL-terminated.
typedef struct {
    const char *data;
    size_t size;
} zstore_bytes_t;

static inline zstore_bytes_t
zstore_bytes (const void *data, size_t size)
{
    zstore_bytes_t bytes = { (const char *) data, size };
    return bytes;
}

//  Wraps a NUL-terminated string (NULL gives the empty string).
zstore_bytes_t
    zstore_str (const char *string);

//  The group go-store's scoped Get/Set use when none is given.
#define ZSTORE_DEFAULT_GROUP "default"

//  Compare-and-set: "no condition". 0 means "the key must not exist",
//  N > 0 means "the key's modification revision must be N".
#define ZSTORE_ANY_REVISION (-1)

//  Options of a write. ZSTORE_WRITE_DEFAULTS: no TTL, unconditional.
typedef struct {
    bool has_ttl;                   //  false: the row never expires (Set clears a TTL)
    int64_t ttl_ms;                 //  with has_ttl; <= 0 writes an already-expired row
    int64_t if_revision;            //  ZSTORE_ANY_REVISION, 0, or a revision
} zstore_write_t;

#define ZSTORE_WRITE_DEFAULTS { false, 0, ZSTORE_ANY_REVISION }

//  A value read with its metadata. zstore_value_reset frees data.
typedef struct {
    char *data;                     //  NUL-terminated copy (size excludes the NUL)
    size_t size;
    uint64_t create_revision;       //  revision that created the key
    uint64_t mod_revision;          //  revision that last modified it
    int64_t expires_at;             //  Unix ms, 0 = never
} zstore_value_t;

void
    zstore_value_reset (zstore_value_t *value);

//  ---------------------------------------------------------------------
//  Events: every committed change, in commit order, after the commit.

typedef enum {
    ZSTORE_EVENT_SET = 0,
    ZSTORE_EVENT_DELETE = 1,
    ZSTORE_EVENT_DELETE_GROUP = 2,
    ZSTORE_EVENT_EXPIRE = 3
} zstore_event_type_t;

//  "set", "delete", "delete_group", "expire"; "unknown" otherwise.
const char *
    zstore_event_type_name (int type);

typedef struct {
    zstore_event_type_t type;
    zstore_bytes_t group;
    zstore_bytes_t key;             //  empty for delete_group
    zstore_bytes_t value;           //  set only
    uint64_t revision;              //  revision of the change (shared by a transaction)
    uint64_t prev_revision;         //  the key's previous mod revision, 0 if it was absent
    int64_t timestamp;              //  Unix ms when the change was made
    int64_t expires_at;             //  set with TTL: Unix ms; else 0
    uint32_t index;                 //  position within its change, from 0
    uint32_t count;                 //  events in its change
} zstore_event_t;

//  Called for each committed event; the event is valid during the call only.
//  Must not call back into the engine.
typedef void (zstore_event_fn) (const zstore_event_t *event, void *arg);

//  Milliseconds since the Unix epoch; replaceable for tests and simulations.
typedef int64_t (zstore_clock_fn) (void *arg);

//  SQLite's synchronous setting for a file database.
typedef enum {
    ZSTORE_SYNC_FULL = 0,           //  fsync at every commit (default, as go-store)
    ZSTORE_SYNC_NORMAL = 1,         //  WAL without per-commit fsync
    ZSTORE_SYNC_OFF = 2
} zstore_sync_t;

//  ---------------------------------------------------------------------
//  The engine

typedef struct _zstore_engine_t zstore_engine_t;

//  Opens (creating or migrating) the database at path. Returns NULL on
//  failure and, if error_p is not NULL, a message the caller frees
//  ("store.New: ...").
zstore_engine_t *
    zstore_engine_new (const char *path, char **error_p);

//  Closes (if open) and frees the engine; nulls the reference.
void
    zstore_engine_destroy (zstore_engine_t **self_p);

//  Closes the database. Idempotent. Afterwards every operation returns
//  ZSTORE_CLOSED. An open transaction is rolled back.
int
    zstore_engine_close (zstore_engine_t *self);

bool
    zstore_engine_is_closed (zstore_engine_t *self);

const char *
    zstore_engine_path (zstore_engine_t *self);

//  Message of the last failure on this engine ("" if none).
const char *
    zstore_engine_error (zstore_engine_t *self);

//  The last committed revision.
uint64_t
    zstore_engine_revision (zstore_engine_t *self);

int
    zstore_engine_set_synchronous (zstore_engine_t *self, zstore_sync_t mode);

//  SQLite's page cache for this handle, in KiB (64 and up; SQLite's
//  default is 2000). Pages missing from it are read from the file (the
//  OS cache) with a system call each.
int
    zstore_engine_set_cache_size (zstore_engine_t *self, int64_t kib);

//  Background checkpoints (zstore_engine_checkpoint.c): a thread with its
//  own connection copies the WAL into the database every interval_ms, and
//  this handle's commits stop checkpointing, so no request waits for one.
//  0 turns them off (SQLite's own, in the commit, again). A memory
//  database has no WAL: nothing to do.
int
    zstore_engine_set_background_checkpoints (zstore_engine_t *self, int interval_ms);

//  The WAL's size limit in KiB (0: none, SQLite's way). With background
//  checkpoints a steady stream of writes never leaves the checkpointer a
//  moment to catch up, and the WAL would grow without end; past the limit
//  the checkpointer briefly holds writers off (a RESTART checkpoint that
//  never waits) so that the next write starts the WAL over, and the file is
//  cut back to the limit then (journal_size_limit).
int
    zstore_engine_set_wal_limit (zstore_engine_t *self, int64_t kib);

//  The WAL's file (zstore_engine_wal.c), for a thread that makes commits
//  durable after they were written with synchronous=NORMAL: a commit is on
//  disk once a zstore_wal_file_sync that started after it returned 0.
//  NULL for a memory database. zstore_wal_file_sync may run on any thread,
//  while the engine writes; it returns 0 or an errno.
typedef struct _zstore_wal_file_t zstore_wal_file_t;

zstore_wal_file_t *
    zstore_engine_wal_file (zstore_engine_t *self);
int
    zstore_wal_file_sync (zstore_wal_file_t *self);
void
    zstore_wal_file_destroy (zstore_wal_file_t **self_p);

//  An engine's connection writes its WAL through zstore_wal_vfs.c: each
//  commit's frames in one system call. The writes it has issued to WAL
//  files, in this process (for tests and profiles).
uint64_t
    zstore_wal_vfs_writes (void);

typedef struct {
    uint64_t runs;                  //  checkpoints attempted
    uint64_t failures;              //  that failed (BUSY is not a failure)
    uint64_t wal_frames;            //  frames in the WAL at the last one
    uint64_t copied;                //  of those, in the database after it
    uint64_t restarts;              //  RESTARTs past the WAL limit that succeeded
} zstore_checkpoint_stats_t;

//  The background checkpoints' counters, once more than after_runs ran or
//  timeout_ms passed; false if no more ran (or they are off).
bool
    zstore_engine_checkpoint_stats (zstore_engine_t *self, uint64_t after_runs, int timeout_ms,
                                    zstore_checkpoint_stats_t *stats);

void
    zstore_engine_set_clock (zstore_engine_t *self, zstore_clock_fn *clock, void *arg);

int64_t
    zstore_engine_now (zstore_engine_t *self);

//  Registers an event callback; returns its id (> 0) for
//  zstore_engine_remove_event_sink, or -1 if closed or fn is NULL.
//  Callbacks run in registration order.
int
    zstore_engine_add_event_sink (zstore_engine_t *self, zstore_event_fn *fn, void *arg);

//  Unregisters a callback. Idempotent.
void
    zstore_engine_remove_event_sink (zstore_engine_t *self, int sink_id);

//  --- Keys -------------------------------------------------------------

//  Reads a live key. An expired key is removed (an expire event) and
//  reported ZSTORE_NOT_FOUND. value may be NULL to test for presence.
int
    zstore_engine_get (zstore_engine_t *self, zstore_bytes_t group, zstore_bytes_t key,
                       zstore_value_t *value);

//  Upsert. Set clears any TTL; with a TTL the expiry is refreshed. Always
//  emits a set event. options may be NULL (ZSTORE_WRITE_DEFAULTS).
int
    zstore_engine_put (zstore_engine_t *self, zstore_bytes_t group, zstore_bytes_t key,
                       zstore_bytes_t value, const zstore_write_t *options,
                       uint64_t *revision_p);

//  go-store's Set and SetWithTTL.
int
    zstore_engine_set (zstore_engine_t *self, zstore_bytes_t group, zstore_bytes_t key,
                       zstore_bytes_t value, uint64_t *revision_p);
int
    zstore_engine_set_with_ttl (zstore_engine_t *self, zstore_bytes_t group,
                                zstore_bytes_t key, zstore_bytes_t value, int64_t ttl_ms,
                                uint64_t *revision_p);

//  Deletes a key (a delete event if a row, even an expired one, was
//  removed). if_revision as in zstore_write_t.
int
    zstore_engine_delete (zstore_engine_t *self, zstore_bytes_t group, zstore_bytes_t key,
                          int64_t if_revision, uint64_t *revision_p);

//  Pure reads: no lazy removal.
int
    zstore_engine_exists (zstore_engine_t *self, zstore_bytes_t group, zstore_bytes_t key,
                          bool *exists_p);
int
    zstore_engine_group_exists (zstore_engine_t *self, zstore_bytes_t group, bool *exists_p);

//  Live keys of a group.
int
    zstore_engine_count (zstore_engine_t *self, zstore_bytes_t group, int64_t *count_p);

//  --- Groups -----------------------------------------------------------

//  Deletes every row of a group, expired ones too: one delete_group event.
int
    zstore_engine_delete_group (zstore_engine_t *self, zstore_bytes_t group,
                                uint64_t *revision_p);

//  Deletes every group whose name starts with prefix (byte-exact; "" = all),
//  atomically: one delete_group event per group, ascending.
int
    zstore_engine_delete_prefix (zstore_engine_t *self, zstore_bytes_t prefix,
                                 uint64_t *revision_p);

//  Live rows of a group, ascending by key (byte order).
int
    zstore_engine_get_all (zstore_engine_t *self, zstore_bytes_t group, zstore_list_t **list_p);

//  go-store's GetPage: negative offset or limit is ZSTORE_INVALID; limit 0
//  gives an empty page.
int
    zstore_engine_get_page (zstore_engine_t *self, zstore_bytes_t group, int64_t offset,
                            int64_t limit, zstore_list_t **list_p);

//  Cursor page: up to limit live rows with key > *after (after NULL: from
//  the first key). Cost does not depend on how deep the page is.
int
    zstore_engine_get_page_after (zstore_engine_t *self, zstore_bytes_t group,
                                  const zstore_bytes_t *after, int64_t limit,
                                  zstore_list_t **list_p);

//  Calls fn for each live row of a group in key order; fn returns non-zero
//  to stop early. fn must not call back into the engine.
typedef int (zstore_item_fn) (const zstore_item_t *item, void *arg);
int
    zstore_engine_each (zstore_engine_t *self, zstore_bytes_t group, zstore_item_fn *fn,
                        void *arg);

//  Live rows in all groups starting with prefix ("" = all).
int
    zstore_engine_count_all (zstore_engine_t *self, zstore_bytes_t prefix, int64_t *count_p);

//  Names of groups with live rows starting with prefix, ascending; the
//  names are the items' keys.
int
    zstore_engine_groups (zstore_engine_t *self, zstore_bytes_t prefix, zstore_list_t **list_p);

//  --- Values and templates ---------------------------------------------

//  Go's strings.Split of the value (sep "" splits into UTF-8 sequences).
int
    zstore_engine_get_split (zstore_engine_t *self, zstore_bytes_t group, zstore_bytes_t key,
                             zstore_bytes_t separator, zstore_list_t **parts_p);

//  Go's strings.Fields of the value (runs of Unicode white space).
int
    zstore_engine_get_fields (zstore_engine_t *self, zstore_bytes_t group, zstore_bytes_t key,
                              zstore_list_t **parts_p);

//  Renders a template (see zstore_template.h for the subset) with the live
//  rows of group as data. *output_p is NUL-terminated; the caller frees it.
int
    zstore_engine_render (zstore_engine_t *self, zstore_bytes_t template_source,
                          zstore_bytes_t group, char **output_p, size_t *size_p);

//  --- Expiry -----------------------------------------------------------

//  Removes every expired row (expire events), in chunks of bounded size,
//  each chunk its own commit. *removed_p gets the total.
int
    zstore_engine_purge_expired (zstore_engine_t *self, int64_t *removed_p);

//  Removes at most max_rows expired rows in one commit. *removed_p < max_rows
//  means nothing expired is left (as of now).
int
    zstore_engine_purge_expired_step (zstore_engine_t *self, int64_t max_rows,
                                      int64_t *removed_p);

//  --- Transactions -----------------------------------------------------

//  Opens a transaction: until commit or rollback every operation on this
//  engine belongs to it and sees its writes. Its changes share one
//  revision; its events come out after the commit, in order.
int
    zstore_engine_begin (zstore_engine_t *self);

//  Commits; *revision_p gets the transaction's revision (0 if it changed
//  nothing). If an operation inside failed with ZSTORE_INTERNAL the
//  transaction is rolled back instead and the error returned.
int
    zstore_engine_commit (zstore_engine_t *self, uint64_t *revision_p);

//  Rolls back: nothing is changed, nothing is emitted.
int
    zstore_engine_rollback (zstore_engine_t *self);

bool
    zstore_engine_in_transaction (zstore_engine_t *self);

//  --- Batches (group commit) ---------------------------------------------

//  Opens a batch: one SQLite transaction holding many changes, so that they
//  share one COMMIT (and, on a file with synchronous FULL, one fsync). Each
//  operation (or begin..commit transaction) inside it is still a change of
//  its own, with its own revision, returned as usual; one that fails is
//  undone alone. Nothing is durable, and no event is emitted, until
//  zstore_engine_batch_commit succeeds; if it fails, every change of the
//  batch is gone (the revisions they reported were never committed).
//  Snapshots cannot be opened while a batch is open.
int
    zstore_engine_batch_begin (zstore_engine_t *self);

//  Commits the batch, then emits its events, change after change.
int
    zstore_engine_batch_commit (zstore_engine_t *self);

bool
    zstore_engine_in_batch (zstore_engine_t *self);

//  go-store's Transaction: runs fn inside a transaction; fn returns
//  ZSTORE_OK to commit, anything else to roll back, in which case that code
//  is returned with "store.Transaction: execute transaction: <message>".
typedef int (zstore_transaction_fn) (zstore_engine_t *engine, void *arg);
int
    zstore_engine_transaction (zstore_engine_t *self, zstore_transaction_fn *fn, void *arg,
                               uint64_t *revision_p);

//  ---------------------------------------------------------------------
//  History: the most recent events, kept in the database (table
//  zstore_history) and written in the same transaction as their change.

//  Keeps at least the last events_limit events (0, the default, records
//  none). Trimming is amortised: up to about 10% more may be kept.
int
    zstore_engine_set_history_limit (zstore_engine_t *self, int64_t events_limit);

//  Chooses which history events a query returns (true = keep).
typedef bool (zstore_event_filter_fn) (const zstore_event_t *event, void *arg);

//  Calls each (in order of revision, then position in the change) for up to
//  limit events with revision > after that pass filter (NULL = all); a
//  change straddling the limit is delivered whole, so a page always ends at
//  a change boundary and the next page starts after its last revision.
//  *more_p is set when more matching events exist. ZSTORE_TOO_OLD if some
//  event with revision > after is no longer kept.
int
    zstore_engine_history (zstore_engine_t *self, uint64_t after, zstore_event_filter_fn *filter,
                           void *filter_arg, size_t limit, zstore_event_fn *each, void *each_arg,
                           bool *more_p);

//  first_p: the lowest revision from which every later event is kept (a
//  query with after >= first_p - 1 succeeds); last_p: the newest revision.
int
    zstore_engine_history_bounds (zstore_engine_t *self, uint64_t *first_p, uint64_t *last_p);

//  ---------------------------------------------------------------------
//  Snapshots: a consistent read-only view of part of the store at one
//  revision, read in pages. A file database is read through a separate
//  read-only connection holding one read transaction (writers carry on,
//  WAL keeps the view); an in-memory database is copied at open.

typedef enum {
    ZSTORE_SCOPE_ALL,               //  every group
    ZSTORE_SCOPE_GROUP_PREFIX,      //  groups starting with name (a namespace: "ns:")
    ZSTORE_SCOPE_GROUP,             //  one group
    ZSTORE_SCOPE_KEY_PREFIX,        //  keys of one group starting with key
    ZSTORE_SCOPE_KEY                //  one key
} zstore_scope_kind_t;

typedef struct {
    zstore_scope_kind_t kind;
    zstore_bytes_t group;           //  the group, or the group prefix
    zstore_bytes_t key;             //  the key, or the key prefix
} zstore_view_scope_t;

typedef struct _zstore_snapshot_t zstore_snapshot_t;

//  Opens the view. Rows are live as of the engine's clock at open.
zstore_snapshot_t *
    zstore_snapshot_new (zstore_engine_t *engine, const zstore_view_scope_t *scope,
                         char **error_p);

void
    zstore_snapshot_destroy (zstore_snapshot_t **self_p);

//  The revision the view reflects.
uint64_t
    zstore_snapshot_revision (zstore_snapshot_t *self);

//  The next page of at most limit rows, ascending by (group, key); items
//  carry their group. An empty page means the view is exhausted.
int
    zstore_snapshot_next (zstore_snapshot_t *self, size_t limit, zstore_list_t **page_p,
                          char **error_p);

//  Rows handed out so far.
uint64_t
    zstore_snapshot_count (zstore_snapshot_t *self);

//  ---------------------------------------------------------------------
//  Scopes: go-store's ScopedStore. Groups are stored as "<namespace>:<group>".

typedef struct _zstore_scope_t zstore_scope_t;

//  True if namespace matches ^[a-zA-Z0-9-]+$ exactly.
bool
    zstore_namespace_is_valid (zstore_bytes_t namespace_name);

//  Returns NULL if engine is NULL or the namespace is invalid.
zstore_scope_t *
    zstore_scope_new (zstore_engine_t *engine, const char *namespace_name);

//  With quotas (0 = unlimited). Returns NULL and a message (caller frees) on
//  a NULL engine, an invalid namespace or a negative limit.
zstore_scope_t *
    zstore_scope_new_with_quota (zstore_engine_t *engine, const char *namespace_name,
                                 int64_t max_keys, int64_t max_groups, char **error_p);

void
    zstore_scope_destroy (zstore_scope_t **self_p);

const char *
    zstore_scope_namespace (zstore_scope_t *self);

int64_t
    zstore_scope_max_keys (zstore_scope_t *self);
int64_t
    zstore_scope_max_groups (zstore_scope_t *self);

//  Negative values act as unlimited, as in go-store.
void
    zstore_scope_set_quota (zstore_scope_t *self, int64_t max_keys, int64_t max_groups);

//  Each mirrors the engine function on group "<ns>:<group>". Writes that
//  create a key check the quota inside the write transaction.
int
    zstore_scope_get (zstore_scope_t *self, zstore_bytes_t group, zstore_bytes_t key,
                      zstore_value_t *value);
int
    zstore_scope_put (zstore_scope_t *self, zstore_bytes_t group, zstore_bytes_t key,
                      zstore_bytes_t value, const zstore_write_t *options, uint64_t *revision_p);
int
    zstore_scope_delete (zstore_scope_t *self, zstore_bytes_t group, zstore_bytes_t key,
                         int64_t if_revision, uint64_t *revision_p);
int
    zstore_scope_delete_group (zstore_scope_t *self, zstore_bytes_t group, uint64_t *revision_p);
int
    zstore_scope_delete_prefix (zstore_scope_t *self, zstore_bytes_t prefix,
                                uint64_t *revision_p);
int
    zstore_scope_count (zstore_scope_t *self, zstore_bytes_t group, int64_t *count_p);
int
    zstore_scope_get_all (zstore_scope_t *self, zstore_bytes_t group, zstore_list_t **list_p);
int
    zstore_scope_get_page (zstore_scope_t *self, zstore_bytes_t group, int64_t offset,
                           int64_t limit, zstore_list_t **list_p);
int
    zstore_scope_count_all (zstore_scope_t *self, zstore_bytes_t prefix, int64_t *count_p);
//  Group names with the "<ns>:" prefix removed.
int
    zstore_scope_groups (zstore_scope_t *self, zstore_bytes_t prefix, zstore_list_t **list_p);
int
    zstore_scope_render (zstore_scope_t *self, zstore_bytes_t template_source,
                         zstore_bytes_t group, char **output_p, size_t *size_p);
//  Removes the namespace's expired rows only.
int
    zstore_scope_purge_expired (zstore_scope_t *self, int64_t *removed_p);
//  At most max_rows of them, in one commit.
int
    zstore_scope_purge_expired_step (zstore_scope_t *self, int64_t max_rows,
                                     int64_t *removed_p);

#ifdef __cplusplus
}
#endif

#endif
