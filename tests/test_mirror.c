//  zstore_mirror against the real zstore-broker binary: initial content,
//  updates of every kind, delete_group, expiry by the local clock, group,
//  namespace and whole-store mirrors, and a mirror that must still equal
//  the broker after events were dropped (tiny high-water mark), after a
//  broker killed and restarted, and after history became too old.
//
//  The oracle is a fresh snapshot read after the mirror caught up: the
//  same entries, field for field. No sleeps: waits are calls with
//  deadlines.

#include "client_fixture.h"
#include "zstore_watch.h"

#include <signal.h>

#define TIMEOUT 5000                //  ms for a reply
#define CATCH_UP 30000              //  ms for a mirror to reach a revision
#define WINDOW 200                  //  pipelined requests in flight

typedef client_fixture_t fixture_t;

static uint64_t
s_set_ttl (zstore_client_t *client, const char *group, const char *key, const char *value,
           int64_t ttl_ms)
{
    zstore_write_opts_t opts = ZSTORE_WRITE_OPTS;
    opts.has_ttl = true;
    opts.ttl_ms = ttl_ms;
    uint64_t rev = 0;
    client_fixture_ok (client, zstore_client_set (client, group, key, value, strlen (value),
                                                  &opts, &rev));
    return rev;
}

//  count pipelined sets over 200 keys of group, value_size bytes each,
//  with a delete every 97th; returns the last revision.
static uint64_t
s_burst (zstore_client_t *client, const char *group, int count, size_t value_size)
{
    char *value = malloc (value_size);
    assert_non_null (value);
    uint64_t last = 0;
    for (int index = 0; index < count; index++) {
        char key [32];
        snprintf (key, sizeof key, "k%03d", index % 200);
        memset (value, 'a' + index % 26, value_size);
        if (index % 97 == 96) {
            zstore_request_t *request = zstore_request_new ("delete");
            zstore_request_add_str (request, "group", group);
            zstore_request_add_str (request, "key", key);
            assert_true (zstore_client_send (client, request) > 0);
            zstore_request_destroy (&request);
        }
        else
            client_fixture_send_set (client, group, key, value, value_size);
        while (zstore_client_pending (client) >= WINDOW) {
            uint64_t rev = client_fixture_collect (client);
            last = rev > last ? rev : last;
        }
    }
    while (zstore_client_pending (client)) {
        uint64_t rev = client_fixture_collect (client);
        last = rev > last ? rev : last;
    }
    free (value);
    return last;
}

//  --- The oracle ---------------------------------------------------------

static zstore_mirror_t *
s_mirror (zstore_client_t *client, const char *group)
{
    zstore_mirror_t *mirror = zstore_mirror_new (client, group);
    if (!mirror)
        fail_msg ("mirror %s: %s", group, zstore_client_error (client));
    return mirror;
}

//  Updates until the mirror reflects rev.
static void
s_catch_up (zstore_mirror_t *mirror, uint64_t rev)
{
    int64_t deadline = zclock_mono () + CATCH_UP;
    while (zstore_mirror_rev (mirror) < rev) {
        int64_t left = deadline - zclock_mono ();
        if (left <= 0)
            fail_msg ("the mirror reached rev %llu of %llu within %d ms",
                      (unsigned long long) zstore_mirror_rev (mirror),
                      (unsigned long long) rev, CATCH_UP);
        int code = zstore_mirror_update (mirror, (int) left);
        if (code != ZSTORE_OK && code != ZSTORE_TIMEOUT)
            fail_msg ("mirror update: code %d", code);
    }
}

static bool
s_same (const char *a, size_t a_size, const char *b, size_t b_size)
{
    return a_size == b_size && (a_size == 0 || memcmp (a, b, a_size) == 0);
}

