/*  zstore - the C client of the zstore broker: include this one header.
    Link with `pkg-config --cflags --libs libzstore`.
*/

#ifndef ZSTORE_H_INCLUDED
#define ZSTORE_H_INCLUDED

#include "zstore_client.h"
#include "zstore_watch.h"

#endif
