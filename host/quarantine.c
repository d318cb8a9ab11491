#include "quarantine.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void record_path(const char *dir, struct hqio_bdf bdf, char *out, size_t len)
{
	char b[HQIO_BDF_STR_MAX];
	snprintf(out, len, "%s/%s.quarantined", dir ? dir : HQIO_STATE_DIR_DEFAULT,
		 hqio_bdf_format(bdf, b, sizeof(b)));
}

int hqio_state_mkdirs(const char *dir)
{
	char p[PATH_MAX];
	if (snprintf(p, sizeof(p), "%s", dir) >= (int)sizeof(p))
		return -ENAMETOOLONG;
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) != 0 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	return mkdir(p, 0755) != 0 && errno != EEXIST ? -errno : 0;
}

int hqio_quarantine_mark(const char *dir, struct hqio_bdf bdf, const char *reason,
			 struct hqio_error *err)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8], line[HQIO_QUARANTINE_REASON_MAX];
	const char *d = dir ? dir : HQIO_STATE_DIR_DEFAULT;
	int rc = hqio_state_mkdirs(d);
	if (rc)
		return hqio_error_set(err, rc, "quarantine record: cannot create %s: %s", d,
				      strerror(-rc));
	snprintf(line, sizeof(line), "%s", reason ? reason : "");
	for (char *c = line; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = ' ';
	record_path(d, bdf, path, sizeof(path));
	/* Written whole, then renamed: a reader never sees half a record. */
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (!f)
		return hqio_error_set(err, -errno, "quarantine record %s: %s", tmp,
				      strerror(errno));
	bool ok = fprintf(f, "%s\n", line) >= 0;
	ok = fclose(f) == 0 && ok;
	if (!ok || rename(tmp, path) != 0) {
		int e = errno ? errno : EIO;
		unlink(tmp);
		return hqio_error_set(err, -e, "quarantine record %s: %s", path, strerror(e));
	}
	return 0;
}

bool hqio_quarantine_get(const char *dir, struct hqio_bdf bdf, char *reason, size_t len)
{
	char path[PATH_MAX];
	record_path(dir, bdf, path, sizeof(path));
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	if (reason && len) {
		reason[0] = '\0';
		if (fgets(reason, (int)len, f))
			reason[strcspn(reason, "\n")] = '\0';
	}
	fclose(f);
	return true;
}

int hqio_quarantine_clear(const char *dir, struct hqio_bdf bdf, struct hqio_error *err)
{
	char path[PATH_MAX];
	record_path(dir, bdf, path, sizeof(path));
	if (unlink(path) != 0 && errno != ENOENT)
		return hqio_error_set(err, -errno, "quarantine record %s: %s", path,
				      strerror(errno));
	return 0;
}
