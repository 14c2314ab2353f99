package dev.vmsim.core.proc;

import dev.vmsim.core.Machine;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.ShmemFile;
import dev.vmsim.core.mm.VmFlags;
import dev.vmsim.core.mm.Vma;
import dev.vmsim.core.phys.FrameAllocator;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * /proc/meminfo (fs/proc/meminfo.c meminfo_proc_show) of a simulated machine, every line Linux 6.18
 * prints, in its order and format, for the configuration of the machine the oracle recordings come
 * from (x86-64 with CONFIG_ZSWAP, CONFIG_TRANSPARENT_HUGEPAGE and hugetlbfs; no HIGHMEM, CMA,
 * MEMORY_FAILURE, UNACCEPTED_MEMORY or SHADOW_CALL_STACK). The same configuration is printed for
 * arm64, whose arch_report_meminfo prints nothing.
 *
 * <p>Computed from the machine's state ({@link Values}): MemTotal, MemFree, MemAvailable, Cached,
 * Active, Inactive, Active(anon), Inactive(anon), Unevictable, Mlocked, SwapTotal, SwapFree,
 * SwapCached, Writeback (folios under swap-out), AnonPages, Mapped, Shmem, PageTables, CommitLimit
 * (with swap), Committed_AS, VmallocTotal, Hugepagesize and the arch's lines (x86's DirectMap).
 * Every other line is 0, as the kernel prints it for a machine with no such pages: no page cache of
 * files (Buffers, the file LRUs, Dirty), no zswap, no slab, kernel stacks, vmalloc
 * or per-CPU allocations (Slab, KernelStack, VmallocUsed, Percpu: a real kernel's own memory, which
 * the simulator does not have), no THP and no huge pages.
 *
 * <p>Where the kernel keeps node counters (NR_ANON_MAPPED, NR_FILE_MAPPED, NR_SHMEM, NR_PAGETABLE,
 * vm_committed_as) that rmap, the page cache and mmap update, the simulator sums the same quantities
 * over the machine's live mms when the file is read, so that no fault updates a shared counter.
 * Read it on a quiescent machine: each mm is walked under its mmap_lock for read, but a fault on
 * another mm may run meanwhile. Departures: nothing is ever activated (no reclaim runs, and new anon
 * and shmem pages start on the inactive anon LRU, as since 5.9), and no page sits in a per-CPU LRU
 * batch, so Inactive(anon) is every anon and shmem page that is not mlocked.
 */
public final class ProcMeminfo {
    /** sysctl_overcommit_ratio's default (vm.overcommit_ratio = 50); no overcommit_kbytes. */
    static final int OVERCOMMIT_RATIO = 50;
    /** watermark_scale_factor's default: 10 (0.1% of the zone). */
    static final int WATERMARK_SCALE_FACTOR = 10;

    /** The lines computed from state, in pages, plus the arch's figures the format needs. */
    public record Values(
            int pageShift,
            long memTotal,
            long memFree,
            long memAvailable,
            long cached,
            long inactiveAnon,
            long unevictable,
            long mlocked,
            long anonPages,
            long mapped,
            long shmem,
            long pageTables,
            long commitLimit,
            long committedAs,
            long vmallocTotalBytes,
            List<String> arch,
            Swapped swap) {}

    /**
     * The lines reclaim and swap change, in pages: Active(anon) (NR_ACTIVE_ANON, the LRU's count),
     * SwapCached (the swap cache's folios), SwapTotal and SwapFree (total_swap_pages and
     * nr_swap_pages: slots in use are not free), Writeback (NR_WRITEBACK: folios under swap-out).
     * All 0 on a machine that never reclaimed and has no swap, as before they were modelled.
     */
    public record Swapped(long activeAnon, long swapCached, long swapTotal, long swapFree, long writeback) {
        public static final Swapped NONE = new Swapped(0, 0, 0, 0, 0);
    }

    private ProcMeminfo() {}

    /** meminfo_proc_show's values for {@code machine} now. */
    public static Values of(final Machine machine) {
        final FrameAllocator frames = machine.frames();
        final int pageShift = machine.memory().pageShift();
        final long totalram = machine.memory().frames() - 1; // the zero page is reserved, as in the kernel image
        // NR_FREE_PAGES counts the buddy lists only: frames cached on per-CPU lists are not free to it.
        final long free = frames.zoneFreeFrames();
        final Walk w = new Walk();
        for (final MmStruct mm : machine.mms()) {
            w.add(mm);
        }
        final long anonPages = w.anon.cardinality();
        final long mapped = w.fileMapped.cardinality();
        final long mlocked = w.mlocked.cardinality();
        final long shmem = w.shmemPages;
        final Swapped sw = swapped(machine);
        // The walk's anon and shmem pages, less those reclaim has activated, are the inactive ones.
        final long inactiveAnon = Math.max(0, anonPages + shmem - mlocked - sw.activeAnon());
        return new Values(
                pageShift,
                totalram,
                free,
                siMemAvailable(free, totalram, pageShift),
                shmem,
                inactiveAnon,
                mlocked,
                mlocked,
                anonPages,
                mapped,
                shmem,
                w.pageTables,
                totalram * OVERCOMMIT_RATIO / 100 + sw.swapTotal(),
                w.committed,
                machine.arch().vmallocTotal(),
                machine.arch().archReportMeminfo((totalram + 1) << pageShift),
                sw);
    }

