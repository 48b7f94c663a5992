/*
** test_parsers.c: unit tests of the src/ parsers on recorded, truncated
** and hostile contents. Prints TAP ("ok N - name", "not ok N - name");
** exits 1 when a test failed. Run from the project root (fixtures are read
** from tests/fixtures).
*/
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "procfs.h"
#include "snap.h" /* the column getters on a hand-made row (groups, hgroups) */

static int n_test, n_fail;

static void check(int cond, const char *name) {
  n_test++;
  if (!cond) n_fail++;
  printf("%s %d - %s\n", cond ? "ok" : "not ok", n_test, name);
}

/* Compare strings, printing both on mismatch. */
static void check_str(const char *got, const char *want, const char *name) {
  int ok = got && strcmp(got, want) == 0;
  if (!ok) printf("# %s: got '%s', want '%s'\n", name, got ? got : "(null)", want);
  check(ok, name);
}

static int parse_stat(const char *text, struct psnap_stat *st) { return psnap_parse_stat(text, strlen(text), st); }

static void test_stat(void) {
  struct psnap_stat st;
  /* recorded from a real pid 1 */
  struct psnap_buf b = {0};
  int rc = psnap_readat(AT_FDCWD, "tests/fixtures/proc/1/stat", 0, &b, 1 << 20);
  check(rc == 0, "stat: read recorded file");
  check(rc == 0 && psnap_parse_stat(b.p, b.len, &st) == 0, "stat: recorded file parses");
  check(st.pid == 1 && strcmp(st.comm, "process_api") == 0 && st.state == 'S', "stat: pid, comm, state");
  check(st.ppid == 0 && st.pgrp == 0 && st.tty_nr == 0, "stat: ppid, pgrp, tty_nr");
  check(st.utime == 131 && st.stime == 282 && st.nice == -10 && st.num_threads == 13,
        "stat: utime, stime, nice, threads");
  check(st.start == 18 && st.vsize == 40808448ull && st.rss == 2550, "stat: start, vsize, rss");
  check(st.processor == 1, "stat: processor (39), after rsslim 2^64-1 (25)");
  check(st.exit_signal == 17, "stat: exit_signal (38) of a process: SIGCHLD");
  psnap_buf_free(&b);
  /* a file that stops at (24) parses, with psr unknown; (38) is not enough */
  check(parse_stat("9 (x) S 1 9 9 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 10 1", &st) == 0 && st.processor == -1,
        "stat: no (39): processor -1");
  check(st.exit_signal == 0, "stat: no (38): exit_signal 0 (a process, not a thread)");
  check(parse_stat("9 (x) S 1 9 9 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 10 1 0 0 0 0 0 0 0 0 0 0 0 0 0 17", &st) == 0 &&
            st.processor == -1,
        "stat: up to (38): processor -1");
  check(parse_stat("9 (x) S 1 9 9 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 10 1 0 0 0 0 0 0 0 0 0 0 0 0 0 17 63 0", &st) ==
                0 &&
            st.processor == 63,
        "stat: processor 63");
  /* a thread that does not lead its group: /proc/TID/stat of a non-leader */
  check(parse_stat("9 (x) S 1 9 9 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 10 1 0 0 0 0 0 0 0 0 0 0 0 0 0 -1 0", &st) == 0 &&
            st.exit_signal == -1,
        "stat: exit_signal -1 of a thread");
  check(parse_stat("9 (x) S 1 9 9 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 10 1 0 0 0 0 0 0 0 0 0 0 0 0 0 17 -4", &st) == 0 &&
            st.processor == -1,
        "stat: a negative processor is unknown");

  /* comm with parentheses and spaces: only the last ')' ends it */
  const char *hostile = "42 (a) (b c) R 1 42 42 34816 42 0 0 0 0 0 7 3 0 0 20 5 1 0 99 1000 12 0\n";
  check(parse_stat(hostile, &st) == 0 && strcmp(st.comm, "a) (b c") == 0, "stat: comm containing ') ('");
  check(st.state == 'R' && st.ppid == 1 && st.tty_nr == 34816 && st.nice == 5, "stat: fields after a hostile comm");
  check(parse_stat("7 (:-) 1 2 (x)) S 1 7 7 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 5 10 1", &st) == 0 &&
            strcmp(st.comm, ":-) 1 2 (x)") == 0 && st.utime == 1 && st.stime == 2,
        "stat: comm ':-) 1 2 (x)'");
  check(parse_stat("9 (new\nline) S 1 9 9 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 10 1", &st) == 0 &&
            strcmp(st.comm, "new\nline") == 0,
        "stat: comm with a newline");
  check(parse_stat("9 () Z 1 9 9 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0", &st) == 0 && st.comm[0] == '\0' &&
            st.state == 'Z',
        "stat: empty comm");
  /* a comm longer than the buffer is cut, not overflowed */
  char longc[300];
  snprintf(longc, sizeof longc, "5 (%0200d) S 1 5 5 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0", 0);
  check(parse_stat(longc, &st) == 0 && strlen(st.comm) == sizeof st.comm - 1, "stat: overlong comm clamped");
  /* truncated and malformed */
  check(parse_stat("", &st) == -EINVAL, "stat: empty file rejected");
  check(parse_stat("1 (init", &st) == -EINVAL, "stat: no closing ')' rejected");
  check(parse_stat("1 (init) S 0 1 1 0", &st) == -EINVAL, "stat: truncated after (7) rejected");
  check(parse_stat("1 (init) S 0 1 1 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 5 10", &st) == -EINVAL,
        "stat: missing (24) rejected");
  check(parse_stat("(x) S 0 1 1 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 5 10 1", &st) == -EINVAL, "stat: missing pid rejected");
  check(parse_stat("1 (x) S 0 1 1 0 -1 0 0 0 0 0 zz 2 0 0 20 0 1 0 5 10 1", &st) == -EINVAL,
        "stat: non-numeric field rejected");
  check(parse_stat("1 (x)", &st) == -EINVAL, "stat: no state rejected");
}

