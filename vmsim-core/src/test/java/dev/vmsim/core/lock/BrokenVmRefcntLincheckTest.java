package dev.vmsim.core.lock;

import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.Vma;
import dev.vmsim.core.testing.LincheckRuns;
import org.jetbrains.lincheck.LincheckAssertionError;
import org.jetbrains.lincheck.datastructures.Operation;
import org.junit.jupiter.api.Test;

/**
 * The broken twin of {@link VmRefcntLincheckTest}: the writer changes the VMA under the mmap write
 * lock without vma_start_write (the bug class of a VMA modified without its write lock, which
 * per-VMA readers do not take the mmap lock to exclude). Lincheck must find the reader that holds a
 * VMA read lock and sees the intermediate value. Only the reader and the writer race here (no
 * detacher), so the budget goes to the interleavings of those two.
 */
public class BrokenVmRefcntLincheckTest {
    final MmStruct mm = VmaFixture.mm();
    final Vma vma = VmaFixture.attached(mm, 0x1000, 0x2000);

    /** lock_vma_under_rcu and, on failure, the mmap read-lock fallback: as VmRefcntLincheckTest.read. */
    @Operation
    public long read() {
        return VmRefcntLincheckTest.readFlags(mm, vma);
    }

    @Operation
    public void write() {
        mm.mmapLock().writeLock();
        // BROKEN: no VmaLock.startWrite(vma)
        vma.vmFlags = 1; // the intermediate state no reader may see
        vma.vmFlags = 0;
        mm.mmapLock().writeUnlock();
    }

    @Test
    public void modelCheckingFindsTheReaderInsideTheWrite() {
        assertThrows(
                LincheckAssertionError.class,
                () -> LincheckRuns.modelCheck(
                        BrokenVmRefcntLincheckTest.class, null, LincheckRuns.budget(10, 100), 2, 1));
    }
}
