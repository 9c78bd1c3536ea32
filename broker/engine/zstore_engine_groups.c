/*  zstore_engine_groups - whole groups and prefixes of groups: delete group,
    delete prefix, get all, pages, iteration, count all, group listings.

    Prefixes are byte-exact ranges on the primary key, never LIKE: go-store's
    LIKE is ASCII case-insensitive (so "tenant-a:" also matched "Tenant-A:x"),
    stops at NUL bytes, and cannot use the index.
*/

#include "zstore_engine_private.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

//  A range's upper bound is the prefix with its last byte incremented after
//  dropping trailing 0xFF bytes: every name starting with the prefix sorts
//  before it and nothing else in between. With no such bound (empty or all
//  0xFF), the bound is bound as a BLOB: SQLite orders every TEXT value
//  before every BLOB, so "group_name < x''" holds for every row.
int
zstore_range_init (zstore_range_t *range, zstore_bytes_t prefix)
{
    memset (range, 0, sizeof (*range));
    range->lower = prefix;
    size_t size = prefix.size;
    while (size > 0 && (unsigned char) prefix.data [size - 1] == 0xFF)
        size--;
    if (size == 0)
        return 0;
    range->upper = malloc (size);
    if (!range->upper)
        return -1;
    memcpy (range->upper, prefix.data, size);
    range->upper [size - 1] = (char) ((unsigned char) range->upper [size - 1] + 1);
    range->upper_size = size;
    return 0;
}

void
zstore_range_reset (zstore_range_t *range)
{
    free (range->upper);
    memset (range, 0, sizeof (*range));
}

int
zstore_engine_bind_range (sqlite3_stmt *stmt, int index, const zstore_range_t *range)
{
    int rc = zstore_engine_bind_bytes (stmt, index, range->lower);
    if (rc != SQLITE_OK)
        return rc;
    if (range->upper)
        return zstore_engine_bind_bytes (stmt, index + 1,
                                         zstore_bytes (range->upper, range->upper_size));
    return sqlite3_bind_zeroblob (stmt, index + 1, 0);
}

static int
s_bind_failed (zstore_engine_t *self, const char *op, int rc)
{
    if (rc == SQLITE_TOOBIG)
        return zstore_engine_fail (self, ZSTORE_INVALID, "%s: argument too large", op);
    return zstore_engine_fail_sql (self, op, "bind arguments");
}

//  --- Deleting ---------------------------------------------------------

static int
s_delete_group_locked (zstore_engine_t *self, const char *op, zstore_bytes_t group,
                       uint64_t *revision_p)
{
    sqlite3_stmt *stmt = zstore_engine_statement (self, STMT_DELETE_GROUP);
    if (!stmt)
        return ZSTORE_INTERNAL;
    int rc = zstore_engine_bind_bytes (stmt, 1, group);
    if (rc != SQLITE_OK)
        return s_bind_failed (self, op, rc);
    if (zstore_engine_step_done (stmt) != SQLITE_DONE)
        return zstore_engine_fail_sql (self, op, "delete group");
    if (sqlite3_changes (self->db) == 0)
        return ZSTORE_OK;
    if (revision_p)
        *revision_p = zstore_engine_change_revision (self);
    return zstore_engine_stage (self, ZSTORE_EVENT_DELETE_GROUP, group, zstore_bytes ("", 0),
                                zstore_bytes ("", 0), 0, 0);
}

int
zstore_engine_delete_group_as (zstore_engine_t *self, const char *op, zstore_bytes_t group,
                               uint64_t *revision_p)
{
    if (revision_p)
        *revision_p = 0;
    int code = zstore_engine_check_open (self, op);
    if (code == ZSTORE_OK)
        code = zstore_engine_write_open (self, op);
    if (code)
        return code;
    code = s_delete_group_locked (self, op, group, revision_p);
    code = zstore_engine_write_close (self, op, code);
    if (code && revision_p)
        *revision_p = 0;                //  nothing was committed
    return code;
}

