/*  zstore - the command-line client of a zstore broker.

    This file is the frame: the option table, the command table, help
    text, connecting, and the mapping of result codes to exit codes. The
    commands themselves live in zstore_cli_ops.c, zstore_cli_txn.c and
    zstore_cli_watch.c (see zstore_cli.h).
*/

#include "zstore_cli.h"

#include <czmq.h>
#include <errno.h>
#include <stdarg.h>

#define DEFAULT_REQUESTS    "tcp://127.0.0.1:5670"
#define DEFAULT_EVENTS      "tcp://127.0.0.1:5671"
#define DEFAULT_TIMEOUT_MS  5000
#define DEFAULT_LIMIT       100

static int s_help (zstore_cli_t *cli);

//  --- The commands --------------------------------------------------------

static const zstore_cli_command_t s_commands [] = {
    { "get", zstore_cli_get, 2, 2, ZSTORE_OPT_RAW, true,
      "GROUP KEY [--raw]",
      "print a value",
      "Prints the value of KEY in GROUP and a newline; --raw prints its exact\n"
      "bytes and nothing else. --json: {group, key, value, create_rev, mod_rev,\n"
      "expires_at} (expires_at: Unix ms, 0 = never). Exit 1 if the key is\n"
      "absent or expired.\n" },
    { "exists", zstore_cli_exists, 2, 2, 0, true,
      "GROUP KEY",
      "say whether a key exists",
      "Prints true if KEY is in GROUP (and not expired), else false; the exit\n"
      "code says it too: 0 if it exists, 1 if not. --json: {exists}.\n" },
    { "set", zstore_cli_set, 3, 3, ZSTORE_OPT_TTL | ZSTORE_OPT_IF_REV, true,
      "GROUP KEY VALUE|- [--ttl DURATION] [--if-rev REV]",
      "store a value",
      "Stores VALUE under KEY in GROUP; with - the value is all of stdin, byte\n"
      "for byte (to store a literal \"-\": printf - | zstore set GROUP KEY -).\n"
      "  --ttl DURATION  the key expires after it: 500ms, 30s, 5m, 2h, 1d (a bare\n"
      "                  number is ms); without it any earlier TTL is cleared\n"
      "  --if-rev REV    only if the key's mod_rev is REV (0: only if it does not\n"
      "                  exist); else exit 3 (conflict)\n"
      "Prints \"rev N\", the revision it committed (--json: {rev}).\n" },
    { "del", zstore_cli_del, 2, 2, ZSTORE_OPT_IF_REV, true,
      "GROUP KEY [--if-rev REV]",
      "delete a key",
      "Deletes KEY from GROUP. Deleting a missing key is not an error: it prints\n"
      "\"rev 0\" (nothing changed).\n"
      "  --if-rev REV    only if the key's mod_rev is REV; else exit 3 (conflict)\n" },
    { "del-group", zstore_cli_del_group, 1, 1, 0, true,
      "GROUP",
      "delete every key of a group",
      "Deletes every key of GROUP at once (one revision, one event).\n"
      "Prints \"rev N\" (0 if the group had no keys).\n" },
    { "del-prefix", zstore_cli_del_prefix, 1, 1, 0, true,
      "PREFIX",
      "delete every group whose name starts with PREFIX",
      "Deletes, atomically, every group whose name starts with PREFIX (byte\n"
      "exact; with --ns, inside the namespace). Prints \"rev N\".\n" },
    { "purge", zstore_cli_purge, 0, 1, 0, true,
      "[MAX]",
      "remove expired keys now",
      "Removes the keys whose TTL has passed (at most MAX of them; with --ns,\n"
      "the namespace's), as one change with an expire event per key; the\n"
      "broker also does this by itself in small steps (timers/purge-interval).\n"
      "Prints \"removed N\" and \"rev R\" (rev 0: nothing had expired).\n"
      "--json: {removed, rev}.\n" },
    { "keys", zstore_cli_keys, 1, 1,
      ZSTORE_OPT_LIMIT | ZSTORE_OPT_AFTER | ZSTORE_OPT_OFFSET | ZSTORE_OPT_ALL, true,
      "GROUP [--limit N] [--after KEY | --offset N] [--all]",
      "list the keys and values of a group, a page at a time",
      "Prints one page of GROUP, in ascending key order: one line per key,\n"
      "KEY<tab>VALUE. When more keys follow, says so on stderr with the cursor\n"
      "to pass as --after for the next page.\n"
      "  --limit N       keys per page (default 100)\n"
      "  --after KEY     start after KEY (the cursor: the last key of the page before)\n"
      "  --offset N      skip N keys instead\n"
      "  --all           every page, to the end\n"
      "--json: {items: [{key, value, create_rev, mod_rev, expires_at}], more,\n"
      "next} (next: the cursor, present when more is true).\n" },
    { "groups", zstore_cli_groups, 0, 1, 0, true,
      "[PREFIX]",
      "list the groups (that start with PREFIX)",
      "Prints the groups that hold live keys, one per line, ascending; with\n"
      "PREFIX only those whose name starts with it. --json: {groups: [...]}.\n" },
    { "count", zstore_cli_count, 0, 1, ZSTORE_OPT_PREFIX, true,
      "GROUP | --prefix PREFIX",
      "count the keys of a group, or of the groups starting with PREFIX",
      "Prints the number of live keys in GROUP, or with --prefix in every group\n"
      "whose name starts with PREFIX (--prefix '' counts the whole store, or\n"
      "with --ns the namespace). --json: {count}.\n" },
    { "render", zstore_cli_render, 2, 2, ZSTORE_OPT_RAW, true,
      "GROUP TEMPLATE|- [--raw]",
      "render a template against a group",
      "Renders TEMPLATE (or stdin with -) with the keys of GROUP, on the\n"
      "broker, and prints the output and a newline (--raw: exactly the output).\n"
      "The language is go-store's, a subset of Go's text/template: {{ .name }},\n"
      "{{ index . \"any key\" }}, {{- trim -}}, comments (broker/engine/\n"
      "zstore_template.h). Exit 3 (invalid) on a template error.\n"
      "--json: {output}.\n" },
    { "txn", zstore_cli_txn, 0, 0, 0, true,
      "< OPERATIONS",
      "run operations from stdin in one transaction",
      "Reads operations from stdin, one per line, and runs them in one\n"
      "transaction: all of them apply, at one revision, or none does.\n"
      "\n"
      "  set GROUP KEY VALUE [--ttl DURATION] [--if-rev REV]\n"
      "  del GROUP KEY [--if-rev REV]\n"
      "  get GROUP KEY\n"
      "  exists GROUP KEY\n"
      "  count GROUP\n"
      "  del-group GROUP\n"
      "  del-prefix PREFIX\n"
      "\n"
      "Words are separated by spaces or tabs. A word with spaces or other bytes\n"
      "is written in double quotes, with C escapes: \"two words\", \"a\\tb\",\n"
      "\"\\x00\\xff\", \"\\\"\", \"\\\\\"; \"\" is the empty string. Blank lines and lines\n"
      "starting with # are skipped.\n"
      "\n"
      "Prints one line per operation, INDEX<tab>OP<tab>STATUS and for get the\n"
      "value, for count the count, for exists true/false; then \"rev N\". A get\n"
      "of a missing key does not fail the transaction (status not_found). When\n"
      "an operation fails (conflict, quota_exceeded...) nothing is applied, the\n"
      "failing operation is named on stderr, and the exit code is 3.\n"
      "--json: {rev, results: [{op, status, value | count | exists}]}.\n" },
    { "watch", zstore_cli_watch, 0, 2, ZSTORE_OPT_PREFIX, true,
      "[GROUP [KEY]] [--prefix PREFIX]",
      "print every change as it happens, until interrupted",
      "Watches changes and prints one line per change, in revision order,\n"
      "exactly once, until SIGINT (Ctrl-C) or SIGTERM; then exits 0.\n"
      "  (nothing)          everything (with --ns: the whole namespace)\n"
      "  GROUP              every key of GROUP (* = any group)\n"
      "  GROUP KEY          one key (GROUP * = every key; * KEY = KEY in any group)\n"
      "  GROUP --prefix P   the keys of GROUP starting with P\n"
      "Once the watch is live it prints \"watching ...\" on stderr. Each change:\n"
      "REV<tab>TYPE<tab>GROUP<tab>KEY and for set the value (GROUP is the stored\n"
      "name, \"ns:group\" under a namespace). TYPE is set, delete, delete_group,\n"
      "expire; after a gap too old to replay, resync and then the whole scope\n"
      "as state lines. Lost events are replayed from the broker's history.\n"
      "--json: one object per line: {type, group, key, value, rev, prev_rev, ts,\n"
      "expires_at}.\n" },
    { "snapshot", zstore_cli_snapshot, 0, 2, ZSTORE_OPT_PREFIX, true,
      "[GROUP [KEY]] [--prefix PREFIX]",
      "print a consistent copy of the store, a namespace, a group or a key",
      "Reads the scope at one revision (as watch names it, without wildcards;\n"
      "nothing = everything, or with --ns the namespace) and prints one line per\n"
      "key, GROUP<tab>KEY<tab>VALUE, then \"rev N\" on stderr.\n"
      "--json: {rev, items: [{group, key, value, create_rev, mod_rev,\n"
      "expires_at}]}.\n" },
    { "stats", zstore_cli_stats, 0, 0, 0, true,
      "",
      "print the broker's counters",
      "Prints the broker's counters, NAME VALUE per line; --json adds the\n"
      "per-operation and per-error counts (PROTOCOL.md 2.7).\n" },
    { "ping", zstore_cli_ping, 0, 0, 0, true,
      "",
      "check the broker answers",
      "Asks the broker for its epoch, revision and clock; prints them and the\n"
      "round trip. --json: {epoch, rev, time, round_trip_ms}. Exit 4 if it does\n"
      "not answer within --timeout.\n" },
    { "help", s_help, 0, 1, 0, false,
      "[COMMAND]",
      "this text, or a command's",
      "Prints the help of COMMAND, or of zstore.\n" },
};

