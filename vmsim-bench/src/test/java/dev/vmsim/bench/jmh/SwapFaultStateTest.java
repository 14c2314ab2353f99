package dev.vmsim.bench.jmh;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.stat.VmEvent;
import dev.vmsim.core.stat.VmStat;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What one operation of {@link SwapFaultBench} is: its state's faults, each a major fault that
 * reads the page's own data back (or, for the swap-cache hit, a fault through do_swap_page that
 * is not major), with no I/O retry, round after round as the benchmark's invocations repeat.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SwapFaultStateTest {
    private static final int PAGES = 96;

    private static long sumOfExpected() {
        long sum = 0;
        for (int i = 0; i < PAGES; i++) {
            sum += SwapFaultState.expected(i);
        }
        return sum;
    }

    @ParameterizedTest
    @ValueSource(strings = {"x86_64", "arm64"})
    void eachMeasuredFaultIsOneMajorFaultThatReadsThePageBack(final String arch) {
        try (SwapFaultState s = new SwapFaultState(arch, LockingMode.PER_VMA, PAGES)) {
            final VmStat vm = s.machine().vmstat();
            for (int round = 0; round < 3; round++) {
                s.swapOutAll();
                assertEquals(PAGES, s.mm().swapEnts(), "round " + round + ": every page a swap PTE");
                assertEquals(0, s.mm().anonRss());
                final long maj = vm.get(VmEvent.PGMAJFAULT);
                final long flt = vm.get(VmEvent.PGFAULT);
                final long in = vm.get(VmEvent.PSWPIN);
                final long retry = vm.get(VmEvent.VMA_LOCK_RETRY);
                assertEquals(sumOfExpected(), s.faultAll(), "each page's own byte");
                assertEquals(PAGES, vm.get(VmEvent.PGMAJFAULT) - maj, "round " + round + ": pgmajfault per op");
                assertEquals(PAGES, vm.get(VmEvent.PGFAULT) - flt, "one fault per op");
                assertEquals(PAGES, vm.get(VmEvent.PSWPIN) - in, "one read per op, no readahead");
                assertEquals(
                        0, vm.get(VmEvent.VMA_LOCK_RETRY) - retry, "the zero-latency read never makes the fault retry");
                assertEquals(PAGES, s.mm().anonRss());
                assertEquals(0, s.mm().swapEnts());
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"x86_64", "arm64"})
    void aSwapCacheHitFaultsThroughDoSwapPageWithoutAMajorFault(final String arch) {
        try (SwapFaultState s = new SwapFaultState(arch, LockingMode.PER_VMA, PAGES)) {
            final VmStat vm = s.machine().vmstat();
            for (int round = 0; round < 2; round++) {
                s.swapOutAll();
                final long in = vm.get(VmEvent.PSWPIN);
                s.readIntoSwapCache();
                assertEquals(PAGES, vm.get(VmEvent.PSWPIN) - in, "the setup read every page");
                assertEquals(PAGES, s.mm().swapEnts(), "and mapped none");
                final long maj = vm.get(VmEvent.PGMAJFAULT);
                final long flt = vm.get(VmEvent.PGFAULT);
                assertEquals(sumOfExpected(), s.faultAll());
                assertEquals(0, vm.get(VmEvent.PGMAJFAULT) - maj, "round " + round + ": no major fault");
                assertEquals(PAGES, vm.get(VmEvent.PGFAULT) - flt, "one fault per op");
                assertEquals(PAGES, vm.get(VmEvent.PSWPIN) - in, "no read in the faults");
                assertEquals(0, s.mm().swapEnts(), "every swap PTE was faulted through do_swap_page");
            }
        }
    }
}
