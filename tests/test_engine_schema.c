//  Opening databases: pragmas, go-store's schema and legacy migration (spec
//  1.2-1.4, matrix 1-6, 85-88, 162, 171-177), compatibility with go-store in
//  both directions, persistence of data and revisions across reopen.
//
//  Matrix entries of 4.4 that need Go stub drivers to fail one SQL call
//  (163, 165, 167-171, 173-176: a scan, rows, table_info, INSERT OR IGNORE or
//  COMMIT failing on cue) have no C equivalent: SQLite cannot be made to fail
//  one statement on demand without a mock, and the brief forbids mocks. The
//  corruption test below exercises the same "error, not crash" path (164, 166)
//  on a real damaged file.

#include "testkit.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *dir;
    char *path;
} fixture_t;

static int
s_setup (void **state)
{
    fixture_t *fixture = calloc (1, sizeof (fixture_t));
    fixture->dir = testkit_tempdir ();
    fixture->path = testkit_path (fixture->dir, "store.db");
    *state = fixture;
    return 0;
}

static int
s_teardown (void **state)
{
    fixture_t *fixture = *state;
    testkit_tempdir_remove (&fixture->dir);
    free (fixture->path);
    free (fixture);
    return 0;
}

//  Runs SQL on a raw SQLite connection, as go-store (or a migration) would.
static void
s_raw_exec (const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    assert_int_equal (sqlite3_open (path, &db), SQLITE_OK);
    char *error = NULL;
    if (sqlite3_exec (db, sql, NULL, NULL, &error) != SQLITE_OK)
        fail_msg ("%s: %s", sql, error);
    sqlite3_close (db);
}

//  The first column of the first row of a query, as text ("" if none).
static char *
s_raw_text (const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL;
    assert_int_equal (sqlite3_open (path, &db), SQLITE_OK);
    assert_int_equal (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), SQLITE_OK);
    char *text = strdup ("");
    if (sqlite3_step (stmt) == SQLITE_ROW && sqlite3_column_text (stmt, 0)) {
        free (text);
        text = strdup ((const char *) sqlite3_column_text (stmt, 0));
    }
    sqlite3_finalize (stmt);
    sqlite3_close (db);
    return text;
}

static void
s_assert_value (zstore_engine_t *engine, const char *group, const char *key, const char *expected)
{
    zstore_value_t value;
    int code = zstore_engine_get (engine, zstore_str (group), zstore_str (key), &value);
    if (code)
        fail_msg ("get %s/%s: %s", group, key, zstore_engine_error (engine));
    assert_string_equal (value.data, expected);
    zstore_value_reset (&value);
}

//  A TTL written through the engine expires (the expiry column works).
static void
s_assert_ttl_works (zstore_engine_t *engine)
{
    int64_t now = 1000000;
    zstore_engine_set_clock (engine, testkit_clock, &now);
    assert_int_equal (zstore_engine_set_with_ttl (engine, LIT ("ttl"), LIT ("k"), LIT ("v"), 10,
                                                  NULL), ZSTORE_OK);
    assert_int_equal (zstore_engine_get (engine, LIT ("ttl"), LIT ("k"), NULL), ZSTORE_OK);
    now += 10;
    assert_int_equal (zstore_engine_get (engine, LIT ("ttl"), LIT ("k"), NULL), ZSTORE_NOT_FOUND);
    zstore_engine_set_clock (engine, NULL, NULL);
}

//  4.1 #1 New_Good_Memory
static void
test_open_memory (void **state)
{
    (void) state;
    zstore_engine_t *engine = testkit_engine (":memory:");
    assert_int_equal (zstore_engine_set (engine, LIT ("g"), LIT ("k"), LIT ("v"), NULL), ZSTORE_OK);
    s_assert_value (engine, "g", "k", "v");
    assert_string_equal (zstore_engine_path (engine), ":memory:");      //  4.1 #11
    zstore_engine_destroy (&engine);
    assert_null (engine);
}

//  4.1 #2 New_Good_FileBacked, #6 WALMode, #11 DatabasePath
static void
test_open_file_persists_and_uses_wal (void **state)
{
    fixture_t *fixture = *state;
    zstore_engine_t *engine = testkit_engine (fixture->path);
    assert_string_equal (zstore_engine_path (engine), fixture->path);
    assert_int_equal (zstore_engine_set (engine, LIT ("g"), LIT ("k"), LIT ("persisted"), NULL),
                      ZSTORE_OK);
    zstore_engine_destroy (&engine);

    char *mode = s_raw_text (fixture->path, "PRAGMA journal_mode");
    assert_string_equal (mode, "wal");
    free (mode);
    engine = testkit_engine (fixture->path);
    s_assert_value (engine, "g", "k", "persisted");
    zstore_engine_destroy (&engine);
}

