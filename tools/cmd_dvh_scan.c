/*
 * hqio dvh-scan: the static driver-virtualization-hole scanner over files and
 * directories (recursive, *.c and *.h). The scanning itself is lib/dvh
 * (include/hqio/dvh_scan.h); this file walks, reads, runs two passes (learn
 * identity fields across all files, then report) on N threads and prints.
 * docs/dvh.md describes rules, output and exit codes.
 */
#include "commands.h"
#include "json.h"

#include "hqio/dvh_scan.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Files larger than this are reported and skipped (largest kernel source
 * file in the evaluation trees is ~15 MiB: generated amdgpu register headers). */
#define DVH_FILE_MAX_BYTES (64u << 20)
#define DVH_JOBS_MAX	   64

static const char usage_text[] =
	"usage: hqio dvh-scan PATH... [--json] [--rules LIST] [--jobs N]\n"
	"\n"
	"Find driver virtualization holes in C driver sources: places where a\n"
	"bare-metal driver reaches configuration space, BDF, BAR addresses, MSI-X or\n"
	"platform resources behind the monitor's back (docs/dvh-rules.md).\n"
	"PATH is a file or a directory (scanned recursively for *.c and *.h).\n"
	"\n"
	"  --json        one JSON document: findings with file, line, rule, function,\n"
	"                expression, explanation; plus errors and totals\n"
	"  --rules LIST  comma-separated rule ids (default: all); --rules help lists them\n"
	"  --jobs N      scan with N threads (default 2, at most 64)\n"
	"  -h, --help    this text\n"
	"\n"
	"Output: FILE:LINE: RULE: EXPRESSION — EXPLANATION [in FUNCTION]\n"
	"Exit status: 0 scanned (findings or not), 1 a file could not be read,\n"
	"2 wrong arguments.\n";

struct file_job {
	char *path;
	struct hqio_dvh_result res;
	char err[160];
	size_t lines;
};

struct files {
	struct file_job *v;
	size_t n, cap;
};

struct work {
	struct files *fs;
	size_t next;
	pthread_mutex_t lock;
	struct hqio_dvh_opts opts;
	bool learn;
};

static bool has_ext(const char *name)
{
	size_t l = strlen(name);
	return l > 2 && name[l - 2] == '.' && (name[l - 1] == 'c' || name[l - 1] == 'h');
}

static int add_file(struct files *fs, const char *path)
{
	if (fs->n == fs->cap) {
		size_t cap = fs->cap ? fs->cap * 2 : 64;
		struct file_job *v = realloc(fs->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		fs->v = v;
		fs->cap = cap;
	}
	struct file_job *j = &fs->v[fs->n];
	memset(j, 0, sizeof(*j));
	j->path = strdup(path);
	if (!j->path)
		return -ENOMEM;
	fs->n++;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Walks dir in sorted order so output is deterministic. */
static int walk(struct files *fs, const char *dir, int depth)
{
	DIR *d;
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;

	if (depth > 64)
		return 0; /* symlink loops */
	d = opendir(dir);
	if (!d) {
		fprintf(stderr, "hqio dvh-scan: %s: %s\n", dir, strerror(errno));
		return 1;
	}
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			char **v = realloc(names, cap * sizeof(*v));
			if (!v) {
				rc = -ENOMEM;
				break;
			}
			names = v;
		}
		names[n] = strdup(e->d_name);
		if (!names[n]) {
			rc = -ENOMEM;
			break;
		}
		n++;
	}
	closedir(d);
	if (!rc && n > 1)
		qsort(names, n, sizeof(*names), cmp_str);
	for (size_t k = 0; k < n && rc >= 0; k++) {
		size_t l = strlen(dir) + strlen(names[k]) + 2;
		char *p = malloc(l);
		struct stat st;
		if (!p) {
			rc = -ENOMEM;
			break;
		}
		snprintf(p, l, "%s/%s", dir, names[k]);
		if (stat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
			int r = walk(fs, p, depth + 1);
			if (r)
				rc = r < 0 ? r : (rc ? rc : r);
		} else if (has_ext(names[k])) {
			if (add_file(fs, p))
				rc = -ENOMEM;
		}
		free(p);
	}
	for (size_t k = 0; k < n; k++)
		free(names[k]);
	free(names);
	return rc;
}

