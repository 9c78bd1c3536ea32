//  zstore_watch against the real zstore-broker binary: each scope's
//  filtering, and every way events get lost, forced on purpose: tiny
//  high-water marks under a burst, a reader that does not read, a broker
//  killed with SIGKILL and restarted, a watch joining during heavy writes,
//  the last event before silence lost, history too old for a replay.
//
//  The oracle is the broker's own history (a raw DEALER and the codec, not
//  libzstore): what the application saw must be exactly the scope's
//  history after the watch's start revision, in order, nothing missing,
//  nothing twice. No sleeps: every wait is a call with a deadline.

#include "client_fixture.h"
#include "zstore_watch.h"

#include <pthread.h>
#include <signal.h>

#define TIMEOUT 5000                //  ms for a reply
#define DRAIN_TIMEOUT 30000         //  ms for a watch to catch up
#define QUIET 150                   //  ms without a change: nothing more comes
#define WINDOW 200                  //  pipelined requests in flight
#define BURST 3000                  //  writes in a burst
#define BURST_VALUE 1024            //  bytes per value in a burst
#define SMALL_HWM 4                 //  the watch's own SUB queue in loss tests

//  Loss: a few messages per subscriber at the broker, heartbeats every
//  50 ms, no fsync (bursts of thousands of writes).
static const char *s_lossy_config =
    "zstore\n"
    "    sync = off\n"
    "limits\n"
    "    events-hwm = 4\n"
    "timers\n"
    "    heartbeat = 50\n";

typedef client_fixture_t fixture_t;

//  --- Writes -------------------------------------------------------------

static uint64_t
s_delete (zstore_client_t *client, const char *group, const char *key)
{
    uint64_t rev = 0;
    client_fixture_ok (client, zstore_client_delete (client, group, key, NULL, &rev));
    return rev;
}

static uint64_t
s_delete_group (zstore_client_t *client, const char *group)
{
    uint64_t rev = 0;
    client_fixture_ok (client, zstore_client_delete_group (client, group, &rev));
    return rev;
}

//  One change of three events: two keys of group, one of other.
static uint64_t
s_txn (zstore_client_t *client, const char *group, const char *other, int round)
{
    char key [32], value [32];
    zstore_txn_t *txn = zstore_txn_new ();
    assert_non_null (txn);
    snprintf (value, sizeof value, "txn-%d", round);
    snprintf (key, sizeof key, "t%d-a", round % 7);
    assert_int_equal (zstore_txn_set (txn, group, key, value, strlen (value), NULL), ZSTORE_OK);
    snprintf (key, sizeof key, "t%d", round % 5);
    assert_int_equal (zstore_txn_set (txn, other, key, value, strlen (value), NULL), ZSTORE_OK);
    snprintf (key, sizeof key, "t%d-b", round % 7);
    assert_int_equal (zstore_txn_set (txn, group, key, value, strlen (value), NULL), ZSTORE_OK);
    uint64_t rev = 0;
    client_fixture_ok (client, zstore_client_txn (client, txn, &rev));
    zstore_txn_destroy (&txn);
    return rev;
}

//  count pipelined writes to group (keys cycling over 300), values of
//  value_size bytes; every 100th a three-event transaction touching other
//  too, and one delete. Returns the last revision.
static uint64_t
s_burst (zstore_client_t *client, const char *group, const char *other, int count,
         size_t value_size)
{
    char *value = malloc (value_size + 1);
    assert_non_null (value);
    uint64_t last = 0;
    for (int index = 0; index < count; index++) {
        char key [32];
        snprintf (key, sizeof key, "k%04d", index % 300);
        memset (value, 'a' + index % 26, value_size);
        int written = snprintf (value, value_size, "%d", index);
        if (written >= 0 && (size_t) written < value_size)
            value [written] = '.';
        client_fixture_send_set (client, group, key, value, value_size);
        if (zstore_client_pending (client) >= WINDOW) {
            uint64_t rev = client_fixture_collect (client);
            last = rev > last ? rev : last;
        }
        if (index % 100 == 99) {
            while (zstore_client_pending (client)) {
                uint64_t rev = client_fixture_collect (client);
                last = rev > last ? rev : last;
            }
            last = s_txn (client, group, other, index);
            if (index % 1000 == 999) {
                uint64_t rev = s_delete (client, group, "k0001");
                last = rev > last ? rev : last;
            }
        }
    }
    while (zstore_client_pending (client)) {
        uint64_t rev = client_fixture_collect (client);
        last = rev > last ? rev : last;
    }
    free (value);
    return last;
}

//  --- Records: what the application saw, what history holds -------------

typedef struct {
    zstore_change_type_t type;
    char *group; size_t group_size;
    char *key; size_t key_size;
    char *value; size_t value_size;
    uint64_t rev;
    uint64_t prev_rev;
    uint64_t expires_at;
    uint64_t create_rev;
} record_t;

typedef struct {
    record_t *items;
    size_t size;
    size_t capacity;
} log_t;

static char *
s_copy (const char *data, size_t size)
{
    char *copy = malloc (size + 1);
    assert_non_null (copy);
    if (size)
        memcpy (copy, data, size);
    copy [size] = 0;
    return copy;
}

