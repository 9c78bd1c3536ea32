/*  zstore_cli_ops - the zstore commands that are one request (or a loop of
    pages): get, exists, set, del, del-group, del-prefix, purge, keys,
    groups, count, render, snapshot, stats, ping. Each prints text, or JSON
    with --json, and returns an exit code.
*/

#include "zstore_cli.h"

#include <czmq.h>
#include <time.h>

//  "rev N" or {"rev": N}: what every write prints.
static int
s_print_rev (zstore_cli_t *cli, uint64_t rev)
{
    if (cli->json)
        printf ("{\"rev\": %llu}\n", (unsigned long long) rev);
    else
        printf ("rev %llu\n", (unsigned long long) rev);
    return ZSTORE_EXIT_OK;
}

//  The value (or render output) as text: the bytes and a newline, or with
//  --raw the bytes alone.
static int
s_print_value (zstore_cli_t *cli, const char *data, size_t size)
{
    if (!zstore_cli_write (stdout, data, size) || (!cli->raw && putchar ('\n') == EOF)) {
        fprintf (stderr, "zstore: %s: cannot write the output\n", cli->command->name);
        return ZSTORE_EXIT_BROKER;
    }
    return ZSTORE_EXIT_OK;
}

int
zstore_cli_get (zstore_cli_t *cli)
{
    zstore_entry_t entry = { 0 };
    int rc = zstore_client_get (cli->client, cli->argv [0], cli->argv [1], &entry);
    if (rc != ZSTORE_OK) {
        zstore_entry_clear (&entry);
        return zstore_cli_fail (cli, rc);
    }
    int exit_code = ZSTORE_EXIT_OK;
    if (cli->json) {
        //  A get's entry carries no group: name the one asked for.
        zstore_entry_t view = entry;
        view.group = cli->argv [0];
        view.group_size = strlen (cli->argv [0]);
        zstore_cli_print_json_entry (stdout, &view, true);
        putchar ('\n');
    }
    else
        exit_code = s_print_value (cli, entry.value, entry.value_size);
    zstore_entry_clear (&entry);
    return exit_code;
}

//  true or false, and the exit code says it too (for `if zstore exists`).
int
zstore_cli_exists (zstore_cli_t *cli)
{
    bool exists = false;
    int rc = zstore_client_exists (cli->client, cli->argv [0], cli->argv [1], &exists);
    if (rc != ZSTORE_OK)
        return zstore_cli_fail (cli, rc);
    if (cli->json)
        printf ("{\"exists\": %s}\n", exists ? "true" : "false");
    else
        printf ("%s\n", exists ? "true" : "false");
    return exists ? ZSTORE_EXIT_OK : ZSTORE_EXIT_NOT_FOUND;
}

int
zstore_cli_set (zstore_cli_t *cli)
{
    char *value = NULL;
    size_t size = 0;
    if (!zstore_cli_value (cli->argv [2], &value, &size)) {
        fprintf (stderr, "zstore: set: cannot read the value from stdin\n");
        return ZSTORE_EXIT_USAGE;
    }
    zstore_write_opts_t opts = ZSTORE_WRITE_OPTS;
    opts.has_ttl = cli->has_ttl;
    opts.ttl_ms = cli->ttl_ms;
    opts.if_rev = cli->if_rev;
    //  Writing a fixed value twice is harmless; a second if_rev write
    //  would report a false conflict, so that one stays "outcome unknown".
    opts.retry_safe = cli->if_rev < 0;
    uint64_t rev = 0;
    int rc = zstore_client_set (cli->client, cli->argv [0], cli->argv [1], value, size, &opts,
                                &rev);
    free (value);
    return rc == ZSTORE_OK ? s_print_rev (cli, rev) : zstore_cli_fail (cli, rc);
}

int
zstore_cli_del (zstore_cli_t *cli)
{
    zstore_write_opts_t opts = ZSTORE_WRITE_OPTS;
    opts.if_rev = cli->if_rev;
    opts.retry_safe = cli->if_rev < 0;
    uint64_t rev = 0;
    int rc = zstore_client_delete (cli->client, cli->argv [0], cli->argv [1], &opts, &rev);
    return rc == ZSTORE_OK ? s_print_rev (cli, rev) : zstore_cli_fail (cli, rc);
}

