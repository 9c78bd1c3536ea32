/*  =========================================================================
    zstore_client_private - the internals the files of libzstore share:
    request encoding, reply decoding, entry helpers, and the client's
    error state. Not installed; every function here is hidden from the
    shared library's exported symbols (ZSTORE_PRIVATE), whatever its name.

    How to make a request from inside the library (watch, mirror, ops):

        zstore_request_t *request = zstore_request_new ("history");
        zstore_request_add_scope (request, NULL, group, group_size, NULL, 0, NULL, 0);
        zstore_request_add_uint (request, "after", rev);
        zstore_reply_t *reply = NULL;
        int code = zstore_client_call (client, request, &reply);   //  blocking, retried
        zstore_request_destroy (&request);
        if (code == ZSTORE_OK) {
            const msgpack_object *events = zstore_reply_field (reply, "events");
            ...
        }
        zstore_reply_destroy (&reply);   //  also when code is a broker status

    zstore_client_call adds the client's namespace as `ns` (unless the
    request has its own "ns" field, or zstore_request_omit_namespace was
    called), sends, waits up to the client's timeout, and for reads
    (zstore_op_is_idempotent) or retry-safe requests reconnects and re-sends
    after a lost reply (Lazy Pirate). On failure it sets the client's error
    text (zstore_client_error) and returns the code.

    A component that lives in another thread than its client (a watch)
    takes its own connection with zstore_client_dup: same endpoints,
    namespace, timeout and retries; its own DEALER.
    =========================================================================
*/

#ifndef ZSTORE_CLIENT_PRIVATE_H_INCLUDED
#define ZSTORE_CLIENT_PRIVATE_H_INCLUDED

#include <czmq.h>

#include "zstore_client.h"
#include "zstore_proto.h"

//  Internal functions are never exported, though some names match the
//  version script's public patterns (zstore_client_*, zstore_request_*).
#define ZSTORE_PRIVATE __attribute__ ((visibility ("hidden")))

//  --- Requests (zstore_request.c) ----------------------------------------

//  True for the operations that change nothing (PROTOCOL.md 2.4), which
//  the client re-sends after a lost reply: the list in zstore_client.h.
ZSTORE_PRIVATE bool
    zstore_op_is_idempotent (const char *op);

//  The request's op ("" never: zstore_request_new refuses NULL).
ZSTORE_PRIVATE const char *
    zstore_request_op (zstore_request_t *self);

//  True if the request may be re-sent after a lost reply: a read, or a
//  write marked with zstore_request_set_retry_safe.
ZSTORE_PRIVATE bool
    zstore_request_resendable (zstore_request_t *self);

//  Never add the client's namespace to this request (a scope that names
//  its own namespace, or the whole store).
ZSTORE_PRIVATE void
    zstore_request_omit_namespace (zstore_request_t *self);

//  A bool field.
ZSTORE_PRIVATE void
    zstore_request_add_bool (zstore_request_t *self, const char *name, bool value);

//  A field whose value is already msgpack (one encoded object: an array of
//  maps for a txn's ops, a copied object...).
ZSTORE_PRIVATE void
    zstore_request_add_raw (zstore_request_t *self, const char *name, const void *msgpack,
                            size_t size);

//  ZSTORE_OK, or the code that the first bad add recorded (ZSTORE_ARGUMENT
//  for a NULL name or data, ZSTORE_NO_MEMORY): a call then fails with it,
//  and zstore_request_problem says why.
ZSTORE_PRIVATE int
    zstore_request_status (zstore_request_t *self);
ZSTORE_PRIVATE const char *
    zstore_request_problem (zstore_request_t *self);

//  Writes the whole request body into writer (reset first): a map of v,
//  id, op, ns (if ns is not NULL and the request has neither its own ns
//  nor omit_namespace), then the fields in the order they were added.
//  Returns ZSTORE_OK, or zstore_request_status's code, or ZSTORE_NO_MEMORY.
ZSTORE_PRIVATE int
    zstore_request_encode (zstore_request_t *self, uint64_t id, const char *ns,
                           zstore_writer_t *writer);

//  --- Replies (zstore_request.c) -----------------------------------------

//  Parses one reply body. NULL (and *error_p, the caller frees it) if it
//  is not a msgpack map with an uint status; a missing or non-uint id
//  reads as 0.
ZSTORE_PRIVATE zstore_reply_t *
    zstore_reply_decode (const void *data, size_t size, char **error_p);

//  The reply map, and one raw field of it (NULL if absent). Objects live
//  as long as the reply.
ZSTORE_PRIVATE const msgpack_object *
    zstore_reply_root (zstore_reply_t *self);
ZSTORE_PRIVATE const msgpack_object *
    zstore_reply_field (zstore_reply_t *self, const char *name);

//  --- Entries (zstore_request.c) -----------------------------------------

//  A heap copy of data[0..size) followed by a NUL; NULL if out of memory.
ZSTORE_PRIVATE char *
    zstore_bytes_copy (const void *data, size_t size);

//  Fills entry (cleared first) from an item map {group?, key, value?,
//  create_rev?, mod_rev?, expires_at?}, or from a bare bin/str (a name:
//  key only). ZSTORE_OK, ZSTORE_PROTOCOL_ERROR (mistyped; the message in
//  problem[160] if not NULL) or ZSTORE_NO_MEMORY. Entry holds nothing on
//  failure.
ZSTORE_PRIVATE int
    zstore_entry_read (zstore_entry_t *entry, const msgpack_object *object, char *problem);

//  A deep copy of source into entry (which holds nothing yet).
ZSTORE_PRIVATE int
    zstore_entry_copy (zstore_entry_t *entry, const zstore_entry_t *source);

//  Appends entry, taking what it owns (entry is zeroed). ZSTORE_NO_MEMORY
//  leaves entry as it was.
ZSTORE_PRIVATE int
    zstore_entries_append (zstore_entries_t *entries, zstore_entry_t *entry);

//  --- Client state (zstore_client.c) -------------------------------------

//  A new client with self's endpoints, namespace, timeout and retries, and
//  its own sockets (for use in another thread). NULL if out of memory.
ZSTORE_PRIVATE zstore_client_t *
    zstore_client_dup (zstore_client_t *self);

//  Records a failure: code, and the message (printf-style) that
//  zstore_client_error returns. Returns code, to write
//  `return zstore_client_fail (self, ZSTORE_PROTOCOL_ERROR, "...")`.
ZSTORE_PRIVATE int
    zstore_client_fail (zstore_client_t *self, int code, const char *format, ...)
    __attribute__ ((format (printf, 3, 4)));

//  Records a success (error "" and code ZSTORE_OK); returns ZSTORE_OK.
ZSTORE_PRIVATE int
    zstore_client_succeed (zstore_client_t *self);

//  The code of the last call (ZSTORE_OK after a success): what a NULL
//  from zstore_client_recv meant.
ZSTORE_PRIVATE int
    zstore_client_last_code (zstore_client_t *self);

//  The retry count (zstore_client_set_retries).
ZSTORE_PRIVATE int
    zstore_client_retries (zstore_client_t *self);

//  How many times the client replaced its request socket (Lazy Pirate).
ZSTORE_PRIVATE uint64_t
    zstore_client_reconnects (zstore_client_t *self);

//  Blocking call with its own timeout (ms) instead of the client's.
ZSTORE_PRIVATE int
    zstore_client_call_timeout (zstore_client_t *self, zstore_request_t *request,
                                int timeout_ms, zstore_reply_t **reply_p);

#endif
