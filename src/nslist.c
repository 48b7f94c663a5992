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

/* The walk's state: the namespaces found so far. */
struct nswalk {
  int procfd;
  uint64_t own;
  struct psnap_nsinfo *v;
  size_t nv, cap;
  struct psnap_buf b;
};

/* One process of the walk: count it in its namespace; note an init. */
static int ns_one(void *arg, int pid) {
  struct nswalk *w = arg;
  char path[48];
  snprintf(path, sizeof path, "%d/status", pid);
  if (psnap_readat(w->procfd, path, 0, &w->b, PSNAP_SMALL_MAX) < 0) return 0;
  struct psnap_status ss;
  psnap_parse_status(w->b.p, w->b.len, &ss);
  unsigned long long lv = 0;
  int levels = ss.nspid ? psnap_list_count(ss.nspid, ss.nspid_len) : 0;
  if (levels) psnap_list_at(ss.nspid, ss.nspid_len, levels - 1, &lv);
  snprintf(path, sizeof path, "%d/ns/pid", pid);
  uint64_t ino = link_inode(w->procfd, path);
  if (!ino && levels == 1) ino = w->own;
  if (!ino) return 0;
  size_t i = 0;
  while (i < w->nv && w->v[i].ns_pid != ino) i++;
  if (i == w->nv) {
    if (w->nv == w->cap) {
      size_t ncap = w->cap ? w->cap * 2 : 16;
      void *nw = psnap_realloc(w->v, ncap * sizeof *w->v);
      if (!nw) return -ENOMEM;
      w->v = nw;
      w->cap = ncap;
    }
    memset(&w->v[w->nv], 0, sizeof w->v[w->nv]);
    w->v[w->nv++].ns_pid = ino;
  }
  struct psnap_nsinfo *ns = &w->v[i];
  ns->nprocs++;
  if (lv != 1 || ns->pid != 0) return 0;
  ns->pid = pid;
  snprintf(path, sizeof path, "%d/ns/user", pid);
  ns->ns_user = link_inode(w->procfd, path);
  snprintf(path, sizeof path, "%d/comm", pid);
  if (psnap_readat(w->procfd, path, 0, &w->b, 64) == 0) {
    size_t k = w->b.len;
    while (k > 0 && w->b.p[k - 1] == '\n') k--;
    if (k >= sizeof ns->comm) k = sizeof ns->comm - 1;
    memcpy(ns->comm, w->b.p, k);
    ns->comm[k] = '\0';
  }
  snprintf(path, sizeof path, "%d/cgroup", pid);
  if (psnap_readat(w->procfd, path, 0, &w->b, PSNAP_SMALL_MAX) == 0) ns->cgroup = cgroup_path(w->b.p, w->b.len);
  return 0;
}

/*
** List the PID namespaces visible in /proc, sorted by inode. Returns 0 with
** *out and *n set, or -errno with err set.
*/
int psnap_namespaces(struct psnap_nsinfo **out, size_t *n, struct psnap_err *err) {
  *out = NULL;
  *n = 0;
  struct nswalk w = {.procfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (w.procfd < 0) {
    int e = errno;
    psnap_seterr(err, e, "cannot open /proc: %s", strerror(e));
    return -e;
  }
  w.own = link_inode(w.procfd, "self/ns/pid");
  int rc = psnap_walk_pids(w.procfd, ns_one, &w);
  close(w.procfd);
  psnap_buf_free(&w.b);
  if (rc < 0) {
    psnap_namespaces_free(w.v, w.nv);
    if (rc == -ENOMEM)
      psnap_seterr(err, ENOMEM, "out of memory");
    else
      psnap_seterr(err, -rc, "cannot list the processes in /proc: %s", strerror(-rc));
    return rc;
  }
  if (w.nv) qsort(w.v, w.nv, sizeof *w.v, by_inode);
  *out = w.v;
  *n = w.nv;
  return 0;
}
