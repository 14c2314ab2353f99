package dev.vmsim.arch.arm64;

import static dev.vmsim.arch.arm64.Arm64Pte.*;

import dev.vmsim.core.phys.PhysicalMemory;

/**
 * Builds translation tables for tests in a {@link PhysicalMemory} of granule-sized frames: a bump
 * allocator of frames, and map helpers that create the intermediate tables.
 */
final class Tables {
    final PhysicalMemory memory;
    final Arm64PageTableFormat format;
    final long root;
    private long nextFrame;

    Tables(final Arm64PageTableFormat format, final long frames) {
        this.memory = new PhysicalMemory(frames, format.granule().shift());
        this.format = format;
        this.nextFrame = 1; // leave frame 0 unused
        this.root = allocGranule();
    }

    /** A zeroed granule (page or table): its physical address. */
    long allocGranule() {
        return memory.physAddr(nextFrame++);
    }

    /** The physical address of the level-{@code level} descriptor for {@code va}, creating tables above it. */
    long slot(final long va, final int level) {
        long table = root;
        for (int l = format.levels() - 1; l > level; l--) {
            final long pa = table + ((long) format.index(va, l) << 3);
            long d = memory.getLong(pa);
            if (!format.isTable(d, l)) {
                d = format.mkTable(memory.pfnOf(allocGranule()), l);
                memory.putLong(pa, d);
            }
            table = format.outputAddress(d);
        }
        return table + ((long) format.index(va, level) << 3);
    }

    /** Maps the page at {@code va} to a fresh granule with {@code prot}: the page's physical address. */
    long mapPage(final long va, final long prot) {
        final long pa = allocGranule();
        memory.putLong(slot(va, 0), format.pfnPte(memory.pfnOf(pa), prot));
        return pa;
    }

    /** The table descriptor at {@code level} on {@code va}'s path (must exist). */
    long tableSlot(final long va, final int level) {
        return slot(va, level);
    }

    void orBits(final long descPa, final long bits) {
        memory.putLong(descPa, memory.getLong(descPa) | bits);
    }

    /** User read/write shared page, already dirty (writable to the hardware). */
    long rwDirty() {
        return format.pteMkdirty(format.vmGetPageProt(0xb)) | PTE_AF;
    }
}
