/*
 * Training material's pure parts and its file sink (training.h, files.h,
 * api/http.h): the coverage of an item over time from fixed completion
 * times (1, 3, 7, 14, 30 days, days to 90 %, days not yet come); the byte
 * range of a Range header (a-b, a-, -n, past the end, malformed, several);
 * a file's type by its first bytes; and a file streamed in pieces: named by
 * its SHA-256, refused past its limit or for an unknown type with nothing
 * left behind, and the unfinished uploads of a stopped hub swept; a media link valid for its item,
 * dealer and lifetime only.
 */
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "depot/alloc.h"
#include "api/http.h"
#include "files.h"
#include "training.h"
#include "hub_test_util.h"

#define DAY 86400000LL
#define T0 1767225600000LL /* 2026-01-01T00:00:00Z */

/* ---- coverage ---- */

static void test_coverage_TenTargetsOverAMonth(void **state)
{
    /* 10 targets: completed at 0.5, 2, 2, 5, 6, 10, 12, 13.5 days; two never */
    const long long done[10] = {T0 + DAY / 2,
                                T0 + 2 * DAY,
                                T0 + 2 * DAY,
                                T0 + 5 * DAY,
                                T0 + 6 * DAY,
                                T0 + 10 * DAY,
                                T0 + 12 * DAY,
                                T0 + 27 * DAY / 2,
                                0,
                                0};
    const long long viewed[10] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 0};
    struct hub_training_coverage c;
    (void)state;
    hub_training_coverage(T0, T0 + 40 * DAY, done, viewed, 10, &c);
    assert_int_equal(c.targets, 10);
    assert_int_equal(c.viewed, 9);
    assert_int_equal(c.completed, 8);
    assert_true(c.pct_after[0] == 10.0); /* day 1: one */
    assert_true(c.pct_after[1] == 30.0); /* day 3: three */
    assert_true(c.pct_after[2] == 50.0); /* day 7 */
    assert_true(c.pct_after[3] == 80.0); /* day 14 */
    assert_true(c.pct_after[4] == 80.0); /* day 30 */
    assert_int_equal(c.days_to_90, -1);  /* 9 of 10 are needed */
}

static void test_coverage_DaysTo90RoundedUpAndDaysNotYetCome(void **state)
{
    /* 3 targets: 90 % needs all three (ceil 2.7); the last at 4 days and an hour */
    const long long done[3] = {T0 + DAY, T0 + 2 * DAY, T0 + 4 * DAY + 3600000};
    struct hub_training_coverage c;
    (void)state;
    hub_training_coverage(T0, T0 + 8 * DAY, done, NULL, 3, &c);
    assert_int_equal(c.days_to_90, 5);
    assert_true(c.pct_after[0] == 33.3); /* completed at exactly the end of day 1 counts */
    assert_true(c.pct_after[1] == 66.6);
    assert_true(c.pct_after[2] == 100.0);
    assert_true(c.pct_after[3] == -1); /* day 14 has not come at day 8 */
    assert_true(c.pct_after[4] == -1);
    assert_int_equal(c.viewed, 3); /* a completion is a view */
}

static void test_coverage_NoTargetsOrNoneDone(void **state)
{
    const long long none[2] = {0, 0};
    struct hub_training_coverage c;
    (void)state;
    hub_training_coverage(T0, T0 + 40 * DAY, NULL, NULL, 0, &c);
    assert_int_equal(c.targets, 0);
    assert_true(c.pct_after[4] == -1);
    assert_int_equal(c.days_to_90, -1);
    hub_training_coverage(T0, T0 + 40 * DAY, none, NULL, 2, &c);
    assert_true(c.pct_after[4] == 0.0);
    assert_int_equal(c.days_to_90, -1);
}

/* ---- Range ---- */

static enum api_range range(const char *h, long long size, long long *from, long long *len)
{
    return api_byte_range(h, size, from, len);
}

