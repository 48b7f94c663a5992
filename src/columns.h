/*
** columns.h: the column registry, the one list of every column.
**
** One line per column, in table order:
**   X(ID, name, SQL type, sources, flags, AIX code, header, from, doc, getter)
** psnap.h derives enum psnap_col from it and desc.c the descriptors
** (psnap_cols[]), so the two cannot drift: a column exists in both or in
** neither. The name is psgo's descriptor name; the sources are the
** PSNAP_SRC_* bits its value needs (a scan reads only the files of the
** columns a query uses); the getter is a function of desc.c. The CREATE
** TABLE statement, the file choice in xBestIndex, xColumn, ps_descriptors
** and the README's column table are all generated from this list.
**
** The order matters past column 62: SQLite's colUsed has one bit (63) for
** every column from 63 on, so a query of one of them cannot say which.
** Bit 63 reads one per-process source, the /proc/PID/io group's: the
** visible columns from 63 on are that group, and nothing else. After it
** come the HIDDEN <column>_raw BLOBs, the exact bytes of a text column
** whose bytes a process chooses (its text twin has them as UTF-8, each
** invalid sequence as U+FFFD: ext/values.c); each has its twin's sources,
** and bit 63 does not read them: psnap_column() reads a _raw column's
** file on its first use in a row, through the row's directory (src/desc.c,
** src/snap.c), so a query pays for exactly the _raw columns it reads. The
** HIDDEN arguments (pidns, then sample: ps(1234), ps(NULL, 0.5) bind them
** by position) sit below 63 and before every other hidden column. A unit
** test (tests/unit) checks all of it.
*/
#ifndef PSNAP_COLUMNS_H
#define PSNAP_COLUMNS_H

