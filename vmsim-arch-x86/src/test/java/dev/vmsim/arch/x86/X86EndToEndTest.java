package dev.vmsim.arch.x86;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.Machine;
import dev.vmsim.core.arch.Access;
import dev.vmsim.core.arch.Mmu;
import dev.vmsim.core.arch.PtRegs;
import dev.vmsim.core.arch.SigInfo;
import dev.vmsim.core.cpu.Cpu;
import dev.vmsim.core.inject.FailSite;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.Mman;
import dev.vmsim.core.stat.VmEvent;
import dev.vmsim.core.task.Task;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The x86-64 front end over the REAL kernel core ({@code FaultOps.KERNEL}: lock_vma_under_rcu,
 * lock_mm_and_find_vma, handle_mm_fault, the mm system calls): a {@link Machine} with
 * {@link X86Arch}, an {@link MmStruct} in PER_VMA mode, CPUs switched to it. The rows cited are
 * kernel-semantics §17.
 */
class X86EndToEndTest {
    private static final int RW = Mman.PROT_READ | Mman.PROT_WRITE;
    private static final int ANON = Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS;
    private static final long PAGE = 4096;

    private final List<X86FaultRecord> faults = new ArrayList<>();
    private ExecutorService other;
    /** The lock holder's task: its failure (an unbalanced unlock, an interrupt) fails the test. */
    private Future<?> holder;

    private Machine machine;
    private X86Arch arch;
    private MmStruct mm;
    private Cpu cpu;

    @AfterEach
    void stopOtherThread() throws Exception {
        if (other != null) {
            if (holder != null) {
                holder.get(5, TimeUnit.SECONDS);
            }
            other.shutdownNow();
            assertTrue(other.awaitTermination(5, TimeUnit.SECONDS));
        }
    }

    private void boot(final X86Arch a, final int cpus) {
        arch = a;
        machine = new Machine(a, 1 << 14, cpus);
        mm = new MmStruct(machine, LockingMode.PER_VMA);
        cpu = machine.newCpu();
        cpu.switchMm(mm);
        a.faultHandler().setTrace(faults::add);
    }

    private void boot() {
        boot(new X86Arch(), 2);
    }

    private long mmap(final long len, final int prot, final int flags) {
        final long addr = mm.mmap(0, len, prot, flags);
        assertTrue(addr > 0, "mmap failed: " + addr);
        return addr;
    }

    private long stat(final VmEvent e) {
        return machine.vmstat().get(e);
    }

    private X86Mmu mmu(final Cpu c) {
        return (X86Mmu) c.mmu();
    }

    /** Row 11 (FAULT-04): a write to a read-only VMA whose PTE is present: SEGV_ACCERR from access_error on the per-VMA path, no mmap lock. */
    @Test
    void writeToReadOnlyVmaWithPresentPteIsAccerrOnThePerVmaPathWithoutTheMmapLock() {
        boot();
        final long addr = mmap(PAGE, Mman.PROT_READ, ANON);
        assertEquals(0, cpu.load(addr), "first read maps the zero page");
        final long success = stat(VmEvent.VMA_LOCK_SUCCESS);
        final long mmapLocks = mm.mmapLock().acquisitions();
        faults.clear();

        assertEquals(SigInfo.SEGV_ACCERR_SIG, cpu.store(addr, (byte) 1));

        assertEquals(1, faults.size());
        assertEquals(
                X86PfError.PROT | X86PfError.WRITE | X86PfError.USER,
                faults.get(0).errorCode());
        assertEquals(success + 1, stat(VmEvent.VMA_LOCK_SUCCESS), "the per-VMA path counts SUCCESS");
        assertEquals(mmapLocks, mm.mmapLock().acquisitions(), "no mmap lock taken");
        assertTrue(faults.get(0).steps().contains("lock_vma_under_rcu"));
        assertTrue(faults.get(0).steps().stream().noneMatch(s -> s.startsWith("lock_mm_and_find_vma")));
    }

