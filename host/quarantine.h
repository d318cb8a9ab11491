/*
 * Quarantine records: a function whose reset could not be verified (at
 * assignment or reclaim, hqio/reset.h) is in an unknown state and must not
 * be handed back to a host driver or another guest. The record outlives
 * the process that found it: a file DIR/BDF.quarantined holding the
 * reason, in hqio's state directory (default /run/hqio/vfio, a tmpfs: a
 * reboot resets every function, so the records go with it). `hqio vfio
 * release` refuses a recorded function; a verified reset (`hqio vfio
 * reset`, or a later `hqio run` whose reclaim verifies) removes it.
 */
#ifndef HQIO_HOST_QUARANTINE_H
#define HQIO_HOST_QUARANTINE_H

#include <stdbool.h>
#include <stddef.h>

#include "hqio/error.h"
#include "hqio/pci.h"

#define HQIO_STATE_DIR_DEFAULT "/run/hqio/vfio"
#define HQIO_QUARANTINE_REASON_MAX 512

/* mkdir -p dir (mode 0755); 0 or -errno. */
int hqio_state_mkdirs(const char *dir);
/* Record bdf as quarantined with a one-line reason (control characters
 * become spaces); creates dir as needed. */
int hqio_quarantine_mark(const char *dir, struct hqio_bdf bdf, const char *reason,
			 struct hqio_error *err);
/* True when bdf has a record; its reason (may be empty) into reason. */
bool hqio_quarantine_get(const char *dir, struct hqio_bdf bdf, char *reason, size_t len);
/* Remove the record (none: 0). */
int hqio_quarantine_clear(const char *dir, struct hqio_bdf bdf, struct hqio_error *err);

#endif
