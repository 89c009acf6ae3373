/* What explain.c and explain_cgroup.c share (`cell explain`). */
#pragma once

#include <jansson.h>

/* A small file's whole text (allocated), or NULL. */
char *cell_explain_read(int dirfd, const char *path);

/* Adds "Cgroup" to o: the init's cgroup path (from its /proc directory,
 * procfd), the host's layout, and for memory, cpu and pids the limits
 * beside current and peak use; a value the kernel does not offer is
 * null. */
void cell_explain_cgroup(json_t *o, int procfd);
