package dev.vmsim.arch.x86;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.Machine;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.mm.Errno;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.Mman;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The LA57 address-space layout as x86-64 Linux has it: STACK_TOP, mmap_base and every search
 * without a hint stay below DEFAULT_MAP_WINDOW (2^47 - 4 KiB), exactly where 4-level paging puts
 * them; only a hint above the window reaches the 57-bit space (arch_get_unmapped_area_topdown,
 * mmap_address_hint_valid).
 */
class X86La57LayoutTest {
    private static final long P = 4096;
    private static final long WINDOW = (1L << 47) - P;
    private static final int RW = Mman.PROT_READ | Mman.PROT_WRITE;
    private static final int ANON = Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS;

    private final Machine la57 = new Machine(X86Arch.la57(), 1 << 10, 1);
    private final Machine fourLevel = new Machine(new X86Arch(), 1 << 10, 1);
    private final MmStruct mm = new MmStruct(la57, LockingMode.PER_VMA);

    @AfterEach
    void close() {
        mm.validate();
        la57.close();
        fourLevel.close();
    }

    @Test
    void stackTopAndMmapBaseAreThoseOfFourLevelPaging() {
        final MmStruct four = new MmStruct(fourLevel, LockingMode.PER_VMA);
        assertEquals((1L << 56) - P, mm.taskSize(), "TASK_SIZE_MAX grows with LA57");
        assertEquals(WINDOW, mm.mapWindow());
        assertEquals(four.mmapBase(), mm.mmapBase(), "mmap_base from task_size_64bit(0)");
        assertTrue(Long.compareUnsigned(mm.mmapBase(), WINDOW) < 0);
        assertEquals(four.startBrk(), mm.startBrk());
    }

    @Test
    void mappingsWithoutAHighHintStayBelowTheWindow() {
        final long a = mm.mmap(0, 16 * P, RW, ANON);
        assertEquals(mm.mmapBase() - 16 * P, a);
        final long stack = mm.mmap(0, 16 * P, RW, ANON | Mman.MAP_GROWSDOWN);
        assertTrue(Long.compareUnsigned(stack + 16 * P, WINDOW) <= 0, "a growsdown stack too");
        final long straddling = mm.mmap(WINDOW - P, 2 * P, RW, ANON);
        assertTrue(
                Long.compareUnsigned(straddling + 2 * P, WINDOW) <= 0,
                "a hint whose range crosses the window is not valid (mmap_address_hint_valid)");
        final long huge = mm.mmap(0, 1L << 30, RW, ANON);
        assertTrue(Long.compareUnsigned(huge + (1L << 30), WINDOW) <= 0, "THP-aligned search as well");
    }

    @Test
    void aHintAboveTheWindowReachesTheFullAddressSpace() {
        final long high = 1L << 52;
        assertEquals(high, mm.mmap(high, 4 * P, RW, ANON), "a free hint above the window is taken");
        final long moved = mm.mmap(high, 4 * P, RW, ANON);
        assertTrue(
                Long.compareUnsigned(moved, WINDOW) > 0,
                "a taken one searches below mmap_base + TASK_SIZE_MAX - DEFAULT_MAP_WINDOW: 0x"
                        + Long.toHexString(moved));
        assertEquals(mm.mmapBase() + mm.taskSize() - WINDOW - 4 * P, moved);
        assertEquals(1L << 50, mm.mmap(1L << 50, P, RW, ANON | Mman.MAP_FIXED), "MAP_FIXED up to TASK_SIZE");
        assertEquals(-Errno.ENOMEM, mm.mmap(mm.taskSize(), P, RW, ANON | Mman.MAP_FIXED));
    }

    @Test
    void fourLevelPagingIgnoresAHintItCannotMap() {
        final MmStruct four = new MmStruct(fourLevel, LockingMode.PER_VMA);
        assertEquals(four.mmapBase() - P, four.mmap(1L << 52, P, RW, ANON));
        four.validate();
    }
}
