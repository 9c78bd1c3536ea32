//  The `zstore` command, run as a real process against the real
//  zstore-broker on loopback: every subcommand, text and --json output
//  (each JSON document parsed here), --ns, values from stdin, txn from
//  stdin, the exit codes (not found, usage, broker refusal, no broker) and
//  watch as a long-running child stopped with SIGINT and SIGTERM. Every
//  wait is a poll with a deadline.

#define _GNU_SOURCE
#include "broker_harness.h"
#include "zstore_client.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#define DEADLINE_MS 60000           //  for a command to finish, a line to come

//  Namespace "small" holds at most two keys. The broker does not purge
//  by itself (for the purge command's figures).
#define CONFIG \
    "namespaces\n" \
    "    small\n" \
    "        max-keys = 2\n" \
    "timers\n" \
    "    purge-interval = 3600000\n"

typedef struct {
    int status;                     //  exit code, 128 + signal if killed
    char *out;                      //  stdout, NUL-terminated
    size_t out_size;
    char *err;                      //  stderr, NUL-terminated
    size_t err_size;
} run_t;

typedef struct {
    char *dir;
    broker_t *broker;
    run_t run;
} fixture_t;

//  --- Running the command -------------------------------------------------

static void
s_run_clear (run_t *run)
{
    free (run->out);
    free (run->err);
    memset (run, 0, sizeof *run);
}

static void
s_append (char **data, size_t *size, const char *bytes, size_t count)
{
    *data = realloc (*data, *size + count + 1);
    assert_non_null (*data);
    memcpy (*data + *size, bytes, count);
    *size += count;
    (*data) [*size] = 0;
}

//  The child's side: stdin, stdout, stderr on these fds, then exec.
static void
s_exec (int in, int out, int err, char **argv, const char *env_requests)
{
    dup2 (in, STDIN_FILENO);
    dup2 (out, STDOUT_FILENO);
    dup2 (err, STDERR_FILENO);
    signal (SIGPIPE, SIG_DFL);
    if (env_requests)
        setenv ("ZSTORE_REQUESTS", env_requests, 1);
    execv (ZSTORE_CLI_PATH, argv);
    _exit (127);
}

static int
s_exit_status (int status)
{
    return WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
}

//  Runs zstore with argv, feeding input on its stdin and collecting its
//  stdout and stderr until it exits.
static void
s_run_argv (run_t *run, char **argv, const char *input, size_t input_size,
            const char *env_requests)
{
    s_run_clear (run);
    s_append (&run->out, &run->out_size, "", 0);
    s_append (&run->err, &run->err_size, "", 0);
    int in [2], out [2], err [2];
    assert_int_equal (pipe (in), 0);
    assert_int_equal (pipe (out), 0);
    assert_int_equal (pipe (err), 0);
    pid_t pid = fork ();
    assert_true (pid >= 0);
    if (pid == 0) {
        close (in [1]);
        close (out [0]);
        close (err [0]);
        s_exec (in [0], out [1], err [1], argv, env_requests);
    }
    close (in [0]);
    close (out [1]);
    close (err [1]);
    fcntl (in [1], F_SETFL, O_NONBLOCK);
    int writer = in [1];
    size_t written = 0;
    if (input_size == 0) {
        close (writer);
        writer = -1;
    }
    struct pollfd items [3] = { { out [0], POLLIN, 0 }, { err [0], POLLIN, 0 },
                                { writer, POLLOUT, 0 } };
    int64_t deadline = zclock_mono () + DEADLINE_MS;
    while ((items [0].fd >= 0 || items [1].fd >= 0) && zclock_mono () < deadline) {
        items [2].fd = writer;
        if (poll (items, 3, 200) <= 0)
            continue;
        if (writer >= 0 && items [2].revents) {
            ssize_t sent = write (writer, input + written, input_size - written);
            if (sent > 0)
                written += (size_t) sent;
            if (sent < 0 || written == input_size) {
                close (writer);
                writer = -1;
            }
        }
        for (int index = 0; index < 2; index++) {
            if (items [index].fd < 0 || !items [index].revents)
                continue;
            char buffer [4096];
            ssize_t got = read (items [index].fd, buffer, sizeof buffer);
            if (got > 0 && index == 0)
                s_append (&run->out, &run->out_size, buffer, (size_t) got);
            else
            if (got > 0)
                s_append (&run->err, &run->err_size, buffer, (size_t) got);
            else {
                close (items [index].fd);
                items [index].fd = -1;
            }
        }
    }
    if (writer >= 0)
        close (writer);
    bool finished = items [0].fd < 0 && items [1].fd < 0;
    for (int index = 0; index < 2; index++)
        if (items [index].fd >= 0)
            close (items [index].fd);
    if (!finished)
        kill (pid, SIGKILL);
    int status;
    waitpid (pid, &status, 0);
    assert_true (finished);
    run->status = s_exit_status (status);
}

//  argv: the binary, the broker's endpoints (if broker), the arguments.
static char **
s_argv (broker_t *broker, const char *first, va_list args)
{
    char **argv = calloc (64, sizeof (char *));
    assert_non_null (argv);
    int argc = 0;
    argv [argc++] = (char *) ZSTORE_CLI_PATH;
    if (broker) {
        argv [argc++] = "--requests";
        argv [argc++] = broker->requests;
        argv [argc++] = "--events";
        argv [argc++] = broker->events;
    }
    for (const char *arg = first; arg; arg = va_arg (args, const char *)) {
        assert_true (argc < 63);
        argv [argc++] = (char *) arg;
    }
    return argv;
}

//  zstore against broker (NULL: no endpoints given) with these arguments
//  (NULL-terminated) and an empty stdin; returns the exit code.
static int
cli (run_t *run, broker_t *broker, const char *first, ...)
{
    va_list args;
    va_start (args, first);
    char **argv = s_argv (broker, first, args);
    va_end (args);
    s_run_argv (run, argv, NULL, 0, NULL);
    free (argv);
    return run->status;
}

//  The same with input on stdin.
static int
cli_input (run_t *run, broker_t *broker, const char *input, size_t input_size,
           const char *first, ...)
{
    va_list args;
    va_start (args, first);
    char **argv = s_argv (broker, first, args);
    va_end (args);
    s_run_argv (run, argv, input, input_size, NULL);
    free (argv);
    return run->status;
}

//  --- A small JSON checker: is the text one well-formed JSON value? ------

static const char *s_json_value (const char *p);

