// SPDX-License-Identifier: MIT
/*
 * A hostile program under `memstate run`: it finds the tracer's API channel
 * (MEMSTATE_CHANNEL) without libmemstate and scribbles over it while the tracer reads.
 *
 *   chan_scribble MODE [SECONDS]
 *     garbage  claim a slot and keep filling it (header, names, ring, records) with noise
 *     race     claim a slot, push plausible records, while a thread keeps rewriting the
 *              ring's capacity, head, tail and drop counter
 *     forge    claim slots in the name of pid 1 and of the tracer, push records there
 *     all      the three at once (default)
 *
 * Prints "scribbled N" and exits 0: the tracer must survive, and the program's output and
 * status must be what they would be untraced.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "memstate/channel.h"

static char *chan;
static size_t chan_size;
static volatile int stop;
static unsigned long scribbled;

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static struct ms_chan_slot *slot_at(unsigned i)
{
	const struct ms_chan_hdr *h = (const void *)chan;

	return (struct ms_chan_slot *)(chan + 4096 + (size_t)i * h->slot_bytes);
}

static struct ms_ring *ring_of(struct ms_chan_slot *s)
{
	return (struct ms_ring *)(s + 1);
}

/* Take a free slot in pid's name. */
static struct ms_chan_slot *claim(uint32_t pid)
{
	for (unsigned i = 0; i < MS_CHAN_SLOTS; i++) {
		struct ms_chan_slot *s = slot_at(i);
		uint32_t zero = 0;

		if (__atomic_compare_exchange_n(&s->owner, &zero, pid, 0, __ATOMIC_ACQ_REL,
						__ATOMIC_RELAXED))
			return s;
	}
	return NULL;
}

static void push(struct ms_ring *r, const struct ms_event *ev)
{
	uint64_t head = r->head;

	r->recs[head & (MS_CHAN_RING_RECS - 1)] = *ev;
	__atomic_store_n(&r->head, head + 1, __ATOMIC_RELEASE);
}

static struct ms_event plausible(uint64_t *seed)
{
	uint64_t x = rnd(seed);

	return (struct ms_event){.op = (uint8_t)(x % 10),
				 .addr = 0x100000000ull + (x >> 8) % 4096 * 4096,
				 .len = (1 + (x >> 20) % 16) * 4096,
				 .arg = (x >> 30) % 16 * 4096,
				 .tid = (uint32_t)getpid(),
				 .stat = (uint16_t)((x >> 40) % 70)};
}

static void *garbage(void *arg)
{
	struct ms_chan_slot *s = claim((uint32_t)getpid());
	uint64_t seed = 0x9e3779b97f4a7c15ull;

	(void)arg;
	while (s && !stop) {
		uint64_t *w = (uint64_t *)s->stat_names;
		const struct ms_chan_hdr *h = (const void *)chan;
		size_t words = (h->slot_bytes - sizeof(s->owner) - sizeof(s->generation)) / 8;
		/* noise everywhere after owner and generation, a few thousand words a round */
		for (int k = 0; k < 4096; k++)
			w[rnd(&seed) % (words - 8)] = rnd(&seed);
		__atomic_fetch_add(&scribbled, 1, __ATOMIC_RELAXED);
		usleep(200);
	}
	return NULL;
}

static void *racer(void *arg)
{
	struct ms_ring *r = arg;
	uint64_t seed = 12345;

	while (!stop) {
		uint64_t x = rnd(&seed);

		switch (x % 6) {
		case 0:
			r->capacity = (uint32_t)(x >> 8);
			break;
		case 1:
			r->head += x >> 40; /* keep running ahead */
			break;
		case 2:
			r->tail = x;
			break;
		case 3:
			r->dropped = x;
			break;
		case 4:
			r->capacity = MS_CHAN_RING_RECS; /* sane again, so reads go on */
			r->magic = MS_RING_MAGIC;
			break;
		default:
			r->head = x;
			break;
		}
		__atomic_fetch_add(&scribbled, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void *race(void *arg)
{
	struct ms_chan_slot *s = claim((uint32_t)getpid());
	uint64_t seed = 777;
	pthread_t th;

	(void)arg;
	if (!s)
		return NULL;
	pthread_create(&th, NULL, racer, ring_of(s));
	while (!stop) {
		struct ms_event ev = plausible(&seed);

		push(ring_of(s), &ev);
	}
	pthread_join(th, NULL);
	return NULL;
}

static void *forge(void *arg)
{
	const struct ms_chan_hdr *h = (const void *)chan;
	uint32_t names[] = {1, (uint32_t)h->tracer_pid, (uint32_t)getppid(), 0xfffffff0u};
	uint64_t seed = 4242;

	(void)arg;
	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct ms_chan_slot *s = claim(names[i]);

		if (!s)
			continue;
		for (int k = 0; k < 1000; k++) {
			struct ms_event ev = plausible(&seed);

			push(ring_of(s), &ev);
		}
		__atomic_fetch_add(&scribbled, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "all";
	double secs = argc > 2 ? atof(argv[2]) : 1.0;
	const char *env = getenv(MS_CHAN_ENV);
	pthread_t th[3];
	int n = 0, fd;
	struct stat st;

	if (!env || (fd = atoi(env)) < 0 || fstat(fd, &st) ||
	    (size_t)st.st_size < sizeof(struct ms_chan_hdr)) {
		printf("no channel\n");
		return 0;
	}
	chan_size = (size_t)st.st_size;
	chan = mmap(NULL, chan_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (chan == MAP_FAILED) {
		printf("no channel\n");
		return 0;
	}
	if (!strcmp(mode, "garbage") || !strcmp(mode, "all"))
		pthread_create(&th[n++], NULL, garbage, NULL);
	if (!strcmp(mode, "race") || !strcmp(mode, "all"))
		pthread_create(&th[n++], NULL, race, NULL);
	if (!strcmp(mode, "forge") || !strcmp(mode, "all"))
		pthread_create(&th[n++], NULL, forge, NULL);
	usleep((useconds_t)(secs * 1e6));
	stop = 1;
	while (n--)
		pthread_join(th[n], NULL);
	printf("scribbled %s\n", scribbled ? "yes" : "no");
	return 0;
}
