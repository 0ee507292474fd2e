/* text — strings from bundles, remote machines and servers made safe to
 * show: control characters (ESC, CR, BEL, backspace, C1 controls, DEL) are
 * replaced by '?', so that a hostile manifest, a remote's reply or a
 * server's message cannot retitle the terminal, move the cursor or print a
 * fake line. Invalid UTF-8 is left alone (a terminal shows it as is). */
#ifndef FERRY_TEXT_H
#define FERRY_TEXT_H

#include <stdbool.h>

/* In place. keep_newlines keeps '\n' and '\t' (multi-line messages);
 * without it a one-line field stays one line. Returns s. */
char *text_clean(char *s, bool keep_newlines);

/* Whether text_clean would change s. */
bool text_needs_clean(const char *s, bool keep_newlines);

#endif