static void test_status(void) {
  struct psnap_buf b = {0};
  struct psnap_status ss;
  check(psnap_readat(AT_FDCWD, "tests/fixtures/proc/1/status", 0, &b, 1 << 20) == 0 &&
            psnap_parse_status(b.p, b.len, &ss) == 0,
        "status: recorded file parses");
  check(ss.have_ids && ss.uid[0] == 0 && ss.uid[1] == 0 && ss.gid[3] == 0, "status: Uid and Gid");
  check(ss.have_cap == 0x1f && ss.cap[PSNAP_CAPEFF] == 0x1ffffffffffull && ss.cap[PSNAP_CAPBND] == 0x1fffeffffffull &&
            ss.cap[PSNAP_CAPAMB] == 0,
        "status: capability masks");
  check(ss.seccomp == 0 && ss.nspid != NULL, "status: Seccomp and NSpid");
  const char *p = ss.groups;
  unsigned long long g;
  check(p && !psnap_next_uint(&p, ss.groups + ss.groups_len, &g), "status: empty Groups");
  psnap_buf_free(&b);

  const char *t = "Name:\tx\nUid:\t1000\t1001\t1002\t1003\nGid:\t5\t6\t7\t8\nGroups:\t4 24 27 \n"
                  "NSpid:\t4242\t17\t1\nVmRSS:\t    1684 kB\nCapEff:\t0000000000000003\nSeccomp:\t2\n";
  psnap_parse_status(t, strlen(t), &ss);
  check(ss.have_ids && ss.uid[0] == 1000 && ss.uid[1] == 1001 && ss.gid[1] == 6, "status: real and effective ids");
  p = ss.groups;
  unsigned long long v[4];
  int n = 0;
  while (n < 4 && psnap_next_uint(&p, ss.groups + ss.groups_len, &v[n])) n++;
  check(n == 3 && v[0] == 4 && v[1] == 24 && v[2] == 27, "status: Groups list");
  p = ss.nspid;
  n = 0;
  while (n < 4 && psnap_next_uint(&p, ss.nspid + ss.nspid_len, &v[n])) n++;
  check(n == 3 && v[0] == 4242 && v[2] == 1, "status: NSpid levels");
  check(ss.have_cap == (1u << PSNAP_CAPEFF) && ss.cap[PSNAP_CAPEFF] == 3 && ss.seccomp == 2,
        "status: only the present cap lines");
  check(ss.vmrss == 1684 && ss.nonewprivs == -1, "status: VmRSS in KiB; absent NoNewPrivs");
  /* truncated in the middle of Uid: no ids, no crash */
  const char *tr = "Name:\tx\nUid:\t1000\t10";
  psnap_parse_status(tr, strlen(tr), &ss);
  check(!ss.have_ids && ss.seccomp == -1 && ss.groups == NULL && ss.vmrss == -1,
        "status: truncated file leaves ids unknown");
  psnap_parse_status("", 0, &ss);
  check(!ss.have_ids && ss.have_cap == 0, "status: empty file");
}

