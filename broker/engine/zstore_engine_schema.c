/*  zstore_engine_schema - opening a database: pragmas, go-store's schema and
    legacy migration (spec section 1.4, byte for byte), then zstore's own
    additions, which leave the file usable by go-store:
    - entries.create_rev, entries.mod_rev: INTEGER NOT NULL DEFAULT 0, so
      go-store's INSERTs (which name their columns) still work;
    - zstore_meta(name, value): the revision counter's 'revision' and
      'writer' (see zstore_engine_revision.c), and the trigger
      zstore_entries_removed that keeps it when rows are deleted;
    - zstore_entries_expiry: a partial index on expires_at, so expiry purges
      find expired rows without scanning the table;
    - zstore_history (+ index zstore_history_rev): recent events, see
      zstore_engine_history.c; zstore_meta's 'history_floor' row goes with it.
    Rows without a revision (written by go-store, or migrated) are given one
    new revision at open (zstore_revision_open): one change that emits no
    event, like migration.
*/

#include "zstore_engine_private.h"

#include <pthread.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

//  How long a write waits for another connection's lock.
#define BUSY_TIMEOUT_MS 5000
#define BUSY_RETRY_US 250
#define WAL_RETRY_MS 10

static int
s_exec (sqlite3 *db, const char *sql)
{
    return sqlite3_exec (db, sql, NULL, NULL, NULL);
}

static int
s_table_exists (sqlite3 *db, const char *name, bool *exists_p)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2 (db, "SELECT name FROM sqlite_master WHERE type = 'table'"
                                     " AND name = ?1", -1, &stmt, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text (stmt, 1, name, -1, SQLITE_STATIC);
        rc = sqlite3_step (stmt);
        *exists_p = rc == SQLITE_ROW;
        rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
    }
    sqlite3_finalize (stmt);
    return rc;
}

static int
s_table_has_column (sqlite3 *db, const char *table, const char *column, bool *has_p)
{
    char sql [128];
    snprintf (sql, sizeof sql, "PRAGMA table_info(%s)", table);
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL);
    *has_p = false;
    while (rc == SQLITE_OK && (rc = sqlite3_step (stmt)) == SQLITE_ROW) {
        const char *name = (const char *) sqlite3_column_text (stmt, 1);
        if (name && strcmp (name, column) == 0)
            *has_p = true;
        rc = SQLITE_OK;
    }
    sqlite3_finalize (stmt);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

//  ALTER TABLE ... ADD COLUMN unless present; "duplicate column name" is
//  not an error (another process may have added it first).
static int
s_ensure_column (sqlite3 *db, const char *table, const char *column, const char *definition)
{
    bool has = false;
    int rc = s_table_has_column (db, table, column, &has);
    if (rc != SQLITE_OK || has)
        return rc;
    char sql [256];
    snprintf (sql, sizeof sql, "ALTER TABLE %s ADD COLUMN %s %s", table, column, definition);
    rc = s_exec (db, sql);
    if (rc != SQLITE_OK && strstr (sqlite3_errmsg (db), "duplicate column name"))
        rc = SQLITE_OK;
    return rc;
}

static const char *
s_create_entries =
    "CREATE TABLE IF NOT EXISTS entries ("
    " group_name TEXT NOT NULL,"
    " entry_key TEXT NOT NULL,"
    " entry_value TEXT NOT NULL,"
    " expires_at INTEGER,"
    " PRIMARY KEY (group_name, entry_key))";

//  go-store's migration of the legacy kv table, in one transaction:
//  existing entries rows win (INSERT OR IGNORE), then kv is dropped.
static int
s_migrate_kv (sqlite3 *db)
{
    int rc = s_exec (db, "BEGIN");
    bool has_expiry = false;
    if (rc == SQLITE_OK)
        rc = s_exec (db, s_create_entries);
    if (rc == SQLITE_OK)
        rc = s_table_has_column (db, "kv", "expires_at", &has_expiry);
    if (rc == SQLITE_OK)
        rc = s_exec (db, has_expiry
            ? "INSERT OR IGNORE INTO entries (group_name, entry_key, entry_value, expires_at)"
              " SELECT grp, key, value, expires_at FROM kv"
            : "INSERT OR IGNORE INTO entries (group_name, entry_key, entry_value, expires_at)"
              " SELECT grp, key, value, NULL FROM kv");
    if (rc == SQLITE_OK)
        rc = s_exec (db, "DROP TABLE kv");
    if (rc == SQLITE_OK)
        rc = s_exec (db, "COMMIT");
    if (rc != SQLITE_OK && !sqlite3_get_autocommit (db))
        s_exec (db, "ROLLBACK");
    return rc;
}

