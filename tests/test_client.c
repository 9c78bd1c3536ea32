//  libzstore against the real zstore-broker binary: every operation, the
//  namespace and its quota, compare-and-set, TTL, pages, render,
//  transactions, snapshots across pages, stats, JSON, pipelining with
//  replies collected by id, error codes and their names, and recovery:
//  no broker at all, a frozen broker (SIGSTOP), and a broker killed and
//  restarted on the same endpoints.

#define _GNU_SOURCE                 //  asprintf
#include "broker_harness.h"
#include "zstore_client.h"

#include <signal.h>

#define COUNT(table) (sizeof (table) / sizeof ((table) [0]))
#define ONE_HOUR 3600000

//  No background purge (expired rows stay until purge removes them); one
//  namespace with a key quota. sync = normal: commits survive a killed
//  process (the restart test), not a power cut, and thousands of writes
//  stay quick.
static const char *s_config =
    "zstore\n"
    "    sync = normal\n"
    "limits\n"
    "    snapshots = 2\n"
    "timers\n"
    "    purge-interval = 86400000\n"
    "namespaces\n"
    "    quota-k\n"
    "        max-keys = 3\n";

typedef struct {
    char *dir;
    char *db_path;
    broker_t *broker;
    zstore_client_t *client;
} fixture_t;

static int
s_setup (void **state)
{
    fixture_t *fixture = calloc (1, sizeof (fixture_t));
    fixture->dir = testkit_tempdir ();
    assert_true (asprintf (&fixture->db_path, "%s/broker.db", fixture->dir) > 0);
    fixture->broker = broker_start (fixture->db_path, s_config, NULL, NULL);
    fixture->client = zstore_client_new (fixture->broker->requests, fixture->broker->events);
    assert_non_null (fixture->client);
    *state = fixture;
    return 0;
}

static int
s_teardown (void **state)
{
    fixture_t *fixture = *state;
    zstore_client_destroy (&fixture->client);
    if (fixture->broker) {
        kill (fixture->broker->pid, SIGCONT);       //  a test may have frozen it
        broker_stop (&fixture->broker, SIGTERM);
    }
    testkit_tempdir_remove (&fixture->dir);
    free (fixture->db_path);
    free (fixture);
    return 0;
}

//  --- Helpers --------------------------------------------------------------

//  Fails the test with the client's message unless code is expected.
static void
s_expect (zstore_client_t *client, int code, int expected)
{
    if (code != expected)
        fail_msg ("got %s (%s), expected %s", zstore_code_name (code),
                  zstore_client_error (client), zstore_code_name (expected));
}

static void
s_ok (zstore_client_t *client, int code)
{
    s_expect (client, code, ZSTORE_OK);
}

static uint64_t
s_set (zstore_client_t *client, const char *group, const char *key, const char *value)
{
    uint64_t rev = 0;
    s_ok (client, zstore_client_set (client, group, key, value, strlen (value), NULL, &rev));
    assert_true (rev > 0);
    return rev;
}

//  Asserts group/key holds value (a C string); returns its mod_rev.
static uint64_t
s_assert_value (zstore_client_t *client, const char *group, const char *key, const char *value)
{
    zstore_entry_t entry;
    s_ok (client, zstore_client_get (client, group, key, &entry));
    assert_int_equal (entry.value_size, strlen (value));
    assert_string_equal (entry.value, value);       //  NUL-terminated
    assert_string_equal (entry.key, key);
    uint64_t mod_rev = entry.mod_rev;
    zstore_entry_clear (&entry);
    assert_null (entry.value);
    return mod_rev;
}

static void
s_assert_absent (zstore_client_t *client, const char *group, const char *key)
{
    zstore_entry_t entry;
    s_expect (client, zstore_client_get (client, group, key, &entry), ZSTORE_NOT_FOUND);
    assert_null (entry.value);
    assert_true (strlen (zstore_client_error (client)) > 0);
}

//  Asserts the names (key fields) of entries.
static void
s_assert_names (zstore_entries_t *entries, const char **names, size_t count)
{
    assert_int_equal (entries->size, count);
    for (size_t index = 0; index < count; index++)
        assert_string_equal (entries->entries [index].key, names [index]);
}

//  --- Codes, handles -------------------------------------------------------

static void
test_code_names (void **state)
{
    (void) state;
    static const char *names [] = {
        "ok", "not_found", "quota_exceeded", "invalid", "closed", "conflict", "internal",
        "too_old", "bad_request", "unknown_op", "too_large", "unsupported_version", "busy",
        "unknown_snapshot"
    };
    for (int code = 0; code < (int) COUNT (names); code++)
        assert_string_equal (zstore_code_name (code), names [code]);
    assert_string_equal (zstore_code_name (ZSTORE_TIMEOUT), "timeout");
    assert_string_equal (zstore_code_name (ZSTORE_OUTCOME_UNKNOWN), "outcome_unknown");
    assert_string_equal (zstore_code_name (ZSTORE_PROTOCOL_ERROR), "protocol_error");
    assert_string_equal (zstore_code_name (ZSTORE_NO_MEMORY), "no_memory");
    assert_string_equal (zstore_code_name (ZSTORE_INTERRUPTED), "interrupted");
    assert_string_equal (zstore_code_name (ZSTORE_ARGUMENT), "argument");
    assert_string_equal (zstore_code_name (14), "unknown");
    assert_string_equal (zstore_code_name (-1), "unknown");
    assert_string_equal (zstore_code_name (99), "unknown");
}

static void
test_endpoints_are_checked (void **state)
{
    (void) state;
    assert_null (zstore_client_new (NULL, NULL));
    assert_null (zstore_client_new ("nonsense", NULL));
    assert_null (zstore_client_new ("tcp://", NULL));
    assert_null (zstore_client_new ("tcp://127.0.0.1:notaport", NULL));
    assert_null (zstore_client_new ("tcp://127.0.0.1:5670", "udp://x"));
    zstore_client_t *client = zstore_client_new ("ipc:///tmp/zstore-test-none", NULL);
    assert_non_null (client);
    assert_string_equal (zstore_client_requests_endpoint (client), "ipc:///tmp/zstore-test-none");
    assert_null (zstore_client_events_endpoint (client));
    assert_int_equal (zstore_client_timeout (client), 5000);
    assert_null (zstore_client_namespace (client));
    zstore_client_destroy (&client);
    zstore_client_destroy (&client);                //  idempotent

    setenv ("ZSTORE_REQUESTS", "tcp://127.0.0.1:6001", 1);
    setenv ("ZSTORE_EVENTS", "tcp://127.0.0.1:6002", 1);
    client = zstore_client_new_from_env ();
    assert_string_equal (zstore_client_requests_endpoint (client), "tcp://127.0.0.1:6001");
    assert_string_equal (zstore_client_events_endpoint (client), "tcp://127.0.0.1:6002");
    zstore_client_destroy (&client);
    unsetenv ("ZSTORE_REQUESTS");
    unsetenv ("ZSTORE_EVENTS");
    client = zstore_client_new_from_env ();
    assert_string_equal (zstore_client_requests_endpoint (client), "tcp://127.0.0.1:5670");
    assert_string_equal (zstore_client_events_endpoint (client), "tcp://127.0.0.1:5671");
    zstore_client_destroy (&client);
}

