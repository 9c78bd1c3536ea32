/*  =========================================================================
    zstore_ops - go-store's operations as typed calls, the paged snapshot
    and stats, each a request built, called and read through the generic
    machinery (zstore_request.c, zstore_client.c).

    Output arguments (entry, entries, counts...) are overwritten, not
    freed first: clear a reused entry or entries before passing it again.
    On failure they are left zeroed.
    =========================================================================
*/

#include "zstore_client_private.h"

#include <inttypes.h>

//  --- Building and running ----------------------------------------------

//  A C-string field as bytes; NULL records ZSTORE_ARGUMENT in the request.
static void
s_text (zstore_request_t *request, const char *name, const char *text)
{
    if (text)
        zstore_request_add_bytes (request, name, text, strlen (text));
    else
        zstore_request_add_str (request, name, NULL);
}

//  An optional C-string field: left out when NULL.
static void
s_opt_text (zstore_request_t *request, const char *name, const char *text)
{
    if (text)
        s_text (request, name, text);
}

//  A request with its group field.
static zstore_request_t *
s_request (const char *op, const char *group)
{
    zstore_request_t *request = zstore_request_new (op);
    s_text (request, "group", group);
    return request;
}

//  Calls and destroys the request; the reply (also on a broker status) goes
//  to *reply_p, or is destroyed if reply_p is NULL.
static int
s_run (zstore_client_t *self, zstore_request_t *request, zstore_reply_t **reply_p)
{
    if (reply_p)
        *reply_p = NULL;
    if (!self) {
        zstore_request_destroy (&request);
        return ZSTORE_ARGUMENT;
    }
    if (!request)
        return zstore_client_fail (self, ZSTORE_NO_MEMORY, "out of memory");
    int code = zstore_client_call (self, request, reply_p);
    zstore_request_destroy (&request);
    return code;
}

//  A required uint field of an ok reply; ZSTORE_PROTOCOL_ERROR if absent.
static int
s_reply_uint (zstore_client_t *self, zstore_reply_t *reply, const char *name, uint64_t *value)
{
    uint64_t read = 0;
    if (!zstore_reply_uint (reply, name, &read))
        return zstore_client_fail (self, ZSTORE_PROTOCOL_ERROR,
                                   "reply: field '%s' is missing or not an unsigned integer",
                                   name);
    if (value)
        *value = read;
    return ZSTORE_OK;
}

static int
s_reply_bool (zstore_client_t *self, zstore_reply_t *reply, const char *name, bool *value)
{
    bool read = false;
    if (!zstore_reply_bool (reply, name, &read))
        return zstore_client_fail (self, ZSTORE_PROTOCOL_ERROR,
                                   "reply: field '%s' is missing or not a boolean", name);
    if (value)
        *value = read;
    return ZSTORE_OK;
}

static int
s_reply_entries (zstore_client_t *self, zstore_reply_t *reply, const char *name,
                 zstore_entries_t *entries)
{
    int code = zstore_reply_entries (reply, name, entries);
    if (code == ZSTORE_PROTOCOL_ERROR)
        return zstore_client_fail (self, code, "reply: field '%s' is missing or malformed", name);
    if (code != ZSTORE_OK)
        return zstore_client_fail (self, code, "out of memory");
    return ZSTORE_OK;
}

//  Runs a request whose ok reply is read by one uint field.
static int
s_run_uint (zstore_client_t *self, zstore_request_t *request, const char *name,
            uint64_t *value_p)
{
    if (value_p)
        *value_p = 0;
    zstore_reply_t *reply = NULL;
    int code = s_run (self, request, &reply);
    if (code == ZSTORE_OK)
        code = s_reply_uint (self, reply, name, value_p);
    zstore_reply_destroy (&reply);
    return code;
}

//  A write's revision: "rev" (0 when it changed nothing).
static int
s_run_write (zstore_client_t *self, zstore_request_t *request, uint64_t *rev_p)
{
    return s_run_uint (self, request, "rev", rev_p);
}

static int
s_run_bool (zstore_client_t *self, zstore_request_t *request, const char *name, bool *value_p)
{
    if (value_p)
        *value_p = false;
    zstore_reply_t *reply = NULL;
    int code = s_run (self, request, &reply);
    if (code == ZSTORE_OK)
        code = s_reply_bool (self, reply, name, value_p);
    zstore_reply_destroy (&reply);
    return code;
}

static int
s_run_entries (zstore_client_t *self, zstore_request_t *request, const char *name,
               zstore_entries_t *entries)
{
    if (!entries) {
        zstore_request_destroy (&request);
        return zstore_client_fail (self, ZSTORE_ARGUMENT, "entries is NULL");
    }
    memset (entries, 0, sizeof (*entries));
    zstore_reply_t *reply = NULL;
    int code = s_run (self, request, &reply);
    if (code == ZSTORE_OK)
        code = s_reply_entries (self, reply, name, entries);
    zstore_reply_destroy (&reply);
    return code;
}

