package dev.vmsim.core.swap;

import dev.vmsim.core.Machine;
import dev.vmsim.core.clock.Platform;
import dev.vmsim.core.lock.LockHooks;
import dev.vmsim.core.mm.Errno;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.Mmlist;
import dev.vmsim.core.phys.FolioWait;

/**
 * swapoff(2) and try_to_unuse (mm/swapfile.c): takes the device out of service, brings every page
 * on it back into memory, and gives it up ({@link Machine#swapoff} drops it).
 *
 * <p>Errors, as the syscall has them: -EINVAL when the device is not in service (none, or another
 * swapoff has it); -ENOMEM when security_vm_enough_memory_mm refuses the device's pages (under the
 * default OVERCOMMIT_GUESS only when they exceed RAM and swap together, so in practice never) or
 * when try_to_unuse cannot get a folio for a slot still in use; -EINTR on a fatal signal (a Java
 * interrupt). Each failure puts the device back in service (reinsert_swap_info) with nothing lost:
 * a page is taken off the device only once its PTE maps it in memory.
 *
 * <p>Departures: no set_current_oom_origin (with the OOM killer installed the kernel's swapoff is its
 * first victim and returns -EINTR; here a failed allocation is -ENOMEM either way); no percpu_ref
 * wait for get_swap_device users (see {@link Swap}); no shmem or zswap to unuse.
 */
public final class Swapoff {
    private Swapoff() {}

    /** The syscall's body for {@code swap}, the device found: 0 or -errno. */
    public static int swapoff(final Swap swap) {
        final SwapInfo si = swap.info();
        if (!si.writeOk()) {
            return -Errno.EINVAL;
        }
        // security_vm_enough_memory_mm(current->mm, p->pages), OVERCOMMIT_GUESS.
        if (si.usablePages() > swap.machine().memory().frames() + swap.totalSwapPages()) {
            return -Errno.ENOMEM;
        }
        if (!si.clearWriteOk()) {
            return -Errno.EINVAL; // another swapoff took it between the two checks
        }
        boolean done = false;
        try {
            final int err = tryToUnuse(swap);
            done = err == 0;
            return err;
        } finally {
            if (!done) {
                si.setWriteOk(); // reinsert_swap_info
            }
        }
    }

    /**
     * try_to_unuse: walks the swap mmlist (mmlist_lock, mmget_not_zero, the lock dropped while
     * {@link Unuse#unuseMm} works on the mm, the previous mm put after the lock is dropped), then
     * frees what only the swap cache still holds (find_next_to_unuse, folio_free_swap). While slots
     * remain in use (an mm it skipped, such as an unstable fork child that is still to exit, or
     * entries reclaim made behind the walk) it goes round again until a fatal signal.
     */
    static int tryToUnuse(final Swap swap) {
        final SwapInfo si = swap.info();
        final Mmlist mmlist = swap.machine().mmlist();
        for (; ; ) {
            if (si.inusePages() == 0) {
                return 0;
            }
            MmStruct prev = null;
            mmlist.lock();
            MmStruct p = null;
            while (si.inusePages() != 0 && !fatalSignalPending() && (p = mmlist.next(p)) != null) {
                if (!p.mmgetNotZero()) {
                    continue;
                }
                mmlist.unlock();
                if (prev != null) {
                    prev.mmput();
                }
                prev = p;
                final int ret;
                try {
                    ret = Unuse.unuseMm(swap, p);
                } catch (final RuntimeException oops) {
                    p.mmput();
                    throw oops;
                }
                if (ret != 0) {
                    p.mmput();
                    return ret;
                }
                mmlist.lock();
            }
            mmlist.unlock();
            if (prev != null) {
                prev.mmput();
            }
            freeCachedOnly(swap);
            if (si.inusePages() == 0) {
                return 0;
            }
            if (fatalSignalPending()) {
                return -Errno.EINTR;
            }
            LockHooks.at("try_to_unuse:retry");
            Platform.current().spinWait(); // cond_resched before the retry
        }
    }

    /**
     * try_to_unuse's second loop: each slot still in use whose folio is in the swap cache is freed if
     * no PTE references it any more (folio_free_swap after folio_wait_writeback).
     */
    private static void freeCachedOnly(final Swap swap) {
        final SwapInfo si = swap.info();
        final FolioWait fw = swap.folioWait();
        for (long i = 1; i < si.pages() && si.inusePages() != 0 && !fatalSignalPending(); i++) {
            final int map = si.swapMap(i);
            if (map == 0 || map == SwapInfo.SWAP_MAP_BAD) {
                continue;
            }
            final long pfn = swap.swapCacheGetFolioNoRa(swap.entry(i));
            if (pfn < 0) {
                continue;
            }
            swap.io().waitIo(pfn);
            fw.lock(pfn);
            fw.waitWriteback(pfn);
            swap.folioFreeSwap(pfn);
            fw.unlock(pfn);
            swap.folioPut(pfn);
        }
    }

    /** signal_pending(current): a fatal signal is a Java interrupt. */
    private static boolean fatalSignalPending() {
        return Thread.currentThread().isInterrupted();
    }
}
