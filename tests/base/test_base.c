/* pkg/base: buffers, arena, map, sha-256, time, logging, manifest discovery. */
#include "base/base.h"
#include "test.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

START_TEST(buf_grows_and_stays_terminated)
{
	struct plumb_buf b = PLUMB_BUF_INIT;
	ck_assert_str_eq(b.buf, "");
	for (int i = 0; i < 1000; i++)
		ck_assert_int_eq(plumb_buf_addf(&b, "%d,", i % 10), 0);
	ck_assert_uint_eq(b.len, 2000);
	ck_assert_int_eq(b.buf[b.len], 0);
	plumb_buf_truncate(&b, 4);
	ck_assert_str_eq(b.buf, "0,1,");
	size_t n;
	char *p = plumb_buf_detach(&b, &n);
	ck_assert_str_eq(p, "0,1,");
	ck_assert_uint_eq(n, 4);
	ck_assert_str_eq(b.buf, "");
	free(p);
	plumb_buf_release(&b);
}
END_TEST

START_TEST(buf_cap_refuses_and_keeps_contents)
{
	struct plumb_buf b;
	plumb_buf_init(&b, 8);
	ck_assert_int_eq(plumb_buf_adds(&b, "12345"), 0);
	ck_assert_int_eq(plumb_buf_adds(&b, "6789"), PLUMB_ELIMIT);
	ck_assert_str_eq(b.buf, "12345");
	ck_assert_int_eq(plumb_buf_addf(&b, "%s", "abcd"), PLUMB_ELIMIT);
	ck_assert_str_eq(b.buf, "12345");
	ck_assert_int_eq(plumb_buf_adds(&b, "678"), 0);
	ck_assert_str_eq(b.buf, "12345678");
	plumb_buf_release(&b);
}
END_TEST

START_TEST(arena_aligns_and_copies)
{
	struct plumb_arena a = PLUMB_ARENA_INIT;
	for (int i = 0; i < 10000; i++) {
		void *p = plumb_arena_alloc(&a, (size_t)(i % 37) + 1);
		ck_assert_ptr_nonnull(p);
		ck_assert_uint_eq((uintptr_t)p % 16, 0);
	}
	void *big = plumb_arena_alloc(&a, 1 << 20);
	ck_assert_ptr_nonnull(big);
	memset(big, 1, 1 << 20);
	ck_assert_str_eq(plumb_arena_printf(&a, "%s-%d", "x", 7), "x-7");
	ck_assert_str_eq(plumb_arena_strndup(&a, "abcdef", 3), "abc");
	plumb_arena_release(&a);
	ck_assert_ptr_null(a.head);
}
END_TEST

START_TEST(map_put_get_and_duplicates)
{
	struct plumb_map m = PLUMB_MAP_INIT;
	char keys[2000][16];
	for (int i = 0; i < 2000; i++) {
		snprintf(keys[i], sizeof(keys[i]), "k%d", i);
		ck_assert_int_eq(plumb_map_put(&m, keys[i], keys[i]), 0);
	}
	ck_assert_int_eq(plumb_map_put(&m, "k5", NULL), PLUMB_EEXIST);
	for (int i = 0; i < 2000; i++)
		ck_assert_ptr_eq(plumb_map_get(&m, keys[i]), keys[i]);
	ck_assert_ptr_null(plumb_map_get(&m, "nope"));
	ck_assert_uint_eq(m.len, 2000);
	plumb_map_release(&m);
}
END_TEST

