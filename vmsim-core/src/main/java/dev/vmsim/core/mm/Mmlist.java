package dev.vmsim.core.mm;

import dev.vmsim.core.pgtable.Ptl;

/**
 * The swap mmlist (init_mm.mmlist and mmlist_lock, mm/swapfile.c, kernel/fork.c): every mm that may
 * hold swap entries, for swapoff's try_to_unuse to walk. An mm joins when it first gets a swap PTE
 * ({@link #add}: try_to_unmap_one in reclaim, copy_nonpresent_pte in fork, which puts the child right
 * after its parent) and leaves in __mmput ({@link #del}).
 *
 * <p>The list is a ring through each mm's {@code mmlist} node with a head that is no mm (init_mm's),
 * under {@code mmlist_lock}; list_empty(&mm->mmlist) is read without the lock first, as the kernel
 * does, and re-checked under it. A walker drops the lock while it works on an mm, holding an
 * mm_users reference (mmget_not_zero) that keeps the mm's node on the list until its mmput.
 */
public final class Mmlist {
    /** One mm's list_head; the head's {@code mm} is null. */
    static final class Node {
        final MmStruct mm;
        volatile Node next = this;
        Node prev = this;

        Node(final MmStruct mm) {
            this.mm = mm;
        }
    }

    private final Node head = new Node(null);
    /** mmlist_lock (a spinlock). */
    private final Ptl lock = new Ptl("mmlist_lock");

    /** Is {@code mm} on the list? Lockless, as list_empty(&mm->mmlist) is read before the lock. */
    public static boolean onList(final MmStruct mm) {
        return mm.mmlist.next != mm.mmlist;
    }

    /** try_to_unmap_one's join: list_add(&mm->mmlist, &init_mm.mmlist) if it is not on the list yet. */
    public void add(final MmStruct mm) {
        addAfter(mm, head);
    }

    /** copy_nonpresent_pte's join: list_add(&dst_mm->mmlist, &src_mm->mmlist), the child after its parent. */
    void addChild(final MmStruct child, final MmStruct parent) {
        addAfter(child, onList(parent) ? parent.mmlist : head);
    }

    private void addAfter(final MmStruct mm, final Node at) {
        if (onList(mm)) {
            return;
        }
        lock.lock();
        try {
            if (onList(mm)) {
                return;
            }
            final Node n = mm.mmlist;
            // The parent may have left between the unlocked check and the lock: then at the head.
            final Node where = at.mm == null || onList(at.mm) ? at : head;
            n.prev = where;
            n.next = where.next;
            where.next.prev = n;
            where.next = n;
        } finally {
            lock.unlock();
        }
    }

    /** __mmput's list_del(&mm->mmlist) under mmlist_lock, if the mm is on the list. */
    void del(final MmStruct mm) {
        if (!onList(mm)) {
            return;
        }
        lock.lock();
        try {
            final Node n = mm.mmlist;
            n.prev.next = n.next;
            n.next.prev = n.prev;
            n.next = n;
            n.prev = n;
        } finally {
            lock.unlock();
        }
    }

    /**
     * drain_mmlist: after a swapoff that left no slot in use on any device, every mm leaves the list
     * (list_del_init); each joins again at its next swap PTE.
     */
    public void drain() {
        lock.lock();
        try {
            Node n = head.next;
            while (n != head) {
                final Node next = n.next;
                n.prev = n;
                n.next = n;
                n = next;
            }
            head.next = head;
            head.prev = head;
        } finally {
            lock.unlock();
        }
    }

    /** spin_lock(&mmlist_lock). */
    public void lock() {
        lock.lock();
    }

    /** spin_unlock(&mmlist_lock). */
    public void unlock() {
        lock.unlock();
    }

    /**
     * {@code p = p->next} from {@code mm} (null: from the head): the next mm on the list, or null at
     * the head again. <b>Context:</b> mmlist_lock held, and {@code mm} (if not null) still on the list
     * (its walker holds a reference to it).
     */
    public MmStruct next(final MmStruct mm) {
        assert lock.isHeldByCurrentThread() : "mmlist walked without mmlist_lock";
        return (mm == null ? head : mm.mmlist).next.mm;
    }
}
