/*
** format.c: SQL functions that print times the way procps ps does.
**
**   SELECT pid, ps_etime(etime), ps_cputime(time) FROM ps;
**   SELECT ps_etime(93784);     -- '1-02:03:04'
**   SELECT ps_etime(59.9);      -- '00:59'
**   SELECT ps_cputime(4);       -- '00:00:04'
**
** ps_etime(seconds)   -> [[dd-]hh:]mm:ss, as ps -o etime
** ps_cputime(seconds) -> [dd-]hh:mm:ss,   as ps -o time (cputime)
** Seconds are truncated to whole seconds, as ps does; negative values
** count as 0; NULL gives NULL; a value that is not a number is an error.
*/
#include "ps.h"

/* The argument as whole seconds, or -1 after reporting an error. */
static sqlite3_int64 seconds(sqlite3_context *ctx, sqlite3_value *v, const char *fn) {
  int t = sqlite3_value_numeric_type(v);
  if (t != SQLITE_INTEGER && t != SQLITE_FLOAT) {
    char *m = sqlite3_mprintf("%s: argument must be a number of seconds", fn);
    if (m)
      sqlite3_result_error(ctx, m, -1);
    else
      sqlite3_result_error_nomem(ctx);
    sqlite3_free(m);
    return -1;
  }
  double d = sqlite3_value_double(v);
  if (!(d > 0)) return 0;
  if (d > 9.2e18) d = 9.2e18;
  return (sqlite3_int64)d;
}

/* The two formats; the function's user data says which. */
struct timefmt {
  const char *name; /* the SQL function */
  int short_hours;  /* etime drops "hh:" under an hour; cputime never does */
};
static const struct timefmt etime_fmt = {"ps_etime", 1}, cputime_fmt = {"ps_cputime", 0};

/* ps_etime(seconds): [[dd-]hh:]mm:ss; ps_cputime(seconds): [dd-]hh:mm:ss */
static void fn_time(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  const struct timefmt *f = sqlite3_user_data(ctx);
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) return;
  sqlite3_int64 t = seconds(ctx, argv[0], f->name);
  if (t < 0) return;
  sqlite3_int64 ss = t % 60, mm = t / 60 % 60, hh = t / 3600 % 24, dd = t / 86400;
  char buf[64];
  if (dd)
    sqlite3_snprintf(sizeof buf, buf, "%lld-%02lld:%02lld:%02lld", dd, hh, mm, ss);
  else if (hh || !f->short_hours)
    sqlite3_snprintf(sizeof buf, buf, "%02lld:%02lld:%02lld", hh, mm, ss);
  else
    sqlite3_snprintf(sizeof buf, buf, "%02lld:%02lld", mm, ss);
  sqlite3_result_text(ctx, buf, -1, SQLITE_TRANSIENT);
}

/* Register the formatting functions. */
int ps_register_format(sqlite3 *db) {
  int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
  int rc = sqlite3_create_function(db, "ps_etime", 1, flags, (void *)&etime_fmt, fn_time, 0, 0);
  if (rc == SQLITE_OK) rc = sqlite3_create_function(db, "ps_cputime", 1, flags, (void *)&cputime_fmt, fn_time, 0, 0);
  return rc;
}