static void test_byte_range_OneRangeOfEachForm(void **state)
{
    long long from, len;
    (void)state;
    assert_int_equal(range("bytes=0-99", 1000, &from, &len), API_RANGE_PART);
    assert_int_equal(from, 0);
    assert_int_equal(len, 100);
    assert_int_equal(range("bytes=900-5000", 1000, &from, &len), API_RANGE_PART);
    assert_int_equal(from, 900);
    assert_int_equal(len, 100); /* cut at the end */
    assert_int_equal(range("bytes=990-", 1000, &from, &len), API_RANGE_PART);
    assert_int_equal(from, 990);
    assert_int_equal(len, 10);
    assert_int_equal(range("bytes=-10", 1000, &from, &len), API_RANGE_PART);
    assert_int_equal(from, 990);
    assert_int_equal(len, 10);
    assert_int_equal(range("bytes=-5000", 1000, &from, &len), API_RANGE_PART);
    assert_int_equal(from, 0);
    assert_int_equal(len, 1000);
    assert_int_equal(range("bytes=5-5", 1000, &from, &len), API_RANGE_PART);
    assert_int_equal(len, 1);
}

static void test_byte_range_PastTheEndIsUnsatisfiable(void **state)
{
    long long from, len;
    (void)state;
    assert_int_equal(range("bytes=1000-", 1000, &from, &len), API_RANGE_UNSATISFIABLE);
    assert_int_equal(range("bytes=1000-2000", 1000, &from, &len), API_RANGE_UNSATISFIABLE);
    assert_int_equal(range("bytes=-0", 1000, &from, &len), API_RANGE_UNSATISFIABLE);
    assert_int_equal(range("bytes=0-", 0, &from, &len), API_RANGE_UNSATISFIABLE);
}

static void test_byte_range_MalformedOrSeveralAreTheWholeFile(void **state)
{
    static const char *const bad[] = {NULL,
                                      "",
                                      "bytes=",
                                      "bytes=-",
                                      "bytes=5-2",
                                      "bytes=0-1,5-",
                                      "items=0-9",
                                      "bytes=a-b",
                                      "bytes=1 -2",
                                      "bytes=0-9x",
                                      "bytes=1234567890123456789-",
                                      "bytes=--1",
                                      NULL};
    long long from, len;
    (void)state;
    for (size_t i = 0; i == 0 || bad[i]; i++) {
        assert_int_equal(range(bad[i], 1000, &from, &len), API_RANGE_WHOLE);
        assert_int_equal(from, 0);
        assert_int_equal(len, 1000);
    }
}

/* ---- type by the bytes ---- */

static void test_file_type_ByTheFirstBytes(void **state)
{
    (void)state;
    assert_string_equal(hub_file_type((const unsigned char *)"%PDF-1.7\n%\xe2\xe3", 12),
                        "application/pdf");
    assert_string_equal(hub_file_type((const unsigned char *)"\0\0\0\x20"
                                                             "ftypisom\0\0",
                                      12),
                        "video/mp4");
    assert_string_equal(hub_file_type((const unsigned char *)"\x1a\x45\xdf\xa3\x9f\x42\x86\x81", 8),
                        "video/webm");
    assert_null(hub_file_type((const unsigned char *)"GIF89a......", 12));
    assert_null(hub_file_type((const unsigned char *)"\0\0\0\x18"
                                                     "ftypheic\0\0",
                              12)); /* a photo */
    assert_null(hub_file_type((const unsigned char *)"\0\0\0\x1c"
                                                     "ftypavif\0\0",
                              12));
    assert_null(hub_file_type((const unsigned char *)"\0\0\0\x20"
                                                     "ftyp",
                              8)); /* no brand */
    assert_null(hub_file_type((const unsigned char *)"PDF-1.7 %PDF", 12));
    assert_null(hub_file_type((const unsigned char *)"%PD", 3));
}

/* ---- the sink ---- */

static int files_in(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    if (!d)
        return 0;
    while ((e = readdir(d)))
        n += e->d_name[0] != '.' || strncmp(e->d_name, ".new-", 5) == 0;
    closedir(d);
    return n;
}

#define PDF_SHA "3121cab18f86f1a677f5acedcc04e619d2a24aa86e7dcd82c9fbc4065058a764"

