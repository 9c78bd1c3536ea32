//  The broker over real sockets: requests and replies, bad input of every
//  kind (each gets its error and the broker keeps serving), events, stats,
//  orderly shutdown by signal, restart with a new epoch.

#include "broker_harness.h"

#include <signal.h>
#include <sys/wait.h>

#define TIMEOUT 5000

typedef struct {
    char *dir;
    char *db_path;
    broker_t *broker;
    zsock_t *dealer;
    zstore_writer_t request;
} fixture_t;

static int
s_setup (void **state)
{
    fixture_t *fixture = calloc (1, sizeof (fixture_t));
    fixture->dir = testkit_tempdir ();
    fixture->db_path = testkit_path (fixture->dir, "broker.db");
    fixture->broker = broker_start (fixture->db_path, NULL, NULL, NULL);
    fixture->dealer = broker_dealer (fixture->broker);
    zstore_writer_init (&fixture->request);
    *state = fixture;
    return 0;
}

static int
s_teardown (void **state)
{
    fixture_t *fixture = *state;
    zsock_destroy (&fixture->dealer);
    if (fixture->broker)
        broker_stop (&fixture->broker, SIGTERM);
    zstore_writer_free (&fixture->request);
    testkit_tempdir_remove (&fixture->dir);
    free (fixture->db_path);
    free (fixture);
    return 0;
}

//  Request builders: a map with op and the given byte fields.
static zstore_writer_t *
s_request (fixture_t *fixture, const char *op, uint32_t extra)
{
    zstore_writer_t *writer = &fixture->request;
    zstore_writer_reset (writer);
    zstore_write_map (writer, 2 + extra);
    zstore_write_key (writer, "id");
    zstore_write_uint (writer, 42);
    zstore_write_key (writer, "op");
    zstore_write_str (writer, op);
    return writer;
}

static void
s_bytes (zstore_writer_t *writer, const char *field, const char *value, size_t size)
{
    zstore_write_key (writer, field);
    zstore_write_bytes (writer, value, size);
}

static zstore_reader_t *
s_call (fixture_t *fixture)
{
    zstore_reader_t *reply = broker_call (fixture->dealer, &fixture->request, TIMEOUT);
    assert_non_null (reply);
    return reply;
}

static uint64_t
s_set (fixture_t *fixture, const char *group, const char *key, const char *value)
{
    zstore_writer_t *writer = s_request (fixture, "set", 3);
    s_bytes (writer, "group", group, strlen (group));
    s_bytes (writer, "key", key, strlen (key));
    s_bytes (writer, "value", value, strlen (value));
    zstore_reader_t *reply = s_call (fixture);
    assert_int_equal (reply_status (reply), 0);
    uint64_t revision = reply_uint (reply, "rev");
    zstore_reader_destroy (&reply);
    return revision;
}

//  The broker answers and its message has the status name and text.
static void
s_assert_error (zstore_reader_t *reply, int status, const char *text)
{
    assert_non_null (reply);
    assert_int_equal (reply_status (reply), status);
    size_t size = 0;
    const char *code = reply_bytes (reply, "code", &size);
    assert_non_null (code);
    assert_int_equal (size, strlen (zstore_status_name (status)));
    assert_memory_equal (code, zstore_status_name (status), size);
    const char *error = reply_bytes (reply, "error", &size);
    assert_non_null (error);
    char message [512];
    snprintf (message, sizeof message, "%.*s", (int) size, error);
    if (!strstr (message, text))
        fail_msg ("error \"%s\" does not contain \"%s\"", message, text);
}

static void
s_assert_still_serving (fixture_t *fixture)
{
    s_request (fixture, "ping", 0);
    zstore_reader_t *reply = s_call (fixture);
    assert_int_equal (reply_status (reply), 0);
    assert_int_equal (reply_uint (reply, "epoch"), fixture->broker->epoch);
    zstore_reader_destroy (&reply);
}

//  --- Requests -----------------------------------------------------------

