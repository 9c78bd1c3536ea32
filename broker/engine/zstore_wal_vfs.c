/*  zstore_wal_vfs - the default VFS, with each WAL commit written in one
    system call.

    SQLite writes a WAL frame with two pwrite calls (its 24-byte header,
    then the page): a group commit of 50 changes costs ~100 system calls on
    the broker's request thread, a third of its time in the durable mode.
    This VFS gives every file to the default VFS untouched except a -wal
    file, whose writes it gathers while they are contiguous and writes out
    in one call:
      - when the page that follows a commit frame's header is written: the
        commit is whole. SQLite publishes a commit in the wal-index only
        after that write returns, so no connection can read the frames
        before they are in the file, and a failed write fails the commit;
      - before a write that is not contiguous, or when 1 MiB is gathered;
      - before anything else is done with the file (read, sync, truncate,
        size, file control, close).
    A commit frame is the one whose header holds the database size in
    pages (bytes 4-7 non-zero; sqlite.org/fileformat2.html#walformat).
    What is gathered before the commit frame is part of a transaction not
    yet committed: a crash loses nothing SQLite would have kept.
*/

#include "zstore_engine_private.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define FRAME_HEADER_SIZE 24
#define GATHER_LIMIT (1024 * 1024)
#define WRITE_LIMIT 0x1ffff         //  bytes per write to the default VFS

typedef struct {
    sqlite3_file base;              //  pMethods: s_methods
    sqlite3_file *real;             //  the default VFS's file, after this struct
    char *data;                     //  gathered writes
    size_t size;
    size_t capacity;
    sqlite3_int64 offset;           //  file offset of data [0]
    bool commit_page_next;          //  the next write completes a commit
} s_wal_t;

//  Aligned so that the default VFS's file that follows is aligned too.
#define WAL_SIZE ((sizeof (s_wal_t) + 15) & ~(size_t) 15)

static sqlite3_vfs *s_default;
static sqlite3_vfs s_vfs;
static sqlite3_io_methods s_methods;
static atomic_uint_fast64_t s_writes;   //  writes issued to WAL files

//  In pieces the default VFS can take: its write keeps only the low 17 bits
//  of the size (SQLite itself never writes more than a 64 KiB page).
static int
s_flush (s_wal_t *self)
{
    int rc = SQLITE_OK;
    for (size_t done = 0; done < self->size && rc == SQLITE_OK; done += WRITE_LIMIT) {
        size_t piece = self->size - done < WRITE_LIMIT ? self->size - done : WRITE_LIMIT;
        rc = self->real->pMethods->xWrite (self->real, self->data + done, (int) piece,
                                           self->offset + (sqlite3_int64) done);
        atomic_fetch_add (&s_writes, 1);
    }
    self->size = 0;
    return rc;
}

static int
s_gather (s_wal_t *self, const void *data, size_t size, sqlite3_int64 offset)
{
    if (self->size + size > self->capacity) {
        size_t capacity = self->capacity ? self->capacity : 65536;
        while (capacity < self->size + size)
            capacity *= 2;
        char *grown = realloc (self->data, capacity);
        if (!grown)
            return SQLITE_IOERR_NOMEM;
        self->data = grown;
        self->capacity = capacity;
    }
    if (!self->size)
        self->offset = offset;
    memcpy (self->data + self->size, data, size);
    self->size += size;
    return SQLITE_OK;
}

//  Straight to the default VFS (no memory to gather).
static int
s_write_through (s_wal_t *self, const void *data, int amount, sqlite3_int64 offset)
{
    atomic_fetch_add (&s_writes, 1);
    return self->real->pMethods->xWrite (self->real, data, amount, offset);
}

static int
s_write (sqlite3_file *file, const void *data, int amount, sqlite3_int64 offset)
{
    s_wal_t *self = (s_wal_t *) file;
    size_t size = (size_t) amount;
    const unsigned char *header = data;
    bool completes_commit = self->commit_page_next;
    self->commit_page_next = size == FRAME_HEADER_SIZE
                          && (header [4] | header [5] | header [6] | header [7]) != 0;
    int rc = SQLITE_OK;
    if (self->size && (offset != self->offset + (sqlite3_int64) self->size
                       || self->size + size > GATHER_LIMIT))
        rc = s_flush (self);
    if (rc == SQLITE_OK && s_gather (self, data, size, offset) != SQLITE_OK) {
        rc = s_flush (self);
        if (rc == SQLITE_OK)
            rc = s_write_through (self, data, amount, offset);
    }
    if (rc == SQLITE_OK && completes_commit)
        rc = s_flush (self);
    if (rc != SQLITE_OK)
        self->commit_page_next = false;
    return rc;
}

//  Every other method writes out what is gathered, then hands over.