static const char *
s_json_space (const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    return p;
}

static const char *
s_json_string (const char *p)
{
    if (*p++ != '"')
        return NULL;
    while (*p != '"') {
        if ((unsigned char) *p < 0x20)
            return NULL;            //  also the end of the text
        if (*p == '\\') {
            p++;
            if (*p == 'u') {
                for (int index = 1; index <= 4; index++)
                    if (!isxdigit ((unsigned char) p [index]))
                        return NULL;
                p += 4;
            }
            else
            if (!*p || !strchr ("\"\\/bfnrt", *p))
                return NULL;
        }
        p++;
    }
    return p + 1;
}

static const char *
s_json_digits (const char *p)
{
    if (!isdigit ((unsigned char) *p))
        return NULL;
    while (isdigit ((unsigned char) *p))
        p++;
    return p;
}

static const char *
s_json_number (const char *p)
{
    if (*p == '-')
        p++;
    p = s_json_digits (p);
    if (p && *p == '.')
        p = s_json_digits (p + 1);
    if (p && (*p == 'e' || *p == 'E')) {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        p = s_json_digits (p);
    }
    return p;
}

//  Members of an object (is_object) or elements of an array.
static const char *
s_json_members (const char *p, bool is_object)
{
    char close = is_object ? '}' : ']';
    p = s_json_space (p + 1);
    if (*p == close)
        return p + 1;
    while (p) {
        if (is_object) {
            p = s_json_string (s_json_space (p));
            if (!p || *(p = s_json_space (p)) != ':')
                return NULL;
            p++;
        }
        p = s_json_value (p);
        if (!p)
            return NULL;
        p = s_json_space (p);
        if (*p == close)
            return p + 1;
        if (*p++ != ',')
            return NULL;
    }
    return NULL;
}

static const char *
s_json_value (const char *p)
{
    p = s_json_space (p);
    if (*p == '{' || *p == '[')
        return s_json_members (p, *p == '{');
    if (*p == '"')
        return s_json_string (p);
    if (*p == '-' || isdigit ((unsigned char) *p))
        return s_json_number (p);
    static const char *literals [] = { "true", "false", "null" };
    for (size_t index = 0; index < 3; index++)
        if (strncmp (p, literals [index], strlen (literals [index])) == 0)
            return p + strlen (literals [index]);
    return NULL;
}

//  One JSON object, alone in the text (a trailing newline allowed).
static void
assert_json_object (const char *text)
{
    const char *end = s_json_value (text);
    if (!end || *s_json_space (end) || *s_json_space (text) != '{')
        fail_msg ("not one JSON object: %s", text);
}

static void
assert_contains (const char *text, const char *part)
{
    if (!strstr (text, part))
        fail_msg ("'%s' not in: %s", part, text);
}

//  The number after "rev " in a write's output.
static uint64_t
s_rev (run_t *run)
{
    unsigned long long rev = 0;
    assert_int_equal (sscanf (run->out, "rev %llu", &rev), 1);
    return rev;
}

//  --- Fixture -------------------------------------------------------------

static int
s_setup (void **state)
{
    fixture_t *fixture = calloc (1, sizeof (fixture_t));
    assert_non_null (fixture);
    fixture->dir = testkit_tempdir ();
    char *db_path = testkit_path (fixture->dir, "cli.db");
    //  Random free ports ("!"), not the lowest free one ("*"): a port
    //  another test's broker just left, to restart on it, stays free.
    fixture->broker = broker_start (db_path, CONFIG, "tcp://127.0.0.1:!",
                                    "tcp://127.0.0.1:!");
    free (db_path);
    *state = fixture;
    return 0;
}

static int
s_teardown (void **state)
{
    fixture_t *fixture = *state;
    if (fixture->broker)
        broker_stop (&fixture->broker, SIGTERM);
    s_run_clear (&fixture->run);
    testkit_tempdir_remove (&fixture->dir);
    free (fixture);
    return 0;
}

//  --- Help and usage ------------------------------------------------------

static void
test_help (void **state)
{
    fixture_t *fixture = *state;
    run_t *run = &fixture->run;
    assert_int_equal (cli (run, NULL, "--help", NULL), 0);
    const char *commands [] = { "get", "set", "del", "del-group", "del-prefix", "keys",
        "groups", "count", "render", "txn", "watch", "snapshot", "stats", "ping" };
    for (size_t index = 0; index < sizeof commands / sizeof commands [0]; index++) {
        char line [64];
        snprintf (line, sizeof line, "\n  %s ", commands [index]);
        assert_contains (run->out, line);
        //  Every command has its own help, both ways.
        assert_int_equal (cli (run, NULL, "help", commands [index], NULL), 0);
        snprintf (line, sizeof line, "usage: zstore [OPTIONS] %s", commands [index]);
        assert_contains (run->out, line);
        assert_int_equal (cli (run, NULL, commands [index], "--help", NULL), 0);
        assert_contains (run->out, line);
        assert_int_equal (cli (run, NULL, "--help", NULL), 0);
    }
    assert_contains (run->out, "Exit codes:");
    assert_contains (run->out, "  4  no answer from the broker");
    assert_int_equal (cli (run, NULL, "help", "txn", NULL), 0);
    assert_contains (run->out, "del-prefix PREFIX");
}

