/*
 * shell.h: `usermm shell`, the scenario language typed interactively, and
 * the command help that the shell and `usermm help` print.
 */
#ifndef USERMM_TOOL_SHELL_H
#define USERMM_TOOL_SHELL_H

#include <stdio.h>

#include "backend.h"

/* Runs the shell on back end be until end of input or `quit`; returns the exit status. */
int shell_main(const struct be_ops *be);
/* Prints the list of commands, or the help of command name (NULL: all). Returns 0, or 1 when
 * unknown. */
int help_commands(FILE *out, const char *name);

#endif /* USERMM_TOOL_SHELL_H */
