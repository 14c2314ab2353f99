package dev.vmsim.core.script;

import dev.vmsim.core.KernelVariant;
import dev.vmsim.core.Machine;
import dev.vmsim.core.arch.Arch;
import dev.vmsim.core.arch.SigInfo;
import dev.vmsim.core.clock.HostPlatform;
import dev.vmsim.core.clock.Platform;
import dev.vmsim.core.cpu.Cpu;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.mm.Errno;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.Mman;
import dev.vmsim.core.mm.VmFlags;
import dev.vmsim.core.mm.Vma;
import dev.vmsim.core.trace.FaultTrace;
import dev.vmsim.core.trace.FaultTraceText;
import dev.vmsim.core.trace.TraceRecorder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The vmscript interpreter: runs a scenario on a fresh single-threaded process and produces the
 * canonical transcript, which must match the real kernel's (the oracle vmoracle.c) byte for byte.
 *
 * <p>Parsing mirrors the oracle exactly, quirks included: numbers are C {@code strtoul(s, &end, 0)}
 * (decimal, 0x hex, leading-0 octal, an optional sign, saturating at 2^64-1) with an optional
 * K/M/G suffix in either case; a {@code write}'s value is not validated; {@code maps} with extra
 * tokens prints {@code "maps extra ->syntax"}; at most 16 tokens of a line are seen; expressions
 * are cut at 63 characters and names at 31, as the oracle's buffers do.
 */
public final class VmScript {
    /** The arena below top that operations may touch (1 GiB). */
    public static final long ARENA = 1L << 30;
    /** Frames of the simulated machine a script runs on, unless a {@code mem} line or --mem gives fewer. */
    public static final long FRAMES = 1 << 16;

    private static final int MAX_TOKENS = 16;
    /**
     * The madvise verbs, each {@code VERB EXPR LEN}: dontneed (MADV_DONTNEED), guard and unguard
     * (MADV_GUARD_INSTALL, MADV_GUARD_REMOVE), populate_read and populate_write
     * (MADV_POPULATE_READ, MADV_POPULATE_WRITE), wipeonfork and keeponfork (MADV_WIPEONFORK,
     * MADV_KEEPONFORK).
     */
    private static final Map<String, Integer> ADVICE = Map.of(
            "dontneed", Mman.MADV_DONTNEED,
            "guard", Mman.MADV_GUARD_INSTALL,
            "unguard", Mman.MADV_GUARD_REMOVE,
            "populate_read", Mman.MADV_POPULATE_READ,
            "populate_write", Mman.MADV_POPULATE_WRITE,
            "wipeonfork", Mman.MADV_WIPEONFORK,
            "keeponfork", Mman.MADV_KEEPONFORK);

    private final MmStruct mm;
    private final Cpu cpu;
    private final long top;
    /** This task's names: a forked task starts with a copy of its parent's, as a forked process does. */
    private final Map<String, Long> names = new LinkedHashMap<>();
    /** The transcript, shared by every task of the run. */
    private final StringBuilder out;

    /** One task of a run: its mm, the CPU it runs on and the transcript it writes to. */
    VmScript(final MmStruct mm, final Cpu cpu, final StringBuilder out) {
        this.mm = mm;
        this.cpu = cpu;
        this.top = mm.mmapBase();
        this.out = out;
    }

    /** The task {@link ScriptTasks} made with {@code childMm} on fork: this task's names, the child's mm. */
    VmScript forked(final MmStruct childMm) {
        final VmScript child = new VmScript(childMm, cpu, out);
        child.names.putAll(names);
        return child;
    }

    MmStruct mm() {
        return mm;
    }

    Cpu cpu() {
        return cpu;
    }

    StringBuilder out() {
        return out;
    }

    /** Runs {@code script} on a fresh single-threaded process of {@code arch} and returns the transcript. */
    public static String run(final String script, final Arch arch, final LockingMode mode) {
        return run(script, arch, mode, false);
    }

