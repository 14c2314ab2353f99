package dev.vmsim.core.fault;

import static dev.vmsim.core.mm.Mman.MAP_ANONYMOUS;
import static dev.vmsim.core.mm.Mman.MAP_PRIVATE;
import static dev.vmsim.core.mm.Mman.MAP_SHARED;
import static dev.vmsim.core.mm.Mman.PROT_READ;
import static dev.vmsim.core.mm.Mman.PROT_WRITE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.KernelVariant;
import dev.vmsim.core.Machine;
import dev.vmsim.core.arch.PtRegs;
import dev.vmsim.core.arch.SigInfo;
import dev.vmsim.core.cpu.Cpu;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.Mman;
import dev.vmsim.core.pgtable.PageTableFormat;
import dev.vmsim.core.pgtable.PageTables;
import dev.vmsim.core.stat.VmEvent;
import dev.vmsim.core.task.Task;
import dev.vmsim.core.testing.TestArch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The generic fault path end to end on the core test architecture (§9, §17 rows 8-9, FAULT-01). */
class FaultPathTest {
    private static final int PAGE = 4096;

    private final Machine machine = TestArch.machine(4096);

    private MmStruct mm(final LockingMode mode) {
        return new MmStruct(machine, mode);
    }

    private static Cpu cpuOn(final Machine machine, final MmStruct mm) {
        final Cpu cpu = machine.newCpu();
        cpu.switchMm(mm);
        return cpu;
    }

    private long map(final MmStruct mm, final long len, final int prot, final int flags) {
        final long a = mm.mmap(0, len, prot, flags | MAP_ANONYMOUS);
        assertTrue(a > 0, "mmap failed: " + a);
        return a;
    }

    private long pte(final MmStruct mm, final long va) {
        final PageTables pt = mm.pageTables();
        final long pa = pt.ptePa(va, false);
        return pa < 0 ? 0 : pt.readPte(pa);
    }

    /** MAP_POPULATE faults go through handle_mm_fault with regs == NULL: pgfault and the task's min_flt, like any minor fault. */
    @Test
    void populateFaultsAreTheTasksMinorFaults() {
        final MmStruct mm = mm(LockingMode.PER_VMA);
        final long faults = machine.vmstat().get(VmEvent.PGFAULT);
        final long minFlt = Task.current().minFlt;
        final long majFlt = Task.current().majFlt;
        map(mm, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | Mman.MAP_POPULATE);
        assertEquals(faults + 4, machine.vmstat().get(VmEvent.PGFAULT));
        assertEquals(minFlt + 4, Task.current().minFlt, "min_flt per populated page");
        assertEquals(majFlt, Task.current().majFlt);
        assertEquals(0, machine.vmstat().get(VmEvent.PGMAJFAULT));
    }

    /** A FAULT_FLAG_TRIED fault is the task's maj_flt (mm_account_fault) but no pgmajfault: no I/O, no VM_FAULT_MAJOR. */
    @Test
    void aTriedRetryIsAMajorFaultOfTheTaskButNotAPgmajfault() {
        final MmStruct mm = mm(LockingMode.PER_VMA);
        final long a = map(mm, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE);
        final long majFlt = Task.current().majFlt;
        final long minFlt = Task.current().minFlt;
        mm.mmapLock().readLock();
        try {
            assertEquals(
                    0,
                    Memory.handleMmFault(
                            mm.findVma(a),
                            a,
                            FaultFlags.FAULT_FLAG_DEFAULT | FaultFlags.FAULT_FLAG_USER | FaultFlags.FAULT_FLAG_TRIED,
                            PtRegs.USER));
        } finally {
            mm.mmapLock().readUnlock();
        }
        assertEquals(0, machine.vmstat().get(VmEvent.PGMAJFAULT), "pgmajfault only for VM_FAULT_MAJOR");
        assertEquals(majFlt + 1, Task.current().majFlt);
        assertEquals(minFlt, Task.current().minFlt);
    }

