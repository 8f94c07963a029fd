/*
 * Fuzz target: every uplink and downlink payload decoder (depot_msg_decode,
 * the lenient envelope peek the hub uses to acknowledge a refused message,
 * the signed order document). Property: a message that decodes encodes, and
 * what it encodes to decodes again to the same type, dealer and id.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "depot/alloc.h"
#include "depot/msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    char why[160];
    depot_msg m, again, peek;
    depot_order_doc d;
    char *out = NULL;
    size_t len = 0;

    (void)depot_msg_peek_envelope(buf, size, &peek);
    (void)depot_order_doc_decode(buf, size, &d, why, sizeof(why));
    if (depot_msg_decode(buf, size, &m, why, sizeof(why)) != DEPOT_OK)
        return 0;
    if (depot_msg_encode(&m, &out, &len) == DEPOT_OK) {
        if (depot_msg_decode(out, len, &again, why, sizeof(why)) != DEPOT_OK)
            abort(); /* what Depot wrote, Depot must read */
        if (again.type != m.type || strcmp(again.dealer, m.dealer) != 0 || again.id != m.id)
            abort();
        depot_msg_clear(&again);
        depot_free(out);
    }
    depot_msg_clear(&m);
    return 0;
}