static char *read_file(const char *path, size_t *len, char *err, size_t errcap)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	char *buf;

	if (!f) {
		snprintf(err, errcap, "%s", strerror(errno));
		return NULL;
	}
	if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode)) {
		snprintf(err, errcap, "not a regular file");
		fclose(f);
		return NULL;
	}
	if ((unsigned long long)st.st_size > DVH_FILE_MAX_BYTES) {
		snprintf(err, errcap, "larger than %u MiB, skipped", DVH_FILE_MAX_BYTES >> 20);
		fclose(f);
		return NULL;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		snprintf(err, errcap, "out of memory");
		fclose(f);
		return NULL;
	}
	*len = fread(buf, 1, (size_t)st.st_size, f);
	if (ferror(f)) {
		snprintf(err, errcap, "%s", strerror(errno ? errno : EIO));
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	buf[*len] = 0;
	return buf;
}

static void *worker(void *arg)
{
	struct work *w = arg;
	for (;;) {
		pthread_mutex_lock(&w->lock);
		size_t k = w->next++;
		pthread_mutex_unlock(&w->lock);
		if (k >= w->fs->n)
			return NULL;
		struct file_job *j = &w->fs->v[k];
		size_t len = 0;
		char *buf = read_file(j->path, &len, j->err, sizeof(j->err));
		if (!buf)
			continue;
		j->lines = 0;
		for (size_t c = 0; c < len; c++)
			j->lines += buf[c] == '\n';
		hqio_dvh_result_free(&j->res);
		struct hqio_dvh_opts o = w->opts;
		o.learn_only = w->learn;
		if (hqio_dvh_scan_buffer(buf, len, &o, &j->res))
			snprintf(j->err, sizeof(j->err), "out of memory while scanning");
		free(buf);
	}
}

static int run_pass(struct files *fs, struct hqio_dvh_opts *opts, bool learn, int jobs)
{
	struct work w = { .fs = fs, .opts = *opts, .learn = learn };
	pthread_t th[DVH_JOBS_MAX];
	int started = 0;

	pthread_mutex_init(&w.lock, NULL);
	for (int k = 1; k < jobs; k++)
		if (pthread_create(&th[started], NULL, worker, &w) == 0)
			started++;
	worker(&w);
	for (int k = 0; k < started; k++)
		pthread_join(th[k], NULL);
	pthread_mutex_destroy(&w.lock);
	return 0;
}

static int parse_rules(const char *list, unsigned *mask)
{
	const char *p = list;
	*mask = 0;
	while (*p) {
		const char *e = strchr(p, ',');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		int r = hqio_dvh_rule_parse(p, l);
		if (r < 0) {
			fprintf(stderr,
				"hqio dvh-scan: unknown rule '%.*s' (--rules help lists them)\n",
				(int)l, p);
			return -1;
		}
		*mask |= 1u << r;
		p += l;
		if (*p == ',')
			p++;
	}
	if (!*mask) {
		fprintf(stderr, "hqio dvh-scan: --rules needs at least one rule id\n");
		return -1;
	}
	return 0;
}

static int cmp_finding(const void *a, const void *b)
{
	const struct hqio_dvh_finding *x = a, *y = b;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return (int)x->rule - (int)y->rule;
}