static const struct {
	const char *in;
	size_t repeat;
	const char *hex;
} sha_vectors[] = {
	/* FIPS 180-4 examples and NIST CAVS short messages */
	{ "", 1, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
	{ "abc", 1, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
	{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1,
	  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
	{ "a", 1000000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0" },
};

START_TEST(sha256_vectors)
{
	for (size_t i = 0; i < PLUMB_ARRAY_LEN(sha_vectors); i++) {
		struct plumb_sha256 s;
		uint8_t out[32];
		char hex[65];
		plumb_sha256_init(&s);
		for (size_t r = 0; r < sha_vectors[i].repeat; r++)
			plumb_sha256_update(&s, sha_vectors[i].in, strlen(sha_vectors[i].in));
		plumb_sha256_final(&s, out);
		plumb_hex(out, 32, hex);
		ck_assert_str_eq(hex, sha_vectors[i].hex);
	}
}
END_TEST

START_TEST(sha256_split_updates_match_one_shot)
{
	unsigned char data[1000];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)(i * 7 + 3);
	for (size_t n = 0; n <= sizeof(data); n += 13) {
		uint8_t a[32], b[32];
		plumb_sha256(data, n, a);
		struct plumb_sha256 s;
		plumb_sha256_init(&s);
		for (size_t off = 0; off < n; off += 5)
			plumb_sha256_update(&s, data + off, n - off < 5 ? n - off : 5);
		plumb_sha256_final(&s, b);
		ck_assert_mem_eq(a, b, 32);
	}
}
END_TEST

START_TEST(iso8601_round_trip)
{
	int64_t ms;
	char out[21];
	ck_assert_int_eq(plumb_time_parse_iso8601("2024-01-02T03:04:05Z", &ms), 0);
	ck_assert_int_eq(ms, 1704164645000LL);
	plumb_time_iso8601(ms, out);
	ck_assert_str_eq(out, "2024-01-02T03:04:05Z");
	ck_assert_int_eq(plumb_time_parse_iso8601("2024-01-02T03:04:05.250+00:00", &ms), 0);
	ck_assert_int_eq(ms, 1704164645250LL);
	ck_assert_int_eq(plumb_time_parse_iso8601("1970-01-01T00:00:00Z", &ms), 0);
	ck_assert_int_eq(ms, 0);
	ck_assert_int_eq(plumb_time_parse_iso8601("2024-13-02T03:04:05Z", &ms), PLUMB_EPARSE);
	ck_assert_int_eq(plumb_time_parse_iso8601("2024-01-02", &ms), PLUMB_EPARSE);
	ck_assert_int_eq(plumb_time_parse_iso8601("2024-01-02T03:04:05Zjunk", &ms), PLUMB_EPARSE);
}
END_TEST

static void render(struct plumb_buf *b, enum plumb_log_format f, ...)
{
	va_list ap;
	va_start(ap, f);
	plumb_log_render(b, f, 1704164645007LL, PLUMB_LOG_INFO, "apply.start", ap);
	va_end(ap);
}

START_TEST(log_lines_and_redaction)
{
	struct plumb_buf b = PLUMB_BUF_INIT;
	render(&b, PLUMB_LOG_LOGFMT, "resource", "Endpoint/a b", "secret_access_key", "wJal",
	       "SessionToken", "xyz", (char *)NULL);
	ck_assert_str_eq(b.buf, "ts=2024-01-02T03:04:05.007Z level=info event=apply.start "
				"resource=\"Endpoint/a b\" secret_access_key=[redacted] "
				"SessionToken=[redacted]\n");
	plumb_buf_reset(&b);
	render(&b, PLUMB_LOG_JSON, "msg", "say \"hi\"\n", (char *)NULL);
	ck_assert_str_eq(b.buf, "{\"ts\":\"2024-01-02T03:04:05.007Z\",\"level\":\"info\","
				"\"event\":\"apply.start\",\"msg\":\"say \\\"hi\\\"\\n\"}\n");
	plumb_buf_release(&b);
}
END_TEST

static void touch(const char *path)
{
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("x: 1\n", f);
	fclose(f);
}

START_TEST(find_manifests_sorted_and_filtered)
{
	char dir[] = "/tmp/plumb-fs-XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	char p[512];
	const char *files[] = { "b.yaml", "a.yml", "c.txt", ".hidden.yaml", "sub/z.yaml",
				"sub/a.yaml", ".git/x.yaml" };
	snprintf(p, sizeof(p), "%s/sub", dir);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/.git", dir);
	mkdir(p, 0700);
	for (size_t i = 0; i < PLUMB_ARRAY_LEN(files); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
		touch(p);
	}
	struct plumb_vec v = PLUMB_VEC_INIT;
	ck_assert_int_eq(plumb_fs_find_manifests(dir, &v, NULL), 0);
	ck_assert_uint_eq(v.len, 4);
	const char *want[] = { "a.yml", "b.yaml", "sub/a.yaml", "sub/z.yaml" };
	for (size_t i = 0; i < v.len; i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, want[i]);
		ck_assert_str_eq(v.items[i], p);
		free(v.items[i]);
	}
	plumb_vec_release(&v);
	struct plumb_err err;
	plumb_err_clear(&err);
	ck_assert_int_eq(plumb_fs_find_manifests("/nonexistent/plumb", &v, &err), PLUMB_ENOENT);
	ck_assert_ptr_nonnull(strstr(err.msg, "/nonexistent/plumb"));
	struct plumb_buf b = PLUMB_BUF_INIT;
	snprintf(p, sizeof(p), "%s/b.yaml", dir);
	ck_assert_int_eq(plumb_fs_read(p, 3, &b, &err), PLUMB_ELIMIT);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_int_eq(plumb_fs_read(p, 100, &b, &err), 0);
	ck_assert_str_eq(b.buf, "x: 1\n");
	plumb_buf_release(&b);
	unlink(p);
	snprintf(p, sizeof(p), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(p), 0);
}
END_TEST

START_TEST(err_set_returns_code)
{
	struct plumb_err e;
	plumb_err_clear(&e);
	ck_assert_int_eq(plumb_err_set(&e, PLUMB_EVALID, "bad %s", "thing"), PLUMB_EVALID);
	ck_assert_str_eq(e.msg, "bad thing");
	ck_assert_int_eq(plumb_err_set(NULL, PLUMB_EIO, "x"), PLUMB_EIO);
	char small[4];
	ck_assert_uint_eq(plumb_strlcpy(small, "abcdef", sizeof(small)), 6);
	ck_assert_str_eq(small, "abc");
}
END_TEST

Suite *base_suite(void)
{
	Suite *s = suite_create("base");
	TCase *tc = tcase_create("base");
	tcase_add_test(tc, buf_grows_and_stays_terminated);
	tcase_add_test(tc, buf_cap_refuses_and_keeps_contents);
	tcase_add_test(tc, arena_aligns_and_copies);
	tcase_add_test(tc, map_put_get_and_duplicates);
	tcase_add_test(tc, sha256_vectors);
	tcase_add_test(tc, sha256_split_updates_match_one_shot);
	tcase_add_test(tc, iso8601_round_trip);
	tcase_add_test(tc, log_lines_and_redaction);
	tcase_add_test(tc, find_manifests_sorted_and_filtered);
	tcase_add_test(tc, err_set_returns_code);
	suite_add_tcase(s, tc);
	return s;
}
