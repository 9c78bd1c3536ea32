/*  =========================================================================
    zstore_mirror - a local copy of a group or a namespace: the Clone
    pattern's client (PROTOCOL.md 4.2) built on a watch.

    The watch subscribes first and knows its subscription is live (its
    sync marker at rev M); then the mirror reads a snapshot at rev S >= M.
    The watch delivers every change after M in order: those at or below S
    are already in the snapshot and are dropped, the rest are applied. A
    RESYNC from the watch replaces the whole map with its STATE entries.

    The map is a zhashx whose key is the entry itself (hashed and compared
    by (group, key) bytes), so groups and keys may hold any byte; entries()
    sorts a copy. Expiry is judged by the local clock: an expired entry
    stays in the map, invisible, until the broker's expire event removes
    it (a later set of that key keeps nothing of it).
    =========================================================================
*/

#include "zstore_client_private.h"
#include "zstore_watch.h"

#define UPDATE_MAX_MS 1000         //  of applying in one update

struct _zstore_mirror_t {
    zstore_watch_t *watch;
    zhashx_t *entries;              //  zstore_entry_t * -> itself
    uint64_t floor;                 //  changes at or below it are in the map already
    uint64_t rev;
    size_t expiring;                //  entries with an expiry (size must look at them)
};

//  --- The map ------------------------------------------------------------

static size_t
s_entry_hash (const void *item)
{
    const zstore_entry_t *entry = item;
    size_t hash = 14695981039346656037ULL;
    for (size_t index = 0; index < entry->group_size; index++)
        hash = (hash ^ (unsigned char) entry->group [index]) * 1099511628211ULL;
    hash = (hash ^ 0xff) * 1099511628211ULL;
    for (size_t index = 0; index < entry->key_size; index++)
        hash = (hash ^ (unsigned char) entry->key [index]) * 1099511628211ULL;
    return hash;
}

static int
s_bytes_compare (const char *a, size_t a_size, const char *b, size_t b_size)
{
    int order = memcmp (a, b, a_size < b_size ? a_size : b_size);
    if (order)
        return order;
    return a_size < b_size ? -1 : a_size > b_size ? 1 : 0;
}

//  (group, key) byte order.
static int
s_entry_compare (const void *a_item, const void *b_item)
{
    const zstore_entry_t *a = a_item, *b = b_item;
    int order = s_bytes_compare (a->group, a->group_size, b->group, b->group_size);
    return order ? order : s_bytes_compare (a->key, a->key_size, b->key, b->key_size);
}

static void
s_entry_destroy (void **item)
{
    zstore_entry_t *entry = *item;
    zstore_entry_clear (entry);
    free (entry);
    *item = NULL;
}

static zhashx_t *
s_map_new (void)
{
    zhashx_t *map = zhashx_new ();
    if (map) {
        zhashx_set_key_hasher (map, s_entry_hash);
        zhashx_set_key_comparator (map, s_entry_compare);
        zhashx_set_key_duplicator (map, NULL);
        zhashx_set_key_destructor (map, NULL);
        zhashx_set_destructor (map, s_entry_destroy);
    }
    return map;
}

static bool
s_expired (const zstore_entry_t *entry, uint64_t now)
{
    return entry->expires_at && entry->expires_at <= now;
}

static zstore_entry_t *
s_lookup (zstore_mirror_t *self, const char *group, size_t group_size, const char *key,
          size_t key_size)
{
    zstore_entry_t probe = {
        .group = (char *) group, .group_size = group_size,
        .key = (char *) key, .key_size = key_size
    };
    return zhashx_lookup (self->entries, &probe);
}

static void
s_remove (zstore_mirror_t *self, zstore_entry_t *entry)
{
    if (entry->expires_at)
        self->expiring--;
    zhashx_delete (self->entries, entry);
}

//  Sets (group, key) to the change's value, keeping create_rev of a key
//  that lives on (prev_rev set).
static int
s_put (zstore_mirror_t *self, const zstore_change_t *change)
{
    zstore_entry_t *entry = s_lookup (self, change->group, change->group_size, change->key,
                                      change->key_size);
    uint64_t create_rev = change->create_rev;
    if (!create_rev && entry && change->prev_rev)
        create_rev = entry->create_rev;
    if (!create_rev)
        create_rev = change->rev;
    char *value = zstore_bytes_copy (change->value, change->value_size);
    if (!value)
        return ZSTORE_NO_MEMORY;
    if (!entry) {
        entry = calloc (1, sizeof (zstore_entry_t));
        if (entry) {
            entry->group = zstore_bytes_copy (change->group, change->group_size);
            entry->group_size = change->group_size;
            entry->key = zstore_bytes_copy (change->key, change->key_size);
            entry->key_size = change->key_size;
        }
        if (!entry || !entry->group || !entry->key || zhashx_insert (self->entries, entry, entry)) {
            free (value);
            if (entry)
                s_entry_destroy ((void **) &entry);
            return ZSTORE_NO_MEMORY;
        }
    }
    else
    if (entry->expires_at)
        self->expiring--;
    free (entry->value);
    entry->value = value;
    entry->value_size = change->value_size;
    entry->create_rev = create_rev;
    entry->mod_rev = change->rev;
    entry->expires_at = change->expires_at;
    if (entry->expires_at)
        self->expiring++;
    return ZSTORE_OK;
}

