//  Changes: revisions, compare-and-set, transactions (spec 2.5, matrix
//  192-194), observable expiry, purge in bounded steps, cursor pages, and
//  the order and content of events.

#include "testkit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *dir;
    zstore_engine_t *engine;
    testkit_recorder_t events;
    int64_t now;
} fixture_t;

static int
s_setup (void **state)
{
    fixture_t *fixture = calloc (1, sizeof (fixture_t));
    fixture->dir = testkit_tempdir ();
    char *path = testkit_path (fixture->dir, "store.db");
    fixture->engine = testkit_engine (path);
    free (path);
    fixture->now = 1700000000000;
    zstore_engine_set_clock (fixture->engine, testkit_clock, &fixture->now);
    zstore_engine_add_event_sink (fixture->engine, testkit_record_event, &fixture->events);
    *state = fixture;
    return 0;
}

static int
s_teardown (void **state)
{
    fixture_t *fixture = *state;
    zstore_engine_destroy (&fixture->engine);
    testkit_recorder_clear (&fixture->events);
    testkit_tempdir_remove (&fixture->dir);
    free (fixture);
    return 0;
}

static void
s_set (fixture_t *fixture, const char *group, const char *key, const char *value,
       uint64_t *revision_p)
{
    int code = zstore_engine_set (fixture->engine, zstore_str (group), zstore_str (key),
                                  zstore_str (value), revision_p);
    if (code)
        fail_msg ("set %s/%s: %s", group, key, zstore_engine_error (fixture->engine));
}

//  --- Revisions ----------------------------------------------------------

//  Every change adds one; a no-op changes nothing and reports 0.
static void
test_revision_counts_changes (void **state)
{
    fixture_t *fixture = *state;
    zstore_engine_t *engine = fixture->engine;
    uint64_t revision = 99;
    assert_int_equal (zstore_engine_revision (engine), 0);
    s_set (fixture, "g", "a", "1", &revision);
    assert_int_equal (revision, 1);
    s_set (fixture, "g", "a", "2", &revision);
    assert_int_equal (revision, 2);
    assert_int_equal (zstore_engine_delete (engine, LIT ("g"), LIT ("missing"),
                                            ZSTORE_ANY_REVISION, &revision), ZSTORE_OK);
    assert_int_equal (revision, 0);
    assert_int_equal (zstore_engine_delete_group (engine, LIT ("none"), &revision), ZSTORE_OK);
    assert_int_equal (revision, 0);
    assert_int_equal (zstore_engine_revision (engine), 2);
    assert_int_equal (zstore_engine_delete_group (engine, LIT ("g"), &revision), ZSTORE_OK);
    assert_int_equal (revision, 3);
    assert_int_equal (zstore_engine_revision (engine), 3);
}

//  create_rev stays while a key lives; mod_rev follows each write; events
//  chain prev_revision to the previous mod_rev.
static void
test_revision_per_key_and_chain (void **state)
{
    fixture_t *fixture = *state;
    zstore_engine_t *engine = fixture->engine;
    s_set (fixture, "g", "k", "1", NULL);
    s_set (fixture, "other", "x", "x", NULL);
    s_set (fixture, "g", "k", "2", NULL);
    zstore_value_t value;
    assert_int_equal (zstore_engine_get (engine, LIT ("g"), LIT ("k"), &value), ZSTORE_OK);
    assert_int_equal (value.create_revision, 1);
    assert_int_equal (value.mod_revision, 3);
    assert_int_equal (value.expires_at, 0);
    zstore_value_reset (&value);
    assert_int_equal (zstore_engine_delete (engine, LIT ("g"), LIT ("k"), ZSTORE_ANY_REVISION,
                                            NULL), ZSTORE_OK);
    s_set (fixture, "g", "k", "3", NULL);

    testkit_recorder_t *events = &fixture->events;
    assert_int_equal (events->size, 5);
    assert_int_equal (events->events [0].prev_revision, 0);
    assert_int_equal (events->events [2].prev_revision, 1);
    testkit_assert_event (events, 3, ZSTORE_EVENT_DELETE, "g", "k");
    assert_int_equal (events->events [3].prev_revision, 3);
    assert_int_equal (events->events [3].revision, 4);
    assert_int_equal (events->events [4].prev_revision, 0);     //  recreated
    assert_int_equal (zstore_engine_get (engine, LIT ("g"), LIT ("k"), &value), ZSTORE_OK);
    assert_int_equal (value.create_revision, 5);
    zstore_value_reset (&value);
}

