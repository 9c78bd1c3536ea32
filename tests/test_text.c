//  zstore_text: Go's strings.Split and strings.Fields on byte strings.
//  Expected pieces are what Go returns for the same bytes.

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "zstore_list.h"
#include "zstore_text.h"

typedef struct {
    const char *data;
    size_t size;
} piece_t;

//  A piece from a string literal, embedded NULs included.
#define P(s) { (s), sizeof (s) - 1 }

//  Split and Fields of string literals (sizeof keeps embedded NULs).
#define SPLIT(text, sep) s_split ((text), sizeof (text) - 1, (sep), sizeof (sep) - 1)
#define FIELDS(text) s_fields ((text), sizeof (text) - 1)

//  Asserts that list holds exactly the pieces given, then destroys it.
#define EXPECT(list, ...) do { \
    const piece_t expected_ [] = { __VA_ARGS__ }; \
    s_expect ((list), expected_, sizeof expected_ / sizeof expected_ [0]); \
} while (0)

static zstore_list_t *
s_split (const char *text, size_t text_size, const char *sep, size_t sep_size)
{
    zstore_list_t *list = zstore_list_new ();
    assert_non_null (list);
    assert_int_equal (zstore_text_split (text, text_size, sep, sep_size, list), 0);
    return list;
}

static zstore_list_t *
s_fields (const char *text, size_t text_size)
{
    zstore_list_t *list = zstore_list_new ();
    assert_non_null (list);
    assert_int_equal (zstore_text_fields (text, text_size, list), 0);
    return list;
}

static void
s_expect (zstore_list_t *list, const piece_t *expected, size_t count)
{
    assert_int_equal (zstore_list_size (list), count);
    for (size_t index = 0; index < count; index++) {
        const zstore_item_t *item = zstore_list_item (list, index);
        assert_int_equal (item->key_size, expected [index].size);
        //  size + 1: the copy must also be NUL-terminated
        assert_memory_equal (item->key, expected [index].data, expected [index].size + 1);
        assert_int_equal (item->value_size, 0);
    }
    zstore_list_destroy (&list);
}

static void
s_expect_empty (zstore_list_t *list)
{
    assert_int_equal (zstore_list_size (list), 0);
    zstore_list_destroy (&list);
}

//  "x" + middle + "y" (middle_size <= 8), for tables of code points.
static size_t
s_sandwich (char *buffer, const char *middle, size_t middle_size)
{
    buffer [0] = 'x';
    memcpy (buffer + 1, middle, middle_size);
    buffer [middle_size + 1] = 'y';
    buffer [middle_size + 2] = 0;
    return middle_size + 2;
}

static void
test_split_basic (void **state)
{
    (void) state;
    EXPECT (SPLIT ("a,b,c", ","), P ("a"), P ("b"), P ("c"));
    EXPECT (SPLIT ("abc", ","), P ("abc"));
    EXPECT (SPLIT ("α→β→γ", "→"), P ("α"), P ("β"), P ("γ"));
}

static void
test_split_keeps_empty_pieces (void **state)
{
    (void) state;
    EXPECT (SPLIT ("a,,b", ","), P ("a"), P (""), P ("b"));
    EXPECT (SPLIT ("a,b,", ","), P ("a"), P ("b"), P (""));
    EXPECT (SPLIT (",a", ","), P (""), P ("a"));
    EXPECT (SPLIT (",", ","), P (""), P (""));
    EXPECT (SPLIT (",,,", ","), P (""), P (""), P (""), P (""));
}

static void
test_split_empty_text (void **state)
{
    (void) state;
    EXPECT (SPLIT ("", ","), P (""));
    EXPECT (SPLIT ("", "long separator"), P (""));
    zstore_list_t *list = zstore_list_new ();
    assert_int_equal (zstore_text_split (NULL, 0, ",", 1, list), 0);
    EXPECT (list, P (""));
}

static void
test_split_multibyte_separator (void **state)
{
    (void) state;
    EXPECT (SPLIT ("a::b::::c", "::"), P ("a"), P ("b"), P (""), P ("c"));
    EXPECT (SPLIT ("a:b:", "::"), P ("a:b:"));
    //  Matches are leftmost and do not overlap
    EXPECT (SPLIT ("aaa", "aa"), P (""), P ("a"));
    EXPECT (SPLIT ("aaaa", "aa"), P (""), P (""), P (""));
    EXPECT (SPLIT ("abababx", "abab"), P (""), P ("abx"));
    EXPECT (SPLIT ("xababab", "abab"), P ("x"), P ("ab"));
    //  A partial match at the very end is not a match
    EXPECT (SPLIT ("a<>b<", "<>"), P ("a"), P ("b<"));
}

