//  History: events kept in zstore_history, written with the change that
//  made them; their content (revision, position, type, names, previous
//  revision), filters, pages, amortised trimming, the floor and
//  ZSTORE_TOO_OLD, reopen, revisions nobody recorded, and events' index and
//  count as sinks see them.

#include "testkit.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T0 1700000000000

typedef struct {
    char *dir;
    char *path;
    zstore_engine_t *engine;
    testkit_recorder_t sink;                  //  what the sinks saw
    int64_t now;
} fixture_t;

static zstore_engine_t *
s_open (fixture_t *fixture)
{
    zstore_engine_t *engine = testkit_engine (fixture->path);
    zstore_engine_set_clock (engine, testkit_clock, &fixture->now);
    //  Hundreds of commits per test: no fsync needed for what is tested.
    assert_int_equal (zstore_engine_set_synchronous (engine, ZSTORE_SYNC_OFF), ZSTORE_OK);
    return engine;
}

static int
s_setup (void **state)
{
    fixture_t *fixture = calloc (1, sizeof (fixture_t));
    fixture->dir = testkit_tempdir ();
    fixture->path = testkit_path (fixture->dir, "store.db");
    fixture->now = T0;
    fixture->engine = s_open (fixture);
    zstore_engine_add_event_sink (fixture->engine, testkit_record_event, &fixture->sink);
    assert_int_equal (zstore_engine_set_history_limit (fixture->engine, 1000), ZSTORE_OK);
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

//  --- Helpers ----------------------------------------------------------------

static uint64_t
s_set (zstore_engine_t *engine, const char *group, const char *key, const char *value)
{
    uint64_t revision = 0;
    int code = zstore_engine_set (engine, zstore_str (group), zstore_str (key),
                                  zstore_str (value), &revision);
    if (code)
        fail_msg ("set %s/%s: %s", group, key, zstore_engine_error (engine));
    return revision;
}

//  Sets n keys "k<i>" in group, one change each.
static void
s_set_each (zstore_engine_t *engine, const char *group, int n)
{
    for (int index = 0; index < n; index++) {
        char key [32];
        snprintf (key, sizeof key, "k%d", index);
        s_set (engine, group, key, "v");
    }
}

//  zstore_engine_history into out (cleared first).
static int
s_history (zstore_engine_t *engine, uint64_t after, zstore_event_filter_fn *filter, void *arg,
           size_t limit, testkit_recorder_t *out, bool *more_p)
{
    testkit_recorder_clear (out);
    return zstore_engine_history (engine, after, filter, arg, limit, testkit_record_event, out, more_p);
}

//  The whole history after a revision; fails the test on an error.
static void
s_history_all (zstore_engine_t *engine, uint64_t after, testkit_recorder_t *out)
{
    bool more = true;
    int code = s_history (engine, after, NULL, NULL, SIZE_MAX, out, &more);
    if (code)
        fail_msg ("history after %llu: %s", (unsigned long long) after,
                  zstore_engine_error (engine));
    assert_false (more);
}

static void
s_assert_bytes (const char *data, size_t size, zstore_bytes_t expected)
{
    assert_int_equal (size, expected.size);
    if (size)
        assert_memory_equal (data, expected.data, size);
}

static void
s_assert_event (const testkit_event_t *event, zstore_event_type_t type, zstore_bytes_t group,
                zstore_bytes_t key, zstore_bytes_t value, uint64_t revision,
                uint64_t prev_revision, uint32_t index, uint32_t count)
{
    assert_int_equal (event->type, type);
    s_assert_bytes (event->group, event->group_size, group);
    s_assert_bytes (event->key, event->key_size, key);
    s_assert_bytes (event->value, event->value_size, value);
    assert_int_equal (event->revision, revision);
    assert_int_equal (event->prev_revision, prev_revision);
    assert_int_equal (event->index, index);
    assert_int_equal (event->count, count);
}

//  History must hand back exactly what the sinks were given.
static void
s_assert_same_events (const testkit_recorder_t *actual, const testkit_recorder_t *expected)
{
    assert_int_equal (actual->size, expected->size);
    for (size_t index = 0; index < actual->size; index++) {
        const testkit_event_t *a = &actual->events [index], *b = &expected->events [index];
        s_assert_event (a, b->type, zstore_bytes (b->group, b->group_size),
                        zstore_bytes (b->key, b->key_size),
                        zstore_bytes (b->value, b->value_size), b->revision, b->prev_revision,
                        b->index, b->count);
        assert_int_equal (a->timestamp, b->timestamp);
        assert_int_equal (a->expires_at, b->expires_at);
    }
}

//  One integer from the file through a connection of its own (-1 if no row).
static int64_t
s_raw_integer (const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL;
    assert_int_equal (sqlite3_open (path, &db), SQLITE_OK);
    assert_int_equal (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), SQLITE_OK);
    int64_t result = -1;
    if (sqlite3_step (stmt) == SQLITE_ROW)
        result = sqlite3_column_int64 (stmt, 0);
    sqlite3_finalize (stmt);
    sqlite3_close (db);
    return result;
}