    /** The reclaim and swap figures of {@code machine} now. */
    static Swapped swapped(final Machine machine) {
        final dev.vmsim.core.swap.Swap swap = machine.swap();
        final dev.vmsim.core.phys.MemMap memMap = machine.frames().memMap();
        long writeback = 0;
        for (long pfn = 0; pfn < memMap.size(); pfn++) {
            if (memMap.test(pfn, dev.vmsim.core.phys.PageFlags.PG_WRITEBACK)) {
                writeback++;
            }
        }
        return new Swapped(
                machine.vmscan().nrActiveAnon(),
                swap == null ? 0 : swap.cache().nrFolios(),
                swap == null ? 0 : swap.totalSwapPages(),
                swap == null ? 0 : swap.nrSwapPages(),
                writeback);
    }

    /** The file's lines for {@code machine} now. */
    public static List<String> lines(final Machine machine) {
        return lines(of(machine));
    }

    /**
     * The file as name to value, in its order: kB for the lines that end in "kB", a count for the
     * HugePages_* lines (what a reader of /proc/meminfo parses out of each line).
     */
    public static Map<String, Long> fields(final List<String> lines) {
        final Map<String, Long> out = new LinkedHashMap<>();
        for (final String line : lines) {
            final int colon = line.indexOf(':');
            final String value = line.substring(colon + 1).replace("kB", "").trim();
            out.put(line.substring(0, colon), Long.parseLong(value));
        }
        return out;
    }

    /** The file's lines, as meminfo_proc_show, hugetlb_report_meminfo and arch_report_meminfo print them. */
    public static List<String> lines(final Values v) {
        final List<String> out = new ArrayList<>();
        final int s = v.pageShift();
        kb(out, s, "MemTotal", v.memTotal());
        kb(out, s, "MemFree", v.memFree());
        kb(out, s, "MemAvailable", v.memAvailable());
        kb(out, s, "Buffers", 0);
        kb(out, s, "Cached", v.cached());
        kb(out, s, "SwapCached", v.swap().swapCached());
        kb(out, s, "Active", v.swap().activeAnon());
        kb(out, s, "Inactive", v.inactiveAnon());
        kb(out, s, "Active(anon)", v.swap().activeAnon());
        kb(out, s, "Inactive(anon)", v.inactiveAnon());
        kb(out, s, "Active(file)", 0);
        kb(out, s, "Inactive(file)", 0);
        kb(out, s, "Unevictable", v.unevictable());
        kb(out, s, "Mlocked", v.mlocked());
        kb(out, s, "SwapTotal", v.swap().swapTotal());
        kb(out, s, "SwapFree", v.swap().swapFree());
        kb(out, s, "Zswap", 0);
        kb(out, s, "Zswapped", 0);
        kb(out, s, "Dirty", 0);
        kb(out, s, "Writeback", v.swap().writeback());
        kb(out, s, "AnonPages", v.anonPages());
        kb(out, s, "Mapped", v.mapped());
        kb(out, s, "Shmem", v.shmem());
        kb(out, s, "KReclaimable", 0);
        kb(out, s, "Slab", 0);
        kb(out, s, "SReclaimable", 0);
        kb(out, s, "SUnreclaim", 0);
        kb(out, s, "KernelStack", 0);
        kb(out, s, "PageTables", v.pageTables());
        kb(out, s, "SecPageTables", 0);
        kb(out, s, "NFS_Unstable", 0);
        kb(out, s, "Bounce", 0);
        kb(out, s, "WritebackTmp", 0);
        kb(out, s, "CommitLimit", v.commitLimit());
        kb(out, s, "Committed_AS", v.committedAs());
        out.add(String.format("VmallocTotal:   %8d kB", v.vmallocTotalBytes() >>> 10));
        kb(out, s, "VmallocUsed", 0);
        kb(out, s, "VmallocChunk", 0);
        kb(out, s, "Percpu", 0);
        kb(out, s, "AnonHugePages", 0);
        kb(out, s, "ShmemHugePages", 0);
        kb(out, s, "ShmemPmdMapped", 0);
        kb(out, s, "FileHugePages", 0);
        kb(out, s, "FilePmdMapped", 0);
        kb(out, s, "Balloon", 0);
        // hugetlb_report_meminfo: the default hstate is the PMD size, a page of PTEs' worth of pages.
        out.add(String.format("HugePages_Total:   %5d", 0));
        out.add(String.format("HugePages_Free:    %5d", 0));
        out.add(String.format("HugePages_Rsvd:    %5d", 0));
        out.add(String.format("HugePages_Surp:    %5d", 0));
        out.add(String.format("Hugepagesize:   %8d kB", (1L << (2 * s - 3)) >> 10));
        out.add(String.format("Hugetlb:        %8d kB", 0));
        out.addAll(v.arch());
        return out;
    }

