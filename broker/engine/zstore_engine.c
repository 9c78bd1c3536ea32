/*  zstore_engine - lifecycle, errors, clock, prepared statements and event
    sinks. The operations live in the other zstore_engine_*.c files.
*/

#include "zstore_engine_private.h"

#include <limits.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

//  Every statement the engine runs, indexed by zstore_statement_t. Ranges
//  are "group_name >= ?lower AND group_name < ?upper": byte order on the
//  primary-key index, never LIKE (see zstore_range_init). "Live" is
//  expires_at IS NULL OR expires_at > now, the same boundary everywhere: a
//  row whose expiry equals now is expired.
static const char *
s_statement_sql [STMT_COUNT_STATEMENTS] = {
    [STMT_BEGIN] = "BEGIN IMMEDIATE",
    [STMT_COMMIT] = "COMMIT",
    [STMT_ROLLBACK] = "ROLLBACK",
    //  A change inside a batch (see zstore_engine_batch_begin).
    [STMT_SAVEPOINT] = "SAVEPOINT zstore_change",
    [STMT_RELEASE] = "RELEASE zstore_change",
    [STMT_ROLLBACK_TO] = "ROLLBACK TO zstore_change",
    //  The counter's rows (see zstore_engine_revision.c). REPLACE, not
    //  UPDATE: the same row and page, in fewer VDBE steps (the UPDATE reads
    //  the old row first). The rows always exist (created at open).
    [STMT_REVISION_READ] = "SELECT"
        " coalesce ((SELECT value FROM zstore_meta WHERE name = 'revision'), 0),"
        " coalesce ((SELECT value FROM zstore_meta WHERE name = 'writer'), 0)",
    [STMT_REVISION_WRITE] = "REPLACE INTO zstore_meta (name, value) VALUES ('revision', ?1)",
    [STMT_REVISION_CLAIM] = "REPLACE INTO zstore_meta (name, value)"
                            " VALUES ('revision', ?1), ('writer', ?2)",
    //  A full scan: only at open, and when another handle kept the counter.
    [STMT_REVISION_SCAN] = "SELECT coalesce (max (mod_rev), 0),"
                           " coalesce (min (mod_rev), 1) FROM entries",
    [STMT_REVISION_REVISE] = "UPDATE entries SET create_rev = ?1, mod_rev = ?1"
                             " WHERE mod_rev = 0",
    [STMT_GET] = "SELECT entry_value, expires_at, create_rev, mod_rev FROM entries"
                 " WHERE group_name = ?1 AND entry_key = ?2",
    [STMT_PROBE] = "SELECT create_rev, mod_rev, expires_at FROM entries"
                   " WHERE group_name = ?1 AND entry_key = ?2",
    //  These three call zstore_replaced / zstore_deleting, which report the
    //  row written to the caller (see zstore_engine_keys.c, which prepares
    //  them after registering the functions).
    [STMT_UPSERT] = "INSERT INTO entries (group_name, entry_key, entry_value, expires_at,"
                    " create_rev, mod_rev) VALUES (?1, ?2, ?3, ?4, ?5, ?5)"
                    " ON CONFLICT (group_name, entry_key) DO UPDATE SET"
                    " entry_value = excluded.entry_value, expires_at = excluded.expires_at,"
                    " create_rev = zstore_replaced (?6, entries.create_rev, entries.mod_rev,"
                    " entries.expires_at, excluded.create_rev), mod_rev = excluded.mod_rev",
    [STMT_DELETE] = "DELETE FROM entries WHERE group_name = ?1 AND entry_key = ?2"
                    " AND zstore_deleting (?3, mod_rev, expires_at)",
    [STMT_DELETE_IF_EXPIRED] = "DELETE FROM entries WHERE group_name = ?1 AND entry_key = ?2"
                               " AND expires_at IS NOT NULL AND expires_at <= ?3"
                               " AND zstore_deleting (?4, mod_rev, expires_at)",
    [STMT_EXISTS] = "SELECT 1 FROM entries WHERE group_name = ?1 AND entry_key = ?2"
                    " AND (expires_at IS NULL OR expires_at > ?3)",
    [STMT_GROUP_EXISTS] = "SELECT 1 FROM entries WHERE group_name = ?1"
                          " AND (expires_at IS NULL OR expires_at > ?2) LIMIT 1",
    [STMT_COUNT] = "SELECT COUNT(*) FROM entries WHERE group_name = ?1"
                   " AND (expires_at IS NULL OR expires_at > ?2)",
    [STMT_DELETE_GROUP] = "DELETE FROM entries WHERE group_name = ?1",
    [STMT_GROUPS_ANY] = "SELECT DISTINCT group_name FROM entries"
                        " WHERE group_name >= ?1 AND group_name < ?2 ORDER BY group_name",
    [STMT_GROUPS_LIVE] = "SELECT DISTINCT group_name FROM entries"
                         " WHERE group_name >= ?1 AND group_name < ?2"
                         " AND (expires_at IS NULL OR expires_at > ?3) ORDER BY group_name",
    [STMT_COUNT_RANGE] = "SELECT COUNT(*) FROM entries WHERE group_name >= ?1"
                         " AND group_name < ?2 AND (expires_at IS NULL OR expires_at > ?3)",
    //  Row statements: a NULL expiry is read as INT64_MAX, and STMT_ALL
    //  leaves liveness to the reader (see zstore_engine_groups.c).
    [STMT_ALL] = "SELECT entry_key, entry_value, create_rev, mod_rev,"
                 " ifnull (expires_at, 9223372036854775807) FROM entries"
                 " WHERE group_name = ?1 ORDER BY entry_key",
    [STMT_PAGE] = "SELECT entry_key, entry_value, create_rev, mod_rev,"
                  " ifnull (expires_at, 9223372036854775807) FROM entries"
                  " WHERE group_name = ?1 AND (expires_at IS NULL OR expires_at > ?2)"
                  " ORDER BY entry_key LIMIT ?3 OFFSET ?4",
    [STMT_PAGE_FIRST] = "SELECT entry_key, entry_value, create_rev, mod_rev,"
                        " ifnull (expires_at, 9223372036854775807) FROM entries"
                        " WHERE group_name = ?1 AND (expires_at IS NULL OR expires_at > ?2)"
                        " ORDER BY entry_key LIMIT ?3",
    [STMT_PAGE_AFTER] = "SELECT entry_key, entry_value, create_rev, mod_rev,"
                        " ifnull (expires_at, 9223372036854775807) FROM entries"
                        " WHERE group_name = ?1 AND (expires_at IS NULL OR expires_at > ?2)"
                        " AND entry_key > ?4 ORDER BY entry_key LIMIT ?3",
    [STMT_PURGE] = "DELETE FROM entries WHERE rowid IN (SELECT rowid FROM entries"
                   " WHERE expires_at IS NOT NULL AND expires_at <= ?1 LIMIT ?2)"
                   " RETURNING group_name, entry_key, mod_rev",
    [STMT_PURGE_RANGE] = "DELETE FROM entries WHERE rowid IN (SELECT rowid FROM entries"
                         " WHERE group_name >= ?3 AND group_name < ?4"
                         " AND expires_at IS NOT NULL AND expires_at <= ?1 LIMIT ?2)"
                         " RETURNING group_name, entry_key, mod_rev",
    //  Quota counts stop at the limit: O(limit), not O(namespace).
    [STMT_QUOTA_KEYS] = "SELECT COUNT(*) FROM (SELECT 1 FROM entries"
                        " WHERE group_name >= ?1 AND group_name < ?2"
                        " AND (expires_at IS NULL OR expires_at > ?3) LIMIT ?4)",
    [STMT_QUOTA_GROUPS] = "SELECT COUNT(*) FROM (SELECT DISTINCT group_name FROM entries"
                          " WHERE group_name >= ?1 AND group_name < ?2"
                          " AND (expires_at IS NULL OR expires_at > ?3) LIMIT ?4)",
    [STMT_GROUP_LIVE] = "SELECT 1 FROM entries WHERE group_name = ?1"
                        " AND (expires_at IS NULL OR expires_at > ?2) LIMIT 1",
    //  History (zstore_engine_history.c). seq grows with commits and so do
    //  revisions: "ORDER BY seq LIMIT 1" is the oldest row, read in O(1).
    [STMT_READ_BEGIN] = "BEGIN",
    [STMT_HISTORY_STATE] = "SELECT"
        " coalesce ((SELECT value FROM zstore_meta WHERE name = 'history_floor'), 0),"
        " coalesce ((SELECT rev FROM zstore_history ORDER BY seq DESC LIMIT 1), 0)",
    [STMT_HISTORY_INSERT] = "INSERT INTO zstore_history (rev, idx, n, type, group_name,"
                            " entry_key, entry_value, prev_rev, ts, expires_at)"
                            " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    [STMT_HISTORY_SPAN] = "SELECT (SELECT seq FROM zstore_history ORDER BY seq LIMIT 1),"
                          " (SELECT seq FROM zstore_history ORDER BY seq DESC LIMIT 1)",
    [STMT_HISTORY_CUT_REVISION] = "SELECT rev FROM zstore_history WHERE seq <= ?1"
                                  " ORDER BY seq DESC LIMIT 1",
    [STMT_HISTORY_TRIM] = "DELETE FROM zstore_history WHERE seq <= ?1",
    [STMT_HISTORY_FLOOR_WRITE] = "INSERT INTO zstore_meta (name, value)"
                                 " VALUES ('history_floor', ?1) ON CONFLICT (name)"
                                 " DO UPDATE SET value = max (value, excluded.value)",
    //  (rev, seq) is the order of seq, and the index on rev serves it.
    [STMT_HISTORY_AFTER] = "SELECT rev, idx, n, type, group_name, entry_key, entry_value,"
                           " prev_rev, ts, expires_at FROM zstore_history WHERE rev > ?1"
                           " ORDER BY rev, seq",
};