static int64_t
s_history_rows (fixture_t *fixture)
{
    return s_raw_integer (fixture->path, "SELECT COUNT(*) FROM zstore_history");
}

static int64_t
s_stored_floor (fixture_t *fixture)
{
    return s_raw_integer (fixture->path,
                          "SELECT value FROM zstore_meta WHERE name = 'history_floor'");
}

static void
s_assert_bounds (zstore_engine_t *engine, uint64_t first, uint64_t last)
{
    uint64_t first_kept = 0, newest = 0;
    assert_int_equal (zstore_engine_history_bounds (engine, &first_kept, &newest), ZSTORE_OK);
    assert_int_equal (first_kept, first);
    assert_int_equal (newest, last);
}

static void
s_assert_too_old (zstore_engine_t *engine, uint64_t after, uint64_t first_kept)
{
    testkit_recorder_t events = { 0 };
    bool more = true;
    assert_int_equal (s_history (engine, after, NULL, NULL, 10, &events, &more), ZSTORE_TOO_OLD);
    assert_int_equal (events.size, 0);
    assert_false (more);
    char expected [128];
    snprintf (expected, sizeof expected, "store.History: revision %llu is older than the"
              " history (first kept: %llu)", (unsigned long long) after,
              (unsigned long long) first_kept);
    assert_string_equal (zstore_engine_error (engine), expected);
    testkit_recorder_clear (&events);
}

//  --- Events' position in their change ---------------------------------------

static int
s_three_writes (zstore_engine_t *engine, void *arg)
{
    (void) arg;
    s_set (engine, "g", "a", "1");
    s_set (engine, "g", "b", "2");
    return zstore_engine_delete (engine, LIT ("g"), LIT ("a"), ZSTORE_ANY_REVISION, NULL);
}

//  Sinks get index (from 0) and count of each event's change.
static void
test_sink_events_carry_index_and_count (void **state)
{
    fixture_t *fixture = *state;
    assert_int_equal (zstore_engine_set_history_limit (fixture->engine, 0), ZSTORE_OK);
    s_set (fixture->engine, "g", "x", "0");
    assert_int_equal (zstore_engine_transaction (fixture->engine, s_three_writes, NULL, NULL),
                      ZSTORE_OK);
    s_set (fixture->engine, "g", "y", "0");
    testkit_recorder_t *sink = &fixture->sink;
    assert_int_equal (sink->size, 5);
    uint32_t index [] = { 0, 0, 1, 2, 0 };
    uint32_t count [] = { 1, 3, 3, 3, 1 };
    for (size_t event = 0; event < 5; event++) {
        assert_int_equal (sink->events [event].index, index [event]);
        assert_int_equal (sink->events [event].count, count [event]);
    }
}

//  --- What is recorded ---------------------------------------------------------

static void
test_history_records_single_operations (void **state)
{
    fixture_t *fixture = *state;
    zstore_engine_t *engine = fixture->engine;
    s_set (engine, "g", "a", "1");                                            //  1
    fixture->now += 5;
    assert_int_equal (zstore_engine_set_with_ttl (engine, LIT ("g"), LIT ("t"), LIT ("x"), 100,
                                                  NULL), ZSTORE_OK);          //  2
    s_set (engine, "g", "a", "2");                                            //  3
    assert_int_equal (zstore_engine_delete (engine, LIT ("g"), LIT ("a"), ZSTORE_ANY_REVISION,
                                            NULL), ZSTORE_OK);                //  4
    assert_int_equal (zstore_engine_delete (engine, LIT ("g"), LIT ("gone"),
                                            ZSTORE_ANY_REVISION, NULL), ZSTORE_OK);
    assert_int_equal (zstore_engine_delete_group (engine, LIT ("g"), NULL), ZSTORE_OK);  //  5

    testkit_recorder_t history = { 0 };
    s_history_all (engine, 0, &history);
    assert_int_equal (history.size, 5);
    s_assert_event (&history.events [0], ZSTORE_EVENT_SET, LIT ("g"), LIT ("a"), LIT ("1"),
                    1, 0, 0, 1);
    s_assert_event (&history.events [1], ZSTORE_EVENT_SET, LIT ("g"), LIT ("t"), LIT ("x"),
                    2, 0, 0, 1);
    assert_int_equal (history.events [1].expires_at, T0 + 5 + 100);
    assert_int_equal (history.events [1].timestamp, T0 + 5);
    assert_int_equal (history.events [0].timestamp, T0);
    assert_int_equal (history.events [0].expires_at, 0);
    s_assert_event (&history.events [2], ZSTORE_EVENT_SET, LIT ("g"), LIT ("a"), LIT ("2"),
                    3, 1, 0, 1);
    s_assert_event (&history.events [3], ZSTORE_EVENT_DELETE, LIT ("g"), LIT ("a"), LIT (""),
                    4, 3, 0, 1);
    s_assert_event (&history.events [4], ZSTORE_EVENT_DELETE_GROUP, LIT ("g"), LIT (""),
                    LIT (""), 5, 0, 0, 1);
    s_assert_same_events (&history, &fixture->sink);
    assert_int_equal (s_history_rows (fixture), 5);
    testkit_recorder_clear (&history);
}

