/* The report `hqio inspect` prints, shared with `hqio sim topo`. */
#ifndef HQIO_TOOLS_INSPECT_OUT_H
#define HQIO_TOOLS_INSPECT_OUT_H

#include <stdbool.h>
#include <stddef.h>

#include "hqio/inspect.h"

struct inspect_report_opts {
	bool json;
	int verbose;
	const char *source;    /* "sysfs", "dump" or "sim" (JSON "source") */
	const char *dump_file; /* or NULL */
	const struct hqio_bdf *only;
	size_t n_only;
};

/* Assess and print every (selected) function of a decoded system; returns
 * an exit code. */
int inspect_report(const struct hqio_system *sys, const struct inspect_report_opts *ro);

#endif