    /**
     * As {@link #run(String, Arch, LockingMode)}; with {@code mmapUpgrade} the simulator's atomic
     * mmap_lock upgrade is on ({@link dev.vmsim.core.lock.MmapLock#setUpgradeEnabled}).
     */
    public static String run(final String script, final Arch arch, final LockingMode mode, final boolean mmapUpgrade) {
        return run(script, arch, mode, mmapUpgrade, KernelVariant.VANILLA);
    }

    /** As {@link #run(String, Arch, LockingMode, boolean)}, on a machine running kernel {@code variant}. */
    public static String run(
            final String script,
            final Arch arch,
            final LockingMode mode,
            final boolean mmapUpgrade,
            final KernelVariant variant) {
        return run(script, ScriptSession.start(arch, mode, mmapUpgrade, variant, null));
    }

    /**
     * As {@link #run(String, Arch, LockingMode, boolean)} on a machine of the clock {@code platform};
     * under a virtual clock, call it from the scheduler's one task.
     */
    public static String run(
            final String script,
            final Arch arch,
            final LockingMode mode,
            final boolean mmapUpgrade,
            final Platform platform) {
        return run(script, arch, mode, mmapUpgrade, KernelVariant.VANILLA, platform);
    }

    /** The same on a machine running kernel {@code variant} on {@code platform}'s clock. */
    public static String run(
            final String script,
            final Arch arch,
            final LockingMode mode,
            final boolean mmapUpgrade,
            final KernelVariant variant,
            final Platform platform) {
        return run(script, ScriptSession.start(arch, mode, mmapUpgrade, variant, platform, 0, 0, null));
    }

    /**
     * Every line of {@code script} stepped in {@code session} (made with {@link ScriptSession#start};
     * its recorder, if any, is drained and its events dropped); the transcript.
     */
    public static String run(final String script, final ScriptSession session) {
        for (final String line : splitLines(script)) {
            session.step(line);
        }
        return session.transcript();
    }

    /** Runs {@code script} on a fresh process of {@code machine} (one new CPU); its {@code mem} and {@code swap} lines answer EBUSY. */
    public static String run(final String script, final Machine machine, final LockingMode mode) {
        return fresh(machine, mode, false, new StringBuilder()).lines(script);
    }

    /** A fresh process of {@code machine} on one new CPU, writing its transcript to {@code out}. */
    static VmScript fresh(
            final Machine machine, final LockingMode mode, final boolean mmapUpgrade, final StringBuilder out) {
        final MmStruct mm = new MmStruct(machine, mode);
        mm.mmapLock().setUpgradeEnabled(mmapUpgrade);
        final Cpu cpu = machine.newCpu();
        cpu.switchMm(mm);
        return new VmScript(mm, cpu, out);
    }

    /** Runs every line of {@code script} with this task as {@code parent}; the transcript. */
    private String lines(final String script) {
        final ScriptTasks tasks = new ScriptTasks(this, cpu, out);
        for (final String line : splitLines(script)) {
            tasks.line(line);
        }
        return out.toString();
    }

    /** {@link #runTraced(String, Arch, LockingMode, boolean, int)} with the kernel's mmap_lock (no upgrade). */
    public static String runTraced(final String script, final Arch arch, final LockingMode mode, final int capacity) {
        return runTraced(script, arch, mode, false, capacity);
    }

    /**
     * Like {@link #run(String, Arch, LockingMode, boolean)}, and after each transcript line whose
     * operation faulted, one line per fault, {@code "  # "} and the fault's path ({@link
     * FaultTraceText}). The transcript lines themselves are unchanged. Installs a {@link
     * TraceRecorder} of {@code capacity} events for the duration of the run (tracing is global: not
     * for concurrent use).
     */
    public static String runTraced(
            final String script,
            final Arch arch,
            final LockingMode mode,
            final boolean mmapUpgrade,
            final int capacity) {
        return runTraced(script, arch, mode, mmapUpgrade, KernelVariant.VANILLA, capacity);
    }

    /** As {@link #runTraced(String, Arch, LockingMode, boolean, int)}, on a machine running kernel {@code variant}. */
    public static String runTraced(
            final String script,
            final Arch arch,
            final LockingMode mode,
            final boolean mmapUpgrade,
            final KernelVariant variant,
            final int capacity) {
        return runTraced(script, arch, mode, mmapUpgrade, variant, 0, 0, capacity);
    }

