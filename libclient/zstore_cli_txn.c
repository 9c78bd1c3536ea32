/*  zstore_cli_txn - `zstore txn`: operations read from stdin, one per line,
    run in one broker transaction (the format is in `zstore help txn`).

    A line is split into words (spaces and tabs between them; double quotes
    with C escapes for any other byte), its first word looked up in s_ops,
    and the operation added to a zstore_txn_t. Nothing is sent before the
    whole input has parsed, so a typo on line 9 does not leave lines 1-8
    half-applied: there is nothing to apply.
*/

#include "zstore_cli.h"

#include <czmq.h>

#define MAX_WORDS 16

typedef struct {
    char *data;                     //  in the line's buffer, NUL-terminated
    size_t size;
    bool quoted;                    //  quoted words are never options
} s_word_t;

typedef struct {
    s_word_t words [MAX_WORDS];
    int count;
    size_t number;                  //  line number, for messages
    //  Options of set and del
    zstore_write_opts_t opts;
} s_line_t;

typedef int (s_add_fn) (zstore_txn_t *txn, s_line_t *line);

typedef struct {
    const char *name;               //  as written on the line
    int args;
    unsigned options;               //  ZSTORE_OPT_TTL, ZSTORE_OPT_IF_REV
    s_add_fn *add;
} s_op_t;

//  --- The operations ------------------------------------------------------

#define WORD(n) (line->words [(n)].data)

static int
s_add_set (zstore_txn_t *txn, s_line_t *line)
{
    return zstore_txn_set (txn, WORD (1), WORD (2), WORD (3), line->words [3].size,
                           &line->opts);
}

static int s_add_del (zstore_txn_t *txn, s_line_t *line)
    { return zstore_txn_delete (txn, WORD (1), WORD (2), line->opts.if_rev); }
static int s_add_get (zstore_txn_t *txn, s_line_t *line)
    { return zstore_txn_get (txn, WORD (1), WORD (2)); }
static int s_add_exists (zstore_txn_t *txn, s_line_t *line)
    { return zstore_txn_exists (txn, WORD (1), WORD (2)); }
static int s_add_count (zstore_txn_t *txn, s_line_t *line)
    { return zstore_txn_count (txn, WORD (1)); }
static int s_add_del_group (zstore_txn_t *txn, s_line_t *line)
    { return zstore_txn_delete_group (txn, WORD (1)); }
static int s_add_del_prefix (zstore_txn_t *txn, s_line_t *line)
    { return zstore_txn_delete_prefix (txn, WORD (1)); }

static const s_op_t s_ops [] = {
    { "set", 3, ZSTORE_OPT_TTL | ZSTORE_OPT_IF_REV, s_add_set },
    { "del", 2, ZSTORE_OPT_IF_REV, s_add_del },
    { "get", 2, 0, s_add_get },
    { "exists", 2, 0, s_add_exists },
    { "count", 1, 0, s_add_count },
    { "del-group", 1, 0, s_add_del_group },
    { "del-prefix", 1, 0, s_add_del_prefix },
};

static const s_op_t *
s_op_by_name (const char *name)
{
    for (size_t index = 0; index < sizeof s_ops / sizeof s_ops [0]; index++)
        if (streq (s_ops [index].name, name))
            return &s_ops [index];
    return NULL;
}

//  --- Words ---------------------------------------------------------------

static int
s_hex_digit (char digit)
{
    if (digit >= '0' && digit <= '9')
        return digit - '0';
    if (digit >= 'a' && digit <= 'f')
        return digit - 'a' + 10;
    if (digit >= 'A' && digit <= 'F')
        return digit - 'A' + 10;
    return -1;
}

//  Decodes the quoted word at *cursor (after its opening quote) in place,
//  into out; moves *cursor past the closing quote. NULL if malformed.
static const char *
s_unquote (char **cursor, char *end, s_word_t *word)
{
    char *in = *cursor, *out = *cursor;
    word->data = out;
    word->quoted = true;
    while (in < end && *in != '"') {
        if (*in != '\\') {
            *out++ = *in++;
            continue;
        }
        if (++in == end)
            return NULL;
        char escape = *in++;
        if (escape == 'n') *out++ = '\n';
        else if (escape == 't') *out++ = '\t';
        else if (escape == 'r') *out++ = '\r';
        else if (escape == '0') *out++ = '\0';
        else if (escape == '"' || escape == '\\') *out++ = escape;
        else
        if (escape == 'x' && end - in >= 2 && s_hex_digit (in [0]) >= 0
                                          && s_hex_digit (in [1]) >= 0) {
            *out++ = (char) (s_hex_digit (in [0]) * 16 + s_hex_digit (in [1]));
            in += 2;
        }
        else
            return NULL;
    }
    if (in == end)
        return NULL;
    word->size = (size_t) (out - word->data);
    *cursor = in + 1;
    //  The decoded word is never longer than its text, so there is room
    //  for the terminator: the closing quote's byte at least.
    *out = 0;
    return word->data;
}