/* clang-format off */
#define PSNAP_COLUMNS(X) \
  X(USER, "user", "TEXT", PSNAP_SRC_STATUS | PSNAP_SRC_NAMES, PSNAP_F_PSGO | PSNAP_F_PROCPS, "%U", "USER", "status Uid (effective)", "effective user name, else the uid", get_user) \
  X(PID, "pid", "INTEGER", PSNAP_SRC_STAT, PSNAP_F_PSGO | PSNAP_F_PROCPS, "%p", "PID", "/proc directory", "process id, as the target namespace sees it", get_pid) \
  X(PPID, "ppid", "INTEGER", PSNAP_SRC_STAT | PSNAP_SRC_PARENT, PSNAP_F_PSGO | PSNAP_F_PROCPS, "%P", "PPID", "stat (4); in a namespace the parent's NSpid", "parent process id (0 for a namespace's init)", get_ppid) \
  X(PCPU, "pcpu", "REAL", PSNAP_SRC_STAT, PSNAP_F_PSGO | PSNAP_F_PROCPS, "%C", "%CPU", "stat (14,15,22)", "CPU use in percent over the process's lifetime", get_pcpu) \
  X(ETIME, "etime", "REAL", PSNAP_SRC_STAT, PSNAP_F_PSGO | PSNAP_F_PROCPS, "%t", "ELAPSED", "stat (22)", "seconds since the process started", get_etime) \
  X(TTY, "tty", "TEXT", PSNAP_SRC_STAT | PSNAP_SRC_TTY, PSNAP_F_PSGO | PSNAP_F_PROCPS, "%y", "TTY", "stat (7), /dev", "controlling terminal (pts/0), NULL when none", get_tty) \
  X(TIME, "time", "REAL", PSNAP_SRC_STAT, PSNAP_F_PSGO | PSNAP_F_PROCPS, "%x", "TIME", "stat (14,15)", "CPU time used, user + system, in seconds", get_time) \
  X(ARGS, "args", "TEXT", PSNAP_SRC_STAT | PSNAP_SRC_CMDLINE, PSNAP_F_PSGO | PSNAP_F_PROCPS, "%a", "COMMAND", "cmdline", "arguments joined by spaces; [comm] when there are none", get_args) \
  X(COMM, "comm", "TEXT", PSNAP_SRC_STAT, PSNAP_F_PSGO | PSNAP_F_PROCPS, "%c", "COMMAND", "stat (2)", "executable name (at most 15 bytes)", get_comm) \
  X(GROUP, "group", "TEXT", PSNAP_SRC_STATUS | PSNAP_SRC_NAMES, PSNAP_F_PSGO | PSNAP_F_PROCPS, "%G", "GROUP", "status Gid (effective)", "effective group name, else the gid", get_group) \
  X(GROUPS, "groups", "TEXT", PSNAP_SRC_STATUS | PSNAP_SRC_NAMES, PSNAP_F_PSGO, NULL, "GROUPS", "status Groups", "supplementary group names, each once by ascending gid, joined by ',' (cut past 64 KiB: ',+N' for N more)", get_groups) \
  X(RGROUP, "rgroup", "TEXT", PSNAP_SRC_STATUS | PSNAP_SRC_NAMES, PSNAP_F_PSGO | PSNAP_F_PROCPS, "%g", "RGROUP", "status Gid (real)", "real group name, else the gid", get_rgroup) \
  X(RUSER, "ruser", "TEXT", PSNAP_SRC_STATUS | PSNAP_SRC_NAMES, PSNAP_F_PSGO | PSNAP_F_PROCPS, "%u", "RUSER", "status Uid (real)", "real user name, else the uid", get_ruser) \
  X(NICE, "nice", "INTEGER", PSNAP_SRC_STAT, PSNAP_F_PSGO | PSNAP_F_PROCPS, "%n", "NI", "stat (19)", "nice value, -20 to 19", get_nice) \
  X(PGID, "pgid", "INTEGER", PSNAP_SRC_STAT, PSNAP_F_PSGO | PSNAP_F_PROCPS, "%r", "PGID", "stat (5)", "process group id", get_pgid) \
  X(UID, "uid", "INTEGER", PSNAP_SRC_STATUS, PSNAP_F_PSGO | PSNAP_F_PROCPS, NULL, "UID", "status Uid (effective)", "effective user id", get_uid) \
  X(VSZ, "vsz", "INTEGER", PSNAP_SRC_STAT, PSNAP_F_PSGO | PSNAP_F_PROCPS, "%z", "VSZ", "stat (23)", "virtual memory size in KiB", get_vsz) \
  X(RSS, "rss", "INTEGER", PSNAP_SRC_STATUS, PSNAP_F_PSGO | PSNAP_F_PROCPS, NULL, "RSS", "status VmRSS", "resident set size in KiB (0 for kernel threads)", get_rss) \
  X(STATE, "state", "TEXT", PSNAP_SRC_STAT, PSNAP_F_PSGO | PSNAP_F_PROCPS, NULL, "STATE", "stat (3)", "state: R S D Z T t X I", get_state) \
  X(STIME, "stime", "REAL", PSNAP_SRC_STAT | PSNAP_SRC_BTIME, PSNAP_F_PSGO | PSNAP_F_PROCPS, NULL, "STIME", "stat (22), /proc/stat btime", "start time, Unix epoch seconds", get_stime) \
  X(CAPAMB, "capamb", "TEXT", PSNAP_SRC_STATUS, PSNAP_F_PSGO, NULL, "AMBIENT CAPS", "status CapAmb", "ambient capabilities", get_capamb) \
  X(CAPBND, "capbnd", "TEXT", PSNAP_SRC_STATUS, PSNAP_F_PSGO, NULL, "BOUNDING CAPS", "status CapBnd", "bounding set", get_capbnd) \
  X(CAPEFF, "capeff", "TEXT", PSNAP_SRC_STATUS, PSNAP_F_PSGO, NULL, "EFFECTIVE CAPS", "status CapEff", "effective capabilities", get_capeff) \
  X(CAPINH, "capinh", "TEXT", PSNAP_SRC_STATUS, PSNAP_F_PSGO, NULL, "INHERITED CAPS", "status CapInh", "inheritable capabilities", get_capinh) \
  X(CAPPRM, "capprm", "TEXT", PSNAP_SRC_STATUS, PSNAP_F_PSGO, NULL, "PERMITTED CAPS", "status CapPrm", "permitted capabilities", get_capprm) \
  X(SECCOMP, "seccomp", "TEXT", PSNAP_SRC_STATUS, PSNAP_F_PSGO, NULL, "SECCOMP", "status Seccomp", "seccomp mode: disabled, strict or filter", get_seccomp) \
  X(LABEL, "label", "TEXT", PSNAP_SRC_STAT | PSNAP_SRC_ATTR, PSNAP_F_PSGO | PSNAP_F_PROCPS, NULL, "LABEL", "attr/current", "security label (SELinux, AppArmor); NULL when none", get_label) \
  X(HPID, "hpid", "INTEGER", PSNAP_SRC_STAT, PSNAP_F_PSGO, NULL, "HPID", "the caller's /proc", "pid on the host", get_hpid) \
  X(HUSER, "huser", "TEXT", PSNAP_SRC_STATUS, PSNAP_F_PSGO, NULL, "HUSER", "status Uid, host names", "effective user on the host", get_huser) \
  X(HUID, "huid", "INTEGER", PSNAP_SRC_STATUS, PSNAP_F_PSGO, NULL, "HUID", "status Uid", "effective uid on the host", get_huid) \
  X(HGROUP, "hgroup", "TEXT", PSNAP_SRC_STATUS, PSNAP_F_PSGO, NULL, "HGROUP", "status Gid, host names", "effective group on the host", get_hgroup) \
  X(HGROUPS, "hgroups", "TEXT", PSNAP_SRC_STATUS, PSNAP_F_PSGO, NULL, "HGROUPS", "status Groups", "supplementary gids on the host, each once ascending, joined by ',' (cut past 64 KiB: ',+N' for N more)", get_hgroups) \
  X(NS_PID, "ns_pid", "INTEGER", PSNAP_SRC_NS_PID, 0, NULL, "PIDNS", "ns/pid", "inode of the PID namespace (procps pidns)", get_ns_pid) \
  X(NS_MNT, "ns_mnt", "INTEGER", PSNAP_SRC_NS_MNT, 0, NULL, "MNTNS", "ns/mnt", "inode of the mount namespace", get_ns_mnt) \
  X(NS_NET, "ns_net", "INTEGER", PSNAP_SRC_NS_NET, 0, NULL, "NETNS", "ns/net", "inode of the network namespace", get_ns_net) \
  X(NS_USER, "ns_user", "INTEGER", PSNAP_SRC_NS_USER, 0, NULL, "USERNS", "ns/user", "inode of the user namespace", get_ns_user) \
  X(NS_UTS, "ns_uts", "INTEGER", PSNAP_SRC_NS_UTS, 0, NULL, "UTSNS", "ns/uts", "inode of the UTS namespace", get_ns_uts) \
  X(NS_IPC, "ns_ipc", "INTEGER", PSNAP_SRC_NS_IPC, 0, NULL, "IPCNS", "ns/ipc", "inode of the IPC namespace", get_ns_ipc) \
  X(NS_CGROUP, "ns_cgroup", "INTEGER", PSNAP_SRC_NS_CGROUP, 0, NULL, "CGROUPNS", "ns/cgroup", "inode of the cgroup namespace", get_ns_cgroup) \
  X(CGROUP, "cgroup", "TEXT", PSNAP_SRC_CGROUP, PSNAP_F_PROCPS, NULL, "CGROUP", "cgroup", "cgroups other than the root, joined by ',' (as procps)", get_cgroup) \
  X(NLWP, "nlwp", "INTEGER", PSNAP_SRC_STAT, PSNAP_F_PROCPS, NULL, "NLWP", "stat (20)", "number of threads", get_nlwp) \
  X(EXE, "exe", "TEXT", PSNAP_SRC_EXE, PSNAP_F_PROCPS, NULL, "EXE", "exe", "path of the executable", get_exe) \
  X(CWD, "cwd", "TEXT", PSNAP_SRC_CWD, 0, NULL, "CWD", "cwd", "current working directory", get_cwd) \
  X(WCHAN, "wchan", "TEXT", PSNAP_SRC_WCHAN, PSNAP_F_PROCPS, NULL, "WCHAN", "wchan", "kernel function the process sleeps in; NULL when running", get_wchan) \
  X(NOPRIV, "nopriv", "INTEGER", PSNAP_SRC_STATUS, 0, NULL, "NOPRIV", "status NoNewPrivs", "1 when no_new_privs is set", get_nopriv) \
  X(SECCOMP_FILTERS, "seccomp_filters", "INTEGER", PSNAP_SRC_STATUS, 0, NULL, "FILTERS", "status Seccomp_filters", "number of seccomp filters", get_seccomp_filters) \
  X(SYSCALL, "syscall", "TEXT", PSNAP_SRC_SYSCALL, 0, NULL, "SYSCALL", "syscall, libseccomp names", "system call the process is blocked in; 'running' when running", get_syscall) \
  X(PSS, "pss", "INTEGER", PSNAP_SRC_SMAPS, PSNAP_F_PROCPS, NULL, "PSS", "smaps_rollup Pss", "proportional set size in KiB (shared pages divided among their users); NULL unless ptrace-readable", get_pss) \
  X(USS, "uss", "INTEGER", PSNAP_SRC_SMAPS, PSNAP_F_PROCPS, NULL, "USS", "smaps_rollup Private_Clean + Private_Dirty", "unique set size in KiB (memory only this process uses); NULL unless ptrace-readable", get_uss) \
  X(SWAP, "swap", "INTEGER", PSNAP_SRC_STATUS, 0, NULL, "SWAP", "status VmSwap", "swapped-out memory in KiB", get_swap) \
  X(SHARED, "shared", "INTEGER", PSNAP_SRC_STATUS, 0, NULL, "SHR", "status RssFile + RssShmem", "resident memory that may be shared (files, shmem) in KiB, as top's SHR", get_shared) \
  X(PMEM, "pmem", "REAL", PSNAP_SRC_STATUS | PSNAP_SRC_MEMINFO, PSNAP_F_PROCPS, NULL, "%MEM", "status VmRSS, /proc/meminfo MemTotal", "resident set size in percent of RAM", get_pmem) \
  X(NFDS, "nfds", "INTEGER", PSNAP_SRC_FD, 0, NULL, "NFDS", "fd (entries)", "number of open file descriptors; NULL unless ptrace-readable", get_nfds) \
  X(OOM_SCORE, "oom_score", "INTEGER", PSNAP_SRC_OOM_SCORE, 0, NULL, "OOM", "oom_score", "badness the OOM killer gives the process (0 to 2000)", get_oom_score) \
  X(OOM_SCORE_ADJ, "oom_score_adj", "INTEGER", PSNAP_SRC_OOM_ADJ, 0, NULL, "OOMADJ", "oom_score_adj", "adjustment of the OOM score, -1000 to 1000", get_oom_score_adj) \
  X(CPUS_ALLOWED, "cpus_allowed", "TEXT", PSNAP_SRC_STATUS, 0, NULL, "CPUS", "status Cpus_allowed_list", "CPUs the process may run on (affinity), as a list: 0-3,6", get_cpus_allowed) \
  X(PSR, "psr", "INTEGER", PSNAP_SRC_STAT, PSNAP_F_PROCPS, NULL, "PSR", "stat (39)", "CPU the process last ran on", get_psr) \
  X(CONTAINER, "container", "TEXT", PSNAP_SRC_CGROUP, 0, NULL, "CONTAINER", "cgroup (engine's path)", "container id (64 hex) that podman, docker, containerd or CRI-O wrote into the cgroup path; NULL otherwise", get_container) \
  X(POD, "pod", "TEXT", PSNAP_SRC_CGROUP, 0, NULL, "POD", "cgroup (kubepods path)", "Kubernetes pod UID from the cgroup path; NULL otherwise", get_pod) \
  X(PCPU_NOW, "pcpu_now", "REAL", PSNAP_SRC_STAT | PSNAP_SRC_CPUNOW, 0, NULL, "%CPU NOW", "stat (14,15,22) read twice", "CPU use in percent of one CPU over the scan's interval: sample seconds, else since this connection's last scan of pcpu_now (NULL the first time)", get_pcpu_now) \
  X(PIDNS, "pidns", "INTEGER", PSNAP_SRC_STAT, PSNAP_F_HIDDEN, NULL, "PIDNS", "argument", "a pid whose PID namespace to list (NULL: the caller's)", get_pidns) \
  X(SAMPLE, "sample", "REAL", PSNAP_SRC_STAT, PSNAP_F_HIDDEN, NULL, "SAMPLE", "argument", "seconds that pcpu_now measures over, 0.01 to 60 (NULL: since the last scan)", get_sample) \
  X(RCHAR, "rchar", "INTEGER", PSNAP_SRC_IO, 0, NULL, "RCHAR", "io rchar", "bytes read through read(2) and the like (any file, pipe or socket); NULL unless ptrace-readable", get_rchar) \
  X(WCHAR, "wchar", "INTEGER", PSNAP_SRC_IO, 0, NULL, "WCHAR", "io wchar", "bytes written through write(2) and the like; NULL unless ptrace-readable", get_wchar) \
  X(READ_BYTES, "read_bytes", "INTEGER", PSNAP_SRC_IO, 0, NULL, "READ", "io read_bytes", "bytes the process caused to be read from storage; NULL unless ptrace-readable", get_read_bytes) \
  X(WRITE_BYTES, "write_bytes", "INTEGER", PSNAP_SRC_IO, 0, NULL, "WRITE", "io write_bytes", "bytes the process caused to be written to storage; NULL unless ptrace-readable", get_write_bytes) \
  X(SYSCR, "syscr", "INTEGER", PSNAP_SRC_IO, 0, NULL, "SYSCR", "io syscr", "read system calls; NULL unless ptrace-readable", get_syscr) \
  X(SYSCW, "syscw", "INTEGER", PSNAP_SRC_IO, 0, NULL, "SYSCW", "io syscw", "write system calls; NULL unless ptrace-readable", get_syscw) \
  X(COMM_RAW, "comm_raw", "BLOB", PSNAP_SRC_STAT, PSNAP_F_HIDDEN, NULL, "RAW COMM", "stat (2)", "comm's exact bytes (comm is their text, each invalid UTF-8 sequence as U+FFFD)", get_comm_raw) \
  X(ARGS_RAW, "args_raw", "BLOB", PSNAP_SRC_STAT | PSNAP_SRC_CMDLINE, PSNAP_F_HIDDEN, NULL, "RAW ARGS", "cmdline", "the exact bytes of cmdline, NUL-separated as the kernel gives them (each argument NUL-terminated, unless the process rewrote them); empty for kernel threads and zombies", get_args_raw) \
  X(EXE_RAW, "exe_raw", "BLOB", PSNAP_SRC_EXE, PSNAP_F_HIDDEN, NULL, "RAW EXE", "exe", "exe's exact bytes (the link's text)", get_exe_raw) \
  X(CWD_RAW, "cwd_raw", "BLOB", PSNAP_SRC_CWD, PSNAP_F_HIDDEN, NULL, "RAW CWD", "cwd", "cwd's exact bytes (the link's text)", get_cwd_raw)

