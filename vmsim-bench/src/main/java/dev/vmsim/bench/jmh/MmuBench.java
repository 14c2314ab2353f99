package dev.vmsim.bench.jmh;

import dev.vmsim.arch.x86.X86Arch;
import dev.vmsim.arch.x86.X86Mmu;
import dev.vmsim.arch.x86.X86PageTableFormat;
import dev.vmsim.arch.x86.X86Pte;
import dev.vmsim.core.Machine;
import dev.vmsim.core.arch.Access;
import dev.vmsim.core.cpu.Cpu;
import dev.vmsim.core.phys.PhysicalMemory;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The simulated MMU's translation cost against the host's own memory system.
 *
 * <ul>
 *   <li>{@code x86TlbHit}: a translation that hits the simulated TLB (16 hot pages).
 *   <li>{@code x86Walk4}: a TLB miss and a full 4-level walk: 8192 pages cycled through a 512-entry
 *       TLB, so every translation misses (A bits are already set after the first lap: no CAS).
 *   <li>{@code hostL1Load}: one dependent load that stays in L1 (pointer chase in a 16-int cycle:
 *       the next index is the value loaded, so loads cannot overlap; 64 bytes, always L1-resident).
 *   <li>{@code hostTlbMiss}: one dependent load per 4 KiB page over 1 GiB in random order (a random
 *       cyclic permutation, one int per page): 262144 pages, far beyond any host STLB, so a host
 *       TLB miss (and usually a cache miss) per load. The fork runs with
 *       {@code -XX:-UseTransparentHugePages} so the heap stays on 4 KiB pages (with THP "always" in
 *       the host kernel, 2 MiB pages would cover 1 GiB with 512 entries and the load would hit).
 * </ul>
 *
 * <p>Every benchmark returns its result (JMH consumes it in a Blackhole) and advances its own
 * index field, so the sequence is predictable but cannot be constant-folded or hoisted.
 *
 * <p>Targets: {@code x86TlbHit} at most 3× {@code hostL1Load}; {@code x86Walk4} at most 2×
 * {@code hostTlbMiss}.
 *
 * <p>Run: {@code java -jar vmsim-bench/target/benchmarks.jar MmuBench -f 1 -wi 3 -i 5 -w 1s -r 1s}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Thread)
@Fork(value = 1, jvmArgsAppend = "-XX:-UseTransparentHugePages")
public class MmuBench {
    private static final long BASE = 0x7f00_0000_0000L;
    private static final int HOT_PAGES = 16;
    private static final int WALK_PAGES = 8192;
    private static final int HOST_PAGES = 1 << 18; // 1 GiB of 4 KiB pages
    private static final int INTS_PER_PAGE = 1024;

    private X86Mmu mmu;
    private Cpu cpu;
    private int hot;
    private int cold;

    private int[] l1;
    private int l1Idx;
    private int[] big;
    private int bigIdx;

    @Setup
    public void setup() {
        final X86Arch arch = new X86Arch();
        final Machine machine = new Machine(arch, 1 << 16, 1);
        cpu = machine.newCpu();
        mmu = (X86Mmu) cpu.mmu();
        final long root = machine.frames().allocZeroed(0);
        final X86PageTableFormat fmt = arch.pageTableFormat();
        final PhysicalMemory mem = machine.memory();
        for (int i = 0; i < WALK_PAGES; i++) {
            map(machine, mem, fmt, root, BASE + 4096L * i, 1000 + i);
        }
        mmu.loadCr3(root, 1, false);
        for (int i = 0; i < HOT_PAGES; i++) { // warm the hot pages into the TLB
            if (mmu.translate(BASE + 4096L * i, Access.READ, true) < 0) {
                throw new IllegalStateException("setup: hot page " + i + " does not translate");
            }
        }

        l1 = new int[HOT_PAGES];
        for (int i = 0; i < HOT_PAGES; i++) {
            l1[i] = (i + 7) % HOT_PAGES; // 7 is coprime to 16: one cycle through every slot
        }
        // a random cyclic permutation of the pages (Sattolo), one int per page
        final int[] order = new int[HOST_PAGES];
        for (int i = 0; i < HOST_PAGES; i++) {
            order[i] = i;
        }
        final SplittableRandom rnd = new SplittableRandom(42);
        for (int i = HOST_PAGES - 1; i > 0; i--) {
            final int j = rnd.nextInt(i);
            final int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        big = new int[HOST_PAGES * INTS_PER_PAGE];
        for (int i = 0; i < HOST_PAGES; i++) {
            big[order[i] * INTS_PER_PAGE] = order[(i + 1) % HOST_PAGES] * INTS_PER_PAGE;
        }
    }

    /** Writes the PTE for {@code va} (and any missing tables) directly, as the kernel's page-table code would. */
    private static void map(
            final Machine machine,
            final PhysicalMemory mem,
            final X86PageTableFormat fmt,
            final long root,
            final long va,
            final long pfn) {
        long table = root;
        for (int level = fmt.levels() - 1; level > 0; level--) {
            final long slot = (table << 12) + 8L * fmt.index(va, level);
            long e = mem.getLong(slot);
            if ((e & X86Pte.PRESENT) == 0) {
                e = fmt.mkTable(machine.frames().allocZeroed(0), level);
                mem.putLong(slot, e);
            }
            table = fmt.pfn(e);
        }
        mem.putLong((table << 12) + 8L * fmt.index(va, 0), fmt.pfnPte(pfn, X86Pte.PAGE_SHARED));
    }

    @Benchmark
    public long x86TlbHit() {
        final int i = (hot + 1) & (HOT_PAGES - 1);
        hot = i;
        return mmu.translate(BASE + 4096L * i + 8, Access.READ, true);
    }

    /**
     * A user load through {@link Cpu#load} that hits the TLB: {@link #x86TlbHit} plus the access
     * bracket a TLB shootdown waits on (its ordered store on entry, release store on exit) and the
     * byte load from simulated memory.
     */
    @Benchmark
    public int x86CpuLoadHit() {
        final int i = (hot + 1) & (HOT_PAGES - 1);
        hot = i;
        return cpu.load(BASE + 4096L * i + 8);
    }

    @Benchmark
    public long x86Walk4() {
        final int i = cold + 1 == WALK_PAGES ? 0 : cold + 1;
        cold = i;
        return mmu.translate(BASE + 4096L * i + 8, Access.READ, true);
    }

    @Benchmark
    public int hostL1Load() {
        final int next = l1[l1Idx];
        l1Idx = next;
        return next;
    }

    @Benchmark
    public int hostTlbMiss() {
        final int next = big[bigIdx];
        bigIdx = next;
        return next;
    }

    /** arm64 TLB hit: tag compare, permission check, physical address. */
    @Benchmark
    public long arm64TlbHit(final Arm64MmuState s) {
        return s.tlbHit();
    }

    /** arm64 TLB miss: 4K-granule 4-level walk (L0..L3) with FEAT_HAFDBS, and the TLB fill. */
    @Benchmark
    public long arm64Walk4(final Arm64MmuState s) {
        return s.walk4();
    }
}
