/*  =========================================================================
    zstore_template - see zstore_template.h.

    The whole source is parsed into a flat list of nodes (text runs, and
    actions of one command) before anything runs. The lexer, parser and
    executor follow Go's text/template (parse/lex.go, parse/parse.go,
    exec.go, funcs.go) step by step, so that within the subset Go's
    verdicts, positions and messages come out the same.

    Positions print as LINE:COL, COL being the 0-based byte offset in the
    line as in Go's execution errors. Go's parse errors give the line only;
    we add the column, computed the same way.
    =========================================================================
*/

#include "zstore_template.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME "render"                   //  the template's name in messages
#define MAP_TYPE "map[string]string"    //  Go's type of the data

//  A growable byte string keeping one spare byte, for a final NUL. Once an
//  allocation fails it stays failed and ignores appends.
typedef struct {
    char *data;
    size_t size;
    size_t capacity;
    bool failed;
} buffer_t;

typedef enum {
    TOKEN_SPACE, TOKEN_DOT, TOKEN_FIELD, TOKEN_IDENTIFIER, TOKEN_STRING, TOKEN_RAW_STRING,
    TOKEN_CHAR, TOKEN_RIGHT_DELIM,
    TOKEN_ERROR,                //  Go's lexer fails here too
    TOKEN_UNSUPPORTED           //  valid Go, outside our subset
} token_type_t;

typedef struct {
    token_type_t type;
    size_t pos, size;           //  its bytes in the source
    bool trim;                  //  a right delimiter written " -}}"
    char message [96];          //  TOKEN_ERROR, TOKEN_UNSUPPORTED
} token_t;

typedef enum { VALUE_INVALID, VALUE_MAP, VALUE_STRING } value_kind_t;

typedef struct {
    value_kind_t kind;
    const char *data;           //  VALUE_STRING
    size_t size;
} value_t;

typedef enum { ARG_DOT, ARG_FIELD, ARG_STRING, ARG_FUNCTION } arg_kind_t;

typedef struct template_t template_t;
typedef struct arg_t arg_t;

//  Runs a command, or a builtin, over a command's args [0, count).
typedef int (command_fn) (template_t *self, const arg_t *args, size_t count, size_t pos,
                          value_t *value);

struct arg_t {                  //  an operand, which Go calls a node
    arg_kind_t kind;
    size_t pos;                 //  Go's node position (.a.b: that of .b)
    size_t start, size;         //  its source text, Go's node.String()
    size_t text, text_size;     //  ARG_STRING: its unquoted bytes in strings
    command_fn *call;           //  ARG_FUNCTION
};

typedef struct {
    bool action;
    size_t start, size;         //  text: its bytes in the source
    size_t first, count, pos;   //  action: its command's args, and position
} node_t;

struct template_t {
    const char *source;
    size_t source_size;
    const zstore_template_data_t *data;
    size_t pos;                 //  where the lexer is
    size_t action_pos;          //  the "{{" of the action being parsed
    bool trim_next;             //  the last action ended with " -}}"
    token_t peeked;
    bool has_peeked;
    node_t *nodes;
    size_t node_count, node_capacity;
    arg_t *args;
    size_t arg_count, arg_capacity;
    buffer_t strings;           //  the unquoted string literals
    buffer_t output;
    buffer_t error;
    zstore_template_status_t status;
};

//  --------------------------------------------------------------------------
//  Buffers, runes, messages

//  Makes room for size more bytes and the spare one; NULL if it cannot.
static char *
s_reserve (buffer_t *self, size_t size)
{
    size_t capacity = self->capacity ? self->capacity : 64;
    while (capacity - self->size <= size && capacity <= SIZE_MAX / 2)
        capacity *= 2;
    if (!self->failed && capacity != self->capacity) {
        char *data = capacity - self->size > size ? realloc (self->data, capacity) : NULL;
        self->failed = !data;
        self->data = data ? data : self->data;
        self->capacity = data ? capacity : self->capacity;
    }
    return self->failed ? NULL : self->data + self->size;
}

static void
s_put (buffer_t *self, const void *data, size_t size)
{
    char *target = s_reserve (self, size);
    if (target && size) {
        memcpy (target, data, size);
        self->size += size;
    }
}

//  Appends to the error message; returns -1, for "return s_fail (...)".
static int
s_fail (template_t *self, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    int size = vsnprintf (NULL, 0, format, args);
    va_end (args);
    char *target = size < 0 ? NULL : s_reserve (&self->error, (size_t) size);
    if (target) {
        va_start (args, format);
        vsnprintf (target, (size_t) size + 1, format, args);
        va_end (args);
        self->error.size += (size_t) size;
    }
    else
        self->error.failed = true;
    return -1;
}

