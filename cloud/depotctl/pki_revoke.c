/*
 * depotctl pki revoke and pki crl: the device CA's certificate revocation
 * list, PKI/devices.crl, which the broker (Mosquitto's crlfile, written into
 * the config by depotctl broker-config) and the hubs ([hub] crl, for signed
 * orders) check.
 *
 * State, all in the PKI folder, all text:
 *   dealers/D.serials  every serial ever issued to dealer D (hex, one a line),
 *                      appended by pki sign; a renewed gateway has several;
 *   revoked            one line per revoked certificate: serial (hex), unix
 *                      time of revocation, dealer;
 *   crlnumber          the number of the last CRL written (cRLNumber grows by
 *                      one at every write, as RFC 5280 wants).
 * `revoke --dealer D` revokes every serial of D not yet revoked (with --serial,
 * only that one of D's: the old certificate after a renewal), records them
 * in `revoked` (written whole to a temporary file, synced, renamed), then
 * writes the whole CRL again and signs it with the device CA. If the CRL
 * cannot be written after `revoked` was, `pki crl` writes it from `revoked`.
 * Nothing here ever removes a line from `revoked`: a revocation is for good.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "depot/alloc.h"
#include "depot/id.h"
#include "depot/pki.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define REVOKED_MAX 1000000 /* entries in the revoked file we accept */
#define LINE_MAX_LEN 256

struct rlist {
    struct pki_revoked *v;
    char (*dealer)[PKI_ID_MAX + 1];
    size_t n, cap;
};

static void rlist_free(struct rlist *l)
{
    depot_free(l->v);
    depot_free(l->dealer);
    memset(l, 0, sizeof(*l));
}

static bool rlist_push(struct rlist *l, const struct pki_revoked *r, const char *dealer)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        struct pki_revoked *v = depot_realloc(l->v, cap * sizeof(*v));
        char(*d)[PKI_ID_MAX + 1];
        if (!v)
            return false;
        l->v = v;
        d = depot_realloc(l->dealer, cap * sizeof(*d));
        if (!d)
            return false;
        l->dealer = d;
        l->cap = cap;
    }
    l->v[l->n] = *r;
    snprintf(l->dealer[l->n], sizeof(l->dealer[0]), "%s", dealer);
    l->n++;
    return true;
}

static bool rlist_has(const struct rlist *l, const struct pki_revoked *r)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i].serial_len == r->serial_len &&
            memcmp(l->v[i].serial, r->serial, r->serial_len) == 0)
            return true;
    return false;
}

static void to_hex(const unsigned char *b, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", b[i]);
    out[2 * n] = '\0';
}

/* A serial in hex (even length, 1..PKI_SERIAL_MAX bytes). */
static bool from_hex(const char *s, struct pki_revoked *r)
{
    size_t len = strlen(s);

    if (len == 0 || len % 2 || len / 2 > PKI_SERIAL_MAX)
        return false;
    for (size_t i = 0; i < len / 2; i++) {
        unsigned v;
        if (sscanf(s + 2 * i, "%2x", &v) != 1 || !strchr("0123456789abcdefABCDEF", s[2 * i]) ||
            !strchr("0123456789abcdefABCDEF", s[2 * i + 1]))
            return false;
        r->serial[i] = (unsigned char)v;
    }
    r->serial_len = len / 2;
    return true;
}

/* The lines of dir/revoked into l (none if the file does not exist). */
static bool load_revoked(const char *cmd, const char *path, struct rlist *l)
{
    char line[LINE_MAX_LEN], hex[2 * PKI_SERIAL_MAX + 2], dealer[PKI_ID_MAX + 2], extra[2];
    FILE *f = fopen(path, "r");
    int no = 0, rc;

    if (!f) {
        if (errno == ENOENT)
            return true;
        fprintf(stderr, "%s: cannot read %s: %s\n", cmd, path, strerror(errno));
        return false;
    }
    while ((rc = ctl_read_line(f, line, sizeof(line))) > 0) {
        struct pki_revoked r = {0};
        long long when;
        no++;
        if (line[0] == '#' || line[0] == '\0')
            continue;
        if (sscanf(line, "%41s %lld %33s %1s", hex, &when, dealer, extra) != 3 ||
            !from_hex(hex, &r) || when < 0 || !depot_dealer_id_valid(dealer) ||
            l->n >= REVOKED_MAX) {
            fprintf(stderr, "%s: %s line %d: not 'SERIAL-HEX UNIX-TIME DEALER'\n", cmd, path, no);
            fclose(f);
            return false;
        }
        r.when = when;
        if (!rlist_push(l, &r, dealer)) {
            fprintf(stderr, "%s: out of memory\n", cmd);
            fclose(f);
            return false;
        }
    }
    fclose(f);
    if (rc < 0)
        fprintf(stderr, "%s: %s line %d: too long\n", cmd, path, no + 1);
    return rc == 0;
}