static void
s_remove_key (zstore_mirror_t *self, const zstore_change_t *change)
{
    zstore_entry_t *entry = s_lookup (self, change->group, change->group_size, change->key,
                                      change->key_size);
    if (entry)
        s_remove (self, entry);
}

static int
s_remove_group (zstore_mirror_t *self, const zstore_change_t *change)
{
    zlistx_t *doomed = zlistx_new ();
    if (!doomed)
        return ZSTORE_NO_MEMORY;
    for (zstore_entry_t *entry = zhashx_first (self->entries); entry;
         entry = zhashx_next (self->entries))
        if (s_bytes_compare (entry->group, entry->group_size, change->group,
                             change->group_size) == 0)
            zlistx_add_end (doomed, entry);
    for (zstore_entry_t *entry = zlistx_first (doomed); entry; entry = zlistx_next (doomed))
        s_remove (self, entry);
    zlistx_destroy (&doomed);
    return ZSTORE_OK;
}

static void
s_clear (zstore_mirror_t *self)
{
    zhashx_purge (self->entries);
    self->expiring = 0;
}

//  --- Applying changes ---------------------------------------------------

typedef int (s_apply_fn) (zstore_mirror_t *self, const zstore_change_t *change);

static int
s_apply_set (zstore_mirror_t *self, const zstore_change_t *change)
{
    return s_put (self, change);
}

static int
s_apply_delete (zstore_mirror_t *self, const zstore_change_t *change)
{
    s_remove_key (self, change);
    return ZSTORE_OK;
}

static int
s_apply_delete_group (zstore_mirror_t *self, const zstore_change_t *change)
{
    return s_remove_group (self, change);
}

//  The watch re-read the scope: forget everything, STATE entries follow.
static int
s_apply_resync (zstore_mirror_t *self, const zstore_change_t *change)
{
    s_clear (self);
    self->floor = change->rev;
    self->rev = change->rev;
    return ZSTORE_OK;
}

static const struct {
    zstore_change_type_t type;
    s_apply_fn *apply;
} s_appliers [] = {
    { ZSTORE_CHANGE_SET,            s_apply_set },
    { ZSTORE_CHANGE_DELETE,         s_apply_delete },
    { ZSTORE_CHANGE_DELETE_GROUP,   s_apply_delete_group },
    { ZSTORE_CHANGE_EXPIRE,         s_apply_delete },
    { ZSTORE_CHANGE_RESYNC,         s_apply_resync },
    { ZSTORE_CHANGE_STATE,          s_apply_set }
};

static int
s_apply (zstore_mirror_t *self, const zstore_change_t *change)
{
    bool resync = change->type == ZSTORE_CHANGE_RESYNC || change->type == ZSTORE_CHANGE_STATE;
    if (!resync && change->rev <= self->floor)
        return ZSTORE_OK;           //  the snapshot has it
    for (size_t index = 0; index < sizeof s_appliers / sizeof s_appliers [0]; index++)
        if (s_appliers [index].type == change->type) {
            int code = s_appliers [index].apply (self, change);
            if (!resync && change->rev > self->rev)
                self->rev = change->rev;
            return code;
        }
    return ZSTORE_PROTOCOL_ERROR;
}

//  --- The mirror ---------------------------------------------------------

//  Loads the snapshot of the watch's scope: at or after its marker.
static int
s_load (zstore_mirror_t *self, zstore_client_t *client, const char *ns, const char *group)
{
    zstore_client_t *reader = zstore_client_dup (client);
    if (!reader)
        return ZSTORE_NO_MEMORY;
    zstore_entries_t entries = { NULL, 0, false };
    uint64_t rev = 0;
    int code = zstore_client_set_namespace (reader, NULL);
    if (!code)
        code = zstore_client_snapshot (reader, ns, group, NULL, NULL, &entries, &rev);
    if (code)
        zstore_client_fail (client, code, "mirror: snapshot: %s", zstore_client_error (reader));
    zstore_client_destroy (&reader);
    for (size_t index = 0; code == ZSTORE_OK && index < entries.size; index++) {
        zstore_entry_t *entry = malloc (sizeof (zstore_entry_t));
        if (!entry) {
            code = ZSTORE_NO_MEMORY;
            break;
        }
        *entry = entries.entries [index];           //  takes its strings
        memset (&entries.entries [index], 0, sizeof (zstore_entry_t));
        if (zhashx_insert (self->entries, entry, entry)) {
            s_entry_destroy ((void **) &entry);     //  a duplicate: a broker bug
            code = ZSTORE_PROTOCOL_ERROR;
            break;
        }
        if (entry->expires_at)
            self->expiring++;
    }
    zstore_entries_clear (&entries);
    self->floor = rev;
    self->rev = rev;
    return code;
}

