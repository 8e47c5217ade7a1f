// SPDX-License-Identifier: MIT
/*
 * The CLI's message helpers (tracer/main.c) for the harnesses that run its commands:
 * quiet, since errors are what the fuzzer feeds them.
 */
#include "tracer/cli.h"

int ms_err(const char *fmt, ...)
{
	(void)fmt;
	return 2;
}

int ms_usage_err(const char *cmd, const char *fmt, ...)
{
	(void)cmd;
	(void)fmt;
	return 2;
}
