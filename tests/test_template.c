//  zstore_template: the subset of Go's text/template that Render uses.
//  Expected outputs and messages are Go's, for a map[string]string.

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "zstore_template.h"

//  The data: a sorted array of key/values (byte strings, NULs kept).
typedef struct {
    const char *key;
    size_t key_size;
    const char *value;
    size_t value_size;
} entry_t;

#define ENTRY(key, value) { key, sizeof (key) - 1, value, sizeof (value) - 1 }

typedef struct {
    const entry_t *entries;
    size_t size;
    size_t lookups;             //  how often lookup ran
} table_t;

static const entry_t s_group [] = {     //  in byte order
    ENTRY ("bin", "a\0b"),
    ENTRY ("indirect", "name"),
    ENTRY ("key-1", "dash"),
    ENTRY ("key0", "v0"),
    ENTRY ("key25", "v25"),
    ENTRY ("key49", "v49"),
    ENTRY ("name", "zstore"),
    ENTRY ("nul\0key", "found"),
    ENTRY ("pool", "main"),
    ENTRY ("quote\"d", "q"),
    ENTRY ("wallet", "w1"),
    ENTRY ("\xc3\xa9t\xc3\xa9", "summer"),
};

static const entry_t s_small [] = {
    ENTRY ("a", "1"),
    ENTRY ("b", "x\0y"),
};

static int
s_compare (const char *a, size_t a_size, const char *b, size_t b_size)
{
    int rc = memcmp (a, b, a_size < b_size ? a_size : b_size);
    return rc ? rc : (a_size > b_size) - (a_size < b_size);
}

static bool
s_lookup (void *arg, const char *key, size_t key_size, const char **value, size_t *value_size)
{
    table_t *table = arg;
    size_t low = 0, high = table->size;
    table->lookups++;
    while (low < high) {
        size_t middle = (low + high) / 2;
        const entry_t *entry = &table->entries [middle];
        int rc = s_compare (entry->key, entry->key_size, key, key_size);
        if (rc == 0) {
            *value = entry->value;
            *value_size = entry->value_size;
            return true;
        }
        if (rc < 0)
            low = middle + 1;
        else
            high = middle;
    }
    return false;
}

static void
s_each (void *arg, void (*emit) (void *, const char *, size_t, const char *, size_t),
        void *emit_arg)
{
    table_t *table = arg;
    for (size_t index = 0; index < table->size; index++)
        emit (emit_arg, table->entries [index].key, table->entries [index].key_size,
              table->entries [index].value, table->entries [index].value_size);
}

//  Renders source over table, which may be NULL (no data at all).
static zstore_template_status_t
s_render (const char *source, size_t size, table_t *table, char **output, size_t *output_size,
          char **error)
{
    zstore_template_data_t data = { s_lookup, s_each, table };
    *output = (char *) "untouched";
    *error = (char *) "untouched";
    return zstore_template_render (source, size, table ? &data : NULL, output, output_size, error);
}

static void
s_assert_renders_over (const char *source, size_t size, table_t *table,
                       const char *expected, size_t expected_size)
{
    char *output, *error;
    size_t output_size = 12345;
    assert_int_equal (s_render (source, size, table, &output, &output_size, &error),
                      ZSTORE_TEMPLATE_OK);
    assert_null (error);
    assert_non_null (output);
    assert_int_equal (output_size, expected_size);
    assert_memory_equal (output, expected, expected_size + 1);     //  NUL-terminated too
    free (output);
}

static void
s_assert_fails (const char *source, size_t size, zstore_template_status_t status,
                const char *expected)
{
    table_t table = { s_group, sizeof s_group / sizeof s_group [0], 0 };
    char *output, *error;
    size_t output_size = 12345;
    assert_int_equal (s_render (source, size, &table, &output, &output_size, &error), status);
    assert_null (output);
    assert_int_equal (output_size, 0);
    assert_non_null (error);
    bool same = strcmp (error, expected) == 0;
    if (!same)
        print_error ("source: %.*s\nactual:   %s\nexpected: %s\n", (int) size, source, error,
                     expected);
    free (error);
    assert_true (same);
}