static void
test_split_separator_longer_than_text (void **state)
{
    (void) state;
    EXPECT (SPLIT ("ab", "abc"), P ("ab"));
    EXPECT (SPLIT ("a", "--"), P ("a"));
    EXPECT (SPLIT ("abc", "abc"), P (""), P (""));
}

static void
test_split_nul_bytes (void **state)
{
    (void) state;
    EXPECT (SPLIT ("a\0b\0\0c", "\0"), P ("a"), P ("b"), P (""), P ("c"));
    EXPECT (SPLIT ("x\0y,z", ","), P ("x\0y"), P ("z"));
    EXPECT (SPLIT ("a\0,b\0c\0,", "\0,"), P ("a"), P ("b\0c"), P (""));
    EXPECT (SPLIT ("ab\0", "\0,"), P ("ab\0"));
    EXPECT (SPLIT ("\0", "\0"), P (""), P (""));
}

static void
test_split_appends_to_list (void **state)
{
    (void) state;
    zstore_list_t *list = zstore_list_new ();
    assert_non_null (zstore_list_append (list, "old", 3, "v", 1));
    assert_int_equal (zstore_text_split ("p;q", 3, ";", 1, list), 0);
    assert_int_equal (zstore_list_size (list), 3);
    assert_string_equal (zstore_list_item (list, 0)->key, "old");
    assert_string_equal (zstore_list_item (list, 0)->value, "v");
    assert_string_equal (zstore_list_item (list, 2)->key, "q");
    zstore_list_destroy (&list);
}

static void
test_split_empty_separator (void **state)
{
    (void) state;
    s_expect_empty (SPLIT ("", ""));
    zstore_list_t *list = zstore_list_new ();
    assert_int_equal (zstore_text_split (NULL, 0, NULL, 0, list), 0);
    s_expect_empty (list);
    EXPECT (SPLIT ("abc", ""), P ("a"), P ("b"), P ("c"));
    EXPECT (SPLIT ("a\0b", ""), P ("a"), P ("\0"), P ("b"));
    EXPECT (SPLIT ("\0", ""), P ("\0"));
}

static void
test_split_empty_separator_multibyte (void **state)
{
    (void) state;
    //  a, é (2 bytes), € (3 bytes), 😀 (4 bytes)
    EXPECT (SPLIT ("a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", ""),
            P ("a"), P ("\xc3\xa9"), P ("\xe2\x82\xac"), P ("\xf0\x9f\x98\x80"));
    EXPECT (SPLIT ("\xf0\x9f\x98\x80\xf0\x9f\x91\x8d", ""),
            P ("\xf0\x9f\x98\x80"), P ("\xf0\x9f\x91\x8d"));
    //  The edges of each valid range are one piece
    EXPECT (SPLIT ("\x7f\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80", ""),
            P ("\x7f"), P ("\xc2\x80"), P ("\xdf\xbf"), P ("\xe0\xa0\x80"),
            P ("\xed\x9f\xbf"), P ("\xee\x80\x80"));
    EXPECT (SPLIT ("\xef\xbf\xbf\xf0\x90\x80\x80\xf4\x8f\xbf\xbf", ""),
            P ("\xef\xbf\xbf"), P ("\xf0\x90\x80\x80"), P ("\xf4\x8f\xbf\xbf"));
    //  A valid U+FFFD is one 3-byte piece, not three
    EXPECT (SPLIT ("\xef\xbf\xbd", ""), P ("\xef\xbf\xbd"));
}

