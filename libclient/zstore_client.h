/*  =========================================================================
    zstore_client - a connection to a zstore broker: every operation of the
    protocol (proto/PROTOCOL.md) as a C call, blocking with a per-call
    timeout, or pipelined (many requests in flight, replies collected by id).

    Threads: a client, and everything it hands out, belongs to one thread
    at a time (it owns ZeroMQ sockets). Use one client per thread; clients
    share nothing and there is no global state beyond czmq's own.

    Byte strings: groups, keys, prefixes and templates are NUL-terminated C
    strings in the typed calls; values are (data, size) and may hold any
    byte. Every byte string returned is heap memory owned by its result
    object and followed by a NUL byte that is not counted in its size. For
    groups or keys that contain NUL bytes use the generic request calls
    (zstore_request_*), which take (data, size) everywhere.

    Lost replies (Lazy Pirate): when a reply does not come within the
    timeout the client closes its request socket and opens a new one.
    Reads (get, exists, count, group_exists, get_all, get_page, count_all,
    groups, get_split, get_fields, render, ping, stats, history,
    snapshot_next, and snapshot_close) are idempotent and are re-sent
    automatically, up to the retry count. (A re-sent snapshot_next may skip
    the page whose reply was lost; zstore_client_snapshot detects that by
    the final count and starts the snapshot again.) Pipelined requests
    still in flight when a blocking call reconnects are lost: their
    zstore_client_recv fails with ZSTORE_ARGUMENT (not pending).
    A write whose reply was lost may or may not have been applied: it
    returns ZSTORE_OUTCOME_UNKNOWN, unless the caller marked it safe to
    re-send (zstore_write_opts_t.retry_safe, or zstore_request_set_retry_safe):
    a plain set of a fixed value is, a delete is, an if_rev set is (a second
    apply conflicts instead of changing anything twice), a txn generally is
    not.
    =========================================================================
*/

#ifndef ZSTORE_CLIENT_H_INCLUDED
#define ZSTORE_CLIENT_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

//  --- Result codes -------------------------------------------------------
//  0-13 are the protocol's status codes (PROTOCOL.md 2.5); the client adds
//  its own from 100. zstore_code_name names every one ("ok", "not_found",
//  ..., "timeout", "outcome_unknown", "protocol_error").

#define ZSTORE_OK                   0
#define ZSTORE_NOT_FOUND            1
#define ZSTORE_QUOTA_EXCEEDED       2
#define ZSTORE_INVALID              3
#define ZSTORE_CLOSED               4
#define ZSTORE_CONFLICT             5
#define ZSTORE_INTERNAL             6
#define ZSTORE_TOO_OLD              7
#define ZSTORE_BAD_REQUEST          8
#define ZSTORE_UNKNOWN_OP           9
#define ZSTORE_TOO_LARGE            10
#define ZSTORE_UNSUPPORTED_VERSION  11
#define ZSTORE_BUSY                 12
#define ZSTORE_UNKNOWN_SNAPSHOT     13
#define ZSTORE_TIMEOUT              100     //  no reply within the timeout (a read, after its retries)
#define ZSTORE_OUTCOME_UNKNOWN      101     //  a write's reply was lost: it may have been applied
#define ZSTORE_PROTOCOL_ERROR       102     //  a reply or event this client cannot understand
#define ZSTORE_NO_MEMORY            103
#define ZSTORE_INTERRUPTED          104     //  zsys_interrupted (SIGINT) while waiting
#define ZSTORE_ARGUMENT             105     //  a bad argument caught before sending (NULL, bad name)

const char *
    zstore_code_name (int code);

//  --- The client ---------------------------------------------------------

typedef struct _zstore_client_t zstore_client_t;

//  Connects a DEALER to requests and remembers events (the endpoint that
//  watches and mirrors subscribe to; NULL if none). tcp:// or ipc://.
//  NULL if an endpoint is malformed or ZeroMQ refuses it. Connecting does
//  not wait for the broker: ZeroMQ connects in the background.
zstore_client_t *
    zstore_client_new (const char *requests_endpoint, const char *events_endpoint);

void
    zstore_client_destroy (zstore_client_t **self_p);

//  Endpoints from the environment: ZSTORE_REQUESTS and ZSTORE_EVENTS,
//  defaulting to tcp://127.0.0.1:5670 and tcp://127.0.0.1:5671.
zstore_client_t *
    zstore_client_new_from_env (void);

const char *
    zstore_client_requests_endpoint (zstore_client_t *self);
const char *
    zstore_client_events_endpoint (zstore_client_t *self);

//  Per-call timeout in ms (default 5000) and the number of automatic
//  re-sends of an idempotent request after a timeout (default 2).
void
    zstore_client_set_timeout (zstore_client_t *self, int timeout_ms);
int
    zstore_client_timeout (zstore_client_t *self);
void
    zstore_client_set_retries (zstore_client_t *self, int retries);

//  The namespace later calls address (go-store's Scope): groups become
//  "<ns>:<group>" on the broker, quotas configured for it apply, returned
//  group names have the prefix stripped. NULL = none. ZSTORE_ARGUMENT if
//  ns does not match ^[a-zA-Z0-9-]+$.
int
    zstore_client_set_namespace (zstore_client_t *self, const char *ns);
