//  The WAL written through zstore_wal_vfs.c: a batch's commit reaches the
//  file in a handful of writes (not two per frame), and is then complete
//  for a connection of SQLite's own VFS; transactions larger than the page
//  cache (frames spilled before the commit) commit and roll back cleanly,
//  and a reopened database holds exactly what was committed.

#include "testkit.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef testkit_store_t fixture_t;

static int
s_setup (void **state)
{
    fixture_t *fixture = testkit_store_new ("wal.db");
    //  As the durable broker runs it: no sync in the commit, so nothing but
    //  the commit frame itself says when to write the gathered frames.
    assert_int_equal (zstore_engine_set_synchronous (fixture->engine, ZSTORE_SYNC_NORMAL),
                      ZSTORE_OK);
    *state = fixture;
    return 0;
}

static int
s_teardown (void **state)
{
    testkit_store_destroy ((fixture_t **) state);
    return 0;
}

//  Key i of a run, spread over the key space like the bench's random keys.
static void
s_key (char *key, size_t size, const char *run, int index)
{
    snprintf (key, size, "%s:%08u", run, (unsigned) index * 2654435761u);
}

static void
s_put_many (zstore_engine_t *engine, const char *run, int count, size_t value_size)
{
    char key [64];
    char *value = malloc (value_size);
    memset (value, 'v', value_size);
    for (int index = 0; index < count; index++) {
        s_key (key, sizeof key, run, index);
        uint64_t revision = 0;
        assert_int_equal (zstore_engine_set (engine, LIT ("g"), zstore_str (key),
                                             zstore_bytes (value, value_size), &revision),
                          ZSTORE_OK);
    }
    free (value);
}

//  Rows of group g whose key starts with run, read by a connection of
//  SQLite's default VFS (not the engine's): what another process sees;
//  and the file must pass integrity_check.
static int64_t
s_count_plain (const char *path, const char *run)
{
    sqlite3 *db = NULL;
    assert_int_equal (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *stmt = NULL;
    assert_int_equal (sqlite3_prepare_v2 (db, "SELECT count(*) FROM entries "
                                          "WHERE group_name = 'g'"
                                          " AND substr(entry_key, 1, length(?1)) = ?1",
                                          -1, &stmt, NULL), SQLITE_OK);
    sqlite3_bind_text (stmt, 1, run, -1, SQLITE_STATIC);
    assert_int_equal (sqlite3_step (stmt), SQLITE_ROW);
    int64_t count = sqlite3_column_int64 (stmt, 0);
    sqlite3_finalize (stmt);
    sqlite3_close (db);
    testkit_assert_integrity (path);
    return count;
}

static void
test_batch_commit_is_a_few_writes (void **state)
{
    fixture_t *fixture = *state;
    assert_int_equal (zstore_engine_batch_begin (fixture->engine), ZSTORE_OK);
    s_put_many (fixture->engine, "a", 50, 64);
    uint64_t before = zstore_wal_vfs_writes ();
    assert_int_equal (zstore_engine_batch_commit (fixture->engine), ZSTORE_OK);
    uint64_t writes = zstore_wal_vfs_writes () - before;
    //  ~50 frames of 4 KiB (two writes each without the VFS): written in
    //  pieces of at most 128 KiB.
    assert_true (writes >= 1);
    assert_true (writes <= 4);
    assert_int_equal (s_count_plain (fixture->path, "a:"), 50);
}

//  A page cache of 64 KiB: the transaction's frames spill into the WAL long
//  before its commit, through the gathered writes and their limit.
static void
test_transactions_larger_than_the_cache (void **state)
{
    fixture_t *fixture = *state;
    assert_int_equal (zstore_engine_set_cache_size (fixture->engine, 64), ZSTORE_OK);
    assert_int_equal (zstore_engine_begin (fixture->engine), ZSTORE_OK);
    s_put_many (fixture->engine, "big:", 3000, 1000);
    uint64_t revision = 0;
    assert_int_equal (zstore_engine_commit (fixture->engine, &revision), ZSTORE_OK);
    assert_true (revision > 0);
    assert_int_equal (s_count_plain (fixture->path, "big:"), 3000);

    //  Spilled, then rolled back: the next commit writes over those frames.
    assert_int_equal (zstore_engine_begin (fixture->engine), ZSTORE_OK);
    s_put_many (fixture->engine, "gone:", 3000, 1000);
    assert_int_equal (zstore_engine_rollback (fixture->engine), ZSTORE_OK);
    assert_int_equal (zstore_engine_batch_begin (fixture->engine), ZSTORE_OK);
    s_put_many (fixture->engine, "after:", 100, 64);
    assert_int_equal (zstore_engine_batch_commit (fixture->engine), ZSTORE_OK);
    assert_int_equal (s_count_plain (fixture->path, "gone:"), 0);
    assert_int_equal (s_count_plain (fixture->path, "after:"), 100);

    //  Reopened (the WAL replayed by a new connection): the same.
    zstore_engine_destroy (&fixture->engine);
    fixture->engine = testkit_engine (fixture->path);
    assert_int_equal (zstore_engine_set_synchronous (fixture->engine, ZSTORE_SYNC_NORMAL),
                      ZSTORE_OK);
    assert_int_equal (s_count_plain (fixture->path, "big:"), 3000);
    assert_int_equal (s_count_plain (fixture->path, "gone:"), 0);
    assert_int_equal (s_count_plain (fixture->path, "after:"), 100);
    zstore_value_t value = { 0 };
    char key [64];
    s_key (key, sizeof key, "big:", 2999);
    assert_int_equal (zstore_engine_get (fixture->engine, LIT ("g"), zstore_str (key), &value),
                      ZSTORE_OK);
    assert_int_equal (value.size, 1000);
    zstore_value_reset (&value);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_batch_commit_is_a_few_writes, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_transactions_larger_than_the_cache,
                                         s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
