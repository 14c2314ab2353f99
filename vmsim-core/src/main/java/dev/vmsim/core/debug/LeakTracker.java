package dev.vmsim.core.debug;

import dev.vmsim.core.Machine;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.phys.FolioWait;
import dev.vmsim.core.swap.Swap;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The leak check's machine side (OOM-10), modelled on the kernel's userland harnesses: the maple
 * test prints {@code nr_allocated} at exit and the VMA tests run under LeakSanitizer with
 * {@code check_nomem}; kmemleak is the in-kernel equivalent. Here a test's machines are torn down
 * the way process exit tears an address space down, and then every {@link LeakCounts} count must be
 * back where it was when the machine was built.
 *
 * <h2>Assumptions and guarantees</h2>
 * <ul>
 *   <li><b>Debug only.</b> {@link #ENABLED} with {@code -Dvmsim.leakcheck=true} (surefire sets it).
 *       Otherwise no machine is recorded and {@link Machine#close} does nothing extra.
 *   <li><b>Every machine built while enabled</b> is recorded, whatever thread built it, until
 *       {@link #takeCreated}; the build runs one test at a time per JVM, so the machines taken after
 *       a test are the ones it built (its own threads' included).
 *   <li><b>Teardown only when quiescent</b>: {@link #teardown} runs exit on every live mm; a task
 *       still running on the machine would race it. A test that leaves one opts out (the JUnit
 *       side's {@code @LeakCheck.Skip}), which sets {@link #setSkipping} so that its own {@code
 *       close()} does not tear down either.
 * </ul>
 */
public final class LeakTracker {
    /** Read once: the leak check is on for this JVM. */
    public static final boolean ENABLED = Boolean.getBoolean("vmsim.leakcheck");

    /** How many of a test's machines {@link #CREATED} holds strongly; the rest weakly. */
    private static final int STRONG = 64;

    /**
     * The first {@link #STRONG} machines strongly, so that one a test held only in a local variable
     * is still checked; the rest weakly, so that a test that builds many and drops them (the
     * server's load test builds one per request) does not keep them all alive: of those, the ones
     * the garbage collector has not taken yet are checked.
     */
    private static final List<Object> CREATED = new ArrayList<>();

    private static volatile boolean skipping;

    private LeakTracker() {}

    /** The creation hook: {@code machine} was just built. A machine's construction, never a fault. */
    public static void machineCreated(final Machine machine) {
        if (ENABLED) {
            synchronized (CREATED) {
                CREATED.add(CREATED.size() < STRONG ? machine : new WeakReference<>(machine));
            }
        }
    }

    /** The machines built since the last call and still reachable, in creation order; forgets them. */
    public static List<Machine> takeCreated() {
        synchronized (CREATED) {
            final List<Machine> out = new ArrayList<>();
            for (final Object o : CREATED) {
                final Machine m = o instanceof WeakReference<?> ref ? (Machine) ref.get() : (Machine) o;
                if (m != null) {
                    out.add(m);
                }
            }
            CREATED.clear();
            return out;
        }
    }

    /** While set, {@link Machine#close} leaves a machine as it is: the running test opted out. */
    public static void setSkipping(final boolean skip) {
        skipping = skip;
    }

    /** Should closing a machine now tear it down and record its counts? */
    public static boolean tearDownAtClose() {
        return ENABLED && !skipping;
    }

    /**
     * Tears {@code machine} down as the exit of all its processes would, then returns its counts:
     * kswapd stops, swap I/O in flight completes, every live mm drops its remaining mm_users
     * references (exit_mm → mmput → exit_mmap), the lru_add batches drain (lru_add_drain_all), and
     * the swap cache gives up every folio whose slot no PTE references any more, as reclaim would
     * (folio_free_swap). What is still allocated after that is leaked.
     * <b>Context:</b> quiescent: no task runs on the machine.
     */
    public static LeakCounts teardown(final Machine machine) {
        machine.vmscan().shutdown();
        final Swap swap = machine.swap();
        if (swap != null) {
            swap.drain();
        }
        for (final MmStruct mm : List.copyOf(machine.mms())) {
            while (mm.mmUsers() > 0) {
                mm.mmput();
            }
        }
        machine.vmscan().lruAddDrainAll();
        if (swap != null) {
            dropUnreferencedSwapCache(swap);
        }
        return machine.leakCounts();
    }

    /** How long {@link #teardownBounded} waits for exit to finish. */
    public static final long TEARDOWN_TIMEOUT_SECONDS = 10;

    /**
     * {@link #teardown} on a thread of its own, waited for at most {@link #TEARDOWN_TIMEOUT_SECONDS}:
     * a test that leaves a lock held would otherwise block its exit_mmap for ever, and the test's own
     * timeout no longer runs. The blocked thread is a daemon and is left behind.
     *
     * @throws IllegalStateException if exit did not finish in time, or failed
     */
    public static LeakCounts teardownBounded(final Machine machine) {
        final FutureTask<LeakCounts> task = new FutureTask<>(() -> teardown(machine));
        final Thread t = new Thread(task, "leak-check-exit");
        t.setDaemon(true);
        t.start();
        try {
            return task.get(TEARDOWN_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (final TimeoutException e) {
            throw new IllegalStateException("exit did not finish in " + TEARDOWN_TIMEOUT_SECONDS
                    + " s: a task still holds a lock or a reference the teardown waits for");
        } catch (final ExecutionException e) {
            throw new IllegalStateException("exit failed: " + e.getCause(), e.getCause());
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for exit", e);
        }
    }

    private static void dropUnreferencedSwapCache(final Swap swap) {
        final FolioWait folios = swap.machine().frames().folioWait();
        for (long offset = 0; offset < swap.info().pages(); offset++) {
            final long pfn = swap.cache().lookup(offset);
            if (pfn < 0 || !swap.machine().frames().tryGet(pfn)) {
                continue;
            }
            // Our own reference, as reclaim's isolation holds one: the folio is freed at our put,
            // after its unlock, never while locked.
            if (folios.trylock(pfn)) {
                try {
                    swap.folioFreeSwap(pfn);
                } finally {
                    folios.unlock(pfn);
                }
            }
            swap.folioPut(pfn);
        }
    }
}
