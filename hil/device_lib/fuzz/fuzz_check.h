/* fuzz_check.h: the harnesses' CHECK. A broken promise aborts, so libFuzzer keeps the input as a
 * crash; the message names the harness (FUZZ_NAME, defined before this is included) and the line. */
#ifndef HIL_FUZZ_CHECK_H
#define HIL_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond)                                                                      \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            fprintf(stderr, FUZZ_NAME ": check failed: %s (line %d)\n", #cond, __LINE__); \
            abort();                                                                     \
        }                                                                                \
    } while (0)

#endif
