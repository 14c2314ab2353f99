package dev.vmsim.app.serve;

import dev.vmsim.core.Machine;
import dev.vmsim.core.arch.Arch;
import dev.vmsim.core.arch.TlbEntry;
import dev.vmsim.core.clock.Barrier;
import dev.vmsim.core.clock.CostModel;
import dev.vmsim.core.clock.SchedulePolicy;
import dev.vmsim.core.clock.SimulationDeadlock;
import dev.vmsim.core.clock.Stepper;
import dev.vmsim.core.clock.VirtualCpu;
import dev.vmsim.core.clock.VirtualScheduler;
import dev.vmsim.core.cpu.Cpu;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.lock.VmaLock;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.Mman;
import dev.vmsim.core.mm.Vma;
import dev.vmsim.core.sync.RwSemaphore;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs one two-CPU scenario of a shared mm under the virtual clock with a seeded schedule
 * ({@link SchedulePolicy#randomDelays}) and records the machine at each event through the {@link Stepper}.
 * Each CPU first sets up (cpu0 maps the memory) and both meet at a {@link Barrier}; the recording
 * starts after it, so the steps are the race itself. A function of the request alone: the schedule
 * is the seed's, and nothing of the host enters the steps.
 */
final class Interleavings {
    /** The largest seed a request may give. */
    static final long MAX_SEED = Integer.MAX_VALUE;
    /** Stops recorded per run; the rest of a longer run runs unseen. */
    static final int MAX_STEPS = 2000;

    /**
     * The schedules: earliest virtual clock first, with a delay injected at a fifth of the preemption
     * points, up to 2 us (as the exploration of BUG-03 uses): the CPUs advance in virtual time, as
     * real ones would, and the seed moves one against the other by a few kernel steps.
     */
    static final double DELAY_PROBABILITY = 0.2;

    static final long MAX_DELAY_NS = 2_000;

    /** The last point of a CPU in a spin-wait loop (an rwsem's optimistic spin on its owner). */
    private static final String SPIN = "spin";

    private static final long BASE = 0x7f00_0000_0000L;
    /** The stack sits 1 GiB above the heap: clear of stack_guard_gap (256 pages), so it may grow. */
    private static final long STACK = BASE + (1L << 30);

    private static final long FRAMES = 1 << 14;

    private Interleavings() {}

    /** What each CPU of a scenario does on the shared mm (cpu0 has set up {@code BASE} first). */
    private interface Body {
        String run(MmStruct mm, Cpu cpu);
    }

    /** A scenario: cpu0's setup, then each CPU's race. */
    private record Scenario(InterleavingApi.Scenario api, Body setup, Body cpu0, Body cpu1) {}

    private static final long PAGES = 4;

    private static final List<Scenario> SCENARIOS = List.of(
            new Scenario(
                    new InterleavingApi.Scenario(
                            "fault-vs-munmap",
                            "cpu0 writes 4 pages of an anonymous mapping, faulting each in; cpu1 munmaps the mapping",
                            List.of(
                                    "write each page of 0x7f0000000000 (do_anonymous_page)",
                                    "munmap 0x7f0000000000 16 KiB")),
                    (mm, c) -> "mmap "
                            + result(mm.mmap(
                                    BASE,
                                    PAGES * mm.pageSize(),
                                    Mman.PROT_READ | Mman.PROT_WRITE,
                                    Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS | Mman.MAP_FIXED)),
                    (mm, c) -> touch(mm, c, BASE, PAGES),
                    (mm, c) -> "munmap " + result(mm.munmap(BASE, PAGES * mm.pageSize()))),
            new Scenario(
                    new InterleavingApi.Scenario(
                            "stack-expansion-vs-fault",
                            "cpu0 writes below a MAP_GROWSDOWN stack (expand_stack under the mmap write lock); cpu1 faults"
                                    + " in the pages of another mapping",
                            List.of(
                                    "write one page below the stack's vm_start (expand_stack)",
                                    "write each page of the heap mapping (do_anonymous_page)")),
                    (mm, c) -> "mmap "
                            + result(mm.mmap(
                                    STACK,
                                    2 * mm.pageSize(),
                                    Mman.PROT_READ | Mman.PROT_WRITE,
                                    Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS | Mman.MAP_FIXED | Mman.MAP_GROWSDOWN))
                            + ", mmap "
                            + result(mm.mmap(
                                    BASE,
                                    PAGES * mm.pageSize(),
                                    Mman.PROT_READ | Mman.PROT_WRITE,
                                    Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS | Mman.MAP_FIXED)),
                    (mm, c) -> "write below the stack " + signal(c.store(STACK - mm.pageSize(), (byte) 1)),
                    (mm, c) -> touch(mm, c, BASE, PAGES)));

    static List<InterleavingApi.Scenario> catalogue() {
        return SCENARIOS.stream().map(Scenario::api).toList();
    }

    private static Scenario find(final String name) {
        for (final Scenario s : SCENARIOS) {
            if (s.api().name().equals(name)) {
                return s;
            }
        }
        return null;
    }

    /** The scenario's name if it is one, else the 400 naming {@code scenario}. */
    static String checkScenario(final String name) {
        if (name == null) {
            throw ApiException.badField("scenario", "missing (known: " + names() + ")");
        }
        if (find(name) == null) {
            throw ApiException.badField("scenario", "unknown scenario '" + name + "' (known: " + names() + ")");
        }
        return name;
    }

    private static String names() {
        return String.join(", ", SCENARIOS.stream().map(s -> s.api().name()).toList());
    }

    private static String touch(final MmStruct mm, final Cpu cpu, final long from, final long pages) {
        final StringBuilder out = new StringBuilder("write");
        for (long i = 0; i < pages; i++) {
            out.append(' ').append(signal(cpu.store(from + i * mm.pageSize(), (byte) 1)));
        }
        return out.toString();
    }

    private static String result(final long r) {
        return r < 0 ? "-errno " + -r : "ok";
    }

    private static String signal(final int sig) {
        return sig == 0 ? "ok" : "SIGSEGV";
    }

    /**
     * Runs {@code scenario} and records it; {@code deadlineNanos} (System.nanoTime) bounds the
     * recording, after which the run goes to its end unseen, as past the step cap.
     */
    static InterleavingApi.Response run(
            final String scenario,
            final Arch arch,
            final LockingMode mode,
            final long seed,
            final CostModel costs,
            final long deadlineNanos) {
        final Scenario sc = find(scenario);
        final SchedulePolicy policy = SchedulePolicy.randomDelays(seed, DELAY_PROBABILITY, MAX_DELAY_NS);
        final VirtualScheduler vs = new VirtualScheduler(costs, policy);
        final Machine machine = new Machine(arch, FRAMES, 2, vs);
        final MmStruct mm = new MmStruct(machine, mode);
        final Cpu c0 = machine.newCpu();
        final Cpu c1 = machine.newCpu();
        // Written by the barrier's last arriver before it releases anyone; read by the stepping
        // predicate on the task threads, which the scheduler's baton orders after that write.
        final boolean[] raced = {false};
        final Barrier start = new Barrier(2, () -> raced[0] = true);
        final String[] results = {"", ""};
        vs.spawn("cpu0", () -> {
            c0.switchMm(mm);
            final String setup = sc.setup().run(mm, c0);
            start.arriveAndAwait();
            results[0] = setup + "; " + sc.cpu0().run(mm, c0);
        });
        vs.spawn("cpu1", () -> {
            c1.switchMm(mm);
            start.arriveAndAwait();
            results[1] = sc.cpu1().run(mm, c1);
        });
        final Stepper st = new Stepper(vs);
        final Map<Thread, String> names = new HashMap<>();
        final List<InterleavingApi.Step> steps = new ArrayList<>();
        boolean truncated = false;
        String outcome = "done";
        try {
            Stepper.Position p;
            while ((p = st.runUntil(q -> raced[0])) != null) {
                if (names.isEmpty()) {
                    vs.cpus().forEach(c -> names.put(c.thread(), c.name()));
                }
                steps.add(step(steps.size(), p, st, names, mm, machine));
                if (steps.size() >= MAX_STEPS || System.nanoTime() - deadlineNanos > 0) {
                    truncated = true;
                    st.runToEnd();
                    break;
                }
            }
        } catch (SimulationDeadlock e) {
            outcome = "deadlock: " + e.getMessage();
        }
        return new InterleavingApi.Response(
                scenario,
                arch.name(),
                mode.cliName(),
                seed,
                policy.describe(),
                steps,
                truncated,
                outcome,
                List.of("cpu0: " + results[0], "cpu1: " + results[1]));
    }

    private static InterleavingApi.Step step(
            final int index,
            final Stepper.Position p,
            final Stepper st,
            final Map<Thread, String> names,
            final MmStruct mm,
            final Machine machine) {
        final List<InterleavingApi.Lane> lanes = new ArrayList<>();
        final Map<String, String> waits = new HashMap<>();
        for (final Stepper.CpuState c : st.cpus()) {
            // At a PARK stop the CPU is about to block: its wait is the event's, not yet its state's.
            // A woken CPU keeps its blocker until it runs again; it is RUNNABLE, no longer waiting.
            final String wait = c.state() == VirtualCpu.State.PARKED && c.blocker() != null
                    ? c.blocker()
                    : p.kind() == Stepper.Kind.PARK && p.cpu() == c.id()
                            ? p.what()
                            : c.state() == VirtualCpu.State.RUNNABLE && SPIN.equals(c.lastPoint()) ? "spinning" : null;
            if (wait != null) {
                waits.put(c.name(), wait);
            }
            lanes.add(new InterleavingApi.Lane(c.name(), c.state().name(), c.clockNs(), wait, c.lastPoint()));
        }
        final List<InterleavingApi.Lock> locks = new ArrayList<>();
        locks.add(mmapLock(mm, names));
        final List<String> mmapHolders = locks.get(0).holders();
        final String writer = mm.mmapLock().isWriteLocked() && !mmapHolders.isEmpty() ? mmapHolders.get(0) : null;
        final List<String> maps = new ArrayList<>();
        for (final Vma v : mm.vmas()) {
            final String line =
                    Snapshots.hex(v.vmStart) + "-" + Snapshots.hex(v.vmEnd) + " " + Snapshots.perms(v.vmFlags);
            maps.add(line);
            locks.add(vmaLock(line, v, writer, waits));
        }
        final List<InterleavingApi.CpuTlb> tlbs = new ArrayList<>();
        for (final Cpu c : machine.cpus()) {
            final List<String> entries = new ArrayList<>();
            for (final TlbEntry e : c.mmu().tlbEntries()) {
                entries.add(Snapshots.hex(e.va()) + " -> " + Snapshots.hex(e.pa()) + " " + e.perms());
            }
            tlbs.add(new InterleavingApi.CpuTlb("cpu" + c.id(), entries));
        }
        return new InterleavingApi.Step(
                index, p.cpuName(), p.kind().name(), p.what(), p.clockNs(), lanes, locks, maps, tlbs);
    }

    /** mmap_lock's rwsem: the writer by its owner field, readers by the count, waiters in queue order. */
    private static InterleavingApi.Lock mmapLock(final MmStruct mm, final Map<Thread, String> names) {
        final RwSemaphore sem = mm.mmapLock().rwsem();
        final long c = sem.count();
        final boolean write = (c & RwSemaphore.RWSEM_WRITER_LOCKED) != 0;
        final int readers = (int) ((c & RwSemaphore.RWSEM_READER_MASK & ~RwSemaphore.RWSEM_FLAG_READFAIL)
                >>> RwSemaphore.RWSEM_READER_SHIFT);
        // The writer sets the owner field just after its count CAS and clears it just before its
        // release; in those windows the field is empty or still a reader's hint (RWSEM_READER_OWNED),
        // and the holder is not known from the lock alone.
        final String writer = write && !sem.isReaderOwned() ? names.get(sem.owner()) : null;
        final List<String> holders = writer != null ? List.of(writer) : List.of();
        final String[] queue = new String[names.size()];
        names.forEach((t, n) -> {
            final int at = sem.waiterPosition(t);
            if (at >= 0 && at < queue.length) {
                queue[at] = n;
            }
        });
        final List<String> waiters = new ArrayList<>();
        for (final String n : queue) {
            if (n != null) {
                waiters.add(n);
            }
        }
        final String state = (write ? "write-locked" : readers > 0 ? "read-locked" : "unlocked")
                + (write && writer == null ? ", owner field not set" : "");
        return new InterleavingApi.Lock(
                "mmap_lock", state + String.format(" (count 0x%x)", c), holders, readers, waiters);
    }

    /**
     * A VMA's lock, vm_refcnt: 1 attached, +1 per reader, the exclude-readers flag while a writer
     * (the mmap_lock writer, vma_start_write) waits in rcuwait for the readers to leave; a CPU
     * parked on vma_writer_wait waits on the VMA whose flag is set.
     */
    private static InterleavingApi.Lock vmaLock(
            final String line, final Vma v, final String mmapWriter, final Map<String, String> waits) {
        final int r = v.refcnt();
        final boolean excluding = (r & VmaLock.VM_REFCNT_EXCLUDE_READERS_FLAG) != 0;
        final int readers = Math.max(0, (r & ~VmaLock.VM_REFCNT_EXCLUDE_READERS_FLAG) - 1);
        final boolean writeLocked = VmaLock.isWriteLocked(v);
        final List<String> holders = new ArrayList<>();
        if (writeLocked && mmapWriter != null) {
            holders.add(mmapWriter);
        }
        final List<String> waiters = new ArrayList<>();
        if (excluding) {
            waits.forEach((cpu, w) -> {
                if (w.equals("vma_writer_wait")) {
                    waiters.add(cpu);
                }
            });
            waiters.sort(null);
        }
        final String state =
                (writeLocked ? "write-locked" : readers > 0 ? "read-locked" : r == 0 ? "detached" : "unlocked")
                        + (excluding ? ", excluding readers" : "") + " (vm_refcnt 0x" + Integer.toHexString(r) + ")";
        return new InterleavingApi.Lock("vma " + line, state, holders, readers, waiters);
    }
}
