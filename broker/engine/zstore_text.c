/*  zstore_text - see zstore_text.h. Byte-exact ports of Go's strings.Split
    and strings.Fields: the texts are arbitrary bytes (NULs, invalid UTF-8),
    so nothing here relies on NUL termination or on valid input.
*/

#include "zstore_text.h"

#include <stdint.h>
#include <string.h>

//  Go's utf8.RuneError, what an invalid sequence decodes as.
#define RUNE_ERROR 0xFFFDu

//  The valid lead bytes of multi-byte UTF-8 sequences, as in Go's
//  utf8.first / acceptRanges tables. Narrowing the second byte's range
//  per lead byte is what rejects overlong encodings (E0, F0), surrogates
//  (ED) and values past U+10FFFF (F4) without decoding first. Bytes
//  80-C1 and F5-FF lead nothing: they are invalid on their own.
typedef struct {
    unsigned char lead_low;
    unsigned char lead_high;
    unsigned char width;            //  bytes in the sequence
    unsigned char second_low;       //  range of the second byte
    unsigned char second_high;
} lead_t;

static const lead_t s_leads [] = {
    { 0xC2, 0xDF, 2, 0x80, 0xBF },
    { 0xE0, 0xE0, 3, 0xA0, 0xBF },
    { 0xE1, 0xEC, 3, 0x80, 0xBF },
    { 0xED, 0xED, 3, 0x80, 0x9F },
    { 0xEE, 0xEF, 3, 0x80, 0xBF },
    { 0xF0, 0xF0, 4, 0x90, 0xBF },
    { 0xF1, 0xF3, 4, 0x80, 0xBF },
    { 0xF4, 0xF4, 4, 0x80, 0x8F }
};

//  unicode.IsSpace: the Latin-1 spaces plus the White_Space property.
typedef struct {
    uint32_t low;
    uint32_t high;
} range_t;

static const range_t s_spaces [] = {
    { 0x0009, 0x000D },             //  \t \n \v \f \r
    { 0x0020, 0x0020 },
    { 0x0085, 0x0085 },
    { 0x00A0, 0x00A0 },
    { 0x1680, 0x1680 },
    { 0x2000, 0x200A },             //  U+200B (zero width space) is not
    { 0x2028, 0x2029 },
    { 0x202F, 0x202F },
    { 0x205F, 0x205F },
    { 0x3000, 0x3000 }
};

#define COUNT(table) (sizeof (table) / sizeof ((table) [0]))

//  Decodes the sequence at the start of text (size > 0) like Go's
//  utf8.DecodeRune: returns its width and stores its code point in *rune.
//  An invalid or truncated sequence has width 1 and decodes as U+FFFD.
static size_t
s_decode (const unsigned char *text, size_t size, uint32_t *rune)
{
    *rune = text [0];
    if (text [0] < 0x80)
        return 1;
    for (size_t index = 0; index < COUNT (s_leads); index++) {
        const lead_t *lead = &s_leads [index];
        if (text [0] < lead->lead_low || text [0] > lead->lead_high)
            continue;
        if (size < lead->width
        ||  text [1] < lead->second_low || text [1] > lead->second_high)
            break;
        uint32_t value = text [0] & (0xFFu >> (lead->width + 1));
        size_t offset;
        for (offset = 1; offset < lead->width; offset++) {
            if ((text [offset] & 0xC0) != 0x80)
                break;
            value = (value << 6) | (text [offset] & 0x3Fu);
        }
        if (offset < lead->width)
            break;
        *rune = value;
        return lead->width;
    }
    *rune = RUNE_ERROR;
    return 1;
}

static int
s_is_space (uint32_t rune)
{
    for (size_t index = 0; index < COUNT (s_spaces); index++)
        if (rune >= s_spaces [index].low && rune <= s_spaces [index].high)
            return 1;
    return 0;
}

static int
s_append (zstore_list_t *parts, const char *piece, size_t piece_size)
{
    return zstore_list_append (parts, piece, piece_size, "", 0)? 0: -1;
}

//  Offset of the first occurrence of needle (needle_size > 0) in haystack,
//  or haystack_size if there is none. memmem is a GNU extension, so this
//  is memchr on the first byte, then memcmp.
static size_t
s_find (const char *haystack, size_t haystack_size,
        const char *needle, size_t needle_size)
{
    size_t offset = 0;
    while (haystack_size - offset >= needle_size) {
        const char *hit = memchr (haystack + offset, needle [0],
                                  haystack_size - offset - needle_size + 1);
        if (!hit)
            break;
        offset = (size_t) (hit - haystack);
        if (memcmp (hit, needle, needle_size) == 0)
            return offset;
        offset++;
    }
    return haystack_size;
}

//  Go's explode: one piece per UTF-8 sequence, so "" gives no piece at all.
static int
s_explode (const char *text, size_t text_size, zstore_list_t *parts)
{
    size_t offset = 0;
    while (offset < text_size) {
        uint32_t rune;
        size_t width = s_decode ((const unsigned char *) text + offset,
                                 text_size - offset, &rune);
        if (s_append (parts, text + offset, width))
            return -1;
        offset += width;
    }
    return 0;
}

int
zstore_text_split (const char *text, size_t text_size, const char *separator,
                   size_t separator_size, zstore_list_t *parts)
{
    if (text_size == 0)
        text = "";                  //  (NULL, 0) is allowed: no NULL + 0
    if (separator_size == 0)
        return s_explode (text, text_size, parts);

    //  Leftmost, non-overlapping matches, like Go's Index loop
    size_t start = 0;
    while (1) {
        size_t hit = start + s_find (text + start, text_size - start,
                                     separator, separator_size);
        if (hit == text_size)
            break;
        if (s_append (parts, text + start, hit - start))
            return -1;
        start = hit + separator_size;
    }
    return s_append (parts, text + start, text_size - start);
}

int
zstore_text_fields (const char *text, size_t text_size, zstore_list_t *parts)
{
    size_t offset = 0;
    size_t start = 0;
    int in_field = 0;
    while (offset < text_size) {
        uint32_t rune;
        size_t width = s_decode ((const unsigned char *) text + offset,
                                 text_size - offset, &rune);
        if (s_is_space (rune)) {
            if (in_field && s_append (parts, text + start, offset - start))
                return -1;
            in_field = 0;
        }
        else
        if (!in_field) {
            start = offset;
            in_field = 1;
        }
        offset += width;
    }
    if (in_field && s_append (parts, text + start, text_size - start))
        return -1;
    return 0;
}
