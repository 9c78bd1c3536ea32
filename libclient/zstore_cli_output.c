/*  zstore_cli_output - how the zstore command prints byte strings: escaped
    on one line in text listings, as JSON strings (or base64 when they are
    not UTF-8) with --json. Groups, keys and values may hold any byte, so
    nothing here trusts them to be text.
*/

#include "zstore_cli.h"
#include "zstore_proto.h"

#include <string.h>

void
zstore_cli_print_escaped (FILE *out, const char *data, size_t size)
{
    const unsigned char *bytes = (const unsigned char *) data;
    size_t index = 0;
    while (index < size) {
        unsigned char byte = bytes [index];
        size_t length = zstore_utf8_length (bytes + index, size - index);
        if (byte == '\\')
            fputs ("\\\\", out);
        else
        if (byte == '\t')
            fputs ("\\t", out);
        else
        if (byte == '\n')
            fputs ("\\n", out);
        else
        if (byte == '\r')
            fputs ("\\r", out);
        else
        if (byte < 0x20 || byte == 0x7F || length == 0) {
            fprintf (out, "\\x%02x", byte);
            length = 1;
        }
        else
            fwrite (bytes + index, 1, length, out);
        index += length ? length : 1;
    }
}

static void
s_print_json_utf8 (FILE *out, const char *data, size_t size)
{
    fputc ('"', out);
    for (size_t index = 0; index < size; index++) {
        unsigned char byte = (unsigned char) data [index];
        if (byte == '"' || byte == '\\')
            fprintf (out, "\\%c", byte);
        else
        if (byte == '\n')
            fputs ("\\n", out);
        else
        if (byte == '\r')
            fputs ("\\r", out);
        else
        if (byte == '\t')
            fputs ("\\t", out);
        else
        if (byte < 0x20)
            fprintf (out, "\\u%04x", byte);
        else
            fputc (byte, out);
    }
    fputc ('"', out);
}

static void
s_print_base64 (FILE *out, const char *data, size_t size)
{
    static const char alphabet [] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *bytes = (const unsigned char *) data;
    for (size_t index = 0; index < size; index += 3) {
        uint32_t group = (uint32_t) bytes [index] << 16;
        if (index + 1 < size)
            group |= (uint32_t) bytes [index + 1] << 8;
        if (index + 2 < size)
            group |= bytes [index + 2];
        fputc (alphabet [(group >> 18) & 63], out);
        fputc (alphabet [(group >> 12) & 63], out);
        fputc (index + 1 < size ? alphabet [(group >> 6) & 63] : '=', out);
        fputc (index + 2 < size ? alphabet [group & 63] : '=', out);
    }
}

void
zstore_cli_print_json_bytes (FILE *out, const char *data, size_t size)
{
    if (!data)
        data = "";
    if (zstore_utf8_valid (data, size))
        s_print_json_utf8 (out, data, size);
    else {
        fputs ("{\"base64\": \"", out);
        s_print_base64 (out, data, size);
        fputs ("\"}", out);
    }
}

void
zstore_cli_print_json_str (FILE *out, const char *text)
{
    zstore_cli_print_json_bytes (out, text, strlen (text));
}

void
zstore_cli_print_json_entry (FILE *out, const zstore_entry_t *entry, bool with_value)
{
    fputc ('{', out);
    if (entry->group) {
        fputs ("\"group\": ", out);
        zstore_cli_print_json_bytes (out, entry->group, entry->group_size);
        fputs (", ", out);
    }
    fputs ("\"key\": ", out);
    zstore_cli_print_json_bytes (out, entry->key, entry->key ? entry->key_size : 0);
    if (with_value) {
        fputs (", \"value\": ", out);
        zstore_cli_print_json_bytes (out, entry->value, entry->value ? entry->value_size : 0);
    }
    fprintf (out, ", \"create_rev\": %llu, \"mod_rev\": %llu, \"expires_at\": %llu}",
             (unsigned long long) entry->create_rev, (unsigned long long) entry->mod_rev,
             (unsigned long long) entry->expires_at);
}

bool
zstore_cli_write (FILE *out, const void *data, size_t size)
{
    return size == 0 || fwrite (data, 1, size, out) == size;
}