static int
s_mixed_transaction (zstore_engine_t *engine, void *arg)
{
    (void) arg;
    s_set (engine, "a", "1", "v1");
    s_set (engine, "a", "2", "v2");
    int code = zstore_engine_delete (engine, LIT ("x"), LIT ("k"), ZSTORE_ANY_REVISION, NULL);
    s_set (engine, "a", "1", "v1b");
    return code;
}

//  A transaction's events share its revision and are numbered in order.
static void
test_history_records_a_transaction (void **state)
{
    fixture_t *fixture = *state;
    zstore_engine_t *engine = fixture->engine;
    s_set (engine, "x", "k", "0");
    uint64_t revision = 0;
    assert_int_equal (zstore_engine_transaction (engine, s_mixed_transaction, NULL, &revision),
                      ZSTORE_OK);
    assert_int_equal (revision, 2);

    testkit_recorder_t history = { 0 };
    s_history_all (engine, 1, &history);
    assert_int_equal (history.size, 4);
    s_assert_event (&history.events [0], ZSTORE_EVENT_SET, LIT ("a"), LIT ("1"), LIT ("v1"),
                    2, 0, 0, 4);
    s_assert_event (&history.events [1], ZSTORE_EVENT_SET, LIT ("a"), LIT ("2"), LIT ("v2"),
                    2, 0, 1, 4);
    s_assert_event (&history.events [2], ZSTORE_EVENT_DELETE, LIT ("x"), LIT ("k"), LIT (""),
                    2, 1, 2, 4);
    s_assert_event (&history.events [3], ZSTORE_EVENT_SET, LIT ("a"), LIT ("1"), LIT ("v1b"),
                    2, 2, 3, 4);
    s_history_all (engine, 0, &history);
    s_assert_same_events (&history, &fixture->sink);
    testkit_recorder_clear (&history);
}

//  Purge steps, lazy expiry and writes over expired rows are changes too.
static void
test_history_records_expiry (void **state)
{
    fixture_t *fixture = *state;
    zstore_engine_t *engine = fixture->engine;
    const char *keys [] = { "e1", "e2", "e3" };
    for (int index = 0; index < 3; index++)
        assert_int_equal (zstore_engine_set_with_ttl (engine, LIT ("e"), zstore_str (keys [index]),
                                                      LIT ("v"), 10, NULL), ZSTORE_OK);
    fixture->now += 10;
    int64_t removed = 0;
    assert_int_equal (zstore_engine_purge_expired_step (engine, 2, &removed), ZSTORE_OK);
    assert_int_equal (removed, 2);                                            //  4
    assert_int_equal (zstore_engine_purge_expired_step (engine, 2, &removed), ZSTORE_OK);
    assert_int_equal (removed, 1);                                            //  5
    assert_int_equal (zstore_engine_set_with_ttl (engine, LIT ("e"), LIT ("w"), LIT ("old"), 5,
                                                  NULL), ZSTORE_OK);          //  6
    assert_int_equal (zstore_engine_set_with_ttl (engine, LIT ("e"), LIT ("r"), LIT ("old"), 5,
                                                  NULL), ZSTORE_OK);          //  7
    fixture->now += 5;
    s_set (engine, "e", "w", "new");                                          //  8
    assert_int_equal (zstore_engine_get (engine, LIT ("e"), LIT ("r"), NULL),
                      ZSTORE_NOT_FOUND);                                      //  9

    testkit_recorder_t history = { 0 };
    s_history_all (engine, 3, &history);
    assert_int_equal (history.size, 8);
    s_assert_event (&history.events [0], ZSTORE_EVENT_EXPIRE, LIT ("e"), LIT ("e1"), LIT (""),
                    4, 1, 0, 2);
    s_assert_event (&history.events [1], ZSTORE_EVENT_EXPIRE, LIT ("e"), LIT ("e2"), LIT (""),
                    4, 2, 1, 2);
    s_assert_event (&history.events [2], ZSTORE_EVENT_EXPIRE, LIT ("e"), LIT ("e3"), LIT (""),
                    5, 3, 0, 1);
    //  Writing over an expired row: its expiry, then a set with no past.
    s_assert_event (&history.events [5], ZSTORE_EVENT_EXPIRE, LIT ("e"), LIT ("w"), LIT (""),
                    8, 6, 0, 2);
    s_assert_event (&history.events [6], ZSTORE_EVENT_SET, LIT ("e"), LIT ("w"), LIT ("new"),
                    8, 0, 1, 2);
    s_assert_event (&history.events [7], ZSTORE_EVENT_EXPIRE, LIT ("e"), LIT ("r"), LIT (""),
                    9, 7, 0, 1);
    assert_int_equal (history.events [7].expires_at, 0);   //  expire events carry no expiry
    s_history_all (engine, 7, &history);
    assert_int_equal (history.size, 3);
    s_assert_event (&history.events [1], ZSTORE_EVENT_SET, LIT ("e"), LIT ("w"), LIT ("new"),
                    8, 0, 1, 2);
    s_history_all (engine, 0, &history);
    s_assert_same_events (&history, &fixture->sink);
    testkit_recorder_clear (&history);
}

