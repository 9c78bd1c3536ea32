/*  zstore_snapshot - a consistent read-only view of part of the store at
    one revision, read in pages.

    A file database is read through a second, read-only connection that
    opens one read transaction ("BEGIN", then a first read of the revision,
    which is what pins the WAL snapshot) and keeps it until the view is
    destroyed. In WAL mode readers never block writers, so the engine's
    connection carries on; later commits go to the WAL past the pinned
    point and stay invisible to the view. (The WAL cannot be checkpointed
    past the view meanwhile, so a view should not be kept open for hours.)

    Pages use keyset pagination on the primary key: each page starts after
    the last (group, key) handed out, so a page costs the same at any
    depth. Liveness uses the clock as read at open.

    An in-memory database cannot be opened twice, so its view is copied
    whole at open through the engine's connection and served from memory.
    Either way the view does not need the engine after open.
*/

#include "zstore_engine_private.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SNAPSHOT_OP "store.Snapshot"

//  The columns every row statement returns.
#define ROW_COLUMNS "group_name, entry_key, entry_value, create_rev, mod_rev, expires_at"

//  Parameters: ?1 now, ?2 limit, ?3 ?4 the last (group, key) handed out,
//  ?5.. the scope. Per kind, the condition of the first page and of the
//  pages after it. With a fixed group the cursor is on the key alone: SQLite
//  does not combine "group_name = ?" with a row-value bound on the index.
static const char *
s_scope_sql [][2] = {
    [ZSTORE_SCOPE_ALL] = {
        "1",
        "(group_name, entry_key) > (?3, ?4)" },
    [ZSTORE_SCOPE_GROUP_PREFIX] = {
        "group_name >= ?5 AND group_name < ?6",
        "(group_name, entry_key) > (?3, ?4) AND group_name < ?6" },
    [ZSTORE_SCOPE_GROUP] = {
        "group_name = ?5",
        "group_name = ?5 AND entry_key > ?4" },
    [ZSTORE_SCOPE_KEY_PREFIX] = {
        "group_name = ?5 AND entry_key >= ?6 AND entry_key < ?7",
        "group_name = ?5 AND entry_key > ?4 AND entry_key < ?7" },
    [ZSTORE_SCOPE_KEY] = {
        "group_name = ?5 AND entry_key = ?6",
        "group_name = ?5 AND entry_key = ?6 AND entry_key > ?4" },
};

struct _zstore_snapshot_t {
    zstore_scope_kind_t kind;
    char *scope_data;               //  group then key, copied: statements bind them
    zstore_bytes_t group, key;      //  into scope_data
    zstore_range_t range;           //  group range (GROUP_PREFIX) or key range (KEY_PREFIX)
    int64_t now;                    //  the clock at open
    uint64_t revision;
    uint64_t count;                 //  rows handed out
    bool exhausted;

    //  A file database: the read-only connection and its page statements
    sqlite3 *db;
    sqlite3_stmt *first_page;
    sqlite3_stmt *next_page;
    bool started;                   //  a row was handed out: the cursor is set
    char *cursor;                   //  the last (group, key) handed out, back to back
    size_t cursor_group_size, cursor_key_size, cursor_capacity;

    //  An in-memory database: the copied rows and the read position
    zstore_list_t *rows;
    size_t position;
};

static char *
s_message (const char *format, ...)
{
    va_list args;
    va_start (args, format);
    char *message = NULL;
    int size = vsnprintf (NULL, 0, format, args);
    va_end (args);
    if (size >= 0 && (message = malloc ((size_t) size + 1))) {
        va_start (args, format);
        vsnprintf (message, (size_t) size + 1, format, args);
        va_end (args);
    }
    return message;
}

//  Sets *error_p (if wanted) and returns code.
static int
s_fail (char **error_p, int code, char *message)
{
    if (error_p)
        *error_p = message;
    else
        free (message);
    return code;
}

static int
s_fail_sql (char **error_p, sqlite3 *db, const char *what)
{
    return s_fail (error_p, ZSTORE_INTERNAL, s_message ("%s: %s: %s", SNAPSHOT_OP, what,
                                                        db ? sqlite3_errmsg (db)
                                                           : "out of memory"));
}

//  --- Scope --------------------------------------------------------------