//  Appends before, then bytes that may hold anything, then after.
static int
s_fail_span (template_t *self, const char *before, const char *data, size_t size,
             const char *after)
{
    s_fail (self, "%s", before);
    s_put (&self->error, data, size);
    return s_fail (self, "%s", after);
}

//  Go's utf8.DecodeRune: an invalid sequence is U+FFFD of width 1.
static size_t
s_decode (const char *data, size_t size, int32_t *rune)
{
    static const int32_t minimum [] = { 0, 0, 0x80, 0x800, 0x10000 };
    const unsigned char *bytes = (const unsigned char *) data;
    size_t width = bytes [0] < 0x80? 1: bytes [0] < 0xC0? 0: bytes [0] < 0xE0? 2:
                   bytes [0] < 0xF0? 3: bytes [0] < 0xF8? 4: 0;
    int32_t value = bytes [0] & (width > 1 ? 0x7F >> width : 0x7F);
    for (size_t index = 1; index < width && index < size && value >= 0; index++)
        value = (bytes [index] & 0xC0) == 0x80 ? (value << 6) | (bytes [index] & 0x3F) : -1;
    bool valid = width == 1 || (width > 1 && width <= size && value >= minimum [width]
                 && value <= 0x10FFFF && (value < 0xD800 || value >= 0xE000));
    *rune = valid ? value : 0xFFFD;
    return valid ? width : 1;
}

static size_t
s_encode (int32_t rune, char *bytes)
{
    static const unsigned char lead [] = { 0, 0, 0xC0, 0xE0, 0xF0 };
    size_t width = rune < 0x80? 1: rune < 0x800? 2: rune < 0x10000? 3: 4;
    for (size_t index = width - 1; index > 0; index--, rune >>= 6)
        bytes [index] = (char) (0x80 | (rune & 0x3F));
    bytes [0] = (char) (lead [width] | rune);
    return width;
}

//  Go's strconv.IsPrint, exact for ASCII; beyond it only the Latin-1
//  controls, NBSP and the soft hyphen count as non-printing.
static bool
s_printable (int32_t rune)
{
    return (rune >= 0x20 && rune < 0x7F) || (rune > 0xA0 && rune != 0xAD);
}

//  Appends data quoted as Go's %q (strconv.Quote) does, cut after max runes.
static void
s_fail_quoted (template_t *self, const char *data, size_t size, size_t max)
{
    static const char controls [] = "\a\b\f\n\r\t\v";
    s_fail (self, "\"");
    for (size_t index = 0, width; index < size && max-- > 0; index += width) {
        int32_t rune;
        width = s_decode (data + index, size - index, &rune);
        const char *control = rune > 0 && rune < 0x20 ? strchr (controls, rune) : NULL;
        if (rune == '"' || rune == '\\')
            s_fail (self, "\\%c", rune);
        else
        if (s_printable (rune) && width > (rune == 0xFFFD))
            s_put (&self->error, data + index, width);
        else
        if (control)
            s_fail (self, "\\%c", "abfnrtv" [control - controls]);
        else
        if (rune < 0x80 || width == 1)
            s_fail (self, "\\x%02x", (unsigned char) data [index]);
        else
            s_fail (self, rune < 0x10000 ? "\\u%04x" : "\\U%08x", (unsigned) rune);
    }
    s_fail (self, "\"");
}

//  Go's line of pos (from 1) and its byte column in that line (from 0).
static size_t
s_line (template_t *self, size_t pos, size_t *column)
{
    size_t line = 1, start = 0;
    for (size_t index = 0; index < pos; index++)
        if (self->source [index] == '\n') {
            line++;
            start = index + 1;
        }
    if (column)
        *column = pos - start;
    return line;
}

//  Starts the error message, "template: render:LINE:COL: ".
static void
s_error_at (template_t *self, zstore_template_status_t status, size_t pos)
{
    size_t column;
    size_t line = s_line (self, pos, &column);
    self->status = status;
    s_fail (self, "template: " NAME ":%zu:%zu: ", line, column);
}

static int
s_parse_error (template_t *self, size_t pos, const char *message)
{
    s_error_at (self, ZSTORE_TEMPLATE_PARSE_ERROR, pos);
    return s_fail (self, "%s", message);
}

//  Starts an execution error about the node made of args [0, count): Go
//  names a node by its text, a command's args joined by single spaces.
static void
s_exec_error (template_t *self, size_t pos, const arg_t *args, size_t count)
{
    s_error_at (self, ZSTORE_TEMPLATE_EXEC_ERROR, pos);
    s_fail (self, "executing \"" NAME "\" at <");
    for (size_t index = 0; index < count; index++) {
        s_put (&self->error, " ", index > 0);
        s_put (&self->error, self->source + args [index].start, args [index].size);
    }
    s_fail (self, ">: ");
}