static void
s_log_add (log_t *log, const zstore_change_t *change)
{
    if (log->size == log->capacity) {
        log->capacity = log->capacity ? log->capacity * 2 : 256;
        log->items = realloc (log->items, log->capacity * sizeof (record_t));
        assert_non_null (log->items);
    }
    //  The watch's strings end with a NUL not counted in their size.
    assert_int_equal (change->group [change->group_size], 0);
    assert_int_equal (change->key [change->key_size], 0);
    assert_int_equal (change->value [change->value_size], 0);
    log->items [log->size++] = (record_t) {
        .type = change->type,
        .group = s_copy (change->group, change->group_size), .group_size = change->group_size,
        .key = s_copy (change->key, change->key_size), .key_size = change->key_size,
        .value = s_copy (change->value, change->value_size), .value_size = change->value_size,
        .rev = change->rev, .prev_rev = change->prev_rev, .expires_at = change->expires_at,
        .create_rev = change->create_rev,
    };
}

static void
s_log_free (log_t *log)
{
    for (size_t index = 0; index < log->size; index++) {
        free (log->items [index].group);
        free (log->items [index].key);
        free (log->items [index].value);
    }
    free (log->items);
    memset (log, 0, sizeof (*log));
}

static zstore_change_type_t
s_type (const char *name)
{
    static const char *names [] = { "set", "delete", "delete_group", "expire" };
    for (int index = 0; index < 4; index++)
        if (streq (names [index], name))
            return (zstore_change_type_t) (index + 1);
    fail_msg ("unknown event type %s", name);
    return 0;
}

//  A history scope; any_key keeps only that key's events (and every
//  delete_group): go-store's ("*", key) on top of the scope.
typedef struct {
    const char *ns;
    const char *group;              //  as stored
    const char *key;
    const char *prefix;
    const char *any_key;
} scope_t;

static void
s_write_scope (zstore_writer_t *writer, const scope_t *scope)
{
    const char *names [] = { "ns", "group", "key", "prefix" };
    const char *values [] = { scope->ns, scope->group, scope->key, scope->prefix };
    uint32_t pairs = 0;
    for (int index = 0; index < 4; index++)
        pairs += values [index] != NULL;
    zstore_write_map (writer, pairs);
    for (int index = 0; index < 4; index++)
        if (values [index]) {
            zstore_write_key (writer, names [index]);
            zstore_write_bytes (writer, values [index], strlen (values [index]));
        }
}

//  The scope's history after rev, every page, into log.
static void
s_history (fixture_t *fixture, const scope_t *scope, uint64_t after, log_t *log)
{
    zsock_t *dealer = broker_dealer (fixture->broker);
    zstore_writer_t writer;
    zstore_writer_init (&writer);
    bool more = true;
    for (uint64_t id = 1; more; id++) {
        zstore_writer_reset (&writer);
        zstore_write_map (&writer, 5);
        zstore_write_key (&writer, "id");
        zstore_write_uint (&writer, id);
        zstore_write_key (&writer, "op");
        zstore_write_str (&writer, "history");
        zstore_write_key (&writer, "scope");
        s_write_scope (&writer, scope);
        zstore_write_key (&writer, "after");
        zstore_write_uint (&writer, after);
        zstore_write_key (&writer, "limit");
        zstore_write_uint (&writer, 1000);
        zstore_reader_t *reply = broker_call (dealer, &writer, TIMEOUT);
        assert_non_null (reply);
        assert_int_equal (reply_status (reply), ZSTORE_STATUS_OK);
        const msgpack_object_array *events = reply_array (reply, "events");
        for (uint32_t index = 0; index < events->size; index++) {
            zstore_event_body_t event;
            zstore_fields_t fields;
            assert_true (zstore_event_body_read (&events->ptr [index], &event, &fields));
            after = event.rev;
            zstore_change_type_t type = s_type (event.type);
            if (scope->any_key && type != ZSTORE_CHANGE_DELETE_GROUP
            && (event.key_size != strlen (scope->any_key)
            ||  memcmp (event.key, scope->any_key, event.key_size)))
                continue;
            zstore_change_t change = {
                .type = type,
                .group = event.group, .group_size = event.group_size,
                .key = event.key, .key_size = event.key_size,
                .value = "", .value_size = 0,
                .rev = event.rev, .prev_rev = event.prev_rev, .expires_at = event.expires_at,
            };
            //  The codec's strings point into the message: copy with NULs.
            char *group = s_copy (event.group, event.group_size);
            char *key = s_copy (event.key, event.key_size);
            char *value = s_copy (event.value, event.value_size);
            change.group = group;
            change.key = key;
            change.value = value;
            change.value_size = event.value_size;
            s_log_add (log, &change);
            free (group);
            free (key);
            free (value);
        }
        zstore_fields_t fields;
        zstore_fields_init (&fields, zstore_reader_root (reply));
        assert_true (zstore_fields_bool (&fields, "more", &more));
        zstore_reader_destroy (&reply);
    }
    zstore_writer_free (&writer);
    zsock_destroy (&dealer);
}

static bool
s_same_bytes (const char *a, size_t a_size, const char *b, size_t b_size)
{
    return a_size == b_size && (a_size == 0 || memcmp (a, b, a_size) == 0);
}

