/**
 * The address space: {@link dev.vmsim.core.mm.MmStruct} (struct mm_struct), {@link
 * dev.vmsim.core.mm.Vma} (struct vm_area_struct) and the write side of mm/mmap.c, mm/vma.c,
 * mm/mremap.c, mm/mprotect.c and mm/madvise.c.
 *
 * <h2>Write-side protocol (every operation here)</h2>
 * <ol>
 *   <li>Take the mmap write lock (killable: -EINTR).</li>
 *   <li>{@code vma_start_write} every VMA before changing it; a new VMA is write-locked, then marked
 *       attached, then stored ({@code vma_iter_store_new}, BUG-07).</li>
 *   <li>munmap (§14.3): split, write-lock, mark detached, clear the tree range, (downgrade), zap the
 *       PTEs, free page tables, finish the mmu_gather (TLB flush, then free pages and tables), and
 *       only then drop the VMA objects.</li>
 * </ol>
 *
 * <h2>Merging (§14.2)</h2>
 * Flags equal ignoring VM_SOFTDIRTY (VM_ACCOUNT counts), the same file, compatible anon_vma (one
 * side null unless the other is a fork child, or the same object), contiguous pgoff; VM_SPECIAL
 * never merges. A private anonymous mapping's pgoff is its address in pages, so a VMA moved by
 * mremap after it was faulted keeps its old pgoff and merges with nothing at its new place.
 *
 * <h2>Lifetime</h2>
 * An mm starts with one mm_users reference, its owner's; a walker of other processes' mms (swapoff)
 * takes one with {@code mmget_not_zero}, and the last {@code mmput} runs exit_mmap and takes the mm
 * off the swap {@link dev.vmsim.core.mm.Mmlist}. A fork that fails leaves its child unstable
 * (MMF_UNSTABLE, an XA_ZERO_ENTRY in its tree where the copy stopped) until that mmput: walkers of a
 * foreign mm check {@code check_stable_address_space} first (BUG-09).
 *
 * <h2>Departures</h2>
 * No RLIMIT_AS/DATA, memlock or overcommit accounting (always within limits); madvise models
 * MADV_NORMAL, MADV_DONTNEED, MADV_POPULATE_READ/WRITE ({@link dev.vmsim.core.mm.Gup}),
 * MADV_GUARD_INSTALL/REMOVE (guard regions: PTE markers, {@link dev.vmsim.core.swap.PteMarker}) and
 * MADV_WIPEONFORK/KEEPONFORK, and answers EINVAL to the rest; no mseal, userfaultfd or file
 * mappings other than the shmem object of shared anonymous memory.
 */
package dev.vmsim.core.mm;
