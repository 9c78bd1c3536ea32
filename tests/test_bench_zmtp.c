//  The load generator's light client (bench_zmtp: ZMTP 3.0 on a plain
//  socket, no libzmq) against the real broker and a libzmq ROUTER: its
//  requests are answered in order, pipelined; as a SUB it gets the events
//  of its prefix and none after unsubscribing; it answers ZMTP heartbeats,
//  so a peer with a short heartbeat timeout keeps it. The bench's figures
//  with --wire zmtp are only worth what this client does right. It is also
//  the broker spoken to from a bare socket, as PROTOCOL.md promises.

#include "bench_zmtp.h"
#include "broker_harness.h"

#include <poll.h>
#include <signal.h>

#define TIMEOUT 5000                //  ms for an awaited frame
#define QUIET 200                   //  ms of silence showing nothing more comes
#define GROUP "zg"

typedef struct {
    char *dir;
    char *db_path;
    broker_t *broker;
    zstore_writer_t request;
} fixture_t;

static int
s_setup (void **state)
{
    fixture_t *fixture = calloc (1, sizeof (fixture_t));
    assert_non_null (fixture);
    fixture->dir = testkit_tempdir ();
    fixture->db_path = testkit_path (fixture->dir, "broker.db");
    zstore_writer_init (&fixture->request);
    fixture->broker = broker_start (fixture->db_path, NULL, NULL, NULL);
    assert_non_null (fixture->broker);
    *state = fixture;
    return 0;
}

static int
s_teardown (void **state)
{
    fixture_t *fixture = *state;
    broker_stop (&fixture->broker, SIGTERM);
    zstore_writer_free (&fixture->request);
    testkit_tempdir_remove (&fixture->dir);
    free (fixture->db_path);
    free (fixture);
    return 0;
}

//  The next message frame from peer within timeout ms; false on timeout.
//  The frame stays valid until the next call.
static bool
s_next_frame (bench_zmtp_t *peer, bench_zmtp_frame_t *frame, int timeout_ms)
{
    int64_t deadline = zclock_mono () + timeout_ms;
    while (!bench_zmtp_next (peer, frame)) {
        int64_t left = deadline - zclock_mono ();
        struct pollfd item = { .fd = bench_zmtp_fd (peer), .events = POLLIN };
        if (left <= 0 || poll (&item, 1, (int) left) <= 0)
            return false;
        assert_true (bench_zmtp_fill (peer));
        bench_zmtp_flush (peer);        //  a PONG, if a PING came
    }
    return true;
}

static void
s_write_set (zstore_writer_t *request, uint64_t id, const char *key, const char *value)
{
    zstore_writer_reset (request);
    zstore_write_map (request, 5);
    zstore_write_key (request, "id");
    zstore_write_uint (request, id);
    zstore_write_key (request, "op");
    zstore_write_str (request, "set");
    zstore_write_key (request, "group");
    zstore_write_str (request, GROUP);
    zstore_write_key (request, "key");
    zstore_write_str (request, key);
    zstore_write_key (request, "value");
    zstore_write_str (request, value);
}

static void
s_write_get (zstore_writer_t *request, uint64_t id, const char *key)
{
    zstore_writer_reset (request);
    zstore_write_map (request, 4);
    zstore_write_key (request, "id");
    zstore_write_uint (request, id);
    zstore_write_key (request, "op");
    zstore_write_str (request, "get");
    zstore_write_key (request, "group");
    zstore_write_str (request, GROUP);
    zstore_write_key (request, "key");
    zstore_write_str (request, key);
}

//  The next reply on peer, parsed; fails the test on timeout.
static zstore_reader_t *
s_reply (bench_zmtp_t *peer)
{
    bench_zmtp_frame_t frame;
    assert_true (s_next_frame (peer, &frame, TIMEOUT));
    assert_false (frame.more);
    zstore_reader_t *reply = zstore_reader_new (frame.data, frame.size, NULL);
    assert_non_null (reply);
    return reply;
}

static void
test_dealer_is_answered_in_order (void **state)
{
    fixture_t *fixture = *state;
    bench_zmtp_t *peer = bench_zmtp_connect (fixture->broker->requests, "DEALER");
    //  100 sets in one write: each answered, in order, then readable.
    char key [32], value [32];
    for (uint64_t id = 1; id <= 100; id++) {
        snprintf (key, sizeof key, "k%" PRIu64, id);
        snprintf (value, sizeof value, "v%" PRIu64, id * 7);
        s_write_set (&fixture->request, id, key, value);
        bench_zmtp_queue (peer, fixture->request.buffer.data, fixture->request.buffer.size, false);
    }
    bench_zmtp_flush (peer);
    for (uint64_t id = 1; id <= 100; id++) {
        zstore_reader_t *reply = s_reply (peer);
        assert_int_equal (reply_uint (reply, "id"), id);
        assert_int_equal (reply_status (reply), ZSTORE_STATUS_OK);
        zstore_reader_destroy (&reply);
    }
    s_write_get (&fixture->request, 101, "k42");
    bench_zmtp_queue (peer, fixture->request.buffer.data, fixture->request.buffer.size, false);
    bench_zmtp_flush (peer);
    zstore_reader_t *reply = s_reply (peer);
    assert_int_equal (reply_uint (reply, "id"), 101);
    size_t size = 0;
    const char *got = reply_bytes (reply, "value", &size);
    assert_non_null (got);
    assert_int_equal (size, 4);
    assert_memory_equal (got, "v294", 4);
    zstore_reader_destroy (&reply);
    bench_zmtp_destroy (&peer);
}