static void
s_describe (const char *what, const log_t *log, size_t index)
{
    if (index >= log->size) {
        print_message ("  %s[%zu]: (none)\n", what, index);
        return;
    }
    const record_t *record = &log->items [index];
    print_message ("  %s[%zu]: %s rev %llu %.*s/%.*s (%zu value bytes)\n", what, index,
                   zstore_change_type_name (record->type), (unsigned long long) record->rev,
                   (int) record->group_size, record->group, (int) record->key_size, record->key,
                   record->value_size);
}

//  What the application saw (from index first) must be the history,
//  event for event: type, group, key, value, rev, prev_rev, expires_at.
static void
s_assert_log_equal (const log_t *seen, size_t first, const log_t *expected, const char *name)
{
    size_t count = seen->size - first;
    for (size_t index = 0; index < count || index < expected->size; index++) {
        const record_t *a = index < count ? &seen->items [first + index] : NULL;
        const record_t *b = index < expected->size ? &expected->items [index] : NULL;
        bool same = a && b && a->type == b->type && a->rev == b->rev
                 && a->prev_rev == b->prev_rev && a->expires_at == b->expires_at
                 && s_same_bytes (a->group, a->group_size, b->group, b->group_size)
                 && s_same_bytes (a->key, a->key_size, b->key, b->key_size)
                 && s_same_bytes (a->value, a->value_size, b->value, b->value_size);
        if (!same) {
            print_message ("%s: the watch saw %zu changes, history holds %zu; first"
                           " difference at %zu\n", name, count, expected->size, index);
            s_describe ("seen", seen, first + index);
            s_describe ("history", expected, index);
            fail_msg ("%s: the watch differs from history", name);
        }
    }
}

//  Reads changes until the watch has delivered rev target, then QUIET ms
//  more: a change delivered twice would show up there.
static void
s_drain (zstore_watch_t *watch, log_t *log, uint64_t target)
{
    int64_t deadline = zclock_mono () + DRAIN_TIMEOUT;
    zstore_change_t change;
    while (zstore_watch_rev (watch) < target) {
        int64_t left = deadline - zclock_mono ();
        if (left <= 0)
            fail_msg ("the watch reached rev %llu of %llu within %d ms (%zu changes)",
                      (unsigned long long) zstore_watch_rev (watch),
                      (unsigned long long) target, DRAIN_TIMEOUT, log->size);
        int code = zstore_watch_next (watch, &change, (int) left);
        if (code == ZSTORE_OK)
            s_log_add (log, &change);
        else
        if (code != ZSTORE_TIMEOUT)
            fail_msg ("watch: %s", zstore_code_name (code));
    }
    int code;
    while ((code = zstore_watch_next (watch, &change, QUIET)) == ZSTORE_OK) {
        s_log_add (log, &change);
        if (zclock_mono () > deadline)
            fail_msg ("the watch does not stop delivering (%zu changes)", log->size);
    }
    assert_int_equal (code, ZSTORE_TIMEOUT);
}

//  Drains the watch to the last revision of its scope's history after
//  start, and asserts the two are the same. Returns how many it saw.
static size_t
s_check (fixture_t *fixture, zstore_watch_t *watch, const scope_t *scope, uint64_t start,
         const char *name)
{
    log_t expected = { 0 }, seen = { 0 };
    s_history (fixture, scope, start, &expected);
    assert_true (expected.size > 0);
    s_drain (watch, &seen, expected.items [expected.size - 1].rev);
    s_assert_log_equal (&seen, 0, &expected, name);
    size_t size = seen.size;
    s_log_free (&seen);
    s_log_free (&expected);
    return size;
}

static zstore_watch_t *
s_watch (zstore_client_t *client, const char *group, const char *key)
{
    zstore_watch_t *watch = zstore_watch_new (client, group, key);
    if (!watch)
        fail_msg ("watch (%s, %s): %s", group, key, zstore_client_error (client));
    return watch;
}

//  Shrinks the watch's own SUB queue (libzmq applies a new RCVHWM to the
//  connection already open).
static void
s_small_queue (zstore_watch_t *watch)
{
    zsock_t *sub = zstore_watch_socket (watch);
    assert_non_null (sub);
    zsock_set_rcvhwm (sub, SMALL_HWM);
}

//  --- 1. Scopes ----------------------------------------------------------