//  4.1 #3 New_Bad_InvalidPath
static void
test_open_invalid_path_fails (void **state)
{
    (void) state;
    char *error = NULL;
    assert_null (zstore_engine_new ("/no/such/directory/test.db", &error));
    assert_non_null (error);
    assert_non_null (strstr (error, "store.New"));
    free (error);
    assert_null (zstore_engine_new ("/no/such/directory/test.db", NULL));   //  error_p optional
}

//  4.1 #4 New_Bad_CorruptFile
static void
test_open_corrupt_file_fails (void **state)
{
    fixture_t *fixture = *state;
    FILE *file = fopen (fixture->path, "w");
    fputs ("not a sqlite database, just text that is long enough to be a header.....", file);
    fclose (file);
    char *error = NULL;
    assert_null (zstore_engine_new (fixture->path, &error));
    assert_non_null (strstr (error, "store.New: set WAL journal mode"));
    free (error);
}

//  4.4 #162 New_Bad_SchemaConflict: an index named "entries".
static void
test_open_schema_conflict_fails (void **state)
{
    fixture_t *fixture = *state;
    s_raw_exec (fixture->path, "CREATE TABLE other (a TEXT); CREATE INDEX entries ON other (a)");
    char *error = NULL;
    assert_null (zstore_engine_new (fixture->path, &error));
    assert_non_null (strstr (error, "store.New: ensure schema"));
    free (error);
}

//  4.1 #85 SchemaUpgrade_Good_ExistingDB: reopening is a no-op.
static void
test_schema_reopen_is_noop (void **state)
{
    fixture_t *fixture = *state;
    zstore_engine_t *engine = testkit_engine (fixture->path);
    zstore_engine_set (engine, LIT ("g"), LIT ("k"), LIT ("v"), NULL);
    uint64_t revision = zstore_engine_revision (engine);
    zstore_engine_destroy (&engine);
    engine = testkit_engine (fixture->path);
    assert_int_equal (zstore_engine_revision (engine), revision);
    s_assert_value (engine, "g", "k", "v");
    s_assert_ttl_works (engine);
    zstore_engine_destroy (&engine);
}

//  4.1 #86 EntriesWithoutExpiryColumn
static void
test_schema_adds_expiry_column (void **state)
{
    fixture_t *fixture = *state;
    s_raw_exec (fixture->path,
                "CREATE TABLE entries (group_name TEXT NOT NULL, entry_key TEXT NOT NULL,"
                " entry_value TEXT NOT NULL, PRIMARY KEY (group_name, entry_key));"
                "INSERT INTO entries VALUES ('old', 'k', 'old value')");
    zstore_engine_t *engine = testkit_engine (fixture->path);
    s_assert_value (engine, "old", "k", "old value");
    s_assert_ttl_works (engine);
    zstore_engine_destroy (&engine);
}

//  4.1 #87 LegacyAndCurrentTables, 4.4 #172: both tables; entries rows win.
static void
test_schema_migrates_kv_beside_entries (void **state)
{
    fixture_t *fixture = *state;
    s_raw_exec (fixture->path,
                "CREATE TABLE entries (group_name TEXT NOT NULL, entry_key TEXT NOT NULL,"
                " entry_value TEXT NOT NULL, expires_at INTEGER,"
                " PRIMARY KEY (group_name, entry_key));"
                "INSERT INTO entries VALUES ('g', 'both', 'from entries', NULL);"
                "INSERT INTO entries VALUES ('g', 'current', 'current', NULL);"
                "CREATE TABLE kv (grp TEXT, key TEXT, value TEXT, expires_at INTEGER);"
                "INSERT INTO kv VALUES ('g', 'both', 'from kv', NULL);"
                "INSERT INTO kv VALUES ('g', 'legacy', 'legacy', NULL)");
    zstore_engine_t *engine = testkit_engine (fixture->path);
    s_assert_value (engine, "g", "both", "from entries");
    s_assert_value (engine, "g", "current", "current");
    s_assert_value (engine, "g", "legacy", "legacy");
    zstore_engine_destroy (&engine);
    char *kv = s_raw_text (fixture->path,
                           "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'kv'");
    assert_string_equal (kv, "");                   //  dropped
    free (kv);
}

