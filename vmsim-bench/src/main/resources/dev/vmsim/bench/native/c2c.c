/*
 * vmsim native probe: core-to-core cache-line latency between CPUs 0 and 1. Two threads, pinned one
 * to each CPU, pass one 64-byte line back and forth (each waits for the other's store, then stores):
 * every half round trip is one transfer of a modified line from the other CPU's cache. BATCHES
 * batches of ROUNDS round trips are timed; the fastest batch is the one in which neither thread
 * lost its CPU (on a shared VM most batches include another task's time slice), so the probe
 * prints that batch's half round trip as the transfer latency, with the median batch for the record.
 * The method is that of the core-to-core latency tables the published profiles use (a CAS or
 * store ping-pong between pinned threads).
 * Usage: c2c [ROUNDS [BATCHES]]. Prints skipped=... where there is no second CPU to pin to.
 */
#include "probe_common.h"
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

static _Alignas(64) _Atomic long flag;
static long rounds, batches;

static int pin(int cpu)
{
	cpu_set_t s;
	CPU_ZERO(&s);
	CPU_SET(cpu, &s);
	return pthread_setaffinity_np(pthread_self(), sizeof(s), &s);
}

static void *pong(void *arg)
{
	if (pin(1) != 0)
		exit(3);
	for (long i = 0; i < rounds * batches; i++) {
		const long want = 2 * i + 1;
		while (atomic_load_explicit(&flag, memory_order_acquire) != want)
			;
		atomic_store_explicit(&flag, want + 1, memory_order_release);
	}
	return arg;
}

static int cmp(const void *a, const void *b)
{
	const double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	rounds = argc > 1 ? atol(argv[1]) : 2000;
	batches = argc > 2 ? atol(argv[2]) : 2000;
	if (rounds < 1 || batches < 1) {
		fprintf(stderr, "usage: c2c [ROUNDS [BATCHES]]\n");
		return 2;
	}
	cpu_set_t allowed;
	if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0 || !CPU_ISSET(0, &allowed) ||
	    !CPU_ISSET(1, &allowed)) {
		printf("skipped=CPUs 0 and 1 are not both available\n");
		return 0;
	}
	if (pin(0) != 0) {
		perror("pthread_setaffinity_np");
		return 1;
	}
	pthread_t t;
	pthread_create(&t, NULL, pong, NULL);
	double *per = malloc(sizeof(double) * batches);
	long k = 0;
	for (long b = 0; b < batches; b++) {
		const long long t0 = now_ns();
		for (long i = 0; i < rounds; i++, k++) {
			atomic_store_explicit(&flag, 2 * k + 1, memory_order_release);
			while (atomic_load_explicit(&flag, memory_order_acquire) != 2 * k + 2)
				;
		}
		per[b] = (double)(now_ns() - t0) / rounds;
	}
	pthread_join(t, NULL);
	qsort(per, batches, sizeof(double), cmp);
	printf("round_trip_ns_min=%.1f\n", per[0]);
	printf("round_trip_ns_median=%.1f\n", per[batches / 2]);
	printf("c2c_ns=%.1f\n", per[0] / 2);
	return 0;
}