static void
test_usage_errors (void **state)
{
    fixture_t *fixture = *state;
    run_t *run = &fixture->run;
    broker_t *broker = fixture->broker;
    assert_int_equal (cli (run, NULL, NULL), 2);
    assert_contains (run->err, "usage: zstore");
    assert_int_equal (cli (run, broker, "frobnicate", NULL), 2);
    assert_contains (run->err, "no command 'frobnicate'");
    assert_int_equal (cli (run, NULL, "help", "frobnicate", NULL), 2);
    assert_int_equal (cli (run, broker, "get", "g", NULL), 2);
    assert_contains (run->err, "missing arguments");
    assert_int_equal (cli (run, broker, "get", "g", "k", "extra", NULL), 2);
    assert_int_equal (cli (run, broker, "get", "g", "k", "--bogus", NULL), 2);
    assert_contains (run->err, "unknown option --bogus");
    assert_int_equal (cli (run, broker, "get", "g", "k", "--ttl", "5s", NULL), 2);
    assert_contains (run->err, "--ttl does not apply");
    assert_int_equal (cli (run, broker, "set", "g", "k", "v", "--ttl", "0", NULL), 2);
    assert_int_equal (cli (run, broker, "set", "g", "k", "v", "--ttl", "5 parsecs", NULL), 2);
    assert_int_equal (cli (run, broker, "set", "g", "k", "v", "--ttl", NULL), 2);
    assert_contains (run->err, "--ttl needs a value");
    assert_int_equal (cli (run, broker, "set", "g", "k", "v", "--if-rev", "-1", NULL), 2);
    assert_int_equal (cli (run, broker, "--timeout", "soon", "ping", NULL), 2);
    assert_int_equal (cli (run, broker, "--ns", "not valid", "get", "g", "k", NULL), 2);
    assert_contains (run->err, "bad namespace");
    assert_int_equal (cli (run, broker, "count", NULL), 2);
    assert_int_equal (cli (run, broker, "count", "g", "--prefix", "x", NULL), 2);
    assert_int_equal (cli (run, broker, "keys", "g", "--after", "a", "--offset", "1", NULL), 2);
    assert_int_equal (cli (run, broker, "watch", "--prefix", "p", NULL), 2);
    //  A usage error changed nothing.
    assert_int_equal (cli (run, broker, "get", "g", "k", NULL), 1);
    //  After --, words that look like options are arguments.
    assert_int_equal (cli (run, broker, "set", "--", "g", "--k", "--v", NULL), 0);
    assert_int_equal (cli (run, broker, "get", "g", "--", "--k", NULL), 0);
    assert_string_equal (run->out, "--v\n");
}

//  --- Values --------------------------------------------------------------

static void
test_set_get (void **state)
{
    fixture_t *fixture = *state;
    run_t *run = &fixture->run;
    broker_t *broker = fixture->broker;
    assert_int_equal (cli (run, broker, "set", "config", "colour", "blue", NULL), 0);
    uint64_t rev = s_rev (run);
    assert_true (rev > 0);
    assert_int_equal (cli (run, broker, "get", "config", "colour", NULL), 0);
    assert_string_equal (run->out, "blue\n");
    assert_int_equal (cli (run, broker, "get", "config", "colour", "--raw", NULL), 0);
    assert_string_equal (run->out, "blue");
    //  Options before the command work as well as after it.
    assert_int_equal (cli (run, broker, "--json", "get", "config", "colour", NULL), 0);
    assert_json_object (run->out);
    assert_contains (run->out, "\"group\": \"config\"");
    assert_contains (run->out, "\"key\": \"colour\"");
    assert_contains (run->out, "\"value\": \"blue\"");
    char field [64];
    snprintf (field, sizeof field, "\"mod_rev\": %llu", (unsigned long long) rev);
    assert_contains (run->out, field);
    assert_contains (run->out, "\"expires_at\": 0");
    assert_int_equal (cli (run, broker, "set", "config", "colour", "red", "--json", NULL), 0);
    assert_json_object (run->out);
    snprintf (field, sizeof field, "{\"rev\": %llu}\n", (unsigned long long) rev + 1);
    assert_string_equal (run->out, field);
    //  A value with quotes, backslash and UTF-8 survives as a JSON string.
    assert_int_equal (cli (run, broker, "set", "config", "odd", "a \"b\" \\ é", NULL), 0);
    assert_int_equal (cli (run, broker, "get", "config", "odd", "--json", NULL), 0);
    assert_json_object (run->out);
    assert_contains (run->out, "\"value\": \"a \\\"b\\\" \\\\ é\"");
}

static void
test_not_found (void **state)
{
    fixture_t *fixture = *state;
    run_t *run = &fixture->run;
    broker_t *broker = fixture->broker;
    assert_int_equal (cli (run, broker, "get", "nowhere", "nothing", NULL), 1);
    assert_string_equal (run->out, "");
    assert_contains (run->err, "not_found");
    assert_int_equal (cli (run, broker, "get", "nowhere", "nothing", "--json", NULL), 1);
    assert_json_object (run->out);
    assert_contains (run->out, "\"code\": \"not_found\"");
    assert_contains (run->out, "\"status\": 1");
    //  Deleting what is not there is no error.
    assert_int_equal (cli (run, broker, "del", "nowhere", "nothing", NULL), 0);
    assert_string_equal (run->out, "rev 0\n");
}

static void
test_binary_value_from_stdin (void **state)
{
    fixture_t *fixture = *state;
    run_t *run = &fixture->run;
    broker_t *broker = fixture->broker;
    const char value [] = "a\0b\xff\n\t\\";
    size_t size = sizeof value - 1;
    assert_int_equal (cli_input (run, broker, value, size, "set", "bin", "blob", "-", NULL), 0);
    assert_int_equal (cli (run, broker, "get", "bin", "blob", "--raw", NULL), 0);
    assert_int_equal (run->out_size, size);
    assert_memory_equal (run->out, value, size);
    //  Not UTF-8: base64 in JSON.
    assert_int_equal (cli (run, broker, "get", "bin", "blob", "--json", NULL), 0);
    assert_json_object (run->out);
    assert_contains (run->out, "\"value\": {\"base64\": \"YQBi/woJXA==\"}");
    //  Escaped on one line in a listing.
    assert_int_equal (cli (run, broker, "keys", "bin", NULL), 0);
    assert_string_equal (run->out, "blob\ta\\x00b\\xff\\n\\t\\\\\n");
    //  A large value through stdin, intact.
    size_t big_size = 300000;
    char *big = malloc (big_size);
    assert_non_null (big);
    for (size_t index = 0; index < big_size; index++)
        big [index] = (char) (index * 7 + index / 251);
    assert_int_equal (cli_input (run, broker, big, big_size, "set", "bin", "big", "-", NULL), 0);
    assert_int_equal (cli (run, broker, "get", "bin", "big", "--raw", NULL), 0);
    assert_int_equal (run->out_size, big_size);
    assert_memory_equal (run->out, big, big_size);
    free (big);
    //  An empty stdin is an empty value.
    assert_int_equal (cli (run, broker, "set", "bin", "empty", "-", NULL), 0);
    assert_int_equal (cli (run, broker, "get", "bin", "empty", NULL), 0);
    assert_string_equal (run->out, "\n");
}