    /** show_val_kb: the label padded to 16 columns, the pages in kB right-aligned in 8, " kB". */
    private static void kb(final List<String> out, final int pageShift, final String name, final long pages) {
        out.add(String.format("%-16s%8d kB", name + ":", pages << (pageShift - 10)));
    }

    /**
     * si_mem_available (mm/show_mem.c): free pages less totalreserve_pages; the page-cache and
     * reclaimable-slab terms are 0 here (no file LRU pages, no slab).
     */
    static long siMemAvailable(final long free, final long totalram, final int pageShift) {
        return Math.max(0, free - totalreservePages(totalram, pageShift));
    }

    /**
     * calculate_totalreserve_pages (mm/page_alloc.c) for one zone holding all of RAM: its high
     * watermark (a zone's lowmem_reserve against itself is 0), at most the zone's size.
     * __setup_per_zone_wmarks: min is min_free_kbytes in pages; low and high add
     * max(min / 4, managed * watermark_scale_factor / 10000) once and twice.
     */
    static long totalreservePages(final long managed, final int pageShift) {
        final long min = minFreeKbytes(managed << (pageShift - 10)) >> (pageShift - 10);
        final long step = Math.max(min >> 2, managed * WATERMARK_SCALE_FACTOR / 10000);
        return Math.min(min + 2 * step, managed);
    }

    /**
     * calculate_min_free_kbytes (mm/page_alloc.c): int_sqrt(lowmem_kbytes * 16), clamped to [128,
     * 262144]. Without THP nothing raises it (khugepaged's set_recommended_min_free_kbytes does on a
     * kernel with THP in use, which is why a real machine's vm.min_free_kbytes is often larger).
     */
    static long minFreeKbytes(final long lowmemKbytes) {
        final long v = (long) Math.sqrt((double) (lowmemKbytes * 16));
        return Math.min(262_144, Math.max(128, v));
    }

    /** The machine-wide sums of one pass over the live mms. */
    private static final class Walk {
        /** Anon pages mapped at least once: NR_ANON_MAPPED counts a page once however often mapped. */
        final BitSet anon = new BitSet();
        /** Shmem pages mapped at least once (NR_FILE_MAPPED). */
        final BitSet fileMapped = new BitSet();
        /** Pages mapped by a VM_LOCKED VMA (NR_MLOCK; mlock_folio moves them to the unevictable LRU). */
        final BitSet mlocked = new BitSet();

        final Set<ShmemFile> files = Collections.newSetFromMap(new IdentityHashMap<>());
        long shmemPages;
        long pageTables;
        long committed;

        void add(final MmStruct mm) {
            mm.mmapLock().readLock();
            try {
                // NR_PAGETABLE: every page-table page, the root included (pagetable_pgd_ctor).
                pageTables += mm.pageTables().tableFrames();
                for (final Vma vma : mm.vmas()) {
                    addVma(mm, vma);
                }
            } finally {
                mm.mmapLock().readUnlock();
            }
        }

        private void addVma(final MmStruct mm, final Vma vma) {
            final long pages = (vma.vmEnd - vma.vmStart) >>> mm.pageShift();
            // vm_committed_as: each VM_ACCOUNT VMA was charged its size (mmap, brk, fork, stack growth).
            if ((vma.vmFlags & VmFlags.VM_ACCOUNT) != 0) {
                committed += pages;
            }
            final ShmemFile file = vma.vmFile;
            if (file != null && files.add(file)) {
                shmemPages += file.cachedPages();
                // shmem_acct_size charged the whole file at setup; with VM_NORESERVE, shmem_acct_blocks
                // charges each page as it is allocated instead.
                committed += (vma.vmFlags & VmFlags.VM_NORESERVE) != 0
                        ? file.cachedPages()
                        : (file.size() + mm.pageSize() - 1) >>> mm.pageShift();
            }
            final boolean locked = (vma.vmFlags & VmFlags.VM_LOCKED) != 0;
            final boolean isAnon = vma.isAnonymous();
            NormalPages.forEach(mm, vma, (pfn, pte) -> {
                (isAnon ? anon : fileMapped).set((int) pfn);
                if (locked) {
                    mlocked.set((int) pfn);
                }
            });
        }
    }
}
