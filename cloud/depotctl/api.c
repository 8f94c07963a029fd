/*
 * The hub calls of depotctl: one request, a 2xx reply parsed as JSON, any
 * other status printed with the hub's {"error"} text. Tables are printed
 * with columns as wide as their widest cell.
 */
#include "api.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl.h"
#include "http.h"
#include "depot/msg.h"

#define TIMEOUT_MS 15000

bool ctl_api_target(const char *cmd, const char **hub, const char **token)
{
    if (!*hub)
        *hub = getenv("DEPOT_HUB");
    if (!*token)
        *token = getenv("DEPOT_TOKEN");
    if (*hub && **hub && *token && **token)
        return true;
    fprintf(stderr, "%s: give --hub and --token (or set DEPOT_HUB and DEPOT_TOKEN)\n", cmd);
    return false;
}

/* The reply r (cleared here) as ctl_api_call gives it. */
static int reply_json(const char *cmd, struct ctl_http_reply *r, cJSON **out)
{
    cJSON *j = depot_json_parse(r->body, r->len);
    if (r->status < 200 || r->status > 299) {
        const char *msg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "error"));
        fprintf(stderr, "%s: the hub answered %d: %s\n", cmd, r->status, msg ? msg : "(no reason)");
        cJSON_Delete(j);
        ctl_http_reply_clear(r);
        return CTL_FAIL;
    }
    ctl_http_reply_clear(r);
    if (!j) {
        fprintf(stderr, "%s: the hub's reply is not JSON\n", cmd);
        return CTL_FAIL;
    }
    if (out)
        *out = j;
    else
        cJSON_Delete(j);
    return CTL_OK;
}

int ctl_api_call(const char *cmd, const char *hub, const char *token, const char *method,
                 const char *path, const char *body, cJSON **out)
{
    struct ctl_http_reply r;
    char err[300];

    if (out)
        *out = NULL;
    if (ctl_http_request(hub, method, path, token, body, TIMEOUT_MS, &r, err, sizeof(err)) !=
        DEPOT_OK) {
        fprintf(stderr, "%s: %s\n", cmd, err);
        return CTL_FAIL;
    }
    return reply_json(cmd, &r, out);
}

int ctl_api_upload(const char *cmd, const char *hub, const char *token, const char *path,
                   const char *file, cJSON **out)
{
    struct ctl_http_reply r;
    struct stat st;
    char err[300];
    depot_err rc;
    int fd = open(file, O_RDONLY | O_CLOEXEC);

    *out = NULL;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        fprintf(stderr, "%s: cannot read %s: %s\n", cmd, file,
                fd < 0 ? strerror(errno) : "not a regular file");
        if (fd >= 0)
            close(fd);
        return CTL_USAGE;
    }
    rc = ctl_http_upload(hub, path, token, fd, (long long)st.st_size, TIMEOUT_MS, &r, err,
                         sizeof(err));
    close(fd);
    if (rc != DEPOT_OK) {
        fprintf(stderr, "%s: %s\n", cmd, err);
        return CTL_FAIL;
    }
    return reply_json(cmd, &r, out);
}

const char *ctl_json_str(const cJSON *o, const char *key)
{
    const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
    return s ? s : "";
}

void ctl_json_num(const cJSON *o, const char *key, char *buf, size_t len)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    char *text =
        cJSON_IsNumber(v) || cJSON_IsRaw(v) || cJSON_IsBool(v) ? cJSON_PrintUnformatted(v) : NULL;
    snprintf(buf, len, "%s", text ? text : "");
    cJSON_free(text);
}

void ctl_print_table(char (*rows)[8][64], int n_rows, int n_cols)
{
    int width[8] = {0};
    for (int i = 0; i < n_rows; i++)
        for (int c = 0; c < n_cols; c++)
            if ((int)strlen(rows[i][c]) > width[c])
                width[c] = (int)strlen(rows[i][c]);
    for (int i = 0; i < n_rows; i++) {
        for (int c = 0; c < n_cols - 1; c++)
            printf("%-*s  ", width[c], rows[i][c]);
        printf("%s\n", rows[i][n_cols - 1]);
    }
}

int ctl_api_print(const char *cmd, const char *hub, const char *token, const char *method,
                  const char *path, cJSON *obj, const char *secret_key, const char *secret_what)
{
    char *body = obj ? cJSON_PrintUnformatted(obj) : NULL, *text;
    cJSON *reply = NULL;
    const cJSON *secret;
    int rc = ctl_api_call(cmd, hub, token, method, path, body, &reply);
    cJSON_Delete(obj);
    cJSON_free(body);
    if (rc != CTL_OK)
        return rc;
    secret = secret_key ? cJSON_DetachItemFromObjectCaseSensitive(reply, secret_key) : NULL;
    text = cJSON_Print(reply);
    if (text)
        printf("%s\n", text);
    if (cJSON_IsString(secret))
        printf("%s (shown this once): %s\n", secret_what, secret->valuestring);
    cJSON_Delete((cJSON *)secret);
    cJSON_free(text);
    cJSON_Delete(reply);
    return CTL_OK;
}

/* The whole of path ("-": standard input), at most len - 1 bytes, into out. */
bool ctl_read_text(const char *cmd, const char *opt, const char *path, char *out, size_t len)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
    size_t n;
    if (!f) {
        fprintf(stderr, "%s: %s %s cannot be opened\n", cmd, opt, path);
        return false;
    }
    n = fread(out, 1, len - 1, f);
    out[n] = '\0';
    if (!feof(f)) {
        fprintf(stderr, "%s: %s %s is longer than %zu bytes\n", cmd, opt, path, len - 1);
        n = 0;
    }
    if (f != stdin)
        fclose(f);
    return n > 0 || out[0] == '\0';
}

/* "kind:value" or "all" into {"kind", "value"}; NULL (printed) if it is neither. */
cJSON *ctl_target_json(const char *cmd, const char *spec)
{
    const char *colon = strchr(spec, ':');
    cJSON *t = cJSON_CreateObject();
    if (!strcmp(spec, "all")) {
        cJSON_AddStringToObject(t, "kind", "all");
        return t;
    }
    if (colon && colon[1] &&
        (!strncmp(spec, "region:", 7) || !strncmp(spec, "tier:", 5) ||
         !strncmp(spec, "list:", 5))) {
        char kind[8];
        snprintf(kind, sizeof(kind), "%.*s", (int)(colon - spec), spec);
        cJSON_AddStringToObject(t, "kind", kind);
        cJSON_AddStringToObject(t, "value", colon + 1);
        return t;
    }
    cJSON_Delete(t);
    fprintf(stderr, "%s: --target is all, region:R, tier:T or list:A,B\n", cmd);
    return NULL;
}

bool ctl_check(bool ok, const char *what, const char *detail)
{
    printf("%s %s%s%s\n", ok ? "ok  " : "FAIL", what, detail && *detail ? ": " : "",
           detail ? detail : "");
    return ok;
}
