/*
 * vmsim native probe: will-it-scale page_fault1, single thread. ROUNDS times: mmap 128 MiB private
 * anonymous, write one byte per page (one minor fault each), munmap. Only the touch loop is timed.
 * Also prints the mapping's address in the round where VmPTE peaked, so that the simulator can lay
 * out the same range and count the page tables it needs under the same boundaries.
 * Usage: page_fault1 ROUNDS
 */
#include "probe_common.h"
#include <unistd.h>

int main(int argc, char **argv)
{
	const int rounds = argc > 1 ? atoi(argv[1]) : 4;
	const long page = sysconf(_SC_PAGESIZE);
	long long touch_ns = 0;
	long pages = 0, flt = 0, pte_before = vmpte_kb(), pte_peak = 0;
	unsigned long peak_addr = 0;

	for (int r = 0; r < rounds; r++) {
		char *c = mmap(NULL, MEMSIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (c == MAP_FAILED) {
			perror("mmap");
			return 1;
		}
		const long f0 = minflt();
		const long long t0 = now_ns();
		for (unsigned long i = 0; i < MEMSIZE; i += page)
			c[i] = 1;
		touch_ns += now_ns() - t0;
		flt += minflt() - f0;
		pages += MEMSIZE / page;
		const long pte = vmpte_kb();
		if (pte > pte_peak) {
			pte_peak = pte;
			peak_addr = (unsigned long)c;
		}
		munmap(c, MEMSIZE);
	}
	printf("rounds=%d\npages=%ld\nminflt=%ld\nns_per_fault=%.1f\nvmpte_before_kb=%ld\nvmpte_peak_kb=%ld\n"
	       "peak_addr=%#lx\n",
	       rounds, pages, flt, (double)touch_ns / pages, pte_before, pte_peak, peak_addr);
	return 0;
}
