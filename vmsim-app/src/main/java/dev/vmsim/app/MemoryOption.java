package dev.vmsim.app;

import dev.vmsim.bench.MemoryLimits;
import dev.vmsim.core.phys.Memparse;
import dev.vmsim.core.swap.SwapParams;
import picocli.CommandLine;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/**
 * {@code --mem SIZE} and {@code --swap SIZE}, as run, compare and script take them (a picocli
 * mixin): the machine's memory and its swap device, sizes as memparse reads them (512M, 2G, 65536K,
 * plain bytes).
 */
final class MemoryOption {
    @Option(
            names = "--mem",
            paramLabel = "SIZE",
            converter = SizeConverter.class,
            description = "The machine's memory, e.g. 64M or 2G (default: as much as the workload touches, so"
                    + " nothing is reclaimed). Below it kswapd and direct reclaim run; with no swap, the OOM killer.")
    Long mem;

    @Option(
            names = "--swap",
            paramLabel = "SIZE",
            converter = SizeConverter.class,
            description = "A swap device of SIZE, e.g. 128M (default: none). 4K reads take 77 us, writes 18 us, 32"
                    + " in flight (an Intel DC P4510's datasheet latencies).")
    Long swap;

    /**
     * The limits for a machine of PAGE_SIZE {@code pageSize} running {@code threads} tasks.
     *
     * @throws CommandLine.ParameterException one line (exit status 2): a --mem below the boot minimum,
     *     a --swap below a header and one slot, a --swap the host cannot back
     */
    MemoryLimits limits(final CommandLine cl, final int threads, final long pageSize) {
        final long memBytes = mem == null ? 0 : mem;
        final long swapBytes = swap == null ? 0 : swap;
        if (mem != null) {
            final long frames = memBytes / pageSize;
            final long need = MemoryLimits.bootFrames(frames, threads, pageSize);
            if (frames < need) {
                throw new CommandLine.ParameterException(
                        cl,
                        "--mem " + memBytes + " bytes is below the "
                                + need * pageSize / 1024 + "K the machine needs to boot " + threads
                                + " task(s) (the zero page,"
                                + " the min watermark, page tables, a stack and a data page each)");
            }
        }
        if (swap != null) {
            if (swapBytes != 0 && swapBytes / pageSize < 2) {
                throw new CommandLine.ParameterException(
                        cl,
                        "--swap " + swapBytes + " bytes is below the 2 pages (" + 2 * pageSize / 1024
                                + "K) a swap device needs: its header and one slot");
            }
            checkHostBacks(cl, swapBytes, pageSize, Runtime.getRuntime().maxMemory());
        }
        return new MemoryLimits(memBytes, swapBytes);
    }

    /** A --swap the Java heap could not hold when full ({@link SwapParams#hostCanBack}) is refused. */
    static void checkHostBacks(final CommandLine cl, final long swapBytes, final long pageSize, final long maxHeap) {
        if (!SwapParams.hostCanBack(swapBytes, pageSize, maxHeap)) {
            throw new CommandLine.ParameterException(
                    cl,
                    "--swap " + swapBytes + " bytes is larger than this host"
                            + " can back: the swap store lives on the Java heap, whose limit (Runtime.maxMemory) is "
                            + maxHeap + " bytes; give a smaller --swap or a larger -Xmx in VMSIM_JAVA_OPTS");
        }
    }

    static final class SizeConverter implements ITypeConverter<Long> {
        @Override
        public Long convert(final String value) {
            try {
                return Memparse.parse(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }
}
