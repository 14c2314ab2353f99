package dev.vmsim.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

/**
 * vm_refcnt and vm_lock_seq against mm_lock_seq (vmsim-core {@code VmaLock.startRead} against
 * {@code VmaLock.startWrite} and {@code MmapLock.writeUnlock}'s vma_end_write_all), with the same
 * memory modes. The writer holds the mmap write lock (mm_lock_seq odd); it excludes readers by adding
 * VM_REFCNT_EXCLUDE_READERS_FLAG with a CAS (it gives up if a reader is in, where the kernel would
 * wait: an actor must not wait for another), stores vm_lock_seq opaque, subtracts the flag, changes
 * two VMA fields under the lock and ends the write section with a release increment of mm_lock_seq.
 * The reader does vma_start_read: the opaque early check, the limited increment, and the re-check
 * with an acquire load of mm_lock_seq (pairs with the release in vma_end_write_all). A reader that
 * gets the lock reads the two fields; it must see both changes or neither.
 */
@JCStressTest
@Description("vma_start_read against vma_start_write + vma_end_write_all: a read-locked VMA is never half-changed")
@Outcome(
        id = {"1, 0, 1", "1, 1, 0"},
        expect = FORBIDDEN,
        desc = "The reader holds the VMA read lock and sees one field changed and not the other: it ran inside the"
                + " writer's section (the FLAG, vm_lock_seq or mm_lock_seq ordering failed).")
@Outcome(
        id = {"1, 0, 0", "1, 1, 1"},
        expect = ACCEPTABLE,
        desc = "Read-locked before or after the write section.")
@Outcome(id = "0, -1, -1", expect = ACCEPTABLE, desc = "vma_start_read failed (write-locked or excluded): fallback.")
@State
public class VmaStartReadTest extends VmaLockWords {
    @Actor
    public void writer() {
        writeSection(true);
    }

    @Actor
    public void reader(final III_Result r) {
        readSection(r);
    }
}
