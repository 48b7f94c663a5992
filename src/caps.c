/*
** caps.c: capability masks as psgo prints them, with names from libcap.
**
** psgo 1.7 has its own name list that stops at 37 and prints "unknown" for
** PERFMON, BPF and CHECKPOINT_RESTORE, so it never says "full" on current
** kernels. libcap's cap_to_name() knows every capability of its release
** and returns the number for the ones it does not.
*/
#include "procfs.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <unistd.h>

/*
** Fill cn with the name of every capability the running kernel knows
** (/proc/sys/kernel/cap_last_cap), upper case without "CAP_", and their
** order sorted by name. Returns 0 or -errno.
*/
int psnap_capnames_init(struct psnap_capnames *cn) {
  memset(cn, 0, sizeof *cn);
  struct psnap_buf b = {0};
  int last = CAP_LAST_CAP;
  if (psnap_readat(AT_FDCWD, "/proc/sys/kernel/cap_last_cap", 0, &b, 64) == 0) {
    const char *p = b.p;
    unsigned long long v;
    if (psnap_next_uint(&p, b.p + b.len, &v) && v < 64) last = (int)v;
  }
  psnap_buf_free(&b);
  cn->last_cap = last;
  cn->n = last + 1;
  for (int i = 0; i < cn->n; i++) {
    char *nm = cap_to_name((cap_value_t)i);
    if (!nm) return -ENOMEM;
    const char *s = nm;
    if (strncasecmp(s, "cap_", 4) == 0) s += 4;
    size_t k = 0;
    for (; k < sizeof cn->name[i] - 1 && s[k]; k++) cn->name[i][k] = (char)toupper((unsigned char)s[k]);
    cn->name[i][k] = '\0';
    cap_free(nm);
    cn->order[i] = (unsigned char)i;
  }
  /* Insertion sort: at most 64 names, and qsort has no context argument. */
  for (int i = 1; i < cn->n; i++) {
    unsigned char x = cn->order[i];
    int j = i;
    for (; j > 0 && strcmp(cn->name[cn->order[j - 1]], cn->name[x]) > 0; j--) cn->order[j] = cn->order[j - 1];
    cn->order[j] = x;
  }
  return 0;
}

/*
** Format a capability mask as psgo does: "full" when every capability the
** kernel knows is set, "none" when the mask is empty, otherwise the names
** in byte order joined by ','. Bits above cap_last_cap are ignored. Returns
** the length written (out is always NUL-terminated when cap > 0).
*/
size_t psnap_caps_format(const struct psnap_capnames *cn, uint64_t mask, char *out, size_t cap) {
  uint64_t all = cn->n >= 64 ? ~0ull : (1ull << cn->n) - 1;
  const char *whole = NULL;
  if ((mask & all) == all)
    whole = "full";
  else if ((mask & all) == 0)
    whole = "none";
  size_t len = 0;
  if (cap == 0) return 0;
  if (whole) {
    len = strlen(whole);
    if (len >= cap) len = cap - 1;
    memcpy(out, whole, len);
  } else {
    for (int k = 0; k < cn->n; k++) {
      int i = cn->order[k];
      if (!(mask & (1ull << i))) continue;
      size_t nl = strlen(cn->name[i]) + (len ? 1 : 0);
      if (len + nl >= cap) break;
      if (len) out[len++] = ',';
      memcpy(out + len, cn->name[i], strlen(cn->name[i]));
      len += strlen(cn->name[i]);
    }
  }
  out[len] = '\0';
  return len;
}