//  Copies the scope's bytes and builds its range.
static int
s_set_scope (zstore_snapshot_t *self, const zstore_view_scope_t *scope, char **error_p)
{
    if (!scope || (int) scope->kind < ZSTORE_SCOPE_ALL || scope->kind > ZSTORE_SCOPE_KEY)
        return s_fail (error_p, ZSTORE_INVALID, s_message ("%s: unknown scope", SNAPSHOT_OP));
    if (scope->group.size > INT_MAX || scope->key.size > INT_MAX)
        return s_fail (error_p, ZSTORE_INVALID,
                       s_message ("%s: argument too large", SNAPSHOT_OP));
    self->kind = scope->kind;
    size_t size = scope->group.size + scope->key.size;
    self->scope_data = malloc (size ? size : 1);
    if (!self->scope_data)
        return s_fail (error_p, ZSTORE_INTERNAL, s_message ("%s: out of memory", SNAPSHOT_OP));
    if (scope->group.size)
        memcpy (self->scope_data, scope->group.data, scope->group.size);
    if (scope->key.size)
        memcpy (self->scope_data + scope->group.size, scope->key.data, scope->key.size);
    self->group = zstore_bytes (self->scope_data, scope->group.size);
    self->key = zstore_bytes (self->scope_data + scope->group.size, scope->key.size);
    int rc = 0;
    if (self->kind == ZSTORE_SCOPE_GROUP_PREFIX)
        rc = zstore_range_init (&self->range, self->group);
    else
    if (self->kind == ZSTORE_SCOPE_KEY_PREFIX)
        rc = zstore_range_init (&self->range, self->key);
    if (rc)
        return s_fail (error_p, ZSTORE_INTERNAL, s_message ("%s: out of memory", SNAPSHOT_OP));
    return ZSTORE_OK;
}

static sqlite3_stmt *
s_prepare_rows (sqlite3 *db, zstore_scope_kind_t kind, bool after)
{
    char sql [512];
    snprintf (sql, sizeof sql, "SELECT " ROW_COLUMNS " FROM entries WHERE %s"
              " AND (expires_at IS NULL OR expires_at > ?1)"
              " ORDER BY group_name, entry_key LIMIT ?2", s_scope_sql [kind][after]);
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL) != SQLITE_OK) {
        sqlite3_finalize (stmt);
        return NULL;
    }
    return stmt;
}

//  Binds now, limit and the scope's own parameters.
static int
s_bind_scope (zstore_snapshot_t *self, sqlite3_stmt *stmt, int64_t limit)
{
    sqlite3_bind_int64 (stmt, 1, self->now);
    sqlite3_bind_int64 (stmt, 2, limit);
    switch (self->kind) {
        case ZSTORE_SCOPE_ALL:
            return SQLITE_OK;
        case ZSTORE_SCOPE_GROUP_PREFIX:
            return zstore_engine_bind_range (stmt, 5, &self->range);
        case ZSTORE_SCOPE_GROUP:
            return zstore_engine_bind_bytes (stmt, 5, self->group);
        case ZSTORE_SCOPE_KEY_PREFIX: {
            int rc = zstore_engine_bind_bytes (stmt, 5, self->group);
            return rc == SQLITE_OK ? zstore_engine_bind_range (stmt, 6, &self->range) : rc;
        }
        case ZSTORE_SCOPE_KEY: {
            int rc = zstore_engine_bind_bytes (stmt, 5, self->group);
            return rc == SQLITE_OK ? zstore_engine_bind_bytes (stmt, 6, self->key) : rc;
        }
    }
    return SQLITE_MISUSE;
}

//  Steps a row statement, appending each row to list; SQLITE_DONE if all
//  went well.
static int
s_collect_rows (sqlite3_stmt *stmt, zstore_list_t *list)
{
    int rc;
    while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
        zstore_bytes_t group = zstore_engine_column_bytes (stmt, 0);
        zstore_bytes_t key = zstore_engine_column_bytes (stmt, 1);
        zstore_bytes_t value = zstore_engine_column_bytes (stmt, 2);
        zstore_item_t *item = zstore_list_append_grouped (list, group.data, group.size,
                                                          key.data, key.size,
                                                          value.data, value.size);
        if (!item)
            return SQLITE_NOMEM;
        item->create_revision = (uint64_t) sqlite3_column_int64 (stmt, 3);
        item->mod_revision = (uint64_t) sqlite3_column_int64 (stmt, 4);
        item->expires_at = sqlite3_column_int64 (stmt, 5);
    }
    return rc;
}

//  --- Opening -------------------------------------------------------------

