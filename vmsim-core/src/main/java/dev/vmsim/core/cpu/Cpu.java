package dev.vmsim.core.cpu;

import dev.vmsim.core.Machine;
import dev.vmsim.core.arch.Access;
import dev.vmsim.core.arch.FaultHandler;
import dev.vmsim.core.arch.Mmu;
import dev.vmsim.core.arch.PtRegs;
import dev.vmsim.core.arch.SigInfo;
import dev.vmsim.core.clock.Cost;
import dev.vmsim.core.clock.Platform;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.phys.PhysicalMemory;
import dev.vmsim.core.task.Task;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.LongAdder;

/**
 * One simulated CPU running one task at a time: its MMU (TLB + walker) and the mm it runs. A Cpu is
 * driven by one platform thread at a time.
 *
 * <p>An access retries after every fault the handler resolves, as the hardware re-executes the
 * faulting instruction.
 *
 * <p><b>Access bracket (the IPI handshake).</b> Each attempt of an access — TLB lookup / walk and
 * the memory operation it translates for — runs inside an odd value of the access sequence
 * ({@link #accessSeq()}): a store and a full fence on entry, a release store on exit. A TLB
 * shootdown ({@link TlbFlush}) waits, after invalidating, until each target is outside the access
 * it was in, as the kernel's initiator waits for the IPI, which a CPU takes only between
 * instructions. The fault handler runs outside the bracket, so a CPU never blocks inside it.
 *
 * <p><b>Virtual clock.</b> An access is a preemption point (an instruction boundary); each attempt
 * charges a TLB lookup, and an attempt that faults and the retry after a fault each charge a full
 * walk, with fault entry/exit and the fitted {@code fault_other} per fault. Departure: a TLB miss
 * that walks successfully on a first attempt is not charged a walk (the MMU counts hits and misses
 * in striped counters, too dear to read per access); pft and page_fault1 never have one, a
 * workload that re-touches pages after a shootdown does.
 */
public final class Cpu {
    private static final VarHandle SEQ;

