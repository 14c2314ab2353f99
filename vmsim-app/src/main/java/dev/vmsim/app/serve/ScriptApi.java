package dev.vmsim.app.serve;

import io.micronaut.core.annotation.Nullable;
import io.micronaut.serde.annotation.Serdeable;
import java.util.List;
import java.util.Map;

/**
 * The JSON of {@code POST /api/script}: the request, and per line of the script its result, its
 * fault-path events and a snapshot of the state after it. Addresses are strings ("0x7f..."), as a
 * JavaScript number cannot hold 64 bits; {@code rel} fields print them as the transcript does.
 */
public final class ScriptApi {
    private ScriptApi() {}

    /**
     * @param arch        x86_64 or arm64
     * @param locking     mmap-only, per-vma or per-vma-wait (default per-vma)
     * @param script      the vmscript text
     * @param mmapUpgrade the simulator's atomic mmap_lock upgrade (vmsim script --mmap-upgrade)
     * @param walk        the address whose page-table walk each snapshot shows: an absolute address, or
     *                    top-relative as the transcript prints it (top-0x4000); default the address of
     *                    the line's first fault, else the lowest VMA of the arena
     */
    @Serdeable
    public record Request(
            @Nullable String arch,
            @Nullable String locking,
            @Nullable String script,
            @Nullable Boolean mmapUpgrade,
            @Nullable String walk) {}

    /** The transcript ({@code vmsim script}'s, byte for byte), the steps, and the equivalent command. */
    @Serdeable
    public record Response(String transcript, List<Step> steps, String command) {}

    /**
     * One line of the script.
     *
     * @param line   its number, from 1
     * @param source the line as written
     * @param task   the task it ran in
     * @param output what it printed in the transcript (empty for a blank or comment line)
     * @param result what follows " -> " on its first transcript line
     * @param events the fault-path trace events it produced (the --trace events)
     * @param trace  the same as {@code vmsim script --trace} prints them
     */
    @Serdeable
    public record Step(
            int line,
            String source,
            String task,
            String output,
            String result,
            List<Event> events,
            List<String> trace,
            Snapshot snapshot) {}

    /** One trace event: the kernel function or tracepoint, its phase (B begin, E end, i instant) and arguments. */
    @Serdeable
    public record Event(long tsNs, int cpu, String phase, String name, Map<String, String> args) {}

    /** The state after a step, seen from the task the step ran in. */
    @Serdeable
    public record Snapshot(
            String task,
            List<String> tasks,
            List<String> maps,
            Maple maple,
            Walk walk,
            List<CpuTlb> tlbs,
            Locks locks,
            Map<String, Long> vmstat,
            Lru lru,
            List<SwapDevice> swap) {}

    /**
     * The node's LRU (struct lruvec) and the folios waiting in the per-CPU lru_add batches; empty
     * lists when the script set no {@code mem} or {@code swap} (a snapshot stays small).
     *
     * @param lists  inactive_anon, active_anon, inactive_file, active_file, each from head (most
     *               recently added) to tail (reclaimed next); the file lists are always empty (no page cache)
     * @param lruAdd the folios in a lru_add batch (folio_add_lru), not yet on a list
     */
    @Serdeable
    public record Lru(List<LruList> lists, List<LruFolio> lruAdd) {}

    /** One LRU list: its name as /proc/vmstat spells it (nr_inactive_anon ...), its size and folios. */
    @Serdeable
    public record LruList(String name, long size, List<LruFolio> folios) {}

    /**
     * One folio: its pfn, the PTEs that map it found by an rmap walk ("TASK top-0x4000"), and its flags.
     *
     * @param lruAddBatch it is in a lru_add batch (then on no list yet)
     */
    @Serdeable
    public record LruFolio(
            String pfn,
            List<String> mappedBy,
            boolean referenced,
            boolean active,
            boolean swapbacked,
            boolean swapcache,
            boolean dirty,
            boolean writeback,
            boolean lruAddBatch) {}

    /**
     * One swap device (struct swap_info_struct).
     *
     * @param type  its swap type (the entry's type field)
     * @param size  usable slots (the header slot aside)
     * @param used  inuse_pages
     * @param slots every slot in use, by offset
     */
    @Serdeable
    public record SwapDevice(int type, long size, long used, List<SwapSlot> slots) {}

    /**
     * One used slot.
     *
     * @param count     its swap_map count (the swap PTEs that hold it), SWAP_HAS_CACHE aside
     * @param hasCache  SWAP_HAS_CACHE: a folio in the swap cache holds it
     * @param cachePfn  that folio's pfn, or null
     * @param ptes      the swap PTEs that hold its entry ("TASK top-0x4000")
     */
    @Serdeable
    public record SwapSlot(
            long offset,
            int count,
            boolean hasCache,
            @Nullable String cachePfn,
            List<String> ptes) {}

    /** The mm's maple tree (mm_mt). */
    @Serdeable
    public record Maple(int height, List<Node> nodes) {}

    /** One maple node: pivots are the slots' {@code last}; {@code gaps} only for maple_arange_64. */
    @Serdeable
    public record Node(int id, int parent, String type, String min, String max, List<Slot> slots, List<String> gaps) {}

    /** One slot: its range, the child node (internal) or -1, and the VMA stored there (leaf; null = a gap). */
    @Serdeable
    public record Slot(
            String first, String last, int child, @Nullable String entry) {}

    /** The page-table walk of {@code address}: the index bits per level, each entry raw and decoded. */
    @Serdeable
    public record Walk(String address, String rel, List<Level> levels) {}

    /**
     * One level of the walk.
     *
     * @param name    the kernel's name for the level (pgd, p4d, pud, pmd, pte)
     * @param bits    the VA bits that index it, as "47:39"
     * @param fields  the decoded entry split into its named fields (P RW US A D NX; arm64 AF DBM AP UXN ...)
     */
    @Serdeable
    public record Level(
            int level,
            String name,
            String bits,
            int index,
            String table,
            String entry,
            String decoded,
            List<String> fields) {}

    /** One CPU's TLB: its entries with their PCID (x86) or ASID (arm64), and the hit and miss counters. */
    @Serdeable
    public record CpuTlb(int cpu, String tagName, long hits, long misses, List<TlbLine> entries) {}

    /** One TLB entry. */
    @Serdeable
    public record TlbLine(String va, String rel, int tag, boolean global, String pa, String perms) {}

    /** The mmap_lock and the per-VMA locks. */
    @Serdeable
    public record Locks(MmapLockState mmapLock, List<VmaLockState> vmas) {}

    /**
     * The mmap_lock's rw_semaphore count word decoded, and mm_lock_seq.
     *
     * @param count        the count word in hex
     * @param readers      count >> RWSEM_READER_SHIFT
     * @param writerLocked RWSEM_WRITER_LOCKED
     * @param waiters      RWSEM_FLAG_WAITERS
     * @param handoff      RWSEM_FLAG_HANDOFF
     */
    @Serdeable
    public record MmapLockState(
            String count,
            long readers,
            boolean writerLocked,
            boolean waiters,
            boolean handoff,
            int waiting,
            int mmLockSeq) {}

    /**
     * One VMA's lock: vm_refcnt (0 detached, 1 attached, more: readers) and vm_lock_seq, which equals
     * mm_lock_seq while the VMA is write-locked.
     */
    @Serdeable
    public record VmaLockState(String vma, int vmRefcnt, int vmLockSeq, boolean writeLocked) {}
}
