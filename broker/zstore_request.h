/*  zstore_request - a request being handled, and the helpers handlers share
    (zstore_dispatch.c for the operation table and most handlers,
    zstore_views.c for snapshots and history).
*/

#ifndef ZSTORE_REQUEST_H_INCLUDED
#define ZSTORE_REQUEST_H_INCLUDED

#include "zstore_broker.h"

typedef struct {
    zstore_broker_t *broker;
    zstore_engine_t *engine;
    zstore_fields_t fields;         //  the request's (or a txn op's) map
    const msgpack_object *id;       //  echoed; NULL inside a transaction
    const char *ns;                 //  namespace, NUL-terminated, or NULL
    zstore_writer_t *writer;        //  where the reply map goes
    char error [256];               //  a message not from the engine
} zstore_request_t;

//  BAD_REQUEST with the field error as the message.
int
    zstore_request_bad (zstore_request_t *request);
//  status, with a message of the handler's own.
int
    zstore_request_fail (zstore_request_t *request, int status, const char *format, ...)
    __attribute__ ((format (printf, 3, 4)));
//  A bytes field with the namespace prefixed ("<ns>:<value>"); valid until
//  the next call. required false: absent reads as "".
bool
    zstore_request_scoped_field (zstore_request_t *request, const char *field, bool required,
                                 zstore_bytes_t *name);
//  Starts the success reply with extra pairs to follow.
void
    zstore_request_begin (zstore_request_t *request, uint32_t extra);
void
    zstore_request_write_item (zstore_writer_t *writer, const zstore_item_t *item,
                               bool with_group);
void
    zstore_request_write_items (zstore_writer_t *writer, const zstore_list_t *list,
                                bool with_group);

//  zstore_views.c
int
    zstore_views_snapshot (zstore_request_t *request);
int
    zstore_views_snapshot_next (zstore_request_t *request);
int
    zstore_views_snapshot_close (zstore_request_t *request);
int
    zstore_views_history (zstore_request_t *request);

#endif
