/*  zstore_cli - the parts of the `zstore` command (private to it).

    zstore_cli.c        main: options, the command table, help, exit codes
    zstore_cli_output.c text and JSON output, binary-safe
    zstore_cli_ops.c    one function per simple command (get, set, keys...)
    zstore_cli_txn.c    txn: operations read from stdin
    zstore_cli_watch.c  watch: streams changes until SIGINT/SIGTERM

    Every command is a zstore_cli_fn: it runs against cli->client, prints
    its result and returns an exit code (ZSTORE_EXIT_*).
*/

#ifndef ZSTORE_CLI_H_INCLUDED
#define ZSTORE_CLI_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "zstore.h"

//  The exit codes, documented in `zstore --help`.
#define ZSTORE_EXIT_OK              0
#define ZSTORE_EXIT_NOT_FOUND       1
#define ZSTORE_EXIT_USAGE           2
#define ZSTORE_EXIT_BROKER          3   //  the broker refused: conflict, quota, invalid...
#define ZSTORE_EXIT_UNREACHABLE     4   //  no answer: timeout, outcome unknown

//  Options a command accepts, as bits of zstore_cli_command_t.options.
#define ZSTORE_OPT_TTL      (1u << 0)
#define ZSTORE_OPT_IF_REV   (1u << 1)
#define ZSTORE_OPT_LIMIT    (1u << 2)
#define ZSTORE_OPT_AFTER    (1u << 3)
#define ZSTORE_OPT_OFFSET   (1u << 4)
#define ZSTORE_OPT_ALL      (1u << 5)
#define ZSTORE_OPT_PREFIX   (1u << 6)
#define ZSTORE_OPT_RAW      (1u << 7)

typedef struct _zstore_cli_t zstore_cli_t;
typedef int (zstore_cli_fn) (zstore_cli_t *cli);

typedef struct {
    const char *name;
    zstore_cli_fn *run;
    int min_args;                   //  positional arguments
    int max_args;
    unsigned options;               //  ZSTORE_OPT_* it accepts
    bool needs_client;              //  false for help
    const char *synopsis;           //  "GROUP KEY [--raw]"
    const char *summary;            //  one line for `zstore --help`
    const char *help;               //  the rest of `zstore help <name>`
} zstore_cli_command_t;

struct _zstore_cli_t {
    //  Global options
    const char *requests;
    const char *events;
    const char *ns;
    int timeout_ms;
    bool json;
    bool help;
    //  Command options (valid when the command accepts them)
    bool has_ttl;
    int64_t ttl_ms;
    int64_t if_rev;                 //  -1 = none
    uint64_t limit;
    const char *after;
    uint64_t offset;
    bool all;
    const char *prefix;             //  NULL = not given
    bool raw;
    //  The command and its positional arguments
    const zstore_cli_command_t *command;
    int argc;
    char **argv;
    zstore_client_t *client;
};

//  --- The commands (zstore_cli_ops.c, zstore_cli_txn.c, zstore_cli_watch.c)
int zstore_cli_get (zstore_cli_t *cli);
int zstore_cli_exists (zstore_cli_t *cli);
int zstore_cli_set (zstore_cli_t *cli);
int zstore_cli_del (zstore_cli_t *cli);
int zstore_cli_del_group (zstore_cli_t *cli);
int zstore_cli_del_prefix (zstore_cli_t *cli);
int zstore_cli_purge (zstore_cli_t *cli);
int zstore_cli_keys (zstore_cli_t *cli);
int zstore_cli_groups (zstore_cli_t *cli);
int zstore_cli_count (zstore_cli_t *cli);
int zstore_cli_render (zstore_cli_t *cli);
int zstore_cli_snapshot (zstore_cli_t *cli);
int zstore_cli_stats (zstore_cli_t *cli);
int zstore_cli_ping (zstore_cli_t *cli);
int zstore_cli_txn (zstore_cli_t *cli);
int zstore_cli_watch (zstore_cli_t *cli);

//  --- Shared helpers (zstore_cli.c) ---------------------------------------

//  The exit code for a library result code.
int
    zstore_cli_exit_code (int code);

//  Reports a failed call: "zstore: <command>: <code>: <message>" on stderr
//  and, with --json, {"status", "code", "error"} on stdout. Returns the
//  exit code.
int
    zstore_cli_fail (zstore_cli_t *cli, int code);

//  Reports a usage error on stderr; returns ZSTORE_EXIT_USAGE.
int
    zstore_cli_usage_error (zstore_cli_t *cli, const char *format, ...)
    __attribute__ ((format (printf, 2, 3)));

//  Parses a TTL ("500", "500ms", "30s", "5m", "2h", "1d"; bare = ms) into
//  ms; false if malformed or not positive.
bool
    zstore_cli_parse_ttl (const char *text, int64_t *ttl_ms);

//  Parses an unsigned decimal; false if malformed or out of range.
bool
    zstore_cli_parse_uint (const char *text, uint64_t *value);

//  A value from an argument, or all of stdin when it is "-". The caller
//  frees *data_p. False if stdin cannot be read.
bool
    zstore_cli_value (const char *argument, char **data_p, size_t *size_p);

//  --- Output (zstore_cli_output.c) ---------------------------------------

//  Bytes for a text listing: printable text and UTF-8 as they are; "\\",
//  tab, newline, CR and other control bytes or invalid UTF-8 escaped
//  C-style (\\ \t \n \r \xHH), so one item stays on one line.
void
    zstore_cli_print_escaped (FILE *out, const char *data, size_t size);

//  A JSON string for bytes that are valid UTF-8, else {"base64": "..."}
//  (the convention of zstore_reply_json).
void
    zstore_cli_print_json_bytes (FILE *out, const char *data, size_t size);

//  A JSON string of a C string (same rules).
void
    zstore_cli_print_json_str (FILE *out, const char *text);

//  One entry as a JSON object: group (if set), key, value (if set),
//  create_rev, mod_rev, expires_at.
void
    zstore_cli_print_json_entry (FILE *out, const zstore_entry_t *entry, bool with_value);

//  Writes size bytes exactly; false on a write error.
bool
    zstore_cli_write (FILE *out, const void *data, size_t size);

#endif
