//  Nothing acknowledged is lost: a writer keeps durable sets in flight, the
//  broker is killed with SIGKILL at random moments and restarted on the same
//  endpoints and database, again and again. After each restart every
//  acknowledged write is present with its value and revision, revisions
//  never go backwards, and the file passes PRAGMA integrity_check.
//
//  ZSTORE_CRASH_ROUNDS (default 100) and ZSTORE_CRASH_SEED (default: the
//  clock, printed) make a failing run repeatable.

#include "broker_harness.h"

#include <inttypes.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#define TIMEOUT 10000               //  ms for any one reply
#define IN_FLIGHT 16                //  sets outstanding at every moment
#define MAX_ACKS_PER_ROUND 300      //  a round kills after 0..this many acks
#define PAGE 1000
#define GROUP "crash"

//  One acknowledged write: key "w<index>" holds "v<index>" at revision rev.
typedef struct {
    uint64_t *revs;                 //  by write index; 0 = not acknowledged
    size_t capacity;
    size_t acked;
    uint64_t max_rev;
} acks_t;

typedef struct {
    char *dir;
    char *db_path;
    broker_t *broker;
    char requests [256];
    char events [256];
    zstore_writer_t request;
    acks_t acks;
    uint64_t next_write;            //  index of the next write to send
} fixture_t;

static int
s_setup (void **state)
{
    fixture_t *fixture = calloc (1, sizeof (fixture_t));
    fixture->dir = testkit_tempdir ();
    fixture->db_path = testkit_path (fixture->dir, "crash.db");
    zstore_writer_init (&fixture->request);
    *state = fixture;
    return 0;
}

static int
s_teardown (void **state)
{
    fixture_t *fixture = *state;
    if (fixture->broker)
        broker_stop (&fixture->broker, SIGTERM);
    zstore_writer_free (&fixture->request);
    free (fixture->acks.revs);
    testkit_tempdir_remove (&fixture->dir);
    free (fixture->db_path);
    free (fixture);
    return 0;
}

static void
s_record_ack (acks_t *acks, uint64_t index, uint64_t rev)
{
    if (index >= acks->capacity) {
        size_t capacity = acks->capacity ? acks->capacity * 2 : 4096;
        while (capacity <= index)
            capacity *= 2;
        acks->revs = realloc (acks->revs, capacity * sizeof (uint64_t));
        assert_non_null (acks->revs);
        memset (acks->revs + acks->capacity, 0, (capacity - acks->capacity) * sizeof (uint64_t));
        acks->capacity = capacity;
    }
    assert_int_equal (acks->revs [index], 0);       //  one reply per request
    acks->revs [index] = rev;
    acks->acked++;
    if (rev > acks->max_rev)
        acks->max_rev = rev;
}

//  Sends set w<index> = v<index>, with the index as the request id.
static void
s_send_set (fixture_t *fixture, zsock_t *dealer)
{
    uint64_t index = fixture->next_write++;
    char key [32], value [32];
    snprintf (key, sizeof key, "w%08" PRIu64, index);
    snprintf (value, sizeof value, "v%08" PRIu64, index);
    zstore_writer_t *writer = &fixture->request;
    zstore_writer_reset (writer);
    zstore_write_map (writer, 5);
    zstore_write_key (writer, "id");
    zstore_write_uint (writer, index);
    zstore_write_key (writer, "op");
    zstore_write_str (writer, "set");
    zstore_write_key (writer, "group");
    zstore_write_bytes (writer, GROUP, strlen (GROUP));
    zstore_write_key (writer, "key");
    zstore_write_bytes (writer, key, strlen (key));
    zstore_write_key (writer, "value");
    zstore_write_bytes (writer, value, strlen (value));
    assert_false (zstore_writer_failed (writer));
    zmq_send (zsock_resolve (dealer), writer->buffer.data, writer->buffer.size, 0);
}

//  Receives one set reply within the timeout and records its ack.
static void
s_receive_ack (fixture_t *fixture, zsock_t *dealer)
{
    zpoller_t *poller = zpoller_new (dealer, NULL);
    assert_true (zpoller_wait (poller, TIMEOUT) == dealer);
    zpoller_destroy (&poller);
    zmq_msg_t message;
    zmq_msg_init (&message);
    assert_true (zmq_msg_recv (&message, zsock_resolve (dealer), 0) >= 0);
    zstore_reader_t *reply = zstore_reader_new (zmq_msg_data (&message), zmq_msg_size (&message),
                                                NULL);
    zmq_msg_close (&message);
    assert_non_null (reply);
    assert_int_equal (reply_status (reply), ZSTORE_STATUS_OK);
    s_record_ack (&fixture->acks, reply_uint (reply, "id"), reply_uint (reply, "rev"));
    zstore_reader_destroy (&reply);
}

//  Keeps IN_FLIGHT sets outstanding until `acks` of them are acknowledged,
//  then kills the broker while the rest are still in flight.
static void
s_write_then_kill (fixture_t *fixture, int acks)
{
    zsock_t *dealer = broker_dealer (fixture->broker);
    for (int index = 0; index < IN_FLIGHT; index++)
        s_send_set (fixture, dealer);
    for (int index = 0; index < acks; index++) {
        s_receive_ack (fixture, dealer);
        s_send_set (fixture, dealer);
    }
    int status = broker_stop (&fixture->broker, SIGKILL);
    assert_true (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL);
    zsock_set_linger (dealer, 0);
    zsock_destroy (&dealer);
}