/* Replaces path with text (pki_replace_file); false said on stderr. */
static bool replace_text(const char *cmd, const char *path, const char *text, size_t len)
{
    if (pki_replace_file(path, text, len, 0644) == DEPOT_OK)
        return true;
    fprintf(stderr, "%s: cannot write %s: %s\n", cmd, path, strerror(errno));
    return false;
}

static bool save_revoked(const char *cmd, const char *path, const struct rlist *l)
{
    static const char head[] = "# Revoked certificates of the device CA: serial (hex), unix "
                               "time, dealer. Written by depotctl pki revoke.\n";
    size_t size = sizeof(head) + l->n * (2 * PKI_SERIAL_MAX + PKI_ID_MAX + 32), n;
    char *text = depot_malloc(size), hex[2 * PKI_SERIAL_MAX + 1];
    bool ok;

    if (!text) {
        fprintf(stderr, "%s: out of memory\n", cmd);
        return false;
    }
    n = (size_t)snprintf(text, size, "%s", head);
    for (size_t i = 0; i < l->n; i++) {
        to_hex(l->v[i].serial, l->v[i].serial_len, hex);
        n += (size_t)snprintf(text + n, size - n, "%s %lld %s\n", hex, l->v[i].when, l->dealer[i]);
    }
    ok = replace_text(cmd, path, text, n);
    depot_free(text);
    return ok;
}

/* The next CRL number (last + 1), recorded in dir/crlnumber; 0 on failure. */
static int next_number(const char *cmd, const char *dir)
{
    char path[PATH_MAX], text[32];
    long last = 0;
    FILE *f;

    if (!ctl_path(path, sizeof(path), dir, "crlnumber"))
        return 0;
    f = fopen(path, "r");
    if (f) {
        bool ok = fscanf(f, "%ld", &last) == 1 && last >= 0 && last < INT32_MAX - 1;
        fclose(f);
        if (!ok) {
            fprintf(stderr, "%s: %s does not hold a CRL number\n", cmd, path);
            return 0;
        }
    } else if (errno != ENOENT) {
        fprintf(stderr, "%s: cannot read %s: %s\n", cmd, path, strerror(errno));
        return 0;
    }
    snprintf(text, sizeof(text), "%ld\n", last + 1);
    return replace_text(cmd, path, text, strlen(text)) ? (int)(last + 1) : 0;
}

int ctl_pki_write_crl(const char *cmd, const char *dir, const char *dealer,
                      const struct pki_revoked *add, size_t n, int days)
{
    char revoked[PATH_MAX], crl[PATH_MAX];
    struct rlist l = {0};
    size_t added = 0;
    pki_ca *ca = NULL;
    int number, rc = CTL_FAIL;

    if (!ctl_path(revoked, sizeof(revoked), dir, "revoked") ||
        !ctl_path(crl, sizeof(crl), dir, PKI_DEVICE_CRL))
        return CTL_USAGE;
    ca = ctl_pki_open_ca(cmd, dir, true);
    if (!ca)
        return CTL_FAIL;
    if (!load_revoked(cmd, revoked, &l))
        goto out;
    for (size_t i = 0; i < n; i++) {
        if (rlist_has(&l, &add[i]))
            continue;
        if (!rlist_push(&l, &add[i], dealer)) {
            fprintf(stderr, "%s: out of memory\n", cmd);
            goto out;
        }
        added++;
    }
    if (added && !save_revoked(cmd, revoked, &l))
        goto out;
    number = next_number(cmd, dir);
    if (number == 0)
        goto out;
    if (pki_ca_write_crl(ca, l.v, l.n, number, days > 0 ? days : PKI_CRL_DAYS, crl) != DEPOT_OK) {
        fprintf(stderr, "%s: cannot write %s (depotctl pki crl --dir %s writes it again)\n", cmd,
                crl, dir);
        goto out;
    }
    if (dealer)
        printf("revoked %zu certificate(s) of dealer %s (%zu already revoked)\n", added, dealer,
               n - added);
    printf("revocation list: %s (number %d, %zu revoked, valid %d days)\n", crl, number, l.n,
           days > 0 ? days : PKI_CRL_DAYS);
    rc = CTL_OK;
out:
    pki_ca_free(ca);
    rlist_free(&l);
    return rc;
}

bool ctl_pki_record_serial(const char *dir, const char *dealer, const char *crt)
{
    char path[PATH_MAX], file[PKI_ID_MAX + 16], line[2 * PKI_SERIAL_MAX + 2];
    struct pki_revoked r = {0};
    int fd;
    bool ok;

    snprintf(file, sizeof(file), "dealers/%s.serials", dealer);
    if (!ctl_path(path, sizeof(path), dir, file) ||
        pki_cert_serial(crt, r.serial, sizeof(r.serial), &r.serial_len) != DEPOT_OK)
        return false;
    to_hex(r.serial, r.serial_len, line);
    strcat(line, "\n");
    fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    ok = fd >= 0 && write(fd, line, strlen(line)) == (ssize_t)strlen(line) && fsync(fd) == 0;
    return (fd >= 0 && close(fd) == 0) && ok;
}

