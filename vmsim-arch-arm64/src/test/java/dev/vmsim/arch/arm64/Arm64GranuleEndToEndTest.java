package dev.vmsim.arch.arm64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.Machine;
import dev.vmsim.core.arch.SigInfo;
import dev.vmsim.core.cpu.Cpu;
import dev.vmsim.core.fault.FaultOps;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.Mman;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A whole machine on each arm64 granule over the real kernel core ({@code FaultOps.KERNEL}): memory
 * written through one page must stay in that page, whatever the page size. With page-table pages or
 * data pages smaller than the granule, a 16K/64K table's upper entries and a page's upper bytes land
 * in neighbouring frames, and pages alias each other.
 */
// Preemptive: with a corrupted table, a store faults forever, and a same-thread timeout never fires.
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class Arm64GranuleEndToEndTest {
    private static final int RW = Mman.PROT_READ | Mman.PROT_WRITE;
    private static final int ANON = Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS;
    /** More pages than one 4K PTE page maps (512), so the 4K run crosses a PTE page too. */
    private static final int PAGES = 600;

    static Stream<Granule> granules() {
        return Stream.of(Granule.SZ_4K, Granule.SZ_16K, Granule.SZ_64K);
    }

    /** A machine with {@code g}, one mm, and a CPU running it. */
    private record Booted(Machine m, MmStruct mm, Cpu cpu, long page) {
        static Booted on(final Granule g) {
            final Arm64Config c = Arm64Config.DEFAULT.withFormat(new Arm64PageTableFormat(g, 48, false));
            final Machine m = new Machine(new Arm64Arch(c, FaultOps.KERNEL), 4 * PAGES, 2);
            final MmStruct mm = new MmStruct(m, LockingMode.PER_VMA);
            final Cpu cpu = m.newCpu();
            cpu.switchMm(mm);
            return new Booted(m, mm, cpu, 1L << g.shift());
        }
    }

    private static byte tag(final long page, final int salt) {
        return (byte) (page * 31 + salt);
    }

    @ParameterizedTest
    @MethodSource("granules")
    void everyPageKeepsItsOwnBytesAndUnmapFreesEveryFrame(final Granule g) {
        final Booted b = Booted.on(g);
        final Machine m = b.m();
        final MmStruct mm = b.mm();
        final Cpu cpu = b.cpu();
        final long page = b.page();
        final long before = m.frames().allocatedFrames() - mm.pageTables().tableFrames();
        final long a = mm.mmap(0, PAGES * page, RW, ANON);
        assertTrue(a > 0, "mmap " + a);
        assertEquals(0, a & (page - 1), "mmap returns a page-aligned address");
        for (long p = 0; p < PAGES; p++) {
            assertEquals(SigInfo.OK, cpu.store(a + p * page, tag(p, 1)));
            assertEquals(SigInfo.OK, cpu.store(a + p * page + page - 1, tag(p, 2)));
        }
        for (long p = 0; p < PAGES; p++) {
            assertEquals(tag(p, 1), (byte) cpu.load(a + p * page), "first byte of page " + p);
            assertEquals(tag(p, 2), (byte) cpu.load(a + p * page + page - 1), "last byte of page " + p);
        }
        assertEquals(PAGES, mm.anonRss(), "one frame per page");
        mm.validate();
        assertEquals(0, mm.munmap(a, PAGES * page));
        mm.validate();
        assertEquals(0, mm.anonRss());
        assertEquals(
                before,
                m.frames().allocatedFrames() - mm.pageTables().tableFrames(),
                "munmap gives every data frame back");
    }

    @ParameterizedTest
    @MethodSource("granules")
    void forkCopiesOnWriteOncePerPage(final Granule g) {
        final Booted b = Booted.on(g);
        final MmStruct parent = b.mm();
        final long page = b.page();
        final int pages = 40;
        final long a = parent.mmap(0, pages * page, RW, ANON);
        final Cpu cpu = b.cpu();
        for (long p = 0; p < pages; p++) {
            assertEquals(SigInfo.OK, cpu.store(a + p * page + 8, tag(p, 3)));
        }
        final MmStruct child = parent.fork();
        parent.validate();
        child.validate();
        cpu.switchMm(child);
        for (long p = 0; p < pages; p++) {
            assertEquals(tag(p, 3), (byte) cpu.load(a + p * page + 8), "child sees the parent's page " + p);
            assertEquals(SigInfo.OK, cpu.store(a + p * page + 8, tag(p, 4)));
        }
        child.validate();
        cpu.switchMm(parent);
        for (long p = 0; p < pages; p++) {
            assertEquals(tag(p, 3), (byte) cpu.load(a + p * page + 8), "the child's write stays in the child " + p);
        }
        parent.validate();
        child.exitMmap();
        parent.validate();
    }
}
