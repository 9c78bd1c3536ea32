//  The durable mode's promise, with the WAL's flushes under the test's
//  control: the broker runs with tests/fsync_gate.c preloaded, so each
//  flush of the WAL by its flusher thread says it began (a byte on one
//  FIFO) and waits for a byte the test writes to another. A set is
//  committed (another connection reads it) but not acknowledged while its
//  flush waits; the reply comes once the flush is let through; replies
//  after it wait with it; a failed flush stops the broker with an error and
//  the reply is never sent.

#include "broker_harness.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define TIMEOUT 10000               //  ms for a reply that must come
#define QUIET 300                   //  ms in which a held reply must not come

typedef struct {
    char *dir;
    char *db_path;
    char *fifo_path;
    char *entered_path;
    int gate;                       //  the FIFO, to let flushes through
    int entered;                    //  the FIFO where each flush says it began
    broker_t *broker;
    zsock_t *dealer;
    zstore_writer_t request;
} fixture_t;

//  Lets the next flushes through ('k') or makes one fail ('E').
static void
s_open_gate (fixture_t *fixture, const char *tokens)
{
    size_t size = strlen (tokens);
    assert_int_equal (write (fixture->gate, tokens, size), (ssize_t) size);
}

//  Waits until a flush has begun (and so has read the revision it covers).
static void
s_await_flush (fixture_t *fixture)
{
    struct pollfd item = { .fd = fixture->entered, .events = POLLIN };
    assert_int_equal (poll (&item, 1, TIMEOUT), 1);
    char token = 0;
    assert_int_equal (read (fixture->entered, &token, 1), 1);
    assert_int_equal (token, 'f');
}

static int
s_setup (void **state)
{
    fixture_t *fixture = calloc (1, sizeof (fixture_t));
    fixture->dir = testkit_tempdir ();
    fixture->db_path = testkit_path (fixture->dir, "durable.db");
    fixture->fifo_path = testkit_path (fixture->dir, "gate");
    assert_int_equal (mkfifo (fixture->fifo_path, 0600), 0);
    fixture->gate = open (fixture->fifo_path, O_RDWR | O_CLOEXEC);
    assert_true (fixture->gate >= 0);
    fixture->entered_path = testkit_path (fixture->dir, "entered");
    assert_int_equal (mkfifo (fixture->entered_path, 0600), 0);
    fixture->entered = open (fixture->entered_path, O_RDWR | O_CLOEXEC);
    assert_true (fixture->entered >= 0);
    zstore_writer_init (&fixture->request);
    //  The broker inherits the preload; the checkpoint thread is off, so
    //  that every flush of the WAL is the flusher's.
    setenv ("ZSTORE_FSYNC_GATE", fixture->fifo_path, 1);
    setenv ("ZSTORE_FSYNC_ENTERED", fixture->entered_path, 1);
    setenv ("LD_PRELOAD", ZSTORE_FSYNC_GATE_PATH, 1);
    //  A sanitized broker wants its runtime first; the gate comes first.
    const char *asan = getenv ("ASAN_OPTIONS");
    char *saved = asan ? strdup (asan) : NULL;
    char options [1024];
    snprintf (options, sizeof options, "%s%sverify_asan_link_order=0", saved ? saved : "",
              saved ? ":" : "");
    setenv ("ASAN_OPTIONS", options, 1);
    fixture->broker = broker_start (fixture->db_path, "timers\n    checkpoint = 0\n", NULL, NULL);
    unsetenv ("LD_PRELOAD");
    unsetenv ("ZSTORE_FSYNC_GATE");
    unsetenv ("ZSTORE_FSYNC_ENTERED");
    if (saved)
        setenv ("ASAN_OPTIONS", saved, 1);
    else
        unsetenv ("ASAN_OPTIONS");
    free (saved);
    fixture->dealer = broker_dealer (fixture->broker);
    *state = fixture;
    return 0;
}

static int
s_teardown (void **state)
{
    fixture_t *fixture = *state;
    zsock_destroy (&fixture->dealer);
    if (fixture->broker) {
        s_open_gate (fixture, "kkkk");  //  no flush left waiting at stop
        assert_int_equal (broker_stop (&fixture->broker, SIGTERM), 0);
    }
    close (fixture->gate);
    close (fixture->entered);
    zstore_writer_free (&fixture->request);
    testkit_tempdir_remove (&fixture->dir);
    free (fixture->fifo_path);
    free (fixture->entered_path);
    free (fixture->db_path);
    free (fixture);
    return 0;
}

//  Sends a get (value NULL) or a set of key in group g on the DEALER.
static void
s_send (fixture_t *fixture, uint64_t id, const char *key, const char *value)
{
    zstore_writer_t *writer = &fixture->request;
    zstore_writer_reset (writer);
    zstore_write_map (writer, value ? 5 : 4);
    zstore_write_key (writer, "id");
    zstore_write_uint (writer, id);
    zstore_write_key (writer, "op");
    zstore_write_str (writer, value ? "set" : "get");
    zstore_write_key (writer, "group");
    zstore_write_bytes (writer, "g", 1);
    zstore_write_key (writer, "key");
    zstore_write_bytes (writer, key, strlen (key));
    if (value) {
        zstore_write_key (writer, "value");
        zstore_write_bytes (writer, value, strlen (value));
    }
    zframe_t *frame = zframe_new (writer->buffer.data, writer->buffer.size);
    assert_int_equal (zframe_send (&frame, fixture->dealer, 0), 0);
}