static void
test_split_empty_separator_invalid_utf8 (void **state)
{
    (void) state;
    //  Bytes that never start a sequence
    EXPECT (SPLIT ("a\xff" "b\x80\xc0\xc1\xf5\xfe", ""),
            P ("a"), P ("\xff"), P ("b"), P ("\x80"), P ("\xc0"), P ("\xc1"),
            P ("\xf5"), P ("\xfe"));
    //  Truncated sequences, at the end and before an ASCII byte
    EXPECT (SPLIT ("\xc3", ""), P ("\xc3"));
    EXPECT (SPLIT ("\xe2\x82", ""), P ("\xe2"), P ("\x82"));
    EXPECT (SPLIT ("\xf0\x9f\x98", ""), P ("\xf0"), P ("\x9f"), P ("\x98"));
    EXPECT (SPLIT ("\xc3(", ""), P ("\xc3"), P ("("));
    EXPECT (SPLIT ("\xe2\x82(", ""), P ("\xe2"), P ("\x82"), P ("("));
    EXPECT (SPLIT ("\xf0\x9f\x98(", ""), P ("\xf0"), P ("\x9f"), P ("\x98"), P ("("));
    //  A sequence cut by text_size, not by the bytes that follow it
    EXPECT (s_split ("\xe2\x82\xac", 2, "", 0), P ("\xe2"), P ("\x82"));
    EXPECT (s_split ("\xf0\x9f\x98\x80", 3, "", 0), P ("\xf0"), P ("\x9f"), P ("\x98"));
    EXPECT (s_split ("\xc3\xa9", 1, "", 0), P ("\xc3"));
    //  A truncated sequence followed by a valid one
    EXPECT (SPLIT ("\xe2\xc3\xa9", ""), P ("\xe2"), P ("\xc3\xa9"));
    //  Overlong encodings of '/' and of U+07FF / U+FFFF
    EXPECT (SPLIT ("\xc0\xaf", ""), P ("\xc0"), P ("\xaf"));
    EXPECT (SPLIT ("\xe0\x80\xaf", ""), P ("\xe0"), P ("\x80"), P ("\xaf"));
    EXPECT (SPLIT ("\xe0\x9f\xbf", ""), P ("\xe0"), P ("\x9f"), P ("\xbf"));
    EXPECT (SPLIT ("\xf0\x80\x80\xaf", ""), P ("\xf0"), P ("\x80"), P ("\x80"), P ("\xaf"));
    EXPECT (SPLIT ("\xf0\x8f\xbf\xbf", ""), P ("\xf0"), P ("\x8f"), P ("\xbf"), P ("\xbf"));
    //  Surrogates U+D800 and U+DFFF
    EXPECT (SPLIT ("\xed\xa0\x80", ""), P ("\xed"), P ("\xa0"), P ("\x80"));
    EXPECT (SPLIT ("\xed\xbf\xbf", ""), P ("\xed"), P ("\xbf"), P ("\xbf"));
    //  U+110000 and beyond
    EXPECT (SPLIT ("\xf4\x90\x80\x80", ""), P ("\xf4"), P ("\x90"), P ("\x80"), P ("\x80"));
    EXPECT (SPLIT ("\xf7\xbf\xbf\xbf", ""), P ("\xf7"), P ("\xbf"), P ("\xbf"), P ("\xbf"));
    //  A bad continuation byte in third or fourth position
    EXPECT (SPLIT ("\xe2\x82\x41", ""), P ("\xe2"), P ("\x82"), P ("\x41"));
    EXPECT (SPLIT ("\xf0\x9f\x98\xc3\xa9", ""),
            P ("\xf0"), P ("\x9f"), P ("\x98"), P ("\xc3\xa9"));
}

static void
test_fields_basic (void **state)
{
    (void) state;
    EXPECT (FIELDS ("alpha beta\tgamma\n"), P ("alpha"), P ("beta"), P ("gamma"));
    EXPECT (FIELDS ("  a   b  "), P ("a"), P ("b"));
    EXPECT (FIELDS ("one"), P ("one"));
    EXPECT (FIELDS ("a\tb\nc\vd\fe\rf g"),
            P ("a"), P ("b"), P ("c"), P ("d"), P ("e"), P ("f"), P ("g"));
    EXPECT (FIELDS (" \t\n\v\f\rx\r\f\v\n\t "), P ("x"));
}

static void
test_fields_empty (void **state)
{
    (void) state;
    s_expect_empty (FIELDS (""));
    s_expect_empty (FIELDS (" "));
    s_expect_empty (FIELDS (" \t\n\v\f\r "));
    s_expect_empty (FIELDS ("\xc2\xa0\xe3\x80\x80\xe2\x80\xa8"));
    zstore_list_t *list = zstore_list_new ();
    assert_int_equal (zstore_text_fields (NULL, 0, list), 0);
    s_expect_empty (list);
}

static void
test_fields_unicode_spaces (void **state)
{
    (void) state;
    const piece_t spaces [] = {
        P ("\xc2\x85"), P ("\xc2\xa0"), P ("\xe1\x9a\x80"),
        P ("\xe2\x80\x80"), P ("\xe2\x80\x81"), P ("\xe2\x80\x82"),
        P ("\xe2\x80\x83"), P ("\xe2\x80\x84"), P ("\xe2\x80\x85"),
        P ("\xe2\x80\x86"), P ("\xe2\x80\x87"), P ("\xe2\x80\x88"),
        P ("\xe2\x80\x89"), P ("\xe2\x80\x8a"), P ("\xe2\x80\xa8"),
        P ("\xe2\x80\xa9"), P ("\xe2\x80\xaf"), P ("\xe2\x81\x9f"),
        P ("\xe3\x80\x80")
    };
    for (size_t index = 0; index < sizeof spaces / sizeof spaces [0]; index++) {
        char buffer [16];
        size_t size = s_sandwich (buffer, spaces [index].data, spaces [index].size);
        EXPECT (s_fields (buffer, size), P ("x"), P ("y"));
    }
    //  Mixed runs of spaces are one separator
    EXPECT (FIELDS ("\xe3\x80\x80 a\xc2\xa0\t\xe2\x80\xa9" "b\xc2\x85"), P ("a"), P ("b"));
}

