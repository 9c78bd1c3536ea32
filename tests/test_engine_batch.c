//  Batches (the broker's group commit): many changes in one SQLite
//  transaction, each with its own revision and undone alone when it fails;
//  durable and visible to sinks only once the batch commits, all gone if it
//  does not.

#include "testkit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *dir;
    char *path;
    zstore_engine_t *engine;
    testkit_recorder_t sink;
} fixture_t;

static void
s_open (fixture_t *fixture)
{
    fixture->engine = testkit_engine (fixture->path);
    zstore_engine_add_event_sink (fixture->engine, testkit_record_event, &fixture->sink);
}

static int
s_setup (void **state)
{
    fixture_t *fixture = calloc (1, sizeof (fixture_t));
    fixture->dir = testkit_tempdir ();
    fixture->path = testkit_path (fixture->dir, "batch.db");
    s_open (fixture);
    *state = fixture;
    return 0;
}

static int
s_teardown (void **state)
{
    fixture_t *fixture = *state;
    zstore_engine_destroy (&fixture->engine);
    testkit_recorder_clear (&fixture->sink);
    testkit_tempdir_remove (&fixture->dir);
    free (fixture->path);
    free (fixture);
    return 0;
}

static uint64_t
s_set (fixture_t *fixture, const char *key, const char *value)
{
    uint64_t revision = 0;
    assert_int_equal (zstore_engine_set (fixture->engine, LIT ("g"), zstore_str (key),
                                         zstore_str (value), &revision), ZSTORE_OK);
    return revision;
}

static void
s_assert_value (zstore_engine_t *engine, const char *key, const char *expected)
{
    zstore_value_t value;
    int code = zstore_engine_get (engine, LIT ("g"), zstore_str (key), &value);
    if (!expected) {
        assert_int_equal (code, ZSTORE_NOT_FOUND);
        return;
    }
    assert_int_equal (code, ZSTORE_OK);
    testkit_assert_bytes (value.data, value.size, expected);
    zstore_value_reset (&value);
}

static void
s_assert_seen (const testkit_event_t *seen, zstore_event_type_t type, const char *key,
               uint64_t revision, uint32_t index, uint32_t count)
{
    assert_int_equal (seen->type, type);
    testkit_assert_bytes (seen->key, seen->key_size, key);
    assert_int_equal (seen->revision, revision);
    assert_int_equal (seen->index, index);
    assert_int_equal (seen->count, count);
}

//  Each change keeps its own revision; events wait for the batch's commit
//  and come out in order, numbered within their change.
static void
test_batch_changes_keep_their_revisions (void **state)
{
    fixture_t *fixture = *state;
    assert_int_equal (zstore_engine_batch_begin (fixture->engine), ZSTORE_OK);
    assert_true (zstore_engine_in_batch (fixture->engine));
    assert_int_equal (s_set (fixture, "a", "1"), 1);
    assert_int_equal (s_set (fixture, "b", "2"), 2);
    uint64_t revision = 0;
    assert_int_equal (zstore_engine_delete_group (fixture->engine, LIT ("g"), &revision),
                      ZSTORE_OK);
    assert_int_equal (revision, 3);
    assert_int_equal (s_set (fixture, "c", "3"), 4);
    assert_int_equal (fixture->sink.size, 0);       //  nothing before the commit
    assert_int_equal (zstore_engine_batch_commit (fixture->engine), ZSTORE_OK);
    assert_false (zstore_engine_in_batch (fixture->engine));
    assert_int_equal (zstore_engine_revision (fixture->engine), 4);
    assert_int_equal (fixture->sink.size, 4);
    s_assert_seen (&fixture->sink.events [0], ZSTORE_EVENT_SET, "a", 1, 0, 1);
    s_assert_seen (&fixture->sink.events [1], ZSTORE_EVENT_SET, "b", 2, 0, 1);
    s_assert_seen (&fixture->sink.events [2], ZSTORE_EVENT_DELETE_GROUP, "", 3, 0, 1);
    s_assert_seen (&fixture->sink.events [3], ZSTORE_EVENT_SET, "c", 4, 0, 1);
    //  The next change, outside any batch, carries on.
    assert_int_equal (s_set (fixture, "d", "4"), 5);
}

//  A change that fails is undone alone: the others of the batch commit.
static void
test_batch_failed_change_is_undone_alone (void **state)
{
    fixture_t *fixture = *state;
    assert_int_equal (zstore_engine_batch_begin (fixture->engine), ZSTORE_OK);
    assert_int_equal (s_set (fixture, "a", "1"), 1);
    zstore_write_t only_new = ZSTORE_WRITE_DEFAULTS;
    only_new.if_revision = 0;
    uint64_t revision = 99;
    assert_int_equal (zstore_engine_put (fixture->engine, LIT ("g"), LIT ("a"), LIT ("x"),
                                         &only_new, &revision), ZSTORE_CONFLICT);
    assert_int_equal (revision, 0);
    //  A transaction inside the batch: two sets share a revision, and a
    //  rolled back one leaves nothing.
    assert_int_equal (zstore_engine_begin (fixture->engine), ZSTORE_OK);
    s_set (fixture, "t1", "1");
    s_set (fixture, "t2", "2");
    assert_int_equal (zstore_engine_commit (fixture->engine, &revision), ZSTORE_OK);
    assert_int_equal (revision, 2);
    assert_int_equal (zstore_engine_begin (fixture->engine), ZSTORE_OK);
    s_set (fixture, "gone", "1");
    assert_int_equal (zstore_engine_rollback (fixture->engine), ZSTORE_OK);
    assert_int_equal (s_set (fixture, "b", "2"), 3);
    assert_int_equal (zstore_engine_batch_commit (fixture->engine), ZSTORE_OK);

    s_assert_value (fixture->engine, "a", "1");
    s_assert_value (fixture->engine, "t2", "2");
    s_assert_value (fixture->engine, "gone", NULL);
    assert_int_equal (fixture->sink.size, 4);
    s_assert_seen (&fixture->sink.events [0], ZSTORE_EVENT_SET, "a", 1, 0, 1);
    s_assert_seen (&fixture->sink.events [1], ZSTORE_EVENT_SET, "t1", 2, 0, 2);
    s_assert_seen (&fixture->sink.events [2], ZSTORE_EVENT_SET, "t2", 2, 1, 2);
    s_assert_seen (&fixture->sink.events [3], ZSTORE_EVENT_SET, "b", 3, 0, 1);
}