static void
test_ping (void **state)
{
    fixture_t *fixture = *state;
    uint64_t epoch = 0, rev = 99, time = 0;
    s_ok (fixture->client, zstore_client_ping (fixture->client, &epoch, &rev, &time));
    assert_int_equal (epoch, fixture->broker->epoch);
    assert_int_equal (rev, fixture->broker->revision);
    assert_true (time > 0);
    assert_string_equal (zstore_client_error (fixture->client), "");
    s_ok (fixture->client, zstore_client_ping (fixture->client, NULL, NULL, NULL));
    assert_string_equal (zstore_client_events_endpoint (fixture->client),
                         fixture->broker->events);
}

//  --- Keys -----------------------------------------------------------------

static void
test_set_get_exists_delete (void **state)
{
    fixture_t *fixture = *state;
    zstore_client_t *client = fixture->client;
    uint64_t rev1 = s_set (client, "g", "k", "hello");
    zstore_entry_t entry;
    s_ok (client, zstore_client_get (client, "g", "k", &entry));
    assert_string_equal (entry.value, "hello");
    assert_int_equal (entry.create_rev, rev1);
    assert_int_equal (entry.mod_rev, rev1);
    assert_int_equal (entry.expires_at, 0);
    assert_null (entry.group);                      //  set in snapshot items only
    zstore_entry_clear (&entry);

    //  Binary values, NUL included, and the empty value.
    uint64_t rev2 = 0;
    s_ok (client, zstore_client_set (client, "g", "k", "a\0b", 3, NULL, &rev2));
    assert_int_equal (rev2, rev1 + 1);
    s_ok (client, zstore_client_get (client, "g", "k", &entry));
    assert_int_equal (entry.value_size, 3);
    assert_memory_equal (entry.value, "a\0b", 4);   //  and the NUL after it
    assert_int_equal (entry.create_rev, rev1);
    assert_int_equal (entry.mod_rev, rev2);
    zstore_entry_clear (&entry);
    s_ok (client, zstore_client_set (client, "g", "empty", NULL, 0, NULL, NULL));
    s_assert_value (client, "g", "empty", "");

    bool exists = false;
    s_ok (client, zstore_client_exists (client, "g", "k", &exists));
    assert_true (exists);
    s_ok (client, zstore_client_exists (client, "g", "nope", &exists));
    assert_false (exists);

    uint64_t rev = 0;
    s_ok (client, zstore_client_delete (client, "g", "k", NULL, &rev));
    assert_true (rev > rev2);
    s_assert_absent (client, "g", "k");
    s_ok (client, zstore_client_delete (client, "g", "k", NULL, &rev));
    assert_int_equal (rev, 0);                      //  nothing to delete
}

static void
test_compare_and_set (void **state)
{
    fixture_t *fixture = *state;
    zstore_client_t *client = fixture->client;
    zstore_write_opts_t opts = ZSTORE_WRITE_OPTS;
    uint64_t rev = 0;
    opts.if_rev = 0;                                //  must not exist
    s_ok (client, zstore_client_set (client, "cas", "k", "1", 1, &opts, &rev));
    uint64_t first = rev;
    s_expect (client, zstore_client_set (client, "cas", "k", "2", 1, &opts, &rev),
              ZSTORE_CONFLICT);
    assert_int_equal (rev, 0);
    assert_non_null (strstr (zstore_client_error (client), "conflict"));

    opts.if_rev = (int64_t) first;
    opts.retry_safe = true;                         //  an if_rev set is
    s_ok (client, zstore_client_set (client, "cas", "k", "2", 1, &opts, &rev));
    uint64_t second = rev;
    assert_true (second > first);
    s_expect (client, zstore_client_set (client, "cas", "k", "3", 1, &opts, &rev),
              ZSTORE_CONFLICT);                     //  stale revision
    s_assert_value (client, "cas", "k", "2");

    s_expect (client, zstore_client_delete (client, "cas", "k", &opts, &rev), ZSTORE_CONFLICT);
    opts.if_rev = (int64_t) second;
    s_ok (client, zstore_client_delete (client, "cas", "k", &opts, &rev));
    s_assert_absent (client, "cas", "k");
}

static void
test_ttl_and_purge (void **state)
{
    fixture_t *fixture = *state;
    zstore_client_t *client = fixture->client;
    uint64_t now = 0;
    s_ok (client, zstore_client_ping (client, NULL, NULL, &now));
    zstore_write_opts_t opts = ZSTORE_WRITE_OPTS;
    opts.has_ttl = true;
    opts.ttl_ms = ONE_HOUR;
    s_ok (client, zstore_client_set (client, "ttl", "k", "v", 1, &opts, NULL));
    zstore_entry_t entry;
    s_ok (client, zstore_client_get (client, "ttl", "k", &entry));
    assert_true (entry.expires_at >= now + ONE_HOUR);
    assert_true (entry.expires_at < now + 2 * ONE_HOUR);
    zstore_entry_clear (&entry);

    //  A set without TTL clears it.
    s_set (client, "ttl", "k", "w");
    s_ok (client, zstore_client_get (client, "ttl", "k", &entry));
    assert_int_equal (entry.expires_at, 0);
    zstore_entry_clear (&entry);

    //  ttl <= 0 writes already expired keys: invisible, then purged.
    opts.ttl_ms = 0;
    s_ok (client, zstore_client_set (client, "ttl", "gone1", "x", 1, &opts, NULL));
    opts.ttl_ms = -5;
    s_ok (client, zstore_client_set (client, "ttl", "gone2", "x", 1, &opts, NULL));
    s_ok (client, zstore_client_set (client, "ttl", "gone3", "x", 1, &opts, NULL));
    uint64_t count = 0;
    s_ok (client, zstore_client_count (client, "ttl", &count));
    assert_int_equal (count, 1);
    uint64_t removed = 0, rev = 0;
    s_ok (client, zstore_client_purge (client, 2, &removed, &rev));
    assert_int_equal (removed, 2);
    assert_true (rev > 0);
    s_ok (client, zstore_client_purge (client, 0, &removed, &rev));
    assert_int_equal (removed, 1);
    s_ok (client, zstore_client_purge (client, 0, &removed, &rev));
    assert_int_equal (removed, 0);
    assert_int_equal (rev, 0);
    s_assert_absent (client, "ttl", "gone1");
    s_assert_value (client, "ttl", "k", "w");
}