//  delete_prefix: one change, one delete_group per group, ascending.
static void
test_history_records_delete_prefix (void **state)
{
    fixture_t *fixture = *state;
    zstore_engine_t *engine = fixture->engine;
    s_set (engine, "p:b", "k", "v");
    s_set (engine, "p:a", "k", "v");
    s_set (engine, "p:a", "l", "v");
    s_set (engine, "q", "k", "v");
    uint64_t revision = 0;
    assert_int_equal (zstore_engine_delete_prefix (engine, LIT ("p:"), &revision), ZSTORE_OK);
    assert_int_equal (revision, 5);
    testkit_recorder_t history = { 0 };
    s_history_all (engine, 4, &history);
    assert_int_equal (history.size, 2);
    s_assert_event (&history.events [0], ZSTORE_EVENT_DELETE_GROUP, LIT ("p:a"), LIT (""),
                    LIT (""), 5, 0, 0, 2);
    s_assert_event (&history.events [1], ZSTORE_EVENT_DELETE_GROUP, LIT ("p:b"), LIT (""),
                    LIT (""), 5, 0, 1, 2);
    testkit_recorder_clear (&history);
}

//  Groups, keys and values keep NULs and 0xFF bytes.
static void
test_history_is_binary_safe (void **state)
{
    fixture_t *fixture = *state;
    zstore_engine_t *engine = fixture->engine;
    assert_int_equal (zstore_engine_set (engine, LIT ("g\0\xff"), LIT ("\0k"), LIT ("v\0\xffw"),
                                         NULL), ZSTORE_OK);
    testkit_recorder_t history = { 0 };
    s_history_all (engine, 0, &history);
    assert_int_equal (history.size, 1);
    s_assert_event (&history.events [0], ZSTORE_EVENT_SET, LIT ("g\0\xff"), LIT ("\0k"),
                    LIT ("v\0\xffw"), 1, 0, 0, 1);
    testkit_recorder_clear (&history);
}

static int
s_fail_after_write (zstore_engine_t *engine, void *arg)
{
    (void) arg;
    s_set (engine, "g", "in", "rolled back");
    return ZSTORE_CONFLICT;
}

//  Rolled-back changes, failed compare-and-set and no-ops leave nothing.
static void
test_history_nothing_for_rollback (void **state)
{
    fixture_t *fixture = *state;
    zstore_engine_t *engine = fixture->engine;
    s_set (engine, "g", "base", "1");
    assert_int_equal (zstore_engine_begin (engine), ZSTORE_OK);
    s_set (engine, "g", "a", "1");
    assert_int_equal (zstore_engine_delete (engine, LIT ("g"), LIT ("base"),
                                            ZSTORE_ANY_REVISION, NULL), ZSTORE_OK);
    assert_int_equal (zstore_engine_rollback (engine), ZSTORE_OK);
    assert_int_equal (zstore_engine_transaction (engine, s_fail_after_write, NULL, NULL),
                      ZSTORE_CONFLICT);
    zstore_write_t create = { false, 0, 0 };
    assert_int_equal (zstore_engine_put (engine, LIT ("g"), LIT ("base"), LIT ("2"), &create,
                                         NULL), ZSTORE_CONFLICT);
    assert_int_equal (zstore_engine_delete_group (engine, LIT ("none"), NULL), ZSTORE_OK);
    assert_int_equal (s_history_rows (fixture), 1);
    testkit_recorder_t history = { 0 };
    s_history_all (engine, 0, &history);
    assert_int_equal (history.size, 1);
    //  The next change gets the next revision, and is recorded.
    assert_int_equal (s_set (engine, "g", "b", "1"), 2);
    s_history_all (engine, 1, &history);
    assert_int_equal (history.size, 1);
    s_assert_event (&history.events [0], ZSTORE_EVENT_SET, LIT ("g"), LIT ("b"), LIT ("1"),
                    2, 0, 0, 1);
    testkit_recorder_clear (&history);
}

//  Runs SQL on a connection of its own.
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

//  History is written in the change's own transaction: when recording
//  fails, the data change is rolled back with it and nothing is emitted.
static void
test_history_failure_rolls_back_the_change (void **state)
{
    fixture_t *fixture = *state;
    zstore_engine_t *engine = fixture->engine;
    s_set (engine, "g", "a", "1");
    s_raw_exec (fixture->path, "CREATE TRIGGER refuse BEFORE INSERT ON zstore_history"
                               " WHEN NEW.entry_key = 'boom'"
                               " BEGIN SELECT RAISE (ABORT, 'refused'); END");
    assert_int_equal (zstore_engine_set (engine, LIT ("g"), LIT ("boom"), LIT ("v"), NULL),
                      ZSTORE_INTERNAL);
    assert_non_null (strstr (zstore_engine_error (engine), "refused"));
    bool exists = true;
    assert_int_equal (zstore_engine_exists (engine, LIT ("g"), LIT ("boom"), &exists), ZSTORE_OK);
    assert_false (exists);
    assert_int_equal (zstore_engine_revision (engine), 1);
    assert_int_equal (fixture->sink.size, 1);

    s_raw_exec (fixture->path, "DROP TRIGGER refuse");
    assert_int_equal (s_set (engine, "g", "boom", "v"), 2);
    testkit_recorder_t history = { 0 };
    s_history_all (engine, 0, &history);
    assert_int_equal (history.size, 2);
    s_assert_same_events (&history, &fixture->sink);
    testkit_recorder_clear (&history);
}

