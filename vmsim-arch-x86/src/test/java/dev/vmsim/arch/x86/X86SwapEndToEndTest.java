package dev.vmsim.arch.x86;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.swap.SwapRoundTrip;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A page swapped out and back in through the x86-64 MMU and do_user_addr_fault, data intact. */
class X86SwapEndToEndTest {
    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void aSwappedPageReadsBackAndTheTraceShowsEachStep() {
        final List<String> lines = SwapRoundTrip.run(new X86Arch());
        assertEquals(1, lines.size(), String.join("\n", lines));
        assertTrue(
                lines.get(0)
                        .contains("-> lock_vma_under_rcu: locked -> handle_mm_fault(USER|VMA_LOCK): do_swap_page "
                                + "swap type=0 offset=0x1 exclusive, swap cache miss, vma lock dropped, io wait read in flight, retry -> MAJOR|RETRY"
                                + " -> lock_mm_and_find_vma: found -> handle_mm_fault(TRIED|USER): do_swap_page swap type=0 offset=0x1 exclusive, "
                                + "swap cache hit, locked, mapped writable, stays in swap cache -> 0"),
                lines.get(0));
    }
}
