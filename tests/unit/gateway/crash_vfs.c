/*
 * The power-cut VFS of the crash tests (crash_vfs.h).
 *
 * Per file path a record, kept across closes until crash_vfs_apply: the
 * file's size at its last sync and, for each 512-byte sector written since,
 * what the sector held at that sync (the first write to a sector saves it;
 * a truncation saves the sectors it cuts). A sync forgets them: from then
 * on the sync's state is the disk's.
 */
#include "crash_vfs.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SECTOR 512

struct sector {
    long long idx;
    unsigned char old[SECTOR];
};

struct rec {
    struct rec *next;
    char *path;
    long long sync_size; /* the file's size at its last sync */
    struct sector *s;    /* the sectors written since, as they were at that sync */
    size_t n, cap;
};

struct cfile {
    sqlite3_file base;
    struct rec *rec; /* NULL: a file without a name (passes through) */
    sqlite3_file *real;
};

static struct {
    sqlite3_vfs vfs;
    sqlite3_vfs *unix_vfs;
    struct rec *recs;
    long syncs, crash_at;
    bool crashed;
    enum crash_mode mode;
    unsigned seed;
} g;

static struct rec *rec_of(const char *path)
{
    struct rec *r;
    for (r = g.recs; r; r = r->next)
        if (!strcmp(r->path, path))
            return r;
    r = calloc(1, sizeof(*r));
    if (!r || !(r->path = strdup(path))) {
        free(r);
        return NULL;
    }
    r->next = g.recs;
    g.recs = r;
    return r;
}

static void rec_forget(struct rec *r, long long size)
{
    r->n = 0;
    r->sync_size = size;
}

static long long real_size(struct cfile *f)
{
    sqlite3_int64 sz = 0;
    return f->real->pMethods->xFileSize(f->real, &sz) == SQLITE_OK ? (long long)sz : -1;
}

/* Saves sector idx as the last sync left it, unless saved already. */
static int save_sector(struct cfile *f, long long idx)
{
    struct rec *r = f->rec;
    struct sector *s;
    int rc;
    for (size_t i = 0; i < r->n; i++)
        if (r->s[i].idx == idx)
            return SQLITE_OK;
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 64;
        struct sector *p = realloc(r->s, cap * sizeof(*p));
        if (!p)
            return SQLITE_NOMEM;
        r->s = p;
        r->cap = cap;
    }
    s = &r->s[r->n];
    s->idx = idx;
    memset(s->old, 0, SECTOR);
    rc = f->real->pMethods->xRead(f->real, s->old, SECTOR, idx * SECTOR);
    if (rc != SQLITE_OK && rc != SQLITE_IOERR_SHORT_READ)
        return rc; /* a short read is zero-filled: past the end */
    r->n++;
    return SQLITE_OK;
}

static int save_range(struct cfile *f, long long from, long long to)
{
    int rc = SQLITE_OK;
    for (long long i = from / SECTOR; rc == SQLITE_OK && i * SECTOR < to; i++)
        rc = save_sector(f, i);
    return rc;
}

/* ---- the file's methods ---- */

static int c_close(sqlite3_file *p)
{
    struct cfile *f = (struct cfile *)p;
    return f->real->pMethods ? f->real->pMethods->xClose(f->real) : SQLITE_OK;
}

static int c_read(sqlite3_file *p, void *buf, int amt, sqlite3_int64 off)
{
    struct cfile *f = (struct cfile *)p;
    return f->real->pMethods->xRead(f->real, buf, amt, off);
}

static int c_write(sqlite3_file *p, const void *buf, int amt, sqlite3_int64 off)
{
    struct cfile *f = (struct cfile *)p;
    int rc;
    if (g.crashed)
        return SQLITE_IOERR_WRITE;
    if (f->rec && (rc = save_range(f, off, off + amt)) != SQLITE_OK)
        return rc;
    return f->real->pMethods->xWrite(f->real, buf, amt, off);
}