const char *
    zstore_client_namespace (zstore_client_t *self);

//  The readable message of the last failed call ("" after a success).
const char *
    zstore_client_error (zstore_client_t *self);

//  --- Results ------------------------------------------------------------

//  One entry. group is set in snapshot items only (the stored group name).
typedef struct {
    char *group;    size_t group_size;
    char *key;      size_t key_size;
    char *value;    size_t value_size;
    uint64_t create_rev;
    uint64_t mod_rev;
    uint64_t expires_at;            //  Unix ms, 0 = never
} zstore_entry_t;

//  Frees the entry's strings and zeroes it.
void
    zstore_entry_clear (zstore_entry_t *entry);

//  A list of entries (get_all, get_page, snapshot pages) or of names
//  (groups, get_split, get_fields: names carry only key/key_size).
typedef struct {
    zstore_entry_t *entries;
    size_t size;
    bool more;                      //  get_page: more keys follow
} zstore_entries_t;

void
    zstore_entries_clear (zstore_entries_t *entries);

//  Options of a write. Initialise with ZSTORE_WRITE_OPTS or zero and set
//  if_rev = -1 yourself: if_rev 0 means "must not exist".
typedef struct {
    bool has_ttl;
    int64_t ttl_ms;                 //  with has_ttl: <= 0 writes an already expired key
    int64_t if_rev;                 //  -1 = unconditional, 0 = must not exist, N = mod_rev must be N
    bool retry_safe;                //  re-send after a lost reply instead of ZSTORE_OUTCOME_UNKNOWN
} zstore_write_opts_t;

#define ZSTORE_WRITE_OPTS { false, 0, -1, false }

//  --- go-store's operations ----------------------------------------------
//  Each returns ZSTORE_OK or a code; *rev_p (may be NULL) gets the revision
//  a write committed, 0 if it changed nothing.

int
    zstore_client_ping (zstore_client_t *self, uint64_t *epoch_p, uint64_t *rev_p,
                        uint64_t *time_p);
int
    zstore_client_get (zstore_client_t *self, const char *group, const char *key,
                       zstore_entry_t *entry);
int
    zstore_client_exists (zstore_client_t *self, const char *group, const char *key,
                          bool *exists_p);
int
    zstore_client_set (zstore_client_t *self, const char *group, const char *key,
                       const void *value, size_t value_size, const zstore_write_opts_t *opts,
                       uint64_t *rev_p);
int
    zstore_client_delete (zstore_client_t *self, const char *group, const char *key,
                          const zstore_write_opts_t *opts, uint64_t *rev_p);
int
    zstore_client_count (zstore_client_t *self, const char *group, uint64_t *count_p);
int
    zstore_client_group_exists (zstore_client_t *self, const char *group, bool *exists_p);
int
    zstore_client_delete_group (zstore_client_t *self, const char *group, uint64_t *rev_p);
int
    zstore_client_delete_prefix (zstore_client_t *self, const char *prefix, uint64_t *rev_p);
int
    zstore_client_get_all (zstore_client_t *self, const char *group, zstore_entries_t *entries);
//  after NULL: offset/limit; after set: keys strictly after it (a cursor).
int
    zstore_client_get_page (zstore_client_t *self, const char *group, uint64_t offset,
                            uint64_t limit, const char *after, zstore_entries_t *entries);
int
    zstore_client_count_all (zstore_client_t *self, const char *prefix, uint64_t *count_p);
int
    zstore_client_groups (zstore_client_t *self, const char *prefix, zstore_entries_t *names);
int
    zstore_client_get_split (zstore_client_t *self, const char *group, const char *key,
                             const char *sep, zstore_entries_t *parts);
int
    zstore_client_get_fields (zstore_client_t *self, const char *group, const char *key,
                              zstore_entries_t *parts);
//  *output_p: heap, NUL-terminated; the caller frees it.
int
    zstore_client_render (zstore_client_t *self, const char *group, const char *template_text,
                          char **output_p, size_t *output_size_p);
//  max 0 = no bound.
int
    zstore_client_purge (zstore_client_t *self, uint64_t max, uint64_t *removed_p,
                         uint64_t *rev_p);

//  --- Transactions -------------------------------------------------------
//  Build the operations, run them in one broker transaction, read each
//  result. A failed transaction applies nothing; zstore_txn_failed_index
//  says which operation failed it.

typedef struct _zstore_txn_t zstore_txn_t;

zstore_txn_t *
    zstore_txn_new (void);
void
    zstore_txn_destroy (zstore_txn_t **self_p);
int
    zstore_txn_get (zstore_txn_t *self, const char *group, const char *key);
int
    zstore_txn_exists (zstore_txn_t *self, const char *group, const char *key);
int
    zstore_txn_set (zstore_txn_t *self, const char *group, const char *key, const void *value,
                    size_t value_size, const zstore_write_opts_t *opts);
int
    zstore_txn_delete (zstore_txn_t *self, const char *group, const char *key, int64_t if_rev);
