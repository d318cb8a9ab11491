/* lspci text dumps into a struct hqio_system (see dump_load.h). */
#include "dump_load.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int hqio_dump_load(const char *path, struct hqio_system *sys, struct hqio_error *err)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (!f)
		return hqio_error_set(err, -errno, "%s: %s", path, strerror(errno));
	size_t cap = 65536, len = 0;
	char *text = malloc(cap);
	while (text) {
		len += fread(text + len, 1, cap - len, f);
		if (len < cap)
			break;
		if (cap >= (64u << 20)) {
			free(text);
			text = NULL;
			errno = EFBIG;
			break;
		}
		char *p = realloc(text, cap * 2);
		if (!p) {
			free(text);
			text = NULL;
			break;
		}
		text = p;
		cap *= 2;
	}
	int rerr = ferror(f);
	if (f != stdin)
		fclose(f);
	if (!text)
		return hqio_error_set(err, -ENOMEM, "%s: too large or out of memory", path);
	if (rerr) {
		free(text);
		return hqio_error_set(err, -EIO, "%s: read error", path);
	}
	struct hqio_dump_dev *devs = NULL;
	size_t n = 0;
	struct hqio_error perr = { 0 };
	int rc = hqio_lspci_parse(text, len, &devs, &n, &perr);
	free(text);
	if (rc < 0)
		return hqio_error_set(err, rc, "%s: %s", path, perr.msg);
	if (n == 0) {
		free(devs);
		return hqio_error_set(
			err, -ENODATA,
			"%s: no device found (expected `lspci -x`, `-xxx` or `-xxxx` output)",
			path);
	}
	struct hqio_pci_node *node = calloc(1, sizeof(*node));
	for (size_t i = 0; node && i < n; i++) {
		memset(node, 0, sizeof(*node));
		node->bdf = devs[i].bdf;
		memcpy(node->cfg, devs[i].cfg, sizeof(node->cfg));
		node->cfg_len = devs[i].len;
		if (!hqio_system_add(sys, node)) {
			rc = -ENOMEM;
			break;
		}
	}
	if (!node)
		rc = -ENOMEM;
	free(node);
	free(devs);
	if (rc < 0)
		return hqio_error_set(err, rc, "out of memory");
	return 0;
}
