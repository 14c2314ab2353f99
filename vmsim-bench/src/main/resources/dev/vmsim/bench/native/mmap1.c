/*
 * vmsim native probe: will-it-scale mmap1, single thread. ROUNDS times: mmap 128 MiB private
 * anonymous and munmap it untouched. Prints the mean ns of one mmap+munmap pair.
 * Usage: mmap1 ROUNDS
 */
#include "probe_common.h"

int main(int argc, char **argv)
{
	const int rounds = argc > 1 ? atoi(argv[1]) : 10000;
	const long f0 = minflt();
	const long long t0 = now_ns();
	for (int r = 0; r < rounds; r++) {
		void *c = mmap(NULL, MEMSIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (c == MAP_FAILED) {
			perror("mmap");
			return 1;
		}
		munmap(c, MEMSIZE);
	}
	const long long ns = now_ns() - t0;
	printf("rounds=%d\nminflt=%ld\nns_per_mmap_munmap=%.1f\n", rounds, minflt() - f0, (double)ns / rounds);
	return 0;
}