static zstore_reader_t *
s_get_page (fixture_t *fixture, zsock_t *dealer, const char *after, size_t after_size)
{
    zstore_writer_t *writer = &fixture->request;
    zstore_writer_reset (writer);
    zstore_write_map (writer, 4);
    zstore_write_key (writer, "op");
    zstore_write_str (writer, "get_page");
    zstore_write_key (writer, "group");
    zstore_write_bytes (writer, GROUP, strlen (GROUP));
    zstore_write_key (writer, "limit");
    zstore_write_uint (writer, PAGE);
    zstore_write_key (writer, "after");
    zstore_write_bytes (writer, after, after_size);
    zstore_reader_t *reply = broker_call (dealer, writer, TIMEOUT);
    assert_non_null (reply);
    assert_int_equal (reply_status (reply), ZSTORE_STATUS_OK);
    return reply;
}

//  Checks one stored item against the acks: an acknowledged write has its
//  value and its revision; an unacknowledged one may or may not be there.
//  Returns whether it was acknowledged.
static bool
s_check_item (fixture_t *fixture, const msgpack_object *item, char *last_key, size_t *last_size)
{
    zstore_fields_t fields;
    zstore_fields_init (&fields, item);
    const char *key, *value;
    size_t key_size, value_size;
    uint64_t mod_rev;
    assert_true (zstore_fields_bytes (&fields, "key", &key, &key_size));
    assert_true (zstore_fields_bytes (&fields, "value", &value, &value_size));
    assert_true (zstore_fields_uint (&fields, "mod_rev", &mod_rev));
    assert_true (key_size == 9 && value_size == 9 && key [0] == 'w' && value [0] == 'v');
    assert_memory_equal (key + 1, value + 1, 8);
    uint64_t index = strtoull (key + 1, NULL, 10);
    memcpy (last_key, key, key_size);
    *last_size = key_size;
    bool acked = index < fixture->acks.capacity && fixture->acks.revs [index];
    if (acked)
        assert_int_equal (mod_rev, fixture->acks.revs [index]);
    return acked;
}

//  Walks the whole group with a cursor: every ack must be found.
static void
s_assert_acks_present (fixture_t *fixture)
{
    zsock_t *dealer = broker_dealer (fixture->broker);
    char last_key [16] = "";
    size_t last_size = 0;
    size_t acked_found = 0;
    bool more = true;
    while (more) {
        zstore_reader_t *reply = s_get_page (fixture, dealer, last_key, last_size);
        const msgpack_object_array *items = reply_array (reply, "items");
        for (uint32_t index = 0; index < items->size; index++)
            acked_found += s_check_item (fixture, &items->ptr [index], last_key, &last_size);
        zstore_fields_t fields;
        zstore_fields_init (&fields, zstore_reader_root (reply));
        assert_true (zstore_fields_bool (&fields, "more", &more));
        zstore_reader_destroy (&reply);
    }
    zsock_destroy (&dealer);
    assert_int_equal (acked_found, fixture->acks.acked);
}

static int
s_env_int (const char *name, int fallback)
{
    const char *text = getenv (name);
    return text && *text ? atoi (text) : fallback;
}

static void
test_crash_never_loses_an_acknowledged_write (void **state)
{
    fixture_t *fixture = *state;
    int rounds = s_env_int ("ZSTORE_CRASH_ROUNDS", 100);
    unsigned seed = (unsigned) s_env_int ("ZSTORE_CRASH_SEED", (int) (zclock_time () & 0x7fffffff));
    print_message ("crash test: %d rounds, ZSTORE_CRASH_SEED=%u\n", rounds, seed);
    srand (seed);

    broker_restartable_endpoints (fixture->requests, fixture->events, sizeof fixture->requests);
    fixture->broker = broker_start (fixture->db_path, NULL, fixture->requests, fixture->events);
    uint64_t last_start_rev = fixture->broker->revision;
    for (int round = 0; round < rounds; round++) {
        s_write_then_kill (fixture, rand () % (MAX_ACKS_PER_ROUND + 1));
        testkit_assert_integrity (fixture->db_path);
        fixture->broker = broker_start (fixture->db_path, NULL, fixture->requests,
                                        fixture->events);
        assert_non_null (fixture->broker);
        //  The revision continues from at least every acknowledged one.
        assert_true (fixture->broker->revision >= fixture->acks.max_rev);
        assert_true (fixture->broker->revision >= last_start_rev);
        last_start_rev = fixture->broker->revision;
        s_assert_acks_present (fixture);
    }
    print_message ("crash test: %zu acknowledged writes checked after %d kills, rev %" PRIu64 "\n",
                   fixture->acks.acked, rounds, last_start_rev);
    assert_true (fixture->acks.acked > 0);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_crash_never_loses_an_acknowledged_write, s_setup,
                                         s_teardown),
    };
    return cmocka_run_group_tests_name ("broker crash", tests, NULL, NULL);
}