static int c_truncate(sqlite3_file *p, sqlite3_int64 size)
{
    struct cfile *f = (struct cfile *)p;
    long long cur = real_size(f);
    int rc;
    if (g.crashed)
        return SQLITE_IOERR_TRUNCATE;
    if (f->rec && cur > size && (rc = save_range(f, size, cur)) != SQLITE_OK)
        return rc;
    return f->real->pMethods->xTruncate(f->real, size);
}

static int c_sync(sqlite3_file *p, int flags)
{
    struct cfile *f = (struct cfile *)p;
    (void)flags;
    if (g.crashed)
        return SQLITE_IOERR_FSYNC;
    if (g.crash_at > 0 && ++g.syncs == g.crash_at) {
        g.crashed = true; /* the power goes before this sync reaches the disk */
        return SQLITE_IOERR_FSYNC;
    }
    if (f->rec)
        rec_forget(f->rec, real_size(f));
    return SQLITE_OK; /* durable in the model; no fsync needed for it */
}

static int c_file_size(sqlite3_file *p, sqlite3_int64 *size)
{
    struct cfile *f = (struct cfile *)p;
    return f->real->pMethods->xFileSize(f->real, size);
}

static int c_lock(sqlite3_file *p, int level)
{
    struct cfile *f = (struct cfile *)p;
    return f->real->pMethods->xLock(f->real, level);
}

static int c_unlock(sqlite3_file *p, int level)
{
    struct cfile *f = (struct cfile *)p;
    return f->real->pMethods->xUnlock(f->real, level);
}

static int c_check_reserved(sqlite3_file *p, int *out)
{
    struct cfile *f = (struct cfile *)p;
    return f->real->pMethods->xCheckReservedLock(f->real, out);
}

static int c_file_control(sqlite3_file *p, int op, void *arg)
{
    struct cfile *f = (struct cfile *)p;
    return f->real->pMethods->xFileControl(f->real, op, arg);
}

static int c_sector_size(sqlite3_file *p)
{
    struct cfile *f = (struct cfile *)p;
    return f->real->pMethods->xSectorSize(f->real);
}

static int c_device(sqlite3_file *p)
{
    struct cfile *f = (struct cfile *)p;
    return f->real->pMethods->xDeviceCharacteristics(f->real);
}

static int c_shm_map(sqlite3_file *p, int pg, int pgsz, int extend, void volatile **out)
{
    struct cfile *f = (struct cfile *)p;
    return f->real->pMethods->xShmMap(f->real, pg, pgsz, extend, out);
}

static int c_shm_lock(sqlite3_file *p, int offset, int n, int flags)
{
    struct cfile *f = (struct cfile *)p;
    return f->real->pMethods->xShmLock(f->real, offset, n, flags);
}

static void c_shm_barrier(sqlite3_file *p)
{
    struct cfile *f = (struct cfile *)p;
    f->real->pMethods->xShmBarrier(f->real);
}

static int c_shm_unmap(sqlite3_file *p, int del)
{
    struct cfile *f = (struct cfile *)p;
    return f->real->pMethods->xShmUnmap(f->real, g.crashed ? 0 : del);
}

static const sqlite3_io_methods c_methods = {
    2, /* shared memory (WAL), no memory mapping: every write goes through c_write */
    c_close,   c_read,     c_write,          c_truncate,     c_sync,        c_file_size,
    c_lock,    c_unlock,   c_check_reserved, c_file_control, c_sector_size, c_device,
    c_shm_map, c_shm_lock, c_shm_barrier,    c_shm_unmap,    NULL,          NULL,
};

/* ---- the VFS ---- */