/*
** The columns of ps_threads, one row per thread (task), in table order; the
** same fields as above. A shared name has the same meaning and getter, read
** from the thread's own files below /proc/PID/task/TID; pid and hpid are
** its process's. The sources here are a thread's: stat, status, wchan,
** syscall (and the per-scan CPUNOW).
*/
#define PSNAP_THREAD_COLUMNS(X) \
  X(PID, "pid", "INTEGER", PSNAP_SRC_STAT, 0, NULL, "PID", "the process's NSpid at the view's level", "the process (thread group) the thread belongs to, as the view sees it", get_pid) \
  X(TID, "tid", "INTEGER", PSNAP_SRC_STAT, 0, NULL, "LWP", "task/TID, status NSpid", "thread id, as the view sees it (ps -L's LWP)", get_tid) \
  X(HPID, "hpid", "INTEGER", PSNAP_SRC_STAT, 0, NULL, "HPID", "the caller's /proc", "the process's pid on the host", get_hpid) \
  X(HTID, "htid", "INTEGER", PSNAP_SRC_STAT, 0, NULL, "HTID", "the caller's /proc", "thread id on the host", get_htid) \
  X(COMM, "comm", "TEXT", PSNAP_SRC_STAT, 0, NULL, "COMMAND", "stat (2)", "thread name (at most 15 bytes; pthread_setname_np)", get_comm) \
  X(STATE, "state", "TEXT", PSNAP_SRC_STAT, 0, NULL, "S", "stat (3)", "state: R S D Z T t X I", get_state) \
  X(TIME, "time", "REAL", PSNAP_SRC_STAT, 0, NULL, "TIME", "stat (14,15)", "CPU time the thread used, user + system, in seconds", get_time) \
  X(PCPU, "pcpu", "REAL", PSNAP_SRC_STAT, 0, NULL, "%CPU", "stat (14,15,22)", "CPU use in percent over the thread's lifetime", get_pcpu) \
  X(PCPU_NOW, "pcpu_now", "REAL", PSNAP_SRC_STAT | PSNAP_SRC_CPUNOW, 0, NULL, "%CPU NOW", "stat (14,15,22) read twice", "CPU use in percent of one CPU over the scan's interval: sample seconds, else since this connection's last scan of ps_threads' pcpu_now (NULL the first time)", get_pcpu_now) \
  X(NICE, "nice", "INTEGER", PSNAP_SRC_STAT, 0, NULL, "NI", "stat (19)", "nice value of the thread, -20 to 19", get_nice) \
  X(PRIORITY, "priority", "INTEGER", PSNAP_SRC_STAT, 0, NULL, "PRI", "stat (18)", "kernel priority as ps -o priority and top's PR show it: 20 + nice, or -1 - the real-time priority", get_priority) \
  X(PSR, "psr", "INTEGER", PSNAP_SRC_STAT, 0, NULL, "PSR", "stat (39)", "CPU the thread last ran on", get_psr) \
  X(WCHAN, "wchan", "TEXT", PSNAP_SRC_WCHAN, 0, NULL, "WCHAN", "wchan", "kernel function the thread sleeps in; NULL when running", get_wchan) \
  X(SYSCALL, "syscall", "TEXT", PSNAP_SRC_SYSCALL, 0, NULL, "SYSCALL", "syscall, libseccomp names", "system call the thread is blocked in; 'running' when running; NULL unless ptrace-readable", get_syscall) \
  X(VOLUNTARY_SWITCHES, "voluntary_switches", "INTEGER", PSNAP_SRC_STATUS, 0, NULL, "VCSW", "status voluntary_ctxt_switches", "times the thread gave up the CPU (blocked, slept)", get_vcsw) \
  X(INVOLUNTARY_SWITCHES, "involuntary_switches", "INTEGER", PSNAP_SRC_STATUS, 0, NULL, "NVCSW", "status nonvoluntary_ctxt_switches", "times the thread was preempted", get_nvcsw) \
  X(PIDNS, "pidns", "INTEGER", PSNAP_SRC_STAT, PSNAP_F_HIDDEN, NULL, "PIDNS", "argument", "a pid whose PID namespace to list (NULL: the caller's)", get_pidns) \
  X(SAMPLE, "sample", "REAL", PSNAP_SRC_STAT, PSNAP_F_HIDDEN, NULL, "SAMPLE", "argument", "seconds that pcpu_now measures over, 0.01 to 60 (NULL: since the last scan)", get_sample) \
  X(COMM_RAW, "comm_raw", "BLOB", PSNAP_SRC_STAT, PSNAP_F_HIDDEN, NULL, "RAW COMM", "stat (2)", "comm's exact bytes (comm is their text, each invalid UTF-8 sequence as U+FFFD)", get_comm_raw)
/* clang-format on */

#endif