static void
test_fields_non_spaces (void **state)
{
    (void) state;
    //  Not white space in Go: U+200B zero width space, U+180E, U+200C,
    //  U+2060, U+FEFF, the ASCII separators 1C-1F, NUL, the neighbours
    //  of each space range, and bare bytes 85 and A0 (not U+0085, U+00A0)
    const piece_t others [] = {
        P ("\xe2\x80\x8b"), P ("\xe1\xa0\x8e"), P ("\xe2\x80\x8c"),
        P ("\xe2\x81\xa0"), P ("\xef\xbb\xbf"), P ("\x1c"), P ("\x1f"),
        P ("\0"), P ("\xc2\x84"), P ("\xc2\xa1"), P ("\xe2\x80\xa7"),
        P ("\xe2\x80\xaa"), P ("\xe3\x80\x81"), P ("\x08"), P ("\x0e"),
        P ("\xe1\x99\xbf"), P ("\xe1\x9a\x81"), P ("\xe1\xbf\xbf"),
        P ("\xe2\x80\xae"), P ("\xe2\x80\xb0"), P ("\xe2\x81\x9e"),
        P ("\xe2\xbf\xbf"), P ("\x21"), P ("\x84"), P ("\xa0")
    };
    for (size_t index = 0; index < sizeof others / sizeof others [0]; index++) {
        char buffer [16];
        size_t size = s_sandwich (buffer, others [index].data, others [index].size);
        zstore_list_t *list = s_fields (buffer, size);
        assert_int_equal (zstore_list_size (list), 1);
        assert_int_equal (zstore_list_item (list, 0)->key_size, size);
        assert_memory_equal (zstore_list_item (list, 0)->key, buffer, size);
        zstore_list_destroy (&list);
    }
    EXPECT (FIELDS ("a\xe2\x80\x8b" "b c"), P ("a\xe2\x80\x8b" "b"), P ("c"));
    EXPECT (FIELDS (" a\0b \0 "), P ("a\0b"), P ("\0"));
}

static void
test_fields_invalid_utf8 (void **state)
{
    (void) state;
    //  Invalid bytes are U+FFFD to Go: part of a field, never space
    EXPECT (FIELDS ("\xff \xc2"), P ("\xff"), P ("\xc2"));
    EXPECT (FIELDS ("a\xc2 b"), P ("a\xc2"), P ("b"));
    //  Truncated U+3000 and U+00A0 are not space
    EXPECT (FIELDS ("a\xe3\x80x"), P ("a\xe3\x80x"));
    EXPECT (FIELDS ("a\xc2"), P ("a\xc2"));
    //  U+3000 cut by text_size is not space
    EXPECT (s_fields ("a\xe3\x80\x80", 3), P ("a\xe3\x80"));
    //  Overlong encodings of ' ' and U+00A0, surrogate, lone continuation
    EXPECT (FIELDS ("a\xc0\xa0" "b"), P ("a\xc0\xa0" "b"));
    EXPECT (FIELDS ("a\xe0\x82\xa0" "b"), P ("a\xe0\x82\xa0" "b"));
    EXPECT (FIELDS ("\xed\xa0\x80 \x80"), P ("\xed\xa0\x80"), P ("\x80"));
    //  A space right after an invalid lead byte still separates
    EXPECT (FIELDS ("\xe3\xe3\x80\x80z"), P ("\xe3"), P ("z"));
    EXPECT (FIELDS ("\xf0\x9f\x98\x80 \xf0\x9f\x98"), P ("\xf0\x9f\x98\x80"), P ("\xf0\x9f\x98"));
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_split_basic),
        cmocka_unit_test (test_split_keeps_empty_pieces),
        cmocka_unit_test (test_split_empty_text),
        cmocka_unit_test (test_split_multibyte_separator),
        cmocka_unit_test (test_split_separator_longer_than_text),
        cmocka_unit_test (test_split_nul_bytes),
        cmocka_unit_test (test_split_appends_to_list),
        cmocka_unit_test (test_split_empty_separator),
        cmocka_unit_test (test_split_empty_separator_multibyte),
        cmocka_unit_test (test_split_empty_separator_invalid_utf8),
        cmocka_unit_test (test_fields_basic),
        cmocka_unit_test (test_fields_empty),
        cmocka_unit_test (test_fields_unicode_spaces),
        cmocka_unit_test (test_fields_non_spaces),
        cmocka_unit_test (test_fields_invalid_utf8),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