static void
s_assert_reply (fixture_t *fixture, uint64_t id)
{
    zstore_reader_t *reply = broker_reply (fixture->dealer, TIMEOUT);
    assert_non_null (reply);
    assert_int_equal (reply_uint (reply, "id"), id);
    assert_int_equal (reply_status (reply), ZSTORE_STATUS_OK);
    zstore_reader_destroy (&reply);
}

//  The value as another connection reads it from the file (WAL included).
static bool
s_committed (fixture_t *fixture, const char *key, const char *value)
{
    sqlite3 *db = NULL;
    assert_int_equal (sqlite3_open_v2 (fixture->db_path, &db, SQLITE_OPEN_READONLY, NULL),
                      SQLITE_OK);
    sqlite3_stmt *stmt = NULL;
    assert_int_equal (sqlite3_prepare_v2 (db, "SELECT entry_value FROM entries"
                                              " WHERE group_name = 'g' AND entry_key = ?1",
                                          -1, &stmt, NULL), SQLITE_OK);
    sqlite3_bind_text (stmt, 1, key, -1, SQLITE_STATIC);
    bool found = sqlite3_step (stmt) == SQLITE_ROW
              && strcmp ((const char *) sqlite3_column_text (stmt, 0), value) == 0;
    sqlite3_finalize (stmt);
    sqlite3_close (db);
    return found;
}

static void
test_reply_waits_for_the_flush (void **state)
{
    fixture_t *fixture = *state;
    s_send (fixture, 1, "a", "one");
    //  Committed, visible to others, but its flush waits: no reply.
    zstore_reader_t *early = broker_reply (fixture->dealer, QUIET);
    assert_null (early);
    assert_true (s_committed (fixture, "a", "one"));
    //  A read behind it waits too (it could show what is not on disk yet).
    s_send (fixture, 2, "a", NULL);
    early = broker_reply (fixture->dealer, QUIET);
    assert_null (early);
    s_open_gate (fixture, "k");
    s_assert_reply (fixture, 1);
    s_assert_reply (fixture, 2);
}

//  Waits for the set events of count keys of group g (published at
//  commit, before any flush).
static void
s_assert_committed_events (zsock_t *sub, int count)
{
    zstore_buffer_t topic;
    zstore_buffer_init (&topic);
    for (int index = 0; index < count; index++) {
        zstore_reader_t *event = broker_receive (sub, &topic, TIMEOUT);
        assert_non_null (event);
        zstore_reader_destroy (&event);
    }
    zstore_buffer_free (&topic);
}

static void
s_send_sets (fixture_t *fixture, uint64_t first, uint64_t last)
{
    for (uint64_t id = first; id <= last; id++) {
        char key [16];
        snprintf (key, sizeof key, "k%llu", (unsigned long long) id);
        s_send (fixture, id, key, "v");
    }
}

static void
test_one_flush_covers_what_waited (void **state)
{
    fixture_t *fixture = *state;
    zstore_buffer_t prefix;
    zstore_buffer_init (&prefix);
    zstore_topic_group (&prefix, "g", 1);
    zsock_t *sub = broker_subscriber (fixture->broker, prefix.data, prefix.size);
    zstore_buffer_free (&prefix);
    //  The first set's flush is held once it began (so it covers that set
    //  only); the next sets commit meanwhile (their events say so), and
    //  their replies wait.
    s_send (fixture, 1, "a", "1");
    s_assert_committed_events (sub, 1);
    s_await_flush (fixture);
    s_send_sets (fixture, 2, 200);
    s_assert_committed_events (sub, 199);
    assert_null (broker_reply (fixture->dealer, QUIET));
    //  That flush answers the first set only, and the next flush (of what
    //  was committed while it ran) begins at once.
    s_open_gate (fixture, "k");
    s_assert_reply (fixture, 1);
    s_await_flush (fixture);
    assert_null (broker_reply (fixture->dealer, QUIET));
    //  While that one waits, 200 more: the broker's ring of held replies
    //  (256 at first, its oldest slot free now) grows around its end.
    s_send_sets (fixture, 201, 400);
    s_assert_committed_events (sub, 200);
    //  One flush for the 199, one for the 200 after them; in order.
    s_open_gate (fixture, "k");
    for (uint64_t id = 2; id <= 200; id++)
        s_assert_reply (fixture, id);
    s_await_flush (fixture);
    assert_null (broker_reply (fixture->dealer, QUIET));
    s_open_gate (fixture, "k");
    for (uint64_t id = 201; id <= 400; id++)
        s_assert_reply (fixture, id);
    zsock_destroy (&sub);
}

static void
test_failed_flush_stops_the_broker (void **state)
{
    fixture_t *fixture = *state;
    s_send (fixture, 1, "a", "lost?");
    assert_null (broker_reply (fixture->dealer, QUIET));
    s_open_gate (fixture, "E");
    //  The broker stops with status 1 and never says "ok" for the set.
    int status = broker_stop (&fixture->broker, 0);
    assert_true (WIFEXITED (status));
    assert_int_equal (WEXITSTATUS (status), 1);
    assert_null (broker_reply (fixture->dealer, QUIET));
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_reply_waits_for_the_flush, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_one_flush_covers_what_waited, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_failed_flush_stops_the_broker, s_setup,
                                         s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
