package dev.vmsim.core.mm;

import java.util.function.Consumer;

/**
 * struct vm_operations_struct, reduced to the two hooks that change what the VMA code may do:
 * {@code open} (called for the new VMA of a split, __split_vma) and {@code close} (called when a
 * VMA is removed, remove_vma → vma_close).
 *
 * <p>A VMA whose {@code close} is set is never deleted by a merge (can_merge_remove_vma): the
 * resources close releases belong to that VMA's range, and a merge has no way to move them to the
 * surviving VMA. The merge is reduced to one that keeps such a VMA, or abandoned (MERGE-07/08).
 *
 * <p>The simulator's own mappings (anonymous, shmem) have no vm_ops, as shmem's anonymous VMAs have
 * no close in the kernel either; drivers and special mappings are where the kernel sets them, and
 * tests set them here.
 */
public final class VmOperations {
    /** vm_ops->open, or null. */
    public final Consumer<Vma> open;
    /** vm_ops->close, or null. */
    public final Consumer<Vma> close;

    public VmOperations(final Consumer<Vma> open, final Consumer<Vma> close) {
        this.open = open;
        this.close = close;
    }
}