//  4.1 #88 PreTTLDatabase: kv(grp, key, value) only.
static void
test_schema_migrates_pre_ttl_kv (void **state)
{
    fixture_t *fixture = *state;
    s_raw_exec (fixture->path, "CREATE TABLE kv (grp TEXT, key TEXT, value TEXT);"
                               "INSERT INTO kv VALUES ('config', 'theme', 'dark')");
    zstore_engine_t *engine = testkit_engine (fixture->path);
    s_assert_value (engine, "config", "theme", "dark");
    s_assert_ttl_works (engine);
    zstore_engine_destroy (&engine);
}

//  Legacy rows keep their expiry: an already-expired kv row is copied as it
//  is, and reads as absent.
static void
test_schema_migrates_kv_expiry (void **state)
{
    fixture_t *fixture = *state;
    s_raw_exec (fixture->path, "CREATE TABLE kv (grp TEXT, key TEXT, value TEXT,"
                               " expires_at INTEGER);"
                               "INSERT INTO kv VALUES ('g', 'expired', 'x', 1);"
                               "INSERT INTO kv VALUES ('g', 'future', 'y', 99999999999999)");
    zstore_engine_t *engine = testkit_engine (fixture->path);
    int64_t count = -1;
    assert_int_equal (zstore_engine_count (engine, LIT ("g"), &count), ZSTORE_OK);
    assert_int_equal (count, 1);
    assert_int_equal (zstore_engine_get (engine, LIT ("g"), LIT ("expired"), NULL),
                      ZSTORE_NOT_FOUND);
    s_assert_value (engine, "g", "future", "y");
    zstore_engine_destroy (&engine);
}

//  A file written by go-store (its exact DDL and upsert) opens in zstore;
//  its rows get one revision at open, without events.
static void
test_compat_go_store_file_opens_in_zstore (void **state)
{
    fixture_t *fixture = *state;
    s_raw_exec (fixture->path,
                "PRAGMA journal_mode=WAL;"
                "CREATE TABLE IF NOT EXISTS entries (group_name TEXT NOT NULL,"
                " entry_key TEXT NOT NULL, entry_value TEXT NOT NULL, expires_at INTEGER,"
                " PRIMARY KEY (group_name, entry_key));"
                "INSERT INTO entries (group_name, entry_key, entry_value, expires_at)"
                " VALUES ('config', 'colour', 'blue', NULL) ON CONFLICT(group_name, entry_key)"
                " DO UPDATE SET entry_value = excluded.entry_value, expires_at = NULL");
    zstore_engine_t *engine = testkit_engine (fixture->path);
    assert_int_equal (zstore_engine_revision (engine), 1);
    zstore_value_t value;
    assert_int_equal (zstore_engine_get (engine, LIT ("config"), LIT ("colour"), &value),
                      ZSTORE_OK);
    assert_string_equal (value.data, "blue");
    assert_int_equal (value.create_revision, 1);
    assert_int_equal (value.mod_revision, 1);
    zstore_value_reset (&value);
    zstore_engine_destroy (&engine);
}

