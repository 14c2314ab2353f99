package dev.vmsim.arch.arm64;

import dev.vmsim.core.arch.PtRegs;
import dev.vmsim.core.fault.FaultOps;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.Vma;
import dev.vmsim.core.stat.VmEvent;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntSupplier;

/** A scripted mm core: what each FaultOps call returns, and a log of the calls made. */
final class ScriptedFaultOps implements FaultOps {
    Vma perVmaResult;
    Vma mmapResult;
    final Deque<Integer> faults = new ArrayDeque<>();
    /** Called on each handle_mm_fault when no scripted result is queued. */
    IntSupplier onFault = () -> 0;
    /** A fatal signal pending. */
    boolean signalPending;
    /** A non-fatal signal pending (SIG-07). */
    boolean nonFatalSignal;

    final List<String> calls = new ArrayList<>();
    final List<Integer> faultFlags = new ArrayList<>();
    final Map<VmEvent, Integer> counts = new EnumMap<>(VmEvent.class);

    @Override
    public Vma lockVmaUnderRcu(final MmStruct mm, final long address) {
        calls.add("lock_vma_under_rcu");
        return perVmaResult;
    }

    @Override
    public int handleMmFault(final Vma vma, final long address, final int flags, final PtRegs regs) {
        calls.add("handle_mm_fault");
        faultFlags.add(flags);
        return faults.isEmpty() ? onFault.getAsInt() : faults.poll();
    }

    @Override
    public void vmaEndRead(final Vma vma) {
        calls.add("vma_end_read");
    }

    @Override
    public Vma lockMmAndFindVma(final MmStruct mm, final long address, final PtRegs regs) {
        calls.add("lock_mm_and_find_vma");
        return mmapResult;
    }

    @Override
    public void mmapReadUnlock(final MmStruct mm) {
        calls.add("mmap_read_unlock");
    }

    @Override
    public void count(final MmStruct mm, final VmEvent event) {
        counts.merge(event, 1, Integer::sum);
    }

    @Override
    public boolean fatalSignalPending() {
        return signalPending;
    }

    @Override
    public boolean signalPending() {
        return signalPending || nonFatalSignal;
    }

    int count(final VmEvent e) {
        return counts.getOrDefault(e, 0);
    }

    static Vma vma(final long flags) {
        final Vma v = new Vma();
        v.vmStart = 0x1000_0000L;
        v.vmEnd = 0x2000_0000L;
        v.vmFlags = flags;
        return v;
    }
}
