/*
 * intake_int.h - private contract between the files of the intake stage
 * (files.c, mbox.c, watch.c). Nothing outside src/intake/ includes it.
 */
#ifndef SHIELD_INTAKE_INT_H
#define SHIELD_INTAKE_INT_H
#include <stddef.h>

/* intake_sorted_entries - the names in dir that may be messages (dot
 * files and Maildir/Dovecot bookkeeping left out), sorted; the caller
 * frees each and the array. NULL and *err (an errno) when dir cannot be
 * read. */
char **intake_sorted_entries(const char *dir, size_t *n, int *err);
/* intake_is_maildir - path holds cur/ and new/ folders. */
int intake_is_maildir(const char *path);

#endif