static void
test_ttl_and_if_rev (void **state)
{
    fixture_t *fixture = *state;
    run_t *run = &fixture->run;
    broker_t *broker = fixture->broker;
    assert_int_equal (cli (run, broker, "set", "cas", "k", "v1", "--if-rev", "0", NULL), 0);
    uint64_t rev = s_rev (run);
    //  Exists now: a create-only set conflicts, and changes nothing.
    assert_int_equal (cli (run, broker, "set", "cas", "k", "v2", "--if-rev", "0", NULL), 3);
    assert_contains (run->err, "conflict");
    assert_int_equal (cli (run, broker, "set", "cas", "k", "v2", "--if-rev", "0", "--json",
                           NULL), 3);
    assert_json_object (run->out);
    assert_contains (run->out, "\"code\": \"conflict\"");
    char text [32];
    snprintf (text, sizeof text, "%llu", (unsigned long long) rev);
    assert_int_equal (cli (run, broker, "set", "cas", "k", "v2", "--if-rev", text, NULL), 0);
    uint64_t rev2 = s_rev (run);
    assert_int_equal (cli (run, broker, "get", "cas", "k", NULL), 0);
    assert_string_equal (run->out, "v2\n");
    assert_int_equal (cli (run, broker, "del", "cas", "k", "--if-rev", text, NULL), 3);
    snprintf (text, sizeof text, "%llu", (unsigned long long) rev2);
    assert_int_equal (cli (run, broker, "del", "cas", "k", "--if-rev", text, NULL), 0);
    assert_int_equal (cli (run, broker, "get", "cas", "k", NULL), 1);
    //  A TTL sets expires_at about an hour ahead; a plain set clears it.
    assert_int_equal (cli (run, broker, "set", "cas", "t", "v", "--ttl", "1h", NULL), 0);
    assert_int_equal (cli (run, broker, "get", "cas", "t", "--json", NULL), 0);
    unsigned long long expires_at = 0;
    const char *field = strstr (run->out, "\"expires_at\": ");
    assert_non_null (field);
    assert_int_equal (sscanf (field, "\"expires_at\": %llu", &expires_at), 1);
    uint64_t now = (uint64_t) zclock_time ();
    assert_true (expires_at > now + 3000 * 1000 && expires_at <= now + 3700 * 1000);
    assert_int_equal (cli (run, broker, "set", "cas", "t", "v", NULL), 0);
    assert_int_equal (cli (run, broker, "get", "cas", "t", "--json", NULL), 0);
    assert_contains (run->out, "\"expires_at\": 0");
}

//  --- Groups, counts, deletes, pages --------------------------------------

static void
test_exists (void **state)
{
    fixture_t *fixture = *state;
    run_t *run = &fixture->run;
    broker_t *broker = fixture->broker;
    assert_int_equal (cli (run, broker, "set", "config", "colour", "blue", NULL), 0);
    assert_int_equal (cli (run, broker, "exists", "config", "colour", NULL), 0);
    assert_string_equal (run->out, "true\n");
    assert_int_equal (cli (run, broker, "exists", "config", "shape", NULL), 1);
    assert_string_equal (run->out, "false\n");
    assert_int_equal (cli (run, broker, "exists", "config", "colour", "--json", NULL), 0);
    assert_string_equal (run->out, "{\"exists\": true}\n");
    assert_int_equal (cli (run, broker, "exists", "config", "shape", "--json", NULL), 1);
    assert_string_equal (run->out, "{\"exists\": false}\n");
    assert_int_equal (cli (run, broker, "exists", "config", NULL), 2);
}

//  Sets key in group with ttl 0 through the library (the CLI's --ttl takes
//  only positive durations): a row that is already expired (go-store's rule).
static void
s_set_expired (broker_t *broker, const char *group, const char *key)
{
    zstore_client_t *client = zstore_client_new (broker->requests, NULL);
    assert_non_null (client);
    zstore_write_opts_t opts = ZSTORE_WRITE_OPTS;
    opts.has_ttl = true;
    opts.ttl_ms = 0;
    assert_int_equal (zstore_client_set (client, group, key, "v", 1, &opts, NULL), ZSTORE_OK);
    zstore_client_destroy (&client);
}

//  Expired keys, invisible to reads, removed by purge (the broker's own
//  purge is off in this fixture).
static void
test_purge (void **state)
{
    fixture_t *fixture = *state;
    run_t *run = &fixture->run;
    broker_t *broker = fixture->broker;
    s_set_expired (broker, "cache", "x");
    s_set_expired (broker, "cache", "y");
    assert_int_equal (cli (run, broker, "set", "cache", "z", "v", NULL), 0);
    assert_int_equal (cli (run, broker, "exists", "cache", "y", NULL), 1);
    assert_int_equal (cli (run, broker, "purge", "1", NULL), 0);
    unsigned long long removed = 0, rev = 0;
    assert_int_equal (sscanf (run->out, "removed %llu\nrev %llu", &removed, &rev), 2);
    assert_int_equal (removed, 1);
    assert_true (rev > 0);
    assert_int_equal (cli (run, broker, "purge", "--json", NULL), 0);
    assert_json_object (run->out);
    assert_contains (run->out, "\"removed\": 1");
    assert_int_equal (cli (run, broker, "purge", NULL), 0);
    assert_string_equal (run->out, "removed 0\nrev 0\n");
    assert_int_equal (cli (run, broker, "count", "cache", NULL), 0);
    assert_string_equal (run->out, "1\n");
    assert_int_equal (cli (run, broker, "purge", "0", NULL), 2);
    assert_int_equal (cli (run, broker, "purge", "some", NULL), 2);
    assert_int_equal (cli (run, broker, "purge", "1", "2", NULL), 2);
}

