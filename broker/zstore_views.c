/*  zstore_views - reads over a scope (PROTOCOL.md 3.5, 4.2, 4.3): paged
    snapshots from one consistent read, and history replay.

    A scope is read once into two forms that must agree: the engine's view
    scope (which rows a snapshot holds) and the topic prefix a subscriber of
    that scope uses; history keeps exactly the events whose topic starts
    with that prefix, using the same codec function the publisher uses.
*/

#include "zstore_request.h"

//  Largest history page.
#define HISTORY_PAGE_MAX 10000
#define HISTORY_PAGE_DEFAULT 1000

typedef struct {
    zstore_view_scope_t view;
    zstore_buffer_t group;          //  storage for view.group
    zstore_buffer_t prefix;         //  the subscription prefix
} s_scope_t;

static void
s_scope_free (s_scope_t *scope)
{
    zstore_buffer_free (&scope->group);
    zstore_buffer_free (&scope->prefix);
}

//  The topic prefix of the scope (see PROTOCOL.md 3.2).
static int
s_scope_prefix (s_scope_t *scope, const char *ns)
{
    const zstore_view_scope_t *view = &scope->view;
    switch (view->kind) {
        case ZSTORE_SCOPE_ALL:
            return zstore_topic_everything (&scope->prefix);
        case ZSTORE_SCOPE_GROUP_PREFIX:
            return zstore_topic_namespace (&scope->prefix, ns, strlen (ns));
        case ZSTORE_SCOPE_GROUP:
            return zstore_topic_group (&scope->prefix, view->group.data, view->group.size);
        case ZSTORE_SCOPE_KEY_PREFIX:
            return zstore_topic_key_prefix (&scope->prefix, view->group.data, view->group.size,
                                            view->key.data, view->key.size);
        case ZSTORE_SCOPE_KEY:
            return zstore_topic_key (&scope->prefix, view->group.data, view->group.size,
                                     view->key.data, view->key.size);
    }
    return -1;
}

//  scope: {} | {ns} | {group} | {group, prefix} | {group, key}; the
//  request's own ns applies when the scope names none.
static int
s_read_scope (zstore_request_t *request, s_scope_t *scope)
{
    memset (scope, 0, sizeof (*scope));
    zstore_buffer_init (&scope->group);
    zstore_buffer_init (&scope->prefix);
    const msgpack_object *map = NULL;
    bool present = false;
    if (!zstore_fields_opt_map (&request->fields, "scope", &map, &present))
        return zstore_request_bad (request);
    zstore_fields_t fields;
    zstore_fields_init (&fields, map);
    const char *ns = NULL, *group = NULL, *key = NULL, *prefix = NULL;
    size_t ns_size = 0, group_size = 0, key_size = 0, prefix_size = 0;
    bool has_ns = false, has_group = false, has_key = false, has_prefix = false;
    if (present
    && (!zstore_fields_opt_bytes (&fields, "ns", &ns, &ns_size, &has_ns)
    ||  !zstore_fields_opt_bytes (&fields, "group", &group, &group_size, &has_group)
    ||  !zstore_fields_opt_bytes (&fields, "key", &key, &key_size, &has_key)
    ||  !zstore_fields_opt_bytes (&fields, "prefix", &prefix, &prefix_size, &has_prefix)))
        return zstore_request_fail (request, ZSTORE_STATUS_BAD_REQUEST, "scope: %s", fields.error);
    char ns_name [128];
    if (has_ns) {
        if (ns_size >= sizeof ns_name || !zstore_namespace_is_valid (zstore_bytes (ns, ns_size)))
            return zstore_request_fail (request, ZSTORE_STATUS_INVALID,
                                        "scope: namespace is invalid");
        memcpy (ns_name, ns, ns_size);
        ns_name [ns_size] = 0;
    }
    else
    if (request->ns)
        snprintf (ns_name, sizeof ns_name, "%s", request->ns);
    bool any_ns = has_ns || request->ns;
    if ((has_key || has_prefix) && !has_group)
        return zstore_request_fail (request, ZSTORE_STATUS_BAD_REQUEST,
                                    "scope: key and prefix need a group");
    if (has_key && has_prefix)
        return zstore_request_fail (request, ZSTORE_STATUS_BAD_REQUEST,
                                    "scope: give key or prefix, not both");
    if (has_group) {
        if (any_ns) {
            zstore_buffer_append (&scope->group, ns_name, strlen (ns_name));
            zstore_buffer_append (&scope->group, ":", 1);
        }
        zstore_buffer_append (&scope->group, group, group_size);
        scope->view.group = zstore_bytes (scope->group.data, scope->group.size);
        scope->view.kind = has_key ? ZSTORE_SCOPE_KEY
                         : has_prefix ? ZSTORE_SCOPE_KEY_PREFIX : ZSTORE_SCOPE_GROUP;
        scope->view.key = has_key ? zstore_bytes (key, key_size)
                                  : zstore_bytes (prefix, prefix_size);
    }
    else
    if (any_ns) {
        zstore_buffer_append (&scope->group, ns_name, strlen (ns_name));
        zstore_buffer_append (&scope->group, ":", 1);
        scope->view.group = zstore_bytes (scope->group.data, scope->group.size);
        scope->view.kind = ZSTORE_SCOPE_GROUP_PREFIX;
    }
    else
        scope->view.kind = ZSTORE_SCOPE_ALL;
    if (s_scope_prefix (scope, any_ns ? ns_name : ""))
        return zstore_request_fail (request, ZSTORE_STATUS_INTERNAL, "out of memory");
    return ZSTORE_STATUS_OK;
}