static bool
s_is_blank (char byte)
{
    return byte == ' ' || byte == '\t' || byte == '\r' || byte == '\n';
}

//  Splits text (size bytes, modified in place) into line->words. Returns
//  an error message or NULL.
static const char *
s_split (char *text, size_t size, s_line_t *line)
{
    char *cursor = text, *end = text + size;
    line->count = 0;
    while (true) {
        while (cursor < end && s_is_blank (*cursor))
            cursor++;
        if (cursor == end)
            return NULL;
        if (line->count == MAX_WORDS)
            return "too many words";
        s_word_t *word = &line->words [line->count++];
        if (*cursor == '"') {
            cursor++;
            if (!s_unquote (&cursor, end, word))
                return "unterminated quote or bad escape";
            if (cursor < end && !s_is_blank (*cursor))
                return "a quoted word must end at a space";
            continue;
        }
        word->data = cursor;
        word->quoted = false;
        while (cursor < end && !s_is_blank (*cursor))
            cursor++;
        word->size = (size_t) (cursor - word->data);
        if (cursor < end)
            *cursor++ = 0;
        else
            *cursor = 0;            //  getline leaves room for it
    }
}

//  --- Lines ---------------------------------------------------------------

//  Takes --ttl / --if-rev out of the words after the operation's name.
static const char *
s_parse_options (s_line_t *line, const s_op_t *op)
{
    int kept = 1;
    for (int index = 1; index < line->count; index++) {
        s_word_t *word = &line->words [index];
        bool ttl = !word->quoted && streq (word->data, "--ttl");
        bool if_rev = !word->quoted && streq (word->data, "--if-rev");
        if (!ttl && !if_rev) {
            line->words [kept++] = *word;
            continue;
        }
        if ((ttl && !(op->options & ZSTORE_OPT_TTL))
        ||  (if_rev && !(op->options & ZSTORE_OPT_IF_REV)))
            return "option does not apply to this operation";
        if (++index == line->count)
            return "option needs a value";
        const char *value = line->words [index].data;
        uint64_t rev;
        if (ttl) {
            line->opts.has_ttl = true;
            if (!zstore_cli_parse_ttl (value, &line->opts.ttl_ms))
                return "bad --ttl (500ms, 30s, 5m, 2h, 1d)";
        }
        else {
            if (!zstore_cli_parse_uint (value, &rev) || rev > INT64_MAX)
                return "bad --if-rev";
            line->opts.if_rev = (int64_t) rev;
        }
    }
    line->count = kept;
    return NULL;
}

//  Adds one line's operation to txn; *op_p gets it (NULL for a blank or
//  comment line). Returns an error message or NULL.
static const char *
s_add_line (zstore_txn_t *txn, char *text, size_t size, s_line_t *line, const s_op_t **op_p)
{
    *op_p = NULL;
    const char *error = s_split (text, size, line);
    if (error || line->count == 0 || line->words [0].data [0] == '#')
        return error;
    const s_op_t *op = s_op_by_name (line->words [0].data);
    if (!op || line->words [0].quoted)
        return "unknown operation (set, del, get, exists, count, del-group, del-prefix)";
    line->opts = (zstore_write_opts_t) ZSTORE_WRITE_OPTS;
    if ((error = s_parse_options (line, op)))
        return error;
    if (line->count != op->args + 1)
        return "wrong number of words (zstore help txn)";
    //  Groups and keys go to the typed calls as C strings; values do not.
    for (int index = 1; index <= (op == &s_ops [0] ? 2 : op->args); index++)
        if (strlen (line->words [index].data) != line->words [index].size)
            return "a group, key or prefix cannot hold a NUL byte here";
    if (op->add (txn, line) != ZSTORE_OK)
        return "the operation was refused (a bad name?)";
    *op_p = op;
    return NULL;
}

