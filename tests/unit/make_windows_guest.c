/*
 * make_windows_guest.c -- write the synthetic Windows guest of
 * synthetic_windows.h as a PAGEDU64 full dump, for the tool tests
 * (tests/windows/test_windows.py):
 *   make_windows_guest OUT LAYOUT_INDEX [encoded]
 */
#include "synthetic_windows.h"

int main(int argc, char **argv)
{
    if (argc < 3 || (unsigned)atoi(argv[2]) >= SW_NR_LAYOUTS) {
        fprintf(stderr, "usage: make_windows_guest OUT LAYOUT_INDEX [encoded]\n");
        return 2;
    }
    sw_img = calloc(1, SW_RAM);
    FILE *f = fopen(argv[1], "wb");
    if (!sw_img || !f) {
        perror(argv[1]);
        return 1;
    }
    sw_build(&sw_layouts[atoi(argv[2])], argc > 3 && !strcmp(argv[3], "encoded") ? SW_ENCODED : 0);
    int rc = sw_write_dump(f);
    if (fclose(f) != 0 || rc < 0) {
        perror(argv[1]);
        return 1;
    }
    free(sw_img);
    return 0;
}