//  --- Snapshots ----------------------------------------------------------

static bool
s_read_limit (zstore_request_t *request, uint64_t maximum, uint64_t fallback, uint64_t *limit)
{
    bool present;
    if (!zstore_fields_opt_uint (&request->fields, "limit", limit, &present))
        return false;
    if (!present || *limit == 0)
        *limit = fallback;
    if (*limit > maximum)
        *limit = maximum;
    return true;
}

//  Answers the next page; the last page (shorter than limit) closes it.
static int
s_reply_page (zstore_request_t *request, uint64_t id, zstore_snapshot_t *snapshot,
              uint64_t limit)
{
    zstore_list_t *page = NULL;
    char *error = NULL;
    int code = zstore_snapshot_next (snapshot, (size_t) limit, &page, &error);
    if (code) {
        zstore_request_fail (request, code, "snapshot: %s", error ? error : "read failed");
        free (error);
        zstore_snapshots_remove (request->broker->snapshots, id);
        return code;
    }
    bool done = zstore_list_size (page) < limit;
    zstore_request_begin (request, 5);
    zstore_writer_t *writer = request->writer;
    zstore_write_key (writer, "snapshot");
    zstore_write_uint (writer, id);
    zstore_write_key (writer, "rev");
    zstore_write_uint (writer, zstore_snapshot_revision (snapshot));
    zstore_request_write_items (writer, page, true);
    zstore_write_key (writer, "done");
    zstore_write_bool (writer, done);
    zstore_write_key (writer, "count");
    zstore_write_uint (writer, zstore_snapshot_count (snapshot));
    zstore_list_destroy (&page);
    if (done)
        zstore_snapshots_remove (request->broker->snapshots, id);
    return ZSTORE_STATUS_OK;
}

int
zstore_views_snapshot (zstore_request_t *request)
{
    zstore_broker_t *broker = request->broker;
    uint64_t page_max = (uint64_t) broker->config->snapshot_page, limit;
    if (!s_read_limit (request, page_max, page_max, &limit))
        return zstore_request_bad (request);
    s_scope_t scope;
    int status = s_read_scope (request, &scope);
    if (status) {
        s_scope_free (&scope);
        return status;
    }
    //  A view of committed data only: the requests batched before this one
    //  commit (and are answered) first.
    zstore_inbox_commit (broker);
    char *error = NULL;
    zstore_snapshot_t *snapshot = zstore_snapshot_new (request->engine, &scope.view, &error);
    s_scope_free (&scope);
    if (!snapshot) {
        status = zstore_request_fail (request, ZSTORE_STATUS_INTERNAL, "snapshot: %s",
                                      error ? error : "cannot open");
        free (error);
        return status;
    }
    uint64_t id = zstore_snapshots_add (broker->snapshots, snapshot, zclock_time ());
    if (!id) {
        zstore_snapshot_destroy (&snapshot);
        return zstore_request_fail (request, ZSTORE_STATUS_BUSY, "%zu snapshots are open;"
                                    " retry later", zstore_snapshots_open (broker->snapshots));
    }
    return s_reply_page (request, id, snapshot, limit);
}

static bool
s_read_snapshot (zstore_request_t *request, uint64_t *id, zstore_snapshot_t **snapshot)
{
    if (!zstore_fields_uint (&request->fields, "snapshot", id))
        return false;
    *snapshot = zstore_snapshots_get (request->broker->snapshots, *id, zclock_time ());
    return true;
}

