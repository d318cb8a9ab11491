/*
 * Error reporting for hqio: functions return 0 or a negative errno-style
 * code, and fill a struct hqio_error with a sentence for people.
 */
#ifndef HQIO_ERROR_H
#define HQIO_ERROR_H

#include <stddef.h>

#define HQIO_ERROR_MSG_MAX 256

struct hqio_error {
	int code;		      /* negative errno-style value, 0 when none */
	char msg[HQIO_ERROR_MSG_MAX]; /* human-readable, no trailing newline */
};

/* Record an error (err may be NULL); returns code so callers can
 * `return hqio_error_set(err, -EINVAL, "...")`. */
int hqio_error_set(struct hqio_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

void hqio_error_clear(struct hqio_error *err);

#endif
