/*  zstore_config - see zstore_config.h. Every setting is described once, in
    s_settings: its ZPL path, its flag, its kind and its bounds. Loading a
    file walks the file and refuses any name it does not know, so a typo is
    an error at start, not a silently ignored setting.
*/

#include "zstore_config.h"

#include <czmq.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { KIND_TEXT, KIND_NUMBER, KIND_SYNC } s_kind_t;

typedef struct {
    const char *path;               //  in the ZPL file
    const char *flag;               //  on the command line, or NULL
    s_kind_t kind;
    size_t offset;                  //  of the field in zstore_config_t
    int64_t minimum, maximum;       //  for numbers
} s_setting_t;

#define FIELD(name) offsetof (zstore_config_t, name)

static const s_setting_t s_settings [] = {
    { "zstore/db", "--db", KIND_TEXT, FIELD (db_path), 0, 0 },
    { "zstore/requests", "--requests", KIND_TEXT, FIELD (requests_endpoint), 0, 0 },
    { "zstore/events", "--events", KIND_TEXT, FIELD (events_endpoint), 0, 0 },
    { "zstore/sync", "--sync", KIND_SYNC, FIELD (sync), 0, 0 },
    { "limits/max-request", NULL, KIND_NUMBER, FIELD (max_request), 64, 256 << 20 },
    { "limits/events-hwm", NULL, KIND_NUMBER, FIELD (events_hwm), 0, 100000000 },
    { "limits/replies-hwm", NULL, KIND_NUMBER, FIELD (replies_hwm), 0, 100000000 },
    { "limits/snapshot-page", NULL, KIND_NUMBER, FIELD (snapshot_page), 1, 100000 },
    { "limits/snapshots", NULL, KIND_NUMBER, FIELD (snapshots), 1, 10000 },
    { "limits/snapshot-idle", NULL, KIND_NUMBER, FIELD (snapshot_idle), 100, 86400000 },
    { "limits/cache", NULL, KIND_NUMBER, FIELD (cache), 64, 16 << 20 },
    { "limits/wal", NULL, KIND_NUMBER, FIELD (wal), 0, 1 << 30 },
    { "timers/heartbeat", NULL, KIND_NUMBER, FIELD (heartbeat), 10, 3600000 },
    { "timers/purge-interval", NULL, KIND_NUMBER, FIELD (purge_interval), 1, 86400000 },
    { "timers/purge-chunk", NULL, KIND_NUMBER, FIELD (purge_chunk), 1, 1000000 },
    { "timers/purge-budget", NULL, KIND_NUMBER, FIELD (purge_budget), 1, 60000 },
    { "timers/checkpoint", NULL, KIND_NUMBER, FIELD (checkpoint), 0, 3600000 },
    { "history/events", NULL, KIND_NUMBER, FIELD (history), 0, 1000000000 },
};

#define SETTING_COUNT (sizeof s_settings / sizeof s_settings [0])

static const char *s_sync_names [] = {
    [ZSTORE_SYNC_FULL] = "full", [ZSTORE_SYNC_NORMAL] = "normal", [ZSTORE_SYNC_OFF] = "off"
};

zstore_config_t *
zstore_config_new (void)
{
    zstore_config_t *self = calloc (1, sizeof (zstore_config_t));
    if (!self)
        return NULL;
    self->db_path = strdup ("./zstore.db");
    self->requests_endpoint = strdup ("tcp://127.0.0.1:5670");
    self->events_endpoint = strdup ("tcp://127.0.0.1:5671");
    self->sync = ZSTORE_SYNC_FULL;
    self->max_request = 1 << 20;
    self->events_hwm = 100000;
    self->replies_hwm = 10000;
    self->snapshot_page = 1000;
    self->snapshots = 16;
    self->snapshot_idle = 30000;
    self->cache = 16384;
    self->wal = 1 << 20;
    self->heartbeat = 1000;
    self->purge_interval = 1000;
    self->purge_chunk = 1000;
    self->purge_budget = 2;
    self->checkpoint = 100;
    self->history = 100000;
    if (!self->db_path || !self->requests_endpoint || !self->events_endpoint)
        zstore_config_destroy (&self);
    return self;
}

