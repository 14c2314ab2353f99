/*
 * vmoracle - the vmsim project's kernel oracle for vmscript (test resource of vmsim-app).
 *
 * Reads a vmscript scenario on stdin, performs every command with the real system call of the
 * running Linux kernel and writes the transcript the simulator's `script` runner must reproduce.
 * KernelOracle compiles it with `gcc -O1 -static` into target/vmoracle/.
 *
 * Why static: a dynamically linked process has ld.so and shared libraries scattered below the
 * stack, and their holes would catch small top-down mappings. A static binary has only the
 * executable, brk heap, stack, vvar and vDSO, so the arena below is empty.
 *
 * The arena: at start-up we ask the kernel's top-down allocator for 1 GiB (PROT_NONE, never
 * touched) and give it straight back. The first mapping at or above the start of that hole is
 * "top"; the next non-fixed mapping lands just below top, exactly as in a fresh simulated mm whose
 * mmap_base is top. Every address is printed relative to top, and fixed-address commands may only
 * name addresses inside [top - 1 GiB, top), so a script can never hit the vDSO or the stack.
 * malloc is told never to use mmap, so stdio's own buffers cannot land in the arena either.
 *
 * Tasks (fork NAME, exit NAME, the prefix "in NAME:"): the process that reads the script is only
 * the controller. Every task, the first one ("parent") included, is a worker process that runs one
 * line at a time on the controller's command: the controller writes the line into the task's
 * command pipe and blocks reading the task's reply pipe, so the processes are strictly sequenced
 * and the transcript does not depend on scheduling. All pipes (one pair per task slot) are made
 * before the first fork, so a task forked by another task finds its own pair already open. An
 * exited task is waited for through a pidfd before the next line runs: by then exit_mm has run
 * exit_mmap, and the pages it shared are no longer mapped by it.
 *
 * The transcript format is fixed by the recorded corpus, quirks included (they are listed where
 * each one is implemented): numbers are strtoul base 0 with a K/M/G shift and wrap silently, a
 * bound name hides a number of the same spelling, and "maps" with arguments is a syntax error whose
 * echo still ends in "->". A fault is named by its signal and si_code ("SIGBUS BUS_ADRERR").
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
#include <poll.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

/* ---------------------------------------------------------------- arena ---------------------- */

#define ARENA_SIZE (1UL << 30)

struct arena {
    uintptr_t probe; /* where the 1 GiB probe mapping was placed (before it was released) */
    uintptr_t top;   /* start of the first mapping at or above probe: every address is relative */
};

static struct arena arena;

/* Scratch for /proc/self/maps; static so reading it never allocates (and never maps). */
static char maps_text[1 << 20];

/* Reads a /proc file into buf as one NUL-terminated string (empty if it cannot be read). */
static void load_file(const char *path, char *buf, size_t size) {
    size_t used = 0;
    int fd = open(path, O_RDONLY);
    while (fd >= 0) {
        ssize_t got = read(fd, buf + used, size - 1 - used);
        if (got <= 0) break;
        used += (size_t)got;
    }
    if (fd >= 0) close(fd);
    buf[used] = '\0';
}

/* Reads /proc/self/maps into maps_text as one NUL-terminated string. */
static void load_maps(void) {
    load_file("/proc/self/maps", maps_text, sizeof maps_text);
}

/* One parsed line of /proc/self/maps: "start-end perms ...". Returns 0 when the line is not one. */
static int parse_vma_line(const char *line, unsigned long *start, unsigned long *end, char perms[8]) {
    char *cursor;
    *start = strtoul(line, &cursor, 16);
    if (cursor == line || *cursor != '-') return 0;
    line = cursor + 1;
    *end = strtoul(line, &cursor, 16);
    if (cursor == line || *cursor != ' ') return 0;
    int n = 0;
    for (cursor++; *cursor && *cursor != ' ' && *cursor != '\n' && n < 7; cursor++) perms[n++] = *cursor;
    perms[n] = '\0';
    return n > 0;
}

/* Calls visit(start, end, perms) for each mapping of this process, lowest first. */
static void for_each_vma(void (*visit)(unsigned long, unsigned long, const char *)) {
    load_maps();
    char *line = maps_text;
    while (*line) {
        char *eol = strchr(line, '\n');
        if (eol) *eol = '\0';
        unsigned long start, end;
        char perms[8];
        if (parse_vma_line(line, &start, &end, perms)) visit(start, end, perms);
        if (!eol) break;
        line = eol + 1;
    }
}

static uintptr_t lowest_start_seen;

static void note_lowest_above_probe(unsigned long start, unsigned long end, const char *perms) {
    (void)end;
    (void)perms;
    if (start >= arena.probe && start < lowest_start_seen) lowest_start_seen = start;
}