int
zstore_views_snapshot_next (zstore_request_t *request)
{
    uint64_t page_max = (uint64_t) request->broker->config->snapshot_page, limit, id;
    zstore_snapshot_t *snapshot;
    if (!s_read_snapshot (request, &id, &snapshot) || !s_read_limit (request, page_max, page_max,
                                                                     &limit))
        return zstore_request_bad (request);
    if (!snapshot)
        return zstore_request_fail (request, ZSTORE_STATUS_UNKNOWN_SNAPSHOT,
                                    "snapshot %llu is unknown or expired; take a new one",
                                    (unsigned long long) id);
    return s_reply_page (request, id, snapshot, limit);
}

int
zstore_views_snapshot_close (zstore_request_t *request)
{
    uint64_t id;
    zstore_snapshot_t *snapshot;
    if (!s_read_snapshot (request, &id, &snapshot))
        return zstore_request_bad (request);
    if (snapshot)
        zstore_snapshots_remove (request->broker->snapshots, id);
    zstore_request_begin (request, 0);
    return ZSTORE_STATUS_OK;
}

//  --- History ------------------------------------------------------------

typedef struct {
    s_scope_t *scope;
    zstore_buffer_t topic;
    zstore_writer_t *writer;        //  events written so far
    uint32_t count;
} s_history_t;

//  In the scope if the event's topic starts with the scope's prefix. A key
//  or key-prefix scope also gets its group's delete_group events: they
//  remove its keys, though their topic has no key part.
static bool
s_history_filter (const zstore_event_t *event, void *arg)
{
    s_history_t *history = arg;
    const char *type = zstore_event_type_name (event->type);
    zstore_topic_for_event (&history->topic, type, event->group.data, event->group.size,
                            event->key.data, event->key.size);
    if (zstore_topic_matches (history->topic.data, history->topic.size,
                              history->scope->prefix.data, history->scope->prefix.size))
        return true;
    const zstore_view_scope_t *view = &history->scope->view;
    return event->type == ZSTORE_EVENT_DELETE_GROUP
        && (view->kind == ZSTORE_SCOPE_KEY || view->kind == ZSTORE_SCOPE_KEY_PREFIX)
        && zstore_bytes_compare (event->group.data, event->group.size, view->group.data,
                                 view->group.size) == 0;
}

static void
s_history_write (const zstore_event_t *event, void *arg)
{
    s_history_t *history = arg;
    zstore_event_body_t body = {
        .type = zstore_event_type_name (event->type),
        .group = event->group.data, .group_size = event->group.size,
        .key = event->key.data, .key_size = event->key.size,
        .value = event->value.data, .value_size = event->value.size,
        .rev = event->revision, .prev_rev = event->prev_revision,
        .idx = event->index, .n = event->count,
        .ts = (uint64_t) event->timestamp,
        .expires_at = event->expires_at > 0 ? (uint64_t) event->expires_at : 0,
    };
    zstore_event_body_write (history->writer, &body, false);
    history->count++;
}

int
zstore_views_history (zstore_request_t *request)
{
    uint64_t after = 0, limit;
    if (!zstore_fields_uint (&request->fields, "after", &after)
    ||  !s_read_limit (request, HISTORY_PAGE_MAX, HISTORY_PAGE_DEFAULT, &limit))
        return zstore_request_bad (request);
    s_scope_t scope;
    int status = s_read_scope (request, &scope);
    if (status) {
        s_scope_free (&scope);
        return status;
    }
    zstore_writer_t *scratch = &request->broker->scratch;
    zstore_writer_reset (scratch);
    s_history_t history = { &scope, { 0 }, scratch, 0 };
    zstore_buffer_init (&history.topic);
    bool more = false;
    status = zstore_engine_history (request->engine, after, s_history_filter, &history,
                                    (size_t) limit, s_history_write, &history, &more);
    zstore_buffer_free (&history.topic);
    s_scope_free (&scope);
    if (status)
        return status;
    zstore_request_begin (request, 2);
    zstore_write_key (request->writer, "events");
    zstore_write_array (request->writer, history.count);
    zstore_write_raw (request->writer, scratch->buffer.data, scratch->buffer.size);
    zstore_write_key (request->writer, "more");
    zstore_write_bool (request->writer, more);
    return ZSTORE_STATUS_OK;
}