static void
test_broker_set_get_delete (void **state)
{
    fixture_t *fixture = *state;
    uint64_t first = s_set (fixture, "config", "colour", "blue");
    uint64_t second = s_set (fixture, "config", "colour", "red");
    assert_int_equal (second, first + 1);

    zstore_writer_t *writer = s_request (fixture, "get", 2);
    s_bytes (writer, "group", "config", 6);
    s_bytes (writer, "key", "colour", 6);
    zstore_reader_t *reply = s_call (fixture);
    assert_int_equal (reply_status (reply), 0);
    assert_int_equal (reply_uint (reply, "id"), 42);
    size_t size;
    const char *value = reply_bytes (reply, "value", &size);
    assert_int_equal (size, 3);
    assert_memory_equal (value, "red", 3);
    assert_int_equal (reply_uint (reply, "create_rev"), first);
    assert_int_equal (reply_uint (reply, "mod_rev"), second);
    zstore_reader_destroy (&reply);

    writer = s_request (fixture, "delete", 3);
    s_bytes (writer, "group", "config", 6);
    s_bytes (writer, "key", "colour", 6);
    zstore_write_key (writer, "if_rev");
    zstore_write_uint (writer, first);          //  stale
    reply = s_call (fixture);
    s_assert_error (reply, ZSTORE_STATUS_CONFLICT, "revision mismatch");
    zstore_reader_destroy (&reply);

    writer = s_request (fixture, "delete", 2);
    s_bytes (writer, "group", "config", 6);
    s_bytes (writer, "key", "colour", 6);
    reply = s_call (fixture);
    assert_int_equal (reply_status (reply), 0);
    assert_int_equal (reply_uint (reply, "rev"), second + 1);
    zstore_reader_destroy (&reply);

    writer = s_request (fixture, "get", 2);
    s_bytes (writer, "group", "config", 6);
    s_bytes (writer, "key", "colour", 6);
    reply = s_call (fixture);
    s_assert_error (reply, ZSTORE_STATUS_NOT_FOUND, "store.Get: config/colour: store: not found");
    zstore_reader_destroy (&reply);
}

//  A REQ client (empty delimiter frame) is answered too.
static void
test_broker_req_client (void **state)
{
    fixture_t *fixture = *state;
    zsock_t *req = zsock_new_req (fixture->broker->requests);
    s_request (fixture, "ping", 0);
    zframe_t *frame = zframe_new (fixture->request.buffer.data, fixture->request.buffer.size);
    assert_int_equal (zframe_send (&frame, req, 0), 0);
    zpoller_t *poller = zpoller_new (req, NULL);
    assert_ptr_equal (zpoller_wait (poller, TIMEOUT), req);
    zpoller_destroy (&poller);
    frame = zframe_recv (req);
    zstore_reader_t *reply = zstore_reader_new (zframe_data (frame), zframe_size (frame), NULL);
    assert_int_equal (reply_status (reply), 0);
    zstore_reader_destroy (&reply);
    zframe_destroy (&frame);
    zsock_destroy (&req);
}

//  Many requests in flight on one DEALER; replies matched by id.
static void
test_broker_pipelined_requests (void **state)
{
    fixture_t *fixture = *state;
    for (uint64_t id = 1; id <= 100; id++) {
        zstore_writer_t *writer = &fixture->request;
        zstore_writer_reset (writer);
        zstore_write_map (writer, 5);
        zstore_write_key (writer, "id");
        zstore_write_uint (writer, id);
        zstore_write_key (writer, "op");
        zstore_write_str (writer, "set");
        s_bytes (writer, "group", "g", 1);
        char key [16];
        snprintf (key, sizeof key, "k%03d", (int) id);
        s_bytes (writer, "key", key, strlen (key));
        s_bytes (writer, "value", key, strlen (key));
        zframe_t *frame = zframe_new (writer->buffer.data, writer->buffer.size);
        assert_int_equal (zframe_send (&frame, fixture->dealer, 0), 0);
    }
    bool seen [101] = { false };
    int received = 0;
    zpoller_t *poller = zpoller_new (fixture->dealer, NULL);
    while (received < 100 && zpoller_wait (poller, TIMEOUT)) {
        zframe_t *frame = zframe_recv (fixture->dealer);
        zstore_reader_t *reply = zstore_reader_new (zframe_data (frame), zframe_size (frame),
                                                    NULL);
        zframe_destroy (&frame);
        if (reply_status (reply) == 0) {
            uint64_t id = reply_uint (reply, "id");
            assert_true (id >= 1 && id <= 100);
            assert_false (seen [id]);
            seen [id] = true;
            received++;
        }
        zstore_reader_destroy (&reply);
    }
    zpoller_destroy (&poller);
    assert_int_equal (received, 100);
}

//  --- Bad input: an error reply each, and the broker keeps serving --------

