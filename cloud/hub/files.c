/* Files named by their SHA-256 (files.h). */
#include "files.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "depot/alloc.h"
#include "depot/log.h"

#define PATH_LEN 4096

bool hub_file_sha_valid(const char *sha)
{
    size_t n = 0;
    for (; sha[n]; n++)
        if (!((sha[n] >= '0' && sha[n] <= '9') || (sha[n] >= 'a' && sha[n] <= 'f')))
            return false;
    return n == HUB_FILE_SHA_HEX;
}

static depot_err sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    bool ok;
    if (fd < 0)
        return DEPOT_ERR_IO;
    ok = fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    return ok ? DEPOT_OK : DEPOT_ERR_IO;
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

depot_err hub_files_put(const char *dir, const void *data, size_t len,
                        char sha[HUB_FILE_SHA_HEX + 1])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    char path[PATH_LEN], tmp[PATH_LEN];
    struct stat st;
    depot_err err;
    int fd;

    crypto_hash_sha256(h, data, len);
    sodium_bin2hex(sha, HUB_FILE_SHA_HEX + 1, h, sizeof(h));
    if (snprintf(path, sizeof(path), "%s/%s", dir, sha) >= (int)sizeof(path) ||
        snprintf(tmp, sizeof(tmp), "%s/.new-XXXXXX", dir) >= (int)sizeof(tmp))
        return DEPOT_ERR_INVAL;
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && (size_t)st.st_size == len)
        return DEPOT_OK; /* written before: the same bytes */
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        LOG_ERROR("files: cannot make %s: %s", dir, strerror(errno));
        return DEPOT_ERR_IO;
    }
    fd = mkstemp(tmp);
    if (fd < 0) {
        LOG_ERROR("files: cannot write in %s: %s", dir, strerror(errno));
        return DEPOT_ERR_IO;
    }
    err = write_all(fd, data, len);
    if (err == DEPOT_OK && fsync(fd) != 0)
        err = DEPOT_ERR_IO;
    if (close(fd) != 0)
        err = DEPOT_ERR_IO;
    if (err == DEPOT_OK && rename(tmp, path) != 0)
        err = DEPOT_ERR_IO;
    if (err == DEPOT_OK)
        err = sync_dir(dir);
    if (err != DEPOT_OK) {
        LOG_ERROR("files: cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
    }
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
