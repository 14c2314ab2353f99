package dev.vmsim.core.mm;

import dev.vmsim.core.arch.PtRegs;
import dev.vmsim.core.fault.FaultFlags;
import dev.vmsim.core.fault.Memory;
import dev.vmsim.core.fault.VmFault;
import dev.vmsim.core.pgtable.PageTableFormat;
import dev.vmsim.core.pgtable.PageTables;

/**
 * The part of get_user_pages (mm/gup.c) that MADV_POPULATE_READ/WRITE uses: faultin_page_range →
 * __get_user_pages with FOLL_MADV_POPULATE | FOLL_TOUCH | FOLL_HWPOISON (| FOLL_WRITE), no pages
 * returned. Each page is looked up in the page tables (follow_page_mask) and, where that finds no
 * usable PTE, faulted in through handle_mm_fault (faultin_page), then looked up again.
 *
 * <p>Errors, as FOLL_MADV_POPULATE reports them: no VMA at an address → -ENOMEM (vma_lookup), a
 * VMA that refuses the access (check_vma_flags) → -EINVAL, a fault error → vm_fault_to_errno
 * (VM_FAULT_OOM → -ENOMEM, VM_FAULT_SIGSEGV or SIGBUS → -EFAULT, which is what a guard marker
 * gives: FAULT-15), a fatal signal → -EINTR. Pages done before an error are returned first; the
 * error comes on the next call, as {@code madvise_populate} loops.
 *
 * <p>Departures: no FOLL_UNLOCKABLE. The fault is taken without FAULT_FLAG_ALLOW_RETRY, so it never
 * drops the mmap lock (a swap-in waits for its read under the lock instead of retrying); the pages
 * are not marked accessed by the lookup (FOLL_TOUCH), which no transcript can see.
 */
final class Gup {
    /** FOLL_WRITE. */
    static final int FOLL_WRITE = 0x01;

    private Gup() {}

    /**
     * faultin_page_range: populates [start, end) readable (or writable with {@code write}).
     * <b>Context:</b> the mmap read lock held, and still held on return.
     *
     * @return the number of pages populated from {@code start} on, or -errno when the first failed
     */
    static long faultinPageRange(final MmStruct mm, final long start, final long end, final boolean write) {
        mm.mmapLock().assertLocked();
        return getUserPages(mm, start, (end - start) >>> mm.pageShift, write ? FOLL_WRITE : 0);
    }

    /** __get_user_pages for FOLL_MADV_POPULATE (no pages array, never FOLL_FORCE or FOLL_REMOTE). */
    private static long getUserPages(final MmStruct mm, final long start0, final long nrPages0, final int gupFlags) {
        long start = start0;
        long nrPages = nrPages0;
        long done = 0;
        long ret = 0;
        Vma vma = null;
        while (nrPages > 0) {
            if (vma == null || Long.compareUnsigned(start, vma.vmEnd) >= 0) {
                vma = mm.vmaLookup(start);
                if (vma == null) {
                    ret = -Errno.ENOMEM;
                    break;
                }
                if (checkVmaFlags(vma, gupFlags) != 0) {
                    ret = -Errno.EINVAL;
                    break;
                }
            }
            if (Thread.currentThread().isInterrupted()) { // fatal_signal_pending
                ret = -Errno.EINTR;
                break;
            }
            if (!followPageMask(mm, start, gupFlags)) {
                final int err = faultinPage(vma, start, gupFlags);
                if (err != 0) {
                    ret = err;
                    break;
                }
                continue; // look the page up again
            }
            done++;
            start += mm.pageSize;
            nrPages--;
        }
        return done != 0 ? done : ret;
    }

    /**
     * check_vma_flags without FOLL_FORCE, FOLL_ANON or FOLL_LONGTERM: VM_IO/VM_PFNMAP never; a write
     * needs VM_WRITE, a read VM_READ. Returns 0 or -EFAULT (which FOLL_MADV_POPULATE reports as
     * -EINVAL).
     */
    static int checkVmaFlags(final Vma vma, final int gupFlags) {
        final long vmFlags = vma.vmFlags;
        if ((vmFlags & (VmFlags.VM_IO | VmFlags.VM_PFNMAP)) != 0) {
            return -Errno.EFAULT;
        }
        if ((gupFlags & FOLL_WRITE) != 0) {
            if ((vmFlags & VmFlags.VM_WRITE) == 0) {
                return -Errno.EFAULT;
            }
        } else if ((vmFlags & VmFlags.VM_READ) == 0) {
            return -Errno.EFAULT;
        }
        return 0;
    }

    /**
     * follow_page_pte's answer, without taking a reference: true when a present PTE maps the page
     * and, for FOLL_WRITE, is writable (can_follow_write_pte without FOLL_FORCE). A none, swap or
     * marker entry is false: it needs the fault.
     */
    private static boolean followPageMask(final MmStruct mm, final long address, final int gupFlags) {
        final PageTables pt = mm.pageTables();
        final long pa = pt.ptePa(address, false);
        if (pa < 0) {
            return false;
        }
        final PageTableFormat fmt = pt.format();
        final long pte = pt.readPte(pa);
        return fmt.ptePresent(pte) && ((gupFlags & FOLL_WRITE) == 0 || fmt.pteWrite(pte));
    }

    /** faultin_page: handle_mm_fault, then vm_fault_to_errno for an error. Returns 0 or -errno. */
    private static int faultinPage(final Vma vma, final long address, final int gupFlags) {
        final int faultFlags = (gupFlags & FOLL_WRITE) != 0 ? FaultFlags.FAULT_FLAG_WRITE : 0;
        final int ret = Memory.handleMmFault(vma, address, faultFlags, PtRegs.KERNEL_UACCESS);
        return (ret & VmFault.VM_FAULT_ERROR) != 0 ? vmFaultToErrno(ret) : 0;
    }

    /** vm_fault_to_errno with FOLL_HWPOISON. */
    static int vmFaultToErrno(final int fault) {
        if ((fault & VmFault.VM_FAULT_OOM) != 0) {
            return -Errno.ENOMEM;
        }
        if ((fault & (VmFault.VM_FAULT_HWPOISON | VmFault.VM_FAULT_HWPOISON_LARGE)) != 0) {
            return -Errno.EHWPOISON;
        }
        if ((fault & (VmFault.VM_FAULT_SIGBUS | VmFault.VM_FAULT_SIGSEGV)) != 0) {
            return -Errno.EFAULT;
        }
        return 0;
    }
}
