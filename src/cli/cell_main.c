/* cell: the engine's command line (images, named containers, networks,
 * volumes, with Docker's habits). None of its commands exists yet; until
 * then it explains itself and points at cell-runtime. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const char usage[] =
    "Usage: cell [options] <command> [arguments]\n"
    "\n"
    "cell runs Linux containers from images: it pulls them from registries,\n"
    "assembles their root filesystems, gives them networks and volumes, and\n"
    "keeps each detached container under a small monitor of its own, without a\n"
    "daemon. It calls the same runtime library as cell-runtime, the OCI runtime\n"
    "that runs a prepared bundle.\n"
    "\n"
    "No commands yet.\n";

int main(int argc, char **argv)
{
    bool help = argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
                              strcmp(argv[1], "help") == 0);
    /* Asked for, the usage is the answer; otherwise it explains a failure. */
    fputs(usage, help ? stdout : stderr);
    return help ? 0 : 1;
}