static void
test_watch_scopes_filter (void **state)
{
    fixture_t *fixture = *state;
    client_fixture_start (fixture, NULL);
    zstore_client_t *client = fixture->client;
    zstore_client_t *tenant = client_fixture_client (fixture, "ns-a");

    struct {
        const char *name;
        zstore_watch_t *watch;
        scope_t scope;
    } watches [] = {
        { "key g1/k1", s_watch (client, "g1", "k1"), { .group = "g1", .key = "k1" } },
        { "group g1", s_watch (client, "g1", "*"), { .group = "g1" } },
        { "prefix g1/k1", zstore_watch_new_prefix (client, "g1", "k1"),
          { .group = "g1", .prefix = "k1" } },
        { "namespace ns-a", zstore_watch_new_namespace (client, "ns-a"), { .ns = "ns-a" } },
        { "(*, k1)", s_watch (client, "*", "k1"), { .any_key = "k1" } },
        { "everything", s_watch (client, "*", "*"), { 0 } },
        { "ns-a: key g1/k1", s_watch (tenant, "g1", "k1"), { .group = "ns-a:g1", .key = "k1" } },
        { "ns-a: (*, *)", s_watch (tenant, "*", "*"), { .ns = "ns-a" } },
        { "ns-a: (*, k1)", s_watch (tenant, "*", "k1"), { .ns = "ns-a", .any_key = "k1" } },
    };
    size_t count = sizeof watches / sizeof watches [0];
    uint64_t start = zstore_watch_rev (watches [0].watch);
    for (size_t index = 0; index < count; index++) {
        assert_non_null (watches [index].watch);
        assert_int_equal (zstore_watch_rev (watches [index].watch), start);
    }
    //  Names chosen to defeat a sloppy filter: k10 starts with k1, g10
    //  with g1, ns-ab with ns-a.
    const char *groups [] = { "g1", "g10", "g2", "ns-a:g1", "ns-ab:g1", "ns-a:g2" };
    const char *keys [] = { "k1", "k10", "k2", "x", "" };
    for (size_t group = 0; group < 6; group++)
        for (size_t key = 0; key < 5; key++)
            client_fixture_set (client, groups [group], keys [key], groups [group]);
    client_fixture_set (tenant, "g1", "k1", "tenant");
    s_txn (client, "g1", "g2", 1);
    s_delete (client, "g1", "k2");
    s_delete (client, "g1", "k1");
    s_delete_group (client, "g2");
    s_delete_group (tenant, "g1");
    s_delete_group (client, "g1");
    uint64_t again = client_fixture_set (client, "g1", "k1", "again");
    client_fixture_set (tenant, "g1", "k1", "again");
    zstore_write_opts_t ttl = ZSTORE_WRITE_OPTS;
    ttl.has_ttl = true;
    ttl.ttl_ms = 3600000;
    client_fixture_ok (client, zstore_client_set (client, "g1", "k10", "ttl", 3, &ttl, NULL));

    for (size_t index = 0; index < count; index++) {
        size_t seen = s_check (fixture, watches [index].watch, &watches [index].scope, start,
                               watches [index].name);
        assert_true (seen > 0);
        assert_int_equal (zstore_watch_replays (watches [index].watch), 0);
        assert_int_equal (zstore_watch_resyncs (watches [index].watch), 0);
    }
    //  The oracle is history; and by construction: the key watch saw only
    //  g1/k1 (and g1's delete_group), with the TTL set carried over.
    zstore_watch_t *key_watch = zstore_watch_new (client, "g1", "k1");
    assert_non_null (key_watch);
    client_fixture_set (client, "g1", "k10", "not mine");
    client_fixture_set (client, "g10", "k1", "not mine");
    client_fixture_ok (client, zstore_client_set (client, "g1", "k1", "mine", 4, &ttl, NULL));
    zstore_change_t change;
    assert_int_equal (zstore_watch_next (key_watch, &change, TIMEOUT), ZSTORE_OK);
    assert_int_equal (change.type, ZSTORE_CHANGE_SET);
    assert_string_equal (change.group, "g1");
    assert_string_equal (change.key, "k1");
    assert_string_equal (change.value, "mine");
    assert_true (change.expires_at > 0);
    assert_int_equal (change.prev_rev, again);
    assert_int_equal (change.create_rev, 0);        //  unknown: the key lived on
    assert_int_equal (zstore_watch_next (key_watch, &change, QUIET), ZSTORE_TIMEOUT);
    zstore_watch_destroy (&key_watch);

    for (size_t index = 0; index < count; index++)
        zstore_watch_destroy (&watches [index].watch);
    zstore_client_destroy (&tenant);
}

static void
test_watch_arguments (void **state)
{
    fixture_t *fixture = *state;
    client_fixture_start (fixture, NULL);
    assert_null (zstore_watch_new (NULL, "g", "k"));
    assert_null (zstore_watch_new (fixture->client, NULL, "k"));
    assert_null (zstore_watch_new (fixture->client, "g", NULL));
    assert_null (zstore_watch_new_namespace (fixture->client, "bad:ns"));
    assert_null (zstore_watch_new_namespace (fixture->client, ""));
    assert_null (zstore_watch_new_prefix (fixture->client, "g", NULL));
    zstore_watch_t *watch = NULL;
    zstore_watch_destroy (&watch);
    zstore_change_t change;
    assert_int_equal (zstore_watch_next (NULL, &change, 0), ZSTORE_ARGUMENT);
    assert_string_equal (zstore_change_type_name (ZSTORE_CHANGE_DELETE_GROUP), "delete_group");
    assert_string_equal (zstore_change_type_name (ZSTORE_CHANGE_RESYNC), "resync");
    assert_string_equal (zstore_change_type_name (ZSTORE_CHANGE_STATE), "state");
    //  No broker on the endpoints: no marker, NULL within the timeout. (ipc
    //  paths in our own directory: a tcp port freed by a killed broker
    //  could be bound again by another test's broker meanwhile.)
    char *requests = testkit_path (fixture->dir, "nobody-requests");
    char *events = testkit_path (fixture->dir, "nobody-events");
    char requests_endpoint [300], events_endpoint [300];
    snprintf (requests_endpoint, sizeof requests_endpoint, "ipc://%s", requests);
    snprintf (events_endpoint, sizeof events_endpoint, "ipc://%s", events);
    zstore_client_t *lonely = zstore_client_new (requests_endpoint, events_endpoint);
    assert_non_null (lonely);
    zstore_client_set_timeout (lonely, 300);
    assert_null (zstore_watch_new (lonely, "g", "*"));
    assert_int_equal (strlen (zstore_client_error (lonely)) > 0, 1);
    zstore_client_destroy (&lonely);
    free (requests);
    free (events);
}

