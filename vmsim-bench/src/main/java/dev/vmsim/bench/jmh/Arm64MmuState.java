package dev.vmsim.bench.jmh;

import dev.vmsim.arch.arm64.Arm64Config;
import dev.vmsim.arch.arm64.Arm64Mmu;
import dev.vmsim.arch.arm64.Arm64PageTableFormat;
import dev.vmsim.arch.arm64.Arm64Walker;
import dev.vmsim.arch.arm64.AsidAllocator;
import dev.vmsim.core.arch.Access;
import dev.vmsim.core.mm.VmFlags;
import dev.vmsim.core.phys.PhysicalMemory;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The arm64 half of {@code MmuBench}: a 4K/48-bit address space of {@link #PAGES} pages under one
 * PTE table, an {@link Arm64Mmu} whose TLB holds them all ({@link #tlbHit()}), and the bare
 * {@link Arm64Walker} doing the full L0→L3 walk that a TLB miss costs ({@link #walk4()}).
 *
 * <p>Each call advances to the next page so the JIT cannot hoist the translation; the pages are
 * walked in a fixed order, so host caches stay warm and the figures are the simulator's own cost.
 */
@State(Scope.Thread)
public class Arm64MmuState {
    /** Pages touched round-robin: all fit in the TLB and in one PTE table. */
    static final int PAGES = 256;
    static final long BASE_VA = 0x7f12_3456_0000L & ~((1L << 21) - 1);

    private Arm64Mmu mmu;
    private Arm64Walker walker;
    private long rootPa;
    private int next;

    @Setup
    public void setup() {
        final Arm64PageTableFormat f = Arm64PageTableFormat.DEFAULT;
        final PhysicalMemory mem = new PhysicalMemory(4096);
        long nextFrame = 1;
        rootPa = nextFrame++ << 12;
        final long prot = f.pteMkdirty(f.vmGetPageProt(VmFlags.VM_READ | VmFlags.VM_WRITE | VmFlags.VM_SHARED));
        for (int p = 0; p < PAGES; p++) {
            final long va = BASE_VA + ((long) p << 12);
            long table = rootPa;
            for (int l = f.levels() - 1; l > 0; l--) {
                final long slot = table + ((long) f.index(va, l) << 3);
                long d = mem.getLong(slot);
                if (!f.isTable(d, l)) {
                    d = f.mkTable(nextFrame++, l);
                    mem.putLong(slot, d);
                }
                table = f.pfn(d) << 12;
            }
            mem.putLong(table + ((long) f.index(va, 0) << 3), f.pfnPte(nextFrame++, prot));
        }
        mmu = new Arm64Mmu(mem, 0, Arm64Config.DEFAULT, new AsidAllocator(16));
        mmu.setTtbr0(rootPa, 1);
        walker = new Arm64Walker(mem, f, true);
        for (int p = 0; p < PAGES; p++) {
            if (mmu.translate(BASE_VA + ((long) p << 12), Access.READ, true) < 0) {
                throw new IllegalStateException("setup: page " + p + " does not translate");
            }
        }
    }

    private long nextVa() {
        final int p = next;
        next = (p + 1) & (PAGES - 1);
        return BASE_VA + ((long) p << 12) + 8;
    }

    /** A user load that hits in the TLB: the physical address. */
    public long tlbHit() {
        return mmu.translate(nextVa(), Access.READ, true);
    }

    /** A full 4-level table walk (L0, L1, L2, L3 descriptors), as on a TLB miss: the physical address. */
    public long walk4() {
        return walker.walk(rootPa, nextVa(), Access.READ, true);
    }
}