//  --- Groups and pages -----------------------------------------------------

static void
test_groups_counts_and_deletes (void **state)
{
    fixture_t *fixture = *state;
    zstore_client_t *client = fixture->client;
    s_set (client, "app-b", "x", "1");
    s_set (client, "app-a", "y", "2");
    s_set (client, "app-a", "x", "3");
    s_set (client, "other", "z", "4");

    zstore_entries_t names;
    s_ok (client, zstore_client_groups (client, NULL, &names));
    const char *all [] = { "app-a", "app-b", "other" };
    s_assert_names (&names, all, COUNT (all));
    zstore_entries_clear (&names);
    s_ok (client, zstore_client_groups (client, "app-", &names));
    s_assert_names (&names, all, 2);
    zstore_entries_clear (&names);
    assert_null (names.entries);

    uint64_t count = 0;
    s_ok (client, zstore_client_count (client, "app-a", &count));
    assert_int_equal (count, 2);
    s_ok (client, zstore_client_count_all (client, NULL, &count));
    assert_int_equal (count, 4);
    s_ok (client, zstore_client_count_all (client, "app-", &count));
    assert_int_equal (count, 3);

    zstore_entries_t items;
    s_ok (client, zstore_client_get_all (client, "app-a", &items));
    assert_int_equal (items.size, 2);
    assert_string_equal (items.entries [0].key, "x");   //  ascending key order
    assert_string_equal (items.entries [0].value, "3");
    assert_string_equal (items.entries [1].key, "y");
    assert_true (items.entries [1].mod_rev > 0);
    zstore_entries_clear (&items);

    bool exists = false;
    uint64_t rev = 0;
    s_ok (client, zstore_client_group_exists (client, "app-a", &exists));
    assert_true (exists);
    s_ok (client, zstore_client_delete_group (client, "app-a", &rev));
    assert_true (rev > 0);
    s_ok (client, zstore_client_group_exists (client, "app-a", &exists));
    assert_false (exists);
    s_ok (client, zstore_client_delete_group (client, "app-a", &rev));
    assert_int_equal (rev, 0);

    s_ok (client, zstore_client_delete_prefix (client, "app-", &rev));
    assert_true (rev > 0);
    s_ok (client, zstore_client_count_all (client, NULL, &count));
    assert_int_equal (count, 1);
    s_expect (client, zstore_client_delete_prefix (client, NULL, &rev), ZSTORE_ARGUMENT);
    s_ok (client, zstore_client_count_all (client, NULL, &count));
    assert_int_equal (count, 1);
}

static void
test_pages_by_offset_and_cursor (void **state)
{
    fixture_t *fixture = *state;
    zstore_client_t *client = fixture->client;
    for (int index = 0; index < 25; index++) {
        char key [16];
        snprintf (key, sizeof key, "k%02d", index);
        s_set (client, "pages", key, key);
    }
    zstore_entries_t page;
    s_ok (client, zstore_client_get_page (client, "pages", 0, 10, NULL, &page));
    assert_int_equal (page.size, 10);
    assert_true (page.more);
    assert_string_equal (page.entries [0].key, "k00");
    zstore_entries_clear (&page);
    s_ok (client, zstore_client_get_page (client, "pages", 20, 10, NULL, &page));
    assert_int_equal (page.size, 5);
    assert_false (page.more);
    assert_string_equal (page.entries [0].key, "k20");
    assert_string_equal (page.entries [0].value, "k20");
    zstore_entries_clear (&page);

    //  A cursor: the last key of each page.
    char after [16] = "";
    int seen = 0, pages = 0;
    bool more = true;
    while (more) {
        s_ok (client, zstore_client_get_page (client, "pages", 0, 10, pages ? after : NULL,
                                              &page));
        for (size_t index = 0; index < page.size; index++) {
            char expected [16];
            snprintf (expected, sizeof expected, "k%02d", seen++);
            assert_string_equal (page.entries [index].key, expected);
        }
        if (page.size)
            snprintf (after, sizeof after, "%s", page.entries [page.size - 1].key);
        more = page.more;
        pages++;
        zstore_entries_clear (&page);
    }
    assert_int_equal (seen, 25);
    assert_int_equal (pages, 3);
}

//  --- Values ---------------------------------------------------------------

static void
test_split_fields_render (void **state)
{
    fixture_t *fixture = *state;
    zstore_client_t *client = fixture->client;
    s_set (client, "v", "csv", "a,b,,c");
    s_set (client, "v", "text", "  x y\tz ");
    zstore_entries_t parts;
    s_ok (client, zstore_client_get_split (client, "v", "csv", ",", &parts));
    const char *split [] = { "a", "b", "", "c" };
    s_assert_names (&parts, split, COUNT (split));
    zstore_entries_clear (&parts);
    s_ok (client, zstore_client_get_fields (client, "v", "text", &parts));
    const char *fields [] = { "x", "y", "z" };
    s_assert_names (&parts, fields, COUNT (fields));
    zstore_entries_clear (&parts);

    s_set (client, "page", "greeting", "Hello");
    s_set (client, "page", "name", "World");
    char *output = NULL;
    size_t size = 0;
    s_ok (client, zstore_client_render (client, "page", "{{ .greeting }}, {{ .name }}!",
                                        &output, &size));
    assert_string_equal (output, "Hello, World!");
    assert_int_equal (size, 13);
    free (output);
    s_expect (client, zstore_client_render (client, "page", "Hello {{ .name ", &output, &size),
              ZSTORE_INVALID);
    assert_null (output);
    assert_non_null (strstr (zstore_client_error (client), "parse"));
}

//  --- Namespaces -----------------------------------------------------------