static void test_file_sink_PiecesNamedByTheirSha256(void **state)
{
    char dir[256], files[300], sha[HUB_FILE_SHA_HEX + 1], *back = NULL;
    unsigned char data[10249];
    const char *type = NULL;
    hub_file_sink *k = NULL;
    long long size = 0;
    size_t len = 0;
    (void)state;
    memcpy(data, "%PDF-1.7\n", 9);
    for (int i = 0; i < 10240; i++)
        data[9 + i] = (unsigned char)(i % 256);
    test_tmpdir(dir, sizeof(dir));
    snprintf(files, sizeof(files), "%s/files", dir);
    for (int round = 0; round < 2; round++) { /* the second finds the file there */
        assert_int_equal(hub_file_sink_new(files, 20000, &k), DEPOT_OK);
        hub_file_sink_write(k, data, 3); /* the type is known only past the head */
        hub_file_sink_write(k, data + 3, 5000);
        hub_file_sink_write(k, data + 5003, sizeof(data) - 5003);
        assert_int_equal(hub_file_sink_refused(k), HUB_FILE_ACCEPTED);
        assert_int_equal(hub_file_sink_finish(k, sha, &size, &type), DEPOT_OK);
        hub_file_sink_free(k);
        assert_string_equal(sha, PDF_SHA);
        assert_int_equal(size, sizeof(data));
        assert_string_equal(type, "application/pdf");
        assert_int_equal(files_in(files), 1); /* no temporary file left */
    }
    assert_int_equal(hub_files_read(files, sha, 1 << 20, &back, &len), DEPOT_OK);
    assert_int_equal(len, sizeof(data));
    assert_memory_equal(back, data, len);
    depot_free(back);
    test_rmdir(dir);
}

static void test_file_sink_RefusedPastItsLimitOrUnknownLeavesNothing(void **state)
{
    char dir[256], sha[HUB_FILE_SHA_HEX + 1];
    static const char mp4[16] = "\0\0\0\x18"
                                "ftypmp42\0\0\0\0";
    const char *type;
    hub_file_sink *k = NULL;
    long long size;
    (void)state;
    test_tmpdir(dir, sizeof(dir));
    assert_int_equal(hub_file_sink_new(dir, 20, &k), DEPOT_OK);
    hub_file_sink_write(k, mp4, sizeof(mp4));
    assert_int_equal(hub_file_sink_refused(k), HUB_FILE_ACCEPTED);
    hub_file_sink_write(k, mp4, sizeof(mp4)); /* 32 bytes > 20 */
    assert_int_equal(hub_file_sink_refused(k), HUB_FILE_TOO_LARGE);
    assert_int_equal(files_in(dir), 0);
    hub_file_sink_write(k, mp4, sizeof(mp4)); /* the rest is taken and dropped */
    assert_int_equal(hub_file_sink_finish(k, sha, &size, &type), DEPOT_ERR_INVAL);
    hub_file_sink_free(k);

    assert_int_equal(hub_file_sink_new(dir, 1000, &k), DEPOT_OK);
    hub_file_sink_write(k, "MZ\x90\0 an executable", 19);
    assert_int_equal(hub_file_sink_refused(k), HUB_FILE_UNKNOWN);
    hub_file_sink_free(k);

    assert_int_equal(hub_file_sink_new(dir, 1000, &k), DEPOT_OK);
    hub_file_sink_write(k, "%PDF", 4); /* too short to be known */
    assert_int_equal(hub_file_sink_finish(k, sha, &size, &type), DEPOT_ERR_INVAL);
    assert_int_equal(hub_file_sink_refused(k), HUB_FILE_UNKNOWN);
    hub_file_sink_free(k);

    assert_int_equal(hub_file_sink_new(dir, 1000, &k), DEPOT_OK);
    hub_file_sink_write(k, mp4, sizeof(mp4));
    hub_file_sink_free(k); /* dropped before it finished: the request went away */
    assert_int_equal(files_in(dir), 0);
    test_rmdir(dir);
}