//  Limit 0 records nothing, and the revisions it let pass are reported as
//  not kept rather than silently missing.
static void
test_history_limit_zero_records_nothing (void **state)
{
    fixture_t *fixture = *state;
    zstore_engine_t *engine = fixture->engine;
    assert_int_equal (zstore_engine_set_history_limit (engine, 0), ZSTORE_OK);
    s_set_each (engine, "g", 3);
    assert_int_equal (s_history_rows (fixture), 0);
    testkit_recorder_t history = { 0 };
    s_history_all (engine, 3, &history);
    assert_int_equal (history.size, 0);
    s_assert_too_old (engine, 2, 4);
    s_assert_bounds (engine, 4, 3);

    assert_int_equal (zstore_engine_set_history_limit (engine, 10), ZSTORE_OK);
    s_set (engine, "g", "later", "v");
    assert_int_equal (s_history_rows (fixture), 1);
    assert_int_equal (s_stored_floor (fixture), 3);
    s_history_all (engine, 3, &history);
    assert_int_equal (history.size, 1);
    assert_int_equal (history.events [0].revision, 4);
    s_assert_too_old (engine, 2, 4);
    s_assert_bounds (engine, 4, 4);
    testkit_recorder_clear (&history);
}

//  --- Queries ---------------------------------------------------------------------

static bool
s_group_is (const zstore_event_t *event, void *arg)
{
    zstore_bytes_t group = zstore_str (arg);
    return event->group.size == group.size
        && memcmp (event->group.data, group.data, group.size) == 0;
}

static void
s_assert_revisions (const testkit_recorder_t *events, const uint64_t *revisions, size_t size)
{
    assert_int_equal (events->size, size);
    for (size_t index = 0; index < size; index++)
        assert_int_equal (events->events [index].revision, revisions [index]);
}

static void
test_history_filter_and_pages (void **state)
{
    fixture_t *fixture = *state;
    zstore_engine_t *engine = fixture->engine;
    for (int index = 1; index <= 10; index++)
        s_set (engine, index % 2 ? "keep" : "drop", "k", "v");

    testkit_recorder_t page = { 0 };
    bool more = true;
    assert_int_equal (s_history (engine, 0, s_group_is, "keep", 100, &page, &more), ZSTORE_OK);
    s_assert_revisions (&page, (uint64_t []) { 1, 3, 5, 7, 9 }, 5);
    assert_false (more);
    //  Pages of two, each after the last revision seen.
    assert_int_equal (s_history (engine, 0, s_group_is, "keep", 2, &page, &more), ZSTORE_OK);
    s_assert_revisions (&page, (uint64_t []) { 1, 3 }, 2);
    assert_true (more);
    assert_int_equal (s_history (engine, 3, s_group_is, "keep", 2, &page, &more), ZSTORE_OK);
    s_assert_revisions (&page, (uint64_t []) { 5, 7 }, 2);
    assert_true (more);
    assert_int_equal (s_history (engine, 7, s_group_is, "keep", 2, &page, &more), ZSTORE_OK);
    s_assert_revisions (&page, (uint64_t []) { 9 }, 1);
    assert_false (more);
    //  Exactly the rest: no more, although an unmatched event follows.
    assert_int_equal (s_history (engine, 5, s_group_is, "keep", 2, &page, &more), ZSTORE_OK);
    s_assert_revisions (&page, (uint64_t []) { 7, 9 }, 2);
    assert_false (more);
    assert_int_equal (s_history (engine, 9, s_group_is, "keep", 2, &page, &more), ZSTORE_OK);
    assert_int_equal (page.size, 0);
    assert_false (more);
    //  Limit 0 says whether anything is there; no filter means every event.
    assert_int_equal (s_history (engine, 0, NULL, NULL, 0, &page, &more), ZSTORE_OK);
    assert_int_equal (page.size, 0);
    assert_true (more);
    assert_int_equal (s_history (engine, 0, NULL, NULL, 3, &page, &more), ZSTORE_OK);
    s_assert_revisions (&page, (uint64_t []) { 1, 2, 3 }, 3);
    assert_true (more);
    assert_int_equal (s_history (engine, 10, NULL, NULL, 3, &page, &more), ZSTORE_OK);
    assert_int_equal (page.size, 0);
    assert_false (more);
    //  each and more_p may be NULL.
    assert_int_equal (zstore_engine_history (engine, 0, NULL, NULL, 3, NULL, NULL, NULL),
                      ZSTORE_OK);
    testkit_recorder_clear (&page);
}

