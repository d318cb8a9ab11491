/* Error recording: a code and one sentence for people (see hqio/error.h). */
#include "hqio/error.h"

#include <stdarg.h>
#include <stdio.h>

int hqio_error_set(struct hqio_error *err, int code, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
		err->code = code;
	}
	return code;
}

void hqio_error_clear(struct hqio_error *err)
{
	if (err) {
		err->code = 0;
		err->msg[0] = '\0';
	}
}
