//  Background checkpoints: with them on, no commit copies the WAL into the
//  database (the WAL grows past SQLite's 1000-page mark); the thread's
//  PASSIVE checkpoints copy it all once the writes stop, and the data is
//  intact for another connection and after reopening. Under writes that
//  never stop, the WAL's limit brings it back to its start and its size.

#include "testkit.h"

#include <sqlite3.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define VALUE_SIZE 8192             //  two pages and more per set
#define SETS 2000

typedef testkit_store_t fixture_t;

static int
s_setup (void **state)
{
    fixture_t *fixture = testkit_store_new ("checkpoint.db");
    *state = fixture;
    return 0;
}

static int
s_teardown (void **state)
{
    testkit_store_destroy ((fixture_t **) state);
    return 0;
}

//  SETS commits of one large value each; the last value ends in "last".
static void
s_write (zstore_engine_t *engine)
{
    char *value = malloc (VALUE_SIZE);
    memset (value, 'v', VALUE_SIZE);
    for (int index = 0; index < SETS; index++) {
        char key [32];
        snprintf (key, sizeof key, "k%d", index);
        if (index == SETS - 1)
            memcpy (value + VALUE_SIZE - 4, "last", 4);
        assert_int_equal (zstore_engine_set (engine, LIT ("g"), zstore_str (key),
                                             zstore_bytes (value, VALUE_SIZE), NULL),
                          ZSTORE_OK);
    }
    free (value);
}

static off_t
s_wal_size (const char *path)
{
    char wal [4096];
    snprintf (wal, sizeof wal, "%s-wal", path);
    struct stat info;
    return stat (wal, &info) == 0 ? info.st_size : 0;
}

//  Reads the last value through a connection of its own.
static void
s_assert_last_value (const char *path)
{
    sqlite3 *db = NULL;
    assert_int_equal (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *stmt = NULL;
    char sql [128];
    snprintf (sql, sizeof sql, "SELECT entry_value FROM entries WHERE entry_key = 'k%d'", SETS - 1);
    assert_int_equal (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), SQLITE_OK);
    assert_int_equal (sqlite3_step (stmt), SQLITE_ROW);
    assert_int_equal (sqlite3_column_bytes (stmt, 0), VALUE_SIZE);
    const char *value = (const char *) sqlite3_column_blob (stmt, 0);
    assert_memory_equal (value + VALUE_SIZE - 4, "last", 4);
    sqlite3_finalize (stmt);
    sqlite3_close (db);
}

static void
test_commits_leave_the_wal_to_the_thread (void **state)
{
    fixture_t *fixture = *state;
    //  An interval no test reaches: only the writes act on the WAL.
    assert_int_equal (zstore_engine_set_background_checkpoints (fixture->engine, 3600000),
                      ZSTORE_OK);
    s_write (fixture->engine);
    //  SQLite's own checkpoints would have restarted the WAL near 1000
    //  pages (about 4 MB); untouched, it holds every commit.
    assert_true (s_wal_size (fixture->path) > 3000 * 4096);
    struct stat info;
    assert_int_equal (stat (fixture->path, &info), 0);
    assert_true (info.st_size < (off_t) SETS * VALUE_SIZE);
    zstore_checkpoint_stats_t stats;
    assert_false (zstore_engine_checkpoint_stats (fixture->engine, 0, 0, &stats));
    assert_int_equal (stats.runs, 0);
    s_assert_last_value (fixture->path);
    //  The control: the same writes with SQLite's checkpoints.
    char *control_path = testkit_path (fixture->dir, "control.db");
    zstore_engine_t *control = testkit_engine (control_path);
    s_write (control);
    assert_true (s_wal_size (control_path) < 3000 * 4096);
    zstore_engine_destroy (&control);
    free (control_path);
}