//  The mirror's entries equal a snapshot of the scope (ns or group, or
//  everything), field for field, in the same order; and get finds each.
static void
s_assert_equals_broker (fixture_t *fixture, zstore_mirror_t *mirror, const char *ns,
                        const char *group)
{
    zstore_entries_t expected, seen;
    uint64_t rev = 0;
    int code = zstore_client_snapshot (fixture->client, ns, group, NULL, NULL, &expected, &rev);
    client_fixture_ok (fixture->client, code);
    assert_int_equal (zstore_mirror_entries (mirror, &seen), ZSTORE_OK);
    if (seen.size != expected.size)
        fail_msg ("the mirror holds %zu entries, the broker %zu (at rev %llu, mirror at %llu)",
                  seen.size, expected.size, (unsigned long long) rev,
                  (unsigned long long) zstore_mirror_rev (mirror));
    assert_int_equal (zstore_mirror_size (mirror), expected.size);
    for (size_t index = 0; index < seen.size; index++) {
        zstore_entry_t *a = &seen.entries [index], *b = &expected.entries [index];
        if (!s_same (a->group, a->group_size, b->group, b->group_size)
        ||  !s_same (a->key, a->key_size, b->key, b->key_size)
        ||  !s_same (a->value, a->value_size, b->value, b->value_size)
        ||  a->create_rev != b->create_rev || a->mod_rev != b->mod_rev
        ||  a->expires_at != b->expires_at)
            fail_msg ("entry %zu: mirror %s/%s (create %llu, mod %llu), broker %s/%s"
                      " (create %llu, mod %llu)", index, a->group, a->key,
                      (unsigned long long) a->create_rev, (unsigned long long) a->mod_rev,
                      b->group, b->key, (unsigned long long) b->create_rev,
                      (unsigned long long) b->mod_rev);
        const zstore_entry_t *found = zstore_mirror_get (mirror, b->group, b->key);
        assert_non_null (found);
        assert_true (s_same (found->value, found->value_size, b->value, b->value_size));
    }
    zstore_entries_clear (&seen);
    zstore_entries_clear (&expected);
}

//  A SUB of the test's own, with ZeroMQ's default queue like the mirror's,
//  subscribed to prefix and not read during a burst: afterwards, whether
//  it lost events (a seq gap). Proves a burst did cause losses.
static bool
s_witness_lost (zsock_t *witness)
{
    zstore_buffer_t topic;
    zstore_buffer_init (&topic);
    uint64_t last = 0;
    bool lost = false;
    zstore_reader_t *body;
    while ((body = broker_receive (witness, &topic, 300))) {
        zstore_event_body_t event;
        zstore_fields_t fields;
        if (topic.data [0] == ZSTORE_TOPIC_DATA
        &&  zstore_event_body_read (zstore_reader_root (body), &event, &fields)) {
            lost = lost || (last && event.seq != last + 1);
            last = event.seq;
        }
        zstore_reader_destroy (&body);
    }
    zstore_buffer_free (&topic);
    return lost;
}

//  --- Tests --------------------------------------------------------------