int cmd_dvh_scan(int argc, char **argv)
{
	struct files fs = { 0 };
	bool json = false;
	unsigned rules = 0;
	int jobs = 2, rc = HQIO_EXIT_OK, npaths = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(usage_text, stdout);
			return HQIO_EXIT_OK;
		}
		if (!strcmp(a, "--json")) {
			json = true;
		} else if (!strcmp(a, "--rules") || !strncmp(a, "--rules=", 8)) {
			const char *v = a[7] == '=' ? a + 8 : (i + 1 < argc ? argv[++i] : NULL);
			if (!v) {
				fprintf(stderr, "hqio dvh-scan: --rules needs a list\n");
				return HQIO_EXIT_USAGE;
			}
			if (!strcmp(v, "help")) {
				for (int r = 0; r < HQIO_DVH_RULE_COUNT; r++)
					printf("%-20s %s\n", hqio_dvh_rule_name(r),
					       hqio_dvh_rule_summary(r));
				return HQIO_EXIT_OK;
			}
			if (parse_rules(v, &rules))
				return HQIO_EXIT_USAGE;
		} else if (!strcmp(a, "--jobs") || !strncmp(a, "--jobs=", 7)) {
			const char *v = a[6] == '=' ? a + 7 : (i + 1 < argc ? argv[++i] : NULL);
			char *e;
			long n = v ? strtol(v, &e, 10) : 0;
			if (!v || *e || n < 1 || n > DVH_JOBS_MAX) {
				fprintf(stderr,
					"hqio dvh-scan: --jobs needs a number from 1 to %d\n",
					DVH_JOBS_MAX);
				return HQIO_EXIT_USAGE;
			}
			jobs = (int)n;
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "hqio dvh-scan: unknown option '%s'\n%s", a, usage_text);
			return HQIO_EXIT_USAGE;
		} else {
			npaths++;
		}
	}
	if (!npaths) {
		fprintf(stderr, "hqio dvh-scan: no PATH given\n%s", usage_text);
		return HQIO_EXIT_USAGE;
	}
	/* Collect the files. */
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		struct stat st;
		if (!strcmp(a, "--rules") || !strcmp(a, "--jobs")) {
			i++;
			continue;
		}
		if (a[0] == '-' && a[1])
			continue;
		if (stat(a, &st)) {
			fprintf(stderr, "hqio dvh-scan: %s: %s\n", a, strerror(errno));
			rc = HQIO_EXIT_FAIL;
			continue;
		}
		int r = S_ISDIR(st.st_mode) ? walk(&fs, a, 0) : add_file(&fs, a);
		if (r < 0) {
			fprintf(stderr, "hqio dvh-scan: out of memory\n");
			rc = HQIO_EXIT_FAIL;
			break;
		}
		if (r > 0)
			rc = HQIO_EXIT_FAIL;
	}

	/* Pass 1: identity fields across all files; pass 2: findings. */
	struct hqio_dvh_opts opts = { .rules = rules };
	struct hqio_dvh_result fields = { 0 };
	run_pass(&fs, &opts, true, jobs);
	for (size_t k = 0; k < fs.n; k++) {
		hqio_dvh_fields_merge(&fields, fs.v[k].res.fields, fs.v[k].res.nfields);
		hqio_dvh_result_free(&fs.v[k].res);
		fs.v[k].err[0] = 0;
	}
	opts.fields = fields.fields;
	opts.nfields = fields.nfields;
	run_pass(&fs, &opts, false, jobs);

	struct json j;
	size_t nfind = 0, nlines = 0, nerr = 0;
	if (json) {
		json_init(&j, stdout);
		json_obj(&j, NULL);
		json_arr(&j, "findings");
	}
	for (size_t k = 0; k < fs.n; k++) {
		struct file_job *f = &fs.v[k];
		nlines += f->lines;
		if (f->err[0]) {
			fprintf(stderr, "hqio dvh-scan: %s: %s\n", f->path, f->err);
			nerr++;
			rc = HQIO_EXIT_FAIL;
		}
		if (f->res.n > 1)
			qsort(f->res.v, f->res.n, sizeof(*f->res.v), cmp_finding);
		for (size_t m = 0; m < f->res.n; m++) {
			const struct hqio_dvh_finding *d = &f->res.v[m];
			nfind++;
			if (json) {
				json_obj(&j, NULL);
				json_str(&j, "file", f->path);
				json_int(&j, "line", d->line);
				json_str(&j, "rule", hqio_dvh_rule_name(d->rule));
				json_str(&j, "function", d->func);
				json_str(&j, "expression", d->expr);
				json_str(&j, "explanation", d->why);
				json_int(&j, "more_uses", d->more_uses);
				json_obj_end(&j);
			} else {
				printf("%s:%u: %s: %s — %s", f->path, d->line,
				       hqio_dvh_rule_name(d->rule), d->expr, d->why);
				if (d->func[0])
					printf(" [in %s()", d->func);
				if (d->func[0] && d->more_uses)
					printf(", +%u more", d->more_uses);
				if (d->func[0])
					printf("]");
				printf("\n");
			}
		}
	}
	if (json) {
		json_arr_end(&j);
		json_arr(&j, "errors");
		for (size_t k = 0; k < fs.n; k++)
			if (fs.v[k].err[0]) {
				json_obj(&j, NULL);
				json_str(&j, "file", fs.v[k].path);
				json_str(&j, "error", fs.v[k].err);
				json_obj_end(&j);
			}
		json_arr_end(&j);
		json_int(&j, "files_scanned", (long long)fs.n);
		json_int(&j, "lines_scanned", (long long)nlines);
		json_int(&j, "finding_count", (long long)nfind);
		json_obj_end(&j);
		json_end(&j);
	} else {
		fprintf(stderr,
			"hqio dvh-scan: %zu files, %zu lines, %zu findings, %zu unreadable\n", fs.n,
			nlines, nfind, nerr);
	}
	for (size_t k = 0; k < fs.n; k++) {
		hqio_dvh_result_free(&fs.v[k].res);
		free(fs.v[k].path);
	}
	free(fs.v);
	hqio_dvh_result_free(&fields);
	return rc;
}