static void
test_groups_count_delete (void **state)
{
    fixture_t *fixture = *state;
    run_t *run = &fixture->run;
    broker_t *broker = fixture->broker;
    const char *entries [][2] = { { "app-1", "a" }, { "app-1", "b" }, { "app-2", "a" },
                                  { "other", "a" } };
    for (size_t index = 0; index < 4; index++)
        assert_int_equal (cli (run, broker, "set", entries [index][0], entries [index][1], "v",
                               NULL), 0);
    assert_int_equal (cli (run, broker, "groups", NULL), 0);
    assert_string_equal (run->out, "app-1\napp-2\nother\n");
    assert_int_equal (cli (run, broker, "groups", "app-", NULL), 0);
    assert_string_equal (run->out, "app-1\napp-2\n");
    assert_int_equal (cli (run, broker, "groups", "app-", "--json", NULL), 0);
    assert_json_object (run->out);
    assert_string_equal (run->out, "{\"groups\": [\"app-1\", \"app-2\"]}\n");
    assert_int_equal (cli (run, broker, "count", "app-1", NULL), 0);
    assert_string_equal (run->out, "2\n");
    assert_int_equal (cli (run, broker, "count", "--prefix", "app-", NULL), 0);
    assert_string_equal (run->out, "3\n");
    assert_int_equal (cli (run, broker, "count", "--prefix", "", "--json", NULL), 0);
    assert_string_equal (run->out, "{\"count\": 4}\n");
    assert_int_equal (cli (run, broker, "del", "app-1", "a", NULL), 0);
    assert_true (s_rev (run) > 0);
    assert_int_equal (cli (run, broker, "count", "app-1", NULL), 0);
    assert_string_equal (run->out, "1\n");
    assert_int_equal (cli (run, broker, "del-group", "app-1", NULL), 0);
    assert_true (s_rev (run) > 0);
    assert_int_equal (cli (run, broker, "count", "app-1", NULL), 0);
    assert_string_equal (run->out, "0\n");
    assert_int_equal (cli (run, broker, "set", "app-3", "a", "v", NULL), 0);
    assert_int_equal (cli (run, broker, "del-prefix", "app-", "--json", NULL), 0);
    assert_json_object (run->out);
    assert_contains (run->out, "\"rev\": ");
    assert_int_equal (cli (run, broker, "groups", NULL), 0);
    assert_string_equal (run->out, "other\n");
}

static void
test_keys_pages (void **state)
{
    fixture_t *fixture = *state;
    run_t *run = &fixture->run;
    broker_t *broker = fixture->broker;
    for (int index = 1; index <= 5; index++) {
        char key [8], value [8];
        snprintf (key, sizeof key, "k%d", index);
        snprintf (value, sizeof value, "v%d", index);
        assert_int_equal (cli (run, broker, "set", "paged", key, value, NULL), 0);
    }
    assert_int_equal (cli (run, broker, "keys", "paged", "--limit", "2", NULL), 0);
    assert_string_equal (run->out, "k1\tv1\nk2\tv2\n");
    assert_contains (run->err, "--after k2");
    assert_int_equal (cli (run, broker, "keys", "paged", "--limit", "2", "--after", "k2", NULL), 0);
    assert_string_equal (run->out, "k3\tv3\nk4\tv4\n");
    assert_int_equal (cli (run, broker, "keys", "paged", "--limit", "2", "--after", "k4", NULL), 0);
    assert_string_equal (run->out, "k5\tv5\n");
    assert_string_equal (run->err, "");
    assert_int_equal (cli (run, broker, "keys", "paged", "--offset", "3", NULL), 0);
    assert_string_equal (run->out, "k4\tv4\nk5\tv5\n");
    assert_int_equal (cli (run, broker, "keys", "paged", "--limit", "2", "--all", NULL), 0);
    assert_string_equal (run->out, "k1\tv1\nk2\tv2\nk3\tv3\nk4\tv4\nk5\tv5\n");
    assert_string_equal (run->err, "");
    assert_int_equal (cli (run, broker, "keys", "paged", "--limit", "2", "--json", NULL), 0);
    assert_json_object (run->out);
    assert_contains (run->out, "\"more\": true, \"next\": \"k2\"");
    assert_contains (run->out, "{\"key\": \"k1\", \"value\": \"v1\", \"create_rev\": ");
    assert_int_equal (cli (run, broker, "keys", "paged", "--limit", "2", "--all", "--json",
                           NULL), 0);
    assert_json_object (run->out);
    assert_contains (run->out, "\"key\": \"k5\"");
    assert_contains (run->out, "\"more\": false}");
    //  An empty or missing group is an empty page.
    assert_int_equal (cli (run, broker, "keys", "nothing-here", "--json", NULL), 0);
    assert_string_equal (run->out, "{\"items\": [], \"more\": false}\n");
}

static void
test_render (void **state)
{
    fixture_t *fixture = *state;
    run_t *run = &fixture->run;
    broker_t *broker = fixture->broker;
    assert_int_equal (cli (run, broker, "set", "page", "name", "world", NULL), 0);
    assert_int_equal (cli (run, broker, "render", "page", "hello {{ .name }}", NULL), 0);
    assert_string_equal (run->out, "hello world\n");
    const char *template_text = "{{ index . \"name\" }}!";
    assert_int_equal (cli_input (run, broker, template_text, strlen (template_text), "render",
                                 "page", "-", "--raw", NULL), 0);
    assert_string_equal (run->out, "world!");
    assert_int_equal (cli (run, broker, "render", "page", "{{ .name }}", "--json", NULL), 0);
    assert_json_object (run->out);
    assert_string_equal (run->out, "{\"output\": \"world\"}\n");
    //  A template error is the broker's refusal: exit 3.
    assert_int_equal (cli (run, broker, "render", "page", "{{ .name", NULL), 3);
    assert_contains (run->err, "invalid");
}

//  --- Transactions --------------------------------------------------------

static void
test_txn (void **state)
{
    fixture_t *fixture = *state;
    run_t *run = &fixture->run;
    broker_t *broker = fixture->broker;
    assert_int_equal (cli (run, broker, "set", "t", "old", "x", NULL), 0);
    const char *ops =
        "# a comment, then a blank line\n"
        "\n"
        "set t a 1\n"
        "set t b \"two words\\tand a tab\" --ttl 1h\n"
        "set\tt\tc\t\"\"\n"
        "get t a\n"
        "get t missing\n"
        "count t\n"
        "exists t b\n"
        "del t old\n"
        "del-group gone\n"
        "del-prefix nothing-\n";
    assert_int_equal (cli_input (run, broker, ops, strlen (ops), "txn", NULL), 0);
    //  Every change of the transaction shares one revision.
    const char *last = strstr (run->out, "rev ");
    assert_non_null (last);
    unsigned long long rev;
    assert_int_equal (sscanf (last, "rev %llu", &rev), 1);
    char expected [256];
    snprintf (expected, sizeof expected,
              "0\tset\tok\n1\tset\tok\n2\tset\tok\n3\tget\tok\t1\n4\tget\tnot_found\n"
              "5\tcount\tok\t4\n6\texists\tok\ttrue\n7\tdel\tok\n8\tdel-group\tok\n"
              "9\tdel-prefix\tok\nrev %llu\n", rev);
    assert_string_equal (run->out, expected);
    assert_int_equal (cli (run, broker, "get", "t", "b", "--json", NULL), 0);
    assert_contains (run->out, "\"value\": \"two words\\tand a tab\"");
    char field [48];
    snprintf (field, sizeof field, "\"mod_rev\": %llu", rev);
    assert_contains (run->out, field);
    assert_int_equal (cli (run, broker, "get", "t", "old", NULL), 1);
    assert_int_equal (cli (run, broker, "get", "t", "c", NULL), 0);
    assert_string_equal (run->out, "\n");
}