//  --- Compare-and-set ----------------------------------------------------

static void
test_cas_create_only_if_absent (void **state)
{
    fixture_t *fixture = *state;
    zstore_write_t create = { false, 0, 0 };
    uint64_t revision = 0;
    assert_int_equal (zstore_engine_put (fixture->engine, LIT ("g"), LIT ("k"), LIT ("first"),
                                         &create, &revision), ZSTORE_OK);
    assert_int_equal (revision, 1);
    assert_int_equal (zstore_engine_put (fixture->engine, LIT ("g"), LIT ("k"), LIT ("second"),
                                         &create, &revision), ZSTORE_CONFLICT);
    assert_int_equal (revision, 0);
    assert_non_null (strstr (zstore_engine_error (fixture->engine),
                             "store.Set: g/k: revision mismatch: expected 0, current 1"));
    zstore_value_t value;
    zstore_engine_get (fixture->engine, LIT ("g"), LIT ("k"), &value);
    assert_string_equal (value.data, "first");
    zstore_value_reset (&value);
    assert_int_equal (fixture->events.size, 1);          //  the conflict emitted nothing
    assert_int_equal (zstore_engine_revision (fixture->engine), 1);
}

static void
test_cas_update_only_at_revision (void **state)
{
    fixture_t *fixture = *state;
    uint64_t revision = 0;
    s_set (fixture, "g", "k", "v1", &revision);
    zstore_write_t stale = { false, 0, (int64_t) revision + 5 };
    assert_int_equal (zstore_engine_put (fixture->engine, LIT ("g"), LIT ("k"), LIT ("lost"),
                                         &stale, NULL), ZSTORE_CONFLICT);
    zstore_write_t current = { true, 60000, (int64_t) revision };
    assert_int_equal (zstore_engine_put (fixture->engine, LIT ("g"), LIT ("k"), LIT ("v2"),
                                         &current, &revision), ZSTORE_OK);
    assert_int_equal (revision, 2);
    //  The same condition again now fails: the revision moved on.
    assert_int_equal (zstore_engine_put (fixture->engine, LIT ("g"), LIT ("k"), LIT ("v3"),
                                         &current, NULL), ZSTORE_CONFLICT);
    zstore_value_t value;
    zstore_engine_get (fixture->engine, LIT ("g"), LIT ("k"), &value);
    assert_string_equal (value.data, "v2");
    assert_int_equal (value.expires_at, fixture->now + 60000);
    zstore_value_reset (&value);
}

static void
test_cas_delete (void **state)
{
    fixture_t *fixture = *state;
    uint64_t revision = 0, deleted = 0;
    s_set (fixture, "g", "k", "v", &revision);
    assert_int_equal (zstore_engine_delete (fixture->engine, LIT ("g"), LIT ("k"),
                                            (int64_t) revision + 1, &deleted), ZSTORE_CONFLICT);
    assert_int_equal (deleted, 0);
    assert_int_equal (zstore_engine_get (fixture->engine, LIT ("g"), LIT ("k"), NULL), ZSTORE_OK);
    assert_int_equal (zstore_engine_delete (fixture->engine, LIT ("g"), LIT ("k"),
                                            (int64_t) revision, &deleted), ZSTORE_OK);
    assert_int_equal (deleted, 2);
    assert_int_equal (zstore_engine_get (fixture->engine, LIT ("g"), LIT ("k"), NULL),
                      ZSTORE_NOT_FOUND);
    //  "Must not exist" on an absent key: nothing to do, no conflict.
    assert_int_equal (zstore_engine_delete (fixture->engine, LIT ("g"), LIT ("k"), 0, &deleted),
                      ZSTORE_OK);
    assert_int_equal (deleted, 0);
}

