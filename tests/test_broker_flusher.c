//  The durable mode's flusher (zstore_flusher.c), called directly on a real
//  WAL file: the loop only publishes revisions; the flusher's thread
//  flushes and answers by itself, also what was asked while it flushed,
//  and an idle one is woken, however the two threads interleave.

#include "testkit.h"
#include "zstore_broker.h"

#define TIMEOUT 10000               //  ms for an answer that must come

typedef struct {
    testkit_store_t *store;
    zstore_flusher_t *flusher;
} fixture_t;

static int
s_setup (void **state)
{
    fixture_t *fixture = calloc (1, sizeof (fixture_t));
    fixture->store = testkit_store_new ("flusher.db");
    zstore_wal_file_t *wal = zstore_engine_wal_file (fixture->store->engine);
    assert_non_null (wal);
    fixture->flusher = zstore_flusher_new (wal, 0);
    assert_non_null (fixture->flusher);
    *state = fixture;
    return 0;
}

static int
s_teardown (void **state)
{
    fixture_t *fixture = *state;
    zstore_flusher_destroy (&fixture->flusher);
    testkit_store_destroy (&fixture->store);
    free (fixture);
    return 0;
}

//  The revision of the next answer on the pipe, read without the loop's
//  zstore_flusher_on_answer; 0 if none came in time.
static uint64_t
s_next_answer (zstore_flusher_t *flusher)
{
    zsock_t *pipe = zstore_flusher_sock (flusher);
    zpoller_t *poller = zpoller_new (pipe, NULL);
    uint64_t revision = 0;
    uint32_t error = 1;
    if (zpoller_wait (poller, TIMEOUT) == pipe)
        assert_int_equal (zsock_recv (pipe, "84", &revision, &error), 0);
    zpoller_destroy (&poller);
    if (revision)
        assert_int_equal (error, 0);
    return revision;
}

//  Two revisions asked back to back: the second is flushed, by the first
//  flush if it had not started or by one that follows it, without the
//  loop taking the first answer or asking again.
static void
test_flushes_what_was_asked_meanwhile (void **state)
{
    fixture_t *fixture = *state;
    zstore_flusher_request (fixture->flusher, 1);
    zstore_flusher_request (fixture->flusher, 2);
    uint64_t revision = s_next_answer (fixture->flusher);
    assert_true (revision == 1 || revision == 2);
    if (revision == 1)
        assert_int_equal (s_next_answer (fixture->flusher), 2);
}

//  Many revisions, each asked as the last answer arrives or earlier, so
//  that requests land while the thread flushes, looks, or sleeps: every
//  one is answered. (A wake-up lost between the thread's last look and
//  its sleep would leave the last unanswered; that window is a few
//  instructions wide, so this finds such a bug only by chance.)
static void
test_every_revision_is_answered (void **state)
{
    fixture_t *fixture = *state;
    zsock_t *pipe = zstore_flusher_sock (fixture->flusher);
    zpoller_t *poller = zpoller_new (pipe, NULL);
    const uint64_t last = 2000;
    uint64_t asked = 0;
    while (zstore_flusher_flushed (fixture->flusher) < last) {
        //  Ask for one to three more before looking at the answers.
        for (uint64_t more = asked % 3 + 1; more && asked < last; more--)
            zstore_flusher_request (fixture->flusher, ++asked);
        assert_true (zpoller_wait (poller, TIMEOUT) == pipe);
        assert_int_equal (zstore_flusher_on_answer (fixture->flusher), 0);
        //  An answer covers what was asked before its flush, no more.
        assert_true (zstore_flusher_flushed (fixture->flusher) <= asked);
    }
    zpoller_destroy (&poller);
    assert_int_equal (zstore_flusher_flushed (fixture->flusher), last);
    assert_true (zstore_flusher_flushes (fixture->flusher) <= last);
}

//  Asking for what is already flushed starts nothing.
static void
test_nothing_new_no_flush (void **state)
{
    fixture_t *fixture = *state;
    zstore_flusher_request (fixture->flusher, 5);
    assert_int_equal (s_next_answer (fixture->flusher), 5);
    zstore_flusher_request (fixture->flusher, 5);
    zstore_flusher_request (fixture->flusher, 3);
    zpoller_t *poller = zpoller_new (zstore_flusher_sock (fixture->flusher), NULL);
    assert_null (zpoller_wait (poller, 200));
    zpoller_destroy (&poller);
}

//  finish stops the thread and flushes what was asked and not answered.
static void
test_finish_flushes_what_was_asked (void **state)
{
    fixture_t *fixture = *state;
    zstore_flusher_request (fixture->flusher, 7);
    assert_int_equal (zstore_flusher_finish (fixture->flusher), 0);
    assert_int_equal (zstore_flusher_flushed (fixture->flusher), 7);
    //  Asked after the thread stopped: finish again covers it.
    zstore_flusher_request (fixture->flusher, 8);
    assert_int_equal (zstore_flusher_finish (fixture->flusher), 0);
    assert_int_equal (zstore_flusher_flushed (fixture->flusher), 8);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_flushes_what_was_asked_meanwhile, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_every_revision_is_answered, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_nothing_new_no_flush, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_finish_flushes_what_was_asked, s_setup,
                                         s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