    /**
     * As {@link #runTraced(String, Arch, LockingMode, boolean, KernelVariant, int)} with {@code memBytes}
     * of memory (0: the default) and {@code swapBytes} of swap (0: none) until the script's {@code mem}
     * and {@code swap} lines say otherwise.
     */
    public static String runTraced(
            final String script,
            final Arch arch,
            final LockingMode mode,
            final boolean mmapUpgrade,
            final KernelVariant variant,
            final long memBytes,
            final long swapBytes,
            final int capacity) {
        final TraceRecorder rec = new TraceRecorder(capacity);
        final ScriptSession session =
                ScriptSession.start(arch, mode, mmapUpgrade, variant, HostPlatform.INSTANCE, memBytes, swapBytes, rec);
        FaultTrace.install(rec);
        try {
            for (final String line : splitLines(script)) {
                final ScriptSession.Step step = session.step(line);
                for (final String t : FaultTraceText.lines(step.events(), session.top())) {
                    session.append("  # " + t + "\n");
                }
            }
        } finally {
            FaultTrace.install(null);
        }
        return session.transcript();
    }

    /**
     * Runs on an existing process, which is the task {@code parent}; for tests that inspect the mm
     * afterwards. Tasks forked by the script are left as the script left them.
     */
    public static String run(final String script, final MmStruct mm, final Cpu cpu) {
        return new VmScript(mm, cpu, new StringBuilder()).lines(script);
    }

    /** Lines as fgets returns them (the newline does not matter: it is a token separator). */
    static List<String> splitLines(final String script) {
        final List<String> lines = new ArrayList<>();
        int from = 0;
        while (from < script.length()) {
            int nl = script.indexOf('\n', from);
            if (nl < 0) {
                nl = script.length();
            }
            lines.add(script.substring(from, nl));
            from = nl + 1;
        }
        return lines;
    }

    static List<String> tokens(final String line) {
        final List<String> tok = new ArrayList<>();
        int i = 0;
        final int n = line.length();
        while (i < n && tok.size() < MAX_TOKENS) {
            while (i < n && isSep(line.charAt(i))) {
                i++;
            }
            if (i >= n) {
                break;
            }
            final int s = i;
            while (i < n && !isSep(line.charAt(i))) {
                i++;
            }
            tok.add(line.substring(s, i));
        }
        return tok;
    }

    static boolean isSep(final char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\n';
    }

    private void emit(final String s) {
        out.append(s);
    }

    /** Runs one line (an operation of this task; not fork, exit or an {@code in} prefix) and writes its transcript. */
    void line(final String raw) {
        String line = raw;
        final int hash = line.indexOf('#');
        if (hash >= 0) {
            line = line.substring(0, hash);
        }
        final List<String> tok = tokens(line);
        final int nt = tok.size();
        if (nt == 0) {
            return;
        }
        emit(String.join(" ", tok));
        final String op = tok.get(0);
        emit(op.equals("maps") ? " ->" : " -> ");
        final long[] a = new long[1];
        final boolean[] ok = new boolean[1];
        if (op.equals("map") && nt >= 4) {
            doMap(tok);
        } else if (op.equals("unmap") && nt == 3 && expr(tok.get(1), a)) {
            final long len = num(tok.get(2), ok);
            if (!refused(!ok[0], outside(a[0], len))) {
                result(mm.munmap(a[0], len));
            }
        } else if (op.equals("protect") && nt == 4 && expr(tok.get(1), a) && prot(tok.get(3)) >= 0) {
            final long len = num(tok.get(2), ok);
            if (!refused(!ok[0], outside(a[0], len))) {
                result(mm.mprotect(a[0], len, prot(tok.get(3))));
            }
        } else if (op.equals("remap") && nt >= 5 && expr(tok.get(2), a)) {
            doRemap(tok, a[0]);
        } else if (ADVICE.containsKey(op) && nt == 3 && expr(tok.get(1), a)) {
            final long len = num(tok.get(2), ok);
            if (!refused(!ok[0], outside(a[0], len))) {
                result(mm.madvise(a[0], len, ADVICE.get(op)));
            }
        } else if (op.equals("read") && nt == 2 && expr(tok.get(1), a)) {
            if (outside(a[0], 1)) {
                emit("outside\n");
            } else {
                final int b = cpu.load(a[0]);
                emit(b < 0 ? segv(cpu.lastSignal()) + "\n" : "ok " + b + "\n");
            }
        } else if (op.equals("write") && (nt == 2 || nt == 3) && expr(tok.get(1), a)) {
            final long v = nt == 3 ? num(tok.get(2), ok) : 1;
            if (outside(a[0], 1)) {
                emit("outside\n");
            } else {
                final int sig = cpu.store(a[0], (byte) v);
                emit(sig == SigInfo.OK ? "ok\n" : segv(sig) + "\n");
            }
        } else if (op.equals("maps") && nt == 1) {
            emit("\n");
            maps();
        } else {
            emit("syntax\n");
        }
    }

