/**
 * The /proc files of a simulated process, in the text formats of fs/proc/task_mmu.c (Linux 6.18):
 * {@link dev.vmsim.core.proc.Smaps} (/proc/PID/smaps and smaps_rollup), {@link dev.vmsim.core.proc.TaskMem}
 * (the memory lines of /proc/PID/status) and {@link dev.vmsim.core.proc.ProcVmstat} (/proc/vmstat).
 */
package dev.vmsim.core.proc;
