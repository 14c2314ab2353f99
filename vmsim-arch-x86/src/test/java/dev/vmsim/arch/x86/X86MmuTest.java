package dev.vmsim.arch.x86;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.Machine;
import dev.vmsim.core.arch.Access;
import dev.vmsim.core.arch.Mmu;
import dev.vmsim.core.phys.PhysicalMemory;
import dev.vmsim.core.testing.LeakCheck;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

@LeakCheck.Skip(
        "builds its page tables by hand (Paging) from raw frames, outside any mm: there is no exit to free them")
class X86MmuTest {
    static final long VA = 0x7f12_3456_7000L;
    static final long RWU = X86Pte.PRESENT | X86Pte.RW | X86Pte.USER;
    static final int P = X86PfError.PROT;
    static final int W = X86PfError.WRITE;
    static final int U = X86PfError.USER;
    static final int I = X86PfError.INSTR;

    final Machine machine = new Machine(new X86Arch(), 4096, 4);
    final PhysicalMemory mem = machine.memory();

    Paging paging(final boolean la57) {
        return new Paging(mem, machine.frames(), la57 ? X86PageTableFormat.FIVE_LEVEL : X86PageTableFormat.FOUR_LEVEL);
    }

    X86Mmu mmu(final Paging p) {
        return mmu(p, 64, 8, true);
    }

    X86Mmu mmu(final Paging p, final int sets, final int ways, final boolean pcid) {
        final X86Mmu m = new X86Mmu(mem, p.fmt, sets, ways, pcid, 6);
        m.loadCr3(p.root, 1, false);
        return m;
    }

