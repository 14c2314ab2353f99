package dev.vmsim.core.proc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.Machine;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.Mman;
import dev.vmsim.core.script.VmScript;
import dev.vmsim.core.testing.TestArch;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** /proc/meminfo of a simulated machine: each computed line against what the script did to it. */
@Timeout(60)
class ProcMeminfoTest {
    /** show_val_kb's line, or the hugetlb counts' "%5lu" one. */
    private static final Pattern LINE = Pattern.compile("[A-Za-z_()0-9]+: *\\d+( kB)?");

    /** A new mm of {@code machine} with {@code len} bytes of private anonymous rw memory mapped with {@code flags}. */
    private static MmStruct mapped(final Machine machine, final long len, final int flags) {
        final MmStruct mm = new MmStruct(machine, LockingMode.PER_VMA);
        final long a = mm.mmap(0, len, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS | flags);
        assertTrue(a > 0, Long.toString(a));
        return mm;
    }

    /** Each {@code meminfo} block of a transcript, as name to value. */
    private static List<Map<String, Long>> blocks(final String transcript) {
        final List<Map<String, Long>> out = new ArrayList<>();
        final String[] lines = transcript.split("\n");
        for (int i = 0; i < lines.length; i++) {
            if (lines[i].endsWith("meminfo ->")) {
                final List<String> block = new ArrayList<>();
                while (i + 1 < lines.length && lines[i + 1].startsWith("  ")) {
                    block.add(lines[++i].substring(2));
                }
                out.add(ProcMeminfo.fields(block));
            }
        }
        return out;
    }

    @Test
    void everyLineIsInTheKernelsFormatAndTheLabelColumnIsSixteenWide() {
        final List<String> lines = ProcMeminfo.lines(TestArch.machine(1 << 12));
        assertEquals("MemTotal:", lines.get(0).substring(0, 9));
        assertEquals("Hugetlb:", lines.get(lines.size() - 1).substring(0, 8));
        for (final String l : lines) {
            assertTrue(LINE.matcher(l).matches(), l);
            if (l.endsWith(" kB") && !l.startsWith("VmallocTotal")) {
                assertEquals(27, l.length(), "\"%-16s%8lu kB\": " + l);
            }
        }
    }

    @Test
    void anAnonPageSharedByForkCountsOnceAndCopyOnWriteAddsOne() {
        final String t = VmScript.run(
                "map a 64K rw-\nwrite a 1\nwrite a+4K 1\nwrite a+8K 1\nwrite a+12K 1\n"
                        + "map s 16K rw- shared\nwrite s 1\nwrite s+4K 1\nmeminfo\nfork child\nmeminfo\n"
                        + "in child: write a 2\nmeminfo\nexit child\nmeminfo\n",
                new TestArch(),
                LockingMode.PER_VMA);
        final List<Map<String, Long>> m = blocks(t);
        assertEquals(4, m.size(), t);
        assertEquals(
                List.of(16L, 16L, 20L, 16L),
                m.stream().map(b -> b.get("AnonPages")).toList(),
                t);
        // The shmem pages: in the page cache (Shmem, Cached) and mapped (Mapped) by the parent only,
        // since fork copies no PTEs of a VMA without an anon_vma.
        for (final Map<String, Long> b : m) {
            assertEquals(8L, b.get("Shmem"), t);
            assertEquals(8L, b.get("Cached"), t);
            assertEquals(8L, b.get("Mapped"), t);
            assertEquals(b.get("AnonPages") + b.get("Shmem"), b.get("Inactive(anon)"), t);
            assertEquals(b.get("Inactive(anon)"), b.get("Inactive"), t);
        }
        // vm_committed_as: the private 64K once per mm, the shmem file's 16K once.
        assertEquals(
                List.of(80L, 144L, 144L, 80L),
                m.stream().map(b -> b.get("Committed_AS")).toList(),
                t);
    }

    @Test
    void memFreeIsTheZonesFreePagesAndAvailableKeepsTheHighWatermarkBack() {
        final Machine machine = TestArch.machine(1 << 16);
        final MmStruct mm = mapped(machine, 1 << 20, Mman.MAP_POPULATE);
        final ProcMeminfo.Values v = ProcMeminfo.of(machine);
        assertEquals((1 << 16) - 1, v.memTotal());
        assertEquals(256, v.anonPages());
        assertEquals(machine.frames().zoneFreeFrames(), v.memFree());
        // Frames on the per-CPU lists are neither free (to NR_FREE_PAGES) nor allocated.
        assertEquals(
                v.memTotal(),
                v.memFree()
                        + machine.frames().pcpFreeFrames()
                        + machine.frames().allocatedFrames());
        assertEquals(v.pageTables(), mm.pageTables().tableFrames());
        // 256 MiB: min_free_kbytes int_sqrt(262140 * 16) = 2047, so min 511 pages; low and high add
        // max(511 / 4, 65535 * 10 / 10000) = 127 each: totalreserve_pages is 765.
        assertEquals(2047, ProcMeminfo.minFreeKbytes(262_140));
        assertEquals(765, ProcMeminfo.totalreservePages(65_535, 12));
        assertEquals(v.memFree() - 765, v.memAvailable());
        assertEquals(65_535 / 2, v.commitLimit());
        assertEquals(256, v.committedAs());
    }

    @Test
    void mlockedPagesAreUnevictableNotInactive() {
        final Machine machine = TestArch.machine(1 << 12);
        mapped(machine, 8 << 12, Mman.MAP_LOCKED);
        final ProcMeminfo.Values v = ProcMeminfo.of(machine);
        assertEquals(8, v.mlocked());
        assertEquals(8, v.unevictable());
        assertEquals(8, v.anonPages());
        assertEquals(0, v.inactiveAnon());
    }

    @Test
    void anExitedMmNoLongerCounts() {
        final Machine machine = TestArch.machine(1 << 12);
        final MmStruct mm = mapped(machine, 4 << 12, Mman.MAP_POPULATE);
        assertEquals(4, ProcMeminfo.of(machine).anonPages());
        mm.exitMmap();
        final ProcMeminfo.Values v = ProcMeminfo.of(machine);
        assertEquals(0, v.anonPages());
        assertEquals(0, v.committedAs());
        assertEquals(0, v.pageTables());
    }
}
