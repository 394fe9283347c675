/*
 * Runs instruction snippets natively and prints their effect: the differential-test half that
 * needs real silicon. Driven by gen.py; not built or run by the test suite.
 *
 * stdin, one case per line:  CODEHEX IN0 .. IN16 MEMHEX   (17 hex words: 16 GPRs + RFLAGS;
 *                                                          MEMHEX = 64 bytes placed at 0x200000)
 * stdout, one line per case: OUT0 .. OUT16 MEMHEX
 *
 * With the single argument --full, CODEHEX is a complete program assembled for address 0x10000000
 * (gen.py's 32-bit mode: a 64-bit prologue far-jumps into the snippet in compatibility mode and the
 * snippet far-jumps back), placed there and called the same way.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/mman.h>

#define DATA 0x200000UL
#define MEMLEN 64

static unsigned char pro[512], epi[512];
static size_t npro, nepi;

static size_t slurp(const char *path, unsigned char *buf, size_t cap) {
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); exit(2); }
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

static int hexval(char c) { return c <= '9' ? c - '0' : (c | 32) - 'a' + 10; }

static size_t unhex(const char *s, unsigned char *out) {
    size_t n = strlen(s) / 2;
    for (size_t i = 0; i < n; i++) out[i] = hexval(s[2 * i]) << 4 | hexval(s[2 * i + 1]);
    return n;
}

int main(int argc, char **argv) {
    int full = argc == 2 && strcmp(argv[1], "--full") == 0;
    if (!full && argc != 3) { fprintf(stderr, "usage: harness PROLOGUE.bin EPILOGUE.bin | harness --full\n"); return 2; }
    if (!full) {
        npro = slurp(argv[1], pro, sizeof pro);
        nepi = slurp(argv[2], epi, sizeof epi);
    }
    unsigned char *page = mmap(full ? (void *) 0x10000000UL : NULL, 8192, PROT_READ | PROT_WRITE | PROT_EXEC,
                               MAP_PRIVATE | MAP_ANONYMOUS | (full ? MAP_FIXED : 0), -1, 0);
    unsigned char *data = mmap((void *) DATA, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (page == MAP_FAILED || data != (void *) DATA) { perror("mmap"); return 2; }
    static char line[8192], code[4096], memhex[4096];
    while (fgets(line, sizeof line, stdin)) {
        uint64_t in[17], out[17];
        char *p = line;
        int used;
        if (sscanf(p, "%4095s%n", code, &used) != 1) continue;
        p += used;
        for (int i = 0; i < 17; i++) { sscanf(p, "%lx%n", &in[i], &used); p += used; }
        sscanf(p, "%4095s", memhex);
        unhex(memhex, data);
        size_t n = 0;
        if (full) {
            unhex(code, page);
        } else {
            memcpy(page, pro, npro); n += npro;
            n += unhex(code, page + n);
            memcpy(page + n, epi, nepi);
        }
        __builtin___clear_cache((char *) page, (char *) page + 8192);
        memset(out, 0, sizeof out);
        ((void (*)(uint64_t *, uint64_t *)) page)(in, out);
        for (int i = 0; i < 17; i++) printf("%lx ", out[i]);
        for (int i = 0; i < MEMLEN; i++) printf("%02x", data[i]);
        putchar('\n');
    }
    return 0;
}
