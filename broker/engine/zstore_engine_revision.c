/*  zstore_engine_revision - the revision counter: where it is kept, and how
    handles on one file share it.

    The last committed revision is always

        max (zstore_meta 'revision', max (entries.mod_rev))

    so a change that leaves a row at its revision (any change made only of
    sets) need not write the counter: it is derived at open, and wherever it
    must be found again. A change that removed a row (delete, delete group
    or prefix, expiry, purge) writes 'revision', because its revision may be
    held by no row. The trigger zstore_entries_removed keeps the formula
    true when someone else (go-store, the sqlite3 shell) deletes the row
    holding the highest revision: it raises 'revision' to that row's
    mod_rev. So the counter survives reopen (and a crash) and never goes
    backwards, and a set writes one row, not two: the counter's row is a
    second page to journal and commit, ~8.6k instructions (~25%) of an
    in-memory set and one more WAL frame per commit on a file. The price is
    paid by deletes: the trigger runs for every row deleted, zstore's own
    deletes included (~4.5k instructions a row, and SQLite deletes in two
    passes when a delete trigger exists), which is cheaper than a counter
    write per set as long as sets outnumber deleted rows.

    Deriving it takes a full scan, which must not happen per write. So one
    handle at a time, the one named by zstore_meta 'writer', keeps the
    counter in memory and skips the write; every other handle writes
    'revision' with each change, as before. A handle that sees a commit by
    another connection (SQLite's data version moved) reads both rows again
    under the write lock:
    - 'writer' names this handle: no other zstore handle committed since
      (each would have taken the name off), so its own count stands;
    - 'writer' is 0: every handle writes 'revision', so it is exact;
    - 'writer' names another handle, which may have committed without
      writing: scan once, and write 'writer' = 0 with this change, so that
      the other handle goes back to writing at its next change.
    A handle claims the name at open (it scans then anyway) and after
    REVISION_CLAIM_AFTER commits in a row with no other writer seen; each
    claim costs any other writing handle at most one scan. An in-memory
    database has no other connection: its handle never looks again.
*/

#include "zstore_engine_private.h"

#include <stdint.h>

//  Commits in a row, with no other connection seen committing, before a
//  handle that writes the counter claims it.
#define REVISION_CLAIM_AFTER 256

//  SQLite's data version of the main database: it changes with every
//  commit by another connection.
static int
s_data_version (zstore_engine_t *self)
{
    int version = 0;
    if (sqlite3_file_control (self->db, "main", SQLITE_FCNTL_DATA_VERSION, &version) != SQLITE_OK)
        self->revision_known = false;
    return version;
}

//  One of the counter's statements on db: the engine's prepared one, or for
//  another connection (a snapshot's) a fresh one, finalized by s_done.
static sqlite3_stmt *
s_statement (zstore_engine_t *self, sqlite3 *db, zstore_statement_t id)
{
    if (db == self->db)
        return zstore_engine_statement (self, id);
    sqlite3_stmt *stmt = NULL;
    sqlite3_prepare_v2 (db, zstore_engine_statement_sql (id), -1, &stmt, NULL);
    return stmt;
}

static void
s_done (zstore_engine_t *self, sqlite3 *db, sqlite3_stmt *stmt)
{
    if (db == self->db)
        sqlite3_reset (stmt);
    else
        sqlite3_finalize (stmt);
}

//  Runs a statement returning one row of two integers.
static int
s_read_pair (zstore_engine_t *self, sqlite3 *db, zstore_statement_t id, int64_t *first_p,
             int64_t *second_p)
{
    sqlite3_stmt *stmt = s_statement (self, db, id);
    if (!stmt)
        return SQLITE_ERROR;
    int rc = sqlite3_step (stmt);
    if (rc == SQLITE_ROW) {
        *first_p = sqlite3_column_int64 (stmt, 0);
        *second_p = sqlite3_column_int64 (stmt, 1);
        rc = SQLITE_OK;
    }
    s_done (self, db, stmt);
    return rc;
}

static uint64_t
s_max (uint64_t a, uint64_t b)
{
    return a > b ? a : b;
}

//  The last committed revision in db's current transaction, from the
//  counter's rows and, if another handle may have kept it, a scan.
static int
s_derive (zstore_engine_t *self, sqlite3 *db, uint64_t *revision_p, int64_t *writer_p)
{
    int64_t counter = 0, highest = 0, lowest = 0;
    int rc = s_read_pair (self, db, STMT_REVISION_READ, &counter, writer_p);
    if (rc != SQLITE_OK)
        return rc;
    *revision_p = (uint64_t) counter;
    if (*writer_p == self->writer_token)
        *revision_p = s_max (*revision_p, self->revision);
    else
    if (*writer_p != 0) {
        rc = s_read_pair (self, db, STMT_REVISION_SCAN, &highest, &lowest);
        *revision_p = s_max (*revision_p, (uint64_t) highest);
    }
    return rc;
}

