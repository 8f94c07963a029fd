/*
 * A test-only SQLite VFS that simulates a power cut, in the spirit of
 * SQLite's own crash test (test6.c): it wraps the default "unix" VFS,
 * remembers what every file held before each write not yet synced, and at
 * the Nth xSync (counted over all files since crash_vfs_arm) the machine
 * "dies": that sync does not happen and every later write, sync, truncate
 * or delete fails or is ignored, as nothing after it reaches the disk.
 * crash_vfs_apply() then puts on the disk what a power cut at that moment
 * may leave:
 *
 *   CRASH_DROP  every write since its file's last sync is lost (the file as
 *               it was at that sync, its size too);
 *   CRASH_TEAR  each 512-byte sector written since the last sync is kept or
 *               lost at random (seeded), so writes reach the disk partly and
 *               out of order; a file that grew keeps its new size, the lost
 *               sectors of the growth zeroed.
 *
 * Syncs pass only to the bookkeeping (no fsync: what is durable is what the
 * model says). Register with crash_vfs_register() (it becomes the default,
 * so the code under test opens its files through it unchanged); one
 * simulation at a time per process.
 */
#ifndef DEPOT_TEST_CRASH_VFS_H
#define DEPOT_TEST_CRASH_VFS_H

#include <stdbool.h>

enum crash_mode { CRASH_DROP, CRASH_TEAR };

/* Registers the VFS "crash" as the default. 0, or -1. */
int crash_vfs_register(void);
/* Forgets every file's unsynced writes and counts syncs from 0: the Nth sync from now is
 * the power cut (0: never). */
void crash_vfs_arm(long sync_n, enum crash_mode mode, unsigned seed);
/* Whether the power cut has happened. */
bool crash_vfs_crashed(void);
/* After the code under test closed its files: writes what the power cut left into the real
 * files, then disarms (every file passes through again). 0, or -1 on an I/O error. */
int crash_vfs_apply(void);

#endif
