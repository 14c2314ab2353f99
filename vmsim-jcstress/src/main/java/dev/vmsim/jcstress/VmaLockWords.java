package dev.vmsim.jcstress;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import org.openjdk.jcstress.infra.results.III_Result;

/**
 * The words of {@link VmaStartReadTest} and its broken twin: vm_refcnt, vm_lock_seq and mm_lock_seq
 * with the memory modes of vmsim-core's {@code VmaLock} and {@code MmapLock}, and the two sides.
 */
abstract class VmaLockWords {

    static final int FLAG = 0x4000_0000;
    static final int LIMIT = FLAG - 1;
    static final VarHandle REFCNT;
    static final VarHandle VM_LOCK_SEQ;
    static final VarHandle MM_LOCK_SEQ;

    static {
        try {
            final MethodHandles.Lookup l = MethodHandles.lookup();
            REFCNT = l.findVarHandle(VmaLockWords.class, "refcnt", int.class);
            VM_LOCK_SEQ = l.findVarHandle(VmaLockWords.class, "vmLockSeq", int.class);
            MM_LOCK_SEQ = l.findVarHandle(VmaLockWords.class, "mmLockSeq", int.class);
        } catch (final ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** Attached, no readers. */
    int refcnt = 1;
    /** Not write-locked in any section (vma_lock_init's UINT_MAX). */
    int vmLockSeq = -1;
    /** The writer holds the mmap write lock: odd. */
    int mmLockSeq = 1;

    int a;
    int b;

    /**
     * mmap write section: __vma_start_write, two field changes, mmap_write_unlock. Without {@code
     * excludeReaders} it only stores vm_lock_seq, as if readers already in did not matter.
     */
    final void writeSection(final boolean excludeReaders) {
        if (excludeReaders && !REFCNT.compareAndSet(this, 1, 1 + FLAG)) {
            return; // a reader is in: the kernel sleeps on vma_writer_wait; an actor gives up
        }
        VM_LOCK_SEQ.setOpaque(this, (int) MM_LOCK_SEQ.getOpaque(this));
        if (excludeReaders) {
            REFCNT.getAndAdd(this, -FLAG);
        }
        a = 1;
        b = 1;
        MM_LOCK_SEQ.setRelease(this, 2); // vma_end_write_all: releases every VMA write lock
    }

    /**
     * vma_start_read (steps 1, 2 and 5), the reads, vma_end_read. r1 = 1: read lock taken; r2, r3:
     * the fields b and a it saw.
     */
    final void readSection(final III_Result r) {
        if ((int) VM_LOCK_SEQ.getOpaque(this) == (int) MM_LOCK_SEQ.getOpaque(this)) {
            fail(r);
            return;
        }
        int old = (int) REFCNT.getVolatile(this);
        for (; ; ) {
            if (old == 0 || old >= LIMIT) {
                fail(r);
                return;
            }
            if (REFCNT.compareAndSet(this, old, old + 1)) {
                break;
            }
            old = (int) REFCNT.getVolatile(this);
        }
        if ((int) VM_LOCK_SEQ.getOpaque(this) == (int) MM_LOCK_SEQ.getAcquire(this)) {
            REFCNT.getAndAdd(this, -1);
            fail(r);
            return;
        }
        r.r1 = 1;
        r.r2 = b;
        r.r3 = a;
        REFCNT.getAndAdd(this, -1);
    }

    static void fail(final III_Result r) {
        r.r1 = 0;
        r.r2 = -1;
        r.r3 = -1;
    }
}