//  Names of every group in range (expired or not), ascending.
static int
s_list_groups (zstore_engine_t *self, const char *op, zstore_statement_t id,
               const zstore_range_t *range, size_t strip, zstore_list_t *list)
{
    sqlite3_stmt *stmt = zstore_engine_statement (self, id);
    if (!stmt)
        return ZSTORE_INTERNAL;
    int rc = zstore_engine_bind_range (stmt, 1, range);
    if (rc != SQLITE_OK)
        return s_bind_failed (self, op, rc);
    if (id == STMT_GROUPS_LIVE)
        sqlite3_bind_int64 (stmt, 3, zstore_engine_now (self));
    int code = ZSTORE_OK;
    while (code == ZSTORE_OK && (rc = sqlite3_step (stmt)) == SQLITE_ROW) {
        zstore_bytes_t name = zstore_engine_column_bytes (stmt, 0);
        size_t cut = strip < name.size ? strip : name.size;
        if (!zstore_list_append (list, name.data + cut, name.size - cut, "", 0))
            code = zstore_engine_fail (self, ZSTORE_INTERNAL, "%s: out of memory", op);
    }
    sqlite3_reset (stmt);
    if (code == ZSTORE_OK && rc != SQLITE_DONE)
        code = zstore_engine_fail_sql (self, op, "list groups");
    return code;
}

int
zstore_engine_delete_prefix_as (zstore_engine_t *self, const char *op, zstore_bytes_t prefix,
                                uint64_t *revision_p)
{
    if (revision_p)
        *revision_p = 0;
    int code = zstore_engine_check_open (self, op);
    if (code == ZSTORE_OK)
        code = zstore_engine_write_open (self, op);
    if (code)
        return code;
    //  List first, then delete: one change, so the whole prefix goes at
    //  once (go-store is atomic only inside a transaction).
    zstore_range_t range;
    zstore_list_t *groups = zstore_list_new ();
    if (!groups || zstore_range_init (&range, prefix))
        code = zstore_engine_fail (self, ZSTORE_INTERNAL, "%s: out of memory", op);
    else {
        code = s_list_groups (self, op, STMT_GROUPS_ANY, &range, 0, groups);
        zstore_range_reset (&range);
    }
    for (size_t index = 0; code == ZSTORE_OK && index < zstore_list_size (groups); index++) {
        const zstore_item_t *group = zstore_list_item (groups, index);
        code = s_delete_group_locked (self, op, zstore_bytes (group->key, group->key_size),
                                      revision_p);
    }
    zstore_list_destroy (&groups);
    code = zstore_engine_write_close (self, op, code);
    if (code && revision_p)
        *revision_p = 0;                //  nothing was committed
    return code;
}

//  --- Reading rows -----------------------------------------------------
//
//  Row statements select (key, value, create_rev, mod_rev, expires_at).
//  STMT_ALL leaves liveness to s_read_row: expires_at is read for the item
//  anyway, and testing it in C spares the VDBE a second read of the column
//  and the test per row (~5% of a GetAll). Row statements read a NULL
//  expiry as INT64_MAX, so that a stored 0 stays expired as go-store has
//  it (and a stored INT64_MAX, which never comes, reads as "never" too). The page statements test liveness in SQL as well, where LIMIT must
//  count live rows only; the same test in C then removes nothing more.

//  The row at stmt, unless it expired by now. Strings point into the
//  statement until the next step.
static bool
s_read_row (sqlite3_stmt *stmt, int64_t now, zstore_item_t *row)
{
    int64_t expires_at = sqlite3_column_int64 (stmt, 4);
    if (expires_at <= now)
        return false;
    if (expires_at == INT64_MAX)
        expires_at = 0;                 //  "never"
    zstore_bytes_t key = zstore_engine_column_bytes (stmt, 0);
    zstore_bytes_t value = zstore_engine_column_bytes (stmt, 1);
    *row = (zstore_item_t) {
        .group = "", .group_size = 0,
        .key = key.data, .key_size = key.size,
        .value = value.data, .value_size = value.size,
        .create_revision = (uint64_t) sqlite3_column_int64 (stmt, 2),
        .mod_revision = (uint64_t) sqlite3_column_int64 (stmt, 3),
        .expires_at = expires_at,
    };
    return true;
}

