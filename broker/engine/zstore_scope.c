/*  zstore_scope - go-store's ScopedStore: a namespace whose groups are stored
    as "<namespace>:<group>", with optional quotas.

    The quota check runs inside the write's own transaction (BEGIN
    IMMEDIATE), after the write lock is taken, so concurrent writers - other
    processes included - can never take a namespace past its limits. go-store
    checks before the write and overshoots.

    Namespace prefixes are byte ranges, so "tenant-a" and "Tenant-A" are
    separate namespaces with separate quotas (go-store's LIKE mixed them).
*/

#include "zstore_engine_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct _zstore_scope_t {
    zstore_engine_t *engine;        //  not owned
    char *namespace_name;           //  "tenant-a"
    char *prefix;                   //  "tenant-a:"
    size_t prefix_size;
    int64_t max_keys;               //  0 or negative: unlimited
    int64_t max_groups;
    char *name;                     //  buffer for "<prefix><group>"
    size_t name_capacity;
};

bool
zstore_namespace_is_valid (zstore_bytes_t namespace_name)
{
    if (namespace_name.size == 0)
        return false;
    for (size_t index = 0; index < namespace_name.size; index++) {
        char c = namespace_name.data [index];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
               || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

static char *
s_error (const char *format, const char *argument, int64_t a, int64_t b)
{
    char buffer [512];
    snprintf (buffer, sizeof buffer, format, argument, (long long) a, (long long) b);
    return strdup (buffer);
}

zstore_scope_t *
zstore_scope_new_with_quota (zstore_engine_t *engine, const char *namespace_name,
                             int64_t max_keys, int64_t max_groups, char **error_p)
{
    const char *op = "store.NewScopedWithQuota";
    char *error = NULL;
    if (!engine)
        error = s_error ("%s: store instance is nil", op, 0, 0);
    else
    if (!namespace_name || !zstore_namespace_is_valid (zstore_str (namespace_name))) {
        char buffer [300];
        snprintf (buffer, sizeof buffer, "%s: namespace \"%.200s\" is invalid; use names like"
                  " \"tenant-a\" or \"tenant-42\"", op, namespace_name ? namespace_name : "");
        error = strdup (buffer);
    }
    else
    if (max_keys < 0 || max_groups < 0)
        error = s_error ("%s: quota values must be zero or positive; got MaxKeys=%lld"
                         " MaxGroups=%lld", op, max_keys, max_groups);
    zstore_scope_t *self = NULL;
    if (!error && (self = calloc (1, sizeof (zstore_scope_t)))) {
        self->engine = engine;
        self->namespace_name = strdup (namespace_name);
        self->prefix_size = strlen (namespace_name) + 1;
        self->prefix = malloc (self->prefix_size + 1);
        if (!self->namespace_name || !self->prefix)
            zstore_scope_destroy (&self);
        else
            snprintf (self->prefix, self->prefix_size + 1, "%s:", namespace_name);
        if (self)
            zstore_scope_set_quota (self, max_keys, max_groups);
    }
    if (error_p)
        *error_p = error;
    else
        free (error);
    return self;
}

zstore_scope_t *
zstore_scope_new (zstore_engine_t *engine, const char *namespace_name)
{
    return zstore_scope_new_with_quota (engine, namespace_name, 0, 0, NULL);
}

void
zstore_scope_destroy (zstore_scope_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zstore_scope_t *self = *self_p;
    free (self->namespace_name);
    free (self->prefix);
    free (self->name);
    free (self);
    *self_p = NULL;
}

const char *
zstore_scope_namespace (zstore_scope_t *self)
{
    return self ? self->namespace_name : "";
}

int64_t
zstore_scope_max_keys (zstore_scope_t *self)
{
    return self ? self->max_keys : 0;
}

int64_t
zstore_scope_max_groups (zstore_scope_t *self)
{
    return self ? self->max_groups : 0;
}

void
zstore_scope_set_quota (zstore_scope_t *self, int64_t max_keys, int64_t max_groups)
{
    if (!self)
        return;
    self->max_keys = max_keys;
    self->max_groups = max_groups;
}

//  "<namespace>:<group>" in the scope's buffer, valid until the next call.
static zstore_bytes_t
s_scoped (zstore_scope_t *self, zstore_bytes_t group)
{
    size_t size = self->prefix_size + group.size;
    if (size > self->name_capacity) {
        char *name = realloc (self->name, size);
        if (!name)
            return zstore_bytes (NULL, SIZE_MAX);   //  rejected as too large by SQLite binds
        self->name = name;
        self->name_capacity = size;
    }
    memcpy (self->name, self->prefix, self->prefix_size);
    if (group.size)
        memcpy (self->name + self->prefix_size, group.data, group.size);
    return zstore_bytes (self->name, size);
}

//  --- Quota ------------------------------------------------------------

//  Runs a quota count statement over the namespace, capped at limit.
static int
s_count_capped (zstore_engine_t *engine, const char *op, zstore_statement_t id,
                const zstore_range_t *range, int64_t limit, int64_t *count_p)
{
    sqlite3_stmt *stmt = zstore_engine_statement (engine, id);
    if (!stmt)
        return ZSTORE_INTERNAL;
    zstore_engine_bind_range (stmt, 1, range);
    sqlite3_bind_int64 (stmt, 3, zstore_engine_now (engine));
    sqlite3_bind_int64 (stmt, 4, limit);
    int rc = sqlite3_step (stmt);
    *count_p = rc == SQLITE_ROW ? sqlite3_column_int64 (stmt, 0) : 0;
    sqlite3_reset (stmt);
    return rc == SQLITE_ROW ? ZSTORE_OK : zstore_engine_fail_sql (engine, op, "quota check");
}

static int
s_group_is_live (zstore_engine_t *engine, const char *op, zstore_bytes_t group, bool *live_p)
{
    sqlite3_stmt *stmt = zstore_engine_statement (engine, STMT_GROUP_LIVE);
    if (!stmt)
        return ZSTORE_INTERNAL;
    zstore_engine_bind_bytes (stmt, 1, group);
    sqlite3_bind_int64 (stmt, 2, zstore_engine_now (engine));
    int rc = sqlite3_step (stmt);
    *live_p = rc == SQLITE_ROW;
    sqlite3_reset (stmt);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? ZSTORE_OK
                                                 : zstore_engine_fail_sql (engine, op, "quota check");
}

//  Called with the write lock held, for a key that is not live: would one
//  more key (and maybe one more group) fit? Counts exclude expired rows.
int
zstore_quota_check (zstore_engine_t *engine, const char *op, const zstore_quota_t *quota,
                    zstore_bytes_t group)
{
    if (quota->max_keys <= 0 && quota->max_groups <= 0)
        return ZSTORE_OK;
    zstore_range_t range;
    if (zstore_range_init (&range, quota->namespace_prefix))
        return zstore_engine_fail (engine, ZSTORE_INTERNAL, "%s: out of memory", op);
    int64_t count = 0;
    int code = ZSTORE_OK;
    if (quota->max_keys > 0) {
        code = s_count_capped (engine, op, STMT_QUOTA_KEYS, &range, quota->max_keys, &count);
        if (code == ZSTORE_OK && count >= quota->max_keys)
            code = zstore_engine_fail (engine, ZSTORE_QUOTA_EXCEEDED,
                                       "%s: key limit (%lld): store: quota exceeded", op,
                                       (long long) quota->max_keys);
    }
    bool group_live = true;
    if (code == ZSTORE_OK && quota->max_groups > 0)
        code = s_group_is_live (engine, op, group, &group_live);
    if (code == ZSTORE_OK && !group_live) {
        code = s_count_capped (engine, op, STMT_QUOTA_GROUPS, &range, quota->max_groups, &count);
        if (code == ZSTORE_OK && count >= quota->max_groups)
            code = zstore_engine_fail (engine, ZSTORE_QUOTA_EXCEEDED,
                                       "%s: group limit (%lld): store: quota exceeded", op,
                                       (long long) quota->max_groups);
    }
    zstore_range_reset (&range);
    return code;
}

//  --- Scoped operations ------------------------------------------------

//  go-store checks a scoped call's readiness under the scoped name
//  ("store.ScopedStore.Get: store is closed"); errors from the backing
//  store then carry the backing op ("store.Get: g/k: store: not found").
#define SCOPE_READY(self, method) \
    do { \
        int ready = zstore_engine_check_open ((self)->engine, "store.ScopedStore." method); \
        if (ready) \
            return ready; \
    } while (0)

int
zstore_scope_get (zstore_scope_t *self, zstore_bytes_t group, zstore_bytes_t key,
                  zstore_value_t *value)
{
    SCOPE_READY (self, "Get");
    return zstore_engine_get_as (self->engine, ZSTORE_OP (self->engine, "Get"),
                                 s_scoped (self, group), key, value);
}

int
zstore_scope_put (zstore_scope_t *self, zstore_bytes_t group, zstore_bytes_t key,
                  zstore_bytes_t value, const zstore_write_t *options, uint64_t *revision_p)
{
    zstore_quota_t quota = {
        zstore_bytes (self->prefix, self->prefix_size), self->max_keys, self->max_groups
    };
    const char *op = options && options->has_ttl ? "store.ScopedStore.SetWithTTL"
                                                 : "store.ScopedStore.SetIn";
    return zstore_engine_put_as (self->engine, op, s_scoped (self, group), key, value, options,
                                 &quota, revision_p);
}

int
zstore_scope_delete (zstore_scope_t *self, zstore_bytes_t group, zstore_bytes_t key,
                     int64_t if_revision, uint64_t *revision_p)
{
    SCOPE_READY (self, "Delete");
    return zstore_engine_delete_as (self->engine, ZSTORE_OP (self->engine, "Delete"),
                                    s_scoped (self, group), key, if_revision, revision_p);
}

int
zstore_scope_delete_group (zstore_scope_t *self, zstore_bytes_t group, uint64_t *revision_p)
{
    SCOPE_READY (self, "DeleteGroup");
    return zstore_engine_delete_group_as (self->engine, ZSTORE_OP (self->engine, "DeleteGroup"),
                                          s_scoped (self, group), revision_p);
}

int
zstore_scope_delete_prefix (zstore_scope_t *self, zstore_bytes_t prefix, uint64_t *revision_p)
{
    SCOPE_READY (self, "DeletePrefix");
    return zstore_engine_delete_prefix_as (self->engine,
                                           ZSTORE_OP (self->engine, "DeletePrefix"),
                                           s_scoped (self, prefix), revision_p);
}

int
zstore_scope_count (zstore_scope_t *self, zstore_bytes_t group, int64_t *count_p)
{
    SCOPE_READY (self, "Count");
    return zstore_engine_count_as (self->engine, ZSTORE_OP (self->engine, "Count"),
                                   s_scoped (self, group), count_p);
}

int
zstore_scope_get_all (zstore_scope_t *self, zstore_bytes_t group, zstore_list_t **list_p)
{
    SCOPE_READY (self, "GetAll");
    return zstore_engine_get_all_as (self->engine, ZSTORE_OP (self->engine, "GetAll"),
                                     s_scoped (self, group), list_p);
}

int
zstore_scope_get_page (zstore_scope_t *self, zstore_bytes_t group, int64_t offset,
                       int64_t limit, zstore_list_t **list_p)
{
    SCOPE_READY (self, "GetPage");
    return zstore_engine_get_page_as (self->engine, ZSTORE_OP (self->engine, "GetPage"),
                                      s_scoped (self, group), offset, limit, list_p);
}

int
zstore_scope_count_all (zstore_scope_t *self, zstore_bytes_t prefix, int64_t *count_p)
{
    SCOPE_READY (self, "CountAll");
    return zstore_engine_count_all_as (self->engine, ZSTORE_OP (self->engine, "CountAll"),
                                       s_scoped (self, prefix), count_p);
}

int
zstore_scope_groups (zstore_scope_t *self, zstore_bytes_t prefix, zstore_list_t **list_p)
{
    //  go-store names this op store.Groups, not store.ScopedStore.Groups.
    return zstore_engine_groups_as (self->engine, "store.Groups", s_scoped (self, prefix),
                                    self->prefix_size, list_p);
}

int
zstore_scope_render (zstore_scope_t *self, zstore_bytes_t template_source,
                     zstore_bytes_t group, char **output_p, size_t *size_p)
{
    SCOPE_READY (self, "Render");
    return zstore_engine_render_as (self->engine, ZSTORE_OP (self->engine, "Render"),
                                    template_source, s_scoped (self, group), output_p, size_p);
}

//  max_rows 0: everything, in bounded steps; else one step of at most
//  max_rows rows.
static int
s_purge (zstore_scope_t *self, int64_t max_rows, int64_t *removed_p)
{
    zstore_range_t range;
    if (zstore_range_init (&range, zstore_bytes (self->prefix, self->prefix_size)))
        return zstore_engine_fail (self->engine, ZSTORE_INTERNAL, "out of memory");
    const char *op = "store.ScopedStore.PurgeExpired";
    int code = max_rows ? zstore_engine_purge_step_as (self->engine, op, &range, max_rows,
                                                       removed_p)
                        : zstore_engine_purge_as (self->engine, op, &range, removed_p);
    zstore_range_reset (&range);
    return code;
}

int
zstore_scope_purge_expired (zstore_scope_t *self, int64_t *removed_p)
{
    return s_purge (self, 0, removed_p);
}

int
zstore_scope_purge_expired_step (zstore_scope_t *self, int64_t max_rows, int64_t *removed_p)
{
    if (max_rows <= 0)
        return zstore_engine_fail (self->engine, ZSTORE_INVALID,
                                   "store.ScopedStore.PurgeExpired: max rows must be positive");
    return s_purge (self, max_rows, removed_p);
}
