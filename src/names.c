/*
** names.c: user, group and terminal names, resolved once per snapshot.
**
** On the host, names come from NSS (getpwuid_r/getgrgid_r), as ps(1) gets
** them, and are cached per snapshot: a scan of 2,000 processes asks NSS
** once per distinct id. Inside a container they come from the container's
** own /etc/passwd and /etc/group, lent (lend.c) and parsed as text
** (procfs.c): NSS there would load modules and configuration from the
** container into the host program. Terminal names come from the device
** number (pts/N) or one walk of the view's /dev.
*/
#include "snap.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* Look up id in a cache; *hit tells whether it was there. */
static const char *cache_find(const struct namecache *c, uint32_t id, int *hit) {
  for (size_t i = 0; i < c->n; i++)
    if (c->e[i].id == id) {
      *hit = 1;
      return c->e[i].name;
    }
  *hit = 0;
  return NULL;
}

/* Remember a name (or its absence, name NULL) for id; OOM marks s->nomem. */
static const char *cache_add(struct psnap *s, struct namecache *c, uint32_t id, const char *name) {
  if (c->n == c->cap) {
    size_t ncap = c->cap ? c->cap * 2 : 16;
    void *ne = psnap_realloc(c->e, ncap * sizeof *c->e);
    if (!ne) {
      s->nomem = 1;
      return NULL;
    }
    c->e = ne;
    c->cap = ncap;
  }
  char *copy = name ? psnap_strdup(name) : NULL;
  if (name && !copy) {
    s->nomem = 1;
    return NULL;
  }
  c->e[c->n].id = id;
  c->e[c->n].name = copy;
  c->n++;
  return copy;
}

/* A host user name through NSS, cached; NULL when there is none. */
const char *names_host_user(struct psnap *s, uint32_t uid) {
  int hit;
  const char *n = cache_find(&s->users, uid, &hit);
  if (hit) return n;
  char buf[4096];
  struct passwd pw, *res = NULL;
  if (getpwuid_r(uid, &pw, buf, sizeof buf, &res) != 0) res = NULL;
  return cache_add(s, &s->users, uid, res ? res->pw_name : NULL);
}

/* A host group name through NSS, cached; NULL when there is none. */
const char *names_host_group(struct psnap *s, uint32_t gid) {
  int hit;
  const char *n = cache_find(&s->groups, gid, &hit);
  if (hit) return n;
  /* Groups with many members need more room than users do. */
  size_t len = 16384;
  char *buf = NULL;
  struct group gr, *res = NULL;
  for (;;) {
    char *nb = psnap_realloc(buf, len);
    if (!nb) {
      /* not "no such group": nothing is cached, the column reports OOM */
      psnap_free(buf);
      s->nomem = 1;
      return NULL;
    }
    buf = nb;
    int rc = getgrgid_r(gid, &gr, buf, len, &res);
    if (rc == ERANGE && len < PSNAP_ETC_MAX) {
      len *= 4;
      continue;
    }
    if (rc != 0) res = NULL;
    break;
  }
  const char *out = cache_add(s, &s->groups, gid, res ? res->gr_name : NULL);
  psnap_free(buf);
  return out;
}

static void *grow_snapshot(void *ctx, void *p, size_t n) {
  (void)ctx;
  return psnap_realloc(p, n);
}

/* The host's terminal names: one walk of /dev on first use. */
const struct ttyname *names_host_ttys(struct psnap *s, size_t *n) {
  if (!s->have_tty) {
    s->have_tty = 1;
    /* the caller's /dev is trusted; a failure leaves names unknown ("?") */
    (void)lend_dev_walk(open("/dev", O_RDONLY | O_DIRECTORY | O_CLOEXEC), grow_snapshot, NULL, &s->tty, &s->ntty,
                        SIZE_MAX);
  }
  *n = s->ntty;
  return s->tty;
}

/*
** The name of terminal device dev in a table of /dev: NULL when it has
** none. Names that start with tty win over aliases such as console.
*/
const char *names_tty(const struct ttyname *t, size_t n, dev_t dev) {
  const char *best = NULL;
  for (size_t i = 0; i < n; i++)
    if (t[i].rdev == dev && (!best || strncmp(t[i].name, "tty", 3) == 0)) best = t[i].name;
  return best;
}

/* Free the name caches and the terminal table. */
void names_free(struct psnap *s) {
  for (size_t i = 0; i < s->users.n; i++) psnap_free(s->users.e[i].name);
  for (size_t i = 0; i < s->groups.n; i++) psnap_free(s->groups.e[i].name);
  psnap_free(s->users.e);
  psnap_free(s->groups.e);
  psnap_free(s->tty);
}