//  Reads inside the batch see its earlier changes; the batch is durable
//  once committed, and the counter continues after reopen.
static void
test_batch_commit_is_durable (void **state)
{
    fixture_t *fixture = *state;
    assert_int_equal (zstore_engine_batch_begin (fixture->engine), ZSTORE_OK);
    s_set (fixture, "a", "1");
    s_assert_value (fixture->engine, "a", "1");
    uint64_t revision = 0;
    assert_int_equal (zstore_engine_delete (fixture->engine, LIT ("g"), LIT ("a"), -1, &revision),
                      ZSTORE_OK);
    assert_int_equal (revision, 2);
    s_set (fixture, "b", "2");
    assert_int_equal (zstore_engine_batch_commit (fixture->engine), ZSTORE_OK);
    zstore_engine_destroy (&fixture->engine);
    s_open (fixture);
    s_assert_value (fixture->engine, "a", NULL);
    s_assert_value (fixture->engine, "b", "2");
    assert_int_equal (zstore_engine_revision (fixture->engine), 3);
    assert_int_equal (s_set (fixture, "c", "3"), 4);
}

//  A batch that never commits leaves nothing, emits nothing, and gives its
//  revisions back.
static void
test_batch_not_committed_leaves_nothing (void **state)
{
    fixture_t *fixture = *state;
    s_set (fixture, "before", "0");
    testkit_recorder_clear (&fixture->sink);
    assert_int_equal (zstore_engine_batch_begin (fixture->engine), ZSTORE_OK);
    s_set (fixture, "a", "1");
    s_set (fixture, "b", "2");
    assert_int_equal (zstore_engine_close (fixture->engine), ZSTORE_OK);
    assert_int_equal (fixture->sink.size, 0);
    zstore_engine_destroy (&fixture->engine);
    s_open (fixture);
    s_assert_value (fixture->engine, "before", "0");
    s_assert_value (fixture->engine, "a", NULL);
    assert_int_equal (zstore_engine_revision (fixture->engine), 1);
    assert_int_equal (s_set (fixture, "c", "3"), 2);
}

//  What a batch refuses: nesting, a commit without a batch, a snapshot
//  (it would see uncommitted changes), a batch inside a transaction.
static void
test_batch_misuse_is_invalid (void **state)
{
    fixture_t *fixture = *state;
    assert_int_equal (zstore_engine_batch_commit (fixture->engine), ZSTORE_INVALID);
    assert_int_equal (zstore_engine_begin (fixture->engine), ZSTORE_OK);
    assert_int_equal (zstore_engine_batch_begin (fixture->engine), ZSTORE_INVALID);
    assert_int_equal (zstore_engine_rollback (fixture->engine), ZSTORE_OK);
    assert_int_equal (zstore_engine_batch_begin (fixture->engine), ZSTORE_OK);
    assert_int_equal (zstore_engine_batch_begin (fixture->engine), ZSTORE_INVALID);
    char *error = NULL;
    zstore_view_scope_t everything = { .kind = ZSTORE_SCOPE_ALL };
    assert_null (zstore_snapshot_new (fixture->engine, &everything, &error));
    assert_non_null (error);
    free (error);
    //  A transaction left open when the batch commits never happened.
    assert_int_equal (zstore_engine_begin (fixture->engine), ZSTORE_OK);
    s_set (fixture, "open", "1");
    assert_int_equal (zstore_engine_batch_commit (fixture->engine), ZSTORE_OK);
    s_assert_value (fixture->engine, "open", NULL);
    assert_int_equal (fixture->sink.size, 0);
    assert_int_equal (zstore_engine_revision (fixture->engine), 0);
}

//  History records each change of a batch with its own revision.
static void
test_batch_history_records_each_change (void **state)
{
    fixture_t *fixture = *state;
    zstore_engine_set_history_limit (fixture->engine, 100);
    assert_int_equal (zstore_engine_batch_begin (fixture->engine), ZSTORE_OK);
    s_set (fixture, "a", "1");
    assert_int_equal (zstore_engine_begin (fixture->engine), ZSTORE_OK);
    s_set (fixture, "b", "2");
    s_set (fixture, "c", "3");
    assert_int_equal (zstore_engine_commit (fixture->engine, NULL), ZSTORE_OK);
    assert_int_equal (zstore_engine_batch_commit (fixture->engine), ZSTORE_OK);
    uint64_t first = 0, last = 0;
    assert_int_equal (zstore_engine_history_bounds (fixture->engine, &first, &last), ZSTORE_OK);
    assert_int_equal (last, 2);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
#define TEST(name) cmocka_unit_test_setup_teardown (name, s_setup, s_teardown)
        TEST (test_batch_changes_keep_their_revisions),
        TEST (test_batch_failed_change_is_undone_alone),
        TEST (test_batch_commit_is_durable),
        TEST (test_batch_not_committed_leaves_nothing),
        TEST (test_batch_misuse_is_invalid),
        TEST (test_batch_history_records_each_change),
    };
    return cmocka_run_group_tests_name ("engine batch", tests, NULL, NULL);
}