    @Test
    void firstReadMapsTheSharedZeroPageReadOnlyAndAllocatesNothing() {
        final MmStruct mm = mm(LockingMode.PER_VMA);
        final Cpu cpu = cpuOn(machine, mm);
        final long a = map(mm, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE);
        final long tablesBefore = mm.pageTables().tableFrames();
        final long framesBefore = machine.frames().allocatedFrames();
        final long faults = machine.vmstat().get(VmEvent.PGFAULT);

        assertEquals(0, cpu.load(a + 10));

        final PageTableFormat fmt = mm.pageTables().format();
        final long e = pte(mm, a);
        assertTrue(fmt.ptePresent(e));
        assertTrue(fmt.pteSpecial(e), "zero page is mapped by a special PTE");
        assertFalse(fmt.pteWrite(e), "the zero page is never writable in a private mapping");
        assertEquals(machine.frames().zeroPfn(), fmt.pfn(e));
        assertEquals(faults + 1, machine.vmstat().get(VmEvent.PGFAULT));
        final long tablesAdded = mm.pageTables().tableFrames() - tablesBefore;
        assertEquals(framesBefore + tablesAdded, machine.frames().allocatedFrames(), "no data page allocated");
        assertEquals(0, mm.anonRss());
    }

    @Test
    void writeAfterReadCopiesAwayFromTheZeroPage() {
        final MmStruct mm = mm(LockingMode.PER_VMA);
        final Cpu cpu = cpuOn(machine, mm);
        final long a = map(mm, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE);
        assertEquals(0, cpu.load(a));
        assertEquals(SigInfo.OK, cpu.store(a + 5, (byte) 42));

        final PageTableFormat fmt = mm.pageTables().format();
        final long e = pte(mm, a);
        assertFalse(fmt.pteSpecial(e));
        assertTrue(fmt.pteWrite(e) && fmt.pteDirty(e));
        final long pfn = fmt.pfn(e);
        assertNotEquals(machine.frames().zeroPfn(), pfn);
        assertEquals(1, machine.frames().mapcount(pfn));
        assertEquals(2, machine.frames().refcount(pfn), "the mapping's and the lru_add batch's (folio_add_lru)");
        machine.vmscan().lruAddDrainAll();
        assertEquals(1, machine.frames().refcount(pfn), "on the LRU, the batch's reference dropped");
        assertEquals(42, cpu.load(a + 5));
        assertEquals(0, cpu.load(a + 6), "the copy of the zero page is zero elsewhere");
        assertEquals(1, mm.anonRss());
        mm.validate();
    }

    /**
     * mm_forbids_zeropage(): a read fault allocates a zeroed page of its own, writable and dirty in a
     * writable VMA, and prepares the anon_vma, so the next write does not fault.
     */
    @Test
    void withoutTheZeroPageAReadFaultAllocatesAPageAndAnAnonVma() {
        final Machine noZero = new Machine(new TestArch(), 4096, 16, KernelVariant.VANILLA.withZeroPage(false));
        final MmStruct mm = new MmStruct(noZero, LockingMode.PER_VMA);
        final Cpu cpu = cpuOn(noZero, mm);
        final long a = map(mm, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE);
        assertNull(mm.findVma(a).anonVma);

        assertEquals(0, cpu.load(a + 10));

        final PageTableFormat fmt = mm.pageTables().format();
        final long e = pte(mm, a);
        assertFalse(fmt.pteSpecial(e), "no zero page");
        assertNotEquals(noZero.frames().zeroPfn(), fmt.pfn(e));
        assertTrue(fmt.pteWrite(e) && fmt.pteDirty(e), "writable and dirty, as do_anonymous_page makes it");
        assertNotNull(mm.findVma(a).anonVma, "the read fault prepared the anon_vma");
        assertEquals(1, mm.anonRss());
        final long faults = noZero.vmstat().get(VmEvent.PGFAULT);
        assertEquals(SigInfo.OK, cpu.store(a + 5, (byte) 7));
        assertEquals(faults, noZero.vmstat().get(VmEvent.PGFAULT), "the write needs no fault");
        assertEquals(7, cpu.load(a + 5));
        mm.validate();
        noZero.close();
    }