int
zstore_cli_del_group (zstore_cli_t *cli)
{
    uint64_t rev = 0;
    int rc = zstore_client_delete_group (cli->client, cli->argv [0], &rev);
    return rc == ZSTORE_OK ? s_print_rev (cli, rev) : zstore_cli_fail (cli, rc);
}

int
zstore_cli_del_prefix (zstore_cli_t *cli)
{
    uint64_t rev = 0;
    int rc = zstore_client_delete_prefix (cli->client, cli->argv [0], &rev);
    return rc == ZSTORE_OK ? s_print_rev (cli, rev) : zstore_cli_fail (cli, rc);
}

int
zstore_cli_purge (zstore_cli_t *cli)
{
    uint64_t max = 0;
    if (cli->argc == 1 && (!zstore_cli_parse_uint (cli->argv [0], &max) || max == 0))
        return zstore_cli_usage_error (cli, "MAX must be a positive number: %s", cli->argv [0]);
    uint64_t removed = 0, rev = 0;
    int rc = zstore_client_purge (cli->client, max, &removed, &rev);
    if (rc != ZSTORE_OK)
        return zstore_cli_fail (cli, rc);
    if (cli->json)
        printf ("{\"removed\": %llu, \"rev\": %llu}\n", (unsigned long long) removed,
                (unsigned long long) rev);
    else
        printf ("removed %llu\nrev %llu\n", (unsigned long long) removed,
                (unsigned long long) rev);
    return ZSTORE_EXIT_OK;
}

//  --- keys: pages of a group ----------------------------------------------

//  One page after the cursor (size bytes, may hold NUL: the generic request
//  keeps them), or at offset when there is no cursor.
static int
s_get_page (zstore_cli_t *cli, const char *after, size_t after_size, bool has_after,
            zstore_entries_t *page)
{
    zstore_request_t *request = zstore_request_new ("get_page");
    if (!request)
        return ZSTORE_NO_MEMORY;
    zstore_request_add_str (request, "group", cli->argv [0]);
    zstore_request_add_uint (request, "limit", cli->limit);
    if (has_after)
        zstore_request_add_bytes (request, "after", after, after_size);
    else
        zstore_request_add_uint (request, "offset", cli->offset);
    zstore_reply_t *reply = NULL;
    int rc = zstore_client_call (cli->client, request, &reply);
    if (rc == ZSTORE_OK)
        rc = zstore_reply_entries (reply, "items", page);
    if (rc == ZSTORE_OK && !zstore_reply_bool (reply, "more", &page->more))
        rc = ZSTORE_PROTOCOL_ERROR;
    zstore_reply_destroy (&reply);
    zstore_request_destroy (&request);
    return rc;
}

static void
s_print_item (zstore_cli_t *cli, const zstore_entry_t *entry, bool *first)
{
    if (cli->json) {
        fputs (*first ? "" : ", ", stdout);
        zstore_cli_print_json_entry (stdout, entry, true);
    }
    else {
        zstore_cli_print_escaped (stdout, entry->key, entry->key_size);
        putchar ('\t');
        zstore_cli_print_escaped (stdout, entry->value, entry->value_size);
        putchar ('\n');
    }
    *first = false;
}

//  After the last page printed: whether more follow, and the cursor.
static void
s_print_keys_end (zstore_cli_t *cli, const char *cursor, size_t cursor_size, bool more)
{
    if (cli->json) {
        printf ("], \"more\": %s", more ? "true" : "false");
        if (more) {
            fputs (", \"next\": ", stdout);
            zstore_cli_print_json_bytes (stdout, cursor, cursor_size);
        }
        fputs ("}\n", stdout);
    }
    else
    if (more) {
        fputs ("zstore: keys: more follow; next page: --after ", stderr);
        zstore_cli_print_escaped (stderr, cursor, cursor_size);
        fputc ('\n', stderr);
    }
}