static void test_idmap(void) {
  struct psnap_idmap m;
  const char *t = "         0     300000      70000\n";
  psnap_parse_idmap(t, strlen(t), &m);
  check(m.n == 1 && m.e[0].inside == 0 && m.e[0].outside == 300000 && m.e[0].count == 70000, "idmap: one extent");
  check(psnap_idmap_in(&m, 301000, 65534) == 1000, "idmap: host 301000 -> 1000");
  check(psnap_idmap_in(&m, 300000, 65534) == 0, "idmap: first id");
  check(psnap_idmap_in(&m, 369999, 65534) == 69999, "idmap: last id");
  check(psnap_idmap_in(&m, 370000, 65534) == 65534 && psnap_idmap_in(&m, 0, 65534) == 65534,
        "idmap: unmapped ids give the overflow id");
  const char *id = "0 0 4294967295\n";
  psnap_parse_idmap(id, strlen(id), &m);
  check(psnap_idmap_in(&m, 4294967294u, 65534) == 4294967294u, "idmap: identity map");
  const char *junk = "garbage\n1 2\n0 1000 1\n\n5 2000 10";
  psnap_parse_idmap(junk, strlen(junk), &m);
  check(m.n == 2 && psnap_idmap_in(&m, 1000, 9) == 0 && psnap_idmap_in(&m, 2003, 9) == 8, "idmap: junk lines skipped");
}

static void test_idtab(void) {
  struct psnap_idtab t;
  const char *pw = "root:x:0:0:root:/root:/bin/bash\n"
                   "# comment:x:5:\n"
                   "someone:x:1000:1000::/home/someone:/bin/sh\n"
                   "dup:x:1000:1000::/:/bin/sh\n"
                   "+nis:x:7:\n"
                   "bad:x:notanumber:\n"
                   "big:x:99999999999:\n"
                   "wrap:x:18446744073709551623:\n"             /* 2^64 + 7 must not read as 7 */
                   "nobody:x:65534:65534::/:/usr/sbin/nologin"; /* no final newline */
  check(psnap_idtab_parse(&t, pw, strlen(pw)) == 0, "idtab: parses");
  check_str(psnap_idtab_find(&t, 0), "root", "idtab: root");
  check_str(psnap_idtab_find(&t, 1000), "someone", "idtab: first entry of a duplicated id wins");
  check_str(psnap_idtab_find(&t, 65534), "nobody", "idtab: last line without newline");
  check(psnap_idtab_find(&t, 7) == NULL && psnap_idtab_find(&t, 5) == NULL, "idtab: NIS and comment lines ignored");
  check(psnap_idtab_find(&t, 3) == NULL, "idtab: absent id");
  check(psnap_idtab_find(&t, 7) == NULL, "idtab: an id past 2^64 does not wrap around");
  psnap_idtab_free(&t);

  /* binary bytes and a NUL inside a line: that line is dropped */
  const char bin[] = "ok:x:1:\nev\0il:x:2:\n\xff\xfe:x:3:\n";
  check(psnap_idtab_parse(&t, bin, sizeof bin - 1) == 0, "idtab: binary file parses");
  check_str(psnap_idtab_find(&t, 1), "ok", "idtab: line before binary bytes");
  check(psnap_idtab_find(&t, 2) == NULL, "idtab: line with NUL dropped");
  check_str(psnap_idtab_find(&t, 3), "\xff\xfe", "idtab: non-UTF-8 name kept as bytes");
  psnap_idtab_free(&t);

  /* a huge line: its name is no name, and the line after it still parses */
  size_t big = 4u << 20;
  char *h = malloc(big + 32);
  memset(h, 'a', big);
  strcpy(h + big, ":x:77:\nb:x:78:\n");
  check(psnap_idtab_parse(&t, h, strlen(h)) == 0 && psnap_idtab_find(&t, 77) == NULL,
        "idtab: a 4 MiB name is no entry");
  check_str(psnap_idtab_find(&t, 78), "b", "idtab: line after a huge line");
  psnap_idtab_free(&t);
  free(h);

  /* the name bound, PSNAP_NAME_MAX bytes: passwd and group lines alike */
  char *b = malloc(8 * (PSNAP_NAME_MAX + 64));
  char n256[PSNAP_NAME_MAX + 1], n257[PSNAP_NAME_MAX + 2];
  memset(n256, 'u', PSNAP_NAME_MAX);
  n256[PSNAP_NAME_MAX] = '\0';
  memset(n257, 'v', PSNAP_NAME_MAX + 1);
  n257[PSNAP_NAME_MAX + 1] = '\0';
  snprintf(b, 8 * (PSNAP_NAME_MAX + 64),
           "%s:x:0:0::/:/bin/sh\n%s:x:1000:1000::/:/bin/sh\n%s:x:5:\n%s:x:6:someone\n%s:x:7:\nseven:x:7:\n", n256, n257,
           n256, n257, n257);
  check(psnap_idtab_parse(&t, b, strlen(b)) == 0, "idtab: names at the bound parse");
  check_str(psnap_idtab_find(&t, 0), n256, "idtab: a passwd name of PSNAP_NAME_MAX bytes is an entry");
  check(psnap_idtab_find(&t, 1000) == NULL, "idtab: a passwd name of PSNAP_NAME_MAX + 1 bytes is none");
  check_str(psnap_idtab_find(&t, 5), n256, "idtab: a group name of PSNAP_NAME_MAX bytes is an entry");
  check(psnap_idtab_find(&t, 6) == NULL, "idtab: a group name of PSNAP_NAME_MAX + 1 bytes is none");
  check_str(psnap_idtab_find(&t, 7), "seven",
            "idtab: after a line whose name is too long, the next line of its id wins");
  check(t.n == 3, "idtab: the lines with names too long are no entries");
  psnap_idtab_free(&t);
  free(b);
  check(psnap_idtab_parse(&t, "", 0) == 0 && t.n == 0 && psnap_idtab_find(&t, 0) == NULL, "idtab: empty file");
  psnap_idtab_free(&t);
}