//  Options of set and delete.
static void
s_write_opts (zstore_request_t *request, const zstore_write_opts_t *opts, bool with_ttl)
{
    if (!opts)
        return;
    if (with_ttl && opts->has_ttl)
        zstore_request_add_int (request, "ttl", opts->ttl_ms);
    if (opts->if_rev >= 0)
        zstore_request_add_int (request, "if_rev", opts->if_rev);
    zstore_request_set_retry_safe (request, opts->retry_safe);
}

//  --- Keys ---------------------------------------------------------------

int
zstore_client_ping (zstore_client_t *self, uint64_t *epoch_p, uint64_t *rev_p, uint64_t *time_p)
{
    zstore_reply_t *reply = NULL;
    int code = s_run (self, zstore_request_new ("ping"), &reply);
    if (code == ZSTORE_OK)
        code = s_reply_uint (self, reply, "epoch", epoch_p);
    if (code == ZSTORE_OK)
        code = s_reply_uint (self, reply, "rev", rev_p);
    if (code == ZSTORE_OK)
        code = s_reply_uint (self, reply, "time", time_p);
    zstore_reply_destroy (&reply);
    return code;
}

//  The get reply carries the entry's fields at its top level.
static int
s_read_entry (zstore_client_t *self, zstore_reply_t *reply, const char *key,
              zstore_entry_t *entry)
{
    char problem [160] = "";
    int code = zstore_entry_read (entry, zstore_reply_root (reply), problem);
    if (code == ZSTORE_OK && !entry->value)
        code = ZSTORE_PROTOCOL_ERROR;
    if (code == ZSTORE_OK) {
        free (entry->key);
        entry->key_size = strlen (key);
        entry->key = zstore_bytes_copy (key, entry->key_size);
        code = entry->key ? ZSTORE_OK : ZSTORE_NO_MEMORY;
    }
    if (code != ZSTORE_OK)
        zstore_entry_clear (entry);
    if (code == ZSTORE_PROTOCOL_ERROR)
        return zstore_client_fail (self, code, "get reply: %s", *problem ? problem
                                                                  : "no value");
    if (code != ZSTORE_OK)
        return zstore_client_fail (self, code, "out of memory");
    return code;
}

int
zstore_client_get (zstore_client_t *self, const char *group, const char *key,
                   zstore_entry_t *entry)
{
    if (!entry)
        return zstore_client_fail (self, ZSTORE_ARGUMENT, "entry is NULL");
    memset (entry, 0, sizeof (*entry));
    zstore_reply_t *reply = NULL;
    zstore_request_t *request = s_request ("get", group);
    s_text (request, "key", key);
    int code = s_run (self, request, &reply);
    if (code == ZSTORE_OK)
        code = s_read_entry (self, reply, key, entry);
    zstore_reply_destroy (&reply);
    return code;
}

int
zstore_client_exists (zstore_client_t *self, const char *group, const char *key, bool *exists_p)
{
    zstore_request_t *request = s_request ("exists", group);
    s_text (request, "key", key);
    return s_run_bool (self, request, "exists", exists_p);
}

int
zstore_client_set (zstore_client_t *self, const char *group, const char *key,
                   const void *value, size_t value_size, const zstore_write_opts_t *opts,
                   uint64_t *rev_p)
{
    zstore_request_t *request = s_request ("set", group);
    s_text (request, "key", key);
    zstore_request_add_bytes (request, "value", value, value_size);
    s_write_opts (request, opts, true);
    return s_run_write (self, request, rev_p);
}

int
zstore_client_delete (zstore_client_t *self, const char *group, const char *key,
                      const zstore_write_opts_t *opts, uint64_t *rev_p)
{
    zstore_request_t *request = s_request ("delete", group);
    s_text (request, "key", key);
    s_write_opts (request, opts, false);
    return s_run_write (self, request, rev_p);
}

//  --- Groups -------------------------------------------------------------

int
zstore_client_count (zstore_client_t *self, const char *group, uint64_t *count_p)
{
    return s_run_uint (self, s_request ("count", group), "count", count_p);
}

int
zstore_client_group_exists (zstore_client_t *self, const char *group, bool *exists_p)
{
    return s_run_bool (self, s_request ("group_exists", group), "exists", exists_p);
}

int
zstore_client_delete_group (zstore_client_t *self, const char *group, uint64_t *rev_p)
{
    return s_run_write (self, s_request ("delete_group", group), rev_p);
}

//  prefix NULL is refused rather than taken as "" (which deletes everything).
int
zstore_client_delete_prefix (zstore_client_t *self, const char *prefix, uint64_t *rev_p)
{
    zstore_request_t *request = zstore_request_new ("delete_prefix");
    s_text (request, "prefix", prefix);
    return s_run_write (self, request, rev_p);
}

