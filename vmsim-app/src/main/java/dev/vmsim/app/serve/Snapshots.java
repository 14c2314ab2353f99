package dev.vmsim.app.serve;

import dev.vmsim.core.arch.TlbEntry;
import dev.vmsim.core.cpu.Cpu;
import dev.vmsim.core.lock.VmaLock;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.VmFlags;
import dev.vmsim.core.mm.Vma;
import dev.vmsim.core.pgtable.WalkStep;
import dev.vmsim.core.script.ScriptSession;
import dev.vmsim.core.script.VmScript;
import dev.vmsim.core.stat.VmEvent;
import dev.vmsim.core.sync.RwSemaphore;
import dev.vmsim.core.tree.MapleNodeView;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds the {@link ScriptApi.Snapshot} of a session's state after a step. Reads the state from the
 * stepping thread between lines, when no simulated task runs, so plain reads see a settled state.
 */
final class Snapshots {
    /** Kernel names of the page-table levels below the root, numbered from the leaf. */
    private static final String[] LEVEL_NAMES = {"pte", "pmd", "pud", "p4d"};

    private Snapshots() {}

    static ScriptApi.Snapshot of(final ScriptSession s, final String task, final Long walkAt) {
        final MmStruct live = s.mm(task);
        final MmStruct mm = live != null ? live : s.parentMm();
        final List<String> maps = maps(s, mm);
        final long at = walkAt != null ? walkAt : lowestVma(s, mm);
        return new ScriptApi.Snapshot(
                task,
                s.tasks(),
                maps,
                maple(s, mm),
                walk(s, mm, at),
                tlbs(s),
                locks(s, mm),
                vmstat(mm),
                ReclaimViews.lru(s),
                ReclaimViews.swap(s));
    }

    /** /proc/PID/maps lines of the arena, as the transcript's {@code maps} prints them (without the indent). */
    static List<String> maps(final ScriptSession s, final MmStruct mm) {
        final List<String> out = new ArrayList<>();
        for (final Vma v : arenaVmas(s, mm)) {
            out.add(s.rel(v.vmStart) + " " + s.rel(v.vmEnd) + " " + perms(v.vmFlags));
        }
        return out;
    }

    private static List<Vma> arenaVmas(final ScriptSession s, final MmStruct mm) {
        final long top = s.top();
        final long bottom = top - VmScript.ARENA;
        final List<Vma> out = new ArrayList<>();
        for (final Vma v : mm.vmas()) {
            if (Long.compareUnsigned(v.vmEnd, bottom) > 0 && Long.compareUnsigned(v.vmStart, top) < 0) {
                out.add(v);
            }
        }
        return out;
    }

    static String perms(final long f) {
        return "" + ((f & VmFlags.VM_READ) != 0 ? 'r' : '-') + ((f & VmFlags.VM_WRITE) != 0 ? 'w' : '-')
                + ((f & VmFlags.VM_EXEC) != 0 ? 'x' : '-') + ((f & VmFlags.VM_MAYSHARE) != 0 ? 's' : 'p');
    }

    private static long lowestVma(final ScriptSession s, final MmStruct mm) {
        final List<Vma> vmas = arenaVmas(s, mm);
        return vmas.isEmpty() ? s.top() - mm.pageSize() : vmas.get(0).vmStart;
    }

    static ScriptApi.Maple maple(final ScriptSession s, final MmStruct mm) {
        final List<ScriptApi.Node> nodes = new ArrayList<>();
        for (final MapleNodeView n : mm.mmMt().nodes()) {
            final List<ScriptApi.Slot> slots = new ArrayList<>();
            for (final MapleNodeView.Slot sl : n.slots()) {
                final String entry = sl.entry() instanceof Vma v
                        ? s.rel(v.vmStart) + " " + s.rel(v.vmEnd) + " " + perms(v.vmFlags)
                        : null;
                slots.add(new ScriptApi.Slot(hex(sl.first()), hex(sl.last()), sl.child(), entry));
            }
            nodes.add(new ScriptApi.Node(
                    n.id(),
                    n.parent(),
                    n.type(),
                    hex(n.min()),
                    hex(n.max()),
                    slots,
                    n.gaps().stream().map(Snapshots::hex).toList()));
        }
        return new ScriptApi.Maple(mm.mmMt().height(), nodes);
    }

