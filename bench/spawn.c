/*
 * spawn: runs one benchmark command and reports its wall time and peak
 * RSS, for bench/run.py (the role of /usr/bin/time, with more digits).
 *
 *   spawn RESULTFILE PROGRAM [ARGS...]
 *
 * Writes "status=<wait status> wall_s=<s> maxrss_kb=<KiB> utime_s=<s>
 * stime_s=<s> minflt=<minor page faults>" to RESULTFILE once PROGRAM has ended; spawn's own exit
 * status is 0 if it could run PROGRAM at all.
 *
 * Why not wait4() from python: Linux keeps ru_maxrss across execve, so a
 * child forked from the python runner starts with python's ~16 MiB as its
 * peak. spawn is linked statically (the environment's LD_PRELOAD does not
 * load into it, only into PROGRAM) and is a few hundred KiB, so the floor
 * of the figure stays small.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/wait.h>

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: spawn RESULTFILE PROGRAM [ARGS...]\n");
        return 64;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t pid = fork();
    if (pid < 0) { perror("spawn: fork"); return 70; }
    if (pid == 0) {
        execvp(argv[2], argv + 2);
        perror("spawn: exec");
        _exit(127);
    }
    int status;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) < 0) { perror("spawn: wait4"); return 70; }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    FILE *f = fopen(argv[1], "w");
    if (!f) { perror("spawn: result file"); return 70; }
    fprintf(f, "status=%d wall_s=%.6f maxrss_kb=%ld utime_s=%.6f stime_s=%.6f minflt=%ld\n", status,
            (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9, ru.ru_maxrss,
            (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6,
            (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6, ru.ru_minflt);
    fclose(f);
    return 0;
}