#define GROUP(table) table_t table = { s_group, sizeof s_group / sizeof s_group [0], 0 }
#define ASSERT_RENDERS(source, expected) do { \
    GROUP (table_); \
    s_assert_renders_over (source, sizeof (source) - 1, &table_, expected, sizeof (expected) - 1); \
} while (0)
#define ASSERT_PARSE_ERROR(source, message) \
    s_assert_fails (source, sizeof (source) - 1, ZSTORE_TEMPLATE_PARSE_ERROR, message)
#define ASSERT_EXEC_ERROR(source, message) \
    s_assert_fails (source, sizeof (source) - 1, ZSTORE_TEMPLATE_EXEC_ERROR, message)

static void
test_template_substitutes_fields (void **state)
{
    (void) state;
    ASSERT_RENDERS ("{{ .name }}", "zstore");
    ASSERT_RENDERS ("Hello, {{.name}}!", "Hello, zstore!");
    ASSERT_RENDERS ("{{ .key0 }} {{ .key25 }} {{ .key49 }}", "v0 v25 v49");
    ASSERT_RENDERS ("{\"pool\":\"{{ .pool }}\",\"wallet\":\"{{ .wallet }}\"}",
                    "{\"pool\":\"main\",\"wallet\":\"w1\"}");
    ASSERT_RENDERS ("{{\n\t.name\r\n}}{{.pool}}", "zstoremain");   //  any space inside
    ASSERT_RENDERS ("{{ \"lit}}\" }}|{{ `{{` }}", "lit}}|{{");        //  string constants
}

static void
test_template_copies_static_content (void **state)
{
    (void) state;
    ASSERT_RENDERS ("static content", "static content");
    ASSERT_RENDERS ("{ } }} {-\n {\n", "{ } }} {-\n {\n");
    ASSERT_RENDERS ("nul\0byte", "nul\0byte");
    ASSERT_RENDERS ("", "");
}

static void
test_template_renders_missing_keys (void **state)
{
    (void) state;
    ASSERT_RENDERS ("[{{ .nope }}]", "[<no value>]");
    ASSERT_RENDERS ("[{{ .nope.deeper }}]", "[<no value>]");
    //  index gives the map's zero value, as Go's index does
    ASSERT_RENDERS ("[{{ index . \"nope\" }}]", "[]");
    ASSERT_RENDERS ("[{{ .Name }}]", "[<no value>]");   //  keys are case-sensitive
    char *output, *error;
    size_t size;
    assert_int_equal (s_render ("{{ .name }}{{ . }}", 18, NULL, &output, &size, &error),
                      ZSTORE_TEMPLATE_OK);
    assert_string_equal (output, "<no value>map[]");
    assert_null (error);
    free (output);
}

static void
test_template_trims_white_space (void **state)
{
    (void) state;
    ASSERT_RENDERS ("a \t\r\n{{- .name }} b", "azstore b");
    ASSERT_RENDERS ("a {{ .name -}} \t\r\nb", "a zstoreb");
    ASSERT_RENDERS ("a  {{- .name -}}  b", "azstoreb");
    ASSERT_RENDERS ("a {{-\t.name\t-}} b", "azstoreb");
    ASSERT_RENDERS ("a {{-\n.name\n-}} b", "azstoreb");
    ASSERT_RENDERS ("a {{-\r.name\r-}} b", "azstoreb");
    ASSERT_RENDERS ("a {{- .name    -}} b", "azstoreb");
    ASSERT_RENDERS ("{{ .pool -}}  \n\t  {{- .wallet }}", "mainw1");
    ASSERT_RENDERS ("x.{{- .name -}}.y", "x.zstore.y");       //  only white space
    ASSERT_RENDERS ("a\v{{- .name }}", "a\vzstore");          //  \v is not trimmed
    ASSERT_RENDERS ("a {{ .name }} b", "a zstore b");
    //  a dash not next to the braces, or without a space, is no marker
    ASSERT_PARSE_ERROR ("{{-3}}", "template: render:1:2: numbers are not supported");
    ASSERT_PARSE_ERROR ("{{ .name-}}", "template: render:1:3: bad character U+002D '-'");
    ASSERT_PARSE_ERROR ("{{ - .name }}", "template: render:1:3: numbers are not supported");
}