/* One text column of the row in s, as a NUL-terminated string (NULL: NULL). */
static const char *column(struct psnap *s, int col) {
  struct psnap_value v;
  memset(&v, 0, sizeof v);
  v.type = PSNAP_NULL;
  psnap_cols[col].get(s, &v);
  return v.type == PSNAP_TEXT ? v.s : NULL;
}

/* Set the row's status to "Groups:\t" + groups (psnap_parse_status keeps pointers into it). */
static void row_groups(struct psnap *s, struct psnap_buf *b, const char *groups) {
  size_t n = strlen(groups);
  b->p = realloc(b->p, n + 16);
  b->len = (size_t)snprintf(b->p, n + 16, "Groups:\t%s\n", groups);
  psnap_parse_status(b->p, b->len, &s->ss);
}

static void test_groups(void) {
  static struct psnap s; /* large: not on the stack */
  struct psnap_buf st = {0};
  char *list = malloc(1 << 20), *want = malloc(1 << 20), *gr = malloc(1 << 20);
  s.view = &ns_pidns_view; /* names from the lent group file */
  /* a map of two extents, the second mapping lower host gids higher */
  s.gidmap.n = 2;
  s.gidmap.e[0].inside = 0, s.gidmap.e[0].outside = 2000, s.gidmap.e[0].count = 1000;
  s.gidmap.e[1].inside = 5000, s.gidmap.e[1].outside = 1000, s.gidmap.e[1].count = 1000;
  s.overflowgid = 65534;
  const char *g = "root:x:0:\nfive:x:5000:\nfive-one:x:5001:someone\n";
  psnap_idtab_parse(&s.lent.gr, g, strlen(g));

  /* repeats, as setgroups(2) keeps them (sorted by host gid) */
  row_groups(&s, &st, "1000 1000 1001 2000 2000 2000 9999 9999 ");
  check_str(column(&s, PSNAP_COL_GROUPS), "root,five,five-one,65534",
            "groups: each group once, by the view's gid (two host gids unmapped: one overflow gid)");
  check_str(column(&s, PSNAP_COL_HGROUPS), "1000,1001,2000,9999", "hgroups: each host gid once");
  size_t n = 0;
  for (int i = 0; i < 65536; i++) n += (size_t)sprintf(list + n, "2000 ");
  row_groups(&s, &st, list);
  check_str(column(&s, PSNAP_COL_GROUPS), "root", "groups: one gid held 65536 times (NGROUPS_MAX) is one entry");
  check_str(column(&s, PSNAP_COL_HGROUPS), "2000", "hgroups: one gid held 65536 times is one entry");
  row_groups(&s, &st, "");
  check_str(column(&s, PSNAP_COL_GROUPS), "", "groups: none is ''");
  check_str(column(&s, PSNAP_COL_HGROUPS), "", "hgroups: none is ''");

  /* the cut: 300 groups of PSNAP_NAME_MAX-byte names; whole entries up to
     PSNAP_GROUPS_MAX bytes, then ",+N" */
  psnap_idtab_free(&s.lent.gr);
  s.gidmap.n = 1; /* the identity */
  s.gidmap.e[0].inside = s.gidmap.e[0].outside = 0, s.gidmap.e[0].count = UINT32_MAX;
  size_t gl = 0, wl = 0;
  n = 0;
  unsigned keep = (PSNAP_GROUPS_MAX + 1) / (PSNAP_NAME_MAX + 1); /* k names and k - 1 commas fit */
  for (unsigned i = 0; i < 300; i++) {
    char name[PSNAP_NAME_MAX + 1];
    memset(name, 'a' + i % 26, PSNAP_NAME_MAX);
    snprintf(name + PSNAP_NAME_MAX - 3, 4, "%03u", i);
    gl += (size_t)sprintf(gr + gl, "%s:x:%u:\n", name, 3000 + i);
    n += (size_t)sprintf(list + n, "%u ", 3000 + i);
    if (i < keep) wl += (size_t)sprintf(want + wl, "%s%s", i ? "," : "", name);
  }
  sprintf(want + wl, ",+%u", 300 - keep);
  psnap_idtab_parse(&s.lent.gr, gr, gl);
  row_groups(&s, &st, list);
  const char *got = column(&s, PSNAP_COL_GROUPS);
  check(got && strcmp(got, want) == 0 && wl <= PSNAP_GROUPS_MAX,
        "groups: cut after the whole names that fit in PSNAP_GROUPS_MAX bytes, then ',+N' for the rest");
  /* 10000 host gids of 6 digits: 9362 fit, with their commas */
  n = wl = 0;
  keep = (PSNAP_GROUPS_MAX + 1) / 7;
  for (unsigned i = 0; i < 10000; i++) {
    n += (size_t)sprintf(list + n, "%u ", 100000 + i);
    if (i < keep) wl += (size_t)sprintf(want + wl, "%s%u", i ? "," : "", 100000 + i);
  }
  sprintf(want + wl, ",+%u", 10000 - keep);
  row_groups(&s, &st, list);
  got = column(&s, PSNAP_COL_HGROUPS);
  check(got && strcmp(got, want) == 0, "hgroups: cut after the gids that fit in PSNAP_GROUPS_MAX bytes, then ',+N'");

  psnap_idtab_free(&s.lent.gr);
  psnap_buf_free(&s.scratch);
  free(st.p);
  free(list);
  free(want);
  free(gr);
}