static const char *
s_code_names [] = {
    [ZSTORE_OK] = "ok",
    [ZSTORE_NOT_FOUND] = "not_found",
    [ZSTORE_QUOTA_EXCEEDED] = "quota_exceeded",
    [ZSTORE_INVALID] = "invalid",
    [ZSTORE_CLOSED] = "closed",
    [ZSTORE_CONFLICT] = "conflict",
    [ZSTORE_INTERNAL] = "internal",
    [ZSTORE_TOO_OLD] = "too_old",
};

const char *
zstore_engine_code_name (int code)
{
    if (code < 0 || code >= (int) (sizeof s_code_names / sizeof s_code_names [0]))
        return "unknown";
    return s_code_names [code];
}

static const char *
s_event_type_names [] = {
    [ZSTORE_EVENT_SET] = "set",
    [ZSTORE_EVENT_DELETE] = "delete",
    [ZSTORE_EVENT_DELETE_GROUP] = "delete_group",
    [ZSTORE_EVENT_EXPIRE] = "expire",
};

const char *
zstore_event_type_name (int type)
{
    if (type < 0 || type >= (int) (sizeof s_event_type_names / sizeof s_event_type_names [0]))
        return "unknown";
    return s_event_type_names [type];
}

zstore_bytes_t
zstore_str (const char *string)
{
    return zstore_bytes (string ? string : "", string ? strlen (string) : 0);
}