//  go-store's ensureSchema. *stage_p names the failing stage for messages.
static int
s_ensure_go_store_schema (sqlite3 *db, const char **stage_p)
{
    bool has_entries = false, has_kv = false;
    *stage_p = "schema";
    int rc = s_table_exists (db, "entries", &has_entries);
    if (rc == SQLITE_OK)
        rc = s_table_exists (db, "kv", &has_kv);
    if (rc == SQLITE_OK && has_entries)
        rc = s_ensure_column (db, "entries", "expires_at", "INTEGER");
    if (rc == SQLITE_OK && !has_entries && !has_kv)
        rc = s_exec (db, s_create_entries);
    if (rc == SQLITE_OK && has_kv) {
        *stage_p = "migration";
        rc = s_migrate_kv (db);
    }
    return rc;
}

static int
s_ensure_zstore_schema (zstore_engine_t *self)
{
    sqlite3 *db = self->db;
    int rc = s_exec (db, "BEGIN IMMEDIATE");
    if (rc == SQLITE_OK)
        rc = s_ensure_column (db, "entries", "create_rev", "INTEGER NOT NULL DEFAULT 0");
    if (rc == SQLITE_OK)
        rc = s_ensure_column (db, "entries", "mod_rev", "INTEGER NOT NULL DEFAULT 0");
    if (rc == SQLITE_OK)
        rc = s_exec (db, "CREATE TABLE IF NOT EXISTS zstore_meta ("
                         " name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;"
                         "INSERT OR IGNORE INTO zstore_meta (name, value)"
                         " VALUES ('revision', 0), ('writer', 0);"
                         "CREATE INDEX IF NOT EXISTS zstore_entries_expiry ON entries (expires_at)"
                         " WHERE expires_at IS NOT NULL;"
                         "CREATE TABLE IF NOT EXISTS zstore_history ("
                         " seq INTEGER PRIMARY KEY, rev INTEGER NOT NULL,"
                         " idx INTEGER NOT NULL, n INTEGER NOT NULL, type INTEGER NOT NULL,"
                         " group_name TEXT NOT NULL, entry_key TEXT NOT NULL,"
                         " entry_value TEXT NOT NULL, prev_rev INTEGER NOT NULL,"
                         " ts INTEGER NOT NULL, expires_at INTEGER NOT NULL);"
                         "CREATE INDEX IF NOT EXISTS zstore_history_rev ON zstore_history (rev)");
    //  The counter is derived from the rows (zstore_engine_revision.c): a
    //  row deleted by anyone takes its revision into 'revision' if it was
    //  the highest, so that the counter never goes backwards.
    if (rc == SQLITE_OK)
        rc = s_exec (db, "CREATE TRIGGER IF NOT EXISTS zstore_entries_removed"
                         " AFTER DELETE ON entries WHEN old.mod_rev >"
                         " (SELECT value FROM zstore_meta WHERE name = 'revision')"
                         " BEGIN UPDATE zstore_meta SET value = old.mod_rev"
                         " WHERE name = 'revision'; END");
    if (rc == SQLITE_OK)
        rc = zstore_revision_open (self);
    if (rc == SQLITE_OK)
        rc = s_exec (db, "COMMIT");
    if (rc != SQLITE_OK && !sqlite3_get_autocommit (db))
        s_exec (db, "ROLLBACK");
    if (rc == SQLITE_OK)
        zstore_revision_opened (self);
    return rc;
}

