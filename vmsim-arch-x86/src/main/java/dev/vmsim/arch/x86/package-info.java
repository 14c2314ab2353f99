/**
 * The x86-64 front end: the IA-32e paging format ({@link dev.vmsim.arch.x86.X86PageTableFormat},
 * {@link dev.vmsim.arch.x86.X86Pte}), one MMU per CPU ({@link dev.vmsim.arch.x86.X86Mmu}: a
 * PCID-tagged set-associative {@link dev.vmsim.arch.x86.X86Tlb} and the hardware walker that sets
 * A/D with compare-and-set), and arch/x86/mm/fault.c ({@link dev.vmsim.arch.x86.X86FaultHandler}).
 *
 * <p>Flow of one access: {@code Cpu} → {@code X86Mmu.translate} (TLB hit, or walk) → on a fault an
 * {@link dev.vmsim.arch.x86.X86PageFault} (#PF error code + CR2) → {@code X86FaultHandler.handle}
 * (do_user_addr_fault: per-VMA attempt, lock_mm_and_find_vma, retry loop) → SigInfo.
 */
package dev.vmsim.arch.x86;