static void
test_template_skips_comments (void **state)
{
    (void) state;
    ASSERT_RENDERS ("a{{/* c */}}b", "ab");
    ASSERT_RENDERS ("a {{- /* c */ -}} b", "ab");
    ASSERT_RENDERS ("a {{- /* c */}} b", "a b");
    ASSERT_RENDERS ("a {{/* c */ -}}\n b", "a b");
    ASSERT_RENDERS ("{{/* {{ .name }} \n */}}x", "x");
    ASSERT_RENDERS ("{{/**/}}", "");
    ASSERT_PARSE_ERROR ("x\n{{/* never closed",
                        "template: render:2:2: unclosed comment");
    ASSERT_PARSE_ERROR ("{{/* c */ }}",
                        "template: render:1:2: comment ends before closing delimiter");
    ASSERT_PARSE_ERROR ("{{ /* c */ }}", "template: render:1:3: unexpected \"/\" in command");
}

static void
test_template_indexes_any_key (void **state)
{
    (void) state;
    ASSERT_RENDERS ("{{ index . \"key-1\" }}", "dash");
    ASSERT_RENDERS ("{{ index . `key-1` }}", "dash");
    ASSERT_RENDERS ("{{ index . `key\r-1` }}", "dash");        //  raw strings lose \r
    ASSERT_RENDERS ("{{ index . \"quote\\\"d\" }}", "q");
    ASSERT_RENDERS ("{{ index . \"\\x62in\" }}", "a\0b");
    ASSERT_RENDERS ("{{ index . \"\\142\\151n\" }}", "a\0b");  //  octal
    ASSERT_RENDERS ("{{ index . \"nul\\x00key\" }}", "found");
    ASSERT_RENDERS ("{{ index . \"\\u00e9t\\U000000E9\" }}", "summer");
    ASSERT_RENDERS ("{{ index . \"\xc3\xa9t\xc3\xa9\" }}", "summer");
    ASSERT_RENDERS ("{{ index . .indirect }}", "zstore");
    ASSERT_RENDERS ("{{ index \"abc\" }}", "abc");
    ASSERT_RENDERS ("{{ \"\\a\\b\\f\\n\\r\\t\\v\\\\\" }}", "\a\b\f\n\r\t\v\\");
    ASSERT_RENDERS ("{{ \"\xff\" }}", "\xef\xbf\xbd");          //  invalid UTF-8: U+FFFD
    ASSERT_RENDERS ("{{ \"\\xff\" }}", "\xff");                 //  but \x is a byte
    ASSERT_PARSE_ERROR ("{{ index . \"\\q\" }}", "template: render:1:11: invalid syntax");
    ASSERT_PARSE_ERROR ("{{ \"\\'\" }}", "template: render:1:3: invalid syntax");
    ASSERT_PARSE_ERROR ("{{ \"\\400\" }}", "template: render:1:3: invalid syntax");
    ASSERT_PARSE_ERROR ("{{ \"\\x4\" }}", "template: render:1:3: invalid syntax");
    ASSERT_PARSE_ERROR ("{{ \"\\ud800\" }}", "template: render:1:3: invalid syntax");
}

static void
test_template_prints_the_map (void **state)
{
    (void) state;
    table_t small = { s_small, 2, 0 };
    s_assert_renders_over ("{{ . }}|{{ index . }}", 21, &small,
                           "map[a:1 b:x\0y]|map[a:1 b:x\0y]", 29);
    table_t empty = { s_small, 0, 0 };
    s_assert_renders_over ("{{ . }}", 7, &empty, "map[]", 5);
    zstore_template_data_t data = { s_lookup, NULL, &small };
    char *output, *error;
    size_t size;
    assert_int_equal (zstore_template_render ("{{ . }}", 7, &data, &output, &size, &error),
                      ZSTORE_TEMPLATE_OK);
    assert_string_equal (output, "map[]");
    free (output);
}

static void
test_template_keeps_nul_bytes (void **state)
{
    (void) state;
    ASSERT_RENDERS ("<{{ .bin }}>", "<a\0b>");
    ASSERT_RENDERS ("\0{{ .bin }}\0{{ .bin }}", "\0a\0b\0a\0b");
}