//  A watch made in one thread and read in another, and one read the way an
//  event loop does: its socket in a poller, next with timeout 0.
typedef struct {
    zstore_watch_t *watch;
    size_t seen;
    int code;
} reader_t;

static void *
s_reader (void *arg)
{
    reader_t *reader = arg;
    zstore_change_t change;
    while ((reader->code = zstore_watch_next (reader->watch, &change, TIMEOUT)) == ZSTORE_OK) {
        reader->seen++;
        if (streq (change.key, "end"))
            break;
    }
    return NULL;
}

static void
test_watch_other_thread_and_poller (void **state)
{
    fixture_t *fixture = *state;
    client_fixture_start (fixture, NULL);
    reader_t reader = { s_watch (fixture->client, "t", "*"), 0, 0 };
    zstore_watch_t *polled = s_watch (fixture->client, "t", "*");
    pthread_t thread;
    assert_int_equal (pthread_create (&thread, NULL, s_reader, &reader), 0);
    for (int index = 0; index < 100; index++)
        client_fixture_set (fixture->client, "t", "k", "v");
    client_fixture_set (fixture->client, "t", "end", "v");
    assert_int_equal (pthread_join (thread, NULL), 0);
    assert_int_equal (reader.code, ZSTORE_OK);
    assert_int_equal (reader.seen, 101);
    zstore_watch_destroy (&reader.watch);

    zpoller_t *poller = zpoller_new (zstore_watch_socket (polled), NULL);
    size_t seen = 0;
    int64_t deadline = zclock_mono () + TIMEOUT;
    while (seen < 101 && zclock_mono () < deadline) {
        zpoller_wait (poller, 100);
        zstore_change_t change;
        while (zstore_watch_next (polled, &change, 0) == ZSTORE_OK)
            seen++;
    }
    assert_int_equal (seen, 101);
    zpoller_destroy (&poller);

    //  SIGINT (czmq's handler sets zsys_interrupted): next gives up at once.
    raise (SIGINT);
    assert_int_equal (zstore_watch_next (polled, &(zstore_change_t) { 0 }, TIMEOUT),
                      ZSTORE_INTERRUPTED);
    zsys_interrupted = 0;
    zstore_watch_destroy (&polled);
}

//  --- 2. Losses ----------------------------------------------------------

//  Thousands of writes against a few messages of queue at each end: most
//  events are dropped, and each watch must still see every one.
static void
test_watch_tiny_hwm_burst (void **state)
{
    fixture_t *fixture = *state;
    client_fixture_start (fixture, s_lossy_config);
    zstore_watch_t *group = s_watch (fixture->client, "burst", "*");
    zstore_watch_t *prefix = zstore_watch_new_prefix (fixture->client, "burst", "k00");
    zstore_watch_t *all = s_watch (fixture->client, "*", "*");
    assert_non_null (prefix);
    s_small_queue (group);
    s_small_queue (prefix);
    s_small_queue (all);
    uint64_t start = zstore_watch_rev (group);
    //  A few read live first, so losses happen mid-stream.
    client_fixture_set (fixture->client, "burst", "k0000", "first");
    zstore_change_t change;
    assert_int_equal (zstore_watch_next (group, &change, TIMEOUT), ZSTORE_OK);
    assert_string_equal (change.value, "first");
    s_burst (fixture->client, "burst", "other", BURST, BURST_VALUE);
    log_t seen = { 0 }, expected = { 0 };
    s_log_add (&seen, &change);
    s_history (fixture, &(scope_t) { .group = "burst" }, start, &expected);
    s_drain (group, &seen, expected.items [expected.size - 1].rev);
    s_assert_log_equal (&seen, 0, &expected, "group");
    s_log_free (&seen);
    s_log_free (&expected);
    s_check (fixture, prefix, &(scope_t) { .group = "burst", .prefix = "k00" }, start, "prefix");
    s_check (fixture, all, &(scope_t) { 0 }, start, "everything");
    //  Losses did happen (else this test proves nothing), and were replayed.
    assert_true (zstore_watch_replays (group) > 0);
    assert_true (zstore_watch_replays (prefix) > 0);
    assert_true (zstore_watch_replays (all) > 0);
    assert_int_equal (zstore_watch_resyncs (group), 0);
    zstore_watch_destroy (&group);
    zstore_watch_destroy (&prefix);
    zstore_watch_destroy (&all);
}