int
    zstore_txn_count (zstore_txn_t *self, const char *group);
int
    zstore_txn_delete_group (zstore_txn_t *self, const char *group);
int
    zstore_txn_delete_prefix (zstore_txn_t *self, const char *prefix);
size_t
    zstore_txn_size (zstore_txn_t *self);

//  Runs it (under the client's namespace). ZSTORE_OK: committed, *rev_p
//  the shared revision. Else the failing operation's code.
int
    zstore_client_txn (zstore_client_t *self, zstore_txn_t *txn, uint64_t *rev_p);

//  After zstore_client_txn: the index of the failing operation (-1 if none),
//  and each operation's result: its status, and for get its entry, for
//  count its count, for exists its answer.
int
    zstore_txn_failed_index (zstore_txn_t *self);
int
    zstore_txn_result_status (zstore_txn_t *self, size_t index);
int
    zstore_txn_result_entry (zstore_txn_t *self, size_t index, zstore_entry_t *entry);
uint64_t
    zstore_txn_result_count (zstore_txn_t *self, size_t index);
bool
    zstore_txn_result_exists (zstore_txn_t *self, size_t index);

//  --- Generic requests and pipelining ------------------------------------
//  Any operation, fields given by name; (data, size) everywhere.

typedef struct _zstore_request_t zstore_request_t;
typedef struct _zstore_reply_t zstore_reply_t;

zstore_request_t *
    zstore_request_new (const char *op);
void
    zstore_request_destroy (zstore_request_t **self_p);
void
    zstore_request_add_bytes (zstore_request_t *self, const char *name, const void *data,
                              size_t size);
void
    zstore_request_add_str (zstore_request_t *self, const char *name, const char *text);
void
    zstore_request_add_uint (zstore_request_t *self, const char *name, uint64_t value);
void
    zstore_request_add_int (zstore_request_t *self, const char *name, int64_t value);
//  A scope map (PROTOCOL.md 3.5) for snapshot and history: any of the
//  (data, size) pairs may be NULL/0 to leave that field out.
void
    zstore_request_add_scope (zstore_request_t *self, const char *ns, const void *group,
                              size_t group_size, const void *key, size_t key_size,
                              const void *prefix, size_t prefix_size);
//  Reads are marked idempotent by their op; this marks a write safe to re-send.
void
    zstore_request_set_retry_safe (zstore_request_t *self, bool retry_safe);

//  Blocking: sends, waits (with retries for idempotent requests) and returns
//  the reply's status or a client code; *reply_p (may be NULL) gets the
//  reply, also on a broker error status. The client's namespace is added.
int
    zstore_client_call (zstore_client_t *self, zstore_request_t *request,
                        zstore_reply_t **reply_p);

//  Pipelined: sends without waiting and returns the request's id (> 0), or
//  0 on failure. Any number may be in flight.
uint64_t
    zstore_client_send (zstore_client_t *self, zstore_request_t *request);
//  The reply to id (0 = whichever comes first), waiting up to timeout_ms.
//  Replies to other ids that arrive meanwhile are kept for their own
//  collect. NULL on timeout (ZSTORE_TIMEOUT in zstore_client_error); a
//  pipelined request is never re-sent: after a reconnect its reply is lost.
zstore_reply_t *
    zstore_client_recv (zstore_client_t *self, uint64_t id, int timeout_ms);
//  Requests sent and not yet collected.
size_t
    zstore_client_pending (zstore_client_t *self);

void
    zstore_reply_destroy (zstore_reply_t **self_p);
uint64_t
    zstore_reply_id (zstore_reply_t *self);
int
    zstore_reply_status (zstore_reply_t *self);
const char *
    zstore_reply_error (zstore_reply_t *self);       //  "" when none
//  Typed field access: false if absent or of another type.
bool
    zstore_reply_uint (zstore_reply_t *self, const char *name, uint64_t *value);
bool
    zstore_reply_bool (zstore_reply_t *self, const char *name, bool *value);
bool
    zstore_reply_bytes (zstore_reply_t *self, const char *name, const char **data,
                        size_t *size);
//  items / groups / parts / events arrays, decoded into entries.
int
    zstore_reply_entries (zstore_reply_t *self, const char *name, zstore_entries_t *entries);
//  The reply as JSON text (bytes that are valid UTF-8 as strings, others
//  as {"base64": "..."}); the caller frees it. For tools such as the CLI.
char *
    zstore_reply_json (zstore_reply_t *self);

//  --- Snapshot and stats -------------------------------------------------

//  Reads a whole scope at one revision, page by page, checking the final
//  count (PROTOCOL.md 4.2). Entries carry their group. Any of ns, group,
//  key, prefix may be NULL (group NULL with ns NULL = everything).
int
    zstore_client_snapshot (zstore_client_t *self, const char *ns, const char *group,
                            const char *key, const char *prefix, zstore_entries_t *entries,
                            uint64_t *rev_p);

//  The stats reply (PROTOCOL.md 2.7); read fields with zstore_reply_*.
int
    zstore_client_stats (zstore_client_t *self, zstore_reply_t **reply_p);

#ifdef __cplusplus
}
#endif

#endif
