/*  zstore_engine_private.h - what the engine's files share. Not installed.

    The engine's files, one concern each:
      zstore_engine.c         lifecycle, errors, clock, statements, sinks
      zstore_engine_schema.c  pragmas, go-store schema and migration, zstore columns
      zstore_engine_change.c  changes: write transactions, staged events
      zstore_engine_revision.c the revision counter: where it is kept, how handles share it
      zstore_engine_keys.c    get, put, delete, exists, count
      zstore_engine_groups.c  group operations, listings, pages, prefixes
      zstore_engine_values.c  split, fields, render
      zstore_engine_purge.c   expiry purge in bounded steps
      zstore_engine_history.c recent events kept in zstore_history
      zstore_snapshot.c       consistent read-only views read in pages
      zstore_scope.c          namespaces and atomic quotas
*/

#ifndef ZSTORE_ENGINE_PRIVATE_H_INCLUDED
#define ZSTORE_ENGINE_PRIVATE_H_INCLUDED

#include <sqlite3.h>

#include "zstore_engine.h"

//  Prepared statements, prepared once on first use (see s_statement_sql).
typedef enum {
    STMT_BEGIN,
    STMT_COMMIT,
    STMT_ROLLBACK,
    STMT_SAVEPOINT,
    STMT_RELEASE,
    STMT_ROLLBACK_TO,
    STMT_REVISION_READ,
    STMT_REVISION_WRITE,
    STMT_REVISION_CLAIM,
    STMT_REVISION_SCAN,
    STMT_REVISION_REVISE,
    STMT_GET,
    STMT_PROBE,
    STMT_UPSERT,
    STMT_DELETE,
    STMT_DELETE_IF_EXPIRED,
    STMT_EXISTS,
    STMT_GROUP_EXISTS,
    STMT_COUNT,
    STMT_DELETE_GROUP,
    STMT_GROUPS_ANY,
    STMT_GROUPS_LIVE,
    STMT_COUNT_RANGE,
    STMT_ALL,
    STMT_PAGE,
    STMT_PAGE_FIRST,
    STMT_PAGE_AFTER,
    STMT_PURGE,
    STMT_PURGE_RANGE,
    STMT_QUOTA_KEYS,
    STMT_QUOTA_GROUPS,
    STMT_GROUP_LIVE,
    STMT_READ_BEGIN,
    STMT_HISTORY_STATE,
    STMT_HISTORY_INSERT,
    STMT_HISTORY_SPAN,
    STMT_HISTORY_CUT_REVISION,
    STMT_HISTORY_TRIM,
    STMT_HISTORY_FLOOR_WRITE,
    STMT_HISTORY_AFTER,
    STMT_COUNT_STATEMENTS
} zstore_statement_t;

//  One staged event: strings are offsets into the change's byte arena,
//  because the arena may move while the change grows.
typedef struct {
    zstore_event_type_t type;
    size_t group_offset, group_size;
    size_t key_offset, key_size;
    size_t value_offset, value_size;
    uint64_t revision;
    uint64_t prev_revision;
    int64_t timestamp;
    int64_t expires_at;
    uint32_t index, count;          //  within its change, set when the change ends
} zstore_staged_event_t;

typedef struct {
    int id;
    zstore_event_fn *fn;
    void *arg;
} zstore_sink_t;

typedef struct _zstore_checkpointer_t zstore_checkpointer_t;

//  What recording history needs to know (zstore_engine_history.c).
typedef struct {
    bool valid;                     //  known for the open batch
    uint64_t floor;                 //  'history_floor', 0 if none
    uint64_t last;                  //  revision of the newest row, 0 if none
    int64_t first_seq;              //  oldest and newest row (0, 0: none)
    int64_t last_seq;
} zstore_history_cache_t;

struct _zstore_engine_t {
    sqlite3 *db;                    //  NULL once closed
    char *path;                     //  as given to zstore_engine_new
    char *error;                    //  last failure message
    sqlite3_stmt *statements [STMT_COUNT_STATEMENTS];
    zstore_clock_fn *clock;         //  current time source
    void *clock_arg;

    //  The change being built (see zstore_engine_change.c)
    bool write_open;                //  a BEGIN IMMEDIATE is open
    bool explicit_transaction;      //  opened by zstore_engine_begin
    bool doomed;                    //  an internal error happened inside it
    uint64_t revision;              //  last committed revision
    bool revision_known;            //  revision is current as of data_version
    int data_version;               //  SQLite's data version when last seen
    uint64_t pending_revision;      //  revision of the open change, 0 = none yet
    bool change_removes;            //  the open change removed a row
    bool batch_open;                //  zstore_engine_batch_begin: changes are savepoints
    uint64_t batch_revision;        //  revision when the batch began
    size_t change_first;            //  staged index of the open change's first event
    size_t change_arena;            //  arena size when the open change began