static void
test_txn_failures (void **state)
{
    fixture_t *fixture = *state;
    run_t *run = &fixture->run;
    broker_t *broker = fixture->broker;
    assert_int_equal (cli (run, broker, "set", "t", "a", "1", NULL), 0);
    //  The broker refuses operation 1: nothing applies, not even 0.
    const char *conflict = "set t new x\nset t a y --if-rev 0\n";
    assert_int_equal (cli_input (run, broker, conflict, strlen (conflict), "txn", NULL), 3);
    assert_contains (run->err, "operation 1 (set) failed");
    assert_contains (run->err, "conflict");
    assert_int_equal (cli_input (run, broker, conflict, strlen (conflict), "txn", "--json",
                                 NULL), 3);
    assert_json_object (run->out);
    assert_contains (run->out, "\"failed\": 1");
    assert_int_equal (cli (run, broker, "get", "t", "new", NULL), 1);
    assert_int_equal (cli (run, broker, "get", "t", "a", NULL), 0);
    assert_string_equal (run->out, "1\n");
    //  Input errors: nothing is sent at all.
    const char *bad [] = {
        "set t new x\nfly t a\n",               //  unknown operation
        "set t new x\nget t\n",                 //  too few words
        "set t new x\nget t a b\n",             //  too many
        "set t new \"open\n",                   //  unterminated quote
        "set t new \"x\\q\"\n",                 //  bad escape
        "set t new x --ttl forever\n",          //  bad option value
        "get t a --if-rev 3\n",                 //  option of another operation
    };
    for (size_t index = 0; index < sizeof bad / sizeof bad [0]; index++) {
        assert_int_equal (cli_input (run, broker, bad [index], strlen (bad [index]), "txn",
                                     NULL), 2);
        assert_contains (run->err, "line ");
    }
    assert_int_equal (cli (run, broker, "get", "t", "new", NULL), 1);
    assert_int_equal (cli (run, broker, "txn", NULL), 2);
    assert_contains (run->err, "no operations");
    const char *comment = "# only a comment\n\n";
    assert_int_equal (cli_input (run, broker, comment, strlen (comment), "txn", NULL), 2);
    assert_contains (run->err, "no operations");
}

static void
test_txn_json_and_quoting (void **state)
{
    fixture_t *fixture = *state;
    run_t *run = &fixture->run;
    broker_t *broker = fixture->broker;
    const char *ops =
        "set \"a group\" \"k\\x01\" \"\\x00\\xff\"\n"
        "get \"a group\" \"k\\x01\"\n"
        "count \"a group\"\n"
        "exists \"a group\" k\n";
    assert_int_equal (cli_input (run, broker, ops, strlen (ops), "txn", "--json", NULL), 0);
    assert_json_object (run->out);
    assert_contains (run->out, "\"results\": [{\"op\": \"set\", \"status\": \"ok\"}");
    assert_contains (run->out, "\"value\": {\"base64\": \"AP8=\"}");
    assert_contains (run->out, "\"count\": 1");
    assert_contains (run->out, "\"exists\": false");
    assert_int_equal (cli (run, broker, "get", "a group", "k\x01", "--raw", NULL), 0);
    assert_int_equal (run->out_size, 2);
    assert_memory_equal (run->out, "\x00\xff", 2);
}

//  --- Namespaces ----------------------------------------------------------

static void
test_namespace (void **state)
{
    fixture_t *fixture = *state;
    run_t *run = &fixture->run;
    broker_t *broker = fixture->broker;
    assert_int_equal (cli (run, broker, "--ns", "small", "set", "g", "k1", "one", NULL), 0);
    assert_int_equal (cli (run, broker, "set", "g", "k2", "two", "--ns", "small", NULL), 0);
    //  Stored as small:g, seen as g inside the namespace.
    assert_int_equal (cli (run, broker, "get", "g", "k1", NULL), 1);
    assert_int_equal (cli (run, broker, "get", "small:g", "k1", NULL), 0);
    assert_string_equal (run->out, "one\n");
    assert_int_equal (cli (run, broker, "--ns", "small", "groups", NULL), 0);
    assert_string_equal (run->out, "g\n");
    assert_int_equal (cli (run, broker, "groups", NULL), 0);
    assert_string_equal (run->out, "small:g\n");
    assert_int_equal (cli (run, broker, "--ns", "small", "count", "g", NULL), 0);
    assert_string_equal (run->out, "2\n");
    assert_int_equal (cli (run, broker, "--ns", "small", "keys", "g", NULL), 0);
    assert_string_equal (run->out, "k1\tone\nk2\ttwo\n");
    //  Its quota: two keys.
    assert_int_equal (cli (run, broker, "--ns", "small", "set", "g", "k3", "three", NULL), 3);
    assert_contains (run->err, "quota_exceeded");
    const char *ops = "del g k1\nset g k3 three\n";
    assert_int_equal (cli_input (run, broker, ops, strlen (ops), "--ns", "small", "txn",
                                 NULL), 0);
    assert_int_equal (cli (run, broker, "--ns", "small", "snapshot", "--json", NULL), 0);
    assert_json_object (run->out);
    assert_contains (run->out, "{\"group\": \"small:g\", \"key\": \"k2\"");
    assert_contains (run->out, "{\"group\": \"small:g\", \"key\": \"k3\"");
    assert_int_equal (cli (run, broker, "--ns", "small", "snapshot", "g", "k3", NULL), 0);
    assert_string_equal (run->out, "small:g\tk3\tthree\n");
    assert_int_equal (cli (run, broker, "--ns", "small", "del-prefix", "", NULL), 0);
    assert_int_equal (cli (run, broker, "--ns", "small", "count", "--prefix", "", NULL), 0);
    assert_string_equal (run->out, "0\n");
}

//  --- snapshot, stats, ping, endpoints ------------------------------------

