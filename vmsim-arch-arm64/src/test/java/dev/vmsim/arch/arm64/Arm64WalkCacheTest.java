package dev.vmsim.arch.arm64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.Machine;
import dev.vmsim.core.arch.Access;
import dev.vmsim.core.cpu.Cpu;
import dev.vmsim.core.fault.FaultOps;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.VmFlags;
import dev.vmsim.core.phys.PhysicalMemory;
import dev.vmsim.core.testing.LeakCheck;
import org.junit.jupiter.api.Test;

/**
 * TLB-06's hardware half: the walk cache keeps the PMD's table descriptor, a later walk uses it
 * without reading the PMD again, and which TLBI forms drop it. Each test repoints the PMD entry in
 * memory with no TLBI, so a walk that re-read it would find the new PTE page and one that used the
 * cached descriptor finds the old one.
 */
@LeakCheck.Skip(
        "builds and repoints its page tables by hand (MmTables, raw PMD stores), outside PageTables: exit neither finds nor counts them")
class Arm64WalkCacheTest {
    private static final long VA = 0x40_1234_5000L;
    private static final Arm64PageTableFormat F = Arm64PageTableFormat.DEFAULT;
    private static final long RW =
            F.pteMkdirty(F.vmGetPageProt(VmFlags.VM_READ | VmFlags.VM_WRITE | VmFlags.VM_SHARED));

    private final Machine machine = new Machine(new Arm64Arch(Arm64Config.DEFAULT, FaultOps.KERNEL), 4096, 2);
    private final PhysicalMemory mem = machine.memory();
    private final Cpu cpu = machine.newCpu();
    private final Arm64Mmu mmu = (Arm64Mmu) cpu.mmu();
    private final MmStruct mm = new MmStruct(machine, LockingMode.PER_VMA);

    /** The PA of the PMD entry (core level 1) on VA's walk. */
    private long pmdSlot() {
        long table = mem.physAddr(mm.pageTables().rootPfn());
        for (int l = F.levels() - 1; l > 1; l--) {
            table = F.outputAddress(mem.getLong(table + ((long) F.index(VA, l) << 3)));
        }
        return table + ((long) F.index(VA, 1) << 3);
    }

    /** Maps VA to frame A, walks it, then points the PMD entry at a new PTE page mapping VA to frame B. */
    private long[] walkThenRepointThePmd() {
        final long a = MmTables.map(mm, VA, RW);
        cpu.switchMm(mm);
        assertEquals(a << 12 | 0x123, mmu.translate(VA + 0x123, Access.READ, true));
        assertTrue(mmu.tlb().liveWalkEntries() >= F.levels() - 1, "every table step was cached");
        final long b = machine.frames().allocZeroed(0);
        final long newPte = machine.frames().allocZeroed(0);
        mem.putLong(mem.physAddr(newPte) + ((long) F.index(VA, 0) << 3), F.pfnPte(b, RW));
        mem.putLongVolatile(pmdSlot(), F.mkTable(newPte, 1));
        return new long[] {a, b};
    }

    @Test
    void aLastLevelTlbiKeepsTheCachedTableDescriptor() {
        final long[] ab = walkThenRepointThePmd();
        mmu.tlb().tlbiVale1(mmu.currentAsid(), VA >>> 12);
        assertEquals(ab[0] << 12, mmu.translate(VA, Access.READ, true), "the walk started at the cached PMD entry");
    }

    @Test
    void aNonLastLevelTlbiDropsIt() {
        final long[] ab = walkThenRepointThePmd();
        mmu.tlb().tlbiVae1(mmu.currentAsid(), VA >>> 12);
        assertEquals(ab[1] << 12, mmu.translate(VA, Access.READ, true), "VAE1 dropped the walk entries");
    }

    @Test
    void asidAndAllFlushesDropIt() {
        final long[] ab = walkThenRepointThePmd();
        mmu.flushMm(mm); // TLBI ASIDE1IS
        assertEquals(ab[1] << 12, mmu.translate(VA, Access.READ, true));
        mmu.flushAll(); // TLBI VMALLE1IS
        assertEquals(0, mmu.tlb().liveWalkEntries());
    }

    @Test
    void tlbFlushIsLastLevelOnlyWhenNoTableWasFreed() {
        final long[] ab = walkThenRepointThePmd();
        mmu.flushRange(mm, VA, VA + 4096, true); // tlb_flush, freed_tables == 0
        assertEquals(ab[0] << 12, mmu.translate(VA, Access.READ, true));
        mmu.flushRange(mm, VA, VA + 4096, false); // freed_tables
        assertEquals(ab[1] << 12, mmu.translate(VA, Access.READ, true));
    }

    @Test
    void anotherAsidsWalkIsNotServedFromTheCache() {
        walkThenRepointThePmd();
        final MmStruct other = new MmStruct(machine, LockingMode.PER_VMA);
        cpu.switchMm(other);
        assertEquals(-1, mmu.translate(VA, Access.READ, true), "other has no tables: a translation fault");
    }
}
