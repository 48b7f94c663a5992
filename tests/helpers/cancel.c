/*
** cancel: a thread cancelled while it waits for a container's names, and
** what the program's next lending of that namespace gets.
**
**   build/helpers/cancel PID DEADLINE_MS
**
** A thread lists ps(PID) with user names (psnap_open, linked with
** libpsnap.a); the main thread cancels it (pthread_cancel) 300 ms later,
** while it waits for the names, joins it and prints "cancelled". On a line
** from stdin (the test has ended the hang meanwhile) it waits for
** PSNAP_LEND_RETRY deadlines, lists ps(PID) again and prints the user of
** the container's pid 1 ("user NAME"), then exits 0.
*/
#include "psnap.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long long target;
static unsigned deadline_ms;

/* The user of the container's pid 1, into buf ("" when none). 0 or -errno. */
static int user_of_init(char *buf, size_t len) {
  struct psnap_target t;
  struct psnap_err err;
  if (psnap_target_resolve(target, &t, &err) < 0) return -err.code;
  struct psnap_cfg cfg = {.src = psnap_cols_src(1ull << PSNAP_COL_PID | 1ull << PSNAP_COL_USER),
                          .target = &t,
                          .deadline_ms = deadline_ms};
  struct psnap *s;
  int rc = psnap_open(&s, &cfg, &err);
  if (rc < 0) return rc;
  buf[0] = '\0';
  while ((rc = psnap_next(s)) > 0) {
    struct psnap_value pid, user;
    psnap_column(s, PSNAP_COL_PID, &pid);
    psnap_column(s, PSNAP_COL_USER, &user);
    if (pid.type == PSNAP_INT && pid.i == 1 && user.type == PSNAP_TEXT)
      snprintf(buf, len, "%.*s", (int)user.n, user.s);
  }
  psnap_close(s);
  return rc;
}

static void *lister(void *arg) {
  (void)arg;
  char buf[300];
  (void)user_of_init(buf, sizeof buf);
  for (;;) pause(); /* a cancellation point: the cancel, deferred by the library, lands here */
  return NULL;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: cancel PID DEADLINE_MS\n");
    return 2;
  }
  target = atoll(argv[1]);
  deadline_ms = (unsigned)atoi(argv[2]);
  pthread_t t;
  if (pthread_create(&t, NULL, lister, NULL) != 0) return 1;
  struct timespec ts = {0, 300 * 1000000L};
  nanosleep(&ts, NULL);
  pthread_cancel(t);
  pthread_join(t, NULL);
  printf("cancelled\n");
  fflush(stdout);
  char line[16];
  if (!fgets(line, sizeof line, stdin)) return 1;
  unsigned long long wait_ms = (unsigned long long)PSNAP_LEND_RETRY * deadline_ms + 200;
  ts.tv_sec = (time_t)(wait_ms / 1000);
  ts.tv_nsec = (long)(wait_ms % 1000) * 1000000L;
  nanosleep(&ts, NULL);
  char buf[300];
  int rc = user_of_init(buf, sizeof buf);
  printf("user %s (rc %d)\n", buf, rc);
  return 0;
}
