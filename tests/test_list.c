//  zstore_list: appending, stable pointers across blocks, binary search.

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zstore_list.h"

static void
test_list_append_keeps_bytes_and_terminates (void **state)
{
    (void) state;
    zstore_list_t *list = zstore_list_new ();
    assert_non_null (zstore_list_append (list, "a\0b", 3, "", 0));
    assert_non_null (zstore_list_append (list, "", 0, "v\0w", 3));
    assert_int_equal (zstore_list_size (list), 2);
    const zstore_item_t *first = zstore_list_item (list, 0);
    assert_int_equal (first->key_size, 3);
    assert_memory_equal (first->key, "a\0b", 4);    //  the copy is NUL-terminated
    const zstore_item_t *second = zstore_list_item (list, 1);
    assert_int_equal (second->key_size, 0);
    assert_memory_equal (second->value, "v\0w", 4);
    assert_null (zstore_list_item (list, 2));
    zstore_list_destroy (&list);
    assert_null (list);
    zstore_list_destroy (&list);                    //  idempotent
}

static void
test_list_pointers_survive_growth (void **state)
{
    (void) state;
    zstore_list_t *list = zstore_list_new ();
    char *big = malloc (200000);
    memset (big, 'x', 200000);
    const char *first_key = zstore_list_append (list, "first", 5, "1", 1)->key;
    assert_non_null (zstore_list_append (list, "big", 3, big, 200000));
    for (int index = 0; index < 20000; index++) {
        char key [32];
        int size = snprintf (key, sizeof key, "key-%05d", index);
        assert_non_null (zstore_list_append (list, key, (size_t) size, key, (size_t) size));
    }
    assert_memory_equal (first_key, "first", 6);
    assert_int_equal (zstore_list_item (list, 1)->value_size, 200000);
    assert_memory_equal (zstore_list_item (list, 1)->value, big, 200000);
    assert_string_equal (zstore_list_item (list, 20001)->key, "key-19999");
    free (big);
    zstore_list_destroy (&list);
}

static void
test_list_find_in_sorted_list (void **state)
{
    (void) state;
    zstore_list_t *list = zstore_list_new ();
    const char *keys [] = { "", "a", "a\0", "ab", "b", "\xc3\xa9" };
    for (size_t index = 0; index < 6; index++) {
        size_t size = index == 2 ? 2 : strlen (keys [index]);
        zstore_list_append (list, keys [index], size, keys [index], size);
    }
    assert_ptr_equal (zstore_list_find (list, "", 0), zstore_list_item (list, 0));
    assert_ptr_equal (zstore_list_find (list, "a\0", 2), zstore_list_item (list, 2));
    assert_ptr_equal (zstore_list_find (list, "\xc3\xa9", 2), zstore_list_item (list, 5));
    assert_null (zstore_list_find (list, "aa", 2));
    assert_null (zstore_list_find (list, "c", 1));
    assert_true (zstore_bytes_compare ("a", 1, "a\0", 2) < 0);
    assert_true (zstore_bytes_compare ("b", 1, "a\xff", 2) > 0);
    zstore_list_destroy (&list);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_list_append_keeps_bytes_and_terminates),
        cmocka_unit_test (test_list_pointers_survive_growth),
        cmocka_unit_test (test_list_find_in_sorted_list),
    };
    return cmocka_run_group_tests_name ("zstore_list", tests, NULL, NULL);
}
