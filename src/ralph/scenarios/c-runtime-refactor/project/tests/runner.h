/* Minimal test support: CHECK records a failure and keeps going. */
#ifndef TINYRT_RUNNER_H
#define TINYRT_RUNNER_H

#include <stdio.h>

extern int runner_failures;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            runner_failures++;                                                       \
        }                                                                            \
    } while (0)

#endif
