/*
 * libFuzzer target: feed arbitrary bytes to hqio_lspci_parse() as a
 * buffer without a terminating NUL, then decode every device it returns.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hqio/pci.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hqio_dump_dev *devs = NULL;
	struct hqio_pci_info *info;
	struct hqio_error err;
	size_t n = 0, i;
	char *text;

	/* An exactly sized copy so ASan flags any read past size. */
	text = malloc(size ? size : 1);
	if (!text)
		return 0;
	if (size)
		memcpy(text, data, size);

	if (hqio_lspci_parse(text, size, &devs, &n, &err) == 0 && n) {
		info = malloc(sizeof(*info));
		if (info) {
			for (i = 0; i < n; i++)
				hqio_pci_decode(devs[i].cfg, devs[i].len, NULL, info, &err);
			free(info);
		}
	}
	free(devs);
	free(text);
	return 0;
}
