package dev.vmsim.bench.jmh;

import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The host's cost of zeroing and copying one 4 KiB page ({@code zero_page_4k}, {@code
 * copy_page_4k} of a machine profile), as the JIT's fill and copy intrinsics do it. The buffers
 * rotate over {@code span} bytes: 4 KiB keeps one page in L1 (the lower bound); 64 MiB makes each
 * page a cold one, as a newly allocated frame is for clear_page.
 *
 * <pre>
 * java -jar vmsim-bench/target/benchmarks.jar PageOpsBench -f 1 -wi 3 -w 1s -i 5 -r 1s
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class PageOpsBench {
    private static final int PAGE = 4096;

    @Param({"4096", "67108864"})
    public int span;

    private byte[] dst;
    private byte[] src;
    private int at;

    @Setup
    public void setup() {
        dst = new byte[span];
        src = new byte[span];
        Arrays.fill(src, (byte) 1);
    }

    private int next() {
        final int off = at;
        at = off + PAGE == span ? 0 : off + PAGE;
        return off;
    }

    @Benchmark
    public byte[] zeroPage4k() {
        final int off = next();
        Arrays.fill(dst, off, off + PAGE, (byte) 0);
        return dst;
    }

    @Benchmark
    public byte[] copyPage4k() {
        final int off = next();
        System.arraycopy(src, off, dst, off, PAGE);
        return dst;
    }
}
