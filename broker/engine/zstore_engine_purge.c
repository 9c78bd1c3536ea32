/*  zstore_engine_purge - removing expired rows in bounded steps. Each step
    is one change (one revision, one commit) of at most max_rows rows, found
    through the partial index on expires_at, and emits an expire event per
    row: a broker can interleave a purge of a million rows with requests.
*/

#include "zstore_engine_private.h"

//  Rows per step for the purge-everything calls.
#define PURGE_CHUNK 1000

static int
s_purge_step_locked (zstore_engine_t *self, const char *op, const zstore_range_t *range,
                     int64_t max_rows, int64_t *removed_p)
{
    sqlite3_stmt *stmt = zstore_engine_statement (self, range ? STMT_PURGE_RANGE : STMT_PURGE);
    if (!stmt)
        return ZSTORE_INTERNAL;
    sqlite3_bind_int64 (stmt, 1, zstore_engine_now (self));
    sqlite3_bind_int64 (stmt, 2, max_rows);
    if (range && zstore_engine_bind_range (stmt, 3, range) != SQLITE_OK) {
        sqlite3_reset (stmt);
        return zstore_engine_fail (self, ZSTORE_INVALID, "%s: argument too large", op);
    }
    int code = ZSTORE_OK, rc;
    while (code == ZSTORE_OK && (rc = sqlite3_step (stmt)) == SQLITE_ROW) {
        code = zstore_engine_stage (self, ZSTORE_EVENT_EXPIRE,
                                    zstore_engine_column_bytes (stmt, 0),
                                    zstore_engine_column_bytes (stmt, 1), zstore_bytes ("", 0),
                                    (uint64_t) sqlite3_column_int64 (stmt, 2), 0);
        ++*removed_p;
    }
    sqlite3_reset (stmt);
    if (code == ZSTORE_OK && rc != SQLITE_DONE)
        code = zstore_engine_fail_sql (self, op, "delete expired rows");
    return code;
}

//  One step; range NULL = every group.
int
zstore_engine_purge_step_as (zstore_engine_t *self, const char *op, const zstore_range_t *range,
              int64_t max_rows, int64_t *removed_p)
{
    *removed_p = 0;
    int code = zstore_engine_check_open (self, op);
    if (code == ZSTORE_OK && max_rows <= 0)
        code = zstore_engine_fail (self, ZSTORE_INVALID, "%s: max rows must be positive", op);
    if (code == ZSTORE_OK)
        code = zstore_engine_write_open (self, op);
    if (code)
        return code;
    code = s_purge_step_locked (self, op, range, max_rows, removed_p);
    code = zstore_engine_write_close (self, op, code);
    if (code)
        *removed_p = 0;
    return code;
}

int
zstore_engine_purge_as (zstore_engine_t *self, const char *op, const zstore_range_t *range,
                        int64_t *removed_p)
{
    *removed_p = 0;
    int64_t removed;
    int code;
    do {
        code = zstore_engine_purge_step_as (self, op, range, PURGE_CHUNK, &removed);
        *removed_p += removed;
    } while (code == ZSTORE_OK && removed == PURGE_CHUNK);
    return code;
}

int
zstore_engine_purge_expired (zstore_engine_t *self, int64_t *removed_p)
{
    return zstore_engine_purge_as (self, ZSTORE_OP (self, "PurgeExpired"), NULL, removed_p);
}

int
zstore_engine_purge_expired_step (zstore_engine_t *self, int64_t max_rows, int64_t *removed_p)
{
    return zstore_engine_purge_step_as (self, ZSTORE_OP (self, "PurgeExpired"), NULL, max_rows,
                                        removed_p);
}
