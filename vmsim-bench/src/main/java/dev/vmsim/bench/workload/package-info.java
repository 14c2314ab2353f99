/**
 * The named workloads. Each documents what it models (will-it-scale page_fault1 and mmap1, the
 * speculative-page-fault test, the per-VMA lock showcase fault-vs-munmap, one shared VMA, stack
 * growth), is seeded where it makes random choices, and leaves the mm empty when it finishes.
 */
package dev.vmsim.bench.workload;