//  PRAGMA journal_mode=WAL answers with the mode; ":memory:" answers
//  "memory", which is not an error.
static int
s_set_wal (sqlite3 *db)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2 (db, "PRAGMA journal_mode=WAL", -1, &stmt, NULL);
    //  While another process switches a new file to WAL (or recovers its
    //  WAL), SQLite may answer BUSY without calling the busy handler, which
    //  would deadlock there: retry for as long as the busy timeout.
    for (int waited = 0; rc == SQLITE_OK; waited += WAL_RETRY_MS) {
        rc = sqlite3_step (stmt);
        if (rc == SQLITE_ROW || rc == SQLITE_DONE)
            rc = SQLITE_OK;
        else
        if ((rc & 0xff) == SQLITE_BUSY && waited < BUSY_TIMEOUT_MS) {
            sqlite3_reset (stmt);
            sqlite3_sleep (WAL_RETRY_MS);
            rc = SQLITE_OK;
            continue;
        }
        break;
    }
    sqlite3_finalize (stmt);
    return rc;
}

//  SQLite's own busy handler sleeps longer each time, up to 100 ms a
//  sleep: a writer held off for 20 ms (a checkpoint restarting the WAL, a
//  writer in another process) would go on waiting for ~80. This one looks
//  again every 250 us, for BUSY_TIMEOUT_MS in all.
static int
s_busy_wait (void *arg, int attempts)
{
    (void) arg;
    if ((int64_t) attempts * BUSY_RETRY_US >= (int64_t) BUSY_TIMEOUT_MS * 1000)
        return 0;
    struct timespec pause = { 0, BUSY_RETRY_US * 1000L };
    nanosleep (&pause, NULL);
    return 1;
}

static int
s_open_failed (zstore_engine_t *self, const char *op, const char *what, char **error_p)
{
    zstore_engine_fail (self, ZSTORE_INTERNAL, "%s: %s: %s", op, what,
                        self->db ? sqlite3_errmsg (self->db) : "out of memory");
    if (error_p)
        *error_p = strdup (zstore_engine_error (self));
    //  The counter's statements may be prepared already: a connection
    //  with statements left would not close.
    for (int index = 0; index < STMT_COUNT_STATEMENTS; index++) {
        sqlite3_finalize (self->statements [index]);
        self->statements [index] = NULL;
    }
    sqlite3_close (self->db);
    self->db = NULL;
    return ZSTORE_INTERNAL;
}

//  SQLite counts every allocation under one global mutex unless told not
//  to (SQLITE_CONFIG_MEMSTATUS); the engine never reads those counts.
//  sqlite3_config works only before SQLite initialises: if this process
//  used SQLite before its first engine, the call fails and nothing changes.
static void
s_configure_sqlite (void)
{
    sqlite3_config (SQLITE_CONFIG_MEMSTATUS, 0);
}

int
zstore_engine_schema_open (zstore_engine_t *self, const char *op, char **error_p)
{
    static pthread_once_t configured = PTHREAD_ONCE_INIT;
    pthread_once (&configured, s_configure_sqlite);
    //  One thread owns an engine, so SQLite's own mutexes are not needed.
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    //  Each commit's WAL frames in one write (zstore_wal_vfs.c).
    if (sqlite3_open_v2 (self->path, &self->db, flags, zstore_wal_vfs ()) != SQLITE_OK)
        return s_open_failed (self, op, "open database", error_p);
    sqlite3_extended_result_codes (self->db, 1);
    //  Switching to WAL takes a lock: without the timeout already set, a
    //  process opening the file while another does fails at once ("database
    //  is locked"). go-store sets it after WAL and has that race.
    sqlite3_busy_handler (self->db, s_busy_wait, NULL);
    if (s_set_wal (self->db) != SQLITE_OK)
        return s_open_failed (self, op, "set WAL journal mode", error_p);
    if (s_exec (self->db, "PRAGMA synchronous=FULL") != SQLITE_OK)
        return s_open_failed (self, op, "set synchronous", error_p);

    const char *stage = NULL;
    char what [96];
    if (s_ensure_go_store_schema (self->db, &stage) != SQLITE_OK) {
        snprintf (what, sizeof what, "ensure schema: store.ensureSchema: %s", stage);
        return s_open_failed (self, op, what, error_p);
    }
    if (s_ensure_zstore_schema (self) != SQLITE_OK)
        return s_open_failed (self, op, "ensure schema: zstore", error_p);
    return ZSTORE_OK;
}
