/*
** nslist.c: the PID namespaces visible to the caller, for ps_namespaces.
**
** One walk of /proc: each process's PID namespace inode (ns/pid), counted
** per namespace; the process whose innermost NSpid is 1 is the
** namespace's init, and its user namespace and cgroup are kept (container
** engines put the container's id in the cgroup path). A process whose
** ns/pid we may not read but whose NSpid has a single level is in the
** caller's own namespace.
*/
#include "snap.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The inode in a namespace link's target "pid:[4026531836]", or 0. */
static uint64_t link_inode(int dirfd, const char *path) {
  char buf[64];
  ssize_t n = readlinkat(dirfd, path, buf, sizeof buf - 1);
  if (n <= 0) return 0;
  buf[n] = '\0';
  const char *p = strchr(buf, '[');
  unsigned long long v;
  if (!p || (p++, !psnap_next_uint(&p, buf + n, &v))) return 0;
  return v;
}

/*
** The cgroup path that names a process's container: the cgroup v2 path
** ("0::/path") when it is not the root, else the first other non-root path.
*/
static char *cgroup_path(const char *text, size_t len) {
  const char *best = NULL, *p = text, *end = text + len;
  size_t best_n = 0;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *le = nl ? nl : end;
    const char *c1 = memchr(p, ':', (size_t)(le - p));
    const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(le - c1 - 1)) : NULL;
    if (c2 && le - c2 - 1 > 1) {
      int v2 = c1 == p + 1 && *p == '0' && c2 == c1 + 1;
      if (!best || v2) best = c2 + 1, best_n = (size_t)(le - c2 - 1);
      if (v2) break;
    }
    p = le + 1;
  }
  if (!best) return NULL;
  char *s = psnap_malloc(best_n + 1);
  if (s) memcpy(s, best, best_n), s[best_n] = '\0';
  return s;
}

static int by_inode(const void *a, const void *b) {
  const struct psnap_nsinfo *x = a, *y = b;
  return x->ns_pid < y->ns_pid ? -1 : x->ns_pid > y->ns_pid;
}

/* Free what psnap_namespaces() returned. */
void psnap_namespaces_free(struct psnap_nsinfo *v, size_t n) {
  for (size_t i = 0; v && i < n; i++) psnap_free(v[i].cgroup);
  psnap_free(v);
}

/*
** List the PID namespaces visible in /proc, sorted by inode. Returns 0 with
** *out and *n set, or -errno with err set.
*/
int psnap_namespaces(struct psnap_nsinfo **out, size_t *n, struct psnap_err *err) {
  *out = NULL;
  *n = 0;
  int procfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (procfd < 0) {
    int e = errno;
    snap_err(err, e, "cannot open /proc: %s", strerror(e));
    return -e;
  }
  uint64_t own = link_inode(procfd, "self/ns/pid");
  int fd = dup(procfd);
  DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
  if (!d) {
    if (fd >= 0) close(fd);
    close(procfd);
    snap_err(err, ENOMEM, "out of memory");
    return -ENOMEM;
  }
  struct psnap_nsinfo *v = NULL;
  size_t nv = 0, cap = 0;
  int rc = 0;
  struct psnap_buf b = {0};
  struct dirent *de;
  char path[48];
  while ((de = readdir(d)) != NULL) {
    const char *name = de->d_name;
    if (*name < '1' || *name > '9' || strlen(name) > 10) continue;
    snprintf(path, sizeof path, "%s/status", name);
    if (psnap_readat(procfd, path, 0, &b, 1u << 20) < 0) continue;
    struct psnap_status ss;
    psnap_parse_status(b.p, b.len, &ss);
    unsigned long long lv = 0, x;
    int levels = 0;
    const char *p = ss.nspid;
    while (p && psnap_next_uint(&p, ss.nspid + ss.nspid_len, &x)) lv = x, levels++;
    snprintf(path, sizeof path, "%s/ns/pid", name);
    uint64_t ino = link_inode(procfd, path);
    if (!ino && levels == 1) ino = own;
    if (!ino) continue;
    size_t i = 0;
    while (i < nv && v[i].ns_pid != ino) i++;
    if (i == nv) {
      if (nv == cap) {
        size_t ncap = cap ? cap * 2 : 16;
        void *nw = psnap_realloc(v, ncap * sizeof *v);
        if (!nw) {
          rc = -ENOMEM;
          break;
        }
        v = nw;
        cap = ncap;
      }
      memset(&v[nv], 0, sizeof v[nv]);
      v[nv++].ns_pid = ino;
    }
    v[i].nprocs++;
    if (lv == 1 && v[i].pid == 0) {
      v[i].pid = (int)strtol(name, NULL, 10);
      snprintf(path, sizeof path, "%s/ns/user", name);
      v[i].ns_user = link_inode(procfd, path);
      snprintf(path, sizeof path, "%s/comm", name);
      if (psnap_readat(procfd, path, 0, &b, 64) == 0) {
        size_t k = b.len;
        while (k > 0 && b.p[k - 1] == '\n') k--;
        if (k >= sizeof v[i].comm) k = sizeof v[i].comm - 1;
        memcpy(v[i].comm, b.p, k);
        v[i].comm[k] = '\0';
      }
      snprintf(path, sizeof path, "%s/cgroup", name);
      if (psnap_readat(procfd, path, 0, &b, 1u << 20) == 0) v[i].cgroup = cgroup_path(b.p, b.len);
    }
  }
  closedir(d);
  close(procfd);
  psnap_buf_free(&b);
  if (rc < 0) {
    psnap_namespaces_free(v, nv);
    snap_err(err, ENOMEM, "out of memory");
    return rc;
  }
  if (nv) qsort(v, nv, sizeof *v, by_inode);
  *out = v;
  *n = nv;
  return 0;
}
