/*
 * Giving back the memory a long-lived process no longer uses: meant for a
 * process that forked from a busy one and will now mostly sleep (the detached
 * container's monitor, forked from the CLI).
 */
#ifndef SKIFF_MEMTRIM_H
#define SKIFF_MEMTRIM_H

/* Unmaps this process's pages of read-only private file mappings that hold no
 * private copy (program and library text and constants: they stay in the page
 * cache, shared, and fault back in when used), drops the stack pages below the
 * caller's frame, and returns free heap pages to the kernel (malloc_trim).
 * Nothing is lost: every page comes back, as it was, when touched. Best
 * effort: returns the number of bytes of mappings it unmapped, or -1 when
 * /proc/self/smaps cannot be read (the heap and stack are trimmed anyway). */
long mem_trim(void);

#endif
