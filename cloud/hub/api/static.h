/*
 * The dashboard's files, served by the hub's HTTP API: GET / (index.html)
 * and GET /static/<name> from one folder ([http] dashboard, by default
 * <folder of the executable>/../share/depot/dashboard, where the build and
 * `cmake --install` put cloud/dashboard/); the route table (routes.c) sends
 * those URLs to api_static_get.
 */
#ifndef HUB_STATIC_H
#define HUB_STATIC_H

#include <stdbool.h>
#include <stddef.h>

#include "depot/error.h"

typedef struct hub_static hub_static;

/*
 * Resolves the folder: dir if not empty, else the default beside the
 * executable. A missing folder is not an error (logged; every file is then
 * 404), so the API runs without a dashboard. DEPOT_ERR_NOMEM, DEPOT_ERR_CONFIG
 * (the path does not fit).
 */
depot_err hub_static_new(const char *dir, hub_static **out);

/* NULL is a no-op. */
void hub_static_free(hub_static *st);

/* The folder files are served from (for the log and the tests). */
const char *hub_static_dir(const hub_static *st);

/*
 * Maps a URL this module owns to a file name relative to the folder
 * ("/" -> "index.html", "/static/app.js" -> "app.js"). False for a name
 * that could leave the folder or is not a plain file name: anything but
 * [A-Za-z0-9._-] and "/", an empty segment, a segment starting with '.'.
 */
bool hub_static_file_name(const char *url, char *out, size_t len);

/* The Content-Type for a file name by its extension (application/octet-stream if unknown). */
const char *hub_static_content_type(const char *name);

#endif