    //  How this handle shares the counter (see zstore_engine_revision.c)
    bool shared;                    //  a file other connections may open
    int64_t writer_token;           //  this handle's name in zstore_meta 'writer'
    int64_t meta_writer;            //  'writer' as last read or written, 0 = none
    int64_t pending_writer;         //  'writer' the open change writes, -1 = unchanged
    uint32_t quiet_commits;         //  commits since another writer was last seen
    zstore_staged_event_t *staged;  //  events waiting for the commit
    size_t staged_size, staged_capacity;
    char *arena;                    //  their strings
    size_t arena_size, arena_capacity;

    zstore_sink_t *sinks;           //  event callbacks, registration order
    size_t sink_count;
    int next_sink_id;

    int64_t history_limit;          //  events to keep in zstore_history, 0 = none
    zstore_checkpointer_t *checkpointer;    //  background checkpoints, or NULL
    int64_t wal_limit;              //  bytes (zstore_engine_set_wal_limit); 0 = none
    zstore_history_cache_t history_cache;   //  inside a batch only
};

//  A [lower, upper) byte range of names starting with a prefix. upper is
//  absent when the prefix is empty or all 0xFF bytes.
typedef struct {
    zstore_bytes_t lower;
    char *upper;                    //  heap copy, NULL = unbounded
    size_t upper_size;
} zstore_range_t;

//  A namespace's quota, for writes that may create a key.
typedef struct {
    zstore_bytes_t namespace_prefix;   //  "<ns>:"
    int64_t max_keys;
    int64_t max_groups;
} zstore_quota_t;

//  Operation names in messages: go-store names ops inside a transaction
//  "store.Transaction.<Op>".
#define ZSTORE_OP(self, name) \
    ((self)->explicit_transaction ? "store.Transaction." name : "store." name)

//  --- zstore_engine.c ---
int
    zstore_engine_fail (zstore_engine_t *self, int code, const char *format, ...)
    __attribute__ ((format (printf, 3, 4)));
//  ZSTORE_INTERNAL with "<op>: <what>: <sqlite message>".
int
    zstore_engine_fail_sql (zstore_engine_t *self, const char *op, const char *what);
//  ZSTORE_CLOSED if closed, else ZSTORE_OK.
int
    zstore_engine_check_open (zstore_engine_t *self, const char *op);
//  SQLite's name for the database file (absolute), or NULL for every kind
//  of in-memory or temporary database (":memory:", "", "file::memory:"...),
//  which no other connection can see and which has no WAL.
const char *
    zstore_engine_file (zstore_engine_t *self);
//  The statement, prepared on first use and reset; NULL on failure (the
//  error is set).
sqlite3_stmt *
    zstore_engine_statement (zstore_engine_t *self, zstore_statement_t id);
//  The SQL of a statement, to prepare it on another connection.
const char *
    zstore_engine_statement_sql (zstore_statement_t id);
int
    zstore_engine_bind_bytes (sqlite3_stmt *stmt, int index, zstore_bytes_t bytes);
//  A text column's bytes ("" if NULL); inline, as row loops call it twice
//  a row.
static inline zstore_bytes_t
zstore_engine_column_bytes (sqlite3_stmt *stmt, int column)
{
    const char *data = (const char *) sqlite3_column_text (stmt, column);
    size_t size = (size_t) sqlite3_column_bytes (stmt, column);
    return zstore_bytes (data ? data : "", data ? size : 0);
}
//  Runs a statement that returns no row; SQLITE_DONE on success.
int
    zstore_engine_step_done (sqlite3_stmt *stmt);
void
    zstore_engine_emit (zstore_engine_t *self, const zstore_event_t *event);

//  --- zstore_engine_schema.c ---
int
    zstore_engine_schema_open (zstore_engine_t *self, const char *op, char **error_p);

//  --- zstore_engine_change.c ---
//  Opens the write transaction if none is open (BEGIN IMMEDIATE).
int
    zstore_engine_write_open (zstore_engine_t *self, const char *op);
//  Ends an operation's write: outside an explicit transaction, commits
//  (code OK) or rolls back (any other code). Returns code, or the commit's
//  failure.
int
    zstore_engine_write_close (zstore_engine_t *self, const char *op, int code);
//  The revision of the open change (allocated on first use).
uint64_t
    zstore_engine_change_revision (zstore_engine_t *self);
//  Stages an event of the open change.
int
    zstore_engine_stage (zstore_engine_t *self, zstore_event_type_t type, zstore_bytes_t group,
                         zstore_bytes_t key, zstore_bytes_t value, uint64_t prev_revision,
                         int64_t expires_at);
//  Drops the open change (closing the engine).
void
    zstore_engine_change_abandon (zstore_engine_t *self);

//  Stops the background checkpoints (zstore_engine_checkpoint.c), if on.
void
    zstore_engine_checkpoint_stop (zstore_engine_t *self);