#define COMMAND_COUNT (sizeof s_commands / sizeof s_commands [0])

static const zstore_cli_command_t *
s_command_by_name (const char *name)
{
    for (size_t index = 0; index < COMMAND_COUNT; index++)
        if (streq (s_commands [index].name, name))
            return &s_commands [index];
    return NULL;
}

//  --- Help ----------------------------------------------------------------

static void
s_print_usage (FILE *out)
{
    fputs ("usage: zstore [OPTIONS] COMMAND [ARGUMENTS]\n"
           "\n"
           "The command-line client of a zstore broker.\n"
           "\n"
           "Commands:\n", out);
    for (size_t index = 0; index < COMMAND_COUNT; index++)
        fprintf (out, "  %-11s %s\n", s_commands [index].name, s_commands [index].summary);
    fputs ("\n"
           "Options (before or after the command):\n"
           "  --requests ENDPOINT  the broker's request socket (else $ZSTORE_REQUESTS,\n"
           "                       else " DEFAULT_REQUESTS ")\n"
           "  --events ENDPOINT    its event socket, for watch (else $ZSTORE_EVENTS,\n"
           "                       else " DEFAULT_EVENTS ")\n"
           "  --ns NAMESPACE       work inside a namespace: GROUP means NAMESPACE:GROUP\n"
           "  --timeout MS         wait this long for a reply (default 5000); a read is\n"
           "                       re-sent twice before it gives up\n"
           "  --json               machine-readable output: one JSON object (watch: one\n"
           "                       per line); errors too, as {status, code, error}\n"
           "  -h, --help           this text; `zstore help COMMAND` for one command\n"
           "  --                   what follows are arguments, even if they start with --\n"
           "\n"
           "Text output: get and render print the value and a newline (--raw: the\n"
           "exact bytes). Listings print one item per line, fields separated by tabs;\n"
           "there backslash, tab, newline, other control bytes and bytes that are not\n"
           "UTF-8 are escaped as \\\\ \\t \\n \\r \\xHH. In JSON, byte strings that are\n"
           "valid UTF-8 are strings, others {\"base64\": \"...\"}.\n"
           "\n"
           "Exit codes:\n"
           "  0  ok\n"
           "  1  not found (get of a missing or expired key; exists: false)\n"
           "  2  usage error: unknown command or option, bad argument\n"
           "  3  the broker refused: conflict, quota_exceeded, invalid, too_large, ...;\n"
           "     or a local failure (out of memory, output not writable)\n"
           "  4  no answer from the broker within --timeout (for a write: it may or\n"
           "     may not have been applied), or interrupted while waiting for one\n", out);
}