static void test_caps(void) {
  struct psnap_capnames cn;
  char out[2048];
  check(psnap_capnames_init(&cn) == 0, "caps: names from libcap");
  check(cn.n >= 38, "caps: kernel knows at least 38 capabilities");
  check_str(cn.name[0], "CHOWN", "caps: 0 is CHOWN");
  check_str(cn.name[21], "SYS_ADMIN", "caps: 21 is SYS_ADMIN");
  if (cn.n > 40) {
    check_str(cn.name[38], "PERFMON", "caps: 38 is PERFMON");
    check_str(cn.name[39], "BPF", "caps: 39 is BPF");
    check_str(cn.name[40], "CHECKPOINT_RESTORE", "caps: 40 is CHECKPOINT_RESTORE");
  }
  psnap_caps_format(&cn, 0, out, sizeof out);
  check_str(out, "none", "caps: empty mask is none");
  uint64_t all = (cn.n >= 64) ? ~0ull : (1ull << cn.n) - 1;
  psnap_caps_format(&cn, all, out, sizeof out);
  check_str(out, "full", "caps: every known capability is full");
  psnap_caps_format(&cn, ~0ull, out, sizeof out);
  check_str(out, "full", "caps: bits above cap_last_cap are ignored");
  psnap_caps_format(&cn, (1ull << 21) | (1ull << 0) | (1ull << 29), out, sizeof out);
  check_str(out, "AUDIT_WRITE,CHOWN,SYS_ADMIN", "caps: names sorted in byte order");
  psnap_caps_format(&cn, all & ~(1ull << 24), out, sizeof out);
  check(strstr(out, "SYS_RESOURCE") == NULL && strstr(out, "SYS_RAWIO") != NULL &&
            strncmp(out, "AUDIT_CONTROL,", 14) == 0,
        "caps: all but one is listed, not full");
  psnap_caps_format(&cn, all, out, 3);
  check(strlen(out) == 2, "caps: output clamped to its buffer");
}

static void test_status_memory(void) {
  struct psnap_buf b = {0};
  struct psnap_status ss;
  check(psnap_readat(AT_FDCWD, "tests/fixtures/proc/1/status", 0, &b, 1 << 20) == 0 &&
            psnap_parse_status(b.p, b.len, &ss) == 0,
        "status: recorded file parses (memory)");
  check(ss.vmswap == 0 && ss.rssfile == 8 && ss.rssshmem == 6324, "status: VmSwap, RssFile, RssShmem");
  check(ss.cpus && ss.cpus_len == 3 && memcmp(ss.cpus, "0-1", 3) == 0, "status: Cpus_allowed_list");
  check(ss.vcsw == 339 && ss.nvcsw == 49, "status: voluntary and nonvoluntary context switches");
  psnap_buf_free(&b);
  const char *big = "voluntary_ctxt_switches:\t18446744073709551615\nnonvoluntary_ctxt_switches:\t4294967296\n";
  check(psnap_parse_status(big, strlen(big), &ss) == 0 && ss.vcsw == LLONG_MAX && ss.nvcsw == 4294967296LL,
        "status: context switches past 32 bits; past LLONG_MAX saturate");
  const char *kthread = "Name:\tkthreadd\nCpus_allowed_list:\t0-3,6\n";
  check(psnap_parse_status(kthread, strlen(kthread), &ss) == 0 && ss.vmswap == -1 && ss.rssfile == -1 &&
            ss.rssshmem == -1 && ss.vcsw == -1 && ss.nvcsw == -1 && ss.cpus_len == 5 &&
            memcmp(ss.cpus, "0-3,6", 5) == 0,
        "status: a kernel thread has no Vm lines");
}