static void
test_the_thread_copies_everything (void **state)
{
    fixture_t *fixture = *state;
    assert_int_equal (zstore_engine_set_background_checkpoints (fixture->engine, 5), ZSTORE_OK);
    s_write (fixture->engine);
    //  A checkpoint that starts after the last commit copies all of it.
    zstore_checkpoint_stats_t stats;
    assert_true (zstore_engine_checkpoint_stats (fixture->engine, 0, 10000, &stats));
    assert_true (zstore_engine_checkpoint_stats (fixture->engine, stats.runs, 10000, &stats));
    assert_int_equal (stats.failures, 0);
    assert_int_equal (stats.copied, stats.wal_frames);
    //  The pages are in the database file itself, not only in the WAL.
    struct stat info;
    assert_int_equal (stat (fixture->path, &info), 0);
    assert_true (info.st_size > (off_t) SETS * VALUE_SIZE);
    s_assert_last_value (fixture->path);
    //  Off again: no thread, and the data survives a reopen.
    assert_int_equal (zstore_engine_set_background_checkpoints (fixture->engine, 0), ZSTORE_OK);
    assert_false (zstore_engine_checkpoint_stats (fixture->engine, 0, 0, &stats));
    zstore_engine_destroy (&fixture->engine);
    fixture->engine = testkit_engine (fixture->path);
    s_assert_last_value (fixture->path);
}

static int64_t
s_now_ms (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (int64_t) now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

//  Writes that never pause leave no PASSIVE checkpoint a moment to catch
//  up; past the limit the thread restarts the WAL, which is then cut back
//  to the limit. Without the limit (the control) it only grows.
static void
test_the_limit_restarts_a_busy_wal (void **state)
{
    fixture_t *fixture = *state;
    assert_int_equal (zstore_engine_set_wal_limit (fixture->engine, 256), ZSTORE_OK);
    assert_int_equal (zstore_engine_set_background_checkpoints (fixture->engine, 2), ZSTORE_OK);
    char *value = malloc (VALUE_SIZE);
    memset (value, 'w', VALUE_SIZE);
    zstore_checkpoint_stats_t stats = { 0 };
    int64_t deadline = s_now_ms () + 20000;
    int index = 0;
    while (stats.restarts == 0 && s_now_ms () < deadline) {
        char key [32];
        snprintf (key, sizeof key, "busy%d", index++ % 500);
        assert_int_equal (zstore_engine_set (fixture->engine, LIT ("g"), zstore_str (key),
                                             zstore_bytes (value, VALUE_SIZE), NULL),
                          ZSTORE_OK);
        zstore_engine_checkpoint_stats (fixture->engine, UINT64_MAX - 1, 0, &stats);
    }
    assert_true (stats.restarts >= 1);
    //  The next commit starts the WAL over and cuts the file to the limit.
    assert_int_equal (zstore_engine_set (fixture->engine, LIT ("g"), LIT ("after"), LIT ("x"),
                                         NULL), ZSTORE_OK);
    assert_true (s_wal_size (fixture->path) <= 256 * 1024);
    free (value);
    assert_int_equal (zstore_engine_set_wal_limit (fixture->engine, -1), ZSTORE_INVALID);
}

static void
test_destroy_stops_the_thread (void **state)
{
    fixture_t *fixture = *state;
    assert_int_equal (zstore_engine_set_background_checkpoints (fixture->engine, 1), ZSTORE_OK);
    zstore_checkpoint_stats_t stats;
    assert_true (zstore_engine_checkpoint_stats (fixture->engine, 0, 10000, &stats));
    //  Destroyed while the thread runs (teardown): joins it, no leak.
}

static void
test_memory_and_bad_intervals (void **state)
{
    fixture_t *fixture = *state;
    assert_int_equal (zstore_engine_set_background_checkpoints (fixture->engine, -1),
                      ZSTORE_INVALID);
    zstore_engine_t *memory = testkit_engine (":memory:");
    assert_int_equal (zstore_engine_set_background_checkpoints (memory, 5), ZSTORE_OK);
    zstore_checkpoint_stats_t stats;
    assert_false (zstore_engine_checkpoint_stats (memory, 0, 0, &stats));
    zstore_engine_destroy (&memory);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_commits_leave_the_wal_to_the_thread, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_the_thread_copies_everything, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_the_limit_restarts_a_busy_wal, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_destroy_stops_the_thread, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_memory_and_bad_intervals, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