/* Finds the hole the top-down allocator would use first; 0 on success. */
static int arena_init(void) {
    void *probe = mmap(NULL, ARENA_SIZE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (probe == MAP_FAILED) return -1;
    arena.probe = (uintptr_t)probe;
    munmap(probe, ARENA_SIZE);
    lowest_start_seen = UINTPTR_MAX;
    for_each_vma(note_lowest_above_probe);
    arena.top = lowest_start_seen;
    return 0;
}

/*
 * True when [addr, addr + len) is not wholly inside the arena [top - 1 GiB, top). A zero length
 * still has to name an arena byte.
 */
static int arena_excludes(uintptr_t addr, unsigned long len) {
    unsigned long span = len ? len : 1;
    if (addr < arena.top - ARENA_SIZE || addr >= arena.top) return 1;
    return span > arena.top - addr;
}

/* ---------------------------------------------------------------- transcript ----------------- */

/* Output of the current line; written out whole when the line is done. */
static struct {
    char bytes[1 << 20];
    size_t len;
} transcript;

static void say(const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    int n = vsnprintf(transcript.bytes + transcript.len, sizeof transcript.bytes - transcript.len, fmt, args);
    va_end(args);
    if (n > 0) transcript.len += (size_t)n;
    if (transcript.len >= sizeof transcript.bytes) transcript.len = sizeof transcript.bytes - 1;
}

static void say_address(uintptr_t addr) {
    if (addr >= arena.top) say("top+0x%lx", (unsigned long)(addr - arena.top));
    else say("top-0x%lx", (unsigned long)(arena.top - addr));
}

/* Writes all of bytes to fd (a pipe or stdout); gives up only when the reader is gone. */
static void write_all(int fd, const void *bytes, size_t len) {
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(fd, (const char *)bytes + done, len - done);
        if (n <= 0) break;
        done += (size_t)n;
    }
}

/* Pushes the buffered line to stdout so a killed oracle still leaves every finished line. */
static void transcript_flush(void) {
    write_all(STDOUT_FILENO, transcript.bytes, transcript.len);
    transcript.len = 0;
}

/* "ok" for a zero return, else the symbolic errno ("ENOMEM") the call left behind. */
static void say_status(int rc) {
    if (rc == 0) {
        say("ok\n");
        return;
    }
    const char *name = strerrorname_np(errno);
    say("%s\n", name ? name : "E?");
}

static void say_placed(void *where) {
    say("ok ");
    say_address((uintptr_t)where);
    say("\n");
}

/* ---------------------------------------------------------------- names ---------------------- */

/* Names bound by map/remap. Stored names keep at most 31 characters, as in the recorded oracle. */
#define NAME_CHARS 32
#define NAME_SLOTS 1024

static struct {
    char name[NAME_SLOTS][NAME_CHARS];
    uintptr_t addr[NAME_SLOTS];
    int count;
} names;

/* Looks a name up; "top" always means the arena top and cannot be rebound. 0 when found. */
static int name_find(const char *name, uintptr_t *addr) {
    if (strcmp(name, "top") == 0) {
        *addr = arena.top;
        return 0;
    }
    for (int i = 0; i < names.count; i++) {
        if (strcmp(names.name[i], name) == 0) {
            *addr = names.addr[i];
            return 0;
        }
    }
    return -1;
}

/*
 * Binds name to addr. The comparison is against the full token while the stored copy is cut to
 * 31 characters, so a longer name is added again on each bind (and only its prefix finds it).
 */
static void name_bind(const char *name, uintptr_t addr) {
    for (int i = 0; i < names.count; i++) {
        if (strcmp(names.name[i], name) == 0) {
            names.addr[i] = addr;
            return;
        }
    }
    if (names.count == NAME_SLOTS) return;
    snprintf(names.name[names.count], NAME_CHARS, "%s", name);
    names.addr[names.count++] = addr;
}

/* ---------------------------------------------------------------- values --------------------- */

/*
 * NUM: whatever strtoul(base 0) accepts (so "010" is octal, a leading sign is allowed and a value
 * too large saturates), optionally followed by one K/M/G (either case) that shifts the value left
 * by 10/20/30 bits with silent wrap-around. Returns 1 and sets *value when the whole text was used
 * and at least one digit was read; otherwise returns 0, still setting *value to what was parsed.
 */
static int parse_number(const char *text, unsigned long *value) {
    char *rest;
    unsigned long v = strtoul(text, &rest, 0);
    int digits = rest != text;
    switch (*rest) {
    case 'K': case 'k': v <<= 10; rest++; break;
    case 'M': case 'm': v <<= 20; rest++; break;
    case 'G': case 'g': v <<= 30; rest++; break;
    default: break;
    }
    *value = v;
    return digits && *rest == '\0';
}

/*
 * EXPR := (NAME | NUM) (('+' | '-') NUM)*, evaluated left to right in wrapping address arithmetic.
 * Only the first 63 characters of the token count. The head is tried as a name first, so a name
 * spelt like a number wins. Returns 1 and sets *addr on success.
 */
static int parse_address(const char *token, uintptr_t *addr) {
    char text[64];
    snprintf(text, sizeof text, "%s", token);
    size_t head_len = strcspn(text, "+-");
    char op = text[head_len];
    text[head_len] = '\0';
    uintptr_t acc;
    if (name_find(text, &acc) != 0) {
        unsigned long n;
        if (!parse_number(text, &n)) return 0;
        acc = n;
    }
    char *term = text + head_len + 1;
    while (op) {
        size_t term_len = strcspn(term, "+-");
        char next_op = term[term_len];
        term[term_len] = '\0';
        unsigned long n;
        if (!parse_number(term, &n)) return 0;
        acc = op == '+' ? acc + n : acc - n;
        op = next_op;
        term += term_len + 1;
    }
    *addr = acc;
    return 1;
}

/* PROT: exactly three characters, each its letter or '-': "r-x". -1 when malformed. */
static int parse_prot(const char *text) {
    static const struct { char letter; int bit; } column[3] = {
        {'r', PROT_READ}, {'w', PROT_WRITE}, {'x', PROT_EXEC}};
    if (strlen(text) != 3) return -1;
    int prot = PROT_NONE;
    for (int i = 0; i < 3; i++) {
        if (text[i] == column[i].letter) prot |= column[i].bit;
        else if (text[i] != '-') return -1;
    }
    return prot;
}

/* ---------------------------------------------------------------- faults --------------------- */