static int c_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *p, int flags, int *out_flags)
{
    struct cfile *f = (struct cfile *)p;
    int rc;
    (void)vfs;
    memset(f, 0, sizeof(*f));
    f->real = (sqlite3_file *)(f + 1);
    rc = g.unix_vfs->xOpen(g.unix_vfs, name, f->real, flags, out_flags);
    if (rc != SQLITE_OK)
        return rc; /* pMethods NULL: SQLite does not close it */
    if (name && !(f->rec = rec_of(name))) {
        f->real->pMethods->xClose(f->real);
        return SQLITE_NOMEM;
    }
    if (f->rec && f->rec->n == 0)
        f->rec->sync_size = real_size(f); /* what it holds at open is on the disk */
    f->base.pMethods = &c_methods;
    return SQLITE_OK;
}

static int c_delete(sqlite3_vfs *vfs, const char *name, int dir_sync)
{
    struct rec *r;
    (void)vfs;
    if (g.crashed)
        return SQLITE_OK; /* nothing happens after the power cut */
    for (r = g.recs; r; r = r->next)
        if (!strcmp(r->path, name))
            rec_forget(r, 0);
    return g.unix_vfs->xDelete(g.unix_vfs, name, dir_sync);
}

int crash_vfs_register(void)
{
    if (g.unix_vfs)
        return 0;
    g.unix_vfs = sqlite3_vfs_find("unix");
    if (!g.unix_vfs)
        return -1;
    g.vfs = *g.unix_vfs;
    g.vfs.zName = "crash";
    g.vfs.szOsFile = (int)sizeof(struct cfile) + g.unix_vfs->szOsFile;
    g.vfs.pNext = NULL;
    g.vfs.xOpen = c_open;
    g.vfs.xDelete = c_delete;
    return sqlite3_vfs_register(&g.vfs, 1) == SQLITE_OK ? 0 : -1;
}

void crash_vfs_arm(long sync_n, enum crash_mode mode, unsigned seed)
{
    for (struct rec *r = g.recs; r; r = r->next) {
        int fd = open(r->path, O_RDONLY);
        long long size = fd >= 0 ? (long long)lseek(fd, 0, SEEK_END) : 0;
        if (fd >= 0)
            close(fd);
        rec_forget(r, size > 0 ? size : 0);
    }
    g.syncs = 0;
    g.crash_at = sync_n;
    g.crashed = false;
    g.mode = mode;
    g.seed = seed;
}

bool crash_vfs_crashed(void)
{
    return g.crashed;
}

/* What the power cut leaves of one file. */
static int apply_one(struct rec *r)
{
    long long size;
    int rc = 0, fd = open(r->path, O_RDWR);
    if (fd < 0)
        return r->n ? -1 : 0; /* deleted before the cut: that delete was on the disk */
    size = (long long)lseek(fd, 0, SEEK_END);
    if (g.mode == CRASH_DROP || size < r->sync_size)
        size = r->sync_size; /* the growth is lost; a truncation too */
    if (ftruncate(fd, (off_t)size) != 0)
        rc = -1;
    for (size_t i = 0; rc == 0 && i < r->n; i++) {
        const struct sector *s = &r->s[i];
        long long at = s->idx * SECTOR, len = SECTOR;
        if (g.mode == CRASH_TEAR && rand_r(&g.seed) % 2)
            continue; /* this sector's new content reached the disk */
        if (at >= size)
            continue;
        if (at + len > size)
            len = size - at;
        if (pwrite(fd, s->old, (size_t)len, (off_t)at) != (ssize_t)len)
            rc = -1;
    }
    close(fd);
    return rc;
}

int crash_vfs_apply(void)
{
    int rc = 0;
    struct rec *r, *next;
    for (r = g.recs; r; r = r->next)
        if (g.crashed && apply_one(r) != 0)
            rc = -1;
    for (r = g.recs; r; r = next) {
        next = r->next;
        free(r->s);
        free(r->path);
        free(r);
    }
    g.recs = NULL;
    g.crash_at = 0;
    g.crashed = false;
    g.syncs = 0;
    return rc;
}
