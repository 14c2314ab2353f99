package dev.vmsim.core.cpu;

import dev.vmsim.core.clock.Platform;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.stat.VmEvent;
import dev.vmsim.core.stat.VmStat;
import dev.vmsim.core.trace.jfr.JfrSites;
import dev.vmsim.core.trace.jfr.TlbShootdownEvent;

/**
 * TLB shootdown (arch/x86/mm/tlb.c {@code flush_tlb_mm_range()} / {@code flush_tlb_multi()}, the
 * generic {@code flush_tlb_range()}): invalidates an mm's translations on every CPU in its
 * {@link MmCpumask}, lazy ones included (TLB-08), and returns only when no CPU can still complete
 * an access through a removed or downgraded translation.
 *
 * <p><b>The IPI handshake.</b> In the kernel the initiator waits for each target to run the flush
 * in its IPI handler; an interrupt is taken between instructions, so an access that began with the
 * old translation has completed by then. Here every {@link Cpu} brackets an access with its access
 * sequence ({@link Cpu#accessSeq()}: odd while inside; a store and a full fence on entry, a release
 * store on exit). After invalidating the target's TLB the flusher reads the sequence; if it is odd
 * the flusher waits until it changes. An access that starts after that read sees the cleared PTE
 * and the invalidated TLB, so it faults.
 *
 * <p><b>Why the entry needs a full fence (Dekker).</b> The flusher publishes the invalidation (a
 * compare-and-set of the TLB tag, volatile) and then reads the bracket (volatile); the accessor
 * publishes the bracket and then reads the tag. At least one of them must see the other's store:
 * either the flusher sees the odd sequence and waits, or the access sees INVALID and walks (and
 * finds the cleared PTE, which precedes the invalidation). That needs StoreLoad order on both
 * sides. The flusher's two accesses are volatile, so they are ordered. The accessor's tag load is
 * opaque (x86) or acquire (arm64), and a volatile store does not keep a later non-volatile load
 * behind it: AArch64 executes an STLR and a following plain LDR out of order, so munmap could
 * return while another CPU still completes an access through the stale entry. The entry is
 * therefore a store followed by {@code VarHandle.fullFence()} (DMB ISH on arm64; on x86 the same
 * LOCK ADD a volatile store already emitted, so the hit path costs the same). Acquire loads of
 * the tags were the other choice: AArch64 happens to keep an LDAR behind an earlier STLR, but the
 * JMM promises no order between a volatile store and a later acquire load, and every probe of
 * every lookup would pay for it instead of one fence per access. jcstress checks the pattern and
 * a twin without the fence ({@code mvn verify -Pjcstress -pl vmsim-jcstress}).
 *
 * <p>Then the flusher invalidates once more and waits again. A walk that read the old PTE before
 * the update fills the TLB afterwards, still inside its access, possibly after the first
 * invalidation; on hardware the IPI's flush runs on the target after that instruction and removes
 * such a fill. Every such access has ended by the end of the first wait, so the second
 * invalidation removes its fill, and the second wait covers an access that hit that stale entry
 * in between.
 *
 * <p>On arm64 ({@link dev.vmsim.core.arch.Arch#tlbShootdownByIpi} false) there is no IPI: the
 * initiator's TLBI ...IS reaches every CPU and its DSB ISH completes only once no access can still
 * use the old translation; the same invalidate-and-drain models that completion.
 *
 * <p>Counting follows the kernel: on x86 {@code nr_tlb_remote_flush} once per shootdown that
 * reaches another CPU, {@code nr_tlb_remote_flush_received} per CPU reached, and on the initiating
 * CPU {@code nr_tlb_local_flush_one} per page, or {@code nr_tlb_local_flush_all} when the range
 * exceeds {@link #TLB_SINGLE_PAGE_FLUSH_CEILING} pages; on arm64 none of them (arch/x86/mm/tlb.c
 * is their only counter).
 *
 * <p><b>Context:</b> may be called from any thread, with page-table locks held (the flusher never
 * takes a lock; an access never blocks inside its bracket, so the wait always ends).
 */
public final class TlbFlush {
    /** tlb_single_page_flush_ceiling: above this many pages the kernel flushes the whole mm. */
    public static final long TLB_SINGLE_PAGE_FLUSH_CEILING = 33;

    /** How {@link #shootdown} invalidates a range: flush_tlb_range, or tlb_flush with last_level true / false. */
    private static final int FLUSH_TLB_RANGE = 0;