static sigjmp_buf fault_return;
static volatile sig_atomic_t fault_signo;
static volatile sig_atomic_t fault_code;

static void on_fault(int signo, siginfo_t *info, void *context) {
    (void)context;
    fault_signo = signo;
    fault_code = info->si_code;
    siglongjmp(fault_return, 1);
}

/*
 * The fault is named by its signal and si_code: a SIGBUS is "SIGBUS BUS_ADRERR" (a shared anonymous
 * mapping grown by mremap beyond its object's size), never a SEGV code, which si_code 2 alone would
 * also spell (BUS_ADRERR == SEGV_ACCERR == 2).
 */
static const char *fault_name(int signo, int code) {
    if (signo == SIGBUS) {
        if (code == BUS_ADRERR) return "SIGBUS BUS_ADRERR";
        if (code == BUS_ADRALN) return "SIGBUS BUS_ADRALN";
        return "SIGBUS BUS_OTHER";
    }
    if (code == SEGV_MAPERR) return "SEGV_MAPERR";
    if (code == SEGV_ACCERR) return "SEGV_ACCERR";
    return "SEGV_OTHER";
}

/* Loads one byte at addr, or stores value there, reporting the fault if the kernel refuses. */
static void touch(uintptr_t addr, int store, unsigned char value) {
    volatile unsigned char *byte = (volatile unsigned char *)addr;
    if (sigsetjmp(fault_return, 1) != 0) {
        say("%s\n", fault_name(fault_signo, fault_code));
        return;
    }
    if (store) {
        *byte = value;
        say("ok\n");
    } else {
        unsigned char seen = *byte;
        say("ok %u\n", seen);
    }
}

/* ---------------------------------------------------------------- commands ------------------- */

#define MAX_TOKENS 16

struct command {
    char *tok[MAX_TOKENS];
    int ntok;
};

/* A handler returns its answer through say(); it returns 0 if the line is a syntax error. */
typedef int (*handler_fn)(const struct command *);

/* Common tail of unmap/protect and the madvise verbs: ADDR LEN checked against the arena. */
static int range_args(const struct command *c, uintptr_t *addr, unsigned long *len, int *refused) {
    if (!parse_address(c->tok[1], addr) || !parse_number(c->tok[2], len)) return 0;
    *refused = arena_excludes(*addr, *len);
    if (*refused) say("outside\n");
    return 1;
}

/* map NAME LEN PROT [shared|private|fixed|noreplace|growsdown|populate|at EXPR]... */
static int do_map(const struct command *c) {
    if (c->ntok < 4) return 0;
    unsigned long len;
    int well_formed = parse_number(c->tok[2], &len);
    int prot = parse_prot(c->tok[3]);
    if (prot < 0) well_formed = 0;
    int flags = MAP_ANONYMOUS, shared = 0;
    uintptr_t hint = 0;
    for (int i = 4; i < c->ntok; i++) {
        const char *opt = c->tok[i];
        if (strcmp(opt, "shared") == 0) shared = 1;
        else if (strcmp(opt, "private") == 0) shared = 0;
        else if (strcmp(opt, "fixed") == 0) flags |= MAP_FIXED;
        else if (strcmp(opt, "noreplace") == 0) flags |= MAP_FIXED_NOREPLACE;
        else if (strcmp(opt, "growsdown") == 0) flags |= MAP_GROWSDOWN;
        else if (strcmp(opt, "populate") == 0) flags |= MAP_POPULATE;
        else if (strcmp(opt, "at") == 0 && i + 1 < c->ntok) {
            if (!parse_address(c->tok[++i], &hint)) well_formed = 0;
        } else well_formed = 0;
    }
    if (!well_formed) return 0;
    /* A non-fixed "at" is only a hint and may name any address. */
    if ((flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) && arena_excludes(hint, len)) {
        say("outside\n");
        return 1;
    }
    flags |= shared ? MAP_SHARED : MAP_PRIVATE;
    void *where = mmap((void *)hint, len, prot, flags, -1, 0);
    if (where == MAP_FAILED) {
        say_status(-1);
        return 1;
    }
    name_bind(c->tok[1], (uintptr_t)where);
    say_placed(where);
    return 1;
}

/* unmap ADDR LEN */
static int do_unmap(const struct command *c) {
    uintptr_t addr;
    unsigned long len;
    int refused;
    if (c->ntok != 3 || !range_args(c, &addr, &len, &refused)) return 0;
    if (!refused) say_status(munmap((void *)addr, len));
    return 1;
}

/* protect ADDR LEN PROT */
static int do_protect(const struct command *c) {
    uintptr_t addr;
    unsigned long len;
    int refused;
    if (c->ntok != 4) return 0;
    int prot = parse_prot(c->tok[3]);
    if (prot < 0 || !range_args(c, &addr, &len, &refused)) return 0;
    if (!refused) say_status(mprotect((void *)addr, len, prot));
    return 1;
}

/* The madvise verbs: VERB ADDR LEN. */
static int madvise_verb(const struct command *c, int advice) {
    uintptr_t addr;
    unsigned long len;
    int refused;
    if (c->ntok != 3 || !range_args(c, &addr, &len, &refused)) return 0;
    if (!refused) say_status(madvise((void *)addr, len, advice));
    return 1;
}

/* Older libc headers lack the guard-region advice (Linux 6.13) and populate (5.14). */
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif
#ifndef MADV_GUARD_REMOVE
#define MADV_GUARD_REMOVE 103
#endif

