package dev.vmsim.arch.arm64;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.swap.SwapRoundTrip;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A page swapped out and back in through the arm64 MMU and do_page_fault, data intact. */
class Arm64SwapEndToEndTest {
    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void aSwappedPageReadsBackAndTheTraceShowsEachStep() {
        final List<String> lines = SwapRoundTrip.run(new Arm64Arch());
        assertTrue(
                lines.get(0)
                        .contains("do_swap_page swap type=0 offset=0x1 exclusive, swap cache miss, vma lock dropped, "
                                + "io wait read in flight, retry -> MAJOR|RETRY"),
                lines.get(0));
        assertTrue(
                lines.get(0)
                        .contains(
                                "(TRIED|USER): do_swap_page swap type=0 offset=0x1 exclusive, swap cache hit, locked, "
                                        + "mapped writable, stays in swap cache -> 0"),
                lines.get(0));
    }
}