//  Steps a row statement and calls fn per live row until it returns
//  non-zero.
static int
s_each_row (zstore_engine_t *self, const char *op, sqlite3_stmt *stmt, int64_t now,
            zstore_item_fn *fn, void *arg)
{
    int rc;
    zstore_item_t row;
    while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
        if (s_read_row (stmt, now, &row) && fn (&row, arg) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    sqlite3_reset (stmt);
    return rc == SQLITE_DONE ? ZSTORE_OK : zstore_engine_fail_sql (self, op, "rows iteration");
}

//  Binds group and, where the statement tests liveness, now (the ?1, ?2
//  every row statement starts with); *now_p gets now.
static sqlite3_stmt *
s_row_statement (zstore_engine_t *self, const char *op, zstore_statement_t id,
                 zstore_bytes_t group, int64_t *now_p, int *code_p)
{
    *code_p = zstore_engine_check_open (self, op);
    if (*code_p)
        return NULL;
    sqlite3_stmt *stmt = zstore_engine_statement (self, id);
    if (!stmt) {
        *code_p = ZSTORE_INTERNAL;
        return NULL;
    }
    int rc = zstore_engine_bind_bytes (stmt, 1, group);
    if (rc != SQLITE_OK) {
        *code_p = s_bind_failed (self, op, rc);
        return NULL;
    }
    *now_p = zstore_engine_now (self);
    if (id != STMT_ALL)
        sqlite3_bind_int64 (stmt, 2, *now_p);
    return stmt;
}

//  The live rows of a row statement, copied into a new list.
static int
s_collect (zstore_engine_t *self, const char *op, sqlite3_stmt *stmt, int64_t now,
           zstore_list_t **list_p)
{
    zstore_list_t *list = zstore_list_new ();
    int code = list ? ZSTORE_OK : ZSTORE_INTERNAL;
    int rc = SQLITE_DONE;
    zstore_item_t row;
    while (code == ZSTORE_OK && (rc = sqlite3_step (stmt)) == SQLITE_ROW) {
        if (s_read_row (stmt, now, &row) && !zstore_list_append_item (list, &row))
            code = ZSTORE_INTERNAL;
    }
    sqlite3_reset (stmt);
    if (code)
        code = zstore_engine_fail (self, ZSTORE_INTERNAL, "%s: out of memory", op);
    else
    if (rc != SQLITE_DONE)
        code = zstore_engine_fail_sql (self, op, "rows iteration");
    if (code)
        zstore_list_destroy (&list);
    *list_p = list;
    return code;
}

int
zstore_engine_get_all_as (zstore_engine_t *self, const char *op, zstore_bytes_t group,
                          zstore_list_t **list_p)
{
    *list_p = NULL;
    int code;
    int64_t now;
    sqlite3_stmt *stmt = s_row_statement (self, op, STMT_ALL, group, &now, &code);
    return stmt ? s_collect (self, op, stmt, now, list_p) : code;
}

int
zstore_engine_get_page_as (zstore_engine_t *self, const char *op, zstore_bytes_t group,
                           int64_t offset, int64_t limit, zstore_list_t **list_p)
{
    *list_p = NULL;
    if (offset < 0)
        return zstore_engine_fail (self, ZSTORE_INVALID, "%s: offset must be zero or positive",
                                   op);
    if (limit < 0)
        return zstore_engine_fail (self, ZSTORE_INVALID, "%s: limit must be zero or positive",
                                   op);
    int code;
    int64_t now;
    sqlite3_stmt *stmt = s_row_statement (self, op, STMT_PAGE, group, &now, &code);
    if (!stmt)
        return code;
    sqlite3_bind_int64 (stmt, 3, limit);
    sqlite3_bind_int64 (stmt, 4, offset);
    return s_collect (self, op, stmt, now, list_p);
}

int
zstore_engine_get_page_after (zstore_engine_t *self, zstore_bytes_t group,
                              const zstore_bytes_t *after, int64_t limit, zstore_list_t **list_p)
{
    const char *op = ZSTORE_OP (self, "GetPageAfter");
    *list_p = NULL;
    if (limit < 0)
        return zstore_engine_fail (self, ZSTORE_INVALID, "%s: limit must be zero or positive",
                                   op);
    int code;
    int64_t now;
    sqlite3_stmt *stmt = s_row_statement (self, op, after ? STMT_PAGE_AFTER : STMT_PAGE_FIRST,
                                          group, &now, &code);
    if (!stmt)
        return code;
    sqlite3_bind_int64 (stmt, 3, limit);
    int rc = after ? zstore_engine_bind_bytes (stmt, 4, *after) : SQLITE_OK;
    if (rc != SQLITE_OK)
        return s_bind_failed (self, op, rc);
    return s_collect (self, op, stmt, now, list_p);
}

int
zstore_engine_each (zstore_engine_t *self, zstore_bytes_t group, zstore_item_fn *fn, void *arg)
{
    const char *op = ZSTORE_OP (self, "All");
    int code;
    int64_t now;
    sqlite3_stmt *stmt = s_row_statement (self, op, STMT_ALL, group, &now, &code);
    return stmt ? s_each_row (self, op, stmt, now, fn, arg) : code;
}

//  --- Counting and listing across groups -------------------------------

int
zstore_engine_count_all_as (zstore_engine_t *self, const char *op, zstore_bytes_t prefix,
                            int64_t *count_p)
{
    *count_p = 0;
    int code = zstore_engine_check_open (self, op);
    if (code)
        return code;
    zstore_range_t range;
    sqlite3_stmt *stmt = zstore_engine_statement (self, STMT_COUNT_RANGE);
    if (!stmt)
        return ZSTORE_INTERNAL;
    if (zstore_range_init (&range, prefix))
        return zstore_engine_fail (self, ZSTORE_INTERNAL, "%s: out of memory", op);
    int rc = zstore_engine_bind_range (stmt, 1, &range);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64 (stmt, 3, zstore_engine_now (self));
        if ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
            *count_p = sqlite3_column_int64 (stmt, 0);
        sqlite3_reset (stmt);
    }
    zstore_range_reset (&range);
    if (rc == SQLITE_TOOBIG)
        return s_bind_failed (self, op, rc);
    return rc == SQLITE_ROW ? ZSTORE_OK : zstore_engine_fail_sql (self, op, "count rows");
}