//  An expired key is absent for compare-and-set: its revision is 0.
static void
test_cas_expired_key_counts_as_absent (void **state)
{
    fixture_t *fixture = *state;
    uint64_t revision = 0;
    zstore_engine_set_with_ttl (fixture->engine, LIT ("g"), LIT ("k"), LIT ("v"), 100, &revision);
    fixture->now += 100;
    zstore_write_t was = { false, 0, (int64_t) revision };
    assert_int_equal (zstore_engine_put (fixture->engine, LIT ("g"), LIT ("k"), LIT ("x"), &was,
                                         NULL), ZSTORE_CONFLICT);
    zstore_write_t absent = { false, 0, 0 };
    assert_int_equal (zstore_engine_put (fixture->engine, LIT ("g"), LIT ("k"), LIT ("new"),
                                         &absent, &revision), ZSTORE_OK);
    //  set(1), then expire and set sharing revision 2
    testkit_recorder_t *events = &fixture->events;
    assert_int_equal (events->size, 3);
    testkit_assert_event (events, 1, ZSTORE_EVENT_EXPIRE, "g", "k");
    assert_int_equal (events->events [1].prev_revision, 1);
    testkit_assert_event (events, 2, ZSTORE_EVENT_SET, "g", "k");
    assert_int_equal (events->events [2].prev_revision, 0);
    assert_int_equal (events->events [2].revision, revision);
}

//  --- Transactions -------------------------------------------------------

//  4.6 #192: two writes commit together; events only after the commit,
//  in order, sharing the transaction's revision.
static void
test_transaction_commits_writes_together (void **state)
{
    fixture_t *fixture = *state;
    zstore_engine_t *engine = fixture->engine;
    assert_int_equal (zstore_engine_begin (engine), ZSTORE_OK);
    assert_true (zstore_engine_in_transaction (engine));
    uint64_t revision = 0;
    s_set (fixture, "alpha", "a", "1", &revision);
    assert_int_equal (revision, 1);
    s_set (fixture, "beta", "b", "2", NULL);
    assert_int_equal (fixture->events.size, 0);
    int64_t count = 0;
    assert_int_equal (zstore_engine_count (engine, LIT ("alpha"), &count), ZSTORE_OK);
    assert_int_equal (count, 1);                        //  sees its own write
    assert_int_equal (zstore_engine_commit (engine, &revision), ZSTORE_OK);
    assert_int_equal (revision, 1);
    assert_false (zstore_engine_in_transaction (engine));
    assert_int_equal (fixture->events.size, 2);
    testkit_assert_event (&fixture->events, 0, ZSTORE_EVENT_SET, "alpha", "a");
    testkit_assert_event (&fixture->events, 1, ZSTORE_EVENT_SET, "beta", "b");
    assert_int_equal (fixture->events.events [1].revision, 1);
    assert_int_equal (zstore_engine_revision (engine), 1);
}

typedef struct {
    int calls;
} s_txn_state_t;

static int
s_set_then_miss (zstore_engine_t *engine, void *arg)
{
    ((s_txn_state_t *) arg)->calls++;
    int code = zstore_engine_set (engine, LIT ("g"), LIT ("k"), LIT ("v"), NULL);
    if (code == ZSTORE_OK)
        code = zstore_engine_get (engine, LIT ("g"), LIT ("missing"), NULL);
    return code;
}

//  4.6 #193: a failing callback rolls back; the cause's code and text
//  survive; nothing is emitted and the revision does not move.
static void
test_transaction_rolls_back_on_error (void **state)
{
    fixture_t *fixture = *state;
    zstore_engine_t *engine = fixture->engine;
    s_txn_state_t txn = { 0 };
    uint64_t revision = 7;
    assert_int_equal (zstore_engine_transaction (engine, s_set_then_miss, &txn, &revision),
                      ZSTORE_NOT_FOUND);
    assert_int_equal (txn.calls, 1);
    assert_int_equal (revision, 0);
    assert_string_equal (zstore_engine_error (engine), "store.Transaction: execute transaction:"
                         " store.Transaction.Get: g/missing: store: not found");
    assert_int_equal (zstore_engine_get (engine, LIT ("g"), LIT ("k"), NULL), ZSTORE_NOT_FOUND);
    assert_int_equal (fixture->events.size, 0);
    assert_int_equal (zstore_engine_revision (engine), 0);
    assert_false (zstore_engine_in_transaction (engine));
    assert_int_equal (zstore_engine_transaction (engine, NULL, NULL, NULL), ZSTORE_INVALID);
    assert_non_null (strstr (zstore_engine_error (engine), "operation is nil"));
}