static int
s_write (zstore_engine_t *self, zstore_statement_t id, uint64_t revision, int64_t writer)
{
    sqlite3_stmt *stmt = zstore_engine_statement (self, id);
    if (!stmt)
        return SQLITE_ERROR;
    sqlite3_bind_int64 (stmt, 1, (sqlite3_int64) revision);
    if (id == STMT_REVISION_CLAIM)
        sqlite3_bind_int64 (stmt, 2, writer);
    return zstore_engine_step_done (stmt);
}

int
zstore_revision_open (zstore_engine_t *self)
{
    //  No other connection can see an in-memory or temporary database.
    self->shared = zstore_engine_file (self) != NULL;
    sqlite3_randomness (sizeof (self->writer_token), &self->writer_token);
    self->writer_token &= INT64_MAX;
    if (self->writer_token == 0)
        self->writer_token = 1;
    int64_t counter = 0, writer = 0, highest = 0, lowest = 0;
    int rc = s_read_pair (self, self->db, STMT_REVISION_READ, &counter, &writer);
    if (rc == SQLITE_OK)
        rc = s_read_pair (self, self->db, STMT_REVISION_SCAN, &highest, &lowest);
    if (rc != SQLITE_OK)
        return rc;
    uint64_t revision = s_max ((uint64_t) counter, (uint64_t) highest);
    //  Rows without a revision (written by go-store, or migrated) get one
    //  new revision: one change that emits no event, like migration.
    if (lowest == 0) {
        revision++;
        sqlite3_stmt *stmt = zstore_engine_statement (self, STMT_REVISION_REVISE);
        if (!stmt)
            return SQLITE_ERROR;
        sqlite3_bind_int64 (stmt, 1, (sqlite3_int64) revision);
        rc = zstore_engine_step_done (stmt);
        if (rc != SQLITE_DONE)
            return rc;
    }
    rc = s_write (self, STMT_REVISION_CLAIM, revision, self->writer_token);
    if (rc != SQLITE_DONE)
        return rc;
    self->revision = revision;
    self->meta_writer = self->writer_token;
    self->pending_writer = -1;
    return SQLITE_OK;
}

void
zstore_revision_opened (zstore_engine_t *self)
{
    self->revision_known = true;
    self->data_version = s_data_version (self);
    self->quiet_commits = 0;
}

int
zstore_revision_sync (zstore_engine_t *self, const char *op)
{
    if (!self->shared && self->revision_known)
        return ZSTORE_OK;               //  nobody else can commit
    int version = s_data_version (self);
    if (self->revision_known && version == self->data_version)
        return ZSTORE_OK;
    self->quiet_commits = 0;
    uint64_t revision = 0;
    int64_t writer = 0;
    if (s_derive (self, self->db, &revision, &writer) != SQLITE_OK)
        return zstore_engine_fail_sql (self, op, "read revision");
    //  A handle's own commits are committed revisions: never go below them.
    self->revision = s_max (self->revision, revision);
    self->meta_writer = writer;
    self->revision_known = true;
    self->data_version = version;
    return ZSTORE_OK;
}

int
zstore_revision_persist (zstore_engine_t *self, const char *op, uint64_t revision)
{
    self->pending_writer = -1;
    int rc;
    if (self->meta_writer == self->writer_token) {
        if (!self->change_removes)
            return ZSTORE_OK;           //  a row holds the revision
        rc = s_write (self, STMT_REVISION_WRITE, revision, 0);
    }
    else
    if (self->quiet_commits >= REVISION_CLAIM_AFTER) {
        self->pending_writer = self->writer_token;
        rc = s_write (self, STMT_REVISION_CLAIM, revision, self->writer_token);
    }
    else
    if (self->meta_writer != 0) {
        self->pending_writer = 0;
        rc = s_write (self, STMT_REVISION_CLAIM, revision, 0);
    }
    else
        rc = s_write (self, STMT_REVISION_WRITE, revision, 0);
    return rc == SQLITE_DONE ? ZSTORE_OK : zstore_engine_fail_sql (self, op, "write revision");
}

void
zstore_revision_committed (zstore_engine_t *self, uint64_t revision)
{
    if (revision) {
        self->revision = revision;
        if (self->quiet_commits < UINT32_MAX)
            self->quiet_commits++;
    }
    if (self->pending_writer >= 0)
        self->meta_writer = self->pending_writer;
    self->pending_writer = -1;
    if (self->shared)
        self->data_version = s_data_version (self);
}

int
zstore_revision_read (zstore_engine_t *self, sqlite3 *db, uint64_t *revision_p)
{
    int64_t writer = 0;
    *revision_p = 0;
    return s_derive (self, db, revision_p, &writer);
}