/* dontneed ADDR LEN */
static int do_dontneed(const struct command *c) { return madvise_verb(c, MADV_DONTNEED); }
/* guard ADDR LEN: MADV_GUARD_INSTALL */
static int do_guard(const struct command *c) { return madvise_verb(c, MADV_GUARD_INSTALL); }
/* unguard ADDR LEN: MADV_GUARD_REMOVE */
static int do_unguard(const struct command *c) { return madvise_verb(c, MADV_GUARD_REMOVE); }
/* populate_read ADDR LEN */
static int do_populate_read(const struct command *c) { return madvise_verb(c, MADV_POPULATE_READ); }
/* populate_write ADDR LEN */
static int do_populate_write(const struct command *c) { return madvise_verb(c, MADV_POPULATE_WRITE); }
/* wipeonfork ADDR LEN */
static int do_wipeonfork(const struct command *c) { return madvise_verb(c, MADV_WIPEONFORK); }
/* keeponfork ADDR LEN */
static int do_keeponfork(const struct command *c) { return madvise_verb(c, MADV_KEEPONFORK); }

/* remap NAME ADDR OLDLEN NEWLEN [maymove|at EXPR]...  ("at" implies maymove and fixed) */
static int do_remap(const struct command *c) {
    if (c->ntok < 5) return 0;
    uintptr_t from, to = 0;
    unsigned long old_len, new_len;
    if (!parse_address(c->tok[2], &from)) return 0;
    int well_formed = parse_number(c->tok[3], &old_len);
    if (!parse_number(c->tok[4], &new_len)) well_formed = 0;
    int flags = 0;
    for (int i = 5; i < c->ntok; i++) {
        if (strcmp(c->tok[i], "maymove") == 0) flags |= MREMAP_MAYMOVE;
        else if (strcmp(c->tok[i], "at") == 0 && i + 1 < c->ntok) {
            flags |= MREMAP_FIXED | MREMAP_MAYMOVE;
            if (!parse_address(c->tok[++i], &to)) well_formed = 0;
        } else well_formed = 0;
    }
    if (!well_formed) return 0;
    if (arena_excludes(from, old_len) || ((flags & MREMAP_FIXED) && arena_excludes(to, new_len))) {
        say("outside\n");
        return 1;
    }
    void *where = mremap((void *)from, old_len, new_len, flags, (void *)to);
    if (where == MAP_FAILED) {
        say_status(-1);
        return 1;
    }
    name_bind(c->tok[1], (uintptr_t)where);
    say_placed(where);
    return 1;
}

/* read ADDR */
static int do_read(const struct command *c) {
    uintptr_t addr;
    if (c->ntok != 2 || !parse_address(c->tok[1], &addr)) return 0;
    if (arena_excludes(addr, 1)) say("outside\n");
    else touch(addr, 0, 0);
    return 1;
}

/* write ADDR [BYTE]; the byte defaults to 1, and a BYTE that is not a number stores what strtoul
 * made of it (so "abc" stores 0), cut to its low 8 bits. */
static int do_write(const struct command *c) {
    uintptr_t addr;
    if ((c->ntok != 2 && c->ntok != 3) || !parse_address(c->tok[1], &addr)) return 0;
    unsigned long value = 1;
    if (c->ntok == 3) parse_number(c->tok[2], &value);
    if (arena_excludes(addr, 1)) say("outside\n");
    else touch(addr, 1, (unsigned char)(int)value);
    return 1;
}

static void print_arena_vma(unsigned long start, unsigned long end, const char *perms) {
    if (end <= arena.probe || start >= arena.top) return;
    say("  ");
    say_address(start);
    say(" ");
    say_address(end);
    say(" %s\n", perms);
}

/* maps: the mappings that overlap the arena, one per line after the echo. */
static int do_maps(const struct command *c) {
    if (c->ntok != 1) return 0;
    say("\n");
    for_each_vma(print_arena_vma);
    return 1;
}

/* ---------------------------------------------------------------- /proc views ---------------- */

/*
 * smaps ADDR, smaps_rollup, status and vmstat print their file's lines indented by two spaces after
 * " ->", or " -> " and a one-word answer. What each shows, so that the simulator prints the same on
 * any host (the simulator's ProcLines says the same):
 *   smaps ADDR    the block of the VMA containing ADDR, every line but ProtectionKey (printed only
 *                 where the CPU has pkeys); the header's addresses relative to top, one space
 *                 before the name, and a shmem inode number (the host's) printed as "*".
 *   smaps_rollup  the rollup of the arena's VMAs: this process has a binary, a heap and a stack the
 *                 simulated one has not, so /proc/self/smaps_rollup itself cannot match. The arena's
 *                 smaps blocks are summed instead; Pss_Anon is the Pss of the private (anonymous)
 *                 VMAs, Pss_Shmem that of the shared ones, Pss_File 0.
 *   status        VmSize VmLck VmPin RssAnon RssShmem VmData VmStk VmSwap, as the change since the
 *                 oracle started (baseline taken before the first task, with the oracle's own
 *                 buffers and stack already faulted in, so that only the script changes them).
 *   vmstat        the counters the simulator keeps, as the change since the oracle started; these
 *                 count the whole machine, so they are for reading, never recorded.
 */

static char proc_text[1 << 20];

static const char *const status_fields[] = {
    "VmSize", "VmLck", "VmPin", "RssAnon", "RssShmem", "VmData", "VmStk", "VmSwap"};
#define STATUS_FIELDS (sizeof status_fields / sizeof status_fields[0])

static const char *const vmstat_fields[] = {
    "pgalloc_normal", "pgfree", "pgfault", "pgmajfault", "pgreuse", "nr_tlb_remote_flush",
    "nr_tlb_remote_flush_received", "nr_tlb_local_flush_all", "nr_tlb_local_flush_one",
    "vma_lock_success", "vma_lock_abort", "vma_lock_retry", "vma_lock_miss", "vma_lock_wait"};
