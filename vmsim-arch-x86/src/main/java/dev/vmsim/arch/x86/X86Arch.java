package dev.vmsim.arch.x86;

import dev.vmsim.core.Machine;
import dev.vmsim.core.arch.Arch;
import dev.vmsim.core.cpu.Cpu;
import dev.vmsim.core.fault.FaultOps;
import java.util.List;

/**
 * The x86-64 architecture ("x86_64"): {@link X86PageTableFormat}, one {@link X86Mmu} per CPU and
 * {@link X86FaultHandler}. Found by {@link dev.vmsim.core.arch.ArchRegistry} through
 * META-INF/services; the service constructor gives 4-level paging with PCID, a 64-set × 8-way
 * TLB (512 entries), the mainline per-VMA gate and SMAP off. Other configurations through
 * {@link #X86Arch(Config)}.
 */
public final class X86Arch implements Arch {
    /**
     * The knobs of a simulated x86-64 CPU and kernel.
     *
     * @param la57 5-level paging
     * @param maxPhyAddr MAXPHYADDR
     * @param pcid CR4.PCIDE
     * @param tlbSets TLB sets (power of two)
     * @param tlbWays TLB associativity
     * @param dynAsids TLB_NR_DYN_ASIDS
     * @param perVmaForKernelFaults the mm-tree do_user_addr_fault (no user-mode-only gate)
     * @param smap X86_FEATURE_SMAP
     * @param ops the mm core the fault handler calls
     */
    public record Config(
            boolean la57,
            int maxPhyAddr,
            boolean pcid,
            int tlbSets,
            int tlbWays,
            int dynAsids,
            boolean perVmaForKernelFaults,
            boolean smap,
            FaultOps ops) {
        /** The service defaults. */
        public static Config defaults() {
            return new Config(false, 46, true, 64, 8, PcidAllocator.TLB_NR_DYN_ASIDS, false, false, FaultOps.KERNEL);
        }

        public Config withLa57(final boolean v) {
            return new Config(v, maxPhyAddr, pcid, tlbSets, tlbWays, dynAsids, perVmaForKernelFaults, smap, ops);
        }

        public Config withPcid(final boolean v) {
            return new Config(la57, maxPhyAddr, v, tlbSets, tlbWays, dynAsids, perVmaForKernelFaults, smap, ops);
        }

        public Config withTlb(final int sets, final int ways) {
            return new Config(la57, maxPhyAddr, pcid, sets, ways, dynAsids, perVmaForKernelFaults, smap, ops);
        }

        public Config withDynAsids(final int v) {
            return new Config(la57, maxPhyAddr, pcid, tlbSets, tlbWays, v, perVmaForKernelFaults, smap, ops);
        }

        public Config withPerVmaForKernelFaults(final boolean v) {
            return new Config(la57, maxPhyAddr, pcid, tlbSets, tlbWays, dynAsids, v, smap, ops);
        }

        public Config withSmap(final boolean v) {
            return new Config(la57, maxPhyAddr, pcid, tlbSets, tlbWays, dynAsids, perVmaForKernelFaults, v, ops);
        }

        public Config withOps(final FaultOps v) {
            return new Config(la57, maxPhyAddr, pcid, tlbSets, tlbWays, dynAsids, perVmaForKernelFaults, smap, v);
        }
    }

    private final Config config;
    private final X86PageTableFormat format;
    private final X86FaultHandler handler;

    /** The ServiceLoader constructor: {@link Config#defaults()}. */
    public X86Arch() {
        this(Config.defaults());
    }

    public X86Arch(final Config config) {
        this.config = config;
        this.format = new X86PageTableFormat(config.la57(), config.maxPhyAddr());
        this.handler = new X86FaultHandler(config.ops(), format, config.perVmaForKernelFaults(), config.smap());
    }

    /** An x86-64 architecture with 5-level paging (LA57), other settings default. */
    public static X86Arch la57() {
        return new X86Arch(Config.defaults().withLa57(true));
    }

    public Config config() {
        return config;
    }

    @Override
    public String name() {
        return "x86_64";
    }

    @Override
    public X86PageTableFormat pageTableFormat() {
        return format;
    }

    @Override
    public X86Mmu newMmu(final Machine machine, final Cpu cpu) {
        return new X86Mmu(
                machine.memory(), format, config.tlbSets(), config.tlbWays(), config.pcid(), config.dynAsids());
    }

    @Override
    public X86FaultHandler faultHandler() {
        return handler;
    }

    /**
     * VMALLOC_TOTAL: VMALLOC_SIZE_TB_L4 (32 TiB) or, with LA57, VMALLOC_SIZE_TB_L5 (12800 TiB), less
     * the byte that VMALLOC_END's inclusive definition takes off (pgtable_64_types.h).
     */
    @Override
    public long vmallocTotal() {
        return ((format.la57() ? 12800L : 32L) << 40) - 1;
    }

    /**
     * arch_report_meminfo (arch/x86/mm/pat/set_memory.c): the direct map's pages by size, for RAM
     * from physical address 0 mapped as init_memory_mapping maps it, 2M pages where a whole aligned
     * 2 MiB fits and 4k pages for the rest. Departures: no gbpages (no DirectMap1G line, as on a
     * CPU without X86_FEATURE_GBPAGES such as the recorded machine's), and no 2M page split by
     * set_memory_*() or by holes in the e820 map.
     */
    @Override
    public List<String> archReportMeminfo(final long ramBytes) {
        final long twoMb = 2L << 20;
        final long large = ramBytes / twoMb * twoMb;
        return List.of(
                String.format("DirectMap4k:    %8d kB", (ramBytes - large) >> 10),
                String.format("DirectMap2M:    %8d kB", large >> 10));
    }

    @Override
    public String toString() {
        return "x86_64 (" + format + (config.pcid() ? ", PCID" : "") + ")";
    }
}
