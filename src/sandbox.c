/*
** sandbox.c: system call names, from libseccomp.
**
** /proc/PID/syscall gives the number of the system call a process is
** blocked in; libseccomp knows the names of the running architecture's
** calls, including ones newer than the C library's headers.
*/
#include "procfs.h"

#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
** The name of system call nr on the native architecture, into out. When
** libseccomp does not know it, the number in decimal. Returns the length.
*/
size_t psnap_syscall_name(long nr, char *out, size_t cap) {
  if (cap == 0) return 0;
  char *name = nr >= 0 && nr < 100000 ? seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, (int)nr) : NULL;
  int n = name ? snprintf(out, cap, "%s", name) : snprintf(out, cap, "%ld", nr);
  free(name); /* allocated by libseccomp with malloc */
  if (n < 0) n = 0;
  return (size_t)n < cap ? (size_t)n : cap - 1;
}
