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
    self->change_removes = false;
    if (self->arena_capacity > ARENA_KEEP) {
        free (self->arena);
        self->arena = NULL;
        self->arena_capacity = 0;
    }
}

static void
s_rollback (zstore_engine_t *self)
{
    if (self->write_open && !sqlite3_get_autocommit (self->db))
        s_run (self, STMT_ROLLBACK);
    self->write_open = false;
    self->explicit_transaction = false;
    self->doomed = false;
    self->pending_revision = 0;
    self->pending_writer = -1;
    s_discard_staged (self);
}

int
zstore_engine_write_open (zstore_engine_t *self, const char *op)
{
    if (self->write_open)
        return ZSTORE_OK;
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
            .index = (uint32_t) index,
            .count = (uint32_t) self->staged_size,
        };
        zstore_engine_emit (self, &event);
    }
    s_discard_staged (self);
}

//  Writes what the revision needs, commits, then hands the events to the
//  sinks.
static int
s_commit (zstore_engine_t *self, const char *op, uint64_t *revision_p)
{
    //  A revision allocated by an operation that then failed is not used.
    uint64_t revision = self->staged_size ? self->pending_revision : 0;
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
    if (s_run (self, STMT_COMMIT) != SQLITE_DONE) {
        int code = zstore_engine_fail_sql (self, op, "commit transaction");
        s_rollback (self);
        return code;
    }
    self->write_open = false;
    self->explicit_transaction = false;
    self->doomed = false;
    self->pending_revision = 0;
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

void
zstore_engine_change_abandon (zstore_engine_t *self)
{
    s_rollback (self);
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