int
zstore_engine_groups_as (zstore_engine_t *self, const char *op, zstore_bytes_t prefix,
                         size_t strip, zstore_list_t **list_p)
{
    *list_p = NULL;
    int code = zstore_engine_check_open (self, op);
    if (code)
        return code;
    zstore_range_t range;
    zstore_list_t *list = zstore_list_new ();
    if (!list || zstore_range_init (&range, prefix)) {
        zstore_list_destroy (&list);
        return zstore_engine_fail (self, ZSTORE_INTERNAL, "%s: out of memory", op);
    }
    code = s_list_groups (self, op, STMT_GROUPS_LIVE, &range, strip, list);
    zstore_range_reset (&range);
    if (code)
        zstore_list_destroy (&list);
    *list_p = list;
    return code;
}

//  --- Public ------------------------------------------------------------

int
zstore_engine_delete_group (zstore_engine_t *self, zstore_bytes_t group, uint64_t *revision_p)
{
    return zstore_engine_delete_group_as (self, ZSTORE_OP (self, "DeleteGroup"), group,
                                          revision_p);
}

int
zstore_engine_delete_prefix (zstore_engine_t *self, zstore_bytes_t prefix, uint64_t *revision_p)
{
    return zstore_engine_delete_prefix_as (self, ZSTORE_OP (self, "DeletePrefix"), prefix,
                                           revision_p);
}

int
zstore_engine_get_all (zstore_engine_t *self, zstore_bytes_t group, zstore_list_t **list_p)
{
    return zstore_engine_get_all_as (self, ZSTORE_OP (self, "GetAll"), group, list_p);
}

int
zstore_engine_get_page (zstore_engine_t *self, zstore_bytes_t group, int64_t offset,
                        int64_t limit, zstore_list_t **list_p)
{
    return zstore_engine_get_page_as (self, ZSTORE_OP (self, "GetPage"), group, offset, limit,
                                      list_p);
}

int
zstore_engine_count_all (zstore_engine_t *self, zstore_bytes_t prefix, int64_t *count_p)
{
    return zstore_engine_count_all_as (self, ZSTORE_OP (self, "CountAll"), prefix, count_p);
}

int
zstore_engine_groups (zstore_engine_t *self, zstore_bytes_t prefix, zstore_list_t **list_p)
{
    return zstore_engine_groups_as (self, ZSTORE_OP (self, "Groups"), prefix, 0, list_p);
}
