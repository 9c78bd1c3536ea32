//  The revision counter kept without a write per set (see
//  broker/engine/zstore_engine_revision.c): derived from the rows at open,
//  kept by one handle at a time, written by changes that remove rows, and
//  protected from other programs' deletes by a trigger. A crash is a child
//  process that ends without closing its engine.

#include "testkit.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

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

//  Runs SQL on a connection of its own, as go-store or the sqlite3 shell.
static void
s_raw_exec (const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    assert_int_equal (sqlite3_open (path, &db), SQLITE_OK);
    sqlite3_busy_timeout (db, 5000);
    char *error = NULL;
    if (sqlite3_exec (db, sql, NULL, NULL, &error) != SQLITE_OK)
        fail_msg ("%s: %s", sql, error);
    sqlite3_close (db);
}

//  The counter row as stored (not the revision: see the engine).
static int64_t
s_stored_counter (const char *path)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL;
    assert_int_equal (sqlite3_open (path, &db), SQLITE_OK);
    assert_int_equal (sqlite3_prepare_v2 (db, "SELECT value FROM zstore_meta"
                                          " WHERE name = 'revision'", -1, &stmt, NULL),
                      SQLITE_OK);
    assert_int_equal (sqlite3_step (stmt), SQLITE_ROW);
    int64_t value = sqlite3_column_int64 (stmt, 0);
    sqlite3_finalize (stmt);
    sqlite3_close (db);
    return value;
}

static uint64_t
s_set (zstore_engine_t *engine, const char *group, const char *key, const char *value)
{
    uint64_t revision = 0;
    assert_int_equal (zstore_engine_set (engine, zstore_str (group), zstore_str (key),
                                         zstore_str (value), &revision), ZSTORE_OK);
    return revision;
}

//  What a child does before it "crashes".
typedef void (s_child_fn) (zstore_engine_t *engine);

//  Runs fn on an engine in a child process that then ends without closing
//  the engine or the database: what survives is what was committed.
static void
s_crash_after (const char *path, s_child_fn *fn)
{
    fflush (NULL);
    pid_t pid = fork ();
    assert_true (pid >= 0);
    if (pid == 0) {
        char *error = NULL;
        zstore_engine_t *engine = zstore_engine_new (path, &error);
        if (!engine)
            _exit (2);
        fn (engine);
        _exit (0);                      //  no close, no atexit handlers
    }
    int status = 0;
    assert_int_equal (waitpid (pid, &status, 0), pid);
    assert_true (WIFEXITED (status));
    assert_int_equal (WEXITSTATUS (status), 0);
}

static void
s_three_sets (zstore_engine_t *engine)
{
    for (int index = 0; index < 3; index++) {
        char key [8];
        snprintf (key, sizeof key, "k%d", index);
        if (zstore_engine_set (engine, LIT ("g"), zstore_str (key), LIT ("v"), NULL))
            _exit (3);
    }
}

//  Sets do not write the counter: it comes back from the rows.
static void
test_sets_leave_the_counter_to_the_rows (void **state)
{
    fixture_t *fixture = *state;
    s_crash_after (fixture->path, s_three_sets);
    assert_true (s_stored_counter (fixture->path) < 3);
    zstore_engine_t *engine = testkit_engine (fixture->path);
    assert_int_equal (zstore_engine_revision (engine), 3);
    assert_int_equal (s_set (engine, "g", "next", "v"), 4);
    zstore_engine_destroy (&engine);
}

//  Another program deletes the row holding the newest revision while no
//  zstore handle has the file open: the trigger keeps the counter.
static void
test_foreign_delete_of_the_newest_row (void **state)
{
    fixture_t *fixture = *state;
    s_crash_after (fixture->path, s_three_sets);
    s_raw_exec (fixture->path, "DELETE FROM entries WHERE entry_key = 'k2'");
    zstore_engine_t *engine = testkit_engine (fixture->path);
    assert_int_equal (zstore_engine_revision (engine), 3);
    assert_int_equal (s_set (engine, "g", "next", "v"), 4);
    //  The same while the handle is open (closing writes nothing either).
    s_raw_exec (fixture->path, "DELETE FROM entries WHERE entry_key = 'next';"
                               "DELETE FROM entries WHERE group_name = 'g'");
    zstore_engine_destroy (&engine);
    engine = testkit_engine (fixture->path);
    assert_int_equal (zstore_engine_revision (engine), 4);
    zstore_engine_destroy (&engine);
}