static void
s_print_command_help (FILE *out, const zstore_cli_command_t *command)
{
    fprintf (out, "usage: zstore [OPTIONS] %s %s\n\n%s\n", command->name, command->synopsis,
             command->summary);
    fprintf (out, "\n%s", command->help);
    fputs ("\nOptions of every command: --requests, --events, --ns, --timeout, --json\n"
           "(zstore --help, which also lists the exit codes).\n", out);
}

static int
s_help (zstore_cli_t *cli)
{
    if (cli->argc == 0) {
        s_print_usage (stdout);
        return ZSTORE_EXIT_OK;
    }
    const zstore_cli_command_t *command = s_command_by_name (cli->argv [0]);
    if (!command)
        return zstore_cli_usage_error (cli, "no command '%s'", cli->argv [0]);
    s_print_command_help (stdout, command);
    return ZSTORE_EXIT_OK;
}

//  --- Shared helpers ------------------------------------------------------

int
zstore_cli_exit_code (int code)
{
    switch (code) {
        case ZSTORE_OK:
            return ZSTORE_EXIT_OK;
        case ZSTORE_NOT_FOUND:
            return ZSTORE_EXIT_NOT_FOUND;
        case ZSTORE_ARGUMENT:
            return ZSTORE_EXIT_USAGE;
        case ZSTORE_TIMEOUT:
        case ZSTORE_OUTCOME_UNKNOWN:
        case ZSTORE_INTERRUPTED:
            return ZSTORE_EXIT_UNREACHABLE;
        default:
            return ZSTORE_EXIT_BROKER;
    }
}