static void
test_template_reports_parse_errors (void **state)
{
    (void) state;
    ASSERT_PARSE_ERROR ("{{ .unclosed", "template: render:1:12: unclosed action");
    ASSERT_PARSE_ERROR ("Hello {{ .x", "template: render:1:11: unclosed action");
    ASSERT_PARSE_ERROR ("{{", "template: render:1:2: unclosed action");
    ASSERT_PARSE_ERROR ("a\n{{ .name\n  ",
                        "template: render:3:2: unclosed action started at render:2");
    ASSERT_PARSE_ERROR ("{{ .a\n \"x }}",
                        "template: render:2:1: unterminated quoted string"
                        " in action started at render:1");
    ASSERT_PARSE_ERROR ("{{ foo }}", "template: render:1:3: function \"foo\" not defined");
    ASSERT_PARSE_ERROR ("{{ len .name }}",
                        "template: render:1:3: function \"len\" is not supported");
    ASSERT_PARSE_ERROR ("{{ if .name }}x{{ end }}",
                        "template: render:1:3: keyword \"if\" is not supported");
    ASSERT_PARSE_ERROR ("{{ true }}", "template: render:1:3: constant \"true\" is not supported");
    ASSERT_PARSE_ERROR ("{{ .a-b }}", "template: render:1:3: bad character U+002D '-'");
    ASSERT_PARSE_ERROR ("{{ .a\x01 }}", "template: render:1:3: bad character U+0001");
    ASSERT_PARSE_ERROR ("{{ .caf\xc3\xa9 }}", "template: render:1:3: unsupported character"
                        " U+00E9 '\xc3\xa9' in a name (use index)");
    ASSERT_PARSE_ERROR ("{{ \xc3\xa9 }}",
                        "template: render:1:3: unrecognized character in action: U+00E9 '\xc3\xa9'");
    ASSERT_PARSE_ERROR ("{{ \"abc }}", "template: render:1:3: unterminated quoted string");
    ASSERT_PARSE_ERROR ("{{ \"a\nb\" }}", "template: render:1:3: unterminated quoted string");
    ASSERT_PARSE_ERROR ("{{ `abc }}", "template: render:1:3: unterminated raw quoted string");
    ASSERT_PARSE_ERROR ("{{ }}", "template: render:1:3: missing value for command");
    ASSERT_PARSE_ERROR ("{{- -}}", "template: render:1:4: numbers are not supported");
    ASSERT_PARSE_ERROR ("{{ .a | .b }}", "template: render:1:6: pipelines are not supported");
    ASSERT_PARSE_ERROR ("{{ $x := .a }}", "template: render:1:3: variables are not supported");
    ASSERT_PARSE_ERROR ("{{ (.a) }}", "template: render:1:3: parentheses are not supported");
    ASSERT_PARSE_ERROR ("{{ 'x' }}",
                        "template: render:1:3: character constants are not supported");
    ASSERT_PARSE_ERROR ("{{ .a # }}", "template: render:1:6: unexpected \"#\" in operand");
    ASSERT_PARSE_ERROR ("{{ \"a\"\"bcdefghijkl\" }}",
                        "template: render:1:6: unexpected \"\\\"bcdefghij\"... in operand");
    ASSERT_PARSE_ERROR ("{{ ..a }}", "template: render:1:4: unexpected . after term \".\"");
    ASSERT_PARSE_ERROR ("{{ \"x\".a }}",
                        "template: render:1:6: unexpected . after term \"\\\"x\\\"\"");
    ASSERT_PARSE_ERROR ("{{ call.a }}",
                        "template: render:1:7: fields of a function's result are not supported");
    ASSERT_PARSE_ERROR ("ok {{ .name }}\n\n   {{ .x } }}",
                        "template: render:3:9: unexpected \"}\" in operand");
}

static void
test_template_parse_error_executes_nothing (void **state)
{
    (void) state;
    GROUP (table);
    char *output, *error;
    size_t size = 12345;
    const char source [] = "a {{ .name }} b {{ index . \"key-1\" }} c {{ .broken";
    assert_int_equal (s_render (source, sizeof source - 1, &table, &output, &size, &error),
                      ZSTORE_TEMPLATE_PARSE_ERROR);
    assert_int_equal (table.lookups, 0);
    assert_null (output);
    assert_int_equal (size, 0);
    assert_string_equal (error, "template: render:1:50: unclosed action");
    free (error);
    //  the caller may pass no pointers for what it does not want
    assert_int_equal (zstore_template_render ("{{ .x", 5, NULL, NULL, NULL, NULL),
                      ZSTORE_TEMPLATE_PARSE_ERROR);
    assert_int_equal (zstore_template_render ("{{ .x }}", 8, NULL, NULL, NULL, NULL),
                      ZSTORE_TEMPLATE_OK);
}