static void test_fields(void) {
  static const char *const sm[] = {"Pss", "Private_Clean", "Private_Dirty", "Swap"};
  static const char *const io[] = {"rchar", "wchar", "read_bytes", "write_bytes", "syscr", "syscw"};
  long long v[6];
  struct psnap_buf b = {0};
  check(psnap_readat(AT_FDCWD, "tests/fixtures/proc/1/smaps_rollup", 0, &b, 1 << 20) == 0 &&
            psnap_parse_fields(b.p, b.len, sm, 4, v) == 4,
        "smaps_rollup: recorded file parses");
  check(v[0] == 268 && v[1] == 40 && v[2] == 108 && v[3] == 0, "smaps_rollup: Pss (not Pss_Dirty), Private_*, Swap");
  check(psnap_readat(AT_FDCWD, "tests/fixtures/proc/1/io", 0, &b, 1 << 20) == 0 &&
            psnap_parse_fields(b.p, b.len, io, 6, v) == 6,
        "io: recorded file parses");
  check(v[0] == 6976 && v[1] == 0 && v[2] == 69632 && v[3] == 4096 && v[4] == 10 && v[5] == 0, "io: the six counters");
  psnap_buf_free(&b);
  const char *odd = "xrchar: 1\nrchar 2\nwchar: 99999999999999999999999\nrchar: 3\nrchar: 4\nsyscr:";
  check(psnap_parse_fields(odd, strlen(odd), io, 6, v) == 2 && v[0] == 3 && v[1] == 9223372036854775807LL &&
            v[2] == -1 && v[4] == -1,
        "fields: whole keys at line starts, first wins, saturated, empty value absent");
  check(psnap_parse_fields("", 0, io, 6, v) == 0 && v[0] == -1, "fields: empty file (a kernel thread's smaps_rollup)");
  long long x;
  check(psnap_parse_long("-1000\n", 6, &x) == 1 && x == -1000, "long: oom_score_adj -1000");
  check(psnap_parse_long("666\n", 4, &x) == 1 && x == 666, "long: oom_score 666");
  check(psnap_parse_long("", 0, &x) == 0 && psnap_parse_long("12x\n", 4, &x) == 0 &&
            psnap_parse_long("-\n", 2, &x) == 0,
        "long: empty, trailing junk, a lone sign");
}

/* Container ids and pod UIDs in cgroup paths recorded from each engine. */
static void test_container(void) {
  static const char *const H = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  char id[PSNAP_CONTAINER_ID_LEN + 1], pod[PSNAP_POD_UID_LEN + 1], text[512];
  static const struct {
    const char *fmt, *name;
    int want;
  } cases[] = {
      {"0::/machine.slice/libpod-%s.scope\n", "podman, systemd, v2", 1},
      {"0::/machine.slice/libpod-%s.scope/container\n", "podman, systemd, split cgroups", 1},
      {"4:memory:/libpod_parent/libpod-%s\n0::/\n", "podman, cgroupfs, v1", 1},
      {"0::/machine.slice/libpod-conmon-%s.scope\n", "podman's conmon: not the container", 0},
      {"0::/system.slice/docker-%s.scope\n", "docker, systemd", 1},
      {"12:pids:/docker/%s\n11:memory:/docker/%s\n", "docker, cgroupfs, v1", 1},
      {"0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod0a1b2c3d_4e5f_6789_abcd_ef0123456789.slice/"
       "cri-containerd-%s.scope\n",
       "containerd, systemd, besteffort pod", 3},
      {"0::/kubepods/besteffort/pod0a1b2c3d-4e5f-6789-abcd-ef0123456789/%s\n", "containerd, cgroupfs", 3},
      {"0::/kubepods.slice/kubepods-pod0a1b2c3d_4e5f_6789_abcd_ef0123456789.slice/crio-%s.scope\n",
       "CRI-O, guaranteed pod", 3},
      {"0::/kubepods.slice/kubepods-pod0a1b2c3d_4e5f_6789_abcd_ef0123456789.slice/crio-conmon-%s.scope\n",
       "CRI-O's conmon: the pod only", 2},
      {"0::/user.slice/user-1000.slice/session-2.scope\n", "a login session", 0},
      {"0::/docker/%.63s\n", "63 hex digits", 0},
      {"0::/machine.slice/libpod-%s.scope/libpod-fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210\n",
       "a cgroup the container made below its own names no other container", 1},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int n = snprintf(text, sizeof text, cases[i].fmt, H, H);
    int got = psnap_parse_container(text, (size_t)n, id, pod);
    int ok = got == cases[i].want && (!(got & 1) || strcmp(id, H) == 0) &&
             (!(got & 2) || strcmp(pod, "0a1b2c3d-4e5f-6789-abcd-ef0123456789") == 0) && (got & 1 || !id[0]) &&
             (got & 2 || !pod[0]);
    if (!ok) printf("# %s: got %d id '%s' pod '%s'\n", cases[i].name, got, id, pod);
    check(ok, cases[i].name);
  }
}

