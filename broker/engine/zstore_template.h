/*  =========================================================================
    zstore_template - the part of Go's text/template that go-store's Render
    uses. No template library exists for C in Debian; this one is ours.

    Supported (everything else is a parse error naming line and column):
    - text outside actions, copied verbatim;
    - {{ .name }}: the value of key "name" (name: ASCII letters, digits, _);
      a missing key renders "<no value>" like Go's map lookup;
    - {{ index . "key" }}: the value of any key (a Go string literal with
      Go's escapes, or a `raw` literal); a missing key gives "" (the map's
      zero value, as in Go), where {{ .missing }} gives "<no value>";
    - {{ "text" }}: a string literal prints itself;
    - {{ . }}: Go prints a map as map[k1:v1 k2:v2] in key order; so do we;
    - {{- and -}} trim markers (a dash plus one space/tab/CR/LF) trimming
      the white space before or after the action;
    - comments: an action that is only a comment (open-brace pair, slash,
      star ... star, slash, close-brace pair), also with trim markers;
    - {{ call .name }}: accepted by the parser, and an execution error at
      run time as in Go (the values are strings, never functions).
    =========================================================================
*/

#ifndef ZSTORE_TEMPLATE_H_INCLUDED
#define ZSTORE_TEMPLATE_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    ZSTORE_TEMPLATE_OK = 0,
    ZSTORE_TEMPLATE_PARSE_ERROR = 1,
    ZSTORE_TEMPLATE_EXEC_ERROR = 2,
    ZSTORE_TEMPLATE_NO_MEMORY = 3
} zstore_template_status_t;

//  Looks a key up in the data: returns true and sets *value/*value_size
//  (borrowed) if present.
typedef bool (zstore_template_lookup_fn) (void *arg, const char *key, size_t key_size,
                                          const char **value, size_t *value_size);

//  Calls fn for each (key, value) of the data in key order, for {{ . }}.
typedef void (zstore_template_each_fn) (void *arg,
                                        void (*emit) (void *emit_arg, const char *key,
                                                      size_t key_size, const char *value,
                                                      size_t value_size),
                                        void *emit_arg);

typedef struct {
    zstore_template_lookup_fn *lookup;
    zstore_template_each_fn *each;  //  may be NULL: {{ . }} then prints map[]
    void *arg;
} zstore_template_data_t;

//  Parses and executes source (name "render" in messages). On success
//  *output_p (NUL-terminated, caller frees) and *size_p are set. On failure
//  *error_p (caller frees) holds Go-shaped text:
//    parse: "template: render:LINE:COL: <what>"
//    exec:  "template: render:LINE:COL: executing \"render\" at <...>: <what>"
//  Nothing is written on a parse error: the whole source is parsed first.
zstore_template_status_t
    zstore_template_render (const char *source, size_t source_size,
                            const zstore_template_data_t *data, char **output_p,
                            size_t *size_p, char **error_p);

#ifdef __cplusplus
}
#endif

#endif
