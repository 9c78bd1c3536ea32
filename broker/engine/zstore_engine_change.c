/*  zstore_engine_change - changes: the write transaction and the events
    waiting for the commit.

    A write opens "BEGIN IMMEDIATE", so that SQLite's write lock is taken
    before anything is read: quota checks and compare-and-set then hold
    against every other writer, in this process or another. The revision
    counter is brought up to date inside that lock for the same reason
    (zstore_engine_revision.c).

    A change is one operation, or everything between zstore_engine_begin and
    zstore_engine_commit. It gets one revision (the last committed + 1) at
    its first modification; what the counter needs is written with the
    change, and its events reach the sinks only after COMMIT succeeds, in
    staging order.

    A batch (zstore_engine_batch_begin .. batch_commit) is one SQLite
    transaction holding many changes, so that they share one COMMIT (one
    fsync): the broker's group commit. Each change inside it is a
    SAVEPOINT with its own revision; a change that fails rolls back to its
    savepoint alone. The events of every change wait for the batch's
    COMMIT; if that fails, every change of the batch is gone and nothing is
    emitted.
*/

#include "zstore_engine_private.h"

#include <stdlib.h>
#include <string.h>

//  Keeps the arena's memory after a large change only up to this size.
#define ARENA_KEEP (1024 * 1024)

static int
s_run (zstore_engine_t *self, zstore_statement_t id)
{
    sqlite3_stmt *stmt = zstore_engine_statement (self, id);
    return stmt ? zstore_engine_step_done (stmt) : SQLITE_ERROR;
}

static void
s_discard_staged (zstore_engine_t *self)
{
    self->staged_size = 0;
    self->arena_size = 0;
    self->change_first = 0;
    self->change_arena = 0;
    self->change_removes = false;
    if (self->arena_capacity > ARENA_KEEP) {
        free (self->arena);
        self->arena = NULL;
        self->arena_capacity = 0;
    }
}

static void
s_change_reset (zstore_engine_t *self)
{
    self->write_open = false;
    self->explicit_transaction = false;
    self->doomed = false;
    self->pending_revision = 0;
    self->pending_writer = -1;
    self->change_removes = false;
}

//  The change is over; pending_writer stays for zstore_revision_committed.
static void
s_change_reset_keep_writer (zstore_engine_t *self)
{
    int64_t pending_writer = self->pending_writer;
    s_change_reset (self);
    self->pending_writer = pending_writer;
}

//  Undoes the open change: inside a batch back to its savepoint (earlier
//  changes of the batch stay), else the whole transaction.
static void
s_rollback (zstore_engine_t *self)
{
    zstore_engine_history_forget (self);
    if (self->batch_open) {
        if (self->write_open && !sqlite3_get_autocommit (self->db)
        &&  s_run (self, STMT_ROLLBACK_TO) == SQLITE_DONE)
            s_run (self, STMT_RELEASE);
        s_change_reset (self);
        self->staged_size = self->change_first;
        self->arena_size = self->change_arena;
        return;
    }
    if (self->write_open && !sqlite3_get_autocommit (self->db))
        s_run (self, STMT_ROLLBACK);
    s_change_reset (self);
    s_discard_staged (self);
}

//  A change inside a batch: the batch's BEGIN IMMEDIATE holds the lock and
//  synced the counter already.
static int
s_savepoint_open (zstore_engine_t *self, const char *op)
{
    if (s_run (self, STMT_SAVEPOINT) != SQLITE_DONE)
        return zstore_engine_fail_sql (self, op, "open savepoint");
    self->write_open = true;
    self->pending_revision = 0;
    self->change_first = self->staged_size;
    self->change_arena = self->arena_size;
    return ZSTORE_OK;
}

int
zstore_engine_write_open (zstore_engine_t *self, const char *op)
{
    if (self->write_open)
        return ZSTORE_OK;
    if (self->batch_open)
        return s_savepoint_open (self, op);
    if (s_run (self, STMT_BEGIN) != SQLITE_DONE)
        return zstore_engine_fail_sql (self, op, "begin transaction");
    self->write_open = true;
    self->pending_revision = 0;
    int code = zstore_revision_sync (self, op);
    if (code)
        s_rollback (self);
    return code;
}

uint64_t
zstore_engine_change_revision (zstore_engine_t *self)
{
    if (!self->pending_revision)
        self->pending_revision = self->revision + 1;
    return self->pending_revision;
}

static void
s_flush_events (zstore_engine_t *self)
{
    for (size_t index = 0; index < self->staged_size; index++) {
        const zstore_staged_event_t *staged = &self->staged [index];
        zstore_event_t event = {
            .type = staged->type,
            .group = zstore_bytes (self->arena + staged->group_offset, staged->group_size),
            .key = zstore_bytes (self->arena + staged->key_offset, staged->key_size),
            .value = zstore_bytes (self->arena + staged->value_offset, staged->value_size),
            .revision = staged->revision,
            .prev_revision = staged->prev_revision,
            .timestamp = staged->timestamp,
            .expires_at = staged->expires_at,
            .index = staged->index,
            .count = staged->count,
        };
        zstore_engine_emit (self, &event);
    }
    s_discard_staged (self);
}