//  4.6 #194: delete prefix "" inside a transaction removes every group.
static void
test_transaction_delete_prefix_atomically (void **state)
{
    fixture_t *fixture = *state;
    zstore_engine_t *engine = fixture->engine;
    s_set (fixture, "b", "k", "1", NULL);
    s_set (fixture, "a", "k", "1", NULL);
    s_set (fixture, "c", "k", "1", NULL);
    testkit_recorder_clear (&fixture->events);
    assert_int_equal (zstore_engine_begin (engine), ZSTORE_OK);
    assert_int_equal (zstore_engine_delete_prefix (engine, LIT (""), NULL), ZSTORE_OK);
    assert_int_equal (zstore_engine_commit (engine, NULL), ZSTORE_OK);
    int64_t count = -1;
    zstore_engine_count_all (engine, LIT (""), &count);
    assert_int_equal (count, 0);
    assert_int_equal (fixture->events.size, 3);
    testkit_assert_event (&fixture->events, 0, ZSTORE_EVENT_DELETE_GROUP, "a", "");
    testkit_assert_event (&fixture->events, 1, ZSTORE_EVENT_DELETE_GROUP, "b", "");
    testkit_assert_event (&fixture->events, 2, ZSTORE_EVENT_DELETE_GROUP, "c", "");
}

//  An explicit rollback discards writes and staged events, including a
//  lazy expiry staged by a read inside the transaction.
static void
test_transaction_rollback_discards_everything (void **state)
{
    fixture_t *fixture = *state;
    zstore_engine_t *engine = fixture->engine;
    zstore_engine_set_with_ttl (engine, LIT ("g"), LIT ("old"), LIT ("v"), 10, NULL);
    fixture->now += 10;
    testkit_recorder_clear (&fixture->events);
    assert_int_equal (zstore_engine_begin (engine), ZSTORE_OK);
    s_set (fixture, "g", "new", "v", NULL);
    assert_int_equal (zstore_engine_get (engine, LIT ("g"), LIT ("old"), NULL), ZSTORE_NOT_FOUND);
    assert_int_equal (zstore_engine_rollback (engine), ZSTORE_OK);
    assert_int_equal (fixture->events.size, 0);
    assert_int_equal (zstore_engine_revision (engine), 1);
    assert_int_equal (zstore_engine_get (engine, LIT ("g"), LIT ("new"), NULL), ZSTORE_NOT_FOUND);

    //  Outside the transaction the same read expires the row for real.
    assert_int_equal (zstore_engine_get (engine, LIT ("g"), LIT ("old"), NULL), ZSTORE_NOT_FOUND);
    assert_int_equal (fixture->events.size, 1);
    testkit_assert_event (&fixture->events, 0, ZSTORE_EVENT_EXPIRE, "g", "old");
    assert_int_equal (fixture->events.events [0].revision, 2);
}

static void
test_transaction_misuse_is_invalid (void **state)
{
    fixture_t *fixture = *state;
    zstore_engine_t *engine = fixture->engine;
    assert_int_equal (zstore_engine_commit (engine, NULL), ZSTORE_INVALID);
    assert_int_equal (zstore_engine_rollback (engine), ZSTORE_INVALID);
    assert_int_equal (zstore_engine_begin (engine), ZSTORE_OK);
    assert_int_equal (zstore_engine_begin (engine), ZSTORE_INVALID);
    assert_non_null (strstr (zstore_engine_error (engine), "already open"));
    assert_int_equal (zstore_engine_commit (engine, NULL), ZSTORE_OK);
    //  Closing with a transaction open rolls it back.
    assert_int_equal (zstore_engine_begin (engine), ZSTORE_OK);
    s_set (fixture, "g", "k", "v", NULL);
    assert_int_equal (zstore_engine_close (engine), ZSTORE_OK);
    assert_int_equal (fixture->events.size, 0);
}

//  A conflict inside a transaction changes nothing; the caller may still
//  commit the rest.
static void
test_transaction_cas_conflict_then_commit (void **state)
{
    fixture_t *fixture = *state;
    zstore_engine_t *engine = fixture->engine;
    s_set (fixture, "g", "k", "v", NULL);
    testkit_recorder_clear (&fixture->events);
    assert_int_equal (zstore_engine_begin (engine), ZSTORE_OK);
    zstore_write_t absent = { false, 0, 0 };
    assert_int_equal (zstore_engine_put (engine, LIT ("g"), LIT ("k"), LIT ("x"), &absent, NULL),
                      ZSTORE_CONFLICT);
    assert_non_null (strstr (zstore_engine_error (engine), "store.Transaction.Set"));
    s_set (fixture, "g", "other", "y", NULL);
    uint64_t revision = 0;
    assert_int_equal (zstore_engine_commit (engine, &revision), ZSTORE_OK);
    assert_int_equal (revision, 2);
    assert_int_equal (fixture->events.size, 1);
    testkit_assert_event (&fixture->events, 0, ZSTORE_EVENT_SET, "g", "other");
}

