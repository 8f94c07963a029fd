/* Files named by their SHA-256 (files.h): written whole (hub_files_put) or piece by piece
 * (hub_file_sink), read whole (hub_files_read) or opened for serving (hub_files_open). */
#include "files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/sha256.h>

#include "depot/alloc.h"
#include "depot/log.h"
#include "depot/msg.h"
#include "depot/pki.h"

#define PATH_LEN 4096

bool hub_file_sha_valid(const char *sha)
{
    return depot_sha256_hex_valid(sha);
}

static depot_err write_all(int fd, const unsigned char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return DEPOT_ERR_IO;
        p += n;
        len -= (size_t)n;
    }
    return DEPOT_OK;
}

/* The digest h in lowercase hex, a file's name. */
static void sha_hex(const unsigned char h[32], char sha[HUB_FILE_SHA_HEX + 1])
{
    for (int i = 0; i < 32; i++)
        snprintf(sha + 2 * i, 3, "%02x", h[i]);
}

/* A new temporary file in dir (made if missing, 0700) for a file to come: *fd, its name tmp
 * (PATH_LEN). DEPOT_ERR_INVAL (dir too long), DEPOT_ERR_IO (logged). */
static depot_err tmp_open(const char *dir, char *tmp, int *fd)
{
    *fd = -1;
    if (snprintf(tmp, PATH_LEN, "%s/.new-XXXXXX", dir) >= PATH_LEN) {
        tmp[0] = '\0';
        return DEPOT_ERR_INVAL;
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        LOG_ERROR("files: cannot make %s: %s", dir, strerror(errno));
    *fd = mkstemp(tmp);
    if (*fd < 0) {
        LOG_ERROR("files: cannot write in %s: %s", dir, strerror(errno));
        tmp[0] = '\0';
        return DEPOT_ERR_IO;
    }
    return DEPOT_OK;
}

/*
 * The temporary file tmp (fd, synced and closed here) becomes path: renamed, its folder
 * synced; kept aside when path holds size bytes already (the same bytes: the name is their
 * digest). *moved tells whether tmp is gone (the caller removes it otherwise).
 */
static depot_err tmp_commit(int fd, const char *tmp, const char *path,
                            long long size, bool *moved)
{
    struct stat st;
    bool ok = fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    *moved = false;
    if (ok && stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == size)
        return DEPOT_OK; /* written before */
    if (!ok || rename(tmp, path) != 0 || pki_sync_dir_of(path) != DEPOT_OK) {
        LOG_ERROR("files: cannot write %s: %s", path, strerror(errno));
        return DEPOT_ERR_IO;
    }
    *moved = true;
    return DEPOT_OK;
}

depot_err hub_files_put(const char *dir, const void *data, size_t len,
                        char sha[HUB_FILE_SHA_HEX + 1])
{
    unsigned char h[32];
    char path[PATH_LEN], tmp[PATH_LEN];
    struct stat st;
    bool moved = false;
    depot_err err;
    int fd;

    if (mbedtls_sha256_ret(data, len, h, 0) != 0)
        return DEPOT_ERR_IO;
    sha_hex(h, sha);
    if (snprintf(path, sizeof(path), "%s/%s", dir, sha) >= (int)sizeof(path))
        return DEPOT_ERR_INVAL;
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && (size_t)st.st_size == len)
        return DEPOT_OK; /* written before: the same bytes */
    err = tmp_open(dir, tmp, &fd);
    if (err != DEPOT_OK)
        return err;
    err = write_all(fd, data, len);
    if (err == DEPOT_OK)
        err = tmp_commit(fd, tmp, path, (long long)len, &moved);
    else {
        LOG_ERROR("files: cannot write %s: %s", tmp, strerror(errno));
        close(fd);
    }
    if (!moved)
        unlink(tmp);
    return err;
}

depot_err hub_files_read(const char *dir, const char *sha, size_t max, char **out, size_t *len)
{
    char path[PATH_LEN], *buf;
    struct stat st;
    size_t n;
    FILE *f;
    *out = NULL;
    *len = 0;
    if (!hub_file_sha_valid(sha))
        return DEPOT_ERR_INVAL;
    if (snprintf(path, sizeof(path), "%s/%s", dir, sha) >= (int)sizeof(path))
        return DEPOT_ERR_INVAL;
    f = fopen(path, "rb");
    if (!f)
        return errno == ENOENT ? DEPOT_ERR_NOTFOUND : DEPOT_ERR_IO;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > max) {
        fclose(f);
        return DEPOT_ERR_IO;
    }
    buf = depot_malloc((size_t)st.st_size + 1);
    if (!buf) {
        fclose(f);
        return DEPOT_ERR_NOMEM;
    }
    n = fread(buf, 1, (size_t)st.st_size, f);
    fclose(f);
    if (n != (size_t)st.st_size) {
        depot_free(buf);
        return DEPOT_ERR_IO;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return DEPOT_OK;
}

/* ---- a file received piece by piece ---- */

struct hub_file_sink {
    char dir[PATH_LEN], tmp[PATH_LEN];
    int fd; /* -1 once closed */
    long long max, size;
    unsigned char head[HUB_FILE_HEAD];
    mbedtls_sha256_context sha;
    enum hub_file_refusal refused;
};

/* An ISO box file whose major brand is a still image (HEIF, AVIF): a phone's photo, no video. */
static bool iso_image_brand(const unsigned char *brand)
{
    static const char *const images[] = {"heic", "heix", "heim", "heis", "mif1", "avif", NULL};
    for (int i = 0; images[i]; i++)
        if (!memcmp(brand, images[i], 4))
            return true;
    return false;
}

