/*
 * A rebate statement's downloads (statements.h): CSV and PDF, both made
 * from the frozen JSON text alone, so what a dealer downloads is what the
 * hub signed.
 *
 * The PDF is PDF 1.4 written here: a catalog, a pages node, one page per
 * LINES_PER_PAGE lines (A4, Helvetica 9 pt, WinAnsi; bytes outside
 * printable ASCII are written as '?'), each with one content stream of
 * text-showing operators, a cross-reference table with the byte offset of
 * every object, and the trailer.
 */
#include "statements.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "depot/alloc.h"

#define LINES_PER_PAGE 60
#define FIELD_MAX 512

/* A growing buffer; failed after an allocation failed (then everything is ignored). */
struct out {
    char *p;
    size_t len, cap;
    bool failed;
};

static void put(struct out *o, const char *s, size_t n)
{
    if (o->failed)
        return;
    if (o->len + n + 1 > o->cap) {
        size_t cap = o->cap ? o->cap : 4096;
        char *q;
        while (cap < o->len + n + 1)
            cap *= 2;
        if (!(q = depot_realloc(o->p, cap))) {
            o->failed = true;
            return;
        }
        o->p = q;
        o->cap = cap;
    }
    memcpy(o->p + o->len, s, n);
    o->len += n;
    o->p[o->len] = '\0';
}

static void putf(struct out *o, const char *fmt, ...)
{
    char buf[FIELD_MAX * 2];
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n > 0)
        put(o, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

static depot_err finish(struct out *o, char **out, size_t *len)
{
    if (o->failed || !o->p) {
        depot_free(o->p);
        return DEPOT_ERR_NOMEM;
    }
    *out = o->p;
    *len = o->len;
    return DEPOT_OK;
}

/* The lines of a statement's text (root into *root, the caller deletes it); NULL if it is not a
 * statement. */
static const cJSON *lines_of(const char *content, cJSON **root)
{
    const cJSON *a;
    *root = cJSON_Parse(content);
    a = cJSON_GetObjectItemCaseSensitive(*root, "lines");
    return cJSON_IsArray(a) ? a : NULL;
}

bool hub_statement_has_line(const char *content, const char *key)
{
    cJSON *root;
    const cJSON *a = lines_of(content, &root), *l;
    bool found = false;
    cJSON_ArrayForEach(l, a)
    {
        const char *k = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(l, "key"));
        if (k && !strcmp(k, key)) {
            found = true;
            break;
        }
    }
    cJSON_Delete(root);
    return found;
}

/* Field name of line l as text into buf ("" when the line has none). */
static const char *field(const cJSON *l, const char *name, char *buf, size_t len)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(l, name);
    buf[0] = '\0';
    if (cJSON_IsString(v))
        snprintf(buf, len, "%s", v->valuestring);
    else if (cJSON_IsNumber(v))
        snprintf(buf, len, "%.15g", v->valuedouble);
    return buf;
}

/* ---- CSV ---- */

static const char *const columns[] = {"key",   "section", "item", "units",
                                      "price", "amount",  "value"};
#define N_COLUMNS (sizeof(columns) / sizeof(columns[0]))

/* A CSV field, quoted when it holds a comma, a quote or a line break (RFC 4180). */
static void csv_field(struct out *o, const char *v)
{
    if (!strpbrk(v, ",\"\r\n")) {
        put(o, v, strlen(v));
        return;
    }
    put(o, "\"", 1);
    for (; *v; v++)
        put(o, *v == '"' ? "\"\"" : v, *v == '"' ? 2 : 1);
    put(o, "\"", 1);
}

depot_err hub_statement_csv(const char *content, char **out, size_t *len)
{
    cJSON *root;
    const cJSON *a = lines_of(content, &root), *l;
    struct out o = {0};
    char buf[FIELD_MAX];
    if (!a) {
        cJSON_Delete(root);
        return DEPOT_ERR_PARSE;
    }
    put(&o, "key,section,item,units,price,amount,value\r\n", 43);
    cJSON_ArrayForEach(l, a)
    {
        for (size_t c = 0; c < N_COLUMNS; c++) {
            if (c)
                put(&o, ",", 1);
            csv_field(&o, field(l, columns[c], buf, sizeof(buf)));
        }
        put(&o, "\r\n", 2);
    }
    cJSON_Delete(root);
    return finish(&o, out, len);
}

/* ---- PDF ---- */

/* One line of text as a PDF string operand: ( ) \ escaped, other bytes outside printable ASCII
 * as '?'. */
static void pdf_text(struct out *o, const char *s)
{
    put(o, "(", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '(' || c == ')' || c == '\\') {
            put(o, "\\", 1);
            put(o, s, 1);
        } else if (c >= 0x20 && c < 0x7f)
            put(o, s, 1);
        else if (c < 0x80 || (c & 0xc0) == 0xc0)
            put(o, "?", 1); /* one '?' per character: UTF-8 continuation bytes are dropped */
    }
    put(o, ")", 1);
}

