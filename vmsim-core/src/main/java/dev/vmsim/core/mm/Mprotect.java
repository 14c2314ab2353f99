package dev.vmsim.core.mm;

import dev.vmsim.core.lock.VmaLock;
import dev.vmsim.core.pgtable.MmuGather;
import dev.vmsim.core.pgtable.PageTables;

/** mprotect(2) (mm/mprotect.c: do_mprotect_pkey, mprotect_fixup). */
final class Mprotect {
    private Mprotect() {}

    static int mprotect(final MmStruct mm, final long start0, final long len0, final int prot0) {
        long start = start0;
        final int grows = prot0 & (Mman.PROT_GROWSDOWN | Mman.PROT_GROWSUP);
        final int prot = prot0 & ~(Mman.PROT_GROWSDOWN | Mman.PROT_GROWSUP);
        if (grows == (Mman.PROT_GROWSDOWN | Mman.PROT_GROWSUP)) {
            return -Errno.EINVAL;
        }
        if ((start & (mm.pageSize - 1)) != 0) {
            return -Errno.EINVAL;
        }
        if (len0 == 0) {
            return 0;
        }
        final long len = mm.pageAlign(len0);
        final long end = start + len;
        if (Long.compareUnsigned(end, start) <= 0) {
            return -Errno.ENOMEM;
        }
        // arch_validate_prot: PROT_SEM (0x8) is the only other bit allowed.
        if ((prot & ~(Mman.PROT_READ | Mman.PROT_WRITE | Mman.PROT_EXEC | 0x8)) != 0) {
            return -Errno.EINVAL;
        }
        if (mm.mmapLock().writeLockKillable() != 0) {
            return -Errno.EINTR;
        }
        try {
            Vma vma = mm.findVmaIntersection(start, end);
            if (vma == null) {
                return -Errno.ENOMEM;
            }
            if ((grows & Mman.PROT_GROWSDOWN) != 0) {
                if (Long.compareUnsigned(vma.vmStart, end) >= 0) {
                    return -Errno.ENOMEM;
                }
                start = vma.vmStart;
                if ((vma.vmFlags & VmFlags.VM_GROWSDOWN) == 0) {
                    return -Errno.EINVAL;
                }
            } else {
                if (Long.compareUnsigned(vma.vmStart, start) > 0) {
                    return -Errno.ENOMEM;
                }
                if ((grows & Mman.PROT_GROWSUP) != 0) {
                    return -Errno.EINVAL; // no VM_GROWSUP on the simulated architectures
                }
            }
            Vma prev = mm.vmaPrev(vma.vmStart);
            if (Long.compareUnsigned(start, vma.vmStart) > 0) {
                prev = vma;
            }
            final MmuGather tlb = new MmuGather(mm);
            long nstart = start;
            long tmp = vma.vmStart;
            int error = 0;
            while (vma != null && Long.compareUnsigned(vma.vmStart, end) < 0) {
                if (vma.vmStart != tmp) {
                    error = -Errno.ENOMEM;
                    break;
                }
                long newflags = Mmap.calcVmProtBits(prot) | (vma.vmFlags & ~VmFlags.VM_ACCESS_FLAGS);
                // newflags >> 4 shifts VM_MAY* in place of VM_*: asking beyond VM_MAY* is EACCES.
                if (((newflags & ~(newflags >>> 4)) & VmFlags.VM_ACCESS_FLAGS) != 0) {
                    error = -Errno.EACCES;
                    break;
                }
                tmp = Long.compareUnsigned(vma.vmEnd, end) > 0 ? end : vma.vmEnd;
                final Vma[] pprev = {prev};
                error = mprotectFixup(mm, tlb, vma, pprev, nstart, tmp, newflags);
                if (error != 0) {
                    break;
                }
                prev = pprev[0];
                tmp = prev.vmEnd;
                nstart = tmp;
                vma = prev.vmEnd == 0 ? null : mm.findVma(prev.vmEnd);
            }
            tlb.finish();
            if (error == 0 && Long.compareUnsigned(tmp, end) < 0) {
                error = -Errno.ENOMEM;
            }
            return error;
        } finally {
            mm.mmapLock().writeUnlock();
        }
    }

    /**
     * vma_wants_manual_pte_write_upgrade (include/linux/mm.h): a private writable mapping; a shared
     * one only if it wants write notification, which no simulated mapping does (shmem has no dirty
     * accounting), so its vm_page_prot is writable already.
     */
    static boolean vmaWantsManualPteWriteUpgrade(final long vmFlags) {
        return (vmFlags & (VmFlags.VM_SHARED | VmFlags.VM_WRITE)) == VmFlags.VM_WRITE;
    }

    /** mprotect_fixup (mm/mprotect.c): gives [start, end) of vma the new flags. */
    static int mprotectFixup(
            final MmStruct mm,
            final MmuGather tlb,
            final Vma vma0,
            final Vma[] pprev,
            final long start,
            final long end,
            final long newflags0) {
        long newflags = newflags0;
        final long oldflags = vma0.vmFlags;
        if (newflags == oldflags) {
            pprev[0] = vma0;
            return 0;
        }
        // Private writable memory is charged when it first becomes writable.
        if ((newflags & VmFlags.VM_WRITE) != 0
                && (oldflags
                                & (VmFlags.VM_ACCOUNT
                                        | VmFlags.VM_WRITE
                                        | VmFlags.VM_HUGETLB
                                        | VmFlags.VM_SHARED
                                        | VmFlags.VM_NORESERVE))
                        == 0) {
            newflags |= VmFlags.VM_ACCOUNT;
        } else if ((newflags & VmFlags.VM_WRITE) == 0
                && (oldflags & VmFlags.VM_ACCOUNT) != 0
                && vma0.isAnonymous()
                && vma0.anonVma == null) {
            // An anonymous VMA never faulted can give its commit back when it stops being writable.
            newflags &= ~VmFlags.VM_ACCOUNT;
        }
        final int[] err = {0};
        final Vma vma = VmaOps.modify(mm, pprev[0], vma0, start, end, newflags, err);
        if (vma == null) {
            return err[0];
        }
        pprev[0] = vma;
        VmaLock.startWrite(vma);
        VmaLock.assertWriteLocked(vma); // vm_flags_reset
        vma.vmFlags = newflags;
        vma.vmPageProt = mm.machine().arch().pageTableFormat().vmGetPageProt(newflags);
        mm.pageTables()
                .changeProtection(
                        start,
                        end,
                        newflags,
                        vmaWantsManualPteWriteUpgrade(newflags) ? PageTables.MM_CP_TRY_CHANGE_WRITABLE : 0,
                        tlb);
        // vm_stat_account(mm, oldflags, -nrpages); vm_stat_account(mm, newflags, nrpages).
        final long nrpages = (end - start) >>> mm.pageShift;
        mm.vmStatAccount(oldflags, -nrpages);
        mm.vmStatAccount(newflags, nrpages);
        return 0;
    }
}
