package dev.vmsim.bench.jmh;

import dev.vmsim.core.Machine;
import dev.vmsim.core.arch.ArchRegistry;
import dev.vmsim.core.cpu.Cpu;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.Mman;
import dev.vmsim.core.phys.MemMap;
import dev.vmsim.core.phys.PageFlags;
import dev.vmsim.core.vmscan.ScanControl;
import dev.vmsim.core.vmscan.SwapBackend;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Reclaim cost per page: one shrink_inactive_list pass over SWAP_CLUSTER_MAX cold, mapped anonymous
 * folios (isolate, folio_referenced, add_to_swap, try_to_unmap with the batched flush, pageout,
 * __remove_mapping, free), through a swap device whose writes complete at once and cost nothing,
 * so the figure is reclaim's own work without device time.
 *
 * <p>The folios are made cold outside the measurement: a fault leaves each PTE young, so a first
 * pass (in the per-invocation setup when the list runs low) clears the young bits and marks the
 * folios referenced; the measured pass then reclaims them.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Thread)
@Fork(1)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class ReclaimBench {
    private static final int PAGES = 4096;

    @Param({"x86_64", "arm64"})
    public String arch;

    private Machine machine;
    private MmStruct mm;
    private Cpu cpu;
    private long pageSize;
    private long region;

    /** A swap device with endless slots whose writes complete before pageout returns. */
    private final class InstantSwap implements SwapBackend {
        private long nextSlot = 1;

        @Override
        public boolean canReclaimAnon() {
            return true;
        }

        @Override
        public boolean addToSwap(final int cpuId, final long pfn) {
            final MemMap memMap = machine.frames().memMap();
            machine.frames().get(pfn);
            memMap.setPrivateValue(pfn, nextSlot++);
            memMap.set(pfn, PageFlags.PG_SWAPCACHE);
            memMap.set(pfn, PageFlags.PG_DIRTY);
            return true;
        }

        @Override
        public long swapPte(final MmStruct owner, final long pfn, final boolean exclusive) {
            return machine.frames().memMap().privateValue(pfn) << 12; // not present in either format
        }

        @Override
        public Pageout pageout(final int cpuId, final long pfn) {
            machine.frames().memMap().clear(pfn, PageFlags.PG_DIRTY);
            machine.frames().folioWait().unlock(pfn);
            return Pageout.PAGE_SUCCESS;
        }

        @Override
        public void deleteFromSwapCache(final long pfn) {
            machine.frames().memMap().clear(pfn, PageFlags.PG_SWAPCACHE);
        }

        @Override
        public int swapDuplicate(final long entry) {
            return 0; // no fork here
        }

        @Override
        public void freeSwapAndCache(final long entry) {
            // the region's munmap: no slot counts are kept
        }
    }

    @Setup(Level.Trial)
    public void setUp() {
        machine = new Machine(ArchRegistry.find(arch), 4 * PAGES, 2);
        machine.setSwapBackend(new InstantSwap());
        mm = new MmStruct(machine, LockingMode.PER_VMA);
        cpu = machine.newCpu();
        cpu.switchMm(mm);
        pageSize = mm.pageSize();
        refill();
    }

    /** A fresh region of cold folios: mapped, faulted, on the LRU, aged once. */
    private void refill() {
        if (region != 0) {
            mm.munmap(region, PAGES * pageSize); // the swap PTEs of the last region go
        }
        region = mm.mmap(
                0,
                PAGES * pageSize,
                Mman.PROT_READ | Mman.PROT_WRITE,
                Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS | Mman.MAP_POPULATE);
        machine.vmscan().lruAddDrainAll();
        machine.vmscan().shrinkInactiveList(PAGES, new ScanControl(true, cpu.id()));
    }

    @Setup(Level.Invocation)
    public void enoughColdFolios() {
        if (machine.vmscan().nrInactiveAnon() < ScanControl.SWAP_CLUSTER_MAX) {
            refill();
        }
    }

    @Benchmark
    @OperationsPerInvocation(ScanControl.SWAP_CLUSTER_MAX)
    public long shrinkInactiveListPerPage() {
        final long reclaimed =
                machine.vmscan().shrinkInactiveList(ScanControl.SWAP_CLUSTER_MAX, new ScanControl(true, cpu.id()));
        if (reclaimed != ScanControl.SWAP_CLUSTER_MAX) {
            throw new IllegalStateException("reclaimed " + reclaimed);
        }
        return reclaimed;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        mm.exitMmap();
        machine.close();
    }
}