static void
test_mirror_initial_content (void **state)
{
    fixture_t *fixture = *state;
    client_fixture_start_restartable (fixture, NULL);
    zstore_client_t *tenant = client_fixture_client (fixture, "ns-m");
    for (int index = 0; index < 50; index++) {
        char key [16];
        snprintf (key, sizeof key, "key-%02d", index);
        client_fixture_set (fixture->client, "m", key, key);
        client_fixture_set (fixture->client, "m2", key, "other group");
        client_fixture_set (tenant, "m", key, "tenant");
    }
    s_set_ttl (fixture->client, "m", "ttl", "lives an hour", 3600000);
    uint64_t last = client_fixture_set (tenant, "m2", "x", "tenant");

    zstore_mirror_t *group = s_mirror (fixture->client, "m");
    assert_int_equal (zstore_mirror_size (group), 51);
    assert_true (zstore_mirror_rev (group) >= last);
    const zstore_entry_t *entry = zstore_mirror_get (group, "m", "key-07");
    assert_non_null (entry);
    assert_string_equal (entry->value, "key-07");
    assert_int_equal (entry->value_size, 6);
    assert_non_null (zstore_mirror_get (group, "m", "ttl"));
    assert_true (zstore_mirror_get (group, "m", "ttl")->expires_at > 0);
    assert_null (zstore_mirror_get (group, "m", "absent"));
    assert_null (zstore_mirror_get (group, "m2", "key-07"));
    assert_null (zstore_mirror_get (group, "ns-m:m", "key-07"));
    s_assert_equals_broker (fixture, group, NULL, "m");

    //  Under a namespace: stored names; the namespace; everything.
    zstore_mirror_t *scoped = s_mirror (tenant, "m");
    assert_int_equal (zstore_mirror_size (scoped), 50);
    assert_string_equal (zstore_mirror_get (scoped, "ns-m:m", "key-01")->value, "tenant");
    assert_null (zstore_mirror_get (scoped, "m", "key-01"));
    s_assert_equals_broker (fixture, scoped, NULL, "ns-m:m");
    zstore_mirror_t *ns = zstore_mirror_new_namespace (fixture->client, "ns-m");
    assert_non_null (ns);
    assert_int_equal (zstore_mirror_size (ns), 51);
    s_assert_equals_broker (fixture, ns, "ns-m", NULL);
    zstore_mirror_t *all = s_mirror (fixture->client, "*");
    assert_int_equal (zstore_mirror_size (all), 152);
    s_assert_equals_broker (fixture, all, NULL, NULL);
    zstore_mirror_t *tenant_all = s_mirror (tenant, "*");
    assert_int_equal (zstore_mirror_size (tenant_all), 51);

    //  Nothing changed: an update applies nothing and keeps the content.
    uint64_t rev = zstore_mirror_rev (group);
    assert_int_equal (zstore_mirror_update (group, 100), ZSTORE_OK);
    assert_int_equal (zstore_mirror_rev (group), rev);
    s_assert_equals_broker (fixture, group, NULL, "m");

    assert_null (zstore_mirror_new (fixture->client, NULL));
    assert_null (zstore_mirror_new_namespace (fixture->client, "no:colon"));
    zstore_mirror_destroy (&group);
    zstore_mirror_destroy (&scoped);
    zstore_mirror_destroy (&ns);
    zstore_mirror_destroy (&all);
    zstore_mirror_destroy (&tenant_all);
    zstore_client_destroy (&tenant);
}