//  Outside a transaction a query leaves none open; inside one it sees the
//  committed history only.
static void
test_history_and_transactions (void **state)
{
    fixture_t *fixture = *state;
    zstore_engine_t *engine = fixture->engine;
    s_set (engine, "g", "a", "1");
    testkit_recorder_t history = { 0 };
    s_history_all (engine, 0, &history);
    assert_int_equal (zstore_engine_begin (engine), ZSTORE_OK);
    s_set (engine, "g", "b", "2");
    s_history_all (engine, 0, &history);
    assert_int_equal (history.size, 1);
    s_assert_bounds (engine, 1, 1);
    uint64_t revision = 0;
    assert_int_equal (zstore_engine_commit (engine, &revision), ZSTORE_OK);
    assert_int_equal (revision, 2);
    s_history_all (engine, 0, &history);
    assert_int_equal (history.size, 2);
    s_assert_bounds (engine, 1, 2);
    testkit_recorder_clear (&history);
}

//  --- Trimming and the floor ------------------------------------------------------

//  Limit 200 tolerates 100 more rows; the 301st event trims back to 200,
//  and the floor is the newest revision deleted.
static void
test_history_trims_and_keeps_floor (void **state)
{
    fixture_t *fixture = *state;
    zstore_engine_t *engine = fixture->engine;
    assert_int_equal (zstore_engine_set_history_limit (engine, 200), ZSTORE_OK);
    s_set_each (engine, "g", 300);
    assert_int_equal (s_history_rows (fixture), 300);
    assert_int_equal (s_stored_floor (fixture), -1);
    s_assert_bounds (engine, 1, 300);
    testkit_recorder_t history = { 0 };
    s_history_all (engine, 0, &history);
    assert_int_equal (history.size, 300);

    s_set (engine, "g", "one more", "v");
    assert_int_equal (s_history_rows (fixture), 200);
    assert_int_equal (s_stored_floor (fixture), 101);
    s_assert_bounds (engine, 102, 301);
    s_assert_too_old (engine, 100, 102);
    s_assert_too_old (engine, 0, 102);
    s_history_all (engine, 101, &history);
    assert_int_equal (history.size, 200);
    assert_int_equal (history.events [0].revision, 102);
    assert_int_equal (history.events [199].revision, 301);

    //  Amortised: the next trim waits for the slack to fill again.
    s_set_each (engine, "h", 100);
    assert_int_equal (s_history_rows (fixture), 300);
    s_set (engine, "h", "one more", "v");
    assert_int_equal (s_history_rows (fixture), 200);
    assert_int_equal (s_stored_floor (fixture), 202);
    s_assert_too_old (engine, 201, 203);
    s_history_all (engine, 202, &history);
    assert_int_equal (history.size, 200);
    testkit_recorder_clear (&history);
}

static int
s_three_sets (zstore_engine_t *engine, void *arg)
{
    int *counter = arg;
    char key [32];
    for (int index = 0; index < 3; index++) {
        snprintf (key, sizeof key, "k%d", (*counter)++);
        s_set (engine, "t", key, "v");
    }
    return ZSTORE_OK;
}

//  A trim that cuts through a change: the floor is that change's revision,
//  so resuming from it works and resuming from the one before does not.
static void
test_history_trim_through_a_change (void **state)
{
    fixture_t *fixture = *state;
    zstore_engine_t *engine = fixture->engine;
    //  Limit 151 tolerates 251 rows: the 84th change of three brings 252,
    //  and cutting to 151 deletes seq 1..101, two of change 34's three rows.
    assert_int_equal (zstore_engine_set_history_limit (engine, 151), ZSTORE_OK);
    int counter = 0;
    for (int change = 1; change <= 84; change++)
        assert_int_equal (zstore_engine_transaction (engine, s_three_sets, &counter, NULL),
                          ZSTORE_OK);
    assert_int_equal (s_history_rows (fixture), 151);
    assert_int_equal (s_stored_floor (fixture), 34);
    assert_int_equal (s_raw_integer (fixture->path, "SELECT rev FROM zstore_history"
                                                    " ORDER BY seq LIMIT 1"), 34);
    s_assert_bounds (engine, 35, 84);
    s_assert_too_old (engine, 33, 35);
    testkit_recorder_t history = { 0 };
    s_history_all (engine, 34, &history);
    assert_int_equal (history.size, 150);
    s_assert_event (&history.events [0], ZSTORE_EVENT_SET, LIT ("t"), LIT ("k102"), LIT ("v"),
                    35, 0, 0, 3);
    testkit_recorder_clear (&history);
}

//  History and floor are in the file: a reopened engine (even one that
//  records nothing) serves them, and one that records carries on.
static void
test_history_survives_reopen (void **state)
{
    fixture_t *fixture = *state;
    assert_int_equal (zstore_engine_set_history_limit (fixture->engine, 200), ZSTORE_OK);
    s_set_each (fixture->engine, "g", 301);
    zstore_engine_destroy (&fixture->engine);

    fixture->engine = s_open (fixture);
    zstore_engine_t *engine = fixture->engine;
    s_assert_bounds (engine, 102, 301);
    s_assert_too_old (engine, 100, 102);
    testkit_recorder_t history = { 0 };
    s_history_all (engine, 101, &history);
    assert_int_equal (history.size, 200);
    assert_int_equal (history.events [0].revision, 102);
    s_assert_event (&history.events [199], ZSTORE_EVENT_SET, LIT ("g"), LIT ("k300"), LIT ("v"),
                    301, 0, 0, 1);

    assert_int_equal (zstore_engine_set_history_limit (engine, 200), ZSTORE_OK);
    s_set (engine, "g", "k0", "w");
    s_history_all (engine, 301, &history);
    assert_int_equal (history.size, 1);
    s_assert_event (&history.events [0], ZSTORE_EVENT_SET, LIT ("g"), LIT ("k0"), LIT ("w"),
                    302, 1, 0, 1);
    assert_int_equal (s_stored_floor (fixture), 101);
    testkit_recorder_clear (&history);
}