static void
test_namespace_and_quota (void **state)
{
    fixture_t *fixture = *state;
    zstore_client_t *client = fixture->client;
    s_ok (client, zstore_client_set_namespace (client, "quota-k"));
    assert_string_equal (zstore_client_namespace (client), "quota-k");
    s_set (client, "g", "a", "1");
    s_set (client, "g", "b", "2");
    s_set (client, "h", "c", "3");
    uint64_t rev = 0;
    s_expect (client, zstore_client_set (client, "g", "d", "4", 1, NULL, &rev),
              ZSTORE_QUOTA_EXCEEDED);
    assert_true (strlen (zstore_client_error (client)) > 0);
    s_set (client, "g", "a", "updated");            //  an update creates no key

    //  Pipelined requests carry the namespace too.
    zstore_request_t *request = zstore_request_new ("get");
    zstore_request_add_str (request, "group", "g");
    zstore_request_add_str (request, "key", "a");
    uint64_t id = zstore_client_send (client, request);
    zstore_request_destroy (&request);
    zstore_reply_t *reply = zstore_client_recv (client, id, 5000);
    assert_int_equal (zstore_reply_status (reply), ZSTORE_OK);
    zstore_reply_destroy (&reply);

    zstore_entries_t names;
    s_ok (client, zstore_client_groups (client, NULL, &names));
    const char *stripped [] = { "g", "h" };
    s_assert_names (&names, stripped, COUNT (stripped));
    zstore_entries_clear (&names);

    //  Bad names are refused before sending; the namespace stays.
    const char *bad [] = { "", "a b", "a:b", "ns/x", "tenant_a", "é" };
    for (size_t index = 0; index < COUNT (bad); index++) {
        s_expect (client, zstore_client_set_namespace (client, bad [index]), ZSTORE_ARGUMENT);
        assert_true (strlen (zstore_client_error (client)) > 0);
        assert_string_equal (zstore_client_namespace (client), "quota-k");
    }

    //  Without a namespace: the stored names.
    s_ok (client, zstore_client_set_namespace (client, NULL));
    assert_null (zstore_client_namespace (client));
    s_assert_value (client, "quota-k:g", "a", "updated");
    s_assert_absent (client, "quota-k:g", "d");
    uint64_t count = 0;
    s_ok (client, zstore_client_count_all (client, "quota-k:", &count));
    assert_int_equal (count, 3);
}

//  --- Transactions ---------------------------------------------------------

static void
test_txn_commits (void **state)
{
    fixture_t *fixture = *state;
    zstore_client_t *client = fixture->client;
    s_set (client, "t", "old", "x");
    zstore_txn_t *txn = zstore_txn_new ();
    s_ok (client, zstore_txn_set (txn, "t", "a", "1", 1, NULL));
    s_ok (client, zstore_txn_set (txn, "t", "b", "2", 1, NULL));
    s_ok (client, zstore_txn_get (txn, "t", "a"));
    s_ok (client, zstore_txn_count (txn, "t"));
    s_ok (client, zstore_txn_exists (txn, "t", "zz"));
    s_ok (client, zstore_txn_delete (txn, "t", "old", -1));
    s_ok (client, zstore_txn_get (txn, "t", "missing"));
    assert_int_equal (zstore_txn_size (txn), 7);
    assert_int_equal (zstore_txn_get (txn, NULL, "k"), ZSTORE_ARGUMENT);
    uint64_t rev = 99;
    s_expect (client, zstore_client_txn (client, txn, &rev), ZSTORE_ARGUMENT);
    assert_int_equal (rev, 0);                      //  a refused add spoils the txn
    zstore_txn_destroy (&txn);
    s_assert_absent (client, "t", "a");

    txn = zstore_txn_new ();
    zstore_txn_set (txn, "t", "a", "1", 1, NULL);
    zstore_txn_set (txn, "t", "b", "2", 1, NULL);
    zstore_txn_get (txn, "t", "a");
    zstore_txn_count (txn, "t");
    zstore_txn_exists (txn, "t", "zz");
    zstore_txn_delete (txn, "t", "old", -1);
    zstore_txn_get (txn, "t", "missing");
    s_ok (client, zstore_client_txn (client, txn, &rev));
    assert_true (rev > 0);
    assert_int_equal (zstore_txn_failed_index (txn), -1);
    for (size_t index = 0; index < 6; index++)
        assert_int_equal (zstore_txn_result_status (txn, index), ZSTORE_OK);
    assert_int_equal (zstore_txn_result_status (txn, 6), ZSTORE_NOT_FOUND);
    zstore_entry_t entry;
    s_ok (client, zstore_txn_result_entry (txn, 2, &entry));
    assert_string_equal (entry.key, "a");
    assert_string_equal (entry.value, "1");
    assert_int_equal (entry.mod_rev, rev);
    zstore_entry_clear (&entry);
    assert_int_equal (zstore_txn_result_entry (txn, 6, &entry), ZSTORE_NOT_FOUND);
    assert_int_equal (zstore_txn_result_count (txn, 3), 3);     //  a, b, old
    assert_false (zstore_txn_result_exists (txn, 4));
    assert_int_equal (zstore_txn_result_status (txn, 7), ZSTORE_ARGUMENT);
    zstore_txn_destroy (&txn);

    //  One revision for all of it.
    assert_int_equal (s_assert_value (client, "t", "a", "1"), rev);
    assert_int_equal (s_assert_value (client, "t", "b", "2"), rev);
    s_assert_absent (client, "t", "old");
}

static void
test_txn_failure_applies_nothing (void **state)
{
    fixture_t *fixture = *state;
    zstore_client_t *client = fixture->client;
    s_set (client, "t", "taken", "x");
    uint64_t before = 0;
    s_ok (client, zstore_client_ping (client, NULL, &before, NULL));
    zstore_txn_t *txn = zstore_txn_new ();
    zstore_write_opts_t must_be_new = ZSTORE_WRITE_OPTS;
    must_be_new.if_rev = 0;
    zstore_txn_set (txn, "t", "new", "n", 1, NULL);
    zstore_txn_set (txn, "t", "taken", "y", 1, &must_be_new);
    zstore_txn_delete_group (txn, "t");
    uint64_t rev = 99;
    s_expect (client, zstore_client_txn (client, txn, &rev), ZSTORE_CONFLICT);
    assert_int_equal (rev, 0);
    assert_int_equal (zstore_txn_failed_index (txn), 1);
    assert_int_equal (zstore_txn_result_status (txn, 1), ZSTORE_CONFLICT);
    assert_int_equal (zstore_txn_result_status (txn, 0), ZSTORE_ARGUMENT);   //  no result
    zstore_txn_destroy (&txn);
    s_assert_absent (client, "t", "new");
    s_assert_value (client, "t", "taken", "x");
    uint64_t after = 0;
    s_ok (client, zstore_client_ping (client, NULL, &after, NULL));
    assert_int_equal (after, before);

    //  Under a namespace: the quota fails the txn at its index.
    s_ok (client, zstore_client_set_namespace (client, "quota-k"));
    txn = zstore_txn_new ();
    zstore_txn_set (txn, "q", "1", "1", 1, NULL);
    zstore_txn_set (txn, "q", "2", "2", 1, NULL);
    zstore_txn_set (txn, "q", "3", "3", 1, NULL);
    zstore_txn_set (txn, "q", "4", "4", 1, NULL);
    s_expect (client, zstore_client_txn (client, txn, &rev), ZSTORE_QUOTA_EXCEEDED);
    assert_int_equal (zstore_txn_failed_index (txn), 3);
    zstore_txn_destroy (&txn);
    uint64_t count = 99;
    s_ok (client, zstore_client_count (client, "q", &count));
    assert_int_equal (count, 0);
}