#define VMSTAT_FIELDS (sizeof vmstat_fields / sizeof vmstat_fields[0])

/* The rollup's lines after the header, in show_smaps_rollup's order. */
static const char *const rollup_fields[] = {
    "Rss", "Pss", "Pss_Dirty", "Pss_Anon", "Pss_File", "Pss_Shmem", "Shared_Clean", "Shared_Dirty",
    "Private_Clean", "Private_Dirty", "Referenced", "Anonymous", "KSM", "LazyFree", "AnonHugePages",
    "ShmemPmdMapped", "FilePmdMapped", "Shared_Hugetlb", "Private_Hugetlb", "Swap", "SwapPss", "Locked"};
#define ROLLUP_FIELDS (sizeof rollup_fields / sizeof rollup_fields[0])

static long status_start[STATUS_FIELDS];
static long vmstat_start[VMSTAT_FIELDS];
static int vmstat_seen[VMSTAT_FIELDS];

/* The number after "name:" (status, smaps) or "name " (vmstat) at the start of a line of text; 0 if absent. */
static int field_value(const char *text, const char *name, char sep, long *value) {
    size_t n = strlen(name);
    for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        if (strncmp(line, name, n) == 0 && line[n] == sep) {
            *value = strtol(line + n + 1, NULL, 10);
            return 1;
        }
    }
    return 0;
}

/* Takes the status and vmstat baselines; the caller has faulted in everything a task touches. */
static void proc_baseline(void) {
    load_file("/proc/self/status", proc_text, sizeof proc_text);
    for (size_t i = 0; i < STATUS_FIELDS; i++) {
        status_start[i] = 0;
        field_value(proc_text, status_fields[i], ':', &status_start[i]);
    }
    load_file("/proc/vmstat", proc_text, sizeof proc_text);
    for (size_t i = 0; i < VMSTAT_FIELDS; i++)
        vmstat_seen[i] = field_value(proc_text, vmstat_fields[i], ' ', &vmstat_start[i]);
}

/* One smaps block: its header's fields and where its field lines start and end. */
struct smaps_block {
    unsigned long start, end, pgoff;
    char perms[8], dev[8], name[256];
    unsigned long ino;
    const char *body, *body_end;
};

/* The next block of smaps text at *cursor; 0 at the end. */
static int next_smaps_block(const char **cursor, struct smaps_block *b) {
    const char *line = *cursor;
    while (line && *line) {
        int used = 0;
        if (sscanf(line, "%lx-%lx %7s %lx %7s %lu%n", &b->start, &b->end, b->perms, &b->pgoff, b->dev, &b->ino,
                   &used) == 6) {
            const char *eol = strchr(line, '\n');
            const char *name = line + used;
            while (*name == ' ') name++;
            size_t len = eol ? (size_t)(eol - name) : strlen(name);
            snprintf(b->name, sizeof b->name, "%.*s", (int)len, name);
            b->body = eol ? eol + 1 : line + strlen(line);
            const char *p = b->body;
            while (*p) {
                unsigned long s2, e2;
                if (sscanf(p, "%lx-%lx ", &s2, &e2) == 2 && strchr(p, '-') && strchr(p, '-') < strchr(p, ' ')) break;
                p = strchr(p, '\n') ? strchr(p, '\n') + 1 : p + strlen(p);
            }
            b->body_end = p;
            *cursor = p;
            return 1;
        }
        line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL;
    }
    return 0;
}

static int in_arena(const struct smaps_block *b) {
    return !arena_excludes(b->start, b->end - b->start);
}

/* smaps ADDR */
static int do_smaps(const struct command *c) {
    uintptr_t addr;
    if (c->ntok != 2 || !parse_address(c->tok[1], &addr)) return 0;
    if (arena_excludes(addr, 1)) {
        say(" -> outside\n");
        return 1;
    }
    load_file("/proc/self/smaps", proc_text, sizeof proc_text);
    const char *cursor = proc_text;
    struct smaps_block b;
    while (next_smaps_block(&cursor, &b)) {
        if (addr < b.start || addr >= b.end) continue;
        say(" ->\n  ");
        say_address(b.start);
        say(" ");
        say_address(b.end);
        if (strcmp(b.dev, "00:00") == 0) say(" %s %08lx %s %lu", b.perms, b.pgoff, b.dev, b.ino);
        else say(" %s %08lx %s *", b.perms, b.pgoff, b.dev);
        if (b.name[0]) say(" %s", b.name);
        say("\n");
        for (const char *line = b.body; line < b.body_end;) {
            const char *eol = strchr(line, '\n');
            size_t len = eol ? (size_t)(eol - line) : strlen(line);
            if (strncmp(line, "ProtectionKey:", 14) != 0) say("  %.*s\n", (int)len, line);
            line = eol ? eol + 1 : line + len;
        }
        return 1;
    }
    say(" -> ENOENT\n");
    return 1;
}

