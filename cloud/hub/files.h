/*
 * Files the hub keeps on disk (a confirmation's photo; training material and
 * contracts later), each named by the SHA-256 of its bytes in hex under
 * [hub] files: the name is the content's digest, so a file is written once
 * however often it is sent, never changes, and anyone can check it.
 */
#ifndef HUB_FILES_H
#define HUB_FILES_H

#include <stdbool.h>
#include <stddef.h>

#include "depot/error.h"

#define HUB_FILE_SHA_HEX 64

/* True for 64 lowercase hex digits (a name hub_files_put gives). */
bool hub_file_sha_valid(const char *sha);

/*
 * Writes data into dir (made if missing, 0700) as its SHA-256, through a
 * temporary file of its own, synced and renamed, the folder synced; a file
 * already there is kept. sha gets the name. DEPOT_ERR_IO (logged).
 */
depot_err hub_files_put(const char *dir, const void *data, size_t len,
                        char sha[HUB_FILE_SHA_HEX + 1]);

/* The file named sha of dir, at most max bytes, into *out (depot_malloc'ed, NUL-terminated).
 * DEPOT_ERR_NOTFOUND, DEPOT_ERR_INVAL (not such a name), DEPOT_ERR_IO, DEPOT_ERR_NOMEM. */
depot_err hub_files_read(const char *dir, const char *sha, size_t max, char **out, size_t *len);

#endif
