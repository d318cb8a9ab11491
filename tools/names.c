/* Loads pci.ids (the pciutils name database) and forwards lookups to lib. */
#include "names.h"

#include "hqio/pci.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 1 << 20, n = 0;
	char *buf = malloc(cap);
	while (buf) {
		size_t r = fread(buf + n, 1, cap - n, f);
		n += r;
		if (n < cap)
			break;
		char *p = realloc(buf, cap * 2);
		if (!p) {
			free(buf);
			buf = NULL;
			break;
		}
		buf = p;
		cap *= 2;
	}
	fclose(f);
	if (buf)
		*len = n;
	return buf;
}

void hqio_names_load(struct hqio_names *n)
{
	const char *env = getenv("HQIO_PCI_IDS");
	const char *paths[] = { env, "/usr/share/misc/pci.ids", "/usr/share/hwdata/pci.ids",
				"/usr/share/pci.ids" };
	memset(n, 0, sizeof(*n));
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		if (!paths[i] || !paths[i][0])
			continue;
		n->text = slurp(paths[i], &n->len);
		if (n->text) {
			snprintf(n->path, sizeof(n->path), "%s", paths[i]);
			return;
		}
		if (i == 0)
			return; /* an explicit path that fails means "no names" */
	}
}

void hqio_names_free(struct hqio_names *n)
{
	free(n->text);
	n->text = NULL;
}

const char *hqio_names_vendor(const struct hqio_names *n, uint16_t v, char *buf, size_t len)
{
	return n->text ? hqio_ids_vendor(n->text, n->len, v, buf, len) : NULL;
}

const char *hqio_names_device(const struct hqio_names *n, uint16_t v, uint16_t d, char *buf,
			      size_t len)
{
	return n->text ? hqio_ids_device(n->text, n->len, v, d, buf, len) : NULL;
}

const char *hqio_names_class(const struct hqio_names *n, uint32_t cls, char *buf, size_t len)
{
	return n->text ? hqio_ids_class(n->text, n->len, cls, buf, len) : NULL;
}