/* smaps_rollup (of the arena's VMAs) */
static int do_smaps_rollup(const struct command *c) {
    if (c->ntok != 1) return 0;
    load_file("/proc/self/smaps", proc_text, sizeof proc_text);
    long sum[ROLLUP_FIELDS] = {0};
    unsigned long first = 0, last = 0;
    int any = 0;
    const char *cursor = proc_text;
    struct smaps_block b;
    static char body[1 << 16];
    while (next_smaps_block(&cursor, &b)) {
        if (!in_arena(&b)) continue;
        if (!any) first = b.start;
        last = b.end;
        any = 1;
        snprintf(body, sizeof body, "%.*s", (int)(b.body_end - b.body), b.body);
        long pss = 0;
        field_value(body, "Pss", ':', &pss);
        for (size_t i = 0; i < ROLLUP_FIELDS; i++) {
            long v = 0;
            field_value(body, rollup_fields[i], ':', &v);
            sum[i] += v;
        }
        /* Per-VMA smaps has no Pss split: a private VMA's pages are anonymous, a shared one's shmem. */
        sum[3] += b.perms[3] == 'p' ? pss : 0;
        sum[5] += b.perms[3] == 's' ? pss : 0;
    }
    say(" ->\n");
    if (!any) return 1;
    say("  ");
    say_address(first);
    say(" ");
    say_address(last);
    say(" ---p 00000000 00:00 0 [rollup]\n");
    for (size_t i = 0; i < ROLLUP_FIELDS; i++) {
        char label[32];
        snprintf(label, sizeof label, "%s:", rollup_fields[i]);
        if (strcmp(rollup_fields[i], "Private_Hugetlb") == 0) say("  %-17s%7ld kB\n", label, sum[i]);
        else say("  %-16s%8ld kB\n", label, sum[i]);
    }
    return 1;
}

/* status: the memory lines the simulator models, as the change since the oracle started. */
static int do_status(const struct command *c) {
    if (c->ntok != 1) return 0;
    load_file("/proc/self/status", proc_text, sizeof proc_text);
    say(" ->\n");
    for (size_t i = 0; i < STATUS_FIELDS; i++) {
        long v = 0;
        field_value(proc_text, status_fields[i], ':', &v);
        say("  %s:\t%8ld kB\n", status_fields[i], v - status_start[i]);
    }
    return 1;
}

/* vmstat: the counters the simulator keeps, as the change since the oracle started (whole machine). */
static int do_vmstat(const struct command *c) {
    if (c->ntok != 1) return 0;
    load_file("/proc/vmstat", proc_text, sizeof proc_text);
    say(" ->\n");
    for (size_t i = 0; i < VMSTAT_FIELDS; i++) {
        long v = 0;
        if (vmstat_seen[i] && field_value(proc_text, vmstat_fields[i], ' ', &v))
            say("  %s %ld\n", vmstat_fields[i], v - vmstat_start[i]);
    }
    return 1;
}

/*
 * meminfo: the live /proc/meminfo, every line as the kernel prints it. It is the whole machine's,
 * so a recording of it is compared with the simulator's only in what can be compared: the lines,
 * their order and format, and the change between two meminfo lines in the lines a script decides
 * (AnonPages, Mapped, Shmem, Committed_AS), within the noise of the rest of the machine
 * (vmscript/meminfo/ and MeminfoRecordingTest). Never part of a byte-for-byte transcript.
 */
static int do_meminfo(const struct command *c) {
    if (c->ntok != 1) return 0;
    load_file("/proc/meminfo", proc_text, sizeof proc_text);
    say(" ->\n");
    for (const char *line = proc_text; *line;) {
        const char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        say("  %.*s\n", (int)len, line);
        line = eol ? eol + 1 : line + len;
    }
    return 1;
}

static const struct {
    const char *verb;
    handler_fn run;
    int own_arrow; /* the handler writes " ->..." itself (the /proc views) */
} operations[] = {
    {"map", do_map, 0},
    {"unmap", do_unmap, 0},
    {"protect", do_protect, 0},
    {"remap", do_remap, 0},
    {"dontneed", do_dontneed, 0},
    {"guard", do_guard, 0},
    {"unguard", do_unguard, 0},
    {"populate_read", do_populate_read, 0},
    {"populate_write", do_populate_write, 0},
    {"wipeonfork", do_wipeonfork, 0},
    {"keeponfork", do_keeponfork, 0},
    {"read", do_read, 0},
    {"write", do_write, 0},
    {"maps", do_maps, 0},
    {"smaps", do_smaps, 1},
    {"smaps_rollup", do_smaps_rollup, 1},
    {"status", do_status, 1},
    {"vmstat", do_vmstat, 1},
    {"meminfo", do_meminfo, 1},
};

/* ---------------------------------------------------------------- input ---------------------- */

