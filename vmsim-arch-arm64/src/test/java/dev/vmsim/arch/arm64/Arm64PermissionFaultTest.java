package dev.vmsim.arch.arm64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.Machine;
import dev.vmsim.core.arch.SigInfo;
import dev.vmsim.core.cpu.Cpu;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.Mman;
import dev.vmsim.core.stat.VmEvent;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * FAULT-17 on the real core: the arm64 walker meets a present, read-only PTE on a store and raises
 * a permission fault (ESR data abort, FSC permission, WnR); do_page_fault finds the VMA, whose
 * vm_flags do not allow the write, and delivers SIGSEGV with SEGV_ACCERR. An address with no VMA
 * is SEGV_MAPERR. The same classification as x86 (FAULT-04), in every locking mode; under a
 * per-VMA mode the error is decided under the VMA lock, without falling back to the mmap lock.
 */
class Arm64PermissionFaultTest {
    @ParameterizedTest
    @EnumSource(LockingMode.class)
    void aStoreToAReadOnlyVmaIsAccerrAndNoVmaIsMaperr(final LockingMode mode) {
        final Machine machine = new Machine(new Arm64Arch(), 1 << 12, 2);
        try {
            final MmStruct mm = new MmStruct(machine, mode);
            final Cpu cpu = machine.newCpu();
            cpu.switchMm(mm);
            final long page = mm.pageSize();
            final long a = mm.mmap(0, page, Mman.PROT_READ, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS);
            assertEquals(0, cpu.load(a), "the read maps the zero page, read-only");
            final long mmapLocks = mm.mmapLock().acquisitions();

            assertEquals(SigInfo.SEGV_ACCERR_SIG, cpu.store(a, (byte) 1));
            final long esr = cpu.mmu().lastFault().syndrome();
            assertTrue(Esr.isPermissionFault(esr), "a permission fault, ESR 0x" + Long.toHexString(esr));
            if (mode != LockingMode.MMAP_ONLY) {
                assertEquals(mmapLocks, mm.mmapLock().acquisitions(), "decided under the VMA lock");
                assertTrue(machine.vmstat().get(VmEvent.VMA_LOCK_SUCCESS) > 0);
            }
            assertEquals(0, cpu.load(a), "nothing was written");

            assertEquals(-1, cpu.load(a + 64 * page));
            assertEquals(SigInfo.SEGV_MAPERR_SIG, cpu.lastSignal());
            mm.validate();
        } finally {
            machine.close();
        }
    }
}