//  The reader does not call next at all during a burst.
static void
test_watch_paused_reader (void **state)
{
    fixture_t *fixture = *state;
    client_fixture_start (fixture, "zstore\n    sync = off\ntimers\n    heartbeat = 50\n");
    zstore_watch_t *watch = s_watch (fixture->client, "paused", "*");
    zstore_watch_t *key = s_watch (fixture->client, "paused", "k0007");
    uint64_t start = zstore_watch_rev (watch);
    s_burst (fixture->client, "paused", "elsewhere", BURST, 64);
    s_check (fixture, watch, &(scope_t) { .group = "paused" }, start, "group");
    s_check (fixture, key, &(scope_t) { .group = "paused", .key = "k0007" }, start, "key");
    zstore_watch_destroy (&watch);
    zstore_watch_destroy (&key);
}

//  SIGKILL with writes in flight, restart on the same endpoints: a new
//  epoch, changes committed but maybe never published; then new writes.
static void
test_watch_broker_restart (void **state)
{
    fixture_t *fixture = *state;
    client_fixture_start_restartable (fixture,
                                      "zstore\n    sync = normal\ntimers\n    heartbeat = 50\n");
    zstore_watch_t *group = s_watch (fixture->client, "r", "*");
    zstore_watch_t *all = s_watch (fixture->client, "*", "*");
    zstore_watch_t *key = s_watch (fixture->client, "r", "k0002");
    uint64_t start = zstore_watch_rev (group);
    s_burst (fixture->client, "r", "r2", 300, 32);
    log_t seen = { 0 };
    s_drain (group, &seen, 1);              //  the watch is mid-stream
    //  Pipelined writes, some answered, the rest in flight at the kill.
    for (int index = 0; index < 500; index++) {
        char key_name [32];
        snprintf (key_name, sizeof key_name, "k%04d", index % 10);
        client_fixture_send_set (fixture->client, "r", key_name, "in flight", 9);
    }
    client_fixture_collect (fixture->client);
    client_fixture_crash_restart (fixture);
    uint64_t after_restart = s_burst (fixture->client, "r", "r2", 200, 32);
    client_fixture_set (fixture->client, "r", "k0002", "last");
    log_t expected = { 0 };
    s_history (fixture, &(scope_t) { .group = "r" }, start, &expected);
    assert_true (expected.items [expected.size - 1].rev > after_restart);
    s_drain (group, &seen, expected.items [expected.size - 1].rev);
    s_assert_log_equal (&seen, 0, &expected, "group");
    s_log_free (&seen);
    s_log_free (&expected);
    s_check (fixture, all, &(scope_t) { 0 }, start, "everything");
    s_check (fixture, key, &(scope_t) { .group = "r", .key = "k0002" }, start, "key");
    //  The new epoch was noticed and repaired.
    assert_true (zstore_watch_replays (group) > 0);
    assert_true (zstore_watch_replays (all) > 0);
    assert_true (zstore_watch_replays (key) > 0);
    zstore_watch_destroy (&group);
    zstore_watch_destroy (&all);
    zstore_watch_destroy (&key);
}

//  A watch created while a second client's pipelined writes pour in: it
//  starts at its marker and sees exactly what follows it.
static void
test_watch_join_during_writes (void **state)
{
    fixture_t *fixture = *state;
    client_fixture_start (fixture, "zstore\n    sync = off\nlimits\n    events-hwm = 50\n");
    zstore_client_t *writer = client_fixture_client (fixture, NULL);
    for (int index = 0; index < BURST; index++) {
        char key [32];
        snprintf (key, sizeof key, "k%04d", index % 100);
        client_fixture_send_set (writer, "join", key, key, strlen (key));
    }
    client_fixture_collect (writer);                     //  the broker is at it
    zstore_watch_t *group = s_watch (fixture->client, "join", "*");
    zstore_watch_t *all = s_watch (fixture->client, "*", "*");
    uint64_t group_start = zstore_watch_rev (group), all_start = zstore_watch_rev (all);
    uint64_t last = 0;
    while (zstore_client_pending (writer))
        last = client_fixture_collect (writer);
    last = client_fixture_set (writer, "join", "end", "end");
    assert_true (group_start < last && all_start < last);
    s_check (fixture, group, &(scope_t) { .group = "join" }, group_start, "group");
    s_check (fixture, all, &(scope_t) { 0 }, all_start, "everything");
    zstore_watch_destroy (&group);
    zstore_watch_destroy (&all);
    zstore_client_destroy (&writer);
}