static void
test_broker_rejects_malformed_msgpack (void **state)
{
    fixture_t *fixture = *state;
    const char garbage [] = "\xc1\xff\x00 not msgpack";
    zstore_reader_t *reply = broker_call_raw (fixture->dealer, garbage, sizeof garbage, TIMEOUT);
    s_assert_error (reply, ZSTORE_STATUS_BAD_REQUEST, "");
    zstore_reader_destroy (&reply);
    const char truncated [] = "\x82\xa2id";         //  a map that ends early
    reply = broker_call_raw (fixture->dealer, truncated, sizeof truncated - 1, TIMEOUT);
    s_assert_error (reply, ZSTORE_STATUS_BAD_REQUEST, "");
    zstore_reader_destroy (&reply);
    const char array [] = "\x92\x01\x02";           //  not a map
    reply = broker_call_raw (fixture->dealer, array, sizeof array - 1, TIMEOUT);
    s_assert_error (reply, ZSTORE_STATUS_BAD_REQUEST, "map");
    zstore_reader_destroy (&reply);
    reply = broker_call_raw (fixture->dealer, "", 0, TIMEOUT);
    s_assert_error (reply, ZSTORE_STATUS_BAD_REQUEST, "");
    zstore_reader_destroy (&reply);
    s_assert_still_serving (fixture);
}

static void
test_broker_rejects_wrong_and_missing_fields (void **state)
{
    fixture_t *fixture = *state;
    zstore_writer_t *writer = s_request (fixture, "get", 1);
    s_bytes (writer, "group", "g", 1);                          //  no key
    zstore_reader_t *reply = s_call (fixture);
    s_assert_error (reply, ZSTORE_STATUS_BAD_REQUEST, "field 'key' is missing");
    zstore_reader_destroy (&reply);

    writer = s_request (fixture, "set", 3);
    s_bytes (writer, "group", "g", 1);
    s_bytes (writer, "key", "k", 1);
    zstore_write_key (writer, "value");
    zstore_write_uint (writer, 7);                              //  not bytes
    reply = s_call (fixture);
    s_assert_error (reply, ZSTORE_STATUS_BAD_REQUEST, "field 'value'");
    zstore_reader_destroy (&reply);

    writer = s_request (fixture, "get_page", 2);
    s_bytes (writer, "group", "g", 1);
    zstore_write_key (writer, "limit");
    zstore_write_int (writer, -1);                              //  negative
    reply = s_call (fixture);
    s_assert_error (reply, ZSTORE_STATUS_BAD_REQUEST, "field 'limit'");
    zstore_reader_destroy (&reply);

    zstore_writer_reset (writer);                               //  no op at all
    zstore_write_map (writer, 1);
    zstore_write_key (writer, "id");
    zstore_write_uint (writer, 1);
    reply = s_call (fixture);
    s_assert_error (reply, ZSTORE_STATUS_BAD_REQUEST, "field 'op' is missing");
    zstore_reader_destroy (&reply);
    s_assert_still_serving (fixture);
}

static void
test_broker_rejects_unknown_op_version_namespace (void **state)
{
    fixture_t *fixture = *state;
    s_request (fixture, "frobnicate", 0);
    zstore_reader_t *reply = s_call (fixture);
    s_assert_error (reply, ZSTORE_STATUS_UNKNOWN_OP, "unknown op \"frobnicate\"");
    zstore_reader_destroy (&reply);

    zstore_writer_t *writer = s_request (fixture, "ping", 1);
    zstore_write_key (writer, "v");
    zstore_write_uint (writer, 99);
    reply = s_call (fixture);
    s_assert_error (reply, ZSTORE_STATUS_UNSUPPORTED_VERSION, "version 99");
    zstore_reader_destroy (&reply);

    writer = s_request (fixture, "get", 3);
    zstore_write_key (writer, "ns");
    zstore_write_str (writer, "tenant_a");                      //  '_' is not allowed
    s_bytes (writer, "group", "g", 1);
    s_bytes (writer, "key", "k", 1);
    reply = s_call (fixture);
    s_assert_error (reply, ZSTORE_STATUS_INVALID, "namespace \"tenant_a\" is invalid");
    zstore_reader_destroy (&reply);
    s_assert_still_serving (fixture);
}