int
zstore_client_get_all (zstore_client_t *self, const char *group, zstore_entries_t *entries)
{
    return s_run_entries (self, s_request ("get_all", group), "items", entries);
}

int
zstore_client_get_page (zstore_client_t *self, const char *group, uint64_t offset,
                        uint64_t limit, const char *after, zstore_entries_t *entries)
{
    zstore_request_t *request = s_request ("get_page", group);
    zstore_request_add_uint (request, "limit", limit);
    if (after)
        s_text (request, "after", after);
    else
        zstore_request_add_uint (request, "offset", offset);
    return s_run_entries (self, request, "items", entries);
}

int
zstore_client_count_all (zstore_client_t *self, const char *prefix, uint64_t *count_p)
{
    zstore_request_t *request = zstore_request_new ("count_all");
    s_opt_text (request, "prefix", prefix);
    return s_run_uint (self, request, "count", count_p);
}

int
zstore_client_groups (zstore_client_t *self, const char *prefix, zstore_entries_t *names)
{
    zstore_request_t *request = zstore_request_new ("groups");
    s_opt_text (request, "prefix", prefix);
    return s_run_entries (self, request, "groups", names);
}

//  --- Values -------------------------------------------------------------

int
zstore_client_get_split (zstore_client_t *self, const char *group, const char *key,
                         const char *sep, zstore_entries_t *parts)
{
    zstore_request_t *request = s_request ("get_split", group);
    s_text (request, "key", key);
    s_text (request, "sep", sep);
    return s_run_entries (self, request, "parts", parts);
}

int
zstore_client_get_fields (zstore_client_t *self, const char *group, const char *key,
                          zstore_entries_t *parts)
{
    zstore_request_t *request = s_request ("get_fields", group);
    s_text (request, "key", key);
    return s_run_entries (self, request, "parts", parts);
}

int
zstore_client_render (zstore_client_t *self, const char *group, const char *template_text,
                      char **output_p, size_t *output_size_p)
{
    if (output_p)
        *output_p = NULL;
    if (output_size_p)
        *output_size_p = 0;
    if (!output_p)
        return zstore_client_fail (self, ZSTORE_ARGUMENT, "output_p is NULL");
    zstore_request_t *request = s_request ("render", group);
    s_text (request, "template", template_text);
    zstore_reply_t *reply = NULL;
    int code = s_run (self, request, &reply);
    const char *output;
    size_t size;
    if (code == ZSTORE_OK && !zstore_reply_bytes (reply, "output", &output, &size))
        code = zstore_client_fail (self, ZSTORE_PROTOCOL_ERROR, "render reply: no output");
    if (code == ZSTORE_OK && !(*output_p = zstore_bytes_copy (output, size)))
        code = zstore_client_fail (self, ZSTORE_NO_MEMORY, "out of memory");
    if (code == ZSTORE_OK && output_size_p)
        *output_size_p = size;
    zstore_reply_destroy (&reply);
    return code;
}

int
zstore_client_purge (zstore_client_t *self, uint64_t max, uint64_t *removed_p, uint64_t *rev_p)
{
    if (removed_p)
        *removed_p = 0;
    if (rev_p)
        *rev_p = 0;
    zstore_request_t *request = zstore_request_new ("purge");
    if (max > 0)
        zstore_request_add_uint (request, "max", max);
    zstore_reply_t *reply = NULL;
    int code = s_run (self, request, &reply);
    if (code == ZSTORE_OK)
        code = s_reply_uint (self, reply, "removed", removed_p);
    if (code == ZSTORE_OK)
        code = s_reply_uint (self, reply, "rev", rev_p);
    zstore_reply_destroy (&reply);
    return code;
}

//  --- Snapshot -----------------------------------------------------------

//  One snapshot being read: its id once open, what arrived so far.
typedef struct {
    uint64_t id;
    uint64_t rev;
    bool done;
    uint64_t count;                 //  the broker's, on the last page
} s_snapshot_t;

//  Reads one page reply into entries; checks it belongs to the snapshot.
static int
s_snapshot_page (zstore_client_t *self, zstore_reply_t *reply, s_snapshot_t *snapshot,
                 zstore_entries_t *entries)
{
    uint64_t id = 0, rev = 0;
    int code = s_reply_uint (self, reply, "snapshot", &id);
    if (!code)
        code = s_reply_uint (self, reply, "rev", &rev);
    if (!code)
        code = s_reply_bool (self, reply, "done", &snapshot->done);
    if (!code)
        code = s_reply_uint (self, reply, "count", &snapshot->count);
    if (!code && snapshot->id && (id != snapshot->id || rev != snapshot->rev))
        code = zstore_client_fail (self, ZSTORE_PROTOCOL_ERROR, "snapshot page of snapshot %"
                                   PRIu64 " at rev %" PRIu64 ", expected %" PRIu64 " at %" PRIu64,
                                   id, rev, snapshot->id, snapshot->rev);
    snapshot->id = id;
    snapshot->rev = rev;
    zstore_entries_t page = { NULL, 0, false };
    if (!code)
        code = s_reply_entries (self, reply, "items", &page);
    for (size_t index = 0; !code && index < page.size; index++)
        if (zstore_entries_append (entries, &page.entries [index]) != ZSTORE_OK)
            code = zstore_client_fail (self, ZSTORE_NO_MEMORY, "out of memory");
    zstore_entries_clear (&page);
    return code;
}