int
zstore_cli_keys (zstore_cli_t *cli)
{
    if (cli->after && cli->offset)
        return zstore_cli_usage_error (cli, "--after and --offset exclude each other");
    //  The cursor: the last key printed (its own copy, pages are freed).
    char *cursor = cli->after ? strdup (cli->after) : NULL;
    size_t cursor_size = cursor ? strlen (cursor) : 0;
    bool has_cursor = cursor != NULL, first = true, more = true;
    int rc = ZSTORE_OK;
    bool started = false;
    while (rc == ZSTORE_OK && more) {
        zstore_entries_t page = { 0 };
        rc = s_get_page (cli, cursor, cursor_size, has_cursor, &page);
        if (rc == ZSTORE_OK) {
            if (cli->json && !started)
                fputs ("{\"items\": [", stdout);
            started = true;
            for (size_t index = 0; index < page.size; index++)
                s_print_item (cli, &page.entries [index], &first);
            more = page.more && page.size > 0;
            if (page.size > 0) {
                const zstore_entry_t *last = &page.entries [page.size - 1];
                free (cursor);
                cursor = malloc (last->key_size + 1);
                if (cursor)
                    memcpy (cursor, last->key, last->key_size);
                cursor_size = last->key_size;
                has_cursor = true;
                rc = cursor ? ZSTORE_OK : ZSTORE_NO_MEMORY;
            }
        }
        zstore_entries_clear (&page);
        if (!cli->all)
            break;
    }
    int exit_code = ZSTORE_EXIT_OK;
    if (rc == ZSTORE_OK)
        s_print_keys_end (cli, cursor, cursor_size, more);
    else {
        if (started && cli->json)
            fputs ("]}\n", stdout);     //  keep what was printed valid JSON
        exit_code = zstore_cli_fail (cli, rc);
    }
    free (cursor);
    return exit_code;
}

//  --- groups and count ----------------------------------------------------

int
zstore_cli_groups (zstore_cli_t *cli)
{
    zstore_entries_t names = { 0 };
    int rc = zstore_client_groups (cli->client, cli->argc ? cli->argv [0] : NULL, &names);
    if (rc != ZSTORE_OK) {
        zstore_entries_clear (&names);
        return zstore_cli_fail (cli, rc);
    }
    if (cli->json)
        fputs ("{\"groups\": [", stdout);
    for (size_t index = 0; index < names.size; index++) {
        const zstore_entry_t *name = &names.entries [index];
        if (cli->json) {
            fputs (index ? ", " : "", stdout);
            zstore_cli_print_json_bytes (stdout, name->key, name->key_size);
        }
        else {
            zstore_cli_print_escaped (stdout, name->key, name->key_size);
            putchar ('\n');
        }
    }
    if (cli->json)
        fputs ("]}\n", stdout);
    zstore_entries_clear (&names);
    return ZSTORE_EXIT_OK;
}

int
zstore_cli_count (zstore_cli_t *cli)
{
    if ((cli->argc == 1) == (cli->prefix != NULL))
        return zstore_cli_usage_error (cli, "give a GROUP or --prefix PREFIX");
    uint64_t count = 0;
    int rc = cli->prefix ? zstore_client_count_all (cli->client, cli->prefix, &count)
                         : zstore_client_count (cli->client, cli->argv [0], &count);
    if (rc != ZSTORE_OK)
        return zstore_cli_fail (cli, rc);
    if (cli->json)
        printf ("{\"count\": %llu}\n", (unsigned long long) count);
    else
        printf ("%llu\n", (unsigned long long) count);
    return ZSTORE_EXIT_OK;
}

//  --- render --------------------------------------------------------------

int
zstore_cli_render (zstore_cli_t *cli)
{
    char *template_text = NULL;
    size_t template_size = 0;
    if (!zstore_cli_value (cli->argv [1], &template_text, &template_size)) {
        fprintf (stderr, "zstore: render: cannot read the template from stdin\n");
        return ZSTORE_EXIT_USAGE;
    }
    if (memchr (template_text, 0, template_size)) {
        free (template_text);
        return zstore_cli_usage_error (cli, "the template holds a NUL byte");
    }
    template_text [template_size] = 0;
    char *output = NULL;
    size_t output_size = 0;
    int rc = zstore_client_render (cli->client, cli->argv [0], template_text, &output,
                                   &output_size);
    free (template_text);
    int exit_code = ZSTORE_EXIT_OK;
    if (rc != ZSTORE_OK)
        exit_code = zstore_cli_fail (cli, rc);
    else
    if (cli->json) {
        fputs ("{\"output\": ", stdout);
        zstore_cli_print_json_bytes (stdout, output, output_size);
        fputs ("}\n", stdout);
    }
    else
        exit_code = s_print_value (cli, output, output_size);
    free (output);
    return exit_code;
}

//  --- snapshot ------------------------------------------------------------