//  A zstore file used through go-store's own SQL: its schema checks pass,
//  its statements run and see zstore's data, and zstore sees go-store's
//  writes after reopening (with a fresh revision).
static void
test_compat_zstore_file_works_with_go_store_sql (void **state)
{
    fixture_t *fixture = *state;
    zstore_engine_t *engine = testkit_engine (fixture->path);
    zstore_engine_set (engine, LIT ("tenant-a:config"), LIT ("k"), LIT ("from zstore"), NULL);
    zstore_engine_set_with_ttl (engine, LIT ("g"), LIT ("short"), LIT ("x"), -1, NULL);
    uint64_t revision = zstore_engine_revision (engine);
    zstore_engine_destroy (&engine);

    //  go-store's ensureSchema: entries exists, expires_at is a column.
    char *name = s_raw_text (fixture->path, "SELECT name FROM sqlite_master"
                                            " WHERE type = 'table' AND name = 'entries'");
    assert_string_equal (name, "entries");
    free (name);
    char *column = s_raw_text (fixture->path, "SELECT name FROM pragma_table_info('entries')"
                                              " WHERE name = 'expires_at'");
    assert_string_equal (column, "expires_at");
    free (column);
    //  go-store's Get, Count, LIKE prefix count, upsert and purge.
    char *got = s_raw_text (fixture->path, "SELECT entry_value FROM entries WHERE"
                            " group_name = 'tenant-a:config' AND entry_key = 'k'");
    assert_string_equal (got, "from zstore");
    free (got);
    char *count = s_raw_text (fixture->path, "SELECT COUNT(*) FROM entries WHERE group_name"
                              " LIKE 'tenant-a:%' ESCAPE '^' AND (expires_at IS NULL OR"
                              " expires_at > 0)");
    assert_string_equal (count, "1");
    free (count);
    s_raw_exec (fixture->path,
                "PRAGMA busy_timeout=5000;"
                "INSERT INTO entries (group_name, entry_key, entry_value, expires_at)"
                " VALUES ('go', 'written', 'by go-store', NULL) ON CONFLICT(group_name, entry_key)"
                " DO UPDATE SET entry_value = excluded.entry_value, expires_at = NULL;"
                "DELETE FROM entries WHERE expires_at IS NOT NULL AND expires_at <= 1000");

    engine = testkit_engine (fixture->path);
    assert_int_equal (zstore_engine_revision (engine), revision + 1);
    zstore_value_t value;
    assert_int_equal (zstore_engine_get (engine, LIT ("go"), LIT ("written"), &value), ZSTORE_OK);
    assert_string_equal (value.data, "by go-store");
    assert_int_equal (value.mod_revision, revision + 1);
    zstore_value_reset (&value);
    assert_int_equal (zstore_engine_get (engine, LIT ("g"), LIT ("short"), NULL), ZSTORE_NOT_FOUND);
    zstore_engine_destroy (&engine);
}

//  The revision counter survives reopen and never goes backwards, even when
//  the change that made it left no row behind (a delete).
static void
test_revision_survives_reopen (void **state)
{
    fixture_t *fixture = *state;
    zstore_engine_t *engine = testkit_engine (fixture->path);
    uint64_t first = 0, second = 0, third = 0;
    zstore_engine_set (engine, LIT ("g"), LIT ("a"), LIT ("1"), &first);
    zstore_engine_set (engine, LIT ("g"), LIT ("b"), LIT ("2"), &second);
    zstore_engine_delete (engine, LIT ("g"), LIT ("b"), ZSTORE_ANY_REVISION, &third);
    assert_int_equal (first, 1);
    assert_int_equal (second, 2);
    assert_int_equal (third, 3);
    zstore_engine_destroy (&engine);

    engine = testkit_engine (fixture->path);
    assert_int_equal (zstore_engine_revision (engine), 3);
    uint64_t next = 0;
    zstore_engine_set (engine, LIT ("g"), LIT ("c"), LIT ("3"), &next);
    assert_int_equal (next, 4);
    zstore_engine_destroy (&engine);
}

//  Two handles on one file (as two processes would be): the revision is
//  read under the write lock, so neither reuses the other's revisions.
static void
test_revision_shared_between_handles (void **state)
{
    fixture_t *fixture = *state;
    zstore_engine_t *first = testkit_engine (fixture->path);
    zstore_engine_t *second = testkit_engine (fixture->path);
    uint64_t revisions [4] = { 0 };
    zstore_engine_set (first, LIT ("g"), LIT ("a"), LIT ("1"), &revisions [0]);
    zstore_engine_set (second, LIT ("g"), LIT ("b"), LIT ("2"), &revisions [1]);
    zstore_engine_set (first, LIT ("g"), LIT ("c"), LIT ("3"), &revisions [2]);
    zstore_engine_delete (second, LIT ("g"), LIT ("a"), 1, &revisions [3]);
    for (int index = 0; index < 4; index++)
        assert_int_equal (revisions [index], index + 1);
    zstore_engine_destroy (&first);
    zstore_engine_destroy (&second);
}