static zstore_mirror_t *
s_mirror_new (zstore_client_t *client, zstore_watch_t *watch, const char *ns, const char *group)
{
    if (!watch)
        return NULL;
    zstore_mirror_t *self = calloc (1, sizeof (zstore_mirror_t));
    if (self) {
        self->watch = watch;
        self->entries = s_map_new ();
    }
    else
        zstore_watch_destroy (&watch);
    if (self && (!self->entries || s_load (self, client, ns, group)))
        zstore_mirror_destroy (&self);
    return self;
}

zstore_mirror_t *
zstore_mirror_new (zstore_client_t *client, const char *group)
{
    if (!client || !group) {
        zstore_client_fail (client, ZSTORE_ARGUMENT, "mirror: NULL client or group");
        return NULL;
    }
    const char *ns = zstore_client_namespace (client);
    if (streq (group, "*"))         //  the client's namespace, or everything
        return s_mirror_new (client, zstore_watch_new (client, "*", "*"), ns, NULL);
    char *stored = ns ? zsys_sprintf ("%s:%s", ns, group) : strdup (group);
    if (!stored)
        return NULL;
    zstore_mirror_t *self = s_mirror_new (client, zstore_watch_new (client, group, "*"), NULL,
                                          stored);
    free (stored);
    return self;
}

zstore_mirror_t *
zstore_mirror_new_namespace (zstore_client_t *client, const char *ns)
{
    return s_mirror_new (client, zstore_watch_new_namespace (client, ns), ns, NULL);
}

void
zstore_mirror_destroy (zstore_mirror_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zstore_mirror_t *self = *self_p;
    zstore_watch_destroy (&self->watch);
    zhashx_destroy (&self->entries);
    free (self);
    *self_p = NULL;
}

//  Applies changes until none is waiting: the first may take timeout_ms,
//  the others must have arrived already. A writer faster than the mirror
//  would keep it applying for ever: after UPDATE_MAX_MS of applying it
//  returns, the rest waits for the next call.
int
zstore_mirror_update (zstore_mirror_t *self, int timeout_ms)
{
    if (!self)
        return ZSTORE_ARGUMENT;
    zstore_change_t change;
    int wait = timeout_ms;
    int64_t stop_at = 0;
    while (!stop_at || zclock_mono () < stop_at) {
        int code = zstore_watch_next (self->watch, &change, wait);
        if (code == ZSTORE_TIMEOUT)
            return ZSTORE_OK;
        if (code == ZSTORE_OK)
            code = s_apply (self, &change);
        if (code)
            return code;
        if (!stop_at)
            stop_at = zclock_mono () + UPDATE_MAX_MS;
        wait = 0;
    }
    return ZSTORE_OK;
}

const zstore_entry_t *
zstore_mirror_get (zstore_mirror_t *self, const char *group, const char *key)
{
    if (!self || !group || !key)
        return NULL;
    const zstore_entry_t *entry = s_lookup (self, group, strlen (group), key, strlen (key));
    return entry && !s_expired (entry, (uint64_t) zclock_time ()) ? entry : NULL;
}

size_t
zstore_mirror_size (zstore_mirror_t *self)
{
    if (!self)
        return 0;
    size_t size = zhashx_size (self->entries);
    if (self->expiring) {
        uint64_t now = (uint64_t) zclock_time ();
        for (zstore_entry_t *entry = zhashx_first (self->entries); entry;
             entry = zhashx_next (self->entries))
            if (s_expired (entry, now))
                size--;
    }
    return size;
}

uint64_t
zstore_mirror_rev (zstore_mirror_t *self)
{
    return self ? self->rev : 0;
}

static int
s_sort_compare (const void *a, const void *b)
{
    return s_entry_compare (a, b);
}

int
zstore_mirror_entries (zstore_mirror_t *self, zstore_entries_t *entries)
{
    if (!self || !entries)
        return ZSTORE_ARGUMENT;
    memset (entries, 0, sizeof (*entries));
    uint64_t now = (uint64_t) zclock_time ();
    for (zstore_entry_t *entry = zhashx_first (self->entries); entry;
         entry = zhashx_next (self->entries)) {
        if (s_expired (entry, now))
            continue;
        zstore_entry_t copy;
        int code = zstore_entry_copy (&copy, entry);
        if (!code && (code = zstore_entries_append (entries, &copy)))
            zstore_entry_clear (&copy);
        if (code) {
            zstore_entries_clear (entries);
            return code;
        }
    }
    if (entries->size)
        qsort (entries->entries, entries->size, sizeof (zstore_entry_t), s_sort_compare);
    return ZSTORE_OK;
}