//  Reads stdin into txn; ops_p gets each operation's entry, in order.
static int
s_read_operations (zstore_cli_t *cli, zstore_txn_t *txn, const s_op_t ***ops_p)
{
    char *text = NULL;
    size_t capacity = 0;
    ssize_t size;
    s_line_t line = { .number = 0 };
    const s_op_t **ops = NULL;
    int rc = ZSTORE_EXIT_OK;
    while (rc == ZSTORE_EXIT_OK && (size = getline (&text, &capacity, stdin)) >= 0) {
        line.number++;
        const s_op_t *op;
        const char *error = s_add_line (txn, text, (size_t) size, &line, &op);
        if (error)
            rc = zstore_cli_usage_error (cli, "line %zu: %s", line.number, error);
        else
        if (op) {
            const s_op_t **more = realloc (ops, zstore_txn_size (txn) * sizeof *ops);
            if (more) {
                ops = more;
                ops [zstore_txn_size (txn) - 1] = op;
            }
            else
                rc = zstore_cli_fail (cli, ZSTORE_NO_MEMORY);
        }
    }
    free (text);
    if (rc == ZSTORE_EXIT_OK && ferror (stdin))
        rc = zstore_cli_usage_error (cli, "cannot read stdin");
    if (rc == ZSTORE_EXIT_OK && zstore_txn_size (txn) == 0)
        rc = zstore_cli_usage_error (cli, "no operations on stdin");
    *ops_p = ops;
    return rc;
}

//  --- Results -------------------------------------------------------------

//  One operation's result: text "INDEX OP STATUS [RESULT]" or a JSON object.
static void
s_print_result (zstore_cli_t *cli, zstore_txn_t *txn, size_t index, const s_op_t *op)
{
    int status = zstore_txn_result_status (txn, index);
    zstore_entry_t entry = { 0 };
    bool is_get = op->add == s_add_get && status == ZSTORE_OK
               && zstore_txn_result_entry (txn, index, &entry) == ZSTORE_OK;
    bool is_count = op->add == s_add_count && status == ZSTORE_OK;
    bool is_exists = op->add == s_add_exists && status == ZSTORE_OK;
    if (cli->json) {
        fputs (index ? ", {\"op\": " : "{\"op\": ", stdout);
        zstore_cli_print_json_str (stdout, op->name);
        fputs (", \"status\": ", stdout);
        zstore_cli_print_json_str (stdout, zstore_code_name (status));
        if (is_get) {
            fputs (", \"entry\": ", stdout);
            zstore_cli_print_json_entry (stdout, &entry, true);
        }
        if (is_count)
            printf (", \"count\": %llu", (unsigned long long) zstore_txn_result_count (txn, index));
        if (is_exists)
            printf (", \"exists\": %s", zstore_txn_result_exists (txn, index) ? "true" : "false");
        putchar ('}');
    }
    else {
        printf ("%zu\t%s\t%s", index, op->name, zstore_code_name (status));
        if (is_get) {
            putchar ('\t');
            zstore_cli_print_escaped (stdout, entry.value, entry.value_size);
        }
        if (is_count)
            printf ("\t%llu", (unsigned long long) zstore_txn_result_count (txn, index));
        if (is_exists)
            printf ("\t%s", zstore_txn_result_exists (txn, index) ? "true" : "false");
        putchar ('\n');
    }
    zstore_entry_clear (&entry);
}

//  A transaction the broker refused: which operation, and why.
static int
s_print_failure (zstore_cli_t *cli, zstore_txn_t *txn, const s_op_t **ops, int code)
{
    int failed = zstore_txn_failed_index (txn);
    if (failed < 0 || (size_t) failed >= zstore_txn_size (txn))
        return zstore_cli_fail (cli, code);
    const char *message = zstore_client_error (cli->client);
    fprintf (stderr, "zstore: txn: operation %d (%s) failed, nothing applied: %s: %s\n",
             failed, ops [failed]->name, zstore_code_name (code), message);
    if (cli->json) {
        printf ("{\"status\": %d, \"code\": ", code);
        zstore_cli_print_json_str (stdout, zstore_code_name (code));
        fputs (", \"error\": ", stdout);
        zstore_cli_print_json_str (stdout, message);
        printf (", \"failed\": %d}\n", failed);
    }
    return zstore_cli_exit_code (code);
}

int
zstore_cli_txn (zstore_cli_t *cli)
{
    zstore_txn_t *txn = zstore_txn_new ();
    if (!txn)
        return zstore_cli_fail (cli, ZSTORE_NO_MEMORY);
    const s_op_t **ops = NULL;
    int exit_code = s_read_operations (cli, txn, &ops);
    if (exit_code == ZSTORE_EXIT_OK) {
        uint64_t rev = 0;
        int rc = zstore_client_txn (cli->client, txn, &rev);
        if (rc != ZSTORE_OK)
            exit_code = s_print_failure (cli, txn, ops, rc);
        else {
            if (cli->json)
                printf ("{\"rev\": %llu, \"results\": [", (unsigned long long) rev);
            for (size_t index = 0; index < zstore_txn_size (txn); index++)
                s_print_result (cli, txn, index, ops [index]);
            if (cli->json)
                fputs ("]}\n", stdout);
            else
                printf ("rev %llu\n", (unsigned long long) rev);
        }
    }
    free (ops);
    zstore_txn_destroy (&txn);
    return exit_code;
}