//  --- Pipelining -----------------------------------------------------------

#define IN_FLIGHT 1000

static void
test_pipelined_sets_collected_in_reverse (void **state)
{
    fixture_t *fixture = *state;
    zstore_client_t *client = fixture->client;
    uint64_t *ids = calloc (IN_FLIGHT, sizeof (uint64_t));
    for (int index = 0; index < IN_FLIGHT; index++) {
        char key [16];
        snprintf (key, sizeof key, "k%04d", index);
        zstore_request_t *request = zstore_request_new ("set");
        zstore_request_add_bytes (request, "group", "pipe", 4);
        zstore_request_add_str (request, "key", key);
        zstore_request_add_str (request, "value", key);
        ids [index] = zstore_client_send (client, request);
        assert_true (ids [index] > 0);
        zstore_request_destroy (&request);
    }
    assert_int_equal (zstore_client_pending (client), IN_FLIGHT);
    //  Every reply arrives while we wait for the last: all are kept.
    bool *revs_seen = calloc (IN_FLIGHT + 16, sizeof (bool));
    for (int index = IN_FLIGHT - 1; index >= 0; index--) {
        zstore_reply_t *reply = zstore_client_recv (client, ids [index], 10000);
        if (!reply)
            fail_msg ("reply %d: %s", index, zstore_client_error (client));
        assert_int_equal (zstore_reply_id (reply), ids [index]);
        assert_int_equal (zstore_reply_status (reply), ZSTORE_OK);
        assert_string_equal (zstore_reply_error (reply), "");
        uint64_t rev = 0;
        assert_true (zstore_reply_uint (reply, "rev", &rev));
        assert_true (rev > fixture->broker->revision);
        assert_true (rev <= fixture->broker->revision + IN_FLIGHT);
        assert_false (revs_seen [rev - fixture->broker->revision]);
        revs_seen [rev - fixture->broker->revision] = true;
        zstore_reply_destroy (&reply);
    }
    assert_int_equal (zstore_client_pending (client), 0);
    uint64_t count = 0;
    s_ok (client, zstore_client_count (client, "pipe", &count));
    assert_int_equal (count, IN_FLIGHT);
    s_assert_value (client, "pipe", "k0999", "k0999");

    //  Collected already: not pending.
    assert_null (zstore_client_recv (client, ids [0], 100));
    assert_non_null (strstr (zstore_client_error (client), "not pending"));
    assert_null (zstore_client_recv (client, 0, 100));
    free (revs_seen);
    free (ids);
}

static void
test_pipelined_replies_survive_blocking_calls (void **state)
{
    fixture_t *fixture = *state;
    zstore_client_t *client = fixture->client;
    s_set (client, "g", "k", "v");
    uint64_t ids [5];
    for (size_t index = 0; index < COUNT (ids); index++) {
        zstore_request_t *request = zstore_request_new ("get");
        zstore_request_add_str (request, "group", "g");
        zstore_request_add_str (request, "key", index % 2 ? "k" : "absent");
        ids [index] = zstore_client_send (client, request);
        zstore_request_destroy (&request);
    }
    //  A blocking call in between receives those replies and keeps them.
    s_ok (client, zstore_client_ping (client, NULL, NULL, NULL));
    s_set (client, "g", "k2", "v2");
    assert_int_equal (zstore_client_pending (client), COUNT (ids));

    //  Collected in any order (0: whichever first).
    bool seen [COUNT (ids)] = { false };
    for (size_t round = 0; round < COUNT (ids); round++) {
        zstore_reply_t *reply = zstore_client_recv (client, 0, 5000);
        assert_non_null (reply);
        size_t index = 0;
        while (index < COUNT (ids) && ids [index] != zstore_reply_id (reply))
            index++;
        assert_true (index < COUNT (ids));
        assert_false (seen [index]);
        seen [index] = true;
        if (index % 2) {
            const char *value;
            size_t size;
            assert_int_equal (zstore_reply_status (reply), ZSTORE_OK);
            assert_true (zstore_reply_bytes (reply, "value", &value, &size));
            assert_int_equal (size, 1);
            assert_string_equal (value, "v");
        }
        else {
            assert_int_equal (zstore_reply_status (reply), ZSTORE_NOT_FOUND);
            assert_true (strlen (zstore_reply_error (reply)) > 0);
        }
        zstore_reply_destroy (&reply);
    }
    assert_null (zstore_client_recv (client, 0, 0));
    assert_non_null (strstr (zstore_client_error (client), "no request is pending"));
}

//  --- Generic requests and JSON -------------------------------------------