static void
test_mirror_updates (void **state)
{
    fixture_t *fixture = *state;
    client_fixture_start_restartable (fixture, NULL);
    zstore_client_t *client = fixture->client;
    uint64_t created = client_fixture_set (client, "u", "kept", "v1");
    client_fixture_set (client, "u", "gone", "v1");
    zstore_mirror_t *mirror = s_mirror (client, "u");
    zstore_mirror_t *all = s_mirror (client, "*");

    //  Overwrite (create_rev stays), new key, delete, a change of several
    //  events across groups, a key in another group.
    client_fixture_set (client, "u", "kept", "v2");
    client_fixture_set (client, "u", "new", "v1");
    uint64_t rev = 0;
    client_fixture_ok (client, zstore_client_delete (client, "u", "gone", NULL, &rev));
    zstore_txn_t *txn = zstore_txn_new ();
    assert_int_equal (zstore_txn_set (txn, "u", "txn-a", "a", 1, NULL), ZSTORE_OK);
    assert_int_equal (zstore_txn_set (txn, "elsewhere", "txn-b", "b", 1, NULL), ZSTORE_OK);
    assert_int_equal (zstore_txn_delete (txn, "u", "new", -1), ZSTORE_OK);
    assert_int_equal (zstore_txn_set (txn, "u", "txn-c", "c", 1, NULL), ZSTORE_OK);
    client_fixture_ok (client, zstore_client_txn (client, txn, &rev));
    zstore_txn_destroy (&txn);
    s_catch_up (mirror, rev);
    assert_int_equal (zstore_mirror_rev (mirror), rev);
    s_assert_equals_broker (fixture, mirror, NULL, "u");
    assert_int_equal (zstore_mirror_get (mirror, "u", "kept")->create_rev, created);
    assert_string_equal (zstore_mirror_get (mirror, "u", "kept")->value, "v2");
    assert_null (zstore_mirror_get (mirror, "u", "gone"));
    assert_null (zstore_mirror_get (mirror, "u", "new"));
    assert_null (zstore_mirror_get (mirror, "elsewhere", "txn-b"));
    assert_int_equal (zstore_mirror_size (mirror), 3);

    //  delete_group empties it; the group comes back.
    client_fixture_ok (client, zstore_client_delete_group (client, "u", &rev));
    s_catch_up (mirror, rev);
    assert_int_equal (zstore_mirror_size (mirror), 0);
    s_assert_equals_broker (fixture, mirror, NULL, "u");
    rev = client_fixture_set (client, "u", "kept", "v3");
    s_catch_up (mirror, rev);
    assert_int_equal (zstore_mirror_get (mirror, "u", "kept")->create_rev, rev);
    s_assert_equals_broker (fixture, mirror, NULL, "u");
    s_catch_up (all, rev);
    s_assert_equals_broker (fixture, all, NULL, NULL);
    //  delete_prefix: one delete_group per group.
    client_fixture_ok (client, zstore_client_delete_prefix (client, "", &rev));
    s_catch_up (all, rev);
    assert_int_equal (zstore_mirror_size (all), 0);
    zstore_mirror_destroy (&mirror);
    zstore_mirror_destroy (&all);
}

//  Expiry is the local clock's: an entry disappears from get, size and
//  entries when its time has come, before the broker's expire event.
static void
test_mirror_expiry (void **state)
{
    fixture_t *fixture = *state;
    client_fixture_start_restartable (fixture, "timers\n    purge-interval = 86400000\n");
    zstore_client_t *client = fixture->client;
    zstore_mirror_t *mirror = s_mirror (client, "e");
    client_fixture_set (client, "e", "forever", "v");
    s_set_ttl (client, "e", "dead", "already expired", 0);
    uint64_t rev = s_set_ttl (client, "e", "short", "300 ms", 300);
    s_catch_up (mirror, rev);
    zstore_entry_t probe;
    client_fixture_ok (client, zstore_client_get (client, "e", "short", &probe));
    int64_t expires_at = (int64_t) probe.expires_at;
    zstore_entry_clear (&probe);
    const zstore_entry_t *entry = zstore_mirror_get (mirror, "e", "short");
    if (zclock_time () < expires_at) {      //  not on a machine slower than 300 ms
        assert_non_null (entry);
        assert_int_equal (entry->expires_at, expires_at);
        assert_int_equal (zstore_mirror_size (mirror), 2);
    }
    assert_null (zstore_mirror_get (mirror, "e", "dead"));
    //  Wait for the local clock to pass the expiry (updates as the wait).
    int64_t deadline = zclock_mono () + CATCH_UP;
    while (zclock_time () <= expires_at && zclock_mono () < deadline)
        assert_int_equal (zstore_mirror_update (mirror, 20), ZSTORE_OK);
    assert_null (zstore_mirror_get (mirror, "e", "short"));
    assert_non_null (zstore_mirror_get (mirror, "e", "forever"));
    assert_int_equal (zstore_mirror_size (mirror), 1);
    zstore_entries_t entries;
    assert_int_equal (zstore_mirror_entries (mirror, &entries), ZSTORE_OK);
    assert_int_equal (entries.size, 1);
    assert_string_equal (entries.entries [0].key, "forever");
    zstore_entries_clear (&entries);
    //  The broker's purge sends expire events; the mirror still agrees.
    uint64_t removed = 0;
    client_fixture_ok (client, zstore_client_purge (client, 0, &removed, &rev));
    assert_int_equal (removed, 2);
    s_catch_up (mirror, rev);
    s_assert_equals_broker (fixture, mirror, NULL, "e");
    //  A key set again after it expired starts a new life.
    rev = client_fixture_set (client, "e", "short", "back");
    s_catch_up (mirror, rev);
    assert_int_equal (zstore_mirror_get (mirror, "e", "short")->create_rev, rev);
    s_assert_equals_broker (fixture, mirror, NULL, "e");
    zstore_mirror_destroy (&mirror);
}