static void
test_template_reports_exec_errors (void **state)
{
    (void) state;
    ASSERT_EXEC_ERROR ("{{ call .name }}", "template: render:1:3: executing \"render\" at"
                       " <call .name>: error calling call: non-function .name of type string");
    ASSERT_EXEC_ERROR ("{{ .name.first }}", "template: render:1:8: executing \"render\" at"
                       " <.name.first>: can't evaluate field first in type string");
    ASSERT_EXEC_ERROR ("x\n  {{call   .name\n \"y\"}}", "template: render:2:4: executing"
                       " \"render\" at <call .name \"y\">: error calling call: non-function"
                       " .name of type string");
    ASSERT_EXEC_ERROR ("{{ call . }}", "template: render:1:3: executing \"render\" at"
                       " <call .>: error calling call: non-function . of type map[string]string");
    ASSERT_EXEC_ERROR ("{{ call .nope }}", "template: render:1:3: executing \"render\" at"
                       " <call .nope>: error calling call: call of nil");
    ASSERT_EXEC_ERROR ("{{ call }}", "template: render:1:3: executing \"render\" at"
                       " <call>: wrong number of args for call: want at least 1 got 0");
    ASSERT_EXEC_ERROR ("{{ index . index }}", "template: render:1:11: executing \"render\" at"
                       " <index>: wrong number of args for index: want at least 1 got 0");
    ASSERT_EXEC_ERROR ("{{ call .name .bin.x }}", "template: render:1:18: executing \"render\""
                       " at <.bin.x>: can't evaluate field x in type string");
    ASSERT_EXEC_ERROR ("{{ index . \"name\" \"x\" }}", "template: render:1:3: executing"
                       " \"render\" at <index . \"name\" \"x\">: error calling index: cannot"
                       " index slice/array with type string");
    ASSERT_EXEC_ERROR ("{{ index \"s\" .nope }}", "template: render:1:3: executing \"render\""
                       " at <index \"s\" .nope>: error calling index: cannot index slice/array"
                       " with nil");
    ASSERT_EXEC_ERROR ("{{ index .nope \"x\" }}", "template: render:1:3: executing \"render\""
                       " at <index .nope \"x\">: error calling index: index of untyped nil");
    ASSERT_EXEC_ERROR ("{{ index . . }}", "template: render:1:3: executing \"render\" at"
                       " <index . .>: error calling index: value has type map[string]string;"
                       " should be string");
    ASSERT_EXEC_ERROR ("{{ index . .nope }}", "template: render:1:3: executing \"render\" at"
                       " <index . .nope>: error calling index: value is nil; should be of"
                       " type string");
    ASSERT_EXEC_ERROR ("{{ .name \"x\" }}", "template: render:1:3: executing \"render\" at"
                       " <.name>: name is not a method but has arguments");
    ASSERT_EXEC_ERROR ("{{ . .name }}", "template: render:1:3: executing \"render\" at <.>:"
                       " can't give argument to non-function .");
    ASSERT_EXEC_ERROR ("{{ \"s\" .name }}", "template: render:1:3: executing \"render\" at"
                       " <\"s\">: can't give argument to non-function \"s\"");
    //  an execution error returns no partial output
    ASSERT_EXEC_ERROR ("before {{ .name }} {{ call .name }} after", "template: render:1:22:"
                       " executing \"render\" at <call .name>: error calling call:"
                       " non-function .name of type string");
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_template_substitutes_fields),
        cmocka_unit_test (test_template_copies_static_content),
        cmocka_unit_test (test_template_renders_missing_keys),
        cmocka_unit_test (test_template_trims_white_space),
        cmocka_unit_test (test_template_skips_comments),
        cmocka_unit_test (test_template_indexes_any_key),
        cmocka_unit_test (test_template_prints_the_map),
        cmocka_unit_test (test_template_keeps_nul_bytes),
        cmocka_unit_test (test_template_reports_parse_errors),
        cmocka_unit_test (test_template_parse_error_executes_nothing),
        cmocka_unit_test (test_template_reports_exec_errors),
    };
    return cmocka_run_group_tests_name ("zstore_template", tests, NULL, NULL);
}
