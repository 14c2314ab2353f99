package dev.vmsim.core.fault;

import dev.vmsim.core.arch.PtRegs;
import dev.vmsim.core.mm.Vma;

/**
 * The generic fault handler (mm/memory.c).
 *
 * <p>API SKELETON: [3/6] implements it.
 */
public final class Memory {
    private Memory() {}

    /**
     * handle_mm_fault: resolves a fault at {@code address} in {@code vma} with FAULT_FLAG_* {@code
     * flags}; returns VM_FAULT_* bits. Lock release follows §8.1: with VM_FAULT_RETRY or
     * VM_FAULT_COMPLETED the fault lock (VMA read lock if FAULT_FLAG_VMA_LOCK, else the mmap read
     * lock) has already been released; otherwise the caller still holds it.
     */
    public static int handleMmFault(final Vma vma, final long address, final int flags, final PtRegs regs) {
        throw new UnsupportedOperationException("handle_mm_fault: [3/6]");
    }
}