void
zstore_config_destroy (zstore_config_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zstore_config_t *self = *self_p;
    free (self->db_path);
    free (self->requests_endpoint);
    free (self->events_endpoint);
    for (size_t index = 0; index < self->quota_count; index++)
        free (self->quotas [index].name);
    free (self->quotas);
    free (self);
    *self_p = NULL;
}

static char *
s_error (const char *format, ...)
{
    va_list args;
    va_start (args, format);
    char *message = zsys_vprintf (format, args);
    va_end (args);
    return message;
}

static int
s_parse_number (const char *text, int64_t minimum, int64_t maximum, int64_t *value)
{
    char *end = NULL;
    errno = 0;
    long long number = strtoll (text, &end, 10);
    if (errno || end == text || *end || number < minimum || number > maximum)
        return -1;
    *value = number;
    return 0;
}

//  Stores text as the setting's value; where names the source for messages.
static int
s_apply (zstore_config_t *self, const s_setting_t *setting, const char *text, const char *where,
         char **error_p)
{
    char *field = (char *) self + setting->offset;
    if (setting->kind == KIND_TEXT) {
        if (!*text) {
            *error_p = s_error ("%s: %s must not be empty", where, setting->path);
            return -1;
        }
        char *copy = strdup (text);
        if (!copy)
            return -1;
        free (*(char **) field);
        *(char **) field = copy;
        return 0;
    }
    if (setting->kind == KIND_SYNC) {
        for (int mode = 0; mode <= ZSTORE_SYNC_OFF; mode++) {
            if (strcmp (text, s_sync_names [mode]) == 0) {
                *(zstore_sync_t *) field = (zstore_sync_t) mode;
                return 0;
            }
        }
        *error_p = s_error ("%s: %s must be full, normal or off (got \"%s\")", where,
                            setting->path, text);
        return -1;
    }
    if (s_parse_number (text, setting->minimum, setting->maximum, (int64_t *) field)) {
        *error_p = s_error ("%s: %s must be a whole number from %lld to %lld (got \"%s\")",
                            where, setting->path, (long long) setting->minimum,
                            (long long) setting->maximum, text);
        return -1;
    }
    return 0;
}

static const s_setting_t *
s_setting_by_path (const char *path)
{
    for (size_t index = 0; index < SETTING_COUNT; index++)
        if (strcmp (s_settings [index].path, path) == 0)
            return &s_settings [index];
    return NULL;
}

//  namespaces/<name>/max-keys and max-groups.
static int
s_load_quota (zstore_config_t *self, zconfig_t *item, const char *where, char **error_p)
{
    const char *name = zconfig_name (item);
    if (!zstore_namespace_is_valid (zstore_str (name))) {
        *error_p = s_error ("%s: namespaces/%s: not a valid namespace (letters, digits, -)",
                            where, name);
        return -1;
    }
    zstore_quota_config_t quota = { NULL, 0, 0 };
    for (zconfig_t *limit = zconfig_child (item); limit; limit = zconfig_next (limit)) {
        const char *limit_name = zconfig_name (limit);
        int64_t *target = strcmp (limit_name, "max-keys") == 0 ? &quota.max_keys
                        : strcmp (limit_name, "max-groups") == 0 ? &quota.max_groups : NULL;
        const char *value = zconfig_value (limit);
        if (!target || s_parse_number (value ? value : "", 0, INT64_MAX, target)) {
            *error_p = s_error ("%s: namespaces/%s/%s: %s", where, name, limit_name,
                                target ? "must be a whole number, 0 or more"
                                       : "unknown setting (max-keys, max-groups)");
            return -1;
        }
    }
    zstore_quota_config_t *quotas = realloc (self->quotas,
                                             (self->quota_count + 1) * sizeof (quota));
    if (!quotas)
        return -1;
    self->quotas = quotas;
    if (!(quota.name = strdup (name)))
        return -1;
    self->quotas [self->quota_count++] = quota;
    return 0;
}

