// Package winetest holds what the Windows tests need to run for real under
// Wine (Debian 12's Wine 8) as well as on Windows:
//
//   - TempDir, a t.TempDir that tolerates exactly one Wine 8 defect (see
//     IsWine8DeleteError) and reports every other cleanup failure;
//   - UnderWine, to tell Wine from Windows where their behaviour differs;
//   - fakewin, a stand-in for netsh.exe, wmic.exe and powershell.exe that
//     logs its argv and answers like the real programs (wmic in UTF-16LE);
//   - bcryptprimitives, the C source of a tiny bcryptprimitives.dll that
//     exports ProcessPrng, which Go 1.24 and later need at start-up and
//     Wine 8 lacks;
//   - the end-to-end test (TestWine*) that runs the real etlscope.exe
//     under Wine against the fakes and the Wine registry. .ci/run prepares
//     the Wine prefix and sets ETLSCOPE_WINE=1; without it the test skips.
package winetest