//  Subscribes to prefix and a sync token; waits for the token's marker
//  (PROTOCOL.md 4.1), after which the subscription is live.
static void
s_subscribe_live (bench_zmtp_t *sub, const zstore_buffer_t *prefix)
{
    const char *token = "szmtp-test";
    bench_zmtp_subscribe (sub, prefix->data, prefix->size, true);
    bench_zmtp_subscribe (sub, token, strlen (token), true);
    bench_zmtp_flush (sub);
    bench_zmtp_frame_t frame;
    bool synced = false;
    while (!synced) {
        assert_true (s_next_frame (sub, &frame, TIMEOUT));
        synced = frame.more && frame.size == strlen (token)
              && memcmp (frame.data, token, frame.size) == 0;
    }
    assert_true (s_next_frame (sub, &frame, TIMEOUT));     //  the marker's body
    assert_false (frame.more);
    bench_zmtp_subscribe (sub, token, strlen (token), false);
    bench_zmtp_flush (sub);
}

static void
test_sub_gets_its_events_until_unsubscribed (void **state)
{
    fixture_t *fixture = *state;
    bench_zmtp_t *sub = bench_zmtp_connect (fixture->broker->events, "SUB");
    zstore_buffer_t prefix;
    zstore_buffer_init (&prefix);
    zstore_topic_group (&prefix, GROUP, strlen (GROUP));
    s_subscribe_live (sub, &prefix);

    zsock_t *dealer = broker_dealer (fixture->broker);
    s_write_set (&fixture->request, 1, "watched", "hello");
    zstore_reader_t *reply = broker_call (dealer, &fixture->request, TIMEOUT);
    assert_int_equal (reply_status (reply), ZSTORE_STATUS_OK);
    zstore_reader_destroy (&reply);

    bench_zmtp_frame_t frame;
    assert_true (s_next_frame (sub, &frame, TIMEOUT));
    assert_true (frame.more);
    assert_true (frame.size > prefix.size);
    assert_memory_equal (frame.data, prefix.data, prefix.size);
    assert_true (s_next_frame (sub, &frame, TIMEOUT));
    assert_false (frame.more);
    zstore_reader_t *body = zstore_reader_new (frame.data, frame.size, NULL);
    assert_non_null (body);
    size_t size = 0;
    const char *key = reply_bytes (body, "key", &size);
    assert_int_equal (size, strlen ("watched"));
    assert_memory_equal (key, "watched", size);
    const char *value = reply_bytes (body, "value", &size);
    assert_int_equal (size, strlen ("hello"));
    assert_memory_equal (value, "hello", size);
    zstore_reader_destroy (&body);

    //  Unsubscribed (the broker reads it before the next request: an
    //  unsubscribe followed by a sync round trip on a second token).
    bench_zmtp_subscribe (sub, prefix.data, prefix.size, false);
    zstore_buffer_t other;
    zstore_buffer_init (&other);
    zstore_topic_group (&other, "elsewhere", strlen ("elsewhere"));
    s_subscribe_live (sub, &other);
    s_write_set (&fixture->request, 2, "watched", "again");
    reply = broker_call (dealer, &fixture->request, TIMEOUT);
    assert_int_equal (reply_status (reply), ZSTORE_STATUS_OK);
    zstore_reader_destroy (&reply);
    assert_false (s_next_frame (sub, &frame, QUIET));

    zstore_buffer_free (&other);
    zstore_buffer_free (&prefix);
    zsock_destroy (&dealer);
    bench_zmtp_destroy (&sub);
}

//  A libzmq ROUTER with a 50 ms heartbeat and a 150 ms timeout drops a
//  peer that does not answer its PINGs; this one answers, so after five
//  PINGs (250 ms, past the timeout) the ROUTER still reaches it.
static void
test_heartbeats_are_answered (void **state)
{
    (void) state;
    zsock_t *router = zsock_new (ZMQ_ROUTER);
    zsock_set_router_mandatory (router, 1);
    zsock_set_heartbeat_ivl (router, 50);
    zsock_set_heartbeat_timeout (router, 150);
    assert_true (zsock_bind (router, "tcp://127.0.0.1:*") > 0);
    bench_zmtp_t *peer = bench_zmtp_connect (zsock_endpoint (router), "DEALER");
    bench_zmtp_queue (peer, "hi", 2, false);
    bench_zmtp_flush (peer);
    zmsg_t *hello = zmsg_recv (router);
    assert_non_null (hello);
    zframe_t *routing_id = zmsg_pop (hello);
    zmsg_destroy (&hello);

    bench_zmtp_frame_t frame;
    int64_t deadline = zclock_mono () + TIMEOUT;
    while (bench_zmtp_pings (peer) < 5 && zclock_mono () < deadline)
        assert_false (s_next_frame (peer, &frame, 20));    //  PINGs only, no message
    assert_true (bench_zmtp_pings (peer) >= 5);

    zmsg_t *still = zmsg_new ();
    zmsg_append (still, &routing_id);
    zmsg_addstr (still, "still here");
    assert_int_equal (zmsg_send (&still, router), 0);
    assert_true (s_next_frame (peer, &frame, TIMEOUT));
    assert_int_equal (frame.size, strlen ("still here"));
    assert_memory_equal (frame.data, "still here", frame.size);
    bench_zmtp_destroy (&peer);
    zsock_destroy (&router);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_dealer_is_answered_in_order, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_sub_gets_its_events_until_unsubscribed,
                                         s_setup, s_teardown),
        cmocka_unit_test (test_heartbeats_are_answered),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
