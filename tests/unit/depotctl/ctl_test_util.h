/*
 * What the depotctl unit tests share: running a command or a helper with
 * stdout and stderr caught in memory (the commands print their results and
 * refusals), and temporary folders removed with everything in them.
 */
#ifndef CTL_TEST_UTIL_H
#define CTL_TEST_UTIL_H

#include <stddef.h>

#define CTL_TEST_TEXT 32768

struct ctl_capture {
    int saved_out, saved_err;
    void *out_file, *err_file;
    char out[CTL_TEST_TEXT]; /* what was printed on stdout, NUL-terminated */
    char err[CTL_TEST_TEXT]; /* ... and on stderr */
};

/* From here to ctl_capture_end, stdout and stderr go into c. No cmocka
 * assertion in between: its messages would be caught too. */
void ctl_capture_begin(struct ctl_capture *c);
void ctl_capture_end(struct ctl_capture *c);

/* Runs fn with argv the NULL-terminated words after fn, caught in c; its exit code. */
int ctl_run(struct ctl_capture *c, int (*fn)(int argc, char **argv), ...);

/* A new empty folder /tmp/NAME-XXXXXX into dir (at least 64 bytes); 0 or -1. */
int ctl_tmpdir(char *dir, const char *name);

/* Removes dir and everything in it; 0 or -1. */
int ctl_rmtree(const char *dir);

/* The contents of path as a NUL-terminated string (static, overwritten by the
 * next call), or NULL if it cannot be read. */
const char *ctl_slurp(const char *path);

#endif