    private void doMap(final List<String> tok) {
        final int nt = tok.size();
        final boolean[] ok = new boolean[1];
        final long len = num(tok.get(2), ok);
        final int p = prot(tok.get(3));
        int flags = Mman.MAP_ANONYMOUS;
        boolean shared = false;
        final long[] at = {0};
        boolean bad = !ok[0] || p < 0;
        for (int i = 4; i < nt; i++) {
            final String t = tok.get(i);
            if (t.equals("shared")) {
                shared = true;
            } else if (t.equals("private")) {
                shared = false;
            } else if (t.equals("fixed")) {
                flags |= Mman.MAP_FIXED;
            } else if (t.equals("noreplace")) {
                flags |= Mman.MAP_FIXED_NOREPLACE;
            } else if (t.equals("growsdown")) {
                flags |= Mman.MAP_GROWSDOWN;
            } else if (t.equals("populate")) {
                flags |= Mman.MAP_POPULATE;
            } else if (t.equals("at") && i + 1 < nt) {
                if (!expr(tok.get(++i), at)) {
                    bad = true;
                }
            } else {
                bad = true;
            }
        }
        if (refused(bad, (flags & (Mman.MAP_FIXED | Mman.MAP_FIXED_NOREPLACE)) != 0 && outside(at[0], len))) {
            return;
        }
        flags |= shared ? Mman.MAP_SHARED : Mman.MAP_PRIVATE;
        bindResult(tok.get(1), mm.mmap(at[0], len, p, flags));
    }

    private void doRemap(final List<String> tok, final long a) {
        final int nt = tok.size();
        final boolean[] ok = new boolean[1];
        final boolean[] ok2 = new boolean[1];
        final long olen = num(tok.get(3), ok);
        final long nlen = num(tok.get(4), ok2);
        int flags = 0;
        boolean bad = !ok[0] || !ok2[0];
        final long[] b = {0};
        for (int i = 5; i < nt; i++) {
            final String t = tok.get(i);
            if (t.equals("maymove")) {
                flags |= Mman.MREMAP_MAYMOVE;
            } else if (t.equals("at") && i + 1 < nt) {
                flags |= Mman.MREMAP_FIXED | Mman.MREMAP_MAYMOVE;
                if (!expr(tok.get(++i), b)) {
                    bad = true;
                }
            } else {
                bad = true;
            }
        }
        if (refused(bad, outside(a, olen) || ((flags & Mman.MREMAP_FIXED) != 0 && outside(b[0], nlen)))) {
            return;
        }
        bindResult(tok.get(1), mm.mremap(a, olen, nlen, flags, b[0]));
    }

    /**
     * The oracle's refusals before a call, in its order: "syntax" when the line did not parse, else
     * "outside" when it leaves the arena. True when one was said and the call must not run.
     * {@code outside} is computed by the caller even on a syntax error; {@link #outside} is pure.
     */
    private boolean refused(final boolean bad, final boolean outside) {
        if (bad) {
            emit("syntax\n");
            return true;
        }
        if (outside) {
            emit("outside\n");
            return true;
        }
        return false;
    }

