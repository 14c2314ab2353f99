package dev.vmsim.core.fault;

import dev.vmsim.core.arch.PtRegs;
import dev.vmsim.core.lock.LockVma;
import dev.vmsim.core.lock.VmaLock;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.Vma;
import dev.vmsim.core.stat.VmEvent;
import dev.vmsim.core.task.Task;

/**
 * The calls an architecture's fault handler makes into mm core, gathered behind one interface.
 *
 * <p>Departure from the kernel, which calls these functions directly: the arch handlers take a
 * FaultOps so that a test can drive every branch of do_user_addr_fault / do_page_fault
 * deterministically with a scripted core (what each call returns), and count the calls.
 * {@link #KERNEL} is the real core and is what every simulated machine uses.
 */
public interface FaultOps {
    /** lock_vma_under_rcu (lock_vma_under_rcu_wait in PER_VMA_WAIT mode). */
    Vma lockVmaUnderRcu(MmStruct mm, long address);

    /** handle_mm_fault. */
    int handleMmFault(Vma vma, long address, int flags, PtRegs regs);

    /** vma_end_read. */
    void vmaEndRead(Vma vma);

    /** lock_mm_and_find_vma. */
    Vma lockMmAndFindVma(MmStruct mm, long address, PtRegs regs);

    /** mmap_read_unlock. */
    void mmapReadUnlock(MmStruct mm);

    /** count_vm_vma_lock_event / count_vm_event. */
    void count(MmStruct mm, VmEvent event);

    /**
     * pagefault_out_of_memory (mm/oom_kill.c): a user fault returned VM_FAULT_OOM. Since 5.16 it
     * kills nobody (the page allocator's OOM killer already ran, or a fatal signal is pending): it
     * returns and the access is retried. Counted as {@link VmEvent#PAGEFAULT_OOM}.
     */
    default void pagefaultOutOfMemory(final MmStruct mm) {
        count(mm, VmEvent.PAGEFAULT_OOM);
    }

    /** fatal_signal_pending(current): a Java interrupt is SIGKILL (non-fatal signals: {@link Task#sendSignal}). */
    default boolean fatalSignalPending() {
        return Thread.currentThread().isInterrupted();
    }

    /** signal_pending(current): a fatal signal, or a non-fatal one sent to the task ({@link Task#sendSignal}). */
    default boolean signalPending() {
        return fatalSignalPending() || Task.current().signalPending();
    }

    /**
     * fault_signal_pending (include/linux/sched/signal.h): the fault returned VM_FAULT_RETRY and a
     * fatal signal is pending, or any signal for a user-mode fault (SIG-07: "return faster for
     * non-fatal signals in user mode faults"; the access is taken again after the handler runs).
     */
    default boolean faultSignalPending(final int fault, final boolean userMode) {
        return (fault & VmFault.VM_FAULT_RETRY) != 0 && (fatalSignalPending() || (userMode && signalPending()));
    }

    /** The real mm core. */
    FaultOps KERNEL = new FaultOps() {
        @Override
        public Vma lockVmaUnderRcu(final MmStruct mm, final long address) {
            return LockVma.underRcu(mm, address);
        }

        @Override
        public int handleMmFault(final Vma vma, final long address, final int flags, final PtRegs regs) {
            return Memory.handleMmFault(vma, address, flags, regs);
        }

        @Override
        public void vmaEndRead(final Vma vma) {
            VmaLock.endRead(vma);
        }

        @Override
        public Vma lockMmAndFindVma(final MmStruct mm, final long address, final PtRegs regs) {
            return LockVma.lockMmAndFindVma(mm, address, regs);
        }

        @Override
        public void mmapReadUnlock(final MmStruct mm) {
            mm.mmapLock().readUnlock();
        }

        @Override
        public void count(final MmStruct mm, final VmEvent event) {
            mm.machine().vmstat().count(event);
        }
    };
}
