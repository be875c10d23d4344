/*
 * layouts.c -- EPROCESS offsets of Windows x64 kernels, 7 to 11.
 *
 * Facts from public structure dumps: the Vergilius Project
 * (vergiliusproject.com/kernels/x64) and ntdiff/headers (the 2004 row was
 * checked against its _EPROCESS.h). KPROCESS.DirectoryTableBase is at 0x28
 * in every x64 build. The table only proposes: the layer keeps a row only
 * when the guest's own list agrees with it (procs.c, win_layout_check).
 * Only the "10 2004 - 11 23H2" row has been seen on real Windows data
 * (the triage dump of build 19041); the others are tested on synthetic
 * guests only.
 */
#include "os/windows/win.h"

const struct win_layout win_layouts[] = {
    /* name                        pid    links  ppid   image  create peb */
    {"Windows 10 2004 - 11 23H2", 0x440, 0x448, 0x540, 0x5a8, 0x468, 0x550},
    {"Windows 11 24H2", 0x1d0, 0x1d8, 0x2d0, 0x338, 0x1f8, 0x2e0},
    {"Windows 10 1903 - 1909", 0x2e8, 0x2f0, 0x3e8, 0x450, 0x2d0, 0x3f8},
    {"Windows 10 1507 - 1809", 0x2e0, 0x2e8, 0x3e0, 0x450, 0x2d0, 0x3f8},
    {"Windows 8 - 8.1", 0x2e0, 0x2e8, 0x3e0, 0x438, 0x2d0, 0x3e8},
    {"Windows 7 SP1", 0x180, 0x188, 0x290, 0x2e0, 0x168, 0x338},
};

const size_t win_nr_layouts = sizeof(win_layouts) / sizeof(win_layouts[0]);