/* Every serial issued to dealer (dealers/D.serials, else dealers/D.crt) into l. */
static bool dealer_serials(const char *cmd, const char *dir, const char *dealer, struct rlist *l)
{
    char path[PATH_MAX], file[PKI_ID_MAX + 16], line[LINE_MAX_LEN];
    struct pki_revoked r = {0};
    FILE *f;
    int rc;

    snprintf(file, sizeof(file), "dealers/%s.serials", dealer);
    if (!ctl_path(path, sizeof(path), dir, file))
        return false;
    f = fopen(path, "r");
    if (!f) {
        snprintf(file, sizeof(file), "dealers/%s.crt", dealer);
        if (ctl_path(path, sizeof(path), dir, file) && access(path, F_OK) == 0 &&
            pki_cert_serial(path, r.serial, sizeof(r.serial), &r.serial_len) == DEPOT_OK)
            return rlist_push(l, &r, dealer);
        fprintf(stderr, "%s: no certificate was issued to dealer %s by the CA in %s\n", cmd, dealer,
                dir);
        return false;
    }
    while ((rc = ctl_read_line(f, line, sizeof(line))) > 0 && l->n < REVOKED_MAX) {
        if (!from_hex(line, &r)) {
            fprintf(stderr, "%s: %s: '%s' is not a serial\n", cmd, path, line);
            fclose(f);
            return false;
        }
        if (!rlist_has(l, &r) && !rlist_push(l, &r, dealer)) {
            fclose(f);
            return false;
        }
    }
    fclose(f);
    return rc == 0 && l->n > 0;
}

int ctl_pki_revoke_main(int argc, char **argv)
{
    static const char cmd[] = "depotctl pki revoke";
    const char *dir = NULL, *dealer = NULL, *serial = NULL;
    const struct ctl_opt opts[] = {
        {"dir", &dir, true, "PKI folder holding the device CA"},
        {"dealer", &dealer, true, "the dealer whose every certificate is revoked"},
        {"serial", &serial, false,
         "only this certificate of the dealer's (hex, as in PKI/dealers/D.serials): the old one "
         "after a renewal"},
    };
    int rc = ctl_parse(cmd,
                       "Revoke every certificate issued to a dealer and write the device CA's "
                       "revocation list (devices.crl).",
                       argc, argv, opts, N(opts));
    struct rlist l = {0};
    long long now = (long long)time(NULL);

    if (rc)
        return rc < 0 ? CTL_OK : rc;
    if (!depot_dealer_id_valid(dealer)) {
        fprintf(stderr, "%s: --dealer '%s' is not a dealer id (" DEPOT_ID_RULE ")\n", cmd, dealer);
        return CTL_USAGE;
    }
    if (!dealer_serials(cmd, dir, dealer, &l)) {
        rlist_free(&l);
        return CTL_FAIL;
    }
    if (serial) {
        struct pki_revoked one = {0};
        if (!from_hex(serial, &one)) {
            fprintf(stderr, "%s: --serial '%s' is not a serial in hex\n", cmd, serial);
            rlist_free(&l);
            return CTL_USAGE;
        }
        if (!rlist_has(&l, &one)) {
            fprintf(stderr, "%s: %s is not a certificate issued to dealer %s\n", cmd, serial,
                    dealer);
            rlist_free(&l);
            return CTL_FAIL;
        }
        l.v[0] = one;
        l.n = 1;
    }
    for (size_t i = 0; i < l.n; i++)
        l.v[i].when = now;
    rc = ctl_pki_write_crl(cmd, dir, dealer, l.v, l.n, 0);
    rlist_free(&l);
    if (rc == CTL_OK)
        printf("tell the broker: kill -HUP $(pidof mosquitto) (or systemctl reload mosquitto): "
               "new connections are checked against the list; restart it to drop a connection "
               "already open. The hubs read the list again by themselves.\n");
    return rc;
}

int ctl_pki_crl_main(int argc, char **argv)
{
    static const char cmd[] = "depotctl pki crl";
    const char *dir = NULL, *days_s = NULL;
    const struct ctl_opt opts[] = {
        {"dir", &dir, true, "PKI folder holding the device CA"},
        {"days", &days_s, false, "validity of the list in days (default 3653)"},
    };
    int rc = ctl_parse(cmd,
                       "Write the device CA's revocation list again from PKI/revoked, with a new "
                       "number and validity.",
                       argc, argv, opts, N(opts)),
        days = 0;

    if (rc)
        return rc < 0 ? CTL_OK : rc;
    if (days_s && !ctl_int(cmd, "days", days_s, 1, 36500, &days))
        return CTL_USAGE;
    return ctl_pki_write_crl(cmd, dir, NULL, NULL, 0, days);
}
