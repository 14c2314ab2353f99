package dev.vmsim.core.sync;

import java.util.concurrent.ConcurrentHashMap;

/**
 * A lockdep lock class (struct lock_class_key): every lock of one kind shares a class, and the
 * order graph is kept between classes, not instances.
 */
public final class LockClass {
    private static final ConcurrentHashMap<String, LockClass> CLASSES = new ConcurrentHashMap<>();

    /** &mm->mmap_lock. */
    public static final LockClass MMAP_LOCK = of("mmap_lock");
    /** The VMA lock (vma->vm_refcnt / vm_lock_seq; lockdep map "vm_lock"). */
    public static final LockClass VMA_LOCK = of("vma_lock");
    /** The split page-table lock and mm->page_table_lock (ptlock). */
    public static final LockClass PTL = of("ptl");
    /** A plain rw_semaphore with no better class. */
    public static final LockClass RWSEM = of("rwsem");

    private final String name;

    private LockClass(final String name) {
        this.name = name;
    }

    /** The class called {@code name}, created on first use. */
    public static LockClass of(final String name) {
        return CLASSES.computeIfAbsent(name, LockClass::new);
    }

    public String name() {
        return name;
    }

    @Override
    public String toString() {
        return name;
    }
}
