/*
 * syscall: a static test helper for tests/bats/security*.bats, run inside containers
 * (busybox has no applet for these). One binary, one sub-command per probe:
 *
 *   syscall add_key                 add_key("user", ...) to the session keyring
 *   syscall keyctl-read-session     keyctl(KEYCTL_READ) of the session keyring
 *   syscall unshare-user            unshare(CLONE_NEWUSER)
 *   syscall userns-mount            unshare(CLONE_NEWUSER|CLONE_NEWNS), map root, mount a tmpfs
 *   syscall perf                    perf_event_open(a software counter of this process)
 *   syscall clock_settime           clock_settime(CLOCK_MONOTONIC, now): harmless, the kernel
 *                                   refuses it with EINVAL when it is reached at all (EPERM
 *                                   means a filter stopped it before)
 *   syscall open PATH               open(PATH, O_RDONLY), then read(): "ok N" with N bytes read
 *   syscall open-w PATH             open(PATH, O_WRONLY), closed again without writing a byte
 *   syscall mount-tmpfs DIR         mount("tmpfs", DIR, "tmpfs")
 *   syscall sigmask                 the signal mask and the ignored signals (hex, as /proc)
 *   syscall plant TARGET PREFIX A B symlink(TARGET, PREFIX<N>) for N in A..B (exit 0 if all made)
 *
 * Prints "ok" (and details) and exits 0 on success; prints the errno's name (EPERM, ...) and
 * exits 1 on failure; exit 2 on a usage error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/keyctl.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int fail(void)
{
    const char *name = strerrorname_np(errno);
    printf("%s\n", name ? name : "E?");
    return 1;
}

static int ok(void)
{
    printf("ok\n");
    return 0;
}

static int write_str(const char *path, const char *s)
{
    int fd = open(path, O_WRONLY);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, s, strlen(s));
    int e = errno;
    close(fd);
    errno = e;
    return n == (ssize_t)strlen(s) ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: syscall SUBCOMMAND [ARGS]\n");
        return 2;
    }
    const char *cmd = argv[1];

    if (!strcmp(cmd, "add_key")) {
        long id = syscall(SYS_add_key, "user", "bocker-test", "x", 1, KEY_SPEC_SESSION_KEYRING);
        if (id < 0)
            return fail();
        printf("ok %ld\n", id);
        return 0;
    }
    if (!strcmp(cmd, "keyctl-read-session")) {
        char buf[4096];
        long n = syscall(SYS_keyctl, KEYCTL_READ, KEY_SPEC_SESSION_KEYRING, buf, sizeof buf);
        if (n < 0)
            return fail();
        printf("ok %ld\n", n);
        return 0;
    }
    if (!strcmp(cmd, "unshare-user")) {
        if (unshare(CLONE_NEWUSER) < 0)
            return fail();
        return ok();
    }
    if (!strcmp(cmd, "userns-mount")) {
        char map[64];
        uid_t uid = getuid();
        gid_t gid = getgid();
        if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
            return fail();
        snprintf(map, sizeof map, "0 %u 1\n", uid);
        if (write_str("/proc/self/uid_map", map) < 0)
            return fail();
        if (write_str("/proc/self/setgroups", "deny") < 0 && errno != ENOENT)
            return fail();
        snprintf(map, sizeof map, "0 %u 1\n", gid);
        if (write_str("/proc/self/gid_map", map) < 0)
            return fail();
        if (mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
            return fail();
        if (mount("tmpfs", "/tmp", "tmpfs", 0, NULL) < 0)
            return fail();
        return ok();
    }
    if (!strcmp(cmd, "perf")) {
        struct perf_event_attr attr;
        memset(&attr, 0, sizeof attr);
        attr.size = sizeof attr;
        attr.type = PERF_TYPE_SOFTWARE;
        attr.config = PERF_COUNT_SW_TASK_CLOCK;
        attr.disabled = 1;
        attr.exclude_kernel = 1;
        attr.exclude_hv = 1;
        long fd = syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
        if (fd < 0)
            return fail();
        close(fd);
        return ok();
    }
    if (!strcmp(cmd, "clock_settime")) {
        /* CLOCK_MONOTONIC cannot be set: the kernel answers EINVAL, the host clock never moves */
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        if (syscall(SYS_clock_settime, CLOCK_MONOTONIC, &ts) < 0)
            return fail();
        return ok();
    }
    if (!strcmp(cmd, "open") && argc == 3) {
        char buf[65536];
        int fd = open(argv[2], O_RDONLY);
        if (fd < 0)
            return fail();
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0)
            return fail();
        close(fd);
        printf("ok %zd\n", n);
        return 0;
    }
    if (!strcmp(cmd, "open-w") && argc == 3) {
        int fd = open(argv[2], O_WRONLY);
        if (fd < 0)
            return fail();
        close(fd);
        return ok();
    }
    if (!strcmp(cmd, "mount-tmpfs") && argc == 3) {
        if (mount("tmpfs", argv[2], "tmpfs", 0, NULL) < 0)
            return fail();
        return ok();
    }
    if (!strcmp(cmd, "sigmask")) {
        sigset_t set;
        unsigned long long blk = 0, ign = 0;
        sigprocmask(SIG_BLOCK, NULL, &set);
        for (int s = 1; s < 64; s++) {
            struct sigaction sa;
            if (sigismember(&set, s) == 1)
                blk |= 1ULL << (s - 1);
            if (sigaction(s, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN)
                ign |= 1ULL << (s - 1);
        }
        printf("SigBlk %016llx SigIgn %016llx\n", blk, ign);
        return 0;
    }
    if (!strcmp(cmd, "plant") && argc == 6) {
        char path[4096];
        long a = atol(argv[4]), b = atol(argv[5]), made = 0;
        for (long n = a; n <= b; n++) {
            snprintf(path, sizeof path, "%s%ld", argv[3], n);
            if (symlink(argv[2], path) < 0 && errno != EEXIST)
                return fail();
            made++;
        }
        printf("ok %ld\n", made);
        return 0;
    }
    fprintf(stderr, "syscall: unknown sub-command or wrong arguments: %s\n", cmd);
    return 2;
}