static void
test_broker_rejects_oversized_request (void **state)
{
    fixture_t *fixture = *state;
    size_t size = (1 << 20) + 100;
    char *value = calloc (1, size);
    zstore_writer_t *writer = s_request (fixture, "set", 3);
    s_bytes (writer, "group", "g", 1);
    s_bytes (writer, "key", "k", 1);
    s_bytes (writer, "value", value, size);
    free (value);
    zstore_reader_t *reply = s_call (fixture);
    s_assert_error (reply, ZSTORE_STATUS_TOO_LARGE, "larger than the limit");
    zstore_reader_destroy (&reply);
    s_assert_still_serving (fixture);
}

//  Past the hard limit (four times max-request) libzmq itself drops the
//  sender's connection; everyone else is served as before.
static void
test_broker_hard_size_limit_drops_only_the_sender (void **state)
{
    fixture_t *fixture = *state;
    zsock_t *offender = broker_dealer (fixture->broker);
    size_t size = 5 << 20;
    char *huge = calloc (1, size);
    zframe_t *frame = zframe_new (huge, size);
    free (huge);
    assert_int_equal (zframe_send (&frame, offender, 0), 0);
    s_assert_still_serving (fixture);
    zpoller_t *poller = zpoller_new (offender, NULL);
    assert_null (zpoller_wait (poller, 300));           //  never answered
    zpoller_destroy (&poller);
    zsock_destroy (&offender);
    s_assert_still_serving (fixture);
}

//  A client that sends and never reads cannot stall the broker: its
//  replies past its queue are dropped (counted), others are served.
static void
test_broker_never_blocks_on_a_client_that_does_not_read (void **state)
{
    fixture_t *fixture = *state;
    //  Replies of 64 KiB fill the socket buffers and the broker's queue
    //  for this peer (100 replies) long before 3000 of them are sent.
    zsock_destroy (&fixture->dealer);
    broker_stop (&fixture->broker, SIGTERM);
    fixture->broker = broker_start (fixture->db_path, "limits\n    replies-hwm = 100\n", NULL,
                                    NULL);
    fixture->dealer = broker_dealer (fixture->broker);
    size_t size = 64 << 10;
    char *value = calloc (1, size);
    zstore_writer_t *writer = s_request (fixture, "set", 3);
    s_bytes (writer, "group", "g", 1);
    s_bytes (writer, "key", "big", 3);
    s_bytes (writer, "value", value, size);
    free (value);
    zstore_reader_t *reply = s_call (fixture);
    assert_int_equal (reply_status (reply), 0);
    zstore_reader_destroy (&reply);
    zsock_t *deaf = zsock_new (ZMQ_DEALER);
    zsock_set_rcvhwm (deaf, 1);
    zsock_set_sndhwm (deaf, 0);
    assert_int_equal (zsock_connect (deaf, "%s", fixture->broker->requests), 0);
    writer = s_request (fixture, "get", 2);
    s_bytes (writer, "group", "g", 1);
    s_bytes (writer, "key", "big", 3);
    for (int index = 0; index < 3000; index++) {
        zframe_t *frame = zframe_new (fixture->request.buffer.data, fixture->request.buffer.size);
        assert_int_equal (zframe_send (&frame, deaf, 0), 0);
    }
    s_assert_still_serving (fixture);
    //  The broker works through the deaf client's requests fairly with
    //  ours; ask until it has reached the ones it could not answer.
    uint64_t dropped = 0;
    int64_t deadline = zclock_mono () + 20000;
    while (dropped == 0 && zclock_mono () < deadline) {
        s_request (fixture, "stats", 0);
        reply = s_call (fixture);
        dropped = reply_uint (reply, "dropped");
        zstore_reader_destroy (&reply);
    }
    assert_true (dropped > 0);
    zsock_destroy (&deaf);
}

//  Frames that cannot be answered are counted and dropped.
static void
test_broker_drops_unanswerable_frames (void **state)
{
    fixture_t *fixture = *state;
    zmsg_t *message = zmsg_new ();
    zmsg_addstr (message, "one");
    zmsg_addstr (message, "two");
    zmsg_addstr (message, "three");
    assert_int_equal (zmsg_send (&message, fixture->dealer), 0);
    s_request (fixture, "stats", 0);
    zstore_reader_t *reply = s_call (fixture);
    assert_int_equal (reply_status (reply), 0);
    assert_int_equal (reply_uint (reply, "dropped"), 1);
    zstore_reader_destroy (&reply);
}

//  --- Events -------------------------------------------------------------