static void
test_generic_requests_and_json (void **state)
{
    fixture_t *fixture = *state;
    zstore_client_t *client = fixture->client;
    //  A group with a NUL byte, only reachable through (data, size).
    zstore_request_t *request = zstore_request_new ("set");
    zstore_request_add_bytes (request, "group", "g\0x", 3);
    zstore_request_add_bytes (request, "key", "k", 1);
    zstore_request_add_bytes (request, "value", "a\"b\\\n\x01\xc3\xa9", 8);
    zstore_reply_t *reply = NULL;
    s_ok (client, zstore_client_call (client, request, &reply));
    zstore_request_destroy (&request);
    uint64_t rev = 0;
    assert_true (zstore_reply_uint (reply, "rev", &rev));
    assert_false (zstore_reply_uint (reply, "absent", &rev));
    assert_false (zstore_reply_bool (reply, "rev", NULL));     //  wrong type
    zstore_reply_destroy (&reply);

    zstore_entries_t names;
    s_ok (client, zstore_client_groups (client, NULL, &names));
    assert_int_equal (names.size, 1);
    assert_int_equal (names.entries [0].key_size, 3);
    assert_memory_equal (names.entries [0].key, "g\0x", 4);
    zstore_entries_clear (&names);

    request = zstore_request_new ("get");
    zstore_request_add_bytes (request, "group", "g\0x", 3);
    zstore_request_add_bytes (request, "key", "k", 1);
    s_ok (client, zstore_client_call (client, request, &reply));
    zstore_request_destroy (&request);
    char *json = zstore_reply_json (reply);
    assert_non_null (strstr (json, "\"status\":0"));
    assert_non_null (strstr (json, "\"code\":\"ok\""));
    assert_non_null (strstr (json, "\"value\":\"a\\\"b\\\\\\n\\u0001\xc3\xa9\""));
    free (json);
    zstore_reply_destroy (&reply);

    //  Bytes that are not UTF-8: base64.
    s_ok (client, zstore_client_set (client, "bin", "k", "\xff\x00\x01", 3, NULL, NULL));
    s_ok (client, zstore_client_set (client, "bin", "bad", "\xed\xa0\x80", 3, NULL, NULL));
    s_ok (client, zstore_client_set (client, "bin", "over", "\xc0\xaf", 2, NULL, NULL));
    const char *keys [] = { "k", "bad", "over" };
    const char *expected [] = {
        "\"value\":{\"base64\":\"/wAB\"}", "\"value\":{\"base64\":\"7aCA\"}",
        "\"value\":{\"base64\":\"wK8=\"}"
    };
    for (size_t index = 0; index < COUNT (keys); index++) {
        request = zstore_request_new ("get");
        zstore_request_add_str (request, "group", "bin");
        zstore_request_add_str (request, "key", keys [index]);
        s_ok (client, zstore_client_call (client, request, &reply));
        zstore_request_destroy (&request);
        json = zstore_reply_json (reply);
        if (!strstr (json, expected [index]))
            fail_msg ("%s lacks %s", json, expected [index]);
        free (json);
        zstore_reply_destroy (&reply);
    }

    //  A broker error keeps its reply for the caller.
    request = zstore_request_new ("no_such_op");
    s_expect (client, zstore_client_call (client, request, &reply), ZSTORE_UNKNOWN_OP);
    zstore_request_destroy (&request);
    assert_int_equal (zstore_reply_status (reply), ZSTORE_UNKNOWN_OP);
    json = zstore_reply_json (reply);
    assert_non_null (strstr (json, "\"code\":\"unknown_op\""));
    free (json);
    zstore_reply_destroy (&reply);

    request = zstore_request_new ("get");
    zstore_request_add_str (request, "group", "g");
    s_expect (client, zstore_client_call (client, request, NULL), ZSTORE_BAD_REQUEST);
    assert_non_null (strstr (zstore_client_error (client), "key"));
    zstore_request_destroy (&request);
}

static void
test_arguments_are_checked (void **state)
{
    fixture_t *fixture = *state;
    zstore_client_t *client = fixture->client;
    zstore_entry_t entry;
    s_expect (client, zstore_client_get (client, NULL, "k", &entry), ZSTORE_ARGUMENT);
    s_expect (client, zstore_client_get (client, "g", NULL, &entry), ZSTORE_ARGUMENT);
    assert_true (strlen (zstore_client_error (client)) > 0);
    s_expect (client, zstore_client_set (client, "g", NULL, "v", 1, NULL, NULL),
              ZSTORE_ARGUMENT);
    s_expect (client, zstore_client_set (client, "g", "k", NULL, 1, NULL, NULL),
              ZSTORE_ARGUMENT);
    s_expect (client, zstore_client_render (client, "g", NULL, NULL, NULL), ZSTORE_ARGUMENT);
    s_expect (client, zstore_client_call (client, NULL, NULL), ZSTORE_ARGUMENT);
    assert_null (zstore_request_new (NULL));
    assert_int_equal (zstore_client_send (client, NULL), 0);
    assert_int_equal (zstore_client_ping (NULL, NULL, NULL, NULL), ZSTORE_ARGUMENT);
    zstore_request_t *request = zstore_request_new ("get");
    zstore_request_add_bytes (request, "group", NULL, 3);
    assert_int_equal (zstore_client_send (client, request), 0);
    zstore_request_destroy (&request);
    assert_int_equal (zstore_client_pending (client), 0);
    uint64_t count = 99;
    s_ok (client, zstore_client_count_all (client, NULL, &count));
    assert_int_equal (count, 0);                    //  nothing was written
}

//  --- Snapshots and stats --------------------------------------------------

#define SNAPSHOT_KEYS 3500

