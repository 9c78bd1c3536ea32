/*  zstore_engine_keys - one key at a time: get (with lazy expiry), put
    (upsert with TTL, compare-and-set and quota), delete, exists, count.

    A key's "current revision" is its mod_rev while it is live, and 0 when
    it is absent or expired: compare-and-set compares against that.

    A write learns the row it replaces or deletes from the write statement
    itself (see "Rows reported by the statement that writes them"): a plain
    set runs one upsert, a delete one DELETE, with no SELECT before them.
*/

#include "zstore_engine_private.h"

#include <stdlib.h>
#include <string.h>

static int
s_bind_group_key (sqlite3_stmt *stmt, zstore_bytes_t group, zstore_bytes_t key)
{
    int rc = zstore_engine_bind_bytes (stmt, 1, group);
    return rc == SQLITE_OK ? zstore_engine_bind_bytes (stmt, 2, key) : rc;
}

static int
s_bind_failed (zstore_engine_t *self, const char *op, int rc)
{
    if (rc == SQLITE_TOOBIG)
        return zstore_engine_fail (self, ZSTORE_INVALID, "%s: argument too large", op);
    return zstore_engine_fail_sql (self, op, "bind arguments");
}

static int
s_not_found (zstore_engine_t *self, const char *op, zstore_bytes_t group, zstore_bytes_t key)
{
    return zstore_engine_fail (self, ZSTORE_NOT_FOUND, "%s: %.*s/%.*s: store: not found", op,
                               (int) group.size, group.data, (int) key.size, key.data);
}

static bool
s_is_expired (int64_t expires_at, int64_t now)
{
    return expires_at != 0 && expires_at <= now;
}

//  A key's row as a write needs to know it: events carry its mod_rev as
//  the previous revision, an expired row ends with an expire event, a live
//  one keeps its create_rev.
typedef struct {
    bool found;                     //  a row exists, live or expired
    bool live;                      //  at the time of the read or write
    uint64_t create_revision;
    uint64_t mod_revision;
    int64_t expires_at;             //  0 = never
} s_row_t;

//  --- Rows reported by the statement that writes them -------------------
//
//  Reading the row with a SELECT before writing it costs a second
//  primary-key seek and statement run (~7k of a 42k-instruction set), and
//  RETURNING costs an ephemeral table (a delete ran 55k instructions with
//  it, 33k without). So the write statement itself reports the row it
//  replaces or deletes, by calling one of these functions on it with a
//  pointer to an s_capture_t bound as the first argument.

typedef struct {
    int64_t now;                    //  in: liveness is judged at this time
    s_row_t row;                    //  out: found stays false if no row was hit
} s_capture_t;

#define S_CAPTURE_TYPE "zstore_capture_t"

static void
s_capture_row (s_capture_t *capture, sqlite3_value *create_rev, sqlite3_value *mod_rev,
               sqlite3_value *expires_at)
{
    s_row_t *row = &capture->row;
    row->found = true;
    row->create_revision = create_rev ? (uint64_t) sqlite3_value_int64 (create_rev) : 0;
    row->mod_revision = (uint64_t) sqlite3_value_int64 (mod_rev);
    row->expires_at = sqlite3_value_int64 (expires_at);
    row->live = !s_is_expired (row->expires_at, capture->now);
}

//  zstore_replaced (capture, create_rev, mod_rev, expires_at, new_create_rev),
//  in the upsert's DO UPDATE: records the row being replaced and returns
//  the create_rev to write, the row's own while it is live, else the new
//  one (an expired key starts a new life). Without a capture it only
//  returns new_create_rev.
static void
s_replaced_fn (sqlite3_context *context, int argc, sqlite3_value **argv)
{
    (void) argc;
    s_capture_t *capture = sqlite3_value_pointer (argv [0], S_CAPTURE_TYPE);
    if (capture)
        s_capture_row (capture, argv [1], argv [2], argv [3]);
    sqlite3_result_value (context, capture && capture->row.live ? argv [1] : argv [4]);
}

//  zstore_deleting (capture, mod_rev, expires_at), the last term of a
//  delete's WHERE: records the row and is true. The other terms are the
//  whole primary key (and an expiry test), so the row it sees is the one
//  deleted if sqlite3_changes says a row was.
static void
s_deleting_fn (sqlite3_context *context, int argc, sqlite3_value **argv)
{
    (void) argc;
    s_capture_t *capture = sqlite3_value_pointer (argv [0], S_CAPTURE_TYPE);
    if (capture)
        s_capture_row (capture, NULL, argv [1], argv [2]);
    sqlite3_result_int (context, 1);
}