    /** The reply to mmap/mremap: the errno name on failure, else binds {@code name} to the address and says where. */
    private void bindResult(final String name, final long m) {
        if (Errno.isError(m)) {
            emit(Errno.name(m) + "\n");
            return;
        }
        bind(name, m);
        emit("ok " + rel(m) + "\n");
    }

    /**
     * The fault as the oracle's SIGSEGV/SIGBUS handler names it, by signal and si_code: a SIGBUS is
     * {@code SIGBUS BUS_ADRERR} (or BUS_ADRALN, else BUS_OTHER), never a SEGV code; a SIGSEGV is
     * SEGV_MAPERR, SEGV_ACCERR, or SEGV_OTHER. An access whose fault ran out of memory
     * (pagefault_out_of_memory, retried until the CPU gave up) is {@code OOM}.
     */
    private static String segv(final int info) {
        if (info == SigInfo.PAGEFAULT_OOM) {
            return "OOM"; // not the oracle's: only a script with a mem line can run out (no OOM killer there)
        }
        final int code = SigInfo.code(info);
        if (SigInfo.signo(info) == SigInfo.SIGBUS) {
            return code == SigInfo.BUS_ADRERR
                    ? "SIGBUS BUS_ADRERR"
                    : code == SigInfo.BUS_ADRALN ? "SIGBUS BUS_ADRALN" : "SIGBUS BUS_OTHER";
        }
        return code == SigInfo.SEGV_MAPERR ? "SEGV_MAPERR" : code == SigInfo.SEGV_ACCERR ? "SEGV_ACCERR" : "SEGV_OTHER";
    }

    private void result(final int r) {
        emit(r == 0 ? "ok\n" : Errno.name(r) + "\n");
    }

    /** Operations may only touch the arena [top - 1 GiB, top). */
    boolean outside(final long a, final long len0) {
        final long len = len0 == 0 ? 1 : len0;
        return Long.compareUnsigned(a, top - ARENA) < 0
                || Long.compareUnsigned(a, top) >= 0
                || Long.compareUnsigned(len, top - a) > 0;
    }

    String rel(final long a) {
        if (Long.compareUnsigned(a, top) >= 0) {
            return "top+0x" + Long.toHexString(a - top);
        }
        return "top-0x" + Long.toHexString(top - a);
    }

    private void bind(final String name, final long a) {
        names.put(name.length() > 31 ? name.substring(0, 31) : name, a);
    }

    private boolean lookup(final String n, final long[] v) {
        if (n.equals("top")) {
            v[0] = top;
            return true;
        }
        final Long x = names.get(n);
        if (x == null) {
            return false;
        }
        v[0] = x;
        return true;
    }

    /** EXPR := (NAME | NUM) (('+' | '-') NUM)*, as the oracle's expr(). */
    boolean expr(final String s0, final long[] v) {
        final String buf = s0.length() > 63 ? s0.substring(0, 63) : s0;
        final boolean[] ok = new boolean[1];
        int op = indexOfOp(buf, 0);
        final String head = op < 0 ? buf : buf.substring(0, op);
        if (!lookup(head, v)) {
            v[0] = num(head, ok);
            if (!ok[0]) {
                return false;
            }
        }
        while (op >= 0) {
            final char sign = buf.charAt(op);
            final int next = indexOfOp(buf, op + 1);
            final String term = next < 0 ? buf.substring(op + 1) : buf.substring(op + 1, next);
            final long off = num(term, ok);
            if (!ok[0]) {
                return false;
            }
            v[0] = sign == '+' ? v[0] + off : v[0] - off;
            op = next;
        }
        return true;
    }

    private static int indexOfOp(final String s, final int from) {
        for (int i = from; i < s.length(); i++) {
            final char c = s.charAt(i);
            if (c == '+' || c == '-') {
                return i;
            }
        }
        return -1;
    }

