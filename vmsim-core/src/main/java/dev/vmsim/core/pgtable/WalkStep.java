package dev.vmsim.core.pgtable;

/**
 * One level of a software page-table walk, as a teaching view shows it: which table was read, at
 * which index, the raw entry and the architecture's decoding of it ({@link PageTableFormat#describe}:
 * x86 P/RW/US/A/D/NX, arm64 descriptor fields with AF/DBM/AP/UXN).
 *
 * @param level      the level, numbered from the leaf (0 = the PTE level)
 * @param levelShift the shift of the VA bits that index this level
 * @param indexBits  the number of VA bits that index this level
 * @param index      the index into the table for the walked address
 * @param tablePfn   the frame of the table read
 * @param entry      the raw 64-bit entry
 * @param decoded    the format's decoding of {@code entry}
 */
public record WalkStep(
        int level, int levelShift, int indexBits, int index, long tablePfn, long entry, String decoded) {}