static int
s_set_then_delete (zstore_engine_t *engine, void *arg)
{
    (void) arg;
    int code = zstore_engine_set (engine, LIT ("g"), LIT ("gone"), LIT ("v"), NULL);
    if (code == ZSTORE_OK)
        code = zstore_engine_delete (engine, LIT ("g"), LIT ("gone"), ZSTORE_ANY_REVISION, NULL);
    return code;
}

static void
s_removing_changes (zstore_engine_t *engine)
{
    s_three_sets (engine);                                              //  1-3
    if (zstore_engine_transaction (engine, s_set_then_delete, NULL, NULL)) //  4
        _exit (3);
    if (zstore_engine_delete_group (engine, LIT ("g"), NULL))             //  5
        _exit (4);
}

//  A change that leaves no row at its revision writes the counter.
static void
test_removing_changes_write_the_counter (void **state)
{
    fixture_t *fixture = *state;
    s_crash_after (fixture->path, s_removing_changes);
    assert_int_equal (s_stored_counter (fixture->path), 5);
    zstore_engine_t *engine = testkit_engine (fixture->path);
    assert_int_equal (zstore_engine_revision (engine), 5);
    assert_int_equal (s_set (engine, "g", "a", "v"), 6);
    zstore_engine_destroy (&engine);
}

//  Two handles: whichever keeps the counter in memory, the other never
//  reuses a revision, and reads on either side see the newest one.
static void
test_handles_take_turns_keeping_the_counter (void **state)
{
    fixture_t *fixture = *state;
    zstore_engine_t *first = testkit_engine (fixture->path);
    zstore_engine_t *second = testkit_engine (fixture->path);
    uint64_t expected = 0;
    //  Long runs let a handle claim the counter (and skip its writes); each
    //  turn of the other handle must then find the revisions it kept.
    for (int turn = 0; turn < 6; turn++) {
        zstore_engine_t *writer = turn % 2 ? second : first;
        zstore_engine_t *reader = turn % 2 ? first : second;
        int run = turn < 4 ? 300 : 1;
        for (int index = 0; index < run; index++) {
            char key [16];
            snprintf (key, sizeof key, "t%d-%d", turn, index);
            assert_int_equal (s_set (writer, "g", key, "v"), ++expected);
        }
        uint64_t first_kept = 0, last = 0;
        assert_int_equal (zstore_engine_history_bounds (reader, &first_kept, &last), ZSTORE_OK);
        assert_int_equal (last, expected);
        assert_int_equal (zstore_engine_history_bounds (writer, &first_kept, &last), ZSTORE_OK);
        assert_int_equal (last, expected);
        zstore_view_scope_t scope = { ZSTORE_SCOPE_GROUP, LIT ("g"), LIT ("") };
        char *error = NULL;
        zstore_snapshot_t *view = zstore_snapshot_new (reader, &scope, &error);
        assert_non_null (view);
        assert_int_equal (zstore_snapshot_revision (view), expected);
        zstore_snapshot_destroy (&view);
    }
    //  A delete by the handle that does not keep the counter, then reopen.
    uint64_t revision = 0;
    assert_int_equal (zstore_engine_delete (first, LIT ("g"), LIT ("t4-0"), ZSTORE_ANY_REVISION,
                                            &revision), ZSTORE_OK);
    assert_int_equal (revision, ++expected);
    zstore_engine_destroy (&first);
    zstore_engine_destroy (&second);
    first = testkit_engine (fixture->path);
    assert_int_equal (zstore_engine_revision (first), expected);
    zstore_engine_destroy (&first);
}

int
main (void)
{
#define TEST(name) cmocka_unit_test_setup_teardown (name, s_setup, s_teardown)
    const struct CMUnitTest tests [] = {
        TEST (test_sets_leave_the_counter_to_the_rows),
        TEST (test_foreign_delete_of_the_newest_row),
        TEST (test_removing_changes_write_the_counter),
        TEST (test_handles_take_turns_keeping_the_counter),
    };
    return cmocka_run_group_tests_name ("engine revision", tests, NULL, NULL);
}