//  Returns items with room for one more, or NULL (items left as they are).
static void *
s_grow (void *items, size_t *capacity, size_t count, size_t size)
{
    size_t wanted = *capacity ? *capacity * 2 : 16;
    if (count < *capacity)
        return items;
    void *grown = wanted <= SIZE_MAX / size ? realloc (items, wanted * size) : NULL;
    *capacity = grown ? wanted : *capacity;
    return grown;
}

//  --------------------------------------------------------------------------
//  Lexer: the next token inside an action, as Go's lexInsideAction

static bool
s_is_space (char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool
s_starts (template_t *self, size_t pos, const char *prefix)
{
    size_t size = strlen (prefix);
    return self->source_size - pos >= size && memcmp (self->source + pos, prefix, size) == 0;
}

//  Go's atRightDelim: "}}", or " -}}" where the space may be \t \r \n.
static bool
s_at_right_delim (template_t *self, size_t pos, bool *trim)
{
    *trim = self->source_size - pos >= 4 && s_is_space (self->source [pos])
         && self->source [pos + 1] == '-' && s_starts (self, pos + 2, "}}");
    return *trim || s_starts (self, pos, "}}");
}

//  Go's atTerminator: what may follow a field or an identifier.
static bool
s_at_terminator (template_t *self, size_t pos)
{
    char c = pos < self->source_size ? self->source [pos] : 0;
    return pos == self->source_size || s_is_space (c) || (c && strchr (".,|:)(", c))
        || s_starts (self, pos, "}}");
}

static void
s_token_fail (token_t *token, token_type_t type, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    vsnprintf (token->message, sizeof token->message, format, args);
    va_end (args);
    token->type = type;
}

//  Go's %#U of the rune at pos: "U+002D '-'", or "U+0001" if not printable.
static void
s_rune_name (template_t *self, size_t pos, char *name, size_t size)
{
    int32_t rune;
    char bytes [4];
    s_decode (self->source + pos, self->source_size - pos, &rune);
    int width = s_printable (rune) ? (int) s_encode (rune, bytes) : 0;
    snprintf (name, size, width ? "U+%04X '%.*s'" : "U+%04X", (unsigned) rune, width, bytes);
}

//  A field (".name") or an identifier: letters, digits and _ up to a
//  terminator. Go also takes non-ASCII letters; we send those to index.
static void
s_lex_name (template_t *self, token_t *token)
{
    size_t end = token->pos + (self->source [token->pos] == '.');
    char name [24];
    while (end < self->source_size && (self->source [end] == '_'
        || (self->source [end] >= '0' && self->source [end] <= '9')
        || ((self->source [end] | 0x20) >= 'a' && (self->source [end] | 0x20) <= 'z')))
        end++;
    token->type = self->source [token->pos] == '.' ? TOKEN_FIELD : TOKEN_IDENTIFIER;
    token->size = end - token->pos;
    if (s_at_terminator (self, end))
        return;
    s_rune_name (self, end, name, sizeof name);
    if ((unsigned char) self->source [end] < 0x80)
        s_token_fail (token, TOKEN_ERROR, "bad character %s", name);
    else
        s_token_fail (token, TOKEN_UNSUPPORTED, "unsupported character %s in a name (use index)",
                      name);
}

//  "." alone is dot, ".name" a field and ".5" a number.
static void
s_lex_dot (template_t *self, token_t *token)
{
    char next = token->pos + 1 < self->source_size ? self->source [token->pos + 1] : 0;
    if (next >= '0' && next <= '9')
        s_token_fail (token, TOKEN_UNSUPPORTED, "numbers are not supported");
    else
    if (s_at_terminator (self, token->pos + 1)) {
        token->type = TOKEN_DOT;
        token->size = 1;
    }
    else
        s_lex_name (self, token);
}

//  A run of spaces, leaving out the one that starts a " -}}".
static void
s_lex_space (template_t *self, token_t *token)
{
    size_t end = token->pos;
    bool trim;
    while (end < self->source_size && s_is_space (self->source [end]))
        end++;
    if (end - token->pos > 1 && s_at_right_delim (self, end - 1, &trim) && trim)
        end--;
    token->type = TOKEN_SPACE;
    token->size = end - token->pos;
}

//  A quoted string ends at its quote, and may not hold a newline.
static void
s_lex_quote (template_t *self, token_t *token)
{
    size_t end = token->pos + 1;
    while (end < self->source_size && self->source [end] != '"' && self->source [end] != '\n')
        end += self->source [end] == '\\' && end + 1 < self->source_size
            && self->source [end + 1] != '\n' ? 2 : 1;
    if (end < self->source_size && self->source [end] == '"') {
        token->type = TOKEN_STRING;
        token->size = end + 1 - token->pos;
    }
    else
        s_token_fail (token, TOKEN_ERROR, "unterminated quoted string");
}

static void
s_lex_raw_quote (template_t *self, token_t *token)
{
    const char *start = self->source + token->pos + 1;
    const char *end = memchr (start, '`', self->source_size - token->pos - 1);
    token->type = TOKEN_RAW_STRING;
    token->size = end ? (size_t) (end - start) + 2 : 0;
    if (!end)
        s_token_fail (token, TOKEN_ERROR, "unterminated raw quoted string");
}

//  What a token is, by its first byte.
static const struct {
    const char *first;
    void (*lex) (template_t *self, token_t *token);
    const char *unsupported;    //  without lex: what Go would lex here
} s_lexers [] = {
    { " \t\r\n", s_lex_space, NULL },
    { "\"", s_lex_quote, NULL },
    { "`", s_lex_raw_quote, NULL },
    { ".", s_lex_dot, NULL },
    { "_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", s_lex_name, NULL },
    { "+-0123456789", NULL, "numbers are not supported" },
    { "$", NULL, "variables are not supported" },
    { "'", NULL, "character constants are not supported" },
    { "|", NULL, "pipelines are not supported" },
    { "()", NULL, "parentheses are not supported" },
    { "=:", NULL, "assignments are not supported" },
};

static void
s_lex (template_t *self, token_t *token)
{
    char c = self->pos < self->source_size ? self->source [self->pos] : 0;
    size_t rule = 0, rules = sizeof s_lexers / sizeof s_lexers [0];
    while (rule < rules && !(c && strchr (s_lexers [rule].first, c)))
        rule++;
    memset (token, 0, sizeof *token);
    token->pos = self->pos;
    if (s_at_right_delim (self, self->pos, &token->trim)) {
        token->type = TOKEN_RIGHT_DELIM;
        token->size = token->trim ? 4 : 2;
    }
    else
    if (self->pos == self->source_size)
        s_token_fail (token, TOKEN_ERROR, "unclosed action");
    else
    if (rule < rules && s_lexers [rule].lex)
        s_lexers [rule].lex (self, token);
    else
    if (rule < rules)
        s_token_fail (token, TOKEN_UNSUPPORTED, "%s", s_lexers [rule].unsupported);
    else
    if (c >= 0x20 && c < 0x7F) {
        token->type = TOKEN_CHAR;       //  Go's itemChar, for the parser to reject
        token->size = 1;
    }
    else {
        char name [24];
        s_rune_name (self, self->pos, name, sizeof name);
        s_token_fail (token, TOKEN_ERROR, "unrecognized character in action: %s", name);
    }
    self->pos += token->size;
}

//  --------------------------------------------------------------------------
//  Parser

static token_t *
s_peek (template_t *self)
{
    if (!self->has_peeked)
        s_lex (self, &self->peeked);
    self->has_peeked = true;
    return &self->peeked;
}

static void
s_next (template_t *self, token_t *token)
{
    *token = *s_peek (self);
    self->has_peeked = false;
}

//  Go's Tree.unexpected: a lexer error names the action's line if it is
//  on another; any other token is quoted as Go's item.String() does.
static int
s_unexpected (template_t *self, const token_t *token, const char *context)
{
    size_t line = s_line (self, self->action_pos, NULL);
    size_t size = strlen (token->message);
    s_error_at (self, ZSTORE_TEMPLATE_PARSE_ERROR, token->pos);
    if (token->type == TOKEN_UNSUPPORTED)
        return s_fail (self, "%s", token->message);
    if (token->type == TOKEN_ERROR && line == s_line (self, token->pos, NULL))
        return s_fail (self, "%s", token->message);
    if (token->type == TOKEN_ERROR)     //  "unclosed action" is not "...action in action"
        return s_fail (self, "%s%s started at " NAME ":%zu", token->message,
                       size > 6 && strcmp (token->message + size - 7, " action") == 0
                       ? "" : " in action", line);
    s_fail (self, "unexpected ");
    s_fail_quoted (self, self->source + token->pos, token->size, 10);
    return s_fail (self, "%s in %s", token->size > 10 ? "..." : "", context);
}

static int
s_add_node (template_t *self, const node_t *node)
{
    node_t *nodes = s_grow (self->nodes, &self->node_capacity, self->node_count, sizeof *nodes);
    if (!nodes)
        self->status = ZSTORE_TEMPLATE_NO_MEMORY;
    else {
        self->nodes = nodes;
        self->nodes [self->node_count++] = *node;
    }
    return nodes ? 0 : -1;
}

static int
s_digit (char c)
{
    return c >= '0' && c <= '9'? c - '0': c >= 'a' && c <= 'f'? c - 'a' + 10:
           c >= 'A' && c <= 'F'? c - 'A' + 10: -1;
}

//  Go's strconv.UnquoteChar for the escape at text [*index]; the lexer
//  made sure that something follows the backslash.
static int
s_unescape (buffer_t *buffer, const char *text, size_t size, size_t *index)
{
    static const char letters [] = "abfnrtv\\\"", bytes [] = "\a\b\f\n\r\t\v\\\"";
    char c = text [*index + 1], encoded [4];
    const char *simple = c ? strchr (letters, c) : NULL;
    bool octal = c >= '0' && c <= '7';
    size_t count = simple? 0: octal? 3: c == 'x'? 2: c == 'u'? 4: c == 'U'? 8: 0;
    size_t start = *index + (octal ? 1 : 2);
    uint32_t value = simple ? (unsigned char) bytes [simple - letters] : 0;
    if ((!simple && !count) || size - start < count)
        return -1;
    for (size_t pos = start; pos < start + count; pos++) {
        int digit = s_digit (text [pos]);
        if (digit < 0 || digit >= (octal ? 8 : 16))
            return -1;
        value = value * (octal ? 8 : 16) + (uint32_t) digit;
    }
    *index = start + count;
    bool byte = simple || octal || c == 'x';    //  \x and octal give a byte, not a rune
    if (byte ? value > 255 : value > 0x10FFFF || (value >= 0xD800 && value < 0xE000))
        return -1;
    encoded [0] = (char) value;
    s_put (buffer, encoded, byte ? 1 : s_encode ((int32_t) value, encoded));
    return 0;
}

//  Go's strconv.Unquote: raw strings lose their \r; in quoted ones escapes
//  are decoded and each invalid UTF-8 byte becomes U+FFFD.
static int
s_parse_string (template_t *self, const token_t *token, arg_t *arg)
{
    const char *text = self->source + token->pos + 1;
    size_t size = token->size - 2, index = 0;
    arg->kind = ARG_STRING;
    arg->text = self->strings.size;
    while (index < size) {
        int32_t rune;
        char bytes [4];
        if (token->type == TOKEN_RAW_STRING) {
            s_put (&self->strings, text + index, text [index] != '\r');
            index++;
        }
        else
        if (text [index] == '\\') {
            if (s_unescape (&self->strings, text, size, &index))
                return s_parse_error (self, token->pos, "invalid syntax");
        }
        else {
            index += s_decode (text + index, size - index, &rune);
            s_put (&self->strings, bytes, s_encode (rune, bytes));
        }
    }
    arg->text_size = self->strings.size - arg->text;
    return 0;
}

static command_fn s_call, s_index;

//  The function names Go knows: ours, and the ones we do not support.
static const struct {
    const char *names;
    command_fn *call;
    const char *what;
} s_names [] = {
    { " call ", s_call, NULL },
    { " index ", s_index, NULL },
    { " block break continue define else end if nil range template with ", NULL, "keyword" },
    { " true false ", NULL, "constant" },
    { " and eq ge gt html js le len lt ne not or print printf println slice urlquery ",
      NULL, "function" },
};

static int
s_parse_function (template_t *self, const token_t *token, arg_t *arg)
{
    const char *name = self->source + token->pos;
    char word [16] = "";
    if (token->size < sizeof word - 2)
        snprintf (word, sizeof word, " %.*s ", (int) token->size, name);
    for (size_t index = 0; *word && index < sizeof s_names / sizeof s_names [0]; index++)
        if (strstr (s_names [index].names, word) && s_names [index].call) {
            arg->kind = ARG_FUNCTION;
            arg->call = s_names [index].call;
            return 0;
        }
        else
        if (strstr (s_names [index].names, word)) {
            s_error_at (self, ZSTORE_TEMPLATE_PARSE_ERROR, token->pos);
            return s_fail (self, "%s \"%.*s\" is not supported", s_names [index].what,
                           (int) token->size, name);
        }
    s_error_at (self, ZSTORE_TEMPLATE_PARSE_ERROR, token->pos);
    return s_fail_span (self, "function \"", name, token->size, "\" not defined");
}

//  Go's operand(): fields right after a term chain onto it, so .a.b is one
//  field node, placed where .b starts; after . or a string that is an
//  error, and after a function (Go's chain node) we do not support it.
static int
s_parse_chain (template_t *self, arg_t *arg)
{
    token_t *next = s_peek (self);
    if (next->type == TOKEN_FIELD && arg->kind == ARG_FUNCTION)
        return s_parse_error (self, next->pos, "fields of a function's result are not supported");
    if (next->type == TOKEN_FIELD && arg->kind != ARG_FIELD) {
        s_error_at (self, ZSTORE_TEMPLATE_PARSE_ERROR, next->pos);
        s_fail (self, "unexpected . after term ");
        s_fail_quoted (self, self->source + arg->start, arg->size, SIZE_MAX);
        return -1;
    }
    arg->pos = next->type == TOKEN_FIELD ? next->pos : arg->pos;
    for (; next->type == TOKEN_FIELD; next = s_peek (self)) {
        arg->size = next->pos + next->size - arg->start;
        self->has_peeked = false;
    }
    return 0;
}

static int
s_parse_operand (template_t *self, const token_t *token, const char *context)
{
    arg_t arg = { .pos = token->pos, .start = token->pos, .size = token->size };
    int rc = 0;
    arg.kind = token->type == TOKEN_DOT ? ARG_DOT : ARG_FIELD;
    if (token->type == TOKEN_IDENTIFIER)
        rc = s_parse_function (self, token, &arg);
    else
    if (token->type == TOKEN_STRING || token->type == TOKEN_RAW_STRING)
        rc = s_parse_string (self, token, &arg);
    else
    if (token->type != TOKEN_DOT && token->type != TOKEN_FIELD)
        return s_unexpected (self, token, context);
    if (rc || s_parse_chain (self, &arg))
        return -1;
    arg_t *args = s_grow (self->args, &self->arg_capacity, self->arg_count, sizeof *args);
    if (!args) {
        self->status = ZSTORE_TEMPLATE_NO_MEMORY;
        return -1;
    }
    self->args = args;
    self->args [self->arg_count++] = arg;
    return 0;
}

//  An action, self->pos being past its "{{" and trim marker: one command,
//  operand (space operand)*, as Go's pipeline() and command() see it.
static int
s_parse_action (template_t *self)
{
    token_t token;
    const char *context = "command";
    do
        s_next (self, &token);
    while (token.type == TOKEN_SPACE);
    if (token.type == TOKEN_RIGHT_DELIM)
        return s_parse_error (self, token.pos, "missing value for command");
    node_t node = { .action = true, .first = self->arg_count, .pos = token.pos };
    while (token.type != TOKEN_RIGHT_DELIM) {
        if (s_parse_operand (self, &token, context))
            return -1;
        context = "operand";
        s_next (self, &token);
        bool spaced = token.type == TOKEN_SPACE;
        while (token.type == TOKEN_SPACE)
            s_next (self, &token);
        if (!spaced && token.type != TOKEN_RIGHT_DELIM)
            return s_unexpected (self, &token, context);
    }
    node.count = self->arg_count - node.first;
    self->trim_next = token.trim;
    return s_add_node (self, &node);
}

//  Where the two bytes of pair next occur from pos on; SIZE_MAX if nowhere.
static size_t
s_find (template_t *self, size_t pos, const char *pair)
{
    while (pos + 1 < self->source_size) {
        const char *hit = memchr (self->source + pos, pair [0], self->source_size - pos - 1);
        pos = hit ? (size_t) (hit - self->source) : self->source_size;
        if (hit && hit [1] == pair [1])
            return pos;
        pos++;
    }
    return SIZE_MAX;
}

//  A comment is a whole action: "/*" right after "{{" or "{{- ", and "*/"
//  right before "}}" or " -}}", as in Go.
static int
s_parse_comment (template_t *self)
{
    size_t open = self->pos;
    size_t close = s_find (self, open + 2, "*/");
    bool trim;
    if (close == SIZE_MAX)
        return s_parse_error (self, open, "unclosed comment");
    if (!s_at_right_delim (self, close + 2, &trim))
        return s_parse_error (self, open, "comment ends before closing delimiter");
    self->pos = close + 2 + (trim ? 4 : 2);
    self->trim_next = trim;
    return 0;
}

//  Text up to each "{{", trimmed by the markers on either side, then the
//  comment or action that follows, to the end of the source.
static int
s_parse (template_t *self)
{
    while (self->pos < self->source_size) {
        size_t start = self->pos;
        size_t delim = s_find (self, start, "{{");
        size_t end = delim == SIZE_MAX ? self->source_size : delim;
        bool trim = delim != SIZE_MAX && self->source_size - delim >= 4
                 && self->source [delim + 2] == '-' && s_is_space (self->source [delim + 3]);
        while (self->trim_next && start < end && s_is_space (self->source [start]))
            start++;
        while (trim && end > start && s_is_space (self->source [end - 1]))
            end--;
        node_t text = { .start = start, .size = end - start };
        if (end > start && s_add_node (self, &text))
            return -1;
        if (delim == SIZE_MAX)
            break;
        self->action_pos = delim;
        self->pos = delim + (trim ? 4 : 2);
        self->trim_next = false;
        if (s_starts (self, self->pos, "/*") ? s_parse_comment (self) : s_parse_action (self))
            return -1;
    }
    return 0;
}

//  --------------------------------------------------------------------------
//  Execution

static const char *const s_type_names [] = {
    [VALUE_INVALID] = "<nil>", [VALUE_MAP] = MAP_TYPE, [VALUE_STRING] = "string"
};

static void
s_lookup (template_t *self, const char *key, size_t key_size, value_t *value)
{
    const zstore_template_data_t *data = self->data;
    value->kind = data && data->lookup
               && data->lookup (data->arg, key, key_size, &value->data, &value->size)
                ? VALUE_STRING : VALUE_INVALID;
}

//  Go's evalFieldChain from the map: a missing key is an invalid value,
//  which stays invalid down the chain and prints "<no value>"; a string has
//  no fields. count > 1: the command gives the field arguments.
static int
s_eval_field (template_t *self, const arg_t *args, size_t count, size_t pos, value_t *value)
{
    const char *name = self->source + args->start;
    const char *end = name + args->size;
    (void) pos;
    *value = (value_t) { VALUE_MAP, NULL, 0 };
    while (name++ < end) {
        const char *stop = memchr (name, '.', (size_t) (end - name));
        size_t size = (size_t) ((stop ? stop : end) - name);
        bool arguments = value->kind == VALUE_MAP && !stop && count > 1;
        if (value->kind == VALUE_STRING || arguments) {
            s_exec_error (self, args->pos, args, 1);
            return arguments
                 ? s_fail_span (self, "", name, size, " is not a method but has arguments")
                 : s_fail_span (self, "can't evaluate field ", name, size, " in type string");
        }
        if (value->kind == VALUE_MAP)
            s_lookup (self, name, size, value);
        name += size;
    }
    return 0;
}

static command_fn s_eval_function;

//  Go's evalArg: a function given as an argument is called with none.
static int
s_eval_arg (template_t *self, const arg_t *arg, value_t *value)
{
    if (arg->kind == ARG_FIELD)
        return s_eval_field (self, arg, 1, arg->pos, value);
    if (arg->kind == ARG_FUNCTION)
        return s_eval_function (self, arg, 1, arg->pos, value);
    *value = (value_t) { arg->kind == ARG_DOT ? VALUE_MAP : VALUE_STRING,
                         arg->text_size ? self->strings.data + arg->text : "", arg->text_size };
    return 0;
}

//  Go's evalFunction and evalCall: all arguments are evaluated before the
//  call, so an error in one of them wins over the function's own.
static int
s_eval_function (template_t *self, const arg_t *args, size_t count, size_t pos, value_t *value)
{
    if (count < 2) {
        s_exec_error (self, args->pos, args, 1);
        return s_fail_span (self, "wrong number of args for ", self->source + args->start,
                            args->size, ": want at least 1 got 0");
    }
    for (size_t index = 1; index < count; index++)
        if (s_eval_arg (self, args + index, value))
            return -1;
    return args->call (self, args, count, pos, value);
}

//  A constant (. or a string) as the command: it takes no arguments.
static int
s_eval_constant (template_t *self, const arg_t *args, size_t count, size_t pos, value_t *value)
{
    (void) pos;
    if (count == 1)
        return s_eval_arg (self, args, value);
    s_exec_error (self, args->pos, args, 1);
    return s_fail_span (self, "can't give argument to non-function ",
                        self->source + args->start, args->size, "");
}

//  Starts the message of a builtin that failed, about the whole command.
static void
s_call_error (template_t *self, const arg_t *args, size_t count, size_t pos)
{
    s_exec_error (self, pos, args, count);
    s_fail_span (self, "error calling ", self->source + args->start, args->size, ": ");
}

//  Go's call builtin: the values here are never functions.
static int
s_call (template_t *self, const arg_t *args, size_t count, size_t pos, value_t *value)
{
    if (s_eval_arg (self, args + 1, value))
        return -1;
    s_call_error (self, args, count, pos);
    if (value->kind == VALUE_INVALID)
        return s_fail (self, "call of nil");
    s_fail_span (self, "non-function ", self->source + args [1].start, args [1].size, "");
    return s_fail (self, " of type %s", s_type_names [value->kind]);
}

//  Go's index builtin, item then keys. A missing key gives the map's zero
//  value "", where a missing .key gives an invalid value ("<no value>").
static int
s_index (template_t *self, const arg_t *args, size_t count, size_t pos, value_t *value)
{
    static const char *const problems [] [3] = {    //  by item kind, then key kind
        [VALUE_MAP] = { "value is nil; should be of type string",
                        "value has type " MAP_TYPE "; should be string", NULL },
        [VALUE_STRING] = { "cannot index slice/array with nil",
                           "cannot index slice/array with type " MAP_TYPE,
                           "cannot index slice/array with type string" },
    };
    const char *problem = NULL;
    value_t key;
    if (s_eval_arg (self, args + 1, value))
        return -1;
    if (value->kind == VALUE_INVALID)
        problem = "index of untyped nil";
    for (size_t index = 2; index < count && !problem; index++) {
        if (s_eval_arg (self, args + index, &key))
            return -1;
        problem = problems [value->kind] [key.kind];
        if (!problem)
            s_lookup (self, key.data, key.size, value);
        if (value->kind == VALUE_INVALID)
            *value = (value_t) { VALUE_STRING, "", 0 };
    }
    if (problem)
        s_call_error (self, args, count, pos);
    return problem ? s_fail (self, "%s", problem) : 0;
}

//  Go's evalCommand, by the kind of the command's first word.
static command_fn *const s_commands [] = {
    [ARG_DOT] = s_eval_constant, [ARG_FIELD] = s_eval_field,
    [ARG_STRING] = s_eval_constant, [ARG_FUNCTION] = s_eval_function,
};

typedef struct {
    buffer_t *output;
    bool first;
} map_printer_t;

static void
s_print_entry (void *arg, const char *key, size_t key_size, const char *value, size_t value_size)
{
    map_printer_t *printer = arg;
    s_put (printer->output, " ", !printer->first);
    s_put (printer->output, key, key_size);
    s_put (printer->output, ":", 1);
    s_put (printer->output, value, value_size);
    printer->first = false;
}

//  fmt.Fprint of the value: a string as is, a map as map[k1:v1 k2:v2].
static void
s_print (template_t *self, const value_t *value)
{
    map_printer_t printer = { &self->output, true };
    if (value->kind == VALUE_STRING)
        s_put (&self->output, value->data, value->size);
    else
    if (value->kind == VALUE_INVALID)
        s_put (&self->output, "<no value>", 10);
    else {
        s_put (&self->output, "map[", 4);
        if (self->data && self->data->each)
            self->data->each (self->data->arg, s_print_entry, &printer);
        s_put (&self->output, "]", 1);
    }
}

static int
s_execute (template_t *self)
{
    for (size_t index = 0; index < self->node_count; index++) {
        const node_t *node = &self->nodes [index];
        const arg_t *args = node->action ? self->args + node->first : NULL;
        value_t value;
        if (!args)
            s_put (&self->output, self->source + node->start, node->size);
        else
        if (s_commands [args->kind] (self, args, node->count, node->pos, &value))
            return -1;
        else
            s_print (self, &value);
    }
    return 0;
}

//  Hands the buffer out NUL-terminated (its spare byte) if wanted and
//  asked for; frees it otherwise.
static void
s_hand_out (buffer_t *buffer, bool wanted, char **target_p)
{
    if (wanted && target_p)
        buffer->data [buffer->size] = '\0';
    else
        free (buffer->data);
    if (target_p)
        *target_p = wanted ? buffer->data : NULL;
}

//  --------------------------------------------------------------------------

zstore_template_status_t
zstore_template_render (const char *source, size_t source_size,
                        const zstore_template_data_t *data, char **output_p,
                        size_t *size_p, char **error_p)
{
    template_t self = {
        .source = source ? source : "", .source_size = source ? source_size : 0, .data = data
    };
    //  Nothing runs before the whole source is parsed. A failure that left
    //  no status is a buffer that could not grow.
    if (s_parse (&self) || self.strings.failed || s_execute (&self)
    ||  !s_reserve (&self.output, 0))
        self.status = self.status ? self.status : ZSTORE_TEMPLATE_NO_MEMORY;
    if (self.status != ZSTORE_TEMPLATE_OK && !s_reserve (&self.error, 0))
        self.status = ZSTORE_TEMPLATE_NO_MEMORY;
    bool failed = self.status != ZSTORE_TEMPLATE_OK;
    s_hand_out (&self.output, !failed, output_p);
    s_hand_out (&self.error, failed && self.status != ZSTORE_TEMPLATE_NO_MEMORY, error_p);
    if (size_p)
        *size_p = failed ? 0 : self.output.size;
    free (self.strings.data);
    free (self.nodes);
    free (self.args);
    return self.status;
}