/* The text of line l as printed: section, item, then its figures. */
static void line_text(const cJSON *l, char *buf, size_t len)
{
    char f[FIELD_MAX], g[FIELD_MAX];
    snprintf(buf, len, "%-11s %s", field(l, "section", f, sizeof(f)),
             field(l, "item", g, sizeof(g)));
    if (*field(l, "units", f, sizeof(f)))
        snprintf(buf + strlen(buf), len - strlen(buf), "  units %s", f);
    if (*field(l, "price", f, sizeof(f)))
        snprintf(buf + strlen(buf), len - strlen(buf), "  x %s", f);
    if (*field(l, "amount", f, sizeof(f)))
        snprintf(buf + strlen(buf), len - strlen(buf), "  = %s", f);
    if (*field(l, "value", f, sizeof(f)))
        snprintf(buf + strlen(buf), len - strlen(buf), "  %s", f);
}

/* The content stream of one page: title then lines [first, first + n). */
static void page_stream(struct out *s, const char *title, const cJSON *a, int first, int n)
{
    char text[FIELD_MAX * 2];
    put(s, "BT /F1 9 Tf 11 TL 40 800 Td ", 28);
    pdf_text(s, title);
    put(s, " Tj T* T*\n", 10);
    for (int i = first; i < first + n; i++) {
        line_text(cJSON_GetArrayItem(a, i), text, sizeof(text));
        pdf_text(s, text);
        put(s, " Tj T*\n", 7);
    }
    put(s, "ET\n", 3);
}

struct pdf {
    struct out o;
    long *offset; /* of object i + 1 */
    int n_obj;
};

static void obj_begin(struct pdf *p, int num)
{
    p->offset[num - 1] = (long)p->o.len;
    putf(&p->o, "%d 0 obj\n", num);
}

/* Objects: 1 catalog, 2 pages, 3 font, then per page k: 4 + 2k page, 5 + 2k its content. */
static void pdf_objects(struct pdf *p, const char *title, const cJSON *a, int n_lines, int pages)
{
    obj_begin(p, 1);
    putf(&p->o, "<< /Type /Catalog /Pages 2 0 R >>\nendobj\n");
    obj_begin(p, 2);
    putf(&p->o, "<< /Type /Pages /Count %d /Kids [", pages);
    for (int k = 0; k < pages; k++)
        putf(&p->o, " %d 0 R", 4 + 2 * k);
    putf(&p->o, " ] >>\nendobj\n");
    obj_begin(p, 3);
    putf(&p->o, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica "
                "/Encoding /WinAnsiEncoding >>\nendobj\n");
    for (int k = 0; k < pages; k++) {
        struct out s = {0};
        int first = k * LINES_PER_PAGE;
        int n = n_lines - first < LINES_PER_PAGE ? n_lines - first : LINES_PER_PAGE;
        page_stream(&s, title, a, first, n);
        p->o.failed |= s.failed;
        obj_begin(p, 4 + 2 * k);
        putf(&p->o,
             "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
             "/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>\nendobj\n",
             5 + 2 * k);
        obj_begin(p, 5 + 2 * k);
        putf(&p->o, "<< /Length %zu >>\nstream\n", s.len);
        put(&p->o, s.p ? s.p : "", s.len);
        putf(&p->o, "\nendstream\nendobj\n");
        depot_free(s.p);
    }
}

static void pdf_xref(struct pdf *p)
{
    long xref = (long)p->o.len;
    putf(&p->o, "xref\n0 %d\n0000000000 65535 f \n", p->n_obj + 1);
    for (int i = 0; i < p->n_obj; i++)
        putf(&p->o, "%010ld 00000 n \n", p->offset[i]);
    putf(&p->o, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%ld\n%%%%EOF\n", p->n_obj + 1,
         xref);
}

depot_err hub_statement_pdf(const char *content, char **out, size_t *len)
{
    cJSON *root;
    const cJSON *a = lines_of(content, &root);
    struct pdf p = {0};
    char title[160], f[FIELD_MAX], g[FIELD_MAX];
    int n_lines, pages;
    if (!a) {
        cJSON_Delete(root);
        return DEPOT_ERR_PARSE;
    }
    n_lines = cJSON_GetArraySize(a);
    pages = n_lines ? (n_lines + LINES_PER_PAGE - 1) / LINES_PER_PAGE : 1;
    p.n_obj = 3 + 2 * pages;
    if (!(p.offset = depot_calloc((size_t)p.n_obj, sizeof(*p.offset)))) {
        cJSON_Delete(root);
        return DEPOT_ERR_NOMEM;
    }
    snprintf(title, sizeof(title), "Depot rebate statement: dealer %s, period %s",
             field(root, "dealer", f, sizeof(f)), field(root, "period", g, sizeof(g)));
    put(&p.o, "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", 15);
    pdf_objects(&p, title, a, n_lines, pages);
    pdf_xref(&p);
    depot_free(p.offset);
    cJSON_Delete(root);
    return finish(&p.o, out, len);
}
