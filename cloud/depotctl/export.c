/*
 * depotctl export LIST --format csv|jsonl [--from T1] [--to T2] [--dealer D] [--period P]
 *                [--out FILE]
 *
 * A list of the hub (alerts, orders, payments, movements, stock, statements, ranking) as a
 * file for a spreadsheet or a BI tool
 * (GET /api/v1/export/LIST): the hub's CSV or JSON Lines body as it is, on
 * stdout or into FILE. T1, T2: YYYY-MM-DD (--to: through that day),
 * YYYY-MM-DDTHH:MM:SSZ or ms. Exit 0 when the body is written, 1 when the hub
 * refuses or cannot be asked (or FILE cannot be written), 2 for a bad command
 * line.
 */
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "ctl.h"
#include "http.h"

#define CMD "depotctl export"
#define TIMEOUT_MS 60000

static bool word_ok(const char *t, const char *chars, size_t max)
{
    return !t || (t[0] && strlen(t) <= max && strspn(t, chars) == strlen(t));
}

static int write_body(const struct ctl_http_reply *r, const char *out)
{
    FILE *f = out ? fopen(out, "wb") : stdout;
    bool ok;
    if (!f) {
        fprintf(stderr, CMD ": cannot write %s\n", out);
        return CTL_FAIL;
    }
    ok = fwrite(r->body, 1, r->len, f) == r->len;
    ok = (out ? fclose(f) == 0 : fflush(f) == 0) && ok;
    if (!ok)
        fprintf(stderr, CMD ": writing %s failed\n", out ? out : "stdout");
    return ok ? CTL_OK : CTL_FAIL;
}

int ctl_export_main(int argc, char **argv)
{
    const char *hub = NULL, *token = NULL, *format = NULL, *from = NULL, *to = NULL;
    const char *dealer = NULL, *out = NULL, *list = NULL, *period = NULL;
    const struct ctl_opt opts[] = {
        {"hub", &hub, false, "the hub's API, http://HOST:PORT (default $DEPOT_HUB)"},
        {"token", &token, false, "a token ($DEPOT_TOKEN); a dealer's user: its own dealer"},
        {"format", &format, true, "csv or jsonl"},
        {"from", &from, false, "the range's start: YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or ms"},
        {"to", &to, false, "its end: a date (through that day), a time or ms"},
        {"dealer", &dealer, false, "only this dealer's rows"},
        {"period", &period, false, "ranking: the month YYYY-MM (default: this one)"},
        {"out", &out, false, "the file to write (default: stdout)"},
    };
    struct ctl_http_reply r;
    char path[320], err[300];
    int rc = ctl_parse_arg(
        CMD, "LIST",
        "A list of the hub (alerts, orders, payments, movements, stock, statements, ranking) "
        "as CSV or JSON Lines.",
        argc, argv, opts, sizeof(opts) / sizeof(opts[0]), &list);
    if (rc != CTL_OK)
        return rc < 0 ? CTL_OK : rc;
    if (!ctl_api_target(CMD, &hub, &token))
        return CTL_USAGE;
    if (strcmp(format, "csv") && strcmp(format, "jsonl")) {
        fprintf(stderr, CMD ": --format is csv or jsonl\n");
        return CTL_USAGE;
    }
    if (!word_ok(list, "abcdefghijklmnopqrstuvwxyz", 24) || !word_ok(from, "0123456789-:.TZ", 24) ||
        !word_ok(to, "0123456789-:.TZ", 24) || !word_ok(period, "0123456789-", 7) ||
        !word_ok(dealer, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.", 64)) {
        fprintf(stderr, CMD ": LIST is a list's name, --dealer a dealer id; --from and --to "
                            "are YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or ms\n");
        return CTL_USAGE;
    }
    snprintf(path, sizeof(path), "/api/v1/export/%s?format=%s%s%s%s%s%s%s%s%s", list, format,
             from ? "&from=" : "", from ? from : "", to ? "&to=" : "", to ? to : "",
             dealer ? "&dealer=" : "", dealer ? dealer : "", period ? "&period=" : "",
             period ? period : "");
    if (ctl_http_get(hub, path, token, TIMEOUT_MS, &r, err, sizeof(err)) != DEPOT_OK) {
        fprintf(stderr, CMD ": %s\n", err);
        return CTL_FAIL;
    }
    if (r.status < 200 || r.status > 299) {
        fprintf(stderr, CMD ": the hub answered %d: %.300s\n", r.status, r.body ? r.body : "");
        ctl_http_reply_clear(&r);
        return CTL_FAIL;
    }
    rc = write_body(&r, out);
    ctl_http_reply_clear(&r);
    return rc;
}