    private static int prot(final String s) {
        if (s.length() != 3) {
            return -1;
        }
        int p = 0;
        final char r = s.charAt(0);
        final char w = s.charAt(1);
        final char x = s.charAt(2);
        if (r == 'r') {
            p |= Mman.PROT_READ;
        } else if (r != '-') {
            return -1;
        }
        if (w == 'w') {
            p |= Mman.PROT_WRITE;
        } else if (w != '-') {
            return -1;
        }
        if (x == 'x') {
            p |= Mman.PROT_EXEC;
        } else if (x != '-') {
            return -1;
        }
        return p;
    }

    /** The oracle's num(): strtoul(s, &end, 0) plus a K/M/G suffix; ok unless junk follows. */
    static long num(final String s, final boolean[] ok) {
        final long[] endAt = new long[1];
        long v = strtoul(s, endAt);
        int end = (int) endAt[0];
        ok[0] = end != 0;
        if (end < s.length()) {
            final char c = s.charAt(end);
            if (c == 'K' || c == 'k') {
                v <<= 10;
                end++;
            } else if (c == 'M' || c == 'm') {
                v <<= 20;
                end++;
            } else if (c == 'G' || c == 'g') {
                v <<= 30;
                end++;
            }
        }
        if (end < s.length()) {
            ok[0] = false;
        }
        return v;
    }

    /** C strtoul with base 0; endAt[0] = the index of the first unparsed character (0 if none parsed). */
    static long strtoul(final String s, final long[] endAt) {
        int i = 0;
        final int n = s.length();
        while (i < n && isSpace(s.charAt(i))) {
            i++;
        }
        boolean neg = false;
        if (i < n && (s.charAt(i) == '+' || s.charAt(i) == '-')) {
            neg = s.charAt(i) == '-';
            i++;
        }
        int base = 10;
        if (i < n && s.charAt(i) == '0') {
            if (i + 2 < n + 1
                    && i + 1 < n
                    && (s.charAt(i + 1) == 'x' || s.charAt(i + 1) == 'X')
                    && i + 2 < n
                    && Character.digit(s.charAt(i + 2), 16) >= 0) {
                base = 16;
                i += 2;
            } else {
                base = 8;
            }
        }
        final int digitsFrom = i;
        long v = 0;
        boolean overflow = false;
        while (i < n) {
            final int d = digit(s.charAt(i), base);
            if (d < 0) {
                break;
            }
            // v * base + d > ULONG_MAX ?
            final long hi = Math.multiplyHigh(v, base) + ((v < 0) ? base : 0);
            final long lo = v * base;
            if (hi != 0 || Long.compareUnsigned(lo + d, lo) < 0) {
                overflow = true;
            }
            v = lo + d;
            i++;
        }
        if (i == digitsFrom) {
            // No digits: "0x" without hex digits was handled above; here nothing parsed at all,
            // unless a lone "0" prefix was consumed as octal (then digitsFrom points after it).
            endAt[0] = 0;
            return 0;
        }
        endAt[0] = i;
        if (overflow) {
            return -1L;
        }
        return neg ? -v : v;
    }

    private static int digit(final char c, final int base) {
        final int d = Character.digit(c, 36);
        return d >= 0 && d < base && c < 128 ? d : -1;
    }

    private static boolean isSpace(final char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == 0x0b;
    }

    /** /proc/PID/maps lines of the VMAs that intersect [top - 1 GiB, top). */
    private void maps() {
        final long bottom = top - ARENA;
        mm.mmapLock().readLock();
        try {
            for (final Vma v : mm.vmas()) {
                final long s = v.vmStart;
                final long e = v.vmEnd;
                if (Long.compareUnsigned(e, bottom) <= 0 || Long.compareUnsigned(s, top) >= 0) {
                    continue;
                }
                final long f = v.vmFlags;
                emit("  " + rel(s) + " " + rel(e) + " " + ((f & VmFlags.VM_READ) != 0 ? 'r' : '-')
                        + ((f & VmFlags.VM_WRITE) != 0 ? 'w' : '-') + ((f & VmFlags.VM_EXEC) != 0 ? 'x' : '-')
                        + ((f & VmFlags.VM_MAYSHARE) != 0 ? 's' : 'p') + "\n");
            }
        } finally {
            mm.mmapLock().readUnlock();
        }
    }
}
