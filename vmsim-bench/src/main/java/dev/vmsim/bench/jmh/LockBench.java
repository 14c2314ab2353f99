package dev.vmsim.bench.jmh;

import dev.vmsim.arch.x86.X86Arch;
import dev.vmsim.core.Machine;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.lock.VmaLock;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.Vma;
import dev.vmsim.core.sync.Rcu;
import dev.vmsim.core.sync.RwSemaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.concurrent.locks.StampedLock;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Uncontended (1 thread) and read-shared (-t 2) read acquire+release: the simulator's rw_semaphore
 * against the JDK's ReentrantReadWriteLock and StampedLock, and the per-VMA read lock
 * (rcu_read_lock + vma_start_read + rcu_read_unlock + vma_end_read) on an attached VMA.
 *
 * <pre>
 * java -jar vmsim-bench/target/benchmarks.jar LockBench -f 1 -wi 2 -i 3 -w 1s -r 1s [-t 2]
 *     [-jvmArgsAppend -Dvmsim.lockdep=true]
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class LockBench {
    private final RwSemaphore rwsem = new RwSemaphore();
    private final ReentrantReadWriteLock rrwl = new ReentrantReadWriteLock();
    private final StampedLock stamped = new StampedLock();
    private MmStruct mm;
    private Vma vma;

    @Setup
    public void setup() {
        mm = new MmStruct(new Machine(new X86Arch(), 1 << 10, 1), LockingMode.PER_VMA);
        vma = new Vma();
        vma.vmMm = mm;
        vma.vmStart = 0x1000;
        vma.vmEnd = 0x2000;
        VmaLock.lockInit(vma, true);
        mm.mmapLock().writeLock();
        VmaLock.startWrite(vma);
        VmaLock.markAttached(vma);
        mm.mmapLock().writeUnlock();
    }

    @Benchmark
    public void rwsemRead() {
        rwsem.downRead();
        rwsem.upRead();
    }

    @Benchmark
    public void rrwlRead() {
        rrwl.readLock().lock();
        try {
            // an empty critical section: the benchmark measures lock and unlock, as rwsemRead does
        } finally {
            rrwl.readLock().unlock();
        }
    }

    @Benchmark
    public void stampedRead() {
        final long s = stamped.readLock();
        stamped.unlockRead(s);
    }

    @Benchmark
    public Vma vmaStartEndRead() {
        Rcu.readLock();
        final Vma v = VmaLock.startRead(mm, vma);
        if (v == null || v == VmaLock.EAGAIN) {
            return null; // not reached: nobody write-locks the VMA
        }
        Rcu.readUnlock();
        VmaLock.endRead(v);
        return v;
    }

    /** Diagnostic: the RCU read section alone (rcu_read_lock + rcu_read_unlock). */
    @Benchmark
    public void rcuReadSection() {
        Rcu.readLock();
        Rcu.readUnlock();
    }

    /**
     * Diagnostic: vma_start_read + vma_end_read without the RCU section around them (legal only
     * with lockdep off, where vma_start_read does not check rcu_read_lock_held): the VMA lock's own
     * cost.
     */
    @Benchmark
    public Vma vmaStartEndReadNoRcu() {
        final Vma v = VmaLock.startRead(mm, vma);
        if (v == null || v == VmaLock.EAGAIN) {
            return null;
        }
        VmaLock.endRead(v);
        return v;
    }
}
