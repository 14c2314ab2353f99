package dev.vmsim.arch.x86;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.mm.GuardFaultRoundTrip;
import dev.vmsim.core.swap.PteMarker;
import dev.vmsim.core.swap.SwpEntry;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * FAULT-14 on this architecture: a guard marker (a swap PTE of type SWP_PTE_MARKER) is a
 * not-present entry to the hardware walker, and the fault handler reports handle_pte_marker's
 * VM_FAULT_SIGSEGV as SIGSEGV with SEGV_MAPERR in every locking mode.
 */
class X86GuardFaultTest {
    @ParameterizedTest
    @EnumSource(LockingMode.class)
    void aGuardPageIsSegvMaperr(final LockingMode mode) {
        final List<String> lines = GuardFaultRoundTrip.run(new X86Arch(), mode);
        assertTrue(
                String.join("\n", lines)
                        .contains("do_swap_page pte marker guard, handle pte marker guard: VM_FAULT_SIGSEGV"),
                String.join("\n", lines));
    }

    @Test
    void theMarkerFitsTheSwapPteLayout() {
        final X86PageTableFormat fmt = X86PageTableFormat.FOUR_LEVEL;
        final long pte = fmt.makePteMarker(PteMarker.PTE_MARKER_GUARD);
        assertTrue(!fmt.pteNone(pte) && !fmt.ptePresent(pte) && fmt.isSwapPte(pte));
        assertTrue(fmt.swapPteType(pte) == SwpEntry.SWP_PTE_MARKER
                && fmt.swapPteOffset(pte) == PteMarker.PTE_MARKER_GUARD);
        assertTrue(fmt.isGuardPteMarker(pte) && fmt.isPteMarker(pte) && !fmt.isSwapSlotPte(pte));
        assertEquals("pte marker guard", fmt.describe(pte, 0), "the walk dump names the marker");
    }
}
