/*
 * seccomp_filter.h: a seccomp filter that answers one system call with
 * `action` (SECCOMP_RET_KILL_PROCESS, SECCOMP_RET_ERRNO | EPERM, ...) and
 * allows every other, for the tests that show how scmalloc behaves in a
 * sandbox. arg >= 0 narrows it to the calls whose argument number arg has
 * value (its low 32 bits). False where filters are not available.
 */
#ifndef SC_TEST_SECCOMP_FILTER_H
#define SC_TEST_SECCOMP_FILTER_H

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/prctl.h>

static inline bool seccomp_refuse(uint32_t nr, int arg, uint32_t value, uint32_t action)
{
    struct sock_filter prog[9];
    unsigned short n = 0;
    prog[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
    prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
    prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    prog[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
    if (arg < 0) {
        prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 1);
    } else {
        prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 3);
        prog[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                                                 offsetof(struct seccomp_data, args) + 8 * (unsigned)arg);
        prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, value, 0, 1);
    }
    prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, action);
    prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    struct sock_fprog fprog = { .len = n, .filter = prog };
    return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 && prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog) == 0;
}

#endif