//  Walks two levels (section/name) and refuses anything unknown.
static int
s_load_tree (zstore_config_t *self, zconfig_t *root, const char *where, char **error_p)
{
    for (zconfig_t *section = zconfig_child (root); section; section = zconfig_next (section)) {
        const char *section_name = zconfig_name (section);
        const char *section_value = zconfig_value (section);
        if (!zconfig_child (section) && section_value && *section_value) {
            *error_p = s_error ("%s: %s: unknown setting", where, section_name);
            return -1;
        }
        for (zconfig_t *item = zconfig_child (section); item; item = zconfig_next (item)) {
            if (strcmp (section_name, "namespaces") == 0) {
                if (s_load_quota (self, item, where, error_p))
                    return -1;
                continue;
            }
            char path [256];
            snprintf (path, sizeof path, "%s/%s", section_name, zconfig_name (item));
            const s_setting_t *setting = s_setting_by_path (path);
            if (!setting) {
                *error_p = s_error ("%s: %s: unknown setting", where, path);
                return -1;
            }
            const char *value = zconfig_value (item);
            if (s_apply (self, setting, value ? value : "", where, error_p))
                return -1;
        }
    }
    return 0;
}

int
zstore_config_load (zstore_config_t *self, const char *path, char **error_p)
{
    *error_p = NULL;
    if (!zsys_file_exists (path)) {
        *error_p = s_error ("%s: no such config file", path);
        return -1;
    }
    zconfig_t *root = zconfig_load (path);
    if (!root) {
        *error_p = s_error ("%s: not a valid ZPL file", path);
        return -1;
    }
    int rc = s_load_tree (self, root, path, error_p);
    zconfig_destroy (&root);
    return rc;
}

static const s_setting_t *
s_setting_by_flag (const char *flag)
{
    for (size_t index = 0; index < SETTING_COUNT; index++)
        if (s_settings [index].flag && strcmp (s_settings [index].flag, flag) == 0)
            return &s_settings [index];
    return NULL;
}

int
zstore_config_parse_args (zstore_config_t *self, int argc, char *argv [], char **error_p)
{
    *error_p = NULL;
    for (int index = 1; index < argc; index++) {
        const char *flag = argv [index];
        if (strcmp (flag, "--help") == 0 || strcmp (flag, "-h") == 0) {
            fputs (zstore_config_usage (), stdout);
            return 1;
        }
        const s_setting_t *setting = s_setting_by_flag (flag);
        bool is_config = strcmp (flag, "--config") == 0;
        if (!setting && !is_config) {
            *error_p = s_error ("unknown option %s (see --help)", flag);
            return -1;
        }
        if (index + 1 >= argc) {
            *error_p = s_error ("%s needs a value", flag);
            return -1;
        }
        const char *value = argv [++index];
        if (is_config ? zstore_config_load (self, value, error_p)
                      : s_apply (self, setting, value, "command line", error_p))
            return -1;
    }
    return 0;
}

const zstore_quota_config_t *
zstore_config_quota (const zstore_config_t *self, const char *name)
{
    for (size_t index = 0; index < self->quota_count; index++)
        if (strcmp (self->quotas [index].name, name) == 0)
            return &self->quotas [index];
    return NULL;
}

const char *
zstore_config_usage (void)
{
    return
        "usage: zstore-broker [--db FILE] [--requests ENDPOINT] [--events ENDPOINT]\n"
        "                     [--sync full|normal|off] [--config FILE]\n"
        "\n"
        "With no arguments: --db ./zstore.db --requests tcp://127.0.0.1:5670\n"
        "                   --events tcp://127.0.0.1:5671 --sync full\n"
        "An endpoint may end in :* for an ephemeral port; the bound endpoints are\n"
        "printed at start. Options apply in order: flags after --config win.\n"
        "The ZPL config file (see deploy/zstore.cfg) also sets limits, timers,\n"
        "history size and namespace quotas.\n";
}