static void
test_snapshot_across_pages (void **state)
{
    fixture_t *fixture = *state;
    zstore_client_t *client = fixture->client;
    //  Filled pipelined, collected in order.
    uint64_t last_rev = 0;
    for (int batch = 0; batch < SNAPSHOT_KEYS; batch += 500) {
        for (int index = batch; index < batch + 500; index++) {
            char key [16];
            snprintf (key, sizeof key, "k%04d", index);
            zstore_request_t *request = zstore_request_new ("set");
            zstore_request_add_str (request, "group", "big");
            zstore_request_add_str (request, "key", key);
            zstore_request_add_bytes (request, "value", &index, sizeof index);
            assert_true (zstore_client_send (client, request) > 0);
            zstore_request_destroy (&request);
        }
        while (zstore_client_pending (client)) {
            zstore_reply_t *reply = zstore_client_recv (client, 0, 10000);
            assert_int_equal (zstore_reply_status (reply), ZSTORE_OK);
            uint64_t rev = 0;
            zstore_reply_uint (reply, "rev", &rev);
            last_rev = rev > last_rev ? rev : last_rev;
            zstore_reply_destroy (&reply);
        }
    }
    s_set (client, "small", "a", "1");
    s_ok (client, zstore_client_set_namespace (client, "tenant"));
    s_set (client, "g", "x", "2");
    s_ok (client, zstore_client_set_namespace (client, NULL));

    zstore_entries_t entries;
    uint64_t rev = 0;
    s_ok (client, zstore_client_snapshot (client, NULL, "big", NULL, NULL, &entries, &rev));
    assert_int_equal (entries.size, SNAPSHOT_KEYS);
    assert_true (rev >= last_rev);
    for (int index = 0; index < SNAPSHOT_KEYS; index++) {
        zstore_entry_t *entry = &entries.entries [index];
        char key [16];
        snprintf (key, sizeof key, "k%04d", index);
        assert_string_equal (entry->group, "big");
        assert_string_equal (entry->key, key);
        assert_int_equal (entry->value_size, sizeof index);
        assert_memory_equal (entry->value, &index, sizeof index);
    }
    zstore_entries_clear (&entries);

    //  Scopes: a key prefix, one key, a namespace, everything.
    s_ok (client, zstore_client_snapshot (client, NULL, "big", NULL, "k01", &entries, NULL));
    assert_int_equal (entries.size, 100);
    zstore_entries_clear (&entries);
    s_ok (client, zstore_client_snapshot (client, NULL, "big", "k0042", NULL, &entries, NULL));
    assert_int_equal (entries.size, 1);
    zstore_entries_clear (&entries);
    s_ok (client, zstore_client_snapshot (client, "tenant", NULL, NULL, NULL, &entries, NULL));
    assert_int_equal (entries.size, 1);
    assert_string_equal (entries.entries [0].group, "tenant:g");
    zstore_entries_clear (&entries);
    s_ok (client, zstore_client_snapshot (client, NULL, NULL, NULL, NULL, &entries, NULL));
    assert_int_equal (entries.size, SNAPSHOT_KEYS + 2);
    zstore_entries_clear (&entries);

    //  The client's namespace applies to a group scope.
    s_ok (client, zstore_client_set_namespace (client, "tenant"));
    s_ok (client, zstore_client_snapshot (client, NULL, "g", NULL, NULL, &entries, NULL));
    assert_int_equal (entries.size, 1);
    assert_string_equal (entries.entries [0].group, "tenant:g");
    assert_string_equal (entries.entries [0].value, "2");
    zstore_entries_clear (&entries);
    s_ok (client, zstore_client_set_namespace (client, NULL));

    //  Snapshots held open through generic requests use up the broker's
    //  places (2 here): busy, until one is closed.
    uint64_t held [2];
    for (size_t index = 0; index < COUNT (held); index++) {
        zstore_request_t *request = zstore_request_new ("snapshot");
        zstore_request_add_scope (request, NULL, "big", 3, NULL, 0, NULL, 0);
        zstore_request_add_uint (request, "limit", 1);
        zstore_reply_t *reply = NULL;
        s_ok (client, zstore_client_call (client, request, &reply));
        zstore_request_destroy (&request);
        assert_true (zstore_reply_uint (reply, "snapshot", &held [index]));
        s_ok (client, zstore_reply_entries (reply, "items", &entries));
        assert_int_equal (entries.size, 1);
        assert_string_equal (entries.entries [0].key, "k0000");
        assert_string_equal (entries.entries [0].group, "big");
        zstore_entries_clear (&entries);
        zstore_reply_destroy (&reply);
    }
    s_expect (client, zstore_client_snapshot (client, NULL, "small", NULL, NULL, &entries, &rev),
              ZSTORE_BUSY);
    assert_int_equal (rev, 0);
    zstore_request_t *close = zstore_request_new ("snapshot_close");
    zstore_request_add_uint (close, "snapshot", held [0]);
    s_ok (client, zstore_client_call (client, close, NULL));
    zstore_request_destroy (&close);
    s_ok (client, zstore_client_snapshot (client, NULL, "small", NULL, NULL, &entries, &rev));
    assert_int_equal (entries.size, 1);
    zstore_entries_clear (&entries);
    close = zstore_request_new ("snapshot_close");
    zstore_request_add_uint (close, "snapshot", held [1]);
    s_ok (client, zstore_client_call (client, close, NULL));
    zstore_request_destroy (&close);

    //  A bad scope is the broker's error, and nothing stays open.
    s_expect (client, zstore_client_snapshot (client, NULL, NULL, "k", NULL, &entries, NULL),
              ZSTORE_BAD_REQUEST);
    assert_int_equal (entries.size, 0);
    zstore_reply_t *stats = NULL;
    s_ok (client, zstore_client_stats (client, &stats));
    uint64_t open = 99;
    assert_true (zstore_reply_uint (stats, "snapshots_open", &open));
    assert_int_equal (open, 0);
    zstore_reply_destroy (&stats);
}

static void
test_stats (void **state)
{
    fixture_t *fixture = *state;
    zstore_client_t *client = fixture->client;
    s_set (client, "g", "k", "v");
    s_assert_absent (client, "g", "nope");
    zstore_reply_t *stats = NULL;
    s_ok (client, zstore_client_stats (client, &stats));
    uint64_t epoch = 0, rev = 0, uptime = 0;
    assert_true (zstore_reply_uint (stats, "epoch", &epoch));
    assert_int_equal (epoch, fixture->broker->epoch);
    assert_true (zstore_reply_uint (stats, "rev", &rev));
    assert_int_equal (rev, fixture->broker->revision + 1);
    assert_true (zstore_reply_uint (stats, "uptime_ms", &uptime));
    char *json = zstore_reply_json (stats);
    assert_non_null (strstr (json, "\"requests\":{"));
    assert_non_null (strstr (json, "\"set\":1"));
    assert_non_null (strstr (json, "\"not_found\":1"));
    free (json);
    zstore_reply_destroy (&stats);
    assert_int_equal (zstore_client_stats (client, NULL), ZSTORE_ARGUMENT);
}

//  --- Lost replies ---------------------------------------------------------

//  No broker at all: a read times out after its retries; a write's outcome
//  is unknown (it may sit in a queue and reach a broker later).
static void
test_no_broker (void **state)
{
    (void) state;
    char *dir = testkit_tempdir ();
    char endpoint [512];
    snprintf (endpoint, sizeof endpoint, "ipc://%s/nobody", dir);
    zstore_client_t *client = zstore_client_new (endpoint, NULL);
    assert_non_null (client);
    zstore_client_set_timeout (client, 300);
    zstore_client_set_retries (client, 1);
    assert_int_equal (zstore_client_timeout (client), 300);
    zstore_entry_t entry;
    s_expect (client, zstore_client_get (client, "g", "k", &entry), ZSTORE_TIMEOUT);
    assert_non_null (strstr (zstore_client_error (client), "2 attempts"));
    s_expect (client, zstore_client_set (client, "g", "k", "v", 1, NULL, NULL),
              ZSTORE_OUTCOME_UNKNOWN);
    assert_non_null (strstr (zstore_client_error (client), "may or may not"));
    zstore_write_opts_t opts = ZSTORE_WRITE_OPTS;
    opts.retry_safe = true;
    s_expect (client, zstore_client_set (client, "g", "k", "v", 1, &opts, NULL),
              ZSTORE_OUTCOME_UNKNOWN);
    assert_non_null (strstr (zstore_client_error (client), "2 attempts"));
    zstore_request_t *request = zstore_request_new ("ping");
    uint64_t id = zstore_client_send (client, request);
    zstore_request_destroy (&request);
    assert_true (id > 0);
    assert_null (zstore_client_recv (client, id, 100));
    assert_non_null (strstr (zstore_client_error (client), "no reply"));
    assert_int_equal (zstore_client_pending (client), 1);
    zstore_client_destroy (&client);
    testkit_tempdir_remove (&dir);
}

