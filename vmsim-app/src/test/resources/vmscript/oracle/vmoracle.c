/*
 * Project copy of the vmscript oracle (test resource of vmsim-app).
 *
 * KernelOracle compiles this file with `gcc -O1 -static` into target/ and feeds a scenario on
 * stdin; it must print exactly the transcript of the shared oracle the corpus was recorded with,
 * so the tests never depend on files outside the project. Keep it byte-compatible in behaviour:
 * every quirk below (strtoul numbers, names shadowing numbers, "maps X ->syntax", SIGBUS printed
 * through si_code) is part of the transcript the simulator reproduces.
 */
/*
 * vmoracle: runs a vmscript scenario against the real Linux kernel and prints the
 * canonical transcript, so the simulator's `script` runner can be diffed against it.
 *
 * Addresses are printed relative to "top": the top of a 1 GiB arena that the
 * kernel's own top-down allocator chose and that is then released, so the first
 * non-fixed mapping lands directly below top, as in a fresh simulated mm whose
 * mmap_base is top.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define ARENA (1UL << 30)
#define MAXN 64

static uintptr_t top, bottom;
static char names[MAXN][32];
static uintptr_t vals[MAXN];
static int nnames;
static char out[1 << 20];
static char mapsbuf[1 << 20];
static size_t outlen;
static sigjmp_buf jb;
static volatile int last_code;

static void emit(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    outlen += vsnprintf(out + outlen, sizeof out - outlen, fmt, ap);
    va_end(ap);
}

static void flush(void) {
    size_t off = 0;
    while (off < outlen) {
        ssize_t n = write(1, out + off, outlen - off);
        if (n <= 0) break;
        off += n;
    }
    outlen = 0;
}

static void onsegv(int sig, siginfo_t *si, void *uc) {
    (void)sig; (void)uc;
    last_code = si->si_code;
    siglongjmp(jb, 1);
}

static void rel(uintptr_t a) {
    if (a >= top) emit("top+0x%lx", (unsigned long)(a - top));
    else emit("top-0x%lx", (unsigned long)(top - a));
}

static int lookup(const char *n, uintptr_t *v) {
    if (!strcmp(n, "top")) { *v = top; return 0; }
    for (int i = 0; i < nnames; i++) if (!strcmp(names[i], n)) { *v = vals[i]; return 0; }
    return -1;
}

static unsigned long num(const char *s, int *ok) {
    char *end;
    unsigned long v = strtoul(s, &end, 0);
    *ok = end != s;
    if (*end == 'K' || *end == 'k') { v <<= 10; end++; }
    else if (*end == 'M' || *end == 'm') { v <<= 20; end++; }
    else if (*end == 'G' || *end == 'g') { v <<= 30; end++; }
    if (*end) *ok = 0;
    return v;
}

/* EXPR := (NAME | NUM) (('+' | '-') NUM)* */
static int expr(const char *s, uintptr_t *v) {
    char buf[64];
    int ok;
    snprintf(buf, sizeof buf, "%s", s);
    char *op = strpbrk(buf, "+-");
    char sign = op ? *op : 0;
    if (op) *op = 0;
    if (lookup(buf, v)) {
        *v = num(buf, &ok);
        if (!ok) return -1;
    }
    while (op) {
        char *term = op + 1;
        char *next = strpbrk(term, "+-");
        char nsign = next ? *next : 0;
        if (next) *next = 0;
        unsigned long off = num(term, &ok);
        if (!ok) return -1;
        *v = sign == '+' ? *v + off : *v - off;
        op = next;
        sign = nsign;
    }
    return 0;
}

static int prot(const char *s) {
    if (strlen(s) != 3) return -1;
    int p = 0;
    if (s[0] == 'r') p |= PROT_READ; else if (s[0] != '-') return -1;
    if (s[1] == 'w') p |= PROT_WRITE; else if (s[1] != '-') return -1;
    if (s[2] == 'x') p |= PROT_EXEC; else if (s[2] != '-') return -1;
    return p;
}

