/* host/quarantine.c: records that outlive the process (hqio run, hqio vfio). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "quarantine.h"

static void test_mark_get_clear(void **state)
{
	(void)state;
	char base[] = "/tmp/hqio-q-XXXXXX";
	assert_non_null(mkdtemp(base));
	char dir[256];
	snprintf(dir, sizeof(dir), "%s/a/b", base); /* created on demand */
	struct hqio_bdf b = { .bus = 1 }, other = { .bus = 2 };
	struct hqio_error err = { 0 };
	char why[HQIO_QUARANTINE_REASON_MAX];
	assert_false(hqio_quarantine_get(dir, b, why, sizeof(why)));
	assert_int_equal(hqio_quarantine_mark(dir, b, "bus reset\nnot\tverified", &err), 0);
	assert_true(hqio_quarantine_get(dir, b, why, sizeof(why)));
	assert_string_equal(why, "bus reset not verified"); /* one line, no controls */
	assert_false(hqio_quarantine_get(dir, other, why, sizeof(why)));
	/* A short buffer truncates, NULL only asks. */
	char small[5];
	assert_true(hqio_quarantine_get(dir, b, small, sizeof(small)));
	assert_string_equal(small, "bus ");
	assert_true(hqio_quarantine_get(dir, b, NULL, 0));
	/* Marking again replaces the reason. */
	assert_int_equal(hqio_quarantine_mark(dir, b, NULL, &err), 0);
	assert_true(hqio_quarantine_get(dir, b, why, sizeof(why)));
	assert_string_equal(why, "");
	assert_int_equal(hqio_quarantine_clear(dir, b, &err), 0);
	assert_false(hqio_quarantine_get(dir, b, why, sizeof(why)));
	assert_int_equal(hqio_quarantine_clear(dir, b, &err), 0); /* none: fine */
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	assert_int_equal(system(cmd), 0);
}

static void test_mark_fails_clearly(void **state)
{
	(void)state;
	char base[] = "/tmp/hqio-q-XXXXXX";
	assert_non_null(mkdtemp(base));
	char file[256], dir[300];
	snprintf(file, sizeof(file), "%s/file", base);
	FILE *f = fopen(file, "w");
	assert_non_null(f);
	fclose(f);
	snprintf(dir, sizeof(dir), "%s/sub", file); /* under a regular file */
	struct hqio_bdf b = { .bus = 1 };
	struct hqio_error err = { 0 };
	assert_true(hqio_quarantine_mark(dir, b, "x", &err) < 0);
	assert_non_null(strstr(err.msg, "cannot create"));
	assert_false(hqio_quarantine_get(dir, b, NULL, 0));
	unlink(file);
	rmdir(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mark_get_clear),
		cmocka_unit_test(test_mark_fails_clearly),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
