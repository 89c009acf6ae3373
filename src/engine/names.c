/* Generated container names, adjective_noun as Docker's are, from word
 * lists of our own: naturalists and the things a cell is made of. */
#include "engine/engine.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const adjectives[] = {
    "agile",  "amber",   "ancient", "bold",    "brave",   "bright", "calm",   "candid",
    "clever", "cosmic",  "crisp",   "curious", "daring",  "deft",   "eager",  "earnest",
    "epic",   "fervent", "fond",    "gentle",  "glad",    "golden", "grand",  "happy",
    "hardy",  "humble",  "jolly",   "keen",    "kind",    "lively", "lucid",  "merry",
    "mellow", "modest",  "nimble",  "noble",   "patient", "plucky", "polite", "proud",
    "quiet",  "rapid",   "ready",   "serene",  "sharp",   "shy",    "silent", "sleek",
    "snug",   "solid",   "sturdy",  "sunny",   "swift",   "tender", "tidy",   "upbeat",
    "vivid",  "warm",    "wise",    "witty",   "zealous", "zen",    "brisk",  "frosty",
};

static const char *const nouns[] = {
    "axon",    "capsid",     "cilium",    "codon",     "cortex",  "cytosol",  "dendrite",
    "enzyme",  "exon",       "flagellum", "genome",    "golgi",   "helix",    "histone",
    "intron",  "kinase",     "lipid",     "lysosome",  "matrix",  "membrane", "micelle",
    "mitosis", "nucleus",    "operon",    "organelle", "peptide", "plasmid",  "plastid",
    "polymer", "protein",    "ribosome",  "spindle",   "stroma",  "synapse",  "vacuole",
    "vesicle", "darwin",     "mendel",    "hooke",     "schwann", "virchow",  "pasteur",
    "koch",    "mcclintock", "franklin",  "crick",     "watson",  "margulis", "sanger",
    "hodgkin", "lwoff",      "monod",     "jacob",     "brenner", "palade",   "porter",
};

static unsigned pick(unsigned n)
{
    unsigned v = 0;
    if (getrandom(&v, sizeof v, 0) != sizeof v)
        v = (unsigned)rand();
    return v % n;
}

int cell_name_generate(struct cell_engine *e, char **out, cell_err_t *err)
{
    for (int attempt = 0; attempt < 64; attempt++) {
        char *name = NULL;
        const char *a = adjectives[pick(sizeof adjectives / sizeof *adjectives)];
        const char *n = nouns[pick(sizeof nouns / sizeof *nouns)];
        int r = attempt < 8 ? asprintf(&name, "%s_%s", a, n)
                            : asprintf(&name, "%s_%s%u", a, n, pick(100));
        if (r < 0)
            return cell_error(err, ENOMEM, "name");
        struct stat st;
        if (fstatat(e->namesfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            *out = name;
            return 0;
        }
        free(name);
    }
    return cell_error(err, EEXIST, "no free container name");
}