    @Test
    void perVmaFaultSucceedsWithoutTheMmapLock() {
        final MmStruct mm = mm(LockingMode.PER_VMA);
        final Cpu cpu = cpuOn(machine, mm);
        final long a = map(mm, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE);
        assertEquals(SigInfo.OK, cpu.store(a, (byte) 1)); // first write: anon_vma needs the mmap lock
        final long success = machine.vmstat().get(VmEvent.VMA_LOCK_SUCCESS);
        final long abort = machine.vmstat().get(VmEvent.VMA_LOCK_ABORT);
        assertEquals(SigInfo.OK, cpu.store(a + PAGE, (byte) 2));
        assertEquals(success + 1, machine.vmstat().get(VmEvent.VMA_LOCK_SUCCESS));
        assertEquals(abort, machine.vmstat().get(VmEvent.VMA_LOCK_ABORT));
    }

    @Test
    void mmapOnlyModeNeverCountsVmaLockEvents() {
        final MmStruct mm = mm(LockingMode.MMAP_ONLY);
        final Cpu cpu = cpuOn(machine, mm);
        final long a = map(mm, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE);
        for (int i = 0; i < 4; i++) {
            assertEquals(SigInfo.OK, cpu.store(a + (long) i * PAGE, (byte) i));
        }
        assertEquals(0, machine.vmstat().get(VmEvent.VMA_LOCK_SUCCESS));
        assertEquals(0, machine.vmstat().get(VmEvent.VMA_LOCK_ABORT));
        assertEquals(4, machine.vmstat().get(VmEvent.PGFAULT));
        mm.validate();
    }

    @Test
    void writeToReadOnlyMappingIsAccessErrorAndReadOfUnmappedIsMapErr() {
        final MmStruct mm = mm(LockingMode.PER_VMA);
        final Cpu cpu = cpuOn(machine, mm);
        final long a = map(mm, 2 * PAGE, PROT_READ, MAP_PRIVATE);
        assertNotEquals(SigInfo.OK, cpu.store(a, (byte) 1));
        assertEquals(SigInfo.SEGV_ACCERR_SIG, cpu.lastSignal());
        assertEquals(0, mm.munmap(a, 2 * PAGE));
        assertEquals(-1, cpu.load(a));
        assertEquals(SigInfo.SEGV_MAPERR_SIG, cpu.lastSignal());
    }

    /**
     * mprotect R -> RW makes an exclusive anonymous page's PTE writable (MM_CP_TRY_CHANGE_WRITABLE),
     * so the next write does not fault; the zero page and a page shared with a fork child stay
     * write-protected and fault as before.
     */
    @Test
    void mprotectReadWriteMakesExclusiveAnonPtesWritableWithoutAWriteFault() {
        final MmStruct parent = mm(LockingMode.PER_VMA);
        final Cpu cpu = cpuOn(machine, parent);
        final long a = map(parent, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE);
        assertEquals(SigInfo.OK, cpu.store(a, (byte) 1)); // an exclusive anonymous page
        assertEquals(0, cpu.load(a + PAGE)); // the zero page
        assertEquals(0, parent.mprotect(a, 3 * PAGE, PROT_READ));
        final PageTableFormat fmt = parent.pageTables().format();
        assertFalse(fmt.pteWrite(pte(parent, a)));
        assertEquals(0, parent.mprotect(a, 3 * PAGE, PROT_READ | PROT_WRITE));
        assertTrue(fmt.pteWrite(pte(parent, a)), "can_change_pte_writable: exclusive anon page");
        assertFalse(fmt.pteWrite(pte(parent, a + PAGE)), "the zero page is never made writable");
        final long faults = machine.vmstat().get(VmEvent.PGFAULT);
        assertEquals(SigInfo.OK, cpu.store(a, (byte) 2));
        assertEquals(faults, machine.vmstat().get(VmEvent.PGFAULT), "no write fault after mprotect(RW)");
        assertEquals(SigInfo.OK, cpu.store(a + PAGE, (byte) 3));
        assertEquals(faults + 1, machine.vmstat().get(VmEvent.PGFAULT), "the zero page still copies on write");

        final MmStruct child = parent.fork();
        assertEquals(0, parent.mprotect(a, PAGE, PROT_READ));
        assertEquals(0, parent.mprotect(a, PAGE, PROT_READ | PROT_WRITE));
        assertFalse(fmt.pteWrite(pte(parent, a)), "a page shared with the child stays write-protected");
        child.exitMmap();
    }

