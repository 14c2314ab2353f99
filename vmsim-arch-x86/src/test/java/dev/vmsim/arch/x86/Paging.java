package dev.vmsim.arch.x86;

import dev.vmsim.core.phys.FrameAllocator;
import dev.vmsim.core.phys.PhysicalMemory;

/** Test fixture: builds x86 paging structures directly in physical memory, as the kernel would. */
final class Paging {
    final PhysicalMemory mem;
    final FrameAllocator frames;
    final X86PageTableFormat fmt;
    final long root;

    Paging(final PhysicalMemory mem, final FrameAllocator frames, final X86PageTableFormat fmt) {
        this.mem = mem;
        this.frames = frames;
        this.fmt = fmt;
        this.root = frames.allocZeroed(0);
    }

    long newFrame() {
        final long f = frames.allocZeroed(0);
        if (f < 0) {
            throw new IllegalStateException("out of frames");
        }
        return f;
    }

    /**
     * Maps {@code va} with a leaf at {@code leafLevel} (0: 4 KiB, 1: 2 MiB, 2: 1 GiB) to frame
     * {@code pfn} with {@code prot}; returns the physical address of each level's entry (index = level).
     */
    long[] map(final long va, final long pfn, final long prot, final int leafLevel) {
        final long[] slots = new long[fmt.levels()];
        long table = root;
        for (int level = fmt.levels() - 1; level > leafLevel; level--) {
            final long slot = (table << 12) + 8L * fmt.index(va, level);
            slots[level] = slot;
            long e = mem.getLong(slot);
            if ((e & X86Pte.PRESENT) == 0) {
                e = fmt.mkTable(newFrame(), level) & ~X86Pte.ACCESSED & ~X86Pte.DIRTY;
                mem.putLong(slot, e);
            }
            table = fmt.pfn(e);
        }
        final long slot = (table << 12) + 8L * fmt.index(va, leafLevel);
        slots[leafLevel] = slot;
        mem.putLong(slot, leafLevel == 0 ? fmt.pfnPte(pfn, prot) : fmt.mkHugeLeaf(pfn, prot, leafLevel));
        return slots;
    }

    long[] map4k(final long va, final long pfn, final long prot) {
        return map(va, pfn, prot, 0);
    }

    void set(final long slot, final long bits) {
        mem.putLong(slot, mem.getLong(slot) | bits);
    }

    void clear(final long slot, final long bits) {
        mem.putLong(slot, mem.getLong(slot) & ~bits);
    }
}
