/* Runs every case listed in tests.def; `--list` prints their names. Exit status 1 on any failure. */
#include <stdio.h>
#include <string.h>

#include "runner.h"

int runner_failures = 0;

#define TEST(name) void name(void);
#include "tests.def"
#undef TEST

struct test_case {
    const char *name;
    void (*run)(void);
};

static const struct test_case cases[] = {
#define TEST(name) {#name, name},
#include "tests.def"
#undef TEST
};

int main(int argc, char **argv) {
    const size_t count = sizeof cases / sizeof cases[0];
    if (argc > 1 && strcmp(argv[1], "--list") == 0) {
        for (size_t i = 0; i < count; i++) {
            puts(cases[i].name);
        }
        return 0;
    }
    for (size_t i = 0; i < count; i++) {
        int before = runner_failures;
        cases[i].run();
        printf("%s %s\n", runner_failures == before ? "ok  " : "FAIL", cases[i].name);
    }
    printf("%zu tests, %d failed checks\n", count, runner_failures);
    return runner_failures == 0 ? 0 : 1;
}
