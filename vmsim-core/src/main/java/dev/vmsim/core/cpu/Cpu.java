package dev.vmsim.core.cpu;

import dev.vmsim.core.Machine;
import dev.vmsim.core.arch.Access;
import dev.vmsim.core.arch.FaultHandler;
import dev.vmsim.core.arch.Mmu;
import dev.vmsim.core.arch.PtRegs;
import dev.vmsim.core.arch.SigInfo;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.phys.PhysicalMemory;

/**
 * One simulated CPU running one task at a time: its MMU (TLB + walker) and the mm it runs. A Cpu is
 * driven by one platform thread at a time.
 *
 * <p>An access retries after every fault the handler resolves, as the hardware re-executes the
 * faulting instruction.
 */
public final class Cpu {
    private final Machine machine;
    private final int id;
    private final Mmu mmu;
    private final FaultHandler faultHandler;
    private final PhysicalMemory memory;
    private MmStruct mm;
    /** The signal of the last failed access ({@link SigInfo}). */
    private int lastSignal;

    public Cpu(final Machine machine, final int id) {
        this.machine = machine;
        this.id = id;
        this.mmu = machine.arch().newMmu(machine, this);
        this.faultHandler = machine.arch().faultHandler();
        this.memory = machine.memory();
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
        this.mm = next;
        next.cpumask().set(this);
        mmu.switchMm(next);
    }

    /** The signal of the last access that returned a negative result. */
    public int lastSignal() {
        return lastSignal;
    }

    /** Translates, running the fault handler as often as it resolves the fault: a PA, or -1 with {@link #lastSignal()}. */
    private long translate(final long va, final Access kind, final PtRegs regs) {
        for (;;) {
            final long pa = mmu.translate(va, kind, regs.userMode());
            if (pa >= 0) {
                return pa;
            }
            final int sig = faultHandler.handle(this, mmu.lastFault(), regs);
            if (sig != SigInfo.OK) {
                lastSignal = sig;
                return -1;
            }
        }
    }

    /** A user-mode one-byte load: the byte (0..255), or -1 with {@link #lastSignal()} set. */
    public int load(final long va) {
        final long pa = translate(va, Access.READ, PtRegs.USER);
        return pa < 0 ? -1 : memory.getByte(pa) & 0xff;
    }

    /** A user-mode one-byte store: {@link SigInfo#OK} or the signal. */
    public int store(final long va, final byte value) {
        final long pa = translate(va, Access.WRITE, PtRegs.USER);
        if (pa < 0) {
            return lastSignal;
        }
        memory.putByte(pa, value);
        return SigInfo.OK;
    }

    /** A user-mode instruction fetch of one byte: the byte or -1. */
    public int fetch(final long va) {
        final long pa = translate(va, Access.EXEC, PtRegs.USER);
        return pa < 0 ? -1 : memory.getByte(pa) & 0xff;
    }

    /** copy_from_user of one byte (kernel mode, with an exception-table entry): the byte or -1 (-EFAULT). */
    public int getUser(final long va) {
        final long pa = translate(va, Access.READ, PtRegs.KERNEL_UACCESS);
        return pa < 0 ? -1 : memory.getByte(pa) & 0xff;
    }

    /** copy_to_user of one byte: {@link SigInfo#OK}, or the signal that stands for -EFAULT. */
    public int putUser(final long va, final byte value) {
        final long pa = translate(va, Access.WRITE, PtRegs.KERNEL_UACCESS);
        if (pa < 0) {
            return lastSignal;
        }
        memory.putByte(pa, value);
        return SigInfo.OK;
    }
}