int
zstore_cli_fail (zstore_cli_t *cli, int code)
{
    const char *message = cli->client ? zstore_client_error (cli->client) : "";
    if (!message || !*message)
        message = zstore_code_name (code);
    if (streq (message, zstore_code_name (code)))
        fprintf (stderr, "zstore: %s: %s\n", cli->command->name, message);
    else
        fprintf (stderr, "zstore: %s: %s: %s\n", cli->command->name, zstore_code_name (code),
                 message);
    if (cli->json) {
        printf ("{\"status\": %d, \"code\": ", code);
        zstore_cli_print_json_str (stdout, zstore_code_name (code));
        fputs (", \"error\": ", stdout);
        zstore_cli_print_json_str (stdout, message);
        fputs ("}\n", stdout);
    }
    return zstore_cli_exit_code (code);
}

int
zstore_cli_usage_error (zstore_cli_t *cli, const char *format, ...)
{
    fputs ("zstore: ", stderr);
    if (cli && cli->command)
        fprintf (stderr, "%s: ", cli->command->name);
    va_list args;
    va_start (args, format);
    vfprintf (stderr, format, args);
    va_end (args);
    if (cli && cli->command)
        fprintf (stderr, "\nusage: zstore %s %s (zstore help %s)\n", cli->command->name,
                 cli->command->synopsis, cli->command->name);
    else
        fputs ("\n(zstore --help lists the commands)\n", stderr);
    return ZSTORE_EXIT_USAGE;
}

bool
zstore_cli_parse_uint (const char *text, uint64_t *value)
{
    if (!text || *text < '0' || *text > '9')
        return false;
    errno = 0;
    char *end = NULL;
    unsigned long long parsed = strtoull (text, &end, 10);
    if (errno || *end)
        return false;
    *value = parsed;
    return true;
}