//  A frozen broker: the client gives up, reconnects, forgets the requests
//  of the old socket, and works again once the broker does.
static void
test_frozen_broker (void **state)
{
    fixture_t *fixture = *state;
    zstore_client_t *client = fixture->client;
    s_set (client, "g", "k", "v");
    zstore_client_set_timeout (client, 300);
    zstore_client_set_retries (client, 0);
    assert_int_equal (kill (fixture->broker->pid, SIGSTOP), 0);

    zstore_request_t *request = zstore_request_new ("ping");
    uint64_t id = zstore_client_send (client, request);
    zstore_request_destroy (&request);
    assert_null (zstore_client_recv (client, id, 50));
    assert_int_equal (zstore_client_pending (client), 1);      //  still expected
    zstore_entry_t entry;
    s_expect (client, zstore_client_get (client, "g", "k", &entry), ZSTORE_TIMEOUT);
    //  The reconnect dropped the pipelined request with the old socket.
    assert_int_equal (zstore_client_pending (client), 0);
    assert_null (zstore_client_recv (client, id, 0));
    assert_non_null (strstr (zstore_client_error (client), "not pending"));
    s_expect (client, zstore_client_set (client, "g", "k2", "v", 1, NULL, NULL),
              ZSTORE_OUTCOME_UNKNOWN);
    s_expect (client, zstore_client_delete (client, "g", "k", NULL, NULL),
              ZSTORE_OUTCOME_UNKNOWN);
    assert_non_null (strstr (zstore_client_error (client), "delete:"));

    //  The old sockets' requests are answered to nobody; ours to us.
    assert_int_equal (kill (fixture->broker->pid, SIGCONT), 0);
    zstore_client_set_timeout (client, 5000);
    uint64_t epoch = 0;
    s_ok (client, zstore_client_ping (client, &epoch, NULL, NULL));
    assert_int_equal (epoch, fixture->broker->epoch);
    s_set (client, "g", "k3", "after");
    s_assert_value (client, "g", "k3", "after");
    assert_int_equal (zstore_client_pending (client), 0);
}

//  Resumes a frozen broker after a while (in a thread): the client's first
//  attempt has timed out by then, a retry succeeds.
#define RESUME_AFTER_MS 700
static pid_t s_frozen_pid;

static void
s_resumer (zsock_t *pipe, void *args)
{
    (void) args;
    zsock_signal (pipe, 0);
    zpoller_t *poller = zpoller_new (pipe, NULL);
    zpoller_wait (poller, RESUME_AFTER_MS);
    zpoller_destroy (&poller);
    kill (s_frozen_pid, SIGCONT);
    char *command = zstr_recv (pipe);               //  $TERM
    zstr_free (&command);
}

static void
test_read_retried_after_lost_reply (void **state)
{
    fixture_t *fixture = *state;
    zstore_client_t *client = fixture->client;
    s_set (client, "g", "k", "v");
    zstore_client_set_timeout (client, 400);
    zstore_client_set_retries (client, 8);
    s_frozen_pid = fixture->broker->pid;
    assert_int_equal (kill (fixture->broker->pid, SIGSTOP), 0);
    zactor_t *resumer = zactor_new (s_resumer, NULL);
    s_assert_value (client, "g", "k", "v");         //  by a retry on a new socket
    zactor_destroy (&resumer);
}

//  SIGKILL and a restart on the same endpoints: the client carries on by
//  itself, and what was acknowledged is there.
static void
test_broker_restart (void **state)
{
    fixture_t *fixture = *state;
    char fixed_requests [64], fixed_events [64];
    broker_restartable_endpoints (fixed_requests, fixed_events, sizeof fixed_requests);
    zstore_client_destroy (&fixture->client);
    broker_stop (&fixture->broker, SIGTERM);
    fixture->broker = broker_start (fixture->db_path, s_config, fixed_requests, fixed_events);
    fixture->client = zstore_client_new (fixed_requests, fixed_events);
    zstore_client_t *client = fixture->client;
    uint64_t rev = s_set (client, "durable", "k", "acknowledged");
    char requests [256], events [256];
    snprintf (requests, sizeof requests, "%s", fixture->broker->requests);
    snprintf (events, sizeof events, "%s", fixture->broker->events);
    uint64_t old_epoch = fixture->broker->epoch;
    broker_stop (&fixture->broker, SIGKILL);
    fixture->broker = broker_start (fixture->db_path, s_config, requests, events);
    assert_string_equal (fixture->broker->requests, requests);

    zstore_client_set_timeout (client, 1000);
    zstore_client_set_retries (client, 5);
    assert_int_equal (s_assert_value (client, "durable", "k", "acknowledged"), rev);
    uint64_t epoch = 0;
    s_ok (client, zstore_client_ping (client, &epoch, NULL, NULL));
    assert_int_not_equal (epoch, old_epoch);
    assert_true (s_set (client, "durable", "k2", "new") > rev);
}

int
main (void)
{
#define TEST(name) cmocka_unit_test_setup_teardown (name, s_setup, s_teardown)
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_code_names),
        cmocka_unit_test (test_endpoints_are_checked),
        TEST (test_ping),
        TEST (test_set_get_exists_delete),
        TEST (test_compare_and_set),
        TEST (test_ttl_and_purge),
        TEST (test_groups_counts_and_deletes),
        TEST (test_pages_by_offset_and_cursor),
        TEST (test_split_fields_render),
        TEST (test_namespace_and_quota),
        TEST (test_txn_commits),
        TEST (test_txn_failure_applies_nothing),
        TEST (test_pipelined_sets_collected_in_reverse),
        TEST (test_pipelined_replies_survive_blocking_calls),
        TEST (test_generic_requests_and_json),
        TEST (test_arguments_are_checked),
        TEST (test_snapshot_across_pages),
        TEST (test_stats),
        cmocka_unit_test (test_no_broker),
        TEST (test_frozen_broker),
        TEST (test_read_retried_after_lost_reply),
        TEST (test_broker_restart),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
