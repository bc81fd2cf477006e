/* pkg/reconcile pieces that need no loop: revisions from git's files, --listen, metrics text. */
#include "test.h"

#include "reconcile/reconcile.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[256];

static void setup(void)
{
	snprintf(root, sizeof(root), "/tmp/plumb-rc-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(root));
}

static void teardown(void)
{
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	ck_assert_int_eq(system(cmd), 0);
}

static void put(const char *rel, const char *text)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (char *p = path + strlen(root) + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			mkdir(path, 0755);
			*p = '/';
		}
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static const char *rev_of(const char *rel)
{
	static char out[128];
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	ck_assert_int_eq(plumb_reconcile_revision(path, out, sizeof(out)), 0);
	return out;
}

#define C1 "1111111111111111111111111111111111111111"
#define C2 "2222222222222222222222222222222222222222"
#define C3 "3333333333333333333333333333333333333333"

START_TEST(revision_from_a_checkout)
{
	put("repo/.git/HEAD", "ref: refs/heads/main\n");
	put("repo/.git/refs/heads/main", C1 "\n");
	put("repo/manifests/prod/a.yaml", "x: 1\n");
	ck_assert_str_eq(rev_of("repo/manifests/prod"), C1);
	ck_assert_str_eq(rev_of("repo/manifests/prod/a.yaml"), C1); /* a file's directory */
	/* a packed ref, once the loose one is gone */
	char path[512];
	snprintf(path, sizeof(path), "%s/repo/.git/refs/heads/main", root);
	unlink(path);
	put("repo/.git/packed-refs", "# pack-refs with: peeled fully-peeled sorted\n"
				     C3 " refs/heads/other\n" C2 " refs/heads/main\n^" C3 "\n");
	ck_assert_str_eq(rev_of("repo/manifests"), C2);
	/* a detached HEAD */
	put("repo/.git/HEAD", C3 "\n");
	ck_assert_str_eq(rev_of("repo"), C3);
}
END_TEST

START_TEST(revision_from_a_git_sync_worktree)
{
	/* git-sync v4: /git/.git is the repository, each checkout a worktree with a .git file */
	put("git/.git/HEAD", "ref: refs/heads/main\n");
	put("git/.git/refs/heads/main", C1 "\n");
	put("git/.git/worktrees/abc/HEAD", C2 "\n");
	put("git/.git/worktrees/abc/commondir", "../..\n");
	char text[512];
	snprintf(text, sizeof(text), "gitdir: %s/git/.git/worktrees/abc\n", root);
	put("git/.worktrees/abc/.git", text);
	put("git/.worktrees/abc/m/a.yaml", "x: 1\n");
	ck_assert_str_eq(rev_of("git/.worktrees/abc/m"), C2);
	/* a worktree on a branch resolves the ref in the common dir */
	put("git/.git/worktrees/abc/HEAD", "ref: refs/heads/main\n");
	ck_assert_str_eq(rev_of("git/.worktrees/abc/m"), C1);
	/* relative gitdir */
	put("git/.worktrees/abc/.git", "gitdir: ../../.git/worktrees/abc\n");
	ck_assert_str_eq(rev_of("git/.worktrees/abc"), C1);
}
END_TEST

START_TEST(revision_file_wins_and_none_is_empty)
{
	put("r/.git/HEAD", C1 "\n");
	put("r/deploy/REVISION", "v1.2.3 built by ci\n");
	put("r/deploy/m/a.yaml", "x: 1\n");
	ck_assert_str_eq(rev_of("r/deploy/m"), "v1.2.3 built by ci");
	ck_assert_str_eq(rev_of("r"), C1);
	put("plain/m/a.yaml", "x: 1\n");
	put("broken/.git/HEAD", "ref: refs/heads/gone\n");
	ck_assert_str_eq(rev_of("broken"), "");
	char out[64] = "junk";
	ck_assert_int_eq(plumb_reconcile_revision("/nonexistent/plumb", out, sizeof(out)),
			 PLUMB_ENOENT);
	ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(listen_addresses)
{
	char host[64];
	int port;
	struct plumb_err err;
	ck_assert_int_eq(plumb_reconcile_parse_listen("127.0.0.1:9464", host, sizeof(host), &port,
						      &err), 0);
	ck_assert_str_eq(host, "127.0.0.1");
	ck_assert_int_eq(port, 9464);
	ck_assert_int_eq(plumb_reconcile_parse_listen("[::1]:0", host, sizeof(host), &port, &err),
			 0);
	ck_assert_str_eq(host, "::1");
	ck_assert_int_eq(port, 0);
	static const char *const bad[] = { "9464", ":9464", "127.0.0.1:", "127.0.0.1:x",
					   "127.0.0.1:70000", "[::1]9464", "[::1" };
	for (size_t i = 0; i < PLUMB_ARRAY_LEN(bad); i++)
		ck_assert_msg(plumb_reconcile_parse_listen(bad[i], host, sizeof(host), &port,
							   &err) == PLUMB_EINVAL,
			      "%s", bad[i]);
}
END_TEST

START_TEST(histogram_is_cumulative)
{
	static const double bounds[] = { 0.1, 1, 10 };
	uint64_t counts[4] = { 0 };
	struct plumb_histogram h = { bounds, 3, counts, 0, 0 };
	plumb_histogram_observe(&h, 0.05);
	plumb_histogram_observe(&h, 0.1); /* le is inclusive */
	plumb_histogram_observe(&h, 5);
	plumb_histogram_observe(&h, 99);
	struct plumb_buf b = PLUMB_BUF_INIT;
	plumb_histogram_render(&h, "x_seconds", &b);
	ck_assert_str_eq(b.buf, "x_seconds_bucket{le=\"0.1\"} 2\n"
				"x_seconds_bucket{le=\"1\"} 2\n"
				"x_seconds_bucket{le=\"10\"} 3\n"
				"x_seconds_bucket{le=\"+Inf\"} 4\n"
				"x_seconds_sum 104.150000\n"
				"x_seconds_count 4\n");
	plumb_buf_release(&b);
}
END_TEST

START_TEST(label_values_are_escaped)
{
	struct plumb_buf b = PLUMB_BUF_INIT;
	plumb_metrics_label(&b, "a\"b\\c\nd");
	ck_assert_str_eq(b.buf, "\"a\\\"b\\\\c\\nd\"");
	plumb_buf_reset(&b);
	plumb_metrics_label(&b, NULL);
	ck_assert_str_eq(b.buf, "\"\"");
	plumb_buf_release(&b);
}
END_TEST

Suite *reconcile_suite(void)
{
	Suite *s = suite_create("reconcile");
	TCase *tc = tcase_create("revision");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, revision_from_a_checkout);
	tcase_add_test(tc, revision_from_a_git_sync_worktree);
	tcase_add_test(tc, revision_file_wins_and_none_is_empty);
	suite_add_tcase(s, tc);
	tc = tcase_create("status");
	tcase_add_test(tc, listen_addresses);
	tcase_add_test(tc, histogram_is_cumulative);
	tcase_add_test(tc, label_values_are_escaped);
	suite_add_tcase(s, tc);
	return s;
}