//  Another handle on the file that records nothing: its revisions are
//  reported missing, first as the tail, then under a raised floor.
static void
test_history_revisions_nobody_recorded (void **state)
{
    fixture_t *fixture = *state;
    zstore_engine_t *engine = fixture->engine;
    zstore_engine_t *other = s_open (fixture);
    s_set (engine, "g", "a", "1");
    s_set (other, "g", "b", "1");
    s_assert_bounds (engine, 3, 2);
    s_assert_too_old (engine, 1, 3);
    testkit_recorder_t history = { 0 };
    s_history_all (engine, 2, &history);
    assert_int_equal (history.size, 0);

    assert_int_equal (s_set (engine, "g", "c", "1"), 3);
    assert_int_equal (s_stored_floor (fixture), 2);
    s_assert_bounds (engine, 3, 3);
    s_assert_too_old (engine, 1, 3);
    s_history_all (engine, 2, &history);
    assert_int_equal (history.size, 1);
    assert_int_equal (history.events [0].revision, 3);
    testkit_recorder_clear (&history);
    zstore_engine_destroy (&other);
}

static void
test_history_bounds_of_a_new_store (void **state)
{
    fixture_t *fixture = *state;
    s_assert_bounds (fixture->engine, 1, 0);
    testkit_recorder_t history = { 0 };
    s_history_all (fixture->engine, 0, &history);
    assert_int_equal (history.size, 0);
    s_set_each (fixture->engine, "g", 3);
    s_assert_bounds (fixture->engine, 1, 3);
    testkit_recorder_clear (&history);
}

static void
test_history_misuse (void **state)
{
    fixture_t *fixture = *state;
    zstore_engine_t *engine = fixture->engine;
    assert_string_equal (zstore_engine_code_name (ZSTORE_TOO_OLD), "too_old");
    assert_int_equal (zstore_engine_set_history_limit (engine, -1), ZSTORE_INVALID);
    assert_string_equal (zstore_engine_error (engine),
                         "store.SetHistoryLimit: limit must be zero or positive");
    zstore_engine_close (engine);
    uint64_t first = 9, last = 9;
    bool more = true;
    assert_int_equal (zstore_engine_set_history_limit (engine, 1), ZSTORE_CLOSED);
    assert_int_equal (zstore_engine_history (engine, 0, NULL, NULL, 1, NULL, NULL, &more),
                      ZSTORE_CLOSED);
    assert_false (more);
    assert_int_equal (zstore_engine_history_bounds (engine, &first, &last), ZSTORE_CLOSED);
    assert_int_equal (first, 0);
    assert_int_equal (last, 0);
}

//  An in-memory store keeps its history too.
static void
test_history_in_memory (void **state)
{
    (void) state;
    zstore_engine_t *engine = testkit_engine (":memory:");
    assert_int_equal (zstore_engine_set_history_limit (engine, 5), ZSTORE_OK);
    s_set_each (engine, "g", 106);          //  tolerates 105: trims to 5
    s_assert_bounds (engine, 102, 106);
    testkit_recorder_t history = { 0 };
    s_history_all (engine, 101, &history);
    assert_int_equal (history.size, 5);
    s_assert_too_old (engine, 100, 102);
    testkit_recorder_clear (&history);
    zstore_engine_destroy (&engine);
}

//  Pages end at change boundaries: a three-event change straddling the
//  limit comes whole, and resuming after the last revision received misses
//  nothing and repeats nothing.
static void
test_history_pages_end_at_change_boundaries (void **state)
{
    fixture_t *fixture = *state;
    zstore_engine_t *engine = fixture->engine;
    s_set (engine, "g", "a", "1");                      //  rev 1: 1 event
    int counter = 0;
    assert_int_equal (zstore_engine_transaction (engine, s_three_sets, &counter, NULL),
                      ZSTORE_OK);                       //  rev 2: 3 events
    s_set (engine, "g", "b", "2");                      //  rev 3: 1 event
    testkit_recorder_t page = { 0 };
    bool more = false;
    assert_int_equal (s_history (engine, 0, NULL, NULL, 2, &page, &more), ZSTORE_OK);
    assert_true (more);
    assert_int_equal (page.size, 4);                    //  rev 1, then rev 2 whole
    assert_int_equal (page.events [3].revision, 2);
    assert_int_equal (page.events [3].index, 2);
    assert_int_equal (s_history (engine, 2, NULL, NULL, 2, &page, &more), ZSTORE_OK);
    assert_false (more);
    assert_int_equal (page.size, 1);
    assert_int_equal (page.events [0].revision, 3);
    //  A limit that ends exactly at a boundary does not run over.
    assert_int_equal (s_history (engine, 0, NULL, NULL, 1, &page, &more), ZSTORE_OK);
    assert_true (more);
    assert_int_equal (page.size, 1);
    testkit_recorder_clear (&page);
}