//  --- zstore_engine_revision.c ---
//  At open, inside the schema's write transaction: gives unrevised rows a
//  revision, derives the counter and claims it.
int
    zstore_revision_open (zstore_engine_t *self);
//  After the open transaction committed.
void
    zstore_revision_opened (zstore_engine_t *self);
//  At BEGIN IMMEDIATE: brings self->revision up to date if another
//  connection committed since this handle last looked.
int
    zstore_revision_sync (zstore_engine_t *self, const char *op);
//  Before COMMIT of a change at revision: writes what must survive it.
int
    zstore_revision_persist (zstore_engine_t *self, const char *op, uint64_t revision);
//  After COMMIT succeeded (revision 0: the change had no revision).
void
    zstore_revision_committed (zstore_engine_t *self, uint64_t revision);
//  The last committed revision as the current read transaction of db (the
//  engine's connection, or a snapshot's on the same file) sees it; returns
//  SQLITE_OK or the failing SQLite code.
int
    zstore_revision_read (zstore_engine_t *self, sqlite3 *db, uint64_t *revision_p);

//  --- zstore_engine_history.c ---
//  With the write transaction still open and the revision written: records
//  the staged events of the change (revision) if history is on, and trims.
int
    zstore_engine_history_record (zstore_engine_t *self, const char *op, uint64_t revision);
//  A change or batch rolled back, or a batch ended: what recording knew
//  of zstore_history may be wrong now.
void
    zstore_engine_history_forget (zstore_engine_t *self);

//  --- zstore_engine_keys.c ---
int
    zstore_engine_get_as (zstore_engine_t *self, const char *op, zstore_bytes_t group,
                          zstore_bytes_t key, zstore_value_t *value);
int
    zstore_engine_put_as (zstore_engine_t *self, const char *op, zstore_bytes_t group,
                          zstore_bytes_t key, zstore_bytes_t value,
                          const zstore_write_t *options, const zstore_quota_t *quota,
                          uint64_t *revision_p);
int
    zstore_engine_delete_as (zstore_engine_t *self, const char *op, zstore_bytes_t group,
                             zstore_bytes_t key, int64_t if_revision, uint64_t *revision_p);
int
    zstore_engine_count_as (zstore_engine_t *self, const char *op, zstore_bytes_t group,
                            int64_t *count_p);

//  --- zstore_engine_groups.c ---
int
    zstore_range_init (zstore_range_t *range, zstore_bytes_t prefix);
void
    zstore_range_reset (zstore_range_t *range);
int
    zstore_engine_bind_range (sqlite3_stmt *stmt, int index, const zstore_range_t *range);
int
    zstore_engine_delete_group_as (zstore_engine_t *self, const char *op, zstore_bytes_t group,
                                   uint64_t *revision_p);
int
    zstore_engine_delete_prefix_as (zstore_engine_t *self, const char *op, zstore_bytes_t prefix,
                                    uint64_t *revision_p);
int
    zstore_engine_get_all_as (zstore_engine_t *self, const char *op, zstore_bytes_t group,
                              zstore_list_t **list_p);
int
    zstore_engine_get_page_as (zstore_engine_t *self, const char *op, zstore_bytes_t group,
                               int64_t offset, int64_t limit, zstore_list_t **list_p);
int
    zstore_engine_count_all_as (zstore_engine_t *self, const char *op, zstore_bytes_t prefix,
                                int64_t *count_p);
//  Group names in range; strip bytes are cut from the front of each name.
int
    zstore_engine_groups_as (zstore_engine_t *self, const char *op, zstore_bytes_t prefix,
                             size_t strip, zstore_list_t **list_p);

//  --- zstore_engine_values.c ---
int
    zstore_engine_render_as (zstore_engine_t *self, const char *op,
                             zstore_bytes_t template_source, zstore_bytes_t group,
                             char **output_p, size_t *size_p);

//  --- zstore_scope.c ---
//  With the write lock held, for a key that is not live: QUOTA_EXCEEDED if
//  one more key, or one more group, would pass the namespace's limits.
int
    zstore_quota_check (zstore_engine_t *engine, const char *op, const zstore_quota_t *quota,
                        zstore_bytes_t group);

//  --- zstore_engine_purge.c ---
int
    zstore_engine_purge_as (zstore_engine_t *self, const char *op, const zstore_range_t *range,
                            int64_t *removed_p);
//  One step of at most max_rows rows; range NULL = every group.
int
    zstore_engine_purge_step_as (zstore_engine_t *self, const char *op, const zstore_range_t *range,
                                 int64_t max_rows, int64_t *removed_p);

//  --- zstore_wal_vfs.c ---
#define ZSTORE_WAL_VFS "zstore-wal"
//  Registers the VFS once; its name, or NULL if SQLite has no default VFS.
const char *
    zstore_wal_vfs (void);

#endif