/* The registry's layout past colUsed's 63 bits (see src/columns.h). */
static void test_registry_layout(void) {
  int ok = 1, io = 0, raw = 0, args = 1;
  for (int i = 0; i < PSNAP_COL__COUNT; i++) {
    const struct psnap_desc *d = &psnap_cols[i];
    size_t n = strlen(d->name);
    int is_raw = n > 4 && strcmp(d->name + n - 4, "_raw") == 0;
    /* from 63 on: the io group, then the hidden _raw BLOBs */
    if (i >= 63 && !(d->flags & PSNAP_F_HIDDEN) && d->src != PSNAP_SRC_IO) ok = 0;
    if (i >= 63 && (d->flags & PSNAP_F_HIDDEN) && !is_raw) ok = 0;
    if (d->src == PSNAP_SRC_IO) io++;
    if (is_raw) {
      raw++;
      /* HIDDEN BLOB, past 62 (read on first use), with its text twin's sources */
      int twin = -1;
      for (int k = 0; k < PSNAP_COL__COUNT; k++)
        if (strlen(psnap_cols[k].name) == n - 4 && strncmp(psnap_cols[k].name, d->name, n - 4) == 0) twin = k;
      if (!(d->flags & PSNAP_F_HIDDEN) || strcmp(d->type, "BLOB") != 0 || i < 63 || twin < 0 ||
          psnap_cols[twin].src != d->src || strcmp(psnap_cols[twin].type, "TEXT") != 0)
        ok = 0;
    }
  }
  /* the arguments are the first hidden columns, in this order, below 63 */
  for (int i = 0; i < PSNAP_COL_PIDNS; i++)
    if (psnap_cols[i].flags & PSNAP_F_HIDDEN) args = 0;
  args = args && PSNAP_COL_SAMPLE == PSNAP_COL_PIDNS + 1 && PSNAP_COL_SAMPLE < 63;
  check(ok && raw == 4, "registry: from 63 on the io group, then the four hidden _raw BLOBs with their twins' sources");
  check(args, "registry: pidns then sample are the first hidden columns, below 63");
  check(PSNAP_COL__COUNT > 63 && psnap_cols_src(1ull << 63) == (PSNAP_SRC_STAT | PSNAP_SRC_IO) && io == 6,
        "registry: colUsed bit 63 asks for stat and io only");
  int tok = psnap_thread_cols[PSNAP_TCOL_COMM_RAW].src == psnap_thread_cols[PSNAP_TCOL_COMM].src &&
            PSNAP_TCOL_COMM_RAW > PSNAP_TCOL_SAMPLE && PSNAP_TCOL_SAMPLE == PSNAP_TCOL_PIDNS + 1 &&
            (psnap_thread_cols[PSNAP_TCOL_COMM_RAW].flags & PSNAP_F_HIDDEN);
  check(tok, "registry: ps_threads' comm_raw is hidden, after pidns and sample, with comm's sources");
}

static void test_readfd(void) {
  int p[2];
  check(pipe(p) == 0, "readfd: pipe");
  char chunk[1000];
  memset(chunk, 'x', sizeof chunk);
  if (fork() == 0) {
    close(p[0]);
    for (int i = 0; i < 20; i++)
      if (write(p[1], chunk, sizeof chunk) < 0) _exit(1);
    _exit(0);
  }
  close(p[1]);
  struct psnap_buf b = {0};
  check(psnap_readfd(p[0], &b, 1 << 20) == 0 && b.len == 20000 && b.p[b.len] == '\0', "readfd: grows to 20000 bytes");
  close(p[0]);
  check(psnap_readat(AT_FDCWD, "tests/fixtures/proc/1/stat", 0, &b, 10) == 0 && b.len == 10,
        "readfd: stops at max bytes");
  check(psnap_readat(AT_FDCWD, "tests/fixtures/none", 0, &b, 10) == -ENOENT, "readat: -ENOENT for a missing file");
  psnap_buf_free(&b);
}

/* Files opened by a one-process snapshot: the counter proves lazy reading. */
static unsigned long opened_for(unsigned src) {
  long long me = getpid();
  struct psnap_cfg cfg = {.src = src, .pids = &me, .npids = 1};
  struct psnap *s;
  struct psnap_err err;
  if (psnap_open(&s, &cfg, &err) < 0) return 0;
  int rows = 0;
  while (psnap_next(s) > 0) rows++;
  unsigned long n = rows == 1 ? psnap_files_opened(s) : 0;
  psnap_close(s);
  return n;
}