    static ScriptApi.Walk walk(final ScriptSession s, final MmStruct mm, final long va) {
        final List<ScriptApi.Level> levels = new ArrayList<>();
        final List<WalkStep> steps = mm.pageTables().walk(va);
        final int root = steps.isEmpty() ? 0 : steps.get(0).level();
        for (final WalkStep w : steps) {
            final String name = w.level() == root ? "pgd" : LEVEL_NAMES[w.level()];
            levels.add(new ScriptApi.Level(
                    w.level(),
                    name,
                    (w.levelShift() + w.indexBits() - 1) + ":" + w.levelShift(),
                    w.index(),
                    hex(w.tablePfn()),
                    String.format("0x%016x", w.entry()),
                    w.decoded(),
                    Arrays.asList(w.decoded().split(" "))));
        }
        return new ScriptApi.Walk(hex(va), s.rel(va), levels);
    }

    static List<ScriptApi.CpuTlb> tlbs(final ScriptSession s) {
        final List<ScriptApi.CpuTlb> out = new ArrayList<>();
        final boolean arm = s.parentMm().machine().arch().name().startsWith("arm");
        for (final Cpu c : s.parentMm().machine().cpus()) {
            final List<ScriptApi.TlbLine> lines = new ArrayList<>();
            for (final TlbEntry e : c.mmu().tlbEntries()) {
                lines.add(
                        new ScriptApi.TlbLine(hex(e.va()), s.rel(e.va()), e.tag(), e.global(), hex(e.pa()), e.perms()));
            }
            out.add(new ScriptApi.CpuTlb(
                    c.id(), arm ? "ASID" : "PCID", c.mmu().tlbHits(), c.mmu().tlbMisses(), lines));
        }
        return out;
    }

    static ScriptApi.Locks locks(final ScriptSession s, final MmStruct mm) {
        final RwSemaphore sem = mm.mmapLock().rwsem();
        final long c = sem.count();
        final int seq = mm.mmapLock().lockSeq();
        final ScriptApi.MmapLockState lock = new ScriptApi.MmapLockState(
                String.format("0x%x", c),
                (c & RwSemaphore.RWSEM_READER_MASK & ~RwSemaphore.RWSEM_FLAG_READFAIL)
                        >>> RwSemaphore.RWSEM_READER_SHIFT,
                (c & RwSemaphore.RWSEM_WRITER_LOCKED) != 0,
                (c & RwSemaphore.RWSEM_FLAG_WAITERS) != 0,
                (c & RwSemaphore.RWSEM_FLAG_HANDOFF) != 0,
                sem.waiterCount(),
                seq);
        final List<ScriptApi.VmaLockState> vmas = new ArrayList<>();
        for (final Vma v : arenaVmas(s, mm)) {
            vmas.add(new ScriptApi.VmaLockState(
                    s.rel(v.vmStart) + " " + s.rel(v.vmEnd) + " " + perms(v.vmFlags),
                    v.refcnt(),
                    v.lockSeq(),
                    VmaLock.isWriteLocked(v)));
        }
        return new ScriptApi.Locks(lock, vmas);
    }

    static Map<String, Long> vmstat(final MmStruct mm) {
        final Map<String, Long> out = new LinkedHashMap<>();
        for (final Map.Entry<VmEvent, Long> e : mm.machine().vmstat().snapshot().entrySet()) {
            out.put(e.getKey().kernelName(), e.getValue());
        }
        return out;
    }

    static String hex(final long v) {
        return "0x" + Long.toHexString(v);
    }
}