    /** Row 12: a protection-key fault is SEGV_PKUERR even though the VMA allows the access. */
    @Test
    void protectionKeyFaultIsPkuerrRegardlessOfVmaFlags() {
        boot();
        final long addr = mmap(PAGE, RW, ANON);
        assertEquals(SigInfo.OK, cpu.store(addr, (byte) 7));
        mmu(cpu).setPkru(0b11); // WRPKRU: AD|WD for key 0, the key of every simulated VMA
        faults.clear();

        assertEquals(-1, cpu.load(addr));
        assertEquals(SigInfo.SEGV_PKUERR_SIG, cpu.lastSignal());
        assertEquals(SigInfo.SEGV_PKUERR_SIG, cpu.store(addr, (byte) 8));
        assertEquals(2, faults.size());
        assertEquals(
                X86PfError.PROT | X86PfError.USER | X86PfError.PK, faults.get(0).errorCode());
        assertEquals(
                X86PfError.PROT | X86PfError.WRITE | X86PfError.USER | X86PfError.PK,
                faults.get(1).errorCode());

        mmu(cpu).setPkru(0);
        assertEquals(7, cpu.load(addr), "the page was never changed");
    }

    /** A kernel-mode read of {@code addr} with no exception-table entry, as far as the #PF. */
    private int kernelBugFault(final long addr) {
        assertEquals(Mmu.FAULT, mmu(cpu).translate(addr, Access.READ, false));
        return arch.faultHandler().handle(mm, mmu(cpu).lastPageFault(), PtRegs.KERNEL_BUG);
    }

    /** Takes the mmap write lock on another thread and returns the latch that releases it. */
    private CountDownLatch holdMmapWriteLockElsewhere() throws Exception {
        other = Executors.newSingleThreadExecutor();
        final CountDownLatch held = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        holder = other.submit(() -> {
            mm.mmapLock().writeLock();
            try {
                held.countDown();
                release.await();
            } finally {
                mm.mmapLock().writeUnlock();
            }
            return null;
        });
        assertTrue(held.await(5, TimeUnit.SECONDS));
        return release;
    }

