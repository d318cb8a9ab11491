/*
 * Tests that build a fake tree under /tmp (sysfs, /dev/vfio) with shell
 * commands: `root` is the tree's directory (the test's setup names it),
 * sh() runs one formatted command and fails the test if it fails.
 * Include after <cmocka.h>.
 */
#ifndef HQIO_TESTS_SHELL_FIXTURE_H
#define HQIO_TESTS_SHELL_FIXTURE_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static char root[256];

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	assert_int_equal(system(cmd), 0);
}

#endif