static int
s_close (sqlite3_file *file)
{
    s_wal_t *self = (s_wal_t *) file;
    int rc = s_flush (self);
    int closed = self->real->pMethods->xClose (self->real);
    free (self->data);
    self->data = NULL;
    return rc != SQLITE_OK ? rc : closed;
}

static int
s_read (sqlite3_file *file, void *data, int amount, sqlite3_int64 offset)
{
    s_wal_t *self = (s_wal_t *) file;
    int rc = s_flush (self);
    return rc != SQLITE_OK ? rc : self->real->pMethods->xRead (self->real, data, amount, offset);
}

static int
s_truncate (sqlite3_file *file, sqlite3_int64 size)
{
    s_wal_t *self = (s_wal_t *) file;
    int rc = s_flush (self);
    return rc != SQLITE_OK ? rc : self->real->pMethods->xTruncate (self->real, size);
}

static int
s_sync (sqlite3_file *file, int flags)
{
    s_wal_t *self = (s_wal_t *) file;
    int rc = s_flush (self);
    return rc != SQLITE_OK ? rc : self->real->pMethods->xSync (self->real, flags);
}

static int
s_file_size (sqlite3_file *file, sqlite3_int64 *size)
{
    s_wal_t *self = (s_wal_t *) file;
    int rc = s_flush (self);
    return rc != SQLITE_OK ? rc : self->real->pMethods->xFileSize (self->real, size);
}

static int
s_file_control (sqlite3_file *file, int op, void *arg)
{
    s_wal_t *self = (s_wal_t *) file;
    int rc = s_flush (self);
    return rc != SQLITE_OK ? rc : self->real->pMethods->xFileControl (self->real, op, arg);
}

static int
s_lock (sqlite3_file *file, int level)
{
    s_wal_t *self = (s_wal_t *) file;
    return self->real->pMethods->xLock (self->real, level);
}

static int
s_unlock (sqlite3_file *file, int level)
{
    s_wal_t *self = (s_wal_t *) file;
    return self->real->pMethods->xUnlock (self->real, level);
}

static int
s_check_reserved_lock (sqlite3_file *file, int *out)
{
    s_wal_t *self = (s_wal_t *) file;
    return self->real->pMethods->xCheckReservedLock (self->real, out);
}

static int
s_sector_size (sqlite3_file *file)
{
    s_wal_t *self = (s_wal_t *) file;
    return self->real->pMethods->xSectorSize (self->real);
}

static int
s_device_characteristics (sqlite3_file *file)
{
    s_wal_t *self = (s_wal_t *) file;
    return self->real->pMethods->xDeviceCharacteristics (self->real);
}

static int
s_open (sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags, int *out_flags)
{
    (void) vfs;
    if (!(flags & SQLITE_OPEN_WAL))     //  the file is the default VFS's alone
        return s_default->xOpen (s_default, name, file, flags, out_flags);
    s_wal_t *self = (s_wal_t *) file;
    memset (self, 0, sizeof (s_wal_t));
    self->real = (sqlite3_file *) ((char *) file + WAL_SIZE);
    int rc = s_default->xOpen (s_default, name, self->real, flags, out_flags);
    //  Version 1 methods: a WAL file is never memory-mapped nor shared memory.
    self->base.pMethods = rc == SQLITE_OK ? &s_methods : NULL;
    return rc;
}

static void
s_register (void)
{
    s_default = sqlite3_vfs_find (NULL);
    if (!s_default)
        return;
    s_vfs = *s_default;             //  every other call goes to the default's
    s_vfs.pNext = NULL;
    s_vfs.zName = ZSTORE_WAL_VFS;
    s_vfs.szOsFile = (int) WAL_SIZE + s_default->szOsFile;
    s_vfs.xOpen = s_open;
    s_methods = (sqlite3_io_methods) {
        .iVersion = 1,
        .xClose = s_close, .xRead = s_read, .xWrite = s_write, .xTruncate = s_truncate,
        .xSync = s_sync, .xFileSize = s_file_size, .xLock = s_lock, .xUnlock = s_unlock,
        .xCheckReservedLock = s_check_reserved_lock, .xFileControl = s_file_control,
        .xSectorSize = s_sector_size, .xDeviceCharacteristics = s_device_characteristics,
    };
    if (sqlite3_vfs_register (&s_vfs, 0) != SQLITE_OK)
        s_default = NULL;
}

const char *
zstore_wal_vfs (void)
{
    static pthread_once_t registered = PTHREAD_ONCE_INIT;
    pthread_once (&registered, s_register);
    return s_default ? ZSTORE_WAL_VFS : NULL;
}

uint64_t
zstore_wal_vfs_writes (void)
{
    return (uint64_t) atomic_load (&s_writes);
}
