/*  =========================================================================
    zstore_text - Go's strings.Split and strings.Fields on byte strings,
    for GetSplit and GetFields.
    =========================================================================
*/

#ifndef ZSTORE_TEXT_H_INCLUDED
#define ZSTORE_TEXT_H_INCLUDED

#include <stddef.h>

#include "zstore_list.h"

#ifdef __cplusplus
extern "C" {
#endif

//  Appends to parts the pieces of Go's strings.Split (text, separator):
//  - empty pieces are kept ("a,,b" -> "a", "", "b"; a trailing separator
//    gives a trailing "");
//  - an empty text gives one empty piece (with a non-empty separator);
//  - an empty separator splits after each UTF-8 sequence; each byte of an
//    invalid sequence is a piece of its own (Go's utf8.DecodeRune rule);
//    an empty text then gives no piece.
//  Returns 0, or -1 if out of memory.
int
    zstore_text_split (const char *text, size_t text_size, const char *separator,
                       size_t separator_size, zstore_list_t *parts);

//  Appends to parts the pieces of Go's strings.Fields (text): the runs of
//  non-space between runs of Unicode white space (unicode.IsSpace: ASCII
//  space, \t \n \v \f \r, U+0085, U+00A0, U+1680, U+2000-U+200A, U+2028,
//  U+2029, U+202F, U+205F, U+3000). Never appends an empty piece. Invalid
//  UTF-8 bytes are not space. Returns 0, or -1 if out of memory.
int
    zstore_text_fields (const char *text, size_t text_size, zstore_list_t *parts);

#ifdef __cplusplus
}
#endif

#endif
