/* Reading `lspci -x/-xxx/-xxxx` text dumps into a struct hqio_system
 * (shared by hqio inspect and hqio reset plan). */
#ifndef HQIO_TOOLS_DUMP_LOAD_H
#define HQIO_TOOLS_DUMP_LOAD_H

#include "hqio/inspect.h"

/* Read path ("-" = stdin, at most 64 MiB) and append one node per device
 * to sys (not decoded yet). Returns 0, or a negative errno with err set:
 * unreadable file, parse error, or no device in it. */
int hqio_dump_load(const char *path, struct hqio_system *sys, struct hqio_error *err);

#endif
