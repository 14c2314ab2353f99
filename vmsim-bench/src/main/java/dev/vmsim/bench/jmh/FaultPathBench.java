package dev.vmsim.bench.jmh;

import dev.vmsim.bench.KernelFactory;
import dev.vmsim.bench.SimKernel;
import dev.vmsim.bench.SimTask;
import dev.vmsim.core.arch.SigInfo;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.mm.Errno;
import dev.vmsim.core.mm.Mman;
import dev.vmsim.core.trace.FaultTrace;
import dev.vmsim.core.trace.TraceRecorder;
import dev.vmsim.core.trace.jfr.VmsimRecording;
import java.util.concurrent.TimeUnit;
import jdk.jfr.Recording;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One simulated anonymous write fault end to end: TLB miss, page-table walk, the arch fault
 * handler's dispatch, the lock (lock_vma_under_rcu or mmap_read_lock), the frame allocation and the
 * PTE install (do_anonymous_page), then the retried access. {@link #anonymousReadFault} is the same
 * fault for a load, which do_anonymous_page answers with the shared zero page (no frame allocated,
 * no LRU, no rmap): the minor faults of a machine with memory to spare.
 *
 * <p>Each invocation stores to the next untouched page of a 64 MiB mapping (16384 pages); when the
 * pages run out the invocation first zaps the whole mapping with MADV_DONTNEED, so one invocation
 * in 16384 also pays for a zap of 16384 pages (about one page's worth of zap_pte_range per fault).
 * A Level.Invocation setup would keep it out of the measurement but costs a timestamp pair per
 * invocation, more than the zap's share.
 *
 * <p>{@code trace} measures what tracing adds per fault: the per-CPU trace rings and JFR, each
 * against {@code off} (run with {@code -prof gc} to see that {@code off} allocates nothing).
 *
 * <p>Run: {@code java -jar vmsim-bench/target/benchmarks.jar FaultPathBench}
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class FaultPathBench {
    private static final long LEN = 64L << 20;
    /** The 4K machines the simulator factory builds by default. */
    private static final long FRAMES = (LEN >> 12) + 4096;

    @Param({"mmap-only", "per-vma", "per-vma-wait"})
    public String locking;

    @Param({"x86_64", "arm64"})
    public String arch;

    /**
     * off: no trace sink, no JFR recording (every event site is its disabled check); ring: a
     * per-CPU trace recorder whose consumer thread reads and discards every event (the cost of
     * recording, with bounded memory); jfr: an in-memory JFR recording of the vmsim events.
     */
    @Param({"off", "ring", "jfr"})
    public String trace;

    private TraceRecorder recorder;
    private Recording recording;

    private SimKernel kernel;
    private SimTask task;
    private long start;
    private long next;
    private long page;

    @Setup(Level.Trial)
    public void setUp() {
        final LockingMode mode = LockingMode.fromCliName(locking);
        kernel = KernelFactory.simulator().create(arch, mode, FRAMES, 2);
        page = kernel.pageSize();
        task = kernel.newTask();
        start = kernel.mmap(0, LEN, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS);
        if (Errno.isError(start)) {
            throw new IllegalStateException("mmap: " + Errno.name(start));
        }
        next = start;
        switch (trace) {
            case "ring":
                recorder = TraceRecorder.discarding();
                recorder.start();
                FaultTrace.install(recorder);
                break;
            case "jfr":
                recording = VmsimRecording.create();
                recording.setToDisk(false); // JFR's in-memory buffers: no disk traffic in the measurement
                recording.start();
                break;
            default:
                break;
        }
    }

    @Benchmark
    public int anonymousWriteFault() {
        if (next == start + LEN) {
            kernel.madvise(start, LEN, Mman.MADV_DONTNEED);
            next = start;
        }
        final int sig = task.store(next, (byte) 1);
        next += page;
        if (sig != SigInfo.OK) {
            throw new IllegalStateException(SigInfo.describe(sig));
        }
        return sig;
    }

    /** A load from the next untouched page: do_anonymous_page maps the zero page read-only. */
    @Benchmark
    public int anonymousReadFault() {
        if (next == start + LEN) {
            kernel.madvise(start, LEN, Mman.MADV_DONTNEED);
            next = start;
        }
        final int v = task.load(next);
        next += page;
        if (v != 0) {
            throw new IllegalStateException("load of an untouched anonymous page: " + v);
        }
        return v;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        FaultTrace.install(null);
        if (recorder != null) {
            recorder.close();
        }
        if (recording != null) {
            recording.close();
        }
        kernel.munmap(start, LEN);
        kernel.validate();
    }
}
