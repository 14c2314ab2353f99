package dev.vmsim.arch.x86;

import dev.vmsim.core.arch.ArchFault;

/**
 * A fault raised by the x86 MMU: a #PF (vector 14) with its error code and CR2, or — for a
 * non-canonical address — a #GP (vector 13).
 *
 * <p>Departure: a non-canonical access raises #GP, which the kernel handles in
 * exc_general_protection (SIGSEGV with si_code SI_KERNEL for a user access, an exception-table
 * fixup or die() for a kernel one), not in the page-fault handler. The simulator routes it through
 * the same {@link X86FaultHandler} so core needs one fault entry, and reports it as SIGSEGV /
 * SEGV_MAPERR (there is no mapping at a non-canonical address). {@link #generalProtection()} tells
 * the two apart and {@link #describe()} names the vector.
 *
 * <p>Mutable and reused by its {@link X86Mmu}, so raising a fault allocates nothing; read it on the
 * CPU's own thread before the next translation.
 */
public final class X86PageFault implements ArchFault {
    private long cr2;
    private int errorCode;
    private boolean generalProtection;
    /** The level at which the walk stopped (0 = PT ... 4 = PML5), -1 for a TLB-hit permission fault or #GP. */
    private int level;

    /** Fills the record for a #PF. */
    X86PageFault setPageFault(final long address, final int code, final int walkLevel) {
        this.cr2 = address;
        this.errorCode = code;
        this.generalProtection = false;
        this.level = walkLevel;
        return this;
    }

    /** Fills the record for a #GP on a non-canonical address (error code 0, as for a non-selector #GP). */
    X86PageFault setGeneralProtection(final long address) {
        this.cr2 = address;
        this.errorCode = 0;
        this.generalProtection = true;
        this.level = -1;
        return this;
    }

    /** A fresh #PF record, for tests and the fault handler's callers. */
    public static X86PageFault pageFault(final long address, final int code) {
        return new X86PageFault().setPageFault(address, code, -1);
    }

    /** A fresh #GP record for a non-canonical address. */
    public static X86PageFault nonCanonical(final long address) {
        return new X86PageFault().setGeneralProtection(address);
    }

    /** CR2: the faulting linear address (for a #GP, the address the access tried to use). */
    @Override
    public long address() {
        return cr2;
    }

    /** The #PF error code ({@link X86PfError}). */
    @Override
    public long syndrome() {
        return errorCode;
    }

    public int errorCode() {
        return errorCode;
    }

    /** True for a #GP raised by a non-canonical address rather than a #PF. */
    public boolean generalProtection() {
        return generalProtection;
    }

    /** The walk level at which the fault was found, or -1. */
    public int level() {
        return level;
    }

    /** "#PF err=0x6 [W U] cr2=0x7f0000001000" or "#GP (non-canonical) addr=0x...". */
    @Override
    public String describe() {
        if (generalProtection) {
            return "#GP (non-canonical) addr=0x" + Long.toHexString(cr2);
        }
        return "#PF err=0x" + Integer.toHexString(errorCode) + " " + X86PfError.decode(errorCode) + " cr2=0x"
                + Long.toHexString(cr2) + (level >= 0 ? " at " + X86PageTableFormat.levelName(level) : "");
    }

    @Override
    public String toString() {
        return describe();
    }
}
