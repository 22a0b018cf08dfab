/* Scan a folder, print statistics, search, and save a thumbnail.
 * Build: cc -std=c11 example.c -I include -L target/release -lseen -Wl,-rpath,target/release
 * Usage: example DATA_DIR PHOTOS_DIR QUERY OUT.webp */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seen.h"

static void fail(const char *what) {
    fprintf(stderr, "%s: %s\n", what, seen_last_error() ? seen_last_error() : "unknown error");
    exit(1);
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: %s DATA_DIR PHOTOS_DIR QUERY OUT.webp\n", argv[0]);
        return 2;
    }
    printf("libseen %s\n", seen_version());
    seen_library *lib = seen_open(argv[1], NULL);
    if (lib == NULL) fail("open");
    if (seen_add_path(lib, argv[2]) != SEEN_OK) fail("add_path");
    if (seen_scan(lib, argv[2], 1) != SEEN_OK) fail("scan");

    char *stats = seen_stats_json(lib);
    if (stats == NULL) fail("stats");
    printf("stats: %s\n", stats);
    seen_free_string(stats);

    char *hits = seen_search_json(lib, argv[3], 0, 20);
    if (hits == NULL) fail("search");
    printf("search %s: %s\n", argv[3], hits);
    const char *p = strstr(hits, "\"id\":");
    long long id = p ? strtoll(p + 5, NULL, 10) : -1;
    seen_free_string(hits);
    if (id < 0) {
        fprintf(stderr, "nothing matches %s\n", argv[3]);
        seen_close(lib);
        return 1;
    }

    uint8_t *webp = NULL;
    size_t len = 0;
    if (seen_thumbnail(lib, id, &webp, &len) != SEEN_OK) fail("thumbnail");
    FILE *out = fopen(argv[4], "wb");
    int written = out != NULL && fwrite(webp, 1, len, out) == len;
    if (out != NULL && fclose(out) != 0) written = 0;
    seen_free_bytes(webp, len);
    if (!written) {
        fprintf(stderr, "cannot write %s\n", argv[4]);
        seen_close(lib);
        return 1;
    }
    printf("thumbnail of asset %lld: %zu bytes in %s\n", id, len, argv[4]);
    seen_close(lib);
    return 0;
}
