/*
 * plumb validate and plumb render: read the manifests (the only file I/O of these commands),
 * hand the bytes to pkg/manifest, print the summary, the errors or the expanded set.
 */
#include "cli.h"
#include "manifest/manifest.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char validate_usage[] =
	"usage: plumb validate [-f PATH]... [--output text|json]\n\n"
	"Checks every manifest under each PATH (a file, or a directory read recursively for\n"
	"*.yaml and *.yml; default .) and prints a summary, or every problem with its\n"
	"file:line:column, field path, source line and a caret. Makes no AWS call.\n\n"
	"  -f, --manifests PATH   manifests to read (repeatable)\n"
	"  -o, --output FORMAT    text (default) or json\n\n"
	"Exit status: 0 valid, 1 invalid, 64 bad command line.\n";

static const char render_usage[] =
	"usage: plumb render [-f PATH]...\n\n"
	"Prints the fully expanded set as YAML: shorthand expressions and scaleToZero expanded,\n"
	"Defaults applied, references resolved, physical names and spec hashes computed\n"
	"(metadata.annotations). Makes no AWS call. Exit status: 0, or 1 when invalid.\n";

/* Unreadable paths become diagnostics of the set. */
int plumb__cli_load(struct plumb_cli *cli, struct plumb_manifest_set *set)
{
	plumb_manifest_init(set);
	for (size_t i = 0; i < cli->manifests.len; i++) {
		struct plumb_vec paths = PLUMB_VEC_INIT;
		struct plumb_err err;
		plumb_err_clear(&err);
		if (plumb_fs_find_manifests(cli->manifests.items[i], &paths, &err) != 0) {
			plumb_manifest_file_error(set, cli->manifests.items[i], err.msg);
		} else if (paths.len == 0) {
			plumb_manifest_file_error(set, cli->manifests.items[i],
						  "no *.yaml or *.yml files found");
		}
		for (size_t j = 0; j < paths.len; j++) {
			struct plumb_buf b = PLUMB_BUF_INIT;
			plumb_err_clear(&err);
			int rc = plumb_fs_read(paths.items[j], PLUMB_MANIFEST_MAX_FILE, &b, &err);
			if (rc == PLUMB_ELIMIT)
				plumb_manifest_file_error(set, paths.items[j], "file is larger than 16 MiB");
			else if (rc)
				plumb_manifest_file_error(set, paths.items[j], err.msg);
			else if (plumb_manifest_add(set, paths.items[j], b.buf, b.len) != 0)
				rc = PLUMB_ENOMEM;
			plumb_buf_release(&b);
			free(paths.items[j]);
			if (rc == PLUMB_ENOMEM) {
				for (size_t k = j + 1; k < paths.len; k++)
					free(paths.items[k]);
				plumb_vec_release(&paths);
				return rc;
			}
		}
		plumb_vec_release(&paths);
	}
	return plumb_manifest_finish(set);
}

static void print_diags(const struct plumb_manifest_set *set, bool color)
{
	struct plumb_buf b = PLUMB_BUF_INIT;
	plumb_manifest_render_diags(set, &b, color);
	fputs(b.buf, stderr);
	plumb_buf_release(&b);
}

int plumb_cmd_validate(int argc, char **argv)
{
	struct plumb_cli cli;
	int nrest;
	char **rest;
	int rc = plumb_cli_parse(&cli, "validate", validate_usage, 0, argc, argv, &nrest, &rest);
	if (rc)
		return rc < 0 ? PLUMB_EXIT_OK : rc;
	if (nrest) {
		rc = plumb_cli_usage_error("validate", "unknown argument '%s'", rest[0]);
		free(rest);
		plumb_cli_release(&cli);
		return rc;
	}
	free(rest);
	struct plumb_manifest_set set;
	if (plumb__cli_load(&cli, &set) != 0) {
		fprintf(stderr, "plumb validate: out of memory\n");
		plumb_manifest_release(&set);
		plumb_cli_release(&cli);
		return PLUMB_EXIT_FAIL;
	}
	size_t errors = plumb_manifest_errors(&set);
	if (cli.output == PLUMB_OUTPUT_JSON) {
		json_t *j = plumb_manifest_report_json(&set);
		json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
		json_decref(j);
	} else {
		print_diags(&set, cli.color && isatty(2));
		if (errors == 0) {
			printf("valid: %zu file%s, ", set.files.len, set.files.len == 1 ? "" : "s");
			bool first = true;
			for (int k = 0; k < PLUMB_KIND__COUNT; k++) {
				if (!set.counts[k])
					continue;
				printf("%s%u %s", first ? "" : ", ", set.counts[k], plumb_kind_name(k));
				first = false;
			}
			printf("%s -> %zu resources\n", first ? "no documents" : "", set.resources.len);
		} else {
			fprintf(stderr, "invalid: %zu error%s in %zu file%s\n", errors,
				errors == 1 ? "" : "s", set.files.len, set.files.len == 1 ? "" : "s");
		}
	}
	plumb_manifest_release(&set);
	plumb_cli_release(&cli);
	return errors ? PLUMB_EXIT_FAIL : PLUMB_EXIT_OK;
}

int plumb_cmd_render(int argc, char **argv)
{
	struct plumb_cli cli;
	int nrest;
	char **rest;
	int rc = plumb_cli_parse(&cli, "render", render_usage, 0, argc, argv, &nrest, &rest);
	if (rc)
		return rc < 0 ? PLUMB_EXIT_OK : rc;
	free(rest);
	struct plumb_manifest_set set;
	rc = plumb__cli_load(&cli, &set);
	if (rc == 0 && plumb_manifest_errors(&set) == 0) {
		struct plumb_buf b = PLUMB_BUF_INIT;
		rc = plumb_manifest_render_yaml(&set, &b);
		fputs(b.buf, stdout);
		plumb_buf_release(&b);
	} else {
		print_diags(&set, cli.color && isatty(2));
		rc = 1;
	}
	plumb_manifest_release(&set);
	plumb_cli_release(&cli);
	return rc ? PLUMB_EXIT_FAIL : PLUMB_EXIT_OK;
}
