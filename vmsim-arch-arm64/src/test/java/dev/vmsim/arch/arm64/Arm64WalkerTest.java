package dev.vmsim.arch.arm64;

import static dev.vmsim.arch.arm64.Arm64Pte.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.vmsim.core.arch.Access;
import dev.vmsim.core.mm.VmFlags;
import java.util.concurrent.CyclicBarrier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class Arm64WalkerTest {
    static Stream<Arm64PageTableFormat> formats() {
        return Stream.of(
                Arm64PageTableFormat.DEFAULT,
                new Arm64PageTableFormat(Granule.SZ_4K, 52, false),
                new Arm64PageTableFormat(Granule.SZ_16K, 48, false),
                new Arm64PageTableFormat(Granule.SZ_16K, 52, false),
                new Arm64PageTableFormat(Granule.SZ_64K, 48, false),
                new Arm64PageTableFormat(Granule.SZ_64K, 52, false));
    }

    /** A VA that uses a non-zero index at every level, inside the format's range. */
    private static long va(final Arm64PageTableFormat f) {
        long va = 0;
        for (int l = 0; l < f.levels(); l++) {
            va |= 1L << f.levelShift(l);
        }
        return va | 0x123;
    }

    private static Tables tables(final Arm64PageTableFormat f) {
        return new Tables(f, 4096);
    }

    @ParameterizedTest
    @MethodSource("formats")
    void translatesAPageThroughEveryLevel(final Arm64PageTableFormat f) {
        final Tables t = tables(f);
        final long va = va(f);
        final long pa = t.mapPage(va, t.rwDirty());
        final Arm64Walker w = new Arm64Walker(t.memory, f, false);
        assertEquals(pa | (va & ((1L << f.pageShift()) - 1)), w.walk(t.root, va, Access.READ, true));
        assertEquals(pa | 0x123, w.walk(t.root, va, Access.WRITE, true));
        assertEquals(0, w.leafLevel());
        final String dump = w.dump(t.root, va);
        assertEquals(f.levels() + 1, dump.split("\n").length, dump);
        assertTrue(dump.contains("L3 ") && dump.contains("PAGE V"), dump);
    }

    @ParameterizedTest
    @MethodSource("formats")
    void invalidDescriptorAtEachLevelIsATranslationFaultAtThatLevel(final Arm64PageTableFormat f) {
        for (int level = 0; level < f.levels(); level++) {
            final Tables t = tables(f);
            final long va = va(f);
            t.mapPage(va, t.rwDirty());
            t.memory.putLong(t.slot(va, level), 0);
            final Arm64Walker w = new Arm64Walker(t.memory, f, true);
            assertEquals(Arm64Walker.FAULT, w.walk(t.root, va, Access.READ, true));
            final int al = f.armLevel(level);
            assertEquals(al == -1 ? 0x2b : 0x04 + al, w.faultStatus(), f + " level " + al);
            assertEquals(al, w.faultLevel());
            assertTrue(Esr.isTranslationFault(w.faultStatus()));
        }
    }

    @ParameterizedTest
    @MethodSource("formats")
    void blocksWhereAllowedAndTranslationFaultsWhereNot(final Arm64PageTableFormat f) {
        final long va = va(f);
        for (int level = 1; level < f.levels(); level++) {
            final Tables t = tables(f);
            final long slot = t.slot(va, level);
            final long size = 1L << f.levelShift(level);
            final long blockPa = 0x40_0000_0000L & ~(size - 1) & ((1L << 48) - 1);
            final long prot = t.rwDirty();
            final long d = ((f.encodeOutputAddress(blockPa) | prot) & ~PTE_TABLE_BIT);
            t.memory.putLong(slot, d);
            final Arm64Walker w = new Arm64Walker(t.memory, f, false);
            final long r = w.walk(t.root, va, Access.READ, true);
            if (f.blockAllowed(level)) {
                assertEquals(blockPa | (va & (size - 1)), r, f + " block at L" + f.armLevel(level));
                assertEquals(level, w.leafLevel());
                assertTrue(f.isHugeLeaf(d, level));
            } else {
                assertEquals(Arm64Walker.FAULT, r, f + " block at L" + f.armLevel(level));
                assertEquals(Esr.fsc(Esr.FSC_FAULT, f.armLevel(level)), w.faultStatus());
            }
        }
        // A "block" (0b01) at level 3 is reserved: translation fault.
        final Tables t = tables(f);
        t.memory.putLong(t.slot(va, 0), (f.pfnPte(0x100, t.rwDirty()) & ~PTE_TABLE_BIT));
        final Arm64Walker w = new Arm64Walker(t.memory, f, false);
        assertEquals(Arm64Walker.FAULT, w.walk(t.root, va, Access.READ, true));
        assertEquals(0x07, w.faultStatus());
    }

    @ParameterizedTest
    @MethodSource("formats")
    void leafPermissionBits(final Arm64PageTableFormat f) {
        final Tables t = tables(f);
        final long va = va(f);
        final long slot = t.slot(va, 0);
        final Arm64Walker w = new Arm64Walker(t.memory, f, false);
        final long base = f.pfnPte(t.memory.pfnOf(t.allocGranule()), PTE_TYPE_PAGE | PTE_AF);
        // Kernel-only (no USER): EL0 loads fault at level 3, EL1 loads succeed.
        t.memory.putLong(slot, base | PTE_UXN);
        assertPerm(w, t, va, Access.READ, true);
        assertOk(w, t, va, Access.READ, false);
        // USER + RDONLY: reads ok, writes fault at both ELs.
        t.memory.putLong(slot, base | PTE_USER | PTE_RDONLY | PTE_UXN | PTE_PXN);
        assertOk(w, t, va, Access.READ, true);
        assertPerm(w, t, va, Access.WRITE, true);
        assertPerm(w, t, va, Access.WRITE, false);
        // UXN: EL0 fetch faults; PXN clear: EL1 fetch ok.
        assertPerm(w, t, va, Access.EXEC, true);
        t.memory.putLong(slot, base | PTE_USER | PTE_UXN);
        assertOk(w, t, va, Access.EXEC, false);
        assertOk(w, t, va, Access.WRITE, true);
        // PXN: EL1 fetch faults; UXN clear: EL0 fetch ok.
        t.memory.putLong(slot, base | PTE_USER | PTE_PXN);
        assertPerm(w, t, va, Access.EXEC, false);
        assertOk(w, t, va, Access.EXEC, true);
    }

    @Test
    void hierarchicalTableBitsRestrictTheLevelsBelow() {
        final Arm64PageTableFormat f = Arm64PageTableFormat.DEFAULT;
        final long va = va(f);
        final Tables t = tables(f);
        t.mapPage(va, t.rwDirty() & ~PTE_UXN & ~PTE_PXN);
        final long l1 = t.slot(va, 2); // the L1 table descriptor (points at the L2 table)
        final long clean = t.memory.getLong(l1);
        final Arm64Walker w = new Arm64Walker(t.memory, f, false);
        assertOk(w, t, va, Access.WRITE, true);
        assertOk(w, t, va, Access.EXEC, true);
        assertOk(w, t, va, Access.EXEC, false);
        t.memory.putLong(l1, clean | PMD_TABLE_AP_NO_EL0);
        assertPerm(w, t, va, Access.READ, true);
        assertOk(w, t, va, Access.READ, false);
        t.memory.putLong(l1, clean | PMD_TABLE_AP_RDONLY);
        assertOk(w, t, va, Access.READ, true);
        assertPerm(w, t, va, Access.WRITE, true);
        assertPerm(w, t, va, Access.WRITE, false);
        t.memory.putLong(l1, clean | PMD_TABLE_UXN);
        assertPerm(w, t, va, Access.EXEC, true);
        assertOk(w, t, va, Access.EXEC, false);
        t.memory.putLong(l1, clean | PMD_TABLE_PXN);
        assertPerm(w, t, va, Access.EXEC, false);
        assertOk(w, t, va, Access.EXEC, true);
        // APTable read-only beats DBM even with hardware dirty management.
        t.memory.putLong(t.slot(va, 0), t.memory.getLong(t.slot(va, 0)) | PTE_RDONLY);
        t.memory.putLong(l1, clean | PMD_TABLE_AP_RDONLY);
        final Arm64Walker hw = new Arm64Walker(t.memory, f, true);
        assertPerm(hw, t, va, Access.WRITE, true);
        // The dump names the hierarchical bits.
        assertTrue(w.dump(t.root, va).contains("APTable[1](RO)"));
    }

    @Test
    void addressSizeExternalAbortAndOutOfRangeFaults() {
        final Arm64PageTableFormat f = Arm64PageTableFormat.DEFAULT;
        final long va = va(f);
        final Tables t = tables(f);
        t.mapPage(va, t.rwDirty());
        final Arm64Walker w = new Arm64Walker(t.memory, f, false);
        final long l2 = t.slot(va, 1);
        final long good = t.memory.getLong(l2);
        t.memory.putLong(l2, good | 1L << 48); // OA beyond 48 bits
        assertEquals(Arm64Walker.FAULT, w.walk(t.root, va, Access.READ, true));
        assertEquals(0x02, w.faultStatus(), "level 2 address size fault");
        t.memory.putLong(l2, f.mkTable(1L << 30, 1)); // next table far outside simulated memory
        assertEquals(Arm64Walker.FAULT, w.walk(t.root, va, Access.READ, true));
        assertEquals(0x17, w.faultStatus(), "SEA on the level 3 table walk");
        assertEquals(Arm64Walker.FAULT, w.walk(t.root, 0xffff_0000_0000_1000L, Access.READ, true));
        assertEquals(0x04, w.faultStatus(), "kernel-half VA: level 0 translation fault");
    }

    @ParameterizedTest
    @MethodSource("formats")
    void accessFlagWithAndWithoutHafdbs(final Arm64PageTableFormat f) {
        final Tables t = tables(f);
        final long va = va(f);
        t.mapPage(va, f.vmGetPageProt(VmFlags.VM_READ) & ~PTE_AF);
        final long slot = t.slot(va, 0);
        final Arm64Walker sw = new Arm64Walker(t.memory, f, false);
        assertEquals(Arm64Walker.FAULT, sw.walk(t.root, va, Access.READ, true));
        assertEquals(0x0b, sw.faultStatus(), "level 3 access flag fault");
        assertTrue(Esr.isAccessFlagFault(sw.faultStatus()));
        assertEquals(0, t.memory.getLong(slot) & PTE_AF);
        final Arm64Walker hw = new Arm64Walker(t.memory, f, true);
        assertNotEquals(Arm64Walker.FAULT, hw.walk(t.root, va, Access.READ, true));
        assertTrue((t.memory.getLong(slot) & PTE_AF) != 0, "FEAT_HAFDBS set AF");
        // A faulting access does not set AF.
        t.memory.putLong(slot, t.memory.getLong(slot) & ~PTE_AF);
        assertEquals(Arm64Walker.FAULT, hw.walk(t.root, va, Access.WRITE, true));
        assertEquals(0x0f, hw.faultStatus());
        assertEquals(0, t.memory.getLong(slot) & PTE_AF);
    }

    @Test
    void accessFlagFaultOnABlockReportsTheBlockLevel() {
        final Arm64PageTableFormat f = Arm64PageTableFormat.DEFAULT;
        final long va = va(f);
        final Tables t = tables(f);
        t.memory.putLong(t.slot(va, 1), f.mkBlock(0x20_0000, f.vmGetPageProt(VmFlags.VM_READ) & ~PTE_AF, 1));
        t.memory.putLong(t.slot(va, 2) + 8, f.mkBlock(0x4000_0000, f.vmGetPageProt(VmFlags.VM_READ) & ~PTE_AF, 2));
        final Arm64Walker w = new Arm64Walker(t.memory, f, false);
        assertEquals(Arm64Walker.FAULT, w.walk(t.root, va, Access.READ, true));
        assertEquals(0x0a, w.faultStatus(), "level 2 access flag fault");
        assertEquals(Arm64Walker.FAULT, w.walk(t.root, va + (1L << 30), Access.READ, true));
        assertEquals(0x09, w.faultStatus(), "level 1 access flag fault");
        t.memory.putLong(t.slot(va, 1), f.mkBlock(0x20_0000, f.vmGetPageProt(VmFlags.VM_READ), 1));
        assertEquals(Arm64Walker.FAULT, w.walk(t.root, va, Access.WRITE, true));
        assertEquals(0x0e, w.faultStatus(), "level 2 permission fault");
    }

    @ParameterizedTest
    @MethodSource("formats")
    void dirtyStateWithAndWithoutHafdbs(final Arm64PageTableFormat f) {
        final Tables t = tables(f);
        final long va = va(f);
        final long shared = f.vmGetPageProt(VmFlags.VM_READ | VmFlags.VM_WRITE | VmFlags.VM_SHARED);
        t.mapPage(va, shared); // clean writable: RDONLY + DBM
        final long slot = t.slot(va, 0);
        final Arm64Walker sw = new Arm64Walker(t.memory, f, false);
        assertOk(sw, t, va, Access.READ, true);
        assertPerm(sw, t, va, Access.WRITE, true);
        final Arm64Walker hw = new Arm64Walker(t.memory, f, true);
        assertOk(hw, t, va, Access.READ, true);
        assertTrue((t.memory.getLong(slot) & PTE_RDONLY) != 0, "a read leaves it clean");
        assertOk(hw, t, va, Access.WRITE, true);
        final long d = t.memory.getLong(slot);
        assertEquals(0, d & PTE_RDONLY, "FEAT_HAFDBS cleared RDONLY");
        assertTrue(f.pteDirty(d));
        // Without DBM (a COW page) the hardware does not help: permission fault.
        t.memory.putLong(slot, f.pteWrprotect(d));
        assertPerm(hw, t, va, Access.WRITE, true);
        // The kernel's fix for the software case (handle_pte_fault: pte_mkdirty) makes the write go through.
        t.memory.putLong(slot, f.pteMkdirty(f.pfnPte(f.pfn(d), shared)));
        assertOk(sw, t, va, Access.WRITE, true);
    }

    /**
     * FEAT_HAFDBS AF update racing a software update of the same descriptor (the kernel's
     * ptep_set_wrprotect-style CAS loop setting a software bit): neither update is lost.
     */
    @Test
    void hardwareAccessFlagUpdateNeverLosesAConcurrentSoftwareUpdate() throws Exception {
        final Arm64PageTableFormat f = Arm64PageTableFormat.DEFAULT;
        final Tables t = tables(f);
        final long va = va(f);
        t.mapPage(va, f.vmGetPageProt(VmFlags.VM_READ | VmFlags.VM_WRITE | VmFlags.VM_SHARED));
        final long slot = t.slot(va, 0);
        final long base = t.memory.getLong(slot) & ~PTE_AF & ~PTE_SPECIAL & ~PTE_DIRTY;
        final int rounds = 5000;
        final CyclicBarrier start = new CyclicBarrier(2);
        final CyclicBarrier end = new CyclicBarrier(2);
        final Throwable[] err = new Throwable[1];
        final Thread kernel = new Thread(() -> {
            try {
                for (int i = 0; i < rounds; i++) {
                    start.await();
                    for (; ; ) { // software RMW with CAS, as the kernel's ptep_* helpers do
                        final long old = t.memory.getLongAcquire(slot);
                        if (t.memory.compareAndSetLong(slot, old, old | PTE_SPECIAL | PTE_DIRTY)) {
                            break;
                        }
                    }
                    end.await();
                }
            } catch (final Throwable e) {
                err[0] = e;
            }
        });
        kernel.start();
        final Arm64Walker hw = new Arm64Walker(t.memory, f, true);
        for (int i = 0; i < rounds; i++) {
            t.memory.putLongVolatile(slot, base);
            start.await();
            assertNotEquals(Arm64Walker.FAULT, hw.walk(t.root, va, (i & 1) == 0 ? Access.READ : Access.WRITE, true));
            end.await();
            final long d = t.memory.getLongVolatile(slot);
            assertTrue((d & PTE_AF) != 0, "hardware AF lost in round " + i);
            assertTrue((d & PTE_SPECIAL) != 0 && (d & PTE_DIRTY) != 0, "software update lost in round " + i);
            if ((i & 1) == 1) {
                assertEquals(0, d & PTE_RDONLY, "hardware dirty lost in round " + i);
            }
        }
        kernel.join();
        assertNull(err[0]);
    }

    private static void assertOk(
            final Arm64Walker w, final Tables t, final long va, final Access k, final boolean el0) {
        assertNotEquals(Arm64Walker.FAULT, w.walk(t.root, va, k, el0), k + (el0 ? " EL0" : " EL1"));
    }

    private static void assertPerm(
            final Arm64Walker w, final Tables t, final long va, final Access k, final boolean el0) {
        assertEquals(Arm64Walker.FAULT, w.walk(t.root, va, k, el0), k + (el0 ? " EL0" : " EL1"));
        assertEquals(0x0f, w.faultStatus(), "level 3 permission fault for " + k);
        assertTrue(Esr.isPermissionFault(w.faultStatus()));
    }
}