    static {
        try {
            SEQ = MethodHandles.lookup().findVarHandle(Cpu.class, "accessSeq", long.class);
        } catch (final ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /**
     * Busy-wait iterations of {@link #waitForAccessToDrain} before it yields the host core: an access
     * bracket is a TLB lookup and one memory operation (well under a microsecond), so a wait longer
     * than this means the target's thread has been descheduled by the host.
     */
    private static final int DRAIN_SPINS = 256;

    private final Machine machine;
    private final int id;
    private final Mmu mmu;
    private final FaultHandler faultHandler;
    private final PhysicalMemory memory;
    /** Levels of a full hardware walk, what a TLB miss charges under the virtual clock. */
    private final int walkLevels;

    private MmStruct mm;
    /** The signal of the last failed access ({@link SigInfo}). */
    private int lastSignal;
    /** Odd while an access is in flight. Written only by the running thread; read by flushers. */
    @SuppressWarnings("unused") // accessed through SEQ
    private volatile long accessSeq;

    private final LongAdder flushesReceived = new LongAdder();
    private final LongAdder localFlushes = new LongAdder();

    public Cpu(final Machine machine, final int id) {
        this.machine = machine;
        this.id = id;
        this.mmu = machine.arch().newMmu(machine, this);
        this.faultHandler = machine.arch().faultHandler();
        this.memory = machine.memory();
        this.walkLevels = machine.arch().pageTableFormat().levels();
    }

    public int id() {
        return id;
    }

    public Machine machine() {
        return machine;
    }

    public Mmu mmu() {
        return mmu;
    }

    public MmStruct mm() {
        return mm;
    }

    /** switch_mm: runs {@code next} on this CPU (CR3 / TTBR0 load). */
    public void switchMm(final MmStruct next) {
        Task.current().cpu = this;
        this.mm = next;
        next.cpumask().set(this);
        mmu.switchMm(next);
    }

    /** The signal of the last access that returned a negative result. */
    public int lastSignal() {
        return lastSignal;
    }

    /** The Cpu the calling thread runs, or null if it never ran one (then every flush is "remote"). */
    public static Cpu current() {
        return Task.current().cpu;
    }

    /** The access sequence: odd while an access is inside its bracket. */
    public long accessSeq() {
        return (long) SEQ.getVolatile(this);
    }

    /**
     * Entry into an access: the odd sequence, then a full fence (StoreLoad), so that no TLB tag load
     * of the access (opaque on x86, acquire on arm64) can be satisfied before the store is visible.
     * A volatile store alone does not give that: the JMM lets a later non-volatile load pass it,
     * and AArch64 does (STLR, then a plain LDR). On x86 this is the same MOV + LOCK ADD a volatile
     * store compiles to, so the TLB hit path pays nothing more there. See {@link TlbFlush}.
     */
    private void accessEnter() {
        SEQ.setOpaque(this, (long) SEQ.getOpaque(this) + 1);
        VarHandle.fullFence();
    }

    /** Exit from an access: release, so the memory operation happens-before a flusher that sees it. */
    private void accessExit() {
        SEQ.setRelease(this, (long) SEQ.getOpaque(this) + 1);
    }

    /**
     * The initiator's half of the IPI handshake: returns once this CPU is outside the access it was
     * in when called (sequence even, or changed). Acquire; pairs with the release in accessExit.
     */
    // Thread.yield is deliberate: a host-clock device for an oversubscribed host, explained below.
    @SuppressWarnings("ThreadPriorityCheck")
    void waitForAccessToDrain() {
        final long seq = (long) SEQ.getVolatile(this);
        if ((seq & 1) == 0 || Task.current().cpu == this) {
            return;
        }
        int spins = 0;
        final Platform p = Platform.current();
        while ((long) SEQ.getAcquire(this) == seq) {
            if (++spins < DRAIN_SPINS || p.isVirtual()) {
                p.spinWait();
            } else {
                // The target's thread is not running on the host (more simulated CPUs than host
                // cores): give it the core instead of burning our time slice. A real target CPU
                // always runs, so this changes what the host does, not what the simulated kernel does.
                Thread.yield();
            }
        }
    }

    void countFlush(final boolean remote) {
        (remote ? flushesReceived : localFlushes).increment();
    }

    /** TLB shootdowns this CPU received from another CPU (its nr_tlb_remote_flush_received). */
    public long remoteFlushesReceived() {
        return flushesReceived.sum();
    }

    /** Flushes this CPU ran for itself. */
    public long localFlushes() {
        return localFlushes.sum();
    }

    /**
     * One attempt of an access inside the bracket: translates, and if that succeeded performs the
     * memory operation. Returns the PA (or {@link Mmu#FAULT}); for a load, the byte is in {@code loaded}.
     */
    private long attempt(
            final Platform p,
            final long va,
            final Access kind,
            final PtRegs regs,
            final boolean write,
            final byte value) {
        p.charge(Cost.TLB_HIT);
        accessEnter();
        try {
            final long pa = mmu.translate(va, kind, regs.userMode());
            if (pa >= 0) {
                if (write) {
                    memory.putByte(pa, value);
                } else {
                    loaded = memory.getByte(pa) & 0xff;
                }
            }
            return pa;
        } finally {
            accessExit();
        }
    }

    /** The byte the last successful load attempt read (owner thread only). */
    private int loaded;

    /**
     * Faults of one access that may end in pagefault_out_of_memory before the access gives up with
     * {@link SigInfo#PAGEFAULT_OOM}. The kernel retries without bound (its OOM killer frees memory);
     * a machine without the OOM killer installed ({@code Machine.enableOomKiller}), or one where it
     * found nothing to kill, would spin forever without a bound. A task with a fatal signal pending
     * (the OOM killer's SIGKILL) does not retry: it dies on its way back to user mode, and its caller
     * sees the signal ({@code Thread.isInterrupted}).
     */
    public static final int OOM_RETRIES = 8;

    /** Runs an access, calling the fault handler (outside the bracket) as often as it resolves the fault. */
    private boolean access(final long va, final Access kind, final PtRegs regs, final boolean write, final byte value) {
        final Task task = Task.current();
        if (task.cpu != this) {
            task.cpu = this;
        }
        int ooms = 0;
        final Platform p = Platform.current();
        p.preemptionPoint(); // between instructions: another CPU may run
        for (boolean retry = false; ; retry = true) {
            if (attempt(p, va, kind, regs, write, value) >= 0) {
                if (retry) {
                    p.charge(Cost.WALK_LEVEL, walkLevels); // the retry misses the TLB and walks
                }
                return true;
            }
            p.charge(Cost.WALK_LEVEL, walkLevels); // the walk that found no usable entry
            p.charge(Cost.FAULT_ENTRY_EXIT);
            p.charge(Cost.FAULT_OTHER);
            final int sig = faultHandler.handle(this, mmu.lastFault(), regs);
            if (regs.userMode() && sig == SigInfo.OK && task.signalPending()) {
                // Back to user mode (exit_to_user_mode_loop): the pending signals' handlers run, then
                // the faulting instruction is executed again. A fault that returned early for a
                // non-fatal signal (fault_signal_pending, SIG-07) is taken again here.
                task.deliverSignals();
            }
            if (sig == SigInfo.PAGEFAULT_OOM
                    && ++ooms < OOM_RETRIES
                    && !Thread.currentThread().isInterrupted()) {
                continue; // pagefault_out_of_memory returned: retry the access, as the kernel does
            }
            if (sig != SigInfo.OK) {
                lastSignal = sig;
                return false;
            }
        }
    }

    /** A user-mode one-byte load: the byte (0..255), or -1 with {@link #lastSignal()} set. */
    public int load(final long va) {
        return access(va, Access.READ, PtRegs.USER, false, (byte) 0) ? loaded : -1;
    }

    /** A user-mode one-byte store: {@link SigInfo#OK} or the signal. */
    public int store(final long va, final byte value) {
        return access(va, Access.WRITE, PtRegs.USER, true, value) ? SigInfo.OK : lastSignal;
    }

    /** A user-mode instruction fetch of one byte: the byte or -1. */
    public int fetch(final long va) {
        return access(va, Access.EXEC, PtRegs.USER, false, (byte) 0) ? loaded : -1;
    }

    /** copy_from_user of one byte (kernel mode, with an exception-table entry): the byte or -1 (-EFAULT). */
    public int getUser(final long va) {
        return access(va, Access.READ, PtRegs.KERNEL_UACCESS, false, (byte) 0) ? loaded : -1;
    }

    /** copy_to_user of one byte: {@link SigInfo#OK}, or the signal that stands for -EFAULT. */
    public int putUser(final long va, final byte value) {
        return access(va, Access.WRITE, PtRegs.KERNEL_UACCESS, true, value) ? SigInfo.OK : lastSignal;
    }
}