static void
test_broker_publishes_committed_change (void **state)
{
    fixture_t *fixture = *state;
    zstore_buffer_t prefix, topic;
    zstore_buffer_init (&prefix);
    zstore_buffer_init (&topic);
    zstore_topic_group (&prefix, "orders", 6);
    zsock_t *sub = broker_subscriber (fixture->broker, prefix.data, prefix.size);
    uint64_t revision = s_set (fixture, "orders", "user-1", "paid");
    zstore_reader_t *event = broker_receive (sub, &topic, TIMEOUT);
    assert_non_null (event);
    zstore_buffer_t expected;
    zstore_buffer_init (&expected);
    zstore_topic_key (&expected, "orders", 6, "user-1", 6);
    assert_int_equal (topic.size, expected.size);
    assert_memory_equal (topic.data, expected.data, expected.size);
    zstore_event_body_t body;
    zstore_fields_t fields;
    assert_true (zstore_event_body_read (zstore_reader_root (event), &body, &fields));
    assert_string_equal (body.type, "set");
    assert_int_equal (body.rev, revision);
    assert_int_equal (body.prev_rev, 0);
    assert_int_equal (body.epoch, fixture->broker->epoch);
    assert_int_equal (body.seq, 1);
    assert_int_equal (body.gseq, 1);
    assert_int_equal (body.value_size, 4);
    assert_memory_equal (body.value, "paid", 4);
    zstore_reader_destroy (&event);
    zstore_buffer_free (&expected);
    zstore_buffer_free (&prefix);
    zstore_buffer_free (&topic);
    zsock_destroy (&sub);
}

//  --- Stats, shutdown, restart ---------------------------------------------

static void
test_broker_stats (void **state)
{
    fixture_t *fixture = *state;
    s_set (fixture, "g", "k", "v");
    s_request (fixture, "nope", 0);
    zstore_reader_t *reply = s_call (fixture);
    zstore_reader_destroy (&reply);
    s_request (fixture, "stats", 0);
    reply = s_call (fixture);
    assert_int_equal (reply_status (reply), 0);
    assert_int_equal (reply_uint (reply, "epoch"), fixture->broker->epoch);
    assert_int_equal (reply_uint (reply, "rev"), 1);
    assert_int_equal (reply_uint (reply, "clients"), 1);
    assert_true (reply_uint (reply, "db_bytes") > 0);
    assert_true (reply_uint (reply, "batched") >= 2 * reply_uint (reply, "batches"));
    assert_int_equal (reply_uint (reply, "history_last"), 1);
    assert_int_equal (reply_uint (reply, "wal_restarts"), 0);
    zstore_reader_destroy (&reply);
}

//  Writes that leave no pause, with a 64 KiB WAL limit: the broker starts
//  the WAL over (stats wal_restarts) and the file stays near the limit.
static void
test_broker_wal_limit (void **state)
{
    fixture_t *fixture = *state;
    zsock_destroy (&fixture->dealer);
    broker_stop (&fixture->broker, SIGTERM);
    fixture->broker = broker_start (fixture->db_path, "limits\n    wal = 64\n"
                                    "timers\n    checkpoint = 2\n", NULL, NULL);
    fixture->dealer = broker_dealer (fixture->broker);
    char value [4096];
    memset (value, 'w', sizeof value);
    uint64_t restarts = 0;
    int64_t deadline = zclock_mono () + 20000;
    for (int round = 0; !restarts && zclock_mono () < deadline; round++) {
        //  16 sets in flight, then the stats.
        for (int index = 0; index < 16; index++) {
            char key [32];
            snprintf (key, sizeof key, "k%d", (round * 16 + index) % 1000);
            zstore_writer_t *writer = s_request (fixture, "set", 3);
            s_bytes (writer, "group", "g", 1);
            s_bytes (writer, "key", key, strlen (key));
            s_bytes (writer, "value", value, sizeof value);
            assert_int_equal (zsock_send (fixture->dealer, "b", writer->buffer.data,
                                          writer->buffer.size), 0);
        }
        for (int index = 0; index < 16; index++) {
            zstore_reader_t *reply = broker_reply (fixture->dealer, TIMEOUT);
            assert_non_null (reply);
            assert_int_equal (reply_status (reply), 0);
            zstore_reader_destroy (&reply);
        }
        s_request (fixture, "stats", 0);
        zstore_reader_t *reply = s_call (fixture);
        restarts = reply_uint (reply, "wal_restarts");
        zstore_reader_destroy (&reply);
    }
    assert_true (restarts >= 1);
}