int
zstore_cli_snapshot (zstore_cli_t *cli)
{
    const char *group = cli->argc > 0 ? cli->argv [0] : NULL;
    const char *key = cli->argc > 1 ? cli->argv [1] : NULL;
    if (cli->prefix && (!group || key))
        return zstore_cli_usage_error (cli, "--prefix needs a GROUP and no KEY");
    zstore_entries_t entries = { 0 };
    uint64_t rev = 0;
    //  A group is already under the client's namespace; without one, the
    //  namespace itself is the scope.
    int rc = zstore_client_snapshot (cli->client, group ? NULL : cli->ns, group, key,
                                     cli->prefix, &entries, &rev);
    if (rc != ZSTORE_OK) {
        zstore_entries_clear (&entries);
        return zstore_cli_fail (cli, rc);
    }
    if (cli->json)
        printf ("{\"rev\": %llu, \"items\": [", (unsigned long long) rev);
    for (size_t index = 0; index < entries.size; index++) {
        const zstore_entry_t *entry = &entries.entries [index];
        if (cli->json) {
            fputs (index ? ", " : "", stdout);
            zstore_cli_print_json_entry (stdout, entry, true);
            continue;
        }
        zstore_cli_print_escaped (stdout, entry->group, entry->group_size);
        putchar ('\t');
        zstore_cli_print_escaped (stdout, entry->key, entry->key_size);
        putchar ('\t');
        zstore_cli_print_escaped (stdout, entry->value, entry->value_size);
        putchar ('\n');
    }
    if (cli->json)
        fputs ("]}\n", stdout);
    else
        fprintf (stderr, "rev %llu, %zu keys\n", (unsigned long long) rev, entries.size);
    zstore_entries_clear (&entries);
    return ZSTORE_EXIT_OK;
}

//  --- stats and ping ------------------------------------------------------

int
zstore_cli_stats (zstore_cli_t *cli)
{
    static const char *counters [] = {
        "epoch", "rev", "uptime_ms", "clients", "dropped", "events", "history_first",
        "history_last", "snapshots_open", "db_bytes", "batches", "batched", "flushes", "held",
        "wal_restarts"
    };
    zstore_reply_t *reply = NULL;
    int rc = zstore_client_stats (cli->client, &reply);
    if (rc != ZSTORE_OK) {
        zstore_reply_destroy (&reply);
        return zstore_cli_fail (cli, rc);
    }
    if (cli->json) {
        char *json = zstore_reply_json (reply);
        if (json)
            printf ("%s\n", json);
        free (json);
        rc = json ? ZSTORE_OK : ZSTORE_NO_MEMORY;
    }
    else
        for (size_t index = 0; index < sizeof counters / sizeof counters [0]; index++) {
            uint64_t value;
            if (zstore_reply_uint (reply, counters [index], &value))
                printf ("%s %llu\n", counters [index], (unsigned long long) value);
        }
    zstore_reply_destroy (&reply);
    return rc == ZSTORE_OK ? ZSTORE_EXIT_OK : zstore_cli_fail (cli, rc);
}

int
zstore_cli_ping (zstore_cli_t *cli)
{
    uint64_t epoch = 0, rev = 0, broker_time = 0;
    int64_t started = zclock_usecs ();
    int rc = zstore_client_ping (cli->client, &epoch, &rev, &broker_time);
    double round_trip_ms = (double) (zclock_usecs () - started) / 1000.0;
    if (rc != ZSTORE_OK)
        return zstore_cli_fail (cli, rc);
    if (cli->json) {
        printf ("{\"epoch\": %llu, \"rev\": %llu, \"time\": %llu, \"round_trip_ms\": %.3f}\n",
                (unsigned long long) epoch, (unsigned long long) rev,
                (unsigned long long) broker_time, round_trip_ms);
        return ZSTORE_EXIT_OK;
    }
    time_t seconds = (time_t) (broker_time / 1000);
    struct tm utc;
    char clock_text [32] = "?";
    if (gmtime_r (&seconds, &utc))
        strftime (clock_text, sizeof clock_text, "%Y-%m-%dT%H:%M:%S", &utc);
    printf ("pong: epoch %llu, rev %llu, broker clock %s.%03lluZ, round trip %.3f ms\n",
            (unsigned long long) epoch, (unsigned long long) rev, clock_text,
            (unsigned long long) (broker_time % 1000), round_trip_ms);
    return ZSTORE_EXIT_OK;
}