const char *hub_file_type(const unsigned char *head, size_t n)
{
    if (n >= 5 && !memcmp(head, "%PDF-", 5))
        return "application/pdf";
    if (n >= 4 && !memcmp(head, "\x1a\x45\xdf\xa3", 4))
        return "video/webm";
    if (n >= 12 && !memcmp(head + 4, "ftyp", 4) && !iso_image_brand(head + 8))
        return "video/mp4";
    return NULL;
}

depot_err hub_file_sink_new(const char *dir, long long max, hub_file_sink **out)
{
    hub_file_sink *k = depot_calloc(1, sizeof(*k));
    if (!k)
        return DEPOT_ERR_NOMEM;
    k->fd = -1;
    k->max = max;
    depot_err err = DEPOT_ERR_INVAL;
    mbedtls_sha256_init(&k->sha);
    if (snprintf(k->dir, sizeof(k->dir), "%s", dir) < (int)sizeof(k->dir) &&
        mbedtls_sha256_starts_ret(&k->sha, 0) == 0)
        err = tmp_open(dir, k->tmp, &k->fd);
    if (err != DEPOT_OK) {
        hub_file_sink_free(k);
        return err;
    }
    *out = k;
    return DEPOT_OK;
}

/* Refuses the file for why: its temporary file goes, the rest of the bytes are dropped. */
static void sink_refuse(hub_file_sink *k, enum hub_file_refusal why)
{
    k->refused = why;
    if (k->fd >= 0)
        close(k->fd);
    k->fd = -1;
    if (k->tmp[0])
        unlink(k->tmp);
    k->tmp[0] = '\0';
}

void hub_file_sink_write(hub_file_sink *k, const void *data, size_t n)
{
    long long before = k->size;
    if (k->refused)
        return;
    k->size += (long long)n;
    if (k->size > k->max) {
        sink_refuse(k, HUB_FILE_TOO_LARGE);
        return;
    }
    if (before < HUB_FILE_HEAD) {
        size_t take = (size_t)(HUB_FILE_HEAD - before) < n ? (size_t)(HUB_FILE_HEAD - before) : n;
        memcpy(k->head + before, data, take);
        if (k->size >= HUB_FILE_HEAD && !hub_file_type(k->head, HUB_FILE_HEAD)) {
            sink_refuse(k, HUB_FILE_UNKNOWN);
            return;
        }
    }
    if (mbedtls_sha256_update_ret(&k->sha, data, n) != 0 || write_all(k->fd, data, n) != DEPOT_OK) {
        LOG_ERROR("files: cannot write %s: %s", k->tmp, strerror(errno));
        sink_refuse(k, HUB_FILE_FAILED);
    }
}

enum hub_file_refusal hub_file_sink_refused(const hub_file_sink *k)
{
    return k->refused;
}

depot_err hub_file_sink_finish(hub_file_sink *k, char sha[HUB_FILE_SHA_HEX + 1], long long *size,
                               const char **type)
{
    unsigned char h[32];
    char path[PATH_LEN];
    bool moved = false;
    depot_err err;
    *type = hub_file_type(k->head, k->size < HUB_FILE_HEAD ? (size_t)k->size : HUB_FILE_HEAD);
    if (!k->refused && !*type)
        sink_refuse(k, HUB_FILE_UNKNOWN); /* shorter than HUB_FILE_HEAD */
    if (k->refused)
        return DEPOT_ERR_INVAL;
    if (mbedtls_sha256_finish_ret(&k->sha, h) != 0)
        return DEPOT_ERR_IO;
    sha_hex(h, sha);
    if (snprintf(path, sizeof(path), "%s/%s", k->dir, sha) >= (int)sizeof(path))
        return DEPOT_ERR_INVAL;
    err = tmp_commit(k->fd, k->tmp, path, k->size, &moved);
    k->fd = -1;
    if (moved)
        k->tmp[0] = '\0'; /* else the temporary file goes in hub_file_sink_free */
    *size = k->size;
    return err;
}

void hub_file_sink_free(hub_file_sink *k)
{
    if (!k)
        return;
    if (k->fd >= 0)
        close(k->fd);
    if (k->tmp[0])
        unlink(k->tmp);
    mbedtls_sha256_free(&k->sha);
    depot_free(k);
}

depot_err hub_files_open(const char *dir, const char *sha, int *fd, long long *size)
{
    char path[PATH_LEN];
    struct stat st;
    if (!hub_file_sha_valid(sha) ||
        snprintf(path, sizeof(path), "%s/%s", dir, sha) >= (int)sizeof(path))
        return DEPOT_ERR_INVAL;
    *fd = open(path, O_RDONLY | O_CLOEXEC);
    if (*fd < 0)
        return errno == ENOENT ? DEPOT_ERR_NOTFOUND : DEPOT_ERR_IO;
    if (fstat(*fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(*fd);
        *fd = -1;
        return DEPOT_ERR_IO;
    }
    *size = (long long)st.st_size;
    return DEPOT_OK;
}

void hub_files_sweep(const char *dir, long older_than_s, int *removed)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[PATH_LEN];
    struct stat st;
    time_t now = time(NULL);
    *removed = 0;
    if (!d)
        return;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, ".new-", 5) != 0 ||
            snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= (int)sizeof(path) ||
            lstat(path, &st) != 0 || !S_ISREG(st.st_mode) || now - st.st_mtime <= older_than_s)
            continue;
        if (unlink(path) == 0)
            ++*removed;
    }
    closedir(d);
    if (*removed)
        LOG_WARN("files: %d unfinished upload(s) left in %s by a stopped hub removed", *removed,
                 dir);
}