//  SIGTERM: an orderly stop (exit 0) with every acknowledged write in the
//  file; a restart gets a new epoch and carries the revision on.
static void
test_broker_signal_stop_and_restart (void **state)
{
    fixture_t *fixture = *state;
    //  On endpoints no other process can take while the broker is down.
    char requests [256], events [256];
    broker_restartable_endpoints (requests, events, sizeof requests);
    zsock_destroy (&fixture->dealer);
    broker_stop (&fixture->broker, SIGTERM);
    fixture->broker = broker_start (fixture->db_path, NULL, requests, events);
    fixture->dealer = broker_dealer (fixture->broker);
    for (int index = 0; index < 50; index++) {
        char key [16];
        snprintf (key, sizeof key, "k%02d", index);
        s_set (fixture, "durable", key, key);
    }
    uint64_t epoch = fixture->broker->epoch;
    int status = broker_stop (&fixture->broker, SIGTERM);
    assert_true (WIFEXITED (status));
    assert_int_equal (WEXITSTATUS (status), 0);

    zstore_engine_t *engine = testkit_engine (fixture->db_path);
    int64_t count = 0;
    zstore_engine_count (engine, LIT ("durable"), &count);
    assert_int_equal (count, 50);
    assert_int_equal (zstore_engine_revision (engine), 50);
    zstore_engine_destroy (&engine);

    fixture->broker = broker_start (fixture->db_path, NULL, requests, events);
    assert_int_not_equal (fixture->broker->epoch, epoch);
    assert_int_equal (fixture->broker->revision, 50);
    //  The old DEALER reconnects to the same endpoint by itself.
    assert_int_equal (s_set (fixture, "durable", "after", "restart"), 51);
}

//  Bad settings are refused at start, naming the setting.
static void
test_broker_refuses_bad_settings (void **state)
{
    (void) state;
    char *dir = testkit_tempdir ();
    const char *cases [] [2] = {
        { "limits\n    max-request = lots\n", "limits/max-request" },
        { "timers\n    heartbeat = 0\n", "timers/heartbeat" },
        { "limits\n    cache = 8\n", "limits/cache" },
        { "timers\n    purge-budget = 0\n", "timers/purge-budget" },
        { "timers\n    checkpoint = -1\n", "timers/checkpoint" },
        { "zstore\n    sync = sometimes\n", "zstore/sync" },
        { "zstore\n    colour = blue\n", "zstore/colour: unknown setting" },
        { "namespaces\n    tenant_a\n        max-keys = 3\n", "namespaces/tenant_a" },
    };
    for (size_t index = 0; index < sizeof cases / sizeof cases [0]; index++) {
        char *path = testkit_path (dir, "bad.cfg");
        FILE *file = fopen (path, "w");
        fputs (cases [index] [0], file);
        fclose (file);
        char command [4096];
        snprintf (command, sizeof command, "%s --config %s 2>&1", ZSTORE_BROKER_PATH, path);
        FILE *output = popen (command, "r");
        char text [1024] = "";
        size_t used = fread (text, 1, sizeof text - 1, output);
        text [used] = 0;
        int status = pclose (output);
        assert_true (WIFEXITED (status));
        assert_int_equal (WEXITSTATUS (status), 2);
        if (!strstr (text, cases [index] [1]))
            fail_msg ("\"%s\" does not name %s", text, cases [index] [1]);
        free (path);
    }
    testkit_tempdir_remove (&dir);
}

int
main (void)
{
#define TEST(name) cmocka_unit_test_setup_teardown (name, s_setup, s_teardown)
    const struct CMUnitTest tests [] = {
        TEST (test_broker_set_get_delete),
        TEST (test_broker_req_client),
        TEST (test_broker_pipelined_requests),
        TEST (test_broker_rejects_malformed_msgpack),
        TEST (test_broker_rejects_wrong_and_missing_fields),
        TEST (test_broker_rejects_unknown_op_version_namespace),
        TEST (test_broker_rejects_oversized_request),
        TEST (test_broker_drops_unanswerable_frames),
        TEST (test_broker_hard_size_limit_drops_only_the_sender),
        TEST (test_broker_never_blocks_on_a_client_that_does_not_read),
        cmocka_unit_test (test_broker_refuses_bad_settings),
        TEST (test_broker_publishes_committed_change),
        TEST (test_broker_stats),
        TEST (test_broker_wal_limit),
        TEST (test_broker_signal_stop_and_restart),
    };
    return cmocka_run_group_tests_name ("broker", tests, NULL, NULL);
}
