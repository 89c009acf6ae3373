/* Container ids and names as Docker makes them: 64 random hex digits, shown
 * as their first 12; names [a-zA-Z0-9][a-zA-Z0-9_.-]*. */
#include "engine/engine.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

int cell_engine_new_id(char out[CELL_ENGINE_ID_SIZE], cell_err_t *err)
{
    unsigned char raw[32];
    for (;;) {
        if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
            return cell_error(err, errno ? errno : EIO, "getrandom");
        for (size_t i = 0; i < sizeof(raw); i++)
            snprintf(out + 2 * i, 3, "%02x", raw[i]);
        /* Docker never hands out an id that reads as a number: a short id
         * of digits only could be taken for something else. */
        if (strspn(out, "0123456789") < CELL_ENGINE_SHORT_ID_LEN)
            return 0;
    }
}

bool cell_engine_name_valid(const char *name)
{
    if (!name || !*name || strlen(name) > 255)
        return false;
    if (!((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z') ||
          (name[0] >= '0' && name[0] <= '9')))
        return false;
    return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") ==
           strlen(name);
}

bool cell_engine_id_valid(const char *id)
{
    return id && strlen(id) == CELL_ENGINE_ID_LEN &&
           strspn(id, "0123456789abcdef") == CELL_ENGINE_ID_LEN;
}