static int
s_register_functions (sqlite3 *db)
{
    int flags = SQLITE_UTF8 | SQLITE_DIRECTONLY;
    int rc = sqlite3_create_function_v2 (db, "zstore_replaced", 5, flags, NULL, s_replaced_fn,
                                         NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function_v2 (db, "zstore_deleting", 3, flags, NULL, s_deleting_fn,
                                         NULL, NULL, NULL);
    return rc;
}

//  A statement that calls the functions above. They are registered on the
//  connection just before the first of these statements is prepared, and
//  not again: redefining a function expires every prepared statement.
static sqlite3_stmt *
s_capturing_statement (zstore_engine_t *self, const char *op, zstore_statement_t id)
{
    if (!self->statements [STMT_UPSERT] && !self->statements [STMT_DELETE]
    &&  !self->statements [STMT_DELETE_IF_EXPIRED]
    &&  s_register_functions (self->db) != SQLITE_OK) {
        zstore_engine_fail_sql (self, op, "register functions");
        return NULL;
    }
    return zstore_engine_statement (self, id);
}

//  Runs a capturing statement, its capture bound as parameter index, and
//  unbinds the pointer after (it must not outlive the call). On failure
//  the message is taken first: binding clears the connection's error.
static int
s_run_capturing (zstore_engine_t *self, const char *op, const char *what, sqlite3_stmt *stmt,
                 int index, s_capture_t *capture)
{
    memset (&capture->row, 0, sizeof (capture->row));
    sqlite3_bind_pointer (stmt, index, capture, S_CAPTURE_TYPE, NULL);
    int code = ZSTORE_OK;
    if (zstore_engine_step_done (stmt) != SQLITE_DONE)
        code = zstore_engine_fail_sql (self, op, what);
    sqlite3_bind_null (stmt, index);
    return code;
}

//  Removes a key found expired by a read, if it still is, with an expire
//  event. Runs as its own change unless a transaction is open.
static int
s_expire_key (zstore_engine_t *self, const char *op, zstore_bytes_t group, zstore_bytes_t key)
{
    int code = zstore_engine_write_open (self, op);
    if (code)
        return code;
    sqlite3_stmt *stmt = s_capturing_statement (self, op, STMT_DELETE_IF_EXPIRED);
    if (!stmt)
        return zstore_engine_write_close (self, op, ZSTORE_INTERNAL);
    s_bind_group_key (stmt, group, key);
    sqlite3_bind_int64 (stmt, 3, zstore_engine_now (self));
    s_capture_t deleted = { 0 };
    code = s_run_capturing (self, op, "delete expired row", stmt, 4, &deleted);
    if (code == ZSTORE_OK && deleted.row.found && sqlite3_changes (self->db) > 0)
        code = zstore_engine_stage (self, ZSTORE_EVENT_EXPIRE, group, key, zstore_bytes ("", 0),
                                    deleted.row.mod_revision, 0);
    return zstore_engine_write_close (self, op, code);
}

static int
s_copy_value (zstore_engine_t *self, sqlite3_stmt *stmt, int64_t expires_at,
              zstore_value_t *value)
{
    zstore_bytes_t bytes = zstore_engine_column_bytes (stmt, 0);
    value->data = malloc (bytes.size + 1);
    if (!value->data)
        return zstore_engine_fail (self, ZSTORE_INTERNAL, "store: out of memory");
    memcpy (value->data, bytes.data, bytes.size);
    value->data [bytes.size] = 0;
    value->size = bytes.size;
    value->expires_at = expires_at;
    value->create_revision = (uint64_t) sqlite3_column_int64 (stmt, 2);
    value->mod_revision = (uint64_t) sqlite3_column_int64 (stmt, 3);
    return ZSTORE_OK;
}

int
zstore_engine_get_as (zstore_engine_t *self, const char *op, zstore_bytes_t group,
                      zstore_bytes_t key, zstore_value_t *value)
{
    if (value)
        memset (value, 0, sizeof (*value));
    int code = zstore_engine_check_open (self, op);
    if (code)
        return code;
    sqlite3_stmt *stmt = zstore_engine_statement (self, STMT_GET);
    if (!stmt)
        return ZSTORE_INTERNAL;
    int rc = s_bind_group_key (stmt, group, key);
    if (rc != SQLITE_OK)
        return s_bind_failed (self, op, rc);
    rc = sqlite3_step (stmt);
    if (rc == SQLITE_DONE) {
        sqlite3_reset (stmt);
        return s_not_found (self, op, group, key);
    }
    if (rc != SQLITE_ROW) {
        sqlite3_reset (stmt);
        return zstore_engine_fail_sql (self, op, "query row");
    }
    int64_t expires_at = sqlite3_column_int64 (stmt, 1);
    if (s_is_expired (expires_at, zstore_engine_now (self))) {
        sqlite3_reset (stmt);
        code = s_expire_key (self, op, group, key);
        return code ? code : s_not_found (self, op, group, key);
    }
    code = value ? s_copy_value (self, stmt, expires_at, value) : ZSTORE_OK;
    sqlite3_reset (stmt);
    return code;
}

//  Reads the key's row before a write that must decide on it first
//  (compare-and-set, quota).
static int
s_probe (zstore_engine_t *self, const char *op, zstore_bytes_t group, zstore_bytes_t key,
         int64_t now, s_row_t *row)
{
    memset (row, 0, sizeof (*row));
    sqlite3_stmt *stmt = zstore_engine_statement (self, STMT_PROBE);
    if (!stmt)
        return ZSTORE_INTERNAL;
    int rc = s_bind_group_key (stmt, group, key);
    if (rc != SQLITE_OK)
        return s_bind_failed (self, op, rc);
    rc = sqlite3_step (stmt);
    if (rc == SQLITE_ROW) {
        row->found = true;
        row->create_revision = (uint64_t) sqlite3_column_int64 (stmt, 0);
        row->mod_revision = (uint64_t) sqlite3_column_int64 (stmt, 1);
        row->expires_at = sqlite3_column_int64 (stmt, 2);
        row->live = !s_is_expired (row->expires_at, now);
        rc = SQLITE_DONE;
    }
    sqlite3_reset (stmt);
    return rc == SQLITE_DONE ? ZSTORE_OK : zstore_engine_fail_sql (self, op, "query row");
}

static int
s_check_revision (zstore_engine_t *self, const char *op, zstore_bytes_t group,
                  zstore_bytes_t key, const s_row_t *row, int64_t if_revision)
{
    uint64_t current = row->live ? row->mod_revision : 0;
    if (if_revision < 0 || current == (uint64_t) if_revision)
        return ZSTORE_OK;
    return zstore_engine_fail (self, ZSTORE_CONFLICT,
                               "%s: %.*s/%.*s: revision mismatch: expected %lld, current %llu",
                               op, (int) group.size, group.data, (int) key.size, key.data,
                               (long long) if_revision, (unsigned long long) current);
}

//  Compare-and-set and quotas decide before writing, so they read the row
//  first; a plain set learns it from the upsert.
static int
s_check_before_put (zstore_engine_t *self, const char *op, zstore_bytes_t group,
                    zstore_bytes_t key, int64_t if_revision, const zstore_quota_t *quota,
                    int64_t now)
{
    s_row_t row;
    int code = s_probe (self, op, group, key, now, &row);
    if (code == ZSTORE_OK)
        code = s_check_revision (self, op, group, key, &row, if_revision);
    if (code == ZSTORE_OK && quota && !row.live)
        code = zstore_quota_check (self, op, quota, group);
    return code;
}

//  Writes the row (create_rev and mod_rev revision, unless a live row
//  keeps its create_rev); *replaced gets the row it replaced.
static int
s_upsert (zstore_engine_t *self, const char *op, zstore_bytes_t group, zstore_bytes_t key,
          zstore_bytes_t value, int64_t expires_at, uint64_t revision, s_capture_t *replaced)
{
    sqlite3_stmt *stmt = s_capturing_statement (self, op, STMT_UPSERT);
    if (!stmt)
        return ZSTORE_INTERNAL;
    int rc = s_bind_group_key (stmt, group, key);
    if (rc == SQLITE_OK)
        rc = zstore_engine_bind_bytes (stmt, 3, value);
    if (rc != SQLITE_OK)
        return s_bind_failed (self, op, rc);
    if (expires_at)
        sqlite3_bind_int64 (stmt, 4, expires_at);
    else
        sqlite3_bind_null (stmt, 4);
    sqlite3_bind_int64 (stmt, 5, (sqlite3_int64) revision);
    return s_run_capturing (self, op, expires_at ? "execute upsert with expiry"
                                                 : "execute upsert", stmt, 6, replaced);
}

//  The write itself, inside an open write transaction.
static int
s_put_locked (zstore_engine_t *self, const char *op, zstore_bytes_t group, zstore_bytes_t key,
              zstore_bytes_t value, const zstore_write_t *options, const zstore_quota_t *quota,
              uint64_t *revision_p)
{
    int64_t now = zstore_engine_now (self);
    if (options->if_revision >= 0 || quota) {
        int code = s_check_before_put (self, op, group, key, options->if_revision, quota, now);
        if (code)
            return code;
    }
    uint64_t revision = zstore_engine_change_revision (self);
    int64_t expires_at = options->has_ttl ? now + options->ttl_ms : 0;
    //  An expiry of 0 would read as "never": a TTL landing exactly on the
    //  epoch is already expired anyway, so keep it expired.
    if (options->has_ttl && expires_at == 0)
        expires_at = -1;
    s_capture_t replaced = { .now = now };
    int code = s_upsert (self, op, group, key, value, expires_at, revision, &replaced);
    const s_row_t *row = &replaced.row;
    //  Overwriting an expired row ends that key's life first: watchers see
    //  the expiry, then a set with no previous revision.
    if (code == ZSTORE_OK && row->found && !row->live)
        code = zstore_engine_stage (self, ZSTORE_EVENT_EXPIRE, group, key, zstore_bytes ("", 0),
                                    row->mod_revision, 0);
    if (code == ZSTORE_OK)
        code = zstore_engine_stage (self, ZSTORE_EVENT_SET, group, key, value,
                                    row->live ? row->mod_revision : 0, expires_at);
    if (code == ZSTORE_OK && revision_p)
        *revision_p = revision;
    return code;
}

int
zstore_engine_put_as (zstore_engine_t *self, const char *op, zstore_bytes_t group,
                      zstore_bytes_t key, zstore_bytes_t value, const zstore_write_t *options,
                      const zstore_quota_t *quota, uint64_t *revision_p)
{
    static const zstore_write_t defaults = ZSTORE_WRITE_DEFAULTS;
    if (revision_p)
        *revision_p = 0;
    int code = zstore_engine_check_open (self, op);
    if (code == ZSTORE_OK)
        code = zstore_engine_write_open (self, op);
    if (code)
        return code;
    code = s_put_locked (self, op, group, key, value, options ? options : &defaults, quota,
                         revision_p);
    code = zstore_engine_write_close (self, op, code);
    if (code && revision_p)
        *revision_p = 0;                //  nothing was committed
    return code;
}

static int
s_delete_locked (zstore_engine_t *self, const char *op, zstore_bytes_t group,
                 zstore_bytes_t key, int64_t if_revision, uint64_t *revision_p)
{
    if (if_revision >= 0) {
        s_row_t row;
        int code = s_probe (self, op, group, key, zstore_engine_now (self), &row);
        if (code == ZSTORE_OK)
            code = s_check_revision (self, op, group, key, &row, if_revision);
        if (code)
            return code;
    }
    sqlite3_stmt *stmt = s_capturing_statement (self, op, STMT_DELETE);
    if (!stmt)
        return ZSTORE_INTERNAL;
    int rc = s_bind_group_key (stmt, group, key);
    if (rc != SQLITE_OK)
        return s_bind_failed (self, op, rc);
    s_capture_t deleted = { 0 };
    int code = s_run_capturing (self, op, "delete row", stmt, 3, &deleted);
    if (code || !deleted.row.found || sqlite3_changes (self->db) == 0)
        return code;                    //  nothing to delete: not an error, no event
    if (revision_p)
        *revision_p = zstore_engine_change_revision (self);
    return zstore_engine_stage (self, ZSTORE_EVENT_DELETE, group, key, zstore_bytes ("", 0),
                                deleted.row.mod_revision, 0);
}

int
zstore_engine_delete_as (zstore_engine_t *self, const char *op, zstore_bytes_t group,
                         zstore_bytes_t key, int64_t if_revision, uint64_t *revision_p)
{
    if (revision_p)
        *revision_p = 0;
    int code = zstore_engine_check_open (self, op);
    if (code == ZSTORE_OK)
        code = zstore_engine_write_open (self, op);
    if (code)
        return code;
    code = s_delete_locked (self, op, group, key, if_revision, revision_p);
    code = zstore_engine_write_close (self, op, code);
    if (code && revision_p)
        *revision_p = 0;                //  nothing was committed
    return code;
}

//  Runs a "SELECT <one integer>" statement whose ?1 is group, ?2 key (if
//  any) and the last parameter now.
static int
s_select_integer (zstore_engine_t *self, const char *op, const char *what,
                  zstore_statement_t id, zstore_bytes_t group, const zstore_bytes_t *key,
                  int64_t *result_p)
{
    *result_p = 0;
    int code = zstore_engine_check_open (self, op);
    if (code)
        return code;
    sqlite3_stmt *stmt = zstore_engine_statement (self, id);
    if (!stmt)
        return ZSTORE_INTERNAL;
    int rc = key ? s_bind_group_key (stmt, group, *key) : zstore_engine_bind_bytes (stmt, 1, group);
    if (rc != SQLITE_OK)
        return s_bind_failed (self, op, rc);
    sqlite3_bind_int64 (stmt, key ? 3 : 2, zstore_engine_now (self));
    rc = sqlite3_step (stmt);
    if (rc == SQLITE_ROW) {
        *result_p = sqlite3_column_int64 (stmt, 0);
        rc = SQLITE_DONE;
    }
    sqlite3_reset (stmt);
    return rc == SQLITE_DONE ? ZSTORE_OK : zstore_engine_fail_sql (self, op, what);
}

int
zstore_engine_count_as (zstore_engine_t *self, const char *op, zstore_bytes_t group,
                        int64_t *count_p)
{
    return s_select_integer (self, op, "count rows", STMT_COUNT, group, NULL, count_p);
}

//  --- Public ------------------------------------------------------------

int
zstore_engine_get (zstore_engine_t *self, zstore_bytes_t group, zstore_bytes_t key,
                   zstore_value_t *value)
{
    return zstore_engine_get_as (self, ZSTORE_OP (self, "Get"), group, key, value);
}

int
zstore_engine_put (zstore_engine_t *self, zstore_bytes_t group, zstore_bytes_t key,
                   zstore_bytes_t value, const zstore_write_t *options, uint64_t *revision_p)
{
    const char *op = options && options->has_ttl ? ZSTORE_OP (self, "SetWithTTL")
                                                 : ZSTORE_OP (self, "Set");
    return zstore_engine_put_as (self, op, group, key, value, options, NULL, revision_p);
}

int
zstore_engine_set (zstore_engine_t *self, zstore_bytes_t group, zstore_bytes_t key,
                   zstore_bytes_t value, uint64_t *revision_p)
{
    return zstore_engine_put (self, group, key, value, NULL, revision_p);
}

int
zstore_engine_set_with_ttl (zstore_engine_t *self, zstore_bytes_t group, zstore_bytes_t key,
                            zstore_bytes_t value, int64_t ttl_ms, uint64_t *revision_p)
{
    zstore_write_t options = { true, ttl_ms, ZSTORE_ANY_REVISION };
    return zstore_engine_put (self, group, key, value, &options, revision_p);
}

int
zstore_engine_delete (zstore_engine_t *self, zstore_bytes_t group, zstore_bytes_t key,
                      int64_t if_revision, uint64_t *revision_p)
{
    return zstore_engine_delete_as (self, ZSTORE_OP (self, "Delete"), group, key, if_revision,
                                    revision_p);
}

int
zstore_engine_exists (zstore_engine_t *self, zstore_bytes_t group, zstore_bytes_t key,
                      bool *exists_p)
{
    int64_t found = 0;
    int code = s_select_integer (self, ZSTORE_OP (self, "Exists"), "query row", STMT_EXISTS,
                                 group, &key, &found);
    *exists_p = found != 0;
    return code;
}

int
zstore_engine_group_exists (zstore_engine_t *self, zstore_bytes_t group, bool *exists_p)
{
    int64_t found = 0;
    int code = s_select_integer (self, ZSTORE_OP (self, "GroupExists"), "query row",
                                 STMT_GROUP_EXISTS, group, NULL, &found);
    *exists_p = found != 0;
    return code;
}

int
zstore_engine_count (zstore_engine_t *self, zstore_bytes_t group, int64_t *count_p)
{
    return zstore_engine_count_as (self, ZSTORE_OP (self, "Count"), group, count_p);
}
