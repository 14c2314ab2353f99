package dev.vmsim.bench;

import dev.vmsim.core.arch.SigInfo;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.mm.Errno;
import dev.vmsim.core.mm.Mman;
import dev.vmsim.core.phys.Pfn;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A deliberately simple stand-in for the simulated kernel, for testing the runner, the workloads'
 * bookkeeping and the commands without it: VMAs in a TreeMap, present pages in a set, one big lock.
 * It checks what the workloads must get right (every touch inside a VMA, every mapping unmapped,
 * MAP_GROWSDOWN growth one page below the stack) and counts pgfault like the kernel does.
 */
public class ToyKernel implements SimKernel {
    private static final long PAGE = Pfn.PAGE_SIZE;
    private static final long TOP = 0x7f00_0000_0000L;

    private final String arch;
    private final LockingMode mode;
    /** start -> {end, prot, flags}. */
    private final TreeMap<Long, long[]> vmas = new TreeMap<>();

    private final Set<Long> pages = new HashSet<>();
    private long nextTopDown = TOP;
    private long pgfault;
    private long acquisitions;
    /** Set by {@link #enableMmapUpgrade}: the toy's one lock has no upgrade, it only records the request. */
    private volatile boolean mmapUpgrade;

    public ToyKernel(final String arch, final LockingMode mode) {
        this.arch = arch;
        this.mode = mode;
    }

    public static KernelFactory factory() {
        return (arch, mode, frames, cpus) -> new ToyKernel(arch, mode);
    }

    @Override
    public String arch() {
        return arch;
    }

    @Override
    public String locking() {
        return mode.cliName();
    }

    @Override
    public void enableMmapUpgrade() {
        mmapUpgrade = true;
    }

    /** Was {@link #enableMmapUpgrade} called? */
    public boolean mmapUpgrade() {
        return mmapUpgrade;
    }

    @Override
    public synchronized long mmap(final long addr, final long len, final int prot, final int flags) {
        acquisitions++;
        if (len <= 0 || (len & (PAGE - 1)) != 0) {
            return -Errno.EINVAL;
        }
        final long start;
        if ((flags & Mman.MAP_FIXED) != 0) {
            start = addr;
            unmap(start, start + len);
        } else {
            nextTopDown -= len + PAGE; // a one-page hole keeps neighbours apart
            start = nextTopDown;
        }
        vmas.put(start, new long[] {start + len, prot, flags});
        return start;
    }

    @Override
    public synchronized int munmap(final long addr, final long len) {
        acquisitions++;
        unmap(addr, addr + len);
        return 0;
    }

    @Override
    public synchronized int mprotect(final long addr, final long len, final int prot) {
        acquisitions++;
        final Map.Entry<Long, long[]> e = vmas.floorEntry(addr);
        return e != null && e.getValue()[0] >= addr + len ? 0 : -Errno.ENOMEM;
    }

    @Override
    public synchronized int madvise(final long addr, final long len, final int advice) {
        acquisitions++;
        if (advice == Mman.MADV_DONTNEED) {
            pages.removeIf(p -> p >= addr && p < addr + len);
        }
        return 0;
    }

    private void unmap(final long start, final long end) {
        for (final Map.Entry<Long, long[]> e : new TreeMap<>(vmas).entrySet()) {
            final long s = e.getKey();
            final long[] v = e.getValue();
            if (v[0] <= start || s >= end) {
                continue;
            }
            vmas.remove(s);
            if (s < start) {
                vmas.put(s, new long[] {start, v[1], v[2]});
            }
            if (v[0] > end) {
                vmas.put(end, new long[] {v[0], v[1], v[2]});
            }
        }
        pages.removeIf(p -> p >= start && p < end);
    }

    private synchronized int access(final long va) {
        final long page = va & Pfn.PAGE_MASK;
        if (pages.contains(page)) {
            return SigInfo.OK;
        }
        final Map.Entry<Long, long[]> below = vmas.floorEntry(page);
        if (below == null || below.getValue()[0] <= page) {
            final Map.Entry<Long, long[]> above = vmas.higherEntry(page);
            if (above == null || (above.getValue()[2] & Mman.MAP_GROWSDOWN) == 0 || above.getKey() - PAGE != page) {
                return SigInfo.SEGV_MAPERR_SIG;
            }
            vmas.remove(above.getKey()); // expand_downwards by one page
            vmas.put(page, above.getValue());
        }
        pgfault++;
        pages.add(page);
        return SigInfo.OK;
    }

    @Override
    public SimTask newTask() {
        return new SimTask() {
            @Override
            public int store(final long va, final byte value) {
                return access(va);
            }

            @Override
            public int load(final long va) {
                return access(va) == SigInfo.OK ? 0 : -1;
            }
        };
    }

    @Override
    public synchronized KernelCounters counters() {
        final Map<String, Long> vmstat = new LinkedHashMap<>();
        vmstat.put("pgfault", pgfault);
        vmstat.put("vma_lock_success", mode == LockingMode.MMAP_ONLY ? 0 : pgfault);
        vmstat.put("nr_tlb_remote_flush", 0L);
        return new KernelCounters(vmstat, acquisitions, 0, 0, 0, pgfault, 0, pages.size());
    }

    @Override
    public synchronized void validate() {
        long end = Long.MIN_VALUE;
        for (final Map.Entry<Long, long[]> e : vmas.entrySet()) {
            if (e.getKey() < end || e.getValue()[0] <= e.getKey()) {
                throw new IllegalStateException("overlapping or empty VMA at 0x" + Long.toHexString(e.getKey()));
            }
            end = e.getValue()[0];
        }
        for (final long p : pages) {
            final Map.Entry<Long, long[]> e = vmas.floorEntry(p);
            if (e == null || e.getValue()[0] <= p) {
                throw new IllegalStateException("page 0x" + Long.toHexString(p) + " outside every VMA");
            }
        }
    }

    @Override
    public synchronized long allocatedFrames() {
        return pages.size();
    }

    public synchronized int vmaCount() {
        return vmas.size();
    }
}