static void
test_snapshot_stats_ping (void **state)
{
    fixture_t *fixture = *state;
    run_t *run = &fixture->run;
    broker_t *broker = fixture->broker;
    assert_int_equal (cli (run, broker, "set", "s1", "a", "1", NULL), 0);
    assert_int_equal (cli (run, broker, "set", "s1", "b", "2", NULL), 0);
    assert_int_equal (cli (run, broker, "set", "s2", "a", "3", NULL), 0);
    uint64_t rev = s_rev (run);
    assert_int_equal (cli (run, broker, "snapshot", NULL), 0);
    assert_string_equal (run->out, "s1\ta\t1\ns1\tb\t2\ns2\ta\t3\n");
    char text [64];
    snprintf (text, sizeof text, "rev %llu, 3 keys", (unsigned long long) rev);
    assert_contains (run->err, text);
    assert_int_equal (cli (run, broker, "snapshot", "s1", "--prefix", "b", NULL), 0);
    assert_string_equal (run->out, "s1\tb\t2\n");
    assert_int_equal (cli (run, broker, "snapshot", "s1", "--json", NULL), 0);
    assert_json_object (run->out);
    snprintf (text, sizeof text, "{\"rev\": %llu, \"items\": [", (unsigned long long) rev);
    assert_contains (run->out, text);
    assert_int_equal (cli (run, broker, "ping", NULL), 0);
    assert_contains (run->out, "pong: epoch ");
    assert_int_equal (cli (run, broker, "ping", "--json", NULL), 0);
    assert_json_object (run->out);
    snprintf (text, sizeof text, "{\"epoch\": %llu, \"rev\": %llu, \"time\": ",
              (unsigned long long) broker->epoch, (unsigned long long) rev);
    assert_contains (run->out, text);
    assert_int_equal (cli (run, broker, "stats", NULL), 0);
    snprintf (text, sizeof text, "\nrev %llu\n", (unsigned long long) rev);
    assert_contains (run->out, text);
    assert_contains (run->out, "uptime_ms ");
    assert_contains (run->out, "\nbatches ");
    assert_contains (run->out, "\nbatched ");
    assert_int_equal (cli (run, broker, "stats", "--json", NULL), 0);
    assert_json_object (run->out);
    assert_contains (run->out, "\"requests\"");
    assert_contains (run->out, "\"snapshot\"");
}

static void
test_endpoint_from_environment (void **state)
{
    fixture_t *fixture = *state;
    run_t *run = &fixture->run;
    char *argv [] = { (char *) ZSTORE_CLI_PATH, "ping", NULL };
    s_run_argv (run, argv, NULL, 0, fixture->broker->requests);
    assert_int_equal (run->status, 0);
    assert_contains (run->out, "pong");
    //  A flag wins over the environment.
    char *flagged [] = { (char *) ZSTORE_CLI_PATH, "--requests", "tcp://127.0.0.1:1",
                         "--timeout", "100", "ping", NULL };
    s_run_argv (run, flagged, NULL, 0, fixture->broker->requests);
    assert_int_equal (run->status, 4);
}

//  A ROUTER that never answers: the broker is "there" and silent.
static void
test_unreachable (void **state)
{
    fixture_t *fixture = *state;
    run_t *run = &fixture->run;
    zsock_t *silent = zsock_new_router ("tcp://127.0.0.1:!");
    assert_non_null (silent);
    const char *endpoint = zsock_endpoint (silent);
    assert_int_equal (cli (run, NULL, "--requests", endpoint, "--timeout", "100", "ping", NULL),
                      4);
    assert_contains (run->err, "timeout");
    assert_int_equal (cli (run, NULL, "--requests", endpoint, "--timeout", "100", "get", "g",
                           "k", "--json", NULL), 4);
    assert_json_object (run->out);
    assert_contains (run->out, "\"code\": \"timeout\"");
    //  A write whose reply never came may have been applied.
    assert_int_equal (cli (run, NULL, "--requests", endpoint, "--timeout", "100", "set", "g",
                           "k", "v", "--if-rev", "0", NULL), 4);
    assert_contains (run->err, "outcome_unknown");
    const char *ops = "set g k v\n";
    assert_int_equal (cli_input (run, NULL, ops, strlen (ops), "--requests", endpoint,
                                 "--timeout", "100", "txn", NULL), 4);
    //  And a port where nothing listens at all.
    assert_int_equal (cli (run, NULL, "--requests", "tcp://127.0.0.1:1", "--timeout", "100",
                           "count", "g", NULL), 4);
    zsock_destroy (&silent);
}

//  --- watch ---------------------------------------------------------------

typedef struct {
    pid_t pid;
    int out;
    int err;
    char pending [16384];           //  stdout read, not yet returned as lines
    size_t used;
} child_t;

//  Starts `zstore <endpoints> <args>` in the background.
static child_t *
s_spawn (broker_t *broker, const char *first, ...)
{
    va_list args;
    va_start (args, first);
    char **argv = s_argv (broker, first, args);
    va_end (args);
    int out [2], err [2];
    assert_int_equal (pipe (out), 0);
    assert_int_equal (pipe (err), 0);
    child_t *child = calloc (1, sizeof (child_t));
    assert_non_null (child);
    child->pid = fork ();
    assert_true (child->pid >= 0);
    if (child->pid == 0) {
        int null_fd = open ("/dev/null", O_RDONLY);
        close (out [0]);
        close (err [0]);
        s_exec (null_fd, out [1], err [1], argv, NULL);
    }
    free (argv);
    close (out [1]);
    close (err [1]);
    child->out = out [0];
    child->err = err [0];
    return child;
}

//  The next line from fd (without its newline) into line; false at EOF or
//  when none comes within the deadline.
static bool
s_read_line (int fd, char *pending, size_t *used, size_t capacity, char *line, size_t size)
{
    int64_t deadline = zclock_mono () + DEADLINE_MS;
    while (true) {
        char *newline = memchr (pending, '\n', *used);
        if (newline) {
            size_t length = (size_t) (newline - pending);
            assert_true (length < size);
            memcpy (line, pending, length);
            line [length] = 0;
            *used -= length + 1;
            memmove (pending, newline + 1, *used);
            return true;
        }
        int64_t left = deadline - zclock_mono ();
        struct pollfd item = { fd, POLLIN, 0 };
        if (left <= 0 || poll (&item, 1, (int) left) <= 0)
            return false;
        assert_true (*used < capacity);
        ssize_t got = read (fd, pending + *used, capacity - *used);
        if (got <= 0)
            return false;
        *used += (size_t) got;
    }
}

static bool
s_child_line (child_t *child, char *line, size_t size)
{
    return s_read_line (child->out, child->pending, &child->used, sizeof child->pending, line,
                        size);
}