//  The changes of test_history_in_batches: sets, a failing create-only put
//  (rolled back alone), and a stretch with history off.
static void
s_batch_changes (zstore_engine_t *engine, int batch, int count)
{
    for (int index = 0; index < count; index++) {
        char key [32];
        snprintf (key, sizeof key, "k%d", batch * count + index);
        if (batch == 1 && index == 5) {
            zstore_write_t create = { false, 0, 0 };
            assert_int_equal (zstore_engine_put (engine, LIT ("g"), LIT ("k0"), LIT ("x"),
                                                 &create, NULL), ZSTORE_CONFLICT);
            continue;
        }
        bool unrecorded = batch == 3 && index >= 20 && index < 23;
        assert_int_equal (zstore_engine_set_history_limit (engine, unrecorded ? 0 : 200),
                          ZSTORE_OK);
        s_set (engine, "g", key, "v");
    }
}

//  Inside a batch, recording keeps what it knows of the table between
//  changes instead of reading it again: the result must be exactly what
//  the same changes give one transaction at a time (trims, floors, a
//  rolled-back change, revisions nobody recorded).
//  Runs the same changes in batches of count on one engine and one by one
//  on another, then compares their history.
static void
s_compare_batches (fixture_t *fixture, int batches, int count, bool empty_at_start)
{
    char *path = testkit_path (fixture->dir, "one-by-one.db");
    zstore_engine_t *single = testkit_engine (path);
    zstore_engine_set_clock (single, testkit_clock, &fixture->now);
    zstore_engine_t *batched = fixture->engine;
    assert_int_equal (zstore_engine_set_history_limit (batched, 200), ZSTORE_OK);
    assert_int_equal (zstore_engine_set_history_limit (single, 200), ZSTORE_OK);
    if (!empty_at_start) {
        s_set (batched, "g", "k0", "v");
        s_set (single, "g", "k0", "v");
    }
    for (int batch = 0; batch < batches; batch++) {
        assert_int_equal (zstore_engine_batch_begin (batched), ZSTORE_OK);
        s_batch_changes (batched, batch, count);
        assert_int_equal (zstore_engine_batch_commit (batched), ZSTORE_OK);
        s_batch_changes (single, batch, count);
    }
    assert_int_equal (zstore_engine_revision (batched), zstore_engine_revision (single));
    assert_int_equal (s_history_rows (fixture),
                      s_raw_integer (path, "SELECT COUNT(*) FROM zstore_history"));
    assert_int_equal (s_stored_floor (fixture), s_raw_integer (path, "SELECT value FROM"
                      " zstore_meta WHERE name = 'history_floor'"));
    uint64_t first = 0, last = 0;
    assert_int_equal (zstore_engine_history_bounds (single, &first, &last), ZSTORE_OK);
    assert_true (first > 100);                  //  trimmed
    s_assert_bounds (batched, first, last);
    testkit_recorder_t from_batches = { 0 }, from_single = { 0 };
    s_history_all (batched, first - 1, &from_batches);
    s_history_all (single, first - 1, &from_single);
    assert_true (from_single.size >= 200);
    s_assert_same_events (&from_batches, &from_single);
    testkit_recorder_clear (&from_batches);
    testkit_recorder_clear (&from_single);
    zstore_engine_destroy (&single);
    free (path);
}

static void
test_history_in_batches (void **state)
{
    s_compare_batches (*state, 10, 50, false);
}

//  One batch from an empty history, trimming in its middle.
static void
test_history_in_one_long_batch (void **state)
{
    s_compare_batches (*state, 1, 340, true);
}

int
main (void)
{
#define TEST(name) cmocka_unit_test_setup_teardown (name, s_setup, s_teardown)
    const struct CMUnitTest tests [] = {
        TEST (test_history_pages_end_at_change_boundaries),
        TEST (test_sink_events_carry_index_and_count),
        TEST (test_history_records_single_operations),
        TEST (test_history_records_a_transaction),
        TEST (test_history_records_expiry),
        TEST (test_history_records_delete_prefix),
        TEST (test_history_is_binary_safe),
        TEST (test_history_nothing_for_rollback),
        TEST (test_history_failure_rolls_back_the_change),
        TEST (test_history_limit_zero_records_nothing),
        TEST (test_history_filter_and_pages),
        TEST (test_history_and_transactions),
        TEST (test_history_trims_and_keeps_floor),
        TEST (test_history_trim_through_a_change),
        TEST (test_history_survives_reopen),
        TEST (test_history_revisions_nobody_recorded),
        TEST (test_history_bounds_of_a_new_store),
        TEST (test_history_misuse),
        TEST (test_history_in_memory),
        TEST (test_history_in_batches),
        TEST (test_history_in_one_long_batch),
    };
    return cmocka_run_group_tests_name ("engine history", tests, NULL, NULL);
}
