/*  zstore_cli_watch - `zstore watch`: one line per change, until SIGINT or
    SIGTERM (czmq's handler turns both into zsys_interrupted), then exit 0.

    The watch (zstore_watch.h) does the hard part: the sync handshake, gap
    detection, replay from history, resync. This file picks the scope from
    the arguments and prints what comes out, flushing every line so that a
    pipe reader sees each change as it happens.
*/

#include "zstore_cli.h"

#include <czmq.h>

//  How long one wait for a change lasts: the loop looks at
//  zsys_interrupted at least this often.
#define WAIT_MS 1000

static void
s_print_change (zstore_cli_t *cli, const zstore_change_t *change)
{
    bool has_value = change->type == ZSTORE_CHANGE_SET || change->type == ZSTORE_CHANGE_STATE;
    if (cli->json) {
        fputs ("{\"type\": ", stdout);
        zstore_cli_print_json_str (stdout, zstore_change_type_name (change->type));
        fputs (", \"group\": ", stdout);
        zstore_cli_print_json_bytes (stdout, change->group, change->group ? change->group_size : 0);
        fputs (", \"key\": ", stdout);
        zstore_cli_print_json_bytes (stdout, change->key, change->key ? change->key_size : 0);
        if (has_value) {
            fputs (", \"value\": ", stdout);
            zstore_cli_print_json_bytes (stdout, change->value,
                                         change->value ? change->value_size : 0);
        }
        printf (", \"rev\": %llu, \"prev_rev\": %llu, \"ts\": %llu, \"expires_at\": %llu}\n",
                (unsigned long long) change->rev, (unsigned long long) change->prev_rev,
                (unsigned long long) change->ts, (unsigned long long) change->expires_at);
    }
    else {
        printf ("%llu\t%s\t", (unsigned long long) change->rev,
                zstore_change_type_name (change->type));
        zstore_cli_print_escaped (stdout, change->group, change->group ? change->group_size : 0);
        putchar ('\t');
        zstore_cli_print_escaped (stdout, change->key, change->key ? change->key_size : 0);
        if (has_value) {
            putchar ('\t');
            zstore_cli_print_escaped (stdout, change->value,
                                      change->value ? change->value_size : 0);
        }
        putchar ('\n');
    }
    fflush (stdout);
}

//  The watch the arguments name; NULL (after a message) if it cannot start.
static zstore_watch_t *
s_watch_new (zstore_cli_t *cli)
{
    const char *group = cli->argc > 0 ? cli->argv [0] : "*";
    const char *key = cli->argc > 1 ? cli->argv [1] : "*";
    zstore_watch_t *watch = cli->prefix
        ? zstore_watch_new_prefix (cli->client, group, cli->prefix)
        : zstore_watch_new (cli->client, group, key);
    if (!watch) {
        const char *message = zstore_client_error (cli->client);
        fprintf (stderr, "zstore: watch: cannot start: %s\n",
                 message && *message ? message : "no answer from the broker");
    }
    return watch;
}

static void
s_print_watching (zstore_cli_t *cli, zstore_watch_t *watch)
{
    fputs ("watching ", stderr);
    if (cli->ns)
        fprintf (stderr, "namespace %s, ", cli->ns);
    if (cli->argc == 0)
        fputs ("everything", stderr);
    else {
        fputs ("group ", stderr);
        zstore_cli_print_escaped (stderr, cli->argv [0], strlen (cli->argv [0]));
    }
    if (cli->argc > 1) {
        fputs (", key ", stderr);
        zstore_cli_print_escaped (stderr, cli->argv [1], strlen (cli->argv [1]));
    }
    if (cli->prefix) {
        fputs (", keys starting with ", stderr);
        zstore_cli_print_escaped (stderr, cli->prefix, strlen (cli->prefix));
    }
    fprintf (stderr, ", from rev %llu\n", (unsigned long long) zstore_watch_rev (watch));
    fflush (stderr);
}

//  A failed repair: say so once per kind of failure, then wait (on the
//  socket, so a change still wakes us) before the watch tries again.
static void
s_report_failure (zstore_cli_t *cli, zstore_watch_t *watch, int code, int *last_code)
{
    if (code != *last_code) {
        const char *message = zstore_client_error (cli->client);
        fprintf (stderr, "zstore: watch: %s: %s; retrying\n", zstore_code_name (code),
                 message && *message ? message : "repair failed");
        *last_code = code;
    }
    zpoller_t *poller = zpoller_new (zstore_watch_socket (watch), NULL);
    if (poller)
        zpoller_wait (poller, WAIT_MS);
    zpoller_destroy (&poller);
}

int
zstore_cli_watch (zstore_cli_t *cli)
{
    if (cli->prefix && (cli->argc != 1 || streq (cli->argv [0], "*")))
        return zstore_cli_usage_error (cli, "--prefix needs one GROUP (not *) and no KEY");
    zsys_init ();                   //  installs the SIGINT/SIGTERM handler
    zstore_watch_t *watch = s_watch_new (cli);
    if (!watch)
        return ZSTORE_EXIT_UNREACHABLE;
    s_print_watching (cli, watch);
    int last_code = ZSTORE_OK;
    while (!zsys_interrupted) {
        zstore_change_t change;
        int rc = zstore_watch_next (watch, &change, WAIT_MS);
        if (rc == ZSTORE_OK) {
            s_print_change (cli, &change);
            last_code = ZSTORE_OK;
        }
        else
        if (rc != ZSTORE_TIMEOUT && rc != ZSTORE_INTERRUPTED)
            s_report_failure (cli, watch, rc, &last_code);
    }
    zstore_watch_destroy (&watch);
    return ZSTORE_EXIT_OK;
}