//  Closes a snapshot left open by a failure, so that it does not hold one
//  of the broker's few snapshot places until its idle timeout. Not after
//  the last page (the broker closed it), nor when the broker does not
//  answer anyway. Keeps the original failure as the client's error.
static void
s_snapshot_close (zstore_client_t *self, s_snapshot_t *snapshot)
{
    int code = zstore_client_last_code (self);
    if (!snapshot->id || snapshot->done || code == ZSTORE_TIMEOUT
    ||  code == ZSTORE_INTERRUPTED || code == ZSTORE_UNKNOWN_SNAPSHOT)
        return;
    char error [512];
    snprintf (error, sizeof error, "%s", zstore_client_error (self));
    zstore_request_t *request = zstore_request_new ("snapshot_close");
    zstore_request_add_uint (request, "snapshot", snapshot->id);
    if (request)
        zstore_client_call (self, request, NULL);
    zstore_request_destroy (&request);
    zstore_client_fail (self, code, "%s", error);
}

//  One pass: open, page to the end, check the count.
static int
s_snapshot_read (zstore_client_t *self, zstore_request_t *open, zstore_entries_t *entries,
                 uint64_t *rev_p)
{
    s_snapshot_t snapshot = { 0, 0, false, 0 };
    zstore_reply_t *reply = NULL;
    int code = zstore_client_call (self, open, &reply);
    if (!code)
        code = s_snapshot_page (self, reply, &snapshot, entries);
    zstore_reply_destroy (&reply);
    while (!code && !snapshot.done) {
        zstore_request_t *next = zstore_request_new ("snapshot_next");
        zstore_request_add_uint (next, "snapshot", snapshot.id);
        code = s_run (self, next, &reply);
        if (!code)
            code = s_snapshot_page (self, reply, &snapshot, entries);
        zstore_reply_destroy (&reply);
    }
    if (!code && snapshot.count != entries->size)
        code = zstore_client_fail (self, ZSTORE_PROTOCOL_ERROR, "snapshot %" PRIu64 ": received %zu"
                                   " items, the broker counted %" PRIu64 " (a page was lost)",
                                   snapshot.id, entries->size, snapshot.count);
    if (code)
        s_snapshot_close (self, &snapshot);
    else
    if (rev_p)
        *rev_p = snapshot.rev;
    return code;
}

//  A pass that lost a page (count mismatch: a re-sent snapshot_next) or
//  whose snapshot expired is started again, up to the retry count.
int
zstore_client_snapshot (zstore_client_t *self, const char *ns, const char *group,
                        const char *key, const char *prefix, zstore_entries_t *entries,
                        uint64_t *rev_p)
{
    if (rev_p)
        *rev_p = 0;
    if (!self || !entries)
        return zstore_client_fail (self, ZSTORE_ARGUMENT, "no client or entries");
    memset (entries, 0, sizeof (*entries));
    zstore_request_t *open = zstore_request_new ("snapshot");
    if (!open)
        return zstore_client_fail (self, ZSTORE_NO_MEMORY, "out of memory");
    zstore_request_add_scope (open, ns, group, group ? strlen (group) : 0, key,
                              key ? strlen (key) : 0, prefix, prefix ? strlen (prefix) : 0);
    int passes = 1 + zstore_client_retries (self), code;
    do {
        zstore_entries_clear (entries);
        code = s_snapshot_read (self, open, entries, rev_p);
    } while ((code == ZSTORE_PROTOCOL_ERROR || code == ZSTORE_UNKNOWN_SNAPSHOT) && --passes > 0);
    zstore_request_destroy (&open);
    if (code)
        zstore_entries_clear (entries);
    return code;
}

//  --- Stats --------------------------------------------------------------

int
zstore_client_stats (zstore_client_t *self, zstore_reply_t **reply_p)
{
    if (!reply_p)
        return zstore_client_fail (self, ZSTORE_ARGUMENT, "reply_p is NULL");
    int code = s_run (self, zstore_request_new ("stats"), reply_p);
    if (code != ZSTORE_OK)
        zstore_reply_destroy (reply_p);
    return code;
}
