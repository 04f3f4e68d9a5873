/*
 * libFuzzer target: the scenario parser (tools/usermm/parser.c) on any
 * bytes. It must answer a script or one FILE:LINE:COL error, and neither
 * crash, hang, leak nor read past the buffer.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "script.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct script *s = NULL;
	struct diag d = { 0 };

	if (script_parse("fuzz.ums", (const char *)data, size, &s, &d) == 0)
		script_free(s);
	else
		diag_free(&d);
	return 0;
}
