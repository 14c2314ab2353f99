package dev.vmsim.core.proc;

import dev.vmsim.core.mm.MmStruct;

/**
 * The memory lines of /proc/PID/status (fs/proc/task_mmu.c task_mem) for a simulated mm, and the
 * part of them a vmscript transcript shows.
 *
 * <p>Departures: the simulator keeps no hiwater_vm or hiwater_rss, so VmPeak is VmSize and VmHWM
 * is VmRSS; it has no file pages (RssFile 0), no pinned pages (VmPin 0), no swap (VmSwap 0) and no
 * executable image (VmExe 0: everything executable counts as VmLib, as the kernel splits exec_vm).
 */
public final class TaskMem {
    /** The values task_mem prints, in kB, in its order. */
    public record Values(
            long vmPeak,
            long vmSize,
            long vmLck,
            long vmPin,
            long vmHwm,
            long vmRss,
            long rssAnon,
            long rssFile,
            long rssShmem,
            long vmData,
            long vmStk,
            long vmExe,
            long vmLib,
            long vmPte,
            long vmSwap) {
        /** Field by field {@code this - base}: what happened to the task since {@code base}. */
        public Values minus(final Values base) {
            return new Values(
                    vmPeak - base.vmPeak,
                    vmSize - base.vmSize,
                    vmLck - base.vmLck,
                    vmPin - base.vmPin,
                    vmHwm - base.vmHwm,
                    vmRss - base.vmRss,
                    rssAnon - base.rssAnon,
                    rssFile - base.rssFile,
                    rssShmem - base.rssShmem,
                    vmData - base.vmData,
                    vmStk - base.vmStk,
                    vmExe - base.vmExe,
                    vmLib - base.vmLib,
                    vmPte - base.vmPte,
                    vmSwap - base.vmSwap);
        }
    }

    private TaskMem() {}

    /** task_mem's values for {@code mm} now. VmPTE counts every page-table page but the root (mm_pgtables_bytes). */
    public static Values of(final MmStruct mm) {
        final int toKb = mm.pageShift() - 10;
        final long anon = mm.anonRss();
        final long shmem = mm.shmemRss();
        final long rss = anon + shmem;
        final long pte = (mm.pageTables().tableFrames() - 1) << mm.pageShift() >> 10;
        return new Values(
                mm.totalVm() << toKb,
                mm.totalVm() << toKb,
                mm.lockedVm() << toKb,
                0,
                rss << toKb,
                rss << toKb,
                anon << toKb,
                0,
                shmem << toKb,
                mm.dataVm() << toKb,
                mm.stackVm() << toKb,
                0,
                mm.execVm() << toKb,
                pte,
                0);
    }

    /** The lines VmPeak to VmSwap as task_mem prints them ("VmSize:\t    3892 kB"). */
    public static String[] lines(final Values v) {
        return new String[] {
            line("VmPeak", v.vmPeak()),
            line("VmSize", v.vmSize()),
            line("VmLck", v.vmLck()),
            line("VmPin", v.vmPin()),
            line("VmHWM", v.vmHwm()),
            line("VmRSS", v.vmRss()),
            line("RssAnon", v.rssAnon()),
            line("RssFile", v.rssFile()),
            line("RssShmem", v.rssShmem()),
            line("VmData", v.vmData()),
            line("VmStk", v.vmStk()),
            line("VmExe", v.vmExe()),
            line("VmLib", v.vmLib()),
            line("VmPTE", v.vmPte()),
            line("VmSwap", v.vmSwap())
        };
    }

    /**
     * The lines a vmscript {@code status} shows: those whose change a scenario decides on any host
     * (VmSize, VmLck, VmPin, RssAnon, RssShmem, VmData, VmStk, VmSwap), in task_mem's order. The
     * others depend on the oracle's own binary and address-space layout (VmExe, VmLib, VmPTE, RssFile
     * and the VmRSS that includes it) or on its start-up (VmPeak, VmHWM: its arena probe).
     */
    public static String[] scriptLines(final Values v) {
        return new String[] {
            line("VmSize", v.vmSize()),
            line("VmLck", v.vmLck()),
            line("VmPin", v.vmPin()),
            line("RssAnon", v.rssAnon()),
            line("RssShmem", v.rssShmem()),
            line("VmData", v.vmData()),
            line("VmStk", v.vmStk()),
            line("VmSwap", v.vmSwap())
        };
    }

    /** SEQ_PUT_DEC in task_mem: "Name:\t", the kB right-aligned in 8 columns, " kB". */
    private static String line(final String name, final long kb) {
        return String.format("%s:\t%8d kB", name, kb);
    }
}
