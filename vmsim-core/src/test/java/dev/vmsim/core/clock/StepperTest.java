package dev.vmsim.core.clock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.sync.RwSemaphore;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class StepperTest {
    /** Stop where the reader blocks: the writer holds the lock, one waiter is queued; then run on. */
    @Test
    void stopsAtTheFirstBlockAndShowsTheLockAndTheCpus() {
        final VirtualScheduler s = new VirtualScheduler(TestCosts.model(2), SchedulePolicy.earliestClock());
        final RwSemaphore sem = new RwSemaphore();
        sem.setOptimisticSpinBudgetNanos(0);
        s.spawn("writer", () -> {
            sem.downWrite();
            s.charge(Cost.SYSCALL_ENTRY_EXIT, 3000);
            sem.upWrite();
        });
        s.spawn("reader", () -> {
            s.charge(Cost.TLB_HIT, 10);
            sem.downRead();
            sem.upRead();
        });
        final Stepper st = new Stepper(s);
        final Stepper.Position p = st.runUntil(Stepper.Kind.PARK);
        assertEquals("reader", p.cpuName());
        assertEquals("rwsem", p.what());
        assertTrue(sem.isWriteLocked(), "the writer still holds it");
        assertEquals(1, sem.waiterCount(), "the reader is queued");
        final Stepper.CpuState writer = st.cpus().get(0);
        assertEquals(VirtualCpu.State.RUNNABLE, writer.state());
        final Stepper.Position done = st.runUntil(q -> q.kind() == Stepper.Kind.DONE);
        assertEquals(Stepper.Kind.DONE, done.kind());
        st.runToEnd();
        assertEquals(0, sem.count(), "both released");
        assertNull(st.runUntil(Stepper.Kind.POINT), "nothing runs after the end");
    }

    /** A deadlocked machine reports its deadlock to the stepper. */
    @Test
    void aDeadlockReachesTheController() {
        final VirtualScheduler s = new VirtualScheduler(TestCosts.model(1), SchedulePolicy.earliestClock());
        s.spawn("sleeper", () -> s.park("nothing"));
        final Stepper st = new Stepper(s);
        assertEquals("nothing", st.runUntil(Stepper.Kind.PARK).what());
        assertThrows(SimulationDeadlock.class, st::runToEnd);
    }
}