//  Numbers the open change's events within it.
static void
s_number_change (zstore_engine_t *self)
{
    uint32_t count = (uint32_t) (self->staged_size - self->change_first);
    for (size_t index = self->change_first; index < self->staged_size; index++) {
        self->staged [index].index = (uint32_t) (index - self->change_first);
        self->staged [index].count = count;
    }
}

//  Ends a change inside a batch: its events wait for the batch's COMMIT.
static int
s_release (zstore_engine_t *self, const char *op, uint64_t revision)
{
    if (s_run (self, STMT_RELEASE) != SQLITE_DONE) {
        int code = zstore_engine_fail_sql (self, op, "release savepoint");
        s_rollback (self);
        return code;
    }
    s_change_reset_keep_writer (self);
    zstore_revision_committed (self, revision);
    self->change_first = self->staged_size;
    self->change_arena = self->arena_size;
    return ZSTORE_OK;
}

//  Writes what the revision needs, commits (or, in a batch, releases the
//  change's savepoint), then hands the events to the sinks.
static int
s_commit (zstore_engine_t *self, const char *op, uint64_t *revision_p)
{
    //  A revision allocated by an operation that then failed is not used.
    uint64_t revision = self->staged_size > self->change_first ? self->pending_revision : 0;
    if (revision) {
        int code = zstore_revision_persist (self, op, revision);
        //  History rows commit with the change they record, or not at all.
        if (code == ZSTORE_OK)
            code = zstore_engine_history_record (self, op, revision);
        if (code) {
            s_rollback (self);
            return code;
        }
    }
    s_number_change (self);
    if (self->batch_open) {
        int code = s_release (self, op, revision);
        if (code == ZSTORE_OK && revision_p)
            *revision_p = revision;
        return code;
    }
    if (s_run (self, STMT_COMMIT) != SQLITE_DONE) {
        int code = zstore_engine_fail_sql (self, op, "commit transaction");
        s_rollback (self);
        return code;
    }
    s_change_reset_keep_writer (self);
    zstore_revision_committed (self, revision);
    if (revision_p)
        *revision_p = revision;
    s_flush_events (self);
    return ZSTORE_OK;
}

int
zstore_engine_write_close (zstore_engine_t *self, const char *op, int code)
{
    if (self->explicit_transaction) {
        //  The caller may carry on after NOT_FOUND or CONFLICT, but not
        //  after a failure that may have left a statement half done.
        if (code == ZSTORE_INTERNAL)
            self->doomed = true;
        return code;
    }
    if (!self->write_open)
        return code;
    if (code != ZSTORE_OK) {
        s_rollback (self);
        return code;
    }
    return s_commit (self, op, NULL);
}

static int
s_arena_append (zstore_engine_t *self, zstore_bytes_t bytes, size_t *offset_p)
{
    //  Allocated even for empty strings: events must never point at NULL.
    if (!self->arena || self->arena_capacity - self->arena_size < bytes.size) {
        size_t capacity = self->arena_capacity ? self->arena_capacity : 4096;
        while (capacity - self->arena_size < bytes.size)
            capacity *= 2;
        char *arena = realloc (self->arena, capacity);
        if (!arena)
            return -1;
        self->arena = arena;
        self->arena_capacity = capacity;
    }
    *offset_p = self->arena_size;
    if (bytes.size)
        memcpy (self->arena + self->arena_size, bytes.data, bytes.size);
    self->arena_size += bytes.size;
    return 0;
}

int
zstore_engine_stage (zstore_engine_t *self, zstore_event_type_t type, zstore_bytes_t group,
                     zstore_bytes_t key, zstore_bytes_t value, uint64_t prev_revision,
                     int64_t expires_at)
{
    if (self->staged_size == self->staged_capacity) {
        size_t capacity = self->staged_capacity ? self->staged_capacity * 2 : 16;
        zstore_staged_event_t *staged = realloc (self->staged,
                                                 capacity * sizeof (zstore_staged_event_t));
        if (!staged)
            return zstore_engine_fail (self, ZSTORE_INTERNAL, "store: out of memory");
        self->staged = staged;
        self->staged_capacity = capacity;
    }
    zstore_staged_event_t *event = &self->staged [self->staged_size];
    if (s_arena_append (self, group, &event->group_offset)
    ||  s_arena_append (self, key, &event->key_offset)
    ||  s_arena_append (self, value, &event->value_offset))
        return zstore_engine_fail (self, ZSTORE_INTERNAL, "store: out of memory");
    //  Its revision may be left in no row: the counter must be written.
    if (type != ZSTORE_EVENT_SET)
        self->change_removes = true;
    event->type = type;
    event->group_size = group.size;
    event->key_size = key.size;
    event->value_size = value.size;
    event->revision = zstore_engine_change_revision (self);
    event->prev_revision = prev_revision;
    event->timestamp = zstore_engine_now (self);
    event->expires_at = expires_at;
    self->staged_size++;
    return ZSTORE_OK;
}

