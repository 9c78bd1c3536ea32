/*  fsync_gate - an LD_PRELOAD library for tests of the durable mode: every
    fsync or fdatasync of a file whose name ends in "-wal", made on a thread
    other than the main one (the broker's flusher), first writes one byte
    ('f') to the FIFO named by $ZSTORE_FSYNC_ENTERED, if set, so a test
    knows a flush has begun, then reads one byte from the FIFO named by
    $ZSTORE_FSYNC_GATE, so a test decides when each such flush may happen
    ('k') or makes it fail with EIO ('E'). The main thread's flushes
    (SQLite's at open and close, the flusher's first and last) and
    processes without the variables are not touched.
*/

#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int s_gate = -1;
static int s_entered = -1;
static pthread_once_t s_once = PTHREAD_ONCE_INIT;

static void
s_open_gate (void)
{
    const char *path = getenv ("ZSTORE_FSYNC_GATE");
    //  O_RDWR: opening a FIFO so never waits for the other end (Linux).
    if (path)
        s_gate = open (path, O_RDWR | O_CLOEXEC);
    const char *entered = getenv ("ZSTORE_FSYNC_ENTERED");
    if (entered)
        s_entered = open (entered, O_RDWR | O_CLOEXEC);
}

static bool
s_is_wal (int fd)
{
    char link [64], path [4096];
    snprintf (link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t size = readlink (link, path, sizeof path - 1);
    return size >= 4 && memcmp (path + size - 4, "-wal", 4) == 0;
}

//  Waits for the test's byte; false if the flush must fail.
static bool
s_pass (int fd)
{
    pthread_once (&s_once, s_open_gate);
    if (s_gate < 0 || syscall (SYS_gettid) == getpid () || !s_is_wal (fd))
        return true;
    char token = 'f';
    if (s_entered >= 0)
        while (write (s_entered, &token, 1) < 0 && errno == EINTR)
            ;
    while (read (s_gate, &token, 1) < 0 && errno == EINTR)
        ;
    return token != 'E';
}

int
fdatasync (int fd)
{
    int (*real) (int) = (int (*) (int)) dlsym (RTLD_NEXT, "fdatasync");
    if (!s_pass (fd)) {
        errno = EIO;
        return -1;
    }
    return real (fd);
}

int
fsync (int fd)
{
    int (*real) (int) = (int (*) (int)) dlsym (RTLD_NEXT, "fsync");
    if (!s_pass (fd)) {
        errno = EIO;
        return -1;
    }
    return real (fd);
}