static void test_files_sweep_RemovesOnlyStaleUnfinishedUploads(void **state)
{
    char dir[256], path[400];
    struct timespec old[2] = {{.tv_sec = 1000000}, {.tv_sec = 1000000}};
    hub_file_sink *k = NULL;
    int removed = -1;
    FILE *f;
    (void)state;
    test_tmpdir(dir, sizeof(dir));
    hub_files_sweep("/nonexistent/depot", 60, &removed); /* nothing to do */
    assert_int_equal(removed, 0);
    snprintf(path, sizeof(path), "%s/.new-OLD123", dir); /* a stopped hub's, long ago */
    f = fopen(path, "wb");
    fputs("%PDF-1.7 half", f);
    fclose(f);
    assert_int_equal(utimensat(AT_FDCWD, path, old, 0), 0);
    snprintf(path, sizeof(path), "%s/" PDF_SHA, dir); /* a stored file, as old */
    f = fopen(path, "wb");
    fputs("%PDF-1.7 whole", f);
    fclose(f);
    assert_int_equal(utimensat(AT_FDCWD, path, old, 0), 0);
    assert_int_equal(hub_file_sink_new(dir, 1000, &k), DEPOT_OK); /* an upload going on */
    assert_int_equal(files_in(dir), 3);
    hub_files_sweep(dir, 3600, &removed);
    assert_int_equal(removed, 1);
    assert_int_equal(files_in(dir), 2); /* the stored file and the live upload stay */
    hub_file_sink_free(k);
    test_rmdir(dir);
}

/* ---- media links ---- */

static void test_training_link_ValidUntilItExpiresForItsItemAndDealerOnly(void **state)
{
    unsigned char key[HUB_TRAINING_LINK_KEY], other[HUB_TRAINING_LINK_KEY];
    char mac[HUB_TRAINING_LINK_MAC_HEX + 1], again[HUB_TRAINING_LINK_MAC_HEX + 1];
    (void)state;
    memset(key, 7, sizeof(key));
    memset(other, 8, sizeof(other));
    hub_training_link_sign(key, 3, "A", T0 + DAY, mac);
    assert_int_equal(strlen(mac), HUB_TRAINING_LINK_MAC_HEX);
    hub_training_link_sign(key, 3, "A", T0 + DAY, again);
    assert_string_equal(mac, again); /* the same link on every hub with the same key */
    assert_true(hub_training_link_ok(key, 3, "A", T0 + DAY, mac, T0));
    assert_true(hub_training_link_ok(key, 3, "A", T0 + DAY, mac, T0 + DAY - 1));
    assert_false(hub_training_link_ok(key, 3, "A", T0 + DAY, mac, T0 + DAY)); /* expired */
    assert_false(hub_training_link_ok(key, 4, "A", T0 + DAY, mac, T0));       /* another item */
    assert_false(hub_training_link_ok(key, 3, "B", T0 + DAY, mac, T0));       /* another dealer */
    assert_false(hub_training_link_ok(key, 3, "", T0 + DAY, mac, T0));        /* not the maker's */
    assert_false(hub_training_link_ok(key, 3, "A", T0 + 2 * DAY, mac, T0));   /* a longer life */
    assert_false(hub_training_link_ok(other, 3, "A", T0 + DAY, mac, T0));     /* another hub */
    again[10] = again[10] == 'a' ? 'b' : 'a';
    assert_false(hub_training_link_ok(key, 3, "A", T0 + DAY, again, T0)); /* one digit off */
    assert_false(hub_training_link_ok(key, 3, "A", T0 + DAY, "", T0));
    hub_training_link_sign(key, 31, "", T0 + DAY, mac); /* the fields cannot be shifted */
    hub_training_link_sign(key, 3, "1", T0 + DAY, again);
    assert_string_not_equal(mac, again);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_coverage_TenTargetsOverAMonth),
        cmocka_unit_test(test_coverage_DaysTo90RoundedUpAndDaysNotYetCome),
        cmocka_unit_test(test_coverage_NoTargetsOrNoneDone),
        cmocka_unit_test(test_byte_range_OneRangeOfEachForm),
        cmocka_unit_test(test_byte_range_PastTheEndIsUnsatisfiable),
        cmocka_unit_test(test_byte_range_MalformedOrSeveralAreTheWholeFile),
        cmocka_unit_test(test_file_type_ByTheFirstBytes),
        cmocka_unit_test(test_file_sink_PiecesNamedByTheirSha256),
        cmocka_unit_test(test_file_sink_RefusedPastItsLimitOrUnknownLeavesNothing),
        cmocka_unit_test(test_files_sweep_RemovesOnlyStaleUnfinishedUploads),
        cmocka_unit_test(test_training_link_ValidUntilItExpiresForItsItemAndDealerOnly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
