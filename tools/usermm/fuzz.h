/*
 * fuzz.h: `usermm fuzz`, the seeded random differential tester: it writes
 * random valid scenarios, runs each on the sim and the kernel back ends,
 * and shrinks and saves those whose transcripts differ.
 */
#ifndef USERMM_TOOL_FUZZ_H
#define USERMM_TOOL_FUZZ_H

#include <stdio.h>

/* usermm fuzz ARGS (argv without "fuzz"); returns the exit status. */
int cmd_fuzz(int argc, char **argv);
void usage_fuzz(FILE *out);

#endif /* USERMM_TOOL_FUZZ_H */
