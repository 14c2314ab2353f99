package dev.vmsim.core.arch;

import dev.vmsim.core.Machine;
import dev.vmsim.core.cpu.Cpu;
import dev.vmsim.core.pgtable.PageTableFormat;
import java.util.List;

/**
 * An architecture: the page-table format, the per-CPU MMU (TLB and hardware walker) and the fault
 * handler (arch/&lt;arch&gt;/mm/fault.c). Implementations live in the vmsim-arch-* modules and are
 * found with {@link java.util.ServiceLoader} ({@link ArchRegistry}); core knows no architecture.
 */
public interface Arch {
    /** "x86_64" or "arm64": the name used by {@code --arch}. */
    String name();

    /** The page-table format the fault path uses for user address spaces. */
    PageTableFormat pageTableFormat();

    /** The hardware side of one CPU: its TLB and page-table walker. */
    Mmu newMmu(Machine machine, Cpu cpu);

    /** The arch fault handler that {@link Cpu} calls when its MMU raises a fault. */
    FaultHandler faultHandler();

    /**
     * This architecture built with PAGE_SIZE {@code bytes} (arm64's CONFIG_ARM64_{4K,16K,64K}_PAGES),
     * or null if it has no such page size. The default knows only the page size it has.
     */
    default Arch withPageSize(final long bytes) {
        return bytes == 1L << pageTableFormat().pageShift() ? this : null;
    }

    /**
     * Does a TLB shootdown interrupt the other CPUs? x86: yes, an IPI to each CPU in the mm's
     * cpumask (flush_tlb_multi), counted in nr_tlb_remote_flush and nr_tlb_remote_flush_received.
     * arm64: no, a broadcast TLBI ...IS and DSB ISH from the initiating CPU, with none of x86's
     * counters (they are counted only by arch/x86/mm/tlb.c).
     */
    default boolean tlbShootdownByIpi() {
        return true;
    }

    /**
     * Does ptep_clear_flush_young flush the TLB entry of a PTE whose young bit it cleared? x86: no
     * (arch/x86/mm/pgtable.c: a stale entry only makes a page look older than it is, so the flush
     * is skipped as an optimisation); arm64: yes, flush_tlb_page_nosync, so that the next access
     * walks and sets AF again (in hardware with FEAT_HAFDBS, by an access-flag fault without).
     */
    default boolean clearFlushYoungFlushesTlb() {
        return false;
    }

    /**
     * VMALLOC_TOTAL (VMALLOC_END - VMALLOC_START) in bytes, the size of the kernel's vmalloc area
     * that /proc/meminfo prints as VmallocTotal: a constant of the architecture and its paging
     * mode. The default, 0, is for an architecture that does not say.
     */
    default long vmallocTotal() {
        return 0;
    }

    /**
     * arch_report_meminfo: the lines the architecture appends to /proc/meminfo, in the kernel's
     * format, for a machine with {@code ramBytes} of RAM. The default (the kernel's weak one)
     * prints nothing.
     */
    default List<String> archReportMeminfo(final long ramBytes) {
        return List.of();
    }
}