//  4.4 #164/#166 (rows error): damaged pages give an error, never a crash.
static void
test_corrupt_pages_give_an_error (void **state)
{
    fixture_t *fixture = *state;
    zstore_engine_t *engine = testkit_engine (fixture->path);
    char value [200];
    memset (value, 'v', sizeof value);
    assert_int_equal (zstore_engine_begin (engine), ZSTORE_OK);
    for (int index = 0; index < 2000; index++) {
        char key [16];
        snprintf (key, sizeof key, "k%05d", index);
        zstore_engine_set (engine, LIT ("g"), zstore_str (key), zstore_bytes (value, sizeof value),
                           NULL);
    }
    assert_int_equal (zstore_engine_commit (engine, NULL), ZSTORE_OK);
    zstore_engine_destroy (&engine);             //  checkpoints the WAL into the file

    FILE *file = fopen (fixture->path, "r+b");
    fseek (file, 4096 * 8, SEEK_SET);
    char junk [4096 * 40];
    memset (junk, 0xFF, sizeof junk);
    fwrite (junk, 1, sizeof junk, file);
    fclose (file);

    char *error = NULL;
    engine = zstore_engine_new (fixture->path, &error);
    if (!engine) {
        assert_non_null (strstr (error, "store.New"));
        free (error);
        return;
    }
    zstore_list_t *list = NULL;
    int code = zstore_engine_get_all (engine, LIT ("g"), &list);
    assert_int_equal (code, ZSTORE_INTERNAL);
    assert_null (list);
    assert_non_null (strstr (zstore_engine_error (engine), "store.GetAll"));
    zstore_engine_destroy (&engine);
}

//  4.1 #58-61: close is idempotent; every operation afterwards is CLOSED.
static void
test_close_then_operations_fail (void **state)
{
    fixture_t *fixture = *state;
    zstore_engine_t *engine = testkit_engine (fixture->path);
    assert_false (zstore_engine_is_closed (engine));
    assert_int_equal (zstore_engine_close (engine), ZSTORE_OK);
    assert_int_equal (zstore_engine_close (engine), ZSTORE_OK);
    assert_true (zstore_engine_is_closed (engine));
    assert_true (zstore_engine_is_closed (NULL));
    assert_int_equal (zstore_engine_begin (engine), ZSTORE_CLOSED);
    assert_int_equal (zstore_engine_set_synchronous (engine, ZSTORE_SYNC_NORMAL), ZSTORE_CLOSED);
    assert_int_equal (zstore_engine_set_cache_size (engine, 1024), ZSTORE_CLOSED);
    assert_int_equal (zstore_engine_set_background_checkpoints (engine, 5), ZSTORE_CLOSED);
    assert_int_equal (zstore_engine_add_event_sink (engine, testkit_record_event, NULL), -1);
    zstore_engine_destroy (&engine);
}

//  Durability settings are accepted; an unknown one is refused.
static void
test_synchronous_modes (void **state)
{
    fixture_t *fixture = *state;
    zstore_engine_t *engine = testkit_engine (fixture->path);
    assert_int_equal (zstore_engine_set_synchronous (engine, ZSTORE_SYNC_NORMAL), ZSTORE_OK);
    assert_int_equal (zstore_engine_set_synchronous (engine, ZSTORE_SYNC_FULL), ZSTORE_OK);
    assert_int_equal (zstore_engine_set_synchronous (engine, (zstore_sync_t) 7), ZSTORE_INVALID);
    zstore_engine_destroy (&engine);
}

//  The page cache's size, in KiB: accepted within range, else refused.
static void
test_cache_size (void **state)
{
    fixture_t *fixture = *state;
    zstore_engine_t *engine = testkit_engine (fixture->path);
    assert_int_equal (zstore_engine_set_cache_size (engine, 16384), ZSTORE_OK);
    assert_int_equal (zstore_engine_set_cache_size (engine, 63), ZSTORE_INVALID);
    assert_string_equal (zstore_engine_error (engine),
                         "store.SetCacheSize: 63 KiB is out of range");
    assert_int_equal (zstore_engine_set_cache_size (engine, (int64_t) 1 << 40), ZSTORE_INVALID);
    zstore_engine_destroy (&engine);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_open_memory),
        cmocka_unit_test_setup_teardown (test_cache_size, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_open_file_persists_and_uses_wal, s_setup, s_teardown),
        cmocka_unit_test (test_open_invalid_path_fails),
        cmocka_unit_test_setup_teardown (test_open_corrupt_file_fails, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_open_schema_conflict_fails, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_schema_reopen_is_noop, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_schema_adds_expiry_column, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_schema_migrates_kv_beside_entries, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_schema_migrates_pre_ttl_kv, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_schema_migrates_kv_expiry, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_compat_go_store_file_opens_in_zstore, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_compat_zstore_file_works_with_go_store_sql, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_revision_survives_reopen, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_revision_shared_between_handles, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_corrupt_pages_give_an_error, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_close_then_operations_fail, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_synchronous_modes, s_setup, s_teardown),
    };
    return cmocka_run_group_tests_name ("engine schema", tests, NULL, NULL);
}
