/*
 * One error enum for the Linux side of Depot (gateway, hub, depotctl,
 * common). errno, mbedTLS, SQLite, libmodbus and libmosquitto codes are
 * translated into these where they enter our code; the original code, when it
 * matters, goes into the log line next to the translation.
 */
#ifndef DEPOT_ERROR_H
#define DEPOT_ERROR_H

typedef enum depot_err {
    DEPOT_OK = 0,
    DEPOT_ERR_NOMEM,     /* an allocation failed */
    DEPOT_ERR_INVAL,     /* bad argument from the caller */
    DEPOT_ERR_IO,        /* a system call failed (errno in the log) */
    DEPOT_ERR_CONFIG,    /* configuration file or option is wrong */
    DEPOT_ERR_PARSE,     /* a payload is not well-formed JSON */
    DEPOT_ERR_SCHEMA,    /* a payload is JSON but does not fit the schema */
    DEPOT_ERR_VERSION,   /* a payload has an unsupported schema version */
    DEPOT_ERR_DB,        /* SQLite / PostgreSQL failed */
    DEPOT_ERR_FULL,      /* a bounded store (outbox, FIFO, disk) is full */
    DEPOT_ERR_NOTFOUND,  /* the thing asked for does not exist */
    DEPOT_ERR_DUPLICATE, /* already applied / already present */
    DEPOT_ERR_STALE,     /* older than what is already known */
    DEPOT_ERR_CRYPTO,    /* an mbedTLS step failed */
    DEPOT_ERR_SIGNATURE, /* a signature does not verify */
    DEPOT_ERR_MODBUS,    /* a Modbus exchange failed (timeout, CRC, exception) */
    DEPOT_ERR_MQTT,      /* libmosquitto reported an error */
    DEPOT_ERR_AUTH,      /* missing or wrong credentials */
    DEPOT_ERR_FORBIDDEN, /* authenticated but not allowed */
    DEPOT_ERR_TIMEOUT,   /* a bounded wait ran out */
    DEPOT_ERR__COUNT
} depot_err;

/* A short, constant, human-readable text for an error code; never NULL. */
const char *depot_strerror(depot_err err);

#endif
