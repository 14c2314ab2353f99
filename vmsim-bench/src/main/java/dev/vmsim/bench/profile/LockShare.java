package dev.vmsim.bench.profile;

import java.util.List;
import java.util.Locale;

/**
 * The share of one mmap+munmap pair of mmap1 (one thread) that the kernel spends holding the
 * mmap_lock, per call: {@code mmap} while do_mmap runs under mmap_write_lock, {@code munmap} while
 * do_vmi_munmap holds it for write and, after mmap_write_downgrade, for read. The rest of the pair
 * (the user/kernel transitions, vm_mmap_pgoff and __vm_munmap outside the lock) runs in parallel with
 * another thread's critical section; these shares do not. {@link ResidualFit#mmapOther} splits the
 * fitted residuals by them.
 *
 * @param mmap fraction of the pair's time, 0..1
 * @param munmap fraction of the pair's time, 0..1; {@code mmap + munmap <= 1}
 * @param source how the shares were measured, for the fitted parameters' sources
 */
public record LockShare(double mmap, double munmap, String source) {
    public LockShare {
        if (!(mmap >= 0 && munmap >= 0 && mmap + munmap <= 1)) {
            throw new IllegalArgumentException("not a share of one pair: mmap " + mmap + ", munmap " + munmap);
        }
    }

    /** The pair's share under the lock. */
    public double locked() {
        return mmap + munmap;
    }

    /**
     * The median of each share over repeated traces, with the spread of the total in the source: a
     * VM's costs drift, so one trace is not the figure.
     */
    public static LockShare median(final List<LockShare> traces) {
        if (traces.isEmpty()) {
            throw new IllegalArgumentException("no traces");
        }
        final double[] total = traces.stream().mapToDouble(LockShare::locked).toArray();
        final Spread t = Spread.of(total);
        final LockShare first = traces.get(0);
        return new LockShare(
                Spread.of(traces.stream().mapToDouble(LockShare::mmap).toArray())
                        .median(),
                Spread.of(traces.stream().mapToDouble(LockShare::munmap).toArray())
                        .median(),
                traces.size() == 1
                        ? first.source()
                        : String.format(
                                Locale.ROOT,
                                "median of %d traces (locked share min %.3f, median %.3f, max %.3f); the first: %s",
                                traces.size(),
                                t.min(),
                                t.median(),
                                t.max(),
                                first.source()));
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "mmap %.3f + munmap %.3f = %.3f", mmap, munmap, locked());
    }
}