/* Operations may only touch the arena [top - 1 GiB, top): the vDSO lies above it. */
static int outside(uintptr_t a, unsigned long len) {
    if (len == 0) len = 1;
    return a < top - ARENA || a >= top || len > top - a;
}

static void result(long r) {
    if (r == 0) emit("ok\n");
    else emit("%s\n", strerrorname_np(errno) ? strerrorname_np(errno) : "E?");
}

static void bind(const char *n, uintptr_t a) {
    for (int i = 0; i < nnames; i++) if (!strcmp(names[i], n)) { vals[i] = a; return; }
    snprintf(names[nnames], sizeof names[0], "%s", n);
    vals[nnames++] = a;
}

/* The start of the lowest mapping at or above a: the top of the free gap the arena left. */
static uintptr_t first_mapping_above(uintptr_t a) {
    int fd = open("/proc/self/maps", O_RDONLY);
    size_t len = 0;
    ssize_t n;
    uintptr_t best = UINTPTR_MAX;
    while ((n = read(fd, mapsbuf + len, sizeof mapsbuf - 1 - len)) > 0) len += n;
    close(fd);
    mapsbuf[len] = 0;
    for (char *line = strtok(mapsbuf, "\n"); line; line = strtok(NULL, "\n")) {
        unsigned long s;
        if (sscanf(line, "%lx-", &s) == 1 && s >= a && s < best) best = s;
    }
    return best;
}

static void maps(void) {
    int fd = open("/proc/self/maps", O_RDONLY);
    size_t len = 0;
    ssize_t n;
    while ((n = read(fd, mapsbuf + len, sizeof mapsbuf - 1 - len)) > 0) len += n;
    close(fd);
    mapsbuf[len] = 0;
    for (char *line = strtok(mapsbuf, "\n"); line; line = strtok(NULL, "\n")) {
        unsigned long s, e;
        char perms[8];
        if (sscanf(line, "%lx-%lx %7s", &s, &e, perms) != 3) continue;
        if (e <= bottom || s >= top) continue;
        emit("  ");
        rel(s);
        emit(" ");
        rel(e);
        emit(" %s\n", perms);
    }
}

static void access_(const char *kind, uintptr_t a, int val) {
    volatile unsigned char *p = (volatile unsigned char *)a;
    if (sigsetjmp(jb, 1) == 0) {
        if (kind[0] == 'r') {
            unsigned char b = *p;
            emit("ok %u\n", b);
        } else {
            *p = (unsigned char)val;
            emit("ok\n");
        }
    } else {
        emit("%s\n", last_code == SEGV_MAPERR ? "SEGV_MAPERR" : last_code == SEGV_ACCERR ? "SEGV_ACCERR" : "SEGV_OTHER");
    }
}

