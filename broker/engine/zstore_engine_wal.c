/*  zstore_engine_wal - the WAL's file, for making commits durable later.

    A broker in the durable mode can commit with synchronous=NORMAL (the
    frames are written, not flushed) and flush the WAL on another thread:
    while one fdatasync runs, the next batches are applied, and one flush
    then covers all of them. A reply leaves only after the flush that
    follows its commit, so it means the same as with synchronous=FULL.

    fdatasync flushes the file, whichever descriptor wrote it: this one is
    our own, opened on the same file, so a thread may flush it while the
    engine's connection goes on writing. SQLite keeps the -wal file (same
    inode) while a connection is open; a restarted WAL is rewritten in
    place.
*/

#include "zstore_engine_private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

struct _zstore_wal_file_t {
    int fd;
};

zstore_wal_file_t *
zstore_engine_wal_file (zstore_engine_t *self)
{
    const char *database = self ? zstore_engine_file (self) : NULL;
    if (!database)
        return NULL;                //  closed, or a memory database
    //  The -wal file exists once the connection has written in WAL mode
    //  (opening does: the schema).
    const char *wal = sqlite3_filename_wal (database);
    int fd = wal ? open (wal, O_RDONLY | O_CLOEXEC) : -1;
    if (fd < 0)
        return NULL;
    zstore_wal_file_t *wal_file = malloc (sizeof (zstore_wal_file_t));
    if (!wal_file) {
        close (fd);
        return NULL;
    }
    wal_file->fd = fd;
    return wal_file;
}

int
zstore_wal_file_sync (zstore_wal_file_t *self)
{
    int rc;
    do
        rc = fdatasync (self->fd);
    while (rc != 0 && errno == EINTR);
    return rc == 0 ? 0 : errno;
}

void
zstore_wal_file_destroy (zstore_wal_file_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    close ((*self_p)->fd);
    free (*self_p);
    *self_p = NULL;
}
