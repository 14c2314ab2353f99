/**
 * The AArch64 front end: the stage-1 translation-table format (arch/arm64/include/asm/pgtable-hwdef.h,
 * pgtable-prot.h, pgtable.h), a lock-free hardware walker with optional FEAT_HAFDBS, an ASID-tagged
 * TLB per CPU with a walk cache of table descriptors and the TLBI operations (the last-level forms
 * leave the walk cache alone, so freeing a page table needs VAE1IS: TLB-06), the break-before-make
 * rule for live descriptor changes (pgattr_change_is_safe), ASID allocation
 * (arch/arm64/mm/context.c), and the fault
 * entry of arch/arm64/mm/fault.c (do_mem_abort, the fault_info table, do_translation_fault,
 * do_page_fault).
 *
 * <p>Level vocabulary: the architecture numbers lookup levels from the root (level 0, or -1 with
 * 52-bit VA and a 4 KiB granule) to the leaf (level 3); core's {@link
 * dev.vmsim.core.pgtable.PageTableFormat} numbers them from the leaf (0 = PTE). {@link
 * dev.vmsim.arch.arm64.Arm64PageTableFormat#armLevel(int)} converts; fault status codes and walk
 * dumps always use the architectural number.
 */
package dev.vmsim.arch.arm64;
