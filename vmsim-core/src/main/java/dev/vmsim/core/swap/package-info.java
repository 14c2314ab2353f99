/**
 * Swap (mm/swapfile.c, mm/swap_state.c, mm/page_io.c): one device ({@link
 * dev.vmsim.core.swap.SwapInfo}: swap_map, clusters, SWP_WRITEOK), its swap cache ({@link
 * dev.vmsim.core.swap.SwapCache}), its request queue ({@link dev.vmsim.core.swap.SwapIo}), swap-in
 * ({@link dev.vmsim.core.swap.Swapin}), and {@link dev.vmsim.core.swap.Swap}, the machine's entry
 * points for faults, zap, fork and reclaim. {@link dev.vmsim.core.swap.Swapoff} is swapoff(2) and
 * try_to_unuse; {@code Unuse} its walk of one mm (unuse_mm down to unuse_pte), over the mms of the
 * swap {@link dev.vmsim.core.mm.Mmlist}.
 *
 * <p>Departures (each class names its own): one device at a time; only order-0 folios; no zswap,
 * memcg, shmem swap or SWP_SYNCHRONOUS_IO skip of the swap cache; get_swap_device takes no
 * reference, so swapoff waits for no holder (a fault that read a swap PTE before swapoff changed it
 * finds the PTE changed under the PTL); swapoff is not the OOM killer's preferred victim
 * (set_current_oom_origin), so a frame it cannot get is -ENOMEM, never -EINTR by the killer.
 */
package dev.vmsim.core.swap;