    /**
     * SIG-07: a user write fault on a VMA with no anon_vma yet, while another thread holds the mmap
     * write lock: __vmf_anon_prepare's trylock fails and the fault returns VM_FAULT_RETRY. With a
     * non-fatal signal pending, fault_signal_pending ends the fault there, the handler runs on the
     * way back to user mode, and the store faults again (under the VMA lock, or waiting for the mmap
     * lock if the writer has not let go yet). Here the handler is what lets the writer go, so without
     * the early return the store would wait for the lock forever.
     */
    @Test
    void nonFatalSignalRunsItsHandlerBeforeTheRetriedFaultWaitsForTheMmapLock() throws Exception {
        boot();
        final long addr = mmap(PAGE, RW, ANON);
        final CountDownLatch release = holdMmapWriteLockElsewhere();
        final List<String> handled = new ArrayList<>();
        faults.clear();
        try {
            // assertTimeoutPreemptively runs the store on a thread of its own: the signal goes to that task.
            assertEquals(SigInfo.OK, assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
                final Task task = Task.current();
                task.sigaction = signo -> {
                    handled.add("signal " + signo + (holder.isDone() ? "" : " while the writer holds the lock"));
                    release.countDown();
                };
                task.sendSignal(10); // SIGUSR1
                return cpu.store(addr, (byte) 5);
            }));
        } finally {
            release.countDown();
        }
        assertEquals(List.of("signal 10 while the writer holds the lock"), handled);
        assertTrue(
                faults.get(0).steps().contains("fault_signal_pending"),
                faults.get(0).steps().toString());
        assertTrue(
                faults.get(0).steps().stream().noneMatch(s -> s.startsWith("lock_mm_and_find_vma")),
                "the first fault returned before the mmap path: "
                        + faults.get(0).steps());
        assertEquals(2, faults.size(), "the store faulted again after the handler");
        assertEquals(SigInfo.OK, faults.get(1).result());
        assertEquals(5, cpu.load(addr));
    }

    /**
     * OOM-09: a user write fault on the per-VMA path, in a 2 MiB region with no PTE table yet, whose
     * page-table page allocation fails: VM_FAULT_OOM, vma_end_read (the VMA is at rest again), no
     * table or PTE left half-installed, pagefault_out_of_memory counted, and the access, retried,
     * succeeds.
     */
    @Test
    void aPageTableAllocationFailingInAFaultLeavesNothingAndTheRetrySucceeds() {
        boot();
        final long a = mmap(4L << 20, RW, ANON);
        final long va = (a + (2L << 20)) & -(2L << 20); // 2 MiB-aligned: a PTE table of its own
        assertTrue(mm.pageTables().ptePa(va, false) < 0, "no PTE table for the address yet");
        final long tables = mm.pageTables().tableFrames();
        faults.clear();
        machine.failInject().failNth(FailSite.PGTABLE_ALLOC, 0);
        try {
            assertEquals(SigInfo.OK, cpu.store(va, (byte) 9), "the access is retried after pagefault_out_of_memory");
        } finally {
            machine.failInject().clear();
        }
        assertEquals(SigInfo.PAGEFAULT_OOM, faults.get(0).result(), "the first fault was VM_FAULT_OOM");
        assertEquals(1, stat(VmEvent.PAGEFAULT_OOM));
        assertTrue(
                faults.get(0).steps().contains("lock_vma_under_rcu"),
                faults.get(0).steps().toString());
        assertEquals(SigInfo.OK, faults.get(1).result());
        assertEquals(1, mm.findVma(va).refcnt(), "the failed attempt's VMA read lock was released");
        assertTrue(mm.pageTables().tableFrames() > tables, "the retry installed the table");
        assertEquals(9, cpu.load(va));
        mm.validate();
    }

    /** Row 13 (mainline): no per-VMA attempt for a kernel fault; the read trylock fails; oops, no deadlock. */
    @Test
    void kernelFaultWithoutFixupWhileMmapWriteHeldOopsAtOnce() throws Exception {
        boot();
        final long addr = mmap(PAGE, RW, ANON);
        final CountDownLatch release = holdMmapWriteLockElsewhere();
        final long success = stat(VmEvent.VMA_LOCK_SUCCESS);
        try {
            final int result = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> kernelBugFault(addr));
            assertEquals(SigInfo.OOPS, result);
        } finally {
            release.countDown();
        }
        final X86FaultRecord rec = faults.get(faults.size() - 1);
        assertTrue(
                rec.steps().stream().noneMatch(s -> s.equals("lock_vma_under_rcu")),
                rec.steps().toString());
        assertTrue(rec.steps().contains("page_fault_oops"), rec.steps().toString());
        assertEquals(success, stat(VmEvent.VMA_LOCK_SUCCESS));
    }

    /**
     * The mm-tree switch: with per-VMA locking for kernel faults, the same fault is handled under
     * the VMA lock while another thread holds the mmap write lock (the VMA itself is not write-locked).
     */
    @Test
    void mmTreeKernelFaultTakesThePerVmaPathWhileMmapWriteHeld() throws Exception {
        boot(new X86Arch(X86Arch.Config.defaults().withPerVmaForKernelFaults(true)), 2);
        final long addr = mmap(PAGE, RW, ANON);
        final CountDownLatch release = holdMmapWriteLockElsewhere();
        final long success = stat(VmEvent.VMA_LOCK_SUCCESS);
        try {
            final int result = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> kernelBugFault(addr));
            assertEquals(SigInfo.OK, result);
            assertTrue(mmu(cpu).translate(addr, Access.READ, false) >= 0, "the page is mapped now");
        } finally {
            release.countDown();
        }
        assertEquals(success + 1, stat(VmEvent.VMA_LOCK_SUCCESS));
        final X86FaultRecord rec = faults.get(faults.size() - 1);
        assertTrue(rec.steps().contains("lock_vma_under_rcu"), rec.steps().toString());
        assertTrue(rec.steps().stream().noneMatch(s -> s.startsWith("lock_mm_and_find_vma")));
    }

    /**
     * NX: a fetch from a readable, non-exec VMA. The not-present fetch passes access_error (a
     * not-present fault needs only some access right, §10.4 step 7), so the page is mapped, NX; the
     * retried fetch faults PROT|INSTR and access_error step 6 makes it SEGV_ACCERR.
     */
    @Test
    void fetchFromReadableNonExecVmaMapsThePageThenFaultsAccerr() {
        boot();
        final long addr = mmap(PAGE, Mman.PROT_READ, ANON);

        assertEquals(-1, cpu.fetch(addr));
        assertEquals(SigInfo.SEGV_ACCERR_SIG, cpu.lastSignal());

        assertEquals(2, faults.size());
        assertEquals(X86PfError.INSTR | X86PfError.USER, faults.get(0).errorCode());
        assertEquals(SigInfo.OK, faults.get(0).result());
        assertEquals(
                X86PfError.PROT | X86PfError.INSTR | X86PfError.USER,
                faults.get(1).errorCode());
        assertEquals(SigInfo.SEGV_ACCERR_SIG, faults.get(1).result());
        assertTrue(mm.pageTables().dumpWalk(addr).contains("NX"), "the PTE is present and NX");
        faults.clear();
        assertEquals(0, cpu.load(addr), "a read needs no further fault");
        assertEquals(0, faults.size());
    }

    /** copy_from_user / copy_to_user of an unmapped address: the exception-table fixup, -EFAULT, no oops. */
    @Test
    void uaccessOnUnmappedAddressReturnsEfaultWithoutOops() {
        boot();
        final long addr = mmap(PAGE, RW, ANON);
        assertEquals(0, mm.munmap(addr, PAGE));

        assertEquals(-1, cpu.getUser(addr));
        assertEquals(SigInfo.SEGV_MAPERR_SIG, cpu.lastSignal());
        assertNotEquals(SigInfo.OOPS, cpu.putUser(addr, (byte) 1));
        for (final X86FaultRecord rec : faults) {
            assertEquals(0, rec.errorCode() & X86PfError.USER, "a supervisor access");
            assertTrue(
                    rec.steps().contains("fixup_exception (-EFAULT)"),
                    rec.steps().toString());
            assertTrue(
                    rec.steps().stream().noneMatch(s -> s.contains("oops")),
                    rec.steps().toString());
        }
        assertEquals(2, faults.size());
    }

    /** Stack growth: a fault just below a GROWSDOWN VMA expands it through lock_mm_and_find_vma. */
    @Test
    void faultBelowGrowsdownVmaExpandsTheStack() {
        boot();
        final long len = 4 * PAGE;
        final long top = mmap(len, RW, ANON | Mman.MAP_GROWSDOWN);
        final long below = top - PAGE;
        assertEquals(top, mm.findVma(top).vmStart);

        assertEquals(SigInfo.OK, cpu.store(below + 8, (byte) 42));

        assertEquals(below, mm.findVma(below).vmStart, "the stack VMA grew down by one page");
        assertEquals(42, cpu.load(below + 8));
        final X86FaultRecord rec = faults.get(0);
        assertTrue(rec.steps().contains("lock_mm_and_find_vma"), rec.steps().toString());
        assertEquals(SigInfo.OK, rec.result());
    }

    /** munmap on CPU 0 shoots down CPU 1's cached translation: CPU 1's next access is SEGV_MAPERR. */
    @Test
    void munmapShootsDownTheOtherCpusTlbEntry() throws Exception {
        boot();
        final Cpu cpu1 = machine.newCpu();
        other = Executors.newSingleThreadExecutor();
        final long addr = mmap(PAGE, RW, ANON);
        assertEquals(SigInfo.OK, cpu.store(addr, (byte) 5));
        final long vpn = addr >>> 12;

        final int loaded = other.submit(() -> {
                    cpu1.switchMm(mm);
                    return cpu1.load(addr);
                })
                .get(10, TimeUnit.SECONDS);
        assertEquals(5, loaded);
        final int pcid1 = mmu(cpu1).pcidOf(mm);
        assertNotEquals(0L, mmu(cpu1).tlb().lookup(vpn, pcid1), "CPU 1 caches the translation");
        final long received = cpu1.remoteFlushesReceived();

        assertEquals(0, mm.munmap(addr, PAGE)); // on CPU 0, this thread

        assertTrue(cpu1.remoteFlushesReceived() > received, "CPU 1 received a shootdown");
        assertEquals(0L, mmu(cpu1).tlb().lookup(vpn, pcid1), "CPU 1's entry is gone");
        final int signal = other.submit(() -> cpu1.load(addr) < 0 ? cpu1.lastSignal() : SigInfo.OK)
                .get(10, TimeUnit.SECONDS);
        assertEquals(SigInfo.SEGV_MAPERR_SIG, signal);
    }

    /** The teaching dump of a live mm's walk: one line per level, with index, entry and decoded bits. */
    @Test
    void dumpWalkOfAMappedAddressNamesEveryLevel() {
        boot();
        final long addr = mmap(PAGE, RW, ANON) + 0x123;
        assertEquals(SigInfo.OK, cpu.store(addr, (byte) 1));
        final X86PageTableFormat fmt = arch.pageTableFormat();
        final long pa = mmu(cpu).translate(addr, Access.READ, true);

        final String[] lines = mmu(cpu).dumpWalk(addr).split("\\R");

        assertEquals(6, lines.length, String.join("\n", lines));
        assertEquals("walk 0x" + Long.toHexString(addr) + " (4-level)", lines[0]);
        final String[] names = {"PML4", "PDPT", "PD", "PT"};
        for (int i = 0; i < 4; i++) {
            final int level = 3 - i;
            final String prefix = "  " + names[i] + "[" + fmt.index(addr, level) + "] = 0x";
            assertTrue(lines[1 + i].startsWith(prefix), lines[1 + i] + " should start with " + prefix);
            assertTrue(lines[1 + i].matches(".*= 0x[0-9a-f]{16}  P RW US A .*pfn=0x[0-9a-f]+$"), lines[1 + i]);
        }
        assertTrue(lines[4].contains(" D "), "the leaf is dirty after the store: " + lines[4]);
        assertTrue(lines[4].endsWith("NX pfn=0x" + Long.toHexString(pa >>> 12)), lines[4]);
        assertEquals("  -> pa 0x" + Long.toHexString(pa) + " (4 KiB page)", lines[5]);

        // the core's arch-neutral dump of the same walk agrees on indexes and entries
        final String[] core = mm.pageTables().dumpWalk(addr).split("\\R");
        assertEquals(4, core.length);
        for (int i = 0; i < 4; i++) {
            final int level = 3 - i;
            final String entry = lines[1 + i].substring(lines[1 + i].indexOf("0x"), lines[1 + i].indexOf("0x") + 18);
            final String want = String.format("level %d index %3d entry %s ", level, fmt.index(addr, level), entry);
            assertTrue(core[i].startsWith(want), core[i] + " should start with " + want);
        }
    }

    /**
     * An OOM inside a user fault goes to pagefault_out_of_memory, which kills nobody: the access is
     * retried (Cpu.OOM_RETRIES faults), then handed back to the caller; once memory is freed the
     * same access completes.
     */
    @Test
    void outOfMemoryInAFaultRetriesInsteadOfKillingTheTask() {
        arch = new X86Arch();
        machine = new Machine(arch, 64, 1);
        mm = new MmStruct(machine, LockingMode.PER_VMA);
        cpu = machine.newCpu();
        cpu.switchMm(mm);
        final long len = 128 * PAGE;
        final long addr = mmap(len, RW, ANON);
        long failed = -1;
        for (long off = 0; off < len && failed < 0; off += PAGE) {
            if (cpu.store(addr + off, (byte) 1) != SigInfo.OK) {
                failed = addr + off;
            }
        }
        assertTrue(failed > 0, "64 frames cannot back 128 pages");
        assertEquals(SigInfo.PAGEFAULT_OOM, cpu.lastSignal(), SigInfo.describe(cpu.lastSignal()));
        assertEquals(Cpu.OOM_RETRIES, stat(VmEvent.PAGEFAULT_OOM));
        assertFalse(Thread.currentThread().isInterrupted(), "no SIGKILL");
        assertEquals(0, mm.munmap(addr, 16 * PAGE));
        assertEquals(SigInfo.OK, cpu.store(failed, (byte) 2), "the retried access completes once memory is free");
        assertEquals(2, cpu.load(failed));
        assertEquals(Cpu.OOM_RETRIES, stat(VmEvent.PAGEFAULT_OOM));
    }
}