static int is_separator(char ch) {
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

/*
 * Splits a line (already cut at '#') into at most MAX_TOKENS words in place; words past the
 * sixteenth are dropped without complaint.
 */
static void tokenize(char *line, struct command *c) {
    c->ntok = 0;
    char *p = line;
    while (c->ntok < MAX_TOKENS) {
        while (*p && is_separator(*p)) p++;
        if (!*p) break;
        c->tok[c->ntok++] = p;
        while (*p && !is_separator(*p)) p++;
        if (!*p) break;
        *p++ = '\0';
    }
}

static void run_line(char *line) {
    char *comment = strchr(line, '#');
    if (comment) *comment = '\0';
    struct command c;
    tokenize(line, &c);
    if (c.ntok == 0) return;

    /* Echo, then the arrow; "maps" gets no space after it because its answer starts a new line
     * (even a malformed "maps x" keeps that: "maps x ->syntax"). */
    for (int i = 0; i < c.ntok; i++) say(i == 0 ? "%s" : " %s", c.tok[i]);
    int op = -1;
    for (size_t i = 0; i < sizeof operations / sizeof operations[0]; i++)
        if (strcmp(c.tok[0], operations[i].verb) == 0) op = (int)i;
    if (op < 0 || !operations[op].own_arrow) say(strcmp(c.tok[0], "maps") == 0 ? " ->" : " -> ");
    if (op < 0 || !operations[op].run(&c)) say(op >= 0 && operations[op].own_arrow ? " -> syntax\n" : "syntax\n");
}

/* ---------------------------------------------------------------- tasks ---------------------- */

/* A line longer than this is read (and answered) as several lines. */
#define LINE_CHARS 512
/* Tasks alive at once; the simulator's ScriptTasks.MAX_TASKS. */
#define MAX_TASKS 8
/* Longest task name; the simulator's ScriptTasks.NAME_CHARS. */
#define TASK_NAME_CHARS 31

enum { CMD_LINE, CMD_FORK, CMD_EXIT };

/* What the controller writes into a task's command pipe. */
struct task_command {
    int kind;
    int slot; /* CMD_FORK: the slot of the child */
    char line[LINE_CHARS];
};

/* What a task writes back: its pid (CMD_FORK: the child's, or -errno), then len transcript bytes. */
struct task_reply {
    long pid;
    size_t len;
};

/* Per slot: the controller writes cmd[slot][1] and reads reply[slot][0]; the task the other ends. */
static int cmd_pipe[MAX_TASKS][2];
/* A task's reply as the controller reads it. */
static char reply_bytes[sizeof transcript.bytes];
static int reply_pipe[MAX_TASKS][2];

static struct {
    char name[TASK_NAME_CHARS + 1];
    pid_t pid;
    int alive;
} tasks[MAX_TASKS];

static int read_all(int fd, void *bytes, size_t len) {
    size_t done = 0;
    while (done < len) {
        ssize_t n = read(fd, (char *)bytes + done, len - done);
        if (n <= 0) return -1;
        done += (size_t)n;
    }
    return 0;
}

static void task_loop(int slot);

/*
 * Starts a task in slot from the calling process (the controller for "parent", else the forking
 * task). Returns the child's pid, or -errno. The child never returns.
 */
static long task_spawn(int slot) {
    pid_t pid = fork();
    if (pid < 0) return -errno;
    if (pid == 0) task_loop(slot);
    return pid;
}

/*
 * A task's life: keep only the ends a task uses (so the controller's exit is EOF to every task),
 * then run what the controller sends, one command at a time, answering each.
 */
static void task_loop(int slot) {
    int devnull = open("/dev/null", O_RDWR);
    dup2(devnull, STDIN_FILENO);
    dup2(devnull, STDOUT_FILENO);
    close(devnull);
    for (int i = 0; i < MAX_TASKS; i++) {
        if (cmd_pipe[i][1] >= 0) close(cmd_pipe[i][1]);
        if (reply_pipe[i][0] >= 0) close(reply_pipe[i][0]);
        cmd_pipe[i][1] = reply_pipe[i][0] = -1;
    }
    static struct task_command cmd;
    for (;;) {
        if (read_all(cmd_pipe[slot][0], &cmd, sizeof cmd) != 0) _exit(0);
        struct task_reply reply = {0, 0};
        if (cmd.kind == CMD_EXIT) _exit(0);
        if (cmd.kind == CMD_FORK) {
            reply.pid = task_spawn(cmd.slot);
        } else {
            run_line(cmd.line);
            reply.len = transcript.len;
        }
        write_all(reply_pipe[slot][1], &reply, sizeof reply);
        write_all(reply_pipe[slot][1], transcript.bytes, transcript.len);
        transcript.len = 0;
    }
}

/* Sends one command to the task in slot and waits for its reply; the transcript bytes go to say(). */
static long task_call(int slot, int kind, int child_slot, const char *line) {
    static struct task_command cmd;
    memset(&cmd, 0, sizeof cmd);
    cmd.kind = kind;
    cmd.slot = child_slot;
    if (line) snprintf(cmd.line, sizeof cmd.line, "%s", line);
    write_all(cmd_pipe[slot][1], &cmd, sizeof cmd);
    struct task_reply reply;
    if (read_all(reply_pipe[slot][0], &reply, sizeof reply) != 0) return -EPIPE;
    if (reply.len > sizeof reply_bytes || read_all(reply_pipe[slot][0], reply_bytes, reply.len) != 0) return -EPIPE;
    say("%.*s", (int)reply.len, reply_bytes);
    return reply.pid;
}

/* The live task called name, or -1. */
static int task_find(const char *name) {
    for (int i = 0; i < MAX_TASKS; i++)
        if (tasks[i].alive && strcmp(tasks[i].name, name) == 0) return i;
    return -1;
}

static int task_name_ok(const char *name) {
    size_t n = strlen(name);
    return n > 0 && n <= TASK_NAME_CHARS && !strchr(name, ':');
}

/* Returns only once the process pid has exited (whoever its parent is): its mm is gone by then. */
static void task_wait_gone(pid_t pid) {
    int fd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (fd >= 0) {
        struct pollfd p = {fd, POLLIN, 0};
        while (poll(&p, 1, -1) < 0 && errno == EINTR) {}
        close(fd);
    }
    waitpid(pid, NULL, WNOHANG); /* reaps it when it is the controller's own child */
}

/* fork NAME in the task of slot; the answer after the echo. */
static void task_fork(int slot, const struct command *c) {
    if (c->ntok != 2 || !task_name_ok(c->tok[1])) {
        say("syntax\n");
        return;
    }
    if (task_find(c->tok[1]) >= 0) {
        say("EEXIST\n");
        return;
    }
    int child = -1;
    for (int i = 0; i < MAX_TASKS && child < 0; i++)
        if (!tasks[i].alive) child = i;
    if (child < 0) {
        say("EAGAIN\n");
        return;
    }
    long pid = task_call(slot, CMD_FORK, child, NULL);
    if (pid < 0) {
        const char *name = strerrorname_np((int)-pid);
        say("%s\n", name ? name : "E?");
        return;
    }
    snprintf(tasks[child].name, sizeof tasks[child].name, "%s", c->tok[1]);
    tasks[child].pid = (pid_t)pid;
    tasks[child].alive = 1;
    say("ok\n");
}

/* exit NAME; the answer after the echo. */
static void task_exit(const struct command *c) {
    if (c->ntok != 2 || !task_name_ok(c->tok[1])) {
        say("syntax\n");
        return;
    }
    int slot = task_find(c->tok[1]);
    if (slot < 0) {
        say("ESRCH\n");
        return;
    }
    static struct task_command cmd;
    memset(&cmd, 0, sizeof cmd);
    cmd.kind = CMD_EXIT;
    write_all(cmd_pipe[slot][1], &cmd, sizeof cmd);
    task_wait_gone(tasks[slot].pid);
    tasks[slot].alive = 0;
    say("ok\n");
}

/* Index just past the second word of line (which has at least two). */
static size_t end_of_second_word(const char *line) {
    size_t i = 0;
    for (int w = 0; w < 2; w++) {
        while (is_separator(line[i])) i++;
        while (line[i] && !is_separator(line[i])) i++;
    }
    return i;
}

/*
 * One line of the script, in the controller: finds the task ("in NAME:" or the parent), runs fork
 * and exit itself and hands any other line to the task, whose transcript follows the prefix.
 */
static void control_line(char *line) {
    char *comment = strchr(line, '#');
    if (comment) *comment = '\0';
    static char copy[LINE_CHARS];
    snprintf(copy, sizeof copy, "%s", line);
    struct command whole;
    tokenize(copy, &whole);
    if (whole.ntok == 0) return;

    const char *task_name = "parent";
    char *rest = line;
    static char name[LINE_CHARS];
    size_t first_len = whole.ntok >= 2 ? strlen(whole.tok[1]) : 0;
    if (whole.ntok >= 2 && strcmp(whole.tok[0], "in") == 0 && first_len >= 2 && whole.tok[1][first_len - 1] == ':') {
        snprintf(name, sizeof name, "%.*s", (int)(first_len - 1), whole.tok[1]);
        if (task_name_ok(name)) {
            task_name = name;
            rest = line + end_of_second_word(line);
            say("in %s ", whole.tok[1]);
        }
    }
    static char rest_copy[LINE_CHARS];
    snprintf(rest_copy, sizeof rest_copy, "%s", rest);
    struct command op;
    tokenize(rest_copy, &op);
    if (op.ntok == 0) {
        transcript.len = 0;
        for (int i = 0; i < whole.ntok; i++) say(i == 0 ? "%s" : " %s", whole.tok[i]);
        say(" -> syntax\n");
        transcript_flush();
        return;
    }
    int slot = task_find(task_name);
    int is_fork = strcmp(op.tok[0], "fork") == 0, is_exit = strcmp(op.tok[0], "exit") == 0;
    if (slot < 0 || is_fork || is_exit) {
        for (int i = 0; i < op.ntok; i++) say(i == 0 ? "%s" : " %s", op.tok[i]);
        say(" -> ");
        if (slot < 0) say("ESRCH\n");
        else if (is_fork) task_fork(slot, &op);
        else task_exit(&op);
    } else {
        task_call(slot, CMD_LINE, 0, rest);
    }
    transcript_flush();
}

/*
 * Faults in the oracle's own buffers and enough stack for any line, before the status baseline:
 * afterwards only the script's operations change a task's Rss and VM sizes.
 */
extern char __data_start[], _end[];

static void __attribute__((noinline)) prefault_own_memory(void) {
    volatile char stack[256 << 10];
    for (size_t i = 0; i < sizeof stack; i += 1024) stack[i] = 0;
    /* Every page of .data and .bss, written with the value it holds. */
    for (volatile char *p = __data_start; p < _end; p += 1024) *p = *p;
}

int main(void) {
    static char line[LINE_CHARS];

    /* Keep malloc (stdio's buffers) on brk: an mmap'ed buffer could land in the arena. */
    mallopt(M_MMAP_THRESHOLD, 1 << 30);

    struct sigaction fault = {0};
    fault.sa_sigaction = on_fault;
    fault.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGSEGV, &fault, NULL);
    sigaction(SIGBUS, &fault, NULL);
    /* A task that dies on a bad write to a pipe must not take the controller with it. */
    signal(SIGPIPE, SIG_IGN);

    if (arena_init() != 0) return 1;
    prefault_own_memory();
    proc_baseline();
    for (int i = 0; i < MAX_TASKS; i++)
        if (pipe(cmd_pipe[i]) != 0 || pipe(reply_pipe[i]) != 0) return 1;

    snprintf(tasks[0].name, sizeof tasks[0].name, "parent");
    long pid = task_spawn(0);
    if (pid < 0) return 1;
    tasks[0].pid = (pid_t)pid;
    tasks[0].alive = 1;
    /* The tasks' ends: every task has them (tasks fork tasks), the controller needs none. */
    for (int i = 0; i < MAX_TASKS; i++) {
        close(cmd_pipe[i][0]);
        close(reply_pipe[i][1]);
    }

    while (fgets(line, sizeof line, stdin)) control_line(line);
    transcript_flush();
    for (int i = 0; i < MAX_TASKS; i++) {
        if (!tasks[i].alive) continue;
        close(cmd_pipe[i][1]);
        task_wait_gone(tasks[i].pid);
    }
    return 0;
}