    @Test
    void forkSharesPagesCopyOnWriteAndTheLastWriterReusesInPlace() {
        final MmStruct parent = mm(LockingMode.PER_VMA);
        final Cpu pc = cpuOn(machine, parent);
        final long a = map(parent, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE);
        assertEquals(SigInfo.OK, pc.store(a, (byte) 7));
        final MmStruct child = parent.fork();
        assertNotNull(child);
        final Cpu cc = cpuOn(machine, child);
        final PageTableFormat fmt = parent.pageTables().format();
        final long shared = fmt.pfn(pte(parent, a));
        assertEquals(shared, fmt.pfn(pte(child, a)));
        assertEquals(2, machine.frames().mapcount(shared));
        assertFalse(fmt.pteWrite(pte(parent, a)), "fork write-protects the parent's private PTE");

        assertEquals(7, cc.load(a));
        assertEquals(SigInfo.OK, cc.store(a, (byte) 9)); // child breaks COW: copy
        assertEquals(9, cc.load(a));
        assertEquals(7, pc.load(a));
        assertNotEquals(shared, fmt.pfn(pte(child, a)));
        assertEquals(1, machine.frames().mapcount(shared));

        final long reuse = machine.vmstat().get(VmEvent.PGREUSE);
        assertEquals(SigInfo.OK, pc.store(a, (byte) 8)); // parent is now the only mapper: reuse
        assertEquals(reuse + 1, machine.vmstat().get(VmEvent.PGREUSE));
        assertEquals(shared, fmt.pfn(pte(parent, a)));
        parent.validate();
        child.validate();
    }

    @Test
    void sharedAnonymousPagesAreSharedAcrossForkAndSigbusBeyondTheFile() {
        final MmStruct parent = mm(LockingMode.PER_VMA);
        final Cpu pc = cpuOn(machine, parent);
        final long a = map(parent, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED);
        final MmStruct child = parent.fork();
        final Cpu cc = cpuOn(machine, child);
        assertEquals(SigInfo.OK, cc.store(a + 1, (byte) 5));
        assertEquals(5, pc.load(a + 1), "a shared mapping shares its pages with the fork child");

        final long grown = parent.mremap(a, 2 * PAGE, 4 * PAGE, Mman.MREMAP_MAYMOVE, 0);
        assertTrue(grown > 0, "mremap " + grown);
        assertEquals(5, pc.load(grown + 1));
        assertEquals(-1, pc.load(grown + 3 * PAGE));
        assertEquals(SigInfo.BUS_ADRERR_SIG, pc.lastSignal(), "beyond i_size: SIGBUS");
    }

    @ParameterizedTest
    @EnumSource(LockingMode.class)
    void framesBalanceAfterUnmap(final LockingMode mode) {
        final MmStruct mm = mm(mode);
        final Cpu cpu = cpuOn(machine, mm);
        final long before = machine.frames().allocatedFrames();
        final long a = map(mm, 64 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE);
        for (int i = 0; i < 64; i++) {
            assertEquals(SigInfo.OK, cpu.store(a + (long) i * PAGE, (byte) i));
        }
        assertEquals(64, mm.anonRss());
        assertEquals(0, mm.munmap(a, 64 * PAGE));
        mm.validate();
        assertEquals(0, mm.anonRss());
        // page-table pages for the range may be freed or kept (free_pgtables floor/ceiling), data pages must be gone
        assertTrue(
                machine.frames().allocatedFrames() - before <= mm.pageTables().tableFrames());
        assertNull(mm.vmaLookup(a));
    }
}
