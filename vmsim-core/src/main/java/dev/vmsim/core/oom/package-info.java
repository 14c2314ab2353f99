/**
 * The OOM killer (mm/oom_kill.c): out_of_memory when the page allocator's reclaim has failed,
 * select_bad_process and oom_badness over the machine's processes, oom_kill_process and the
 * oom_reaper. {@link dev.vmsim.core.oom.OomState} is a process's share of it (the fields of
 * signal_struct and mm_struct the killer reads and sets); {@link dev.vmsim.core.oom.OomKiller} is
 * the machine's.
 */
package dev.vmsim.core.oom;