//  --- Expiry -------------------------------------------------------------

//  Lazy expiry on read emits expire (not delete) with the key's last
//  revision; the boundary is expires_at <= now.
static void
test_expiry_on_read_emits_expire (void **state)
{
    fixture_t *fixture = *state;
    zstore_engine_t *engine = fixture->engine;
    zstore_engine_set_with_ttl (engine, LIT ("g"), LIT ("k"), LIT ("v"), 50, NULL);
    assert_int_equal (fixture->events.events [0].expires_at, fixture->now + 50);
    fixture->now += 49;
    assert_int_equal (zstore_engine_get (engine, LIT ("g"), LIT ("k"), NULL), ZSTORE_OK);
    fixture->now += 1;
    assert_int_equal (zstore_engine_get (engine, LIT ("g"), LIT ("k"), NULL), ZSTORE_NOT_FOUND);
    assert_int_equal (fixture->events.size, 2);
    testkit_assert_event (&fixture->events, 1, ZSTORE_EVENT_EXPIRE, "g", "k");
    assert_int_equal (fixture->events.events [1].prev_revision, 1);
    assert_int_equal (fixture->events.events [1].revision, 2);
    assert_int_equal (fixture->events.events [1].timestamp, fixture->now);
    //  Gone for good: a second read emits nothing.
    assert_int_equal (zstore_engine_get (engine, LIT ("g"), LIT ("k"), NULL), ZSTORE_NOT_FOUND);
    assert_int_equal (fixture->events.size, 2);
}

static void
s_set_many (fixture_t *fixture, const char *group, int count, int64_t ttl_ms)
{
    assert_int_equal (zstore_engine_begin (fixture->engine), ZSTORE_OK);
    for (int index = 0; index < count; index++) {
        char key [32];
        snprintf (key, sizeof key, "key-%06d", index);
        zstore_write_t options = { ttl_ms != 0, ttl_ms, ZSTORE_ANY_REVISION };
        assert_int_equal (zstore_engine_put (fixture->engine, zstore_str (group), zstore_str (key),
                                             LIT ("v"), &options, NULL), ZSTORE_OK);
    }
    assert_int_equal (zstore_engine_commit (fixture->engine, NULL), ZSTORE_OK);
}

//  Purge works in bounded steps, each its own revision, with one expire
//  event per row, and leaves live rows alone.
static void
test_purge_in_bounded_steps (void **state)
{
    fixture_t *fixture = *state;
    zstore_engine_t *engine = fixture->engine;
    s_set_many (fixture, "short", 2500, 10);
    s_set_many (fixture, "long", 100, 100000);
    s_set_many (fixture, "forever", 10, 0);
    fixture->now += 10;
    testkit_recorder_clear (&fixture->events);

    int64_t removed = -1;
    int64_t expected [] = { 1000, 1000, 500, 0 };
    for (int step = 0; step < 4; step++) {
        assert_int_equal (zstore_engine_purge_expired_step (engine, 1000, &removed), ZSTORE_OK);
        assert_int_equal (removed, expected [step]);
    }
    assert_int_equal (fixture->events.size, 2500);
    for (size_t index = 0; index < fixture->events.size; index++) {
        testkit_event_t *event = &fixture->events.events [index];
        assert_int_equal (event->type, ZSTORE_EVENT_EXPIRE);
        assert_string_equal (event->group, "short");
        assert_int_equal (event->revision, index < 1000 ? 4 : index < 2000 ? 5 : 6);
    }
    int64_t count = 0;
    zstore_engine_count_all (engine, LIT (""), &count);
    assert_int_equal (count, 110);
    assert_int_equal (zstore_engine_purge_expired_step (engine, 0, &removed), ZSTORE_INVALID);
}

