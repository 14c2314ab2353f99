package dev.vmsim.bench.jmh;

import dev.vmsim.core.Machine;
import dev.vmsim.core.arch.ArchRegistry;
import dev.vmsim.core.arch.SigInfo;
import dev.vmsim.core.cpu.Cpu;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.mm.Errno;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.Mman;
import dev.vmsim.core.pgtable.PageTableFormat;
import dev.vmsim.core.pgtable.PageTables;
import dev.vmsim.core.swap.Swap;
import dev.vmsim.core.swap.SwapParams;
import dev.vmsim.core.swap.Swapin;
import dev.vmsim.core.vmscan.ScanControl;
import dev.vmsim.core.vmscan.Vmscan;

/**
 * The machine {@link SwapFaultBench} measures, outside JMH so that a unit test can check what one
 * measured operation is: one mm with a region of {@code pages} private anonymous pages, each holding
 * its own byte, on a machine with four times that memory (no watermark is ever near, so kswapd
 * stays asleep) and a swap device of zero modelled latency.
 *
 * <p>The device's requests complete inside submit (SwapIo's zero-latency rule: a RAM disk's bio
 * ends within submit_bio), so a swap-in's folio is uptodate and unlocked before do_swap_page tries
 * its lock: no VM_FAULT_RETRY, no sleep, no completion thread; what is left of the device is the
 * copy of the page from the slot, as a RAM disk's memcpy. Page-cluster is 0 (no readahead), so each
 * fault reads exactly its own page, and the number of major faults is the number of faults.
 *
 * <p>Confined to one thread: the one that built it runs the CPU.
 */
public final class SwapFaultState implements AutoCloseable {
    /** Enough for the aging pass, the reclaiming pass and a pass for the stragglers of a batch. */
    private static final int MAX_PASSES = 8;

    private final Machine machine;
    private final Swap swap;
    private final MmStruct mm;
    private final Cpu cpu;
    private final int pages;
    private final long pageSize;
    private final long region;

    /**
     * @param arch an architecture's name ({@code x86_64}, {@code arm64})
     * @param mode the mm's locking mode
     * @param pages the region's pages: the faults of one measured invocation
     */
    public SwapFaultState(final String arch, final LockingMode mode, final int pages) {
        this.pages = pages;
        machine = new Machine(ArchRegistry.find(arch), 4L * pages + 1024, 2);
        swap = machine.swapon(new SwapParams(2L * pages + 1, 0, 0, 32, 0));
        mm = new MmStruct(machine, mode);
        cpu = machine.newCpu();
        cpu.switchMm(mm);
        pageSize = mm.pageSize();
        region = mm.mmap(0, pages * pageSize, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS);
        if (Errno.isError(region)) {
            throw new IllegalStateException("mmap: " + Errno.name(region));
        }
        for (int i = 0; i < pages; i++) {
            final int sig = cpu.store(address(i), (byte) expected(i));
            if (sig != SigInfo.OK) {
                throw new IllegalStateException(SigInfo.describe(sig));
            }
        }
    }

    /** The byte page {@code i} holds at its start: never 0, so a zero-filled page cannot pass for it. */
    public static int expected(final int i) {
        return i % 255 + 1;
    }

    public long address(final int i) {
        return region + i * pageSize;
    }

    public int pages() {
        return pages;
    }

    public Machine machine() {
        return machine;
    }

    public MmStruct mm() {
        return mm;
    }

    /**
     * Reclaims the whole region to swap with the kernel's reclaim (as kswapd would): lru_add batches
     * drained, shrink_active_list deactivating, shrink_inactive_list aging (a fault leaves its PTE
     * young: the first pass clears it and keeps the folio with PG_referenced) and then reclaiming.
     * Afterwards every page of the region is a swap PTE and no folio of it is left in the swap cache
     * (a dirty folio is written, synchronously, and freed in the same pass; a clean one still in the
     * swap cache from its last swap-in is just unmapped and freed).
     */
    public void swapOutAll() {
        final Vmscan vmscan = machine.vmscan();
        for (int pass = 0; mm.anonRss() > 0; pass++) {
            if (pass == MAX_PASSES) {
                throw new IllegalStateException(
                        mm.anonRss() + " pages still resident after " + pass + " reclaim passes");
            }
            vmscan.lruAddDrainAll();
            final ScanControl sc = new ScanControl(true, cpu.id());
            if (vmscan.nrActiveAnon() > 0) {
                vmscan.shrinkActiveList(vmscan.nrActiveAnon(), sc);
            }
            vmscan.shrinkInactiveList(vmscan.nrInactiveAnon(), sc);
        }
        if (mm.swapEnts() != pages || swap.cache().nrFolios() != 0) {
            throw new IllegalStateException(mm.swapEnts() + " swap PTEs, "
                    + swap.cache().nrFolios() + " swap-cache folios after reclaim of " + pages + " pages");
        }
    }

    /**
     * What madvise(MADV_WILLNEED) does to swapped-out anonymous memory (swapin_walk_pmd_entry):
     * read_swap_cache_async on each swap PTE's entry, the reference dropped. With the zero-latency
     * device every folio is then in the swap cache, uptodate and unlocked, and a fault on it is a
     * swap-cache hit. The lru_add batches are drained, so the faults do not pay for the setup's.
     */
    public void readIntoSwapCache() {
        final PageTables pt = mm.pageTables();
        final PageTableFormat fmt = pt.format();
        final Swapin swapin = swap.swapin();
        for (int i = 0; i < pages; i++) {
            final long pte = pt.readPte(pt.ptePa(address(i), false));
            if (!fmt.isSwapSlotPte(pte)) {
                throw new IllegalStateException("page " + i + " is not swapped out: " + fmt.describe(pte, 0));
            }
            final Swapin.Folio f = swapin.readSwapCacheAsync(fmt.pteToSwpEntry(pte));
            if (f.pfn() < 0) {
                throw new IllegalStateException("no folio for page " + i);
            }
            swap.folioPut(f.pfn());
        }
        machine.vmscan().lruAddDrainAll();
    }

    /**
     * Loads the first byte of every page of the region, in order: each load faults (do_swap_page)
     * when the page is swapped out. Throws if a byte is not the page's own.
     *
     * @return the sum of the bytes read
     */
    public long faultAll() {
        long sum = 0;
        for (int i = 0; i < pages; i++) {
            final int v = cpu.load(address(i));
            if (v != expected(i)) {
                throw new IllegalStateException(
                        "page " + i + " read " + v + (v < 0 ? " (" + SigInfo.describe(cpu.lastSignal()) + ")" : ""));
            }
            sum += v;
        }
        return sum;
    }

    /** Unmaps the region, checks the machine (Machine.validate) and closes it. */
    @Override
    public void close() {
        try {
            mm.munmap(region, pages * pageSize);
            machine.validate();
        } finally {
            machine.close();
        }
    }
}
