/*
** ps.h: what the files of ext/ share. Every ext/ file includes this
** instead of <sqlite3ext.h>, so they all use the API routines handed to
** the entry point (ext/init.c).
*/
#ifndef PS_EXT_H
#define PS_EXT_H

#include <sqlite3ext.h>
SQLITE_EXTENSION_INIT3

int ps_register_table(sqlite3 *db);
int ps_register_descriptors(sqlite3 *db);
int ps_register_format(sqlite3 *db);
int ps_register_namespaces(sqlite3 *db);
int ps_register_fds(sqlite3 *db);

/* ext/values.c: constraint values as xFilter reads them */
char *ps_value_shown(sqlite3_value *v);
int ps_value_whole(sqlite3_value *v, long long *x);
int ps_value_each(sqlite3_value *arg, int whole, int (*fn)(void *, sqlite3_value *), void *ctx);

#endif