void
zstore_value_reset (zstore_value_t *value)
{
    if (!value)
        return;
    free (value->data);
    memset (value, 0, sizeof (*value));
}

static int64_t
s_system_clock (void *arg)
{
    (void) arg;
    struct timespec now;
    clock_gettime (CLOCK_REALTIME, &now);
    return (int64_t) now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

zstore_engine_t *
zstore_engine_new (const char *path, char **error_p)
{
    if (error_p)
        *error_p = NULL;
    zstore_engine_t *self = calloc (1, sizeof (zstore_engine_t));
    if (!self)
        return NULL;
    self->path = strdup (path ? path : "");
    self->clock = s_system_clock;
    self->next_sink_id = 1;
    if (!self->path || zstore_engine_schema_open (self, "store.New", error_p) != ZSTORE_OK)
        zstore_engine_destroy (&self);
    return self;
}

int
zstore_engine_close (zstore_engine_t *self)
{
    if (!self || !self->db)
        return ZSTORE_OK;
    zstore_engine_change_abandon (self);
    zstore_engine_checkpoint_stop (self);
    for (int index = 0; index < STMT_COUNT_STATEMENTS; index++) {
        sqlite3_finalize (self->statements [index]);
        self->statements [index] = NULL;
    }
    int rc = sqlite3_close (self->db);
    if (rc != SQLITE_OK) {
        zstore_engine_fail (self, ZSTORE_INTERNAL, "store.Close: database close: %s",
                            sqlite3_errmsg (self->db));
        sqlite3_close_v2 (self->db);     //  freed once the last statement is
        self->db = NULL;
        return ZSTORE_INTERNAL;
    }
    self->db = NULL;
    return ZSTORE_OK;
}

void
zstore_engine_destroy (zstore_engine_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zstore_engine_t *self = *self_p;
    zstore_engine_close (self);
    free (self->staged);
    free (self->arena);
    free (self->sinks);
    free (self->error);
    free (self->path);
    free (self);
    *self_p = NULL;
}

bool
zstore_engine_is_closed (zstore_engine_t *self)
{
    return !self || !self->db;
}

const char *
zstore_engine_path (zstore_engine_t *self)
{
    return self ? self->path : "";
}

const char *
zstore_engine_error (zstore_engine_t *self)
{
    return self && self->error ? self->error : "";
}

uint64_t
zstore_engine_revision (zstore_engine_t *self)
{
    return self ? self->revision : 0;
}

int
zstore_engine_fail (zstore_engine_t *self, int code, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    int size = vsnprintf (NULL, 0, format, args);
    va_end (args);
    char *message = size >= 0 ? malloc ((size_t) size + 1) : NULL;
    if (message) {
        va_start (args, format);
        vsnprintf (message, (size_t) size + 1, format, args);
        va_end (args);
    }
    free (self->error);
    self->error = message;
    return code;
}

int
zstore_engine_fail_sql (zstore_engine_t *self, const char *op, const char *what)
{
    return zstore_engine_fail (self, ZSTORE_INTERNAL, "%s: %s: %s", op, what,
                               self->db ? sqlite3_errmsg (self->db) : "database is closed");
}

const char *
zstore_engine_file (zstore_engine_t *self)
{
    const char *file = self->db ? sqlite3_db_filename (self->db, "main") : NULL;
    return file && *file ? file : NULL;
}

int
zstore_engine_check_open (zstore_engine_t *self, const char *op)
{
    if (!self->db)
        return zstore_engine_fail (self, ZSTORE_CLOSED, "%s: store is closed", op);
    return ZSTORE_OK;
}

int
zstore_engine_set_synchronous (zstore_engine_t *self, zstore_sync_t mode)
{
    static const char *pragmas [] = {
        [ZSTORE_SYNC_FULL] = "PRAGMA synchronous = FULL",
        [ZSTORE_SYNC_NORMAL] = "PRAGMA synchronous = NORMAL",
        [ZSTORE_SYNC_OFF] = "PRAGMA synchronous = OFF",
    };
    int rc = zstore_engine_check_open (self, "store.SetSynchronous");
    if (rc)
        return rc;
    if ((int) mode < 0 || mode > ZSTORE_SYNC_OFF)
        return zstore_engine_fail (self, ZSTORE_INVALID, "store.SetSynchronous: unknown mode %d",
                                   (int) mode);
    if (sqlite3_exec (self->db, pragmas [mode], NULL, NULL, NULL) != SQLITE_OK)
        return zstore_engine_fail_sql (self, "store.SetSynchronous", "set synchronous");
    return ZSTORE_OK;
}

int
zstore_engine_set_cache_size (zstore_engine_t *self, int64_t kib)
{
    int rc = zstore_engine_check_open (self, "store.SetCacheSize");
    if (rc)
        return rc;
    if (kib < 64 || kib > INT32_MAX)
        return zstore_engine_fail (self, ZSTORE_INVALID,
                                   "store.SetCacheSize: %lld KiB is out of range",
                                   (long long) kib);
    char pragma [64];
    //  A negative cache_size is in KiB rather than in pages.
    snprintf (pragma, sizeof pragma, "PRAGMA cache_size = -%lld", (long long) kib);
    if (sqlite3_exec (self->db, pragma, NULL, NULL, NULL) != SQLITE_OK)
        return zstore_engine_fail_sql (self, "store.SetCacheSize", "set cache_size");
    return ZSTORE_OK;
}

void
zstore_engine_set_clock (zstore_engine_t *self, zstore_clock_fn *clock, void *arg)
{
    self->clock = clock ? clock : s_system_clock;
    self->clock_arg = clock ? arg : NULL;
}

int64_t
zstore_engine_now (zstore_engine_t *self)
{
    return self->clock (self->clock_arg);
}

sqlite3_stmt *
zstore_engine_statement (zstore_engine_t *self, zstore_statement_t id)
{
    sqlite3_stmt *stmt = self->statements [id];
    if (stmt) {
        sqlite3_reset (stmt);
        return stmt;
    }
    if (sqlite3_prepare_v3 (self->db, s_statement_sql [id], -1, SQLITE_PREPARE_PERSISTENT,
                            &stmt, NULL) != SQLITE_OK) {
        zstore_engine_fail_sql (self, "store", "prepare statement");
        return NULL;
    }
    self->statements [id] = stmt;
    return stmt;
}

const char *
zstore_engine_statement_sql (zstore_statement_t id)
{
    return s_statement_sql [id];
}

int
zstore_engine_bind_bytes (sqlite3_stmt *stmt, int index, zstore_bytes_t bytes)
{
    if (bytes.size > INT_MAX)
        return SQLITE_TOOBIG;
    //  Explicit length, never -1: groups, keys and values may hold NULs.
    return sqlite3_bind_text (stmt, index, bytes.data ? bytes.data : "", (int) bytes.size,
                              SQLITE_STATIC);
}

int
zstore_engine_step_done (sqlite3_stmt *stmt)
{
    int rc = sqlite3_step (stmt);
    sqlite3_reset (stmt);
    return rc;
}

int
zstore_engine_add_event_sink (zstore_engine_t *self, zstore_event_fn *fn, void *arg)
{
    if (!self || !self->db || !fn)
        return -1;
    zstore_sink_t *sinks = realloc (self->sinks, (self->sink_count + 1) * sizeof (zstore_sink_t));
    if (!sinks)
        return -1;
    self->sinks = sinks;
    zstore_sink_t *sink = &self->sinks [self->sink_count++];
    sink->id = self->next_sink_id++;
    sink->fn = fn;
    sink->arg = arg;
    return sink->id;
}

void
zstore_engine_remove_event_sink (zstore_engine_t *self, int sink_id)
{
    if (!self)
        return;
    for (size_t index = 0; index < self->sink_count; index++) {
        if (self->sinks [index].id == sink_id) {
            memmove (&self->sinks [index], &self->sinks [index + 1],
                     (self->sink_count - index - 1) * sizeof (zstore_sink_t));
            self->sink_count--;
            return;
        }
    }
}

void
zstore_engine_emit (zstore_engine_t *self, const zstore_event_t *event)
{
    for (size_t index = 0; index < self->sink_count; index++)
        self->sinks [index].fn (event, self->sinks [index].arg);
}