int main(void) {
    static char line[512];
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    struct sigaction sa = {0};
    sa.sa_sigaction = onsegv;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
    void *r = mmap(NULL, ARENA, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (r == MAP_FAILED) return 1;
    bottom = (uintptr_t)r;
    munmap(r, ARENA);
    top = first_mapping_above(bottom);
    while (fgets(line, sizeof line, stdin)) {
        char *hash = strchr(line, '#');
        if (hash) *hash = 0;
        char *tok[16];
        int nt = 0;
        for (char *t = strtok(line, " \t\r\n"); t && nt < 16; t = strtok(NULL, " \t\r\n")) tok[nt++] = t;
        if (nt == 0) continue;
        for (int i = 0; i < nt; i++) emit(i ? " %s" : "%s", tok[i]);
        emit(strcmp(tok[0], "maps") ? " -> " : " ->");
        uintptr_t a, b;
        int ok;
        if (!strcmp(tok[0], "map") && nt >= 4) {
            unsigned long len = num(tok[2], &ok);
            int p = prot(tok[3]);
            int flags = MAP_ANONYMOUS, shared = 0;
            uintptr_t at = 0;
            int bad = !ok || p < 0;
            for (int i = 4; i < nt; i++) {
                if (!strcmp(tok[i], "shared")) shared = 1;
                else if (!strcmp(tok[i], "private")) shared = 0;
                else if (!strcmp(tok[i], "fixed")) flags |= MAP_FIXED;
                else if (!strcmp(tok[i], "noreplace")) flags |= MAP_FIXED_NOREPLACE;
                else if (!strcmp(tok[i], "growsdown")) flags |= MAP_GROWSDOWN;
                else if (!strcmp(tok[i], "populate")) flags |= MAP_POPULATE;
                else if (!strcmp(tok[i], "at") && i + 1 < nt) { if (expr(tok[++i], &at)) bad = 1; }
                else bad = 1;
            }
            if (bad) { emit("syntax\n"); continue; }
            if ((flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) && outside(at, len)) { emit("outside\n"); continue; }
            flags |= shared ? MAP_SHARED : MAP_PRIVATE;
            void *m = mmap((void *)at, len, p, flags, -1, 0);
            if (m == MAP_FAILED) { result(-1); continue; }
            bind(tok[1], (uintptr_t)m);
            emit("ok ");
            rel((uintptr_t)m);
            emit("\n");
        } else if (!strcmp(tok[0], "unmap") && nt == 3 && !expr(tok[1], &a)) {
            unsigned long len = num(tok[2], &ok);
            if (!ok) { emit("syntax\n"); continue; }
            if (outside(a, len)) { emit("outside\n"); continue; }
            result(munmap((void *)a, len));
        } else if (!strcmp(tok[0], "protect") && nt == 4 && !expr(tok[1], &a) && prot(tok[3]) >= 0) {
            unsigned long len = num(tok[2], &ok);
            if (!ok) { emit("syntax\n"); continue; }
            if (outside(a, len)) { emit("outside\n"); continue; }
            result(mprotect((void *)a, len, prot(tok[3])));
        } else if (!strcmp(tok[0], "remap") && nt >= 5 && !expr(tok[2], &a)) {
            unsigned long olen = num(tok[3], &ok), nlen;
            int ok2;
            nlen = num(tok[4], &ok2);
            int flags = 0, bad = !ok || !ok2;
            b = 0;
            for (int i = 5; i < nt; i++) {
                if (!strcmp(tok[i], "maymove")) flags |= MREMAP_MAYMOVE;
                else if (!strcmp(tok[i], "at") && i + 1 < nt) { flags |= MREMAP_FIXED | MREMAP_MAYMOVE; if (expr(tok[++i], &b)) bad = 1; }
                else bad = 1;
            }
            if (bad) { emit("syntax\n"); continue; }
            if (outside(a, olen) || ((flags & MREMAP_FIXED) && outside(b, nlen))) { emit("outside\n"); continue; }
            void *m = mremap((void *)a, olen, nlen, flags, (void *)b);
            if (m == MAP_FAILED) { result(-1); continue; }
            bind(tok[1], (uintptr_t)m);
            emit("ok ");
            rel((uintptr_t)m);
            emit("\n");
        } else if (!strcmp(tok[0], "dontneed") && nt == 3 && !expr(tok[1], &a)) {
            unsigned long len = num(tok[2], &ok);
            if (!ok) { emit("syntax\n"); continue; }
            if (outside(a, len)) { emit("outside\n"); continue; }
            result(madvise((void *)a, len, MADV_DONTNEED));
        } else if (!strcmp(tok[0], "read") && nt == 2 && !expr(tok[1], &a)) {
            if (outside(a, 1)) emit("outside\n");
            else access_("read", a, 0);
        } else if (!strcmp(tok[0], "write") && (nt == 2 || nt == 3) && !expr(tok[1], &a)) {
            int v = nt == 3 ? (int)num(tok[2], &ok) : 1;
            if (outside(a, 1)) emit("outside\n");
            else access_("write", a, v);
        } else if (!strcmp(tok[0], "maps") && nt == 1) {
            emit("\n");
            maps();
        } else {
            emit("syntax\n");
        }
        flush();
    }
    flush();
    return 0;
}