static int
s_open_file (zstore_snapshot_t *self, zstore_engine_t *engine, const char *filename,
             char **error_p)
{
    int flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2 (filename, &self->db, flags, NULL) != SQLITE_OK)
        return s_fail_sql (error_p, self->db, "open database");
    sqlite3_extended_result_codes (self->db, 1);
    sqlite3_busy_timeout (self->db, 5000);
    if (sqlite3_exec (self->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
        return s_fail_sql (error_p, self->db, "begin read");
    //  The first read starts the read transaction: from here on this
    //  connection sees the database as of this revision.
    if (zstore_revision_read (engine, self->db, &self->revision) != SQLITE_OK)
        return s_fail_sql (error_p, self->db, "read revision");
    self->first_page = s_prepare_rows (self->db, self->kind, false);
    self->next_page = s_prepare_rows (self->db, self->kind, true);
    if (!self->first_page || !self->next_page)
        return s_fail_sql (error_p, self->db, "prepare statement");
    return ZSTORE_OK;
}

//  Copies the whole view through the engine's connection. The engine is in
//  no transaction, so the two reads see the same commit: nothing else can
//  write to an in-memory database.
static int
s_open_memory (zstore_snapshot_t *self, zstore_engine_t *engine, char **error_p)
{
    if (zstore_revision_read (engine, engine->db, &self->revision) != SQLITE_OK)
        return s_fail_sql (error_p, engine->db, "read revision");
    sqlite3_stmt *stmt = s_prepare_rows (engine->db, self->kind, false);
    if (!stmt)
        return s_fail_sql (error_p, engine->db, "prepare statement");
    self->rows = zstore_list_new ();
    int rc = self->rows ? s_bind_scope (self, stmt, -1) : SQLITE_NOMEM;
    if (rc == SQLITE_OK)
        rc = s_collect_rows (stmt, self->rows);
    int code = ZSTORE_OK;
    if (rc == SQLITE_NOMEM)
        code = s_fail (error_p, ZSTORE_INTERNAL, s_message ("%s: out of memory", SNAPSHOT_OP));
    else
    if (rc != SQLITE_DONE)
        code = s_fail_sql (error_p, engine->db, "copy rows");
    sqlite3_finalize (stmt);
    return code;
}

static int
s_check_engine (zstore_engine_t *engine, char **error_p)
{
    if (!engine)
        return s_fail (error_p, ZSTORE_INVALID, s_message ("%s: store is nil", SNAPSHOT_OP));
    if (!engine->db)
        return s_fail (error_p, ZSTORE_CLOSED, s_message ("%s: store is closed", SNAPSHOT_OP));
    //  Inside a transaction a copy would include uncommitted writes that may
    //  yet roll back, while a second connection would miss the caller's own
    //  writes: neither is a view of one committed revision the caller knows.
    if (engine->write_open || engine->explicit_transaction || engine->batch_open)
        return s_fail (error_p, ZSTORE_INVALID,
                       s_message ("%s: a transaction is open", SNAPSHOT_OP));
    return ZSTORE_OK;
}

zstore_snapshot_t *
zstore_snapshot_new (zstore_engine_t *engine, const zstore_view_scope_t *scope, char **error_p)
{
    if (error_p)
        *error_p = NULL;
    if (s_check_engine (engine, error_p))
        return NULL;
    zstore_snapshot_t *self = calloc (1, sizeof (zstore_snapshot_t));
    if (!self) {
        s_fail (error_p, ZSTORE_INTERNAL, s_message ("%s: out of memory", SNAPSHOT_OP));
        return NULL;
    }
    int code = s_set_scope (self, scope, error_p);
    if (code == ZSTORE_OK) {
        self->now = zstore_engine_now (engine);
        //  A second connection could not see a memory database.
        const char *filename = zstore_engine_file (engine);
        if (filename)
            code = s_open_file (self, engine, filename, error_p);
        else
            code = s_open_memory (self, engine, error_p);
    }
    if (code)
        zstore_snapshot_destroy (&self);
    return self;
}

void
zstore_snapshot_destroy (zstore_snapshot_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zstore_snapshot_t *self = *self_p;
    sqlite3_finalize (self->first_page);
    sqlite3_finalize (self->next_page);
    if (self->db) {
        //  Ends the read transaction (closing would too), releasing the
        //  WAL snapshot.
        if (!sqlite3_get_autocommit (self->db))
            sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
        sqlite3_close (self->db);
    }
    free (self->cursor);
    zstore_list_destroy (&self->rows);
    zstore_range_reset (&self->range);
    free (self->scope_data);
    free (self);
    *self_p = NULL;
}

//  --- Reading ---------------------------------------------------------------

//  A page from the read-only connection, after the last row handed out.
static int
s_next_file (zstore_snapshot_t *self, size_t limit, zstore_list_t *page, char **error_p)
{
    sqlite3_stmt *stmt = self->started ? self->next_page : self->first_page;
    sqlite3_reset (stmt);
    int rc = s_bind_scope (self, stmt, limit > INT64_MAX ? INT64_MAX : (int64_t) limit);
    if (rc == SQLITE_OK && self->started) {
        rc = zstore_engine_bind_bytes (stmt, 3, zstore_bytes (self->cursor,
                                                              self->cursor_group_size));
        if (rc == SQLITE_OK)
            rc = zstore_engine_bind_bytes (stmt, 4,
                                           zstore_bytes (self->cursor + self->cursor_group_size,
                                                         self->cursor_key_size));
    }
    if (rc == SQLITE_OK)
        rc = s_collect_rows (stmt, page);
    sqlite3_reset (stmt);
    if (rc == SQLITE_NOMEM)
        return s_fail (error_p, ZSTORE_INTERNAL, s_message ("%s: out of memory", SNAPSHOT_OP));
    if (rc != SQLITE_DONE)
        return s_fail_sql (error_p, self->db, "read page");
    return ZSTORE_OK;
}

//  Remembers the page's last (group, key): the next page starts after it.
static int
s_keep_cursor (zstore_snapshot_t *self, const zstore_list_t *page, char **error_p)
{
    const zstore_item_t *last = zstore_list_item (page, zstore_list_size (page) - 1);
    size_t size = last->group_size + last->key_size;
    if (size > self->cursor_capacity) {
        char *cursor = realloc (self->cursor, size);
        if (!cursor)
            return s_fail (error_p, ZSTORE_INTERNAL,
                           s_message ("%s: out of memory", SNAPSHOT_OP));
        self->cursor = cursor;
        self->cursor_capacity = size;
    }
    if (last->group_size)
        memcpy (self->cursor, last->group, last->group_size);
    if (last->key_size)
        memcpy (self->cursor + last->group_size, last->key, last->key_size);
    self->cursor_group_size = last->group_size;
    self->cursor_key_size = last->key_size;
    self->started = true;
    return ZSTORE_OK;
}

//  A page of the copied rows.
static int
s_next_memory (zstore_snapshot_t *self, size_t limit, zstore_list_t *page, char **error_p)
{
    size_t size = zstore_list_size (self->rows);
    while (limit-- > 0 && self->position < size) {
        const zstore_item_t *row = zstore_list_item (self->rows, self->position);
        zstore_item_t *item = zstore_list_append_grouped (page, row->group, row->group_size,
                                                          row->key, row->key_size,
                                                          row->value, row->value_size);
        if (!item)
            return s_fail (error_p, ZSTORE_INTERNAL,
                           s_message ("%s: out of memory", SNAPSHOT_OP));
        item->create_revision = row->create_revision;
        item->mod_revision = row->mod_revision;
        item->expires_at = row->expires_at;
        self->position++;
    }
    return ZSTORE_OK;
}

int
zstore_snapshot_next (zstore_snapshot_t *self, size_t limit, zstore_list_t **page_p,
                      char **error_p)
{
    if (error_p)
        *error_p = NULL;
    if (!page_p)
        return s_fail (error_p, ZSTORE_INVALID, s_message ("%s: page is nil", SNAPSHOT_OP));
    *page_p = NULL;
    if (!self)
        return s_fail (error_p, ZSTORE_INVALID, s_message ("%s: snapshot is nil", SNAPSHOT_OP));
    if (limit == 0)
        return s_fail (error_p, ZSTORE_INVALID,
                       s_message ("%s: limit must be positive", SNAPSHOT_OP));
    zstore_list_t *page = zstore_list_new ();
    if (!page)
        return s_fail (error_p, ZSTORE_INTERNAL, s_message ("%s: out of memory", SNAPSHOT_OP));
    int code = ZSTORE_OK;
    if (!self->exhausted)
        code = self->db ? s_next_file (self, limit, page, error_p)
                        : s_next_memory (self, limit, page, error_p);
    if (code) {
        zstore_list_destroy (&page);
        return code;
    }
    size_t size = zstore_list_size (page);
    if (self->db && size > 0 && (code = s_keep_cursor (self, page, error_p)) != ZSTORE_OK) {
        zstore_list_destroy (&page);
        return code;
    }
    //  A short page is the last one: the next call needs no query.
    self->exhausted = size < limit;
    self->count += size;
    *page_p = page;
    return ZSTORE_OK;
}

uint64_t
zstore_snapshot_revision (zstore_snapshot_t *self)
{
    return self ? self->revision : 0;
}

uint64_t
zstore_snapshot_count (zstore_snapshot_t *self)
{
    return self ? self->count : 0;
}