bool
zstore_cli_parse_ttl (const char *text, int64_t *ttl_ms)
{
    static const struct { const char *suffix; int64_t ms; } units [] = {
        { "", 1 }, { "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 },
        { "d", 86400000 }
    };
    if (!text || *text < '0' || *text > '9')
        return false;
    errno = 0;
    char *end = NULL;
    unsigned long long number = strtoull (text, &end, 10);
    if (errno)
        return false;
    for (size_t index = 0; index < sizeof units / sizeof units [0]; index++)
        if (streq (end, units [index].suffix)) {
            if (number == 0 || number > (unsigned long long) (INT64_MAX / units [index].ms))
                return false;
            *ttl_ms = (int64_t) number * units [index].ms;
            return true;
        }
    return false;
}

bool
zstore_cli_value (const char *argument, char **data_p, size_t *size_p)
{
    if (!streq (argument, "-")) {
        *size_p = strlen (argument);
        *data_p = malloc (*size_p + 1);
        if (!*data_p)
            return false;
        memcpy (*data_p, argument, *size_p + 1);
        return true;
    }
    size_t size = 0, capacity = 4096;
    char *data = malloc (capacity);
    while (data) {
        size += fread (data + size, 1, capacity - size, stdin);
        if (size < capacity)
            break;
        char *bigger = realloc (data, capacity * 2);
        if (!bigger)
            free (data);
        data = bigger;
        capacity *= 2;
    }
    if (!data || ferror (stdin)) {
        free (data);
        return false;
    }
    *data_p = data;
    *size_p = size;
    return true;
}

//  --- Options -------------------------------------------------------------

//  An option's effect; returns false if value is not acceptable.
typedef bool (s_option_fn) (zstore_cli_t *cli, const char *value);

//  Options that store their value, or note a flag.
#define S_STORE(name, field) \
    static bool name (zstore_cli_t *cli, const char *value) \
    { cli->field = value; return true; }
#define S_FLAG(name, field) \
    static bool name (zstore_cli_t *cli, const char *value) \
    { (void) value; cli->field = true; return true; }

S_STORE (s_opt_requests, requests)
S_STORE (s_opt_events, events)
S_STORE (s_opt_ns, ns)
S_STORE (s_opt_after, after)
S_STORE (s_opt_prefix, prefix)
S_FLAG (s_opt_json, json)
S_FLAG (s_opt_help, help)
S_FLAG (s_opt_all, all)
S_FLAG (s_opt_raw, raw)

static bool
s_opt_timeout (zstore_cli_t *cli, const char *value)
{
    uint64_t timeout;
    if (!zstore_cli_parse_uint (value, &timeout) || timeout == 0 || timeout > INT32_MAX)
        return false;
    cli->timeout_ms = (int) timeout;
    return true;
}

static bool
s_opt_ttl (zstore_cli_t *cli, const char *value)
{
    cli->has_ttl = true;
    return zstore_cli_parse_ttl (value, &cli->ttl_ms);
}

static bool
s_opt_if_rev (zstore_cli_t *cli, const char *value)
{
    uint64_t rev;
    if (!zstore_cli_parse_uint (value, &rev) || rev > INT64_MAX)
        return false;
    cli->if_rev = (int64_t) rev;
    return true;
}

static bool
s_opt_limit (zstore_cli_t *cli, const char *value)
{
    return zstore_cli_parse_uint (value, &cli->limit) && cli->limit > 0;
}

static bool
s_opt_offset (zstore_cli_t *cli, const char *value)
{
    return zstore_cli_parse_uint (value, &cli->offset);
}

typedef struct {
    const char *name;
    unsigned bit;                   //  0: global, every command takes it
    bool takes_value;
    s_option_fn *apply;
} s_option_t;

static const s_option_t s_options [] = {
    { "--requests", 0, true, s_opt_requests },
    { "--events", 0, true, s_opt_events },
    { "--ns", 0, true, s_opt_ns },
    { "--timeout", 0, true, s_opt_timeout },
    { "--json", 0, false, s_opt_json },
    { "--help", 0, false, s_opt_help },
    { "-h", 0, false, s_opt_help },
    { "--ttl", ZSTORE_OPT_TTL, true, s_opt_ttl },
    { "--if-rev", ZSTORE_OPT_IF_REV, true, s_opt_if_rev },
    { "--limit", ZSTORE_OPT_LIMIT, true, s_opt_limit },
    { "--after", ZSTORE_OPT_AFTER, true, s_opt_after },
    { "--offset", ZSTORE_OPT_OFFSET, true, s_opt_offset },
    { "--all", ZSTORE_OPT_ALL, false, s_opt_all },
    { "--prefix", ZSTORE_OPT_PREFIX, true, s_opt_prefix },
    { "--raw", ZSTORE_OPT_RAW, false, s_opt_raw },
};

//  An option word: "--name", "--name=value" or "-h". Anything else that
//  starts with "-" ("-", "-5") is an argument.
static bool
s_is_option (const char *word)
{
    return (word [0] == '-' && word [1] == '-' && word [2]) || streq (word, "-h");
}

static const s_option_t *
s_option_by_name (const char *word, size_t length)
{
    for (size_t index = 0; index < sizeof s_options / sizeof s_options [0]; index++)
        if (strlen (s_options [index].name) == length
        &&  memcmp (s_options [index].name, word, length) == 0)
            return &s_options [index];
    return NULL;
}

//  Applies argv [*index] (and its value); sets the option's bit in *seen.
static int
s_parse_option (zstore_cli_t *cli, int argc, char *argv [], int *index, unsigned *seen)
{
    const char *word = argv [*index];
    const char *equals = strchr (word, '=');
    size_t length = equals ? (size_t) (equals - word) : strlen (word);
    const s_option_t *option = s_option_by_name (word, length);
    if (!option)
        return zstore_cli_usage_error (NULL, "unknown option %.*s", (int) length, word);
    const char *value = NULL;
    if (option->takes_value) {
        if (equals)
            value = equals + 1;
        else
        if (*index + 1 < argc)
            value = argv [++*index];
        else
            return zstore_cli_usage_error (NULL, "%s needs a value", option->name);
    }
    else
    if (equals)
        return zstore_cli_usage_error (NULL, "%s takes no value", option->name);
    if (!option->apply (cli, value))
        return zstore_cli_usage_error (NULL, "bad value for %s: '%s'", option->name, value);
    *seen |= option->bit;
    return ZSTORE_EXIT_OK;
}

//  Fills cli from argv: options anywhere, the first argument is the
//  command, the rest its arguments. Returns an exit code (OK to go on).
static int
s_parse (zstore_cli_t *cli, int argc, char *argv [])
{
    cli->argv = calloc ((size_t) argc + 1, sizeof (char *));
    if (!cli->argv)
        return ZSTORE_EXIT_BROKER;
    unsigned seen = 0;
    bool options_ended = false;
    const char *command_name = NULL;
    for (int index = 1; index < argc; index++) {
        const char *word = argv [index];
        if (!options_ended && streq (word, "--"))
            options_ended = true;
        else
        if (!options_ended && s_is_option (word)) {
            int rc = s_parse_option (cli, argc, argv, &index, &seen);
            if (rc != ZSTORE_EXIT_OK)
                return rc;
        }
        else
        if (!command_name)
            command_name = word;
        else
            cli->argv [cli->argc++] = argv [index];
    }
    if (!command_name) {
        if (cli->help) {
            s_print_usage (stdout);
            return -1;
        }
        s_print_usage (stderr);
        return ZSTORE_EXIT_USAGE;
    }
    cli->command = s_command_by_name (command_name);
    if (!cli->command)
        return zstore_cli_usage_error (NULL, "no command '%s'", command_name);
    if (cli->help) {
        s_print_command_help (stdout, cli->command);
        return -1;
    }
    unsigned foreign = seen & ~cli->command->options;
    for (size_t index = 0; foreign && index < sizeof s_options / sizeof s_options [0]; index++)
        if (foreign & s_options [index].bit)
            return zstore_cli_usage_error (cli, "%s does not apply here", s_options [index].name);
    if (cli->argc < cli->command->min_args)
        return zstore_cli_usage_error (cli, "missing arguments");
    if (cli->argc > cli->command->max_args)
        return zstore_cli_usage_error (cli, "too many arguments");
    return ZSTORE_EXIT_OK;
}

//  --- Running -------------------------------------------------------------

static const char *
s_endpoint (const char *flag, const char *variable, const char *fallback)
{
    const char *from_env = getenv (variable);
    return flag ? flag : from_env && *from_env ? from_env : fallback;
}

static int
s_connect (zstore_cli_t *cli)
{
    const char *requests = s_endpoint (cli->requests, "ZSTORE_REQUESTS", DEFAULT_REQUESTS);
    const char *events = s_endpoint (cli->events, "ZSTORE_EVENTS", DEFAULT_EVENTS);
    cli->client = zstore_client_new (requests, events);
    if (!cli->client)
        return zstore_cli_usage_error (cli, "cannot use the endpoints %s and %s", requests,
                                       events);
    zstore_client_set_timeout (cli->client, cli->timeout_ms);
    if (cli->ns && zstore_client_set_namespace (cli->client, cli->ns) != ZSTORE_OK)
        return zstore_cli_usage_error (cli, "bad namespace '%s' (letters, digits and -)",
                                       cli->ns);
    return ZSTORE_EXIT_OK;
}

int
main (int argc, char *argv [])
{
    zstore_cli_t cli = {
        .timeout_ms = DEFAULT_TIMEOUT_MS,
        .if_rev = -1,
        .limit = DEFAULT_LIMIT,
    };
    int rc = s_parse (&cli, argc, argv);
    if (rc == ZSTORE_EXIT_OK && cli.command->needs_client)
        rc = s_connect (&cli);
    if (rc == ZSTORE_EXIT_OK)
        rc = cli.command->run (&cli);
    if (rc < 0)
        rc = ZSTORE_EXIT_OK;        //  help was asked for and printed
    zstore_client_destroy (&cli.client);
    free (cli.argv);
    if (fflush (stdout) != 0 && rc == ZSTORE_EXIT_OK) {
        fprintf (stderr, "zstore: cannot write the output: %s\n", strerror (errno));
        rc = ZSTORE_EXIT_BROKER;
    }
    return rc;
}
