/*
 * vmsim native probe: will-it-scale mmap1. THREADS threads (default 1), each ROUNDS times: mmap
 * 128 MiB private anonymous and munmap it untouched. Prints the wall-clock ns per mmap+munmap pair
 * (wall time / (ROUNDS x THREADS): with THREADS threads in parallel, the total rate's inverse) and
 * the CPU ns per pair (the threads' CPU time over the same pairs: unlike the wall time, it leaves
 * out the slices other tasks of a shared machine take).
 * With TRACEFS (a tracefs mount point, set up by vmsim calibrate), the probe writes its pid to
 * set_event_pid and switches tracing_on for the loop only, so the trace holds its events alone.
 * Usage: mmap1 ROUNDS [THREADS [TRACEFS]]
 */
#include "probe_common.h"
#include <pthread.h>
#include <unistd.h>

#define MAX_THREADS 64

static int rounds;
static volatile int go;
static long long cpu_ns;

static long long thread_cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void *loop(void *arg)
{
	while (!go)
		;
	const long long c0 = thread_cpu_ns();
	for (int r = 0; r < rounds; r++) {
		void *c = mmap(NULL, MEMSIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (c == MAP_FAILED) {
			perror("mmap");
			exit(1);
		}
		munmap(c, MEMSIZE);
	}
	__atomic_add_fetch(&cpu_ns, thread_cpu_ns() - c0, __ATOMIC_RELAXED);
	return arg;
}

static void tracefs_write(const char *dir, const char *file, const char *value)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	FILE *f = fopen(path, "w");
	if (!f || fputs(value, f) < 0 || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

int main(int argc, char **argv)
{
	rounds = argc > 1 ? atoi(argv[1]) : 10000;
	const int threads = argc > 2 ? atoi(argv[2]) : 1;
	const char *tracefs = argc > 3 ? argv[3] : NULL;
	if (rounds < 1 || threads < 1 || threads > MAX_THREADS) {
		fprintf(stderr, "usage: mmap1 ROUNDS [THREADS (1-%d) [TRACEFS]]\n", MAX_THREADS);
		return 2;
	}
	pthread_t t[MAX_THREADS];
	for (int i = 1; i < threads; i++)
		pthread_create(&t[i], NULL, loop, NULL);
	if (tracefs) {
		char pid[32];
		snprintf(pid, sizeof(pid), "%d", (int)getpid());
		tracefs_write(tracefs, "set_event_pid", pid);
		tracefs_write(tracefs, "tracing_on", "1");
	}
	const long f0 = minflt();
	const long long t0 = now_ns();
	go = 1;
	loop(NULL);
	for (int i = 1; i < threads; i++)
		pthread_join(t[i], NULL);
	const long long ns = now_ns() - t0;
	if (tracefs)
		tracefs_write(tracefs, "tracing_on", "0");
	const double pairs = (double)rounds * threads;
	printf("rounds=%d\nthreads=%d\nminflt=%ld\nns_per_mmap_munmap=%.1f\ncpu_ns_per_mmap_munmap=%.1f\n",
	       rounds, threads, minflt() - f0, ns / pairs, cpu_ns / pairs);
	return 0;
}
