/* Checks every libseen function and its error paths; run under valgrind
 * memcheck by scripts/test-c.sh. Usage: test_seen DATA_DIR PHOTOS_DIR */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>

#include "seen.h"

static int failures = 0;
static int checks = 0;

#define CHECK(cond)                                                            \
    do {                                                                       \
        checks++;                                                              \
        if (!(cond)) {                                                         \
            failures++;                                                        \
            fprintf(stderr, "%s:%d: check failed: %s (last error: %s)\n",     \
                    __FILE__, __LINE__, #cond,                                 \
                    seen_last_error() ? seen_last_error() : "none");           \
        }                                                                      \
    } while (0)

static int progress_calls = 0;

static void on_progress(const char *json, void *user_data) {
    int *calls = (int *)user_data;
    (*calls)++;
    if (json == NULL || strstr(json, "\"db\"") == NULL) {
        failures++;
        fprintf(stderr, "progress JSON is malformed\n");
    }
}

struct thread_arg {
    seen_library *lib;
    int ok;
};

static void *reader(void *p) {
    struct thread_arg *a = (struct thread_arg *)p;
    a->ok = 1;
    /* The last error is per thread: a new thread starts clean, and its own
     * failure is what it reads back (the main thread's stays its own). */
    if (seen_last_error() != NULL || seen_last_error_code() != SEEN_OK) a->ok = 0;
    if (seen_asset_json(a->lib, 424242) != NULL) a->ok = 0;
    if (seen_last_error_code() != SEEN_ERR_NOT_FOUND) a->ok = 0;
    for (int i = 0; i < 20; i++) {
        char *s = seen_assets_json(a->lib, 0, 10);
        if (s == NULL || s[0] != '[') a->ok = 0;
        seen_free_string(s);
        char *st = seen_stats_json(a->lib);
        if (st == NULL) a->ok = 0;
        seen_free_string(st);
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s DATA_DIR PHOTOS_DIR\n", argv[0]);
        return 2;
    }
    const char *data = argv[1];
    const char *photos = argv[2];

    /* Version and empty error state. */
    CHECK(strlen(seen_version()) > 0);
    CHECK(seen_last_error() == NULL);
    CHECK(seen_last_error_code() == SEEN_OK);

    /* NULL arguments are errors, never crashes. */
    CHECK(seen_open(NULL, NULL) == NULL);
    CHECK(seen_last_error_code() == SEEN_ERR_NULL_ARGUMENT);
    CHECK(seen_last_error() != NULL && strstr(seen_last_error(), "data_dir") != NULL);
    CHECK(seen_add_path(NULL, photos) == SEEN_ERR_NULL_ARGUMENT);
    CHECK(seen_remove_path(NULL, photos) == SEEN_ERR_NULL_ARGUMENT);
    CHECK(seen_scan(NULL, photos, 1) == SEEN_ERR_NULL_ARGUMENT);
    CHECK(seen_scan_progress(NULL, photos, NULL, NULL) == SEEN_ERR_NULL_ARGUMENT);
    CHECK(seen_pause(NULL, photos) == SEEN_ERR_NULL_ARGUMENT);
    CHECK(seen_resume(NULL, photos) == SEEN_ERR_NULL_ARGUMENT);
    CHECK(seen_stats_json(NULL) == NULL);
    CHECK(seen_assets_json(NULL, 0, 10) == NULL);
    CHECK(seen_search_json(NULL, "x", 0, 10) == NULL);
    CHECK(seen_asset_json(NULL, 1) == NULL);
    CHECK(seen_delete_asset(NULL, 1) == SEEN_ERR_NULL_ARGUMENT);
    CHECK(seen_faces_detect(NULL, 0) == SEEN_ERR_NULL_ARGUMENT);
    CHECK(seen_faces_cluster_json(NULL) == NULL);
    CHECK(seen_persons_json(NULL) == NULL);
    CHECK(seen_asset_faces_json(NULL, 1) == NULL);
    uint8_t *buf = NULL;
    size_t len = 0;
    CHECK(seen_thumbnail(NULL, 1, &buf, &len) == SEEN_ERR_NULL_ARGUMENT);
    CHECK(seen_preview(NULL, 1, &buf, &len) == SEEN_ERR_NULL_ARGUMENT);
    seen_close(NULL);
    seen_free_string(NULL);
    seen_free_bytes(NULL, 0);

    /* A bad database URL fails cleanly. */
    CHECK(seen_open(data, "mysql://nope") == NULL);
    CHECK(seen_last_error_code() == SEEN_ERR_INVALID_INPUT);

    seen_library *lib = seen_open(data, NULL);
    CHECK(lib != NULL);
    if (lib == NULL) return 1;

    CHECK(seen_add_path(lib, NULL) == SEEN_ERR_NULL_ARGUMENT);
    CHECK(seen_add_path(lib, "/tmp/\xff\xfe") == SEEN_ERR_INVALID_INPUT);
    CHECK(seen_last_error() != NULL && strstr(seen_last_error(), "UTF-8") != NULL);
    CHECK(seen_add_path(lib, "/no/such/folder") == SEEN_ERR_INVALID_INPUT);
    CHECK(seen_scan(lib, "/not/registered", 1) == SEEN_ERR_NOT_FOUND);
    CHECK(seen_add_path(lib, photos) == SEEN_OK);
    CHECK(seen_scan_progress(lib, photos, on_progress, &progress_calls) == SEEN_OK);
    CHECK(progress_calls >= 1);
    CHECK(seen_scan(lib, photos, 1) == SEEN_OK); /* incremental: nothing to do */
    CHECK(seen_scan(lib, photos, 0) == SEEN_OK); /* started in the background */
    CHECK(seen_scan(lib, photos, 1) == SEEN_OK || seen_last_error_code() == SEEN_ERR_CONFLICT);

    char *stats = seen_stats_json(lib);
    CHECK(stats != NULL && strstr(stats, "\"assets\":3") != NULL);
    seen_free_string(stats);

    char *assets = seen_assets_json(lib, 0, 100);
    CHECK(assets != NULL && assets[0] == '[');
    seen_free_string(assets);
    CHECK(seen_assets_json(lib, 0, 0) == NULL);
    CHECK(seen_last_error_code() == SEEN_ERR_INVALID_INPUT);
    CHECK(seen_assets_json(lib, -1, 10) == NULL);

    char *found = seen_search_json(lib, "beach", 0, 10);
    CHECK(found != NULL && strstr(found, "beach.jpg") != NULL);
    long long id = -1;
    if (found != NULL) {
        const char *p = strstr(found, "\"id\":");
        if (p != NULL) id = strtoll(p + 5, NULL, 10);
    }
    seen_free_string(found);
    CHECK(id > 0);
    CHECK(seen_search_json(lib, NULL, 0, 10) == NULL);
    CHECK(seen_search_json(lib, "   ", 0, 10) == NULL);
    CHECK(seen_last_error_code() == SEEN_ERR_INVALID_INPUT);

    char *one = seen_asset_json(lib, id);
    CHECK(one != NULL && strstr(one, "\"filename\":\"beach.jpg\"") != NULL);
    seen_free_string(one);
    CHECK(seen_asset_json(lib, 987654) == NULL);
    CHECK(seen_last_error_code() == SEEN_ERR_NOT_FOUND);

    CHECK(seen_thumbnail(lib, id, &buf, &len) == SEEN_OK);
    CHECK(buf != NULL && len > 12 && memcmp(buf, "RIFF", 4) == 0 && memcmp(buf + 8, "WEBP", 4) == 0);
    seen_free_bytes(buf, len);
    CHECK(seen_preview(lib, id, &buf, &len) == SEEN_OK);
    CHECK(buf != NULL && len > 12);
    seen_free_bytes(buf, len);
    CHECK(seen_thumbnail(lib, id, NULL, &len) == SEEN_ERR_NULL_ARGUMENT);
    CHECK(seen_thumbnail(lib, id, &buf, NULL) == SEEN_ERR_NULL_ARGUMENT);
    CHECK(seen_thumbnail(lib, 987654, &buf, &len) == SEEN_ERR_NOT_FOUND);
    CHECK(seen_preview(lib, 987654, &buf, &len) == SEEN_ERR_NOT_FOUND);
    CHECK(seen_preview(lib, id, NULL, &len) == SEEN_ERR_NULL_ARGUMENT);

    /* The handle is usable from several threads at once. */
    pthread_t threads[3];
    struct thread_arg args[3];
    for (int i = 0; i < 3; i++) {
        args[i].lib = lib;
        pthread_create(&threads[i], NULL, reader, &args[i]);
    }
    seen_asset_json(lib, 987654); /* this thread's last error: NOT_FOUND */
    for (int i = 0; i < 3; i++) {
        pthread_join(threads[i], NULL);
        CHECK(args[i].ok);
    }
    CHECK(seen_last_error_code() == SEEN_ERR_NOT_FOUND);

    char *persons = seen_persons_json(lib);
    CHECK(persons != NULL && strcmp(persons, "[]") == 0);
    seen_free_string(persons);
    char *faces = seen_asset_faces_json(lib, id);
    CHECK(faces != NULL && strcmp(faces, "[]") == 0);
    seen_free_string(faces);
    CHECK(seen_asset_faces_json(lib, 987654) == NULL);
    CHECK(seen_last_error_code() == SEEN_ERR_NOT_FOUND);
    /* No face models here (and the test script hides ONNX Runtime): a
     * clear model error that says what is missing. */
    CHECK(seen_faces_detect(lib, 1) == SEEN_ERR_MODEL);
    CHECK(seen_last_error() != NULL && (strstr(seen_last_error(), "ONNX Runtime") != NULL ||
                                        strstr(seen_last_error(), "face detector") != NULL));
    char *clustered = seen_faces_cluster_json(lib);
    CHECK(clustered != NULL && strstr(clustered, "\"persons_created\":0") != NULL);
    seen_free_string(clustered);

    CHECK(seen_pause(lib, photos) == SEEN_OK);
    CHECK(seen_resume(lib, photos) == SEEN_OK);
    CHECK(seen_pause(lib, "/not/registered") == SEEN_ERR_NOT_FOUND);

    CHECK(seen_delete_asset(lib, id) == SEEN_OK);
    CHECK(seen_delete_asset(lib, id) == SEEN_ERR_NOT_FOUND);
    CHECK(seen_remove_path(lib, photos) == SEEN_OK);
    CHECK(seen_remove_path(lib, photos) == SEEN_ERR_NOT_FOUND);
    char *empty = seen_assets_json(lib, 0, 10);
    CHECK(empty != NULL && strcmp(empty, "[]") == 0);
    seen_free_string(empty);

    seen_close(lib);
    printf("test_seen: %d checks, %d failed\n", checks, failures);
    printf("%d passed, %d failed\n", checks - failures, failures);
    return failures == 0 ? 0 : 1;
}
