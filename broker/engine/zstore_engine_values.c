/*  zstore_engine_values - reading a value as pieces (GetSplit, GetFields)
    and rendering a group through a template (Render).
*/

#include "zstore_engine_private.h"
#include "zstore_template.h"
#include "zstore_text.h"

#include <stdlib.h>
#include <string.h>

typedef enum { SPLIT_SEPARATOR, SPLIT_FIELDS } s_split_t;

//  GetSplit and GetFields go through Get, so they share its not-found error
//  and its lazy expiry.
static int
s_get_pieces (zstore_engine_t *self, const char *op, zstore_bytes_t group, zstore_bytes_t key,
              s_split_t how, zstore_bytes_t separator, zstore_list_t **parts_p)
{
    *parts_p = NULL;
    int code = zstore_engine_check_open (self, op);
    if (code)
        return code;
    zstore_value_t value;
    code = zstore_engine_get_as (self, ZSTORE_OP (self, "Get"), group, key, &value);
    if (code)
        return code;
    zstore_list_t *parts = zstore_list_new ();
    int rc = !parts ? -1
           : how == SPLIT_FIELDS ? zstore_text_fields (value.data, value.size, parts)
           : zstore_text_split (value.data, value.size, separator.data, separator.size, parts);
    zstore_value_reset (&value);
    if (rc) {
        zstore_list_destroy (&parts);
        return zstore_engine_fail (self, ZSTORE_INTERNAL, "%s: out of memory", op);
    }
    *parts_p = parts;
    return ZSTORE_OK;
}

int
zstore_engine_get_split (zstore_engine_t *self, zstore_bytes_t group, zstore_bytes_t key,
                         zstore_bytes_t separator, zstore_list_t **parts_p)
{
    return s_get_pieces (self, ZSTORE_OP (self, "GetSplit"), group, key, SPLIT_SEPARATOR,
                         separator, parts_p);
}

int
zstore_engine_get_fields (zstore_engine_t *self, zstore_bytes_t group, zstore_bytes_t key,
                          zstore_list_t **parts_p)
{
    return s_get_pieces (self, ZSTORE_OP (self, "GetFields"), group, key, SPLIT_FIELDS,
                         zstore_bytes ("", 0), parts_p);
}

//  Template data: the group's rows, sorted by key.
static bool
s_lookup (void *arg, const char *key, size_t key_size, const char **value, size_t *value_size)
{
    const zstore_item_t *item = zstore_list_find (arg, key, key_size);
    if (!item)
        return false;
    *value = item->value;
    *value_size = item->value_size;
    return true;
}

static void
s_each (void *arg, void (*emit) (void *, const char *, size_t, const char *, size_t),
        void *emit_arg)
{
    const zstore_list_t *rows = arg;
    for (size_t index = 0; index < zstore_list_size (rows); index++) {
        const zstore_item_t *item = zstore_list_item (rows, index);
        emit (emit_arg, item->key, item->key_size, item->value, item->value_size);
    }
}

int
zstore_engine_render_as (zstore_engine_t *self, const char *op, zstore_bytes_t template_source,
                         zstore_bytes_t group, char **output_p, size_t *size_p)
{
    *output_p = NULL;
    if (size_p)
        *size_p = 0;
    zstore_list_t *rows = NULL;
    int code = zstore_engine_check_open (self, op);
    if (code)
        return code;
    code = zstore_engine_get_all_as (self, "store.All", group, &rows);
    if (code) {
        //  The message is formatted from the old one before it is replaced.
        char *cause = strdup (zstore_engine_error (self));
        zstore_engine_fail (self, code, "%s: iterate rows: %s", op, cause ? cause : "");
        free (cause);
        return code;
    }
    zstore_template_data_t data = { s_lookup, s_each, rows };
    char *error = NULL;
    size_t size = 0;
    zstore_template_status_t status = zstore_template_render (
        template_source.data, template_source.size, &data, output_p, &size, &error);
    zstore_list_destroy (&rows);
    if (status == ZSTORE_TEMPLATE_OK) {
        if (size_p)
            *size_p = size;
        return ZSTORE_OK;
    }
    code = status == ZSTORE_TEMPLATE_NO_MEMORY ? ZSTORE_INTERNAL : ZSTORE_INVALID;
    zstore_engine_fail (self, code, "%s: %s: %s", op,
                        status == ZSTORE_TEMPLATE_PARSE_ERROR ? "parse template"
                        : status == ZSTORE_TEMPLATE_EXEC_ERROR ? "execute template"
                        : "render", error ? error : "out of memory");
    free (error);
    return code;
}

int
zstore_engine_render (zstore_engine_t *self, zstore_bytes_t template_source,
                      zstore_bytes_t group, char **output_p, size_t *size_p)
{
    return zstore_engine_render_as (self, ZSTORE_OP (self, "Render"), template_source, group,
                                    output_p, size_p);
}