//  Rolls back everything open: the change, and the batch holding it.
static void
s_rollback_all (zstore_engine_t *self)
{
    if (self->batch_open) {
        self->batch_open = false;
        self->write_open = true;        //  so that s_rollback runs ROLLBACK
        //  Changes released in the batch raised the counter; they are gone.
        self->revision = self->batch_revision;
        self->revision_known = false;
    }
    s_rollback (self);
}

void
zstore_engine_change_abandon (zstore_engine_t *self)
{
    s_rollback_all (self);
}

//  --- Batches (group commit) -------------------------------------------

int
zstore_engine_batch_begin (zstore_engine_t *self)
{
    int code = zstore_engine_check_open (self, "store.Batch");
    if (code)
        return code;
    if (self->batch_open || self->write_open)
        return zstore_engine_fail (self, ZSTORE_INVALID,
                                   "store.Batch: a batch or transaction is open");
    code = zstore_engine_write_open (self, "store.Batch");
    if (code)
        return code;
    //  The transaction is the batch's; changes open savepoints inside it.
    self->write_open = false;
    self->batch_open = true;
    zstore_engine_history_forget (self);
    self->batch_revision = self->revision;
    return ZSTORE_OK;
}

int
zstore_engine_batch_commit (zstore_engine_t *self)
{
    int code = zstore_engine_check_open (self, "store.Batch");
    if (code)
        return code;
    if (!self->batch_open)
        return zstore_engine_fail (self, ZSTORE_INVALID, "store.Batch: no batch is open");
    if (self->write_open)
        s_rollback (self);              //  a transaction left open: it never committed
    if (s_run (self, STMT_COMMIT) != SQLITE_DONE) {
        code = zstore_engine_fail_sql (self, "store.Batch", "commit transaction");
        s_rollback_all (self);
        return code;
    }
    self->batch_open = false;
    zstore_engine_history_forget (self);
    zstore_revision_committed (self, 0);    //  our own commit: note the data version
    s_flush_events (self);
    return ZSTORE_OK;
}

bool
zstore_engine_in_batch (zstore_engine_t *self)
{
    return self && self->batch_open;
}

//  --- Public transactions ----------------------------------------------

int
zstore_engine_begin (zstore_engine_t *self)
{
    int code = zstore_engine_check_open (self, "store.Transaction");
    if (code)
        return code;
    if (self->explicit_transaction)
        return zstore_engine_fail (self, ZSTORE_INVALID,
                                   "store.Transaction: a transaction is already open");
    code = zstore_engine_write_open (self, "store.Transaction");
    if (code == ZSTORE_OK)
        self->explicit_transaction = true;
    return code;
}

int
zstore_engine_commit (zstore_engine_t *self, uint64_t *revision_p)
{
    if (revision_p)
        *revision_p = 0;
    int code = zstore_engine_check_open (self, "store.Transaction");
    if (code)
        return code;
    if (!self->explicit_transaction)
        return zstore_engine_fail (self, ZSTORE_INVALID,
                                   "store.Transaction: no transaction is open");
    if (self->doomed) {
        s_rollback (self);
        return zstore_engine_fail (self, ZSTORE_INTERNAL, "store.Transaction: commit"
                                   " transaction: an operation failed; rolled back");
    }
    return s_commit (self, "store.Transaction", revision_p);
}

int
zstore_engine_rollback (zstore_engine_t *self)
{
    int code = zstore_engine_check_open (self, "store.Transaction");
    if (code)
        return code;
    if (!self->explicit_transaction)
        return zstore_engine_fail (self, ZSTORE_INVALID,
                                   "store.Transaction: no transaction is open");
    s_rollback (self);
    return ZSTORE_OK;
}

bool
zstore_engine_in_transaction (zstore_engine_t *self)
{
    return self && self->explicit_transaction;
}

int
zstore_engine_transaction (zstore_engine_t *self, zstore_transaction_fn *fn, void *arg,
                           uint64_t *revision_p)
{
    if (revision_p)
        *revision_p = 0;
    int code = zstore_engine_check_open (self, "store.Transaction");
    if (code)
        return code;
    if (!fn)
        return zstore_engine_fail (self, ZSTORE_INVALID, "store.Transaction: operation is nil");
    code = zstore_engine_begin (self);
    if (code)
        return code;
    code = fn (self, arg);
    if (code == ZSTORE_OK)
        return zstore_engine_commit (self, revision_p);
    //  Keep the operation's message as the cause, as go-store wraps it.
    char *cause = strdup (zstore_engine_error (self));
    if (self->explicit_transaction)
        s_rollback (self);
    zstore_engine_fail (self, code, "store.Transaction: execute transaction: %s",
                        cause ? cause : "");
    free (cause);
    return code;
}