//  Bursts the mirror does not read while they happen, against a few
//  messages of queue at the broker; history keeps 50 events so a replay
//  is often too old; then a broker killed with SIGKILL with writes in
//  flight, restarted. After each, the mirror equals the broker.
static void
test_mirror_after_failures (void **state)
{
    fixture_t *fixture = *state;
    client_fixture_start_restartable (fixture,
                                      "zstore\n    sync = normal\nlimits\n    events-hwm = 4\n"
                                      "timers\n    heartbeat = 50\nhistory\n    events = 50\n");
    zstore_mirror_t *mirror = s_mirror (fixture->client, "f");
    zstore_mirror_t *ns = zstore_mirror_new_namespace (fixture->client, "ns-f");
    assert_non_null (ns);
    zstore_buffer_t prefix;
    zstore_buffer_init (&prefix);
    assert_int_equal (zstore_topic_group (&prefix, "f", 1), 0);
    zsock_t *witness = broker_subscriber (fixture->broker, prefix.data, prefix.size);
    zstore_buffer_free (&prefix);

    //  Drops: the mirror's SUB has ZeroMQ's default queue, like the witness.
    uint64_t rev = s_burst (fixture->client, "f", 1500, 8192);
    assert_true (s_witness_lost (witness));
    zsock_destroy (&witness);
    s_catch_up (mirror, rev);
    s_assert_equals_broker (fixture, mirror, NULL, "f");

    //  The same in a namespace, mixed with a few changes read live.
    for (int round = 0; round < 3; round++) {
        rev = client_fixture_set (fixture->client, "ns-f:a", "live", "live");
        s_catch_up (ns, rev);
        rev = s_burst (fixture->client, round % 2 ? "ns-f:a" : "ns-f:b", 500, 8192);
    }
    s_catch_up (ns, rev);
    s_assert_equals_broker (fixture, ns, "ns-f", NULL);

    //  SIGKILL with pipelined writes in flight; restart; more writes.
    for (int index = 0; index < 300; index++) {
        char key [16];
        snprintf (key, sizeof key, "k%03d", index);
        client_fixture_send_set (fixture->client, "f", key, "in flight", 9);
        client_fixture_send_set (fixture->client, "ns-f:b", key, "in flight", 9);
    }
    client_fixture_collect (fixture->client);
    client_fixture_crash_restart (fixture);
    rev = s_burst (fixture->client, "f", 300, 64);
    s_catch_up (mirror, rev);
    s_assert_equals_broker (fixture, mirror, NULL, "f");
    rev = client_fixture_set (fixture->client, "ns-f:b", "after", "restart");
    s_catch_up (ns, rev);
    s_assert_equals_broker (fixture, ns, "ns-f", NULL);
    zstore_mirror_destroy (&mirror);
    zstore_mirror_destroy (&ns);
}

int
main (void)
{
#define TEST(name) \
    cmocka_unit_test_setup_teardown (name, client_fixture_setup, client_fixture_teardown)
    const struct CMUnitTest tests [] = {
        TEST (test_mirror_initial_content),
        TEST (test_mirror_updates),
        TEST (test_mirror_expiry),
        TEST (test_mirror_after_failures),
    };
    return cmocka_run_group_tests_name ("mirror", tests, NULL, NULL);
}