//  Waits for the "watching ..." line on stderr: the watch is live.
static void
s_wait_watching (child_t *child)
{
    char pending [4096], line [1024];
    size_t used = 0;
    assert_true (s_read_line (child->err, pending, &used, sizeof pending, line, sizeof line));
    if (strncmp (line, "watching ", 9) != 0)
        fail_msg ("watch said: %s", line);
}

//  Sends signal, reads stdout to its end and returns the exit code.
static int
s_stop (child_t **child_p, int signal)
{
    child_t *child = *child_p;
    kill (child->pid, signal);
    char line [1024];
    while (s_child_line (child, line, sizeof line))
        ;
    struct pollfd item = { child->out, POLLIN, 0 };
    bool ended = poll (&item, 1, 0) == 1;    //  EOF is readable
    if (!ended)
        kill (child->pid, SIGKILL);
    int status;
    waitpid (child->pid, &status, 0);
    close (child->out);
    close (child->err);
    free (child);
    *child_p = NULL;
    assert_true (ended);
    return s_exit_status (status);
}

static void
test_watch (void **state)
{
    fixture_t *fixture = *state;
    run_t *run = &fixture->run;
    broker_t *broker = fixture->broker;
    child_t *watch = s_spawn (broker, "watch", NULL);
    s_wait_watching (watch);
    assert_int_equal (cli (run, broker, "set", "w", "k", "hello world", NULL), 0);
    uint64_t set_rev = s_rev (run);
    assert_int_equal (cli (run, broker, "del", "w", "k", NULL), 0);
    uint64_t del_rev = s_rev (run);
    assert_int_equal (cli (run, broker, "set", "w2", "x", "1", NULL), 0);
    assert_int_equal (cli (run, broker, "del-group", "w2", NULL), 0);
    uint64_t group_rev = s_rev (run);
    char line [1024], expected [128];
    assert_true (s_child_line (watch, line, sizeof line));
    snprintf (expected, sizeof expected, "%llu\tset\tw\tk\thello world",
              (unsigned long long) set_rev);
    assert_string_equal (line, expected);
    assert_true (s_child_line (watch, line, sizeof line));
    snprintf (expected, sizeof expected, "%llu\tdelete\tw\tk", (unsigned long long) del_rev);
    assert_string_equal (line, expected);
    assert_true (s_child_line (watch, line, sizeof line));
    assert_contains (line, "\tset\tw2\tx\t1");
    assert_true (s_child_line (watch, line, sizeof line));
    snprintf (expected, sizeof expected, "%llu\tdelete_group\tw2\t",
              (unsigned long long) group_rev);
    assert_string_equal (line, expected);
    assert_int_equal (s_stop (&watch, SIGINT), 0);
}

static void
test_watch_scopes_json (void **state)
{
    fixture_t *fixture = *state;
    run_t *run = &fixture->run;
    broker_t *broker = fixture->broker;
    //  Keys of wide:g starting with "user-", as JSON lines.
    child_t *watch = s_spawn (broker, "--ns", "wide", "--json", "watch", "g", "--prefix",
                              "user-", NULL);
    s_wait_watching (watch);
    //  And one key, in any group.
    child_t *any_group = s_spawn (broker, "watch", "*", "needle", NULL);
    s_wait_watching (any_group);
    assert_int_equal (cli (run, broker, "--ns", "wide", "set", "g", "other", "x", NULL), 0);
    assert_int_equal (cli (run, broker, "--ns", "wide", "set", "g", "user-1", "é\x01", NULL), 0);
    uint64_t rev = s_rev (run);
    assert_int_equal (cli (run, broker, "set", "g", "user-2", "not in the namespace", NULL), 0);
    assert_int_equal (cli (run, broker, "set", "hay", "needle", "found", NULL), 0);
    uint64_t needle_rev = s_rev (run);
    char line [1024], expected [128];
    assert_true (s_child_line (watch, line, sizeof line));
    assert_json_object (line);
    snprintf (expected, sizeof expected,
              "{\"type\": \"set\", \"group\": \"wide:g\", \"key\": \"user-1\", "
              "\"value\": \"é\\u0001\", \"rev\": %llu, ", (unsigned long long) rev);
    if (strncmp (line, expected, strlen (expected)) != 0)
        fail_msg ("%s is not %s...", line, expected);
    assert_true (s_child_line (any_group, line, sizeof line));
    snprintf (expected, sizeof expected, "%llu\tset\thay\tneedle\tfound",
              (unsigned long long) needle_rev);
    assert_string_equal (line, expected);
    //  Nothing else came: the next line after SIGTERM is none.
    assert_int_equal (s_stop (&any_group, SIGTERM), 0);
    assert_int_equal (cli (run, broker, "--ns", "wide", "set", "g", "user-3", "last", NULL), 0);
    assert_true (s_child_line (watch, line, sizeof line));
    assert_contains (line, "\"key\": \"user-3\"");
    assert_int_equal (s_stop (&watch, SIGTERM), 0);
}

static void
test_watch_without_broker (void **state)
{
    fixture_t *fixture = *state;
    run_t *run = &fixture->run;
    assert_int_equal (cli (run, NULL, "--requests", "tcp://127.0.0.1:1", "--events",
                           "tcp://127.0.0.1:2", "--timeout", "200", "watch", NULL), 4);
    assert_contains (run->err, "cannot start");
}

#define TEST(name) cmocka_unit_test_setup_teardown (name, s_setup, s_teardown)

int
main (void)
{
    signal (SIGPIPE, SIG_IGN);      //  a child that stops reading stdin is an error, not a crash
    const struct CMUnitTest tests [] = {
        TEST (test_help),
        TEST (test_usage_errors),
        TEST (test_set_get),
        TEST (test_not_found),
        TEST (test_binary_value_from_stdin),
        TEST (test_ttl_and_if_rev),
        TEST (test_exists),
        TEST (test_purge),
        TEST (test_groups_count_delete),
        TEST (test_keys_pages),
        TEST (test_render),
        TEST (test_txn),
        TEST (test_txn_failures),
        TEST (test_txn_json_and_quoting),
        TEST (test_namespace),
        TEST (test_snapshot_stats_ping),
        TEST (test_endpoint_from_environment),
        TEST (test_unreachable),
        TEST (test_watch),
        TEST (test_watch_scopes_json),
        TEST (test_watch_without_broker),
    };
    return cmocka_run_group_tests_name ("cli", tests, NULL, NULL);
}