//  A burst whose tail is dropped, then silence: no later event reveals
//  that loss. What the watch notices first depends on the kernel's
//  buffering (often a gap mid-burst, else a beacon or heartbeat); each
//  scope must end with the last write. test_watch_lost_tail_revealed
//  takes exactly the last event away, so only control messages can tell.
static void
test_watch_lost_last_event (void **state)
{
    fixture_t *fixture = *state;
    client_fixture_start (fixture, s_lossy_config);
    zstore_watch_t *group = s_watch (fixture->client, "ns-t:tail", "*");
    zstore_watch_t *key = s_watch (fixture->client, "ns-t:tail", "last");
    zstore_watch_t *all = s_watch (fixture->client, "*", "*");
    zstore_watch_t *ns = zstore_watch_new_namespace (fixture->client, "ns-t");
    assert_non_null (ns);
    s_small_queue (group);
    s_small_queue (key);
    s_small_queue (all);
    s_small_queue (ns);
    uint64_t start = zstore_watch_rev (group);
    s_burst (fixture->client, "ns-t:tail", "other", BURST, BURST_VALUE);
    client_fixture_set (fixture->client, "ns-t:tail", "last", "last");
    s_check (fixture, group, &(scope_t) { .group = "ns-t:tail" }, start, "group");
    s_check (fixture, key, &(scope_t) { .group = "ns-t:tail", .key = "last" }, start, "key");
    s_check (fixture, all, &(scope_t) { 0 }, start, "everything");
    s_check (fixture, ns, &(scope_t) { .ns = "ns-t" }, start, "namespace");
    assert_true (zstore_watch_replays (group) > 0);
    assert_true (zstore_watch_replays (key) > 0);
    assert_true (zstore_watch_replays (all) > 0);
    assert_true (zstore_watch_replays (ns) > 0);
    zstore_watch_destroy (&group);
    zstore_watch_destroy (&key);
    zstore_watch_destroy (&all);
    zstore_watch_destroy (&ns);
}

//  Takes messages off the watch's own SUB, as ZeroMQ drops them, until it
//  has taken one of class first, then (if then is not 0) one of class then.
static void
s_steal (zstore_watch_t *watch, char first, char then)
{
    zsock_t *sub = zstore_watch_socket (watch);
    zpoller_t *poller = zpoller_new (sub, NULL);
    int64_t deadline = zclock_mono () + TIMEOUT;
    char wanted = first;
    while (wanted) {
        int64_t left = deadline - zclock_mono ();
        if (left <= 0 || !zpoller_wait (poller, (int) left))
            fail_msg ("nothing of class '%c' to steal within %d ms", wanted, TIMEOUT);
        zmsg_t *message = zmsg_recv (sub);
        assert_non_null (message);
        char topic_class = (char) zframe_data (zmsg_first (message)) [0];
        zmsg_destroy (&message);
        if (topic_class == wanted)
            wanted = wanted == first ? then : 0;
    }
    zpoller_destroy (&poller);
}

//  The next change must be this set of group/key at rev.
static void
s_expect_set (zstore_watch_t *watch, const char *group, const char *key, uint64_t rev)
{
    zstore_change_t change;
    int code = zstore_watch_next (watch, &change, TIMEOUT);
    if (code != ZSTORE_OK)
        fail_msg ("expected the set of %s/%s at rev %llu: %s", group, key,
                  (unsigned long long) rev, zstore_code_name (code));
    assert_int_equal (change.type, ZSTORE_CHANGE_SET);
    assert_string_equal (change.group, group);
    assert_string_equal (change.key, key);
    assert_int_equal (change.rev, rev);
}

//  The last event is taken off each watch's socket, then nothing happens:
//  only control messages can tell. Everything: the heartbeat's seq. A
//  group (a key) or namespace: its beacon's count; then, the beacon lost
//  as well, the heartbeat after the one that owed it.
static void
test_watch_lost_tail_revealed (void **state)
{
    fixture_t *fixture = *state;
    client_fixture_start (fixture, "timers\n    heartbeat = 50\n");
    zstore_watch_t *watches [] = {
        s_watch (fixture->client, "ns-t:tail", "*"),
        s_watch (fixture->client, "ns-t:tail", "last"),
        zstore_watch_new_namespace (fixture->client, "ns-t"),
        s_watch (fixture->client, "*", "*"),
    };
    const char beacons [] = { 'b', 'b', 'n', 0 };
    size_t count = sizeof watches / sizeof watches [0];
    uint64_t rev = client_fixture_set (fixture->client, "ns-t:tail", "last", "live");
    for (size_t index = 0; index < count; index++) {
        assert_non_null (watches [index]);
        s_expect_set (watches [index], "ns-t:tail", "last", rev);
    }
    //  The last event lost: the next beacon (heartbeat) shows a count beyond.
    rev = client_fixture_set (fixture->client, "ns-t:tail", "last", "stolen");
    for (size_t index = 0; index < count; index++) {
        s_steal (watches [index], 'd', 0);
        s_expect_set (watches [index], "ns-t:tail", "last", rev);
        assert_int_equal (zstore_watch_replays (watches [index]), 1);
    }
    //  One event read live (the group is dirty), the next one lost with the
    //  beacon that would have told: the heartbeat after shows it missing.
    rev = client_fixture_set (fixture->client, "ns-t:tail", "last", "live again");
    for (size_t index = 0; index < count; index++)
        s_expect_set (watches [index], "ns-t:tail", "last", rev);
    rev = client_fixture_set (fixture->client, "ns-t:tail", "last", "stolen again");
    for (size_t index = 0; index < count; index++) {
        s_steal (watches [index], 'd', beacons [index]);
        s_expect_set (watches [index], "ns-t:tail", "last", rev);
        assert_int_equal (zstore_watch_replays (watches [index]), 2);
        assert_int_equal (zstore_watch_next (watches [index], &(zstore_change_t) { 0 }, QUIET),
                          ZSTORE_TIMEOUT);
        zstore_watch_destroy (&watches [index]);
    }
}

