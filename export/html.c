// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>

#include "html.h"

int ms_html_report(const char *out, const char *path, const struct ms_metrics *m, char *msg,
		   size_t msglen)
{
	(void)out, (void)path, (void)m;
	snprintf(msg, msglen, "HTML pages are not built yet");
	return -ENOSYS;
}

int ms_html_diff(const char *out, const char *base_path, const char *now_path,
		 const struct ms_diff *d, char *msg, size_t msglen)
{
	(void)out, (void)base_path, (void)now_path, (void)d;
	snprintf(msg, msglen, "HTML pages are not built yet");
	return -ENOSYS;
}
