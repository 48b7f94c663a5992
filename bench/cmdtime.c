/*
** cmdtime: time whole commands (fork + exec + run + exit), as a user pays
** for them, and record each one's peak memory.
**
**   cmdtime [-n RUNS] [-w WARMUP] -- CMD ARGS... [--- CMD ARGS...]...
**
** Each command runs with stdin and stdout on /dev/null and stderr on
** /dev/null too (check a command by hand first).  The commands run
** round-robin, RUNS timed rounds after WARMUP (default 1) untimed ones.
** Wall time is measured from posix_spawn() to wait4(); the peak resident
** set (ru_maxrss from wait4, in KiB) is the largest over all runs.
** One line per command, tab separated:
**   median_ms  min_ms  maxrss_kib  status  CMD ARGS...
** where status is the last run's exit code (or 128+signal).
*/
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

struct cmd {
  char **argv;
  double *t;
  long maxrss;
  int status;
};

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmpd(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static void usage(void) {
  fprintf(stderr, "usage: cmdtime [-n RUNS] [-w WARMUP] -- CMD ARGS... [--- CMD ARGS...]...\n");
  exit(2);
}

int main(int argc, char **argv) {
  int runs = 15, warm = 1, c;
  while ((c = getopt(argc, argv, "+n:w:")) != -1) {
    switch (c) {
    case 'n': runs = atoi(optarg); break;
    case 'w': warm = atoi(optarg); break;
    default: usage();
    }
  }
  if (optind >= argc || runs <= 0) usage();
  struct cmd *cmds = calloc((size_t)argc, sizeof *cmds);
  int ncmd = 0;
  for (int i = optind; i < argc;) {
    int j = i;
    while (j < argc && strcmp(argv[j], "---") != 0) j++;
    if (j == i) usage();
    cmds[ncmd].argv = &argv[i];
    cmds[ncmd].t = calloc((size_t)runs, sizeof(double));
    ncmd++;
    if (j < argc) argv[j] = NULL; /* terminate this argv */
    i = j + 1;
  }

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);

  for (int r = 0; r < warm + runs; r++) {
    for (int i = 0; i < ncmd; i++) {
      struct cmd *k = &cmds[i];
      pid_t pid;
      struct rusage ru;
      int st;
      double t0 = now_ms();
      if (posix_spawnp(&pid, k->argv[0], &fa, NULL, k->argv, environ) != 0) {
        perror(k->argv[0]);
        return 1;
      }
      if (wait4(pid, &st, 0, &ru) < 0) {
        perror("wait4");
        return 1;
      }
      double dt = now_ms() - t0;
      if (r >= warm) k->t[r - warm] = dt;
      if (ru.ru_maxrss > k->maxrss) k->maxrss = ru.ru_maxrss;
      k->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    }
  }
  for (int i = 0; i < ncmd; i++) {
    struct cmd *k = &cmds[i];
    qsort(k->t, (size_t)runs, sizeof(double), cmpd);
    double med = runs % 2 ? k->t[runs / 2] : (k->t[runs / 2 - 1] + k->t[runs / 2]) / 2;
    printf("%.4f\t%.4f\t%ld\t%d\t", med, k->t[0], k->maxrss, k->status);
    for (char **a = k->argv; *a; a++) printf("%s%s", a == k->argv ? "" : " ", *a);
    printf("\n");
  }
  return 0;
}
