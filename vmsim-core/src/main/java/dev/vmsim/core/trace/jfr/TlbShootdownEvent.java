package dev.vmsim.core.trace.jfr;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.MemoryAddress;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/** A TLB shootdown (flush_tlb_mm_range / flush_tlb_multi), from the first invalidation to the last target's ack. */
@Name("vmsim.tlb.Shootdown")
@Label("TLB Shootdown")
@Category({"vmsim", "tlb"})
@Description(
        "flush_tlb_mm_range: invalidate an mm's translations on every CPU in its cpumask and wait for the remote ones")
@StackTrace(false)
public final class TlbShootdownEvent extends VirtualSpanEvent {
    @Label("Start Address")
    @MemoryAddress
    public long startAddress;

    @Label("End Address")
    @Description("Exclusive end of the range; -1 (0xffffffffffffffff) for a whole-mm flush")
    @MemoryAddress
    public long endAddress;

    @Label("Pages")
    @Description("Pages flushed one by one; -1 for a whole-mm flush or a range above tlb_single_page_flush_ceiling")
    public long pages;

    @Label("CPUs")
    @Description("CPUs in the mm's cpumask, the initiator included")
    public int cpus;

    @Label("Remote CPUs")
    @Description("CPUs other than the initiator that were flushed and waited for (nr_tlb_remote_flush_received)")
    public int remoteCpus;
}
