//  The broker's client counter (zstore_stats.c), called directly: clients
//  are counted while they send requests and forgotten once idle for the
//  window, so reconnecting clients do not grow the table for ever.

#include "testkit.h"
#include "zstore_broker.h"

static void
test_clients_counted_once_and_forgotten_when_idle (void **state)
{
    (void) state;
    zstore_stats_t stats;
    zstore_stats_init (&stats);
    int64_t start = 1700000000000;
    //  Routing ids are binary: a NUL inside is part of the id.
    zstore_stats_client (&stats, "\0\x01\x02\x03\x04", 5, start);
    zstore_stats_client (&stats, "\0\x01\x02\x03\x05", 5, start);
    zstore_stats_client (&stats, "\0\x01\x02\x03\x04", 5, start + 1000);
    assert_int_equal (zhashx_size (stats.clients), 2);
    //  One keeps sending; the other goes quiet.
    zstore_stats_client (&stats, "\0\x01\x02\x03\x04", 5, start + ZSTORE_CLIENTS_WINDOW);
    zstore_stats_forget_clients (&stats, start + ZSTORE_CLIENTS_WINDOW - 1000);
    assert_int_equal (zhashx_size (stats.clients), 2);
    zstore_stats_forget_clients (&stats, start + ZSTORE_CLIENTS_WINDOW + 2000);
    assert_int_equal (zhashx_size (stats.clients), 1);
    zstore_stats_forget_clients (&stats, start + 3 * ZSTORE_CLIENTS_WINDOW);
    assert_int_equal (zhashx_size (stats.clients), 0);
    //  Many short-lived connections: the table stays as large as the window.
    for (int minute = 0; minute < 60; minute++) {
        int64_t now = start + (int64_t) minute * 60000;
        for (unsigned client = 0; client < 100; client++) {
            unsigned id = (unsigned) minute * 100 + client;
            zstore_stats_client (&stats, &id, sizeof id, now);
        }
        zstore_stats_forget_clients (&stats, now);
        assert_true (zhashx_size (stats.clients) <= 100 * (ZSTORE_CLIENTS_WINDOW / 60000 + 1));
    }
    zstore_stats_free (&stats);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_clients_counted_once_and_forgotten_when_idle),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
