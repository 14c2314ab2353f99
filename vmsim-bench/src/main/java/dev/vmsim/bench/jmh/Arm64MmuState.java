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
 * The arm64 half of {@code MmuBench}, measured as x86Walk4/x86TlbHit are: a 4K/48-bit address space
 * of {@link #WALK_PAGES} pages, an {@link Arm64Mmu} with a 1024-entry TLB.
 *
 * <ul>
 *   <li>{@link #tlbHit()}: user loads cycling over {@link #HOT_PAGES} pages, all resident in the TLB.
 *   <li>{@link #walk4()}: user loads cycling over all {@link #WALK_PAGES} pages in order; the
 *       direct-mapped TLB slot of each page was refilled by 7 other pages since its last use, so
 *       every load misses and does the full L0→L3 walk and the fill. AF is already set, so the
 *       FEAT_HAFDBS walker does no CAS.
 *   <li>{@link #bareWalk4()}: the {@link Arm64Walker} alone, without TLB lookup or fill.
 * </ul>
 */
@State(Scope.Thread)
public class Arm64MmuState {
    static final int HOT_PAGES = 256;
    static final int WALK_PAGES = 8192;
    static final long BASE_VA = 0x7f12_3456_0000L & ~((1L << 21) - 1);

    private Arm64Mmu mmu;
    private Arm64Walker walker;
    private long rootPa;
    private int next;
    private int cold;

    @Setup
    public void setup() {
        final Arm64PageTableFormat f = Arm64PageTableFormat.DEFAULT;
        final PhysicalMemory mem = new PhysicalMemory(16384);
        long nextFrame = 1;
        rootPa = nextFrame++ << 12;
        final long prot = f.pteMkdirty(f.vmGetPageProt(VmFlags.VM_READ | VmFlags.VM_WRITE | VmFlags.VM_SHARED));
        for (int p = 0; p < WALK_PAGES; p++) {
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
        for (int p = 0; p < HOT_PAGES; p++) {
            if (mmu.translate(BASE_VA + ((long) p << 12), Access.READ, true) < 0) {
                throw new IllegalStateException("setup: page " + p + " does not translate");
            }
        }
    }

    private long hotVa() {
        final int p = next;
        next = (p + 1) & (HOT_PAGES - 1);
        return BASE_VA + ((long) p << 12) + 8;
    }

    private long coldVa() {
        final int p = cold;
        cold = (p + 1) & (WALK_PAGES - 1);
        return BASE_VA + ((long) p << 12) + 8;
    }

    /** A user load that hits in the TLB: the physical address. */
    public long tlbHit() {
        return mmu.translate(hotVa(), Access.READ, true);
    }

    /** A user load that misses the TLB: lookup, full 4-level walk (L0..L3), fill. The physical address. */
    public long walk4() {
        return mmu.translate(coldVa(), Access.READ, true);
    }

    /** The 4-level walk alone, no TLB: the physical address. */
    public long bareWalk4() {
        return walker.walk(rootPa, coldVa(), Access.READ, true);
    }
}
