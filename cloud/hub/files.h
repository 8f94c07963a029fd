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

/*
 * A file received piece by piece (a training video far larger than any
 * request buffer): the bytes go to a temporary file of dir as they come,
 * hashed on the way (mbedTLS SHA-256), and hub_file_sink_finish gives the
 * file its digest's name. At most max bytes, and only of a type
 * hub_file_type knows by its first bytes: past either, the sink refuses
 * (hub_file_sink_refused), drops what it wrote and takes the rest without
 * writing it, so the caller can read the request to its end and then answer.
 * Freed before it finished, the temporary file is removed.
 */
typedef struct hub_file_sink hub_file_sink;

enum hub_file_refusal {
    HUB_FILE_ACCEPTED,
    HUB_FILE_TOO_LARGE, /* more than max bytes */
    HUB_FILE_UNKNOWN,   /* not a type hub_file_type knows */
    HUB_FILE_FAILED,    /* the disk failed (logged) */
};

/* A sink writing into dir (made if missing, 0700). DEPOT_ERR_IO (logged), DEPOT_ERR_NOMEM. */
depot_err hub_file_sink_new(const char *dir, long long max, hub_file_sink **out);
/* Takes the next n bytes (written, or dropped once refused). */
void hub_file_sink_write(hub_file_sink *k, const void *data, size_t n);
/* Why the sink refused the file, HUB_FILE_ACCEPTED while it takes it. */
enum hub_file_refusal hub_file_sink_refused(const hub_file_sink *k);
/*
 * Ends the file: synced, named by its SHA-256 (sha), the folder synced; a file already of that
 * name is kept (the same bytes). *size and *type (hub_file_type's) describe it. DEPOT_ERR_INVAL
 * if the sink refused it (hub_file_sink_refused says why), DEPOT_ERR_IO (logged).
 */
depot_err hub_file_sink_finish(hub_file_sink *k, char sha[HUB_FILE_SHA_HEX + 1], long long *size,
                               const char **type);
/* Frees k; removes its temporary file unless it finished. NULL: nothing. */
void hub_file_sink_free(hub_file_sink *k);

/*
 * The media type of a file by its first n bytes, never by a name: "application/pdf"
 * (%PDF-), "video/mp4" (an ISO box "ftyp" at offset 4 whose brand is not a still image's:
 * HEIF, AVIF), "video/webm" (EBML 1A 45 DF A3);
 * NULL for anything else or too few bytes (at least HUB_FILE_HEAD are needed).
 */
#define HUB_FILE_HEAD 12
const char *hub_file_type(const unsigned char *head, size_t n);

/*
 * Removes the temporary files of uploads that never finished (a hub killed in the middle of
 * one) from dir: those last written more than older_than_s seconds ago, so that an upload
 * another hub sharing the folder is receiving now is left alone. *removed how many (logged).
 * A missing dir is nothing to do.
 */
void hub_files_sweep(const char *dir, long older_than_s, int *removed);

/* Opens the file named sha of dir for reading: *fd (the caller closes it) and its *size.
 * DEPOT_ERR_INVAL (not such a name), DEPOT_ERR_NOTFOUND, DEPOT_ERR_IO. */
depot_err hub_files_open(const char *dir, const char *sha, int *fd, long long *size);

#endif
