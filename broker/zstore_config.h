/*  =========================================================================
    zstore_config - the broker's settings: embedded defaults, a ZPL file
    (czmq's zconfig) and command-line flags, validated at start.
    =========================================================================
*/

#ifndef ZSTORE_CONFIG_H_INCLUDED
#define ZSTORE_CONFIG_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zstore_engine.h"

//  A namespace's quota from the config file.
typedef struct {
    char *name;
    int64_t max_keys;
    int64_t max_groups;
} zstore_quota_config_t;

typedef struct {
    char *db_path;                  //  zstore/db
    char *requests_endpoint;        //  zstore/requests
    char *events_endpoint;          //  zstore/events
    zstore_sync_t sync;             //  zstore/sync: full | normal | off
    int64_t max_request;            //  limits/max-request, bytes
    int64_t events_hwm;             //  limits/events-hwm, messages
    int64_t replies_hwm;            //  limits/replies-hwm, replies queued per client
    int64_t snapshot_page;          //  limits/snapshot-page, items
    int64_t snapshots;              //  limits/snapshots, open at once
    int64_t snapshot_idle;          //  limits/snapshot-idle, ms
    int64_t cache;                  //  limits/cache, KiB of SQLite page cache
    int64_t wal;                    //  limits/wal, KiB the WAL may grow to (0 = no limit)
    int64_t heartbeat;              //  timers/heartbeat, ms
    int64_t purge_interval;         //  timers/purge-interval, ms
    int64_t purge_chunk;            //  timers/purge-chunk, most rows per step
    int64_t purge_budget;           //  timers/purge-budget, ms a step aims at
    int64_t checkpoint;             //  timers/checkpoint, ms, 0 = in the commit
    int64_t history;                //  history/events
    zstore_quota_config_t *quotas;  //  namespaces/<name>/max-keys, max-groups
    size_t quota_count;
} zstore_config_t;

//  The embedded defaults: ./zstore.db, tcp://127.0.0.1:5670 and :5671.
zstore_config_t *
    zstore_config_new (void);

void
    zstore_config_destroy (zstore_config_t **self_p);

//  Applies the settings of a ZPL file. Returns 0, or -1 with *error_p (the
//  caller frees) naming the file and the setting.
int
    zstore_config_load (zstore_config_t *self, const char *path, char **error_p);

//  Applies command-line flags (argv[1..]): --db, --requests, --events,
//  --config (loaded where it stands, so later flags win), --help.
//  Returns 0, 1 if --help was asked (usage printed), or -1 with *error_p.
int
    zstore_config_parse_args (zstore_config_t *self, int argc, char *argv [], char **error_p);

//  The quota of a namespace, or NULL.
const zstore_quota_config_t *
    zstore_config_quota (const zstore_config_t *self, const char *name);

//  Usage text for --help.
const char *
    zstore_config_usage (void);

#endif
