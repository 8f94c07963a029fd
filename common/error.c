/*
 * Texts for depot_err. The table is indexed by the enum, so adding a code
 * without a text fails the static assertion below.
 */
#include "depot/error.h"

static const char *const texts[] = {
    [DEPOT_OK] = "success",
    [DEPOT_ERR_NOMEM] = "out of memory",
    [DEPOT_ERR_INVAL] = "invalid argument",
    [DEPOT_ERR_IO] = "input/output error",
    [DEPOT_ERR_CONFIG] = "configuration error",
    [DEPOT_ERR_PARSE] = "malformed payload",
    [DEPOT_ERR_SCHEMA] = "payload does not fit the schema",
    [DEPOT_ERR_VERSION] = "unsupported schema version",
    [DEPOT_ERR_DB] = "database error",
    [DEPOT_ERR_FULL] = "store is full",
    [DEPOT_ERR_NOTFOUND] = "not found",
    [DEPOT_ERR_DUPLICATE] = "duplicate",
    [DEPOT_ERR_STALE] = "stale",
    [DEPOT_ERR_CRYPTO] = "cryptographic operation failed",
    [DEPOT_ERR_SIGNATURE] = "signature does not verify",
    [DEPOT_ERR_MODBUS] = "modbus exchange failed",
    [DEPOT_ERR_MQTT] = "mqtt error",
    [DEPOT_ERR_AUTH] = "authentication required",
    [DEPOT_ERR_FORBIDDEN] = "forbidden",
    [DEPOT_ERR_TIMEOUT] = "timed out",
};

_Static_assert(sizeof(texts) / sizeof(texts[0]) == DEPOT_ERR__COUNT, "a depot_err has no text");

const char *depot_strerror(depot_err err)
{
    if ((unsigned)err >= DEPOT_ERR__COUNT)
        return "unknown error";
    return texts[err];
}
