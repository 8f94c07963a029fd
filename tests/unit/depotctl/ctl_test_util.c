/*
 * The depotctl unit tests' support (ctl_test_util.h): stdout and stderr are
 * redirected with dup2 into temporary files and read back, so a command's
 * own printf and fprintf(stderr) are seen exactly as a shell would see them.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include "ctl_test_util.h"

#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void ctl_capture_begin(struct ctl_capture *c)
{
    FILE *o = tmpfile(), *e = tmpfile();

    if (!o || !e)
        abort();
    fflush(stdout);
    fflush(stderr);
    c->saved_out = dup(STDOUT_FILENO);
    c->saved_err = dup(STDERR_FILENO);
    if (c->saved_out < 0 || c->saved_err < 0 || dup2(fileno(o), STDOUT_FILENO) < 0 ||
        dup2(fileno(e), STDERR_FILENO) < 0)
        abort();
    c->out_file = o;
    c->err_file = e;
}

static void read_back(void *file, char *buf)
{
    FILE *f = file;
    size_t n;

    rewind(f);
    n = fread(buf, 1, CTL_TEST_TEXT - 1, f);
    buf[n] = '\0';
    fclose(f);
}

void ctl_capture_end(struct ctl_capture *c)
{
    fflush(stdout);
    fflush(stderr);
    if (dup2(c->saved_out, STDOUT_FILENO) < 0 || dup2(c->saved_err, STDERR_FILENO) < 0)
        abort();
    close(c->saved_out);
    close(c->saved_err);
    read_back(c->out_file, c->out);
    read_back(c->err_file, c->err);
}

int ctl_run(struct ctl_capture *c, int (*fn)(int argc, char **argv), ...)
{
    char *argv[32];
    int argc = 0, rc;
    va_list ap;

    va_start(ap, fn);
    while (argc < 31 && (argv[argc] = (char *)va_arg(ap, const char *)) != NULL)
        argc++;
    va_end(ap);
    argv[argc] = NULL;
    ctl_capture_begin(c);
    rc = fn(argc, argv);
    ctl_capture_end(c);
    return rc;
}

int ctl_tmpdir(char *dir, const char *name)
{
    snprintf(dir, 64, "/tmp/%.40s-XXXXXX", name);
    return mkdtemp(dir) ? 0 : -1;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

int ctl_rmtree(const char *dir)
{
    return nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

const char *ctl_slurp(const char *path)
{
    static char buf[CTL_TEST_TEXT];
    FILE *f = fopen(path, "r");
    size_t n;

    if (!f)
        return NULL;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}
