/**
 * The /proc files of a simulated process, in the text formats of fs/proc/task_mmu.c (Linux 6.18):
 * {@link dev.vmsim.core.proc.Smaps} (/proc/PID/smaps and smaps_rollup), {@link dev.vmsim.core.proc.TaskMem}
 * (the memory lines of /proc/PID/status), {@link dev.vmsim.core.proc.ProcVmstat} (/proc/vmstat) and
 * {@link dev.vmsim.core.proc.ProcMeminfo} (/proc/meminfo, fs/proc/meminfo.c).
 */
package dev.vmsim.core.proc;
