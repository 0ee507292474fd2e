/* fault — test seams, compiled in only with -DFERRY_FAULTS (the test build
 * `make faults-bin` makes as build/faults/ferry; never installed). In the
 * production build every call here is an empty inline: no environment is
 * read and nothing can be injected.
 *
 * In the test build:
 *   FERRY_FAULT=POINT[,POINT...]  where each POINT is NAME or NAME@N and
 *   NAME:ACTION; ACTION is
 *     kill    SIGKILL this process at the point (the N-th time it is passed)
 *     pause   create $FERRY_FAULT_DIR/NAME.paused and wait until a test
 *             removes it (observable state to act on, no timing)
 *     fail    fault_point() returns -1 (the caller fails as on an I/O error)
 *     mark    append a line to $FERRY_FAULT_DIR/NAME.count (tests count passes)
 *   NAME@0 applies at every passing.
 *   FERRY_FAULT_FREE_BYTES=N       fsx_free_space reports N bytes free
 *   FERRY_FAULT_KILL_AFTER_BYTES=N uploads SIGKILL the process after N bytes
 *
 * Points are named "<flow>.<where>", e.g. "restore.swap.renamed". */
#ifndef FERRY_FAULT_H
#define FERRY_FAULT_H

#include <stdbool.h>
#include <stdint.h>

#ifdef FERRY_FAULTS
/* 0 to go on, -1 when the point is set to fail (after a pause or a kill
 * it never returns). */
int fault_point(const char *name);
/* The free space to report instead of real (real when no seam is set). */
uint64_t fault_free_bytes(uint64_t real);
/* true once bytes passed FERRY_FAULT_KILL_AFTER_BYTES (the caller kills). */
bool fault_kill_after(uint64_t bytes);
#else
static inline int fault_point(const char *name)
{
	(void)name;
	return 0;
}
static inline uint64_t fault_free_bytes(uint64_t real)
{
	return real;
}
static inline bool fault_kill_after(uint64_t bytes)
{
	(void)bytes;
	return false;
}
#endif

#endif