//  A change of three events whose middle one is lost after the first was
//  delivered: the replay completes the change, without the first again.
static void
test_watch_change_cut_by_loss (void **state)
{
    fixture_t *fixture = *state;
    client_fixture_start (fixture, NULL);
    zstore_watch_t *watch = s_watch (fixture->client, "cut", "*");
    zstore_txn_t *txn = zstore_txn_new ();
    const char *keys [] = { "a", "b", "c" };
    for (int index = 0; index < 3; index++)
        assert_int_equal (zstore_txn_set (txn, "cut", keys [index], keys [index], 1, NULL),
                          ZSTORE_OK);
    uint64_t rev = 0;
    client_fixture_ok (fixture->client, zstore_client_txn (fixture->client, txn, &rev));
    zstore_txn_destroy (&txn);
    s_expect_set (watch, "cut", "a", rev);
    s_steal (watch, 'd', 0);
    s_expect_set (watch, "cut", "b", rev);
    s_expect_set (watch, "cut", "c", rev);
    assert_int_equal (zstore_watch_replays (watch), 1);
    assert_int_equal (zstore_watch_next (watch, &(zstore_change_t) { 0 }, QUIET), ZSTORE_TIMEOUT);
    assert_int_equal (zstore_watch_rev (watch), rev);
    zstore_watch_destroy (&watch);
}

//  The broker keeps 20 events: after a lossy burst history is too old,
//  the watch resyncs (RESYNC, the scope as STATE), then goes on live.
static void
test_watch_history_too_old (void **state)
{
    fixture_t *fixture = *state;
    client_fixture_start (fixture, "zstore\n    sync = off\nlimits\n    events-hwm = 4\n"
                      "timers\n    heartbeat = 50\nhistory\n    events = 20\n");
    zstore_watch_t *watch = s_watch (fixture->client, "old", "*");
    s_small_queue (watch);
    uint64_t last = s_burst (fixture->client, "old", "other", BURST, BURST_VALUE);
    log_t seen = { 0 };
    s_drain (watch, &seen, last);
    assert_true (zstore_watch_resyncs (watch) > 0);
    //  Before the resync: live events in order; then RESYNC at the last
    //  revision; then the snapshot, which must be the broker's now.
    size_t resync = seen.size;
    for (size_t index = 0; index < seen.size; index++)
        if (seen.items [index].type == ZSTORE_CHANGE_RESYNC)
            resync = index;
    assert_true (resync < seen.size);
    for (size_t index = 1; index < resync; index++)
        assert_true (seen.items [index].rev >= seen.items [index - 1].rev);
    uint64_t resync_rev = seen.items [resync].rev;
    assert_true (resync_rev >= last);
    zstore_entries_t entries;
    uint64_t snapshot_rev = 0;
    int code = zstore_client_snapshot (fixture->client, NULL, "old", NULL, NULL, &entries,
                                       &snapshot_rev);
    client_fixture_ok (fixture->client, code);
    assert_int_equal (snapshot_rev, resync_rev);
    assert_int_equal (seen.size - resync - 1, entries.size);
    for (size_t index = 0; index < entries.size; index++) {
        record_t *state_record = &seen.items [resync + 1 + index];
        zstore_entry_t *entry = &entries.entries [index];
        assert_int_equal (state_record->type, ZSTORE_CHANGE_STATE);
        assert_true (s_same_bytes (state_record->group, state_record->group_size, entry->group,
                                   entry->group_size));
        assert_true (s_same_bytes (state_record->key, state_record->key_size, entry->key,
                                   entry->key_size));
        assert_true (s_same_bytes (state_record->value, state_record->value_size, entry->value,
                                   entry->value_size));
        assert_int_equal (state_record->rev, entry->mod_rev);
        assert_int_equal (state_record->create_rev, entry->create_rev);
    }
    zstore_entries_clear (&entries);
    //  Live again: a few changes, all within the history kept.
    size_t live = seen.size;
    for (int index = 0; index < 5; index++)
        client_fixture_set (fixture->client, "old", "after", "resync");
    s_delete_group (fixture->client, "old");
    log_t expected = { 0 };
    s_history (fixture, &(scope_t) { .group = "old" }, resync_rev, &expected);
    assert_int_equal (expected.size, 6);
    s_drain (watch, &seen, expected.items [5].rev);
    s_assert_log_equal (&seen, live, &expected, "after the resync");
    s_log_free (&seen);
    s_log_free (&expected);
    zstore_watch_destroy (&watch);
}

int
main (void)
{
#define TEST(name) \
    cmocka_unit_test_setup_teardown (name, client_fixture_setup, client_fixture_teardown)
    const struct CMUnitTest tests [] = {
        TEST (test_watch_scopes_filter),
        TEST (test_watch_arguments),
        TEST (test_watch_other_thread_and_poller),
        TEST (test_watch_tiny_hwm_burst),
        TEST (test_watch_paused_reader),
        TEST (test_watch_broker_restart),
        TEST (test_watch_join_during_writes),
        TEST (test_watch_lost_last_event),
        TEST (test_watch_lost_tail_revealed),
        TEST (test_watch_change_cut_by_loss),
        TEST (test_watch_history_too_old),
    };
    return cmocka_run_group_tests_name ("watch", tests, NULL, NULL);
}
