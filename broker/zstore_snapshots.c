/*  zstore_snapshots - the snapshots clients have open: a bounded table of
    id -> engine snapshot, closed when read to the end, closed by the
    client, or closed after snapshot-idle ms without a request (a client
    that vanished must not pin a read transaction forever).
*/

#include "zstore_broker.h"

typedef struct {
    uint64_t id;
    zstore_snapshot_t *snapshot;
    int64_t last_used;
} s_entry_t;

struct _zstore_snapshots_t {
    s_entry_t *entries;             //  max_open slots; id 0 = free
    size_t max_open;
    size_t open;
    int64_t idle_ms;
    uint64_t next_id;
};

zstore_snapshots_t *
zstore_snapshots_new (size_t max_open, int64_t idle_ms)
{
    zstore_snapshots_t *self = calloc (1, sizeof (zstore_snapshots_t));
    if (self && !(self->entries = calloc (max_open, sizeof (s_entry_t)))) {
        free (self);
        return NULL;
    }
    if (self) {
        self->max_open = max_open;
        self->idle_ms = idle_ms;
        self->next_id = 1;
    }
    return self;
}

static void
s_close (zstore_snapshots_t *self, s_entry_t *entry)
{
    zstore_snapshot_destroy (&entry->snapshot);
    entry->id = 0;
    self->open--;
}

void
zstore_snapshots_destroy (zstore_snapshots_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zstore_snapshots_t *self = *self_p;
    for (size_t index = 0; index < self->max_open; index++)
        if (self->entries [index].id)
            s_close (self, &self->entries [index]);
    free (self->entries);
    free (self);
    *self_p = NULL;
}

uint64_t
zstore_snapshots_add (zstore_snapshots_t *self, zstore_snapshot_t *snapshot, int64_t now)
{
    for (size_t index = 0; index < self->max_open; index++) {
        s_entry_t *entry = &self->entries [index];
        if (entry->id == 0) {
            entry->id = self->next_id++;
            entry->snapshot = snapshot;
            entry->last_used = now;
            self->open++;
            return entry->id;
        }
    }
    return 0;
}

static s_entry_t *
s_find (zstore_snapshots_t *self, uint64_t id)
{
    for (size_t index = 0; id && index < self->max_open; index++)
        if (self->entries [index].id == id)
            return &self->entries [index];
    return NULL;
}

zstore_snapshot_t *
zstore_snapshots_get (zstore_snapshots_t *self, uint64_t id, int64_t now)
{
    s_entry_t *entry = s_find (self, id);
    if (!entry)
        return NULL;
    entry->last_used = now;
    return entry->snapshot;
}

void
zstore_snapshots_remove (zstore_snapshots_t *self, uint64_t id)
{
    s_entry_t *entry = s_find (self, id);
    if (entry)
        s_close (self, entry);
}

void
zstore_snapshots_expire (zstore_snapshots_t *self, int64_t now)
{
    for (size_t index = 0; index < self->max_open; index++) {
        s_entry_t *entry = &self->entries [index];
        if (entry->id && now - entry->last_used > self->idle_ms)
            s_close (self, entry);
    }
}

size_t
zstore_snapshots_open (zstore_snapshots_t *self)
{
    return self->open;
}
