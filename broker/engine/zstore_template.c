/* TEMPORARY placeholder until the real renderer lands (helper is writing it). */
#include "zstore_template.h"
#include <stdlib.h>
#include <string.h>
zstore_template_status_t
zstore_template_render (const char *source, size_t source_size,
                        const zstore_template_data_t *data, char **output_p,
                        size_t *size_p, char **error_p)
{
    (void) source; (void) source_size; (void) data; (void) size_p;
    *output_p = NULL;
    *error_p = strdup ("template: render:1:1: renderer not written yet");
    return ZSTORE_TEMPLATE_PARSE_ERROR;
}