static void
test_purge_all_reports_total (void **state)
{
    fixture_t *fixture = *state;
    s_set_many (fixture, "a", 1500, 5);
    s_set_many (fixture, "b", 700, 5);
    s_set_many (fixture, "c", 3, 0);
    fixture->now += 5;
    int64_t removed = 0;
    assert_int_equal (zstore_engine_purge_expired (fixture->engine, &removed), ZSTORE_OK);
    assert_int_equal (removed, 2200);
    assert_int_equal (zstore_engine_purge_expired (fixture->engine, &removed), ZSTORE_OK);
    assert_int_equal (removed, 0);
}

//  --- Cursor pages -------------------------------------------------------

//  Pages after a key walk the whole group once, in order, skipping expired
//  rows, whatever the page size.
static void
test_cursor_pages_walk_group (void **state)
{
    fixture_t *fixture = *state;
    zstore_engine_t *engine = fixture->engine;
    s_set_many (fixture, "g", 1000, 0);
    zstore_engine_set_with_ttl (engine, LIT ("g"), LIT ("key-000500"), LIT ("v"), 1, NULL);
    fixture->now += 1;

    zstore_list_t *page = NULL;
    char last [32] = "";
    size_t last_size = 0, seen = 0;
    bool first = true;
    do {
        zstore_bytes_t after = zstore_bytes (last, last_size);
        assert_int_equal (zstore_engine_get_page_after (engine, LIT ("g"), first ? NULL : &after,
                                                        64, &page), ZSTORE_OK);
        for (size_t index = 0; index < zstore_list_size (page); index++) {
            const zstore_item_t *item = zstore_list_item (page, index);
            int number = atoi (item->key + 4);
            assert_int_equal (number, (int) (seen < 500 ? seen : seen + 1));
            seen++;
        }
        size_t size = zstore_list_size (page);
        if (size) {
            const zstore_item_t *tail = zstore_list_item (page, size - 1);
            memcpy (last, tail->key, tail->key_size);
            last_size = tail->key_size;
        }
        zstore_list_destroy (&page);
        first = false;
        if (!size)
            break;
    } while (true);
    assert_int_equal (seen, 999);
    assert_int_equal (zstore_engine_get_page_after (engine, LIT ("g"), NULL, -1, &page),
                      ZSTORE_INVALID);
}

//  --- Sinks --------------------------------------------------------------

//  Sinks are called in registration order; a removed sink sees nothing more.
static void
test_sinks_in_order_and_removable (void **state)
{
    fixture_t *fixture = *state;
    testkit_recorder_t second = { 0 };
    int id = zstore_engine_add_event_sink (fixture->engine, testkit_record_event, &second);
    assert_true (id > 0);
    assert_int_equal (zstore_engine_add_event_sink (fixture->engine, NULL, NULL), -1);
    s_set (fixture, "g", "k", "v", NULL);
    zstore_engine_remove_event_sink (fixture->engine, id);
    zstore_engine_remove_event_sink (fixture->engine, id);      //  idempotent
    s_set (fixture, "g", "k", "w", NULL);
    assert_int_equal (fixture->events.size, 2);
    assert_int_equal (second.size, 1);
    assert_string_equal (second.events [0].value, "v");
    testkit_recorder_clear (&second);
}

int
main (void)
{
#define TEST(name) cmocka_unit_test_setup_teardown (name, s_setup, s_teardown)
    const struct CMUnitTest tests [] = {
        TEST (test_revision_counts_changes),
        TEST (test_revision_per_key_and_chain),
        TEST (test_cas_create_only_if_absent),
        TEST (test_cas_update_only_at_revision),
        TEST (test_cas_delete),
        TEST (test_cas_expired_key_counts_as_absent),
        TEST (test_transaction_commits_writes_together),
        TEST (test_transaction_rolls_back_on_error),
        TEST (test_transaction_delete_prefix_atomically),
        TEST (test_transaction_rollback_discards_everything),
        TEST (test_transaction_misuse_is_invalid),
        TEST (test_transaction_cas_conflict_then_commit),
        TEST (test_expiry_on_read_emits_expire),
        TEST (test_purge_in_bounded_steps),
        TEST (test_purge_all_reports_total),
        TEST (test_cursor_pages_walk_group),
        TEST (test_sinks_in_order_and_removable),
    };
    return cmocka_run_group_tests_name ("engine changes", tests, NULL, NULL);
}