    static int err(final X86Mmu m) {
        return m.lastPageFault().errorCode();
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void notPresentAtEachLevelFaultsWithProtClear(final boolean la57) {
        final Paging p = paging(la57);
        final long[] slots = p.map4k(VA, 100, RWU);
        for (int level = 0; level < p.fmt.levels(); level++) {
            final X86Mmu m = mmu(p);
            p.clear(slots[level], X86Pte.PRESENT);
            assertEquals(Mmu.FAULT, m.translate(VA, Access.WRITE, true));
            assertEquals(W | U, err(m), "level " + level);
            assertEquals(level, m.lastPageFault().level());
            assertFalse(m.lastPageFault().generalProtection());
            p.set(slots[level], X86Pte.PRESENT);
            assertEquals((100L << 12) | 0x10, m.translate(VA | 0x10, Access.WRITE, true));
        }
    }

    @Test
    void rwClearedAtAnUpperLevelForbidsWritesButNotReads() {
        final Paging p = paging(false);
        final long[] slots = p.map4k(VA, 100, RWU);
        for (int level = 1; level < 4; level++) {
            final X86Mmu m = mmu(p);
            p.clear(slots[level], X86Pte.RW);
            assertEquals(Mmu.FAULT, m.translate(VA, Access.WRITE, true));
            assertEquals(P | W | U, err(m));
            assertEquals(Mmu.FAULT, m.translate(VA, Access.WRITE, false), "CR0.WP: kernel writes obey RW too");
            assertEquals(100L << 12, m.translate(VA, Access.READ, true));
            p.set(slots[level], X86Pte.RW);
        }
    }

    @Test
    void userClearedAtAnUpperLevelForbidsUserAccessButNotKernel() {
        final Paging p = paging(false);
        final long[] slots = p.map4k(VA, 100, RWU);
        for (int level = 1; level < 4; level++) {
            final X86Mmu m = mmu(p);
            p.clear(slots[level], X86Pte.USER);
            assertEquals(Mmu.FAULT, m.translate(VA, Access.READ, true));
            assertEquals(P | U, err(m));
            assertEquals(100L << 12, m.translate(VA, Access.READ, false));
            p.set(slots[level], X86Pte.USER);
        }
    }

    @Test
    void userAccessToSupervisorLeafIsAProtUserFault() {
        final Paging p = paging(false);
        p.map4k(VA, 100, X86Pte.PRESENT | X86Pte.RW);
        final X86Mmu m = mmu(p);
        assertEquals(Mmu.FAULT, m.translate(VA, Access.READ, true));
        assertEquals(P | U, err(m));
        assertEquals("#PF err=0x5 [P U] cr2=0x7f1234567000 at PT", m.lastFault().describe());
    }

    @Test
    void nxAtAnyLevelForbidsInstructionFetch() {
        final Paging p = paging(false);
        final long[] slots = p.map4k(VA, 100, RWU);
        for (int level = 0; level < 4; level++) {
            final X86Mmu m = mmu(p);
            assertEquals(100L << 12, m.translate(VA, Access.EXEC, true));
            p.set(slots[level], X86Pte.NX);
            m.invlpg(VA);
            assertEquals(Mmu.FAULT, m.translate(VA, Access.EXEC, true));
            assertEquals(P | U | I, err(m));
            assertEquals(100L << 12, m.translate(VA, Access.READ, true));
            p.clear(slots[level], X86Pte.NX);
        }
    }

    @Test
    void smepForbidsKernelFetchFromUserPage() {
        final Paging p = paging(false);
        p.map4k(VA, 100, RWU);
        final X86Mmu m = mmu(p);
        assertEquals(Mmu.FAULT, m.translate(VA, Access.EXEC, false));
        assertEquals(P | I, err(m));
    }

    @Test
    void walkerSetsAccessedOnEveryLevelAndDirtyOnlyForWrites() {
        final Paging p = paging(false);
        final long[] slots = p.map4k(VA, 100, RWU);
        final X86Mmu m = mmu(p);
        m.translate(VA, Access.READ, true);
        for (int level = 0; level < 4; level++) {
            assertTrue((mem.getLong(slots[level]) & X86Pte.ACCESSED) != 0, "A at level " + level);
        }
        assertEquals(0, mem.getLong(slots[0]) & X86Pte.DIRTY);
        // the cached entry is clean: a write must walk again to set D
        final long misses = m.tlbMisses();
        m.translate(VA, Access.WRITE, true);
        assertEquals(misses + 1, m.tlbMisses());
        assertTrue((mem.getLong(slots[0]) & X86Pte.DIRTY) != 0);
        m.translate(VA, Access.WRITE, true);
        assertEquals(misses + 1, m.tlbMisses(), "a dirty cached entry serves writes");
    }

    @Test
    void accessedDirtyUpdatesRaceWithSoftwareCasWithoutLosingEither() throws Exception {
        final Paging p = paging(false);
        final long[] slots = p.map4k(VA, 100, RWU);
        final long pte = slots[0];
        final X86Mmu m = mmu(p);
        final int rounds = 20_000;
        final long counterShift = 52; // bits 52-56 are ignored by the hardware: room for a software counter
        final CyclicBarrier start = new CyclicBarrier(2);
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final Thread software = new Thread(() -> {
            try {
                start.await();
                for (int i = 0; i < rounds; i++) {
                    for (; ; ) { // like ptep_clear_flush_young + a software bit update, with cmpxchg
                        final long e = mem.getLongVolatile(pte);
                        final long count = ((e >>> counterShift) + 1) & 0x1F;
                        final long next = (e & ~(0x1FL << counterShift) & ~X86Pte.DIRTY) | (count << counterShift);
                        if (mem.compareAndSetLong(pte, e, next)) {
                            break;
                        }
                    }
                }
            } catch (Throwable t) {
                failure.set(t);
            }
        });
        software.start();
        start.await();
        for (int i = 0; i < rounds; i++) {
            m.invlpg(VA);
            assertEquals(100L << 12, m.translate(VA, Access.WRITE, true));
        }
        software.join();
        assertEquals(null, failure.get());
        final long e = mem.getLong(pte);
        assertEquals(rounds & 0x1F, (e >>> counterShift) & 0x1F, "no software update lost");
        m.invlpg(VA);
        m.translate(VA, Access.WRITE, true);
        assertTrue((mem.getLong(pte) & (X86Pte.ACCESSED | X86Pte.DIRTY)) == (X86Pte.ACCESSED | X86Pte.DIRTY));
        assertEquals(rounds & 0x1F, (mem.getLong(pte) >>> counterShift) & 0x1F, "walker kept the software bits");
    }

    @Test
    void reservedPhysicalAddressBitFaultsWithRsvd() {
        final Paging p = paging(false);
        final long[] slots = p.map4k(VA, 100, RWU);
        final X86Mmu m = mmu(p);
        p.set(slots[1], 1L << 47); // above MAXPHYADDR 46
        assertEquals(Mmu.FAULT, m.translate(VA, Access.READ, true));
        assertEquals(P | U | X86PfError.RSVD, err(m));
        assertEquals(1, m.lastPageFault().level());
        p.clear(slots[1], 1L << 47);
        p.set(slots[1], 1L << 55); // bits 52-58 are ignored, not reserved
        assertEquals(100L << 12, m.translate(VA, Access.READ, true));
    }

    @Test
    void psAtPml4IsReserved() {
        final Paging p = paging(false);
        final long[] slots = p.map4k(VA, 100, RWU);
        final X86Mmu m = mmu(p);
        p.set(slots[3], X86Pte.PSE);
        assertEquals(Mmu.FAULT, m.translate(VA, Access.WRITE, true));
        assertEquals(P | W | U | X86PfError.RSVD, err(m));
        assertEquals(3, m.lastPageFault().level());
    }

    @Test
    void nonCanonicalAddressRaisesGeneralProtection() {
        final Paging p4 = paging(false);
        final X86Mmu m = mmu(p4);
        final long va = 0x0000_8000_0000_0000L;
        assertEquals(Mmu.FAULT, m.translate(va, Access.READ, true));
        assertTrue(m.lastPageFault().generalProtection());
        assertTrue(m.lastFault().describe().startsWith("#GP"));
        assertTrue(p4.fmt.isCanonical(0xffff_8000_0000_0000L));
        // the same address is canonical with LA57: a not-present #PF instead
        final Paging p5 = paging(true);
        final X86Mmu m5 = mmu(p5);
        assertEquals(Mmu.FAULT, m5.translate(va, Access.READ, true));
        assertFalse(m5.lastPageFault().generalProtection());
        assertEquals(U, err(m5));
        assertTrue(p5.fmt.isCanonical(va));
        assertFalse(p5.fmt.isCanonical(0x0100_0000_0000_0000L));
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void fiveLevelWalkUsesPml5(final boolean la57) {
        final Paging p = paging(la57);
        final long va = la57 ? 0x00ab_cdef_1234_5000L : VA;
        final long[] slots = p.map4k(va, 321, RWU);
        final X86Mmu m = mmu(p);
        assertEquals((321L << 12) | 0x678, m.translate(va | 0x678, Access.READ, true));
        assertEquals(la57 ? 5 : 4, slots.length);
        final String dump = m.dumpWalk(va);
        assertEquals(la57, dump.contains("PML5["));
        assertTrue(
                dump.contains("PML4[") && dump.contains("PDPT[") && dump.contains("PD[") && dump.contains("PT["), dump);
        assertTrue(dump.contains("pa 0x141678") || dump.contains("pa 0x141000"), dump);
    }

    @Test
    void twoMegAndOneGigLeaves() {
        final Paging p = paging(false);
        final long va2m = 0x7f00_0020_0000L;
        final long va1g = 0x7e80_0000_0000L;
        final long[] s2 = p.map(va2m, 512, RWU, 1);
        p.map(va1g, 512 * 512, RWU, 2);
        assertTrue(p.fmt.isHugeLeaf(mem.getLong(s2[1]), 1));
        assertFalse(p.fmt.isTable(mem.getLong(s2[1]), 1));
        final X86Mmu m = mmu(p);
        assertEquals((512L << 12) + 0x12_3456, m.translate(va2m + 0x12_3456, Access.WRITE, true));
        assertTrue((mem.getLong(s2[1]) & X86Pte.DIRTY) != 0);
        assertEquals((512L * 512 << 12) + 0x2345_6789, m.translate(va1g + 0x2345_6789, Access.READ, true));
        assertTrue(m.dumpWalk(va2m).contains("2 MiB page"));
        assertTrue(m.dumpWalk(va1g).contains("1 GiB page"));
        // a misaligned 2 MiB frame is a reserved-bit violation
        p.set(s2[1], 1L << 13);
        m.flushAll();
        assertEquals(Mmu.FAULT, m.translate(va2m, Access.READ, true));
        assertEquals(P | U | X86PfError.RSVD, err(m));
    }

    @Test
    void protectionKeyDeniesDataAccess() {
        final Paging p = paging(false);
        p.map4k(VA, 100, X86Pte.withPkey(RWU, 1));
        final X86Mmu m = mmu(p);
        assertEquals(100L << 12, m.translate(VA, Access.READ, true));
        m.setPkru(0b1000); // WD for key 1
        assertEquals(100L << 12, m.translate(VA, Access.READ, true));
        assertEquals(Mmu.FAULT, m.translate(VA, Access.WRITE, true));
        assertEquals(P | W | U | X86PfError.PK, err(m));
        m.setPkru(0b0100); // AD for key 1
        assertEquals(Mmu.FAULT, m.translate(VA, Access.READ, true));
        assertEquals(P | U | X86PfError.PK, err(m));
    }

    @Test
    void protectionKeysAreCheckedOnTlbHitsTooKeyZeroIncluded() {
        final Paging p = paging(false);
        p.map4k(VA, 100, RWU); // key 0
        final X86Mmu m = mmu(p);
        assertEquals(100L << 12, m.translate(VA, Access.READ, true)); // cached
        m.setPkru(0b01); // AD for key 0: WRPKRU flushes nothing, yet the cached entry must not serve it
        assertEquals(Mmu.FAULT, m.translate(VA, Access.READ, true));
        assertEquals(P | U | X86PfError.PK, err(m));
        assertEquals(Mmu.FAULT, m.translate(VA, Access.READ, false), "PKRU governs supervisor accesses to user pages");
        assertEquals(P | X86PfError.PK, err(m));
        m.setPkru(0b1100); // key 1 restricted, key 0 free: a hit, no walk
        final long walks = m.walks();
        assertEquals((100L << 12) + 8, m.translate(VA + 8, Access.WRITE, true));
        assertEquals((100L << 12) + 8, m.translate(VA + 8, Access.READ, true));
        assertEquals(walks + 1, m.walks(), "the write walked once to set D, the read hit");
    }

    @Test
    void countsHitsAndMissesAndServesStaleEntriesUntilInvlpg() {
        final Paging p = paging(false);
        final long[] slots = p.map4k(VA, 100, RWU);
        final X86Mmu m = mmu(p);
        m.translate(VA, Access.READ, true);
        m.translate(VA + 8, Access.READ, true);
        m.translate(VA + 16, Access.READ, false);
        assertEquals(1, m.tlbMisses());
        assertEquals(2, m.tlbHits());
        mem.putLong(slots[0], p.fmt.pfnPte(200, RWU));
        assertEquals(100L << 12, m.translate(VA, Access.READ, true), "TLB is not coherent with the PTE");
        m.invlpg(VA);
        assertEquals(200L << 12, m.translate(VA, Access.READ, true));
    }

    @Test
    void associativityEvictsRoundRobinWithinASet() {
        final Paging p = paging(false);
        final X86Mmu m = mmu(p, 1, 2, true);
        for (int i = 0; i < 3; i++) {
            p.map4k(VA + 4096L * i, 100 + i, RWU);
        }
        m.translate(VA, Access.READ, true);
        m.translate(VA + 4096, Access.READ, true);
        m.translate(VA, Access.READ, true);
        assertEquals(1, m.tlbHits());
        m.translate(VA + 8192, Access.READ, true); // evicts way 0 (VA)
        m.translate(VA + 4096, Access.READ, true);
        assertEquals(2, m.tlbHits());
        m.translate(VA, Access.READ, true);
        assertEquals(2, m.tlbHits());
        assertEquals(4, m.tlbMisses());
        assertEquals(2, m.tlb().validEntries());
    }

    /** Two address spaces on one CPU map the same VA to different frames; one global kernel page. */
    final class TwoSpaces {
        final Paging a = paging(false);
        final Paging b = paging(false);
        final long kva = 0x7f00_0000_0000L;
        final X86Mmu m;

        TwoSpaces(final boolean pcid) {
            a.map4k(VA, 100, RWU);
            b.map4k(VA, 200, RWU);
            a.map4k(kva, 300, X86Pte.PRESENT | X86Pte.RW | X86Pte.GLOBAL);
            b.map4k(kva, 300, X86Pte.PRESENT | X86Pte.RW | X86Pte.GLOBAL);
            m = new X86Mmu(mem, a.fmt, 64, 8, pcid, 6);
        }

        long hitsAfter(final long va, final long expectPa) {
            final long h = m.tlbHits();
            assertEquals(expectPa, m.translate(va, Access.READ, false));
            return m.tlbHits() - h;
        }
    }

    @Test
    void pcidKeepsTwoAddressSpacesApartOnOneCpu() {
        final TwoSpaces s = new TwoSpaces(true);
        s.m.loadCr3(s.a.root, 1, false);
        s.hitsAfter(VA, 100L << 12);
        s.m.loadCr3(s.b.root, 2, false);
        assertEquals(0, s.hitsAfter(VA, 200L << 12), "B must not see A's translation");
        s.m.loadCr3(s.a.root, 1, true);
        assertEquals(1, s.hitsAfter(VA, 100L << 12), "A's entry survived the switch, tagged with PCID 1");
        s.m.loadCr3(s.a.root, 1, false);
        assertEquals(0, s.hitsAfter(VA, 100L << 12), "a CR3 write without NOFLUSH flushes the PCID");
    }

    @Test
    void cr3WriteWithoutPcidFlushesNonGlobalEntriesOnly() {
        final TwoSpaces s = new TwoSpaces(false);
        s.m.loadCr3(s.a.root, 0, false);
        s.hitsAfter(VA, 100L << 12);
        s.hitsAfter(s.kva, 300L << 12);
        s.m.loadCr3(s.b.root, 0, true);
        assertEquals(0, s.hitsAfter(VA, 200L << 12));
        assertEquals(1, s.hitsAfter(s.kva, 300L << 12), "global entry survives CR3 writes");
    }

    @Test
    void everyInvpcidForm() {
        final TwoSpaces s = new TwoSpaces(true);
        final X86Mmu m = s.m;
        final Runnable fill = () -> {
            m.loadCr3(s.a.root, 1, true);
            m.translate(VA, Access.READ, false);
            m.translate(s.kva, Access.READ, false);
            m.loadCr3(s.b.root, 2, true);
            m.translate(VA, Access.READ, false);
        };
        fill.run();
        assertEquals(3, m.tlb().validEntries());
        m.invpcidIndividual(1, s.kva);
        assertEquals(3, m.tlb().validEntries(), "individual-address invalidation spares globals");
        m.invpcidIndividual(1, VA);
        assertEquals(2, m.tlb().validEntries());
        assertEquals(1, s.hitsAfter(VA, 200L << 12), "PCID 2 untouched");

        fill.run();
        m.invpcidSingleContext(2);
        assertEquals(2, m.tlb().validEntries());
        assertEquals(0, s.hitsAfter(VA, 200L << 12));

        fill.run();
        m.invpcidAllNonGlobal();
        assertEquals(1, m.tlb().validEntries());
        assertEquals(1, s.hitsAfter(s.kva, 300L << 12));

        fill.run();
        m.invpcidAllIncludingGlobals();
        assertEquals(0, m.tlb().validEntries());

        fill.run(); // current PCID 2: INVLPG drops PCID 2's VA and the global, spares PCID 1's VA
        m.invlpg(VA);
        m.invlpg(s.kva);
        assertEquals(1, m.tlb().validEntries());
        m.loadCr3(s.a.root, 1, true);
        assertEquals(1, s.hitsAfter(VA, 100L << 12));
    }

    @Test
    void remoteFlushFromAnotherThreadInvalidates() throws Exception {
        final TwoSpaces s = new TwoSpaces(true);
        s.m.loadCr3(s.a.root, 1, false);
        s.hitsAfter(VA, 100L << 12);
        final Thread t = new Thread(s.m::flushAll);
        t.start();
        t.join();
        assertEquals(0, s.hitsAfter(VA, 100L << 12));
        assertNotEquals(0, s.m.walks());
    }
}
