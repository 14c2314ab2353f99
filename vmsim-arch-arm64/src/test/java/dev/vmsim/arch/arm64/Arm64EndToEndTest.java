package dev.vmsim.arch.arm64;

import static dev.vmsim.arch.arm64.Arm64Pte.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.vmsim.core.Machine;
import dev.vmsim.core.arch.ArchRegistry;
import dev.vmsim.core.arch.SigInfo;
import dev.vmsim.core.cpu.Cpu;
import dev.vmsim.core.fault.FaultFlags;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.VmFlags;
import dev.vmsim.core.testing.LeakCheck;
import org.junit.jupiter.api.Test;

/**
 * A Cpu access travelling MMU → do_mem_abort → do_page_fault → (scripted) handle_mm_fault and back,
 * where the scripted core does what handle_pte_fault's last row does for arm64 (§9.5, §11.5): mark
 * the PTE young, and dirty for a write.
 */
@LeakCheck.Skip(
        "builds its page tables with MmTables, bypassing PageTables and any VMA: exit neither finds nor counts them")
class Arm64EndToEndTest {
    private static final long VA = 0x1000_0000L;
    private static final Arm64PageTableFormat F = Arm64PageTableFormat.DEFAULT;

    private final ScriptedFaultOps ops = new ScriptedFaultOps();

    private Cpu cpu(final boolean hafdbs, final MmStruct[] mmOut) {
        final Machine m = new Machine(new Arm64Arch(Arm64Config.DEFAULT.withHafdbs(hafdbs), ops), 256, 2);
        final Cpu cpu = m.newCpu();
        final MmStruct mm = new MmStruct(m, LockingMode.PER_VMA);
        mmOut[0] = mm;
        ops.perVmaResult = ScriptedFaultOps.vma(VmFlags.VM_READ | VmFlags.VM_WRITE | VmFlags.VM_SHARED);
        final long ptePa = MmTables.ptePa(mm, VA);
        ops.onFault = () -> {
            final int flags = ops.faultFlags.get(ops.faultFlags.size() - 1);
            for (; ; ) {
                final long old = m.memory().getLongAcquire(ptePa);
                long pte = F.pteMkyoung(old);
                if ((flags & FaultFlags.FAULT_FLAG_WRITE) != 0) {
                    pte = F.pteMkdirty(pte);
                }
                if (m.memory().compareAndSetLong(ptePa, old, pte)) {
                    return 0;
                }
            }
        };
        cpu.switchMm(mm);
        return cpu;
    }

    @Test
    void accessFlagAndDirtyFaultsWithoutHafdbsAreFixedByTheKernel() { // oracle 15
        final MmStruct[] mm = new MmStruct[1];
        final Cpu cpu = cpu(false, mm);
        final long pfn = MmTables.map(mm[0], VA, F.vmGetPageProt(0xb) & ~PTE_AF);
        mm[0].machine().memory().putByte(pfn << 12 | 5, (byte) 42);
        assertEquals(42, cpu.load(VA + 5));
        assertEquals(1, ops.faultFlags.size(), "one access flag fault");
        assertEquals(0x0b, Esr.fsc(cpu.mmu().lastFault().syndrome()));
        assertEquals(SigInfo.OK, cpu.store(VA + 5, (byte) 7));
        assertEquals(2, ops.faultFlags.size(), "one permission fault for the clean DBM page");
        assertEquals(0x0f, Esr.fsc(cpu.mmu().lastFault().syndrome()));
        assertEquals(7, cpu.load(VA + 5));
        assertEquals(2, ops.faultFlags.size());
    }

    @Test
    void withHafdbsTheHardwareDoesItAndNoFaultIsTaken() {
        final MmStruct[] mm = new MmStruct[1];
        final Cpu cpu = cpu(true, mm);
        MmTables.map(mm[0], VA, F.vmGetPageProt(0xb) & ~PTE_AF);
        assertEquals(0, cpu.load(VA));
        assertEquals(SigInfo.OK, cpu.store(VA, (byte) 1));
        assertEquals(0, ops.faultFlags.size());
        final long pte = mm[0].machine().memory().getLong(MmTables.ptePa(mm[0], VA));
        assertTrue(F.pteYoung(pte) && F.pteDirty(pte));
    }

    @Test
    void unmappedUserAddressWithoutVmaIsSegvMaperr() {
        final MmStruct[] mm = new MmStruct[1];
        final Cpu cpu = cpu(true, mm);
        ops.perVmaResult = null;
        assertEquals(-1, cpu.load(VA + 0x100_0000));
        assertEquals(SigInfo.SEGV_MAPERR_SIG, cpu.lastSignal());
        assertEquals(-1, cpu.getUser(VA + 0x100_0000));
        assertEquals(Arm64FaultHandler.EFAULT_FIXUP, cpu.lastSignal());
    }

    @Test
    void registeredForServiceLoader() {
        assertNotNull(ArchRegistry.find("arm64"));
        assertEquals(4, ArchRegistry.find("arm64").pageTableFormat().levels());
    }
}
