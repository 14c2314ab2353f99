package dev.vmsim.core.arch;

/**
 * A fault as the hardware reported it, in the architecture's own terms (x86: #PF error code and
 * CR2; arm64: ESR_EL1 and FAR_EL1). Mutable and reused by its MMU so a fault allocates nothing.
 */
public interface ArchFault {
    /** The faulting virtual address (CR2 / FAR_EL1). */
    long address();

    /** The architectural syndrome (x86 error code; arm64 ESR_EL1). */
    long syndrome();

    /** A one-line decode for transcripts and teaching ("#PF err=0x6 [W U] cr2=0x..."). */
    String describe();
}