/*
** The _raw columns past 62 read their file on first use: a scan through
** colUsed's bit 63 opens /proc, PID/, stat and io; args_raw then opens
** cmdline once (twice asked, one open), and gives its bytes exactly.
*/
static void test_first_use(void) {
  long long me = getpid();
  struct psnap_cfg cfg = {.src = psnap_cols_src(1ull << 63), .pids = &me, .npids = 1};
  struct psnap *s;
  struct psnap_err err;
  struct psnap_buf want = {0};
  int ok = psnap_readat(AT_FDCWD, "/proc/self/cmdline", 0, &want, 1 << 20) == 0;
  check(ok && psnap_open(&s, &cfg, &err) == 0, "first use: a snapshot of this process");
  if (!ok) return;
  struct psnap_value v, v2, c;
  int row = psnap_next(s) == 1;
  unsigned long before = psnap_files_opened(s);
  int r1 = psnap_column(s, PSNAP_COL_ARGS_RAW, &v);
  int r2 = psnap_column(s, PSNAP_COL_ARGS_RAW, &v2);
  unsigned long after = psnap_files_opened(s);
  check(row && before == 4 && after == 5 && r1 == 0 && r2 == 0, "first use: args_raw opens cmdline once, when asked");
  check(v2.type == PSNAP_BLOB && v2.n == want.len && memcmp(v2.s, want.p, want.len) == 0,
        "first use: args_raw is cmdline's bytes, NULs included");
  psnap_column(s, PSNAP_COL_ARGS, &c);
  psnap_column(s, PSNAP_COL_ARGS_RAW, &v);
  check(c.type == PSNAP_TEXT && v.type == PSNAP_BLOB && v.n == want.len && memcmp(v.s, want.p, want.len) == 0,
        "first use: args leaves args_raw's bytes as read");
  psnap_column(s, PSNAP_COL_CWD_RAW, &v);
  char cwd[4096];
  ssize_t n = readlink("/proc/self/cwd", cwd, sizeof cwd);
  check(v.type == PSNAP_BLOB && n > 0 && v.n == (size_t)n && memcmp(v.s, cwd, v.n) == 0 &&
            psnap_files_opened(s) == after + 1,
        "first use: cwd_raw reads the cwd link once");
  check(psnap_next(s) == 0, "first use: one row");
  psnap_close(s);
  /* a stat-only scan has no directory open: the column is NULL, nothing is read */
  cfg.src = PSNAP_SRC_STAT;
  check(psnap_open(&s, &cfg, &err) == 0 && psnap_next(s) == 1, "first use: a stat-only snapshot");
  psnap_column(s, PSNAP_COL_EXE_RAW, &v);
  psnap_column(s, PSNAP_COL_COMM_RAW, &c);
  check(v.type == PSNAP_NULL && psnap_files_opened(s) == 2 && c.type == PSNAP_BLOB && c.n > 0,
        "first use: without the row's directory exe_raw is NULL; comm_raw comes from stat");
  psnap_close(s);
  psnap_buf_free(&want);
}

static void test_lazy(void) {
  /* /proc, then PID/stat directly: no directory fd for one file */
  check(opened_for(PSNAP_SRC_STAT) == 2, "lazy: stat only opens /proc and PID/stat");
  /* /proc, PID/, stat, status */
  check(opened_for(PSNAP_SRC_STATUS) == 4, "lazy: status adds the PID directory and status");
  check(opened_for(psnap_cols_src(1ull << PSNAP_COL_PID | 1ull << PSNAP_COL_ARGS | 1ull << PSNAP_COL_USER)) == 5,
        "lazy: pid, args, user open stat, status, cmdline once each");
  /* /proc, PID/, stat, io: the last column, through colUsed's bit 63 */
  check(opened_for(psnap_cols_src(1ull << 63)) == 4, "lazy: the columns from 63 on open stat and io only");
  check(opened_for(psnap_cols_src(1ull << PSNAP_COL_NFDS)) == 4, "lazy: nfds opens stat and fd/ only");
  /* /proc/meminfo once per scan, then /proc, PID/, stat, status */
  check(opened_for(psnap_cols_src(1ull << PSNAP_COL_PMEM)) == 5, "lazy: pmem opens meminfo once, stat and status");
  test_first_use();
}

/* tests/unit/test_fds.c: fds.c and sockets.c, through this file's check() */
void test_fds(void (*check)(int cond, const char *name));
/* tests/unit/test_utf8.c: utf8.c, the same way */
void test_utf8(void (*check)(int cond, const char *name));

int main(void) {
  test_stat();
  test_status();
  test_status_memory();
  test_fields();
  test_registry_layout();
  test_container();
  test_idmap();
  test_idtab();
  test_groups();
  test_caps();
  test_readfd();
  test_lazy();
  test_fds(check);
  test_utf8(check);
  printf("1..%d\n", n_test);
  return n_fail ? 1 : 0;
}