    private static final int LAST_LEVEL_YES = 1;
    private static final int LAST_LEVEL_NO = 2;

    private TlbFlush() {}

    /** flush_tlb_range(): invalidates [start, end) of {@code mm} everywhere it may be cached. */
    public static void flushTlbRange(final MmStruct mm, final long start, final long end) {
        if (end <= start) {
            return;
        }
        final long pages = (end - start + mm.pageSize() - 1) >>> mm.pageShift();
        shootdown(mm, start, end, pages > TLB_SINGLE_PAGE_FLUSH_CEILING ? -1 : pages, FLUSH_TLB_RANGE);
    }

    /**
     * tlb_flush() of an mmu_gather (mm/mmu_gather.c tlb_flush_mmu_tlbonly): [start, end) of {@code
     * mm} everywhere it may be cached, and with {@code freedTables} also the cached table entries of
     * those walks ({@link dev.vmsim.core.arch.Mmu#flushRange(MmStruct, long, long, boolean)}). When
     * tables were freed the x86 counters count a full flush, as the whole-mm flush they replaced did.
     */
    public static void tlbFlush(final MmStruct mm, final long start, final long end, final boolean freedTables) {
        if (end <= start) {
            return;
        }
        final long pages = (end - start + mm.pageSize() - 1) >>> mm.pageShift();
        shootdown(
                mm,
                start,
                end,
                freedTables || pages > TLB_SINGLE_PAGE_FLUSH_CEILING ? -1 : pages,
                freedTables ? LAST_LEVEL_NO : LAST_LEVEL_YES);
    }

    /** flush_tlb_mm(): invalidates every translation of {@code mm} everywhere it may be cached. */
    public static void flushTlbMm(final MmStruct mm) {
        shootdown(mm, 0, -1, -1, FLUSH_TLB_RANGE);
    }

    /** flush_tlb_page(). */
    public static void flushTlbPage(final MmStruct mm, final long va) {
        final long page = va & -mm.pageSize();
        flushTlbRange(mm, page, page + mm.pageSize());
    }

    /**
     * @param pages pages to flush one by one, or -1 for a whole-mm flush ({@code end == -1}) or a
     *     range above the ceiling (still flushed as a range: the arch TLB decides how).
     */
    private static void shootdown(
            final MmStruct mm, final long start, final long end, final long pages, final int kind) {
        final TlbShootdownEvent jfr = JfrSites.tlbShootdownBegin();
        final VmStat vmstat = mm.machine().vmstat();
        final boolean ipi = mm.machine().arch().tlbShootdownByIpi();
        final Cpu self = Cpu.current();
        int cpus = 0;
        int remotes = 0;
        for (final Cpu cpu : mm.cpumask().cpus()) {
            cpus++;
            invalidate(cpu, mm, start, end, kind);
            if (cpu == self) {
                if (ipi) {
                    vmstat.add(
                            pages < 0 ? VmEvent.NR_TLB_LOCAL_FLUSH_ALL : VmEvent.NR_TLB_LOCAL_FLUSH_ONE,
                            pages < 0 ? 1 : pages);
                }
                cpu.countFlush(false);
            } else {
                remotes++;
                if (ipi) {
                    vmstat.count(VmEvent.NR_TLB_REMOTE_FLUSH_RECEIVED);
                }
                cpu.countFlush(true);
                cpu.waitForAccessToDrain();
                invalidate(cpu, mm, start, end, kind); // a late fill from a walk of the old PTE (see above)
                cpu.waitForAccessToDrain();
            }
        }
        if (remotes > 0 && ipi) {
            vmstat.count(VmEvent.NR_TLB_REMOTE_FLUSH);
        }
        Platform.current().tlbShootdown(cpus > remotes ? (pages < 0 ? -1 : pages) : 0, remotes);
        JfrSites.tlbShootdownEnd(jfr, start, end, pages, cpus, remotes);
    }

    private static void invalidate(final Cpu cpu, final MmStruct mm, final long start, final long end, final int kind) {
        if (end == -1) {
            cpu.mmu().flushMm(mm);
        } else if (kind == FLUSH_TLB_RANGE) {
            cpu.mmu().flushRange(mm, start, end);
        } else {
            cpu.mmu().flushRange(mm, start, end, kind == LAST_LEVEL_YES);
        }
    }
}
