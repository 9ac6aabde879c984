/*
 * background: the optional purging thread (option background_thread).
 */
#ifndef SC_BACKGROUND_H
#define SC_BACKGROUND_H

#include "debug.h"

/* Starts the thread if the option asks for it and it is not running yet
 * (once per process, and once more in a forked child). Called from a
 * malloc or free of the program, never from the allocator's start-up. */
void background_maybe_start(void);
/* Whether the thread runs, and how many passes it made. */
bool background_running(void);
uint64_t background_passes(void);
/* In a forked child the thread is gone: the next tick starts another. */
void background_postfork_child(void);

#endif
