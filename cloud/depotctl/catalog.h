/*
 * depotctl catalog: the CSV reader of catalog import, apart from the upload
 * so a file's checks can be run without a hub.
 */
#ifndef CTL_CATALOG_H
#define CTL_CATALOG_H

#include <cjson/cJSON.h>
#include <stdio.h>

/*
 * Reads and checks the catalog CSV f (path names it in messages): the JSON
 * list of items the hub takes (price as a decimal), or NULL after printing
 * every bad line as PATH:LINE: what on stderr.
 */
cJSON *ctl_catalog_read_csv(const char *path, FILE *f);

#endif
