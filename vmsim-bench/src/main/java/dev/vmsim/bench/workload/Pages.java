package dev.vmsim.bench.workload;

import dev.vmsim.core.mm.Errno;
import dev.vmsim.core.mm.Mman;
import java.util.SplittableRandom;

/** Constants and helpers the workloads share. */
final class Pages {
    static final int RW = Mman.PROT_READ | Mman.PROT_WRITE;
    static final int ANON = Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS;
    /** Frames for the kernel's own use beyond the workload's pages: upper page-table levels, zero page, slack. */
    static final long SLACK_FRAMES = 4096;

    private Pages() {}

    /**
     * Data pages plus the PTE pages that map them (one per 512 pages on 4K, more pages per table on
     * larger pages; doubled for misalignment) and slack.
     */
    static long framesFor(final long dataPages) {
        return dataPages + dataPages / 256 + SLACK_FRAMES;
    }

    /** A setup mmap's address; throws when it failed, as a workload cannot go on without its mapping. */
    static long mapped(final long ret, final String what) {
        if (Errno.isError(ret)) {
            throw new IllegalStateException(what + ": mmap failed with " + Errno.name(ret));
        }
        return ret;
    }

    /** Task {@code index}'s random stream: independent of the other tasks', reproducible from the seed. */
    static SplittableRandom random(final long seed, final int index) {
        return new SplittableRandom(seed * 0x9E3779B97F4A7C15L + index);
    }

    /** Fisher-Yates shuffle of {@code a} in place. */
    static void shuffle(final int[] a, final SplittableRandom random) {
        for (int i = a.length - 1; i > 0; i--) {
            final int j = random.nextInt(i + 1);
            final int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }

    /** 0, 1, ..., n-1. */
    static int[] identity(final int n) {
        final int[] a = new int[n];
        for (int i = 0; i < n; i++) {
            a[i] = i;
        }
        return a;
    }
}
